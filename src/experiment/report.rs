//! The experiment's report as the owner reads it (the admin page, its JSON twin and
//! `laris experiment report`): the experiment's settings, the period it covers, each arm's
//! numbers with the differences between the arms, the sample-ratio check, the minimum
//! detectable effect and what could not be tied to an arm.
//!
//! [`build`] is pure over plain data; [`report`] reads the shop's events and orders from the
//! store and calls it. The report is of the configured experiment; with none configured, of
//! the last one that stopped (from the settings log, [`crate::experiment::runs`]), over its
//! whole period, so an owner can still read an experiment after ending it. A shop that never
//! ran one, or with too few visitors to compare the arms, gets a report that says so (its
//! `state`), not an error.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::config::experiment::ExperimentSettings;
use crate::config::ShopSettings;
use crate::domain::ShopId;
use crate::experiment::outcomes::{Tally, Untied};
use crate::experiment::runs::{last_stopped, Run};
use crate::experiment::stats::{analyse, AnalysisOptions, ExperimentError, ExperimentReport};
use crate::records::{Event, Order};
use crate::store::{ShopStore, StoreError};

/// Where the experiment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// The shop has no `[shops.experiment]`: there is nothing to compare.
    NoExperiment,
    /// An arm has fewer than two visitors: the arms cannot be compared yet.
    NotEnoughData,
    /// Both arms have at least two visitors: every difference is computed.
    Ready,
}

/// The experiment's settings as configured (the salt is left out: it decides the arms and
/// stays in the configuration file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExperimentInfo {
    pub name: String,
    /// Percent of visitors in the control arm.
    pub holdout_pct: u8,
    /// What the control arm sees: `nothing` or `best_sellers`.
    pub control: String,
    /// The configured start date, if any.
    pub started: Option<NaiveDate>,
    /// When the experiment stopped (its stop in the settings log); `None` while it runs.
    pub stopped: Option<DateTime<Utc>>,
}

/// The stretch of time the report covers: events in `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// The configured start (midnight UTC of `started`), else the first event with an arm;
    /// `None` when there is neither.
    pub from: Option<DateTime<Utc>>,
    pub to: DateTime<Utc>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub shop: String,
    pub state: ReportState,
    /// What `state` means for the owner, in one English sentence (the page translates it).
    pub message: String,
    /// `None` with no experiment configured.
    pub experiment: Option<ExperimentInfo>,
    pub period: Option<Period>,
    /// Marketplace orders count for a visitor when paid within this many hours after the
    /// visitor's first event.
    pub attribution_window_hours: u32,
    /// The arms' numbers and the differences; `None` with no experiment configured.
    pub analysis: Option<ExperimentReport>,
    /// Events and purchases that could not be tied to an arm, by reason.
    pub untied: Untied,
    /// Marketplace orders credited to a visitor through a customer token.
    pub tied_orders: u64,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the experiment's data cannot be analysed: {0}")]
    Analysis(#[from] ExperimentError),
}

pub const NO_EXPERIMENT: &str = "No experiment is configured for this shop: add a [shops.experiment] block with holdout_pct (1 to 50) to the configuration file and restart.";
pub const NOT_ENOUGH_DATA: &str =
    "Not enough data yet: each arm needs at least two visitors before the arms can be compared.";
pub const READY: &str = "Both arms have visitors: the differences below compare them.";

/// The report of `shop`'s experiment at `now`, from its stored events and orders: the
/// running one, else the last stopped one of the settings log (an experiment is stopped by
/// removing `[shops.experiment]` or by setting `holdout_pct = 0`), else the configured one.
/// `seed` is the bootstrap's seed (the default of [`AnalysisOptions::new`] when `None`).
pub fn report(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    now: DateTime<Utc>,
    seed: Option<u64>,
) -> Result<Report, ReportError> {
    let events = Events::Stored(store, &shop.id);
    if shop.experiment.as_ref().is_some_and(ExperimentSettings::is_on) {
        return build_from(shop, &events, &store.orders(&shop.id)?, now, seed);
    }
    match last_stopped(&store.settings_changes(&shop.id, usize::MAX)?) {
        Some(run) => stopped_from(shop, &run, &events, &store.orders(&shop.id)?, seed),
        None => build(shop, &[], &[], now, seed),
    }
}

/// Where a report's events come from: given (tests, the demo's simulation) or the shop's
/// store, read one at a time (a shop may keep millions; the report keeps a tally per
/// visitor, never the events).
enum Events<'a> {
    Given(&'a [Event]),
    Stored(&'a dyn ShopStore, &'a ShopId),
}

impl Events<'_> {
    fn each(&self, f: &mut dyn FnMut(&Event)) -> Result<(), StoreError> {
        match self {
            Events::Given(events) => {
                events.iter().for_each(f);
                Ok(())
            }
            Events::Stored(store, shop) => store.for_each_event(shop, &mut |e| f(&e)),
        }
    }
}

/// The report over these events and orders of the configured experiment (pure).
pub fn build(
    shop: &ShopSettings,
    events: &[Event],
    orders: &[Order],
    now: DateTime<Utc>,
    seed: Option<u64>,
) -> Result<Report, ReportError> {
    build_from(shop, &Events::Given(events), orders, now, seed)
}

fn build_from(
    shop: &ShopSettings,
    events: &Events,
    orders: &[Order],
    now: DateTime<Utc>,
    seed: Option<u64>,
) -> Result<Report, ReportError> {
    let Some(settings) = &shop.experiment else {
        return Ok(Report {
            shop: shop.id.to_string(),
            state: ReportState::NoExperiment,
            message: NO_EXPERIMENT.into(),
            experiment: None,
            period: None,
            attribution_window_hours: shop.analytics.attribution_window_hours,
            analysis: None,
            untied: Untied::default(),
            tied_orders: 0,
        });
    };
    let mut tally = match settings.started {
        Some(day) => Tally::new(
            Some(day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()),
            now,
        ),
        None => Tally::from_first_arm(now),
    };
    events.each(&mut |e| tally.add(e))?;
    analysed(shop, settings, tally, None, orders, seed)
}

/// The report of a stopped experiment over its whole period, from its start to its stop
/// in the settings log (pure).
pub fn build_stopped(
    shop: &ShopSettings,
    run: &Run,
    events: &[Event],
    orders: &[Order],
    seed: Option<u64>,
) -> Result<Report, ReportError> {
    stopped_from(shop, run, &Events::Given(events), orders, seed)
}

fn stopped_from(
    shop: &ShopSettings,
    run: &Run,
    events: &Events,
    orders: &[Order],
    seed: Option<u64>,
) -> Result<Report, ReportError> {
    let to = run.stopped_at.unwrap_or(run.started_at);
    let mut tally = Tally::new(Some(run.started_at), to);
    events.each(&mut |e| tally.add(e))?;
    analysed(shop, &run.settings, tally, Some(to), orders, seed)
}

/// Both arms' outcomes in `period` and the analysis of them.
fn analysed(
    shop: &ShopSettings,
    settings: &ExperimentSettings,
    tally: Tally,
    stopped: Option<DateTime<Utc>>,
    orders: &[Order],
    seed: Option<u64>,
) -> Result<Report, ReportError> {
    let window = shop.analytics.attribution_window_hours;
    let period = Period {
        from: tally.from(),
        to: tally.to(),
    };
    let o = tally.finish(orders, Duration::hours(i64::from(window)));
    let mut options = AnalysisOptions::new(settings.holdout_pct);
    if let Some(seed) = seed {
        options.seed = seed;
    }
    let analysis = analyse(&o.control, &o.treatment, &options)?;
    let (state, message) = if o.control.len() < 2 || o.treatment.len() < 2 {
        (ReportState::NotEnoughData, NOT_ENOUGH_DATA)
    } else {
        (ReportState::Ready, READY)
    };
    Ok(Report {
        shop: shop.id.to_string(),
        state,
        message: message.into(),
        experiment: Some(ExperimentInfo {
            name: settings.name.clone(),
            holdout_pct: settings.holdout_pct,
            control: settings.control.as_str().into(),
            started: settings.started,
            stopped,
        }),
        period: Some(period),
        attribution_window_hours: window,
        analysis: Some(analysis),
        untied: o.untied,
        tied_orders: o.tied_orders,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::experiment::ControlShows;
    use crate::domain::Rupiah;
    use crate::experiment::assign::{arm, Arm};
    use crate::records::EventKind;
    use chrono::TimeZone;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn shop(holdout_pct: u8) -> ShopSettings {
        let mut s = crate::config::Settings::from_toml(
            "[[shops]]\nid = \"toko\"\n",
            std::path::Path::new("t.toml"),
            &[],
        )
        .unwrap()
        .shops
        .remove(0);
        s.experiment = Some(ExperimentSettings {
            holdout_pct,
            name: "holdout-2026-11".into(),
            started: None,
            control: ControlShows::Nothing,
            salt: "toko/holdout-2026-11".into(),
        });
        s
    }

    fn event(kind: EventKind, visitor: &str, arm: &str, h: i64) -> Event {
        Event {
            kind,
            slot: None,
            product: None,
            item: None,
            at: Some(at(h)),
            customer: None,
            visitor: Some(visitor.into()),
            arm: Some(arm.into()),
            order: None,
            total: None,
            items: Vec::new(),
        }
    }

    /// `n` visitors of `arm_name`, the first `buyers` of them buying one order of `value`.
    fn visitors(prefix: &str, arm_name: &str, n: usize, buyers: usize, value: i64) -> Vec<Event> {
        let mut events = Vec::new();
        for i in 0..n {
            let v = format!("{prefix}-{i}");
            events.push(event(EventKind::Impression, &v, arm_name, 1));
            if i < buyers {
                events.push(Event {
                    order: Some(format!("{v}-order")),
                    total: Some(Rupiah(value)),
                    ..event(EventKind::Purchase, &v, arm_name, 2)
                });
            }
        }
        events
    }

    #[test]
    fn no_experiment_says_so() {
        let mut s = shop(10);
        s.experiment = None;
        let r = build(&s, &visitors("c", "control", 5, 1, 1000), &[], at(10), None).unwrap();
        assert_eq!(r.state, ReportState::NoExperiment);
        assert!(r.message.contains("[shops.experiment]"), "{}", r.message);
        assert!(r.analysis.is_none() && r.experiment.is_none());
    }

    #[test]
    fn few_visitors_are_not_enough_data() {
        let r = build(
            &shop(50),
            &visitors("c", "control", 1, 1, 1000),
            &[],
            at(10),
            None,
        )
        .unwrap();
        assert_eq!(r.state, ReportState::NotEnoughData);
        assert_eq!(r.analysis.unwrap().control.visitors, 1);
        let empty = build(&shop(50), &[], &[], at(10), None).unwrap();
        assert_eq!(empty.state, ReportState::NotEnoughData);
        assert_eq!(empty.period.unwrap().from, None);
    }

    #[test]
    fn arms_sizes_conversion_and_order_values_are_the_events() {
        // 50% holdout: 100 control visitors, 10 buying 100,000; 100 treatment visitors, 20
        // buying 150,000.
        let mut events = visitors("c", "control", 100, 10, 100_000);
        events.extend(visitors("t", "treatment", 100, 20, 150_000));
        // Not tied: no visitor; no arm; a visitor in both arms.
        events.push(Event {
            visitor: None,
            arm: None,
            ..event(EventKind::Purchase, "x", "control", 3)
        });
        events.push(Event {
            arm: None,
            ..event(EventKind::Impression, "y", "control", 3)
        });
        events.push(event(EventKind::Impression, "both", "control", 3));
        events.push(event(EventKind::Impression, "both", "treatment", 4));
        // After `now`: outside the period.
        events.push(event(EventKind::Impression, "late", "treatment", 30));
        let r = build(&shop(50), &events, &[], at(24), Some(7)).unwrap();
        assert_eq!(r.state, ReportState::Ready);
        assert_eq!(r.period.as_ref().unwrap().from, Some(at(1)));
        let a = r.analysis.unwrap();
        assert_eq!((a.control.visitors, a.treatment.visitors), (100, 100));
        assert_eq!(
            (a.control.converting_visitors, a.treatment.converting_visitors),
            (10, 20)
        );
        assert_eq!(a.control.conversion_rate, Some(0.1));
        assert_eq!(a.treatment.conversion_rate, Some(0.2));
        assert_eq!(a.control.average_order_value, Some(100_000));
        assert_eq!(a.treatment.average_order_value, Some(150_000));
        assert_eq!(a.control.revenue_per_visitor, Some(10_000));
        assert_eq!(a.treatment.revenue_per_visitor, Some(30_000));
        let conv = a.conversion_rate.unwrap();
        assert!((conv.difference - 0.1).abs() < 1e-12);
        assert!(!a.sample_ratio.mismatch, "a 100/100 split fits 50%");
        assert_eq!(a.revenue_per_visitor_bootstrap.unwrap().seed, 7);
        assert_eq!(
            r.untied,
            Untied {
                events_without_visitor: 1,
                events_without_arm: 1,
                purchases: 1,
                visitors_in_both_arms: 1,
            }
        );
    }

    #[test]
    fn a_skewed_split_is_flagged() {
        // 300 control against 100 treatment under a 50% holdout.
        let mut events = visitors("c", "control", 300, 30, 100_000);
        events.extend(visitors("t", "treatment", 100, 10, 100_000));
        let a = build(&shop(50), &events, &[], at(24), None)
            .unwrap()
            .analysis
            .unwrap();
        assert!(a.sample_ratio.mismatch, "{:?}", a.sample_ratio);
        assert!(a.sample_ratio.p_value < 0.001);
    }

    #[test]
    fn the_configured_start_bounds_the_period_and_arms_come_from_the_hash() {
        let mut s = shop(50);
        let settings = s.experiment.as_mut().unwrap();
        settings.started = NaiveDate::from_ymd_opt(2026, 11, 1);
        let salt = settings.salt.clone();
        // Visitors put in the arm the hash gives them, as the server does.
        let mut events = vec![event(EventKind::Impression, "before", "control", -5)];
        let mut expected = (0, 0);
        for i in 0..40 {
            let v = format!("visitor-{i}");
            let name = match arm(&v, &salt, 50) {
                Arm::Control => {
                    expected.0 += 1;
                    "control"
                }
                Arm::Treatment => {
                    expected.1 += 1;
                    "treatment"
                }
            };
            events.push(event(EventKind::Impression, &v, name, 1));
        }
        let r = build(&s, &events, &[], at(24), None).unwrap();
        assert_eq!(r.period.unwrap().from, Some(at(0)));
        let a = r.analysis.unwrap();
        assert_eq!((a.control.visitors, a.treatment.visitors), expected);
        assert_eq!(
            r.experiment.unwrap().started,
            NaiveDate::from_ymd_opt(2026, 11, 1)
        );
    }
}
