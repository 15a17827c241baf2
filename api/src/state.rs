//! What every handler shares. Writes go through [`Commands`] (the same path the WebSocket
//! gateway uses); queries read the read models directly (read-only); account rows are
//! [`Accounts`].

use chat_core::accounts::Accounts;
use chat_core::commands::Commands;
use chat_core::input::UsernameKey;
use chat_core::ratelimit::{KeyedLimiter, Rate};
use chat_core::readmodel::ReadModel;
use chat_core::sessions::Sessions;
use chat_core::tokens::Tokens;
use chat_schemas::UserId;
use std::net::IpAddr;
use std::sync::Arc;

use crate::config::ApiConfig;
use crate::error::ApiError;
use crate::passwords::Hasher;

#[derive(Clone)]
pub struct ApiState {
    pub read: ReadModel,
    pub commands: Commands,
    /// Registration and what a login checks (accounts are not chat events).
    pub accounts: Accounts,
    pub tokens: Tokens,
    /// Token checks against the accounts (logout, bans) and revocation.
    pub sessions: Sessions,
    pub config: ApiConfig,
    /// The password hashing threads (memory-bounded; see [`crate::passwords`]).
    pub hasher: Arc<Hasher>,
    limits: Arc<Limits>,
}

/// Flood protection of this api process.
struct Limits {
    /// Writes (messages, rooms, status) per user.
    writes: KeyedLimiter<UserId>,
    /// Directory lookups (people and public rooms, one allowance) per user.
    searches: KeyedLimiter<UserId>,
    /// Being added to rooms by others, per added person.
    added: KeyedLimiter<UserId>,
    /// Login attempts per username (its [`UsernameKey`]), against password guessing.
    logins: KeyedLimiter<UsernameKey>,
    /// Logins and registrations per client address: each costs a password hash.
    sign_ins: KeyedLimiter<IpAddr>,
}

impl ApiState {
    pub fn new(read: ReadModel, commands: Commands, tokens: Tokens, config: ApiConfig) -> Self {
        let limits = Arc::new(Limits {
            writes: KeyedLimiter::new(config.write_rate),
            searches: KeyedLimiter::new(config.search_rate),
            added: KeyedLimiter::new(config.added_rate),
            logins: KeyedLimiter::new(Rate {
                per_second: config.logins_per_minute / 60.0,
                burst: config.logins_per_minute,
            }),
            sign_ins: KeyedLimiter::new(Rate {
                per_second: config.auth_per_minute_per_address / 60.0,
                burst: config.auth_per_minute_per_address,
            }),
        });
        let hasher = Arc::new(Hasher::new(config.hash_threads));
        let sessions = commands.sessions(tokens.clone());
        Self {
            accounts: Accounts::new(read.clone()),
            read,
            commands,
            tokens,
            sessions,
            config,
            hasher,
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

    /// Takes one directory lookup (people or public rooms) from `user`'s allowance, or answers 429.
    pub fn limit_search(&self, user: UserId) -> Result<(), ApiError> {
        self.limits
            .searches
            .take(&user)
            .map_err(ApiError::rate_limited)
    }

    /// Answers 429 when one of `people` was added to rooms by others too often lately,
    /// taking nothing: [`Self::charge_added`] charges those the action then added, so a
    /// refused or failed attempt (by someone not even in the room) costs nobody anything.
    pub fn limit_added(&self, people: &[UserId]) -> Result<(), ApiError> {
        for person in people {
            if let Err(wait) = self.limits.added.check(person) {
                return Err(ApiError {
                    message: "someone you are adding was added to many rooms lately; \
                              try again later"
                        .into(),
                    ..ApiError::rate_limited(wait)
                });
            }
        }
        Ok(())
    }

    /// Charges each of `people` (just added to a room by someone else) one addition.
    pub fn charge_added(&self, people: &[UserId]) {
        for person in people {
            self.limits.added.spend(person);
        }
    }

    /// Takes one login attempt for the username `key`, or answers 429.
    pub fn limit_login(&self, key: &UsernameKey) -> Result<(), ApiError> {
        self.limits.logins.take(key).map_err(ApiError::rate_limited)
    }

    /// Takes one sign-in (login or registration) from `address`'s allowance, or answers
    /// 429. Exempt and unknown addresses are not counted.
    pub fn limit_sign_in(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(address) = address else {
            return Ok(());
        };
        if self
            .config
            .auth_limit_exempt
            .iter()
            .any(|r| r.contains(address))
        {
            return Ok(());
        }
        self.limits
            .sign_ins
            .take(&address)
            .map_err(ApiError::rate_limited)
    }
}
