//! Read positions: how far a member has read a room, a `read.moved` event on
//! `chat.read.<roomId>.<userId>` in the reads stream (which keeps only the latest per
//! subject), projected into `read_positions`.
//!
//! A position only moves forward. The check and the write are one compare-and-set on the
//! subject: the command reads the subject's latest event (direct get), answers it as is
//! when it is already at or past `seq`, and otherwise publishes with
//! `Nats-Expected-Last-Subject-Sequence` set to that event's stream sequence. If another
//! device stored a position meanwhile the publish is refused, and the command reads again
//! and decides again (bounded), so two devices racing can never leave a lower position
//! stored last.
//!
//! `seq` must be an event of this room: the event at that sequence of the rooms stream is
//! read back by direct get and must be on `chat.room.<roomId>`. The stream is
//! authoritative, so a position can be set on an event the projector has not applied yet.
//! Reads go to any replica first; after a lost race the read subject is read from the
//! stream leader, so a lagging replica cannot make the retries spin (see
//! [`crate::eventlog::lookup`]).

use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::{RoomId, UserId};

use super::{CommandError, Commands, Failure};
use crate::eventlog::lookup::ReadFrom;
use crate::eventlog::{subjects, PublishError, StreamKind};
use crate::input::reads::ReadSeq;

/// How often a read re-decides after losing a race to another device of the same user.
const MAX_ATTEMPTS: usize = 32;

/// The caller's read position after a read command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadPosition {
    pub last_read_seq: u64,
    /// The stream sequence of the `read.moved` event stored; `None` when the position was
    /// already at or past the one asked for (nothing stored).
    pub stored: Option<u64>,
}

impl Commands {
    /// Moves `caller`'s read position in `room` forward to `seq` (never back).
    pub async fn mark_read(
        &self,
        caller: UserId,
        room: &RoomId,
        seq: ReadSeq,
    ) -> Result<ReadPosition, CommandError> {
        self.require_member(room, caller).await?;
        self.require_room_event(room, seq.get()).await?;
        let subject = subjects::read_position(room, caller);
        let mut from = ReadFrom::AnyReplica;
        for _ in 0..MAX_ATTEMPTS {
            let latest = self
                .log
                .latest_on(StreamKind::Reads, &subject, from)
                .await?;
            let (last, position) = match latest {
                Some(latest) => match latest.event.body {
                    EventBody::ReadMoved { seq } => (latest.seq, seq),
                    _ => (latest.seq, 0),
                },
                None => (0, 0),
            };
            if position >= seq.get() {
                return Ok(ReadPosition {
                    last_read_seq: position,
                    stored: None,
                });
            }
            let event = Envelope::read_moved(caller, room.clone(), seq.get());
            match self
                .log
                .publish_if_last(subject.clone(), &event, last)
                .await
            {
                Ok(published) => {
                    // The caller's next `GET /rooms` should show it.
                    self.wait_for_projection(StreamKind::Reads, published.seq)
                        .await?;
                    return Ok(ReadPosition {
                        last_read_seq: seq.get(),
                        stored: Some(published.seq),
                    });
                }
                // Another device stored a position since we read: decide again.
                Err(PublishError::SubjectNotEmpty) => from = ReadFrom::Leader,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CommandError::new(
            Failure::Unavailable,
            "busy",
            "the read position kept changing; retry",
        ))
    }

    /// Succeeds when the rooms stream holds an event of `room` at `seq`.
    async fn require_room_event(&self, room: &RoomId, seq: u64) -> Result<(), CommandError> {
        if self.log.subject_at(StreamKind::Rooms, seq).await? == Some(subjects::room(room)) {
            return Ok(());
        }
        // Refused: say which way it is wrong.
        let latest = self.log.latest_in_room(room).await?;
        Err(invalid_seq(if seq > latest {
            format!("seq {seq} is beyond the room's last event ({latest})")
        } else {
            format!("seq {seq} is not an event of this room")
        }))
    }
}

fn invalid_seq(message: String) -> CommandError {
    CommandError::new(Failure::BadInput, "invalid_seq", message)
}
