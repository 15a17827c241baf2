//! Following one stream: an ordered consumer from `checkpoint + 1`, events gathered into
//! batches of what is already buffered (up to `max_batch`), each batch applied by
//! [`crate::batch::apply_batch`]. Reading and parsing the next batch (a task of its own)
//! overlaps with applying the current one.
//!
//! Failures never skip an event: a batch that failed because Postgres is down is retried
//! as it is until it commits; a consumer that broke (NATS restarted) is recreated from the
//! committed checkpoint.

use chat_core::database::DbError;
use chat_core::eventlog::EventLog;
use chat_core::readmodel::ReadModel;
use deadpool_postgres::Pool;
use futures::{FutureExt, StreamExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

use crate::batch::{advance_past, apply_batch, load_checkpoint, StoredEvent};
use crate::notices::{announce, Notice};
use crate::partition::{Partition, Share};
use crate::ProjectorConfig;

/// When the current consumer of a unit started (Unix ms; 0 before the first): the reaper
/// trusts heartbeat ages only after a full staleness bound of uninterrupted following.
pub type FollowingSince = Arc<AtomicU64>;

/// Bound on reading a room back for a `roomAdded` notice (a slow read delays notices only).
const NOTICE_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Follows one unit (a stream, or a partition of the room stream) for ever.
pub async fn follow(
    log: EventLog,
    pool: Pool,
    share: Share,
    config: ProjectorConfig,
    since: FollowingSince,
) {
    let stream_name = log.settings().name(share.kind).to_string();
    let key = share.checkpoint_key(log.settings());
    let mut backoff = Backoff::default();
    loop {
        match follow_once(
            &log,
            &pool,
            &stream_name,
            &key,
            share.partition,
            &config,
            &since,
        )
        .await
        {
            Ok(()) => backoff.reset(),
            Err(e) => {
                tracing::warn!(stream = %stream_name, error = %e, "projector will retry");
                backoff.wait().await;
            }
        }
    }
}

/// One life of a consumer: from the committed checkpoint until an error.
async fn follow_once(
    log: &EventLog,
    pool: &Pool,
    stream_name: &str,
    key: &str,
    partition: Option<Partition>,
    config: &ProjectorConfig,
    since: &FollowingSince,
) -> anyhow::Result<()> {
    since.store(0, Ordering::Relaxed);
    // Reads the rooms that membership notices carry, after each commit.
    let read = ReadModel::new(pool.clone(), NOTICE_READ_TIMEOUT);
    let start = load_checkpoint(pool, key).await? + 1;
    let stream = log.jetstream().get_stream_no_info(stream_name).await?;
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::push::OrderedConfig {
            deliver_subject: log.client().new_inbox(),
            deliver_policy: async_nats::jetstream::consumer::DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
            ..Default::default()
        })
        .await?;
    let messages = consumer.messages().await?;
    since.store(unix_millis(), Ordering::Relaxed);
    tracing::info!(checkpoint = %key, from = start, "projector following");

    // The next batch is read and parsed while the current one is applied: the reader
    // never holds up Postgres, and Postgres never holds up the reader (beyond one batch
    // waiting). The reader stops when this function returns (the handle aborts on drop).
    let (batches, mut ready) = mpsc::channel(1);
    let _reader = AbortOnDrop(tokio::spawn(read_batches(
        messages,
        config.max_batch,
        batches,
    )));
    while let Some(batch) = ready.recv().await {
        let (batch, lag) = batch?;
        let committed = commit_until_done(pool, key, partition, &batch).await;
        if committed.is_err() {
            since.store(0, Ordering::Relaxed);
        }
        let notices = committed?;
        record_progress(key, &batch, &lag);
        announce(log, &read, notices).await;
    }
    anyhow::bail!("consumer ended")
}

/// A batch read from the stream, and how far behind the stream its newest event was.
type ReadBatch = anyhow::Result<(Vec<StoredEvent>, Lag)>;

/// Gathers the consumer's events into batches and hands each to the applier as soon as
/// it can take one: a single event when the applier is idle, up to `max_batch` (what
/// arrived meanwhile) when it is busy. Ends at the first error, after handing it over.
async fn read_batches<S>(mut messages: S, max_batch: usize, batches: mpsc::Sender<ReadBatch>)
where
    S: futures::Stream<Item = Result<async_nats::jetstream::Message, OrderedError>> + Unpin,
{
    let mut batch = Vec::new();
    let mut lag = Lag::default();
    loop {
        if batch.is_empty() {
            let Some(first) = messages.next().await else {
                let _ = batches.send(Err(anyhow::anyhow!("consumer ended"))).await;
                return;
            };
            if let Err(e) = take(first, &mut batch, &mut lag) {
                let _ = batches.send(Err(e)).await;
                return;
            }
        }
        // Take what has already arrived, without waiting, so that a burst becomes one
        // transaction. Unconstrained: tokio's cooperative budget would otherwise end every
        // batch at 128 events, however many are waiting.
        let drained = tokio::task::unconstrained(async {
            while batch.len() < max_batch {
                match messages.next().now_or_never() {
                    Some(Some(next)) => take(next, &mut batch, &mut lag)?,
                    Some(None) => anyhow::bail!("consumer ended"),
                    None => break,
                }
            }
            Ok(())
        })
        .await;
        if let Err(e) = drained {
            let _ = batches.send(Err(e)).await;
            return;
        }
        // Hand the batch over as soon as the applier is free; until then keep adding
        // what arrives, up to `max_batch`.
        tokio::select! {
            biased;
            permit = batches.reserve() => {
                let Ok(permit) = permit else { return };
                permit.send(Ok((std::mem::take(&mut batch), std::mem::take(&mut lag))));
            }
            next = messages.next(), if batch.len() < max_batch => match next {
                Some(next) => {
                    if let Err(e) = take(next, &mut batch, &mut lag) {
                        let _ = batches.send(Err(e)).await;
                        return;
                    }
                }
                None => {
                    let _ = batches.send(Err(anyhow::anyhow!("consumer ended"))).await;
                    return;
                }
            },
        }
    }
}

type OrderedError = async_nats::jetstream::consumer::push::OrderedError;

/// Adds a delivered message to the batch, parsed.
fn take(
    message: Result<async_nats::jetstream::Message, OrderedError>,
    batch: &mut Vec<StoredEvent>,
    lag: &mut Lag,
) -> anyhow::Result<()> {
    batch.push(to_stored(message?, lag)?);
    Ok(())
}

/// Aborts a task when dropped, so that a reader never outlives its follower.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How far behind the stream the newest event of a batch was.
#[derive(Default, Debug)]
struct Lag {
    /// Events stored after it, not yet delivered.
    pending: u64,
    /// Age of that event when the batch was read.
    seconds: f64,
}

fn to_stored(
    message: async_nats::jetstream::Message,
    lag: &mut Lag,
) -> anyhow::Result<StoredEvent> {
    let info = message
        .info()
        .map_err(|e| anyhow::anyhow!("message without stream info: {e}"))?;
    lag.pending = info.pending;
    lag.seconds = (time::OffsetDateTime::now_utc() - info.published)
        .as_seconds_f64()
        .max(0.0);
    Ok(StoredEvent::parse(
        info.stream_sequence,
        &message.message.payload,
        chat_core::telemetry::traceparent(message.message.headers.as_ref()),
    ))
}

fn record_progress(stream: &str, batch: &[StoredEvent], lag: &Lag) {
    let stream = stream.to_owned();
    metrics::counter!("chat_projector_events_total", "stream" => stream.clone())
        .increment(batch.len() as u64);
    metrics::histogram!("chat_projector_batch_size", "stream" => stream.clone())
        .record(batch.len() as f64);
    metrics::gauge!("chat_projector_lag_events", "stream" => stream.clone())
        .set(lag.pending as f64);
    metrics::gauge!("chat_projector_lag_seconds", "stream" => stream).set(lag.seconds);
}

/// Applies one batch, retrying while Postgres is unavailable. If the batch fails for
/// another reason, its events are applied one at a time so that only the event that
/// cannot be applied is skipped (logged as an error; it stays in the stream).
async fn commit_until_done(
    pool: &Pool,
    stream_name: &str,
    partition: Option<Partition>,
    batch: &[StoredEvent],
) -> anyhow::Result<Vec<Notice>> {
    match commit_retrying(pool, stream_name, partition, batch).await {
        Err(DbError::Other(e)) if batch.len() > 1 => {
            tracing::warn!(stream = %stream_name, error = %e, "batch failed; applying one by one");
            let mut notices = Vec::new();
            for event in batch {
                notices.extend(commit_single(pool, stream_name, partition, event).await?);
            }
            Ok(notices)
        }
        Err(DbError::Other(_)) => commit_single(pool, stream_name, partition, &batch[0]).await,
        other => Ok(other?),
    }
}

async fn commit_single(
    pool: &Pool,
    stream_name: &str,
    partition: Option<Partition>,
    event: &StoredEvent,
) -> anyhow::Result<Vec<Notice>> {
    match commit_retrying(pool, stream_name, partition, std::slice::from_ref(event)).await {
        Err(DbError::Other(e)) => {
            tracing::error!(stream = %stream_name, seq = event.seq, error = %e, "event cannot be applied; skipped");
            advance_past(pool, stream_name, event.seq).await?;
            Ok(Vec::new())
        }
        other => Ok(other?),
    }
}

/// `apply_batch`, retried for as long as Postgres is unavailable.
async fn commit_retrying(
    pool: &Pool,
    stream_name: &str,
    partition: Option<Partition>,
    batch: &[StoredEvent],
) -> Result<Vec<Notice>, DbError> {
    let mut backoff = Backoff::default();
    loop {
        match apply_batch(pool, stream_name, partition, batch).await {
            Err(DbError::Unavailable(e)) => {
                tracing::warn!(stream = %stream_name, error = %e, "Postgres unavailable; batch will be retried");
                backoff.wait().await;
            }
            other => return other,
        }
    }
}

/// Exponential pause between retries, 50 ms up to 2 s.
#[derive(Default)]
struct Backoff {
    attempts: u32,
}

impl Backoff {
    async fn wait(&mut self) {
        let ms = (50u64 << self.attempts.min(6)).min(2_000);
        self.attempts += 1;
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    fn reset(&mut self) {
        self.attempts = 0;
    }
}
