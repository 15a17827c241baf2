//! People: `GET /users/me`, `PATCH /users/me`, `GET /users` and `GET /users/{userId}`.
//!
//! Every answer is `{userId, username, displayName}` and nothing more, so any signed-in
//! user may look anyone up: the directory never tells who is in which room, who talks to
//! whom, or how far anyone has read. Searching is a case-insensitive literal prefix of the
//! username or the display name, never an empty query (no listing of every account), and
//! is rate limited per caller.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use chat_core::input::people::{self, Lookup};
use chat_core::readmodel::Person;
use chat_schemas::http::{PersonList, PersonView, UpdateProfile};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, QueryParams};
use crate::state::ApiState;
use crate::validate::parse_user_id;

fn view(person: Person) -> PersonView {
    PersonView {
        user_id: person.user.to_string(),
        username: person.username,
        display_name: person.display_name,
    }
}

fn user_not_found() -> ApiError {
    ApiError::not_found("user_not_found", "no such user")
}

pub async fn get_me(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
) -> Result<Json<PersonView>, ApiError> {
    let person = state
        .read
        .person(caller)
        .await?
        .ok_or_else(user_not_found)?;
    Ok(Json(view(person)))
}

pub async fn update_me(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    JsonBody(body): JsonBody<UpdateProfile>,
) -> Result<Json<PersonView>, ApiError> {
    let name = people::display_name(&body.display_name)?;
    state.limit_write(caller)?;
    let person = state.commands.set_display_name(caller, name).await?;
    Ok(Json(view(person)))
}

#[derive(Debug, Deserialize)]
pub struct UsersQuery {
    query: Option<String>,
    ids: Option<String>,
    limit: Option<String>,
}

pub async fn list_users(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    QueryParams(q): QueryParams<UsersQuery>,
) -> Result<Json<PersonList>, ApiError> {
    let lookup = people::lookup(q.query.as_deref(), q.ids.as_deref(), q.limit.as_deref())?;
    state.limit_search(caller)?;
    let found = match lookup {
        Lookup::Search { prefix, limit } => state.read.search_people(&prefix, limit).await?,
        Lookup::Ids(ids) => state.read.people(&ids).await?,
    };
    Ok(Json(PersonList {
        users: found.into_iter().map(view).collect(),
    }))
}

pub async fn get_user(
    State(state): State<ApiState>,
    AuthUser(_caller): AuthUser,
    user_id: Result<Path<String>, PathRejection>,
) -> Result<Json<PersonView>, ApiError> {
    let Path(raw) = user_id.map_err(|e| ApiError::bad_request("invalid_user_id", e.body_text()))?;
    let user = parse_user_id(&raw, "userId")?;
    let person = state.read.person(user).await?.ok_or_else(user_not_found)?;
    Ok(Json(view(person)))
}
