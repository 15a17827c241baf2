//! Message timestamps: the server's receive time, strictly increasing within a process at
//! microsecond precision.
//!
//! `GET /getMessages?since=T` resolves `T` to a position in the room (see
//! `chat_api::routes::messages`): a message whose timestamp is exactly `T` is the client's
//! last one, and the page continues after it in `seq` order. That is exact only if no two
//! messages of a room share a timestamp; a clock with milliseconds gave the same one to
//! every message sent in the same millisecond. This clock never hands out the same
//! microsecond twice in one process (the all-in-one server, or one api or gateway), so two
//! messages can only tie when two processes stamp the same room in the same microsecond;
//! then `since` repeats the tied message rather than skipping one.
//!
//! Under a burst of more than a million stamps a second the clock runs ahead of the wall
//! clock by at most the excess, and catches up when the burst ends.

use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;

static LAST_MICROS: AtomicI64 = AtomicI64::new(0);

/// Now, in microseconds, later than every earlier answer of this process.
pub fn message_time() -> OffsetDateTime {
    let now = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as i64;
    let mut last = LAST_MICROS.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST_MICROS.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => {
                return OffsetDateTime::from_unix_timestamp_nanos(next as i128 * 1_000)
                    .expect("the clock is within time's range")
            }
            Err(seen) => last = seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_never_repeat_and_never_go_back() {
        let stamps: Vec<OffsetDateTime> = (0..10_000).map(|_| message_time()).collect();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]));
        assert!(stamps.iter().all(|t| t.nanosecond() % 1_000 == 0));
    }
}
