//! Settings of the HTTP API (`API_*` variables; see the README's configuration table).

use chat_core::client_address::{ranges_from_env, IpRange};
use chat_core::commands::CommandLimits;
use chat_core::env::var_or;
use std::time::Duration;

/// Loopback, IPv4 and IPv6.
const LOOPBACK: &str = "127.0.0.0/8, ::1";

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// Longest chat message, in characters; longer ones get 413.
    pub max_message_chars: usize,
    /// How long a command waits for the projector to apply its event (read-your-writes),
    /// and how long `minSeq` may wait.
    pub projection_wait: Duration,
    /// `/readyz` answers 503 while the projector is more than this many events behind.
    pub ready_max_lag: u64,
    /// Writes per user (`API_RATE_PER_SEC`, `API_RATE_BURST`); beyond it 429.
    pub write_rate: chat_core::ratelimit::Rate,
    /// Directory lookups and message searches (`GET /users`, `GET /rooms/public`,
    /// `GET /search`) per user (`API_SEARCH_PER_SEC`,
    /// `API_SEARCH_BURST`); beyond it 429, so nobody can walk the whole directory quickly.
    pub search_rate: chat_core::ratelimit::Rate,
    /// How often other people may add one person to rooms (room creation with members,
    /// `POST /rooms/{roomId}/members`), per added person (`API_ADDED_PER_SEC`,
    /// `API_ADDED_BURST`): strangers with free accounts cannot bury someone under hundreds
    /// of rooms. Charged only for people actually added.
    pub added_rate: chat_core::ratelimit::Rate,
    /// Login attempts per username per minute (`API_LOGINS_PER_MIN`); beyond it 429.
    pub logins_per_minute: f64,
    /// Sign-in attempts (`/auth/login` and `/auth/register` together) per client address
    /// per minute (`API_AUTH_PER_MIN_PER_ADDR`); beyond it 429. Per process.
    pub auth_per_minute_per_address: f64,
    /// Addresses not counted by that limit (`API_AUTH_LIMIT_EXEMPT`, loopback by default:
    /// tests, load generators, a co-located proxy that is not declared trusted).
    pub auth_limit_exempt: Vec<IpRange>,
    /// Proxies whose `X-Forwarded-For` names the client (`API_TRUSTED_PROXIES`, by default
    /// the gateway's `GATEWAY_TRUSTED_PROXIES`, so one setting serves the all-in-one server).
    pub trusted_proxies: Vec<IpRange>,
    /// Threads hashing passwords (`API_HASH_THREADS`, default 2); each holds one Argon2
    /// memory block (19 MiB), which bounds the memory hashing can use.
    pub hash_threads: usize,
    /// The operator's key for `/admin/*` (`API_ADMIN_KEY` or `API_ADMIN_KEY_FILE`, at least
    /// 32 bytes). Unset: the admin routes answer 404.
    pub admin_key: Option<AdminKey>,
}

/// The operator's key; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminKey(String);

impl AdminKey {
    pub const MIN_BYTES: usize = 32;

    pub fn new(key: impl Into<String>) -> anyhow::Result<Self> {
        let key = key.into();
        anyhow::ensure!(
            key.len() >= Self::MIN_BYTES,
            "API_ADMIN_KEY must be at least {} bytes",
            Self::MIN_BYTES
        );
        Ok(Self(key))
    }

    /// Compares in time independent of where the first difference is.
    pub fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl std::fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminKey(<redacted>)")
    }
}

fn admin_key_from_env() -> anyhow::Result<Option<AdminKey>> {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty());
    if !set("API_ADMIN_KEY") && !set("API_ADMIN_KEY_FILE") {
        return Ok(None);
    }
    AdminKey::new(chat_core::env::secret("API_ADMIN_KEY")?).map(Some)
}

impl ApiConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        let commands = CommandLimits::from_env()?;
        Ok(Self {
            max_body_bytes: var_or("API_MAX_BODY_BYTES", 64 * 1024usize)?,
            max_message_chars: commands.max_message_chars,
            projection_wait: commands.projection_wait,
            ready_max_lag: var_or("API_READY_MAX_LAG", 10_000u64)?,
            write_rate: chat_core::ratelimit::Rate {
                per_second: var_or("API_RATE_PER_SEC", 20.0)?,
                burst: var_or("API_RATE_BURST", 40.0)?,
            },
            search_rate: chat_core::ratelimit::Rate {
                per_second: var_or("API_SEARCH_PER_SEC", 5.0)?,
                burst: var_or("API_SEARCH_BURST", 20.0)?,
            },
            added_rate: chat_core::ratelimit::Rate {
                per_second: var_or("API_ADDED_PER_SEC", 0.1)?,
                burst: var_or("API_ADDED_BURST", 30.0)?,
            },
            logins_per_minute: var_or("API_LOGINS_PER_MIN", 10.0)?,
            auth_per_minute_per_address: var_or("API_AUTH_PER_MIN_PER_ADDR", 30.0)?,
            auth_limit_exempt: ranges_from_env("API_AUTH_LIMIT_EXEMPT", LOOPBACK)?,
            trusted_proxies: {
                let gateway: String = var_or("GATEWAY_TRUSTED_PROXIES", String::new())?;
                ranges_from_env("API_TRUSTED_PROXIES", &gateway)?
            },
            hash_threads: var_or("API_HASH_THREADS", 2usize)?,
            admin_key: admin_key_from_env()?,
        })
    }
}

impl ApiConfig {
    pub fn command_limits(&self) -> CommandLimits {
        CommandLimits {
            max_message_chars: self.max_message_chars,
            projection_wait: self.projection_wait,
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        let commands = CommandLimits::default();
        Self {
            max_body_bytes: 64 * 1024,
            max_message_chars: commands.max_message_chars,
            projection_wait: commands.projection_wait,
            ready_max_lag: 10_000,
            write_rate: chat_core::ratelimit::Rate {
                per_second: 20.0,
                burst: 40.0,
            },
            search_rate: chat_core::ratelimit::Rate {
                per_second: 5.0,
                burst: 20.0,
            },
            added_rate: chat_core::ratelimit::Rate {
                per_second: 0.1,
                burst: 30.0,
            },
            logins_per_minute: 10.0,
            auth_per_minute_per_address: 30.0,
            auth_limit_exempt: IpRange::parse_list(LOOPBACK).expect("loopback ranges parse"),
            trusted_proxies: Vec::new(),
            hash_threads: 2,
            admin_key: None,
        }
    }
}
