//! Reactions: a member adds or takes back one emoji on a message of the room, a
//! `reaction.added` / `reaction.removed` event in the room stream.
//!
//! The command decides on the room as it is now: it waits (bounded) for the projection of
//! the room's latest event, as edits do, then reads the message and the caller's reaction.
//! Adding a reaction the caller already has, or taking back one they do not have, stores
//! nothing and answers the message's reactions as they are. A new distinct emoji beyond
//! the cap is refused (`too_many_reactions`). The `Nats-Msg-Id` is derived from the state
//! seen (the sequence of the caller's latest change of that emoji), so two devices sending
//! the same reaction at once store one event. The projector applies the same rules (see
//! `projector::reactions`), so a rebuild of the read model gives the same answers.

use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::{MessageId, RoomId, UserId};

use super::{CommandError, Commands, Failure};
use crate::eventlog::{PublishOptions, StreamKind};
use crate::input::reactions::{emoji as checked_emoji, MAX_DISTINCT_REACTIONS};
use crate::readmodel::ReactionCount;

/// The outcome of a reaction command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reacted {
    /// The stream sequence of the stored event; `None` when nothing changed.
    pub seq: Option<u64>,
    /// The message's reactions afterwards, as the caller sees them.
    pub reactions: Vec<ReactionCount>,
}

impl Commands {
    /// Adds (`add`) or takes back the caller's reaction `emoji` to `message` in `room`.
    pub async fn react(
        &self,
        caller: UserId,
        room: &RoomId,
        message: MessageId,
        emoji: &str,
        add: bool,
    ) -> Result<Reacted, CommandError> {
        let emoji = checked_emoji(emoji)
            .map_err(|e| CommandError::new(Failure::BadInput, e.code, e.message))?;
        self.require_member(room, caller).await?;
        let latest = self.log.latest_in_room(room).await?;
        self.wait_for_projection(StreamKind::Rooms, latest).await?;
        let state = self
            .read
            .reaction_state(room, message, caller, emoji)
            .await?;
        match state.deleted {
            None => {
                return Err(CommandError::new(
                    Failure::NotFound,
                    "message_not_found",
                    "no such message in this room",
                ))
            }
            Some(true) => {
                return Err(CommandError::new(
                    Failure::Conflict,
                    "message_deleted",
                    "the message was deleted",
                ))
            }
            Some(false) => {}
        }
        if state.mine == add {
            return Ok(Reacted {
                seq: None,
                reactions: self.read.reactions_of(message, caller).await?,
            });
        }
        if add && !state.emoji_present && state.distinct >= MAX_DISTINCT_REACTIONS {
            return Err(CommandError::new(
                Failure::Conflict,
                "too_many_reactions",
                format!("a message carries at most {MAX_DISTINCT_REACTIONS} distinct emoji"),
            ));
        }
        let body = if add {
            EventBody::ReactionAdded {
                message_id: message,
                emoji: emoji.to_owned(),
            }
        } else {
            EventBody::ReactionRemoved {
                message_id: message,
                emoji: emoji.to_owned(),
            }
        };
        let event = Envelope::room(caller, room.clone(), body);
        // Header values are ASCII: the emoji goes in as hex.
        let hex: String = emoji.bytes().map(|b| format!("{b:02x}")).collect();
        let options = PublishOptions {
            msg_id: Some(format!(
                "react:{room}:{message}:{caller}:{hex}:{add}:{}",
                state.mine_seq
            )),
            expect_new_subject: false,
        };
        let published = self.publish_and_project(&event, options).await?;
        Ok(Reacted {
            seq: Some(published.seq),
            reactions: self.read.reactions_of(message, caller).await?,
        })
    }
}
