//! A room's members: `POST /rooms/{roomId}/members` adds people to a group room (private
//! ones included) and `GET /rooms/{roomId}/members` lists the members, both for members of
//! the room only. Who is told what about rooms they are not in follows the rooms module of
//! `chat_core::commands` (a direct room is, to an outsider, a room that does not exist).

use axum::extract::State;
use axum::Json;
use chat_core::input::{int_param, AddMembersPolicy};
use chat_core::readmodel::Member;
use chat_schemas::http::{AddMembers, MemberList, MemberView, MembersAdded};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, QueryParams, RoomPath};
use crate::state::ApiState;
use crate::validate::format_time;

/// Members listed per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

pub async fn add_members(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    RoomPath(room): RoomPath,
    JsonBody(body): JsonBody<AddMembers>,
) -> Result<Json<MembersAdded>, ApiError> {
    state.limit_write(caller)?;
    let users = body.check(caller)?;
    state.limit_added(&users)?;
    let done = state.commands.add_members(caller, &room, &users).await?;
    state.charge_added(&done.added);
    Ok(Json(MembersAdded {
        room_id: room.to_string(),
        added: done.added.iter().map(ToString::to_string).collect(),
        seq: done.seq,
    }))
}

#[derive(Debug, Deserialize)]
pub struct MembersQuery {
    limit: Option<String>,
    after: Option<String>,
}

pub async fn list_members(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    RoomPath(room): RoomPath,
    QueryParams(q): QueryParams<MembersQuery>,
) -> Result<Json<MemberList>, ApiError> {
    let limit = int_param(q.limit.as_deref(), "limit", 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let members = state
        .commands
        .list_members(caller, &room, q.after.as_deref(), limit)
        .await?;
    Ok(Json(MemberList {
        members: members.into_iter().map(view).collect(),
    }))
}

fn view(member: Member) -> MemberView {
    MemberView {
        user_id: member.user.to_string(),
        username: member.username,
        display_name: member.display_name,
        status: member.status,
        last_seen: member.last_seen.map(format_time),
        last_read_seq: member.last_read_seq,
    }
}
