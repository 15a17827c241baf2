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
use chat_core::eventlog::StreamKind;
use chat_schemas::http::{MessageAccepted, MessagePage, MessageView, SendMessage};
use chat_schemas::input::{parse_time, NewMessage};
use serde::Deserialize;
use time::OffsetDateTime;

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

/// The last sequence stored in the room stream, if NATS can tell now (not asked while
/// disconnected: the call would wait).
async fn stored_room_seq(state: &ApiState) -> Option<u64> {
    let log = &state.commands.log;
    if !log.is_connected() {
        return None;
    }
    let stream = log
        .jetstream()
        .get_stream(log.settings().name(StreamKind::Rooms))
        .await
        .ok()?;
    Some(stream.cached_info().state.last_sequence)
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

    state.commands.require_member(&room, caller).await?;
    let mut projected = 0;
    if let Some(min) = min_seq.map(|m| m as u64) {
        let stream = state.commands.log.settings().name(StreamKind::Rooms);
        projected = state.read.checkpoint(stream).await?;
        // A sequence the stream has not reached was not answered to any send: waiting for
        // it would hold the request for the whole bound and end in a 503 "retry shortly"
        // that no retry can satisfy. (Without NATS there is no telling: wait as usual.)
        if projected < min {
            if let Some(stored) = stored_room_seq(&state).await {
                if min > stored {
                    return Err(ApiError::bad_request(
                        "invalid_parameter",
                        format!("minSeq {min} is beyond the last stored event (seq {stored})"),
                    ));
                }
            }
            projected = state
                .commands
                .wait_for_projection(StreamKind::Rooms, min)
                .await?;
        }
        if projected < min {
            return Err(ApiError::unavailable(
                "projection_behind",
                format!("history has reached seq {projected}, not yet {min}; retry shortly"),
            ));
        }
    }

    let ascending = after.is_some() || since.is_some();
    let room_key = room.as_str().to_owned();
    let stream = state
        .commands
        .log
        .settings()
        .name(StreamKind::Rooms)
        .to_owned();
    let (mut rows, checkpoint) = state
        .read
        .with_client(|c| async move {
            let sql = format!(
                "SELECT message_id, sender_id, body, sent_at, client_timestamp, seq, edited_at, deleted \
                 FROM messages WHERE room_id = $1 \
                   AND ($2::bigint IS NULL OR seq > $2) \
                   AND ($3::bigint IS NULL OR seq < $3) \
                   AND ($4::timestamptz IS NULL OR seq > COALESCE( \
                         (SELECT min(x.seq) FROM messages x \
                          WHERE x.room_id = $1 AND x.sent_at = $4), \
                         (SELECT min(x.seq) - 1 FROM messages x \
                          WHERE x.room_id = $1 AND x.sent_at > $4), \
                         (SELECT max(x.seq) FROM messages x WHERE x.room_id = $1))) \
                 ORDER BY seq {} LIMIT $5",
                if ascending { "ASC" } else { "DESC" }
            );
            let rows = c.query(&sql, &[&room_key, &after, &before, &since, &limit]).await?;
                        // As in ReadModel::checkpoint: the least advanced partition.
            let checkpoint = c
                .query_one(
                    "SELECT min(last_seq) FROM projector_checkpoints \
                     WHERE stream = $1 OR stream LIKE $1 || '/%'",
                    &[&stream],
                )
                .await?
                .get::<_, Option<i64>>(0)
                .unwrap_or(0);
            Ok((rows, checkpoint))
        })
        .await?;
    if !ascending {
        rows.reverse();
    }
    let messages = rows
        .iter()
        .map(|r| MessageView {
            message_id: r.get::<_, uuid::Uuid>(0).to_string(),
            room_id: room.to_string(),
            sender_id: r.get::<_, uuid::Uuid>(1).to_string(),
            message: r.get(2),
            timestamp: format_time(r.get(3)),
            client_timestamp: r.get::<_, Option<OffsetDateTime>>(4).map(format_time),
            seq: r.get(5),
            edited_at: r.get::<_, Option<OffsetDateTime>>(6).map(format_time),
            deleted: r.get(7),
        })
        .collect();
    Ok(Json(MessagePage {
        messages,
        projected_seq: checkpoint.max(projected as i64),
    }))
}
