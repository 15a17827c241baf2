//! `chat-replay`: prints a room's or a stream's events from a given seq as JSON lines
//! (`line`), and with `--follow` keeps printing them as they are stored. It is the way in
//! for services that rebuild their own state from the event log (search indexers,
//! analytics, audits, recovery): it only reads, through an ordered consumer, and needs
//! nothing but NATS (docs/OPERATIONS.md, "Reading the event log").
//!
//! Without `--follow` it stops at the last event stored when it started, so
//! `chat-replay --room R > room.jsonl` is a consistent export.

mod line;

use anyhow::{bail, Context as _};
use async_nats::jetstream::consumer::{push::OrderedConfig, DeliverPolicy};
use chat_core::eventlog::{subjects, EventLog, NatsConfig, StreamKind};
use chat_schemas::RoomId;
use clap::{Parser, ValueEnum};
use futures::StreamExt;
use std::io::Write as _;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Stream {
    /// Rooms' events (`chat.room.<roomId>`): messages, edits, deletes, memberships.
    Rooms,
    /// Presence and connections (`chat.user.<userId>`), kept for a short time.
    Users,
    /// Profiles (`chat.profile.<userId>`), the latest per user.
    People,
    /// Read positions (`chat.read.<roomId>.<userId>`), the latest per room and user.
    Reads,
}

impl Stream {
    fn kind(self) -> StreamKind {
        match self {
            Stream::Rooms => StreamKind::Rooms,
            Stream::Users => StreamKind::Users,
            Stream::People => StreamKind::People,
            Stream::Reads => StreamKind::Reads,
        }
    }
}

/// Prints events of the chat event log as JSON lines.
#[derive(Debug, Parser)]
#[command(name = "chat-replay", version)]
struct Args {
    /// One room's events (the rooms stream, filtered to the room's subject).
    #[arg(long, conflicts_with = "stream")]
    room: Option<String>,
    /// A whole stream.
    #[arg(long, value_enum)]
    stream: Option<Stream>,
    /// The first stream sequence to print (a room's events carry it as `seq`).
    #[arg(long, default_value_t = 1)]
    from_seq: u64,
    /// Keep printing events as they are stored, until interrupted.
    #[arg(long)]
    follow: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = NatsConfig::from_env()?;
    let (kind, filter) = match (&args.room, args.stream) {
        (Some(room), _) => {
            let room = RoomId::parse(room).map_err(|e| anyhow::anyhow!("--room: {e}"))?;
            (StreamKind::Rooms, subjects::room(&room))
        }
        (None, Some(stream)) => (stream.kind(), String::new()),
        (None, None) => bail!("name --room <roomId> or --stream <rooms|users|people|reads>"),
    };
    if args.from_seq == 0 {
        bail!("--from-seq starts at 1");
    }
    let log = EventLog::connect(&config, "chat-replay").await?;
    let name = config.streams.name(kind).to_owned();
    let mut stream = log
        .jetstream()
        .get_stream(&name)
        .await
        .with_context(|| format!("reading stream {name}"))?;
    let last = stream.info().await?.state.last_sequence;
    if !args.follow && args.from_seq > last {
        return Ok(());
    }
    let consumer = stream
        .create_consumer(OrderedConfig {
            deliver_subject: log.client().new_inbox(),
            filter_subject: filter,
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: args.from_seq,
            },
            ..Default::default()
        })
        .await?;
    // Without --follow: stop at the last event stored at the start (the consumer counts
    // what matches its filter from the start sequence on).
    if !args.follow && consumer.cached_info().num_pending == 0 {
        return Ok(());
    }
    let mut messages = consumer.messages().await?;
    let mut out = std::io::stdout().lock();
    loop {
        let next = messages.next().await;
        let Some(message) = next else { break };
        let message = message?;
        let info = message.info().map_err(|e| anyhow::anyhow!("{e}"))?;
        let seq = info.stream_sequence;
        writeln!(
            out,
            "{}",
            line::line(
                &name,
                &message.subject,
                seq,
                info.published,
                &message.payload
            )
        )?;
        if !args.follow && (seq >= last || info.pending == 0) {
            break;
        }
    }
    out.flush()?;
    Ok(())
}
