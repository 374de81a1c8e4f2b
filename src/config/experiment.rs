//! `[shops.experiment]`: a randomised holdout. A share of visitors (`holdout_pct`, the
//! control arm) sees no recommendations, or best sellers, in the recommendation slots;
//! the rest see them. Who is in which arm is `experiment::assign::arm` of the visitor id and
//! the `salt`; this module only reads and checks the settings.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::{invalid, ConfigError};

/// `[shops.experiment]` as the file writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExperiment {
    holdout_pct: i64,
    name: Option<String>,
    started: Option<toml::Value>,
    control: Option<String>,
    salt: Option<String>,
}

/// What the control arm sees in the recommendation slots (similar, upsell, bundle,
/// for_you); the loyalty, feedback and chat slots are not recommendations and stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlShows {
    /// Empty slots: the page looks as if the widget had no recommendation slots.
    Nothing,
    /// The shop's best sellers, the same on every product page.
    BestSellers,
}

impl ControlShows {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlShows::Nothing => "nothing",
            ControlShows::BestSellers => "best_sellers",
        }
    }
}

/// A shop's experiment, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExperimentSettings {
    /// Percent of visitors in the control arm: 0 (off) or 1 to 50.
    pub holdout_pct: u8,
    pub name: String,
    pub started: Option<NaiveDate>,
    pub control: ControlShows,
    /// What the arms are hashed with: the configured salt, else `"{shop}/{name}"`.
    pub salt: String,
}

impl ExperimentSettings {
    /// Whether visitors are being split (a holdout above 0).
    pub fn is_on(&self) -> bool {
        self.holdout_pct > 0
    }
}

/// The largest holdout: beyond half, the "holdout" would be the main experience.
pub const MAX_HOLDOUT_PCT: i64 = 50;
const MAX_NAME: usize = 64;

impl RawExperiment {
    /// Checks every key; errors name `shops[i].experiment.KEY`, the value and the fix.
    pub(super) fn validate(
        &self,
        shop: &str,
        key: &dyn Fn(&str) -> String,
    ) -> Result<ExperimentSettings, ConfigError> {
        if !(0..=MAX_HOLDOUT_PCT).contains(&self.holdout_pct) {
            return Err(invalid(
                key("experiment.holdout_pct"),
                self.holdout_pct.to_string(),
                format!(
                    "use 0 (off) or 1 to {MAX_HOLDOUT_PCT} percent of visitors in the control arm, e.g. 10"
                ),
            ));
        }
        let name = self.name.clone().unwrap_or_else(|| "experiment".into());
        if name.trim().is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(invalid(
                key("experiment.name"),
                &name,
                format!("use 1 to {MAX_NAME} characters without line breaks, e.g. \"holdout-2026-12\""),
            ));
        }
        let started = match &self.started {
            None => None,
            Some(v) => Some(date(v).map_err(|fix| invalid(key("experiment.started"), v.to_string(), fix))?),
        };
        let control = match self.control.as_deref() {
            None | Some("nothing") => ControlShows::Nothing,
            Some("best_sellers") => ControlShows::BestSellers,
            Some(other) => {
                return Err(invalid(
                    key("experiment.control"),
                    other,
                    "use \"nothing\" (empty recommendation slots) or \"best_sellers\"",
                ))
            }
        };
        let salt =
            match &self.salt {
                Some(s) if s.trim().is_empty() || s.len() > 128 => return Err(invalid(
                    key("experiment.salt"),
                    s,
                    "use 1 to 128 characters, or leave salt out to derive it from the shop id and the name",
                )),
                Some(s) => s.clone(),
                None => format!("{shop}/{name}"),
            };
        Ok(ExperimentSettings {
            holdout_pct: self.holdout_pct as u8,
            name,
            started,
            control,
            salt,
        })
    }
}

/// A TOML date (`started = 2026-12-01`) or a quoted one (`"2026-12-01"`).
fn date(v: &toml::Value) -> Result<NaiveDate, String> {
    let fix = "write a date as YYYY-MM-DD, e.g. started = 2026-12-01".to_string();
    let text = match v {
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        toml::Value::String(s) => s.clone(),
        _ => return Err(fix),
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(toml_text: &str) -> Result<ExperimentSettings, String> {
        let raw: RawExperiment = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        raw.validate("toko", &|k| format!("shops[0].{k}"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_a_derived_salt() {
        let e = read("holdout_pct = 10").unwrap();
        assert_eq!(e.name, "experiment");
        assert_eq!(e.control, ControlShows::Nothing);
        assert_eq!(e.salt, "toko/experiment");
        assert_eq!(e.started, None);
        assert!(e.is_on());
        // A new name is a new randomisation.
        let renamed = read("holdout_pct = 10\nname = \"winter\"").unwrap();
        assert_eq!(renamed.salt, "toko/winter");
        assert!(!read("holdout_pct = 0").unwrap().is_on());
    }

    #[test]
    fn every_key_is_read() {
        let e = read(
            "holdout_pct = 50\nname = \"q4\"\nstarted = 2026-12-01\ncontrol = \"best_sellers\"\nsalt = \"s-1\"",
        )
        .unwrap();
        assert_eq!(e.holdout_pct, 50);
        assert_eq!(e.started, NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(e.control, ControlShows::BestSellers);
        assert_eq!(e.salt, "s-1");
        let quoted = read("holdout_pct = 5\nstarted = \"2026-11-30\"").unwrap();
        assert_eq!(quoted.started, NaiveDate::from_ymd_opt(2026, 11, 30));
    }

    #[test]
    fn bad_values_are_refused_naming_key_value_and_fix() {
        for (text, key, value) in [
            ("holdout_pct = 51", "shops[0].experiment.holdout_pct", "51"),
            ("holdout_pct = -1", "shops[0].experiment.holdout_pct", "-1"),
            (
                "holdout_pct = 10\ncontrol = \"bestsellers\"",
                "shops[0].experiment.control",
                "bestsellers",
            ),
            (
                "holdout_pct = 10\nstarted = \"1/12/2026\"",
                "shops[0].experiment.started",
                "1/12/2026",
            ),
            (
                "holdout_pct = 10\nname = \"\"",
                "shops[0].experiment.name",
                "\"\"",
            ),
            (
                "holdout_pct = 10\nsalt = \" \"",
                "shops[0].experiment.salt",
                "\" \"",
            ),
        ] {
            let msg = read(text).unwrap_err();
            assert!(msg.contains("use") || msg.contains("write"), "{text}: {msg}");
            assert!(msg.contains(key), "{text}: {msg}");
            assert!(msg.contains(value), "{text}: {msg}");
        }
        assert!(read("holdout_pct = 10\nholdout = 5")
            .unwrap_err()
            .contains("holdout"));
    }
}
