//! Sessions: whether a verified token may still be used, and ending every token of an
//! account at once (logout, ban).
//!
//! Each account has a token generation (`accounts.token_generation`), which every token
//! issued to it carries (`gen`). A token is accepted while its account exists, is not
//! banned, and the token's generation is the account's current one. Logging out or a ban
//! raises the generation in one `UPDATE`, so every earlier token fails its next check: each
//! HTTP request, each WebSocket handshake and `auth` frame. A notice on the core NATS
//! subject `control.user.<userId>.revoked` (payload: the new generation) then tells every
//! gateway to close that user's open sockets at once (close code 4004).
//!
//! The notice is core NATS, at most once, so gateways do not rely on it alone: each
//! re-checks the sessions of its open connections in one batched query
//! ([`Sessions::accounts`]) periodically and after every NATS reconnect (see
//! `chat_gateway::admission`), which bounds how long a socket outlives a missed notice.
//!
//! **Checks through a Postgres outage** ([`Sessions::with_cache`], the gateway's policy):
//! every account state read from Postgres is remembered with the time it was read. While
//! Postgres is *unavailable* (and only then), a token is accepted when its signature and
//! expiry verify and its account was read within the cache's lifetime, with the token's
//! generation and no ban; a revocation notice raises the remembered generation at once, so
//! a logout this gateway heard of is refused even from the cache. A user not read within
//! the lifetime gets 503 as before. The one gap: a revocation committed just before an
//! outage whose notice this gateway missed and that no re-check saw yet is honoured when
//! Postgres answers again (at most the re-check period after it returns).
//!
//! **Checks without a round trip** ([`Sessions::trusting`], the gateway's policy): a check
//! is answered from an account state read within the trust bound (the gateway's
//! `GATEWAY_SESSION_RECHECK_MS`, 30 s), so a reconnect storm costs Postgres nothing for
//! users seen lately (each handshake used to read the account; under a mass reconnect the
//! pool ran out and handshakes were refused with 503). Only a positive answer is taken
//! from the cache, and only from a state read while the NATS connection stayed up since (a
//! notice published meanwhile reached this process, see below); a token of an older
//! generation than the remembered one is refused from the cache at any age (generations
//! only grow). Anything else reads Postgres. Safety: a revocation notice heard raises the
//! remembered generation at once, so a logout or ban is refused on the next handshake (a
//! handshake that races the notice to the gateway is closed with 4004 when it lands: see
//! `chat_gateway::admission`).
//! A notice missed while the connection stayed up (NATS dropped it, or it crossed a
//! concurrent read of the account) leaves the old state trusted until it is older than the
//! bound: such a token still connects for at most the trust bound after the revocation,
//! and the socket it opened is closed by the gateway's next re-check (another re-check
//! period at most). Every open connection's account is re-read each re-check, which keeps
//! connected users' states fresh.
//! A generation rather than a "valid after" time: a login in the same second as the logout
//! must work, and clocks of several processes need not agree.

use async_nats::Client;
use chat_schemas::UserId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::database::DbError;
use crate::readmodel::ReadModel;
use crate::tokens::{TokenError, Tokens, Verified};

mod cache;
use cache::{Quick, SessionCache};

/// The subject every gateway subscribes to for revocation notices.
pub const REVOKED_WILDCARD: &str = "control.user.*.revoked";

/// The subject of `user`'s revocation notices.
pub fn revoked_subject(user: UserId) -> String {
    format!("control.user.{user}.revoked")
}

/// The user and new generation of a revocation notice; `None` if it is not one.
pub fn parse_revoked(subject: &str, payload: &[u8]) -> Option<(UserId, u64)> {
    let user = subject
        .strip_prefix("control.user.")?
        .strip_suffix(".revoked")?;
    let user = UserId::parse(user).ok()?;
    let generation = std::str::from_utf8(payload).ok()?.trim().parse().ok()?;
    Some((user, generation))
}

/// Why a token does not open a session.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Logged out, banned, or no such account.
    #[error("the session has ended (logged out or banned); log in again")]
    Revoked,
    #[error(transparent)]
    Database(DbError),
}

/// An account as sessions see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    pub generation: u64,
    pub banned: bool,
}

impl AccountState {
    /// Whether a token of `generation` opens a session of this account.
    fn admits(&self, generation: u64) -> bool {
        !self.banned && self.generation == generation
    }
}

/// Token checks against the accounts, and revocation; cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    tokens: Tokens,
    read: ReadModel,
    nats: Client,
    cache: Option<Arc<SessionCache>>,
}

/// Most users one batched account query names.
const BATCH: usize = 5_000;

impl Sessions {
    pub fn new(tokens: Tokens, read: ReadModel, nats: Client) -> Self {
        Self {
            tokens,
            read,
            nats,
            cache: None,
        }
    }

    /// Answers checks from account states read within `lifetime` while Postgres is
    /// unavailable (see the module comment). A zero lifetime keeps the cache off.
    pub fn with_cache(self, lifetime: Duration) -> Self {
        self.caching(lifetime, Duration::ZERO)
    }

    /// Answers checks from account states read within `trust` without asking Postgres,
    /// as the module comment says (and from states read within `lifetime` while Postgres
    /// is unavailable). Zero durations turn each off.
    pub fn caching(mut self, lifetime: Duration, trust: Duration) -> Self {
        self.cache = (!lifetime.is_zero() || !trust.is_zero())
            .then(|| Arc::new(SessionCache::new(lifetime, trust)));
        self
    }

    /// The NATS connection's connect count, while it is connected.
    fn epoch(&self) -> Option<u64> {
        (self.nats.connection_state() == async_nats::connection::State::Connected).then(|| {
            self.nats
                .statistics()
                .connects
                .load(std::sync::atomic::Ordering::Acquire)
        })
    }

    /// A revocation notice was heard: tokens older than `generation` are refused, also
    /// from the cache.
    pub fn note_revoked(&self, user: UserId, generation: u64) {
        if let Some(cache) = &self.cache {
            cache.revoked(user, generation);
        }
    }

    /// Forgets cached states older than the cache's lifetime.
    pub fn prune_cache(&self) {
        if let Some(cache) = &self.cache {
            cache.prune();
        }
    }

    /// The account states of `users` (absent: no such account), in batched queries;
    /// remembered for checks during an outage.
    pub async fn accounts(
        &self,
        users: &[UserId],
    ) -> Result<HashMap<UserId, AccountState>, DbError> {
        let epoch = self.epoch();
        let mut found = HashMap::with_capacity(users.len());
        for chunk in users.chunks(BATCH) {
            let ids: Vec<uuid::Uuid> = chunk.iter().map(|u| u.0).collect();
            let rows = self
                .read
                .with_client(|c| async move {
                    Ok(c.query(
                        "SELECT user_id, token_generation, banned_at IS NOT NULL FROM accounts \
                         WHERE user_id = ANY($1)",
                        &[&ids],
                    )
                    .await?)
                })
                .await?;
            for row in rows {
                let state = AccountState {
                    generation: row.get::<_, i64>(1) as u64,
                    banned: row.get(2),
                };
                found.insert(UserId(row.get(0)), state);
            }
        }
        if let Some(cache) = &self.cache {
            for user in users {
                cache.record(*user, found.get(user).copied(), epoch);
            }
        }
        Ok(found)
    }

    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Verifies the token, then that its session is still live.
    pub async fn authenticate(&self, token: &str) -> Result<Verified, AuthError> {
        let verified = self.tokens.verify_claims(token)?;
        self.check(&verified).await?;
        Ok(verified)
    }

    /// Whether an already verified token's session is still live.
    pub async fn check(&self, verified: &Verified) -> Result<(), AuthError> {
        if let Some(cache) = &self.cache {
            let quick = cache.quick(verified.user, verified.generation, self.epoch());
            let answer = match quick {
                Some(Quick::Live) => "cache_live",
                Some(Quick::Revoked) => "cache_revoked",
                None => "database",
            };
            metrics::counter!("chat_session_checks_total", "answer" => answer).increment(1);
            match quick {
                Some(Quick::Live) => return Ok(()),
                Some(Quick::Revoked) => return Err(AuthError::Revoked),
                None => {}
            }
        }
        let state = match (self.account(verified.user).await, &self.cache) {
            (Ok(state), _) => state,
            (Err(DbError::Unavailable(e)), Some(cache)) => match cache.fresh(verified.user) {
                Some(state) => {
                    tracing::debug!(user = %verified.user, error = %e, "session checked from the cache");
                    state
                }
                None => return Err(AuthError::Database(DbError::Unavailable(e))),
            },
            (Err(e), _) => return Err(AuthError::Database(e)),
        };
        match state {
            Some(state) if state.admits(verified.generation) => Ok(()),
            _ => Err(AuthError::Revoked),
        }
    }

    /// The account's state from Postgres (remembered, with a cache).
    pub async fn account(&self, user: UserId) -> Result<Option<AccountState>, DbError> {
        let epoch = self.epoch();
        let state = self.read_account(user).await?;
        if let Some(cache) = &self.cache {
            cache.record(user, state, epoch);
        }
        Ok(state)
    }

    async fn read_account(&self, user: UserId) -> Result<Option<AccountState>, DbError> {
        self.read
            .with_client(|c| async move {
                let row = c
                    .query_opt(
                        "SELECT token_generation, banned_at IS NOT NULL FROM accounts \
                         WHERE user_id = $1",
                        &[&user.0],
                    )
                    .await?;
                Ok(row.map(|r| AccountState {
                    generation: r.get::<_, i64>(0) as u64,
                    banned: r.get(1),
                }))
            })
            .await
    }

    /// Ends every token of `user` and closes their sockets. `false`: no such account.
    pub async fn revoke_all(&self, user: UserId) -> Result<bool, DbError> {
        self.update(
            user,
            "UPDATE accounts SET token_generation = token_generation + 1 \
             WHERE user_id = $1 RETURNING token_generation",
        )
        .await
    }

    /// Bans `user` (every token ends, logins are refused) or lifts the ban (new logins work
    /// again; old tokens stay ended). `false`: no such account.
    pub async fn set_banned(&self, user: UserId, banned: bool) -> Result<bool, DbError> {
        if banned {
            self.update(
                user,
                "UPDATE accounts SET banned_at = COALESCE(banned_at, now()), \
                 token_generation = token_generation + 1 \
                 WHERE user_id = $1 RETURNING token_generation",
            )
            .await
        } else {
            self.read
                .with_client(|c| async move {
                    let n = c
                        .execute(
                            "UPDATE accounts SET banned_at = NULL WHERE user_id = $1",
                            &[&user.0],
                        )
                        .await?;
                    Ok(n > 0)
                })
                .await
        }
    }

    /// Runs a generation-raising `UPDATE … RETURNING token_generation`, then tells the
    /// gateways.
    async fn update(&self, user: UserId, sql: &'static str) -> Result<bool, DbError> {
        let generation = self
            .read
            .with_client(|c| async move {
                let row = c.query_opt(sql, &[&user.0]).await?;
                Ok(row.map(|r| r.get::<_, i64>(0) as u64))
            })
            .await?;
        let Some(generation) = generation else {
            return Ok(false);
        };
        self.announce(user, generation).await;
        Ok(true)
    }

    /// Tells every gateway to close `user`'s sockets older than `generation`. The tokens
    /// are already refused; a lost notice only leaves open sockets open longer.
    async fn announce(&self, user: UserId, generation: u64) {
        let sent = async {
            self.nats
                .publish(revoked_subject(user), generation.to_string().into())
                .await?;
            self.nats.flush().await?;
            Ok::<_, async_nats::Error>(())
        };
        match tokio::time::timeout(std::time::Duration::from_secs(2), sent).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(%user, error = %e, "revocation notice not sent"),
            Err(_) => tracing::warn!(%user, "revocation notice not sent in time"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_notice_round_trips_and_anything_else_is_ignored() {
        let user = UserId::generate();
        assert_eq!(parse_revoked(&revoked_subject(user), b"3"), Some((user, 3)));
        assert_eq!(parse_revoked(&revoked_subject(user), b"x"), None);
        assert_eq!(parse_revoked("control.user.nope.revoked", b"3"), None);
        assert_eq!(parse_revoked(&format!("live.user.{user}"), b"3"), None);
    }
}
