//! How fast wrong passwords may come, without letting strangers lock the owner out.
//!
//! - **Per client address** (an IPv6 client by its /64): [`MAX_FAILURES_PER_ADDRESS`] wrong
//!   passwords within [`FAILURE_WINDOW`] of the first, for any user names, and that address
//!   waits until that window ends.
//! - **Per address and user**: [`MAX_FAILURES_PER_USER`] for one user from one address, so one
//!   person mistyping in a shared office does not lock the others there out.
//! - **Never per user alone**: a user name locked from everywhere is a lock anyone can turn
//!   on for five wrong passwords from five addresses. Guessing from many addresses is slowed
//!   instead by
//! - **a shared budget of failures**: every wrong password takes a token from one bucket
//!   (`admin.failed_signins_per_minute`, also the burst). When it is empty, sign-ins answer
//!   429 for the few seconds until a token is back, rather than locking anyone. Addresses
//!   that signed in successfully within [`KNOWN_ADDRESS_FOR`] do not need a token: the
//!   owner signing in from where they did before is not slowed by strangers.
//!
//! The counts per address and per (address, user) are the store's shared state
//! ([`crate::store::SharedState`] counters `signin:a:{address}` and
//! `signin:u:{address}/{user}`): in memory with sled, in the database with PostgreSQL, where
//! a lockout made on one replica holds on every other. The shared budget and the known
//! addresses are per process (per replica). `laris admin unlock` clears the counts through
//! the running service.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::store::{SharedState, StoreError};

/// Wrong passwords from one address, for any user names, within [`FAILURE_WINDOW`].
pub const MAX_FAILURES_PER_ADDRESS: usize = 10;
/// Wrong passwords for one user from one address within [`FAILURE_WINDOW`].
pub const MAX_FAILURES_PER_USER: usize = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long an address that signed in stays exempt from the shared budget.
pub const KNOWN_ADDRESS_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// Known addresses kept at most.
const MAX_KNOWN: usize = 1_000;
/// The prefix of every sign-in counter.
const PREFIX: &str = "signin:";

/// Why an attempt is refused before its password is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This address (or this address for this user) had too many wrong passwords.
    Address { retry_after_secs: u64 },
    /// The shared budget of wrong passwords is spent for now.
    Everyone { retry_after_secs: u64 },
    /// The store that keeps the counts did not answer (logged); nothing was checked.
    Unavailable,
}

/// Wall-clock time for a monotonic [`Instant`]: the shared state is compared across
/// machines, the callers count in `Instant`s.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    instant: Instant,
    wall: DateTime<Utc>,
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            instant: Instant::now(),
            wall: Utc::now(),
        }
    }

    pub fn wall(&self, t: Instant) -> DateTime<Utc> {
        let d = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        match t.checked_duration_since(self.instant) {
            Some(after) => self.wall + d(after),
            None => self.wall - d(self.instant.saturating_duration_since(t)),
        }
    }

    pub fn instant(&self, t: DateTime<Utc>) -> Instant {
        match (t - self.wall).to_std() {
            Ok(after) => self.instant + after,
            Err(_) => {
                let before = (self.wall - t).to_std().unwrap_or(Duration::ZERO);
                self.instant.checked_sub(before).unwrap_or(self.instant)
            }
        }
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new()
    }
}

/// An attempt admitted by [`SignInLimits::begin`], counted as a failure until
/// [`SignInLimits::succeeded`] says otherwise.
#[derive(Debug)]
pub struct Attempt {
    address: IpAddr,
    user: Option<String>,
    took_token: bool,
}

/// What `laris admin unlock` cleared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Unlocked {
    /// Failure counts removed.
    pub counts: usize,
    /// Of those, how many were over their limit (locking someone out).
    pub locked: usize,
}

pub struct SignInLimits {
    /// Tokens added per second to the shared budget, and its size.
    per_second: f64,
    burst: f64,
    /// The failure counts.
    shared: Arc<dyn SharedState>,
    clock: Clock,
    state: Mutex<State>,
}

/// What stays in this process: the shared budget and the addresses that signed in.
struct State {
    /// The shared budget: tokens and when they were last counted.
    tokens: f64,
    counted: Option<Instant>,
    /// Addresses that signed in, with when they last did.
    known: HashMap<IpAddr, Instant>,
}

/// An IPv6 client counts by its /64, which one user usually holds whole; IPv4-mapped
/// addresses count as the IPv4 address.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

fn whole_secs(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

fn address_key(address: IpAddr) -> String {
    format!("{PREFIX}a:{address}")
}

fn user_key(address: IpAddr, user: &str) -> String {
    format!("{PREFIX}u:{address}/{user}")
}

/// A counter's key as (address, user): `None` for a key that is neither kind.
fn parse_key(key: &str) -> Option<(IpAddr, Option<&str>)> {
    let rest = key.strip_prefix(PREFIX)?;
    if let Some(a) = rest.strip_prefix("a:") {
        return Some((a.parse().ok()?, None));
    }
    let (a, u) = rest.strip_prefix("u:")?.split_once('/')?;
    Some((a.parse().ok()?, Some(u)))
}

fn window() -> chrono::Duration {
    chrono::Duration::from_std(FAILURE_WINDOW).unwrap_or(chrono::Duration::MAX)
}

fn unavailable(e: StoreError) -> Refusal {
    tracing::error!(error = %e, "sign-in counts could not be read or written; sign-in refused");
    Refusal::Unavailable
}

impl SignInLimits {
    pub fn new(failed_signins_per_minute: u32, shared: Arc<dyn SharedState>) -> SignInLimits {
        let burst = f64::from(failed_signins_per_minute.max(1));
        SignInLimits {
            per_second: burst / 60.0,
            burst,
            shared,
            clock: Clock::new(),
            state: Mutex::new(State {
                tokens: burst,
                counted: None,
                known: HashMap::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits an attempt from `ip` for `user` (`None` for a name that has no password, which
    /// counts against the address only, so made-up names cannot fill memory) at `now`, and
    /// counts it as a failure right away, so parallel attempts (on any replica) cannot slip
    /// more guesses past a limit than it allows. Refused attempts are not counted.
    pub fn begin(&self, ip: IpAddr, user: Option<&str>, now: Instant) -> Result<Attempt, Refusal> {
        let address = client_key(ip);
        let wall = self.clock.wall(now);
        let keys: Vec<(String, usize)> = std::iter::once((address_key(address), MAX_FAILURES_PER_ADDRESS))
            .chain(user.map(|u| (user_key(address, u), MAX_FAILURES_PER_USER)))
            .collect();
        let locked_for = |hits: crate::store::Hits, max: usize| {
            (hits.count as usize >= max).then(|| (hits.window_ends - wall).to_std().unwrap_or(Duration::ZERO))
        };
        let mut wait = None;
        for (key, max) in &keys {
            if let Some(hits) = self.shared.counter_get(key, wall).map_err(unavailable)? {
                wait = wait.max(locked_for(hits, *max));
            }
        }
        if let Some(wait) = wait {
            return Err(Refusal::Address {
                retry_after_secs: whole_secs(wait),
            });
        }
        let known = {
            let mut state = self.state();
            let known = state
                .known
                .get(&address)
                .is_some_and(|t| now.saturating_duration_since(*t) < KNOWN_ADDRESS_FOR);
            if !known {
                let elapsed = state
                    .counted
                    .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
                let tokens = (state.tokens + elapsed.as_secs_f64() * self.per_second).min(self.burst);
                state.counted = Some(now);
                if tokens < 1.0 {
                    state.tokens = tokens;
                    let wait = Duration::from_secs_f64((1.0 - tokens) / self.per_second);
                    return Err(Refusal::Everyone {
                        retry_after_secs: whole_secs(wait),
                    });
                }
                state.tokens = tokens - 1.0;
            }
            known
        };
        let give_back = |refusal: Refusal| {
            if !known {
                let mut state = self.state();
                state.tokens = (state.tokens + 1.0).min(self.burst);
            }
            refusal
        };
        // Counted now; an attempt that finds its count over the limit lost a race with
        // another (perhaps on another replica), and is refused like one that came later.
        let mut raced = None;
        for (key, max) in &keys {
            let hits = self
                .shared
                .counter_hit(key, window(), wall)
                .map_err(|e| give_back(unavailable(e)))?;
            if hits.count as usize > *max {
                raced = raced.max(locked_for(hits, *max));
            }
        }
        if let Some(wait) = raced {
            return Err(give_back(Refusal::Address {
                retry_after_secs: whole_secs(wait),
            }));
        }
        Ok(Attempt {
            address,
            user: user.map(str::to_string),
            took_token: !known,
        })
    }

    /// The attempt's password was right: its address and (address, user) counts start
    /// again, its token goes back, and its address becomes known.
    pub fn succeeded(&self, attempt: Attempt, now: Instant) {
        let keys = std::iter::once(address_key(attempt.address))
            .chain(attempt.user.as_deref().map(|u| user_key(attempt.address, u)));
        for key in keys {
            if let Err(e) = self.shared.counter_remove(&key) {
                tracing::warn!(error = %e, "a sign-in count was not cleared after a right password");
            }
        }
        let mut state = self.state();
        if attempt.took_token {
            state.tokens = (state.tokens + 1.0).min(self.burst);
        }
        if state.known.len() >= MAX_KNOWN && !state.known.contains_key(&attempt.address) {
            let oldest = state.known.iter().min_by_key(|(_, t)| **t).map(|(ip, _)| *ip);
            if let Some(ip) = oldest {
                state.known.remove(&ip);
            }
        }
        state.known.insert(attempt.address, now);
    }

    /// Clears failure counts: with neither filter all of them (and refills this process's
    /// shared budget); with `address`, that address's count and its counts per user (only
    /// `user`'s with both); with `user` alone, that user's counts from every address.
    pub fn unlock(
        &self,
        user: Option<&str>,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Unlocked, StoreError> {
        let address = address.map(client_key);
        let wall = self.clock.wall(now);
        let mut unlocked = Unlocked::default();
        for (key, hits) in self.shared.counters(PREFIX, wall)? {
            let Some((a, u)) = parse_key(&key) else {
                continue;
            };
            let matches = match u {
                // With a user named, an address's own count goes only when the address is
                // named too: it concerns every user there.
                None => match user {
                    None => address.is_none_or(|want| want == a),
                    Some(_) => address == Some(a),
                },
                Some(u) => address.is_none_or(|want| want == a) && user.is_none_or(|want| want == u),
            };
            if matches {
                let max = match u {
                    None => MAX_FAILURES_PER_ADDRESS,
                    Some(_) => MAX_FAILURES_PER_USER,
                };
                self.shared.counter_remove(&key)?;
                unlocked.counts += 1;
                unlocked.locked += usize::from(hits.count as usize >= max);
            }
        }
        if user.is_none() && address.is_none() {
            self.state().tokens = self.burst;
        }
        Ok(unlocked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([203, 0, 113, n])
    }

    fn memory() -> Arc<dyn SharedState> {
        Arc::new(crate::store::MemoryState::default())
    }

    fn refused_for(r: Result<Attempt, Refusal>) -> Refusal {
        r.expect_err("refused")
    }

    #[test]
    fn five_wrong_passwords_for_one_user_lock_that_address_for_that_user_until_the_window_passes() {
        let limits = SignInLimits::new(1000, memory());
        let t0 = Instant::now();
        for i in 0..5u64 {
            limits
                .begin(ip(1), Some("admin"), t0 + Duration::from_secs(60 * i))
                .unwrap();
        }
        let later = t0 + Duration::from_secs(14 * 60);
        assert_eq!(
            refused_for(limits.begin(ip(1), Some("admin"), later)),
            Refusal::Address { retry_after_secs: 60 }
        );
        // Another user at the same address (an office) still may sign in.
        limits.begin(ip(1), Some("toko-a"), later).unwrap();
        // Refused attempts are not counted: the first failure still leaves the window first.
        limits.begin(ip(1), Some("admin"), t0 + FAILURE_WINDOW).unwrap();
    }

    #[test]
    fn ten_wrong_passwords_from_one_address_lock_it_for_every_name() {
        let limits = SignInLimits::new(1000, memory());
        let t0 = Instant::now();
        for i in 0..10 {
            let name = format!("tebakan-{i}");
            let user = (i % 2 == 0).then_some(name.as_str());
            limits.begin(ip(1), user, t0).unwrap();
        }
        assert!(matches!(
            refused_for(limits.begin(ip(1), Some("admin"), t0)),
            Refusal::Address {
                retry_after_secs: 900
            }
        ));
        // Addresses in one IPv6 /64 count together, IPv4-mapped ones as IPv4.
        let v6 = |last: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last));
        for i in 0..10 {
            limits.begin(v6(i), None, t0).unwrap();
        }
        assert!(limits.begin(v6(77), None, t0).is_err());
        assert!(limits.begin("2001:db8:1:3::1".parse().unwrap(), None, t0).is_ok());
        assert!(limits
            .begin("::ffff:203.0.113.1".parse().unwrap(), None, t0)
            .is_err());
    }

    #[test]
    fn wrong_passwords_from_many_addresses_never_lock_the_user_from_a_new_one() {
        let limits = SignInLimits::new(10_000, memory());
        let t0 = Instant::now();
        for n in 0..200 {
            for _ in 0..5 {
                let _ = limits.begin(IpAddr::from([198, 51, 100, n]), Some("admin"), t0);
            }
        }
        let owner = limits.begin(ip(9), Some("admin"), t0).unwrap();
        limits.succeeded(owner, t0);
    }

    #[test]
    fn when_the_shared_budget_is_spent_new_addresses_wait_seconds_and_known_ones_do_not() {
        // 6 a minute: a token every 10 s.
        let limits = SignInLimits::new(6, memory());
        let t0 = Instant::now();
        let owner = limits.begin(ip(100), Some("admin"), t0).unwrap();
        limits.succeeded(owner, t0);
        for n in 0..6 {
            limits.begin(ip(n), Some("admin"), t0).unwrap();
        }
        assert_eq!(
            refused_for(limits.begin(ip(50), Some("admin"), t0)),
            Refusal::Everyone { retry_after_secs: 10 }
        );
        // The owner's address signed in before: not slowed.
        limits.begin(ip(100), Some("admin"), t0).unwrap();
        // A token comes back after 10 s, and only one.
        let t1 = t0 + Duration::from_secs(10);
        let owner = limits.begin(ip(51), Some("admin"), t1).unwrap();
        assert!(matches!(
            refused_for(limits.begin(ip(52), Some("admin"), t1)),
            Refusal::Everyone { .. }
        ));
        // A right password gives its token back.
        limits.succeeded(owner, t1);
        limits.begin(ip(52), Some("admin"), t1).unwrap();
    }

    #[test]
    fn a_success_starts_the_address_counts_again() {
        let limits = SignInLimits::new(1000, memory());
        let t0 = Instant::now();
        for _ in 0..4 {
            limits.begin(ip(1), Some("admin"), t0).unwrap();
        }
        for _ in 0..5 {
            limits.begin(ip(1), None, t0).unwrap();
        }
        let ok = limits.begin(ip(1), Some("admin"), t0).unwrap();
        limits.succeeded(ok, t0);
        for _ in 0..4 {
            limits.begin(ip(1), Some("admin"), t0).unwrap();
        }
        limits.begin(ip(1), Some("admin"), t0).unwrap();
        assert!(limits.begin(ip(1), Some("admin"), t0).is_err());
    }

    impl SignInLimits {
        fn unlock_now(&self, user: Option<&str>, address: Option<IpAddr>, now: Instant) -> Unlocked {
            self.unlock(user, address, now).unwrap()
        }
    }

    #[test]
    fn unlock_clears_what_its_filters_name_and_nothing_else() {
        let t0 = Instant::now();
        let locked = || {
            let limits = SignInLimits::new(1000, memory());
            for a in [1, 2] {
                for _ in 0..5 {
                    limits.begin(ip(a), Some("admin"), t0).unwrap();
                    limits.begin(ip(a), Some("toko-a"), t0).unwrap();
                }
            }
            limits
        };
        let open = |l: &SignInLimits, a: u8, u: &str| l.begin(ip(a), Some(u), t0).is_ok();

        let l = locked();
        assert_eq!(l.unlock_now(None, None, t0), Unlocked { counts: 6, locked: 6 });
        assert!(open(&l, 1, "admin") && open(&l, 2, "toko-a"));

        let l = locked();
        assert_eq!(
            l.unlock_now(None, Some(ip(1)), t0),
            Unlocked { counts: 3, locked: 3 }
        );
        assert!(open(&l, 1, "admin") && open(&l, 1, "toko-a"));
        assert!(!open(&l, 2, "admin"));

        // A user from every address: their counts only; the addresses' own counts stay.
        let l = locked();
        assert_eq!(
            l.unlock_now(Some("admin"), None, t0),
            Unlocked { counts: 2, locked: 2 }
        );
        assert!(!open(&l, 1, "admin"), "address 1 is still over its own limit");
        // A user at an address: the address's own count too (it concerns every user there).
        let l = locked();
        assert_eq!(
            l.unlock_now(Some("admin"), Some(ip(2)), t0),
            Unlocked { counts: 2, locked: 2 }
        );
        assert!(open(&l, 2, "admin"));
        assert!(!open(&l, 2, "toko-a"));
        assert!(!open(&l, 1, "admin"));

        assert_eq!(locked().unlock_now(Some("nobody"), None, t0), Unlocked::default());
    }
}
