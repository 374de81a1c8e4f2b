//! The sync page: the shop's schedule, its sources (never a secret), the run reports and
//! the quarantined records.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::admin::views::queries::PageError;
use crate::config::source::SourceSettings;
use crate::config::ShopSettings;
use crate::records::{QuarantineReason, Quarantined, RecordKind, SyncReport};
use crate::store::ShopStore;

/// Sync reports listed (the store keeps about as many).
pub const REPORTS_LISTED: usize = 100;
/// Quarantined records listed, newest first.
pub const QUARANTINE_LISTED: usize = 200;

/// A source as the sync page shows it: its kind and where it reads, never a secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceView {
    pub kind: String,
    pub address: String,
}

/// A URL without credentials, query string or fragment (tokens hide there); a path as is.
fn public_address(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.has_host() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        _ => raw.to_string(),
    }
}

pub fn source_view(source: &SourceSettings) -> SourceView {
    let address = match source {
        SourceSettings::MarketplaceApi(api) => format!(
            "{} (fs_id {}, shop {})",
            public_address(&api.base_url),
            api.fs_id,
            api.shop_id
        ),
        SourceSettings::ExportFiles(files) => files
            .products
            .iter()
            .map(|p| format!("products: {}", public_address(p)))
            .chain(
                files
                    .orders
                    .iter()
                    .map(|o| format!("orders: {}", public_address(o))),
            )
            .collect::<Vec<_>>()
            .join("; "),
        SourceSettings::TiktokShop(tts) => format!(
            "{} (app {}, shop cipher {})",
            public_address(&tts.base_url),
            tts.app_key,
            tts.shop_cipher
        ),
        SourceSettings::Storefront(site) => {
            let mut parts: Vec<String> = site
                .sitemap
                .iter()
                .map(|s| format!("sitemap: {}", public_address(s)))
                .collect();
            match site.urls.len() {
                0 => {}
                1 => parts.push(format!("page: {}", public_address(&site.urls[0]))),
                n => parts.push(format!("{n} pages from {}", public_address(&site.urls[0]))),
            }
            parts.join("; ")
        }
    };
    SourceView {
        kind: source.kind().to_string(),
        address,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncPage {
    /// Cron with seconds, in the shop's time zone.
    pub schedule: String,
    pub timezone: String,
    pub sources: Vec<SourceView>,
    /// Newest first, at most [`REPORTS_LISTED`].
    pub reports: Vec<SyncReport>,
    /// Every quarantined record.
    pub quarantined_total: usize,
    /// The newest, at most [`QUARANTINE_LISTED`].
    pub quarantined: Vec<QuarantinedRow>,
}

/// A quarantined record as the sync page lists it: the reason as its text, and the field
/// it is about when there is one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuarantinedRow {
    pub at: DateTime<Utc>,
    pub kind: RecordKind,
    pub origin: String,
    pub reason: String,
    pub field: Option<String>,
    pub record: String,
    /// The key the record would have had (see [`Quarantined::subject`]).
    pub subject: Option<String>,
}

impl From<Quarantined> for QuarantinedRow {
    fn from(q: Quarantined) -> Self {
        let field = match &q.reason {
            QuarantineReason::Missing { missing_field } => Some(missing_field.clone()),
            QuarantineReason::Invalid { field, .. } => Some(field.clone()),
            QuarantineReason::Unreadable(_) => None,
        };
        QuarantinedRow {
            at: q.at,
            kind: q.kind,
            origin: q.origin,
            reason: q.reason.to_string(),
            field,
            record: q.record,
            subject: q.subject,
        }
    }
}

pub fn sync_page(store: &dyn ShopStore, shop: &ShopSettings) -> Result<SyncPage, PageError> {
    let mut quarantined = store.quarantined(&shop.id)?;
    let total = quarantined.len();
    quarantined.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.origin.cmp(&b.origin)));
    quarantined.truncate(QUARANTINE_LISTED);
    Ok(SyncPage {
        schedule: shop.sync_schedule.to_string(),
        timezone: shop.timezone.name.clone(),
        sources: shop.sources.iter().map(source_view).collect(),
        reports: store.sync_reports(&shop.id, REPORTS_LISTED)?,
        quarantined_total: total,
        quarantined: quarantined.into_iter().map(QuarantinedRow::from).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_addresses_lose_credentials_and_query_strings() {
        assert_eq!(
            public_address("https://user:pw@example.com/export.csv?token=abc#x"),
            "https://example.com/export.csv"
        );
        assert_eq!(public_address("exports/orders.csv"), "exports/orders.csv");
    }
}
