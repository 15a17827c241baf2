//! Frames sent (or queued while disconnected) that still wait for their answer.
//!
//! After a reconnect every one of them except `resume` is sent again with its `id`
//! unchanged: a `send` keeps its `clientMsgId`, so the server answers a repeat with the
//! original message instead of storing it twice. Resumes are not repeated as such; the
//! session builds fresh ones from the room positions.

use chat_schemas::ws::ClientFrame;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Outstanding {
    next_id: u64,
    /// By request id, so that a reconnect repeats them in the order they were made.
    frames: BTreeMap<u64, ClientFrame>,
}

impl Outstanding {
    /// A fresh request id.
    pub fn next_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Records a frame (whose `id` came from [`Outstanding::next_id`]) until answered.
    pub fn insert(&mut self, frame: ClientFrame) {
        if let Some(id) = ClientFrame::id(&frame).and_then(|id| id.parse().ok()) {
            self.frames.insert(id, frame);
        }
    }

    pub fn get(&self, id: &str) -> Option<&ClientFrame> {
        self.frames.get(&id.parse().ok()?)
    }

    /// The answer to `id` arrived: forget the request.
    pub fn answered(&mut self, id: &str) -> Option<ClientFrame> {
        self.frames.remove(&id.parse().ok()?)
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The connection dropped: resumes lapse (they are rebuilt from the room positions
    /// after the reconnect).
    pub fn lapse_resumes(&mut self) {
        self.frames
            .retain(|_, frame| !matches!(frame, ClientFrame::Resume { .. }));
    }

    /// Every request still waiting, in the order made, to be sent again.
    pub fn pending(&self) -> Vec<ClientFrame> {
        self.frames.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_schemas::ws::RoomPosition;

    #[test]
    fn unanswered_requests_repeat_in_order_but_resumes_lapse() {
        let mut outstanding = Outstanding::default();
        let send = ClientFrame::Send {
            id: outstanding.next_id(),
            room_id: "r".into(),
            message: "hi".into(),
            client_msg_id: Some("c1".into()),
        };
        let resume = ClientFrame::Resume {
            id: outstanding.next_id(),
            rooms: vec![RoomPosition {
                room_id: "r".into(),
                last_seq: 4,
            }],
        };
        let status = ClientFrame::Status {
            id: outstanding.next_id(),
            status: "away".into(),
        };
        for frame in [send.clone(), resume, status.clone()] {
            outstanding.insert(frame);
        }
        assert_eq!(outstanding.len(), 3);
        outstanding.lapse_resumes();
        assert_eq!(outstanding.pending(), vec![send, status]);
        assert!(outstanding.answered("1").is_some());
        assert!(outstanding.answered("1").is_none());
        assert_eq!(outstanding.len(), 1);
    }
}
