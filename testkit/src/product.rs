//! The product's own processes as tests start them: `gateway`, `projector` and
//! `chat-server`, each on free ports, against the NATS and database a test gives them, with
//! the test secret and log level every product process under test shares.

use std::time::Duration;

use crate::ports::free_port;
use crate::process::{binary, Proc};
use crate::settings::product_log_level;

/// The JWT secret of every product under test (tests sign tokens with it themselves).
pub const TEST_SECRET: &str = "test-secret-0123456789-0123456789-0123456789";

/// What a product process needs from the test: its NATS and its database.
pub trait Backing {
    fn nats_url(&self) -> String;
    fn database_url(&self) -> String;
}

/// A product binary with the environment every product process under test gets.
pub fn product_process(bin: &str, nats_url: &str, database_url: &str) -> Proc {
    Proc::new(bin, binary(bin))
        .env("NATS_URL", nats_url)
        .env("DATABASE_URL", database_url)
        .env("JWT_SECRET", TEST_SECRET)
        .env("RUST_LOG", product_log_level())
}

/// A `gateway` process sharing the test's NATS and database; killed on drop.
pub struct GatewayProcess {
    pub base: String,
    /// The operator's listener (`/metrics`).
    pub metrics_base: String,
    process: Proc,
}

impl GatewayProcess {
    /// Starts a gateway with extra environment (which wins) and waits until it is healthy.
    pub async fn start(backing: &impl Backing, env: &[(&str, &str)]) -> Self {
        let (port, metrics_port) = (free_port(), free_port());
        let mut process = Proc::new("gateway", binary("gateway"))
            .env("GATEWAY_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env("GATEWAY_METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
            .env("NATS_URL", backing.nats_url())
            .env("DATABASE_URL", backing.database_url())
            .env("JWT_SECRET", TEST_SECRET)
            .env("RUST_LOG", product_log_level())
            .envs(env)
            .serving_on(port);
        process.start().await;
        Self {
            base: process.base.clone(),
            metrics_base: format!("http://127.0.0.1:{metrics_port}"),
            process,
        }
    }

    /// The process id, while it runs (to read its memory in `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// SIGTERM: the graceful path.
    pub fn terminate(&self) {
        self.process.terminate();
    }

    /// `kill -9`: the gateway gets no chance to say goodbye.
    pub fn kill(&mut self) {
        self.process.kill9();
    }

    /// Waits (at most 10 s) for the process to exit after `terminate`.
    pub async fn wait_exit(&mut self) -> bool {
        self.process.wait_exit(Duration::from_secs(10)).await
    }
}

/// A `projector` process (not waited for: tests start it while dependencies are down).
pub fn start_projector(nats_url: &str, database_url: &str) -> Proc {
    start_projector_with(nats_url, database_url, &[])
}

/// A `projector` process with extra environment; the kit's own settings (its address,
/// services, small batches) win over it.
pub fn start_projector_with(nats_url: &str, database_url: &str, env: &[(&str, &str)]) -> Proc {
    let mut process = Proc::new("projector", binary("projector"))
        .envs(env)
        .env("PROJECTOR_HTTP_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("NATS_URL", nats_url)
        .env("DATABASE_URL", database_url)
        .env("JWT_SECRET", TEST_SECRET)
        .env("PROJECTOR_MAX_BATCH", "20")
        .env("RUST_LOG", product_log_level());
    process.spawn();
    process
}

/// A `chat-server` process on `port` (a restart keeps the port), without an operator
/// listener since tests run side by side. Extra environment wins. Not started yet.
pub fn chat_server(backing: &impl Backing, port: u16, env: &[(&str, &str)]) -> Proc {
    product_process("chat-server", &backing.nats_url(), &backing.database_url())
        .env("CHAT_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("CHAT_METRICS_ADDR", "off")
        .envs(env)
        .serving_on(port)
}

impl<T: Backing + ?Sized> Backing for &T {
    fn nats_url(&self) -> String {
        (**self).nats_url()
    }
    fn database_url(&self) -> String {
        (**self).database_url()
    }
}
