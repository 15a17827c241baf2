//! The session's authentication after `hello`: an `auth` frame with a fresh token of the
//! same user extends the connection; the token's expiry, a flood of rate-limited frames
//! and silence end it.

use chat_schemas::ws::close;
use std::time::Duration;

use super::replies::{ack, error, rate_limited};
use super::{reply, Action, Done, Io, Session, Waiting};

/// Where a re-authentication stands.
pub(super) struct Reauth {
    id: Option<String>,
    /// Set once the token verified: its expiry, while the account is checked.
    expires_at: Option<u64>,
}

/// Whether the account behind a verified token is still live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCheck {
    Live,
    /// The accounts could not be read: not the client's fault.
    Unavailable,
    /// Logged out, banned, gone: why.
    Ended(String),
}

/// A failed read from the socket, as far as the protocol cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFailure {
    InvalidUtf8,
    TooBig,
    /// Anything else: the connection just ends.
    Other,
}

impl ReadFailure {
    /// Sorts a socket read error by its text (tungstenite reports these only as text).
    pub fn classify(text: &str) -> Self {
        if text.contains("UTF-8") || text.contains("utf-8") || text.contains("Utf8") {
            Self::InvalidUtf8
        } else if text.contains("too long")
            || text.contains("Space limit")
            || text.contains("too big")
        {
            Self::TooBig
        } else {
            Self::Other
        }
    }
}

/// What a frame the rate limit refused was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusedFrame {
    /// A text frame, with its request id when one could be read.
    Text(Option<String>),
    Binary,
    /// Ping or pong: never answered.
    Control,
}

impl Session {
    pub(super) fn on_reauth(&mut self, id: Option<String>, token: String) -> Vec<Action> {
        self.wait(
            Waiting::Reauth(Reauth {
                id,
                expires_at: None,
            }),
            Io::VerifyToken(token),
        )
    }

    pub(super) fn reauth_done(&mut self, mut reauth: Reauth, done: Done) -> Vec<Action> {
        let id = reauth.id.clone();
        match done {
            Done::TokenVerified(Ok(verified)) if verified.user == self.user => {
                reauth.expires_at = Some(verified.expires_at);
                self.wait(Waiting::Reauth(reauth), Io::CheckSession(verified))
            }
            Done::TokenVerified(Ok(_)) => reply(error(
                id,
                "wrong_user",
                "a connection cannot change its user",
            )),
            Done::TokenVerified(Err(e)) | Done::SessionChecked(SessionCheck::Ended(e)) => {
                reply(error(id, "invalid_token", e))
            }
            Done::SessionChecked(SessionCheck::Unavailable) => reply(error(
                id,
                "database_unavailable",
                "the database is unavailable; retry shortly",
            )),
            Done::SessionChecked(SessionCheck::Live) => {
                self.expires_at = self.expires_at.max(reauth.expires_at.unwrap_or(0));
                id.map(|id| reply(ack(id))).unwrap_or_default()
            }
            other => {
                debug_assert!(false, "an I/O result out of turn: {other:?}");
                Vec::new()
            }
        }
    }

    /// The token expired before a fresh one came.
    pub fn on_token_expired(&mut self) -> Vec<Action> {
        vec![
            Action::Reply(error(
                None,
                "token_expired",
                "the token expired; reconnect with a fresh one",
            )),
            Action::Close {
                code: close::TOKEN_EXPIRED,
                reason: "token expired",
            },
        ]
    }

    /// Nothing arrived for the idle timeout.
    pub fn on_silence(&mut self) -> Vec<Action> {
        vec![Action::Close {
            code: close::IDLE_TIMEOUT,
            reason: "idle timeout",
        }]
    }

    /// The socket failed to read a frame.
    pub fn on_read_failure(&mut self, failure: ReadFailure) -> Vec<Action> {
        let (code, reason) = match failure {
            ReadFailure::InvalidUtf8 => (close::INVALID_PAYLOAD, "text frame is not valid UTF-8"),
            ReadFailure::TooBig => (close::MESSAGE_TOO_BIG, "frame too large"),
            ReadFailure::Other => return Vec::new(),
        };
        vec![Action::Close { code, reason }]
    }

    /// A frame the user's allowance refused: the client learns how long to wait, and a
    /// client that keeps flooding is closed.
    pub fn on_rate_limited(&mut self, frame: RefusedFrame, wait: Duration) -> Vec<Action> {
        self.refused_in_a_row += 1;
        if self.refused_in_a_row >= self.limits.flood_close_after {
            return vec![Action::Close {
                code: close::TOO_MANY_REQUESTS,
                reason: "rate limit exceeded",
            }];
        }
        match frame {
            RefusedFrame::Text(id) => reply(rate_limited(id, wait)),
            RefusedFrame::Binary => reply(rate_limited(None, wait)),
            RefusedFrame::Control => Vec::new(),
        }
    }
}
