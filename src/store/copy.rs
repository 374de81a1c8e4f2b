//! Moving a whole store to another one, whatever the two backends (`laris store copy`):
//! [`copy_all`] copies every shop's records through the [`ShopStore`] trait, in pages of
//! [`PAGE`] records per write, then compares the two stores shop by shop with
//! [`content_fingerprint`] and says whether they hold the same content or exactly what
//! differs.
//!
//! The fingerprint hashes decoded records in a canonical order and encoding (SHA-256 over
//! length-prefixed JSON), never a backend's bytes or keys, so that a sled store and a
//! PostgreSQL store holding the same content have the same fingerprint. What a backend
//! makes up by itself is left out: feedback and settings-change ids (the target hands out
//! its own, in the same order) and data generations (compared as "is the model stale").
//!
//! A target that already holds anything of a shop being copied is refused before anything
//! is written: a copy never merges into, or overwrites, a shop.

use sha2::{Digest, Sha256};

use crate::domain::ShopId;
use crate::records::{Feedback, SettingsChange, SyncCursor};
use crate::store::{Counts, ImportBatch, ShopStore, Snapshot, StoreError};

/// Records per write: a page of products, orders, quarantined records or events is one
/// atomic write, so a shop of a million orders is a thousand writes, none of them huge.
pub const PAGE: usize = 1_000;

/// How far the copy of a shop got, reported after every page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyProgress<'a> {
    pub shop: &'a ShopId,
    /// What is being copied: "products", "orders", "events", ….
    pub what: &'static str,
    pub copied: u64,
    pub total: u64,
}

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target store already holds data of {}: nothing was written. A copy never merges into an existing shop: copy into an empty store (a new directory, or a new database), or remove {} from the target first", list(.shops), if .shops.len() == 1 { "that shop" } else { "those shops" })]
    TargetNotEmpty { shops: Vec<ShopId> },
    #[error("the source store holds no shop: nothing to copy (is it the right store?)")]
    EmptySource,
    #[error("reading the source store: {0}")]
    Source(#[source] StoreError),
    #[error("reading the target store: {0}")]
    Target(#[source] StoreError),
    #[error("copying shop {shop}'s {what}: {source}")]
    Write {
        shop: ShopId,
        what: &'static str,
        #[source]
        source: StoreError,
    },
}

fn list(shops: &[ShopId]) -> String {
    let names: Vec<&str> = shops.iter().map(|s| s.as_str()).collect();
    format!(
        "shop{} {}",
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

/// One part of a shop's content: how many records, and the digest of their canonical
/// encoding in canonical order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: &'static str,
    pub count: u64,
    pub digest: [u8; 32],
}

/// A shop's content as [`content_fingerprint`] sums it up: the counts the store keeps,
/// each part's count and digest, and one fingerprint over all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopContent {
    pub counts: Counts,
    pub sections: Vec<Section>,
    pub fingerprint: [u8; 32],
}

impl ShopContent {
    /// The fingerprint in hex.
    pub fn fingerprint_hex(&self) -> String {
        hex::encode(self.fingerprint)
    }
}

/// Hashes one section: each record's canonical encoding, length-prefixed, in order.
struct SectionHasher {
    name: &'static str,
    count: u64,
    hash: Sha256,
}

impl SectionHasher {
    fn new(name: &'static str) -> SectionHasher {
        SectionHasher {
            name,
            count: 0,
            hash: Sha256::new(),
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.count += 1;
        self.hash.update((bytes.len() as u64).to_be_bytes());
        self.hash.update(bytes);
    }

    fn record<T: serde::Serialize>(&mut self, record: &T) {
        let encoded = serde_json::to_vec(record).expect("records serialise to JSON");
        self.bytes(&encoded);
    }

    fn done(self) -> Section {
        Section {
            name: self.name,
            count: self.count,
            digest: self.hash.finalize().into(),
        }
    }
}

fn section<T: serde::Serialize>(name: &'static str, records: &[T]) -> Section {
    let mut h = SectionHasher::new(name);
    for r in records {
        h.record(r);
    }
    h.done()
}

/// A cursor as the fingerprint encodes it (the record type has no serde of its own).
fn cursor_value(cursor: &SyncCursor) -> serde_json::Value {
    match cursor {
        SyncCursor::Products { source, cursor } => {
            serde_json::json!({"products": source, "cursor": cursor})
        }
        SyncCursor::Orders { source, cursor } => {
            serde_json::json!({"orders": source, "cursor": cursor})
        }
    }
}

/// What the shop holds, summed up independently of the backend: equal for two stores
/// exactly when they hold the same content. Sections, in this order: products (by id),
/// marketplace ids (by marketplace id), orders (by invoice), customers (by id),
/// quarantined records (by their encoding), cursors, run marker, seeding mark, sources'
/// credentials (by name), sync
/// reports (newest first), model (the snapshot's bytes and whether it is stale), feedback
/// (newest first, without ids), events (oldest first), follow-up messages (oldest first),
/// opt-outs (by customer), settings overlay, settings changes (newest first, without ids).
pub fn content_fingerprint(store: &dyn ShopStore, shop: &ShopId) -> Result<ShopContent, StoreError> {
    let mut sections = vec![
        section("products", &store.products(shop)?),
        section("marketplace ids", &store.marketplace_ids(shop)?),
        section("orders", &store.orders(shop)?),
    ];
    let mut customers = store.customers(shop)?;
    customers.sort_by(|a, b| a.id.0.cmp(&b.id.0));
    sections.push(section("customers", &customers));
    let mut quarantined: Vec<Vec<u8>> = store
        .quarantined(shop)?
        .iter()
        .map(|q| serde_json::to_vec(q).expect("records serialise to JSON"))
        .collect();
    quarantined.sort();
    let mut h = SectionHasher::new("quarantined");
    for q in &quarantined {
        h.bytes(q);
    }
    sections.push(h.done());
    let cursors: Vec<serde_json::Value> = store.cursors(shop)?.iter().map(cursor_value).collect();
    sections.push(section("cursors", &cursors));
    let run: Vec<_> = store.interrupted_run(shop)?.into_iter().collect();
    sections.push(section("run marker", &run));
    let seeding: Vec<_> = store.seeding(shop)?.into_iter().collect();
    sections.push(section("seeding", &seeding));
    sections.push(section("credentials", &store.credentials(shop)?));
    sections.push(section("sync reports", &store.sync_reports(shop, usize::MAX)?));
    let mut h = SectionHasher::new("model");
    if let Some(snapshot) = store.model_snapshot(shop)? {
        h.bytes(&snapshot.bytes);
        h.hash.update([u8::from(store.model_stale(shop)?)]);
    }
    sections.push(h.done());
    let feedback: Vec<Feedback> = store
        .feedback(shop)?
        .into_iter()
        .map(|f| Feedback { id: 0, ..f })
        .collect();
    sections.push(section("feedback", &feedback));
    sections.push(section("events", &store.events(shop)?));
    sections.push(section("messages", &store.messages(shop)?));
    sections.push(section("opt-outs", &store.opt_outs(shop)?));
    let mut h = SectionHasher::new("settings overlay");
    if let Some(overlay) = store.settings_overlay(shop)? {
        h.bytes(&overlay);
    }
    sections.push(h.done());
    let changes: Vec<SettingsChange> = store
        .settings_changes(shop, usize::MAX)?
        .into_iter()
        .map(|c| SettingsChange { id: 0, ..c })
        .collect();
    sections.push(section("settings changes", &changes));

    let counts = store.counts(shop)?;
    let mut all = Sha256::new();
    all.update(serde_json::to_vec(&counts).expect("counts serialise"));
    for s in &sections {
        all.update(s.name.as_bytes());
        all.update(s.count.to_be_bytes());
        all.update(s.digest);
    }
    Ok(ShopContent {
        counts,
        sections,
        fingerprint: all.finalize().into(),
    })
}

/// A shop's content in the source and in the target after the copy.
#[derive(Debug, Clone)]
pub struct ShopComparison {
    pub shop: ShopId,
    pub source: ShopContent,
    pub target: ShopContent,
}

impl ShopComparison {
    pub fn equal(&self) -> bool {
        self.source == self.target
    }

    /// What differs, one line each: a count that differs names both values, a part with
    /// the same count and different content says so. Empty when equal.
    pub fn differences(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (a, b) = (&self.source.counts, &self.target.counts);
        for (name, x, y) in [
            ("products", a.products, b.products),
            ("active products", a.active_products, b.active_products),
            ("orders", a.orders, b.orders),
            ("paid orders", a.paid_orders, b.paid_orders),
            ("customers", a.customers, b.customers),
            ("quarantined", a.quarantined, b.quarantined),
            ("events", a.events, b.events),
            ("feedback", a.feedback, b.feedback),
        ] {
            if x != y {
                out.push(format!("count of {name}: {x} in the source, {y} in the target"));
            }
        }
        for (s, t) in self.source.sections.iter().zip(&self.target.sections) {
            if s.count != t.count {
                out.push(format!(
                    "{}: {} in the source, {} in the target",
                    s.name, s.count, t.count
                ));
            } else if s.digest != t.digest {
                out.push(format!(
                    "{}: the same number ({}), different content",
                    s.name, s.count
                ));
            }
        }
        if out.is_empty() && !self.equal() {
            out.push("the fingerprints differ".into());
        }
        out
    }

    /// One line for people: the shop, "equal" with its figures, or what differs.
    pub fn to_text(&self) -> String {
        if self.equal() {
            let c = &self.target.counts;
            format!(
                "{}: equal — {} products, {} orders, {} customers, {} quarantined, {} events, {} feedback; fingerprint {}",
                self.shop,
                c.products,
                c.orders,
                c.customers,
                c.quarantined,
                c.events,
                c.feedback,
                &self.target.fingerprint_hex()[..16]
            )
        } else {
            format!("{}: DIFFERS — {}", self.shop, self.differences().join("; "))
        }
    }
}

/// What a copy did: every shop copied, compared.
#[derive(Debug, Clone)]
pub struct CopyReport {
    pub shops: Vec<ShopComparison>,
}

impl CopyReport {
    /// Whether every shop's content is the same in the target as in the source.
    pub fn equal(&self) -> bool {
        self.shops.iter().all(ShopComparison::equal)
    }

    /// Compares the shops again (after the target was used or changed, say).
    pub fn compare(
        from: &dyn ShopStore,
        to: &dyn ShopStore,
        shops: &[ShopId],
    ) -> Result<CopyReport, CopyError> {
        let mut out = Vec::new();
        for shop in shops {
            let source = content_fingerprint(from, shop).map_err(CopyError::Source)?;
            let target = content_fingerprint(to, shop).map_err(CopyError::Target)?;
            out.push(ShopComparison {
                shop: shop.clone(),
                source,
                target,
            });
        }
        Ok(CopyReport { shops: out })
    }
}

/// Copies every shop of `from` into `to`, then compares them (see the module doc).
/// `progress` hears after every page. Refuses, writing nothing, when `to` holds anything
/// of a shop `from` holds; shops of `to` that `from` has not are left alone.
pub fn copy_all(
    from: &dyn ShopStore,
    to: &dyn ShopStore,
    progress: &mut dyn FnMut(&CopyProgress),
) -> Result<CopyReport, CopyError> {
    let shops = from.shops().map_err(CopyError::Source)?;
    if shops.is_empty() {
        return Err(CopyError::EmptySource);
    }
    let held = to.shops().map_err(CopyError::Target)?;
    let clash: Vec<ShopId> = shops.iter().filter(|s| held.contains(s)).cloned().collect();
    if !clash.is_empty() {
        return Err(CopyError::TargetNotEmpty { shops: clash });
    }
    for shop in &shops {
        copy_shop(from, to, shop, progress)?;
    }
    to.flush_blocking().map_err(|source| CopyError::Write {
        shop: shops[shops.len() - 1].clone(),
        what: "last writes (flush)",
        source,
    })?;
    CopyReport::compare(from, to, &shops)
}

/// Copies one shop. The order matters: products and orders first (each page moves the
/// target's data generation), then what an upsert would clear or replace (quarantined
/// records, the marketplace-id map), reports before the run marker (a report removes
/// it), and the model last, stamped with the target's data generation so that it is as
/// fresh (or as stale) there as it was in the source.
fn copy_shop(
    from: &dyn ShopStore,
    to: &dyn ShopStore,
    shop: &ShopId,
    progress: &mut dyn FnMut(&CopyProgress),
) -> Result<(), CopyError> {
    let read = CopyError::Source;
    let fail = |what: &'static str| {
        move |source| CopyError::Write {
            shop: shop.clone(),
            what,
            source,
        }
    };

    let products = from.products(shop).map_err(read)?;
    in_pages(shop, progress, "products", products.len(), |range| {
        let mut batch = ImportBatch::new(shop);
        for p in &products[range] {
            batch.upsert_product(p.clone());
        }
        to.apply(batch).map(drop)
    })?;
    drop(products);

    let ids = from.marketplace_ids(shop).map_err(read)?;
    in_pages(shop, progress, "marketplace ids", ids.len(), |range| {
        let mut batch = ImportBatch::new(shop);
        for (marketplace_id, product) in &ids[range] {
            batch.map_marketplace_id(marketplace_id.clone(), product.clone());
        }
        to.apply(batch).map(drop)
    })?;

    let orders = from.orders(shop).map_err(read)?;
    in_pages(shop, progress, "orders", orders.len(), |range| {
        let mut batch = ImportBatch::new(shop);
        for o in &orders[range] {
            batch.upsert_order(o.clone());
        }
        to.apply(batch).map(drop)
    })?;
    drop(orders);

    let quarantined = from.quarantined(shop).map_err(read)?;
    in_pages(
        shop,
        progress,
        "quarantined records",
        quarantined.len(),
        |range| {
            let mut batch = ImportBatch::new(shop);
            for q in &quarantined[range] {
                batch.quarantine(q.clone());
            }
            to.apply(batch).map(drop)
        },
    )?;

    let cursors = from.cursors(shop).map_err(read)?;
    in_pages(shop, progress, "cursors", cursors.len(), |range| {
        let mut batch = ImportBatch::new(shop);
        for c in &cursors[range] {
            batch.set_cursor(c.clone());
        }
        to.apply(batch).map(drop)
    })?;

    let mut reports = from.sync_reports(shop, usize::MAX).map_err(read)?;
    reports.reverse();
    in_pages(shop, progress, "sync reports", reports.len(), |range| {
        for r in &reports[range] {
            to.put_sync_report(shop, r)?;
        }
        Ok(())
    })?;

    if let Some(marker) = from.interrupted_run(shop).map_err(read)? {
        let mut batch = ImportBatch::new(shop);
        batch.mark_run(marker);
        to.apply(batch).map_err(fail("run marker"))?;
    }
    if let Some(seeding) = from.seeding(shop).map_err(read)? {
        to.set_seeding(shop, seeding).map_err(fail("seeding mark"))?;
    }
    for (name, sealed) in from.credentials(shop).map_err(read)? {
        to.put_credentials(shop, &name, &sealed)
            .map_err(fail("source credentials"))?;
    }

    if let Some(snapshot) = from.model_snapshot(shop).map_err(read)? {
        let customers = from.customers(shop).map_err(read)?;
        // Fresh in the source: fresh in the target, whose data generation is its own. Stale
        // in the source: stale in the target too (rebuilt at its next start).
        let generation = if from.model_stale(shop).map_err(read)? {
            None
        } else {
            to.data_generation(shop).map_err(fail("model"))?
        };
        let snapshot = Snapshot {
            generation,
            bytes: snapshot.bytes,
        };
        to.put_rebuild(shop, &customers, &snapshot)
            .map_err(fail("customers and model"))?;
        progress(&CopyProgress {
            shop,
            what: "customers and model",
            copied: customers.len() as u64,
            total: customers.len() as u64,
        });
    }

    let mut feedback = from.feedback(shop).map_err(read)?;
    feedback.reverse();
    in_pages(shop, progress, "feedback", feedback.len(), |range| {
        for f in &feedback[range] {
            to.put_feedback(shop, &mut f.clone())?;
        }
        Ok(())
    })?;

    let events = from.events(shop).map_err(read)?;
    in_pages(shop, progress, "events", events.len(), |range| {
        to.append_events(shop, &events[range])
    })?;
    drop(events);

    let messages = from.messages(shop).map_err(read)?;
    in_pages(shop, progress, "messages", messages.len(), |range| {
        to.add_messages(shop, &messages[range]).map(|_| ())
    })?;
    let opt_outs = from.opt_outs(shop).map_err(read)?;
    in_pages(shop, progress, "opt-outs", opt_outs.len(), |range| {
        for o in &opt_outs[range] {
            to.put_opt_out(shop, o)?;
        }
        Ok(())
    })?;

    // The overlay is kept with each change; only the last one is stored, and it is what
    // every change leaves behind once the last is written.
    let mut changes = from.settings_changes(shop, usize::MAX).map_err(read)?;
    changes.reverse();
    if let Some(overlay) = from.settings_overlay(shop).map_err(read)? {
        in_pages(shop, progress, "settings changes", changes.len(), |range| {
            for c in &changes[range] {
                to.put_settings_change(shop, &overlay, &mut c.clone())?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Calls `write` with the ranges of `total` records, a page at a time, and tells
/// `progress` after each.
fn in_pages(
    shop: &ShopId,
    progress: &mut dyn FnMut(&CopyProgress),
    what: &'static str,
    total: usize,
    mut write: impl FnMut(std::ops::Range<usize>) -> Result<(), StoreError>,
) -> Result<(), CopyError> {
    let mut at = 0;
    while at < total {
        let end = (at + PAGE).min(total);
        write(at..end).map_err(|source| CopyError::Write {
            shop: shop.clone(),
            what,
            source,
        })?;
        at = end;
        progress(&CopyProgress {
            shop,
            what,
            copied: at as u64,
            total: total as u64,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Event, EventKind, FeedbackStatus, Seeding};
    use crate::store::contract::{fill, product};
    use crate::store::sled_backend::when_released;
    use crate::store::Store;
    use chrono::{DateTime, Utc};

    fn shop(id: &str) -> ShopId {
        ShopId::parse(id).unwrap()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    fn stores() -> (tempfile::TempDir, Store, tempfile::TempDir, Store) {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let from = when_released(|| Store::open(a.path()));
        let to = when_released(|| Store::open(b.path()));
        (a, from, b, to)
    }

    #[test]
    fn a_copy_holds_everything_of_every_shop_in_the_same_order_and_compares_equal() {
        let (_a, from, _b, to) = stores();
        let (toko, lain) = (shop("toko"), shop("lain"));
        fill(&from, &toko);
        from.append_event(
            &lain,
            &Event {
                kind: EventKind::Click,
                slot: None,
                product: None,
                item: None,
                at: None,
                customer: None,
                visitor: None,
                arm: None,
                order: None,
                total: None,
                items: Vec::new(),
            },
        )
        .unwrap();
        let mut heard = Vec::new();
        let report = copy_all(&from, &to, &mut |p| {
            heard.push((p.shop.clone(), p.what, p.copied))
        })
        .unwrap();
        assert!(
            report.equal(),
            "{:?}",
            report.shops.iter().map(|s| s.to_text()).collect::<Vec<_>>()
        );
        assert_eq!(report.shops.len(), 2);
        assert!(report.shops[1]
            .to_text()
            .starts_with("toko: equal — 1007 products, 1007 orders, 1 customers"));
        // Pages of at most PAGE records.
        assert!(heard.contains(&(toko.clone(), "orders", PAGE as u64)));
        assert!(heard.contains(&(toko.clone(), "orders", PAGE as u64 + 7)));

        assert_eq!(to.shops().unwrap(), [lain.clone(), toko.clone()]);
        assert_eq!(to.products(&toko).unwrap(), from.products(&toko).unwrap());
        assert_eq!(to.orders(&toko).unwrap(), from.orders(&toko).unwrap());
        assert_eq!(
            to.marketplace_ids(&toko).unwrap(),
            from.marketplace_ids(&toko).unwrap()
        );
        assert_eq!(
            to.product_for_marketplace_id(&toko, "m-P-0000")
                .unwrap()
                .unwrap()
                .as_str(),
            "P-0001"
        );
        assert_eq!(to.customers(&toko).unwrap(), from.customers(&toko).unwrap());
        assert_eq!(to.quarantined(&toko).unwrap(), from.quarantined(&toko).unwrap());
        assert_eq!(to.cursors(&toko).unwrap(), from.cursors(&toko).unwrap());
        assert_eq!(
            to.interrupted_run(&toko).unwrap(),
            from.interrupted_run(&toko).unwrap()
        );
        assert_eq!(to.seeding(&toko).unwrap(), Some(Seeding::Done));
        assert_eq!(
            to.sync_reports(&toko, 10).unwrap(),
            from.sync_reports(&toko, 10).unwrap()
        );
        assert_eq!(to.model_snapshot(&toko).unwrap().unwrap().bytes, b"model bytes");
        assert!(!to.model_stale(&toko).unwrap(), "the copied model is not stale");
        assert_eq!(
            to.model_generation(&toko).unwrap(),
            to.data_generation(&toko).unwrap()
        );
        let statuses: Vec<(String, FeedbackStatus)> = to
            .feedback(&toko)
            .unwrap()
            .into_iter()
            .map(|f| (f.message, f.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("ketiga".into(), FeedbackStatus::New),
                ("kedua".into(), FeedbackStatus::Answered),
                ("pertama".into(), FeedbackStatus::New)
            ]
        );
        assert_eq!(to.events(&toko).unwrap(), from.events(&toko).unwrap());
        assert_eq!(to.events(&lain).unwrap().len(), 1);
        assert_eq!(to.settings_overlay(&toko).unwrap().unwrap(), b"{\"b\":2}");
        let sections: Vec<String> = to
            .settings_changes(&toko, 10)
            .unwrap()
            .into_iter()
            .map(|c| c.section)
            .collect();
        assert_eq!(sections, ["offers", "pins"]);
        assert_eq!(to.counts(&toko).unwrap(), from.counts(&toko).unwrap());
        assert_eq!(
            to.counts(&toko).unwrap(),
            crate::store::recount(&to, &toko).unwrap()
        );
    }

    #[test]
    fn a_stale_model_stays_stale_in_the_copy() {
        let (_a, from, _b, to) = stores();
        let toko = shop("toko");
        let mut batch = ImportBatch::new(&toko);
        batch.upsert_product(product("A-1", 1000));
        from.apply(batch).unwrap();
        from.put_model_snapshot(
            &toko,
            &Snapshot {
                generation: Some(1),
                bytes: b"old".to_vec(),
            },
        )
        .unwrap();
        assert!(from.model_stale(&toko).unwrap());
        assert!(copy_all(&from, &to, &mut |_| {}).unwrap().equal());
        assert!(to.model_stale(&toko).unwrap());
    }

    #[test]
    fn a_target_holding_a_shop_being_copied_is_refused_and_nothing_is_written() {
        let (_a, from, _b, to) = stores();
        let (toko, lain) = (shop("toko"), shop("lain"));
        fill(&from, &toko);
        let mut batch = ImportBatch::new(&lain);
        batch.upsert_product(product("A-1", 1000));
        from.apply(batch).unwrap();
        // The target knows `toko` only by one feedback message.
        let mut f = Feedback {
            id: 0,
            at: at(0),
            message: "halo".into(),
            contact: None,
            page: None,
            product: None,
            status: FeedbackStatus::New,
        };
        to.put_feedback(&toko, &mut f).unwrap();
        let before = content_fingerprint(&to, &toko).unwrap();
        let err = copy_all(&from, &to, &mut |_| panic!("nothing is copied")).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, CopyError::TargetNotEmpty { .. }), "{msg}");
        assert!(
            msg.contains("shop toko:") && msg.contains("nothing was written") && msg.contains("empty store"),
            "{msg}"
        );
        assert_eq!(
            to.shops().unwrap(),
            std::slice::from_ref(&toko),
            "lain was not written either"
        );
        assert_eq!(content_fingerprint(&to, &toko).unwrap(), before);
    }

    #[test]
    fn a_changed_target_is_told_apart_naming_what_differs() {
        let (_a, from, _b, to) = stores();
        let toko = shop("toko");
        fill(&from, &toko);
        assert!(copy_all(&from, &to, &mut |_| {}).unwrap().equal());
        let shops = [toko.clone()];

        // One product's price changed: same counts, different content.
        let mut batch = ImportBatch::new(&toko);
        batch.upsert_product(product("P-0003", 5));
        to.apply(batch).unwrap();
        let report = CopyReport::compare(&from, &to, &shops).unwrap();
        assert!(!report.equal());
        let diff = report.shops[0].differences();
        assert!(
            diff.iter()
                .any(|d| d == "products: the same number (1007), different content"),
            "{diff:?}"
        );
        // The product change also made the model stale: named too.
        assert!(diff.iter().any(|d| d.starts_with("model:")), "{diff:?}");
        assert!(report.shops[0].to_text().starts_with("toko: DIFFERS — "));

        // One event more: the count names both numbers.
        let (_c, from2, _d, to2) = stores();
        fill(&from2, &toko);
        copy_all(&from2, &to2, &mut |_| {}).unwrap();
        let e = to2.events(&toko).unwrap()[0].clone();
        to2.append_event(&toko, &e).unwrap();
        let report = CopyReport::compare(&from2, &to2, &shops).unwrap();
        let diff = report.shops[0].differences();
        assert_eq!(
            diff,
            [
                "count of events: 1007 in the source, 1008 in the target",
                "events: 1007 in the source, 1008 in the target"
            ]
        );
        // A feedback status changed back in the target: same counts, content differs.
        let (_e, from3, _f, to3) = stores();
        fill(&from3, &toko);
        copy_all(&from3, &to3, &mut |_| {}).unwrap();
        let answered = to3.feedback(&toko).unwrap()[1].id;
        to3.set_feedback_status(&toko, answered, FeedbackStatus::Read)
            .unwrap();
        let diff = CopyReport::compare(&from3, &to3, &shops).unwrap().shops[0].differences();
        assert_eq!(diff, ["feedback: the same number (3), different content"]);
    }

    #[test]
    fn the_fingerprint_leaves_out_ids_and_generations_the_backend_made_up() {
        let (_a, one, _b, two) = stores();
        let toko = shop("toko");
        // Ids in the second store start later: other feedback ids, other generations.
        let mut batch = ImportBatch::new(&shop("lain"));
        batch.upsert_product(product("A-1", 1000));
        two.apply(batch).unwrap();
        for _ in 0..5 {
            two.append_event(
                &shop("lain"),
                &Event {
                    kind: EventKind::Click,
                    slot: None,
                    product: None,
                    item: None,
                    at: None,
                    customer: None,
                    visitor: None,
                    arm: None,
                    order: None,
                    total: None,
                    items: Vec::new(),
                },
            )
            .unwrap();
        }
        fill(&one, &toko);
        fill(&two, &toko);
        assert_ne!(
            one.feedback(&toko).unwrap()[0].id,
            two.feedback(&toko).unwrap()[0].id
        );
        assert_eq!(
            content_fingerprint(&one, &toko).unwrap(),
            content_fingerprint(&two, &toko).unwrap()
        );
        assert_ne!(
            content_fingerprint(&one, &toko).unwrap().fingerprint,
            content_fingerprint(&one, &shop("lain")).unwrap().fingerprint
        );
    }
}
