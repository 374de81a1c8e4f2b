//! The record of each shop's holdout experiment over time: at every start, when the
//! shop's `[shops.experiment]` differs from the last one recorded, an entry is appended to
//! the shop's settings-change log (section `experiment`, user `config`, the settings
//! before and after as JSON), so the report can say when the experiment started, stopped or
//! changed, and the dashboard's settings page lists it beside the owner's own changes.

use chrono::{DateTime, Utc};

use crate::config::experiment::ExperimentSettings;
use crate::config::{overlay, Settings, ShopSettings};
use crate::domain::ShopId;
use crate::records::SettingsChange;
use crate::store::{ShopStore, StoreError};

pub use crate::experiment::runs::SECTION;

/// The experiment as the log keeps it: its settings as JSON, `null` for none.
fn as_json(e: Option<&ExperimentSettings>) -> String {
    serde_json::to_string(&e).expect("experiment settings serialise")
}

/// For people: what the change does.
fn summary(old: Option<&ExperimentSettings>, new: Option<&ExperimentSettings>) -> String {
    let (old, new) = (old.filter(|e| e.is_on()), new.filter(|e| e.is_on()));
    match (old, new) {
        (Some(o), None) => format!("experiment {:?} stopped", o.name),
        (None, None) => "experiment settings changed (no holdout)".to_string(),
        (None, Some(n)) => format!(
            "experiment {:?} started: {}% holdout, control sees {}",
            n.name,
            n.holdout_pct,
            n.control.as_str()
        ),
        (Some(_), Some(n)) => format!(
            "experiment {:?} changed: {}% holdout, control sees {}",
            n.name,
            n.holdout_pct,
            n.control.as_str()
        ),
    }
}

/// Appends an entry for `shop` when its experiment differs from the last one recorded;
/// returns whether it did. A shop that never had an experiment gets nothing.
pub fn record_shop(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let last = store
        .settings_changes(&shop.id, usize::MAX)?
        .into_iter()
        .find(|c| c.section == SECTION);
    let new = as_json(shop.experiment.as_ref());
    let old = match &last {
        Some(c) => c.new.clone(),
        None => as_json(None),
    };
    if old == new {
        return Ok(false);
    }
    let old_settings: Option<ExperimentSettings> = serde_json::from_str(&old).unwrap_or(None);
    let mut change = SettingsChange {
        id: 0,
        at: now,
        user: "config".into(),
        section: SECTION.into(),
        summary: summary(old_settings.as_ref(), shop.experiment.as_ref()),
        old,
        new,
    };
    append(store, &shop.id, &mut change)?;
    tracing::info!(shop = %shop.id, "{}", change.summary);
    Ok(true)
}

/// Records an experiment that ran from `started_at` to `stopped_at` (a seeded one): its
/// start and its stop, each unless the log already holds that entry.
pub fn record_run(
    store: &dyn ShopStore,
    shop: &ShopId,
    settings: &ExperimentSettings,
    started_at: DateTime<Utc>,
    stopped_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let log = store.settings_changes(shop, usize::MAX)?;
    let on = as_json(Some(settings));
    for (at, old, new, old_s, new_s) in [
        (started_at, as_json(None), on.clone(), None, Some(settings)),
        (stopped_at, on.clone(), as_json(None), Some(settings), None),
    ] {
        if log
            .iter()
            .any(|c| c.section == SECTION && c.at == at && c.new == new)
        {
            continue;
        }
        let mut change = SettingsChange {
            id: 0,
            at,
            user: "config".into(),
            section: SECTION.into(),
            summary: summary(old_s, new_s),
            old,
            new,
        };
        append(store, shop, &mut change)?;
    }
    Ok(())
}

/// Appends `change` to the log; the write also keeps the shop's settings overlay, so the
/// current one is written back unchanged in the same batch.
fn append(store: &dyn ShopStore, shop: &ShopId, change: &mut SettingsChange) -> Result<(), StoreError> {
    let overlay_bytes = match store.settings_overlay(shop)? {
        Some(bytes) => bytes,
        None => overlay::encode(&Default::default()),
    };
    store.put_settings_change(shop, &overlay_bytes, change)
}

/// [`record_shop`] for every shop of the config.
pub fn record_all(settings: &Settings, store: &dyn ShopStore, now: DateTime<Utc>) -> Result<(), StoreError> {
    for shop in &settings.shops {
        record_shop(store, shop, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop(experiment: &str) -> ShopSettings {
        let text = format!("[[shops]]\nid = \"toko\"\n{experiment}");
        Settings::from_toml(&text, std::path::Path::new("t.toml"), &[])
            .unwrap()
            .shops
            .remove(0)
    }

    #[test]
    fn starts_changes_and_stops_are_recorded_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        let t = |h: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, h, 0, 0).unwrap();
        // Never an experiment: nothing to record.
        assert!(!record_shop(&store, &shop(""), t(1)).unwrap());
        let on = shop("[shops.experiment]\nholdout_pct = 10\nname = \"q4\"\n");
        assert!(record_shop(&store, &on, t(2)).unwrap());
        // The same settings at the next start: nothing new.
        assert!(!record_shop(&store, &on, t(3)).unwrap());
        let wider = shop("[shops.experiment]\nholdout_pct = 20\nname = \"q4\"\ncontrol = \"best_sellers\"\n");
        assert!(record_shop(&store, &wider, t(4)).unwrap());
        assert!(record_shop(&store, &shop(""), t(5)).unwrap());
        let log: Vec<SettingsChange> = store
            .settings_changes(&crate::domain::ShopId::parse("toko").unwrap(), 10)
            .unwrap();
        let summaries: Vec<&str> = log.iter().rev().map(|c| c.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "experiment \"q4\" started: 10% holdout, control sees nothing",
                "experiment \"q4\" changed: 20% holdout, control sees best_sellers",
                "experiment \"q4\" stopped",
            ]
        );
        assert_eq!(log[0].at, t(5));
        assert_eq!(log[0].new, "null");
        assert!(log[1].new.contains("\"holdout_pct\":20") && log[1].new.contains("\"salt\":\"toko/q4\""));
        assert!(log.iter().all(|c| c.user == "config" && c.section == SECTION));
        // The owner's overlay is untouched: still none of their changes.
        let overlay = store
            .settings_overlay(&crate::domain::ShopId::parse("toko").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(overlay::decode(&overlay).unwrap(), Default::default());
    }
}
