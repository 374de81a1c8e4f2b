//! `laris replay`: a recording fed through the very same pipeline as a live sync, with no
//! network, deterministically (same recording, same store contents).

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::domain::ShopId;
use crate::records::RunKind;
use crate::records::SyncReport;
use crate::store::ShopStore;
use crate::sync::files::{import_file, FileKind};
use crate::sync::pages::import_html;
use crate::sync::pipeline::{api_products, tiktok_orders, tiktok_products, ImportError, Importer, Page};
use crate::sync::recording::{Exchange, Recording, RecordingError};
use crate::sync::tiktok_shop::run::url_without_sign;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Recording(#[from] RecordingError),
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// What a recorded answer holds: its `role` when the recording names one (docs/feeds.md: recordings),
/// else judged by the URL path (recordings made before roles existed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Products,
    /// A page of a full product pass: when the pass's last page is in the recording,
    /// products that vanished are marked inactive, as the live run did.
    ProductsFull,
    Orders,
    ExportProducts,
    ExportOrders,
    StorefrontPage,
    /// A TikTok Shop product search page.
    TiktokProducts,
    /// A TikTok Shop order search page.
    TiktokOrders,
    /// Tokens, sitemaps and anything else: nothing to import.
    Other,
}

pub fn endpoint_of(url: &str) -> Endpoint {
    let path = url.split('?').next().unwrap_or(url);
    if path.ends_with("/product/info") {
        Endpoint::Products
    } else if path.ends_with("/order/list") {
        Endpoint::Orders
    } else {
        Endpoint::Other
    }
}

fn endpoint(ex: &Exchange) -> Endpoint {
    match ex.role.as_deref() {
        None => endpoint_of(&ex.url),
        Some("products") => Endpoint::Products,
        Some("products_full") => Endpoint::ProductsFull,
        Some("orders") => Endpoint::Orders,
        Some("export_products") => Endpoint::ExportProducts,
        Some("export_orders") => Endpoint::ExportOrders,
        Some("storefront_page") => Endpoint::StorefrontPage,
        Some("tiktok_products") => Endpoint::TiktokProducts,
        Some("tiktok_orders") => Endpoint::TiktokOrders,
        Some(_) => Endpoint::Other,
    }
}

/// A query parameter of a recorded URL.
fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Replays the recording in `dir` into `shop`'s data: every recorded answer of every source
/// kind, in order, through the same pipeline as the live run. Answers that were retried
/// (429, 5xx, 401) are part of the recording's story, not data. Sync cursors are not
/// touched: a replay is data, not a position in a live feed.
pub fn replay(store: &dyn ShopStore, shop: &ShopId, dir: &Path) -> Result<SyncReport, ReplayError> {
    let recording = Recording::open(dir)?;
    let mut importer = Importer::new(store, shop.clone());
    let mut in_full_pass = false;
    // The last exchange of each request: an answer the live run asked for again (it was cut
    // off, or not a page) was a failed attempt, and its retry, later on, holds the data.
    // A signed request (TikTok Shop) is the same request whatever its timestamp and sign.
    let key = |ex: &Exchange| (ex.method.clone(), url_without_sign(&ex.url));
    let last_of: HashMap<(String, String), usize> = recording
        .exchanges
        .iter()
        .enumerate()
        .map(|(i, ex)| (key(ex), i))
        .collect();
    for (i, ex) in recording.exchanges.iter().enumerate() {
        let retried = last_of[&key(ex)] > i;
        let endpoint = endpoint(ex);
        if endpoint == Endpoint::Other || ex.status != 200 {
            continue;
        }
        let Some(bytes) = recording.body_bytes(ex)? else {
            continue;
        };
        let body = String::from_utf8_lossy(&bytes);
        let origin = format!("{} seq {}", dir.display(), ex.seq);
        let fetched_at = DateTime::parse_from_rfc3339(&ex.at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now());
        let result = match endpoint {
            Endpoint::Products => importer.import_products_page(&origin, &body),
            Endpoint::ProductsFull => {
                if query_param(&ex.url, "page").as_deref() == Some("1") {
                    importer.begin_full_pass();
                    in_full_pass = true;
                }
                match api_products(&origin, &body) {
                    Ok(records) => {
                        let per_page = query_param(&ex.url, "per_page")
                            .and_then(|p| p.parse::<usize>().ok())
                            .unwrap_or(50);
                        let mut page = Page::new(&origin, records);
                        page.ends_full_pass = in_full_pass && page.records.len() < per_page;
                        importer.import_page(page)
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Endpoint::Orders => importer.import_orders_page(&origin, &body),
            Endpoint::ExportProducts | Endpoint::ExportOrders => {
                let kind = if endpoint == Endpoint::ExportProducts {
                    FileKind::Products
                } else {
                    FileKind::Orders
                };
                let name = ex.url.rsplit('/').next().unwrap_or(&ex.url).to_string();
                import_file(&mut importer, kind, &name, &bytes, fetched_at)
            }
            Endpoint::StorefrontPage => import_html(&mut importer, &ex.url, &body, fetched_at),
            Endpoint::TiktokProducts | Endpoint::TiktokOrders => {
                let parse = if endpoint == Endpoint::TiktokProducts {
                    tiktok_products
                } else {
                    tiktok_orders
                };
                match parse(&origin, &body) {
                    Ok((records, _)) => importer.import_page(Page::new(&origin, records)),
                    Err(e) => Err(e.into()),
                }
            }
            Endpoint::Other => Ok(()),
        };
        match result {
            Ok(()) => {}
            Err(ImportError::Feed(_)) if retried => {}
            Err(ImportError::Feed(e)) => importer.record_error(format!("{origin}: {e}")),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(importer
        .finish(RunKind::Replay, &dir.display().to_string())
        .map_err(ImportError::from)?)
}

/// Replays a recording into the shop and rebuilds its model: what `laris replay` does,
/// offline or through the running service.
pub fn replay_and_rebuild(
    store: &dyn ShopStore,
    shop: &crate::config::ShopSettings,
    dir: &Path,
) -> Result<(SyncReport, crate::model::ShopModel), ReplayError> {
    let report = replay(store, &shop.id, dir)?;
    let model = crate::model::rebuild::rebuild_shop(store, shop)
        .map_err(|e| ReplayError::Import(crate::sync::pipeline::ImportError::Store(e)))?;
    Ok((report, model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_told_apart_by_path() {
        assert_eq!(
            endpoint_of("https://fs.tokopedia.net/inventory/v1/fs/15001/product/info?shop_id=1&page=1"),
            Endpoint::Products
        );
        assert_eq!(
            endpoint_of("https://fs.tokopedia.net/v2/order/list?fs_id=1"),
            Endpoint::Orders
        );
        assert_eq!(
            endpoint_of("https://accounts.tokopedia.com/token?grant_type=client_credentials"),
            Endpoint::Other
        );
    }
}
