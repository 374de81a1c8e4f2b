//! A token bucket per key, for limits on how fast clients may send: widget events per
//! client address, events per shop ([`crate::web::event_log`]). In process memory: with
//! several replicas each keeps its own (the hot path never waits on the database). The
//! limits that must hold across replicas (wrong passwords, feedback messages) count in the
//! store's shared state instead ([`crate::store::SharedState`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket per key (a client address, a shop): `burst` at once, `per_second` refill.
pub struct RateLimiter<K = IpAddr> {
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
    burst: f64,
    per_second: f64,
}

impl<K: std::hash::Hash + Eq> RateLimiter<K> {
    pub fn new(burst: f64, per_second: f64) -> Self {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
            burst,
            per_second,
        }
    }

    /// Takes `n` tokens for `ip`; false when the client is over its rate.
    pub fn allow(&self, ip: K, n: f64) -> bool {
        self.take(ip, n).is_ok()
    }

    /// Takes `n` tokens for `ip`, or says how long until the bucket would hold them
    /// (for `Retry-After`; a day at most).
    pub fn take(&self, ip: K, n: f64) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let refilled = |tokens: f64, last: Instant, per_second: f64| {
            tokens + now.duration_since(last).as_secs_f64() * per_second
        };
        if buckets.len() > 100_000 {
            // Forget clients whose bucket has filled up again rather than grow without bound.
            let (burst, per_second) = (self.burst, self.per_second);
            buckets.retain(|_, (tokens, last)| refilled(*tokens, *last, per_second) < burst);
        }
        let (tokens, last) = buckets.entry(ip).or_insert((self.burst, now));
        *tokens = refilled(*tokens, *last, self.per_second).min(self.burst);
        *last = now;
        if *tokens >= n {
            *tokens -= n;
            Ok(())
        } else {
            let wait = ((n - *tokens) / self.per_second).min(86_400.0);
            Err(Duration::from_secs_f64(if wait.is_finite() {
                wait
            } else {
                86_400.0
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_rate_is_refused_and_others_are_not() {
        let limiter = RateLimiter::new(3.0, 0.0);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        assert!(limiter.allow(a, 2.0));
        assert!(limiter.allow(a, 1.0));
        assert!(!limiter.allow(a, 1.0));
        assert!(limiter.allow(b, 3.0));
    }

    #[test]
    fn a_refused_client_is_told_how_long_until_it_may_send_again() {
        let limiter = RateLimiter::new(1.0, 1.0 / 60.0);
        let a: IpAddr = [10, 0, 0, 1].into();
        assert_eq!(limiter.take(a, 1.0), Ok(()));
        let wait = limiter.take(a, 1.0).unwrap_err();
        assert!(
            wait > Duration::from_secs(59) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        let never = RateLimiter::new(1.0, 0.0);
        assert_eq!(never.take(a, 1.0), Ok(()));
        assert_eq!(never.take(a, 1.0), Err(Duration::from_secs(86_400)));
    }
}
