//! [`SharedState`] in PostgreSQL (migration 2's tables): what several replicas on one
//! database share. Each change is one statement — an `INSERT … ON CONFLICT DO UPDATE` where
//! it must be atomic — so replicas never lose each other's counts. A session is found by
//! the SHA-256 of its id; the id itself is never stored. Expired rows read as absent and
//! are deleted lazily: sessions whenever one is made, counters and tokens on every 64th
//! change.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::store::postgres::options::Pg;
use crate::store::postgres::shared::owned;
use crate::store::postgres::PgStore;
use crate::store::{Hits, SharedState, StoreError};

/// Changes to counters and tokens; every 64th also deletes their expired rows.
static CHANGES: AtomicU64 = AtomicU64::new(0);

fn sweep_due() -> bool {
    CHANGES.fetch_add(1, Ordering::Relaxed).is_multiple_of(64)
}

fn digest(id: &str) -> Vec<u8> {
    Sha256::digest(id.as_bytes()).to_vec()
}

fn hits(row: &tokio_postgres::Row) -> Hits {
    Hits {
        count: row.get::<_, i32>(0).max(0) as u32,
        window_ends: row.get(1),
    }
}

impl SharedState for PgStore {
    fn session_put(
        &self,
        id: &str,
        user: &str,
        data: &[u8],
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (id, user, data) = (digest(id), owned(user), data.to_vec());
        let now = Utc::now();
        self.transaction(move |tx| {
            Box::pin(async move {
                tx.execute("DELETE FROM admin_sessions WHERE expires_at <= $1", &[&now])
                    .await
                    .pg()?;
                tx.execute(
                    "INSERT INTO admin_sessions (id_sha256, user_name, data, expires_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (id_sha256) DO UPDATE SET user_name = EXCLUDED.user_name,
                         data = EXCLUDED.data, expires_at = EXCLUDED.expires_at",
                    &[&id, &user, &data, &expires],
                )
                .await
                .pg()?;
                Ok(())
            })
        })
    }

    fn session_get(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Vec<u8>>, StoreError> {
        let id = digest(id);
        self.transaction(move |tx| {
            Box::pin(async move {
                let row = tx
                    .query_opt(
                        "SELECT data FROM admin_sessions WHERE id_sha256 = $1 AND expires_at > $2",
                        &[&id, &now],
                    )
                    .await
                    .pg()?;
                Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
            })
        })
    }

    fn session_remove(&self, id: &str) -> Result<(), StoreError> {
        let id = digest(id);
        self.transaction(move |tx| {
            Box::pin(async move {
                tx.execute("DELETE FROM admin_sessions WHERE id_sha256 = $1", &[&id])
                    .await
                    .pg()?;
                Ok(())
            })
        })
    }

    fn sessions_remove_for_user(&self, user: &str) -> Result<usize, StoreError> {
        let user = owned(user);
        self.transaction(move |tx| {
            Box::pin(async move {
                let n = tx
                    .execute("DELETE FROM admin_sessions WHERE user_name = $1", &[&user])
                    .await
                    .pg()?;
                Ok(n as usize)
            })
        })
    }

    fn counter_hit(
        &self,
        key: &str,
        window: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Hits, StoreError> {
        let key = owned(key);
        let ends = now + window;
        let sweep = sweep_due();
        self.transaction(move |tx| {
            Box::pin(async move {
                if sweep {
                    tx.execute("DELETE FROM counters WHERE window_ends <= $1", &[&now])
                        .await
                        .pg()?;
                }
                let row = tx
                    .query_one(
                        "INSERT INTO counters (key, count, window_ends) VALUES ($1, 1, $2)
                         ON CONFLICT (key) DO UPDATE SET
                             count = CASE WHEN counters.window_ends <= $3 THEN 1
                                          ELSE counters.count + 1 END,
                             window_ends = CASE WHEN counters.window_ends <= $3 THEN EXCLUDED.window_ends
                                                ELSE counters.window_ends END
                         RETURNING count, window_ends",
                        &[&key, &ends, &now],
                    )
                    .await
                    .pg()?;
                Ok(hits(&row))
            })
        })
    }

    fn counter_get(&self, key: &str, now: DateTime<Utc>) -> Result<Option<Hits>, StoreError> {
        let key = owned(key);
        self.transaction(move |tx| {
            Box::pin(async move {
                let row = tx
                    .query_opt(
                        "SELECT count, window_ends FROM counters WHERE key = $1 AND window_ends > $2",
                        &[&key, &now],
                    )
                    .await
                    .pg()?;
                Ok(row.as_ref().map(hits))
            })
        })
    }

    fn counters(&self, prefix: &str, now: DateTime<Utc>) -> Result<Vec<(String, Hits)>, StoreError> {
        let prefix = owned(prefix);
        self.transaction(move |tx| {
            Box::pin(async move {
                let rows = tx
                    .query(
                        "SELECT count, window_ends, key FROM counters
                         WHERE starts_with(key, $1) AND window_ends > $2 ORDER BY key",
                        &[&prefix, &now],
                    )
                    .await
                    .pg()?;
                Ok(rows.iter().map(|r| (r.get::<_, String>(2), hits(r))).collect())
            })
        })
    }

    fn counter_remove(&self, key: &str) -> Result<(), StoreError> {
        let key = owned(key);
        self.transaction(move |tx| {
            Box::pin(async move {
                tx.execute("DELETE FROM counters WHERE key = $1", &[&key])
                    .await
                    .pg()?;
                Ok(())
            })
        })
    }

    fn spend_token(&self, key: &str, expires: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let key = owned(key);
        let sweep = sweep_due();
        self.transaction(move |tx| {
            Box::pin(async move {
                if sweep {
                    tx.execute("DELETE FROM once_tokens WHERE expires_at <= $1", &[&now])
                        .await
                        .pg()?;
                }
                // A row comes back when the token was not spent (inserted) or its earlier
                // spending expired (replaced); a live spent token leaves the row alone.
                let row = tx
                    .query_opt(
                        "INSERT INTO once_tokens (key, expires_at) VALUES ($1, $2)
                         ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
                             WHERE once_tokens.expires_at <= $3
                         RETURNING 1",
                        &[&key, &expires, &now],
                    )
                    .await
                    .pg()?;
                Ok(row.is_some())
            })
        })
    }
}
