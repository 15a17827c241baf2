//! A worker process: holds its share of the connections (at most ~19.9k sockets fit in
//! one process here), schedules its share of the sends, and answers the coordinator's
//! commands with its totals.

use crate::conn::{self, now_us, ConnCmd, Counters, Shared};
use crate::plan::{Command, Progress, Report, WorkerSpec};
use crate::stats::{Latency, Recorder};
use anyhow::Context;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, Semaphore};

/// Commands queued per connection before a send counts as `not_sent`.
const CONN_QUEUE: usize = 256;

pub async fn run() -> anyhow::Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let first = lines
        .next_line()
        .await?
        .context("no worker spec on stdin")?;
    let spec: WorkerSpec = serde_json::from_str(&first).context("worker spec")?;
    let tokens = match spec.conns.iter().any(|c| c.user_id.is_some()) {
        true => Some(chat_core::tokens::Tokens::new(
            &chat_core::tokens::TokenConfig::from_env()?,
        )?),
        false => None,
    };
    let shared = Arc::new(Shared {
        target: spec.target,
        message_size: spec.message_size,
        recorder: Recorder::new(),
        storm: Recorder::new(),
        counters: Counters::default(),
        step: AtomicU32::new(u32::MAX),
    });
    let progress = tokio::spawn(report_progress(spec.worker, shared.clone()));

    // Connect everyone, a bounded number at a time.
    let gate = Arc::new(Semaphore::new(spec.connect_concurrency.max(1)));
    let connect_latency = Arc::new(Mutex::new(Latency::default()));
    let mut senders = Vec::new();
    let mut channels = Vec::new();
    for plan in spec.conns.iter().cloned() {
        let token = match (&tokens, &plan.user_id) {
            (Some(tokens), Some(user)) => {
                Some(tokens.issue(chat_schemas::UserId::parse(user).context("user id")?)?)
            }
            _ => None,
        };
        let (tx, rx) = mpsc::channel(CONN_QUEUE);
        if plan.sender {
            senders.push(channels.len());
        }
        channels.push((plan.clone(), tx));
        let shared = shared.clone();
        let gate = gate.clone();
        let connect_latency = connect_latency.clone();
        tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let started = Instant::now();
            // The permit is released once this client has joined (or failed), which the
            // counters show; the client itself runs on.
            let (joined_tx, joined_rx) = tokio::sync::oneshot::channel::<()>();
            let client = tokio::spawn(conn::run(plan, token, shared, rx, joined_tx));
            let _ = joined_rx.await;
            connect_latency
                .lock()
                .expect("latency lock")
                .record(started.elapsed().as_micros() as u64);
            drop(permit);
            let _ = client.await;
        });
    }
    let total = spec.conns.len() as u64;
    loop {
        let c = &shared.counters;
        if c.joined.load(Ordering::Relaxed) + c.failed.load(Ordering::Relaxed) >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_latency = connect_latency.lock().expect("latency lock").clone();
    emit(&Report::Ready {
        joined: shared.counters.joined.load(Ordering::Relaxed),
        failed: shared.counters.failed.load(Ordering::Relaxed),
        stats: shared.recorder.take(),
        connect_latency,
    });

    let mut numbers = vec![0u64; channels.len()];
    while let Some(line) = lines.next_line().await? {
        let command: Command = serde_json::from_str(&line).context("command")?;
        match command {
            Command::Step {
                index,
                rate,
                secs,
                drain_secs,
            } => {
                shared.step.store(index, Ordering::Relaxed);
                let _ = shared.recorder.take();
                schedule(
                    &shared,
                    &channels,
                    &senders,
                    &mut numbers,
                    index,
                    rate,
                    secs,
                )
                .await;
                drain(&shared, drain_secs).await;
                emit(&Report::StepDone {
                    index,
                    stats: shared.recorder.take(),
                });
            }
            Command::Disconnect => {
                let keepers = channels.iter().filter(|(plan, _)| plan.keeper).count() as u64;
                for (plan, tx) in &channels {
                    if !plan.keeper {
                        let _ = tx.send(ConnCmd::Disconnect).await;
                    }
                }
                let c = &shared.counters;
                let deadline = Instant::now() + Duration::from_secs(60);
                while c.connected.load(Ordering::Relaxed) > keepers && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                emit(&Report::Done {
                    stats: shared.recorder.take(),
                });
            }
            Command::KeepersSend { count } => {
                let step = u32::MAX - 1;
                shared.step.store(step, Ordering::Relaxed);
                let before = shared.counters.acked.load(Ordering::Relaxed);
                let mut owed = 0;
                for (i, (plan, tx)) in channels.iter().enumerate() {
                    if !plan.keeper {
                        continue;
                    }
                    for _ in 0..count {
                        numbers[i] += 1;
                        let n = numbers[i];
                        let sent_at_us = now_us();
                        let _ = tx
                            .send(ConnCmd::Send {
                                step,
                                n,
                                sent_at_us,
                            })
                            .await;
                        owed += 1;
                    }
                }
                let deadline = Instant::now() + Duration::from_secs(60);
                while shared.counters.acked.load(Ordering::Relaxed) < before + owed
                    && Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                emit(&Report::Done {
                    stats: shared.recorder.take(),
                });
            }
            Command::Reconnect { expect } => {
                let started_at_us = now_us();
                let dropped = channels.iter().filter(|(plan, _)| !plan.keeper).count() as u64;
                for (plan, tx) in &channels {
                    if !plan.keeper {
                        let _ = tx
                            .send(ConnCmd::Reconnect {
                                started_at_us,
                                expect,
                            })
                            .await;
                    }
                }
                let deadline = Instant::now() + Duration::from_secs(100);
                loop {
                    let done = shared.counters.resumed.load(Ordering::Relaxed);
                    let failed = shared.counters.storm_failed.load(Ordering::Relaxed);
                    if done + failed >= dropped || Instant::now() >= deadline {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                // Let clients that gave up record why.
                tokio::time::sleep(Duration::from_millis(200)).await;
                emit(&Report::Done {
                    stats: shared.storm.take(),
                });
            }
            Command::Quit => break,
        }
    }
    progress.abort();
    Ok(())
}

/// Spreads `rate` sends/s over the senders, round robin, for `secs`.
async fn schedule(
    shared: &Shared,
    channels: &[(crate::plan::ConnPlan, mpsc::Sender<ConnCmd>)],
    senders: &[usize],
    numbers: &mut [u64],
    step: u32,
    rate: f64,
    secs: f64,
) {
    if senders.is_empty() || rate <= 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        return;
    }
    let started = Instant::now();
    let start_us = now_us();
    let mut issued = 0u64;
    let mut next = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let elapsed = started.elapsed().as_secs_f64();
        if elapsed >= secs {
            break;
        }
        // Every send whose time has come: number k is due at k / rate.
        while (issued as f64) / rate <= elapsed {
            // The time this send was due, not now: a late scheduler is charged to the
            // latency, as a client that wanted to send then would see it.
            let sent_at_us = start_us + (issued as f64 / rate * 1e6) as u64;
            issued += 1;
            let i = senders[next % senders.len()];
            next += 1;
            let (plan, tx) = &channels[i];
            numbers[i] += 1;
            let command = ConnCmd::Send {
                step,
                n: numbers[i],
                sent_at_us,
            };
            if tx.try_send(command).is_err() {
                shared.recorder.not_sent(plan.idx);
            }
        }
    }
}

/// Waits until deliveries stop for two seconds (or `drain_secs` pass).
async fn drain(shared: &Shared, drain_secs: f64) {
    let deadline = Instant::now() + Duration::from_secs_f64(drain_secs);
    let mut last = shared.counters.delivered.load(Ordering::Relaxed);
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = shared.counters.delivered.load(Ordering::Relaxed);
        if now != last {
            last = now;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= Duration::from_secs(2) {
            break;
        }
    }
}

async fn report_progress(worker: u32, shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let c = &shared.counters;
        emit(&Report::Progress(Progress {
            worker,
            connected: c.connected.load(Ordering::Relaxed),
            joined: c.joined.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            acked: c.acked.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            resumed: c.resumed.load(Ordering::Relaxed),
        }));
    }
}

fn emit(report: &Report) {
    let line = serde_json::to_string(report).expect("reports serialise");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
