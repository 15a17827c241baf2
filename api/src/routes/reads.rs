//! Read state: `POST /rooms/{roomId}/read {seq}` moves the caller's read position in a
//! room forward (never back) and answers where it now is; `GET /rooms` shows each room's
//! `lastReadSeq` and `unreadCount` (see `rooms`). The rules are the command layer's
//! (`chat_core::commands`' reads module), shared with the WebSocket `read` frame.

use axum::extract::State;
use axum::Json;
use chat_core::input::reads::MarkReadPolicy;
use chat_schemas::http::{MarkRead, ReadPositionView};

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, RoomPath};
use crate::state::ApiState;

pub async fn mark_read(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    RoomPath(room): RoomPath,
    JsonBody(body): JsonBody<MarkRead>,
) -> Result<Json<ReadPositionView>, ApiError> {
    state.limit_write(caller)?;
    let seq = body.check()?;
    let position = state.commands.mark_read(caller, &room, seq).await?;
    Ok(Json(ReadPositionView {
        room_id: room.to_string(),
        last_read_seq: position.last_read_seq,
    }))
}
