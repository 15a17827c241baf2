//! The `read` frame against scripted command results: parsed once, run through the
//! command layer, answered with a bare `ack`; bad input answered without any I/O.

use super::*;
use chat_core::input::reads::ReadSeq;

fn read_frame(session: &mut Session, id: &str, room_id: &str, seq: &str) -> Vec<Action> {
    session.on_text(&format!(
        r#"{{"type":"read","id":"{id}","roomId":"{room_id}","seq":{seq}}}"#
    ))
}

fn seq(n: u64) -> ReadSeq {
    ReadSeq::parse(&serde_json::json!(n)).unwrap()
}

#[test]
fn a_read_runs_the_command_and_is_acked_without_a_seq() {
    let mut session = session();
    assert_eq!(
        read_frame(&mut session, "1", "r1", "7"),
        [Action::Io(Io::Command(Command::Read {
            room: room("r1"),
            seq: seq(7)
        }))]
    );
    assert_eq!(
        session.on_done(Done::Command(Ok(None))),
        [ack_of("1", None)]
    );
}

#[test]
fn a_refused_read_is_answered_with_the_commands_code() {
    let mut session = session();
    read_frame(&mut session, "2", "r1", "7");
    let actions = session.on_done(Done::Command(Err(CommandError::new(
        Failure::BadInput,
        "invalid_seq",
        "seq 7 is not an event of this room",
    ))));
    assert_eq!(error_code(&actions[0]), (Some("2"), "invalid_seq"));
    read_frame(&mut session, "3", "r1", "8");
    let actions = session.on_done(Done::Command(Err(refused("not_a_member"))));
    assert_eq!(error_code(&actions[0]), (Some("3"), "not_a_member"));
}

#[test]
fn a_bad_seq_or_room_is_refused_before_any_io() {
    let mut session = session();
    for (id, room_id, bad_seq, code) in [
        ("1", "r1", "0", "invalid_seq"),
        ("2", "r1", "-4", "invalid_seq"),
        ("3", "r1", "1.5", "invalid_seq"),
        ("4", "r1", r#""7""#, "invalid_seq"),
        ("5", "r1", "null", "invalid_seq"),
        ("6", "no spaces", "7", "invalid_room_id"),
    ] {
        let actions = read_frame(&mut session, id, room_id, bad_seq);
        assert_eq!(actions.len(), 1, "{bad_seq}: {actions:?}");
        assert_eq!(error_code(&actions[0]), (Some(id), code), "{bad_seq}");
    }
    let missing = session.on_text(r#"{"type":"read","id":"7","roomId":"r1"}"#);
    assert_eq!(error_code(&missing[0]), (Some("7"), "invalid_seq"));
}
