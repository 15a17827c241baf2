//! The framings the load generator speaks: this product's protocol (`/ws`), Socket.IO v5
//! over Engine.IO 4 (see [`socketio`]: this product's `/socket.io/` and the Socket.IO 4.8
//! peer, one framing for both) and the Bun peer's JSON pub/sub (`bench/peers/bun`).
//!
//! Only what a benchmark needs is decoded, and on the hot path (a delivered message) by
//! substring search rather than a JSON parse: the load generator shares the machine's two
//! cores with the system it measures, so its own cost per delivery must stay small.

use serde::{Deserialize, Serialize};

mod socketio;

/// Which server the load generator talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// This product's gateway over `/ws`.
    Chat,
    /// This product's gateway over `/socket.io/`: the same framing as `socketio`.
    ChatSocketio,
    /// The Socket.IO 4.8 peer (`bench/peers/socketio`), answering as this product's
    /// `/socket.io/` does.
    Socketio,
    /// The Bun WebSocket pub/sub peer (`bench/peers/bun`).
    Bun,
}

/// What one received text frame means to the load generator.
#[derive(Debug, PartialEq)]
pub enum Incoming<'a> {
    /// The server is ready for `join` (`hello`).
    Ready,
    /// Engine.IO `open`: to be answered with [`Target::connect_frame`].
    Open,
    /// The answer to `join` (or `resume`, with the number of events replayed).
    Joined,
    Resumed {
        recovered: bool,
    },
    /// A delivered chat message: the load generator's marker text, and for chat its `seq`.
    Delivery {
        marker: &'a str,
        seq: Option<u64>,
    },
    /// The answer to send number `n`.
    Ack(u64),
    /// Send number `n` was refused with this code.
    Refused {
        n: u64,
        code: String,
    },
    /// An error not tied to a send.
    Error(String),
    /// Must be answered with this frame at once (Engine.IO ping).
    Reply(&'static str),
    Other,
}

impl Target {
    /// The WebSocket URL for a server base URL such as `http://127.0.0.1:8082`.
    pub fn ws_url(self, base: &str) -> String {
        let base = base.trim_end_matches('/');
        let base = base
            .strip_prefix("http://")
            .map(|rest| format!("ws://{rest}"))
            .unwrap_or_else(|| base.to_owned());
        match self {
            Target::Chat | Target::Bun => format!("{base}/ws"),
            Target::ChatSocketio | Target::Socketio => {
                format!("{base}/socket.io/?EIO=4&transport=websocket")
            }
        }
    }

    /// Whether this is this product (accounts, tokens, rooms made through its api).
    pub fn is_product(self) -> bool {
        matches!(self, Target::Chat | Target::ChatSocketio)
    }

    /// Whether the token goes in an `Authorization` header (else in the Socket.IO
    /// namespace connect, as `io(url, {auth: {token}})` sends it).
    pub fn token_in_header(self) -> bool {
        matches!(self, Target::Chat)
    }

    /// The answer to Engine.IO `open` (Socket.IO only): the namespace connect.
    pub fn connect_frame(self, token: Option<&str>) -> String {
        socketio::connect_frame(token)
    }

    /// Whether the server speaks before the client may join (`hello`, Engine.IO `open`).
    pub fn waits_for_ready(self) -> bool {
        !matches!(self, Target::Bun)
    }

    /// Whether sends are answered, so that ack latency and refusals can be counted.
    pub fn acks_sends(self) -> bool {
        !matches!(self, Target::Bun)
    }

    pub fn join_frame(self, room: &str) -> String {
        match self {
            Target::Chat => format!(r#"{{"type":"join","id":"j","roomId":"{room}"}}"#),
            Target::ChatSocketio | Target::Socketio => socketio::join_frame(room),
            Target::Bun => format!(r#"{{"t":"join","room":"{room}"}}"#),
        }
    }

    /// Send number `n` of `text` (a marker: no characters that need JSON escaping).
    pub fn send_frame(self, room: &str, n: u64, text: &str) -> String {
        match self {
            Target::Chat => {
                format!(r#"{{"type":"send","id":"{n}","roomId":"{room}","message":"{text}"}}"#)
            }
            Target::ChatSocketio | Target::Socketio => socketio::send_frame(room, n, text),
            Target::Bun => format!(r#"{{"t":"send","room":"{room}","text":"{text}"}}"#),
        }
    }

    /// Decodes one text frame.
    pub fn decode(self, frame: &str) -> Incoming<'_> {
        match self {
            Target::Chat => decode_chat(frame),
            Target::ChatSocketio | Target::Socketio => socketio::decode(frame),
            Target::Bun => decode_bun(frame),
        }
    }
}

/// `resume` of one room after a reconnect.
pub fn chat_resume_frame(room: &str, last_seq: u64) -> String {
    format!(r#"{{"type":"resume","id":"r","rooms":[{{"roomId":"{room}","lastSeq":{last_seq}}}]}}"#)
}

/// The marker text of a numbered message: `lg|step|sender|n|sent_at_us|` padded with `x`
/// to `size` bytes. Receivers parse it back with [`Marker::parse`].
pub fn marker_text(step: u32, sender: u32, n: u64, sent_at_us: u64, size: usize) -> String {
    let mut text = format!("lg|{step}|{sender}|{n}|{sent_at_us}|");
    while text.len() < size {
        text.push('x');
    }
    text
}

/// A parsed marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub step: u32,
    pub sender: u32,
    pub n: u64,
    pub sent_at_us: u64,
}

impl Marker {
    /// Finds and parses the marker inside a frame.
    pub fn find(frame: &str) -> Option<Marker> {
        let start = frame.find("lg|")?;
        let mut fields = frame[start + 3..].split('|');
        Some(Marker {
            step: fields.next()?.parse().ok()?,
            sender: fields.next()?.parse().ok()?,
            n: fields.next()?.parse().ok()?,
            sent_at_us: fields.next()?.parse().ok()?,
        })
    }
}

fn frame_type(frame: &str) -> Option<&str> {
    let rest = frame.strip_prefix(r#"{"type":""#)?;
    rest.split('"').next()
}

/// The value of a string field `"name":"value"` (no escapes expected).
fn string_field<'a>(frame: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(r#""{name}":""#);
    let start = frame.find(&key)? + key.len();
    frame[start..].split('"').next()
}

/// The value of a number field `"name":123`.
fn number_field(frame: &str, name: &str) -> Option<u64> {
    let key = format!(r#""{name}":"#);
    let start = frame.find(&key)? + key.len();
    let digits: &str = &frame[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

fn decode_chat(frame: &str) -> Incoming<'_> {
    match frame_type(frame) {
        Some("event") => match frame.find("lg|") {
            Some(start) => Incoming::Delivery {
                marker: &frame[start..],
                seq: number_field(frame, "seq"),
            },
            None => Incoming::Other,
        },
        Some("ack") => match string_field(frame, "id").and_then(|id| id.parse().ok()) {
            Some(n) => Incoming::Ack(n),
            None => Incoming::Other,
        },
        Some("hello") => Incoming::Ready,
        Some("joined") => Incoming::Joined,
        Some("resumed") => Incoming::Resumed {
            recovered: frame.contains(r#""recovered":true"#),
        },
        Some("error") => {
            let code = string_field(frame, "code").unwrap_or("unknown").to_owned();
            match string_field(frame, "id").and_then(|id| id.parse().ok()) {
                Some(n) => Incoming::Refused { n, code },
                None => Incoming::Error(code),
            }
        }
        _ => Incoming::Other,
    }
}

fn decode_bun(frame: &str) -> Incoming<'_> {
    if frame.starts_with("lg|") {
        return Incoming::Delivery {
            marker: frame,
            seq: None,
        };
    }
    if frame.starts_with(r#"{"t":"joined""#) {
        return Incoming::Joined;
    }
    Incoming::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_inside_each_framing() {
        let text = marker_text(2, 17, 42, 1_700_000_000_000_000, 64);
        assert_eq!(text.len(), 64);
        let chat = format!(
            r#"{{"type":"event","roomId":"r","seq":9,"prevSeq":8,"event":{{"payload":{{"message":"{text}"}}}}}}"#
        );
        let Incoming::Delivery { marker, seq } = Target::Chat.decode(&chat) else {
            panic!("not a delivery")
        };
        assert_eq!(seq, Some(9));
        let parsed = Marker::find(marker).unwrap();
        assert_eq!(
            parsed,
            Marker {
                step: 2,
                sender: 17,
                n: 42,
                sent_at_us: 1_700_000_000_000_000
            }
        );
        assert!(matches!(
            Target::Bun.decode(&text),
            Incoming::Delivery { .. }
        ));
    }

    #[test]
    fn acks_refusals_and_control_frames_decode() {
        assert_eq!(
            Target::Chat.decode(r#"{"type":"ack","id":"12","seq":3}"#),
            Incoming::Ack(12)
        );
        assert_eq!(
            Target::Chat.decode(r#"{"type":"error","id":"5","code":"rate_limited","message":"m"}"#),
            Incoming::Refused {
                n: 5,
                code: "rate_limited".into()
            }
        );
        assert_eq!(
            Target::Chat.decode(r#"{"type":"hello","protocol":1}"#),
            Incoming::Ready
        );
        assert_eq!(
            Target::Chat.decode(r#"{"type":"resumed","id":"r","roomId":"x","recovered":true}"#),
            Incoming::Resumed { recovered: true }
        );
        assert_eq!(Target::Bun.decode(r#"{"t":"joined"}"#), Incoming::Joined);
    }

    #[test]
    fn urls_follow_each_server() {
        assert_eq!(
            Target::Chat.ws_url("http://127.0.0.1:8082/"),
            "ws://127.0.0.1:8082/ws"
        );
        for target in [Target::Socketio, Target::ChatSocketio] {
            assert_eq!(
                target.ws_url("http://h:1"),
                "ws://h:1/socket.io/?EIO=4&transport=websocket"
            );
        }
    }
}
