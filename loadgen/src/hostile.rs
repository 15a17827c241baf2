//! `chat-load hostile`: what two free accounts can throw at a deployment, for `ops/soak`.
//!
//! One account fills a public room with large messages; then, at once,
//! - `--stalled-replays` WebSockets (of both accounts) `join` that room from `lastSeq: 0`
//!   and never read (a tiny receive buffer, so the server's writes stall at once), for
//!   `--hold-secs`, and
//! - `--failed-logins` logins with usernames that do not exist, `--login-concurrency` at a
//!   time (each costs the server a password hash unless a limit refuses it first).
//!
//! The resident memory of every `--watch-pid` is sampled before, during and after; the run
//! fails unless each returns to within `--memory-slack-mib` of where it started within
//! `--recover-secs` of the attack's end. What the other users felt meanwhile is in the
//! traffic report of the run this attack was mixed into (`ops/soak` names the steps).

use anyhow::{bail, Context};
use chat_schemas::UserId;
use clap::Args;
use futures::{stream, SinkExt, StreamExt};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::rss;
use crate::setup;

#[derive(Args, Debug, Clone)]
pub struct HostileArgs {
    /// A name for this attack in the report.
    #[arg(long, default_value = "hostile")]
    pub label: String,
    /// The gateway the stalled sockets connect to.
    #[arg(long)]
    pub url: String,
    /// The HTTP API (room, messages, logins).
    #[arg(long, default_value = "http://127.0.0.1:8081")]
    pub api: String,
    #[arg(long, default_value_t = 30)]
    pub stalled_replays: usize,
    #[arg(long, default_value_t = 500)]
    pub failed_logins: usize,
    #[arg(long, default_value_t = 50)]
    pub login_concurrency: usize,
    /// Messages in the room the stalled sockets replay.
    #[arg(long, default_value_t = 1_000)]
    pub room_messages: usize,
    /// Characters per message (the server's limit is 4,000).
    #[arg(long, default_value_t = 3_900)]
    pub message_chars: usize,
    /// How long the stalled sockets stay open without reading.
    #[arg(long, default_value_t = 20)]
    pub hold_secs: u64,
    /// How long memory may take to come back after the attack.
    #[arg(long, default_value_t = 30)]
    pub recover_secs: u64,
    #[arg(long, default_value_t = 100)]
    pub memory_slack_mib: u64,
    /// Server processes whose memory is watched (repeatable or comma-separated).
    #[arg(long = "watch-pid", value_delimiter = ',')]
    pub watch_pids: Vec<u32>,
    /// Source address of the stalled sockets.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 20)))]
    pub source_ip: IpAddr,
    #[arg(long)]
    pub json: Option<PathBuf>,
    #[arg(long)]
    pub markdown: Option<PathBuf>,
}

/// What happened to each watched process's memory.
#[derive(Debug, Serialize)]
pub struct MemoryTrace {
    pub pid: u32,
    pub before_kib: u64,
    pub peak_kib: u64,
    pub after_kib: u64,
    /// Seconds after the attack's end until RSS was within the slack; `None` if never.
    pub returned_after_secs: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct HostileResult {
    pub label: String,
    pub stalled_replays: usize,
    /// How each stalled socket ended: `closed 4008`, `still open`, `refused: ...`.
    pub stalled_outcomes: BTreeMap<String, usize>,
    pub failed_logins: usize,
    /// Login answers by HTTP status.
    pub login_statuses: BTreeMap<String, usize>,
    pub attack_secs: f64,
    pub memory: Vec<MemoryTrace>,
    pub memory_slack_mib: u64,
    pub recover_secs: u64,
}

impl HostileResult {
    pub fn passed(&self) -> bool {
        self.memory.iter().all(|m| m.returned_after_secs.is_some())
    }

    pub fn markdown(&self) -> String {
        let mut md = format!(
            "\n## Hostile phase `{}`\n\n{} stalled replay sockets ({}), {} failed logins ({}), {:.1} s.\n\n\
             | pid | RSS before | peak | after | back within {} MiB after |\n|---|---|---|---|---|\n",
            self.label,
            self.stalled_replays,
            describe(&self.stalled_outcomes),
            self.failed_logins,
            describe(&self.login_statuses),
            self.attack_secs,
            self.memory_slack_mib,
        );
        for m in &self.memory {
            md += &format!(
                "| {} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {} |\n",
                m.pid,
                m.before_kib as f64 / 1024.0,
                m.peak_kib as f64 / 1024.0,
                m.after_kib as f64 / 1024.0,
                m.returned_after_secs.map_or_else(
                    || format!("**not within {} s**", self.recover_secs),
                    |s| format!("{s:.1} s")
                ),
            );
        }
        md
    }
}

fn describe(counts: &BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn run(args: HostileArgs) -> anyhow::Result<HostileResult> {
    let (owner, other) = (UserId::generate(), UserId::generate());
    setup::create_accounts(&args.label, &[owner, other]).await?;
    let tokens = setup::tokens()?;
    let (owner_token, other_token) = (tokens.issue(owner)?, tokens.issue(other)?);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let name = format!("{} replay target", args.label);
    let room = setup::create_room(&http, &args.api, &owner_token, &name).await?;
    fill_room(&http, &args, &owner, &owner_token, &room).await?;

    let before = rss::sample(&args.watch_pids);
    let started = Instant::now();
    let mut peak = before.clone();
    let sockets = stream::iter(0..args.stalled_replays)
        .map(|i| {
            let token = if i % 2 == 0 {
                &owner_token
            } else {
                &other_token
            };
            stall(&args, token.clone(), room.clone())
        })
        .buffer_unordered(args.stalled_replays.max(1));
    let logins = failed_logins(&http, &args);
    let watch = async {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            record_peak(&mut peak, &rss::sample(&args.watch_pids));
        }
    };
    let (outcomes, statuses) = tokio::select! {
        both = async { tokio::join!(sockets.collect::<Vec<String>>(), logins) } => both,
        _ = watch => unreachable!("the watch loop never ends"),
    };
    let attack_secs = started.elapsed().as_secs_f64();

    let ended = Instant::now();
    let slack = args.memory_slack_mib * 1024;
    let mut returned: BTreeMap<u32, f64> = BTreeMap::new();
    let mut after = rss::sample(&args.watch_pids);
    while ended.elapsed() < Duration::from_secs(args.recover_secs) {
        after = rss::sample(&args.watch_pids);
        record_peak(&mut peak, &after);
        for (pid, kib) in &after {
            if *kib <= before.get(pid).copied().unwrap_or(0) + slack {
                returned
                    .entry(*pid)
                    .or_insert(ended.elapsed().as_secs_f64());
            }
        }
        if returned.len() == args.watch_pids.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let memory = args
        .watch_pids
        .iter()
        .map(|pid| MemoryTrace {
            pid: *pid,
            before_kib: before.get(pid).copied().unwrap_or(0),
            peak_kib: peak.get(pid).copied().unwrap_or(0),
            after_kib: after.get(pid).copied().unwrap_or(0),
            returned_after_secs: returned.get(pid).copied(),
        })
        .collect();
    Ok(HostileResult {
        label: args.label.clone(),
        stalled_replays: args.stalled_replays,
        stalled_outcomes: tally(outcomes),
        failed_logins: args.failed_logins,
        login_statuses: tally(statuses?),
        attack_secs,
        memory,
        memory_slack_mib: args.memory_slack_mib,
        recover_secs: args.recover_secs,
    })
}

fn record_peak(peak: &mut BTreeMap<u32, u64>, now: &BTreeMap<u32, u64>) {
    for (pid, kib) in now {
        let p = peak.entry(*pid).or_default();
        *p = (*p).max(*kib);
    }
}

fn tally(items: Vec<String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(item).or_default() += 1;
    }
    counts
}

async fn fill_room(
    http: &reqwest::Client,
    args: &HostileArgs,
    owner: &UserId,
    token: &str,
    room: &str,
) -> anyhow::Result<()> {
    let url = format!("{}/sendMessage", args.api.trim_end_matches('/'));
    let text = "x".repeat(args.message_chars);
    let sent: Vec<anyhow::Result<()>> = stream::iter(0..args.room_messages)
        .map(|i| {
            let body = json!({
                "roomId": room, "senderId": owner.to_string(), "message": text,
                "timestamp": crate::conn::now_us() / 1000, "clientMsgId": format!("fill-{i}"),
            });
            let request = http.post(&url).bearer_auth(token).json(&body);
            async move {
                let answer = request.send().await.context("POST /sendMessage")?;
                if !answer.status().is_success() {
                    bail!("POST /sendMessage answered {}", answer.status());
                }
                Ok(())
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    sent.into_iter().collect()
}

/// One socket that joins from `lastSeq: 0` and reads nothing for `hold_secs`; answers how
/// it ended.
async fn stall(args: &HostileArgs, token: String, room: String) -> String {
    match stall_inner(args, token, room).await {
        Ok(outcome) => outcome,
        Err(e) => format!(
            "refused: {}",
            e.to_string().chars().take(60).collect::<String>()
        ),
    }
}

async fn stall_inner(args: &HostileArgs, token: String, room: String) -> anyhow::Result<String> {
    let ws_url = format!(
        "{}/ws",
        args.url.trim_end_matches('/').replacen("http", "ws", 1)
    );
    let mut request = ws_url.as_str().into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    // A receive window of a few KiB: the server's writes stall after the first frames.
    let stream = crate::conn::tcp_to(&request, args.source_ip, Some(4 * 1024)).await?;
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
    let (mut socket, _) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    socket
        .send(Message::text(
            json!({"type": "join", "id": "j", "roomId": room, "lastSeq": 0}).to_string(),
        ))
        .await?;
    tokio::time::sleep(Duration::from_secs(args.hold_secs)).await;
    // Now read what is there, briefly, to learn whether the server closed us.
    let outcome = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(Some(frame))) => {
                    return format!("closed {}", u16::from(frame.code))
                }
                Ok(Message::Close(None)) => return "closed".to_owned(),
                Ok(_) => {}
                Err(_) => return "closed (reset)".to_owned(),
            }
        }
        "closed (eof)".to_owned()
    })
    .await
    .unwrap_or_else(|_| "still open".to_owned());
    Ok(outcome)
}

async fn failed_logins(http: &reqwest::Client, args: &HostileArgs) -> anyhow::Result<Vec<String>> {
    let url = format!("{}/auth/login", args.api.trim_end_matches('/'));
    let statuses = stream::iter(0..args.failed_logins)
        .map(|_| {
            let body = json!({
                "username": format!("nobody-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
                "password": "not the password",
            });
            let request = http.post(&url).json(&body);
            async move {
                match request.send().await {
                    Ok(answer) => answer.status().as_u16().to_string(),
                    Err(e) if e.is_timeout() => "timeout".to_owned(),
                    Err(_) => "connection error".to_owned(),
                }
            }
        })
        .buffer_unordered(args.login_concurrency.max(1))
        .collect()
        .await;
    Ok(statuses)
}
