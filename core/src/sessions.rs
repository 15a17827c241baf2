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
//! The notice is core NATS, at most once: a gateway cut off from NATS at that moment keeps
//! those sockets until they end on their own (a reconnect is refused) or their token expires.
//! A generation rather than a "valid after" time: a login in the same second as the logout
//! must work, and clocks of several processes need not agree.

use async_nats::Client;
use chat_schemas::UserId;

use crate::database::DbError;
use crate::readmodel::ReadModel;
use crate::tokens::{TokenError, Tokens, Verified};

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

/// Token checks against the accounts, and revocation; cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    tokens: Tokens,
    read: ReadModel,
    nats: Client,
}

impl Sessions {
    pub fn new(tokens: Tokens, read: ReadModel, nats: Client) -> Self {
        Self { tokens, read, nats }
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
        match self
            .account(verified.user)
            .await
            .map_err(AuthError::Database)?
        {
            Some(AccountState {
                generation,
                banned: false,
            }) if generation == verified.generation => Ok(()),
            _ => Err(AuthError::Revoked),
        }
    }

    pub async fn account(&self, user: UserId) -> Result<Option<AccountState>, DbError> {
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
