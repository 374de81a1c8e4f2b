//! The parse → normalise → store pipeline that every way data comes in goes through: live
//! sync, `laris import`, and `laris replay` of a recording. One page is one atomic batch:
//! a bad record is quarantined with its reason while the good records of the page are
//! stored; a page that cannot be read at all writes nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::customers::derive_customers;
use crate::domain::{ProductId, ShopId};
use crate::feeds::{marketplace, FeedError};
use crate::records::{Order, Quarantined, SyncReport, UpsertCounts};
use crate::store::{ImportBatch, Store, StoreError};

/// Raw records kept in quarantine are cut to this many bytes.
const QUARANTINE_RECORD_LIMIT: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports pages of one shop and, at the end, derives customers and writes the report.
pub struct Importer<'a> {
    store: &'a Store,
    shop: ShopId,
    started: DateTime<Utc>,
    products: UpsertCounts,
    orders: UpsertCounts,
    quarantined: u64,
    errors: Vec<String>,
    /// SKU → marketplace id of the product that claimed it in this import, so that a SKU
    /// shared by two products is our id for neither (FEEDS.md §1: "unique within the shop").
    claimed_skus: HashMap<String, String>,
}

fn truncate(raw: &str) -> String {
    if raw.len() <= QUARANTINE_RECORD_LIMIT {
        return raw.to_string();
    }
    let mut end = QUARANTINE_RECORD_LIMIT;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &raw[..end])
}

impl<'a> Importer<'a> {
    pub fn new(store: &'a Store, shop: ShopId) -> Self {
        Importer {
            store,
            shop,
            started: Utc::now(),
            products: UpsertCounts::default(),
            orders: UpsertCounts::default(),
            quarantined: 0,
            errors: Vec::new(),
            claimed_skus: HashMap::new(),
        }
    }

    pub fn shop(&self) -> &ShopId {
        &self.shop
    }

    /// Notes an error that stopped part of the run (a page, a source) for the report.
    pub fn record_error(&mut self, error: impl Into<String>) {
        self.errors.push(error.into());
    }

    fn quarantine(
        &self,
        batch: &mut ImportBatch,
        kind: &str,
        origin: &str,
        record: &Value,
        reason: &FeedError,
    ) {
        tracing::warn!(shop = %self.shop, kind, origin, %reason, "record quarantined");
        batch.quarantine(
            &self.shop,
            &Quarantined {
                at: Utc::now(),
                kind: kind.to_string(),
                origin: origin.to_string(),
                reason: reason.to_string(),
                record: truncate(&record.to_string()),
            },
        );
    }

    fn commit(&mut self, batch: ImportBatch) -> Result<(), StoreError> {
        self.products.add(&batch.products);
        self.orders.add(&batch.orders);
        self.quarantined += batch.quarantined;
        self.store.apply(batch)
    }

    /// Chooses our id: the SKU when no other product of the shop holds it, else the
    /// marketplace id.
    fn choose_id(&mut self, feed: &mut marketplace::FeedProduct) -> Result<(), StoreError> {
        let Some(sku) = feed.sku.clone() else {
            return Ok(());
        };
        let claimed_by_other = match self.claimed_skus.get(&sku) {
            Some(owner) => owner != &feed.marketplace_id,
            None => match self.store.product(&self.shop, &feed.product.id)? {
                Some(existing) => existing.marketplace_id.as_deref() != Some(feed.marketplace_id.as_str()),
                None => false,
            },
        };
        if claimed_by_other {
            if let Ok(id) = ProductId::parse(&feed.marketplace_id) {
                tracing::warn!(shop = %self.shop, sku, "SKU shared by several products: using the marketplace id");
                feed.product.id = id;
            }
        } else {
            self.claimed_skus.insert(sku, feed.marketplace_id.clone());
        }
        Ok(())
    }

    /// One page of the marketplace product list.
    pub fn import_products_page(&mut self, origin: &str, body: &str) -> Result<(), ImportError> {
        let records = marketplace::page_records(body)?;
        let mut batch = self.store.batch();
        for (i, record) in records.iter().enumerate() {
            match marketplace::parse_product(record) {
                Ok(mut feed) => {
                    self.choose_id(&mut feed)?;
                    self.store.upsert_product(&mut batch, &self.shop, &feed.product)?;
                }
                Err(e) => self.quarantine(&mut batch, "product", &format!("{origin} #{i}"), record, &e),
            }
        }
        self.commit(batch)?;
        Ok(())
    }

    /// Finds our product for an order line: by marketplace product id, else by SKU.
    fn resolve_lines(&self, order: &mut Order) -> Result<(), StoreError> {
        for line in &mut order.lines {
            if let Some(mid) = &line.marketplace_product_id {
                line.product = self.store.product_for_marketplace_id(&self.shop, mid)?;
            }
            if line.product.is_none() {
                if let Some(id) = line.sku.as_deref().and_then(|s| ProductId::parse(s).ok()) {
                    if self.store.product(&self.shop, &id)?.is_some() {
                        line.product = Some(id);
                    }
                }
            }
        }
        Ok(())
    }

    /// One page of the marketplace order list.
    pub fn import_orders_page(&mut self, origin: &str, body: &str) -> Result<(), ImportError> {
        let records = marketplace::page_records(body)?;
        let mut batch = self.store.batch();
        for (i, record) in records.iter().enumerate() {
            match marketplace::parse_order(record) {
                Ok(mut feed) => {
                    self.resolve_lines(&mut feed.order)?;
                    self.store.upsert_order(&mut batch, &self.shop, &feed.order)?;
                }
                Err(e) => self.quarantine(&mut batch, "order", &format!("{origin} #{i}"), record, &e),
            }
        }
        self.commit(batch)?;
        Ok(())
    }

    /// Derives the shop's customers from its orders and stores the run's report.
    pub fn finish(self, kind: &str, source: &str) -> Result<SyncReport, StoreError> {
        let orders = self.store.orders(&self.shop)?;
        // Spend and counts are re-derived; tier and segment stay until the model rebuild
        // that follows every import recomputes them (and extends the tier history).
        let mut kept: HashMap<_, _> = self
            .store
            .customers(&self.shop)?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let customers: Vec<_> = derive_customers(&orders)
            .into_iter()
            .map(|mut c| {
                if let Some(old) = kept.remove(&c.id) {
                    c.tier = old.tier;
                    c.tier_since = old.tier_since;
                    c.tier_history = old.tier_history;
                    c.next_tier_needed = old.next_tier_needed;
                    c.segment = old.segment;
                    c.rfm = old.rfm;
                }
                c
            })
            .collect();
        self.store.replace_customers(&self.shop, &customers)?;
        let finished = Utc::now();
        let report = SyncReport {
            kind: kind.to_string(),
            source: source.to_string(),
            started_at: self.started,
            finished_at: finished,
            duration_ms: (finished - self.started).num_milliseconds().max(0) as u64,
            products: self.products,
            orders: self.orders,
            quarantined: self.quarantined,
            ok: self.errors.is_empty(),
            errors: self.errors,
        };
        self.store.put_sync_report(&self.shop, &report)?;
        tracing::info!(
            shop = %self.shop, kind, source,
            products = report.products.seen, orders = report.orders.seen,
            quarantined = report.quarantined, errors = report.errors.len(),
            "import finished"
        );
        Ok(report)
    }
}
