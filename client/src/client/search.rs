//! `/search <words>`: messages of the user's rooms with those words (`GET /search`), one
//! `found` line each, best match first, the room tagged by name as on every other line.

use super::Client;
use crate::api::ApiError;
use crate::display;
use crate::session::Action;

/// How many messages one `/search` shows.
const FOUND: u32 = 20;

impl Client {
    pub(super) async fn search(&mut self, words: &str) -> Result<Vec<Action>, ApiError> {
        let found = self.api.search_messages(words, FOUND).await?.results;
        if found.is_empty() {
            return Ok(vec![Action::Note(format!("* no message has {words:?}"))]);
        }
        if found
            .iter()
            .any(|hit| !self.session.knows_room_name(&hit.room_id))
        {
            self.learn_room_names().await;
        }
        let names = self.session.names_mut();
        for hit in &found {
            names.rename(&hit.sender_id, &hit.sender_name);
        }
        Ok(found
            .iter()
            .map(|hit| {
                let tag = self.session.room_tag(&hit.room_id);
                Action::Print(display::found_line(hit, &tag))
            })
            .collect())
    }
}
