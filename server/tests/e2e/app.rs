//! `spawn_app()`: the all-in-one server in-process against the test's own NATS and
//! database (from the test kit), reached through the kit's HTTP client, plus the checks on
//! its read model that several tests share.

use chat_core::database::DatabaseConfig;
use chat_core::eventlog::{NatsConfig, StreamSettings};
use chat_core::tokens::TokenConfig;
use chat_server::{Application, ServerConfig};
use chat_testkit::{ApiClient, Backing, NatsServer, TestDatabase};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

pub use chat_testkit::{User, TEST_SECRET};

/// Knobs a test may turn before the app starts.
pub struct AppOptions {
    pub run_projector: bool,
    pub database_url: Option<String>,
    pub max_body_bytes: usize,
    /// NATS servers to use instead of the test's own single server (a cluster).
    pub nats_url: Option<String>,
    pub nats_replicas: usize,
    /// Writes per user; tests that send in bulk need more than production's default.
    pub write_rate: chat_core::ratelimit::Rate,
    /// The gateway's settings (connection caps, origins, ...).
    pub gateway: chat_gateway::GatewayConfig,
    /// The operator's key for `/admin/*` (off when `None`).
    pub admin_key: Option<String>,
    /// How long the server waits for request heads and bodies.
    pub http_timeouts: chat_core::http_server::HttpTimeouts,
    /// Sign-ins per client address per minute, and the proxies trusted to name it.
    pub auth_per_minute_per_address: f64,
    pub trusted_proxies: Vec<chat_core::client_address::IpRange>,
    /// JetStream's duplicate window for `Nats-Msg-Id` (production: 120 s).
    pub duplicate_window: Option<Duration>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            run_projector: true,
            database_url: None,
            max_body_bytes: 64 * 1024,
            nats_url: None,
            nats_replicas: 1,
            write_rate: chat_core::ratelimit::Rate {
                per_second: 10_000.0,
                burst: 10_000.0,
            },
            gateway: chat_gateway::GatewayConfig::default(),
            admin_key: None,
            http_timeouts: Default::default(),
            auth_per_minute_per_address: 30.0,
            trusted_proxies: Vec::new(),
            duplicate_window: None,
        }
    }
}

/// The running app; derefs to the kit's HTTP client of its api (`app.register(..)`,
/// `app.base`, `app.http`).
pub struct TestApp {
    pub api: ApiClient,
    /// The operator's listener (`/metrics`).
    pub metrics_base: String,
    pub nats: NatsServer,
    pub database_url: String,
    _db: Option<TestDatabase>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    chat_core::telemetry::init_logging();
    let nats = NatsServer::start();
    let (db, database_url) = match options.database_url {
        Some(url) => (None, url),
        None => {
            let db = TestDatabase::create().await;
            let url = db.url();
            (Some(db), url)
        }
    };
    let config = ServerConfig {
        http_addr: "127.0.0.1:0".into(),
        metrics_addr: "127.0.0.1:0".into(),
        http_timeouts: options.http_timeouts,
        nats: NatsConfig {
            url: options.nats_url.clone().unwrap_or_else(|| nats.url()),
            ack_timeout: Duration::from_secs(2),
            streams: StreamSettings {
                replicas: options.nats_replicas,
                duplicate_window: options
                    .duplicate_window
                    .unwrap_or(StreamSettings::default().duplicate_window),
                ..StreamSettings::default()
            },
        },
        database: DatabaseConfig {
            url: database_url.clone(),
            pool_size: 8,
            timeout: Duration::from_secs(2),
        },
        tokens: token_config(),
        api: chat_api::ApiConfig {
            max_body_bytes: options.max_body_bytes,
            write_rate: options.write_rate,
            admin_key: options
                .admin_key
                .map(|k| chat_api::config::AdminKey::new(k).expect("admin key long enough")),
            auth_per_minute_per_address: options.auth_per_minute_per_address,
            trusted_proxies: options.trusted_proxies,
            ..Default::default()
        },
        gateway: options.gateway,
        projector: chat_projector::ProjectorConfig::default(),
        run_projector: options.run_projector,
    };
    let app = Application::build(config).await.expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics_base = format!(
        "http://{}",
        app.metrics_addr().expect("the test app serves metrics")
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        api: ApiClient::new(&base),
        metrics_base,
        nats,
        database_url,
        _db: db,
        stop: Some(stop),
    }
}

pub fn token_config() -> TokenConfig {
    TokenConfig {
        secret: TEST_SECRET.into(),
        issuer: "chat".into(),
        audience: "chat-clients".into(),
        ttl: Duration::from_secs(3600),
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl std::ops::Deref for TestApp {
    type Target = ApiClient;
    fn deref(&self) -> &ApiClient {
        &self.api
    }
}

impl Backing for TestApp {
    fn nats_url(&self) -> String {
        self.nats.url()
    }
    fn database_url(&self) -> String {
        self.database_url.clone()
    }
}

impl TestApp {
    /// Creates `n` accounts directly (Argon2 hashing of thousands of passwords would
    /// dominate the test) and signs a token for each with the test secret.
    pub async fn insert_users(&self, prefix: &str, n: usize) -> Vec<User> {
        insert_users(&self.database_url, prefix, n).await
    }

    /// Waits until the room stream's checkpoint (the least advanced partition) reaches
    /// `seq`; panics after `bound`.
    pub async fn wait_for_checkpoint(&self, seq: u64, bound: Duration) {
        let deadline = std::time::Instant::now() + bound;
        loop {
            let applied = self
                .count(
                    "SELECT COALESCE(min(last_seq), 0) FROM projector_checkpoints \
                     WHERE stream = 'CHAT_ROOMS' OR stream LIKE 'CHAT_ROOMS/%'",
                )
                .await;
            if applied as u64 >= seq {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "projection stuck at {applied}, want {seq}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends until the answer is 201, accepting only 503 meanwhile (a dependency is
    /// recovering); panics after `bound`. With a `client_msg_id`, retries cannot double it.
    pub async fn send_until_stored(
        &self,
        user: &User,
        room: &str,
        text: &str,
        client_msg_id: Option<&str>,
        bound: Duration,
    ) -> Value {
        let deadline = std::time::Instant::now() + bound;
        loop {
            let (status, body) = self.send_raw(user, room, text, client_msg_id).await;
            if status == StatusCode::CREATED {
                return body;
            }
            assert_eq!(
                status,
                StatusCode::SERVICE_UNAVAILABLE,
                "only 'unavailable' while recovering: {body}"
            );
            assert!(
                std::time::Instant::now() < deadline,
                "no ack within {bound:?}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs one SQL query returning a single number (for assertions on the read model).
    pub async fn count(&self, sql: &str) -> i64 {
        let (db, conn) = tokio_postgres::connect(&self.database_url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        db.query_one(sql, &[]).await.unwrap().get(0)
    }
}

/// Creates `n` accounts named `<prefix><i>` straight in the database at `database_url`
/// and signs a token for each with the test secret.
pub async fn insert_users(database_url: &str, prefix: &str, n: usize) -> Vec<User> {
    let (db, conn) = tokio_postgres::connect(database_url, tokio_postgres::NoTls)
        .await
        .expect("Postgres is up");
    tokio::spawn(conn);
    let tokens = chat_core::tokens::Tokens::new(&token_config()).unwrap();
    let mut users = Vec::with_capacity(n);
    for i in 0..n {
        let id = uuid::Uuid::now_v7();
        let name = format!("{prefix}{i}");
        db.execute(
            "INSERT INTO accounts (user_id, username, username_key, password_hash) \
             VALUES ($1, $2, $2, 'x')",
            &[&id, &name],
        )
        .await
        .unwrap();
        users.push(User {
            id: id.to_string(),
            token: tokens.issue(chat_schemas::UserId(id)).unwrap(),
        });
    }
    users
}
