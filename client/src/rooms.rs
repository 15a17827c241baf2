//! The rooms this client wants live, and how far it has got in each.
//!
//! Per room it keeps the last `seq` it printed and the `lastSeq` the server reported on
//! `joined`. Their maximum is the room's *position*: what `resume` sends after a reconnect.
//! An event at or below the last printed `seq` is a duplicate (a replay overlapping what
//! already arrived) and is dropped; an event whose `prevSeq` is beyond the position means
//! something was missed, and the room is resumed from the position before anything newer
//! is printed.

use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
struct RoomState {
    /// The `seq` of the last event printed.
    printed: Option<u64>,
    /// The room's `lastSeq` when the server started sending it live (`joined`), or where a
    /// resume that could not replay left it.
    base: Option<u64>,
    /// A `resume` is under way: events beyond the position will come with its replay.
    resuming: bool,
}

impl RoomState {
    fn position(&self) -> Option<u64> {
        self.printed.max(self.base)
    }
}

/// What to do with an arriving event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// New and in order: print it.
    Show,
    /// Already printed, or beyond a gap that a running resume will fill: drop it.
    Drop,
    /// Events are missing after `from`: drop this one and resume the room from `from`.
    Gap { from: u64 },
}

#[derive(Debug, Default)]
pub struct RoomTracker {
    rooms: BTreeMap<String, RoomState>,
}

impl RoomTracker {
    /// Start tracking a room (on `join`); keeps what is known if already tracked.
    pub fn want(&mut self, room: &str) {
        self.rooms.entry(room.to_owned()).or_default();
    }

    /// Stop tracking a room (left, or the server refused it).
    pub fn forget(&mut self, room: &str) {
        self.rooms.remove(room);
    }

    pub fn is_wanted(&self, room: &str) -> bool {
        self.rooms.contains_key(room)
    }

    /// Where a resume of `room` starts, if anything is known about it.
    pub fn position(&self, room: &str) -> Option<u64> {
        self.rooms.get(room).and_then(RoomState::position)
    }

    /// Every tracked room with a position, for `resume` after a reconnect.
    pub fn positions(&self) -> Vec<(String, u64)> {
        self.rooms
            .iter()
            .filter_map(|(room, state)| Some((room.clone(), state.position()?)))
            .collect()
    }

    pub fn on_joined(&mut self, room: &str, last_seq: u64) {
        if let Some(state) = self.rooms.get_mut(room) {
            state.base = state.base.max(Some(last_seq));
        }
    }

    /// A `resume` for `room` was sent.
    pub fn resume_started(&mut self, room: &str) {
        if let Some(state) = self.rooms.get_mut(room) {
            state.resuming = true;
        }
    }

    /// The answer to a resume (or a refused one). When the gap could not be replayed the
    /// room continues from `last_seq`; the user is told to look at the history.
    pub fn resume_ended(&mut self, room: &str, recovered: bool, last_seq: u64) {
        if let Some(state) = self.rooms.get_mut(room) {
            state.resuming = false;
            if !recovered {
                state.base = state.base.max(Some(last_seq));
            }
        }
    }

    /// The connection dropped: no resume is under way any more.
    pub fn connection_lost(&mut self) {
        for state in self.rooms.values_mut() {
            state.resuming = false;
        }
    }

    /// Decides about an `event {roomId, seq, prevSeq}` and records a shown one.
    pub fn on_event(&mut self, room: &str, seq: u64, prev_seq: u64) -> Verdict {
        let Some(state) = self.rooms.get_mut(room) else {
            // Not (or no longer) wanted, e.g. just left: nothing to keep in order.
            return Verdict::Show;
        };
        if state.printed.is_some_and(|printed| seq <= printed) {
            return Verdict::Drop;
        }
        match state.position() {
            Some(position) if prev_seq > position => {
                if state.resuming {
                    Verdict::Drop
                } else {
                    state.resuming = true;
                    Verdict::Gap { from: position }
                }
            }
            _ => {
                state.printed = Some(seq);
                Verdict::Show
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(room: &str, last_seq: u64) -> RoomTracker {
        let mut rooms = RoomTracker::default();
        rooms.want(room);
        rooms.on_joined(room, last_seq);
        rooms
    }

    #[test]
    fn events_in_order_are_shown_once() {
        let mut rooms = joined("r", 10);
        assert_eq!(rooms.on_event("r", 12, 10), Verdict::Show);
        assert_eq!(rooms.on_event("r", 15, 12), Verdict::Show);
        assert_eq!(rooms.on_event("r", 12, 10), Verdict::Drop);
        assert_eq!(rooms.on_event("r", 15, 12), Verdict::Drop);
        assert_eq!(rooms.position("r"), Some(15));
    }

    #[test]
    fn an_event_racing_the_joined_answer_is_still_shown() {
        // The live subscription starts before the server reads the room's last seq, so
        // the event at that seq may arrive after `joined`.
        let mut rooms = joined("r", 10);
        assert_eq!(rooms.on_event("r", 10, 7), Verdict::Show);
        assert_eq!(rooms.on_event("r", 11, 10), Verdict::Show);
    }

    #[test]
    fn a_gap_asks_for_one_resume_and_the_replay_fills_it() {
        let mut rooms = joined("r", 10);
        assert_eq!(rooms.on_event("r", 11, 10), Verdict::Show);
        assert_eq!(rooms.on_event("r", 14, 13), Verdict::Gap { from: 11 });
        assert_eq!(rooms.on_event("r", 15, 14), Verdict::Drop);
        // The replay: 13, 14, 15 in order, then live again.
        assert_eq!(rooms.on_event("r", 13, 11), Verdict::Show);
        assert_eq!(rooms.on_event("r", 14, 13), Verdict::Show);
        assert_eq!(rooms.on_event("r", 15, 14), Verdict::Show);
        rooms.resume_ended("r", true, 15);
        assert_eq!(rooms.on_event("r", 16, 15), Verdict::Show);
    }

    #[test]
    fn an_unrecoverable_gap_continues_from_the_servers_last_seq() {
        let mut rooms = joined("r", 10);
        rooms.resume_started("r");
        rooms.resume_ended("r", false, 500);
        assert_eq!(rooms.position("r"), Some(500));
        assert_eq!(rooms.on_event("r", 501, 500), Verdict::Show);
    }

    #[test]
    fn positions_list_only_rooms_with_something_known() {
        let mut rooms = joined("a", 3);
        rooms.want("b");
        assert_eq!(rooms.positions(), vec![("a".to_owned(), 3)]);
        rooms.forget("a");
        assert!(rooms.positions().is_empty());
        assert!(rooms.is_wanted("b"));
    }
}
