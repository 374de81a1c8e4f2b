//! The sync schedule inside `laris serve`: each shop's `sync_schedule` (cron with seconds,
//! read in the shop's time zone) fires its sync; a run still going when the next tick comes
//! is not doubled (the agent refuses overlapping runs of one shop).
//!
//! The cron expression is parsed by `croner`; the loop is ours and runs on tokio's clock, so
//! that a test with paused time can walk through hours of ticks in milliseconds.

use std::future::Future;

use chrono::{DateTime, FixedOffset, Utc};
use croner::Cron;
use tokio::time::Instant;

/// Parses a six-field cron expression (seconds first), or says what is wrong with it.
pub fn parse(expr: &str) -> Result<Cron, String> {
    Cron::new(expr)
        .with_seconds_required()
        .parse()
        .map_err(|e| format!("{e}"))
}

/// The first tick strictly after `after`, in the shop's time zone.
pub fn next_tick(cron: &Cron, after: DateTime<Utc>, offset: FixedOffset) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after.with_timezone(&offset), false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Wall time read off tokio's clock: the wall time at start plus tokio's elapsed time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    wall: DateTime<Utc>,
    at: Instant,
}

impl Clock {
    pub fn starting_at(wall: DateTime<Utc>) -> Clock {
        Clock {
            wall,
            at: Instant::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.wall + chrono::Duration::from_std(self.at.elapsed()).unwrap_or_default()
    }

    /// The tokio instant at which the wall clock shows `t`.
    fn instant_of(&self, t: DateTime<Utc>) -> Instant {
        let ahead = (t - self.now()).to_std().unwrap_or_default();
        Instant::now() + ahead
    }
}

/// Calls `job` at every tick of `cron`, forever (the caller aborts the task to stop it).
pub async fn every<F, Fut>(cron: Cron, offset: FixedOffset, clock: Clock, mut job: F)
where
    F: FnMut(DateTime<Utc>) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut after = clock.now();
    loop {
        let Some(tick) = next_tick(&cron, after, offset) else {
            tracing::warn!(
                schedule = cron.as_str(),
                "the schedule has no next tick: no more scheduled syncs"
            );
            return;
        };
        tokio::time::sleep_until(clock.instant_of(tick)).await;
        job(tick).await;
        // A run longer than the interval skips the ticks it covered rather than firing late.
        after = clock.now().max(tick);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_schedule_is_read_in_the_shops_time_zone() {
        let wib = FixedOffset::east_opt(7 * 3600).unwrap();
        // "At 02:00 every day" in WIB is 19:00 UTC the day before.
        let cron = parse("0 0 2 * * *").unwrap();
        assert_eq!(
            next_tick(&cron, utc("2026-11-25T10:00:00Z"), wib),
            Some(utc("2026-11-25T19:00:00Z"))
        );
        let err = parse("*/30 * * * *").unwrap_err();
        assert!(!err.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn with_paused_time_every_half_hour_fires_at_each_half_hour() {
        let wib = FixedOffset::east_opt(7 * 3600).unwrap();
        let clock = Clock::starting_at(utc("2026-11-25T10:10:00Z"));
        let fired = Arc::new(Mutex::new(Vec::new()));
        let log = fired.clone();
        let task = tokio::spawn(every(parse("0 */30 * * * *").unwrap(), wib, clock, move |tick| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push((tick, clock.now()));
            }
        }));
        tokio::time::sleep(std::time::Duration::from_secs(2 * 3600)).await;
        task.abort();
        let fired = fired.lock().unwrap().clone();
        let ticks: Vec<_> = fired.iter().map(|(t, _)| t.to_rfc3339()).collect();
        assert_eq!(
            ticks,
            [
                "2026-11-25T10:30:00+00:00",
                "2026-11-25T11:00:00+00:00",
                "2026-11-25T11:30:00+00:00",
                "2026-11-25T12:00:00+00:00"
            ]
        );
        for (tick, ran_at) in fired {
            assert_eq!(tick, ran_at, "each job runs at its tick");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_longer_than_the_interval_skips_the_ticks_it_covered() {
        let clock = Clock::starting_at(utc("2026-11-25T10:00:00Z"));
        let fired = Arc::new(Mutex::new(Vec::new()));
        let log = fired.clone();
        let task = tokio::spawn(every(
            parse("0 * * * * *").unwrap(),
            FixedOffset::east_opt(0).unwrap(),
            clock,
            move |tick| {
                let log = log.clone();
                async move {
                    log.lock().unwrap().push(tick);
                    // Each run takes 150 s: the ticks at +2 and +3 minutes are covered.
                    tokio::time::sleep(std::time::Duration::from_secs(150)).await;
                }
            },
        ));
        tokio::time::sleep(std::time::Duration::from_secs(330)).await;
        task.abort();
        let minutes: Vec<u32> = fired
            .lock()
            .unwrap()
            .iter()
            .map(chrono::Timelike::minute)
            .collect();
        assert_eq!(minutes, [1, 4]);
    }
}
