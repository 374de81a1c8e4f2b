//! The parse → normalise → store pipeline that every way data comes in goes through: live
//! sync, `laris import`, and `laris replay` of a recording. One page is one atomic batch:
//! a bad record is quarantined with its reason while the good records of the page are
//! stored; a page that cannot be read at all writes nothing.
//!
//! A marketplace walk groups its pages ([`Importer::group_pages`]): consecutive pages are
//! committed together, up to [`GROUP_BOUNDS`], with the cursor of the group's last page, so
//! a first sync of a few hundred small pages is a few commits instead of one a page (each
//! commit is a transaction of PostgreSQL's, most of a small page's cost). A commit is still
//! records and their cursor together: a crash loses the group under way, and the next run
//! reads it again from the cursor of the last group committed. Reads while a group is open
//! see its records as if it were committed, and a page naming a record the group already
//! writes starts a new group, so that every page counts as it did alone.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::{ProductId, ShopId};
use crate::feeds::{marketplace, FeedError};
use crate::records::{
    Order, OrderCursor, Product, ProductCursor, ProductStatus, Quarantined, RunMarker, SyncCursor,
    SyncReport, UpsertCounts,
};
use crate::records::{RecordKind, RunKind};
use crate::store::{BatchOp, ImportBatch, ShopStore, StoreError};

/// Raw records kept in quarantine are cut to this many bytes.
const QUARANTINE_RECORD_LIMIT: usize = 4096;

/// How many pages, and records in them, a group holds at most before it is committed, and
/// how long after its first page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupBounds {
    /// Records (upserts and quarantined records); a page bigger than this is a group alone.
    pub records: usize,
    pub pages: u64,
    /// A slow walk (a rate-limited marketplace) still shows its data as it goes.
    pub age: Duration,
}

/// The bounds of a marketplace walk's groups: ten full order pages of 100, a hundred order
/// windows of a small shop, or a second of fetching; what a crash makes the next run read
/// again.
pub const GROUP_BOUNDS: GroupBounds = GroupBounds {
    records: 1_000,
    pages: 100,
    age: Duration::from_secs(1),
};

/// Records of a file written in one batch by [`Importer::import_in_batches`] (about the
/// size of a marketplace API page of orders).
pub const FILE_BATCH_RECORDS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports pages of one shop and, at the end, derives customers and writes the report.
pub struct Importer<'a> {
    store: &'a dyn ShopStore,
    shop: ShopId,
    started: DateTime<Utc>,
    products: UpsertCounts,
    orders: UpsertCounts,
    quarantined: u64,
    errors: Vec<String>,
    /// SKU → marketplace id of the product that claimed it in this import, so that a SKU
    /// shared by two products is our id for neither (docs/feeds.md: marketplace API: "unique within the shop").
    claimed_skus: HashMap<String, String>,
    pages: u64,
    warnings: Vec<String>,
    /// Marketplace ids seen since [`Importer::begin_full_pass`].
    full_pass: Option<HashSet<String>>,
    names: Option<HashMap<String, ProductId>>,
    /// Marketplace product id → our id, as this import wrote it (or read it from the
    /// store): an order line is resolved without a store read per line, which at a million
    /// lines was a tenth of a sync (docs/performance.md: sync at scale). Every product this
    /// import upserts updates it, so it always says what the store's reference says.
    product_refs: HashMap<String, ProductId>,
    /// Order lines' product ids or SKUs found to be our product ids: a product, once
    /// stored, is never removed, so an export's lines read the store once per product
    /// rather than once per line.
    known_ids: HashSet<ProductId>,
    /// Pages imported but not committed yet, when the walk groups its pages.
    group: Option<Group>,
}

/// Pages imported and not yet committed: one batch, and what a read of the store would
/// find once it is.
struct Group {
    bounds: GroupBounds,
    batch: ImportBatch,
    /// When its first page was added.
    opened: Option<Instant>,
    pages: u64,
    records: usize,
    /// The products the group writes, by our id, as it writes them last.
    products: HashMap<ProductId, Product>,
    /// The keys the group writes: product ids and invoices.
    keys: HashSet<(RecordKind, String)>,
    /// The subjects of the records the group quarantines.
    quarantined: HashSet<(RecordKind, String)>,
}

impl Group {
    fn new(bounds: GroupBounds, shop: &ShopId) -> Group {
        Group {
            bounds,
            batch: ImportBatch::new(shop),
            opened: None,
            pages: 0,
            records: 0,
            products: HashMap::new(),
            keys: HashSet::new(),
            quarantined: HashSet::new(),
        }
    }

    /// Whether a page must start a new group: it would pass the record bound, or it
    /// writes a record the group writes, or one whose subject the group quarantines (then
    /// its counts, or the quarantine it clears, would differ from the page's alone).
    fn closes_before(&self, page: &PageWrites) -> bool {
        self.pages > 0
            && (self.records + page.records > self.bounds.records
                || !self.keys.is_disjoint(&page.keys)
                || !self.quarantined.is_disjoint(&page.names))
    }

    fn add(&mut self, page: PageWrites) {
        for op in page.batch.ops() {
            if let BatchOp::UpsertProduct(product) = op {
                self.products.insert(product.id.clone(), product.clone());
            }
        }
        let (_, ops) = page.batch.into_ops();
        for op in ops {
            self.batch.push(op);
        }
        self.opened.get_or_insert_with(Instant::now);
        self.pages += 1;
        self.records += page.records;
        self.keys.extend(page.keys);
        self.quarantined.extend(page.quarantined);
    }

    fn full(&self) -> bool {
        self.pages >= self.bounds.pages
            || self.records >= self.bounds.records
            || self.opened.is_some_and(|at| at.elapsed() >= self.bounds.age)
    }

    /// The group's batch, leaving it empty; `None` when it holds no page.
    fn take(&mut self) -> Option<ImportBatch> {
        if self.pages == 0 {
            return None;
        }
        let shop = self.batch.shop().clone();
        let empty = Group::new(self.bounds, &shop);
        Some(std::mem::replace(self, empty).batch)
    }
}

/// One page's writes, with the keys they write, every name of their records (a
/// product's SKU and marketplace id too) and the subjects they quarantine.
struct PageWrites {
    batch: ImportBatch,
    records: usize,
    keys: HashSet<(RecordKind, String)>,
    names: HashSet<(RecordKind, String)>,
    quarantined: HashSet<(RecordKind, String)>,
}

impl PageWrites {
    fn of(batch: ImportBatch) -> PageWrites {
        let mut page = PageWrites {
            batch: ImportBatch::new(batch.shop()),
            records: 0,
            keys: HashSet::new(),
            names: HashSet::new(),
            quarantined: HashSet::new(),
        };
        for op in batch.ops() {
            match op {
                BatchOp::UpsertProduct(p) => {
                    page.records += 1;
                    page.keys.insert((RecordKind::Product, p.id.to_string()));
                    let names = [Some(p.id.as_str()), p.sku.as_deref(), p.marketplace_id.as_deref()];
                    for name in names.into_iter().flatten() {
                        page.names.insert((RecordKind::Product, name.to_string()));
                    }
                }
                BatchOp::UpsertOrder(o) => {
                    page.records += 1;
                    page.keys.insert((RecordKind::Order, o.invoice.clone()));
                    page.names.insert((RecordKind::Order, o.invoice.clone()));
                }
                BatchOp::Quarantine(q) => {
                    page.records += 1;
                    if let Some(subject) = &q.subject {
                        page.quarantined.insert((q.kind, subject.clone()));
                    }
                }
                _ => {}
            }
        }
        page.batch = batch;
        page
    }
}

/// One record on its way in.
#[derive(Debug)]
pub enum Incoming {
    /// A marketplace product: our id is chosen from its SKU and marketplace id.
    ApiProduct(marketplace::FeedProduct),
    /// A product from an export or a storefront page: fields the source does not carry
    /// (stock, category, marketplace id, …) keep their stored values.
    Product(Product),
    Order(Order),
    /// A record that could not be read, kept in quarantine with the reason.
    Bad {
        kind: RecordKind,
        origin: String,
        raw: Value,
        reason: FeedError,
    },
}

/// What one page brings: its records and the sync cursor to write with them.
#[derive(Debug)]
pub struct Page {
    pub origin: String,
    pub records: Vec<Incoming>,
    /// The cursor stored with the page's data, in the same atomic batch.
    pub cursor: Option<SyncCursor>,
    /// This page ends a full product pass ([`Importer::begin_full_pass`]).
    pub ends_full_pass: bool,
}

impl Page {
    pub fn new(origin: &str, records: Vec<Incoming>) -> Page {
        Page {
            origin: origin.to_string(),
            records,
            cursor: None,
            ends_full_pass: false,
        }
    }
}

/// A marketplace product page's records; a page that cannot be read at all is an error.
pub fn api_products(origin: &str, body: &str) -> Result<Vec<Incoming>, FeedError> {
    Ok(marketplace::page_records(body)?
        .into_iter()
        .enumerate()
        .map(|(i, raw)| match marketplace::parse_product(&raw) {
            Ok(feed) => Incoming::ApiProduct(feed),
            Err(reason) => Incoming::Bad {
                kind: RecordKind::Product,
                origin: format!("{origin} #{i}"),
                raw,
                reason,
            },
        })
        .collect())
}

/// A marketplace order page's records.
pub fn api_orders(origin: &str, body: &str) -> Result<Vec<Incoming>, FeedError> {
    Ok(marketplace::page_records(body)?
        .into_iter()
        .enumerate()
        .map(|(i, raw)| match marketplace::parse_order(&raw) {
            Ok(feed) => Incoming::Order(feed.order),
            Err(reason) => Incoming::Bad {
                kind: RecordKind::Order,
                origin: format!("{origin} #{i}"),
                raw,
                reason,
            },
        })
        .collect())
}

/// A TikTok Shop product search page: a record per SKU of each product (a product that
/// cannot be read goes to quarantine with the parser's reason), and the next page's token.
pub fn tiktok_products(origin: &str, body: &str) -> Result<(Vec<Incoming>, Option<String>), FeedError> {
    let page = crate::feeds::tiktok_shop::product_page(body)?;
    let mut records = Vec::new();
    for (i, raw) in page.records.into_iter().enumerate() {
        match crate::feeds::tiktok_shop::parse_product(&raw) {
            Ok(skus) => records.extend(skus.into_iter().map(Incoming::ApiProduct)),
            Err(reason) => records.push(Incoming::Bad {
                kind: RecordKind::Product,
                origin: format!("{origin} #{i}"),
                raw,
                reason,
            }),
        }
    }
    Ok((records, page.next_page_token))
}

/// A TikTok Shop order search page: its orders (or quarantined records with the reason),
/// and the next page's token.
pub fn tiktok_orders(origin: &str, body: &str) -> Result<(Vec<Incoming>, Option<String>), FeedError> {
    let page = crate::feeds::tiktok_shop::order_page(body)?;
    let records = page
        .records
        .into_iter()
        .enumerate()
        .map(|(i, raw)| match crate::feeds::tiktok_shop::parse_order(&raw) {
            Ok(feed) => Incoming::Order(feed.order),
            Err(reason) => Incoming::Bad {
                kind: RecordKind::Order,
                origin: format!("{origin} #{i}"),
                raw,
                reason,
            },
        })
        .collect();
    Ok((records, page.next_page_token))
}

/// A product from a source that knows less than the marketplace, merged over the stored
/// one: what the new record lacks keeps its stored value. The update time stays the stored
/// one when nothing else changed (exports and pages carry no update time of their own:
/// reading the same data again must change nothing).
fn fill_from(mut new: Product, stored: Product) -> Product {
    new.marketplace_id = new.marketplace_id.or_else(|| stored.marketplace_id.clone());
    new.sku = new.sku.or_else(|| stored.sku.clone());
    new.stock = new.stock.or(stored.stock);
    if new.category.is_empty() {
        new.category = stored.category.clone();
    }
    new.weight_grams = new.weight_grams.or(stored.weight_grams);
    new.pack = new.pack.or(stored.pack);
    for (k, v) in &stored.attributes {
        new.attributes.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if new.description.is_empty() {
        new.description = stored.description.clone();
    }
    new.image = new.image.or_else(|| stored.image.clone());
    new.url = new.url.or_else(|| stored.url.clone());
    new.sold_count = new.sold_count.or(stored.sold_count);
    let same_but_time = Product {
        updated_at: stored.updated_at,
        ..new.clone()
    } == stored;
    if same_but_time {
        new.updated_at = stored.updated_at;
    }
    new
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
    pub fn new(store: &'a dyn ShopStore, shop: ShopId) -> Self {
        Importer {
            store,
            shop,
            started: Utc::now(),
            products: UpsertCounts::default(),
            orders: UpsertCounts::default(),
            quarantined: 0,
            errors: Vec::new(),
            claimed_skus: HashMap::new(),
            pages: 0,
            warnings: Vec::new(),
            full_pass: None,
            names: None,
            product_refs: HashMap::new(),
            known_ids: HashSet::new(),
            group: None,
        }
    }

    pub fn shop(&self) -> &ShopId {
        &self.shop
    }

    /// The products cursor of the shop's source number `source`, as last committed.
    pub fn product_cursor(&self, source: usize) -> Result<Option<ProductCursor>, StoreError> {
        self.store.product_cursor(&self.shop, source)
    }

    /// The orders cursor of the shop's source number `source`, as last committed.
    pub fn order_cursor(&self, source: usize) -> Result<Option<OrderCursor>, StoreError> {
        self.store.order_cursor(&self.shop, source)
    }

    /// Notes an error that stopped part of the run (a page, a source) for the report.
    pub fn record_error(&mut self, error: impl Into<String>) {
        self.errors.push(error.into());
    }

    fn quarantine(
        &self,
        batch: &mut ImportBatch,
        kind: RecordKind,
        origin: &str,
        record: &Value,
        reason: &FeedError,
    ) {
        tracing::warn!(shop = %self.shop, %kind, origin, %reason, "record quarantined");
        batch.quarantine(Quarantined {
            at: Utc::now(),
            kind,
            origin: origin.to_string(),
            reason: reason.reason(),
            record: truncate(&record.to_string()),
            subject: Quarantined::subject_of(kind, record),
        });
    }

    fn commit(&mut self, mut batch: ImportBatch) -> Result<(), StoreError> {
        batch.mark_run(RunMarker {
            started_at: self.started,
            pages: self.pages,
        });
        let applied = self.store.apply(batch)?;
        self.products.add(&applied.products);
        self.orders.add(&applied.orders);
        self.quarantined += applied.quarantined;
        Ok(())
    }

    /// Chooses our id: the SKU when no other product of the shop holds it, else the
    /// marketplace id.
    /// `stored`: the page's products as the store holds them ([`Importer::stored_of`]).
    fn choose_id(&mut self, feed: &mut marketplace::FeedProduct, stored: &HashMap<ProductId, Product>) {
        let Some(sku) = feed.sku.clone() else {
            return;
        };
        let claimed_by_other = match self.claimed_skus.get(&sku) {
            Some(owner) => owner != &feed.marketplace_id,
            None => match stored.get(&feed.product.id) {
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
    }

    /// Imports one page (an API answer, a file, a storefront page) as one atomic batch: good
    /// records are upserted, bad ones quarantined, and the page's state (a sync cursor) is
    /// written in the same batch, so a crash never leaves a cursor ahead of its data.
    /// When the importer groups pages ([`Importer::group_pages`]) the page joins the group
    /// instead, which is committed when full.
    pub fn import_page(&mut self, page: Page) -> Result<(), ImportError> {
        let mut batch = self.batch_of(page.records)?;
        if page.ends_full_pass {
            self.mark_vanished(&mut batch)?;
        }
        if let Some(cursor) = page.cursor {
            batch.set_cursor(cursor);
        }
        self.pages += 1;
        if self.group.is_none() {
            self.commit(batch)?;
            return Ok(());
        }
        let page = PageWrites::of(batch);
        if self.group.as_ref().is_some_and(|g| g.closes_before(&page)) {
            self.commit_group()?;
        }
        let group = self.group.as_mut().expect("grouping checked above");
        group.add(page);
        if group.full() {
            self.commit_group()?;
        }
        Ok(())
    }

    /// From now on pages are committed in groups of at most `bounds`: the caller commits
    /// the last group with [`Importer::commit_group`] at the end of its walk (and
    /// [`Importer::finish`] does, at the latest).
    pub fn group_pages(&mut self, bounds: GroupBounds) {
        if self.group.is_none() {
            self.group = Some(Group::new(bounds, &self.shop));
        }
    }

    /// Commits the pages of the group under way, if any, with their cursor.
    pub fn commit_group(&mut self) -> Result<(), StoreError> {
        match self.group.as_mut().and_then(Group::take) {
            Some(batch) => self.commit(batch),
            None => Ok(()),
        }
    }

    /// A product as the store holds it, or will once the group under way is committed.
    fn stored_product(&self, id: &ProductId) -> Result<Option<Product>, StoreError> {
        if let Some(product) = self.group.as_ref().and_then(|g| g.products.get(id)) {
            return Ok(Some(product.clone()));
        }
        self.store.product(&self.shop, id)
    }

    /// The products of `records` whose stored copy the import looks at, as the store holds
    /// them or will once the group under way is committed, read together: a page of 50
    /// products is one read instead of 50 (a round trip each on PostgreSQL).
    fn stored_of(&self, records: &[Incoming]) -> Result<HashMap<ProductId, Product>, StoreError> {
        let pending = self.group.as_ref().map(|g| &g.products);
        let mut found = HashMap::new();
        let mut ask = Vec::new();
        for record in records {
            let id = match record {
                Incoming::ApiProduct(feed) if feed.sku.is_some() => &feed.product.id,
                Incoming::Product(product) => &product.id,
                _ => continue,
            };
            match pending.and_then(|p| p.get(id)) {
                Some(product) => {
                    found.insert(id.clone(), product.clone());
                }
                None => ask.push(id.clone()),
            }
        }
        for product in self.store.products_among(&self.shop, &ask)? {
            found.insert(product.id.clone(), product);
        }
        Ok(found)
    }

    /// The shop's products as the store holds them, or will once the group under way is
    /// committed.
    fn stored_products(&self) -> Result<Vec<Product>, StoreError> {
        let mut products = self.store.products(&self.shop)?;
        let Some(group) = self.group.as_ref().filter(|g| !g.products.is_empty()) else {
            return Ok(products);
        };
        let mut pending = group.products.clone();
        for product in &mut products {
            if let Some(newer) = pending.remove(&product.id) {
                *product = newer;
            }
        }
        let mut added: Vec<Product> = pending.into_values().collect();
        added.sort_by(|a, b| a.id.cmp(&b.id));
        products.extend(added);
        Ok(products)
    }

    /// Imports the records of one file (one page of the report) in batches of
    /// [`FILE_BATCH_RECORDS`]: one batch of a 150k-line sales report took over 150 MB of
    /// the store's buffers. A file has no cursor: a crash part-way leaves the batches
    /// written so far, with the run marker (the model is rebuilt at the next start), and
    /// importing the file again writes the rest and changes nothing twice.
    pub fn import_in_batches(
        &mut self,
        records: impl IntoIterator<Item = Incoming>,
    ) -> Result<(), ImportError> {
        self.pages += 1;
        let mut records = records.into_iter();
        let mut first = true;
        loop {
            let chunk: Vec<Incoming> = records.by_ref().take(FILE_BATCH_RECORDS).collect();
            if chunk.is_empty() && !first {
                return Ok(());
            }
            first = false;
            let batch = self.batch_of(chunk)?;
            self.commit(batch)?;
        }
    }

    /// The writes of some records: good ones upserted, bad ones quarantined.
    fn batch_of(&mut self, records: Vec<Incoming>) -> Result<ImportBatch, ImportError> {
        let mut batch = ImportBatch::new(&self.shop);
        let stored = self.stored_of(&records)?;
        for record in records {
            match record {
                Incoming::ApiProduct(mut feed) => {
                    self.choose_id(&mut feed, &stored);
                    if let Some(seen) = self.full_pass.as_mut() {
                        seen.insert(feed.marketplace_id.clone());
                    }
                    self.note_ref(&feed.product);
                    batch.upsert_product(feed.product);
                }
                Incoming::Product(product) => {
                    let product = match stored.get(&product.id).cloned() {
                        Some(stored) => fill_from(product, stored),
                        None => product,
                    };
                    self.note_ref(&product);
                    batch.upsert_product(product);
                }
                Incoming::Order(mut order) => {
                    self.resolve_lines(&mut order)?;
                    batch.upsert_order(order);
                }
                Incoming::Bad {
                    kind,
                    origin,
                    raw,
                    reason,
                } => self.quarantine(&mut batch, kind, &origin, &raw, &reason),
            }
        }
        Ok(batch)
    }

    /// The store keeps marketplace id → our id for every product written
    /// ([`ShopStore::product_for_marketplace_id`]); this import's copy follows it.
    fn note_ref(&mut self, product: &Product) {
        if let Some(mid) = &product.marketplace_id {
            self.product_refs.insert(mid.clone(), product.id.clone());
        }
    }

    /// Our id of a marketplace product: as this import wrote or read it, else from the store.
    fn product_for_marketplace_id(&mut self, mid: &str) -> Result<Option<ProductId>, StoreError> {
        if let Some(id) = self.product_refs.get(mid) {
            return Ok(Some(id.clone()));
        }
        let found = self.store.product_for_marketplace_id(&self.shop, mid)?;
        if let Some(id) = &found {
            self.product_refs.insert(mid.to_string(), id.clone());
        }
        Ok(found)
    }

    /// Starts a full product pass: the marketplace ids of the products imported from now on
    /// are noted, and the page that ends the pass marks every other marketplace product
    /// inactive (it vanished from the shop).
    pub fn begin_full_pass(&mut self) {
        self.full_pass = Some(HashSet::new());
    }

    fn mark_vanished(&mut self, batch: &mut ImportBatch) -> Result<(), StoreError> {
        let Some(seen) = self.full_pass.take() else {
            return Ok(());
        };
        for mut product in self.stored_products()? {
            let vanished = product
                .marketplace_id
                .as_ref()
                .is_some_and(|mid| !seen.contains(mid));
            if vanished && product.status == ProductStatus::Active {
                tracing::info!(shop = %self.shop, product = %product.id, "product vanished from the marketplace: marked inactive");
                product.status = ProductStatus::Inactive;
                batch.upsert_product(product);
            }
        }
        Ok(())
    }

    /// Notes something kept but worth a look, for the report.
    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// Whether an error was recorded in this run.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
    }

    /// One page of the marketplace product list.
    pub fn import_products_page(&mut self, origin: &str, body: &str) -> Result<(), ImportError> {
        let records = api_products(origin, body)?;
        self.import_page(Page::new(origin, records))
    }

    /// One page of the marketplace order list.
    pub fn import_orders_page(&mut self, origin: &str, body: &str) -> Result<(), ImportError> {
        let records = api_orders(origin, body)?;
        self.import_page(Page::new(origin, records))
    }

    /// Finds our product for an order line: by the line's product id (the marketplace's, or
    /// ours as our exports write it), else by SKU, else by exact name (exports carry
    /// nothing else). A line whose product stays unknown is still stored.
    fn resolve_lines(&mut self, order: &mut Order) -> Result<(), StoreError> {
        for line in &mut order.lines {
            if line.product.is_some() {
                continue;
            }
            if let Some(mid) = &line.marketplace_product_id {
                line.product = self.product_for_marketplace_id(mid)?;
                if line.product.is_none() {
                    line.product = self.known_id(mid)?;
                }
            }
            if line.product.is_none() {
                if let Some(sku) = line.sku.as_deref() {
                    line.product = self.known_id(sku)?;
                }
            }
            if line.product.is_none() {
                line.product = self.by_name()?.get(&line.name).cloned();
            }
        }
        Ok(())
    }

    fn known_id(&mut self, raw: &str) -> Result<Option<ProductId>, StoreError> {
        let Ok(id) = ProductId::parse(raw) else {
            return Ok(None);
        };
        if self.known_ids.contains(&id) {
            return Ok(Some(id));
        }
        let found = self.stored_product(&id)?.map(|p| p.id);
        if let Some(id) = &found {
            self.known_ids.insert(id.clone());
        }
        Ok(found)
    }

    /// Product name → id, read once per import, names shared by two products left out.
    fn by_name(&mut self) -> Result<&HashMap<String, ProductId>, StoreError> {
        if self.names.is_none() {
            let mut names: HashMap<String, Option<ProductId>> = HashMap::new();
            for p in self.stored_products()? {
                names
                    .entry(p.name.clone())
                    .and_modify(|v| *v = None)
                    .or_insert(Some(p.id));
            }
            self.names = Some(names.into_iter().filter_map(|(n, id)| Some((n, id?))).collect());
        }
        Ok(self.names.as_ref().expect("just filled"))
    }

    /// Stores the run's report, and removes its run marker in the same write. Customers
    /// are derived by the model rebuild that every change of data is followed by (the
    /// changed data marked the model stale: see [`ShopStore::model_stale`]).
    pub fn finish(mut self, kind: RunKind, source: &str) -> Result<SyncReport, StoreError> {
        self.commit_group()?;
        let finished = Utc::now();
        let report = SyncReport {
            kind,
            source: source.to_string(),
            started_at: self.started,
            finished_at: finished,
            duration_ms: (finished - self.started).num_milliseconds().max(0) as u64,
            products: self.products,
            orders: self.orders,
            quarantined: self.quarantined,
            ok: self.errors.is_empty(),
            errors: self.errors,
            pages: self.pages,
            warnings: self.warnings,
        };
        self.store.put_sync_report(&self.shop, &report)?;
        tracing::info!(
            shop = %self.shop, %kind, source,
            products = report.products.seen, orders = report.orders.seen,
            quarantined = report.quarantined, errors = report.errors.len(),
            "import finished"
        );
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use serde_json::json;

    fn product(mid: u64, sku: &str) -> Value {
        json!({
            "basic": {"productID": mid, "name": format!("Produk {sku}"), "status": 1, "updateTimeUnix": 1_790_000_000},
            "price": {"value": 10_000},
            "other": {"sku": sku},
        })
    }

    fn order(invoice: &str, mid: u64) -> Value {
        json!({
            "invoice_ref_num": invoice,
            "buyer": {"id": 7},
            "order_status": 700,
            "create_time": 1_790_000_000,
            "products": [{"id": mid, "quantity": 1, "price": 10_000}],
        })
    }

    fn page(records: Vec<Value>) -> String {
        json!({ "data": records }).to_string()
    }

    fn line_product(store: &dyn ShopStore, shop: &ShopId, invoice: &str) -> Option<ProductId> {
        store.order(shop, invoice).unwrap().unwrap().lines[0]
            .product
            .clone()
    }

    /// The ids a SKU gives, on a first sync and on a later one: a SKU two products share is
    /// the first one's id only, and a SKU that another product of the shop holds as its id
    /// is not an id.
    #[test]
    fn a_sku_another_product_holds_is_not_an_id_on_a_first_sync_nor_on_a_later_one() {
        let ids = |store: &Store, shop: &ShopId| -> Vec<(String, Option<String>)> {
            let mut all: Vec<_> = store
                .products(shop)
                .unwrap()
                .into_iter()
                .map(|p| (p.id.to_string(), p.marketplace_id))
                .collect();
            all.sort();
            all
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let shop = ShopId::parse("toko").unwrap();
        let mut first = Importer::new(&store, shop.clone());
        // 12 shares 11's SKU; 14's SKU is 13's marketplace id ("13", 13 having no SKU of its own
        // taken: its SKU "KOPI-1" went to 11).
        first
            .import_products_page(
                "p1",
                &page(vec![
                    product(11, "KOPI-1"),
                    product(12, "KOPI-1"),
                    product(13, "KOPI-1"),
                ]),
            )
            .unwrap();
        first
            .import_products_page("p2", &page(vec![product(14, "13")]))
            .unwrap();
        first.finish(RunKind::Sync, "test").unwrap();
        let owner = |id: &str| Some(id.to_string());
        assert_eq!(
            ids(&store, &shop),
            vec![
                ("12".into(), owner("12")),
                ("13".into(), owner("13")),
                ("14".into(), owner("14")),
                ("KOPI-1".into(), owner("11")),
            ]
        );
        // A later run asks the store: 15's SKU KOPI-1 is 11's id.
        let mut later = Importer::new(&store, shop.clone());
        later
            .import_products_page("p3", &page(vec![product(15, "KOPI-1"), product(11, "KOPI-1")]))
            .unwrap();
        later.finish(RunKind::Sync, "test").unwrap();
        let after = ids(&store, &shop);
        assert!(after.contains(&("15".into(), owner("15"))), "{after:?}");
        assert!(after.contains(&("KOPI-1".into(), owner("11"))), "{after:?}");
        assert_eq!(after.len(), 5, "{after:?}");
    }

    fn orders_page(origin: &str, invoices: &[&str], synced_to: Option<i64>) -> Page {
        let body = page(invoices.iter().map(|i| order(i, 11)).collect());
        let mut page = Page::new(origin, api_orders(origin, &body).unwrap());
        page.cursor = synced_to.map(|synced_to| SyncCursor::Orders {
            source: 0,
            cursor: OrderCursor { synced_to },
        });
        page
    }

    fn products_page(origin: &str, records: Vec<Value>) -> Page {
        Page::new(origin, api_products(origin, &page(records)).unwrap())
    }

    fn synced_to(store: &dyn ShopStore, shop: &ShopId) -> Option<i64> {
        store.order_cursor(shop, 0).unwrap().map(|c| c.synced_to)
    }

    /// Pages that name each other's records (a SKU that is another product's id, an order
    /// on two pages, a product again) store and count in groups exactly what they do one
    /// page at a time, and a group never holds more than its bound of records.
    #[test]
    fn grouped_pages_store_and_count_what_pages_alone_do() {
        let pages = || {
            vec![
                products_page(
                    "p1",
                    vec![product(11, "KOPI-1"), product(12, "KOPI-1"), product(13, "X")],
                ),
                products_page("p2", vec![product(14, "12"), product(15, "TEH-1")]),
                products_page(
                    "p3",
                    vec![product(15, "TEH-1"), json!({"basic": {"productID": 16}})],
                ),
                orders_page("o1", &["INV/1", "INV/2"], Some(100)),
                orders_page("o2", &["INV/2", "INV/3"], Some(200)),
                orders_page("o3", &["INV/4"], Some(300)),
            ]
        };
        let shop = ShopId::parse("toko").unwrap();
        let run = |bounds: Option<GroupBounds>| {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            let mut importer = Importer::new(&store, shop.clone());
            if let Some(bounds) = bounds {
                importer.group_pages(bounds);
            }
            let mut stored_after_each = Vec::new();
            for page in pages() {
                importer.import_page(page).unwrap();
                stored_after_each
                    .push(store.products(&shop).unwrap().len() + store.orders(&shop).unwrap().len());
            }
            let report = importer.finish(RunKind::Sync, "test").unwrap();
            let mut products: Vec<_> = store
                .products(&shop)
                .unwrap()
                .into_iter()
                .map(|p| (p.id, p.marketplace_id))
                .collect();
            products.sort();
            let orders: Vec<_> = store
                .orders(&shop)
                .unwrap()
                .into_iter()
                .map(|o| o.invoice)
                .collect();
            let counts = (report.products, report.orders, report.quarantined, report.pages);
            (
                counts,
                products,
                orders,
                synced_to(&store, &shop),
                stored_after_each,
            )
        };
        let alone = run(None);
        let bounds = GroupBounds {
            records: 5,
            pages: 10,
            age: Duration::from_secs(3600),
        };
        let grouped = run(Some(bounds));
        assert_eq!(grouped.0, alone.0, "counts, quarantined records and pages");
        assert_eq!(grouped.1, alone.1, "products and their marketplace ids");
        assert_eq!(grouped.2, alone.2);
        assert_eq!(grouped.3, Some(300));
        assert!(
            grouped.1.iter().any(|(id, _)| id.as_str() == "14"),
            "{:?}",
            grouped.1
        );
        // One page at a time every page is stored as it comes. In groups of at most five
        // records: p1 and p2 (product 14's SKU is product 12's id: read from the group) make
        // five; p3 and o1 four, o1 + o2 would be six but o2 names INV/2 of o1 first; o2 and o3
        // are committed by `finish`.
        assert_eq!(alone.4, vec![3, 5, 5, 7, 8, 9]);
        assert_eq!(grouped.4, vec![0, 5, 5, 5, 7, 7], "{bounds:?}");
    }

    /// A crash (the importer dropped, as when the process is killed) in the middle of a
    /// group loses only that group: the cursor is the last committed group's, and the next
    /// run, reading again from it, ends with every record stored once and counted exactly.
    #[test]
    fn a_crash_in_a_group_leaves_the_cursor_of_the_last_group_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let shop = ShopId::parse("toko").unwrap();
        let bounds = GroupBounds {
            records: 1_000,
            pages: 2,
            age: Duration::from_secs(3600),
        };
        let windows = [
            (100, ["INV/1", "INV/2"]),
            (200, ["INV/3", "INV/4"]),
            (300, ["INV/5", "INV/6"]),
        ];
        let mut crashed = Importer::new(&store, shop.clone());
        crashed.group_pages(bounds);
        for (end, invoices) in &windows {
            crashed
                .import_page(orders_page("o", invoices, Some(*end)))
                .unwrap();
        }
        drop(crashed);
        assert_eq!(
            synced_to(&store, &shop),
            Some(200),
            "the group of the first two windows"
        );
        assert_eq!(store.orders(&shop).unwrap().len(), 4);
        assert!(
            store.order(&shop, "INV/5").unwrap().is_none(),
            "the group under way is lost"
        );

        let mut next = Importer::new(&store, shop.clone());
        next.group_pages(bounds);
        let from = synced_to(&store, &shop).unwrap();
        for (end, invoices) in windows.iter().filter(|(end, _)| *end > from) {
            next.import_page(orders_page("o", invoices, Some(*end))).unwrap();
        }
        let report = next.finish(RunKind::Sync, "test").unwrap();
        assert_eq!(
            (report.orders.seen, report.orders.inserted, report.pages),
            (2, 2, 1)
        );
        assert_eq!(synced_to(&store, &shop), Some(300));
        assert_eq!(store.orders(&shop).unwrap().len(), 6);
    }

    #[test]
    fn an_order_line_gets_the_id_its_product_holds_now_even_when_the_product_moved_in_this_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let shop = ShopId::parse("toko").unwrap();
        // Stored by an earlier run: marketplace product 11 is our KOPI-1.
        let mut earlier = Importer::new(&store, shop.clone());
        earlier
            .import_products_page("p", &page(vec![product(11, "KOPI-1")]))
            .unwrap();
        earlier.finish(RunKind::Sync, "test").unwrap();

        let mut run = Importer::new(&store, shop.clone());
        run.import_orders_page("o1", &page(vec![order("INV/1", 11)]))
            .unwrap();
        assert_eq!(
            line_product(&store, &shop, "INV/1").map(|p| p.to_string()),
            Some("KOPI-1".into()),
            "read from the store"
        );
        // The marketplace renamed its SKU: product 11 is stored as KOPI-2 from now on, and
        // the lines that follow in the same run say so, as the store's reference does.
        run.import_products_page("p2", &page(vec![product(11, "KOPI-2")]))
            .unwrap();
        run.import_orders_page("o2", &page(vec![order("INV/2", 11), order("INV/3", 12)]))
            .unwrap();
        assert_eq!(
            store.product_for_marketplace_id(&shop, "11").unwrap(),
            line_product(&store, &shop, "INV/2")
        );
        assert_eq!(
            line_product(&store, &shop, "INV/2").map(|p| p.to_string()),
            Some("KOPI-2".into())
        );
        assert_eq!(
            line_product(&store, &shop, "INV/3"),
            None,
            "an unknown product stays unknown"
        );
    }
}
