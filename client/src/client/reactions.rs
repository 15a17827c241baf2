//! `/react <#seq> <emoji>` and `/unreact <#seq> <emoji>`: the message is named by the `#seq`
//! that `/history` prints, found in the current room's history, and the reaction goes
//! through the HTTP API; the answer (the message's reactions now) is printed. Others'
//! reactions arrive as live event lines.

use super::Client;
use crate::api::ApiError;
use crate::display;
use crate::session::Action;

impl Client {
    pub(super) async fn react(
        &mut self,
        seq: u64,
        emoji: &str,
        add: bool,
    ) -> Result<Vec<Action>, ApiError> {
        let Some(room) = self.session.current_room().cloned() else {
            return Ok(vec![super::queries::no_current_room()]);
        };
        // A message seen live may not be in history yet: wait for what was seen.
        let seen = self.session.known_seq(&room);
        let page = self.api.message_at(&room, seq, seen).await?;
        let Some(message) = page.messages.iter().find(|m| m.seq as u64 == seq) else {
            return Ok(vec![Action::Note(format!(
                "error: no message #{seq} in {}; /history shows the numbers",
                self.session.room_label(room.as_str())
            ))]);
        };
        let answer = self
            .api
            .react(&room, &message.message_id, emoji, add)
            .await?;
        let now = if answer.reactions.is_empty() {
            "no reactions".to_owned()
        } else {
            display::reactions_text(&answer.reactions)
        };
        Ok(vec![Action::Note(format!("* #{seq}: {now}"))])
    }
}
