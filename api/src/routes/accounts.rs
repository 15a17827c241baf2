//! `POST /auth/register`, `POST /auth/login`, `POST /auth/logout`. Accounts are not chat
//! events: they live in Postgres only. Usernames are 3–32 characters of `[A-Za-z0-9_.-]`,
//! unique ignoring case (compared as their `UsernameKey`, the one fold used for
//! uniqueness, lookup and the per-username login limit); passwords 8–128 characters.
//! Registration may also set a `displayName` (a profile event, see `chat_core::commands`),
//! checked before the account is created. Both sign-in routes count against a per-client-address limit (each costs a password
//! hash), checked before anything else. Logging out ends every token of the
//! account and closes its sockets (see `chat_core::sessions`); a banned account cannot log
//! in (403 `account_banned`, told only to who knows the password).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chat_core::input::{people, CredentialsPolicy, UsernameKey};
use chat_schemas::http::{Credentials, Session};
use chat_schemas::UserId;

use crate::error::ApiError;
use crate::extract::{AuthUser, ClientAddress, JsonBody};
use crate::state::ApiState;

pub async fn register(
    State(state): State<ApiState>,
    ClientAddress(address): ClientAddress,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    state.limit_sign_in(address)?;
    let (username, password) = body.for_registration()?;
    // Checked before anything is stored: a bad name creates no account.
    let display_name = people::optional_display_name(&body.display_name)?;
    if let Some(name) = &display_name {
        state.commands.check_display_name_free(None, name).await?;
    }
    let hash = state.hasher.hash(password.to_owned()).await?;
    let user = UserId::generate();
    let key = UsernameKey::of(username);
    let created = state.accounts.create(user, username, &key, &hash).await?;
    if !created {
        return Err(ApiError::conflict(
            "username_taken",
            "that username is taken",
        ));
    }
    if let Some(name) = display_name {
        // The account row exists now, so the profile event can name it. Should the event
        // log refuse it, the caller hears so; the account stays and shows its username
        // until `PATCH /users/me` sets the name.
        state.commands.set_display_name(user, name).await?;
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
    ClientAddress(address): ClientAddress,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Json<Session>, ApiError> {
    state.limit_sign_in(address)?;
    // Only presence is checked: the registration rules would tell a guesser which
    // passwords cannot be right.
    let (username, password) = body.for_login()?;
    let key = UsernameKey::of(username);
    state.limit_login(&key)?;
    // A key no account can have is no such user (still hashed below, for equal timing).
    let account = state.accounts.for_login(&key).await?;
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let ok = state.hasher.verify(password.to_owned(), stored).await?;
    match (ok, account) {
        (true, Some(account)) if account.banned => Err(ApiError::forbidden(
            "account_banned",
            "this account is banned",
        )),
        (true, Some(account)) => Ok(Json(Session {
            user_id: account.user.to_string(),
            token: state
                .tokens
                .issue_for(account.user, account.token_generation)
                .map_err(ApiError::internal)?,
        })),
        _ => Err(ApiError::unauthorized(
            "invalid_credentials",
            "wrong username or password",
        )),
    }
}

/// Ends every session of the caller: all their tokens stop working and their open
/// WebSockets close with 4004, on every gateway.
pub async fn logout(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
) -> Result<StatusCode, ApiError> {
    state.sessions.revoke_all(caller).await?;
    Ok(StatusCode::NO_CONTENT)
}
