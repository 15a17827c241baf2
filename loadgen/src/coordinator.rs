//! The coordinator: lays the run out, prepares the rooms (this product: through its
//! HTTP API), starts the worker processes, drives them through the scenario's phases,
//! shows progress, and merges their totals into one result.

use crate::cli::{Mode, RunArgs};
use crate::plan::{Command, ConnPlan, Progress, Report, WorkerSpec};
use crate::protocol::Target;
use crate::report::{ConnectResult, RssResult, RunResult, StepResult, StormResult};
use crate::stats::{Latency, StepStats};
use crate::{http_load, rss, setup};
use anyhow::{bail, Context};
use chat_schemas::UserId;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

/// Most connections one worker process is given (the per-process limit is 20,000 files).
const PER_WORKER_MAX: usize = 15_000;

struct Worker {
    child: Child,
    stdin: ChildStdin,
}

pub async fn run(args: RunArgs) -> anyhow::Result<RunResult> {
    let started = Instant::now();
    let rooms = args.connections.div_ceil(args.room_size);
    let mut users = Vec::new();
    if args.mode == Mode::Storm && args.target != Target::Chat {
        bail!("the reconnect storm resumes over /ws: --target chat only");
    }
    let room_ids = match args.target {
        Target::Chat | Target::ChatSocketio => {
            users = (0..args.connections).map(|_| UserId::generate()).collect();
            let owner = UserId::generate();
            users.push(owner);
            setup::create_accounts(&args.label, &users).await?;
            users.pop();
            setup::create_rooms(&args, owner, rooms).await?
        }
        // Ids as long as this product's, so that the peers' frames are as long too.
        _ => (0..rooms)
            .map(|_| uuid::Uuid::new_v4().to_string())
            .collect(),
    };
    let plans = layout(&args, &room_ids, &users)?;
    let members: HashMap<u32, u64> = plans.iter().fold(HashMap::new(), |mut m, p| {
        *m.entry(p.room).or_default() += 1;
        m
    });
    let rss_before = rss::sample(&args.watch_pid);

    let workers_n = args
        .workers
        .unwrap_or_else(|| plans.len().div_ceil(PER_WORKER_MAX))
        .max(1);
    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let mut workers = Vec::new();
    let chunk = plans.len().div_ceil(workers_n);
    for (w, conns) in plans.chunks(chunk.max(1)).enumerate() {
        let spec = WorkerSpec {
            worker: w as u32,
            target: args.target,
            message_size: args.size,
            connect_concurrency: args.connect_concurrency,
            conns: conns.to_vec(),
        };
        workers.push(spawn_worker(&spec, reports_tx.clone()).await?);
    }
    drop(reports_tx);
    let n_workers = workers.len();

    let bar = progress_bar(&args, plans.len() as u64);
    bar.set_message("connecting");
    let connect_started = Instant::now();
    let mut progress: HashMap<u32, Progress> = HashMap::new();
    let mut connect_stats = StepStats::default();
    let mut connect_latency = Latency::default();
    let mut ready = 0;
    let mut joined = 0;
    while ready < n_workers {
        match next_report(&mut reports, &bar, &mut progress).await? {
            Report::Ready {
                joined: j,
                stats,
                connect_latency: l,
                ..
            } => {
                connect_stats.merge(&stats);
                connect_latency.merge(&l);
                joined += j;
                ready += 1;
            }
            other => bail!("unexpected report while connecting: {other:?}"),
        }
    }
    let connect = ConnectResult {
        attempted: plans.len() as u64,
        joined,
        failed: plans.len() as u64 - joined.min(plans.len() as u64),
        secs: connect_started.elapsed().as_secs_f64(),
        p50_ms: connect_latency.ms(0.5),
        p99_ms: connect_latency.ms(0.99),
        errors: connect_stats.errors.clone(),
    };
    bar.println(format!(
        "connected {}/{} in {:.1}s ({} failed)",
        connect.joined, connect.attempted, connect.secs, connect.failed
    ));

    let mut result = RunResult::new(&args, rooms as u64, connect);
    match args.mode {
        Mode::Idle => {
            bar.set_message(format!("holding {} s", args.hold_secs));
            tokio::time::sleep(Duration::from_secs_f64(args.hold_secs)).await;
            let rss_after = rss::sample(&args.watch_pid);
            result.rss = Some(RssResult::new(&rss_before, &rss_after, joined));
        }
        Mode::Traffic => {
            let senders = plans.iter().filter(|p| p.sender).count().max(1) as f64;
            for (index, rate) in args.rates.iter().copied().enumerate() {
                bar.set_message(format!("step {}: {rate} sends/s", index + 1));
                let http = match (args.http_qps, args.target) {
                    (Some(qps), target) if qps > 0.0 && target.is_product() => {
                        Some(http_load::start(&args, &plans, qps, args.step_secs)?)
                    }
                    _ => None,
                };
                for (w, worker) in workers.iter_mut().enumerate() {
                    let share = plans_in(&plans, w, chunk)
                        .iter()
                        .filter(|p| p.sender)
                        .count() as f64;
                    let command = Command::Step {
                        index: index as u32,
                        rate: rate * share / senders,
                        secs: args.step_secs,
                        drain_secs: args.drain_secs,
                    };
                    send_command(worker, &command).await?;
                }
                let stats = collect(&mut reports, &bar, &mut progress, n_workers).await?;
                let http = match http {
                    Some(task) => Some(task.await??),
                    None => None,
                };
                let step = StepResult::new(
                    rate,
                    args.step_secs,
                    &stats,
                    |room| members.get(&room).copied().unwrap_or(0),
                    http,
                );
                bar.println(step.one_line());
                result.steps.push(step);
                result.rss = Some(RssResult::new(
                    &rss_before,
                    &rss::sample(&args.watch_pid),
                    joined,
                ));
            }
        }
        Mode::Storm => {
            bar.set_message("storm: disconnecting");
            broadcast(&mut workers, &Command::Disconnect).await?;
            collect(&mut reports, &bar, &mut progress, n_workers).await?;
            bar.set_message("storm: keepers send what the others miss");
            broadcast(&mut workers, &Command::KeepersSend { count: args.missed }).await?;
            let sent = collect(&mut reports, &bar, &mut progress, n_workers).await?;
            bar.set_message("storm: everyone reconnects and resumes");
            let storm_started = Instant::now();
            broadcast(
                &mut workers,
                &Command::Reconnect {
                    expect: args.missed,
                },
            )
            .await?;
            let stats = collect(&mut reports, &bar, &mut progress, n_workers).await?;
            let storm = StormResult::new(
                &stats,
                sent.acked,
                plans.iter().filter(|p| !p.keeper).count() as u64,
                storm_started.elapsed().as_secs_f64(),
            );
            bar.println(storm.one_line());
            result.storm = Some(storm);
        }
    }
    broadcast(&mut workers, &Command::Quit).await?;
    for worker in &mut workers {
        let _ = tokio::time::timeout(Duration::from_secs(10), worker.child.wait()).await;
        let _ = worker.child.start_kill();
    }
    bar.finish_and_clear();
    result.total_secs = started.elapsed().as_secs_f64();
    Ok(result)
}

/// Which connection is where: room `i / room_size`; a room's server is `urls[room % n]`
/// (so a peer without cross-process fan-out keeps each room in one process); source
/// addresses in turn.
fn layout(args: &RunArgs, room_ids: &[String], users: &[UserId]) -> anyhow::Result<Vec<ConnPlan>> {
    if args.urls.is_empty() {
        bail!("--url is required");
    }
    let ips = crate::cli::source_ips(&args.source_ips)?;
    let senders_per_room = args.senders_per_room.unwrap_or(args.room_size);
    Ok((0..args.connections)
        .map(|i| {
            let room = i / args.room_size;
            let member = i % args.room_size;
            ConnPlan {
                idx: i as u32,
                room: room as u32,
                room_id: room_ids[room].clone(),
                url: args.urls[room % args.urls.len()].clone(),
                source_ip: ips[i % ips.len()],
                user_id: users.get(i).map(UserId::to_string),
                sender: member < senders_per_room,
                keeper: member == 0,
            }
        })
        .collect())
}

fn plans_in(plans: &[ConnPlan], worker: usize, chunk: usize) -> &[ConnPlan] {
    let start = (worker * chunk).min(plans.len());
    let end = ((worker + 1) * chunk).min(plans.len());
    &plans[start..end]
}

async fn spawn_worker(
    spec: &WorkerSpec,
    reports: mpsc::UnboundedSender<(u32, Report)>,
) -> anyhow::Result<Worker> {
    let exe = std::env::current_exe().context("own executable")?;
    let mut child = tokio::process::Command::new(exe)
        .arg("worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting a worker")?;
    let mut stdin = child.stdin.take().context("worker stdin")?;
    let stdout = child.stdout.take().context("worker stdout")?;
    let mut line = serde_json::to_string(spec)?;
    line.push('\n');
    stdin.write_all(line.as_bytes()).await?;
    stdin.flush().await?;
    let worker_id = spec.worker;
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            match serde_json::from_str::<Report>(&line) {
                Ok(report) => {
                    if reports.send((worker_id, report)).is_err() {
                        break;
                    }
                }
                Err(e) => eprintln!("worker {worker_id}: unreadable report ({e}): {line}"),
            }
        }
    });
    Ok(Worker { child, stdin })
}

async fn send_command(worker: &mut Worker, command: &Command) -> anyhow::Result<()> {
    let mut line = serde_json::to_string(command)?;
    line.push('\n');
    worker.stdin.write_all(line.as_bytes()).await?;
    worker.stdin.flush().await?;
    Ok(())
}

async fn broadcast(workers: &mut [Worker], command: &Command) -> anyhow::Result<()> {
    for worker in workers {
        send_command(worker, command).await?;
    }
    Ok(())
}

/// The next report that is not progress (progress updates the bar on the way).
async fn next_report(
    reports: &mut mpsc::UnboundedReceiver<(u32, Report)>,
    bar: &ProgressBar,
    progress: &mut HashMap<u32, Progress>,
) -> anyhow::Result<Report> {
    loop {
        let (worker, report) = reports
            .recv()
            .await
            .context("a worker exited before reporting")?;
        match report {
            Report::Progress(p) => {
                progress.insert(worker, p);
                let sum = |f: fn(&Progress) -> u64| progress.values().map(f).sum::<u64>();
                bar.set_position(sum(|p| p.joined) + sum(|p| p.failed));
                bar.set_prefix(format!(
                    "open {} sent {} acked {} delivered {} resumed {}",
                    sum(|p| p.connected),
                    sum(|p| p.sent),
                    sum(|p| p.acked),
                    sum(|p| p.delivered),
                    sum(|p| p.resumed),
                ));
            }
            other => return Ok(other),
        }
    }
}

/// Waits for every worker's answer to the last command and merges them.
async fn collect(
    reports: &mut mpsc::UnboundedReceiver<(u32, Report)>,
    bar: &ProgressBar,
    progress: &mut HashMap<u32, Progress>,
    workers: usize,
) -> anyhow::Result<StepStats> {
    let mut total = StepStats::default();
    for _ in 0..workers {
        match next_report(reports, bar, progress).await? {
            Report::StepDone { stats, .. } | Report::Done { stats } => total.merge(&stats),
            other => bail!("unexpected report: {other:?}"),
        }
    }
    Ok(total)
}

fn progress_bar(args: &RunArgs, len: u64) -> ProgressBar {
    if args.no_progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} joined · {msg} · {prefix}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}
