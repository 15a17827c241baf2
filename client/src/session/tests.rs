//! The session against scripted server frames: what is printed, what is sent.

use super::*;
use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::{MessageId, UserId};

const ALICE: &str = "0190c1c6-7c3a-7000-8000-000000000001";

fn room() -> RoomId {
    RoomId::parse("r1").unwrap()
}

fn hello() -> ServerFrame {
    ServerFrame::Hello {
        protocol: 1,
        user_id: ALICE.into(),
        connection_id: "c".into(),
        heartbeat_ms: 15_000,
        idle_timeout_ms: 40_000,
        rooms: vec![],
    }
}

fn message(seq: u64, prev_seq: u64, text: &str) -> ServerFrame {
    ServerFrame::Event {
        room_id: "r1".into(),
        seq,
        prev_seq,
        event: Envelope::room(
            UserId::parse(ALICE).unwrap(),
            room(),
            EventBody::MessagePosted {
                message_id: MessageId::generate(),
                message: text.into(),
                client_timestamp: None,
                client_msg_id: None,
            },
        ),
    }
}

fn sent(actions: &[Action]) -> Vec<ClientFrame> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(frame) => Some(frame.clone()),
            _ => None,
        })
        .collect()
}

fn printed(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Print(line) => Some(line.clone()),
            _ => None,
        })
        .collect()
}

/// A session connected and joined to `r1` at `last_seq`.
fn joined(last_seq: u64) -> Session {
    let mut session = Session::default();
    session.on_frame(hello());
    let join = sent(&session.join(room()));
    let ClientFrame::Join { id, .. } = &join[0] else {
        panic!("{join:?}")
    };
    session.on_frame(ServerFrame::Joined {
        id: id.clone(),
        room_id: "r1".into(),
        last_seq,
    });
    session
}

#[test]
fn a_line_before_any_room_is_refused_with_a_hint() {
    let mut session = Session::default();
    let actions = session.send_message("hi".into());
    assert!(matches!(&actions[..], [Action::Note(n)] if n.contains("no current room")));
    assert_eq!(session.awaiting(), 0);
}

#[test]
fn the_first_join_of_a_room_shows_its_recent_messages_once() {
    let mut session = Session::default();
    session.on_frame(hello());
    let join = sent(&session.join(room()));
    let ClientFrame::Join { id, .. } = &join[0] else {
        panic!("{join:?}")
    };
    let actions = session.on_frame(ServerFrame::Joined {
        id: id.clone(),
        room_id: "r1".into(),
        last_seq: 7,
    });
    assert_eq!(
        actions,
        vec![
            Action::Note("* joined r1 lastSeq=7".into()),
            Action::ShowRecent {
                room: room(),
                up_to: 7
            }
        ]
    );
    // Joined again (after a reconnect, say): what was shown is not shown again.
    let again = sent(&session.join(room()));
    let ClientFrame::Join { id, .. } = &again[0] else {
        panic!("{again:?}")
    };
    let actions = session.on_frame(ServerFrame::Joined {
        id: id.clone(),
        room_id: "r1".into(),
        last_seq: 9,
    });
    assert_eq!(actions, vec![Action::Note("* joined r1 lastSeq=9".into())]);
}

#[test]
fn typing_goes_to_the_current_joined_room_only() {
    let session = Session::default();
    assert!(session.typing().is_empty());
    let session = joined(3);
    assert_eq!(
        session.typing(),
        vec![Action::Send(ClientFrame::Typing {
            id: None,
            room_id: "r1".into()
        })]
    );
}

#[test]
fn a_send_is_outstanding_until_its_ack() {
    let mut session = joined(3);
    let frames = sent(&session.send_message("hello".into()));
    let ClientFrame::Send { id, .. } = &frames[0] else {
        panic!("{frames:?}")
    };
    assert_eq!(session.awaiting(), 1);
    let actions = session.on_frame(ServerFrame::Ack {
        id: id.clone(),
        seq: Some(4),
        message_id: Some("m".into()),
        timestamp: None,
    });
    assert_eq!(
        actions,
        vec![Action::Ack("ok send r1 seq=4 messageId=m".into())]
    );
    // Still waiting for our own message to come back live.
    assert_eq!(session.awaiting(), 1);
    session.on_frame(message(4, 3, "hello"));
    assert_eq!(session.awaiting(), 0);
}

#[test]
fn a_reconnect_resumes_from_the_last_printed_seq_and_repeats_unanswered_sends() {
    let mut session = joined(3);
    session.on_frame(message(5, 3, "one"));
    let first = sent(&session.send_message("two".into()));
    session.disconnected();
    // Typed while disconnected: queued, sent after the reconnect.
    let third = sent(&session.send_message("three".into()));

    let actions = session.on_frame(hello());
    assert_eq!(actions[0], Action::Note("* reconnected".into()));
    let frames = sent(&actions);
    assert!(
        matches!(&frames[0], ClientFrame::Resume { rooms, .. }
            if rooms == &vec![RoomPosition { room_id: "r1".into(), last_seq: 5 }]),
        "{frames:?}"
    );
    // The same frames, ids and clientMsgIds as before: the server deduplicates them.
    assert_eq!(frames[1..], [first[0].clone(), third[0].clone()]);
}

#[test]
fn events_replayed_after_a_reconnect_are_printed_once() {
    let mut session = joined(3);
    assert_eq!(printed(&session.on_frame(message(5, 3, "one"))).len(), 1);
    session.disconnected();
    session.on_frame(hello());
    // The replay overlaps what was already printed.
    assert!(printed(&session.on_frame(message(5, 3, "one"))).is_empty());
    assert_eq!(
        printed(&session.on_frame(message(8, 5, "two"))),
        vec![format!("[r1] {ALICE}: two")]
    );
}

#[test]
fn a_gap_in_prev_seq_asks_for_a_resume_and_prints_nothing_out_of_order() {
    let mut session = joined(3);
    let actions = session.on_frame(message(9, 7, "after the gap"));
    assert!(printed(&actions).is_empty());
    assert!(matches!(
        &sent(&actions)[..],
        [ClientFrame::Resume { rooms, .. }] if rooms[0].last_seq == 3
    ));
    assert_eq!(printed(&session.on_frame(message(7, 3, "missed"))).len(), 1);
    assert_eq!(printed(&session.on_frame(message(9, 7, "after"))).len(), 1);
}

#[test]
fn a_refused_join_is_reported_and_not_resumed_later() {
    let mut session = Session::default();
    session.on_frame(hello());
    let frames = sent(&session.join(room()));
    let ClientFrame::Join { id, .. } = &frames[0] else {
        panic!()
    };
    let actions = session.on_frame(ServerFrame::Error {
        id: Some(id.clone()),
        code: "room_private".into(),
        message: "private".into(),
        retry_after_ms: None,
    });
    assert_eq!(
        actions,
        vec![Action::Note("error: join r1: room_private: private".into())]
    );
    session.disconnected();
    assert!(sent(&session.on_frame(hello())).is_empty());
}

#[test]
fn unchanged_presence_is_not_printed_again() {
    let mut session = joined(1);
    let presence = || ServerFrame::Presence {
        user_id: ALICE.into(),
        status: "online".into(),
        last_seen: None,
    };
    assert_eq!(
        printed(&session.on_frame(presence())),
        vec![format!("* {ALICE} is online")]
    );
    assert!(printed(&session.on_frame(presence())).is_empty());
}

#[test]
fn someone_joining_a_joined_room_is_watched_for_presence() {
    let mut session = joined(1);
    let bob = UserId::generate();
    let actions = session.on_frame(ServerFrame::Event {
        room_id: "r1".into(),
        seq: 2,
        prev_seq: 1,
        event: Envelope::room(bob, room(), EventBody::MemberJoined { user_id: bob }),
    });
    assert_eq!(printed(&actions), vec![format!("[r1] * {bob} joined")]);
    assert!(matches!(
        &sent(&actions)[..],
        [ClientFrame::Watch { user_ids, .. }] if user_ids == &vec![bob.to_string()]
    ));
}
