//! `POST /sendMessage` and `GET /getMessages`.
//!
//! A send is stored in JetStream (PubAck awaited) before it is answered; its `timestamp` is
//! the server's receive time, the sender's own clock is kept as `clientTimestamp`. The same
//! `clientMsgId` from the same sender in the same room yields the same message.
//!
//! `since=T` is a position, not a filter: a message whose timestamp is exactly `T` is the
//! one the client saw last (timestamps are unique per room, see
//! `chat_core::commands::clock`), and the page continues after it in `seq` order. A `T`
//! that is no message's timestamp starts at the room's first message stamped after `T`.
//! Concurrent senders' messages are stored in an order their clocks need not follow; a
//! filter `timestamp > T` would skip one stored after the client's last message but
//! stamped before it, a position cannot. Paging with the last timestamp seen therefore
//! returns every message exactly once.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chat_core::input::{parse_time, NewMessage, SendMessagePolicy};
use chat_core::readmodel::HistoryQuery;
use chat_schemas::http::{MessageAccepted, MessagePage, MessageView, SendMessage};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, QueryParams};
use crate::state::ApiState;
use crate::validate::{format_time, int_param, parse_room_id};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

pub async fn send_message(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    JsonBody(body): JsonBody<SendMessage>,
) -> Result<(StatusCode, Json<MessageAccepted>), ApiError> {
    let NewMessage {
        room,
        message,
        sender,
        client_time,
        client_msg_id,
    } = body.check()?;
    if sender != caller {
        return Err(ApiError::forbidden(
            "sender_mismatch",
            "senderId must be your own user id",
        ));
    }
    state.limit_write(caller)?;
    let posted = state
        .commands
        .post_message(caller, &room, message, Some(client_time), client_msg_id)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(MessageAccepted {
            message_id: posted.message_id.to_string(),
            room_id: room.to_string(),
            seq: posted.seq,
            timestamp: format_time(posted.timestamp),
        }),
    ))
}

/// Query parameters of `GET /getMessages`, as text so each can be named when wrong.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageQuery {
    room_id: Option<String>,
    limit: Option<String>,
    since: Option<String>,
    before_seq: Option<String>,
    after_seq: Option<String>,
    min_seq: Option<String>,
}

/// Oldest first. Without cursors: the most recent `limit`. With `afterSeq` or `since`: the
/// first `limit` after them (`since` as a position, see the module comment). With
/// `beforeSeq` only: the last `limit` before it.
pub async fn get_messages(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    QueryParams(q): QueryParams<MessageQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let room = match q.room_id.as_deref() {
        None | Some("") => {
            return Err(ApiError::bad_request("missing_field", "roomId is required"))
        }
        Some(raw) => parse_room_id(raw, "roomId")?,
    };
    let limit = int_param(q.limit.as_deref(), "limit", 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let before = int_param(q.before_seq.as_deref(), "beforeSeq", 1..=i64::MAX)?;
    let after = int_param(q.after_seq.as_deref(), "afterSeq", 0..=i64::MAX)?;
    let min_seq = int_param(q.min_seq.as_deref(), "minSeq", 0..=i64::MAX)?;
    let since = q
        .since
        .as_deref()
        .map(|s| {
            parse_time(s).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_parameter",
                    "since must be an RFC 3339 time, years 0000 to 9999",
                )
            })
        })
        .transpose()?;

    let query = HistoryQuery {
        limit,
        after_seq: after,
        before_seq: before,
        since,
    };
    let page = state
        .commands
        .read_history(caller, &room, query, min_seq.map(|m| m as u64))
        .await?;
    let messages = page
        .messages
        .into_iter()
        .map(|m| MessageView {
            message_id: m.message_id.to_string(),
            room_id: room.to_string(),
            sender_id: m.sender.to_string(),
            sender_name: m.sender_name,
            message: m.body,
            timestamp: format_time(m.sent_at),
            client_timestamp: m.client_timestamp.map(format_time),
            seq: m.seq,
            edited_at: m.edited_at.map(format_time),
            deleted: m.deleted,
            reactions: super::reactions::views(m.reactions),
        })
        .collect();
    Ok(Json(MessagePage {
        messages,
        projected_seq: page.projected_seq,
    }))
}
