//! The inbox against scripted notices: `roomAdded` before a join's `joined`, no duplicate
//! for a room the connection receives, `roomRemoved` ending the room's live delivery, other
//! notices passed on.

use super::*;
use chat_schemas::http::RoomSummary;

fn summary(name: &str) -> RoomSummary {
    RoomSummary {
        room_id: name.into(),
        name: name.into(),
        visibility: "public".into(),
        kind: "group".into(),
        created_by: ALICE.into(),
        created_at: "2026-01-01T00:00:00Z".into(),
        member_count: 2,
        last_seq: 1,
        peer_id: None,
        peer_name: None,
        last_read_seq: 0,
        unread_count: 0,
    }
}

fn added(name: &str) -> ServerFrame {
    ServerFrame::RoomAdded {
        room: summary(name),
    }
}

/// Joins `name` as a new member, answering every I/O; returns every action on the way.
fn join_as_new_member(session: &mut Session, name: &str) -> Vec<Action> {
    let mut actions = session.on_text(&format!(r#"{{"type":"join","id":"j","roomId":"{name}"}}"#));
    actions.extend(session.on_done(Done::Command(Ok(Some(7)))));
    actions.extend(session.on_done(Done::RoomListing(Some(summary(name)))));
    actions.extend(session.on_done(Done::Subscribed(Ok(()))));
    actions.extend(session.on_done(Done::RoomMembers(Some(Some(vec![alice()])))));
    actions.extend(session.on_done(Done::Presence(vec![])));
    actions.extend(session.on_done(Done::Latest(Ok(7))));
    actions
}

#[test]
fn a_notice_for_a_room_the_connection_does_not_receive_is_forwarded() {
    let mut session = session();
    assert_eq!(session.on_inbox(added("r1")), [Action::Reply(added("r1"))]);
}

#[test]
fn a_join_that_made_the_user_a_member_answers_room_added_before_anything_of_the_room() {
    let mut session = session();
    let actions = join_as_new_member(&mut session, "r1");
    let position = |wanted: fn(&Action) -> bool| actions.iter().position(wanted).unwrap();
    let room_added = position(|a| matches!(a, Action::Reply(ServerFrame::RoomAdded { .. })));
    let subscribe = position(|a| matches!(a, Action::Io(Io::Subscribe(_))));
    let joined = position(|a| matches!(a, Action::Reply(ServerFrame::Joined { .. })));
    assert!(room_added < subscribe && subscribe < joined, "{actions:?}");
    assert_eq!(
        actions[0],
        Action::Io(Io::Command(Command::Join(room("r1"))))
    );
    assert_eq!(actions[1], Action::Io(Io::RoomListing(room("r1"))));
    // The projector's notice of the same join comes later: not sent twice.
    assert_eq!(session.on_inbox(added("r1")), []);
}

#[test]
fn a_join_of_a_room_the_user_was_in_announces_nothing() {
    let mut session = session();
    session.on_text(r#"{"type":"join","id":"j","roomId":"r1"}"#);
    assert_eq!(
        session.on_done(Done::Command(Ok(None))),
        [Action::Io(Io::Subscribe(room("r1")))]
    );
}

#[test]
fn a_room_that_cannot_be_read_back_is_joined_without_room_added() {
    let mut session = session();
    session.on_text(r#"{"type":"join","id":"j","roomId":"r1"}"#);
    session.on_done(Done::Command(Ok(Some(3))));
    assert_eq!(
        session.on_done(Done::RoomListing(None)),
        [Action::Io(Io::Subscribe(room("r1")))]
    );
}

#[test]
fn room_removed_stops_the_room_and_is_forwarded() {
    let mut session = session();
    join_as_new_member(&mut session, "r1");
    let removed = ServerFrame::RoomRemoved {
        room_id: "r1".into(),
    };
    assert_eq!(
        session.on_inbox(removed.clone()),
        [
            Action::Unsubscribe(room("r1")),
            Action::Reply(removed.clone())
        ]
    );
    // Not received any more: a later roomAdded (rejoined elsewhere) is forwarded.
    assert_eq!(session.on_inbox(added("r1")), [Action::Reply(added("r1"))]);
    // A second notice for a room already stopped only forwards.
    assert_eq!(session.on_inbox(removed.clone()), [Action::Reply(removed)]);
}

#[test]
fn other_inbox_frames_are_passed_on_as_they_come() {
    let mut session = session();
    let other = ServerFrame::Profile {
        user_id: ALICE.into(),
        display_name: "Alice".into(),
    };
    assert_eq!(session.on_inbox(other.clone()), [Action::Reply(other)]);
}
