//! `api`: the HTTP API alone, for scaled-out deployments (the projector runs elsewhere).
//! Configuration from the environment; see the README: `API_HTTP_ADDR` (default
//! 127.0.0.1:8081) for clients, `API_METRICS_ADDR` (default 127.0.0.1:9091, `off`) for the
//! operator's `/metrics`, `HTTP_*_TIMEOUT_MS` for both.

use anyhow::Context;
use chat_core::commands::Commands;
use chat_core::http_server::{self, HttpTimeouts};
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
    let timeouts = HttpTimeouts::from_env()?;
    let metrics_addr = chat_core::env::var_or("API_METRICS_ADDR", "127.0.0.1:9091".to_string())?;
    if let Some(listener) = http_server::bind_optional(&metrics_addr).await? {
        tracing::info!(%metrics_addr, "metrics listening");
        let operator = chat_api::operator_router(state.clone());
        tokio::spawn(http_server::serve(
            listener,
            operator,
            timeouts,
            std::future::pending(),
        ));
    }
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, "api listening");
    http_server::serve(
        listener,
        chat_api::router(state),
        timeouts,
        chat_core::shutdown::signal(),
    )
    .await?;
    telemetry.shutdown();
    Ok(())
}
