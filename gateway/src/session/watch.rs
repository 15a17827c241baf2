//! Presence a connection receives: the users a `watch` frame names and the members of the
//! rooms it joins, each answered with where they stand now and followed live after.

use chat_schemas::ws::ServerFrame;
use chat_schemas::UserId;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::replies::{ack, error};
use super::{reply, Action, Io, Session, Waiting};

/// Most users one `watch` frame may name.
pub(super) const MAX_WATCH: usize = 1_000;
/// Most users one connection watches in all (room members included): memory is per
/// gateway.
pub(super) const MAX_WATCHED: usize = 5_000;

impl Session {
    pub(super) fn on_watch(&mut self, id: String, user_ids: &[String]) -> Vec<Action> {
        if user_ids.len() > MAX_WATCH {
            return reply(error(
                Some(id),
                "invalid_frame",
                format!("at most {MAX_WATCH} users per watch"),
            ));
        }
        let users: Result<Vec<UserId>, _> = user_ids.iter().map(|u| UserId::parse(u)).collect();
        let Ok(users) = users else {
            return reply(error(
                Some(id),
                "invalid_user_id",
                "userIds must be user ids",
            ));
        };
        let mut actions = reply(ack(id));
        let (watch, io) = self.watch_users(users);
        actions.extend(watch);
        actions.extend(self.wait(Waiting::WatchPresence, io));
        actions
    }

    /// Starts relaying these users' presence (up to [`MAX_WATCHED`] in all), and returns
    /// the read of where each stands now.
    pub(super) fn watch_users(&mut self, users: Vec<UserId>) -> (Vec<Action>, Io) {
        let room_left = MAX_WATCHED.saturating_sub(self.watching.len());
        let users: Vec<UserId> = users.into_iter().take(room_left).collect();
        let new: Vec<UserId> = users
            .iter()
            .copied()
            .filter(|user| self.watching.insert(*user))
            .collect();
        let actions = if new.is_empty() {
            Vec::new()
        } else {
            vec![Action::WatchPresence(new)]
        };
        (actions, Io::PresenceOf(users))
    }
}

/// A `presence` frame per user, from their status now.
pub(super) fn presence_frames(rows: Vec<(UserId, String, Option<OffsetDateTime>)>) -> Vec<Action> {
    rows.into_iter()
        .map(|(user, status, last_seen)| {
            Action::Reply(ServerFrame::Presence {
                user_id: user.to_string(),
                status,
                last_seen: last_seen.and_then(|t| t.format(&Rfc3339).ok()),
            })
        })
        .collect()
}
