//! `projector`: the projector alone, for scaled-out deployments. Configuration from the
//! environment (see the README): `NATS_URL`, `DATABASE_URL`, `PROJECTOR_*`, and
//! `PROJECTOR_HTTP_ADDR` (default 127.0.0.1:8083) for `/metrics`, `/healthz`, `/readyz`:
//! an operator's port (nothing on it is for clients), read with `HTTP_*_TIMEOUT_MS`.

use anyhow::Context;
use axum::routing::get;
use chat_core::{database, eventlog};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = chat_core::telemetry::init("projector");
    chat_core::metrics::install();
    let addr = chat_core::env::var_or("PROJECTOR_HTTP_ADDR", "127.0.0.1:8083".to_string())?;
    let db_config = database::DatabaseConfig::from_env()?;
    let nats_config = eventlog::NatsConfig::from_env()?;
    let config = chat_projector::ProjectorConfig::from_env()?;
    let timeouts = chat_core::http_server::HttpTimeouts::from_env()?;

    let pool = database::pool(&db_config)?;
    database::migrate(&pool).await?;
    let log = eventlog::EventLog::connect(&nats_config, "projector").await?;
    log.ensure_streams().await.context("verifying streams")?;

    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let (ready_log, ready_pool) = (log.clone(), pool.clone());
    let router = axum::Router::new()
        .route("/metrics", get(chat_core::metrics::endpoint))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let (log, pool) = (ready_log.clone(), ready_pool.clone());
                async move {
                    let postgres = match pool.get().await {
                        Ok(c) => c.simple_query("SELECT 1").await.is_ok(),
                        Err(_) => false,
                    };
                    let ready = log.is_connected() && postgres;
                    let status = if ready {
                        axum::http::StatusCode::OK
                    } else {
                        axum::http::StatusCode::SERVICE_UNAVAILABLE
                    };
                    (status, if ready { "ready" } else { "not ready" })
                }
            }),
        );
    tokio::spawn(async move {
        let _ =
            chat_core::http_server::serve(listener, router, timeouts, std::future::pending()).await;
    });
    chat_projector::run(log, pool, config, chat_core::shutdown::signal()).await;
    telemetry.shutdown();
    Ok(())
}
