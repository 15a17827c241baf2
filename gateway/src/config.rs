//! Settings of the gateway (`GATEWAY_*` variables; see the README's configuration table).

use chat_core::env::{millis_or, var_or};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Origins allowed to open `/ws` besides the server's own (comma-separated, exact
    /// match, e.g. `https://chat.example.com`). A request without `Origin` (a native client)
    /// is allowed; `null` and look-alikes are not.
    pub allowed_origins: Vec<String>,
    /// The server pings each connection this often.
    pub heartbeat_interval: Duration,
    /// A connection that sends nothing (not even a pong) for this long is closed (4002).
    pub idle_timeout: Duration,
    /// A connection without a token at the handshake must send `auth` within this (4001).
    pub auth_timeout: Duration,
    /// Largest frame or message a client may send (1009 beyond it).
    pub max_frame_bytes: usize,
    /// Outbound queue bound per connection, in frames and in bytes; a client that lets it
    /// fill is disconnected (4008).
    pub queue_frames: usize,
    pub queue_bytes: usize,
    /// Most events replayed for one room on resume; a longer gap answers
    /// `recovered: false` (reload from the api).
    pub max_replay: u64,
    /// Sends of one connection awaiting their PubAck at once.
    pub max_in_flight: usize,
    /// How long shutdown waits for connections to close after telling them to go.
    pub drain_timeout: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            heartbeat_interval: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(40),
            auth_timeout: Duration::from_secs(10),
            max_frame_bytes: 64 * 1024,
            queue_frames: 1024,
            queue_bytes: 1024 * 1024,
            max_replay: 10_000,
            max_in_flight: 64,
            drain_timeout: Duration::from_secs(5),
        }
    }
}

impl GatewayConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        let d = Self::default();
        let origins: String = var_or("GATEWAY_ALLOWED_ORIGINS", String::new())?;
        Ok(Self {
            allowed_origins: origins
                .split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            heartbeat_interval: millis_or(
                "GATEWAY_HEARTBEAT_MS",
                d.heartbeat_interval.as_millis() as u64,
            )?,
            idle_timeout: millis_or("GATEWAY_IDLE_TIMEOUT_MS", d.idle_timeout.as_millis() as u64)?,
            auth_timeout: millis_or("GATEWAY_AUTH_TIMEOUT_MS", d.auth_timeout.as_millis() as u64)?,
            max_frame_bytes: var_or("GATEWAY_MAX_FRAME_BYTES", d.max_frame_bytes)?,
            queue_frames: var_or("GATEWAY_QUEUE_FRAMES", d.queue_frames)?,
            queue_bytes: var_or("GATEWAY_QUEUE_BYTES", d.queue_bytes)?,
            max_replay: var_or("GATEWAY_MAX_REPLAY", d.max_replay)?,
            max_in_flight: var_or("GATEWAY_MAX_IN_FLIGHT", d.max_in_flight)?,
            drain_timeout: millis_or("GATEWAY_DRAIN_MS", d.drain_timeout.as_millis() as u64)?,
        })
    }
}
