//! The experiments a shop has run, read back from its settings-change log: each start,
//! change and stop of `[shops.experiment]` is an entry there (section [`SECTION`]), so a
//! stopped experiment keeps its period (from its start to its stop) and its settings after
//! the configuration no longer names it, and its report can still be read.

use chrono::{DateTime, Utc};

use crate::config::experiment::ExperimentSettings;
use crate::records::SettingsChange;

/// The log's section for experiment entries.
pub const SECTION: &str = "experiment";

/// One experiment as the log tells it: a stretch during which visitors were split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The last settings recorded while it ran.
    pub settings: ExperimentSettings,
    pub started_at: DateTime<Utc>,
    /// `None` while it still runs.
    pub stopped_at: Option<DateTime<Utc>>,
}

/// The settings an entry switched to, when they split visitors (`null`, a 0% holdout or
/// JSON this release cannot read count as off).
fn splitting(change: &SettingsChange) -> Option<ExperimentSettings> {
    serde_json::from_str::<Option<ExperimentSettings>>(&change.new)
        .ok()
        .flatten()
        .filter(ExperimentSettings::is_on)
}

/// The runs in `changes` (any order, any sections), oldest first. A new salt (a new name)
/// starts a new run: its visitors were randomised afresh.
pub fn runs(changes: &[SettingsChange]) -> Vec<Run> {
    let mut entries: Vec<&SettingsChange> = changes.iter().filter(|c| c.section == SECTION).collect();
    entries.sort_by_key(|c| (c.at, c.id));
    let mut out: Vec<Run> = Vec::new();
    for c in entries {
        let open = out.last_mut().filter(|r| r.stopped_at.is_none());
        match (open, splitting(c)) {
            (Some(run), Some(s)) if run.settings.salt == s.salt => run.settings = s,
            (Some(run), next) => {
                run.stopped_at = Some(c.at);
                if let Some(settings) = next {
                    out.push(Run {
                        settings,
                        started_at: c.at,
                        stopped_at: None,
                    });
                }
            }
            (None, Some(settings)) => out.push(Run {
                settings,
                started_at: c.at,
                stopped_at: None,
            }),
            (None, None) => {}
        }
    }
    out
}

/// The most recent run that has stopped.
pub fn last_stopped(changes: &[SettingsChange]) -> Option<Run> {
    runs(changes).into_iter().rev().find(|r| r.stopped_at.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::experiment::ControlShows;
    use chrono::TimeZone;

    fn settings(name: &str, pct: u8) -> ExperimentSettings {
        ExperimentSettings {
            holdout_pct: pct,
            name: name.into(),
            started: None,
            control: ControlShows::Nothing,
            salt: format!("toko/{name}"),
        }
    }

    fn change(day: u32, new: Option<ExperimentSettings>) -> SettingsChange {
        SettingsChange {
            id: u64::from(day),
            at: Utc.with_ymd_and_hms(2026, 10, day, 0, 0, 0).unwrap(),
            user: "config".into(),
            section: SECTION.into(),
            summary: String::new(),
            old: String::new(),
            new: serde_json::to_string(&new).unwrap(),
        }
    }

    #[test]
    fn starts_changes_and_stops_make_runs() {
        let day = |d| Utc.with_ymd_and_hms(2026, 10, d, 0, 0, 0).unwrap();
        let mut other = change(2, None);
        other.section = "offers".into();
        // Newest first, as the store lists them.
        let log = vec![
            change(20, Some(settings("b", 10))),
            change(12, Some(settings("b", 10))),
            change(10, None),
            change(5, Some(settings("a", 20))),
            other,
            change(1, Some(settings("a", 10))),
        ];
        let r = runs(&log);
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!((r[0].started_at, r[0].stopped_at), (day(1), Some(day(10))));
        assert_eq!(r[0].settings.holdout_pct, 20, "the last settings of the run");
        assert_eq!((r[1].started_at, r[1].stopped_at), (day(12), None));
        assert_eq!(last_stopped(&log).unwrap().settings.name, "a");
    }

    #[test]
    fn a_new_name_or_a_zero_holdout_ends_the_run() {
        let log = vec![
            change(1, Some(settings("a", 10))),
            change(3, Some(settings("b", 10))),
            change(6, Some(settings("b", 0))),
        ];
        let r = runs(&log);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].stopped_at, Some(r[1].started_at));
        assert_eq!(r[1].settings.name, "b");
        assert!(r[1].stopped_at.is_some());
        assert!(runs(&[change(1, None)]).is_empty());
        assert_eq!(last_stopped(&[change(1, Some(settings("a", 10)))]), None);
    }
}
