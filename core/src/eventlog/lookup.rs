//! Single stored events read back without a consumer: which subject holds a given
//! sequence, and the latest event on a subject of a keyed stream. Both are answered from
//! the stream itself, so they are authoritative even while the projector is behind.
//!
//! Direct gets may be answered by any replica, which on a cluster can lag the leader by a
//! moment. So an answer of "not there" is asked again of the leader before it is believed,
//! and a caller that knows a direct answer is stale (a compare-and-set just failed) can ask
//! the leader at once ([`ReadFrom::Leader`]).

use async_nats::jetstream::stream::{DirectGetErrorKind, LastRawMessageErrorKind, Stream};
use chat_schemas::events::Envelope;

use super::publish::ReadError;
use super::{EventLog, StreamKind};

/// The latest event stored on a subject, with its stream sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Latest {
    pub seq: u64,
    pub event: Envelope,
}

/// Who answers a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// Any replica (direct get): cheap, possibly a moment behind on a cluster.
    AnyReplica,
    /// The stream leader: current.
    Leader,
}

impl EventLog {
    async fn stream(&self, kind: StreamKind) -> Result<Stream<()>, ReadError> {
        self.jetstream()
            .get_stream_no_info(self.settings().name(kind))
            .await
            .map_err(|e| ReadError::Unavailable(e.to_string()))
    }

    /// The subject of the event at `seq` in `kind`'s stream; `None` if there is none
    /// (beyond the end, or removed).
    pub async fn subject_at(
        &self,
        kind: StreamKind,
        seq: u64,
    ) -> Result<Option<String>, ReadError> {
        let stream = self.stream(kind).await?;
        match stream.direct_get(seq).await {
            Ok(message) => return Ok(Some(message.subject.to_string())),
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => {}
            Err(e) => return Err(ReadError::Unavailable(e.to_string())),
        }
        match stream.get_raw_message(seq).await {
            Ok(message) => Ok(Some(message.subject.to_string())),
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(e) => Err(ReadError::Unavailable(e.to_string())),
        }
    }

    /// The latest event on `subject` in `kind`'s stream, if any.
    pub async fn latest_on(
        &self,
        kind: StreamKind,
        subject: &str,
        from: ReadFrom,
    ) -> Result<Option<Latest>, ReadError> {
        let stream = self.stream(kind).await?;
        let message = match from {
            ReadFrom::AnyReplica => match stream.direct_get_last_for_subject(subject).await {
                Ok(message) => message,
                Err(e) if e.kind() == DirectGetErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(ReadError::Unavailable(e.to_string())),
            },
            ReadFrom::Leader => match stream.get_last_raw_message_by_subject(subject).await {
                Ok(message) => message,
                Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => return Ok(None),
                Err(e) => return Err(ReadError::Unavailable(e.to_string())),
            },
        };
        let event = serde_json::from_slice(&message.payload)
            .map_err(|e| ReadError::Corrupt(e.to_string()))?;
        Ok(Some(Latest {
            seq: message.sequence,
            event,
        }))
    }
}
