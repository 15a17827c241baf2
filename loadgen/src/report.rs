//! The result of a run: JSON for machines (`--json`) and a markdown table for people
//! (printed, and appended to `--markdown`).

use crate::cli::{Mode, RunArgs};
use crate::protocol::Target;
use crate::stats::{Latency, StepStats};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Serialize)]
pub struct RunResult {
    pub label: String,
    pub target: Target,
    pub mode: Mode,
    pub connections: u64,
    pub rooms: u64,
    pub room_size: u64,
    pub message_bytes: u64,
    pub workers_source_ips: String,
    pub connect: ConnectResult,
    pub rss: Option<RssResult>,
    pub steps: Vec<StepResult>,
    pub storm: Option<StormResult>,
    pub total_secs: f64,
}

#[derive(Debug, Serialize)]
pub struct ConnectResult {
    pub attempted: u64,
    pub joined: u64,
    pub failed: u64,
    pub secs: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
pub struct RssResult {
    pub before_kib: BTreeMap<u32, u64>,
    pub after_kib: BTreeMap<u32, u64>,
    /// Growth of the watched processes together, per joined connection.
    pub bytes_per_connection: f64,
}

#[derive(Debug, Serialize)]
pub struct StepResult {
    /// Sends per second asked for.
    pub rate: f64,
    pub secs: f64,
    pub sent: u64,
    pub acked: u64,
    pub refused: BTreeMap<String, u64>,
    pub not_sent: u64,
    pub deliveries: u64,
    pub unique_deliveries: u64,
    pub deliveries_per_sec: f64,
    pub duplicates: u64,
    pub lost: u64,
    pub late: u64,
    pub delivery_ms: Percentiles,
    pub ack_ms: Percentiles,
    pub errors: BTreeMap<String, u64>,
    pub http: Option<HttpResult>,
}

#[derive(Debug, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub count: u64,
}

impl From<&Latency> for Percentiles {
    fn from(l: &Latency) -> Self {
        Self {
            p50: l.ms(0.5),
            p99: l.ms(0.99),
            p999: l.ms(0.999),
            max: l.ms(1.0),
            count: l.count(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct HttpResult {
    pub issued: u64,
    pub skipped: u64,
    pub qps: f64,
    pub ms: Percentiles,
    pub statuses: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
pub struct StormResult {
    pub clients: u64,
    pub resumed: u64,
    /// Events the keepers stored while the others were away.
    pub stored_while_away: u64,
    pub replay_owed: u64,
    pub replay_received: u64,
    /// Owed events not received by clients that gave up or were told to reload history
    /// (`recovered: false`): not lost, but not replayed either.
    pub not_replayed: u64,
    /// Events missing although the server said it replayed everything.
    pub lost: u64,
    /// From the storm's start until the last client had everything.
    pub secs_to_all_resumed: f64,
    pub resume_ms: Percentiles,
    pub errors: BTreeMap<String, u64>,
}

impl RunResult {
    pub fn new(args: &RunArgs, rooms: u64, connect: ConnectResult) -> Self {
        Self {
            label: args.label.clone(),
            target: args.target,
            mode: args.mode,
            connections: args.connections as u64,
            rooms,
            room_size: args.room_size as u64,
            message_bytes: args.size as u64,
            workers_source_ips: args.source_ips.clone(),
            connect,
            rss: None,
            steps: Vec::new(),
            storm: None,
            total_secs: 0.0,
        }
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### {} ({:?}, {:?}): {} connections, {} rooms of {}, {} B messages\n",
            self.label,
            self.target,
            self.mode,
            self.connections,
            self.rooms,
            self.room_size,
            self.message_bytes
        );
        let c = &self.connect;
        let _ = writeln!(
            out,
            "Connected {}/{} in {:.1} s (connect+join p50 {:.1} ms, p99 {:.1} ms){}.\n",
            c.joined,
            c.attempted,
            c.secs,
            c.p50_ms,
            c.p99_ms,
            errors_note(&c.errors)
        );
        if let Some(rss) = self.rss.as_ref().filter(|r| !r.after_kib.is_empty()) {
            let before: u64 = rss.before_kib.values().sum();
            let after: u64 = rss.after_kib.values().sum();
            let _ = writeln!(
                out,
                "Server RSS: {} MiB before, {} MiB after: {:.0} bytes ({:.2} KiB) per connection.\n",
                before / 1024,
                after / 1024,
                rss.bytes_per_connection,
                rss.bytes_per_connection / 1024.0
            );
        }
        if !self.steps.is_empty() {
            out.push_str("| sends/s asked | sent | acked | deliveries/s | p50 ms | p99 ms | p99.9 ms | max ms | ack p50 | ack p99 | ack p99.9 | lost | dup | refused | not sent |\n");
            out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for s in &self.steps {
                let _ = writeln!(
                    out,
                    "| {:.0} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} |",
                    s.rate,
                    s.sent,
                    s.acked,
                    s.deliveries_per_sec,
                    s.delivery_ms.p50,
                    s.delivery_ms.p99,
                    s.delivery_ms.p999,
                    s.delivery_ms.max,
                    s.ack_ms.p50,
                    s.ack_ms.p99,
                    s.ack_ms.p999,
                    s.lost,
                    s.duplicates,
                    s.refused.values().sum::<u64>(),
                    s.not_sent
                );
            }
            for s in &self.steps {
                if let Some(h) = &s.http {
                    let _ = writeln!(
                        out,
                        "\n`getMessages` during the {:.0} sends/s step: {:.0} queries/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms; statuses {:?}, skipped {}.",
                        s.rate, h.qps, h.ms.p50, h.ms.p99, h.ms.p999, h.statuses, h.skipped
                    );
                }
                if !s.refused.is_empty() {
                    let _ = writeln!(out, "\nRefused at {:.0} sends/s: {:?}", s.rate, s.refused);
                }
                if !s.errors.is_empty() {
                    let _ = writeln!(out, "\nErrors at {:.0} sends/s: {:?}", s.rate, s.errors);
                }
            }
            out.push('\n');
        }
        if let Some(storm) = &self.storm {
            let _ = writeln!(out, "{}\n", storm.one_line());
        }
        out
    }
}

fn errors_note(errors: &BTreeMap<String, u64>) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!("; errors {errors:?}")
    }
}

impl RssResult {
    pub fn new(before: &BTreeMap<u32, u64>, after: &BTreeMap<u32, u64>, joined: u64) -> Self {
        let grown: i64 = after
            .iter()
            .map(|(pid, kib)| *kib as i64 - before.get(pid).copied().unwrap_or(0) as i64)
            .sum();
        Self {
            before_kib: before.clone(),
            after_kib: after.clone(),
            bytes_per_connection: (grown.max(0) as f64 * 1024.0) / joined.max(1) as f64,
        }
    }
}

impl StepResult {
    pub fn new(
        rate: f64,
        secs: f64,
        stats: &StepStats,
        members_of: impl Fn(u32) -> u64,
        http: Option<HttpResult>,
    ) -> Self {
        let unique = stats.unique_deliveries();
        Self {
            rate,
            secs,
            sent: stats.sent,
            acked: stats.acked,
            refused: stats.refused.clone(),
            not_sent: stats.not_sent,
            deliveries: stats.deliveries,
            unique_deliveries: unique,
            deliveries_per_sec: unique as f64 / secs,
            duplicates: stats.duplicates,
            lost: stats.lost(members_of),
            late: stats.late,
            delivery_ms: (&stats.delivery_latency).into(),
            ack_ms: (&stats.ack_latency).into(),
            errors: stats.errors.clone(),
            http,
        }
    }

    pub fn one_line(&self) -> String {
        format!(
            "{:.0} sends/s: {:.0} deliveries/s, p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms; ack p50 {:.1} ms p99 {:.1} ms; lost {}, dup {}, refused {:?}, not sent {}",
            self.rate,
            self.deliveries_per_sec,
            self.delivery_ms.p50,
            self.delivery_ms.p99,
            self.delivery_ms.p999,
            self.ack_ms.p50,
            self.ack_ms.p99,
            self.lost,
            self.duplicates,
            self.refused,
            self.not_sent
        )
    }
}

impl HttpResult {
    pub fn new(
        issued: u64,
        skipped: u64,
        secs: f64,
        latency: &Latency,
        statuses: BTreeMap<String, u64>,
    ) -> Self {
        Self {
            issued,
            skipped,
            qps: (issued - skipped) as f64 / secs,
            ms: latency.into(),
            statuses,
        }
    }
}

impl StormResult {
    pub fn new(stats: &StepStats, stored: u64, clients: u64, secs: f64) -> Self {
        Self {
            clients,
            resumed: stats.resumed,
            stored_while_away: stored,
            replay_owed: stats.replay_owed,
            replay_received: stats.replay_received,
            not_replayed: (stats.replay_owed - stats.replay_received)
                .saturating_sub(stats.replay_missing),
            lost: stats.replay_missing,
            secs_to_all_resumed: if stats.resumed == clients {
                stats.resume_latency.ms(1.0) / 1000.0
            } else {
                secs
            },
            resume_ms: (&stats.resume_latency).into(),
            errors: stats.errors.clone(),
        }
    }

    pub fn one_line(&self) -> String {
        format!(
            "Reconnect storm: {}/{} clients resumed with everything in {:.2} s (p50 {:.0} ms, p99 {:.0} ms); {} events stored while away, {} of {} owed replays received, {} not replayed (client gave up or was told to reload history), lost {}{}",
            self.resumed,
            self.clients,
            self.secs_to_all_resumed,
            self.resume_ms.p50,
            self.resume_ms.p99,
            self.stored_while_away,
            self.replay_received,
            self.replay_owed,
            self.not_replayed,
            self.lost,
            errors_note(&self.errors)
        )
    }
}
