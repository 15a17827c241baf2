//! Choosing what a typed name means, from a directory's answer: pure, so the rules are
//! tested without a server.
//!
//! - `/dm <username>`: the person whose username is exactly that (ignoring case) wins;
//!   otherwise the one person found; otherwise the candidates are listed to choose from.
//! - `/join <room name>`: the room whose name is exactly that (ignoring case) wins, or the
//!   room with that id; otherwise the candidates are listed (a room is joined only when
//!   named exactly, since joining tells its members you are there).

use chat_schemas::http::{PersonView, PublicRoomView};

/// What a name pointed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick<T> {
    One(T),
    /// Several candidates and none named exactly: the person chooses.
    Several(Vec<T>),
    Nothing,
}

pub fn person(wanted: &str, found: Vec<PersonView>) -> Pick<PersonView> {
    let wanted = wanted.to_lowercase();
    if let Some(exact) = found.iter().find(|p| p.username.to_lowercase() == wanted) {
        return Pick::One(exact.clone());
    }
    match found.len() {
        0 => Pick::Nothing,
        1 => Pick::One(found.into_iter().next().expect("one person")),
        _ => Pick::Several(found),
    }
}

pub fn public_room(wanted: &str, found: Vec<PublicRoomView>) -> Pick<PublicRoomView> {
    let lower = wanted.to_lowercase();
    let exact = found
        .iter()
        .find(|r| r.name.to_lowercase() == lower)
        .or_else(|| found.iter().find(|r| r.room_id == wanted));
    match exact {
        Some(room) => Pick::One(room.clone()),
        None if found.is_empty() => Pick::Nothing,
        None => Pick::Several(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(username: &str, name: &str) -> PersonView {
        PersonView {
            user_id: format!("id-{username}"),
            username: username.into(),
            display_name: name.into(),
        }
    }

    fn r(id: &str, name: &str) -> PublicRoomView {
        PublicRoomView {
            room_id: id.into(),
            name: name.into(),
            member_count: 1,
            last_activity_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn an_exact_username_wins_a_single_match_is_taken_and_several_are_listed() {
        let found = vec![p("alice2", "Alice Two"), p("Alice", "Alice")];
        assert_eq!(person("alice", found), Pick::One(p("Alice", "Alice")));
        assert_eq!(
            person("ali", vec![p("alicia", "A")]),
            Pick::One(p("alicia", "A"))
        );
        let several = vec![p("alice2", "x"), p("alicia", "y")];
        assert_eq!(person("ali", several.clone()), Pick::Several(several));
        assert_eq!(person("zed", vec![]), Pick::Nothing);
    }

    #[test]
    fn a_room_is_picked_only_by_its_exact_name_or_id() {
        fn ids(pick: Pick<PublicRoomView>) -> Pick<String> {
            match pick {
                Pick::One(r) => Pick::One(r.room_id),
                Pick::Several(rs) => Pick::Several(rs.into_iter().map(|r| r.room_id).collect()),
                Pick::Nothing => Pick::Nothing,
            }
        }
        let found = vec![r("1", "Rust Beginners"), r("2", "rust")];
        assert_eq!(
            ids(public_room("RUST", found.clone())),
            Pick::One("2".into())
        );
        assert_eq!(ids(public_room("1", found)), Pick::One("1".into()));
        let one = vec![r("1", "Rust Beginners")];
        assert_eq!(
            ids(public_room("rus", one)),
            Pick::Several(vec!["1".into()])
        );
        assert_eq!(ids(public_room("go", vec![])), Pick::Nothing);
    }
}
