//! The JetStream event log, the source of truth.
//!
//! - [`subjects`]: which subject an event is stored on and republished to.
//! - [`streams`]: the stream definitions, created idempotently and read back to verify.
//! - [`publish`]: storing an event and awaiting its PubAck.
//! - [`lookup`]: single events read back by direct get.
//!
//! [`EventLog`] owns the NATS connection. The client reconnects by itself for ever; while it
//! is disconnected, publishes fail at once with [`publish::PublishError::Unavailable`] instead
//! of queueing behind a dead socket.

pub mod lookup;
pub mod publish;
pub mod streams;
pub mod subjects;

use anyhow::Context as _;
use async_nats::jetstream;
use std::time::Duration;

pub use publish::{PublishError, PublishOptions, Published};
pub use streams::{StreamKind, StreamSettings};

/// How to reach NATS and how to shape the streams.
#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// `NATS_URL`, e.g. `nats://127.0.0.1:4222`; several servers of a cluster separated by
    /// commas (the client also learns the others from the server).
    pub url: String,
    /// How long a publish waits for its PubAck before answering "unavailable".
    pub ack_timeout: Duration,
    pub streams: StreamSettings,
}

impl NatsConfig {
    /// The servers named in `url`.
    pub fn servers(&self) -> Vec<&str> {
        self.url
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            url: crate::env::var_or("NATS_URL", "nats://127.0.0.1:4222".to_string())?,
            ack_timeout: crate::env::millis_or("NATS_ACK_TIMEOUT_MS", 2_000)?,
            streams: StreamSettings::from_env()?,
        })
    }
}

/// The connection to the event log, cheap to clone.
#[derive(Clone)]
pub struct EventLog {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    settings: StreamSettings,
}

impl EventLog {
    /// Connects (failing fast if NATS is not there at start-up) and from then on keeps
    /// reconnecting by itself.
    pub async fn connect(config: &NatsConfig, client_name: &str) -> anyhow::Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .name(client_name)
            .connection_timeout(Duration::from_secs(3))
            .max_reconnects(None)
            .connect(config.servers())
            .await
            .with_context(|| format!("connecting to NATS at {}", config.url))?;
        let mut jetstream = jetstream::new(client.clone());
        jetstream.set_timeout(config.ack_timeout);
        Ok(Self {
            client,
            jetstream,
            settings: config.streams.clone(),
        })
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    pub fn settings(&self) -> &StreamSettings {
        &self.settings
    }

    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Creates every stream if needed and verifies what the server stored.
    pub async fn ensure_streams(&self) -> anyhow::Result<()> {
        for kind in [
            StreamKind::Rooms,
            StreamKind::Users,
            StreamKind::People,
            StreamKind::Reads,
        ] {
            streams::ensure(&self.jetstream, &self.settings.config_for(kind)).await?;
        }
        Ok(())
    }
}
