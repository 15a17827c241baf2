//! Reactions: `POST /rooms/{roomId}/messages/{messageId}/reactions {emoji}` adds the
//! caller's reaction, `DELETE /rooms/{roomId}/messages/{messageId}/reactions/{emoji}` (the
//! emoji percent-encoded) takes it back. Both answer the message's reactions as the caller
//! now sees them. The rules are the command layer's (`chat_core::commands`' reactions
//! module), shared with the WebSocket `react` frame.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use chat_core::commands::Reacted;
use chat_core::input::reactions::message_id;
use chat_core::input::required_str;
use chat_core::readmodel::reactions::ReactionCount;
use chat_schemas::http::{AddReaction, ReactionView, ReactionsView};
use chat_schemas::{MessageId, RoomId};

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody};
use crate::state::ApiState;
use crate::validate::parse_room_id;

pub async fn add_reaction(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    path: Result<Path<(String, String)>, PathRejection>,
    JsonBody(body): JsonBody<AddReaction>,
) -> Result<Json<ReactionsView>, ApiError> {
    let Path((room, message)) = path.map_err(bad_path)?;
    let (room, message) = ids(&room, &message)?;
    let emoji = required_str(&body.emoji, "emoji")?;
    state.limit_write(caller)?;
    let reacted = state
        .commands
        .react(caller, &room, message, emoji, true)
        .await?;
    Ok(Json(view(&room, message, reacted)))
}

pub async fn remove_reaction(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Json<ReactionsView>, ApiError> {
    let Path((room, message, emoji)) = path.map_err(bad_path)?;
    let (room, message) = ids(&room, &message)?;
    state.limit_write(caller)?;
    let reacted = state
        .commands
        .react(caller, &room, message, &emoji, false)
        .await?;
    Ok(Json(view(&room, message, reacted)))
}

/// A path axum could not decode (not UTF-8 once percent-decoded), in the API's format.
fn bad_path(e: PathRejection) -> ApiError {
    ApiError::bad_request("invalid_path", e.body_text())
}

fn ids(room: &str, message: &str) -> Result<(RoomId, MessageId), ApiError> {
    Ok((parse_room_id(room, "roomId")?, message_id(message)?))
}

/// The answer both routes give, also the shape of each history message's `reactions`.
pub fn view(room: &RoomId, message: MessageId, reacted: Reacted) -> ReactionsView {
    ReactionsView {
        room_id: room.to_string(),
        message_id: message.to_string(),
        seq: reacted.seq,
        reactions: views(reacted.reactions),
    }
}

/// A message's reactions as the wire shows them (history and these routes alike).
pub fn views(counts: Vec<ReactionCount>) -> Vec<ReactionView> {
    counts
        .into_iter()
        .map(|r| ReactionView {
            emoji: r.emoji,
            count: r.count,
            me: r.me,
        })
        .collect()
}
