//! Preparing this product for a run. Accounts are written straight into the `accounts`
//! table (`DATABASE_URL`): registering tens of thousands through the api would spend
//! minutes in Argon2, which is not what a chat benchmark measures. Their password hash
//! is a marker no password matches, so these accounts cannot log in; the load generator
//! mints their tokens with the deployment's `JWT_SECRET` instead. The rooms are created
//! through the HTTP API by one owner (public rooms, which the clients then `join` over
//! the WebSocket, as users do).

use crate::cli::RunArgs;
use anyhow::{bail, Context};
use chat_core::tokens::{TokenConfig, Tokens};
use chat_schemas::UserId;
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::{json, Value};

/// Room creations in flight at once.
const CONCURRENCY: usize = 32;

pub fn tokens() -> anyhow::Result<Tokens> {
    Tokens::new(&TokenConfig::from_env().context("JWT_SECRET or JWT_SECRET_FILE")?)
}

/// Accounts inserted per statement.
const ACCOUNT_BATCH: usize = 5_000;

/// Creates an account for each user id (usernames `<label>-<n>`).
pub async fn create_accounts(label: &str, users: &[UserId]) -> anyhow::Result<()> {
    let url = chat_core::database::DatabaseConfig::from_env()?.url;
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .context("DATABASE_URL")?;
    tokio::spawn(connection);
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    for (b, batch) in users.chunks(ACCOUNT_BATCH).enumerate() {
        let ids: Vec<uuid::Uuid> = batch.iter().map(|u| u.0).collect();
        let names: Vec<String> = (0..batch.len())
            .map(|i| format!("{label}-{run}-{}", b * ACCOUNT_BATCH + i))
            .collect();
        db.execute(
            "INSERT INTO accounts (user_id, username, username_key, password_hash) \
             SELECT id, name, lower(name), 'load-generator account: no password' \
             FROM unnest($1::uuid[], $2::text[]) AS t(id, name)",
            &[&ids, &names],
        )
        .await
        .context("inserting accounts")?;
    }
    Ok(())
}

/// Creates `count` public rooms owned by `owner` and returns their ids.
pub async fn create_rooms(
    args: &RunArgs,
    owner: UserId,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let token = tokens()?.issue(owner)?;
    let client = reqwest::Client::new();
    let label = args.label.clone();
    stream::iter(0..count)
        .map(|i| {
            let name = format!("{label}-{i}");
            let (client, token) = (client.clone(), token.clone());
            async move { create_room(&client, &args.api, &token, &name).await }
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await
}

/// Creates one public room named `name` through the api, as `token`'s user.
pub async fn create_room(
    client: &reqwest::Client,
    api: &str,
    token: &str,
    name: &str,
) -> anyhow::Result<String> {
    let answer = client
        .post(format!("{}/rooms", api.trim_end_matches('/')))
        .bearer_auth(token)
        .json(&json!({"name": name, "visibility": "public"}))
        .send()
        .await
        .context("POST /rooms")?;
    let status = answer.status();
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("POST /rooms answered {status}: {body}");
    }
    body["roomId"]
        .as_str()
        .map(str::to_owned)
        .context("no roomId in the answer")
}
