//! Single stored events read back by direct get (no consumer): which subject holds a
//! given sequence, and the latest event on a subject of a keyed stream. Direct gets are
//! answered from the stream itself, so they are authoritative even while the projector
//! is behind.

use async_nats::jetstream::stream::DirectGetErrorKind;
use chat_schemas::events::Envelope;

use super::publish::ReadError;
use super::{EventLog, StreamKind};

/// The latest event stored on a subject, with its stream sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Latest {
    pub seq: u64,
    pub event: Envelope,
}

impl EventLog {
    /// The subject of the event at `seq` in `kind`'s stream; `None` if there is none
    /// (beyond the end, or removed).
    pub async fn subject_at(
        &self,
        kind: StreamKind,
        seq: u64,
    ) -> Result<Option<String>, ReadError> {
        let stream = self
            .jetstream()
            .get_stream_no_info(self.settings().name(kind))
            .await
            .map_err(|e| ReadError::Unavailable(e.to_string()))?;
        match stream.direct_get(seq).await {
            Ok(message) => Ok(Some(message.subject.to_string())),
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
            Err(e) => Err(ReadError::Unavailable(e.to_string())),
        }
    }

    /// The latest event on `subject` in `kind`'s stream, if any.
    pub async fn latest_on(
        &self,
        kind: StreamKind,
        subject: &str,
    ) -> Result<Option<Latest>, ReadError> {
        let stream = self
            .jetstream()
            .get_stream_no_info(self.settings().name(kind))
            .await
            .map_err(|e| ReadError::Unavailable(e.to_string()))?;
        match stream.direct_get_last_for_subject(subject).await {
            Ok(message) => {
                let event = serde_json::from_slice(&message.payload)
                    .map_err(|e| ReadError::Corrupt(e.to_string()))?;
                Ok(Some(Latest {
                    seq: message.sequence,
                    event,
                }))
            }
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
            Err(e) => Err(ReadError::Unavailable(e.to_string())),
        }
    }
}
