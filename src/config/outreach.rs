//! `[shops.outreach]` and `[[shops.automations]]`: the follow-up messages a shop sends
//! through its own channels. Parsed once at config load, templates compiled then, so that
//! a typo in a template is an error naming its key at start, not a failed message later.
//!
//! ```toml
//! [shops.outreach]
//! language = "id"                 # the messages' language: id or en
//! quiet_hours = "21:00-08:00"     # no webhook delivery then, in the shop's time zone
//! weekly_cap = 2                  # messages per customer in any 7 days
//! webhook_url = "https://hooks.example/laris"   # without it, messages wait in the outbox
//! webhook_secret_env = "LARIS_LENGKUAS_WEBHOOK_SECRET"
//! webhook_tries = 8
//!
//! [[shops.automations]]
//! kind = "replenish"
//! message.id = "Halo {{ customer.name }}, {{ product.name }} sudah mau habis?"
//! message.en = "Hi {{ customer.name }}, running low on {{ product.name }}?"
//! ```

use std::collections::BTreeSet;

use serde::Deserialize;

use super::error::{invalid, ConfigError};
use crate::records::AutomationKind;

/// `[shops.outreach]` as the file writes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutreach {
    language: Option<String>,
    quiet_hours: Option<String>,
    weekly_cap: Option<u32>,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    webhook_secret_env: Option<String>,
    webhook_tries: Option<u32>,
    webhook_backoff_secs: Option<u64>,
}

/// One `[[shops.automations]]` as the file writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAutomation {
    kind: String,
    name: Option<String>,
    after_days: Option<u32>,
    within_days: Option<u32>,
    products: Option<usize>,
    min_orders: Option<u32>,
    segments: Option<Vec<String>>,
    message: RawMessage,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessage {
    id: String,
    en: String,
}

/// How a shop's messages go out, and the rules every automation keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutreachSettings {
    /// `id` or `en`: the language messages are written in.
    pub language: String,
    /// No webhook delivery from `.0` to `.1` (minutes after midnight in the shop's time
    /// zone; `.0 > .1` runs over midnight).
    pub quiet_hours: Option<(u16, u16)>,
    /// At most this many messages per customer in any 7 days.
    pub weekly_cap: u32,
    /// Where messages are POSTed; `None`: they wait in the admin's outbox.
    pub webhook: Option<Webhook>,
}

impl Default for OutreachSettings {
    fn default() -> Self {
        OutreachSettings {
            language: "id".into(),
            quiet_hours: None,
            weekly_cap: DEFAULT_WEEKLY_CAP,
            webhook: None,
        }
    }
}

pub const DEFAULT_WEEKLY_CAP: u32 = 2;
pub const DEFAULT_WEBHOOK_TRIES: u32 = 8;
pub const DEFAULT_BACKOFF_SECS: u64 = 30;

#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: reqwest::Url,
    /// The HMAC-SHA256 key the payload is signed with.
    pub secret: String,
    /// Tries before a message is given up as failed.
    pub tries: u32,
    /// The wait after the first failed try; it doubles after each further one.
    pub backoff: std::time::Duration,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url.as_str())
            .field("secret", &"(hidden)")
            .field("tries", &self.tries)
            .field("backoff", &self.backoff)
            .finish()
    }
}

/// One automation: what it reacts to, its conditions and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Automation {
    /// Unique in the shop; the kind's name unless `name` is given.
    pub name: String,
    pub kind: AutomationKind,
    /// post_purchase: days after the purchase.
    pub after_days: u32,
    /// How long after it became due a customer still gets the message (a first run over a
    /// year of history does not write to everyone who ever bought).
    pub within_days: u32,
    /// post_purchase: products suggested.
    pub products: usize,
    /// replenish: a product bought in at least this many orders.
    pub min_orders: u32,
    /// win_back: the RFM segments that count as lapsing (canonical names).
    pub segments: Vec<String>,
    /// The minijinja template per language: `id`, `en`.
    pub message_id: String,
    pub message_en: String,
}

impl Automation {
    pub fn template(&self, language: &str) -> &str {
        if language == "en" {
            &self.message_en
        } else {
            &self.message_id
        }
    }
}

const DEFAULT_SEGMENTS: [&str; 2] = ["At risk", "Hibernating"];

impl RawOutreach {
    pub(super) fn validate(&self, key: &dyn Fn(&str) -> String) -> Result<OutreachSettings, ConfigError> {
        let language = match self.language.as_deref().map(str::trim) {
            None => "id".to_string(),
            Some(l @ ("id" | "en")) => l.to_string(),
            Some(other) => {
                return Err(invalid(
                    key("outreach.language"),
                    other,
                    "use \"id\" (Bahasa Indonesia) or \"en\" (English)",
                ))
            }
        };
        let quiet_hours = self
            .quiet_hours
            .as_deref()
            .map(|raw| {
                quiet_hours(raw).ok_or_else(|| {
                    invalid(
                        key("outreach.quiet_hours"),
                        raw,
                        "write \"HH:MM-HH:MM\" in the shop's time zone, e.g. \"21:00-08:00\" (it may run over midnight)",
                    )
                })
            })
            .transpose()?;
        let weekly_cap = self.weekly_cap.unwrap_or(DEFAULT_WEEKLY_CAP);
        if !(1..=50).contains(&weekly_cap) {
            return Err(invalid(
                key("outreach.weekly_cap"),
                weekly_cap.to_string(),
                "use 1 to 50 messages per customer a week",
            ));
        }
        let tries = self.webhook_tries.unwrap_or(DEFAULT_WEBHOOK_TRIES);
        if !(1..=30).contains(&tries) {
            return Err(invalid(
                key("outreach.webhook_tries"),
                tries.to_string(),
                "use 1 to 30 tries",
            ));
        }
        let webhook = match &self.webhook_url {
            None => {
                if self.webhook_secret.is_some() || self.webhook_secret_env.is_some() {
                    return Err(invalid(
                        key("outreach.webhook_url"),
                        "",
                        "a webhook secret needs webhook_url: add the URL, or remove the secret",
                    ));
                }
                None
            }
            Some(raw) => {
                let url = reqwest::Url::parse(raw)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                    .ok_or_else(|| {
                        invalid(
                            key("outreach.webhook_url"),
                            raw,
                            "give an absolute http:// or https:// URL, e.g. \"https://hooks.example/laris\"",
                        )
                    })?;
                let secret = match (&self.webhook_secret, &self.webhook_secret_env) {
                    (Some(_), Some(_)) => {
                        return Err(invalid(
                            key("outreach.webhook_secret"),
                            "(hidden)",
                            "give webhook_secret or webhook_secret_env, not both",
                        ))
                    }
                    (Some(s), None) => s.clone(),
                    (None, Some(var)) => std::env::var(var).map_err(|_| {
                        invalid(
                            key("outreach.webhook_secret_env"),
                            var,
                            format!("set the environment variable {var} to the webhook's secret before starting laris"),
                        )
                    })?,
                    (None, None) => {
                        return Err(invalid(
                            key("outreach.webhook_secret_env"),
                            "",
                            "the webhook's payloads are signed: name the environment variable holding the secret, e.g. webhook_secret_env = \"LARIS_SHOP_WEBHOOK_SECRET\"",
                        ))
                    }
                };
                if secret.trim().len() < 16 {
                    return Err(invalid(
                        key("outreach.webhook_secret"),
                        "(hidden)",
                        "use a secret of at least 16 characters, e.g. from `openssl rand -hex 32`",
                    ));
                }
                let backoff = self.webhook_backoff_secs.unwrap_or(DEFAULT_BACKOFF_SECS);
                if !(1..=3600).contains(&backoff) {
                    return Err(invalid(
                        key("outreach.webhook_backoff_secs"),
                        backoff.to_string(),
                        "use 1 to 3600 seconds",
                    ));
                }
                Some(Webhook {
                    url,
                    secret,
                    tries,
                    backoff: std::time::Duration::from_secs(backoff),
                })
            }
        };
        Ok(OutreachSettings {
            language,
            quiet_hours,
            weekly_cap,
            webhook,
        })
    }
}

impl RawAutomation {
    pub(super) fn validate(&self, key: &dyn Fn(&str) -> String) -> Result<Automation, ConfigError> {
        let kind = AutomationKind::parse(&self.kind).ok_or_else(|| {
            invalid(
                key("kind"),
                &self.kind,
                format!("use one of {}", AutomationKind::CHOICES),
            )
        })?;
        let name = self.name.clone().unwrap_or_else(|| kind.as_str().to_string());
        if name.is_empty()
            || name.len() > 40
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(invalid(
                key("name"),
                &name,
                "use 1 to 40 letters, digits, - or _, e.g. \"terima-kasih\"",
            ));
        }
        let bounded =
            |k: &str, v: Option<u32>, default: u32, hi: u32, unit: &str| -> Result<u32, ConfigError> {
                let v = v.unwrap_or(default);
                if (1..=hi).contains(&v) {
                    Ok(v)
                } else {
                    Err(invalid(key(k), v.to_string(), format!("use 1 to {hi} {unit}")))
                }
            };
        let after_days = bounded("after_days", self.after_days, 3, 365, "days")?;
        let within_days = bounded("within_days", self.within_days, 7, 365, "days")?;
        let min_orders = bounded("min_orders", self.min_orders, 2, 100, "orders")?;
        let products = self.products.unwrap_or(3);
        if !(1..=10).contains(&products) {
            return Err(invalid(
                key("products"),
                products.to_string(),
                "use 1 to 10 products",
            ));
        }
        let segments = match &self.segments {
            None => DEFAULT_SEGMENTS.iter().map(|s| s.to_string()).collect(),
            Some(names) => {
                let mut out = Vec::new();
                for n in names {
                    let canonical = crate::domain::canonical_segment(n).ok_or_else(|| {
                        invalid(
                            key("segments"),
                            n,
                            "use RFM segment names: Champions, Loyal, New, Potential, At risk, Hibernating, Lost",
                        )
                    })?;
                    out.push(canonical.to_string());
                }
                if out.is_empty() {
                    return Err(invalid(
                        key("segments"),
                        "[]",
                        "name at least one segment, e.g. [\"At risk\"]",
                    ));
                }
                out
            }
        };
        let only_for = |field: &str, set: bool, kinds: &str| -> Result<(), ConfigError> {
            if set {
                Err(invalid(
                    key(field),
                    "(set)",
                    format!(
                        "{field} is read only by {kinds} automations: remove it from this {} one",
                        kind.as_str()
                    ),
                ))
            } else {
                Ok(())
            }
        };
        use AutomationKind::*;
        only_for(
            "after_days",
            self.after_days.is_some() && kind != PostPurchase,
            "post_purchase",
        )?;
        only_for(
            "products",
            self.products.is_some() && kind != PostPurchase,
            "post_purchase",
        )?;
        only_for(
            "min_orders",
            self.min_orders.is_some() && kind != Replenish,
            "replenish",
        )?;
        only_for("segments", self.segments.is_some() && kind != WinBack, "win_back")?;
        for (lang, text) in [("id", &self.message.id), ("en", &self.message.en)] {
            check_template(text).map_err(|fix| invalid(key(&format!("message.{lang}")), text, fix))?;
        }
        Ok(Automation {
            name,
            kind,
            after_days,
            within_days,
            products,
            min_orders,
            segments,
            message_id: self.message.id.clone(),
            message_en: self.message.en.clone(),
        })
    }
}

/// Checks a shop's automations together: names are unique.
pub(super) fn unique_names(
    automations: &[Automation],
    key: &dyn Fn(&str) -> String,
) -> Result<(), ConfigError> {
    let mut seen = BTreeSet::new();
    for (i, a) in automations.iter().enumerate() {
        if !seen.insert(a.name.as_str()) {
            return Err(invalid(
                key(&format!("automations[{i}].name")),
                &a.name,
                "two automations share this name: give each its own name = \"…\"",
            ));
        }
    }
    Ok(())
}

/// A template that minijinja compiles, and that is not empty.
fn check_template(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("write the message: an empty message is never sent".into());
    }
    if text.len() > 2_000 {
        return Err("keep a message under 2,000 characters".into());
    }
    let env = minijinja::Environment::new();
    env.template_from_str(text).map(|_| ()).map_err(|e| {
        format!("the template does not compile ({e}); see README \"Automations\" for its variables")
    })
}

/// `HH:MM-HH:MM`, possibly over midnight; the two times differ.
fn quiet_hours(raw: &str) -> Option<(u16, u16)> {
    let clock = |s: &str| -> Option<u16> {
        let (h, m) = s.trim().split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    let (a, b) = raw.split_once('-')?;
    let (from, to) = (clock(a)?, clock(b)?);
    (from != to).then_some((from, to))
}

/// Whether `minute` (after midnight) lies in quiet hours `(from, to)`.
pub fn is_quiet(quiet: (u16, u16), minute: u16) -> bool {
    let (from, to) = quiet;
    if from < to {
        (from..to).contains(&minute)
    } else {
        minute >= from || minute < to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> String {
        format!("shops[0].{k}")
    }

    fn automation(toml: &str) -> Result<Automation, String> {
        let raw: RawAutomation = toml::from_str(toml).map_err(|e| e.to_string())?;
        raw.validate(&|k| key(&format!("automations[0].{k}")))
            .map_err(|e| e.to_string())
    }

    const MSG: &str = "message.id = \"Halo {{ customer.name }}\"\nmessage.en = \"Hi {{ customer.name }}\"\n";

    #[test]
    fn an_automation_takes_its_kind_defaults_and_templates() {
        let a = automation(&format!("kind = \"win-back\"\n{MSG}")).unwrap();
        assert_eq!(a.kind, AutomationKind::WinBack);
        assert_eq!(a.name, "win_back");
        assert_eq!(a.segments, ["At risk", "Hibernating"]);
        assert_eq!(a.template("en"), "Hi {{ customer.name }}");
        let a = automation(&format!(
            "kind = \"post_purchase\"\nname = \"terima-kasih\"\nafter_days = 5\nproducts = 2\n{MSG}"
        ))
        .unwrap();
        assert_eq!(
            (a.name.as_str(), a.after_days, a.products),
            ("terima-kasih", 5, 2)
        );
    }

    #[test]
    fn bad_automations_are_refused_naming_key_value_and_fix() {
        let e = automation(&format!("kind = \"birthday\"\n{MSG}")).unwrap_err();
        assert!(
            e.contains("automations[0].kind") && e.contains("birthday") && e.contains("win_back"),
            "{e}"
        );
        let e = automation(&format!("kind = \"replenish\"\nafter_days = 3\n{MSG}")).unwrap_err();
        assert!(e.contains("after_days is read only by post_purchase"), "{e}");
        let e = automation(&format!("kind = \"win_back\"\nsegments = [\"Sleepy\"]\n{MSG}")).unwrap_err();
        assert!(e.contains("Sleepy") && e.contains("At risk"), "{e}");
        let e =
            automation("kind = \"tier_up\"\nmessage.id = \"Halo {{ customer.name \"\nmessage.en = \"x\"\n")
                .unwrap_err();
        assert!(
            e.contains("automations[0].message.id") && e.contains("does not compile"),
            "{e}"
        );
        let e = automation("kind = \"tier_up\"\nmessage.id = \"x\"\n").unwrap_err();
        assert!(e.contains("en"), "{e}");
        let e = automation(&format!("kind = \"post_purchase\"\nproducts = 0\n{MSG}")).unwrap_err();
        assert!(
            e.contains("automations[0].products") && e.contains("1 to 10"),
            "{e}"
        );
    }

    fn outreach(toml: &str) -> Result<OutreachSettings, String> {
        let raw: RawOutreach = toml::from_str(toml).map_err(|e| e.to_string())?;
        raw.validate(&key).map_err(|e| e.to_string())
    }

    #[test]
    fn outreach_settings_are_checked() {
        let o = outreach("").unwrap();
        assert_eq!(o, OutreachSettings::default());
        let o = outreach("quiet_hours = \"21:00-08:00\"\nweekly_cap = 1\nlanguage = \"en\"\nwebhook_url = \"http://127.0.0.1:9/hook\"\nwebhook_secret = \"0123456789abcdef0123\"\n").unwrap();
        assert_eq!(o.quiet_hours, Some((21 * 60, 8 * 60)));
        assert_eq!(o.webhook.as_ref().unwrap().tries, DEFAULT_WEBHOOK_TRIES);
        assert!(
            !format!("{o:?}").contains("0123456789abcdef"),
            "the secret stays out of logs"
        );
        for (toml, want) in [
            ("quiet_hours = \"9-17\"", "outreach.quiet_hours"),
            ("language = \"jv\"", "outreach.language"),
            ("weekly_cap = 0", "outreach.weekly_cap"),
            ("webhook_url = \"hooks.example\"\nwebhook_secret = \"0123456789abcdef\"", "absolute http"),
            ("webhook_url = \"https://hooks.example\"", "webhook_secret_env"),
            ("webhook_url = \"https://hooks.example\"\nwebhook_secret = \"short\"", "16 characters"),
            ("webhook_url = \"https://hooks.example\"\nwebhook_secret_env = \"LARIS_TEST_NO_SUCH_VARIABLE\"", "set the environment variable LARIS_TEST_NO_SUCH_VARIABLE"),
            ("webhook_secret = \"0123456789abcdef\"", "needs webhook_url"),
        ] {
            let e = outreach(toml).unwrap_err();
            assert!(e.contains(want), "{toml}: {e}");
        }
    }

    #[test]
    fn quiet_hours_may_run_over_midnight() {
        let night = quiet_hours("21:00-08:00").unwrap();
        assert!(is_quiet(night, 22 * 60) && is_quiet(night, 7 * 60 + 59) && is_quiet(night, 21 * 60));
        assert!(!is_quiet(night, 8 * 60) && !is_quiet(night, 12 * 60));
        let lunch = quiet_hours("12:00-13:00").unwrap();
        assert!(is_quiet(lunch, 12 * 60 + 30) && !is_quiet(lunch, 13 * 60));
        assert_eq!(quiet_hours("08:00-08:00"), None);
    }
}
