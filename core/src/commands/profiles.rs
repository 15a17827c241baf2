//! Profiles: a display name change is a `profile.changed` event on the user's own subject
//! of the people stream (`chat.profile.<userId>`, which keeps only the latest), projected
//! into `profiles`. The command waits for the projection, so the caller's next read
//! (`GET /users/me`, a search) shows the new name.
//!
//! A display name may not be another person's username (as usernames compare: `Carol`
//! and `ｃａｒｏｌ` are `carol`): a stranger could otherwise appear as `carol` in her own
//! friends' conversations. Display names may repeat otherwise, as in every chat app;
//! clients show the `@username` where people must be told apart.

use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::UserId;

use super::{CommandError, Commands, Failure};
use crate::eventlog::PublishOptions;
use crate::input::accounts::UsernameKey;
use crate::input::people::DisplayName;
use crate::readmodel::Person;

impl Commands {
    /// Refuses `name` when it is the username of an account other than `owner`'s (`None`:
    /// an account not created yet).
    pub async fn check_display_name_free(
        &self,
        owner: Option<UserId>,
        name: &DisplayName,
    ) -> Result<(), CommandError> {
        match self
            .read
            .account_named(&UsernameKey::of(name.as_str()))
            .await?
        {
            Some(other) if Some(other) != owner => Err(CommandError::new(
                Failure::Conflict,
                "display_name_taken",
                "that display name is another person's username; choose another",
            )),
            _ => Ok(()),
        }
    }

    /// Sets `caller`'s display name; answers the caller's profile as it now is.
    pub async fn set_display_name(
        &self,
        caller: UserId,
        name: DisplayName,
    ) -> Result<Person, CommandError> {
        let Some(mut person) = self.read.person(caller).await? else {
            return Err(CommandError::new(
                Failure::NotFound,
                "user_not_found",
                "no such user",
            ));
        };
        self.check_display_name_free(Some(caller), &name).await?;
        let event = Envelope::user(
            caller,
            caller,
            EventBody::ProfileChanged {
                display_name: name.as_str().to_owned(),
            },
        );
        self.publish_and_project(&event, PublishOptions::default())
            .await?;
        // Stored: this is the profile now, even if the projection is slower than the wait.
        person.display_name = name.into_string();
        Ok(person)
    }
}
