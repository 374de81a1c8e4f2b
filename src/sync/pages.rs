//! The `storefront` source: the shop's own product pages, listed by a sitemap (nested
//! sitemaps followed) or by `urls`, read politely — at most `concurrency` at a time and
//! `delay_ms` between request starts — and parsed from JSON-LD or Open Graph meta
//! (docs/feeds.md: storefront). Each page is one page through the pipeline; pages bring no orders.
//! When the service begins to stop, the pages being read are finished and no more are.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::source::StorefrontSource;
use crate::feeds::storefront;
use crate::records::RecordKind;
use crate::sync::api::Progress;
use crate::sync::http::{Fetcher, STOPPING};
use crate::sync::pipeline::{ImportError, Importer, Incoming, Page};

/// Nested sitemaps followed at most.
const MAX_SITEMAPS: usize = 50;

pub async fn run(
    source: &StorefrontSource,
    fetcher: Arc<Fetcher>,
    importer: &mut Importer<'_>,
    progress: &dyn Progress,
    now: DateTime<Utc>,
) -> Result<(), ImportError> {
    let mut urls: Vec<String> = source.urls.clone();
    if let Some(sitemap) = &source.sitemap {
        let mut queue = vec![sitemap.clone()];
        let mut read = HashSet::new();
        while let Some(next) = queue.pop() {
            if !read.insert(next.clone()) || read.len() > MAX_SITEMAPS {
                continue;
            }
            progress.step(&format!("sitemap {next}"));
            let answer = match fetcher.get(&next, "sitemap").await {
                Ok(a) => a,
                Err(e) => {
                    importer.record_error(format!("sitemap: {e}"));
                    return Ok(());
                }
            };
            match storefront::parse_sitemap(&answer.text()) {
                Ok(map) => {
                    urls.extend(map.pages);
                    queue.extend(map.sitemaps);
                }
                Err(e) => {
                    importer.record_error(format!("sitemap {next}: {e}"));
                    return Ok(());
                }
            }
        }
    }
    let mut seen = HashSet::new();
    urls.retain(|u| seen.insert(u.clone()));
    if urls.len() > source.max_pages {
        importer.warn(format!(
            "{} pages listed, only the first {} read (max_pages)",
            urls.len(),
            source.max_pages
        ));
        urls.truncate(source.max_pages);
    }
    let total = urls.len();
    for (chunk_no, chunk) in urls.chunks(source.concurrency).enumerate() {
        if fetcher.stopping() {
            let read = chunk_no * source.concurrency;
            importer.record_error(format!("stopped after {read} of {total} pages: {STOPPING}"));
            return Ok(());
        }
        progress.step(&format!(
            "pages {}–{} of {total}",
            chunk_no * source.concurrency + 1,
            chunk_no * source.concurrency + chunk.len()
        ));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, url) in chunk.iter().enumerate() {
            let fetcher = fetcher.clone();
            let url = url.clone();
            tasks.spawn(async move {
                let answer = fetcher.get(&url, "storefront_page").await;
                (i, url, answer)
            });
        }
        let mut answers = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(a) => answers.push(a),
                Err(e) => importer.record_error(format!("a page task failed: {e}")),
            }
        }
        answers.sort_by_key(|(i, _, _)| *i);
        for (_, url, answer) in answers {
            match answer {
                Ok(answer) => import_html(importer, &url, &answer.text(), now)?,
                Err(e) => importer.record_error(e.to_string()),
            }
        }
    }
    Ok(())
}

/// One storefront page through the pipeline: its product, or the page in quarantine with
/// the reason when it has neither JSON-LD nor Open Graph product data.
pub fn import_html(
    importer: &mut Importer<'_>,
    url: &str,
    html: &str,
    fetched_at: DateTime<Utc>,
) -> Result<(), ImportError> {
    let record = match storefront::parse_page(html, url, fetched_at) {
        Ok(found) => Incoming::Product(found.product),
        Err(reason) => Incoming::Bad {
            kind: RecordKind::Product,
            origin: url.to_string(),
            raw: serde_json::json!({ "url": url }),
            reason,
        },
    };
    importer.import_page(Page::new(url, vec![record]))
}
