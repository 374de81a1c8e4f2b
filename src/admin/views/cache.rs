//! [`OverviewCache`]: overviews already computed, so that opening the dashboard again reads
//! no orders. An overview depends on the shop's orders, its query and (for a shop without
//! orders) today's date; the store's data generation moves on with every change to a
//! product or an order, so an entry computed at the current generation is still right.
//! Bounded: per shop at most [`OVERVIEWS_KEPT`] queries, the least recently asked one
//! going first, and every entry of a shop goes when its generation moves on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::{NaiveDate, Utc};

use crate::admin::analytics::{local_date, Overview};
use crate::admin::views::queries::{OverviewQuery, PageError};
use crate::admin::views::sales::overview_on;
use crate::config::ShopSettings;
use crate::domain::ShopId;
use crate::store::ShopStore;

/// Queries kept per shop: the dashboard's periods with their default and a few chosen
/// ranges.
pub const OVERVIEWS_KEPT: usize = 16;

#[derive(Default)]
pub struct OverviewCache {
    shops: Mutex<HashMap<ShopId, ShopEntries>>,
    /// Overviews computed from the orders (every miss), for tests and logs.
    computed: AtomicU64,
}

struct ShopEntries {
    generation: Option<u64>,
    /// Least recently asked first.
    entries: Vec<Entry>,
}

struct Entry {
    query: OverviewQuery,
    today: NaiveDate,
    /// A refusal of the query is kept too: finding it needed the orders as well.
    answer: Result<Overview, String>,
}

impl OverviewCache {
    /// The shop's overview for `q`: the kept one when the shop's data has not changed
    /// since it was computed, else computed from the orders (and kept).
    pub fn overview(
        &self,
        store: &dyn ShopStore,
        shop: &ShopSettings,
        q: &OverviewQuery,
    ) -> Result<Overview, PageError> {
        // Read before the orders: a write meanwhile moves it on, and the next request
        // computes again.
        let generation = store.data_generation(&shop.id)?;
        let today = local_date(Utc::now(), shop.timezone.offset_seconds);
        if let Some(answer) = self.kept(&shop.id, generation, q, today) {
            return answer.map_err(PageError::BadQuery);
        }
        self.computed.fetch_add(1, Ordering::Relaxed);
        let result = overview_on(store, shop, q, today);
        let answer = match &result {
            Ok(o) => Ok(o.clone()),
            Err(PageError::BadQuery(message)) => Err(message.clone()),
            Err(_) => return result,
        };
        self.keep(&shop.id, generation, q.clone(), today, answer);
        result
    }

    /// How many overviews were computed from the orders since the service started.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// Queries kept for the shop.
    pub fn kept_for(&self, shop: &ShopId) -> usize {
        self.lock().get(shop).map_or(0, |s| s.entries.len())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ShopId, ShopEntries>> {
        self.shops.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn kept(
        &self,
        shop: &ShopId,
        generation: Option<u64>,
        q: &OverviewQuery,
        today: NaiveDate,
    ) -> Option<Result<Overview, String>> {
        let mut shops = self.lock();
        let entries = shops.get_mut(shop).filter(|s| s.generation == generation)?;
        let i = entries
            .entries
            .iter()
            .position(|e| &e.query == q && e.today == today)?;
        let entry = entries.entries.remove(i);
        let answer = entry.answer.clone();
        entries.entries.push(entry);
        Some(answer)
    }

    fn keep(
        &self,
        shop: &ShopId,
        generation: Option<u64>,
        query: OverviewQuery,
        today: NaiveDate,
        answer: Result<Overview, String>,
    ) {
        let mut shops = self.lock();
        let entries = shops.entry(shop.clone()).or_insert_with(|| ShopEntries {
            generation,
            entries: Vec::new(),
        });
        if entries.generation != generation {
            entries.generation = generation;
            entries.entries.clear();
        }
        entries.entries.retain(|e| e.query != query);
        if entries.entries.len() >= OVERVIEWS_KEPT {
            entries.entries.remove(0);
        }
        entries.entries.push(Entry { query, today, answer });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::views::queries::Query;
    use crate::config::Settings;
    use crate::store::contract::order;
    use crate::store::ImportBatch;
    use crate::store::Store;

    fn query(raw: &[(&str, &str)]) -> OverviewQuery {
        let q: Query = raw.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        OverviewQuery::parse(&q).unwrap()
    }

    #[test]
    fn a_repeated_overview_reads_no_orders_until_the_data_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let settings = Settings::from_toml(
            "[[shops]]\nid = \"toko\"\ntimezone = \"Asia/Jakarta\"\n",
            std::path::Path::new("t.toml"),
            &[],
        )
        .unwrap();
        let shop = &settings.shops[0];
        let mut batch = ImportBatch::new(&shop.id);
        batch.upsert_order(order("INV/1", "A-1", 1));
        store.apply(batch).unwrap();

        let cache = OverviewCache::default();
        let q = query(&[("period", "month")]);
        let first = cache.overview(&store, shop, &q).unwrap();
        assert_eq!(first.totals.orders, 1);
        assert_eq!(cache.overview(&store, shop, &q).unwrap(), first);
        assert_eq!(cache.computed(), 1, "the second answer was the kept one");

        // A refused query is kept as well, with its message (the range's end is the last
        // order's day, so telling needs the orders).
        let backwards = query(&[("from", "2030-01-02")]);
        for _ in 0..2 {
            let err = cache.overview(&store, shop, &backwards).unwrap_err();
            assert!(err.to_string().contains("from=2030-01-02 is after"), "{err}");
        }
        assert_eq!(cache.computed(), 2);

        // A new order moves the generation on: the next answer counts it.
        let mut batch = ImportBatch::new(&shop.id);
        batch.upsert_order(order("INV/2", "A-1", 2));
        store.apply(batch).unwrap();
        let after = cache.overview(&store, shop, &q).unwrap();
        assert_eq!(after.totals.orders, 2);
        assert_eq!(after, overview_on(&store, shop, &q, today(shop)).unwrap());
        assert_eq!(cache.computed(), 3);
        assert_eq!(cache.kept_for(&shop.id), 1, "the older generation's entries went");
    }

    fn today(shop: &ShopSettings) -> NaiveDate {
        local_date(Utc::now(), shop.timezone.offset_seconds)
    }

    #[test]
    fn at_most_a_few_queries_are_kept_per_shop_the_least_recent_going_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let settings =
            Settings::from_toml("[[shops]]\nid = \"toko\"\n", std::path::Path::new("t.toml"), &[]).unwrap();
        let shop = &settings.shops[0];
        let cache = OverviewCache::default();
        let day = |d: usize| query(&[("from", &format!("2026-01-{:02}", d + 1)), ("to", "2026-02-01")]);
        for d in 0..OVERVIEWS_KEPT {
            cache.overview(&store, shop, &day(d)).unwrap();
        }
        // Asking the first again makes it the most recent; one more query then pushes out
        // the second.
        cache.overview(&store, shop, &day(0)).unwrap();
        cache.overview(&store, shop, &day(OVERVIEWS_KEPT)).unwrap();
        assert_eq!(cache.kept_for(&shop.id), OVERVIEWS_KEPT);
        let computed = cache.computed();
        cache.overview(&store, shop, &day(0)).unwrap();
        assert_eq!(cache.computed(), computed, "kept");
        cache.overview(&store, shop, &day(1)).unwrap();
        assert_eq!(cache.computed(), computed + 1, "pushed out, computed again");
    }
}
