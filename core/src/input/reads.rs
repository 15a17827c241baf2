//! Read positions: the `seq` of `POST /rooms/{roomId}/read` and of the WebSocket `read`
//! frame. Both transports apply this one rule, so both answer `invalid_seq` alike.
//! Whether the sequence is an event of the room is the command's check (it needs the log).

use chat_schemas::http::MarkRead;
use serde_json::Value;

use super::InputError;

/// A checked read position: a positive integer (a stream sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadSeq(u64);

impl ReadSeq {
    pub fn get(self) -> u64 {
        self.0
    }

    /// `seq` from a JSON value: present, an integer (not a string, not a fraction), > 0.
    pub fn parse(value: &Value) -> Result<Self, InputError> {
        match value {
            Value::Null => Err(invalid("seq is required")),
            Value::Number(n) => match n.as_u64() {
                Some(seq) if seq > 0 => Ok(Self(seq)),
                _ => Err(invalid("seq must be a positive integer")),
            },
            _ => Err(invalid("seq must be a positive integer (a JSON number)")),
        }
    }
}

fn invalid(message: &str) -> InputError {
    InputError::new("invalid_seq", message)
}

/// The check of a `POST /rooms/{roomId}/read` body.
pub trait MarkReadPolicy {
    fn check(&self) -> Result<ReadSeq, InputError>;
}

impl MarkReadPolicy for MarkRead {
    fn check(&self) -> Result<ReadSeq, InputError> {
        ReadSeq::parse(&self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_positive_integers_are_read_positions() {
        assert_eq!(ReadSeq::parse(&json!(7)).unwrap().get(), 7);
        for bad in [
            json!(null),
            json!(0),
            json!(-3),
            json!(1.5),
            json!("7"),
            json!(true),
            json!([7]),
        ] {
            assert_eq!(
                ReadSeq::parse(&bad).unwrap_err().code,
                "invalid_seq",
                "{bad}"
            );
        }
    }
}
