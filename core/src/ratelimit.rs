//! Token-bucket rate limiting, in memory (per process: each api or gateway instance limits
//! what reaches it, which bounds the load any one client can put on it).
//!
//! A bucket holds up to `burst` tokens and refills at `per_second`; each request takes
//! one. An empty bucket answers how long until the next token.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A rate: `per_second` sustained, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: Rate,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            tokens: rate.burst,
            updated: Instant::now(),
        }
    }

    /// Takes a token, or answers how long until one is available.
    pub fn take(&mut self) -> Result<(), Duration> {
        self.take_at(Instant::now())
    }

    fn take_at(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate.per_second).min(self.rate.burst);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / self.rate.per_second.max(f64::MIN_POSITIVE);
            Err(Duration::from_secs_f64(wait))
        }
    }

    /// Whether a token is available now, without taking it (or how long until one is).
    pub fn check(&self) -> Result<(), Duration> {
        let elapsed = self.updated.elapsed().as_secs_f64();
        let tokens = (self.tokens + elapsed * self.rate.per_second).min(self.rate.burst);
        if tokens >= 1.0 {
            Ok(())
        } else {
            let wait = (1.0 - tokens) / self.rate.per_second.max(f64::MIN_POSITIVE);
            Err(Duration::from_secs_f64(wait))
        }
    }

    fn is_full_at(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens + elapsed * self.rate.per_second >= self.rate.burst
    }
}

/// One bucket per key (a user, a username), created on first use; full buckets are
/// dropped now and then so memory follows the active keys only.
pub struct KeyedLimiter<K> {
    rate: Rate,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

impl<K: Eq + Hash + Clone> KeyedLimiter<K> {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` has a token now, without taking it: for allowances charged only once
    /// the action succeeded (see [`Self::spend`]).
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let buckets = self.buckets.lock().expect("rate-limit lock");
        buckets.get(key).map_or(Ok(()), TokenBucket::check)
    }

    /// Takes a token from `key` if it has one (after an action [`Self::check`] allowed).
    pub fn spend(&self, key: &K) {
        let _ = self.take(key);
    }

    pub fn take(&self, key: &K) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().expect("rate-limit lock");
        if buckets.len() > 10_000 {
            let now = Instant::now();
            buckets.retain(|_, b| !b.is_full_at(now));
        }
        buckets
            .entry(key.clone())
            .or_insert_with(|| TokenBucket::new(self.rate))
            .take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_paces() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(Rate {
            per_second: 2.0,
            burst: 3.0,
        });
        bucket.updated = start;
        for _ in 0..3 {
            assert!(bucket.take_at(start).is_ok());
        }
        let wait = bucket.take_at(start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 0.01, "{wait:?}");
        assert!(bucket.take_at(start + Duration::from_millis(500)).is_ok());
        assert!(bucket.take_at(start + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn checking_takes_nothing_and_spending_does() {
        let limiter = KeyedLimiter::new(Rate {
            per_second: 0.001,
            burst: 2.0,
        });
        for _ in 0..5 {
            assert!(limiter.check(&"k").is_ok());
        }
        limiter.spend(&"k");
        limiter.spend(&"k");
        assert!(limiter.check(&"k").is_err());
        limiter.spend(&"k");
        assert!(limiter.take(&"k").is_err());
        assert!(limiter.check(&"other").is_ok());
    }

    #[test]
    fn keys_have_their_own_buckets() {
        let limiter = KeyedLimiter::new(Rate {
            per_second: 0.001,
            burst: 1.0,
        });
        assert!(limiter.take(&"a").is_ok());
        assert!(limiter.take(&"a").is_err());
        assert!(limiter.take(&"b").is_ok());
    }
}
