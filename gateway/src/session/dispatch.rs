//! Dispatch: each client frame to the command or flow that handles it, with its ids
//! parsed once here; plain commands (edit, delete, react, typing, status, leave) answered from
//! their results.

use chat_core::commands::CommandError;
use chat_schemas::events::Status;
use chat_schemas::ws::{ClientFrame, ServerFrame};
use chat_schemas::{ClientMsgId, RoomId};

use super::replies::{self, error};
use super::{reply, Action, Command, Io, Session, Waiting};

/// What a plain command's result turns into.
pub(super) enum AfterCommand {
    /// `ack {seq}`, or the error.
    Ack,
    /// Only a failure is answered (typing is fire-and-forget).
    ErrorOnly,
    /// `ack {seq}` after the room stops being live.
    Leave(RoomId),
}

impl Session {
    pub(super) fn on_frame(&mut self, frame: ClientFrame) -> Vec<Action> {
        debug_assert!(self.waiting.is_none(), "a frame arrived during I/O");
        match frame {
            ClientFrame::Auth { id, token } => self.on_reauth(id, token),
            ClientFrame::Ping { id } => reply(ServerFrame::Pong { id }),
            ClientFrame::Send {
                id,
                room_id,
                message,
                client_msg_id,
            } => on_send(id, &room_id, message, client_msg_id),
            ClientFrame::Edit {
                id,
                room_id,
                message_id,
                message,
            } => match replies::parse_target(&room_id, &message_id) {
                Ok((room, message_id)) => self.command(
                    Some(id),
                    AfterCommand::Ack,
                    Command::Edit {
                        room,
                        message_id,
                        text: message,
                    },
                ),
                Err(e) => reply(replies::command_error(Some(id), e)),
            },
            ClientFrame::Delete {
                id,
                room_id,
                message_id,
            } => match replies::parse_target(&room_id, &message_id) {
                Ok((room, message_id)) => self.command(
                    Some(id),
                    AfterCommand::Ack,
                    Command::Delete { room, message_id },
                ),
                Err(e) => reply(replies::command_error(Some(id), e)),
            },
            ClientFrame::React {
                id,
                room_id,
                message_id,
                emoji,
                add,
            } => match replies::parse_target(&room_id, &message_id) {
                Ok((room, message_id)) => self.command(
                    Some(id),
                    AfterCommand::Ack,
                    Command::React {
                        room,
                        message_id,
                        emoji,
                        add,
                    },
                ),
                Err(e) => reply(replies::command_error(Some(id), e)),
            },
            ClientFrame::Typing { id, room_id } => match replies::parse_room(&room_id) {
                Ok(room) => self.command(id, AfterCommand::ErrorOnly, Command::Typing(room)),
                Err(e) => reply(replies::command_error(id, e)),
            },
            ClientFrame::Status { id, status } => match Status::parse(&status) {
                Some(s) if s != Status::Typing => {
                    self.command(Some(id), AfterCommand::Ack, Command::SetStatus(s))
                }
                _ => reply(error(
                    Some(id),
                    "invalid_status",
                    "status must be online, away or offline",
                )),
            },
            ClientFrame::Join {
                id,
                room_id,
                last_seq,
            } => self.on_join(id, &room_id, last_seq),
            ClientFrame::Leave { id, room_id } => match replies::parse_room(&room_id) {
                Ok(room) => self.command(
                    Some(id),
                    AfterCommand::Leave(room.clone()),
                    Command::Leave(room),
                ),
                Err(e) => reply(replies::command_error(Some(id), e)),
            },
            ClientFrame::Resume { id, rooms } => self.on_resume(id, rooms),
            ClientFrame::Watch { id, user_ids } => self.on_watch(id, &user_ids),
            ClientFrame::Read { id, room_id, seq } => {
                self.on_read(id, &room_id, &seq.unwrap_or_default())
            }
        }
    }

    pub(super) fn command(
        &mut self,
        id: Option<String>,
        then: AfterCommand,
        command: Command,
    ) -> Vec<Action> {
        self.wait(Waiting::Command { id, then }, Io::Command(command))
    }

    pub(super) fn command_done(
        &mut self,
        id: Option<String>,
        then: AfterCommand,
        result: Result<Option<u64>, CommandError>,
    ) -> Vec<Action> {
        match (then, result, id) {
            (_, Err(e), id) => reply(replies::command_error(id, e)),
            (AfterCommand::ErrorOnly, Ok(_), _) | (_, Ok(_), None) => Vec::new(),
            (AfterCommand::Ack, Ok(seq), Some(id)) => reply(replies::ack_seq(id, seq)),
            (AfterCommand::Leave(room), Ok(seq), Some(id)) => {
                let mut actions = self.stop_live(&room);
                actions.push(Action::Reply(replies::ack_seq(id, seq)));
                actions
            }
        }
    }
}

fn on_send(
    id: String,
    room_id: &str,
    message: String,
    client_msg_id: Option<String>,
) -> Vec<Action> {
    let room = match replies::parse_room(room_id) {
        Ok(room) => room,
        Err(e) => return reply(replies::command_error(Some(id), e)),
    };
    match client_msg_id.map(|c| ClientMsgId::parse(&c)).transpose() {
        Ok(client_msg_id) => vec![Action::Post {
            id,
            room,
            message,
            client_msg_id,
        }],
        Err(e) => reply(error(
            Some(id),
            "invalid_client_msg_id",
            format!("clientMsgId {e}"),
        )),
    }
}
