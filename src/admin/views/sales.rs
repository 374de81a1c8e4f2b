//! The sales pages: the shop's orders per day, week or month (overview), and how orders
//! followed recommendations (performance).

use chrono::{NaiveDate, Utc};
use serde::Serialize;

use crate::admin::analytics::{
    self, default_range, performance_of, EventSummary, Overview, Performance, Period,
};
use crate::admin::views::queries::{bad, msg, OverviewQuery, PageError};
use crate::config::ShopSettings;
use crate::store::ShopStore;

/// Most buckets an overview may have, so that `period=day&from=1900-01-01` cannot make a
/// page of tens of thousands of rows.
pub const MAX_BUCKETS: i64 = 1000;

/// The shop's orders per day, week or month, computed from every order (the service
/// answers through [`crate::admin::views::OverviewCache`]).
pub fn overview(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    q: &OverviewQuery,
) -> Result<Overview, PageError> {
    overview_on(
        store,
        shop,
        q,
        analytics::local_date(Utc::now(), shop.timezone.offset_seconds),
    )
}

/// The overview on the shop's local date `today` (the range of a shop without orders).
pub(super) fn overview_on(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    q: &OverviewQuery,
    today: NaiveDate,
) -> Result<Overview, PageError> {
    let mut orders = store.orders(&shop.id)?;
    // New vs returning buyers counts people: a buyer id and its phone key are one.
    crate::loyalty::identity::CustomerLinks::from_orders(&orders).apply(&mut orders);
    let offset = shop.timezone.offset_seconds;
    let (default_from, default_to) = default_range(&orders, q.period, offset).unwrap_or((today, today));
    let to = q.to.unwrap_or(default_to);
    let from = q
        .from
        .unwrap_or(if default_from <= to { default_from } else { to });
    if from > to {
        return Err(bad(msg(
            "from={from} is after the range's end {to}: give to=YYYY-MM-DD too",
            &[("from", &from.to_string()), ("to", &to.to_string())],
        )));
    }
    let days = (to - from).num_days() + 1;
    let per_bucket = match q.period {
        Period::Day => 1,
        Period::Week => 7,
        Period::Month => 28,
    };
    if days / per_bucket > MAX_BUCKETS {
        return Err(bad(msg(
            "from={from} to={to} spans {days} days: at most {max} {period}s per page; choose a shorter range or a longer period",
            &[
                ("from", &from.to_string()),
                ("to", &to.to_string()),
                ("days", &days.to_string()),
                ("max", &MAX_BUCKETS.to_string()),
                ("period", q.period.as_str()),
            ],
        )));
    }
    Ok(analytics::overview(&orders, q.period, from, to, offset))
}

/// The attribution rule in one sentence, as the performance page states it.
pub fn attribution_rule(window_hours: u32) -> String {
    format!(
        "An order counts as following a recommendation when it was paid within {window_hours} hours after a click on a recommended product that the order contains (and, when the click came with a customer token, by that customer); it is credited once, to the latest such click, and \"other orders\" are the remaining purchases since the first widget event."
    )
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerformancePage {
    pub window_hours: u32,
    pub rule: String,
    /// Widget events recorded.
    pub events: usize,
    #[serde(flatten)]
    pub performance: Performance,
}

pub fn performance_page(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    events: &EventSummary,
) -> Result<PerformancePage, PageError> {
    let orders = store.orders(&shop.id)?;
    let hours = shop.analytics.attribution_window_hours;
    Ok(PerformancePage {
        window_hours: hours,
        rule: attribution_rule(hours),
        events: events.events,
        performance: performance_of(events, &orders, chrono::Duration::hours(i64::from(hours))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attribution_rule_names_the_window() {
        assert!(attribution_rule(72).contains("within 72 hours after a click"));
    }
}
