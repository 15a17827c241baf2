//! The session against scripted server frames: what is printed, what is sent.

use super::*;
use crate::inbox::{AddedRoom, InboxFrame};
use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::http::PersonView;
use chat_schemas::{MessageId, UserId};
use std::time::Duration;

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

/// A session connected and joined to `r1` at `last_seq`, that knows Alice's name.
fn joined(last_seq: u64) -> Session {
    let mut session = Session::default();
    session.names_mut().learn(ALICE, "alice", "Alice");
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
        vec!["[r1] Alice: two".to_owned()]
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
        vec!["* Alice is online".to_owned()]
    );
    assert!(printed(&session.on_frame(presence())).is_empty());
}

#[test]
fn someone_joining_a_joined_room_is_looked_up_once_and_watched_for_presence() {
    let mut session = joined(1);
    let bob = UserId::generate();
    let joins = |seq: u64| ServerFrame::Event {
        room_id: "r1".into(),
        seq,
        prev_seq: seq - 1,
        event: Envelope::room(bob, room(), EventBody::MemberJoined { user_id: bob }),
    };
    let actions = session.on_frame(joins(2));
    assert!(printed(&actions).is_empty(), "waits for bob's name");
    assert!(actions.contains(&Action::LookUp(vec![bob.to_string()])));
    assert!(matches!(
        &sent(&actions)[..],
        [ClientFrame::Watch { user_ids, .. }] if user_ids == &vec![bob.to_string()]
    ));
    // Alice's line waits behind bob's, and bob is not asked for twice.
    let second = session.on_frame(message(3, 2, "welcome"));
    assert!(printed(&second).is_empty());
    assert!(!second.iter().any(|a| matches!(a, Action::LookUp(_))));
    let bob_view = PersonView {
        user_id: bob.to_string(),
        username: "bob".into(),
        display_name: "Bob B.".into(),
    };
    let released = session.people_found(&[bob.to_string()], &[bob_view]);
    assert_eq!(
        printed(&released),
        vec!["[r1] * Bob B. joined", "[r1] Alice: welcome"]
    );
}

#[test]
fn a_lookup_without_an_answer_prints_a_short_id_and_asks_no_more() {
    let mut session = joined(1);
    let ghost = "01a234fe-b7dc-775c-9739-0448a0326832";
    let typing = || ServerFrame::Typing {
        room_id: "r1".into(),
        user_id: ghost.into(),
        expires_in_ms: 5000,
    };
    assert_eq!(
        session.on_frame(typing()),
        vec![Action::LookUp(vec![ghost.into()])]
    );
    let released = session.people_found(&[ghost.into()], &[]);
    assert_eq!(printed(&released), vec!["[r1] * user 01a234 is typing"]);
    assert_eq!(
        printed(&session.on_frame(typing())),
        vec!["[r1] * user 01a234 is typing"]
    );
}

#[test]
fn a_profile_frame_renames_and_a_room_added_elsewhere_is_received_without_switching() {
    let mut session = joined(3);
    assert!(session
        .on_inbox(InboxFrame::Profile {
            user_id: ALICE.into(),
            display_name: "Queen Alice".into(),
        })
        .is_empty());
    assert_eq!(
        printed(&session.on_frame(message(4, 3, "hi"))),
        vec!["[r1] Queen Alice: hi"]
    );
    let actions = session.on_inbox(InboxFrame::RoomAdded {
        room: AddedRoom {
            room_id: "r2".into(),
            name: "ops team".into(),
            kind: "group".into(),
            peer_id: None,
            peer_name: None,
        },
    });
    assert_eq!(
        printed(&actions),
        vec!["* You were added to ops team (/switch ops team to talk there)"]
    );
    assert!(matches!(&sent(&actions)[..], [ClientFrame::Join { room_id, .. }] if room_id == "r2"));
    assert_eq!(session.current_room(), Some(&room()), "still in r1");
    session.switch_to("OPS TEAM");
    assert_eq!(session.current_room().unwrap().as_str(), "r2");
    let removed = session.on_inbox(InboxFrame::RoomRemoved {
        room_id: "r2".into(),
    });
    assert_eq!(
        removed,
        vec![Action::Note("* you are no longer in ops team".into())]
    );
    assert_eq!(session.current_room(), None);
}

fn reads(actions: &[Action]) -> Vec<(String, u64)> {
    sent(actions)
        .into_iter()
        .filter_map(|frame| match frame {
            ClientFrame::Read { room_id, seq, .. } => Some((room_id, seq?.as_u64()?)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_current_room_is_marked_read_on_joining_and_as_messages_arrive_at_most_once_a_second() {
    let t0 = Instant::now();
    let mut session = joined(4);
    // Joined as the current room: read up to where it stood.
    assert_eq!(reads(&session.reads_due(t0)), vec![("r1".into(), 4)]);
    session.on_frame(message(5, 4, "one"));
    session.on_frame(message(6, 5, "two"));
    assert!(reads(&session.reads_due(t0)).is_empty());
    let due = session.next_read_at().unwrap();
    let out = session.reads_due(due);
    assert_eq!(reads(&out), vec![("r1".into(), 6)]);
    // The answer to a read is silent; an error for one says what it was.
    let ClientFrame::Read { id, .. } = &sent(&out)[0] else {
        panic!()
    };
    let error = session.on_frame(ServerFrame::Error {
        id: Some(id.clone()),
        code: "invalid_seq".into(),
        message: "no".into(),
        retry_after_ms: None,
    });
    assert_eq!(
        error,
        vec![Action::Note(
            "error: marking a room read: invalid_seq: no".into()
        )]
    );
    assert_eq!(session.awaiting(), 0);
}

#[test]
fn a_room_that_is_not_current_is_not_marked_read_until_switched_to() {
    let t0 = Instant::now();
    let mut session = joined(2);
    session.reads_due(t0);
    let other = RoomId::parse("r2").unwrap();
    session.switch(other);
    session.on_frame(message(3, 2, "while away"));
    assert!(reads(&session.reads_due(t0 + Duration::from_secs(5))).is_empty());
    session.switch(room());
    assert_eq!(
        reads(&session.reads_due(t0 + Duration::from_secs(5))),
        vec![("r1".into(), 3)]
    );
}

#[test]
fn switching_to_a_room_not_live_here_joins_it_and_a_word_that_is_no_room_is_refused() {
    let mut session = joined(2);
    session.name_room("r2", "trip planning");
    let actions = session.switch_to("trip");
    assert!(matches!(
        &sent(&actions)[..],
        [ClientFrame::Join { room_id, .. }] if room_id == "r2"
    ));
    assert_eq!(session.current_room().map(|r| r.as_str()), Some("r2"));
    let refused = session.switch_to("nowhere");
    assert!(sent(&refused).is_empty());
    assert_eq!(session.current_room().map(|r| r.as_str()), Some("r2"));
}
