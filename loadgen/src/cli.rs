//! The command line: `chat-load run` (the coordinator), `chat-load backlog` (projector
//! catch-up), `chat-load hostile` (an attack mixed into a soak) and the internal
//! `chat-load worker`.

use crate::protocol::Target;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "chat-load",
    version,
    about = "Load generator for the chat platform and its peers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: CliCommand,
}

#[derive(Subcommand, Debug)]
pub enum CliCommand {
    /// Run a scenario: connect, then hold (idle), send in steps (traffic), or storm.
    Run(RunArgs),
    /// Projector throughput: publish a backlog of message events while the projector is
    /// stopped, then time its catch-up once it is started.
    Backlog(crate::backlog::BacklogArgs),
    /// Two free accounts attack: stalled replays and failed logins; the servers' memory
    /// must come back (see `ops/soak`).
    Hostile(crate::hostile::HostileArgs),
    /// Internal: one worker process of `run` (reads its plan from stdin).
    #[command(hide = true)]
    Worker,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Connect everyone, hold for `--hold-secs`, sample the servers' memory.
    Idle,
    /// Send at each of `--rates` for `--step-secs`, measuring deliveries and latency.
    Traffic,
    /// Reconnect storm: all but one client per room drop, the rest send `--missed`
    /// messages, everyone reconnects at once and resumes.
    Storm,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// A name for this run in the report.
    #[arg(long, default_value = "run")]
    pub label: String,
    #[arg(long, value_enum, default_value = "chat")]
    pub target: Target,
    #[arg(long, value_enum, default_value = "traffic")]
    pub mode: Mode,
    /// Server base URLs (comma-separated or repeated); room r goes to url[r % n].
    #[arg(long = "url", value_delimiter = ',', required = true)]
    pub urls: Vec<String>,
    /// This product's HTTP API (room creation, `getMessages` load).
    #[arg(long, default_value = "http://127.0.0.1:8081")]
    pub api: String,
    #[arg(long, default_value_t = 1000)]
    pub connections: usize,
    #[arg(long, default_value_t = 10)]
    pub room_size: usize,
    /// Members of each room that send (default: all).
    #[arg(long)]
    pub senders_per_room: Option<usize>,
    /// Total sends per second of each traffic step (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    pub rates: Vec<f64>,
    #[arg(long, default_value_t = 10.0)]
    pub step_secs: f64,
    /// Longest wait after a step for deliveries to settle (it ends earlier once nothing
    /// arrived for 2 s); a delivery later than this counts as lost.
    #[arg(long, default_value_t = 30.0)]
    pub drain_secs: f64,
    /// Message size in bytes.
    #[arg(long, default_value_t = 100)]
    pub size: usize,
    /// Worker processes (default: one per 15,000 connections).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Source addresses: a list (`127.0.0.2,127.0.0.3`) or a range (`127.0.0.2-127.0.0.9`).
    #[arg(long, default_value = "127.0.0.1")]
    pub source_ips: String,
    /// Connections each worker opens at once.
    #[arg(long, default_value_t = 200)]
    pub connect_concurrency: usize,
    /// Idle mode: how long to hold the connections before sampling memory.
    #[arg(long, default_value_t = 5.0)]
    pub hold_secs: f64,
    /// Processes whose resident memory is sampled before and after (repeatable).
    #[arg(long = "watch-pid", value_delimiter = ',')]
    pub watch_pid: Vec<u32>,
    /// Storm mode: messages each room's keeper sends while the others are away.
    #[arg(long, default_value_t = 5)]
    pub missed: u64,
    /// Traffic mode, this product: `getMessages` queries per second during each step.
    #[arg(long)]
    pub http_qps: Option<f64>,
    /// Write the result as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Append the result's markdown table here.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    #[arg(long)]
    pub no_progress: bool,
}

/// Parses `--source-ips`.
pub fn source_ips(spec: &str) -> anyhow::Result<Vec<IpAddr>> {
    let mut ips = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => {
                let from: Ipv4Addr = from.parse()?;
                let to: Ipv4Addr = to.parse()?;
                let (a, b) = (u32::from(from), u32::from(to));
                anyhow::ensure!(a <= b && b - a < 256, "bad source range {part}");
                ips.extend((a..=b).map(|ip| IpAddr::V4(Ipv4Addr::from(ip))));
            }
            None => ips.push(part.parse()?),
        }
    }
    anyhow::ensure!(!ips.is_empty(), "no source addresses");
    Ok(ips)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ranges_expand_and_bad_ones_are_refused() {
        assert_eq!(source_ips("127.0.0.2-127.0.0.4").unwrap().len(), 3);
        assert_eq!(source_ips("127.0.0.1,127.0.0.9").unwrap().len(), 2);
        assert!(source_ips("127.0.0.9-127.0.0.2").is_err());
        assert!(source_ips("nonsense").is_err());
        assert!(source_ips("").is_err());
    }
}
