//! [`EventWriter`]: the one task that writes widget events to the store, in groups, and
//! holds them in memory while the database is unreachable.
//!
//! - **Group commit.** Beacon handlers hand their events to the writer and wait for its
//!   answer. The writer takes everything that arrived while its last write was under way
//!   (up to [`MAX_BATCH`] events) and writes it as one [`ShopStore::append_events`] per
//!   shop, then one [`ShopStore::durable`]: a burst of beacons is a few transactions, not
//!   one each. A handler's events are acknowledged ([`Written::Stored`]) only once that
//!   write is durable.
//! - **Outages.** When the store is unavailable ([`StoreError::is_unavailable`], the
//!   PostgreSQL backend only), the events go into a bounded in-memory queue
//!   (`[server] event_buffer` events) and the handler hears [`Written::Buffered`]: accepted,
//!   not yet on disk. While the queue holds anything, new events join it behind the older
//!   ones, so each shop's events reach the store in the order they came. The writer tries
//!   to flush the queue on a timer with backoff ([`FIRST_RETRY`] doubling to
//!   [`LAST_RETRY`]) and in order. A request whose events do not fit is dropped whole
//!   ([`Written::Dropped`]) and counted. [`EventWriter::stats`] feeds `/metrics`.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::domain::ShopId;
use crate::records::Event;
use crate::store::{SharedStore, StoreError};
use crate::web::event_log::EventLog;

/// Events one write takes at most (the rest wait for the next).
pub const MAX_BATCH: usize = 5_000;
/// The first retry of a queue the store refused, after this long…
pub const FIRST_RETRY: Duration = Duration::from_millis(500);
/// …doubling up to this.
pub const LAST_RETRY: Duration = Duration::from_secs(10);
/// Requests waiting for the writer at most; more wait to hand theirs over.
const CHANNEL: usize = 4_096;

/// What became of a request's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Stored and durable.
    Stored,
    /// Held in memory: the store is unreachable; they are written when it is back (lost
    /// if this process stops first).
    Buffered,
    /// Not kept: the store is unreachable and the queue is full. Counted in
    /// [`Stats::dropped`].
    Dropped,
    /// The store refused them for another reason (the message; the cause is logged).
    Failed(String),
}

/// The writer's figures, for `/metrics`.
#[derive(Debug, Default)]
pub struct Stats {
    /// Events held in memory now.
    pub buffered: AtomicUsize,
    /// Events dropped because the queue was full, since start.
    pub dropped: AtomicU64,
    /// Events stored through the writer, since start.
    pub stored: AtomicU64,
    /// Store writes (one `append_events` each) the writer made, since start.
    pub writes: AtomicU64,
}

struct Job {
    shop: ShopId,
    events: Vec<Event>,
    reply: oneshot::Sender<Written>,
}

enum Message {
    Write(Job),
    /// Try to flush the queue now; answer with what is left in it.
    Flush(oneshot::Sender<usize>),
    /// Flush what can be, answer with what is left (lost), and end: the service stops.
    Stop(oneshot::Sender<usize>),
}

/// The handle the handlers share.
pub struct EventWriter {
    tx: mpsc::Sender<Message>,
    stats: Arc<Stats>,
}

impl EventWriter {
    /// Starts the writer on the current runtime.
    pub fn start(store: SharedStore, log: Arc<EventLog>, capacity: usize) -> Arc<EventWriter> {
        let (writer, run) = EventWriter::new(store, log, capacity);
        tokio::spawn(run);
        writer
    }

    /// The writer and the task to run it (which ends once every handle is dropped).
    pub fn new(
        store: SharedStore,
        log: Arc<EventLog>,
        capacity: usize,
    ) -> (Arc<EventWriter>, impl Future<Output = ()> + Send + 'static) {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let stats = Arc::new(Stats::default());
        let task = Task {
            store,
            log,
            capacity: capacity.max(1),
            stats: stats.clone(),
            queue: VecDeque::new(),
        };
        (Arc::new(EventWriter { tx, stats }), task.run(rx))
    }

    /// Writes the shop's events (all or none) and says what became of them.
    pub async fn write(&self, shop: ShopId, events: Vec<Event>) -> Written {
        let (reply, answer) = oneshot::channel();
        let job = Job { shop, events, reply };
        if self.tx.send(Message::Write(job)).await.is_err() {
            return Written::Failed("the event writer has stopped".into());
        }
        answer
            .await
            .unwrap_or_else(|_| Written::Failed("the event writer has stopped".into()))
    }

    /// Tries to write the queue now; returns how many events are still held (at
    /// shutdown: those are lost).
    pub async fn flush(&self) -> usize {
        self.held_after(Message::Flush).await
    }

    /// Writes what it can of the queue and ends the writer, so that it lets go of the
    /// store; returns how many events were still held (lost with this stop). Events handed
    /// over afterwards are refused ([`Written::Failed`]).
    pub async fn stop(&self) -> usize {
        self.held_after(Message::Stop).await
    }

    /// Sends the writer a request that answers with the events it still holds; when the
    /// writer has already ended, what it held last.
    async fn held_after(&self, request: fn(oneshot::Sender<usize>) -> Message) -> usize {
        let (reply, answer) = oneshot::channel();
        if self.tx.send(request(reply)).await.is_err() {
            return self.stats.buffered.load(Ordering::Relaxed);
        }
        answer
            .await
            .unwrap_or_else(|_| self.stats.buffered.load(Ordering::Relaxed))
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

/// How a group's write went.
enum Outcome {
    Stored,
    Unavailable,
    Failed(String),
}

struct Task {
    store: SharedStore,
    log: Arc<EventLog>,
    capacity: usize,
    stats: Arc<Stats>,
    /// Events held while the store is unreachable, oldest first.
    queue: VecDeque<(ShopId, Vec<Event>)>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Message>) {
        let mut backoff = FIRST_RETRY;
        let mut retry_at: Option<Instant> = None;
        loop {
            let message = match retry_at {
                Some(at) => tokio::select! {
                    m = rx.recv() => m,
                    _ = tokio::time::sleep_until(at) => {
                        if self.flush_queue().await {
                            backoff = FIRST_RETRY;
                            retry_at = None;
                        } else {
                            backoff = (backoff * 2).min(LAST_RETRY);
                            retry_at = Some(Instant::now() + backoff);
                        }
                        continue;
                    }
                },
                None => rx.recv().await,
            };
            let Some(first) = message else {
                // Every handle is gone: one last try.
                self.flush_queue().await;
                return;
            };
            let mut jobs = Vec::new();
            let mut flushes = Vec::new();
            let mut stopping = false;
            let mut n = 0;
            let mut next = Some(first);
            while let Some(message) = next.take() {
                match message {
                    Message::Write(job) => {
                        n += job.events.len();
                        jobs.push(job);
                    }
                    Message::Flush(reply) => flushes.push(reply),
                    Message::Stop(reply) => {
                        stopping = true;
                        flushes.push(reply);
                    }
                }
                if n < MAX_BATCH && !stopping {
                    next = rx.try_recv().ok();
                }
            }
            if !flushes.is_empty() && !self.queue.is_empty() && self.flush_queue().await {
                backoff = FIRST_RETRY;
                retry_at = None;
            }
            if !jobs.is_empty() {
                if self.queue.is_empty() {
                    self.write_jobs(jobs).await;
                } else {
                    for job in jobs {
                        let written = self.hold(job.shop, job.events);
                        let _ = job.reply.send(written);
                    }
                }
            }
            if !self.queue.is_empty() && retry_at.is_none() {
                retry_at = Some(Instant::now() + backoff);
            }
            if stopping && !self.queue.is_empty() {
                self.flush_queue().await;
            }
            for reply in flushes {
                let _ = reply.send(self.held());
            }
            if stopping {
                return;
            }
        }
    }

    fn held(&self) -> usize {
        self.queue.iter().map(|(_, e)| e.len()).sum()
    }

    /// Puts a request's events in the queue, or drops them whole when they do not fit.
    fn hold(&mut self, shop: ShopId, events: Vec<Event>) -> Written {
        let n = events.len();
        if self.held() + n > self.capacity {
            self.stats.dropped.fetch_add(n as u64, Ordering::Relaxed);
            tracing::warn!(shop = %shop, events = n, capacity = self.capacity, "the database is unreachable and the event queue is full: events dropped");
            return Written::Dropped;
        }
        self.queue.push_back((shop, events));
        self.stats.buffered.store(self.held(), Ordering::Relaxed);
        Written::Buffered
    }

    /// Writes the jobs, one append per shop, and answers each.
    async fn write_jobs(&mut self, jobs: Vec<Job>) {
        let mut groups: Vec<(ShopId, Vec<Job>)> = Vec::new();
        for job in jobs {
            match groups.iter_mut().find(|(shop, _)| *shop == job.shop) {
                Some((_, same)) => same.push(job),
                None => groups.push((job.shop.clone(), vec![job])),
            }
        }
        let batches: Vec<(ShopId, Vec<Event>)> = groups
            .iter()
            .map(|(shop, jobs)| {
                (
                    shop.clone(),
                    jobs.iter().flat_map(|j| j.events.iter().cloned()).collect(),
                )
            })
            .collect();
        let outcomes = self.write_groups(batches).await;
        for ((_, jobs), outcome) in groups.into_iter().zip(outcomes) {
            for job in jobs {
                let written = match &outcome {
                    Outcome::Stored => Written::Stored,
                    Outcome::Failed(m) => Written::Failed(m.clone()),
                    Outcome::Unavailable => self.hold(job.shop, job.events),
                };
                let _ = job.reply.send(written);
            }
        }
    }

    /// Tries to write the queue, oldest first; returns whether it is empty now.
    async fn flush_queue(&mut self) -> bool {
        if self.queue.is_empty() {
            return true;
        }
        // Each shop's events in one write, in the order they came; at most MAX_BATCH a write.
        let mut groups: Vec<(ShopId, Vec<Event>)> = Vec::new();
        for (shop, events) in self.queue.drain(..) {
            match groups
                .iter_mut()
                .rev()
                .find(|(s, e)| *s == shop && e.len() + events.len() <= MAX_BATCH)
            {
                Some((_, all)) => all.extend(events),
                None => groups.push((shop, events)),
            }
        }
        let outcomes = self.write_groups(groups.clone()).await;
        for ((shop, events), outcome) in groups.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Stored => {}
                Outcome::Unavailable => self.queue.push_back((shop, events)),
                Outcome::Failed(m) => {
                    // Not a passing outage: keeping them would block the queue for good.
                    self.stats
                        .dropped
                        .fetch_add(events.len() as u64, Ordering::Relaxed);
                    tracing::error!(shop = %shop, events = events.len(), error = %m, "buffered events refused by the store: dropped");
                }
            }
        }
        let held = self.held();
        self.stats.buffered.store(held, Ordering::Relaxed);
        if held == 0 {
            tracing::info!("the database is back: buffered widget events written");
        }
        held == 0
    }

    /// Appends each group in turn, off the async threads, then makes them durable; after
    /// the first unavailable group the rest are not tried (they stay behind it, in order).
    async fn write_groups(&self, groups: Vec<(ShopId, Vec<Event>)>) -> Vec<Outcome> {
        let (store, log, stats) = (self.store.clone(), self.log.clone(), self.stats.clone());
        let count = groups.len();
        let written = tokio::task::spawn_blocking(move || {
            let mut outcomes = Vec::with_capacity(groups.len());
            let mut down = false;
            for (shop, events) in &groups {
                if down {
                    outcomes.push(Outcome::Unavailable);
                    continue;
                }
                match log.append(&*store, shop, events) {
                    Ok(()) => {
                        stats.writes.fetch_add(1, Ordering::Relaxed);
                        stats.stored.fetch_add(events.len() as u64, Ordering::Relaxed);
                        outcomes.push(Outcome::Stored);
                    }
                    Err(e) => outcomes.push(failure(shop, &e, &mut down)),
                }
            }
            outcomes
        })
        .await;
        let mut outcomes = match written {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "the event write task failed");
                (0..count).map(|_| Outcome::Failed(e.to_string())).collect()
            }
        };
        if outcomes.iter().any(|o| matches!(o, Outcome::Stored)) {
            if let Err(e) = self.store.durable().await {
                tracing::error!(error = %e, "making widget events durable");
                for o in &mut outcomes {
                    if matches!(o, Outcome::Stored) {
                        *o = Outcome::Failed(e.to_string());
                    }
                }
            }
        }
        outcomes
    }
}

fn failure(shop: &ShopId, e: &StoreError, down: &mut bool) -> Outcome {
    if e.is_unavailable() {
        *down = true;
        tracing::warn!(shop = %shop, error = %e, "the database is unreachable: widget events held in memory");
        Outcome::Unavailable
    } else {
        tracing::error!(shop = %shop, error = %e, "storing widget events");
        Outcome::Failed(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::domain::{ProductId, Slot};
    use crate::records::EventKind;
    use crate::store::Store;

    fn click(i: usize) -> Event {
        Event {
            kind: EventKind::Click,
            slot: Some(Slot::Similar),
            product: Some(ProductId::parse("A").unwrap()),
            item: Some(ProductId::parse(&format!("P{i}")).unwrap()),
            at: Some(chrono::Utc::now()),
            customer: None,
            visitor: None,
            arm: None,
            order: None,
            total: None,
            items: Vec::new(),
        }
    }

    /// At shutdown the writer stores what it was handed, ends, and lets go of the store
    /// (which the service then flushes and closes); later events are refused, not lost
    /// silently.
    #[tokio::test]
    async fn stop_ends_the_writer_after_its_writes_and_lets_go_of_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store: SharedStore = Arc::new(Store::open(dir.path()).unwrap());
        let settings =
            Settings::from_toml("[[shops]]\nid = \"toko\"\n", std::path::Path::new("t.toml"), &[]).unwrap();
        let shop = settings.shops[0].id.clone();
        let log = Arc::new(EventLog::load(&settings, &*store).unwrap());
        let (writer, run) = EventWriter::new(store.clone(), log, 100);
        let task = tokio::spawn(run);
        assert_eq!(writer.write(shop.clone(), vec![click(1)]).await, Written::Stored);
        assert_eq!(writer.stop().await, 0, "nothing was held");
        task.await.unwrap();
        assert_eq!(Arc::strong_count(&store), 1, "the writer let go of the store");
        assert!(matches!(
            writer.write(shop.clone(), vec![click(2)]).await,
            Written::Failed(m) if m.contains("stopped")
        ));
        assert_eq!(store.event_count(&shop).unwrap(), 1);
    }

    #[tokio::test]
    async fn a_burst_of_beacons_is_one_write_and_each_is_acknowledged_once_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store: SharedStore = Arc::new(Store::open(dir.path()).unwrap());
        let settings =
            Settings::from_toml("[[shops]]\nid = \"toko\"\n", std::path::Path::new("t.toml"), &[]).unwrap();
        let shop = settings.shops[0].id.clone();
        let log = Arc::new(EventLog::load(&settings, &*store).unwrap());
        let (writer, run) = EventWriter::new(store.clone(), log.clone(), 100);
        // 100 beacons of 2 events arrive before the writer gets to them.
        let mut waiting = Vec::new();
        for i in 0..100 {
            let (writer, shop) = (writer.clone(), shop.clone());
            waiting.push(tokio::spawn(async move {
                writer.write(shop, vec![click(2 * i), click(2 * i + 1)]).await
            }));
        }
        while writer.tx.capacity() > CHANNEL - 100 {
            tokio::task::yield_now().await;
        }
        tokio::spawn(run);
        for w in waiting {
            assert_eq!(w.await.unwrap(), Written::Stored);
        }
        assert_eq!(
            writer.stats().writes.load(Ordering::Relaxed),
            1,
            "one append for the burst"
        );
        assert_eq!(writer.stats().stored.load(Ordering::Relaxed), 200);
        let stored = store.events(&shop).unwrap();
        let items: Vec<String> = stored
            .iter()
            .map(|e| e.item.as_ref().unwrap().to_string())
            .collect();
        let expected: Vec<String> = (0..200).map(|i| format!("P{i}")).collect();
        assert_eq!(items, expected, "in the order they came");
        assert_eq!(log.summary(&shop).events, 200);
        assert_eq!(writer.stats().buffered.load(Ordering::Relaxed), 0);
    }
}
