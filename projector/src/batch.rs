//! One batch, one transaction: lock the stream's checkpoint row, apply every event above
//! it, move the checkpoint, commit. Replays and concurrent projectors are harmless because
//! events at or below the locked checkpoint are skipped.

use chat_core::database::DbError;
use chat_schemas::events::Envelope;
use deadpool_postgres::Pool;

use crate::apply::apply_event;
use crate::messages::PostedRun;
use crate::notices::Notice;
use crate::partition::Partition;

/// An event as read from the stream, parsed (by the reader, while the applier works).
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: u64,
    /// The event, or why this build cannot read it.
    pub envelope: Result<Envelope, String>,
    /// The publisher's trace context, continued by the span that applies the event.
    pub traceparent: Option<String>,
}

impl StoredEvent {
    pub fn parse(seq: u64, payload: &[u8], traceparent: Option<String>) -> Self {
        Self {
            seq,
            envelope: serde_json::from_slice(payload).map_err(|e| e.to_string()),
            traceparent,
        }
    }
}

pub async fn load_checkpoint(pool: &Pool, stream: &str) -> Result<u64, DbError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "SELECT last_seq FROM projector_checkpoints WHERE stream = $1",
            &[&stream],
        )
        .await?;
    Ok(row.map(|r| r.get::<_, i64>(0) as u64).unwrap_or(0))
}

/// Applies the batch; answers the presence and membership changes to announce (after the
/// commit).
/// `stream` names the checkpoint row; with a `partition`, events of rooms outside it are
/// passed over (another follower applies them) while the checkpoint still moves.
pub async fn apply_batch(
    pool: &Pool,
    stream: &str,
    partition: Option<Partition>,
    batch: &[StoredEvent],
) -> Result<Vec<Notice>, DbError> {
    let mut notices = Vec::new();
    let Some(last) = batch.last() else {
        return Ok(notices);
    };
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute(
        "INSERT INTO projector_checkpoints (stream, last_seq) VALUES ($1, 0) \
         ON CONFLICT (stream) DO NOTHING",
        &[&stream],
    )
    .await?;
    let committed: i64 = tx
        .query_one(
            "SELECT last_seq FROM projector_checkpoints WHERE stream = $1 FOR UPDATE",
            &[&stream],
        )
        .await?
        .get(0);
    let committed = committed as u64;
    if last.seq <= committed {
        return Ok(notices); // all already applied (replay after a crash, or a racing projector)
    }
    // Consecutive posted messages are applied together (see `messages`).
    let mut posted = PostedRun::default();
    let mut run_spans = Vec::new();
    for event in batch.iter().filter(|e| e.seq > committed) {
        match &event.envelope {
            Ok(envelope)
                if partition
                    .zip(envelope.room_id.as_ref())
                    .is_some_and(|(p, room)| !p.owns(room)) => {}
            Ok(envelope) => {
                let span = tracing::info_span!(
                    "projector.apply",
                    stream,
                    seq = event.seq,
                    event_type = envelope.body.type_name()
                );
                chat_core::telemetry::continue_traceparent(&span, event.traceparent.as_deref());
                if posted.push(event.seq as i64, envelope) {
                    // Its span lasts until the run that holds it is applied.
                    run_spans.push(span);
                    continue;
                }
                apply_posted(&tx, &mut posted, &mut run_spans).await?;
                let applied = apply_event(&tx, event.seq as i64, envelope);
                notices.extend(tracing::Instrument::instrument(applied, span).await?)
            }
            // An event this build cannot read must not stop the stream for ever: it is
            // logged and passed over (the checkpoint moves past it; it stays in JetStream).
            Err(e) => {
                tracing::error!(stream, seq = event.seq, error = %e, "unreadable event skipped")
            }
        }
    }
    apply_posted(&tx, &mut posted, &mut run_spans).await?;
    tx.execute(
        "UPDATE projector_checkpoints SET last_seq = $2, updated_at = now() WHERE stream = $1",
        &[&stream, &(last.seq as i64)],
    )
    .await?;
    tx.commit().await?;
    tracing::debug!(
        stream,
        events = batch.len(),
        last = last.seq,
        "batch applied"
    );
    Ok(notices)
}

/// Applies the pending run of posted messages, inside the spans of its events.
async fn apply_posted(
    tx: &deadpool_postgres::Transaction<'_>,
    posted: &mut PostedRun,
    spans: &mut Vec<tracing::Span>,
) -> Result<(), DbError> {
    let Some(first) = spans.first().cloned() else {
        return Ok(());
    };
    tracing::Instrument::instrument(posted.apply(tx), first).await?;
    spans.clear();
    Ok(())
}

/// Moves the checkpoint past `seq` without applying it (for an event that cannot be
/// applied); never moves it backwards.
pub async fn advance_past(pool: &Pool, stream: &str, seq: u64) -> Result<(), DbError> {
    let client = pool.get().await?;
    client
        .execute(
            "INSERT INTO projector_checkpoints (stream, last_seq) VALUES ($1, $2) \
             ON CONFLICT (stream) DO UPDATE SET last_seq = GREATEST(projector_checkpoints.last_seq, $2), \
             updated_at = now()",
            &[&stream, &(seq as i64)],
        )
        .await?;
    Ok(())
}
