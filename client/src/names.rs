//! The people this client has met: user id → display name (and username), so every line
//! that shows a person shows their name, not their id.
//!
//! Names come from wherever the server already gives them — history's `senderName`, the
//! directory, member lists, `profile` frames — and otherwise from one `GET /users?ids=`
//! per batch of unknown ids (never one request per message). An id the server could not
//! name (an account that is gone, or a failed lookup) is shown as `user <first 6 hex
//! digits>` rather than holding lines back for ever.

use std::collections::{HashMap, HashSet};

/// Most ids one `GET /users?ids=` may name (the api's bound).
pub const LOOKUP_BATCH: usize = 100;

/// What the client knows of one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub display_name: String,
    /// Unknown when only a `profile` frame or a `senderName` named them.
    pub username: Option<String>,
}

#[derive(Debug, Default)]
pub struct Names {
    known: HashMap<String, Known>,
    /// Ids looked up without an answer: shown by their short form, never asked again.
    unnamed: HashSet<String>,
}

impl Names {
    /// A person from the directory (or a member list).
    pub fn learn(&mut self, user_id: &str, username: &str, display_name: &str) {
        self.unnamed.remove(user_id);
        self.known.insert(
            user_id.to_owned(),
            Known {
                display_name: display_name.to_owned(),
                username: Some(username.to_owned()),
            },
        );
    }

    /// A new display name (a `profile` frame, or a message's `senderName`); the username,
    /// if known, stays.
    pub fn rename(&mut self, user_id: &str, display_name: &str) {
        if display_name.is_empty() {
            return;
        }
        self.unnamed.remove(user_id);
        let entry = self.known.entry(user_id.to_owned()).or_insert(Known {
            display_name: String::new(),
            username: None,
        });
        entry.display_name = display_name.to_owned();
    }

    /// The lookup of these ids answered without them (or failed): stop waiting for them.
    pub fn give_up(&mut self, user_ids: &[String]) {
        for id in user_ids {
            if !self.known.contains_key(id) {
                self.unnamed.insert(id.clone());
            }
        }
    }

    pub fn get(&self, user_id: &str) -> Option<&Known> {
        self.known.get(user_id)
    }

    /// Whether a line naming `user_id` can be printed now.
    pub fn is_settled(&self, user_id: &str) -> bool {
        self.known.contains_key(user_id) || self.unnamed.contains(user_id)
    }

    /// How `user_id` is shown: the display name, or `user <short id>`.
    pub fn label(&self, user_id: &str) -> String {
        match self.known.get(user_id) {
            Some(known) => known.display_name.clone(),
            None => format!("user {}", user_id.get(..6).unwrap_or(user_id)),
        }
    }

    /// `Name (@username)`, where the username is known and differs from the name: for
    /// lists where two people could share a display name.
    pub fn full_label(&self, user_id: &str) -> String {
        match self.known.get(user_id) {
            Some(Known {
                display_name,
                username: Some(username),
            }) if username != display_name => format!("{display_name} (@{username})"),
            _ => self.label(user_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0190c1c6-7c3a-7000-8000-000000000001";

    #[test]
    fn a_person_is_shown_by_name_once_known_and_by_a_short_id_if_never() {
        let mut names = Names::default();
        assert!(!names.is_settled(ID));
        names.give_up(&[ID.to_owned()]);
        assert!(names.is_settled(ID));
        assert_eq!(names.label(ID), "user 0190c1");
        names.learn(ID, "alice", "Alice Liddell");
        assert_eq!(names.label(ID), "Alice Liddell");
        assert_eq!(names.full_label(ID), "Alice Liddell (@alice)");
    }

    #[test]
    fn a_rename_keeps_the_username_and_giving_up_never_forgets_a_name() {
        let mut names = Names::default();
        names.learn(ID, "alice", "alice");
        assert_eq!(names.full_label(ID), "alice");
        names.rename(ID, "Queen Alice");
        assert_eq!(names.full_label(ID), "Queen Alice (@alice)");
        names.give_up(&[ID.to_owned()]);
        assert_eq!(names.label(ID), "Queen Alice");
        names.rename(ID, "");
        assert_eq!(names.label(ID), "Queen Alice");
    }
}
