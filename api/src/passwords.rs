//! Password hashing with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes).
//! Hashing is deliberately slow, so it runs on the blocking pool, not on the async workers,
//! and at most [`MAX_CONCURRENT`] at once: a flood of logins or registrations (even with
//! ever new usernames) cannot exhaust memory or threads; past the bound it answers 503.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use std::sync::OnceLock;

use crate::error::ApiError;

/// Hashes at once; more wait up to [`QUEUE_WAIT`], then get 503.
pub const MAX_CONCURRENT: usize = 8;
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| tokio::sync::Semaphore::new(MAX_CONCURRENT))
}

async fn permit() -> Result<tokio::sync::SemaphorePermit<'static>, ApiError> {
    match tokio::time::timeout(QUEUE_WAIT, permits().acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(ApiError::unavailable(
            "busy",
            "too many sign-ins at once; retry shortly",
        )),
    }
}

pub async fn hash(password: String) -> Result<String, ApiError> {
    let _permit = permit().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

/// Checks `password` against `stored`; with no stored hash (unknown user) it checks
/// against a dummy so that the answer takes as long either way.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    let _permit = permit().await?;
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let parsed = PasswordHash::new(&stored).map_err(ApiError::internal)?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && known)
    })
    .await
    .map_err(ApiError::internal)?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not a real password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}
