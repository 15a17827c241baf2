//! `getMessages` queries at a fixed rate (open loop: a slow answer does not delay the
//! next query), each as a member of the room it reads, with its latency recorded.

use crate::cli::RunArgs;
use crate::plan::ConnPlan;
use crate::report::HttpResult;
use crate::stats::Latency;
use chat_schemas::UserId;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Queries in flight at most; beyond it a query is counted as skipped.
const MAX_IN_FLIGHT: usize = 512;

pub fn start(
    args: &RunArgs,
    plans: &[ConnPlan],
    qps: f64,
    secs: f64,
) -> anyhow::Result<JoinHandle<anyhow::Result<HttpResult>>> {
    let tokens = crate::setup::tokens()?;
    // One reader per room: its first member.
    let mut readers = Vec::new();
    for plan in plans.iter().filter(|p| p.keeper) {
        let user = UserId::parse(plan.user_id.as_deref().unwrap_or_default())?;
        readers.push((plan.room_id.clone(), tokens.issue(user)?));
    }
    let base = format!("{}/getMessages", args.api.trim_end_matches('/'));
    Ok(tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(MAX_IN_FLIGHT)
            .build()?;
        let latency = Arc::new(Mutex::new(Latency::default()));
        let statuses = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
        let gate = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
        let started = Instant::now();
        let mut issued = 0u64;
        let mut skipped = 0u64;
        let mut tasks = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        while started.elapsed().as_secs_f64() < secs {
            tick.tick().await;
            let due = (qps * started.elapsed().as_secs_f64()) as u64;
            while issued < due {
                let (room, token) = &readers[issued as usize % readers.len()];
                issued += 1;
                let Ok(permit) = gate.clone().try_acquire_owned() else {
                    skipped += 1;
                    continue;
                };
                let request = client
                    .get(&base)
                    .query(&[("roomId", room.as_str()), ("limit", "50")])
                    .bearer_auth(token);
                let (latency, statuses) = (latency.clone(), statuses.clone());
                tasks.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let outcome = match request.send().await {
                        Ok(answer) => {
                            let status = answer.status().as_u16().to_string();
                            let _ = answer.bytes().await;
                            status
                        }
                        Err(_) => "transport_error".to_owned(),
                    };
                    let us = sent.elapsed().as_micros() as u64;
                    if outcome == "200" {
                        latency.lock().expect("latency").record(us);
                    }
                    *statuses
                        .lock()
                        .expect("statuses")
                        .entry(outcome)
                        .or_default() += 1;
                    drop(permit);
                }));
            }
        }
        for task in tasks {
            let _ = task.await;
        }
        let latency = latency.lock().expect("latency").clone();
        let statuses = statuses.lock().expect("statuses").clone();
        Ok(HttpResult::new(issued, skipped, secs, &latency, statuses))
    }))
}
