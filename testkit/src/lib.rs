//! The test kit: every real service a Rust test runs against, defined once, each cleaned
//! up on `Drop` (also when the test panics), in the spirit of nats.rs's test server helper
//! and crates.io's test database crate. Dev-only: no product crate depends on it.
//!
//! - [`ports`]: free ports, waiting for a port, a runtime-free `/healthz` probe.
//! - [`nats`]: a `nats-server -js` of the test's own, and a three-node cluster.
//! - [`postgres`]: a database of the test's own on `TEST_DATABASE_URL`.
//! - [`pg_cluster`]: a private Postgres cluster that outage tests stop and crash.
//! - [`process`]: child processes (workspace binaries), signals, process trees.
//! - [`product`]: `gateway`, `projector` and `chat-server` processes with the test settings.
//! - [`stack`]: NATS + database + `chat-server`, for tests that drive other processes.
//! - [`ws`] and [`http`]: the WebSocket and HTTP clients tests talk to the product with.
//!
//! The browser tests (`web/tests/support/stack.js`) and the ops scripts (`ops/lib/`) start
//! the same binaries with the same settings: the settings they share with this kit
//! (`nats-server`'s arguments, the default test database, the product's log level) live in
//! one file, `testkit/services.env`, which the kit compiles in and the JS and bash sides
//! read at run time. That file rather than a launcher binary: each side keeps starting
//! processes its own natural way (Node's `spawn`, a pid-file daemon in bash, `Command`
//! here), and only the settings, which are what must agree, are shared.

pub mod http;
pub mod nats;
pub mod pg_cluster;
pub mod ports;
pub mod postgres;
pub mod process;
pub mod product;
pub mod settings;
pub mod stack;
pub mod ws;

pub use http::{ApiClient, User};
pub use nats::{NatsCluster, NatsServer};
pub use pg_cluster::PostgresCluster;
pub use ports::{free_port, wait_for_port};
pub use postgres::{connect_db, TestDatabase};
pub use process::{binary, Proc};
pub use product::{start_projector, start_projector_with, Backing, GatewayProcess, TEST_SECRET};
pub use stack::ServerStack;
pub use ws::{Ended, WsClient};
