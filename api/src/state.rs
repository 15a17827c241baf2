//! What every handler shares. Writes go through [`Commands`] (the same path the WebSocket
//! gateway uses); queries read the read models directly.

use chat_core::commands::Commands;
use chat_core::ratelimit::{KeyedLimiter, Rate};
use chat_core::readmodel::ReadModel;
use chat_core::sessions::Sessions;
use chat_core::tokens::Tokens;
use chat_schemas::UserId;
use std::sync::Arc;

use crate::config::ApiConfig;
use crate::error::ApiError;

#[derive(Clone)]
pub struct ApiState {
    pub read: ReadModel,
    pub commands: Commands,
    pub tokens: Tokens,
    /// Token checks against the accounts (logout, bans) and revocation.
    pub sessions: Sessions,
    pub config: ApiConfig,
    limits: Arc<Limits>,
}

/// Flood protection of this api process.
struct Limits {
    /// Writes (messages, rooms, status) per user.
    writes: KeyedLimiter<UserId>,
    /// Login attempts per username, against password guessing.
    logins: KeyedLimiter<String>,
}

impl ApiState {
    pub fn new(read: ReadModel, commands: Commands, tokens: Tokens, config: ApiConfig) -> Self {
        let limits = Arc::new(Limits {
            writes: KeyedLimiter::new(config.write_rate),
            logins: KeyedLimiter::new(Rate {
                per_second: config.logins_per_minute / 60.0,
                burst: config.logins_per_minute,
            }),
        });
        let sessions = Sessions::new(tokens.clone(), read.clone(), commands.log.client().clone());
        Self {
            read,
            commands,
            tokens,
            sessions,
            config,
            limits,
        }
    }

    /// Takes one write from `user`'s allowance, or answers 429.
    pub fn limit_write(&self, user: UserId) -> Result<(), ApiError> {
        self.limits
            .writes
            .take(&user)
            .map_err(ApiError::rate_limited)
    }

    /// Takes one login attempt for `username` (case-insensitive), or answers 429.
    pub fn limit_login(&self, username: &str) -> Result<(), ApiError> {
        self.limits
            .logins
            .take(&username.to_lowercase())
            .map_err(ApiError::rate_limited)
    }
}
