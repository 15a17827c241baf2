//! Storing events: a publish answers only once JetStream has stored the event (PubAck).
//!
//! Publishes are independent futures, never serialised behind a lock, so many can be in
//! flight at once on the one connection (JetStream stores ~20× more per second that way).

use async_nats::jetstream::{context::PublishErrorKind, message::PublishMessage};
use chat_schemas::events::Envelope;

use super::{EventLog, StreamKind};

/// Header carrying the event's `type`.
pub const EVENT_TYPE_HEADER: &str = "Chat-Event-Type";

/// Extra conditions on a publish.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// Becomes `Nats-Msg-Id`: a repeat inside the duplicate window is not stored again and
    /// answers with the original sequence.
    pub msg_id: Option<String>,
    /// Store only if the subject has no event yet (`Nats-Expected-Last-Subject-Sequence: 0`):
    /// makes "create" commands race-free.
    pub expect_new_subject: bool,
}

/// Where JetStream stored the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub seq: u64,
    /// The `Nats-Msg-Id` was seen before; `seq` is the original event's.
    pub duplicate: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Not connected, or no PubAck in time: the event may or may not be stored, so the
    /// caller must not claim success (a retry with the same `Nats-Msg-Id` is safe).
    #[error("the event log is unavailable: {0}")]
    Unavailable(String),
    /// `expect_new_subject` was set and the subject already has events (or, for
    /// [`EventLog::publish_if_last`], its latest event is no longer the expected one).
    #[error("the subject already has events")]
    SubjectNotEmpty,
    /// JetStream refused the event for another reason (too large, no stream).
    #[error("the event log refused the event: {0}")]
    Rejected(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the event log is unavailable: {0}")]
    Unavailable(String),
    #[error("stored event is not readable: {0}")]
    Corrupt(String),
}

impl EventLog {
    /// Stores `event` on `subject` and waits for the PubAck.
    pub async fn publish(
        &self,
        subject: String,
        event: &Envelope,
        options: PublishOptions,
    ) -> Result<Published, PublishError> {
        self.enqueue(subject, event, options).await?.await
    }

    /// Stores `event` on `subject` only if the subject's latest stored event is still the
    /// one at stream sequence `last` (0: the subject has none), via
    /// `Nats-Expected-Last-Subject-Sequence`; otherwise [`PublishError::SubjectNotEmpty`]
    /// (someone stored on it meanwhile). Compare-and-set for keyed streams.
    pub async fn publish_if_last(
        &self,
        subject: String,
        event: &Envelope,
        last: u64,
    ) -> Result<Published, PublishError> {
        self.enqueue_with(subject, event, PublishOptions::default(), Some(last))
            .await?
            .await
    }

    /// Hands the event to the connection and answers a future of its PubAck. Events
    /// enqueued one after another are stored in that order, while their acks are awaited
    /// concurrently: this is how one client's messages are pipelined yet stay in order.
    pub async fn enqueue(
        &self,
        subject: String,
        event: &Envelope,
        options: PublishOptions,
    ) -> Result<
        impl std::future::Future<Output = Result<Published, PublishError>> + Send + 'static,
        PublishError,
    > {
        let expected_last = options.expect_new_subject.then_some(0);
        self.enqueue_with(subject, event, options, expected_last)
            .await
    }

    async fn enqueue_with(
        &self,
        subject: String,
        event: &Envelope,
        options: PublishOptions,
        expected_last_subject_seq: Option<u64>,
    ) -> Result<
        impl std::future::Future<Output = Result<Published, PublishError>> + Send + 'static,
        PublishError,
    > {
        let kind = event.body.type_name();
        if !self.is_connected() {
            metrics::counter!("chat_publish_errors_total", "reason" => "disconnected").increment(1);
            return Err(PublishError::Unavailable("not connected to NATS".into()));
        }
        let payload = serde_json::to_vec(event)
            .map_err(|e| PublishError::Rejected(format!("event does not serialise: {e}")))?;
        let span = tracing::info_span!(
            "eventlog.publish",
            event_type = kind,
            seq = tracing::field::Empty
        );
        let mut headers = async_nats::HeaderMap::new();
        // The type travels as a header too, so that fan-out can route membership changes
        // without parsing every payload; the trace context, so one message is one trace.
        headers.insert(EVENT_TYPE_HEADER, kind);
        span.in_scope(|| crate::telemetry::inject(&mut headers));
        let mut message = PublishMessage::build()
            .payload(payload.into())
            .headers(headers);
        if let Some(id) = &options.msg_id {
            message = message.message_id(id);
        }
        if let Some(last) = expected_last_subject_seq {
            message = message.expected_last_subject_sequence(last);
        }
        let started = std::time::Instant::now();
        let pending = self
            .jetstream
            .send_publish(subject, message)
            .await
            .map_err(classify)?;
        let acked = async move {
            let ack = pending.await.map_err(classify);
            metrics::histogram!("chat_publish_seconds").record(started.elapsed().as_secs_f64());
            let ack = ack?;
            tracing::Span::current().record("seq", ack.sequence);
            Ok(Published {
                seq: ack.sequence,
                duplicate: ack.duplicate,
            })
        };
        Ok(tracing::Instrument::instrument(acked, span))
    }

    /// The sequence of the room's latest stored event (0 if none), by direct get.
    pub async fn latest_in_room(&self, room: &chat_schemas::RoomId) -> Result<u64, ReadError> {
        let stream = self
            .jetstream
            .get_stream_no_info(self.settings.name(StreamKind::Rooms))
            .await
            .map_err(|e| ReadError::Unavailable(e.to_string()))?;
        match stream
            .direct_get_last_for_subject(super::subjects::room(room))
            .await
        {
            Ok(message) => Ok(message.sequence),
            Err(e) if e.kind() == async_nats::jetstream::stream::DirectGetErrorKind::NotFound => {
                Ok(0)
            }
            Err(e) => Err(ReadError::Unavailable(e.to_string())),
        }
    }

    /// Reads one stored event back by its stream sequence (direct get, no consumer).
    pub async fn read_event(&self, kind: StreamKind, seq: u64) -> Result<Envelope, ReadError> {
        let stream = self
            .jetstream
            .get_stream_no_info(self.settings.name(kind))
            .await
            .map_err(|e| ReadError::Unavailable(e.to_string()))?;
        let message = stream
            .direct_get(seq)
            .await
            .map_err(|e| ReadError::Unavailable(e.to_string()))?;
        serde_json::from_slice(&message.payload).map_err(|e| ReadError::Corrupt(e.to_string()))
    }
}

fn classify(err: async_nats::jetstream::context::PublishError) -> PublishError {
    metrics::counter!("chat_publish_errors_total", "reason" => format!("{:?}", err.kind()))
        .increment(1);
    match err.kind() {
        PublishErrorKind::WrongLastSequence => PublishError::SubjectNotEmpty,
        PublishErrorKind::MaxPayloadExceeded => PublishError::Rejected(err.to_string()),
        // "No stream" is what a cluster answers while it elects a stream leader (no
        // responders); the streams were verified at start-up, so it is transient.
        PublishErrorKind::StreamNotFound => PublishError::Unavailable(err.to_string()),
        _ => PublishError::Unavailable(err.to_string()),
    }
}
