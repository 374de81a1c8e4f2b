//! The sync schedule inside `laris serve`: one `tokio-cron-scheduler` [`JobScheduler`] with
//! a job per shop that has sources, firing at the shop's `sync_schedule` read in its time
//! zone (a [`Schedule`], checked with the config by the same cron parser the scheduler uses).
//!
//! A tick that comes while the shop's previous scheduled run is still going is skipped and
//! logged; a tick that finds the shop busy with an on-demand sync, a replay or an import is
//! refused by the agent ([`SyncError::Busy`]) and logged as a skipped scheduled sync. So
//! runs of one shop are never doubled.
//!
//! [`SyncSchedule::shutdown`] stops the ticks, tells the runs under way to stop after the
//! page they are on (their [`SyncOptions::stop`]: each stores its reports, so no interrupted
//! run is left behind) and waits for them within the shutdown grace.
//!
//! The scheduler reads the wall clock, not tokio's, so its tests run in real time on
//! every-second schedules and count runs with tolerance.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};
use tokio_cron_scheduler::job::JobId;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::config::{Schedule, ShopSettings};
use crate::domain::ShopId;
use crate::sync::agent::{SyncAgent, SyncError, SyncOptions};

/// The running schedule of every shop that has sources.
pub struct SyncSchedule {
    scheduler: JobScheduler,
    jobs: Vec<(ShopId, JobId)>,
    runs: Arc<Runs>,
    stop: watch::Sender<bool>,
}

impl SyncSchedule {
    /// Schedules the agent's sync of each of `shops` that has sources; `None` when none has
    /// (no scheduler is started then).
    pub async fn start(
        agent: Arc<SyncAgent>,
        shops: &[ShopSettings],
    ) -> Result<Option<SyncSchedule>, SyncError> {
        let scheduled: Vec<(ShopId, Schedule)> = shops
            .iter()
            .filter(|s| !s.sources.is_empty())
            .map(|s| (s.id.clone(), s.sync_schedule.clone()))
            .collect();
        if scheduled.is_empty() {
            return Ok(None);
        }
        // The scheduler keeps its jobs (and what they hold) until its own tasks end, which
        // can be after the service has stopped: a job holds the agent weakly, so that the
        // store closes with the service.
        let agent = Arc::downgrade(&agent);
        let schedule = SyncSchedule::start_with(scheduled, move |shop, stop| {
            let agent = agent.upgrade();
            async move {
                if let Some(agent) = agent {
                    scheduled_sync(&agent, &shop, stop).await
                }
            }
        })
        .await?;
        Ok(Some(schedule))
    }

    /// The schedule with any job: `start` gives it the agent's sync; tests give it their own.
    async fn start_with<F, Fut>(shops: Vec<(ShopId, Schedule)>, job: F) -> Result<SyncSchedule, SyncError>
    where
        F: Fn(ShopId, watch::Receiver<bool>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let failed = |what: String| {
            move |e: tokio_cron_scheduler::JobSchedulerError| {
                SyncError::Other(format!("cannot start the sync schedule: {what} failed ({e:?})"))
            }
        };
        let mut scheduler = JobScheduler::new()
            .await
            .map_err(failed("making the scheduler".into()))?;
        scheduler
            .init()
            .await
            .map_err(failed("starting the scheduler".into()))?;
        let job = Arc::new(job);
        let runs = Arc::new(Runs::default());
        let (stop, stop_rx) = watch::channel(false);
        let mut jobs = Vec::new();
        for (shop, schedule) in shops {
            let (job, runs, stop_rx, id) = (job.clone(), runs.clone(), stop_rx.clone(), shop.clone());
            let run = move |_, _| -> Pin<Box<dyn Future<Output = ()> + Send>> {
                let (job, runs, stop, shop) = (job.clone(), runs.clone(), stop_rx.clone(), id.clone());
                Box::pin(async move {
                    if let Some(_running) = runs.begin(&shop) {
                        job(shop, stop).await;
                    }
                })
            };
            let added = Job::new_async_tz(schedule.as_str(), schedule.offset(), run).map_err(failed(
                format!("shop {shop}'s job for {schedule:?}", schedule = schedule.as_str()),
            ))?;
            let job_id = scheduler
                .add(added)
                .await
                .map_err(failed(format!("adding shop {shop}'s job")))?;
            let next = scheduler.next_tick_for_job(job_id).await.ok().flatten();
            tracing::info!(
                shop = %shop, schedule = %schedule, timezone = %schedule.timezone().name,
                next = ?next.map(|t| t.with_timezone(&schedule.offset()).to_rfc3339()),
                "sync scheduled"
            );
            jobs.push((shop, job_id));
        }
        scheduler
            .start()
            .await
            .map_err(failed("starting the ticks".into()))?;
        Ok(SyncSchedule {
            scheduler,
            jobs,
            runs,
            stop,
        })
    }

    /// When the scheduler will next sync `shop`, if it schedules it.
    pub async fn next_run(&self, shop: &ShopId) -> Option<DateTime<Utc>> {
        let (_, job_id) = self.jobs.iter().find(|(s, _)| s == shop)?;
        self.scheduler
            .clone()
            .next_tick_for_job(*job_id)
            .await
            .ok()
            .flatten()
    }

    /// Stops the ticks, tells the runs under way to stop after their page, and waits for
    /// them for at most `grace`. Returns the shops whose run was still going then.
    pub async fn shutdown(mut self, grace: Duration) -> Vec<ShopId> {
        self.runs.stop();
        let _ = self.stop.send(true);
        if let Err(e) = self.scheduler.shutdown().await {
            tracing::warn!(error = ?e, "stopping the sync scheduler failed");
        }
        if tokio::time::timeout(grace, self.runs.finished()).await.is_ok() {
            return Vec::new();
        }
        let left = self.runs.running();
        tracing::warn!(
            shops = ?left.iter().map(ShopId::as_str).collect::<Vec<_>>(),
            grace_secs = grace.as_secs(),
            "scheduled syncs still running after the shutdown grace: stopping without them (the next run carries on)"
        );
        left
    }
}

/// The scheduled run of one shop: the agent's sync, told when the service stops.
async fn scheduled_sync(agent: &SyncAgent, shop: &ShopId, stop: watch::Receiver<bool>) {
    tracing::debug!(shop = %shop, "scheduled sync");
    let options = SyncOptions {
        stop: Some(stop),
        ..Default::default()
    };
    match agent.sync_shop(shop.as_str(), &options).await {
        Ok(run) if run.ok => tracing::info!(shop = %shop, changed = run.changed, "scheduled sync finished"),
        Ok(run) => tracing::warn!(
            shop = %shop,
            errors = ?run.reports.iter().flat_map(|r| r.errors.clone()).collect::<Vec<_>>(),
            "scheduled sync finished with errors"
        ),
        // Another replica runs this shop's sync: nothing amiss.
        Err(e @ SyncError::Leased { .. }) => {
            tracing::info!(shop = %shop, reason = %e, "scheduled sync skipped")
        }
        Err(e) => tracing::warn!(shop = %shop, error = %e, "scheduled sync skipped"),
    }
}

/// The scheduled runs under way, and whether new ones may start.
#[derive(Default)]
struct Runs {
    state: Mutex<RunsState>,
    ended: Notify,
}

#[derive(Default)]
struct RunsState {
    stopping: bool,
    running: HashSet<ShopId>,
}

/// One shop's scheduled run under way; dropping it ends the run.
struct Running {
    runs: Arc<Runs>,
    shop: ShopId,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.runs.lock().running.remove(&self.shop);
        self.runs.ended.notify_waiters();
    }
}

impl Runs {
    fn lock(&self) -> std::sync::MutexGuard<'_, RunsState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The shop's run may start: not while the service stops, nor while its last one runs.
    fn begin(self: &Arc<Self>, shop: &ShopId) -> Option<Running> {
        let mut state = self.lock();
        if state.stopping {
            tracing::debug!(shop = %shop, "the service is stopping: no scheduled sync");
            return None;
        }
        if !state.running.insert(shop.clone()) {
            tracing::info!(shop = %shop, "scheduled sync skipped: the shop's previous scheduled run is still going");
            return None;
        }
        Some(Running {
            runs: self.clone(),
            shop: shop.clone(),
        })
    }

    fn stop(&self) {
        self.lock().stopping = true;
    }

    fn running(&self) -> Vec<ShopId> {
        self.lock().running.iter().cloned().collect()
    }

    /// Resolves when no run is under way.
    async fn finished(&self) {
        loop {
            // Made before the check, so an end between the two is not missed.
            let ended = self.ended.notified();
            if self.lock().running.is_empty() {
                return;
            }
            ended.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TimeZone;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn shop(id: &str) -> ShopId {
        ShopId::parse(id).unwrap()
    }

    fn every_second() -> Schedule {
        Schedule::parse("* * * * * *", &TimeZone::parse("WIB").unwrap()).unwrap()
    }

    /// Runs started, runs finished, and the most under way at once.
    #[derive(Default)]
    struct Counts {
        started: AtomicUsize,
        finished: AtomicUsize,
        now: AtomicUsize,
        most: AtomicUsize,
    }

    impl Counts {
        fn start(&self) {
            self.started.fetch_add(1, Ordering::SeqCst);
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
        }
        fn finish(&self) {
            self.now.fetch_sub(1, Ordering::SeqCst);
            self.finished.fetch_add(1, Ordering::SeqCst);
        }
        fn get(&self, n: &AtomicUsize) -> usize {
            n.load(Ordering::SeqCst)
        }
    }

    /// A schedule whose job takes `takes`, counted in the returned `Counts`.
    async fn counting(takes: Duration) -> (SyncSchedule, Arc<Counts>) {
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        let schedule = SyncSchedule::start_with(vec![(shop("toko"), every_second())], move |_, _| {
            let c = c.clone();
            async move {
                c.start();
                tokio::time::sleep(takes).await;
                c.finish();
            }
        })
        .await
        .unwrap();
        (schedule, counts)
    }

    #[tokio::test]
    async fn the_scheduler_reads_each_shops_schedule_in_its_time_zone() {
        let daily_2am = |zone: &str| Schedule::parse("0 0 2 * * *", &TimeZone::parse(zone).unwrap()).unwrap();
        let schedule = SyncSchedule::start_with(
            vec![
                (shop("jakarta"), daily_2am("WIB")),
                (shop("jayapura"), daily_2am("WIT")),
            ],
            |_, _| async {},
        )
        .await
        .unwrap();
        let now = Utc::now();
        // 02:00 WIB is 19:00 UTC; 02:00 WIT is 17:00 UTC: each within the next day.
        for (id, utc_hour) in [("jakarta", 19), ("jayapura", 17)] {
            let next = schedule.next_run(&shop(id)).await.expect("scheduled");
            assert_eq!(
                (
                    chrono::Timelike::hour(&next),
                    chrono::Timelike::minute(&next),
                    chrono::Timelike::second(&next)
                ),
                (utc_hour, 0, 0),
                "{id}: {next}"
            );
            assert!(
                next > now && next <= now + chrono::Duration::days(1),
                "{id}: {next}"
            );
        }
        assert_eq!(schedule.next_run(&shop("other")).await, None);
        assert!(schedule.shutdown(Duration::from_secs(5)).await.is_empty());
    }

    #[tokio::test]
    async fn an_every_second_schedule_fires_again_and_again_until_shutdown() {
        let (schedule, counts) = counting(Duration::ZERO).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while counts.get(&counts.finished) < 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "fewer than 2 runs in 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(schedule.shutdown(Duration::from_secs(5)).await.is_empty());
        let after = counts.get(&counts.started);
        // Three ticks' worth of time after the shutdown: none of them runs the job.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(counts.get(&counts.started), after, "no run after the shutdown");
    }

    #[tokio::test]
    async fn a_run_still_going_at_the_next_tick_is_not_doubled() {
        // Each run takes 2.5 s while the schedule ticks every second.
        let (schedule, counts) = counting(Duration::from_millis(2500)).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(schedule.shutdown(Duration::from_secs(10)).await.is_empty());
        assert!(counts.get(&counts.started) >= 1, "the job ran");
        assert_eq!(counts.get(&counts.most), 1, "never two runs of the shop at once");
        assert!(
            counts.get(&counts.started) <= 3,
            "ticks during a run are skipped, not queued: {} runs",
            counts.get(&counts.started)
        );
    }

    #[tokio::test]
    async fn shutdown_tells_the_run_under_way_to_stop_and_waits_for_it() {
        let finished = Arc::new(AtomicUsize::new(0));
        let (began_tx, mut began) = tokio::sync::mpsc::unbounded_channel();
        let done = finished.clone();
        let schedule = SyncSchedule::start_with(vec![(shop("toko"), every_second())], move |_, mut stop| {
            let (done, began_tx) = (done.clone(), began_tx.clone());
            async move {
                let _ = began_tx.send(());
                // The unit of work under way ends only when the service says stop.
                let _ = stop.wait_for(|s| *s).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                done.fetch_add(1, Ordering::SeqCst);
            }
        })
        .await
        .unwrap();
        began.recv().await.expect("a run began");
        assert!(schedule.shutdown(Duration::from_secs(10)).await.is_empty());
        assert_eq!(
            finished.load(Ordering::SeqCst),
            1,
            "the run finished before shutdown returned"
        );
    }

    #[tokio::test]
    async fn a_run_that_outlasts_the_grace_is_named() {
        let (began_tx, mut began) = tokio::sync::mpsc::unbounded_channel();
        let schedule = SyncSchedule::start_with(vec![(shop("toko"), every_second())], move |_, _| {
            let began_tx = began_tx.clone();
            async move {
                let _ = began_tx.send(());
                std::future::pending::<()>().await
            }
        })
        .await
        .unwrap();
        began.recv().await.expect("a run began");
        assert_eq!(
            schedule.shutdown(Duration::from_millis(200)).await,
            vec![shop("toko")]
        );
    }
}
