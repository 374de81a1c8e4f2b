//! [`apply`]: an [`ImportBatch`] written to PostgreSQL in the caller's transaction.
//!
//! The same rules as the sled backend's (`store::sled_import`): each upsert is compared with
//! the stored record, an equal one writes nothing and counts as unchanged, a replacement
//! takes the old record's share out of the counts before the new one's goes in, and a record
//! written twice in one batch is compared the second time with what the batch wrote the
//! first time. The batch is first worked out in memory (after locking the shop's counts row
//! and reading the records it touches, a few statements whatever the batch's size), then
//! written with one multi-row statement per table. The caller commits; any error before
//! that leaves nothing of the batch.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use crate::domain::ShopId;
use crate::records::{Order, Product, ProductStatus, Quarantined, RecordKind, SyncCursor, UpsertCounts};
use crate::store::counts::{Counts, Share};
use crate::store::migrate::quarantine_id;
use crate::store::postgres::options::Pg;
use crate::store::postgres::shared::{lock_counts, owned, write_counts};
use crate::store::{codec, Applied, BatchOp, StoreError};

/// Names in `shop_state`: the same as every backend's.
pub(crate) use crate::store::state_names as state;

/// How a kind of record counts: the share of a stored value.
type StoredShare = fn(&[u8]) -> Share;

/// A record this batch writes: its value, bytes and the share it counts for.
struct Written<T> {
    value: T,
    bytes: Vec<u8>,
    share: Option<Share>,
}

/// The upserts of one table: what was stored before the batch under the keys it touches,
/// and the last value the batch writes under each.
struct Upserts<T> {
    stored: HashMap<String, Vec<u8>>,
    written: HashMap<String, Written<T>>,
}

impl<T> Upserts<T> {
    fn new(stored: HashMap<String, Vec<u8>>) -> Upserts<T> {
        Upserts {
            stored,
            written: HashMap::new(),
        }
    }

    /// `store::sled_import::Writes::upsert`, in memory.
    fn upsert(
        &mut self,
        key: String,
        value: T,
        bytes: Vec<u8>,
        share: Option<(Share, StoredShare)>,
        counts: &mut Counts,
    ) -> UpsertCounts {
        let mut result = UpsertCounts {
            seen: 1,
            ..Default::default()
        };
        let stored = self.stored.get(&key);
        let earlier = self.written.get(&key).map(|w| w.share);
        match stored {
            Some(old) if *old == bytes => {
                result.unchanged = 1;
                if earlier.is_none() {
                    return result;
                }
                // Written differently earlier in this batch: this later value wins.
            }
            Some(_) => result.updated = 1,
            None => result.inserted = 1,
        }
        if let Some((new, stored_share)) = share {
            let old = match earlier {
                Some(s) => s,
                None => stored.map(|b| stored_share(b)),
            };
            if let Some(old) = old {
                counts.remove(old);
            }
            counts.add(new);
        }
        self.written.insert(
            key,
            Written {
                value,
                bytes,
                share: share.map(|(s, _)| s),
            },
        );
        result
    }

    /// The writes that leave the table different from before the batch, by key.
    fn changes(self) -> Vec<(String, Written<T>)> {
        self.changes_and_replaced().0
    }

    /// [`Upserts::changes`], and the keys among them that held a record before the batch
    /// (the others are new).
    fn changes_and_replaced(self) -> (Vec<(String, Written<T>)>, Vec<String>) {
        let stored = self.stored;
        let changes: Vec<(String, Written<T>)> = self
            .written
            .into_iter()
            .filter(|(k, w)| stored.get(k) != Some(&w.bytes))
            .collect();
        let replaced = changes
            .iter()
            .filter(|(k, _)| stored.contains_key(k))
            .map(|(k, _)| k.clone())
            .collect();
        (changes, replaced)
    }
}

/// The quarantined records this batch keeps and clears (`sled_import::Writes` again).
#[derive(Default)]
struct Quarantines {
    /// Ids stored before the batch, among those it keeps.
    stored: HashSet<String>,
    written: HashMap<String, Quarantined>,
    cleared: HashSet<String>,
}

impl Quarantines {
    fn keep(&mut self, id: String, record: Quarantined, counts: &mut Counts) {
        if self.cleared.remove(&id) || (!self.written.contains_key(&id) && !self.stored.contains(&id)) {
            counts.quarantined += 1;
        }
        self.written.insert(id, record);
    }

    fn clear(&mut self, id: String, counts: &mut Counts) {
        if self.written.contains_key(&id) || self.cleared.contains(&id) {
            return;
        }
        counts.quarantined = counts.quarantined.saturating_sub(1);
        self.cleared.insert(id);
    }
}

/// `SELECT {key}, record FROM {table}` for the given keys, as a map.
async fn stored(
    tx: &impl GenericClient,
    sql: &str,
    shop: &ShopId,
    keys: &[String],
) -> Result<HashMap<String, Vec<u8>>, StoreError> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let stmt = tx.prepare_cached(sql).await.pg()?;
    let rows = tx.query(&stmt, &[&shop.as_str(), &keys]).await.pg()?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, Vec<u8>>(1)))
        .collect())
}

fn status(p: &Product) -> &'static str {
    match p.status {
        ProductStatus::Active => "active",
        ProductStatus::Inactive => "inactive",
    }
}

fn kind_of(name: &str) -> Option<RecordKind> {
    [RecordKind::Product, RecordKind::Order]
        .into_iter()
        .find(|k| k.as_str() == name)
}

/// Applies the batch's operations in order inside `tx`, which the caller commits.
pub(crate) async fn apply(
    tx: &impl GenericClient,
    shop: &ShopId,
    ops: Vec<BatchOp>,
) -> Result<Applied, StoreError> {
    let before = lock_counts(tx, shop).await?;
    let mut counts = before;

    // The keys the batch touches, and what is stored under them.
    let (mut product_ids, mut refs, mut invoices, mut quarantine_ids, mut subjects) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for op in &ops {
        match op {
            BatchOp::UpsertProduct(p) => {
                product_ids.push(owned(p.id.as_str()));
                if let Some(mid) = &p.marketplace_id {
                    refs.push(owned(mid));
                }
                subjects.extend(
                    [Some(p.id.as_str()), p.sku.as_deref(), p.marketplace_id.as_deref()]
                        .into_iter()
                        .flatten()
                        .map(owned),
                );
            }
            BatchOp::UpsertOrder(o) => {
                invoices.push(owned(&o.invoice));
                subjects.push(owned(&o.invoice));
            }
            BatchOp::Quarantine(q) => quarantine_ids.push(quarantine_id(q)),
            BatchOp::MapMarketplaceId { marketplace_id, .. } => refs.push(owned(marketplace_id)),
            _ => {}
        }
    }
    // The reads are independent: sent together, they cost one round trip (tokio-postgres
    // pipelines the statements of futures polled at once on one connection).
    let (stored_products, stored_refs, stored_orders, stored_quarantines) = tokio::try_join!(
        stored(
            tx,
            "SELECT id, record FROM products WHERE shop = $1 AND id = ANY($2)",
            shop,
            &product_ids,
        ),
        stored(
            tx,
            "SELECT marketplace_id, convert_to(product, 'UTF8') FROM product_refs
             WHERE shop = $1 AND marketplace_id = ANY($2)",
            shop,
            &refs,
        ),
        stored(
            tx,
            "SELECT invoice, record FROM orders WHERE shop = $1 AND invoice = ANY($2)",
            shop,
            &invoices,
        ),
        stored(
            tx,
            "SELECT id, ''::bytea FROM quarantined WHERE shop = $1 AND id = ANY($2)",
            shop,
            &quarantine_ids,
        ),
    )?;
    let mut products: Upserts<Product> = Upserts::new(stored_products);
    let mut product_refs: Upserts<String> = Upserts::new(stored_refs);
    let mut orders: Upserts<Order> = Upserts::new(stored_orders);
    let mut quarantines = Quarantines::default();
    quarantines.stored.extend(stored_quarantines.into_keys());
    // Quarantined records that name a record this batch writes, by kind and subject.
    let mut stale: HashMap<(RecordKind, String), Vec<String>> = HashMap::new();
    if !subjects.is_empty() && before.quarantined > 0 {
        let stmt = tx
            .prepare_cached("SELECT id, kind, subject FROM quarantined WHERE shop = $1 AND subject = ANY($2)")
            .await
            .pg()?;
        for row in tx.query(&stmt, &[&shop.as_str(), &subjects]).await.pg()? {
            if let Some(kind) = kind_of(row.get(1)) {
                stale.entry((kind, row.get(2))).or_default().push(row.get(0));
            }
        }
    }

    let mut applied = Applied::default();
    let mut changed = false;
    // Cursors and markers by name: `None` removes.
    let mut states: Vec<(String, Option<Vec<u8>>)> = Vec::new();
    let mut set_state = |name: String, value: Option<Vec<u8>>| {
        states.retain(|(n, _)| *n != name);
        states.push((name, value));
    };
    for op in ops {
        match op {
            BatchOp::UpsertProduct(product) => {
                for subject in [
                    Some(product.id.as_str()),
                    product.sku.as_deref(),
                    product.marketplace_id.as_deref(),
                ]
                .into_iter()
                .flatten()
                {
                    for id in stale
                        .remove(&(RecordKind::Product, owned(subject)))
                        .unwrap_or_default()
                    {
                        quarantines.clear(id, &mut counts);
                    }
                }
                if let Some(mid) = &product.marketplace_id {
                    let id = owned(product.id.as_str());
                    let bytes = id.as_bytes().to_vec();
                    product_refs.upsert(owned(mid), id, bytes, None, &mut counts);
                }
                let share = (
                    Share::of_product(&product),
                    Share::of_stored_product as StoredShare,
                );
                let bytes = codec::encode(&product);
                let key = owned(product.id.as_str());
                let c = products.upsert(key, product, bytes, Some(share), &mut counts);
                changed |= c.inserted + c.updated > 0;
                applied.products.add(&c);
            }
            BatchOp::UpsertOrder(order) => {
                for id in stale
                    .remove(&(RecordKind::Order, owned(&order.invoice)))
                    .unwrap_or_default()
                {
                    quarantines.clear(id, &mut counts);
                }
                let share = (Share::of_order(&order), Share::of_stored_order as StoredShare);
                let bytes = codec::encode(&order);
                let key = owned(&order.invoice);
                let c = orders.upsert(key, order, bytes, Some(share), &mut counts);
                changed |= c.inserted + c.updated > 0;
                applied.orders.add(&c);
            }
            BatchOp::Quarantine(record) => {
                quarantines.keep(quarantine_id(&record), record, &mut counts);
                applied.quarantined += 1;
            }
            BatchOp::Cursor(SyncCursor::Products { source, cursor }) => {
                set_state(state::product_cursor(source), Some(codec::encode(&cursor)))
            }
            BatchOp::Cursor(SyncCursor::Orders { source, cursor }) => {
                set_state(state::order_cursor(source), Some(codec::encode(&cursor)))
            }
            BatchOp::MapMarketplaceId {
                marketplace_id,
                product,
            } => {
                let id = owned(product.as_str());
                let bytes = id.as_bytes().to_vec();
                product_refs.upsert(owned(&marketplace_id), id, bytes, None, &mut counts);
            }
            BatchOp::MarkRun(marker) => set_state(state::RUN.into(), Some(codec::encode(&marker))),
            BatchOp::EndRun => set_state(state::RUN.into(), None),
            #[cfg(test)]
            BatchOp::FailForTest(reason) => return Err(StoreError::backend(std::io::Error::other(reason))),
        }
    }

    // The writes touch different tables (an order's lines follow their order inside
    // `write_orders`): sent together too. A failure rolls the whole transaction back.
    let (order_changes, replaced_orders) = orders.changes_and_replaced();
    let generation = async {
        if changed {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO shop_models (shop, data_generation) VALUES ($1, nextval('laris_generation'))
                     ON CONFLICT (shop) DO UPDATE SET data_generation = EXCLUDED.data_generation",
                )
                .await
                .pg()?;
            tx.execute(&stmt, &[&shop.as_str()]).await.pg()?;
        }
        Ok::<_, StoreError>(())
    };
    let counted = async {
        if counts != before {
            write_counts(tx, shop, &counts).await?;
        }
        Ok::<_, StoreError>(())
    };
    tokio::try_join!(
        write_products(tx, shop, products.changes()),
        write_refs(tx, shop, product_refs.changes()),
        write_orders(tx, shop, order_changes, &replaced_orders),
        write_quarantines(tx, shop, quarantines),
        write_states(tx, shop, states),
        generation,
        counted,
    )?;
    Ok(applied)
}

async fn execute(
    tx: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let stmt = tx.prepare_cached(sql).await.pg()?;
    tx.execute(&stmt, params).await.pg()
}

async fn write_products(
    tx: &impl GenericClient,
    shop: &ShopId,
    rows: Vec<(String, Written<Product>)>,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows: Vec<Written<Product>> = rows.into_iter().map(|(_, w)| w).collect();
    let ids: Vec<String> = rows.iter().map(|w| owned(w.value.id.as_str())).collect();
    let mids: Vec<Option<String>> = rows
        .iter()
        .map(|w| w.value.marketplace_id.as_deref().map(owned))
        .collect();
    let skus: Vec<Option<String>> = rows.iter().map(|w| w.value.sku.as_deref().map(owned)).collect();
    let names: Vec<String> = rows.iter().map(|w| owned(&w.value.name)).collect();
    let prices: Vec<i64> = rows.iter().map(|w| w.value.price.0).collect();
    let stocks: Vec<Option<i64>> = rows.iter().map(|w| w.value.stock).collect();
    let statuses: Vec<&str> = rows.iter().map(|w| status(&w.value)).collect();
    let updated: Vec<DateTime<Utc>> = rows.iter().map(|w| w.value.updated_at).collect();
    let records: Vec<&[u8]> = rows.iter().map(|w| w.bytes.as_slice()).collect();
    execute(
        tx,
        "INSERT INTO products (shop, id, marketplace_id, sku, name, price, stock, status, updated_at, record)
         SELECT $1::text, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::int8[],
             $7::int8[], $8::text[], $9::timestamptz[], $10::bytea[])
         ON CONFLICT (shop, id) DO UPDATE SET marketplace_id = EXCLUDED.marketplace_id,
             sku = EXCLUDED.sku, name = EXCLUDED.name, price = EXCLUDED.price, stock = EXCLUDED.stock,
             status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, record = EXCLUDED.record",
        &[
            &shop.as_str(),
            &ids,
            &mids,
            &skus,
            &names,
            &prices,
            &stocks,
            &statuses,
            &updated,
            &records,
        ],
    )
    .await?;
    Ok(())
}

async fn write_refs(
    tx: &impl GenericClient,
    shop: &ShopId,
    rows: Vec<(String, Written<String>)>,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mids: Vec<&String> = rows.iter().map(|(mid, _)| mid).collect();
    let products: Vec<String> = rows.iter().map(|(_, w)| owned(&w.value)).collect();
    execute(
        tx,
        "INSERT INTO product_refs (shop, marketplace_id, product)
         SELECT $1::text, * FROM UNNEST($2::text[], $3::text[])
         ON CONFLICT (shop, marketplace_id) DO UPDATE SET product = EXCLUDED.product",
        &[&shop.as_str(), &mids, &products],
    )
    .await?;
    Ok(())
}

/// Writes the orders and their lines; `replaced` are the invoices among them that were
/// stored before, whose old lines go first (a new order has none: a line's order must
/// exist), so a page of new orders, as in a first sync, deletes nothing.
async fn write_orders(
    tx: &impl GenericClient,
    shop: &ShopId,
    rows: Vec<(String, Written<Order>)>,
    replaced: &[String],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows: Vec<Written<Order>> = rows.into_iter().map(|(_, w)| w).collect();
    let orders: Vec<&Order> = rows.iter().map(|w| &w.value).collect();
    let invoices: Vec<String> = orders.iter().map(|o| owned(&o.invoice)).collect();
    let mids: Vec<Option<String>> = orders
        .iter()
        .map(|o| o.marketplace_id.as_deref().map(owned))
        .collect();
    let customers: Vec<String> = orders.iter().map(|o| owned(&o.customer.0)).collect();
    let statuses: Vec<i64> = orders.iter().map(|o| o.status.0).collect();
    let created: Vec<DateTime<Utc>> = orders.iter().map(|o| o.created_at).collect();
    let paid: Vec<DateTime<Utc>> = orders.iter().map(|o| o.paid_at).collect();
    let updated: Vec<DateTime<Utc>> = orders.iter().map(|o| o.updated_at).collect();
    let totals: Vec<i64> = orders.iter().map(|o| o.products_total.0).collect();
    let shipping: Vec<i64> = orders.iter().map(|o| o.shipping.0).collect();
    let records: Vec<&[u8]> = rows.iter().map(|w| w.bytes.as_slice()).collect();
    execute(
        tx,
        "INSERT INTO orders (shop, invoice, marketplace_id, customer, status, created_at, paid_at,
             updated_at, products_total, shipping, record)
         SELECT $1::text, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::int8[],
             $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::int8[], $10::int8[], $11::bytea[])
         ON CONFLICT (shop, invoice) DO UPDATE SET marketplace_id = EXCLUDED.marketplace_id,
             customer = EXCLUDED.customer, status = EXCLUDED.status, created_at = EXCLUDED.created_at,
             paid_at = EXCLUDED.paid_at, updated_at = EXCLUDED.updated_at,
             products_total = EXCLUDED.products_total, shipping = EXCLUDED.shipping,
             record = EXCLUDED.record",
        &[
            &shop.as_str(),
            &invoices,
            &mids,
            &customers,
            &statuses,
            &created,
            &paid,
            &updated,
            &totals,
            &shipping,
            &records,
        ],
    )
    .await?;
    if !replaced.is_empty() {
        execute(
            tx,
            "DELETE FROM order_lines WHERE shop = $1 AND invoice = ANY($2)",
            &[&shop.as_str(), &replaced],
        )
        .await?;
    }
    let (
        mut line_invoices,
        mut numbers,
        mut products,
        mut mpids,
        mut skus,
        mut names,
        mut quantities,
        mut prices,
    ) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for o in &orders {
        for (i, line) in o.lines.iter().enumerate() {
            line_invoices.push(owned(&o.invoice));
            numbers.push(i as i32);
            products.push(line.product.as_ref().map(|p| owned(p.as_str())));
            mpids.push(line.marketplace_product_id.as_deref().map(owned));
            skus.push(line.sku.as_deref().map(owned));
            names.push(owned(&line.name));
            quantities.push(i64::from(line.quantity));
            prices.push(line.unit_price.0);
        }
    }
    if !line_invoices.is_empty() {
        execute(
            tx,
            "INSERT INTO order_lines (shop, invoice, line, product, marketplace_product_id, sku, name,
                 quantity, unit_price)
             SELECT $1::text, * FROM UNNEST($2::text[], $3::int4[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::int8[], $9::int8[])",
            &[
                &shop.as_str(),
                &line_invoices,
                &numbers,
                &products,
                &mpids,
                &skus,
                &names,
                &quantities,
                &prices,
            ],
        )
        .await?;
    }
    Ok(())
}

async fn write_quarantines(tx: &impl GenericClient, shop: &ShopId, q: Quarantines) -> Result<(), StoreError> {
    if !q.cleared.is_empty() {
        let cleared: Vec<String> = q.cleared.into_iter().collect();
        execute(
            tx,
            "DELETE FROM quarantined WHERE shop = $1 AND id = ANY($2)",
            &[&shop.as_str(), &cleared],
        )
        .await?;
    }
    if q.written.is_empty() {
        return Ok(());
    }
    let (mut ids, mut kinds, mut subjects, mut origins, mut ats, mut records) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for (id, record) in q.written {
        ids.push(id);
        kinds.push(record.kind.as_str());
        subjects.push(record.subject().as_deref().map(owned));
        origins.push(owned(&record.origin));
        ats.push(record.at);
        records.push(codec::encode(&record));
    }
    execute(
        tx,
        "INSERT INTO quarantined (shop, id, kind, subject, origin, at, record)
         SELECT $1::text, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[],
             $6::timestamptz[], $7::bytea[])
         ON CONFLICT (shop, id) DO UPDATE SET kind = EXCLUDED.kind, subject = EXCLUDED.subject,
             origin = EXCLUDED.origin, at = EXCLUDED.at, record = EXCLUDED.record",
        &[&shop.as_str(), &ids, &kinds, &subjects, &origins, &ats, &records],
    )
    .await?;
    Ok(())
}

async fn write_states(
    tx: &impl GenericClient,
    shop: &ShopId,
    states: Vec<(String, Option<Vec<u8>>)>,
) -> Result<(), StoreError> {
    for (name, value) in states {
        match value {
            Some(bytes) => {
                put_state(tx, shop, &name, &bytes).await?;
            }
            None => {
                remove_state(tx, shop, &name).await?;
            }
        }
    }
    Ok(())
}

/// Sets a named state of the shop (a cursor, a marker).
pub(crate) async fn put_state(
    tx: &impl GenericClient,
    shop: &ShopId,
    name: &str,
    bytes: &[u8],
) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO shop_state (shop, name, value) VALUES ($1, $2, $3)
         ON CONFLICT (shop, name) DO UPDATE SET value = EXCLUDED.value",
        &[&shop.as_str(), &name, &bytes],
    )
    .await?;
    Ok(())
}

pub(crate) async fn remove_state(
    tx: &impl GenericClient,
    shop: &ShopId,
    name: &str,
) -> Result<(), StoreError> {
    execute(
        tx,
        "DELETE FROM shop_state WHERE shop = $1 AND name = $2",
        &[&shop.as_str(), &name],
    )
    .await?;
    Ok(())
}
