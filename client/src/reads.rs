//! Marking rooms read: the position a person has seen in a room goes to the server as a
//! `read` frame, at most once a second per room. A position seen within that second waits
//! for the second's end (trailing), so a burst of messages costs one frame and the last
//! one read is still the one stored. Positions only move forward, as on the server.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// At most one `read` per room in this interval.
pub const READ_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct RoomRead {
    /// The latest position sent.
    sent: u64,
    sent_at: Option<Instant>,
    /// A position seen but not sent yet.
    due: Option<u64>,
}

#[derive(Debug, Default)]
pub struct Reads {
    rooms: HashMap<String, RoomRead>,
}

impl Reads {
    /// The person has seen `room` up to `seq`.
    pub fn seen(&mut self, room: &str, seq: u64) {
        let state = self.rooms.entry(room.to_owned()).or_default();
        if seq > state.sent.max(state.due.unwrap_or(0)) {
            state.due = Some(seq);
        }
    }

    /// The positions to send now, as `(roomId, seq)`.
    pub fn take(&mut self, now: Instant) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        for (room, state) in &mut self.rooms {
            let Some(seq) = state.due else { continue };
            if state.sent_at.is_none_or(|at| now >= at + READ_EVERY) {
                state.due = None;
                state.sent = seq;
                state.sent_at = Some(now);
                out.push((room.clone(), seq));
            }
        }
        out.sort();
        out
    }

    /// When [`Reads::take`] will next have something to send.
    pub fn next_due(&self) -> Option<Instant> {
        self.rooms
            .values()
            .filter(|s| s.due.is_some())
            .filter_map(|s| s.sent_at.map(|at| at + READ_EVERY))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_read_a_second_per_room_and_the_last_position_is_not_lost() {
        let t0 = Instant::now();
        let mut reads = Reads::default();
        reads.seen("a", 3);
        reads.seen("b", 7);
        assert_eq!(reads.take(t0), vec![("a".into(), 3), ("b".into(), 7)]);
        assert_eq!(reads.next_due(), None);
        // A burst within the second waits, and only its last position goes out.
        reads.seen("a", 4);
        reads.seen("a", 5);
        assert!(reads.take(t0 + Duration::from_millis(300)).is_empty());
        assert_eq!(reads.next_due(), Some(t0 + READ_EVERY));
        assert_eq!(reads.take(t0 + READ_EVERY), vec![("a".into(), 5)]);
        // Nothing goes backwards or repeats.
        reads.seen("a", 5);
        reads.seen("a", 2);
        reads.seen("b", 7);
        assert!(reads.take(t0 + READ_EVERY * 5).is_empty());
    }
}
