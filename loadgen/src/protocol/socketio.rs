//! Socket.IO v5 over Engine.IO 4, WebSocket transport only (as a Socket.IO client is
//! after its upgrade), with the events of this product's `/socket.io/` endpoint: `join`
//! and `send` carry the native frame's fields and are answered through their ack with the
//! native answer (`joined`, `ack`, `error`); deliveries are the event `event`. The
//! Socket.IO 4.8 peer (`bench/peers/socketio`) answers the same frames the same way, so
//! one client code path drives both and their figures compare exactly.
//!
//! Packets are Engine.IO type + Socket.IO type + ack id + JSON: `0{..}` open, `2` ping,
//! `40` connect, `42N[name,payload]` an event with ack id N, `43N[answer]` its ack, `44`
//! connect error.

use super::{number_field, string_field, Incoming};

/// The ack id of `join` (sends are numbered from 1).
const JOIN_ACK: u64 = 0;

/// The namespace connect, with the token as `io(url, {auth: {token}})` sends it.
pub(super) fn connect_frame(token: Option<&str>) -> String {
    match token {
        Some(token) => format!("40{}", serde_json::json!({ "token": token })),
        None => "40".to_owned(),
    }
}

pub(super) fn join_frame(room: &str) -> String {
    format!(r#"42{JOIN_ACK}["join",{{"roomId":"{room}"}}]"#)
}

/// Send number `n` (its ack id) of `text` (a marker: no characters that need escaping).
/// No `clientMsgId`, as on `/ws`: with one, the product looks for an earlier send with
/// that id in Postgres first, which the `/ws` run does not pay.
pub(super) fn send_frame(room: &str, n: u64, text: &str) -> String {
    format!(r#"42{n}["send",{{"roomId":"{room}","message":"{text}"}}]"#)
}

pub(super) fn decode(frame: &str) -> Incoming<'_> {
    // The hot path first: a delivery.
    if let Some(rest) = frame.strip_prefix(r#"42[""#) {
        return decode_event(rest);
    }
    if let Some(rest) = frame.strip_prefix("43") {
        return decode_ack(rest);
    }
    match frame {
        "2" => Incoming::Reply("3"),
        "1" => Incoming::Error("engine.io close".into()),
        "41" => Incoming::Error("disconnected by server".into()),
        _ if frame.starts_with("44") => Incoming::Error(
            string_field(frame, "message")
                .unwrap_or("connect_error")
                .to_owned(),
        ),
        _ if frame.starts_with('0') => Incoming::Open,
        // `40{"sid":..}`: connected; `hello` follows.
        _ => Incoming::Other,
    }
}

/// An event without ack id: `name",payload]`.
fn decode_event(rest: &str) -> Incoming<'_> {
    if let Some(payload) = rest.strip_prefix(r#"event","#) {
        return match payload.find("lg|") {
            Some(start) => Incoming::Delivery {
                marker: &payload[start..],
                seq: number_field(payload, "seq"),
            },
            None => Incoming::Other,
        };
    }
    let Some((name, payload)) = rest.split_once('"') else {
        return Incoming::Other;
    };
    match name {
        "hello" => Incoming::Ready,
        // An error answer to an event sent without ack.
        "error" => Incoming::Error(string_field(payload, "code").unwrap_or("error").to_owned()),
        // The server ends the session (then disconnects): the native close code.
        "close" => Incoming::Error(format!(
            "closed by server: {}",
            number_field(payload, "code").unwrap_or(0)
        )),
        _ => Incoming::Other,
    }
}

/// An ack: `N[answer]`, the answer being the native frame with its `type`.
fn decode_ack(rest: &str) -> Incoming<'_> {
    let Some(end) = rest.find('[') else {
        return Incoming::Other;
    };
    let Ok(n) = rest[..end].parse::<u64>() else {
        return Incoming::Other;
    };
    let answer = &rest[end..];
    match string_field(answer, "type") {
        Some("ack") => Incoming::Ack(n),
        Some("joined") => Incoming::Joined,
        Some("resumed") => Incoming::Resumed {
            recovered: answer.contains(r#""recovered":true"#),
        },
        Some("error") => {
            let code = string_field(answer, "code").unwrap_or("unknown").to_owned();
            match n {
                JOIN_ACK => Incoming::Error(code),
                n => Incoming::Refused { n, code },
            }
        }
        _ => Incoming::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{marker_text, Marker, Target};
    use super::*;

    /// A delivery as this product's `/socket.io/` writes it (the native `event` frame
    /// minus its `type`), and as the peer writes it.
    #[test]
    fn deliveries_carry_their_marker_and_seq() {
        let text = marker_text(3, 8, 77, 1_700_000_000_000_001, 100);
        let frame = format!(
            r#"42["event",{{"roomId":"0193","seq":20,"prevSeq":19,"event":{{"eventId":"e1","type":"message.posted","data":{{"messageId":"m1","message":"{text}","clientTimestamp":null}},"v":1,"occurredAt":"2026-11-21T10:36:51.778Z","actor":"a1","roomId":"0193"}}}}]"#
        );
        for target in [Target::ChatSocketio, Target::Socketio] {
            let Incoming::Delivery { marker, seq } = target.decode(&frame) else {
                panic!("not a delivery")
            };
            assert_eq!(seq, Some(20));
            assert_eq!(
                Marker::find(marker),
                Some(Marker {
                    step: 3,
                    sender: 8,
                    n: 77,
                    sent_at_us: 1_700_000_000_000_001
                })
            );
        }
        // Another room event (a member joined) is no delivery.
        let joined =
            r#"42["event",{"roomId":"r","seq":4,"prevSeq":3,"event":{"type":"member.joined"}}]"#;
        assert_eq!(Target::Socketio.decode(joined), Incoming::Other);
    }

    #[test]
    fn handshake_acks_and_refusals_decode() {
        let t = Target::ChatSocketio;
        assert_eq!(
            t.decode(r#"0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#),
            Incoming::Open
        );
        assert_eq!(t.decode(r#"40{"sid":"b"}"#), Incoming::Other);
        assert_eq!(
            t.decode(r#"42["hello",{"protocol":1,"userId":"u","rooms":[]}]"#),
            Incoming::Ready
        );
        assert_eq!(
            t.decode(r#"44{"message":"unauthenticated"}"#),
            Incoming::Error("unauthenticated".into())
        );
        assert_eq!(t.decode("2"), Incoming::Reply("3"));
        assert_eq!(
            t.decode(r#"430[{"type":"joined","roomId":"r","lastSeq":19}]"#),
            Incoming::Joined
        );
        assert_eq!(
            t.decode(r#"430[{"type":"error","code":"room_not_found","message":"m"}]"#),
            Incoming::Error("room_not_found".into())
        );
        assert_eq!(
            t.decode(r#"4317[{"type":"ack","seq":21,"messageId":"m","timestamp":"t"}]"#),
            Incoming::Ack(17)
        );
        assert_eq!(
            t.decode(r#"435[{"type":"error","code":"rate_limited","message":"m"}]"#),
            Incoming::Refused {
                n: 5,
                code: "rate_limited".into()
            }
        );
        assert_eq!(
            t.decode(r#"42["close",{"code":4008,"reason":"slow consumer"}]"#),
            Incoming::Error("closed by server: 4008".into())
        );
        assert_eq!(
            t.decode(r#"42["error",{"code":"invalid_frame","message":"m"}]"#),
            Incoming::Error("invalid_frame".into())
        );
        assert_eq!(t.decode(r#"42["roomAdded",{"room":{}}]"#), Incoming::Other);
    }

    #[test]
    fn client_frames_are_what_a_socket_io_client_sends() {
        let t = Target::ChatSocketio;
        assert_eq!(t.connect_frame(None), "40");
        assert_eq!(t.connect_frame(Some("ey.J")), r#"40{"token":"ey.J"}"#);
        assert_eq!(t.join_frame("r1"), r#"420["join",{"roomId":"r1"}]"#);
        assert_eq!(
            t.send_frame("r1", 9, "lg|x"),
            r#"429["send",{"roomId":"r1","message":"lg|x"}]"#
        );
        // Both Socket.IO targets speak the one framing.
        assert_eq!(
            t.send_frame("r", 2, "x"),
            Target::Socketio.send_frame("r", 2, "x")
        );
    }
}
