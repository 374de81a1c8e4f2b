//! What the files of the PostgreSQL backend share: text as PostgreSQL takes it, decoding a
//! stored record, and the shop's counts row that every counted write locks.

use std::borrow::Cow;

use deadpool_postgres::GenericClient;
use serde::de::DeserializeOwned;
use tokio_postgres::Row;

use crate::domain::ShopId;
use crate::store::postgres::options::Pg;
use crate::store::{codec, Counts, StoreError};

/// `s` as a text column holds it: PostgreSQL's text refuses NUL, which becomes U+FFFD (the
/// record's bytes keep the original). Keys go through this both when written and when
/// looked up, so they still match.
pub(crate) fn text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// [`text`], owned: for the arrays of a multi-row statement.
pub(crate) fn owned(s: &str) -> String {
    text(s).into_owned()
}

/// A stored record's bytes decoded; an error names it as `shop/kind/id`.
pub(crate) fn decode<T: DeserializeOwned>(
    shop: &ShopId,
    kind: &str,
    id: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    codec::decode(bytes).map_err(|reason| StoreError::Decode {
        key: format!("{shop}/{kind}/{id}"),
        reason,
    })
}

/// A row's `record` column (its last) decoded, named by its first column.
pub(crate) fn decode_row<T: DeserializeOwned>(shop: &ShopId, kind: &str, row: &Row) -> Result<T, StoreError> {
    let bytes: &[u8] = row.get("record");
    let id = row
        .try_get::<_, String>(0)
        .or_else(|_| row.try_get::<_, i64>(0).map(|n| n.to_string()))
        .unwrap_or_default();
    decode(shop, kind, &id, bytes)
}

/// The columns of `shop_counts` that hold [`Counts`], in its field order (events apart).
const COUNT_COLUMNS: &str =
    "products, active_products, orders, paid_orders, customers, quarantined, feedback";

fn counts_of(row: &Row) -> Counts {
    let n = |i: usize| row.get::<_, i64>(i).max(0) as u64;
    Counts {
        products: n(0),
        active_products: n(1),
        orders: n(2),
        paid_orders: n(3),
        customers: n(4),
        quarantined: n(5),
        feedback: n(6),
        events: 0,
    }
}

/// Locks the shop's counts row for the rest of the transaction (creating it when the shop
/// has none) and returns its counts: the shop's writers take turns from here to commit.
pub(crate) async fn lock_counts(tx: &impl GenericClient, shop: &ShopId) -> Result<Counts, StoreError> {
    let select = format!("SELECT {COUNT_COLUMNS} FROM shop_counts WHERE shop = $1 FOR UPDATE");
    let stmt = tx.prepare_cached(&select).await.pg()?;
    if let Some(row) = tx.query_opt(&stmt, &[&shop.as_str()]).await.pg()? {
        return Ok(counts_of(&row));
    }
    tx.execute(
        "INSERT INTO shop_counts (shop) VALUES ($1) ON CONFLICT (shop) DO NOTHING",
        &[&shop.as_str()],
    )
    .await
    .pg()?;
    let row = tx.query_one(&stmt, &[&shop.as_str()]).await.pg()?;
    Ok(counts_of(&row))
}

/// Writes the shop's counts (events apart) into its row, which the caller has locked.
pub(crate) async fn write_counts(
    tx: &impl GenericClient,
    shop: &ShopId,
    c: &Counts,
) -> Result<(), StoreError> {
    let n = |v: u64| v.min(i64::MAX as u64) as i64;
    let stmt = tx
        .prepare_cached(
            "UPDATE shop_counts SET products = $2, active_products = $3, orders = $4, paid_orders = $5,
                 customers = $6, quarantined = $7, feedback = $8
             WHERE shop = $1",
        )
        .await
        .pg()?;
    tx.execute(
        &stmt,
        &[
            &shop.as_str(),
            &n(c.products),
            &n(c.active_products),
            &n(c.orders),
            &n(c.paid_orders),
            &n(c.customers),
            &n(c.quarantined),
            &n(c.feedback),
        ],
    )
    .await
    .pg()?;
    Ok(())
}

/// The shop's counts, events included, as committed.
pub(crate) async fn read_counts(client: &impl GenericClient, shop: &ShopId) -> Result<Counts, StoreError> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COUNT_COLUMNS}, (SELECT events FROM event_counts WHERE shop = $1)
             FROM (SELECT $1::text AS shop) s LEFT JOIN shop_counts USING (shop)"
        ))
        .await
        .pg()?;
    let row = client.query_one(&stmt, &[&shop.as_str()]).await.pg()?;
    let n = |i: usize| row.get::<_, Option<i64>>(i).unwrap_or(0).max(0) as u64;
    Ok(Counts {
        products: n(0),
        active_products: n(1),
        orders: n(2),
        paid_orders: n(3),
        customers: n(4),
        quarantined: n(5),
        feedback: n(6),
        events: n(7),
    })
}
