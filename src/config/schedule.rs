//! A shop's `sync_schedule`, checked once: a cron expression with six fields, seconds first,
//! read in the shop's time zone.
//!
//! It is parsed with the same `croner` version and the same parser settings that
//! `tokio-cron-scheduler` (the scheduler inside `laris serve`) uses, so an expression this
//! accepts is exactly the one the scheduler runs. One consequence of those settings: when
//! both a day of the month and a day of the week are given, a tick needs both to match
//! (`0 0 9 1-7 * MON` is the first Monday of each month).

use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use croner::parser::{CronParser, Seconds};
use croner::Cron;
use thiserror::Error;

use super::TimeZone;

/// The fix every schedule error ends with.
const FIX: &str = "use six fields, seconds first, e.g. `0 0 */6 * * *` (every six hours)";

#[derive(Debug, Error, PartialEq)]
pub enum ScheduleError {
    #[error("sync schedule {expr:?} has {found} fields: {FIX}")]
    Fields { expr: String, found: usize },
    #[error("sync schedule {expr:?} is not a cron expression ({reason}): {FIX}")]
    Invalid { expr: String, reason: String },
    #[error("sync schedule {expr:?} never comes round (it names a day that does not exist): pick days every month or year has, e.g. `0 0 2 1 * *` (02:00 on the 1st)")]
    Never { expr: String },
}

/// A validated sync schedule and the time zone it is read in.
#[derive(Debug, Clone)]
pub struct Schedule {
    expr: String,
    cron: Cron,
    timezone: TimeZone,
}

/// The parser `tokio-cron-scheduler` builds for every job (`Job::new_async_tz`).
fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Required)
        .dom_and_dow(true)
        .build()
}

impl Schedule {
    /// Checks `expr` (six fields, seconds first) for a shop in `timezone`.
    pub fn parse(expr: &str, timezone: &TimeZone) -> Result<Schedule, ScheduleError> {
        // croner also takes a seventh field (the year) and `@daily`: the config keeps to six.
        let found = expr.split_whitespace().count();
        if found != 6 {
            return Err(ScheduleError::Fields {
                expr: expr.to_string(),
                found,
            });
        }
        let cron = parser().parse(expr).map_err(|e| ScheduleError::Invalid {
            expr: expr.to_string(),
            reason: e.to_string(),
        })?;
        let schedule = Schedule {
            expr: expr.to_string(),
            cron,
            timezone: timezone.clone(),
        };
        // Without a year field, an expression that never fires from now on never fires at all.
        if schedule.next_after(Utc::now()).is_none() {
            return Err(ScheduleError::Never {
                expr: expr.to_string(),
            });
        }
        Ok(schedule)
    }

    /// The expression as the config has it.
    pub fn as_str(&self) -> &str {
        &self.expr
    }

    /// The shop's time zone the expression is read in.
    pub fn timezone(&self) -> &TimeZone {
        &self.timezone
    }

    pub fn offset(&self) -> FixedOffset {
        self.timezone.offset()
    }

    /// The first tick strictly after `after`, read in the shop's time zone.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&after.with_timezone(&self.offset()), false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// The expression, as written in the config (status output and the admin pages show it).
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

impl PartialEq<str> for Schedule {
    fn eq(&self, other: &str) -> bool {
        self.expr == other
    }
}

impl PartialEq<&str> for Schedule {
    fn eq(&self, other: &&str) -> bool {
        self.expr == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse(name).unwrap()
    }

    #[test]
    fn a_schedule_is_read_in_the_shops_time_zone() {
        // "At 02:00 every day" in WIB is 19:00 UTC the day before; in WIT, 17:00 UTC.
        let wib = Schedule::parse("0 0 2 * * *", &zone("WIB")).unwrap();
        assert_eq!(
            wib.next_after(utc("2026-11-25T10:00:00Z")),
            Some(utc("2026-11-25T19:00:00Z"))
        );
        let wit = Schedule::parse("0 0 2 * * *", &zone("Asia/Jayapura")).unwrap();
        assert_eq!(
            wit.next_after(utc("2026-11-25T10:00:00Z")),
            Some(utc("2026-11-25T17:00:00Z"))
        );
        let utc_shop = Schedule::parse("0 */30 * * * *", &zone("UTC")).unwrap();
        assert_eq!(
            utc_shop.next_after(utc("2026-11-25T10:10:00Z")),
            Some(utc("2026-11-25T10:30:00Z"))
        );
        assert_eq!(wib.timezone().name, "Asia/Jakarta");
    }

    #[test]
    fn display_gives_back_the_expression_as_written() {
        let s = Schedule::parse("0 */30 * * * *", &zone("WIB")).unwrap();
        assert_eq!(s.to_string(), "0 */30 * * * *");
        assert_eq!(s, "0 */30 * * * *");
        assert_eq!(s.as_str(), "0 */30 * * * *");
    }

    #[test]
    fn a_bad_schedule_is_refused_naming_it_and_the_fix() {
        let wib = zone("WIB");
        for (expr, needle) in [
            ("*/30 * * * *", "has 5 fields"),
            ("0 0 0 1 1 * 2030", "has 7 fields"),
            ("@daily", "has 1 fields"),
            ("0 0 25 * * *", "is not a cron expression"),
            ("0 0 */6 * * FUNDAY", "is not a cron expression"),
            ("0 0 0 30 2 *", "never comes round"),
        ] {
            let err = Schedule::parse(expr, &wib).unwrap_err().to_string();
            assert!(err.contains(&format!("{expr:?}")), "{err}");
            assert!(err.contains(needle), "{expr}: {err}");
            assert!(err.contains("e.g. `0 0"), "{err}");
        }
    }

    #[test]
    fn a_day_of_month_and_a_day_of_week_must_both_match_as_the_scheduler_reads_them() {
        // The first Monday of the month at 09:00 UTC: after 2026-11-03 that is 2026-12-07.
        let s = Schedule::parse("0 0 9 1-7 * MON", &zone("UTC")).unwrap();
        assert_eq!(
            s.next_after(utc("2026-11-03T00:00:00Z")),
            Some(utc("2026-12-07T09:00:00Z"))
        );
    }
}
