//! The receipt throttle: how often one reader's position in one room is told to the
//! room's other members. Pure logic (the caller passes the time), so it is tested
//! without sleeping.
//!
//! Per (room, reader): the first position is sent at once and opens a one-second window;
//! positions arriving inside the window are held, and when it closes the latest of them
//! is sent (trailing) and opens the next window. So a reader scrolling through a busy room
//! costs its room at most one `receipt` per second, and the last position is never lost.

use chat_schemas::{RoomId, UserId};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The shortest time between two receipts of one reader in one room.
pub const RECEIPT_EVERY: Duration = Duration::from_secs(1);

/// Whose receipt, where, up to which `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub room: RoomId,
    pub reader: UserId,
    pub seq: u64,
}

#[derive(Default)]
pub struct ReceiptThrottle {
    windows: HashMap<(RoomId, UserId), Window>,
}

struct Window {
    closes_at: Instant,
    /// The latest position seen inside the window, to send when it closes.
    held: Option<u64>,
}

impl ReceiptThrottle {
    /// A new position: answers it when it may be sent now; otherwise it is held.
    pub fn offer(&mut self, receipt: Receipt, now: Instant) -> Option<Receipt> {
        let key = (receipt.room.clone(), receipt.reader);
        match self.windows.get_mut(&key) {
            Some(window) if now < window.closes_at => {
                window.held = Some(window.held.unwrap_or(0).max(receipt.seq));
                None
            }
            _ => {
                self.windows.insert(
                    key,
                    Window {
                        closes_at: now + RECEIPT_EVERY,
                        held: None,
                    },
                );
                Some(receipt)
            }
        }
    }

    /// The held positions whose window has closed by `now`, to send now (each opens a new
    /// window); windows that closed with nothing held are forgotten.
    pub fn due(&mut self, now: Instant) -> Vec<Receipt> {
        let mut out = Vec::new();
        self.windows.retain(|(room, reader), window| {
            if now < window.closes_at {
                return true;
            }
            match window.held.take() {
                Some(seq) => {
                    out.push(Receipt {
                        room: room.clone(),
                        reader: *reader,
                        seq,
                    });
                    window.closes_at = now + RECEIPT_EVERY;
                    true
                }
                None => false,
            }
        });
        out
    }

    /// When [`Self::due`] next has something to do.
    pub fn next_due(&self) -> Option<Instant> {
        self.windows.values().map(|w| w.closes_at).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(room: &str, reader: u128, seq: u64) -> Receipt {
        Receipt {
            room: RoomId::parse(room).unwrap(),
            reader: UserId(uuid::Uuid::from_u128(reader)),
            seq,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_first_goes_at_once_and_the_latest_of_a_burst_when_the_window_closes() {
        let (mut throttle, t0) = (ReceiptThrottle::default(), Instant::now());
        assert_eq!(
            throttle.offer(receipt("r", 1, 5), t0),
            Some(receipt("r", 1, 5))
        );
        for (at, seq) in [(100, 6), (400, 9), (900, 8)] {
            assert_eq!(throttle.offer(receipt("r", 1, seq), t0 + ms(at)), None);
        }
        assert_eq!(throttle.next_due(), Some(t0 + RECEIPT_EVERY));
        assert!(
            throttle.due(t0 + ms(999)).is_empty(),
            "not before the second is over"
        );
        assert_eq!(throttle.due(t0 + ms(1_000)), [receipt("r", 1, 9)]);
        // The trailing send opened a new window: the next position waits for it.
        assert_eq!(throttle.offer(receipt("r", 1, 12), t0 + ms(1_500)), None);
        assert_eq!(throttle.due(t0 + ms(2_000)), [receipt("r", 1, 12)]);
        // A window that closes with nothing held is forgotten; the next goes at once.
        assert!(throttle.due(t0 + ms(3_000)).is_empty());
        assert_eq!(throttle.next_due(), None);
        assert_eq!(
            throttle.offer(receipt("r", 1, 13), t0 + ms(3_100)),
            Some(receipt("r", 1, 13))
        );
    }

    #[test]
    fn readers_and_rooms_are_throttled_apart() {
        let (mut throttle, t0) = (ReceiptThrottle::default(), Instant::now());
        assert!(throttle.offer(receipt("r", 1, 5), t0).is_some());
        assert!(
            throttle.offer(receipt("r", 2, 5), t0).is_some(),
            "another reader"
        );
        assert!(
            throttle.offer(receipt("s", 1, 7), t0).is_some(),
            "another room"
        );
        assert!(throttle.offer(receipt("r", 1, 6), t0 + ms(10)).is_none());
        assert_eq!(throttle.due(t0 + RECEIPT_EVERY), [receipt("r", 1, 6)]);
    }
}
