//! The public room directory: `GET /rooms/public?query=&limit=`.
//!
//! Lists public group rooms only (a private or direct room is never named, not even its
//! existence), to signed-in callers, under the same per-user allowance as the people
//! directory (one limiter for every directory lookup, so alternating the two does not
//! double anyone's rate).

use axum::extract::State;
use axum::Json;
use chat_core::input::public_rooms::room_search;
use chat_schemas::http::{PublicRoomList, PublicRoomView};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{AuthUser, QueryParams};
use crate::state::ApiState;
use crate::validate::format_time;

#[derive(Debug, Deserialize)]
pub struct PublicRoomsQuery {
    query: Option<String>,
    limit: Option<String>,
}

pub async fn list_public_rooms(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    QueryParams(q): QueryParams<PublicRoomsQuery>,
) -> Result<Json<PublicRoomList>, ApiError> {
    let search = room_search(q.query.as_deref(), q.limit.as_deref())?;
    state.limit_search(caller)?;
    let rooms = state
        .read
        .search_public_rooms(&search.query, search.limit)
        .await?
        .into_iter()
        .map(|r| PublicRoomView {
            room_id: r.room_id,
            name: r.name,
            member_count: r.member_count,
            last_activity_at: format_time(r.last_activity_at),
        })
        .collect();
    Ok(Json(PublicRoomList { rooms }))
}
