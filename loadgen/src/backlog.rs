//! Projector throughput: with the projector stopped, publish rooms and a backlog of
//! message events into JetStream (the same events a gateway publishes, pipelined), then
//! start the projector and time how long it takes to apply them all, sampling its
//! checkpoint every second. Needs `NATS_URL` and `DATABASE_URL` (the projector started
//! here inherits the environment).

use crate::report::Percentiles;
use anyhow::{bail, Context};
use chat_core::eventlog::{subjects, EventLog, NatsConfig, PublishOptions, StreamKind};
use chat_schemas::events::{Envelope, EventBody, RoomKind, Visibility};
use chat_schemas::{MessageId, RoomId, UserId};
use clap::Args;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Args, Debug, Clone)]
pub struct BacklogArgs {
    /// Message events to publish.
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Rooms they are spread over.
    #[arg(long, default_value_t = 100)]
    pub rooms: u64,
    #[arg(long, default_value_t = 100)]
    pub size: usize,
    /// PubAcks awaited at once while publishing.
    #[arg(long, default_value_t = 1000)]
    pub in_flight: usize,
    /// The projector executable, started once the backlog is stored.
    #[arg(long)]
    pub projector: PathBuf,
    /// Give up waiting for the catch-up after this long.
    #[arg(long, default_value_t = 600.0)]
    pub timeout_secs: f64,
    #[arg(long)]
    pub json: Option<PathBuf>,
    #[arg(long)]
    pub markdown: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct BacklogResult {
    pub events: u64,
    pub rooms: u64,
    pub publish_secs: f64,
    pub publish_per_sec: f64,
    pub catch_up_secs: f64,
    pub events_per_sec: f64,
    /// Events applied in each whole second of the catch-up.
    pub per_second: Vec<u64>,
    pub per_second_ms: Option<Percentiles>,
}

impl BacklogResult {
    pub fn markdown(&self) -> String {
        let steady: Vec<u64> = self.per_second.iter().copied().skip(1).collect();
        let min = steady.iter().min().copied().unwrap_or(0);
        format!(
            "### Projector catch-up: {} message events in {} rooms\n\nPublished in {:.1} s ({:.0} events/s). The projector applied them in {:.2} s: {:.0} events/s on average, slowest whole second after the first {} events.\n\n",
            self.events, self.rooms, self.publish_secs, self.publish_per_sec, self.catch_up_secs, self.events_per_sec, min
        )
    }
}

pub async fn run(args: BacklogArgs) -> anyhow::Result<BacklogResult> {
    let log = EventLog::connect(&NatsConfig::from_env()?, "chat-load-backlog").await?;
    log.ensure_streams().await?;
    let stream = log.settings().name(StreamKind::Rooms).to_owned();
    let actor = UserId::generate();
    let rooms: Vec<RoomId> = (0..args.rooms).map(|_| RoomId::generate()).collect();
    let text = "x".repeat(args.size);

    let published = Instant::now();
    let mut pending = FuturesUnordered::new();
    let mut last_seq = 0u64;
    let total = args.rooms + args.events;
    for i in 0..total {
        let (room, body) = if i < args.rooms {
            let room = &rooms[i as usize];
            let body = EventBody::RoomCreated {
                name: format!("backlog-{i}"),
                visibility: Visibility::Public,
                kind: RoomKind::Group,
                members: Vec::new(),
            };
            (room, body)
        } else {
            let room = &rooms[(i % args.rooms) as usize];
            let body = EventBody::MessagePosted {
                message_id: MessageId::generate(),
                message: text.clone(),
                client_timestamp: None,
                client_msg_id: None,
            };
            (room, body)
        };
        let event = Envelope::room(actor, room.clone(), body);
        let ack = log
            .enqueue(subjects::room(room), &event, PublishOptions::default())
            .await
            .context("publish")?;
        pending.push(ack);
        while pending.len() >= args.in_flight {
            last_seq = last_seq.max(pending.next().await.expect("pending")?.seq);
        }
    }
    while let Some(ack) = pending.next().await {
        last_seq = last_seq.max(ack?.seq);
    }
    let publish_secs = published.elapsed().as_secs_f64();
    eprintln!("published {total} events in {publish_secs:.1} s; starting the projector");

    let (db, connection) = tokio_postgres::connect(
        &chat_core::database::DatabaseConfig::from_env()?.url,
        tokio_postgres::NoTls,
    )
    .await
    .context("DATABASE_URL")?;
    tokio::spawn(connection);
    let checkpoint = || async {
        let row = db
            .query_one(
                "SELECT coalesce(min(last_seq), 0) FROM projector_checkpoints WHERE stream LIKE $1 || '%'",
                &[&stream],
            )
            .await?;
        Ok::<u64, tokio_postgres::Error>(row.get::<_, i64>(0) as u64)
    };
    // On a fresh database the projector creates the table when it starts.
    let start_seq = checkpoint().await.unwrap_or(0);
    let mut projector = tokio::process::Command::new(&args.projector)
        .kill_on_drop(true)
        .spawn()
        .context("starting the projector")?;
    let started = Instant::now();
    let mut per_second = Vec::new();
    let mut previous = start_seq;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut next_second = Duration::from_secs(1);
    let caught_up = loop {
        tick.tick().await;
        let now = checkpoint().await.unwrap_or(previous);
        if started.elapsed() >= next_second {
            per_second.push(now.saturating_sub(previous));
            previous = now;
            next_second += Duration::from_secs(1);
        }
        if now >= last_seq {
            break started.elapsed();
        }
        if let Some(status) = projector.try_wait()? {
            bail!("the projector exited: {status}");
        }
        if started.elapsed().as_secs_f64() > args.timeout_secs {
            bail!(
                "not caught up after {} s (checkpoint {now} of {last_seq})",
                args.timeout_secs
            );
        }
    };
    let _ = projector.start_kill();
    let _ = projector.wait().await;
    let catch_up_secs = caught_up.as_secs_f64();
    Ok(BacklogResult {
        events: args.events,
        rooms: args.rooms,
        publish_secs,
        publish_per_sec: total as f64 / publish_secs,
        catch_up_secs,
        events_per_sec: total as f64 / catch_up_secs,
        per_second,
        per_second_ms: None,
    })
}
