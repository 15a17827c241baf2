//! Users as the read model has them: which exist, and their presence and status.

use chat_schemas::UserId;
use time::OffsetDateTime;

use super::ReadModel;
use crate::database::DbError;

/// A user's status as one caller may see it (`GET /getStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSeen {
    /// The stored status, if the user ever had one.
    pub status: Option<String>,
    pub last_seen: Option<OffsetDateTime>,
    /// The room the user is typing in, only while the typing lasts and only if the caller
    /// is a member of it.
    pub typing_in: Option<String>,
}

impl ReadModel {
    /// The account whose username folds to `key` (see [`crate::input::accounts::UsernameKey`]).
    pub async fn account_named(
        &self,
        key: &crate::input::accounts::UsernameKey,
    ) -> Result<Option<UserId>, DbError> {
        if !key.can_name_an_account() {
            return Ok(None);
        }
        let key = key.as_str().to_owned();
        self.with_client(|c| async move {
            Ok(c.query_opt(
                "SELECT user_id FROM accounts WHERE username_key = $1",
                &[&key],
            )
            .await?
            .map(|row| UserId(row.get(0))))
        })
        .await
    }

    /// Whether every one of `users` has an account.
    pub async fn users_exist(&self, users: &[UserId]) -> Result<bool, DbError> {
        if users.is_empty() {
            return Ok(true);
        }
        let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
        let wanted = ids.len() as i64;
        let found: i64 = self
            .with_client(|c| async move {
                Ok(c.query_one(
                    "SELECT count(*) FROM accounts WHERE user_id = ANY($1)",
                    &[&ids],
                )
                .await?
                .get(0))
            })
            .await?;
        Ok(found == wanted)
    }

    /// Those of `users` that have no account, in the order given.
    pub async fn unknown_users(&self, users: &[UserId]) -> Result<Vec<UserId>, DbError> {
        let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
        let known: Vec<uuid::Uuid> = self
            .with_client(|c| async move {
                let rows = c
                    .query(
                        "SELECT user_id FROM accounts WHERE user_id = ANY($1)",
                        &[&ids],
                    )
                    .await?;
                Ok(rows.iter().map(|r| r.get(0)).collect())
            })
            .await?;
        Ok(users
            .iter()
            .filter(|u| !known.contains(&u.0))
            .copied()
            .collect())
    }

    /// Current presence of existing users: (user, status, last seen).
    pub async fn presence_of(
        &self,
        users: &[UserId],
    ) -> Result<Vec<(UserId, String, Option<OffsetDateTime>)>, DbError> {
        let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
        self.with_client(|c| async move {
            let rows = c
                .query(
                    "SELECT a.user_id, COALESCE(p.status, 'offline'), p.last_seen \
                     FROM accounts a LEFT JOIN presence p ON p.user_id = a.user_id \
                     WHERE a.user_id = ANY($1)",
                    &[&ids],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| (UserId(r.get(0)), r.get(1), r.get(2)))
                .collect())
        })
        .await
    }

    /// `user`'s status as `viewer` may see it; `None` when there is no such user.
    pub async fn status_seen_by(
        &self,
        user: UserId,
        viewer: UserId,
    ) -> Result<Option<StatusSeen>, DbError> {
        self.with_client(|c| async move {
            let row = c
                .query_opt(
                    "SELECT p.status, p.last_seen, \
                            CASE WHEN p.typing_until > now() AND EXISTS ( \
                                   SELECT 1 FROM room_members m \
                                   WHERE m.room_id = p.typing_in AND m.user_id = $2) \
                                 THEN p.typing_in END \
                     FROM accounts a LEFT JOIN presence p ON p.user_id = a.user_id \
                     WHERE a.user_id = $1",
                    &[&user.0, &viewer.0],
                )
                .await?;
            Ok(row.map(|r| StatusSeen {
                status: r.get(0),
                last_seen: r.get(1),
                typing_in: r.get(2),
            }))
        })
        .await
    }
}
