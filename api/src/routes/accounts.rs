//! `POST /auth/register`, `POST /auth/login`. Accounts are not chat events: they live in
//! Postgres only. Usernames are 3–32 characters of `[A-Za-z0-9_.-]`, unique ignoring case;
//! passwords 8–128 characters.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chat_schemas::http::{Credentials, Session};
use chat_schemas::UserId;

use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::passwords;
use crate::state::ApiState;
use crate::validate::required_str;

pub async fn register(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let (username, password) = credentials(&body)?;
    let hash = passwords::hash(password.to_owned()).await?;
    let user = UserId::generate();
    let username = username.to_owned();
    let inserted = state
        .read
        .with_client(|c| async move {
            Ok(c.execute(
                "INSERT INTO accounts (user_id, username, username_key, password_hash) \
                 VALUES ($1, $2, lower($2), $3) ON CONFLICT (username_key) DO NOTHING",
                &[&user.0, &username, &hash],
            )
            .await?)
        })
        .await?;
    if inserted == 0 {
        return Err(ApiError::conflict(
            "username_taken",
            "that username is taken",
        ));
    }
    let token = state.tokens.issue(user).map_err(ApiError::internal)?;
    Ok((
        StatusCode::CREATED,
        Json(Session {
            user_id: user.to_string(),
            token,
        }),
    ))
}

pub async fn login(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Json<Session>, ApiError> {
    // Only presence is checked: the registration rules would tell a guesser which
    // passwords cannot be right.
    let username = required_str(&body.username, "username")?.to_owned();
    let password = required_str(&body.password, "password")?;
    state.limit_login(&username)?;
    let row = state
        .read
        .with_client(|c| async move {
            Ok(c.query_opt(
                "SELECT user_id, password_hash FROM accounts WHERE username_key = lower($1)",
                &[&username],
            )
            .await?)
        })
        .await?;
    let (user, stored) = match row {
        Some(r) => (Some(UserId(r.get(0))), Some(r.get::<_, String>(1))),
        None => (None, None),
    };
    let ok = passwords::verify(password.to_owned(), stored).await?;
    match (ok, user) {
        (true, Some(user)) => Ok(Json(Session {
            user_id: user.to_string(),
            token: state.tokens.issue(user).map_err(ApiError::internal)?,
        })),
        _ => Err(ApiError::unauthorized(
            "invalid_credentials",
            "wrong username or password",
        )),
    }
}

fn credentials(body: &Credentials) -> Result<(&str, &str), ApiError> {
    let username = required_str(&body.username, "username")?;
    let password = required_str(&body.password, "password")?;
    if !(3..=32).contains(&username.len())
        || !username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(ApiError::bad_request(
            "invalid_username",
            "username must be 3 to 32 characters of letters, digits, '_', '.' or '-'",
        ));
    }
    let chars = password.chars().count();
    if !(8..=128).contains(&chars) {
        return Err(ApiError::bad_request(
            "invalid_password",
            "password must be 8 to 128 characters",
        ));
    }
    Ok((username, password))
}
