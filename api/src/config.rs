//! Settings of the HTTP API (`API_*` variables; see the README's configuration table).

use chat_core::env::{millis_or, var_or};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// Longest chat message, in characters; longer ones get 413.
    pub max_message_chars: usize,
    /// How long a command waits for the projector to apply its event (read-your-writes),
    /// and how long `minSeq` may wait.
    pub projection_wait: Duration,
    /// `/readyz` answers 503 while the projector is more than this many events behind.
    pub ready_max_lag: u64,
    /// Writes per user (`API_RATE_PER_SEC`, `API_RATE_BURST`); beyond it 429.
    pub write_rate: chat_core::ratelimit::Rate,
    /// Login attempts per username per minute (`API_LOGINS_PER_MIN`); beyond it 429.
    pub logins_per_minute: f64,
}

impl ApiConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            max_body_bytes: var_or("API_MAX_BODY_BYTES", 64 * 1024usize)?,
            max_message_chars: var_or("API_MAX_MESSAGE_CHARS", 4_000usize)?,
            projection_wait: millis_or("API_PROJECTION_WAIT_MS", 5_000)?,
            ready_max_lag: var_or("API_READY_MAX_LAG", 10_000u64)?,
            write_rate: chat_core::ratelimit::Rate {
                per_second: var_or("API_RATE_PER_SEC", 20.0)?,
                burst: var_or("API_RATE_BURST", 40.0)?,
            },
            logins_per_minute: var_or("API_LOGINS_PER_MIN", 10.0)?,
        })
    }
}

impl ApiConfig {
    pub fn command_limits(&self) -> chat_core::commands::CommandLimits {
        chat_core::commands::CommandLimits {
            max_message_chars: self.max_message_chars,
            projection_wait: self.projection_wait,
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            max_message_chars: 4_000,
            projection_wait: Duration::from_secs(5),
            ready_max_lag: 10_000,
            write_rate: chat_core::ratelimit::Rate {
                per_second: 20.0,
                burst: 40.0,
            },
            logins_per_minute: 10.0,
        }
    }
}
