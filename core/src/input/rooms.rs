//! Room input: a new room's name, visibility and initial members, and the other user of
//! a direct room.

use chat_schemas::events::Visibility;
use chat_schemas::http::{AddMembers, CreateRoom, OpenDirect};
use chat_schemas::UserId;
use serde_json::Value;
use std::collections::BTreeSet;

use super::fields::{parse_user_id, required_str, user_id};
use super::names::check_name;
use super::InputError;

/// Most members a room may be created with.
pub const MAX_INITIAL_MEMBERS: usize = 1_000;
pub const MAX_ROOM_NAME_CHARS: usize = 100;

/// A checked `POST /rooms` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoom {
    /// Trimmed, 1 to [`MAX_ROOM_NAME_CHARS`] characters, nothing a name may not contain
    /// (see [`super::names`]).
    pub name: String,
    pub visibility: Visibility,
    /// Distinct, without the creator (who is always a member).
    pub members: Vec<UserId>,
}

/// The check of a `POST /rooms` body.
pub trait CreateRoomPolicy {
    fn check(&self, creator: UserId) -> Result<NewRoom, InputError>;
}

impl CreateRoomPolicy for CreateRoom {
    fn check(&self, creator: UserId) -> Result<NewRoom, InputError> {
        let name = required_str(&self.name, "name")?.trim().to_owned();
        check_name(&name, "name", "invalid_name")?;
        if name.chars().count() > MAX_ROOM_NAME_CHARS {
            return Err(InputError::new(
                "invalid_name",
                format!("name must be at most {MAX_ROOM_NAME_CHARS} characters"),
            ));
        }
        let visibility = match &self.visibility {
            Value::Null => Visibility::Public,
            Value::String(v) if v == "public" => Visibility::Public,
            Value::String(v) if v == "private" => Visibility::Private,
            _ => {
                return Err(InputError::new(
                    "invalid_visibility",
                    "visibility must be \"public\" or \"private\"",
                ))
            }
        };
        let members = member_list(&self.members, creator)?;
        Ok(NewRoom {
            name,
            visibility,
            members,
        })
    }
}

/// The `members` field: absent, or an array of user ids; the creator is implied.
fn member_list(value: &Value, creator: UserId) -> Result<Vec<UserId>, InputError> {
    let not_ids = || InputError::new("invalid_members", "members must be an array of user ids");
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err(not_ids()),
    };
    if items.len() > MAX_INITIAL_MEMBERS {
        return Err(InputError::new(
            "invalid_members",
            format!("at most {MAX_INITIAL_MEMBERS} members at creation"),
        ));
    }
    let mut set = BTreeSet::new();
    for item in items {
        let raw = item.as_str().ok_or_else(not_ids)?;
        set.insert(parse_user_id(raw, "members[]")?);
    }
    set.remove(&creator);
    Ok(set.into_iter().collect())
}

/// Most people one `POST /rooms/{roomId}/members` adds.
pub const MAX_ADDED_MEMBERS: usize = 100;

/// The check of a `POST /rooms/{roomId}/members` body.
pub trait AddMembersPolicy {
    /// The distinct users to add, without `caller` (already a member); never empty.
    fn check(&self, caller: UserId) -> Result<Vec<UserId>, InputError>;
}

impl AddMembersPolicy for AddMembers {
    fn check(&self, caller: UserId) -> Result<Vec<UserId>, InputError> {
        let invalid = |message: &str| InputError::new("invalid_user_ids", message);
        let Value::Array(items) = &self.user_ids else {
            return Err(invalid("userIds must be an array of 1 to 100 user ids"));
        };
        if items.len() > MAX_ADDED_MEMBERS {
            return Err(InputError::new(
                "too_many_ids",
                format!("at most {MAX_ADDED_MEMBERS} userIds at once"),
            ));
        }
        let mut set = BTreeSet::new();
        for item in items {
            let raw = item
                .as_str()
                .ok_or_else(|| invalid("userIds must be an array of user id strings"))?;
            let user = UserId::parse(raw)
                .map_err(|e| InputError::new("invalid_user_ids", format!("userIds[] {e}")))?;
            set.insert(user);
        }
        // Repeats collapse; the caller is a member already. Nothing left is a mistake.
        set.remove(&caller);
        if set.is_empty() {
            return Err(invalid("userIds must name at least one user besides you"));
        }
        Ok(set.into_iter().collect())
    }
}

/// The check of a `POST /dms` body.
pub trait OpenDirectPolicy {
    /// The other user of the direct room `caller` asks for.
    fn check(&self, caller: UserId) -> Result<UserId, InputError>;
}

impl OpenDirectPolicy for OpenDirect {
    fn check(&self, caller: UserId) -> Result<UserId, InputError> {
        let other = user_id(&self.user_id, "userId")?;
        if other == caller {
            return Err(InputError::new(
                "invalid_user_id",
                "you cannot open a direct room with yourself",
            ));
        }
        Ok(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn added_members_are_distinct_others_and_at_most_a_hundred() {
        let (me, other) = (UserId::generate(), UserId::generate());
        let body = |ids: Value| AddMembers { user_ids: ids };
        let ok = body(json!([
            other.to_string(),
            other.to_string(),
            me.to_string()
        ]));
        assert_eq!(ok.check(me).unwrap(), vec![other]);
        for bad in [
            Value::Null,
            json!([]),
            json!("x"),
            json!([1]),
            json!(["not-an-id"]),
            json!([me.to_string(), me.to_string()]),
        ] {
            assert_eq!(body(bad).check(me).unwrap_err().code, "invalid_user_ids");
        }
        let many: Vec<String> = (0..101).map(|_| UserId::generate().to_string()).collect();
        assert_eq!(
            body(json!(many)).check(me).unwrap_err().code,
            "too_many_ids"
        );
    }

    #[test]
    fn a_new_room_has_distinct_members_without_its_creator() {
        let (me, other) = (UserId::generate(), UserId::generate());
        let body = CreateRoom {
            name: json!("  general "),
            visibility: Value::Null,
            members: json!([me.to_string(), other.to_string(), other.to_string()]),
        };
        assert_eq!(
            body.check(me).unwrap(),
            NewRoom {
                name: "general".into(),
                visibility: Visibility::Public,
                members: vec![other],
            }
        );
    }
}
