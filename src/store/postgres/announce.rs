//! Model announcements between replicas: a snapshot write sends `NOTIFY laris_models,
//! '<shop>'` in its transaction ([`CHANNEL`]), and [`listen`] hands each announced shop to
//! the service, which loads the new snapshot.
//!
//! The listener keeps a connection of its own (a pooled one would be recycled, and a
//! `LISTEN` with it). Lost, it is made again after a backoff (0.2 s doubling to 30 s), and
//! the first look after every connect finds what changed meanwhile: every [`POLL`] the
//! listener reads each shop's model generation and snapshot length, and a shop whose pair
//! moved since the last look is announced too — a safety net for notifications missed
//! while disconnected. The first look of all only takes note: the service loaded every
//! model as it started. The listener ends when its receiver is dropped or the store is.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::domain::ShopId;
use crate::store::postgres::runtime::{Db, Driver};
use crate::store::StoreError;

/// The channel snapshot writes notify, with the shop as payload.
pub(crate) const CHANNEL: &str = "laris_models";

/// How often the listener compares the model generations with what it saw last.
pub(crate) const POLL: Duration = Duration::from_secs(5);

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Starts a listener on the backend's runtime; its shops come on the receiver.
pub(crate) fn listen(driver: &Driver, config: tokio_postgres::Config, db: Db) -> mpsc::Receiver<ShopId> {
    let (tx, rx) = mpsc::channel(256);
    driver.spawn(run(config, db, tx));
    rx
}

/// What the last look saw: per shop its model generation and snapshot length.
type Seen = HashMap<String, (Option<i64>, Option<i32>)>;

/// Why a listening session ended (it is started again after a pause).
#[derive(Debug, thiserror::Error)]
enum Lost {
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
    #[error("the connection closed")]
    Closed,
}

async fn run(config: tokio_postgres::Config, db: Db, tx: mpsc::Sender<ShopId>) {
    let mut seen: Option<Seen> = None;
    let mut backoff = FIRST_BACKOFF;
    loop {
        match session(&config, &db, &tx, &mut seen, &mut backoff).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(store = %db.url, %error, retry_in_ms = backoff.as_millis() as u64,
                    "lost the model announcements of the PostgreSQL store: listening again after a pause");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = tx.closed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection's life: `LISTEN`, then announcements and looks until the connection
/// fails (an error) or nobody listens any more (`Ok`).
async fn session(
    config: &tokio_postgres::Config,
    db: &Db,
    tx: &mpsc::Sender<ShopId>,
    seen: &mut Option<Seen>,
    backoff: &mut Duration,
) -> Result<(), Lost> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (messages_tx, mut messages) = mpsc::unbounded_channel();
    // The connection must be driven for the client's statements to run; its notifications
    // come out of the same stream.
    let driving = tokio::spawn(async move {
        let mut stream = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = stream.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    let _ = messages_tx.send(Ok(n.payload().to_string()));
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = messages_tx.send(Err(e));
                    return;
                }
            }
        }
    });
    let _stop_driving = AbortOnDrop(driving);
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    *backoff = FIRST_BACKOFF;
    let mut every = tokio::time::interval(POLL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = messages.recv() => match message {
                Some(Ok(shop)) => {
                    if let Ok(shop) = ShopId::parse(&shop) {
                        if tx.send(shop).await.is_err() {
                            return Ok(());
                        }
                    }
                }
                Some(Err(e)) => return Err(Lost::Postgres(e)),
                None => return Err(Lost::Closed),
            },
            _ = every.tick() => {
                match look(db, seen).await {
                    Ok(changed) => {
                        for shop in changed {
                            if tx.send(shop).await.is_err() {
                                return Ok(());
                            }
                        }
                    }
                    Err(error) => tracing::warn!(store = %db.url, %error, "cannot read the model generations"),
                }
            }
            _ = tx.closed() => return Ok(()),
        }
    }
}

/// The shops whose model moved since the last look (none at the first).
async fn look(db: &Db, seen: &mut Option<Seen>) -> Result<Vec<ShopId>, StoreError> {
    let client = db.client().await?;
    let rows = client
        .query(
            "SELECT shop, model_generation, octet_length(snapshot) FROM shop_models",
            &[],
        )
        .await
        .map_err(StoreError::backend)?;
    let now: Seen = rows
        .iter()
        .map(|r| (r.get::<_, String>(0), (r.get(1), r.get(2))))
        .collect();
    let changed = match seen {
        None => Vec::new(),
        Some(before) => now
            .iter()
            .filter(|(shop, model)| before.get(*shop) != Some(model))
            .filter_map(|(shop, _)| ShopId::parse(shop).ok())
            .collect(),
    };
    *seen = Some(now);
    Ok(changed)
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
