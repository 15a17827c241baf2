//! Access tokens: HS256 JWTs with `sub` (user id), `iat`, `exp`, `iss` and `aud`, all
//! required and checked, `nbf` checked when present, and `gen`: the account's token
//! generation when it was issued (absent means 0). Only HS256 is accepted, so `alg: none`
//! and algorithm-confusion tokens fail verification.
//!
//! A signature proves who a token was issued to, not that it is still wanted: logging out
//! or a ban raises the account's generation, and [`crate::sessions`] refuses tokens of an
//! older one.

use anyhow::bail;
use chat_schemas::UserId;

use crate::directs::DirectRoomIds;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// `JWT_SECRET` (or `JWT_SECRET_FILE`), `JWT_ISSUER`, `JWT_AUDIENCE`, `JWT_TTL_SECS`.
#[derive(Clone)]
pub struct TokenConfig {
    pub secret: String,
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("secret", &"<redacted>")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl TokenConfig {
    pub const MIN_SECRET_BYTES: usize = 32;

    pub fn from_env() -> anyhow::Result<Self> {
        use crate::env::var_or;
        let config = Self {
            secret: crate::env::secret("JWT_SECRET")?,
            issuer: var_or("JWT_ISSUER", "chat".to_string())?,
            audience: var_or("JWT_AUDIENCE", "chat-clients".to_string())?,
            ttl: Duration::from_secs(var_or("JWT_TTL_SECS", 86_400u64)?),
        };
        config.check()?;
        Ok(config)
    }

    pub fn check(&self) -> anyhow::Result<()> {
        if self.secret.len() < Self::MIN_SECRET_BYTES {
            bail!(
                "the JWT secret must be at least {} bytes",
                Self::MIN_SECRET_BYTES
            );
        }
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: u64,
    exp: u64,
    iss: String,
    aud: String,
    /// The account's token generation at issue (see [`crate::sessions`]).
    #[serde(default, rename = "gen")]
    generation: u64,
}

/// Why a token was refused. The message is safe to show; the token never is.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid: {0}")]
    Invalid(String),
}

/// The token of an `Authorization: Bearer <token>` header value (the scheme in any case);
/// `None` for any other form.
pub fn bearer_token(header: &str) -> Option<&str> {
    header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
}

/// A verified token: whose it is, when it expires (Unix seconds), and the account's token
/// generation it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub user: UserId,
    pub expires_at: u64,
    pub generation: u64,
}

/// Issues and verifies tokens; cheap to clone.
#[derive(Clone)]
pub struct Tokens {
    inner: Arc<Keys>,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
    /// Direct-room ids are keyed with the same server secret (see [`crate::directs`]).
    directs: DirectRoomIds,
}

impl Tokens {
    pub fn new(config: &TokenConfig) -> anyhow::Result<Self> {
        config.check()?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        // Clocks of one deployment agree closely; a small leeway only absorbs rounding.
        validation.leeway = 2;
        Ok(Self {
            inner: Arc::new(Keys {
                encoding: EncodingKey::from_secret(config.secret.as_bytes()),
                decoding: DecodingKey::from_secret(config.secret.as_bytes()),
                validation,
                issuer: config.issuer.clone(),
                audience: config.audience.clone(),
                ttl: config.ttl,
                directs: DirectRoomIds::new(config.secret.as_bytes()),
            }),
        })
    }

    /// The keyed ids of direct-message rooms (the secret they need is this one).
    pub fn direct_rooms(&self) -> &DirectRoomIds {
        &self.inner.directs
    }

    /// A token of generation 0 (an account that never logged out).
    pub fn issue(&self, user: UserId) -> anyhow::Result<String> {
        self.issue_for(user, 0)
    }

    /// A token of the account's current token `generation`.
    pub fn issue_for(&self, user: UserId, generation: u64) -> anyhow::Result<String> {
        let now = unix_now();
        let claims = Claims {
            sub: user.to_string(),
            iat: now,
            exp: now + self.inner.ttl.as_secs(),
            iss: self.inner.issuer.clone(),
            aud: self.inner.audience.clone(),
            generation,
        };
        Ok(encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.inner.encoding,
        )?)
    }

    pub fn verify(&self, token: &str) -> Result<UserId, TokenError> {
        self.verify_claims(token).map(|v| v.user)
    }

    /// Verifies and also answers when the token expires (for long-lived connections).
    pub fn verify_claims(&self, token: &str) -> Result<Verified, TokenError> {
        let data =
            decode::<Claims>(token, &self.inner.decoding, &self.inner.validation).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                    other => TokenError::Invalid(format!("{other:?}")),
                }
            })?;
        let user = UserId::parse(&data.claims.sub)
            .map_err(|_| TokenError::Invalid("subject is not a user id".into()))?;
        Ok(Verified {
            user,
            expires_at: data.claims.exp,
            generation: data.claims.generation,
        })
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ttl: u64) -> Tokens {
        Tokens::new(&TokenConfig {
            secret: "s".repeat(40),
            issuer: "chat".into(),
            audience: "chat-clients".into(),
            ttl: Duration::from_secs(ttl),
        })
        .unwrap()
    }

    #[test]
    fn an_issued_token_verifies_to_its_user() {
        let t = tokens(60);
        let user = UserId::generate();
        assert_eq!(t.verify(&t.issue(user).unwrap()).unwrap(), user);
    }

    #[test]
    fn a_token_carries_its_generation_and_an_old_one_means_zero() {
        let t = tokens(60);
        let user = UserId::generate();
        let verified = t.verify_claims(&t.issue_for(user, 7).unwrap()).unwrap();
        assert_eq!((verified.user, verified.generation), (user, 7));
        assert_eq!(
            t.verify_claims(&t.issue(user).unwrap()).unwrap().generation,
            0
        );
    }

    #[test]
    fn a_token_of_another_secret_is_refused() {
        let other = Tokens::new(&TokenConfig {
            secret: "x".repeat(40),
            issuer: "chat".into(),
            audience: "chat-clients".into(),
            ttl: Duration::from_secs(60),
        })
        .unwrap();
        let token = other.issue(UserId::generate()).unwrap();
        assert!(tokens(60).verify(&token).is_err());
    }

    #[test]
    fn only_the_bearer_scheme_yields_a_token() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("abc"), None);
    }

    #[test]
    fn a_short_secret_is_refused_at_start_up() {
        let config = TokenConfig {
            secret: "short".into(),
            issuer: "i".into(),
            audience: "a".into(),
            ttl: Duration::from_secs(1),
        };
        assert!(Tokens::new(&config).is_err());
    }
}
