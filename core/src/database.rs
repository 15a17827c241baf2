//! The Postgres side: connection pool, migrations (from `migrations/`, applied at start-up
//! by refinery under an advisory lock so several processes may start at once), and the
//! classification of failures into "the database is unavailable" (answer 503, retry) and
//! "a real error" (a bug).

use anyhow::Context as _;
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use std::time::Duration;
use tokio_postgres::NoTls;

mod embedded {
    refinery::embed_migrations!("../migrations");
}

/// `DATABASE_URL` and pool limits.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: String,
    pub pool_size: usize,
    /// Bound on getting a connection and on connecting: past it the caller hears 503.
    pub timeout: Duration,
}

impl DatabaseConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        use crate::env::{millis_or, var_or};
        Ok(Self {
            url: var_or(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/chat".to_string(),
            )?,
            pool_size: var_or("DATABASE_POOL_SIZE", 16usize)?,
            timeout: millis_or("DATABASE_TIMEOUT_MS", 2_000)?,
        })
    }
}

/// Builds the pool; connections are made lazily, so this succeeds while Postgres is down.
pub fn pool(config: &DatabaseConfig) -> anyhow::Result<Pool> {
    let mut pg: tokio_postgres::Config = config
        .url
        .parse()
        .context("DATABASE_URL is not a valid Postgres URL")?;
    pg.connect_timeout(config.timeout);
    // Names each connection after its process, so pg_stat_activity tells whose it is.
    pg.application_name(format!("chat-{}", std::process::id()));
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(config.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.timeout))
        .create_timeout(Some(config.timeout))
        .recycle_timeout(Some(config.timeout))
        .build()
        .context("building the Postgres pool")
}

/// Applies pending migrations. Fails start-up if Postgres is unreachable.
pub async fn migrate(pool: &Pool) -> anyhow::Result<()> {
    let mut client = pool
        .get()
        .await
        .context("connecting to Postgres to migrate")?;
    // One migrating process at a time; the others wait and then find nothing to do.
    client
        .batch_execute("SELECT pg_advisory_lock(7243911)")
        .await?;
    let result = embedded::migrations::runner()
        .run_async(&mut **client)
        .await
        .context("applying migrations");
    client
        .batch_execute("SELECT pg_advisory_unlock(7243911)")
        .await?;
    result.map(|_| ())
}

/// A database failure, classified for the caller.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Down, restarting, unreachable or too slow: worth a 503 and a retry.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken invariant.
    #[error("database error: {0}")]
    Other(String),
}

impl From<tokio_postgres::Error> for DbError {
    fn from(err: tokio_postgres::Error) -> Self {
        let unavailable = match err.as_db_error() {
            // Connection-level failure: closed socket, I/O, timeout.
            None => true,
            // Class 57 (operator intervention: shutdown, cannot connect now), 08 (connection).
            Some(db) => {
                let code = db.code().code();
                code.starts_with("57") || code.starts_with("08") || code.starts_with("53")
            }
        };
        let text = err.to_string();
        if unavailable {
            DbError::Unavailable(text)
        } else {
            DbError::Other(text)
        }
    }
}

impl From<PoolError> for DbError {
    fn from(err: PoolError) -> Self {
        match err {
            PoolError::Backend(e) => e.into(),
            other => DbError::Unavailable(other.to_string()),
        }
    }
}

impl From<tokio::time::error::Elapsed> for DbError {
    fn from(_: tokio::time::error::Elapsed) -> Self {
        DbError::Unavailable("query timed out".into())
    }
}
