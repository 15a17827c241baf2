//! What the rooms this session has met are called, so a person can `/switch` by name and,
//! at a terminal, read `[Book Club]` instead of a room id at the start of each line.
//! Scripts (plain mode) keep the id there: it is the stable key they match on.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct RoomNames {
    names: HashMap<String, String>,
    /// Lines start with the room's name (at a terminal) rather than its id.
    in_lines: bool,
}

impl RoomNames {
    pub fn show_in_lines(&mut self, on: bool) {
        self.in_lines = on;
    }

    /// Lines are for a person at a terminal (names), not for a script (ids).
    pub fn for_people(&self) -> bool {
        self.in_lines
    }

    pub fn set(&mut self, room_id: &str, name: &str) {
        if !name.is_empty() {
            // Names come from other people: kept printable (no escapes reach the terminal).
            let name = crate::display::escape_name(name).into_owned();
            self.names.insert(room_id.to_owned(), name);
        }
    }

    pub fn knows(&self, room_id: &str) -> bool {
        self.names.contains_key(room_id)
    }

    /// The room's name, else its id.
    pub fn label(&self, room_id: &str) -> String {
        self.names
            .get(room_id)
            .cloned()
            .unwrap_or_else(|| room_id.to_owned())
    }

    /// What goes between the brackets at the start of a line about the room.
    pub fn tag(&self, room_id: &str) -> String {
        if self.in_lines {
            self.label(room_id)
        } else {
            room_id.to_owned()
        }
    }

    /// The room called `name` (ignoring case; a leading `@` names a direct room either way),
    /// else the one room whose name starts so (`/switch trip` for "trip planning").
    pub fn find(&self, name: &str) -> Option<String> {
        let wanted = name.to_lowercase();
        let at_wanted = format!("@{wanted}");
        let exact = self.names.iter().find(|(_, n)| {
            let n = n.to_lowercase();
            n == wanted || n == at_wanted
        });
        if let Some((id, _)) = exact {
            return Some(id.clone());
        }
        let mut starting = self.names.iter().filter(|(_, n)| {
            let n = n.to_lowercase();
            n.starts_with(&wanted) || n.starts_with(&at_wanted)
        });
        match (starting.next(), starting.next()) {
            (Some((id, _)), None) => Some(id.clone()),
            _ => None,
        }
    }
}

/// A generated room id (a UUID, or a direct room's `dm_…`), never a name people type.
pub fn looks_like_an_id(target: &str) -> bool {
    uuid::Uuid::parse_str(target).is_ok() || (target.starts_with("dm_") && !target.contains(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_show_names_only_at_a_terminal_and_rooms_are_found_by_name() {
        let mut rooms = RoomNames::default();
        rooms.set("r1", "Book Club");
        rooms.set("d1", "@yann");
        assert_eq!(rooms.tag("r1"), "r1");
        rooms.show_in_lines(true);
        assert_eq!(rooms.tag("r1"), "Book Club");
        assert_eq!(rooms.tag("r9"), "r9");
        assert_eq!(rooms.find("book CLUB").as_deref(), Some("r1"));
        assert_eq!(rooms.find("yann").as_deref(), Some("d1"));
        assert_eq!(rooms.find("@yann").as_deref(), Some("d1"));
        assert_eq!(rooms.find("chess"), None);
        // The start of one name finds it; the start of two finds neither.
        assert_eq!(rooms.find("book").as_deref(), Some("r1"));
        assert_eq!(rooms.find("ya").as_deref(), Some("d1"));
        rooms.set("r2", "Book Fair");
        assert_eq!(rooms.find("book"), None);
        assert!(looks_like_an_id("dm_0a1b"));
        assert!(!looks_like_an_id("trip"));
    }
}
