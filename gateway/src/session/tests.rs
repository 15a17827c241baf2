//! The session against scripted frames and I/O results: what it answers, what it asks the
//! driver to do, and in which order. No sockets, NATS or Postgres.

use super::*;
use chat_core::commands::Failure;
use chat_schemas::ws::close;

const ALICE: &str = "0190c1c6-7c3a-7000-8000-000000000001";
const BOB: &str = "0190c1c6-7c3a-7000-8000-000000000002";
const MESSAGE: &str = "0190c1c6-7c3a-7000-8000-0000000000aa";
/// The token the session starts with expires then (Unix seconds).
const EXPIRES: u64 = 2_000_000_000;

fn alice() -> UserId {
    UserId::parse(ALICE).unwrap()
}

fn bob() -> UserId {
    UserId::parse(BOB).unwrap()
}

fn room(name: &str) -> RoomId {
    RoomId::parse(name).unwrap()
}

fn limits() -> Limits {
    Limits {
        max_rooms: 3,
        presence_member_limit: 100,
        flood_close_after: 3,
        heartbeat: Duration::from_secs(15),
        idle_timeout: Duration::from_secs(40),
    }
}

/// A session past `hello`.
fn session() -> Session {
    let mut session = Session::new(alice(), "boot-1".into(), EXPIRES, limits());
    assert_eq!(session.start(), [Action::Io(Io::MemberRooms)]);
    session.on_done(Done::MemberRooms(vec![]));
    session
}

fn error_code(action: &Action) -> (Option<&str>, &str) {
    match action {
        Action::Reply(ServerFrame::Error { id, code, .. }) => (id.as_deref(), code.as_str()),
        other => panic!("not an error frame: {other:?}"),
    }
}

fn ack_of(id: &str, seq: Option<u64>) -> Action {
    Action::Reply(replies::ack_seq(id.into(), seq))
}

fn verified(user: UserId, expires_at: u64) -> Verified {
    Verified {
        user,
        expires_at,
        generation: 1,
    }
}

fn refused(code: &'static str) -> CommandError {
    CommandError::new(Failure::Forbidden, code, "no")
}

fn posted(seq: u64) -> PostedMessage {
    PostedMessage {
        message_id: MessageId(uuid::Uuid::parse_str(MESSAGE).unwrap()),
        seq,
        timestamp: OffsetDateTime::UNIX_EPOCH,
    }
}

#[test]
fn hello_names_the_user_the_connection_and_the_rooms() {
    let mut session = Session::new(alice(), "boot-1".into(), EXPIRES, limits());
    assert_eq!(session.start(), [Action::Io(Io::MemberRooms)]);
    let actions = session.on_done(Done::MemberRooms(vec![room("r1"), room("r2")]));
    assert_eq!(
        actions,
        [Action::Reply(ServerFrame::Hello {
            protocol: PROTOCOL_VERSION,
            user_id: ALICE.into(),
            connection_id: "boot-1".into(),
            heartbeat_ms: 15_000,
            idle_timeout_ms: 40_000,
            rooms: vec!["r1".into(), "r2".into()],
        })]
    );
}

mod bad_frames {
    use super::*;

    #[test]
    fn each_bad_frame_gets_its_code_and_the_session_goes_on() {
        let long_id = format!(r#"{{"type":"ping","id":"{}"}}"#, "x".repeat(200));
        let bad_uuid = format!(r#"{{"type":"watch","id":"6","userIds":["{ALICE}","nope"]}}"#);
        let cases = [
            ("{not json", None, "invalid_json"),
            (r#"{"type":"fly","id":"1"}"#, Some("1"), "unknown_type"),
            (r#"{"type":"send","id":"2"}"#, Some("2"), "invalid_frame"),
            (long_id.as_str(), None, "invalid_frame"),
            (
                r#"{"type":"join","id":"3","roomId":"no spaces"}"#,
                Some("3"),
                "invalid_room_id",
            ),
            (
                r#"{"type":"edit","id":"4","roomId":"r1","messageId":"x","message":"m"}"#,
                Some("4"),
                "invalid_message_id",
            ),
            (
                r#"{"type":"send","id":"5","roomId":"r1","message":"m","clientMsgId":""}"#,
                Some("5"),
                "invalid_client_msg_id",
            ),
            (bad_uuid.as_str(), Some("6"), "invalid_user_id"),
            (
                r#"{"type":"status","id":"8","status":"typing"}"#,
                Some("8"),
                "invalid_status",
            ),
        ];
        let mut session = session();
        for (text, id, code) in cases {
            let actions = session.on_text(text);
            assert_eq!(actions.len(), 1, "{text}");
            assert_eq!(error_code(&actions[0]), (id, code), "{text}");
        }
        assert_eq!(
            session.on_text(r#"{"type":"ping","id":"9"}"#),
            [Action::Reply(ServerFrame::Pong { id: "9".into() })]
        );
    }

    #[test]
    fn binary_frames_are_answered_not_acted_on() {
        let actions = session().on_binary();
        assert_eq!(error_code(&actions[0]), (None, "binary_not_supported"));
    }

    #[test]
    fn oversized_and_non_utf8_frames_close_with_their_codes() {
        let mut session = session();
        let closes = |actions: Vec<Action>| match actions[..] {
            [Action::Close { code, .. }] => code,
            _ => panic!("no close: {actions:?}"),
        };
        let too_big = ReadFailure::classify("Space limit exceeded: Message too long");
        assert_eq!(
            closes(session.on_read_failure(too_big)),
            close::MESSAGE_TOO_BIG
        );
        let not_utf8 = ReadFailure::classify("Could not decode UTF-8");
        assert_eq!(
            closes(session.on_read_failure(not_utf8)),
            close::INVALID_PAYLOAD
        );
        let reset = ReadFailure::classify("Connection reset without closing handshake");
        assert_eq!(session.on_read_failure(reset), []);
    }

    #[test]
    fn a_watch_naming_too_many_users_is_refused() {
        let ids: Vec<String> = (0..=watch::MAX_WATCH)
            .map(|_| format!("\"{BOB}\""))
            .collect();
        let text = format!(
            r#"{{"type":"watch","id":"w","userIds":[{}]}}"#,
            ids.join(",")
        );
        let actions = session().on_text(&text);
        assert_eq!(error_code(&actions[0]), (Some("w"), "invalid_frame"));
    }
}

mod send {
    use super::*;

    fn send(session: &mut Session, id: &str) -> Vec<Action> {
        session.on_text(&format!(
            r#"{{"type":"send","id":"{id}","roomId":"r1","message":"hi {id}","clientMsgId":"c{id}"}}"#
        ))
    }

    #[test]
    fn a_send_is_posted_and_acked_only_once_stored() {
        let mut session = session();
        assert_eq!(
            send(&mut session, "1"),
            [Action::Post {
                id: "1".into(),
                room: room("r1"),
                message: "hi 1".into(),
                client_msg_id: Some(ClientMsgId::parse("c1").unwrap()),
            }]
        );
        assert_eq!(
            session.on_posted("1".into(), Ok(posted(12))),
            [Action::Reply(ServerFrame::Ack {
                id: "1".into(),
                seq: Some(12),
                message_id: Some(MESSAGE.into()),
                timestamp: Some("1970-01-01T00:00:00Z".into()),
            })]
        );
    }

    #[test]
    fn sends_are_pipelined_and_each_ack_follows_its_own_outcome() {
        let mut session = session();
        for id in ["1", "2", "3"] {
            let actions = send(&mut session, id);
            assert!(matches!(&actions[..], [Action::Post { id: posted, .. }] if posted == id));
        }
        // Other frames are answered while the sends wait for their PubAcks.
        assert_eq!(
            session.on_text(r#"{"type":"ping","id":"p"}"#),
            [Action::Reply(ServerFrame::Pong { id: "p".into() })]
        );
        let mut acks = Vec::new();
        for (id, seq) in [("1", 5), ("2", 6), ("3", 7)] {
            for action in session.on_posted(id.into(), Ok(posted(seq))) {
                match action {
                    Action::Reply(ServerFrame::Ack { id, seq, .. }) => acks.push((id, seq)),
                    other => panic!("not an ack: {other:?}"),
                }
            }
        }
        let expected: Vec<(String, Option<u64>)> = vec![
            ("1".into(), Some(5)),
            ("2".into(), Some(6)),
            ("3".into(), Some(7)),
        ];
        assert_eq!(acks, expected);
    }

    #[test]
    fn a_refused_send_is_answered_with_the_commands_code() {
        let mut session = session();
        send(&mut session, "1");
        let actions = session.on_posted("1".into(), Err(refused("not_a_member")));
        assert_eq!(error_code(&actions[0]), (Some("1"), "not_a_member"));
    }
}

mod commands {
    use super::*;

    #[test]
    fn edit_delete_react_and_status_are_acked_with_the_stored_sequence() {
        let message = MessageId(uuid::Uuid::parse_str(MESSAGE).unwrap());
        let cases = [
            (
                format!(
                    r#"{{"type":"edit","id":"e","roomId":"r1","messageId":"{MESSAGE}","message":"m"}}"#
                ),
                Command::Edit {
                    room: room("r1"),
                    message_id: message,
                    text: "m".into(),
                },
            ),
            (
                format!(r#"{{"type":"delete","id":"e","roomId":"r1","messageId":"{MESSAGE}"}}"#),
                Command::Delete {
                    room: room("r1"),
                    message_id: message,
                },
            ),
            (
                r#"{"type":"status","id":"e","status":"away"}"#.to_owned(),
                Command::SetStatus(Status::Away),
            ),
            (
                format!(
                    r#"{{"type":"react","id":"e","roomId":"r1","messageId":"{MESSAGE}","emoji":"👍","add":false}}"#
                ),
                Command::React {
                    room: room("r1"),
                    message_id: message,
                    emoji: "👍".into(),
                    add: false,
                },
            ),
        ];
        for (text, command) in cases {
            let mut session = session();
            assert_eq!(session.on_text(&text), [Action::Io(Io::Command(command))]);
            assert_eq!(
                session.on_done(Done::Command(Ok(Some(3)))),
                [ack_of("e", Some(3))]
            );
            session.on_text(&text);
            let actions = session.on_done(Done::Command(Err(refused("not_yours"))));
            assert_eq!(error_code(&actions[0]), (Some("e"), "not_yours"));
        }
    }

    #[test]
    fn typing_is_answered_only_when_it_fails() {
        let mut session = session();
        let text = r#"{"type":"typing","roomId":"r1"}"#;
        assert_eq!(
            session.on_text(text),
            [Action::Io(Io::Command(Command::Typing(room("r1"))))]
        );
        assert_eq!(session.on_done(Done::Command(Ok(Some(1)))), []);
        session.on_text(text);
        let actions = session.on_done(Done::Command(Err(refused("not_a_member"))));
        assert_eq!(error_code(&actions[0]), (None, "not_a_member"));
    }
}

mod auth;
mod inbox;
mod reads;
mod rooms;
