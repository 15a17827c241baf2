//! The layout of a run (which connection is in which room, on which server, from which
//! source address, in which worker process) and the messages between the coordinator and
//! its workers: one JSON object per line, commands on the worker's stdin, reports on its
//! stdout.

use crate::protocol::Target;
use crate::stats::{Latency, StepStats};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One simulated client.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnPlan {
    /// Index over the whole run; it numbers the client's messages.
    pub idx: u32,
    /// Index of its room over the whole run.
    pub room: u32,
    /// The room's id as the server knows it.
    pub room_id: String,
    /// Base URL of the server it connects to (`http://host:port`).
    pub url: String,
    pub source_ip: IpAddr,
    /// The user it authenticates as (this product only): the worker mints the token.
    pub user_id: Option<String>,
    /// Whether it sends in measured steps.
    pub sender: bool,
    /// In a reconnect storm, stays connected and sends what the others miss.
    pub keeper: bool,
}

/// Everything a worker process needs, sent as its first stdin line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerSpec {
    pub worker: u32,
    pub target: Target,
    pub message_size: usize,
    /// Connections opened at once while connecting.
    pub connect_concurrency: usize,
    pub conns: Vec<ConnPlan>,
}

/// What the coordinator asks a worker to do next.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Send at `rate` messages/s (this worker's share) for `secs`, then wait up to
    /// `drain_secs` for deliveries to settle, and report.
    Step {
        index: u32,
        rate: f64,
        secs: f64,
        drain_secs: f64,
    },
    /// Reconnect storm, part 1: every client but the keepers drops its socket.
    Disconnect,
    /// Part 2: each keeper sends `count` messages and waits for their acks.
    KeepersSend {
        count: u64,
    },
    /// Part 3: every dropped client reconnects at once and resumes; `expect` events owed.
    Reconnect {
        expect: u64,
    },
    Quit,
}

/// What a worker tells the coordinator. (Externally tagged: an internally tagged enum
/// would buffer its content, and serde cannot then read the numeric map keys of
/// [`StepStats`].)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    Progress(Progress),
    /// Every connection has joined or failed.
    Ready {
        joined: u64,
        failed: u64,
        stats: StepStats,
        connect_latency: Latency,
    },
    StepDone {
        index: u32,
        stats: StepStats,
    },
    Done {
        stats: StepStats,
    },
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Progress {
    pub worker: u32,
    pub connected: u64,
    pub joined: u64,
    pub failed: u64,
    pub sent: u64,
    pub acked: u64,
    pub delivered: u64,
    pub resumed: u64,
}
