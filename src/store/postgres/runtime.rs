//! [`Driver`]: the PostgreSQL backend's own small tokio runtime, and the blocking call that
//! runs one piece of driver work on it.
//!
//! [`crate::store::ShopStore`] is synchronous and is called from tokio worker threads, from
//! `spawn_blocking` and from plain threads. The async driver cannot be driven from the
//! caller's thread (`block_on` panics inside another runtime), so each call is spawned on
//! the backend's runtime and the caller waits for its result on a std channel: inside a
//! runtime this blocks one worker for the call's length, as a sled read does. Dropping the
//! driver shuts its runtime down in the background, which is allowed in any context.
//!
//! [`Db`] is what each call gets: the connection pool and the store's URL (without its
//! password) for error messages.

use std::future::Future;
use std::sync::Arc;

use crate::store::postgres::options::pool_error;
use crate::store::StoreError;

/// Worker threads of the backend's runtime: the work is waiting on the network.
const THREADS: usize = 2;

pub(crate) struct Driver {
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
}

impl Driver {
    pub fn new() -> Result<Driver, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(THREADS)
            .thread_name("laris-postgres")
            .enable_all()
            .build()
            .map_err(StoreError::backend)?;
        Ok(Driver {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    /// Runs `work` on the backend's runtime and waits for its result on this thread.
    pub fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv().unwrap_or_else(|_| {
            Err(StoreError::backend(std::io::Error::other(
                "a PostgreSQL store call stopped before it answered (its task panicked or the store was closed)",
            )))
        })
    }
}

impl Driver {
    /// Runs `work` on the backend's runtime in the background, until it ends or the
    /// runtime stops (the store dropped).
    pub fn spawn<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.handle.spawn(work);
    }
}

impl Drop for Driver {
    /// Stops the runtime without waiting for its tasks: neither blocks nor panics, even on a
    /// thread of another runtime.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The pool and the store's shown URL, cloned into every call.
#[derive(Clone)]
pub(crate) struct Db {
    pub pool: deadpool_postgres::Pool,
    /// The URL without its password.
    pub url: Arc<str>,
}

impl Db {
    /// A connection from the pool; an error names the store and the fix.
    pub async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| pool_error(&self.url, e))
    }
}
