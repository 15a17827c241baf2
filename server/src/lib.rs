//! The all-in-one server: the api and gateway routers on one port, and the projector as a
//! task of the same process. It is the single-machine default that `ops/up` starts; the
//! separate `api`, `gateway` and `projector` binaries are for scaling out.
//!
//! [`Application::build`] connects, migrates, verifies the streams and binds;
//! [`Application::run_until_stopped`] serves until the shutdown future resolves.
//!
//! Two listeners: the client-facing one (`CHAT_HTTP_ADDR`: api, `/ws`, web client) and the
//! operator's (`CHAT_METRICS_ADDR`, loopback by default: `/metrics`), so that metrics
//! (route names, volumes, pool sizes) are not public. Both read requests with the timeouts
//! of [`chat_core::http_server`].

pub mod web;

use anyhow::Context;
use chat_core::commands::Commands;
use chat_core::database::{self, DatabaseConfig};
use chat_core::eventlog::{EventLog, NatsConfig};
use chat_core::http_server::{self, HttpTimeouts};
use chat_core::readmodel::ReadModel;
use chat_core::tokens::{TokenConfig, Tokens};
use std::future::Future;
use std::net::SocketAddr;

/// Everything the all-in-one server reads from the environment.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `CHAT_HTTP_ADDR`, default `127.0.0.1:8080`; port 0 picks a free one.
    pub http_addr: String,
    /// `CHAT_METRICS_ADDR`, default `127.0.0.1:9090`: the operator's listener for
    /// `/metrics`; `off` serves metrics nowhere.
    pub metrics_addr: String,
    /// `HTTP_HEADER_TIMEOUT_MS`, `HTTP_BODY_TIMEOUT_MS`.
    pub http_timeouts: HttpTimeouts,
    pub nats: NatsConfig,
    pub database: DatabaseConfig,
    pub tokens: TokenConfig,
    pub api: chat_api::ApiConfig,
    pub gateway: chat_gateway::GatewayConfig,
    pub projector: chat_projector::ProjectorConfig,
    /// `CHAT_RUN_PROJECTOR` (default true): false when projectors run as their own
    /// processes.
    pub run_projector: bool,
}

impl ServerConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            http_addr: chat_core::env::var_or("CHAT_HTTP_ADDR", "127.0.0.1:8080".to_string())?,
            metrics_addr: chat_core::env::var_or(
                "CHAT_METRICS_ADDR",
                "127.0.0.1:9090".to_string(),
            )?,
            http_timeouts: HttpTimeouts::from_env()?,
            nats: NatsConfig::from_env()?,
            database: DatabaseConfig::from_env()?,
            tokens: TokenConfig::from_env()?,
            api: chat_api::ApiConfig::from_env()?,
            gateway: chat_gateway::GatewayConfig::from_env()?,
            projector: chat_projector::ProjectorConfig::from_env()?,
            run_projector: chat_core::env::var_or("CHAT_RUN_PROJECTOR", true)?,
        })
    }
}

pub struct Application {
    listener: tokio::net::TcpListener,
    metrics_listener: Option<tokio::net::TcpListener>,
    operator: axum::Router,
    http_timeouts: HttpTimeouts,
    gateway: chat_gateway::GatewayState,
    router: axum::Router,
    log: EventLog,
    pool: deadpool_postgres::Pool,
    projector: Option<chat_projector::ProjectorConfig>,
}

impl Application {
    pub async fn build(config: ServerConfig) -> anyhow::Result<Self> {
        let pool = database::pool(&config.database)?;
        database::migrate(&pool).await?;
        let log = EventLog::connect(&config.nats, "chat-server").await?;
        log.ensure_streams().await.context("verifying streams")?;
        let tokens = Tokens::new(&config.tokens)?;
        let read = ReadModel::new(pool.clone(), config.database.timeout);

        let commands = Commands::new(log.clone(), read.clone(), config.api.command_limits());
        let api_state = chat_api::ApiState::new(
            read.clone(),
            commands.clone(),
            tokens.clone(),
            config.api.clone(),
        );
        let operator = chat_api::operator_router(api_state.clone());
        let api = chat_api::router(api_state);
        let listener = tokio::net::TcpListener::bind(&config.http_addr)
            .await
            .with_context(|| format!("binding {}", config.http_addr))?;
        let metrics_listener = http_server::bind_optional(&config.metrics_addr).await?;
        let gateway_id = config
            .gateway
            .resolve_gateway_id(listener.local_addr()?.port());
        let gateway =
            chat_gateway::GatewayState::new(commands, tokens, config.gateway.clone(), gateway_id);
        Ok(Self {
            listener,
            metrics_listener,
            operator,
            http_timeouts: config.http_timeouts,
            router: chat_gateway::router(gateway.clone())
                .merge(api)
                .merge(web::router()),
            gateway,
            log,
            pool,
            projector: config.run_projector.then_some(config.projector),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The operator's listener (`/metrics`), unless turned off.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .map(|l| l.local_addr().expect("bound listener has an address"))
    }

    /// Serves HTTP and runs the projector until `shutdown` resolves.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let projector = self.projector.map(|config| {
            tokio::spawn(chat_projector::run(
                self.log,
                self.pool,
                config,
                wait_for_stop(stop_rx.clone()),
            ))
        });
        tracing::info!(addr = %self.listener.local_addr()?, "chat server listening");
        let operator = self.metrics_listener.map(|listener| {
            tracing::info!(addr = ?listener.local_addr(), "metrics listening");
            tokio::spawn(http_server::serve(
                listener,
                self.operator,
                self.http_timeouts,
                wait_for_stop(stop_rx.clone()),
            ))
        });
        let gateway = self.gateway;
        let served =
            http_server::serve(self.listener, self.router, self.http_timeouts, async move {
                shutdown.await;
                // WebSocket clients are told to reconnect elsewhere before HTTP stops.
                gateway.drain().await;
                let _ = stop_tx.send(true);
            })
            .await;
        if let Some(operator) = operator {
            let _ = operator.await;
        }
        if let Some(projector) = projector {
            let _ = projector.await;
        }
        served.context("serving HTTP")
    }
}

async fn wait_for_stop(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}
