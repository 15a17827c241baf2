//! The commands the HTTP API answers (`/rooms`, `/create`, `/dm`, `/history`, `/who`) and
//! the recent messages shown on joining a room: each turns an API answer into actions.

use super::{Client, RECENT_ON_JOIN};
use crate::api::ApiError;
use crate::input::Input;
use crate::session::Action;
use crate::{display, terminal};

impl Client {
    /// The latest messages of a room just joined, up to `up_to`, oldest first: what a
    /// person needs to see what the conversation is about (later ones arrive live).
    pub(super) async fn show_recent(&mut self, room: &chat_schemas::RoomId, up_to: u64) {
        if up_to == 0 {
            return;
        }
        match self.api.recent(room, RECENT_ON_JOIN, up_to + 1).await {
            Ok(page) => {
                for message in page.messages.iter().filter(|m| !m.deleted) {
                    terminal::print(&display::message_line(message));
                }
            }
            Err(e) => terminal::note(&format!("error: recent messages of {room}: {e}")),
        }
    }

    /// The commands answered by the HTTP API.
    pub(super) async fn query(&mut self, input: Input) -> Result<Vec<Action>, ApiError> {
        let actions = match input {
            Input::Rooms => {
                let list = self.api.rooms().await?;
                if list.rooms.is_empty() {
                    return Ok(vec![Action::Note("* no rooms".into())]);
                }
                list.rooms
                    .iter()
                    .map(|room| Action::Print(display::room_line(room)))
                    .collect()
            }
            Input::Create { name, private } => {
                let created = self.api.create_room(&name, private).await?;
                let mut actions = vec![Action::Note(format!("* created {}", created.room_id))];
                actions.extend(self.join_answered(&created.room_id)?);
                actions
            }
            Input::Direct(user) => {
                let direct = self.api.open_direct(user).await?;
                let mut actions = vec![Action::Note(format!("* direct room {}", direct.room_id))];
                actions.extend(self.join_answered(&direct.room_id)?);
                actions
            }
            Input::History(limit) => {
                let Some(room) = self.session.current_room().cloned() else {
                    return Ok(vec![Action::Note(
                        "error: no current room: /join, /create or /switch first".into(),
                    )]);
                };
                let known = self.session.known_seq(&room);
                let page = self.api.messages(&room, limit, known).await?;
                if page.messages.is_empty() {
                    return Ok(vec![Action::Note(format!("* no messages in {room}"))]);
                }
                page.messages
                    .iter()
                    .map(|m| Action::Print(display::history_line(m)))
                    .collect()
            }
            Input::Who(user) => {
                let status = self.api.status(user).await?;
                vec![Action::Print(display::status_line(&status))]
            }
            _ => Vec::new(),
        };
        Ok(actions)
    }

    /// Joins a room whose id the server just gave us.
    fn join_answered(&mut self, room_id: &str) -> Result<Vec<Action>, ApiError> {
        let room = chat_schemas::RoomId::parse(room_id)
            .map_err(|e| ApiError::Unexpected(format!("room id {room_id:?} {e}")))?;
        Ok(self.session.join(room))
    }
}
