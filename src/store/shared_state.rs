//! [`SharedState`]: the small, expiring state that replicas of one service must share —
//! admin sessions, counters over a time window (wrong passwords per address, feedback
//! messages per address) and one-time tokens (a feedback form is taken once).
//!
//! Every store has one ([`crate::store::ShopStore::shared_state`]). The sled backend keeps it
//! in process memory ([`MemoryState`]): one process owns a sled directory, so memory is
//! shared by everything that could ask, nothing is written to disk per request, and a
//! restart forgets it (signs everyone out, as it always has). The PostgreSQL backend keeps
//! it in tables (`admin_sessions`, `counters`, `once_tokens`), each change one atomic
//! statement, so a session made on one replica works on every other, and a count or a
//! spent token holds on all of them. Session ids are secrets: PostgreSQL keeps only their
//! SHA-256. Expired entries read as absent and are removed lazily.
//!
//! Times are wall-clock ([`DateTime<Utc>`]), which replicas on different machines agree
//! on; the callers pass `now`, so tests can move it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use crate::store::StoreError;

/// A counter's state: how many hits its window has had, and when that window ends (the
/// first hit after it starts a new one at 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hits {
    pub count: u32,
    pub window_ends: DateTime<Utc>,
}

/// The shared, expiring state of a store (see the module docs). Keys are any text; callers
/// prefix them by purpose (`signin:`, `feedback:`).
pub trait SharedState: Send + Sync {
    /// Keeps session `id` of `user` with `data` (opaque to the store) until `expires`,
    /// replacing any session with that id.
    fn session_put(
        &self,
        id: &str,
        user: &str,
        data: &[u8],
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Session `id`'s data; `None` when there is none or it expired by `now`.
    fn session_get(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Vec<u8>>, StoreError>;
    /// Ends session `id` (nothing when there is none).
    fn session_remove(&self, id: &str) -> Result<(), StoreError>;
    /// Ends every session of `user` (a changed password); returns how many there were.
    fn sessions_remove_for_user(&self, user: &str) -> Result<usize, StoreError>;

    /// Counts a hit on `key` at `now`, atomically: the first hit, or the first after the
    /// window ended, starts a window of `window` at count 1; later hits in it add one.
    fn counter_hit(
        &self,
        key: &str,
        window: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Hits, StoreError>;
    /// `key`'s hits in its current window; `None` when it has none or the window ended.
    fn counter_get(&self, key: &str, now: DateTime<Utc>) -> Result<Option<Hits>, StoreError>;
    /// Every counter whose key starts with `prefix` and whose window has not ended, by key.
    fn counters(&self, prefix: &str, now: DateTime<Utc>) -> Result<Vec<(String, Hits)>, StoreError>;
    /// Forgets `key`'s hits.
    fn counter_remove(&self, key: &str) -> Result<(), StoreError>;

    /// Spends the one-time token `key`, atomically: true the first time (it stays spent until
    /// `expires`), false while it is spent. After `expires` it may be spent again, so
    /// `expires` must be no earlier than the token itself stops being accepted.
    fn spend_token(&self, key: &str, expires: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool, StoreError>;
}

/// A store's shared state, owned: for holders such as the admin sessions that keep it
/// beyond a borrow of the store.
pub struct StoreState(pub crate::store::SharedStore);

impl SharedState for StoreState {
    fn session_put(
        &self,
        id: &str,
        user: &str,
        data: &[u8],
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.0.shared_state().session_put(id, user, data, expires)
    }
    fn session_get(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.shared_state().session_get(id, now)
    }
    fn session_remove(&self, id: &str) -> Result<(), StoreError> {
        self.0.shared_state().session_remove(id)
    }
    fn sessions_remove_for_user(&self, user: &str) -> Result<usize, StoreError> {
        self.0.shared_state().sessions_remove_for_user(user)
    }
    fn counter_hit(
        &self,
        key: &str,
        window: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Hits, StoreError> {
        self.0.shared_state().counter_hit(key, window, now)
    }
    fn counter_get(&self, key: &str, now: DateTime<Utc>) -> Result<Option<Hits>, StoreError> {
        self.0.shared_state().counter_get(key, now)
    }
    fn counters(&self, prefix: &str, now: DateTime<Utc>) -> Result<Vec<(String, Hits)>, StoreError> {
        self.0.shared_state().counters(prefix, now)
    }
    fn counter_remove(&self, key: &str) -> Result<(), StoreError> {
        self.0.shared_state().counter_remove(key)
    }
    fn spend_token(&self, key: &str, expires: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.0.shared_state().spend_token(key, expires, now)
    }
}

/// Entries kept in one map before expired ones are swept out.
const SWEEP_AT: usize = 10_000;

/// [`SharedState`] in process memory: the sled backend's (and a test's).
#[derive(Default)]
pub struct MemoryState {
    maps: Mutex<Maps>,
}

#[derive(Default)]
struct Maps {
    /// By session id: user, data, expiry.
    sessions: HashMap<String, (String, Vec<u8>, DateTime<Utc>)>,
    counters: HashMap<String, Hits>,
    /// Spent tokens with when they may be spent again.
    tokens: HashMap<String, DateTime<Utc>>,
}

impl MemoryState {
    fn maps(&self) -> MutexGuard<'_, Maps> {
        self.maps.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SharedState for MemoryState {
    fn session_put(
        &self,
        id: &str,
        user: &str,
        data: &[u8],
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut maps = self.maps();
        if maps.sessions.len() >= SWEEP_AT {
            let now = Utc::now();
            maps.sessions.retain(|_, (_, _, e)| *e > now);
        }
        maps.sessions
            .insert(id.to_string(), (user.to_string(), data.to_vec(), expires));
        Ok(())
    }

    fn session_get(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Vec<u8>>, StoreError> {
        let mut maps = self.maps();
        match maps.sessions.get(id) {
            Some((_, data, expires)) if *expires > now => Ok(Some(data.clone())),
            Some(_) => {
                maps.sessions.remove(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn session_remove(&self, id: &str) -> Result<(), StoreError> {
        self.maps().sessions.remove(id);
        Ok(())
    }

    fn sessions_remove_for_user(&self, user: &str) -> Result<usize, StoreError> {
        let mut maps = self.maps();
        let before = maps.sessions.len();
        maps.sessions.retain(|_, (u, _, _)| u != user);
        Ok(before - maps.sessions.len())
    }

    fn counter_hit(
        &self,
        key: &str,
        window: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Hits, StoreError> {
        let mut maps = self.maps();
        if maps.counters.len() >= SWEEP_AT {
            maps.counters.retain(|_, h| h.window_ends > now);
        }
        let fresh = Hits {
            count: 1,
            window_ends: now + window,
        };
        let hits = match maps.counters.get_mut(key) {
            Some(hits) if hits.window_ends > now => {
                hits.count = hits.count.saturating_add(1);
                *hits
            }
            _ => {
                maps.counters.insert(key.to_string(), fresh);
                fresh
            }
        };
        Ok(hits)
    }

    fn counter_get(&self, key: &str, now: DateTime<Utc>) -> Result<Option<Hits>, StoreError> {
        Ok(self
            .maps()
            .counters
            .get(key)
            .filter(|h| h.window_ends > now)
            .copied())
    }

    fn counters(&self, prefix: &str, now: DateTime<Utc>) -> Result<Vec<(String, Hits)>, StoreError> {
        let mut out: Vec<(String, Hits)> = self
            .maps()
            .counters
            .iter()
            .filter(|(k, h)| k.starts_with(prefix) && h.window_ends > now)
            .map(|(k, h)| (k.clone(), *h))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn counter_remove(&self, key: &str) -> Result<(), StoreError> {
        self.maps().counters.remove(key);
        Ok(())
    }

    fn spend_token(&self, key: &str, expires: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut maps = self.maps();
        if maps.tokens.len() >= SWEEP_AT {
            maps.tokens.retain(|_, e| *e > now);
        }
        match maps.tokens.get(key) {
            Some(until) if *until > now => Ok(false),
            _ => {
                maps.tokens.insert(key.to_string(), expires);
                Ok(true)
            }
        }
    }
}
