//! Searching messages: a member's read, like history. With a room, the caller must be a
//! member of it (the same codes as every room command); without, the read model looks only
//! at the rooms the caller is a member of at the moment of the query.

use chat_schemas::UserId;

use super::{CommandError, Commands, Failure};
use crate::input::search::SearchQuery;
use crate::readmodel::SearchPage;

impl Commands {
    /// A page of `caller`'s search results.
    pub async fn search_messages(
        &self,
        caller: UserId,
        query: &SearchQuery,
    ) -> Result<SearchPage, CommandError> {
        if let Some(room) = &query.room {
            self.require_member(room, caller).await?;
        }
        self.read
            .search_messages(caller, query)
            .await?
            .ok_or_else(|| {
                CommandError::new(
                    Failure::BadInput,
                    "invalid_query",
                    "q has no word to look for (operators only, or only excluded words)",
                )
            })
    }
}
