//! Names in the session: lines that name people are printed in order, each once every
//! person in it has a name or was looked up without one ([`crate::names`]). Unknown ids
//! are collected into one [`Action::LookUp`] per line at most, each id asked for once, so
//! a busy room costs a lookup per new face, never one per message. Also the inbox frames
//! (`roomAdded`, `roomRemoved`, `profile`), which change names and rooms.

use chat_schemas::http::PersonView;
use chat_schemas::RoomId;

use super::{Action, Session};
use crate::display::PersonLine;
use crate::inbox::{AddedRoom, InboxFrame};
use crate::names::{Known, Names};

impl Session {
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// For answers that carry names (history's `senderName`, member lists, the directory).
    pub fn names_mut(&mut self) -> &mut Names {
        &mut self.names
    }

    /// A room's name, if this session knows it, else its id.
    pub fn room_label(&self, room_id: &str) -> String {
        self.room_names.label(room_id)
    }

    /// What goes between the brackets of a line about `room_id` (its name at a terminal).
    pub fn room_tag(&self, room_id: &str) -> String {
        self.room_names.tag(room_id)
    }

    /// The id of the room this session knows as `name` (ignoring case; `@` optional for a
    /// direct room).
    pub fn find_room(&self, name: &str) -> Option<String> {
        self.room_names.find(name)
    }

    pub fn knows_room_name(&self, room_id: &str) -> bool {
        self.room_names.knows(room_id)
    }

    /// Remembers what a room is called (for `/switch <name>`, notes and line tags).
    pub fn name_room(&mut self, room_id: &str, name: &str) {
        self.room_names.set(room_id, name);
    }

    /// At a terminal, lines start with room names instead of ids.
    pub fn show_room_names(&mut self, on: bool) {
        self.room_names.show_in_lines(on);
    }

    /// Prints `line` now if nothing waits and everyone in it is named; otherwise queues it
    /// and asks for the names not yet asked for.
    pub(super) fn show(&mut self, line: PersonLine) -> Vec<Action> {
        let people = line.people();
        if self.waiting.is_empty() && people.iter().all(|p| self.names.is_settled(p)) {
            return vec![Action::Print(line.render(&self.names, &self.room_names))];
        }
        self.waiting.push_back(line);
        let missing: Vec<String> = people
            .into_iter()
            .filter(|p| !self.names.is_settled(p) && self.asking.insert(p.clone()))
            .collect();
        if missing.is_empty() {
            Vec::new()
        } else {
            vec![Action::LookUp(missing)]
        }
    }

    /// The answer to an [`Action::LookUp`] of `asked` (empty if the lookup failed): the
    /// lines that can be printed now.
    pub fn people_found(&mut self, asked: &[String], found: &[PersonView]) -> Vec<Action> {
        for person in found {
            self.names
                .learn(&person.user_id, &person.username, &person.display_name);
        }
        self.names.give_up(asked);
        for id in asked {
            self.asking.remove(id);
        }
        let mut actions = Vec::new();
        while let Some(line) = self.waiting.front() {
            if !line.people().iter().all(|p| self.names.is_settled(p)) {
                break;
            }
            let line = self.waiting.pop_front().expect("a front line");
            actions.push(Action::Print(line.render(&self.names, &self.room_names)));
        }
        actions
    }

    pub fn on_inbox(&mut self, frame: InboxFrame) -> Vec<Action> {
        match frame {
            InboxFrame::Profile {
                user_id,
                display_name,
            } => {
                self.names.rename(&user_id, &display_name);
                Vec::new()
            }
            InboxFrame::RoomAdded { room } => self.room_added(room),
            InboxFrame::RoomRemoved { room_id } => {
                let label = self.room_label(&room_id);
                self.rooms.forget(&room_id);
                if self.current.as_ref().is_some_and(|c| c.as_str() == room_id) {
                    self.current = None;
                }
                vec![Action::Note(format!("* you are no longer in {label}"))]
            }
        }
    }

    /// A room the user became a member of elsewhere (someone opened a DM, added them, or
    /// another device joined): receive it live, without taking the current room away.
    fn room_added(&mut self, room: AddedRoom) -> Vec<Action> {
        let Ok(id) = RoomId::parse(&room.room_id) else {
            return Vec::new();
        };
        if self.rooms.is_wanted(id.as_str()) {
            return Vec::new();
        }
        // A direct room is called after the other person, as `/dm` calls it.
        let (said, called) = match (&room.peer_id, room.kind.as_str()) {
            (Some(peer), "direct") => {
                // The frame names the other person: no lookup before the line is shown.
                if let Some(name) = &room.peer_name {
                    if self.names.get(peer).is_none() {
                        self.names.rename(peer, name);
                    }
                }
                let called = match self.names.get(peer) {
                    Some(Known {
                        username: Some(username),
                        ..
                    }) => format!("@{username}"),
                    _ => format!("@{}", self.names.label(peer)),
                };
                (
                    format!("a conversation with {}", self.names.full_label(peer)),
                    called,
                )
            }
            _ if room.name.is_empty() => (room.room_id.clone(), room.room_id.clone()),
            _ => {
                let name = crate::display::escape_name(&room.name).into_owned();
                (name.clone(), name)
            }
        };
        self.name_room(&room.room_id, &called);
        let current = self.current.take();
        let mut actions = vec![Action::Print(format!(
            "* You were added to {said} (/switch {called} to talk there)"
        ))];
        actions.extend(self.join(id));
        self.current = current;
        actions
    }
}
