//! `projector`: the projector alone, for scaled-out deployments. Configuration from the
//! environment (see the README): `NATS_URL`, `DATABASE_URL`, `PROJECTOR_MAX_BATCH`.

use anyhow::Context;
use chat_core::{database, eventlog};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    chat_core::telemetry::init_logging();
    let db_config = database::DatabaseConfig::from_env()?;
    let nats_config = eventlog::NatsConfig::from_env()?;
    let config = chat_projector::ProjectorConfig::from_env()?;

    let pool = database::pool(&db_config)?;
    database::migrate(&pool).await?;
    let log = eventlog::EventLog::connect(&nats_config, "projector").await?;
    log.ensure_streams().await.context("verifying streams")?;

    chat_projector::run(log, pool, config, chat_core::shutdown::signal()).await;
    Ok(())
}
