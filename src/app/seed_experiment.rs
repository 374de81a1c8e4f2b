//! `shops[].seed_experiment`: a finished holdout experiment stored on a shop's first start,
//! so that a demo's "Eksperimen" report has something to show. The file (the demo's
//! `experiment.json`, written by `examples/gen_demo_shop.rs`) holds the experiment's
//! settings, when it started and stopped, and its events as the server stores real ones
//! (visitor id and arm on each). Its start and stop go to the settings log like a configured
//! experiment's, so the report finds the period the same way; nothing is computed here.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::config::experiment::{ExperimentSettings, MAX_HOLDOUT_PCT};
use crate::domain::ShopId;
use crate::experiment::assign::arm;
use crate::records::{Event, EventKind};
use crate::store::{ShopStore, StoreError};
use crate::web::experiment::{arm_name, visitor_id};

/// A seeded experiment, checked.
#[derive(Debug, Clone, Deserialize)]
pub struct SeedExperiment {
    pub experiment: ExperimentSettings,
    pub started_at: DateTime<Utc>,
    pub stopped_at: DateTime<Utc>,
    pub events: Vec<Event>,
}

/// Reads and checks `file`: a holdout of 1 to 50%, a start before the stop, and each event
/// of a valid visitor, with the arm the experiment's salt gives it, inside the period, and
/// each purchase with its order id and a total. Errors name the file and the event.
pub fn read(file: &Path) -> anyhow::Result<SeedExperiment> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading {}: check shops[].seed_experiment", file.display()))?;
    let seed: SeedExperiment = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a seeded experiment: write {{\"experiment\":{{…}},\"started_at\":…,\"stopped_at\":…,\"events\":[…]}} as examples/gen_demo_shop.rs does",
            file.display()
        )
    })?;
    let e = &seed.experiment;
    if !(1..=MAX_HOLDOUT_PCT).contains(&i64::from(e.holdout_pct)) || seed.started_at >= seed.stopped_at {
        anyhow::bail!(
            "{}: holdout_pct {} from {} to {}: use a holdout of 1 to {MAX_HOLDOUT_PCT} percent and a start before the stop",
            file.display(),
            e.holdout_pct,
            seed.started_at,
            seed.stopped_at
        );
    }
    for (i, ev) in seed.events.iter().enumerate() {
        check_event(&seed, ev).map_err(|m| anyhow::anyhow!("{} event {}: {m}", file.display(), i + 1))?;
    }
    Ok(seed)
}

fn check_event(seed: &SeedExperiment, ev: &Event) -> Result<(), String> {
    let visitor = visitor_id(ev.visitor.as_deref().unwrap_or_default())?;
    let want = arm_name(arm(visitor, &seed.experiment.salt, seed.experiment.holdout_pct));
    if ev.arm.as_deref() != Some(want) {
        return Err(format!(
            "arm {:?} of visitor {visitor}: the experiment's salt puts it in {want}; write \"arm\":\"{want}\"",
            ev.arm
        ));
    }
    match ev.at {
        Some(at) if at >= seed.started_at && at < seed.stopped_at => {}
        other => {
            return Err(format!(
                "time {other:?} is outside the experiment: give \"at\" from {} until {}",
                seed.started_at, seed.stopped_at
            ))
        }
    }
    if ev.kind == EventKind::Purchase && (ev.order.is_none() || ev.total.is_none_or(|t| t.0 < 0)) {
        return Err("a purchase needs its \"order\" and a \"total\" of 0 or more rupiah".into());
    }
    Ok(())
}

/// Stores the experiment's events, then its start and stop in the settings log (each
/// entry once: a start resumed after a kill does not write them twice). The caller removes
/// the events of an interrupted seeding first, as for `seed_events`.
pub fn store(store: &dyn ShopStore, shop: &ShopId, seed: &SeedExperiment) -> Result<(), StoreError> {
    super::append_in_chunks(store, shop, &seed.events)?;
    super::experiment_log::record_run(store, shop, &seed.experiment, seed.started_at, seed.stopped_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> SeedExperiment {
        read(Path::new("demo/lengkuas/experiment.json")).unwrap()
    }

    #[test]
    fn the_demos_experiment_is_read_and_every_arm_is_the_hash() {
        let seed = demo();
        assert!(seed.experiment.name.contains("simulasi"), "labelled as simulated");
        assert_eq!(seed.experiment.holdout_pct, 10);
        assert!(seed.events.iter().any(|e| e.arm.as_deref() == Some("control")));
        assert!(seed.events.iter().any(|e| e.kind == EventKind::Purchase));
    }

    #[test]
    fn a_wrong_arm_or_a_time_outside_is_refused_naming_the_event() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("experiment.json");
        let write = |s: &SeedExperiment| {
            let text = serde_json::json!({
                "experiment": s.experiment, "started_at": s.started_at,
                "stopped_at": s.stopped_at, "events": s.events,
            });
            std::fs::write(&file, text.to_string()).unwrap();
        };
        let mut seed = demo();
        seed.events.truncate(3);
        let flipped = match seed.events[1].arm.as_deref() {
            Some("control") => "treatment",
            _ => "control",
        };
        seed.events[1].arm = Some(flipped.into());
        write(&seed);
        let msg = format!("{:#}", read(&file).unwrap_err());
        assert!(msg.contains("event 2") && msg.contains("write \"arm\""), "{msg}");

        let mut seed = demo();
        seed.events.truncate(3);
        seed.events[2].at = Some(seed.stopped_at);
        write(&seed);
        let msg = format!("{:#}", read(&file).unwrap_err());
        assert!(msg.contains("event 3") && msg.contains("outside"), "{msg}");
    }
}
