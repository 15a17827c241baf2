//! Shared runtime pieces of the chat services.
//!
//! - [`accounts`]: account rows (registration, what a login checks).
//! - [`commands`]: chat commands shared by the api and the gateway (check, event, store).
//! - [`input`]: input policy (usernames, passwords, room names, message text, times).
//! - [`env`]: typed configuration read from environment variables.
//! - [`eventlog`]: the JetStream streams (created and verified), publishing, reading back.
//! - [`directs`]: unguessable ids of direct-message rooms, keyed with the server secret.
//! - [`database`]: the Postgres pool, migrations, and how database failures are classified.
//! - [`tokens`]: issuing and verifying the HS256 access tokens.
//! - [`sessions`]: whether a token's session is still live; logout and bans.
//! - [`readmodel`]: every read-model query, by concept (rooms, users, messages, progress).
//! - [`shutdown`]: the stop signal (SIGINT, SIGTERM).
//! - [`http_server`]: serving HTTP with header, body and idle timeouts (every binary).
//! - [`client_address`]: who the client is behind trusted proxies (per-address limits).
//! - [`metrics`]: Prometheus metrics and the `/metrics` handler.
//! - [`ratelimit`]: token buckets, per key, against floods.
//! - [`telemetry`]: logs, trace export and trace context across NATS.

pub mod accounts;
pub mod client_address;
pub mod commands;
pub mod database;
pub mod directs;
pub mod env;
pub mod eventlog;
pub mod http_server;
pub mod input;
pub mod metrics;
pub mod ratelimit;
pub mod readmodel;
pub mod sessions;
pub mod shutdown;
pub mod telemetry;
pub mod tokens;
