//! People as the directory shows them: `{userId, username, displayName}` and nothing else
//! (no rooms, memberships, presence or read positions), so that any signed-in user may
//! look anyone up. A user who never set a display name shows their username; that default
//! is computed here, at read time, so it needs no event.

use chat_schemas::UserId;

use super::ReadModel;
use crate::database::DbError;

/// One person as the directory shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub user: UserId,
    pub username: String,
    pub display_name: String,
}

/// The columns of a [`Person`], with the display name defaulting to the username.
const PERSON_SQL: &str = "SELECT a.user_id, a.username, COALESCE(p.display_name, a.username) \
     FROM accounts a LEFT JOIN profiles p ON p.user_id = a.user_id";

fn person(row: &tokio_postgres::Row) -> Person {
    Person {
        user: UserId(row.get(0)),
        username: row.get(1),
        display_name: row.get(2),
    }
}

impl ReadModel {
    /// `user`, if there is such an account.
    pub async fn person(&self, user: UserId) -> Result<Option<Person>, DbError> {
        self.with_client(|c| async move {
            let sql = format!("{PERSON_SQL} WHERE a.user_id = $1");
            Ok(c.query_opt(&sql, &[&user.0]).await?.as_ref().map(person))
        })
        .await
    }

    /// Those of `users` that exist (unknown ids are simply absent), by username.
    pub async fn people(&self, users: &[UserId]) -> Result<Vec<Person>, DbError> {
        let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
        self.with_client(|c| async move {
            let sql = format!("{PERSON_SQL} WHERE a.user_id = ANY($1) ORDER BY a.username_key");
            Ok(c.query(&sql, &[&ids]).await?.iter().map(person).collect())
        })
        .await
    }

    /// At most `limit` people whose username or display name starts with `prefix`,
    /// ignoring case, by username. The prefix is compared with `starts_with`, never as a
    /// LIKE pattern, so `%`, `_` and `\` match only themselves.
    pub async fn search_people(&self, prefix: &str, limit: i64) -> Result<Vec<Person>, DbError> {
        let prefix = prefix.to_owned();
        self.with_client(|c| async move {
            let sql = format!(
                "{PERSON_SQL} \
                 WHERE starts_with(lower(a.username), lower($1)) \
                    OR starts_with(lower(COALESCE(p.display_name, a.username)), lower($1)) \
                 ORDER BY a.username_key LIMIT $2"
            );
            Ok(c.query(&sql, &[&prefix, &limit])
                .await?
                .iter()
                .map(person)
                .collect())
        })
        .await
    }
}
