//! Join, leave and resume against scripted I/O results: the order of holding back,
//! subscribing, watching members, replaying and answering.

use super::*;
use crate::resume::ReplayOutcome;

fn join(session: &mut Session, id: &str, room_id: &str, last_seq: Option<u64>) -> Vec<Action> {
    let position = last_seq.map_or(String::new(), |s| format!(r#","lastSeq":{s}"#));
    session.on_text(&format!(
        r#"{{"type":"join","id":"{id}","roomId":"{room_id}"{position}}}"#
    ))
}

fn subscribe(name: &str) -> Action {
    Action::Io(Io::Subscribe(room(name)))
}

fn members_of(name: &str) -> Action {
    Action::Io(Io::RoomMembers {
        room: room(name),
        limit: 100,
    })
}

fn outcome(recovered: bool, replayed: u64, last_seq: u64) -> ReplayOutcome {
    ReplayOutcome {
        recovered,
        replayed,
        last_seq,
    }
}

fn resumed(id: &str, name: &str, o: ReplayOutcome) -> ServerFrame {
    ServerFrame::Resumed {
        id: id.into(),
        room_id: name.into(),
        recovered: o.recovered,
        replayed: o.replayed,
        last_seq: o.last_seq,
    }
}

/// Joins `name` without a position, the room being new to the connection and empty.
fn joined(session: &mut Session, name: &str) {
    join(session, "j", name, None);
    session.on_done(Done::Command(Ok(Some(1))));
    session.on_done(Done::RoomListing(None));
    session.on_done(Done::Subscribed(Ok(())));
    session.on_done(Done::RoomMembers(Some(Some(vec![alice()]))));
    session.on_done(Done::Presence(vec![]));
    let actions = session.on_done(Done::Latest(Ok(1)));
    assert!(matches!(
        actions[..],
        [Action::Reply(ServerFrame::Joined { .. })]
    ));
}

#[test]
fn a_join_without_a_position_subscribes_watches_the_members_and_answers_the_latest_seq() {
    let mut session = session();
    assert_eq!(
        join(&mut session, "j", "r1", None),
        [Action::Io(Io::Command(Command::Join(room("r1"))))]
    );
    assert_eq!(
        session.on_done(Done::Command(Ok(Some(4)))),
        [Action::Io(Io::RoomListing(room("r1")))]
    );
    assert_eq!(session.on_done(Done::RoomListing(None)), [subscribe("r1")]);
    assert_eq!(
        session.on_done(Done::Subscribed(Ok(()))),
        [members_of("r1")]
    );
    assert_eq!(
        session.on_done(Done::RoomMembers(Some(Some(vec![alice(), bob()])))),
        [
            Action::WatchPresence(vec![bob()]),
            Action::Io(Io::PresenceOf(vec![bob()]))
        ]
    );
    assert_eq!(
        session.on_done(Done::Presence(vec![(bob(), "online".into(), None)])),
        [
            Action::Reply(ServerFrame::Presence {
                user_id: BOB.into(),
                status: "online".into(),
                last_seen: None,
            }),
            Action::Io(Io::Latest(room("r1")))
        ]
    );
    assert_eq!(
        session.on_done(Done::Latest(Ok(9))),
        [Action::Reply(ServerFrame::Joined {
            id: "j".into(),
            room_id: "r1".into(),
            last_seq: 9,
        })]
    );
}

#[test]
fn a_join_with_a_position_holds_back_live_events_and_replays_before_answering() {
    let mut session = session();
    join(&mut session, "j", "r1", Some(4));
    assert_eq!(
        session.on_done(Done::Command(Ok(None))),
        [
            Action::BeginReplay {
                room: room("r1"),
                from: 4
            },
            subscribe("r1")
        ]
    );
    assert_eq!(
        session.on_done(Done::Subscribed(Ok(()))),
        [members_of("r1")]
    );
    // Too many members to list: counts instead.
    assert_eq!(
        session.on_done(Done::RoomMembers(Some(None))),
        [Action::Io(Io::RoomCounts(room("r1")))]
    );
    assert_eq!(
        session.on_done(Done::RoomCounts(Some((500, 20)))),
        [
            Action::Reply(ServerFrame::RoomPresence {
                room_id: "r1".into(),
                members: 500,
                online: 20,
            }),
            Action::CountPresence(room("r1")),
            Action::Io(Io::Replay {
                room: room("r1"),
                from: 4
            })
        ]
    );
    let replayed = outcome(true, 5, 9);
    assert_eq!(
        session.on_done(Done::Replayed(Ok(replayed))),
        [
            Action::EndReplay {
                room: room("r1"),
                result: resumed("j", "r1", replayed),
                skip_to: None,
            },
            Action::Reply(ServerFrame::Joined {
                id: "j".into(),
                room_id: "r1".into(),
                last_seq: 9,
            })
        ]
    );
}

#[test]
fn an_unrecovered_replay_lets_live_events_go_on_only_after_the_rooms_end() {
    let mut session = session();
    joined(&mut session, "r1");
    join(&mut session, "j2", "r1", Some(2));
    session.on_done(Done::Command(Ok(None)));
    // Already live: no second member watch.
    assert_eq!(
        session.on_done(Done::Subscribed(Ok(()))),
        [Action::Io(Io::Replay {
            room: room("r1"),
            from: 2
        })]
    );
    let lost = outcome(false, 0, 40);
    let actions = session.on_done(Done::Replayed(Ok(lost)));
    assert_eq!(
        actions[0],
        Action::EndReplay {
            room: room("r1"),
            result: resumed("j2", "r1", lost),
            skip_to: Some(40),
        }
    );
}

#[test]
fn a_join_the_event_log_cannot_serve_still_ends_its_replay() {
    let mut session = session();
    join(&mut session, "j", "r1", Some(4));
    session.on_done(Done::Command(Ok(None)));
    let actions = session.on_done(Done::Subscribed(Err("no responders".into())));
    assert_eq!(
        actions[0],
        Action::EndReplay {
            room: room("r1"),
            result: resumed("j", "r1", outcome(false, 0, 4)),
            skip_to: None,
        }
    );
    assert_eq!(
        error_code(&actions[1]),
        (Some("j"), "event_log_unavailable")
    );
    // Not live: a leave has nothing to unsubscribe.
    session.on_text(r#"{"type":"leave","id":"l","roomId":"r1"}"#);
    assert_eq!(
        session.on_done(Done::Command(Ok(None))),
        [ack_of("l", None)]
    );
}

#[test]
fn a_refused_join_or_one_room_too_many_is_answered_without_subscribing() {
    let mut session = session();
    join(&mut session, "j", "r1", None);
    let actions = session.on_done(Done::Command(Err(refused("room_not_found"))));
    assert_eq!(actions.len(), 1);
    assert_eq!(error_code(&actions[0]), (Some("j"), "room_not_found"));
    for name in ["r1", "r2", "r3"] {
        joined(&mut session, name);
    }
    let actions = join(&mut session, "j4", "r4", None);
    assert_eq!(error_code(&actions[0]), (Some("j4"), "too_many_rooms"));
    // A room already live is no extra room.
    assert!(matches!(
        join(&mut session, "j5", "r2", None)[..],
        [Action::Io(Io::Command(Command::Join(_)))]
    ));
}

#[test]
fn leaving_a_live_room_unsubscribes_before_the_ack() {
    let mut session = session();
    joined(&mut session, "r1");
    assert_eq!(
        session.on_text(r#"{"type":"leave","id":"l","roomId":"r1"}"#),
        [Action::Io(Io::Command(Command::Leave(room("r1"))))]
    );
    assert_eq!(
        session.on_done(Done::Command(Ok(Some(8)))),
        [Action::Unsubscribe(room("r1")), ack_of("l", Some(8))]
    );
    // The room no longer counts against the cap.
    for name in ["r2", "r3", "r4"] {
        joined(&mut session, name);
    }
}

#[test]
fn a_resume_replays_each_room_once_in_order_and_skips_the_refused_ones() {
    let mut session = session();
    let text = r#"{"type":"resume","id":"s","rooms":[
        {"roomId":"r1","lastSeq":7},{"roomId":"bad room","lastSeq":1},
        {"roomId":"r2","lastSeq":3},{"roomId":"r1","lastSeq":5}]}"#;
    assert_eq!(
        session.on_text(text),
        [Action::Io(Io::Command(Command::RequireMember(room("r1"))))]
    );
    // r1 is resumed from the lowest position named for it.
    assert_eq!(
        session.on_done(Done::Command(Ok(None))),
        [
            Action::BeginReplay {
                room: room("r1"),
                from: 5
            },
            subscribe("r1")
        ]
    );
    session.on_done(Done::Subscribed(Ok(())));
    session.on_done(Done::RoomMembers(None));
    let first = outcome(true, 2, 7);
    let actions = session.on_done(Done::Replayed(Ok(first)));
    assert_eq!(actions.len(), 3, "{actions:?}");
    assert_eq!(
        actions[0],
        Action::EndReplay {
            room: room("r1"),
            result: resumed("s", "r1", first),
            skip_to: None,
        }
    );
    assert_eq!(error_code(&actions[1]), (Some("s"), "invalid_room_id"));
    assert_eq!(
        actions[2],
        Action::Io(Io::Command(Command::RequireMember(room("r2"))))
    );
    let actions = session.on_done(Done::Command(Err(refused("forbidden"))));
    assert_eq!(actions.len(), 1);
    assert_eq!(error_code(&actions[0]), (Some("s"), "forbidden"));
}

#[test]
fn a_resume_naming_too_many_rooms_is_refused_whole() {
    let mut session = session();
    let text = r#"{"type":"resume","id":"s","rooms":[{"roomId":"r1","lastSeq":1},
        {"roomId":"r2","lastSeq":1},{"roomId":"r3","lastSeq":1},{"roomId":"r4","lastSeq":1}]}"#;
    let actions = session.on_text(text);
    assert_eq!(actions.len(), 1);
    assert_eq!(error_code(&actions[0]), (Some("s"), "too_many_rooms"));
    // Duplicates count once.
    let text = r#"{"type":"resume","id":"s","rooms":[{"roomId":"r1","lastSeq":1},
        {"roomId":"r2","lastSeq":1},{"roomId":"r3","lastSeq":1},{"roomId":"r1","lastSeq":4}]}"#;
    assert!(matches!(
        session.on_text(text)[..],
        [Action::Io(Io::Command(Command::RequireMember(_)))]
    ));
}

#[test]
fn a_resume_beyond_the_live_room_cap_refuses_only_the_extra_room() {
    let mut session = session();
    for name in ["r1", "r2", "r3"] {
        joined(&mut session, name);
    }
    let text = r#"{"type":"resume","id":"s","rooms":[{"roomId":"r4","lastSeq":1}]}"#;
    session.on_text(text);
    let actions = session.on_done(Done::Command(Ok(None)));
    assert_eq!(actions.len(), 1);
    assert_eq!(error_code(&actions[0]), (Some("s"), "too_many_rooms"));
}

#[test]
fn a_watch_acks_then_watches_each_user_once() {
    let mut session = session();
    let text = format!(r#"{{"type":"watch","id":"w","userIds":["{BOB}","{BOB}"]}}"#);
    assert_eq!(
        session.on_text(&text),
        [
            ack_of("w", None),
            Action::WatchPresence(vec![bob()]),
            Action::Io(Io::PresenceOf(vec![bob(), bob()]))
        ]
    );
    assert_eq!(session.on_done(Done::Presence(vec![])), []);
    // Already watched: only where they stand now.
    let text = format!(r#"{{"type":"watch","id":"w2","userIds":["{BOB}"]}}"#);
    assert_eq!(
        session.on_text(&text),
        [ack_of("w2", None), Action::Io(Io::PresenceOf(vec![bob()]))]
    );
}
