//! The admin pages' query parameters, parsed once into typed queries, and the error every
//! page answers with ([`PageError`]). Unknown parameters are refused, so a typo
//! (`?perod=week`) is not silently ignored.

use std::collections::HashMap;

use chrono::NaiveDate;
use thiserror::Error;

use crate::admin::analytics::Period;
use crate::config::ShopSettings;
use crate::loyalty::segments::SEGMENTS;
use crate::model::serve::Lang;
use crate::records::FeedbackStatus;
use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum PageError {
    /// A query parameter or body value that does not parse (400).
    #[error("{0}")]
    BadQuery(String),
    /// An unknown product, customer or message (404).
    #[error("{0}")]
    NotFound(String),
    /// The shop's model is not built yet (503).
    #[error("the model of shop {0} is still being built: retry shortly")]
    NotReady(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server failed (a task panicked): 500, the cause goes to the log.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A request's query parameters, by name.
pub type Query = HashMap<String, String>;

pub(super) fn bad(message: String) -> PageError {
    PageError::BadQuery(message)
}

/// A message for the owner: `english` with each `{name}` replaced by its value. The
/// dashboard shows it in Indonesian by matching it against `locales/id.toml`
/// (`crate::web::admin::i18n::translate_message`), so write it with `msg` and a literal.
pub fn msg(english: &str, args: &[(&str, &str)]) -> String {
    let mut out = english.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// `value` quoted as the messages quote what the user typed.
pub(super) fn quoted(value: &str) -> String {
    format!("{value:?}")
}

/// Refuses parameters a page does not know, so that a typo (`?perod=week`) is not silently
/// ignored.
fn only_known(q: &Query, known: &[&str]) -> Result<(), PageError> {
    let mut unknown: Vec<&str> = q
        .keys()
        .map(String::as_str)
        .filter(|k| !known.contains(k))
        .collect();
    unknown.sort_unstable();
    match unknown.first() {
        None => Ok(()),
        Some(k) if known.is_empty() => Err(bad(msg(
            "unknown parameter {name}: this page takes none",
            &[("name", &quoted(k))],
        ))),
        Some(k) => Err(bad(msg(
            "unknown parameter {name}: use {choices}",
            &[("name", &quoted(k)), ("choices", &known.join(", "))],
        ))),
    }
}

fn date_param(q: &Query, name: &str) -> Result<Option<NaiveDate>, PageError> {
    match q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(Some).map_err(|_| {
            bad(msg(
                "{name}={value} is not a date: use YYYY-MM-DD, e.g. 2026-10-01",
                &[("name", name), ("value", &quoted(raw))],
            ))
        }),
    }
}

fn lang_param(q: &Query) -> Result<Lang, PageError> {
    match q.get("lang").map(String::as_str) {
        None | Some("") => Ok(Lang::Id),
        Some(raw) => Lang::parse(raw).ok_or_else(|| {
            bad(msg(
                "lang={value} is not supported: use id or en",
                &[("value", &quoted(raw))],
            ))
        }),
    }
}

/// `?period=day|week|month&from=YYYY-MM-DD&to=YYYY-MM-DD`; missing dates come from
/// [`crate::admin::analytics::default_range`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverviewQuery {
    pub period: Period,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl OverviewQuery {
    pub fn parse(q: &Query) -> Result<OverviewQuery, PageError> {
        only_known(q, &["period", "from", "to"])?;
        let period = match q.get("period").map(String::as_str) {
            None | Some("") => Period::Month,
            Some(raw) => Period::parse(raw).map_err(|_| {
                bad(msg(
                    "period={value} is not valid: use {choices}",
                    &[("value", &quoted(raw)), ("choices", &Period::CHOICES.join(", "))],
                ))
            })?,
        };
        let from = date_param(q, "from")?;
        let to = date_param(q, "to")?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(bad(msg(
                    "from={from} is after to={to}: swap them",
                    &[("from", &f.to_string()), ("to", &t.to_string())],
                )));
            }
        }
        Ok(OverviewQuery { period, from, to })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProductQuery {
    pub lang: Lang,
}

impl ProductQuery {
    pub fn parse(q: &Query) -> Result<ProductQuery, PageError> {
        only_known(q, &["lang"])?;
        Ok(ProductQuery { lang: lang_param(q)? })
    }
}

/// `?segment=NAME&tier=NAME`, each optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomerQuery {
    pub segment: Option<String>,
    pub tier: Option<String>,
}

impl CustomerQuery {
    pub fn parse(q: &Query, shop: &ShopSettings) -> Result<CustomerQuery, PageError> {
        only_known(q, &["segment", "tier"])?;
        let pick = |name: &str| {
            q.get(name)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let segment = match pick("segment") {
            None => None,
            Some(s) => Some(
                crate::loyalty::segments::canonical(&s)
                    .ok_or_else(|| {
                        bad(msg(
                            "segment={value} is unknown: use {choices} (any case)",
                            &[("value", &quoted(&s)), ("choices", &SEGMENTS.join(", "))],
                        ))
                    })?
                    .to_string(),
            ),
        };
        let tier = pick("tier");
        if let Some(t) = &tier {
            let names: Vec<&str> = shop.loyalty.tiers.iter().map(|t| t.name.as_str()).collect();
            if !names.contains(&t.as_str()) {
                return Err(bad(msg(
                    "tier={value} is unknown: use {choices}",
                    &[("value", &quoted(t)), ("choices", &names.join(", "))],
                )));
            }
        }
        Ok(CustomerQuery { segment, tier })
    }
}

/// The status a form or JSON body asks for.
pub fn parse_feedback_status(raw: Option<&str>) -> Result<FeedbackStatus, PageError> {
    let raw = raw.unwrap_or("");
    FeedbackStatus::parse(raw).ok_or_else(|| {
        bad(msg(
            "status={value} is not valid: use {choices}",
            &[("value", &quoted(raw)), ("choices", FeedbackStatus::CHOICES)],
        ))
    })
}

/// The message's id as the URL names it.
pub fn parse_feedback_id(raw: &str) -> Result<u64, PageError> {
    raw.parse()
        .map_err(|_| PageError::NotFound(msg("unknown feedback message {id}", &[("id", &quoted(raw))])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Query {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn overview_query_defaults_to_months_and_quotes_a_bad_value_with_the_choices() {
        let parsed = OverviewQuery::parse(&q(&[])).unwrap();
        assert_eq!(parsed.period, Period::Month);
        assert_eq!((parsed.from, parsed.to), (None, None));
        let parsed = OverviewQuery::parse(&q(&[("period", "week"), ("from", "2026-10-01")])).unwrap();
        assert_eq!(parsed.period, Period::Week);
        assert_eq!(parsed.from, Some("2026-10-01".parse().unwrap()));

        let err = OverviewQuery::parse(&q(&[("period", "year")]))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "period=\"year\" is not valid: use day, week, month");
        let err = OverviewQuery::parse(&q(&[("from", "01/10/2026")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("from=\"01/10/2026\"") && err.contains("YYYY-MM-DD"),
            "{err}"
        );
        let err = OverviewQuery::parse(&q(&[("from", "2026-10-02"), ("to", "2026-10-01")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("after"), "{err}");
        let err = OverviewQuery::parse(&q(&[("perod", "week")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"perod\"") && err.contains("period, from, to"),
            "{err}"
        );
    }

    #[test]
    fn feedback_status_must_be_one_of_three() {
        assert_eq!(parse_feedback_status(Some("read")).unwrap(), FeedbackStatus::Read);
        let err = parse_feedback_status(Some("done")).unwrap_err().to_string();
        assert_eq!(err, "status=\"done\" is not valid: use new, read or answered");
        assert!(parse_feedback_status(None).is_err());
    }
}
