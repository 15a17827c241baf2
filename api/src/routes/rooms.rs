//! Rooms: `POST /rooms`, `POST /rooms/{roomId}/join`, `POST /rooms/{roomId}/leave`,
//! `GET /rooms`, `POST /dms`. Creation and membership are events on the room's subject;
//! each command waits for its projection so the caller can use the room at once.
//!
//! A direct room's id is keyed with the server secret (see `chat_core::directs`), so only
//! its two users learn it, from `POST /dms`; to anyone else every answer about it is the
//! answer about a room that does not exist (see `chat_core::commands`' rooms module).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chat_core::input::{CreateRoomPolicy, OpenDirectPolicy};
use chat_schemas::http::{CreateRoom, OpenDirect, RoomList, RoomRef};

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, RoomPath};
use crate::state::ApiState;

pub async fn create_room(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    JsonBody(body): JsonBody<CreateRoom>,
) -> Result<(StatusCode, Json<RoomRef>), ApiError> {
    state.limit_write(caller)?;
    let new_room = body.check(caller)?;
    state.limit_added(&new_room.members)?;
    let members = new_room.members.clone();
    let (room, published) = state.commands.create_room(caller, new_room).await?;
    state.charge_added(&members);
    Ok((
        StatusCode::CREATED,
        Json(RoomRef {
            room_id: room.to_string(),
            seq: Some(published.seq),
        }),
    ))
}

pub async fn join_room(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    RoomPath(room): RoomPath,
) -> Result<Json<RoomRef>, ApiError> {
    state.limit_write(caller)?;
    let joined = state.commands.join_room(caller, &room).await?;
    Ok(Json(RoomRef {
        room_id: room.to_string(),
        seq: joined.map(|p| p.seq),
    }))
}

/// Leaving is idempotent: leaving a room you are not in answers 200 without an event.
/// A direct room cannot be left (it could never be rejoined: it is private).
pub async fn leave_room(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    RoomPath(room): RoomPath,
) -> Result<Json<RoomRef>, ApiError> {
    state.limit_write(caller)?;
    let left = state.commands.leave_room(caller, &room).await?;
    Ok(Json(RoomRef {
        room_id: room.to_string(),
        seq: left.map(|p| p.seq),
    }))
}

pub async fn list_rooms(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
) -> Result<Json<RoomList>, ApiError> {
    let rooms = state
        .read
        .rooms_of(caller)
        .await?
        .into_iter()
        .map(|r| r.summary())
        .collect();
    Ok(Json(RoomList { rooms }))
}

/// The one direct-message room of the caller and `userId`: 201 when this call created it,
/// 200 when it already existed (also when two calls race: the stream admits one creation).
pub async fn open_direct(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    JsonBody(body): JsonBody<OpenDirect>,
) -> Result<(StatusCode, Json<RoomRef>), ApiError> {
    state.limit_write(caller)?;
    let other = body.check(caller)?;
    let opened = state
        .commands
        .open_direct(caller, other, state.tokens.direct_rooms())
        .await?;
    let status = match opened.created {
        Some(_) => StatusCode::CREATED,
        None => StatusCode::OK,
    };
    Ok((
        status,
        Json(RoomRef {
            room_id: opened.room.to_string(),
            seq: opened.created,
        }),
    ))
}
