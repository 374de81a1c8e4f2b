//! Sales and recommendation figures for the admin dashboard: the overview per day, week or
//! month, best-sellers, the widget's performance with order attribution, and the spend
//! histogram behind the loyalty tiers. Pure functions over orders and events; money stays
//! whole rupiah (averages are integer divisions), only rates are floats.
//!
//! # Overview
//!
//! Orders are bucketed by the local date of `paid_at` in the shop's time zone (a fixed
//! offset: Indonesia has no daylight saving), so an order paid at 2026-10-31T18:00Z is a
//! 1 November order in a WIB shop. Weeks are ISO weeks, Monday to Sunday, labelled
//! `2026-W44`; months are labelled `2026-10`; days `2026-10-31`. The requested range is
//! widened to whole buckets and every bucket in it is listed, empty ones too.
//!
//! - *orders*: every order paid in the bucket, whatever its status;
//! - *paid orders*, *revenue*: purchases only (cancelled, rejected, returned and fraud
//!   orders never count); revenue is the products total, without shipping;
//! - *new customers*: customers whose first purchase ever falls in the bucket;
//! - *returning customers*: customers who bought in the bucket and had first bought in an
//!   earlier one. A customer counts once per bucket, so new + returning is the number of
//!   distinct buyers. In the totals, new customers first bought in the range and returning
//!   ones bought in it after an earlier purchase (before or in the range), so a bucket's
//!   returning customer is never missing from the total.
//!
//! # Attribution of orders to recommendation clicks
//!
//! A purchase is attributed to a widget click when all of these hold:
//!
//! 1. the order contains the clicked item: one of its lines has that product id (or, for a
//!    line without a product id, that SKU);
//! 2. it was paid within the window after the click: `click.at < paid_at <= click.at + window`;
//! 3. when the click carries a customer id (set by the server from a verified customer
//!    token), the order is that customer's; an anonymous click may be credited with any
//!    customer's order of the item.
//!
//! Each order is attributed at most once, to the latest qualifying click, whose slot gets the
//! credit. Its attributed revenue is the order's whole products total; the revenue of the
//! clicked items' own lines is reported beside it. Only purchases count, and clicks without
//! a time are ignored.
//!
//! The comparison group ("other orders") is every purchase not attributed that was paid at
//! or after the first recorded widget event, so that both groups cover the same period:
//! orders from before the widget was installed do not dilute it. The uplift compares the
//! two average order values; it is an association, not a measured causal effect (customers
//! who click recommendations may be the ones who buy more anyway).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::{CustomerId, ProductId, Rupiah, Slot};
use crate::loyalty::tiers::Tier;
use crate::records::{Event, EventKind, Order, OrderLine};

/// A dashboard parameter that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnalyticsError {
    #[error("unknown period {0:?}: use day, week or month")]
    Period(String),
}

/// The size of an overview bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub const CHOICES: [&'static str; 3] = ["day", "week", "month"];

    pub fn parse(raw: &str) -> Result<Period, AnalyticsError> {
        match raw {
            "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            other => Err(AnalyticsError::Period(other.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The first day of the bucket that holds `date` (a Monday for weeks).
    pub fn bucket_start(self, date: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => date,
            Period::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
            Period::Month => date.with_day(1).expect("every month has a first day"),
        }
    }

    /// The first day of the bucket after the one starting at `start`; `None` past the calendar's end.
    fn next_start(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Period::Day => start.succ_opt(),
            Period::Week => start.checked_add_signed(Duration::days(7)),
            Period::Month => start.checked_add_months(Months::new(1)),
        }
    }

    /// `2026-10-05`, `2026-W41` (the ISO week-numbering year) or `2026-10`.
    pub fn label(self, start: NaiveDate) -> String {
        match self {
            Period::Day => start.to_string(),
            Period::Week => {
                let week = start.iso_week();
                format!("{:04}-W{:02}", week.year(), week.week())
            }
            Period::Month => format!("{:04}-{:02}", start.year(), start.month()),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = AnalyticsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

/// The shop's calendar date of an instant, at a fixed offset from UTC.
pub fn local_date(at: DateTime<Utc>, offset_seconds: i32) -> NaiveDate {
    at.naive_utc()
        .checked_add_signed(Duration::seconds(i64::from(offset_seconds)))
        .unwrap_or_else(|| at.naive_utc())
        .date()
}

/// The figures of one bucket (or of the whole range, for the totals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub start: NaiveDate,
    pub label: String,
    /// Every order paid in the bucket, whatever its status.
    pub orders: u64,
    /// Purchases only.
    pub paid_orders: u64,
    /// Products total of the purchases, without shipping.
    pub revenue: Rupiah,
    /// `revenue / paid_orders`, rounded down; 0 without purchases.
    pub average_order_value: Rupiah,
    pub new_customers: u64,
    pub returning_customers: u64,
    /// The shop's data ends inside this bucket (its latest order is before the bucket's
    /// last day): a period still running, not comparable with whole ones.
    pub partial: bool,
}

impl Bucket {
    fn empty(start: NaiveDate, label: String) -> Bucket {
        Bucket {
            start,
            label,
            orders: 0,
            paid_orders: 0,
            revenue: Rupiah(0),
            average_order_value: Rupiah(0),
            new_customers: 0,
            returning_customers: 0,
            partial: false,
        }
    }
}

/// Sales per day, week or month over a range of the shop's local dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overview {
    pub period: Period,
    /// First day of the first bucket.
    pub from: NaiveDate,
    /// Last day of the last bucket (inclusive).
    pub to: NaiveDate,
    /// Contiguous, oldest first, empty buckets included.
    pub buckets: Vec<Bucket>,
    /// The whole range; its label is `total`.
    pub totals: Bucket,
}

fn average(revenue: Rupiah, orders: u64) -> Rupiah {
    match i64::try_from(orders) {
        Ok(n) if n > 0 => Rupiah(revenue.0 / n),
        _ => Rupiah(0),
    }
}

/// Sales from `from` to `to` (local dates, inclusive, widened to whole buckets), bucketed
/// by the local date of `paid_at`. A `from` after `to` gives no buckets.
pub fn overview(
    orders: &[Order],
    period: Period,
    from: NaiveDate,
    to: NaiveDate,
    offset_seconds: i32,
) -> Overview {
    let from = period.bucket_start(from);
    let to = period
        .next_start(period.bucket_start(to))
        .and_then(|next| next.pred_opt())
        .unwrap_or(to);

    // First purchase ever, from all orders and not only the range: it decides new vs returning.
    let mut first_purchase: HashMap<&CustomerId, NaiveDate> = HashMap::new();
    let data_end = orders.iter().map(|o| local_date(o.paid_at, offset_seconds)).max();
    for o in orders.iter().filter(|o| o.is_purchase()) {
        let day = local_date(o.paid_at, offset_seconds);
        first_purchase
            .entry(&o.customer)
            .and_modify(|d| *d = (*d).min(day))
            .or_insert(day);
    }

    let mut buckets = Vec::new();
    let mut start = from;
    while start <= to {
        buckets.push(Bucket::empty(start, period.label(start)));
        match period.next_start(start) {
            Some(next) => start = next,
            None => break,
        }
    }

    let mut buyers: Vec<HashSet<&CustomerId>> = vec![HashSet::new(); buckets.len()];
    let mut totals = Bucket::empty(from, "total".to_string());
    // Each buyer's latest purchase day in the range.
    let mut range_buyers: HashMap<&CustomerId, NaiveDate> = HashMap::new();
    for o in orders {
        let day = local_date(o.paid_at, offset_seconds);
        if day < from || day > to || buckets.is_empty() {
            continue;
        }
        let i = buckets.partition_point(|b| b.start <= day) - 1;
        let b = &mut buckets[i];
        b.orders += 1;
        totals.orders += 1;
        if o.is_purchase() {
            b.paid_orders += 1;
            b.revenue = Rupiah(b.revenue.0.saturating_add(o.products_total.0));
            totals.paid_orders += 1;
            totals.revenue = Rupiah(totals.revenue.0.saturating_add(o.products_total.0));
            buyers[i].insert(&o.customer);
            let latest = range_buyers.entry(&o.customer).or_insert(day);
            *latest = (*latest).max(day);
        }
    }

    let split = |set: &HashSet<&CustomerId>, start: NaiveDate| -> (u64, u64) {
        let new = set.iter().filter(|c| first_purchase[*c] >= start).count() as u64;
        (new, set.len() as u64 - new)
    };
    for (b, set) in buckets.iter_mut().zip(&buyers) {
        b.average_order_value = average(b.revenue, b.paid_orders);
        (b.new_customers, b.returning_customers) = split(set, b.start);
        let last_day = period.next_start(b.start).and_then(|n| n.pred_opt());
        b.partial = matches!((data_end, last_day), (Some(end), Some(last)) if end >= b.start && end < last);
    }
    totals.average_order_value = average(totals.revenue, totals.paid_orders);
    // New: first purchase in the range. Returning: a purchase in the range after an earlier
    // one, so every bucket's returning customer is one here too; a customer new in the
    // range who came back counts in both.
    totals.new_customers = range_buyers.keys().filter(|c| first_purchase[*c] >= from).count() as u64;
    totals.returning_customers = range_buyers
        .iter()
        .filter(|(c, latest)| **latest > first_purchase[*c])
        .count() as u64;

    Overview {
        period,
        from,
        to,
        buckets,
        totals,
    }
}

/// The range a dashboard opens on: the last 30 days, 12 weeks or 12 months ending at the
/// local date of the latest order, but not before the bucket of the first order (no empty
/// leading periods for a young shop). `None` without orders.
pub fn default_range(
    orders: &[Order],
    period: Period,
    offset_seconds: i32,
) -> Option<(NaiveDate, NaiveDate)> {
    let last = orders
        .iter()
        .map(|o| local_date(o.paid_at, offset_seconds))
        .max()?;
    let first = orders
        .iter()
        .map(|o| local_date(o.paid_at, offset_seconds))
        .min()?;
    let from = match period {
        Period::Day => last.checked_sub_signed(Duration::days(29)),
        Period::Week => period.bucket_start(last).checked_sub_signed(Duration::weeks(11)),
        Period::Month => period.bucket_start(last).checked_sub_months(Months::new(11)),
    };
    Some((
        from.unwrap_or(NaiveDate::MIN).max(period.bucket_start(first)),
        last,
    ))
}

/// The clicked-item key of an order line: its product id, else its SKU.
fn line_item(line: &OrderLine) -> Option<&str> {
    line.product.as_ref().map(|p| p.as_str()).or(line.sku.as_deref())
}

/// One product's sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BestSeller {
    /// The product id, else the line's SKU, else its name (a product Laris does not know).
    pub key: String,
    /// The name on the most recent line.
    pub name: String,
    pub quantity: u64,
    /// Sum of the lines (unit price × quantity).
    pub revenue: Rupiah,
    /// Distinct purchases that contained it.
    pub orders: u64,
}

/// The `limit` products sold in the largest quantities over all purchases; ties by revenue, then key.
pub fn best_sellers(orders: &[Order], limit: usize) -> Vec<BestSeller> {
    struct Tally<'a> {
        name: &'a str,
        named_at: DateTime<Utc>,
        quantity: u64,
        revenue: i64,
        orders: u64,
        last_invoice: &'a str,
    }
    let mut tallies: HashMap<&str, Tally> = HashMap::new();
    for o in orders.iter().filter(|o| o.is_purchase()) {
        for line in &o.lines {
            let key = line_item(line).unwrap_or(&line.name);
            let t = tallies.entry(key).or_insert(Tally {
                name: &line.name,
                named_at: o.paid_at,
                quantity: 0,
                revenue: 0,
                orders: 0,
                last_invoice: "",
            });
            if o.paid_at > t.named_at {
                t.name = &line.name;
                t.named_at = o.paid_at;
            }
            t.quantity += u64::from(line.quantity);
            t.revenue = t.revenue.saturating_add(line.total().0);
            // Two lines of one product in an order count as one order.
            if t.last_invoice != o.invoice {
                t.orders += 1;
                t.last_invoice = &o.invoice;
            }
        }
    }
    let mut out: Vec<BestSeller> = tallies
        .into_iter()
        .map(|(key, t)| BestSeller {
            key: key.to_string(),
            name: t.name.to_string(),
            quantity: t.quantity,
            revenue: Rupiah(t.revenue),
            orders: t.orders,
        })
        .collect();
    out.sort_by(|a, b| {
        b.quantity
            .cmp(&a.quantity)
            .then(b.revenue.cmp(&a.revenue))
            .then_with(|| a.key.cmp(&b.key))
    });
    out.truncate(limit);
    out
}

/// Where events without a slot are counted.
pub const NO_SLOT: &str = "(none)";

/// The widget's traffic in one slot (or in all, for the total).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotStats {
    pub slot: String,
    pub impressions: u64,
    pub clicks: u64,
    /// `clicks / impressions`; 0 without impressions.
    pub ctr: f64,
    pub add_to_carts: u64,
}

impl SlotStats {
    fn new(slot: &str) -> SlotStats {
        SlotStats {
            slot: slot.to_string(),
            impressions: 0,
            clicks: 0,
            ctr: 0.0,
            add_to_carts: 0,
        }
    }

    fn count(&mut self, kind: EventKind) {
        match kind {
            EventKind::Impression => self.impressions += 1,
            EventKind::Click => self.clicks += 1,
            EventKind::AddToCart => self.add_to_carts += 1,
            EventKind::Purchase | EventKind::Exposure => {}
        }
    }

    fn finish(&mut self) {
        self.ctr = if self.impressions > 0 {
            self.clicks as f64 / self.impressions as f64
        } else {
            0.0
        };
    }
}

/// The orders credited to one slot's clicks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotAttribution {
    pub slot: String,
    pub orders: u64,
    pub revenue: Rupiah,
}

/// Orders that followed a recommendation click against the rest (rule in the module doc).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    pub window_hours: i64,
    pub attributed_orders: u64,
    /// Products total of the attributed orders.
    pub attributed_revenue: Rupiah,
    /// The attributed orders' lines of the clicked items alone.
    pub clicked_item_revenue: Rupiah,
    /// Purchases not attributed, paid at or after the first event.
    pub other_orders: u64,
    pub other_revenue: Rupiah,
    pub aov_after_click: Rupiah,
    pub aov_other: Rupiah,
    /// `aov_after_click / aov_other − 1` from the exact averages; `None` when a group is empty.
    pub uplift: Option<f64>,
    /// By the slot of the credited click, in slot order.
    pub per_slot: Vec<SlotAttribution>,
}

/// The recommendation-performance page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Performance {
    /// One row per slot seen in the events, in slot order.
    pub slots: Vec<SlotStats>,
    /// All events together; its slot is `all`.
    pub total: SlotStats,
    pub attribution: Attribution,
}

/// What the performance page needs of a shop's events, kept up to date as events arrive so
/// that the page never reads them all: counts per slot and type, the clicks (the only
/// events attribution looks at) and the first event's time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventSummary {
    /// Events counted.
    pub events: usize,
    per_slot: BTreeMap<String, SlotStats>,
    total: Option<SlotStats>,
    clicks: Vec<Event>,
    first_event: Option<DateTime<Utc>>,
}

impl EventSummary {
    pub fn of(events: &[Event]) -> EventSummary {
        let mut s = EventSummary::default();
        for e in events {
            s.add(e);
        }
        s
    }

    /// Counts a widget event; an experiment's exposures are the server's bookkeeping, not
    /// widget activity, and are left out.
    pub fn add(&mut self, e: &Event) {
        if e.kind == EventKind::Exposure {
            return;
        }
        self.events += 1;
        let slot = e.slot.map_or(NO_SLOT, Slot::as_str);
        self.per_slot
            .entry(slot.to_string())
            .or_insert_with(|| SlotStats::new(slot))
            .count(e.kind);
        self.total
            .get_or_insert_with(|| SlotStats::new("all"))
            .count(e.kind);
        if e.kind == EventKind::Click {
            self.clicks.push(e.clone());
        }
        if let Some(at) = e.at {
            self.first_event = Some(self.first_event.map_or(at, |f| f.min(at)));
        }
    }
}

/// Impressions, clicks, CTR and add-to-carts per slot, and the attribution of purchases to
/// clicks within `window` (see the module doc for the rule).
pub fn performance(events: &[Event], orders: &[Order], window: Duration) -> Performance {
    performance_of(&EventSummary::of(events), orders, window)
}

/// [`performance`] from a summary of the events.
pub fn performance_of(summary: &EventSummary, orders: &[Order], window: Duration) -> Performance {
    let mut slots: Vec<SlotStats> = summary.per_slot.values().cloned().collect();
    for s in &mut slots {
        s.finish();
    }
    let mut total = summary.total.clone().unwrap_or_else(|| SlotStats::new("all"));
    total.finish();
    Performance {
        slots,
        total,
        attribution: attribute(&summary.clicks, summary.first_event, orders, window),
    }
}

fn attribute(
    events: &[Event],
    first_event: Option<DateTime<Utc>>,
    orders: &[Order],
    window: Duration,
) -> Attribution {
    // Clicks by item, oldest first, so each line's candidates are one binary search away.
    let mut clicks: HashMap<&str, Vec<(DateTime<Utc>, &Event)>> = HashMap::new();
    for e in events.iter().filter(|e| e.kind == EventKind::Click) {
        if let (Some(at), Some(item)) = (e.at, e.item.as_ref().map(ProductId::as_str)) {
            clicks.entry(item).or_default().push((at, e));
        }
    }
    for list in clicks.values_mut() {
        list.sort_by_key(|(at, _)| *at);
    }
    // A click signed for a buyer id and an order under their phone key are one person's.
    let links = crate::loyalty::identity::CustomerLinks::from_orders(orders);
    let same_person = |click: &str, order: &CustomerId| {
        click == order.0 || links.resolve(&CustomerId(click.to_string())) == links.resolve(order)
    };

    let mut attributed = (0u64, 0i64);
    let mut item_revenue = 0i64;
    let mut other = (0u64, 0i64);
    let mut by_slot: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
    for o in orders.iter().filter(|o| o.is_purchase()) {
        let mut credited: Option<(DateTime<Utc>, &Event)> = None;
        let mut clicked_items: HashSet<&str> = HashSet::new();
        for item in o.lines.iter().filter_map(line_item) {
            let Some(list) = clicks.get(item) else { continue };
            let before = list.partition_point(|(at, _)| *at < o.paid_at);
            // Latest first: the first click that qualifies is this item's latest.
            for &(at, click) in list[..before].iter().rev() {
                if at.checked_add_signed(window).is_some_and(|end| o.paid_at > end) {
                    break;
                }
                if click
                    .customer
                    .as_deref()
                    .is_some_and(|c| !same_person(c, &o.customer))
                {
                    continue;
                }
                clicked_items.insert(item);
                if credited.is_none_or(|(best, _)| at > best) {
                    credited = Some((at, click));
                }
                break;
            }
        }
        match credited {
            Some((_, click)) => {
                attributed.0 += 1;
                attributed.1 = attributed.1.saturating_add(o.products_total.0);
                let lines: i64 = o
                    .lines
                    .iter()
                    .filter(|l| line_item(l).is_some_and(|i| clicked_items.contains(i)))
                    .map(|l| l.total().0)
                    .sum();
                item_revenue = item_revenue.saturating_add(lines);
                let slot = by_slot
                    .entry(click.slot.map_or(NO_SLOT, Slot::as_str))
                    .or_default();
                slot.0 += 1;
                slot.1 = slot.1.saturating_add(o.products_total.0);
            }
            None if first_event.is_some_and(|first| o.paid_at >= first) => {
                other.0 += 1;
                other.1 = other.1.saturating_add(o.products_total.0);
            }
            None => {}
        }
    }

    let uplift = (attributed.0 > 0 && other.0 > 0 && other.1 > 0).then(|| {
        let after = attributed.1 as f64 / attributed.0 as f64;
        let rest = other.1 as f64 / other.0 as f64;
        after / rest - 1.0
    });
    Attribution {
        window_hours: window.num_hours(),
        attributed_orders: attributed.0,
        attributed_revenue: Rupiah(attributed.1),
        clicked_item_revenue: Rupiah(item_revenue),
        other_orders: other.0,
        other_revenue: Rupiah(other.1),
        aov_after_click: average(Rupiah(attributed.1), attributed.0),
        aov_other: average(Rupiah(other.1), other.0),
        uplift,
        per_slot: by_slot
            .into_iter()
            .map(|(slot, (orders, revenue))| SlotAttribution {
                slot: slot.to_string(),
                orders,
                revenue: Rupiah(revenue),
            })
            .collect(),
    }
}

/// Customers in one spend range: `lo <= spend < hi` (the last bin includes `hi`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistogramBin {
    pub lo: Rupiah,
    pub hi: Rupiah,
    pub count: u64,
}

/// How customers' spends spread, with the loyalty tiers' lower bounds to draw over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Histogram {
    /// Contiguous from Rp0; empty when there were no spends.
    pub bins: Vec<HistogramBin>,
    /// (tier name, lower bound), lowest first.
    pub boundaries: Vec<(String, Rupiah)>,
}

/// The smallest of 1, 2, 2.5 and 5 × 10ⁿ (whole numbers only) that is at least `x`.
pub(crate) fn nice_ceil(x: i64) -> i64 {
    if x <= 1 {
        return 1;
    }
    let mut p: i64 = 1;
    loop {
        let candidates = [
            Some(p),
            p.checked_mul(2),
            (p >= 10).then(|| p / 2 * 5),
            p.checked_mul(5),
        ];
        for c in candidates.into_iter().flatten() {
            if c >= x {
                return c;
            }
        }
        match p.checked_mul(10) {
            Some(next) => p = next,
            None => return x,
        }
    }
}

/// The tiers' lower bounds, as the histogram draws them.
pub fn tier_boundaries(ladder: &[Tier]) -> Vec<(String, Rupiah)> {
    ladder.iter().map(|t| (t.name.clone(), t.min_spend)).collect()
}

/// Customers' spends (e.g. `total_spend` of each customer) in at most `bins` bins of a
/// round rupiah width starting at Rp0, wide enough to show every boundary too. Negative
/// spends count as Rp0.
pub fn spend_histogram(spends: &[Rupiah], bins: usize, boundaries: &[(String, Rupiah)]) -> Histogram {
    let boundaries = boundaries.to_vec();
    let Some(max_spend) = spends.iter().map(|s| s.0.max(0)).max() else {
        return Histogram {
            bins: Vec::new(),
            boundaries,
        };
    };
    let top = boundaries.iter().map(|(_, b)| b.0).fold(max_spend, i64::max);
    let wanted = i64::try_from(bins.max(1)).unwrap_or(i64::MAX);
    let width = nice_ceil(top / wanted + i64::from(top % wanted != 0));
    let count = usize::try_from((top / width + i64::from(top % width != 0)).max(1)).unwrap_or(1);
    let mut out: Vec<HistogramBin> = (0..count)
        .map(|i| {
            let lo = width.saturating_mul(i as i64);
            HistogramBin {
                lo: Rupiah(lo),
                hi: Rupiah(lo.saturating_add(width)),
                count: 0,
            }
        })
        .collect();
    for s in spends {
        let i = usize::try_from(s.0.max(0) / width)
            .unwrap_or(usize::MAX)
            .min(count - 1);
        out[i].count += 1;
    }
    Histogram {
        bins: out,
        boundaries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrderStatus, ProductId};

    const WIB: i32 = 7 * 3600;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn line(product: &str, quantity: u32, unit_price: i64) -> OrderLine {
        OrderLine {
            product: Some(ProductId::parse(product).unwrap()),
            marketplace_product_id: None,
            sku: None,
            name: format!("Produk {product}"),
            quantity,
            unit_price: Rupiah(unit_price),
        }
    }

    fn order(invoice: &str, customer: &str, status: i64, paid_at: &str, lines: Vec<OrderLine>) -> Order {
        let total = lines.iter().map(|l| l.total().0).sum();
        Order {
            invoice: invoice.into(),
            marketplace_id: None,
            customer: CustomerId(customer.into()),
            buyer_name: None,
            phone: None,
            city: None,
            status: OrderStatus(status),
            created_at: at(paid_at),
            paid_at: at(paid_at),
            updated_at: at(paid_at),
            lines,
            products_total: Rupiah(total),
            shipping: Rupiah(9_000),
        }
    }

    /// Six orders around the end of October 2026 in a WIB shop; o4 is cancelled.
    fn sales() -> Vec<Order> {
        vec![
            order(
                "o1",
                "c1",
                700,
                "2026-10-30T03:00:00Z",
                vec![line("SRD-100", 1, 50_000)],
            ),
            order(
                "o2",
                "c2",
                700,
                "2026-10-31T16:59:00Z",
                vec![line("TPG-100", 1, 30_000)],
            ),
            // 01:00 on 1 November in Jakarta.
            order(
                "o3",
                "c1",
                700,
                "2026-10-31T18:00:00Z",
                vec![line("SRD-100", 2, 50_000)],
            ),
            order(
                "o4",
                "c3",
                0,
                "2026-11-01T05:00:00Z",
                vec![line("KRP-200", 1, 70_000)],
            ),
            order(
                "o5",
                "c3",
                600,
                "2026-11-02T02:00:00Z",
                vec![line("TPG-100", 1, 20_000)],
            ),
            order(
                "o6",
                "c2",
                700,
                "2026-11-02T10:00:00Z",
                vec![line("SRD-100", 1, 25_000), line("TPG-100", 1, 15_000)],
            ),
        ]
    }

    type Row<'a> = (&'a str, u64, u64, i64, i64, u64, u64);

    fn rows(o: &Overview) -> Vec<Row<'_>> {
        o.buckets.iter().map(row).collect()
    }

    fn row(b: &Bucket) -> Row<'_> {
        (
            b.label.as_str(),
            b.orders,
            b.paid_orders,
            b.revenue.0,
            b.average_order_value.0,
            b.new_customers,
            b.returning_customers,
        )
    }

    #[test]
    fn periods_parse_by_name_and_an_unknown_one_is_refused_with_the_choices() {
        assert_eq!(Period::parse("week"), Ok(Period::Week));
        assert_eq!("month".parse::<Period>(), Ok(Period::Month));
        let err = Period::parse("daily").unwrap_err().to_string();
        assert_eq!(err, "unknown period \"daily\": use day, week or month");
    }

    #[test]
    fn bucket_labels_are_dates_iso_weeks_and_months() {
        assert_eq!(Period::Day.label(date("2026-10-05")), "2026-10-05");
        assert_eq!(Period::Week.bucket_start(date("2026-10-11")), date("2026-10-05"));
        assert_eq!(Period::Week.label(date("2026-10-05")), "2026-W41");
        // 1 January 2027 is a Friday in the 53rd ISO week of 2026.
        let start = Period::Week.bucket_start(date("2027-01-01"));
        assert_eq!(start, date("2026-12-28"));
        assert_eq!(Period::Week.label(start), "2026-W53");
        assert_eq!(
            Period::Month.label(Period::Month.bucket_start(date("2026-10-31"))),
            "2026-10"
        );
    }

    #[test]
    fn days_are_cut_at_local_midnight_and_a_cancelled_order_counts_only_as_an_order() {
        let o = overview(&sales(), Period::Day, date("2026-10-30"), date("2026-11-02"), WIB);
        assert_eq!(
            rows(&o),
            vec![
                ("2026-10-30", 1, 1, 50_000, 50_000, 1, 0),
                ("2026-10-31", 1, 1, 30_000, 30_000, 1, 0),
                ("2026-11-01", 2, 1, 100_000, 100_000, 0, 1),
                ("2026-11-02", 2, 2, 60_000, 30_000, 1, 1),
            ]
        );
        // Both days' returning customers bought before, so the total counts them too.
        assert_eq!(row(&o.totals), ("total", 6, 5, 240_000, 48_000, 3, 2));
        // In UTC the order paid at 18:00Z on 31 October stays in October.
        let utc = overview(&sales(), Period::Day, date("2026-10-31"), date("2026-10-31"), 0);
        assert_eq!(rows(&utc), vec![("2026-10-31", 2, 2, 130_000, 65_000, 1, 1)]);
    }

    #[test]
    fn empty_days_are_listed_as_zeros() {
        let o = overview(&sales(), Period::Day, date("2026-10-29"), date("2026-11-03"), WIB);
        let labels: Vec<&str> = o.buckets.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "2026-10-29",
                "2026-10-30",
                "2026-10-31",
                "2026-11-01",
                "2026-11-02",
                "2026-11-03"
            ]
        );
        assert_eq!(row(&o.buckets[0]), ("2026-10-29", 0, 0, 0, 0, 0, 0));
        assert_eq!(row(&o.buckets[5]), ("2026-11-03", 0, 0, 0, 0, 0, 0));
    }

    #[test]
    fn weeks_run_monday_to_sunday_and_a_customer_new_in_a_week_is_not_also_returning() {
        // Friday 30 October to Monday 2 November: two ISO weeks, widened to whole weeks.
        let o = overview(
            &sales(),
            Period::Week,
            date("2026-10-30"),
            date("2026-11-02"),
            WIB,
        );
        assert_eq!((o.from, o.to), (date("2026-10-26"), date("2026-11-08")));
        assert_eq!(
            rows(&o),
            vec![
                ("2026-W44", 4, 3, 180_000, 60_000, 2, 0),
                ("2026-W45", 2, 2, 60_000, 30_000, 1, 1),
            ]
        );
    }

    #[test]
    fn months_put_the_order_paid_after_local_midnight_in_november() {
        let o = overview(
            &sales(),
            Period::Month,
            date("2026-10-15"),
            date("2026-11-15"),
            WIB,
        );
        assert_eq!((o.from, o.to), (date("2026-10-01"), date("2026-11-30")));
        assert_eq!(
            rows(&o),
            vec![
                ("2026-10", 2, 2, 80_000, 40_000, 2, 0),
                ("2026-11", 4, 3, 160_000, 53_333, 1, 2),
            ]
        );
    }

    #[test]
    fn a_customer_who_first_bought_before_the_range_is_returning_in_the_totals() {
        let o = overview(&sales(), Period::Day, date("2026-11-01"), date("2026-11-02"), WIB);
        assert_eq!(row(&o.totals), ("total", 4, 3, 160_000, 53_333, 1, 2));
    }

    #[test]
    fn the_csv_has_one_row_per_bucket_with_plain_rupiah() {
        let o = overview(
            &sales(),
            Period::Week,
            date("2026-10-30"),
            date("2026-11-02"),
            WIB,
        );
        assert_eq!(
            crate::admin::csv::overview_csv(&o),
            "period,start,orders,paid_orders,revenue,average_order_value,new_customers,returning_customers\n\
             2026-W44,2026-10-26,4,3,180000,60000,2,0\n\
             2026-W45,2026-11-02,2,2,60000,30000,1,1\n"
        );
    }

    #[test]
    fn the_default_range_ends_at_the_latest_order_and_starts_no_earlier_than_the_first() {
        let orders = sales();
        // The shop's orders run from 30 October to 2 November (local): no empty leading
        // days, weeks or months.
        assert_eq!(
            default_range(&orders, Period::Day, WIB),
            Some((date("2026-10-30"), date("2026-11-02")))
        );
        assert_eq!(
            default_range(&orders, Period::Week, WIB),
            Some((date("2026-10-26"), date("2026-11-02")))
        );
        assert_eq!(
            default_range(&orders, Period::Month, WIB),
            Some((date("2026-10-01"), date("2026-11-02")))
        );
        // A long history is cut to 30 days, 12 weeks, 12 months.
        let mut long = orders.clone();
        long[0].paid_at = DateTime::parse_from_rfc3339("2024-01-15T03:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            default_range(&long, Period::Day, WIB),
            Some((date("2026-10-04"), date("2026-11-02")))
        );
        assert_eq!(
            default_range(&long, Period::Month, WIB),
            Some((date("2025-12-01"), date("2026-11-02")))
        );
        // The month of the latest order is still running on 2 November: marked partial.
        let months = overview(
            &orders,
            Period::Month,
            date("2026-10-01"),
            date("2026-11-02"),
            WIB,
        );
        let partial: Vec<bool> = months.buckets.iter().map(|b| b.partial).collect();
        assert_eq!(partial, vec![false, true]);
        assert_eq!(default_range(&[], Period::Day, WIB), None);
        let o = overview(&orders, Period::Week, date("2026-08-17"), date("2026-11-02"), WIB);
        assert_eq!(o.buckets.len(), 12);
    }

    #[test]
    fn best_sellers_rank_purchased_quantity_and_skip_cancelled_orders() {
        let top = best_sellers(&sales(), 2);
        let got: Vec<(&str, u64, i64, u64)> = top
            .iter()
            .map(|b| (b.key.as_str(), b.quantity, b.revenue.0, b.orders))
            .collect();
        assert_eq!(got, vec![("SRD-100", 4, 175_000, 3), ("TPG-100", 3, 65_000, 3)]);
        assert!(best_sellers(&sales(), 10).iter().all(|b| b.key != "KRP-200"));
    }

    fn event(kind: &str, slot: &str, item: Option<&str>, when: &str, customer: Option<&str>) -> Event {
        Event {
            kind: EventKind::parse(kind).unwrap(),
            slot: Some(Slot::parse(slot).unwrap()),
            product: Some(ProductId::parse("SRD-100").unwrap()),
            item: item.map(|i| ProductId::parse(i).unwrap()),
            at: Some(at(when)),
            customer: customer.map(String::from),
            visitor: None,
            arm: None,
            order: None,
            total: None,
            items: Vec::new(),
        }
    }

    fn sku_line(sku: &str, quantity: u32, unit_price: i64) -> OrderLine {
        OrderLine {
            product: None,
            marketplace_product_id: None,
            sku: Some(sku.into()),
            name: sku.into(),
            quantity,
            unit_price: Rupiah(unit_price),
        }
    }

    fn traffic() -> Vec<Event> {
        let mut events = Vec::new();
        for _ in 0..4 {
            events.push(event("impression", "similar", None, "2026-10-31T23:00:00Z", None));
        }
        for _ in 0..2 {
            events.push(event("impression", "bundle", None, "2026-10-31T23:00:00Z", None));
        }
        events.push(event("impression", "upsell", None, "2026-10-31T23:00:00Z", None));
        events.push(event(
            "click",
            "similar",
            Some("TPG-100"),
            "2026-11-01T00:00:00Z",
            None,
        ));
        events.push(event(
            "add_to_cart",
            "similar",
            Some("TPG-100"),
            "2026-11-01T00:01:00Z",
            None,
        ));
        events.push(event(
            "click",
            "bundle",
            Some("KRP-200"),
            "2026-11-04T00:00:00Z",
            Some("u7"),
        ));
        events.push(event(
            "click",
            "similar",
            Some("SRD-100"),
            "2026-11-05T00:00:00Z",
            None,
        ));
        events.push(event(
            "click",
            "bundle",
            Some("SRD-100"),
            "2026-11-05T01:00:00Z",
            None,
        ));
        // A click the server could not date is ignored for attribution.
        let mut undated = event("click", "upsell", Some("TPG-100"), "2026-11-03T00:00:00Z", None);
        undated.at = None;
        events.push(undated);
        events
    }

    fn purchases_after_clicks() -> Vec<Order> {
        vec![
            // Before the first event: in neither group.
            order(
                "p0",
                "u0",
                700,
                "2026-10-01T00:00:00Z",
                vec![line("TPG-100", 5, 20_000)],
            ),
            // 5 hours after the TPG-100 click: attributed to `similar`.
            order(
                "p1",
                "u1",
                700,
                "2026-11-01T05:00:00Z",
                vec![line("TPG-100", 1, 20_000), line("SRD-100", 1, 30_000)],
            ),
            // Cancelled: never counts.
            order(
                "p6",
                "u1",
                0,
                "2026-11-01T06:00:00Z",
                vec![line("TPG-100", 1, 20_000)],
            ),
            // 48 hours after the click: outside the 24-hour window.
            order(
                "p2",
                "u2",
                700,
                "2026-11-03T00:00:00Z",
                vec![line("TPG-100", 1, 20_000)],
            ),
            // The KRP-200 click was u7's, not u8's.
            order(
                "p3",
                "u8",
                700,
                "2026-11-04T01:00:00Z",
                vec![line("KRP-200", 1, 30_000)],
            ),
            // u7's own order, matched by SKU: attributed to `bundle`.
            order(
                "p4",
                "u7",
                700,
                "2026-11-04T02:00:00Z",
                vec![sku_line("KRP-200", 2, 30_000)],
            ),
            // Two SRD-100 clicks before it: credited once, to the later one (`bundle`).
            order(
                "p5",
                "u5",
                700,
                "2026-11-05T02:00:00Z",
                vec![line("SRD-100", 1, 30_000), line("GLA-300", 1, 10_000)],
            ),
        ]
    }

    #[test]
    fn purchases_are_attributed_to_the_latest_qualifying_click_and_compared_with_the_rest() {
        let p = performance(&traffic(), &purchases_after_clicks(), Duration::hours(24));
        let a = &p.attribution;
        assert_eq!(a.window_hours, 24);
        assert_eq!((a.attributed_orders, a.attributed_revenue), (3, Rupiah(150_000)));
        assert_eq!(a.clicked_item_revenue, Rupiah(20_000 + 60_000 + 30_000));
        assert_eq!((a.other_orders, a.other_revenue), (2, Rupiah(50_000)));
        assert_eq!((a.aov_after_click, a.aov_other), (Rupiah(50_000), Rupiah(25_000)));
        assert_eq!(a.uplift, Some(1.0));
        assert_eq!(
            a.per_slot,
            vec![
                SlotAttribution {
                    slot: "bundle".into(),
                    orders: 2,
                    revenue: Rupiah(100_000),
                },
                SlotAttribution {
                    slot: "similar".into(),
                    orders: 1,
                    revenue: Rupiah(50_000),
                },
            ]
        );
    }

    #[test]
    fn the_window_excludes_the_click_instant_and_includes_its_end() {
        let click = event("click", "similar", Some("TPG-100"), "2026-11-01T00:00:00Z", None);
        let same_instant = order(
            "a",
            "u1",
            700,
            "2026-11-01T00:00:00Z",
            vec![line("TPG-100", 1, 20_000)],
        );
        let at_the_end = order(
            "b",
            "u2",
            700,
            "2026-11-02T00:00:00Z",
            vec![line("TPG-100", 1, 20_000)],
        );
        let just_after = order(
            "c",
            "u3",
            700,
            "2026-11-02T00:00:01Z",
            vec![line("TPG-100", 1, 20_000)],
        );
        let p = performance(
            &[click],
            &[same_instant, at_the_end, just_after],
            Duration::hours(24),
        );
        assert_eq!(p.attribution.attributed_orders, 1);
        assert_eq!(p.attribution.other_orders, 2);
    }

    #[test]
    fn a_click_by_a_phone_key_is_credited_with_the_same_persons_order_under_their_buyer_id() {
        let click = |who: &str| {
            event(
                "click",
                "similar",
                Some("TPG-100"),
                "2026-11-01T00:00:00Z",
                Some(who),
            )
        };
        let mut by_id = order(
            "a",
            "777001",
            700,
            "2026-11-01T05:00:00Z",
            vec![line("TPG-100", 1, 20_000)],
        );
        by_id.phone = Some("628123456789".into());
        let window = Duration::hours(24);
        let p = performance(&[click("628123456789")], std::slice::from_ref(&by_id), window);
        assert_eq!(p.attribution.attributed_orders, 1);
        let p = performance(&[click("628999999999")], &[by_id], window);
        assert_eq!(p.attribution.attributed_orders, 0, "someone else's click");
    }

    #[test]
    fn without_attributed_orders_there_is_no_uplift() {
        let p = performance(&traffic(), &[], Duration::hours(24));
        assert_eq!(p.attribution.attributed_orders, 0);
        assert_eq!(p.attribution.aov_after_click, Rupiah(0));
        assert_eq!(p.attribution.uplift, None);
    }

    #[test]
    fn slot_ctr_is_clicks_over_impressions_and_zero_without_impressions() {
        let p = performance(&traffic(), &[], Duration::hours(24));
        let got: Vec<(&str, u64, u64, f64, u64)> = p
            .slots
            .iter()
            .map(|s| (s.slot.as_str(), s.impressions, s.clicks, s.ctr, s.add_to_carts))
            .collect();
        assert_eq!(
            got,
            vec![
                ("bundle", 2, 2, 1.0, 0),
                ("similar", 4, 2, 0.5, 1),
                ("upsell", 1, 1, 1.0, 0),
            ]
        );
        assert_eq!(
            (p.total.impressions, p.total.clicks, p.total.add_to_carts),
            (7, 5, 1)
        );
        let lone_click = performance(&traffic()[7..8], &[], Duration::hours(24));
        assert_eq!((lone_click.slots[0].clicks, lone_click.slots[0].ctr), (1, 0.0));
    }

    #[test]
    fn nice_bin_widths_are_one_two_two_and_a_half_or_five_times_a_power_of_ten() {
        let got: Vec<i64> = [0, 1, 3, 7, 12, 24, 96_000, 250_001]
            .into_iter()
            .map(nice_ceil)
            .collect();
        assert_eq!(got, vec![1, 1, 5, 10, 20, 25, 100_000, 500_000]);
    }

    #[test]
    fn spends_fall_into_round_bins_that_reach_the_highest_tier() {
        let spends = [0, 50_000, 120_000, 199_999, 200_000, 480_000].map(Rupiah);
        let tiers = vec![
            ("Bronze".to_string(), Rupiah(0)),
            ("Silver".to_string(), Rupiah(250_000)),
        ];
        let h = spend_histogram(&spends, 5, &tiers);
        let got: Vec<(i64, i64, u64)> = h.bins.iter().map(|b| (b.lo.0, b.hi.0, b.count)).collect();
        assert_eq!(
            got,
            vec![
                (0, 100_000, 2),
                (100_000, 200_000, 2),
                (200_000, 300_000, 1),
                (300_000, 400_000, 0),
                (400_000, 500_000, 1),
            ]
        );
        assert_eq!(h.boundaries, tiers);

        // A tier no one reaches yet still widens the range so it can be drawn.
        let h = spend_histogram(&spends, 5, &[("Platinum".to_string(), Rupiah(2_000_000))]);
        assert_eq!(h.bins.len(), 4);
        assert_eq!(h.bins[3].hi, Rupiah(2_000_000));
        assert_eq!(h.bins[0].count, 6);

        assert!(spend_histogram(&[], 5, &tiers).bins.is_empty());
        let zeros = spend_histogram(&[Rupiah(0), Rupiah(0)], 5, &[]);
        assert_eq!(
            zeros.bins,
            vec![HistogramBin {
                lo: Rupiah(0),
                hi: Rupiah(1),
                count: 2
            }]
        );
    }
}
