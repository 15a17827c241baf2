//! Frame limits per user on this gateway process: one allowance shared by every
//! connection of the user, so opening more sockets does not multiply what one user may
//! send.
//!
//! Decisions:
//! - **Per process.** The allowance lives in this gateway's memory; a user connected to N
//!   gateways may send up to N times the rate (as with the connection caps of
//!   [`crate::admission`]). Sharing it across gateways would cost a NATS or database round
//!   trip per frame; per process bounds the load any one user puts on any one gateway.
//! - **Every frame counts**: text, binary, and client `Ping`/`Pong` control frames alike
//!   (see `driver::Driver::run`). A close frame ends the connection and is not counted.
//! - **Refusals are per connection**: the connection whose frames are refused is the one
//!   closed with 4029 after `GATEWAY_FLOOD_CLOSE_AFTER` refusals in a row; a calm
//!   connection of the same user is only paced (`rate_limited` with `retryAfterMs`).
//! - **Reconnecting does not refill it**: a user's allowance outlives their connections
//!   until it has refilled completely; only then is it forgotten (swept when the table has
//!   doubled since the last sweep, so the cost per connection stays constant).

use chat_core::ratelimit::{Rate, TokenBucket};
use chat_schemas::UserId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The allowances of the users seen on this gateway.
pub struct UserLimits {
    rate: Rate,
    table: Mutex<Table>,
}

struct Table {
    users: HashMap<UserId, Arc<Allowance>>,
    /// Sweep once the table holds this many users.
    sweep_at: usize,
}

/// The smallest table that is swept.
const SWEEP_FLOOR: usize = 1024;

/// One user's frame allowance, shared by their connections on this gateway.
pub struct Allowance {
    bucket: Mutex<(TokenBucket, Instant)>,
    /// How long an untouched bucket takes to refill completely.
    refill: Duration,
}

impl Allowance {
    /// Takes one frame's token, or answers how long until one is available.
    pub fn take(&self) -> Result<(), Duration> {
        let mut guard = self.bucket.lock().expect("allowance lock");
        guard.1 = Instant::now();
        guard.0.take()
    }

    /// Whether the bucket is surely full again (untouched for a whole refill time).
    fn refilled(&self) -> bool {
        self.bucket.lock().expect("allowance lock").1.elapsed() >= self.refill
    }
}

impl UserLimits {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            table: Mutex::new(Table {
                users: HashMap::new(),
                sweep_at: SWEEP_FLOOR,
            }),
        }
    }

    /// The allowance of `user`, shared with their other connections here.
    pub fn allowance(&self, user: UserId) -> Arc<Allowance> {
        let mut table = self.table.lock().expect("user limits lock");
        if table.users.len() >= table.sweep_at {
            // Forget users with no connection here whose bucket is full again.
            table
                .users
                .retain(|_, a| Arc::strong_count(a) > 1 || !a.refilled());
            table.sweep_at = (table.users.len() * 2).max(SWEEP_FLOOR);
        }
        let rate = self.rate;
        table
            .users
            .entry(user)
            .or_insert_with(|| {
                let refill = Duration::from_secs_f64(
                    (rate.burst / rate.per_second.max(f64::MIN_POSITIVE)).min(86_400.0),
                );
                Arc::new(Allowance {
                    bucket: Mutex::new((TokenBucket::new(rate), Instant::now())),
                    refill,
                })
            })
            .clone()
    }

    /// Users with an allowance held here (for tests).
    pub fn len(&self) -> usize {
        self.table.lock().expect("user limits lock").users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_of_one_user_share_one_allowance() {
        let limits = UserLimits::new(Rate {
            per_second: 0.001,
            burst: 3.0,
        });
        let user = UserId::generate();
        let (a, b) = (limits.allowance(user), limits.allowance(user));
        assert!(a.take().is_ok());
        assert!(b.take().is_ok());
        assert!(a.take().is_ok());
        assert!(
            b.take().is_err(),
            "the burst is the user's, not each socket's"
        );
        assert!(limits.allowance(UserId::generate()).take().is_ok());
    }

    #[test]
    fn a_reconnect_does_not_refill_the_allowance() {
        let limits = UserLimits::new(Rate {
            per_second: 0.001,
            burst: 1.0,
        });
        let user = UserId::generate();
        let first = limits.allowance(user);
        assert!(first.take().is_ok());
        drop(first);
        for _ in 0..SWEEP_FLOOR {
            drop(limits.allowance(UserId::generate()));
        }
        assert!(limits.allowance(user).take().is_err());
    }
}
