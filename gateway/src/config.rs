//! Settings of the gateway (`GATEWAY_*` variables; see the README's configuration table).

use chat_core::env::{millis_or, var_or};
use std::time::Duration;

pub use crate::admission::IpRange;

/// A list of address ranges: unset or empty means `default`, `none` means no range.
fn ranges_or(name: &str, default: &str) -> anyhow::Result<Vec<IpRange>> {
    let raw: String = var_or(name, default.to_owned())?;
    if raw.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    IpRange::parse_list(&raw).map_err(|e| anyhow::anyhow!("{name}={raw:?} is invalid: {e}"))
}

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
    /// Replays reading from NATS at once on this gateway (`GATEWAY_REPLAY_CONCURRENCY`):
    /// a mass reconnect is served in turn, not all at once (see [`crate::resume`]).
    pub replay_concurrency: usize,
    /// Rooms one connection receives at once, and distinct rooms one `resume` may name
    /// (`GATEWAY_MAX_ROOMS_PER_CONNECTION`); beyond it `too_many_rooms`.
    pub max_rooms_per_connection: usize,
    /// Sends of one connection awaiting their PubAck at once.
    pub max_in_flight: usize,
    /// How long shutdown waits for connections to close after telling them to go.
    pub drain_timeout: Duration,
    /// This gateway's stable name (`GATEWAY_ID`; default: host name and port). A restart
    /// under the same name closes the previous process's connections at once.
    pub gateway_id: Option<String>,
    /// How often this gateway publishes its heartbeat (the reaper's evidence of life).
    pub presence_heartbeat: Duration,
    /// A connection that sends no command for this long is idle (any command makes it
    /// active again); a user is shown `away` while every connection of theirs, on every
    /// gateway, is idle (see `chat_projector::presence`).
    pub away_after: Duration,
    /// Rooms up to this many members deliver each member's presence to who joins; larger
    /// rooms do not (watch users explicitly).
    pub presence_member_limit: i64,
    /// Frames per user across their connections on this gateway, every kind of frame
    /// counted (`GATEWAY_RATE_PER_SEC`, `GATEWAY_RATE_BURST`; see [`crate::user_limits`]):
    /// beyond it each text or binary frame is answered `rate_limited` and not acted on.
    pub frame_rate: chat_core::ratelimit::Rate,
    /// After this many refused frames in a row on one connection it is closed (4029).
    pub flood_close_after: u32,
    /// Open connections per user on this gateway (`GATEWAY_MAX_CONNECTIONS_PER_USER`);
    /// beyond it 429 `too_many_connections` at the handshake (4005 after an in-band `auth`).
    pub max_connections_per_user: usize,
    /// Open connections per client address on this gateway, authenticated or not
    /// (`GATEWAY_MAX_CONNECTIONS_PER_IP`); beyond it 429 `too_many_connections`.
    pub max_connections_per_ip: usize,
    /// Client addresses the per-address cap does not apply to (`GATEWAY_IP_LIMIT_EXEMPT`,
    /// comma-separated addresses or CIDR ranges; default loopback, where tests and load
    /// generators run; `none` to exempt none).
    pub ip_limit_exempt: Vec<IpRange>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`GATEWAY_TRUSTED_PROXIES`,
    /// addresses or CIDR ranges; default none): behind them the client address is the
    /// right-most forwarded address that is not itself a trusted proxy.
    pub trusted_proxies: Vec<IpRange>,
    /// How often the sessions of this gateway's open connections are checked against the
    /// accounts in one batched query (`GATEWAY_SESSION_RECHECK_MS`); also done at once
    /// after every NATS reconnect. Bounds how long a socket outlives a revocation whose
    /// notice this gateway missed (see [`crate::admission`]).
    pub session_recheck: Duration,
    /// How long a session check read from Postgres may answer for a handshake while
    /// Postgres is unavailable (`GATEWAY_SESSION_CACHE_MS`; 0 turns the fallback off).
    pub session_cache: Duration,
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
            replay_concurrency: 16,
            max_rooms_per_connection: 1_000,
            max_in_flight: 64,
            drain_timeout: Duration::from_secs(5),
            gateway_id: None,
            presence_heartbeat: Duration::from_secs(3),
            away_after: Duration::from_secs(300),
            presence_member_limit: 200,
            frame_rate: chat_core::ratelimit::Rate {
                per_second: 20.0,
                burst: 40.0,
            },
            flood_close_after: 100,
            max_connections_per_user: 20,
            max_connections_per_ip: 1000,
            ip_limit_exempt: IpRange::parse_list(LOOPBACK).expect("loopback ranges parse"),
            trusted_proxies: Vec::new(),
            session_recheck: Duration::from_secs(30),
            session_cache: Duration::from_secs(15 * 60),
        }
    }
}

/// The default of `GATEWAY_IP_LIMIT_EXEMPT`.
const LOOPBACK: &str = "127.0.0.0/8,::1/128";

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
            replay_concurrency: var_or("GATEWAY_REPLAY_CONCURRENCY", d.replay_concurrency)?.max(1),
            max_rooms_per_connection: var_or(
                "GATEWAY_MAX_ROOMS_PER_CONNECTION",
                d.max_rooms_per_connection,
            )?,
            max_in_flight: var_or("GATEWAY_MAX_IN_FLIGHT", d.max_in_flight)?,
            drain_timeout: millis_or("GATEWAY_DRAIN_MS", d.drain_timeout.as_millis() as u64)?,
            gateway_id: std::env::var("GATEWAY_ID").ok().filter(|v| !v.is_empty()),
            presence_heartbeat: millis_or(
                "GATEWAY_PRESENCE_HEARTBEAT_MS",
                d.presence_heartbeat.as_millis() as u64,
            )?,
            away_after: millis_or("GATEWAY_AWAY_AFTER_MS", d.away_after.as_millis() as u64)?,
            presence_member_limit: var_or(
                "GATEWAY_PRESENCE_MEMBER_LIMIT",
                d.presence_member_limit,
            )?,
            frame_rate: chat_core::ratelimit::Rate {
                per_second: var_or("GATEWAY_RATE_PER_SEC", d.frame_rate.per_second)?,
                burst: var_or("GATEWAY_RATE_BURST", d.frame_rate.burst)?,
            },
            flood_close_after: var_or("GATEWAY_FLOOD_CLOSE_AFTER", d.flood_close_after)?,
            max_connections_per_user: var_or(
                "GATEWAY_MAX_CONNECTIONS_PER_USER",
                d.max_connections_per_user,
            )?,
            max_connections_per_ip: var_or(
                "GATEWAY_MAX_CONNECTIONS_PER_IP",
                d.max_connections_per_ip,
            )?,
            ip_limit_exempt: ranges_or("GATEWAY_IP_LIMIT_EXEMPT", LOOPBACK)?,
            trusted_proxies: ranges_or("GATEWAY_TRUSTED_PROXIES", "")?,
            session_recheck: millis_or(
                "GATEWAY_SESSION_RECHECK_MS",
                d.session_recheck.as_millis() as u64,
            )?,
            session_cache: millis_or(
                "GATEWAY_SESSION_CACHE_MS",
                d.session_cache.as_millis() as u64,
            )?,
        })
    }

    /// A subject-safe gateway id: the configured one, or `<host>-<port>`.
    pub fn resolve_gateway_id(&self, port: u16) -> String {
        let raw = self.gateway_id.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "gateway".into());
            format!("{host}-{port}")
        });
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
}
