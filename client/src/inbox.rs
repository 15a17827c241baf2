//! Frames of the per-user inbox that this client reads on its own terms: `roomAdded`,
//! `roomRemoved` and `profile`. They are parsed here, leniently (only the fields the
//! client uses), so the client works with servers that send them and with servers that
//! do not; a frame of a type nobody here knows is ignored, never an error (a newer server
//! may say more than this client understands).

use serde::Deserialize;

/// The room in a `roomAdded` frame: only what the client shows and needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddedRoom {
    pub room_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    /// In a direct room, the other person.
    #[serde(default)]
    pub peer_id: Option<String>,
    /// In a direct room, the other person's display name, so no lookup is needed.
    #[serde(default)]
    pub peer_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum InboxFrame {
    /// The user became a member of a room (by any path, on any device).
    RoomAdded { room: AddedRoom },
    /// The user left or was removed from a room.
    RoomRemoved { room_id: String },
    /// Someone's display name changed.
    Profile {
        user_id: String,
        display_name: String,
    },
}

/// The frame types [`InboxFrame`] reads.
const TYPES: [&str; 3] = ["roomAdded", "roomRemoved", "profile"];

/// `Some` for a frame of an inbox type (`Err` if it is malformed), `None` for any other.
pub fn parse(frame: &serde_json::Value) -> Option<Result<InboxFrame, serde_json::Error>> {
    let kind = frame.get("type")?.as_str()?;
    TYPES
        .contains(&kind)
        .then(|| serde_json::from_value(frame.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inbox_frames_parse_leniently_and_other_types_are_not_theirs() {
        let added = json!({"type": "roomAdded", "room": {"roomId": "r1", "name": "ops",
            "kind": "group", "memberCount": 3, "somethingNew": true}});
        assert_eq!(
            parse(&added).unwrap().unwrap(),
            InboxFrame::RoomAdded {
                room: AddedRoom {
                    room_id: "r1".into(),
                    name: "ops".into(),
                    kind: "group".into(),
                    peer_id: None,
                    peer_name: None
                }
            }
        );
        let profile = json!({"type": "profile", "userId": "u", "displayName": "Zoë"});
        assert!(matches!(
            parse(&profile),
            Some(Ok(InboxFrame::Profile { .. }))
        ));
        assert!(parse(&json!({"type": "roomRemoved"})).unwrap().is_err());
        assert!(parse(&json!({"type": "event"})).is_none());
        assert!(parse(&json!({"type": "readPosition", "roomId": "r"})).is_none());
    }
}
