//! `gateway`: the WebSocket gateway alone, for scaled-out deployments. Configuration from
//! the environment (see the README): `GATEWAY_HTTP_ADDR` (default 127.0.0.1:8082),
//! `NATS_URL`, `DATABASE_URL`, `JWT_SECRET`, `GATEWAY_*`, `HTTP_*_TIMEOUT_MS`, and
//! `GATEWAY_METRICS_ADDR` (default 127.0.0.1:9092, `off`) for the operator's `/metrics`.

use anyhow::Context;
use chat_core::commands::{CommandLimits, Commands};
use chat_core::http_server::{self, HttpTimeouts};
use chat_core::{database, eventlog, readmodel::ReadModel, tokens};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = chat_core::telemetry::init("gateway");
    chat_core::metrics::install();
    let addr = chat_core::env::var_or("GATEWAY_HTTP_ADDR", "127.0.0.1:8082".to_string())?;
    let db_config = database::DatabaseConfig::from_env()?;
    let pool = database::pool(&db_config)?;
    let log = eventlog::EventLog::connect(&eventlog::NatsConfig::from_env()?, "gateway").await?;
    log.ensure_streams().await.context("verifying streams")?;
    let limits = CommandLimits::from_env()?;
    let commands = Commands::new(log, ReadModel::new(pool, db_config.timeout), limits);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let config = chat_gateway::GatewayConfig::from_env()?;
    let gateway_id = config.resolve_gateway_id(listener.local_addr()?.port());
    let state = chat_gateway::GatewayState::new(
        commands,
        tokens::Tokens::new(&tokens::TokenConfig::from_env()?)?,
        config,
        gateway_id,
    );
    let timeouts = HttpTimeouts::from_env()?;
    let metrics_addr =
        chat_core::env::var_or("GATEWAY_METRICS_ADDR", "127.0.0.1:9092".to_string())?;
    if let Some(metrics) = http_server::bind_optional(&metrics_addr).await? {
        tracing::info!(%metrics_addr, "metrics listening");
        let operator = chat_core::metrics::router();
        tokio::spawn(http_server::serve(
            metrics,
            operator,
            timeouts,
            std::future::pending(),
        ));
    }
    tracing::info!(%addr, "gateway listening");
    let draining = state.clone();
    let router =
        chat_gateway::router(state).route("/healthz", axum::routing::get(|| async { "ok" }));
    http_server::serve(listener, router, timeouts, async move {
        chat_core::shutdown::signal().await;
        draining.drain().await;
    })
    .await?;
    telemetry.shutdown();
    Ok(())
}
