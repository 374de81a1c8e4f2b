//! [`ImportBatch`]: the writes of one imported page, as a list of typed operations that a
//! backend applies atomically ([`crate::store::ShopStore::apply`]). A page's records, its
//! quarantined records, its sync cursor and the run marker go in one batch, so a crash
//! never leaves a cursor ahead of its data.

use crate::domain::{ProductId, ShopId};
use crate::records::{Order, Product, Quarantined, RunMarker, SyncCursor, UpsertCounts};

/// One write of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchOp {
    /// Stores the product, and its marketplace id → our id when it has one.
    UpsertProduct(Product),
    UpsertOrder(Order),
    /// Keeps a bad record under a key derived from its kind, origin and raw text
    /// ([`crate::store::migrate::quarantine_id`]), so the same record is kept once.
    Quarantine(Quarantined),
    Cursor(SyncCursor),
    /// Marks a run under way (see [`RunMarker`]).
    MarkRun(RunMarker),
    /// Removes the run marker: the run finished.
    EndRun,
    /// Maps a marketplace product id to our product id, as [`BatchOp::UpsertProduct`] does
    /// for the product's own: for a copy of a store's whole map
    /// ([`crate::store::ShopStore::marketplace_ids`]). Moves neither counts nor the data
    /// generation.
    MapMarketplaceId {
        marketplace_id: String,
        product: ProductId,
    },
    /// Makes the backend fail at this point of applying the batch, so the contract tests
    /// can check that a failed batch writes nothing.
    #[cfg(test)]
    FailForTest(String),
}

/// Writes that belong together, for one shop, applied atomically.
#[derive(Debug, Clone)]
pub struct ImportBatch {
    shop: ShopId,
    ops: Vec<BatchOp>,
}

/// What applying a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub products: UpsertCounts,
    pub orders: UpsertCounts,
    pub quarantined: u64,
}

impl ImportBatch {
    pub fn new(shop: &ShopId) -> ImportBatch {
        ImportBatch {
            shop: shop.clone(),
            ops: Vec::new(),
        }
    }

    pub fn shop(&self) -> &ShopId {
        &self.shop
    }

    /// The operations in the order they were added.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    pub fn into_ops(self) -> (ShopId, Vec<BatchOp>) {
        (self.shop, self.ops)
    }

    pub fn push(&mut self, op: BatchOp) {
        self.ops.push(op);
    }

    pub fn upsert_product(&mut self, product: Product) {
        self.push(BatchOp::UpsertProduct(product));
    }

    pub fn upsert_order(&mut self, order: Order) {
        self.push(BatchOp::UpsertOrder(order));
    }

    pub fn quarantine(&mut self, record: Quarantined) {
        self.push(BatchOp::Quarantine(record));
    }

    pub fn set_cursor(&mut self, cursor: SyncCursor) {
        self.push(BatchOp::Cursor(cursor));
    }

    pub fn mark_run(&mut self, marker: RunMarker) {
        self.push(BatchOp::MarkRun(marker));
    }

    pub fn end_run(&mut self) {
        self.push(BatchOp::EndRun);
    }

    pub fn map_marketplace_id(&mut self, marketplace_id: String, product: ProductId) {
        self.push(BatchOp::MapMarketplaceId {
            marketplace_id,
            product,
        });
    }
}
