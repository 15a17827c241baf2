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
use chat_core::commands::CommandError;
use chat_core::eventlog::PublishOptions;
use chat_core::readmodel::RoomAccess;
use chat_schemas::events::{Envelope, EventBody, RoomKind, Visibility};
use chat_schemas::http::{CreateRoom, OpenDirect, RoomList, RoomRef, RoomSummary};
use chat_schemas::input::NewRoom;
use chat_schemas::{RoomId, UserId};
use std::time::{Duration, Instant};

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, RoomPath};
use crate::state::ApiState;
use crate::validate::format_time;

pub async fn create_room(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    JsonBody(body): JsonBody<CreateRoom>,
) -> Result<(StatusCode, Json<RoomRef>), ApiError> {
    state.limit_write(caller)?;
    let NewRoom {
        name,
        visibility,
        members,
    } = body.check(caller)?;
    ensure_users_exist(&state, &members).await?;

    let room = RoomId::generate();
    let event = Envelope::room(
        caller,
        room.clone(),
        EventBody::RoomCreated {
            name,
            visibility,
            kind: RoomKind::Group,
            members,
        },
    );
    let options = PublishOptions {
        msg_id: Some(format!("create:{room}")),
        expect_new_subject: true,
    };
    let published = state.commands.publish_and_project(&event, options).await?;
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
    let rows = state
        .read
        .with_client(|c| async move {
            Ok(c.query(
                "SELECT r.room_id, r.name, r.visibility, r.kind, r.created_by, r.created_at, \
                        (SELECT count(*) FROM room_members x WHERE x.room_id = r.room_id), r.last_seq, \
                        CASE WHEN r.kind = 'direct' THEN (SELECT p.user_id FROM room_members p \
                             WHERE p.room_id = r.room_id AND p.user_id <> $1 LIMIT 1) END \
                 FROM rooms r JOIN room_members m ON m.room_id = r.room_id AND m.user_id = $1 \
                 ORDER BY r.last_seq DESC",
                &[&caller.0],
            )
            .await?)
        })
        .await?;
    let rooms = rows
        .iter()
        .map(|r| RoomSummary {
            room_id: r.get(0),
            name: r.get(1),
            visibility: r.get(2),
            kind: r.get(3),
            created_by: r.get::<_, uuid::Uuid>(4).to_string(),
            created_at: format_time(r.get(5)),
            member_count: r.get(6),
            last_seq: r.get(7),
            peer_id: r
                .get::<_, Option<uuid::Uuid>>(8)
                .map(|peer| peer.to_string()),
        })
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
    ensure_users_exist(&state, &[other]).await?;
    // The pair's room, whatever its id (made before ids were keyed, or under an earlier
    // secret); else the keyed id, the same for both users, so a race admits one creation.
    let room = match state.read.direct_room(caller, other).await? {
        Some(room) => room,
        None => state.tokens.direct_rooms().room(caller, other),
    };
    let existing = RoomRef {
        room_id: room.to_string(),
        seq: None,
    };
    if state.read.room_access(&room, caller).await? != RoomAccess::NoSuchRoom {
        return Ok((StatusCode::OK, Json(existing)));
    }
    let event = Envelope::room(
        caller,
        room.clone(),
        EventBody::RoomCreated {
            name: String::new(),
            visibility: Visibility::Private,
            kind: RoomKind::Direct,
            members: vec![other],
        },
    );
    let options = PublishOptions {
        msg_id: Some(format!("create:{room}")),
        expect_new_subject: true,
    };
    match state.commands.publish_and_project(&event, options).await {
        Ok(p) if !p.duplicate => Ok((
            StatusCode::CREATED,
            Json(RoomRef {
                room_id: room.to_string(),
                seq: Some(p.seq),
            }),
        )),
        Ok(_)
        | Err(CommandError {
            code: "already_exists",
            ..
        }) => {
            wait_until_room_exists(&state, &room, caller).await?;
            Ok((StatusCode::OK, Json(existing)))
        }
        Err(e) => Err(e.into()),
    }
}

async fn ensure_users_exist(state: &ApiState, users: &[UserId]) -> Result<(), ApiError> {
    if users.is_empty() {
        return Ok(());
    }
    let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
    let wanted = ids.len() as i64;
    let found: i64 = state
        .read
        .with_client(|c| async move {
            Ok(c.query_one(
                "SELECT count(*) FROM accounts WHERE user_id = ANY($1)",
                &[&ids],
            )
            .await?
            .get(0))
        })
        .await?;
    if found != wanted {
        return Err(ApiError::not_found(
            "user_not_found",
            "one or more users do not exist",
        ));
    }
    Ok(())
}

async fn wait_until_room_exists(
    state: &ApiState,
    room: &RoomId,
    caller: UserId,
) -> Result<(), ApiError> {
    let deadline = Instant::now() + state.config.projection_wait;
    while state.read.room_access(room, caller).await? == RoomAccess::NoSuchRoom {
        if Instant::now() >= deadline {
            return Err(ApiError::unavailable(
                "projection_behind",
                "the room exists but is not readable yet; retry shortly",
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
