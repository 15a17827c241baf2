//! Account rows: creating an account and reading what a login checks. Accounts are not
//! chat events: they live in Postgres only, written here directly (logout and bans, which
//! also end tokens, are in [`crate::sessions`]). Input policy for them (username format,
//! the one fold names are compared in) is in [`crate::input::accounts`].

use chat_schemas::UserId;

use crate::database::DbError;
use crate::input::UsernameKey;
use crate::readmodel::ReadModel;

/// What a login checks about the account a username names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccount {
    pub user: UserId,
    /// The account's PHC password hash.
    pub password_hash: String,
    /// The token generation new tokens carry (see [`crate::sessions`]).
    pub token_generation: u64,
    pub banned: bool,
}

/// The account rows, over the read model's pool.
#[derive(Clone)]
pub struct Accounts {
    db: ReadModel,
}

impl Accounts {
    pub fn new(db: ReadModel) -> Self {
        Self { db }
    }

    /// Creates the account; `false` when its username key is taken.
    pub async fn create(
        &self,
        user: UserId,
        username: &str,
        key: &UsernameKey,
        password_hash: &str,
    ) -> Result<bool, DbError> {
        let (username, key, hash) = (
            username.to_owned(),
            key.as_str().to_owned(),
            password_hash.to_owned(),
        );
        let inserted = self
            .db
            .with_client(|c| async move {
                Ok(c.execute(
                    "INSERT INTO accounts (user_id, username, username_key, password_hash) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (username_key) DO NOTHING",
                    &[&user.0, &username, &key, &hash],
                )
                .await?)
            })
            .await?;
        Ok(inserted > 0)
    }

    /// The account named by `key`, if any. A key no account can have is not looked up.
    pub async fn for_login(&self, key: &UsernameKey) -> Result<Option<StoredAccount>, DbError> {
        if !key.can_name_an_account() {
            return Ok(None);
        }
        let key = key.as_str().to_owned();
        let row = self
            .db
            .with_client(|c| async move {
                Ok(c.query_opt(
                    "SELECT user_id, password_hash, token_generation, \
                     banned_at IS NOT NULL FROM accounts WHERE username_key = $1",
                    &[&key],
                )
                .await?)
            })
            .await?;
        Ok(row.map(|r| StoredAccount {
            user: UserId(r.get(0)),
            password_hash: r.get(1),
            token_generation: r.get::<_, i64>(2) as u64,
            banned: r.get(3),
        }))
    }
}
