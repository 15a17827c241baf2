//! The session's I/O requests carried out: reads of the read model and the event log,
//! and the commands (join, leave, edit, delete, status, read, ...) through the command
//! layer, each answered back to the session as a [`Done`].

use super::*;

impl Driver {
    /// Does one piece of I/O the session waits for.
    pub(super) async fn perform(&self, io: Io) -> Done {
        let (state, read) = (&self.state, self.state.commands().read_model());
        match io {
            Io::MemberRooms => {
                Done::MemberRooms(read.member_rooms(self.user).await.unwrap_or_default())
            }
            Io::VerifyToken(token) => Done::TokenVerified(
                state
                    .tokens()
                    .verify_claims(&token)
                    .map_err(|e| e.to_string()),
            ),
            Io::CheckSession(verified) => {
                Done::SessionChecked(match state.sessions().check(&verified).await {
                    Ok(()) => SessionCheck::Live,
                    Err(AuthError::Database(_)) => SessionCheck::Unavailable,
                    Err(e) => SessionCheck::Ended(e.to_string()),
                })
            }
            Io::Command(command) => Done::Command(self.command(command).await),
            Io::Subscribe(room) => Done::Subscribed(
                state
                    .fanout()
                    .subscribe(&room, self.id, self.user, self.out.clone())
                    .await
                    .map_err(|e| e.to_string()),
            ),
            Io::RoomMembers { room, limit } => {
                Done::RoomMembers(read.room_members(&room, limit).await.ok())
            }
            Io::RoomCounts(room) => Done::RoomCounts(read.room_presence_counts(&room).await.ok()),
            Io::RoomListing(room) => Done::RoomListing(
                read.room_of(self.user, &room)
                    .await
                    .ok()
                    .flatten()
                    .map(|listing| listing.summary()),
            ),
            Io::PresenceOf(users) => {
                Done::Presence(read.presence_of(&users).await.unwrap_or_default())
            }
            Io::Replay { room, from } => Done::Replayed(
                resume::replay_room(state, &self.out, &room, from)
                    .await
                    .map_err(|e| e.to_string()),
            ),
            Io::Latest(room) => Done::Latest(
                state
                    .fanout()
                    .latest_in_room(&room)
                    .await
                    .map_err(|e| e.to_string()),
            ),
        }
    }

    /// Runs a command; the stored event's sequence, when it stored one.
    async fn command(&self, command: Command) -> Result<Option<u64>, CommandError> {
        let (commands, user) = (self.state.commands(), self.user);
        let published = match command {
            Command::Edit {
                room,
                message_id,
                text,
            } => Some(
                commands
                    .edit_message(user, &room, message_id, &text)
                    .await?,
            ),
            Command::Delete { room, message_id } => {
                Some(commands.delete_message(user, &room, message_id).await?)
            }
            Command::React {
                room,
                message_id,
                emoji,
                add,
            } => {
                let reacted = commands.react(user, &room, message_id, &emoji, add).await?;
                return Ok(reacted.seq);
            }
            Command::Typing(room) => Some(commands.typing(user, room).await?),
            Command::SetStatus(status) => Some(commands.set_status(user, status, None).await?),
            Command::Join(room) => {
                let (member, published) = commands.join_room_as_member(user, &room).await?;
                self.members.keep(member);
                published
            }
            Command::Leave(room) => commands.leave_room(user, &room).await?,
            Command::RequireMember(room) => {
                self.members
                    .keep(commands.require_member(&room, user).await?);
                None
            }
            // The position reaches the client as `readPosition`; the ack carries no `seq`
            // (the reads stream's sequences are no room's cursor).
            Command::Read { room, seq } => {
                commands.mark_read(user, &room, seq).await?;
                None
            }
        };
        Ok(published.map(|p| p.seq))
    }
}
