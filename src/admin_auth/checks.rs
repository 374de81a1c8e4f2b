//! Password checks on a bounded pool: at most `password_checks` argon2 verifications run at
//! once, each on a blocking thread, and at most `password_queue` more sign-ins wait for one;
//! anything beyond is refused at once ([`Busy`]), before any memory is taken.
//!
//! Why it exists: argon2id with the default parameters fills 19 MiB per verification. When
//! every sign-in ran on its own blocking thread, 300 concurrent wrong passwords took the
//! service to 5.7 GB, and it stayed there afterwards: the allocator kept the freed buffers
//! (`benches/signin_flood.sh`). Here the work memory is also kept and reused: each check
//! takes a buffer from the pool's stock and gives it back, so the stock never holds more
//! than one buffer per concurrent check, and the service's memory does not depend on what the
//! allocator does with 19 MiB blocks freed by many threads.
//!
//! [`decoy_like`] makes a hash nobody knows a password for, with the same parameters as a real
//! one, so that a sign-in for an unknown user name costs exactly as much as a wrong password.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::password::PhcHash;

/// Every check and every waiting place is taken: the sign-in is refused without looking at
/// the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    /// About how long until a place is free, in whole seconds (at least 1).
    pub retry_after_secs: u64,
}

/// A place among the running and waiting checks; [`PasswordChecks::admit`] hands it out and
/// a check consumes it. Dropping it gives the place back.
pub struct Admission {
    _place: OwnedSemaphorePermit,
}

/// The bounded pool of password checks.
pub struct PasswordChecks {
    /// `checks + queue` places: a sign-in that gets none is [`Busy`].
    places: Arc<Semaphore>,
    /// `checks` permits: who holds one runs argon2.
    running: Arc<Semaphore>,
    checks: usize,
    queue: usize,
    /// argon2 work memory of finished checks, reused by the next ones.
    stock: Arc<Mutex<Vec<Vec<Block>>>>,
    /// Mean duration of recent checks in microseconds, for the `Retry-After` of [`Busy`].
    mean_micros: Arc<AtomicU64>,
}

impl PasswordChecks {
    /// At most `checks` (at least 1) at once and `queue` waiting.
    pub fn new(checks: usize, queue: usize) -> PasswordChecks {
        let checks = checks.max(1);
        PasswordChecks {
            places: Arc::new(Semaphore::new(checks + queue)),
            running: Arc::new(Semaphore::new(checks)),
            checks,
            queue,
            stock: Arc::new(Mutex::new(Vec::new())),
            // A first guess until a check has been timed: argon2id's defaults on a small server.
            mean_micros: Arc::new(AtomicU64::new(50_000)),
        }
    }

    /// A place for one check, or [`Busy`] when all are taken.
    pub fn admit(&self) -> Result<Admission, Busy> {
        match self.places.clone().try_acquire_owned() {
            Ok(permit) => Ok(Admission { _place: permit }),
            Err(_) => {
                // Everyone ahead (the running and the waiting) must finish first.
                let mean = Duration::from_micros(self.mean_micros.load(Ordering::Relaxed));
                let rounds = (self.checks + self.queue).div_ceil(self.checks) as u32;
                let wait = mean * rounds;
                Err(Busy {
                    retry_after_secs: (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1),
                })
            }
        }
    }

    /// Runs `job` with argon2 work memory on a blocking thread once a check is free. The
    /// places are held until `job` ends even if the caller stops waiting (a client that
    /// hangs up cannot start more checks than the pool allows).
    pub async fn run<T, F>(&self, admission: Admission, job: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    {
        let running = self.running.clone().acquire_owned().await.ok()?;
        let stock = self.stock.clone();
        let mean = self.mean_micros.clone();
        let task = tokio::task::spawn_blocking(move || {
            let _places = (admission, running);
            let mut memory = stock
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_default();
            let started = Instant::now();
            let out = job(&mut memory);
            let took = started.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
            let old = mean.load(Ordering::Relaxed);
            mean.store(old - old / 8 + took / 8, Ordering::Relaxed);
            stock.lock().unwrap_or_else(|e| e.into_inner()).push(memory);
            out
        });
        match task.await {
            Ok(out) => Some(out),
            Err(e) => {
                tracing::error!(error = %e, "a password check failed");
                None
            }
        }
    }

    /// Whether `plain` is the password of `hash`, checked on the pool.
    pub async fn verify(&self, admission: Admission, plain: String, hash: PhcHash) -> bool {
        self.run(admission, move |memory| verify_with_memory(&plain, &hash, memory))
            .await
            .unwrap_or(false)
    }

    /// How many argon2 work buffers the pool keeps (at most the number of checks at once).
    pub fn buffers(&self) -> usize {
        self.stock.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Whether `plain` is the password of `phc`, computed in `memory` (grown to the hash's
/// memory cost when smaller). The same computation as argon2's own `verify_password`,
/// whose output comparison is constant-time, but in memory the caller keeps.
pub fn verify_with_memory(plain: &str, phc: &PhcHash, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc.as_str()) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = &mut out[..expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    if argon
        .hash_password_into_with_memory(plain.as_bytes(), salt, out, &mut memory[..blocks])
        .is_err()
    {
        return false;
    }
    Output::new(out).is_ok_and(|computed| computed == expected)
}

/// A hash with `like`'s algorithm, version and parameters, a random salt and a random
/// output: verifying any password against it costs what verifying against `like` costs, and
/// fails (no password is known to give that output).
pub fn decoy_like(like: &PhcHash) -> Option<PhcHash> {
    let parsed = PasswordHash::new(like.as_str()).ok()?;
    let len = parsed.hash.as_ref()?.len();
    let mut bytes = [0u8; Output::MAX_LENGTH];
    OsRng.fill_bytes(&mut bytes[..len]);
    let salt = SaltString::generate(&mut OsRng);
    let decoy = PasswordHash {
        algorithm: parsed.algorithm,
        version: parsed.version,
        params: parsed.params.clone(),
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&bytes[..len]).ok()?),
    };
    PhcHash::parse(&decoy.to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin_auth::verify_password;
    use crate::domain::password::cheap_hash;

    #[test]
    fn checking_in_kept_memory_agrees_with_argon2s_own_verify_even_in_reused_memory() {
        let a = cheap_hash("kopi-susu-gula-aren");
        let bigger = {
            let params = Params::new(64, 2, 1, Some(16)).unwrap();
            let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
            let salt = SaltString::generate(&mut OsRng);
            use argon2::PasswordHasher;
            PhcHash::parse(
                &argon
                    .hash_password(b"tepung-lengkuas-100g", &salt)
                    .unwrap()
                    .to_string(),
            )
            .unwrap()
        };
        let mut memory = Vec::new();
        for _ in 0..2 {
            for (plain, hash) in [
                ("kopi-susu-gula-aren", &a),
                ("kopi-susu-gula-arem", &a),
                ("tepung-lengkuas-100g", &bigger),
                ("tepung-lengkuas-1000", &bigger),
                ("", &a),
            ] {
                assert_eq!(
                    verify_with_memory(plain, hash, &mut memory),
                    verify_password(plain, hash),
                    "{plain}"
                );
            }
        }
        assert!(verify_with_memory("kopi-susu-gula-aren", &a, &mut memory));
        assert!(verify_with_memory("tepung-lengkuas-100g", &bigger, &mut memory));
        assert_eq!(memory.len(), 64, "grown to the larger hash's 64 KiB and kept");
    }

    #[test]
    fn a_decoy_has_the_real_hashs_parameters_and_takes_no_password() {
        let real = cheap_hash("kopi-susu-gula-aren");
        let decoy = decoy_like(&real).unwrap();
        let (r, d) = (
            PasswordHash::new(real.as_str()).unwrap(),
            PasswordHash::new(decoy.as_str()).unwrap(),
        );
        assert_eq!((r.algorithm, r.version), (d.algorithm, d.version));
        assert_eq!(r.params, d.params);
        assert_eq!(r.hash.unwrap().len(), d.hash.unwrap().len());
        assert_ne!(r.salt, d.salt);
        assert_ne!(decoy, decoy_like(&real).unwrap(), "each decoy is random");
        assert!(!verify_password("kopi-susu-gula-aren", &decoy));
        assert!(!verify_password("", &decoy));
    }

    #[tokio::test]
    async fn beyond_the_running_and_waiting_checks_a_sign_in_is_refused_at_once() {
        let pool = Arc::new(PasswordChecks::new(1, 1));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
        // The first check runs and blocks until released.
        let first = pool.admit().unwrap();
        let running = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(first, move |_| {
                    let _ = started_tx.send(());
                    gate.recv().unwrap();
                    1
                })
                .await
            })
        };
        started.await.unwrap();
        // The second waits for it.
        let second = pool.admit().unwrap();
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(second, |_| 2).await })
        };
        // The third finds no place.
        let busy = pool.admit().err().expect("no place left");
        assert!(busy.retry_after_secs >= 1);
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Some(1));
        assert_eq!(waiting.await.unwrap(), Some(2));
        // Places come back when checks end.
        assert!(pool.admit().is_ok());
        assert_eq!(pool.buffers(), 1, "one check at a time: one buffer kept");
    }

    #[tokio::test]
    async fn a_caller_that_stops_waiting_keeps_its_place_until_its_check_ends() {
        let pool = Arc::new(PasswordChecks::new(1, 0));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
        let admission = pool.admit().unwrap();
        let caller = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(admission, move |_| {
                    let _ = started_tx.send(());
                    gate.recv().unwrap();
                })
                .await
            })
        };
        started.await.unwrap();
        caller.abort();
        let _ = caller.await;
        assert!(
            pool.admit().is_err(),
            "the check still runs, so its place is taken"
        );
        release.send(()).unwrap();
        // The blocking check ends on its own thread; its place then comes back.
        let again = loop {
            match pool.admit() {
                Ok(a) => break a,
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        };
        assert!(!pool.verify(again, "x".into(), cheap_hash("y-long-enough")).await);
    }

    #[tokio::test]
    async fn verify_on_the_pool_takes_the_right_password_only() {
        let pool = PasswordChecks::new(2, 0);
        let hash = cheap_hash("kopi-susu-gula-aren");
        assert!(
            pool.verify(pool.admit().unwrap(), "kopi-susu-gula-aren".into(), hash.clone())
                .await
        );
        assert!(
            !pool
                .verify(pool.admit().unwrap(), "kopi-susu-gula-arem".into(), hash)
                .await
        );
    }
}
