//! What every handler shares, and the one way the api writes chat state: publish an event,
//! await its PubAck, and (for commands whose effect the caller reads next) wait, bounded,
//! until the projector has applied it.

use chat_core::eventlog::{subjects, EventLog, PublishOptions, Published, StreamKind};
use chat_core::readmodel::ReadModel;
use chat_core::tokens::Tokens;
use chat_schemas::events::Envelope;

use crate::config::ApiConfig;
use crate::error::ApiError;

#[derive(Clone)]
pub struct ApiState {
    pub read: ReadModel,
    pub log: EventLog,
    pub tokens: Tokens,
    pub config: ApiConfig,
}

impl ApiState {
    /// Stores a room or user event (its subject follows from the envelope).
    pub async fn publish(
        &self,
        event: &Envelope,
        options: PublishOptions,
    ) -> Result<Published, ApiError> {
        let (subject, _) = subject_of(event)?;
        Ok(self.log.publish(subject, event, options).await?)
    }

    /// Stores the event and waits until the read models show it, so the caller can act on
    /// it at once (send to a room just created or joined, read a status just set). If the
    /// projector is slower than the bound the command still succeeded: it is stored.
    pub async fn publish_and_project(
        &self,
        event: &Envelope,
        options: PublishOptions,
    ) -> Result<Published, ApiError> {
        let (subject, kind) = subject_of(event)?;
        let published = self.log.publish(subject, event, options).await?;
        self.wait_for_projection(kind, published.seq).await?;
        Ok(published)
    }

    /// Waits (bounded) until `kind` is projected up to `seq`; answers the sequence reached.
    pub async fn wait_for_projection(&self, kind: StreamKind, seq: u64) -> Result<u64, ApiError> {
        let stream = self.log.settings().name(kind);
        let reached = self
            .read
            .wait_for_projection(stream, seq, self.config.projection_wait)
            .await?;
        if reached < seq {
            tracing::warn!(
                stream,
                seq,
                reached,
                "projection slower than the wait bound"
            );
        }
        Ok(reached)
    }
}

fn subject_of(event: &Envelope) -> Result<(String, StreamKind), ApiError> {
    match (&event.room_id, event.user_id) {
        (Some(room), _) => Ok((subjects::room(room), StreamKind::Rooms)),
        (None, Some(user)) => Ok((subjects::user(user), StreamKind::Users)),
        (None, None) => Err(ApiError::internal("event without a subject")),
    }
}
