//! Reading a room's history: a member's read (the same membership rule as every room
//! command), optionally after waiting for the projection to reach a sequence the caller
//! was told (`minSeq`, read-your-writes across processes).

use chat_schemas::{RoomId, UserId};

use super::{CommandError, Commands, Failure};
use crate::eventlog::StreamKind;
use crate::readmodel::{HistoryMessage, HistoryQuery};

/// A page of history, oldest first, and the sequence it is complete up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub messages: Vec<HistoryMessage>,
    pub projected_seq: i64,
}

impl Commands {
    /// A page of `room`'s history for `caller`, once the projection has reached `min_seq`.
    pub async fn read_history(
        &self,
        caller: UserId,
        room: &RoomId,
        query: HistoryQuery,
        min_seq: Option<u64>,
    ) -> Result<HistoryPage, CommandError> {
        self.require_member(room, caller).await?;
        let projected = match min_seq {
            Some(min) => self.wait_for_min_seq(min).await?,
            None => 0,
        };
        let (messages, checkpoint) = self
            .read
            .history(room, query, self.room_stream(), caller)
            .await?;
        Ok(HistoryPage {
            messages,
            projected_seq: checkpoint.max(projected as i64),
        })
    }

    /// Waits (bounded) until the room stream is applied up to `min`; answers the checkpoint.
    async fn wait_for_min_seq(&self, min: u64) -> Result<u64, CommandError> {
        let mut projected = self.room_checkpoint().await?;
        // A sequence the stream has not reached was not answered to any send: waiting for
        // it would hold the request for the whole bound and end in a 503 "retry shortly"
        // that no retry can satisfy. (Without NATS there is no telling: wait as usual.)
        if projected < min {
            if let Some(stored) = self.stored_room_seq().await {
                if min > stored {
                    return Err(CommandError::new(
                        Failure::BadInput,
                        "invalid_parameter",
                        format!("minSeq {min} is beyond the last stored event (seq {stored})"),
                    ));
                }
            }
            projected = self.wait_for_projection(StreamKind::Rooms, min).await?;
        }
        if projected < min {
            return Err(CommandError::new(
                Failure::Unavailable,
                "projection_behind",
                format!("history has reached seq {projected}, not yet {min}; retry shortly"),
            ));
        }
        Ok(projected)
    }
}
