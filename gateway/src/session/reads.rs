//! The `read` frame: moving the user's read position in a room. The checks and the
//! forward-only rule are the command layer's (`Commands::mark_read`), shared with
//! `POST /rooms/{roomId}/read`; here the frame's fields are parsed with the same input
//! policy, so a bad `seq` is `invalid_seq` on both transports. The answer is a bare
//! `ack {id}`; the new position itself reaches every connection of the user, this one
//! included, as `readPosition` (see [`crate::reads`]).

use serde_json::Value;

use super::dispatch::AfterCommand;
use super::replies::{self, error};
use super::{reply, Action, Command, Session};
use chat_core::input::reads::ReadSeq;

impl Session {
    pub(super) fn on_read(&mut self, id: String, room_id: &str, seq: &Value) -> Vec<Action> {
        let room = match replies::parse_room(room_id) {
            Ok(room) => room,
            Err(e) => return reply(replies::command_error(Some(id), e)),
        };
        match ReadSeq::parse(seq) {
            Ok(seq) => self.command(Some(id), AfterCommand::Ack, Command::Read { room, seq }),
            Err(e) => reply(error(Some(id), e.code, e.message)),
        }
    }
}
