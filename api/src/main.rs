//! `api`: the HTTP API alone, for scaled-out deployments (the projector runs elsewhere).
//! Configuration from the environment; see the README.

use anyhow::Context;
use chat_core::commands::Commands;
use chat_core::{database, eventlog, readmodel::ReadModel, tokens};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = chat_core::telemetry::init("api");
    chat_core::metrics::install();
    let addr = chat_core::env::var_or("API_HTTP_ADDR", "127.0.0.1:8081".to_string())?;
    let db_config = database::DatabaseConfig::from_env()?;
    let pool = database::pool(&db_config)?;
    database::migrate(&pool).await?;
    let log = eventlog::EventLog::connect(&eventlog::NatsConfig::from_env()?, "api").await?;
    log.ensure_streams().await.context("verifying streams")?;
    let config = chat_api::ApiConfig::from_env()?;
    let read = ReadModel::new(pool, db_config.timeout);
    let state = chat_api::ApiState::new(
        read.clone(),
        Commands::new(log, read, config.command_limits()),
        tokens::Tokens::new(&tokens::TokenConfig::from_env()?)?,
        config,
    );
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, "api listening");
    axum::serve(listener, chat_api::router(state))
        .with_graceful_shutdown(chat_core::shutdown::signal())
        .await?;
    telemetry.shutdown();
    Ok(())
}
