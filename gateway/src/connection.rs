//! One WebSocket connection: authentication (at the handshake, or an `auth` frame first),
//! `hello`, then the reader loop that turns client frames into commands while the writer
//! task (see [`crate::outbound`]) sends replies and live events.
//!
//! Sends are pipelined: each is checked and enqueued on the NATS connection in the order
//! received (so a client's messages are stored in its order), and its PubAck is awaited in
//! a task of its own, at most `max_in_flight` at once.

use axum::extract::ws::{Message, WebSocket};
use chat_core::commands::CommandError;
use chat_core::sessions::AuthError;
use chat_core::tokens::Verified;
use chat_schemas::events::Status;

use chat_schemas::ws::{close, ClientFrame, RoomPosition, ServerFrame, PROTOCOL_VERSION};
use chat_schemas::{ClientMsgId, MessageId, RoomId, UserId};
use futures::{FutureExt, StreamExt};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use tokio::sync::Semaphore;

use crate::admission::{AddressSlot, UserSlot};
use crate::announce::{Announcer, ConnectionInfo};
use crate::fanout::ConnectionId;
use crate::frames::{self, Refusal};
use crate::outbound::{self, Outbound, OutboundSender};
use crate::resume::{self, ReplayOutcome};
use crate::user_limits::Allowance;
use crate::GatewayState;

/// What the handshake admitted: the user, when a valid token came with it, and the slots
/// counting this connection against its caps (see [`crate::admission`]), held until it
/// ends.
pub struct Admitted {
    pub user: Option<(Verified, UserSlot)>,
    pub address: AddressSlot,
}

/// Runs a connection to its end.
pub async fn run(state: GatewayState, socket: WebSocket, admitted: Admitted) {
    let Admitted { user, address } = admitted;
    let (sink, mut stream) = socket.split();
    let (verified, user_slot) = match user {
        Some(admitted) => admitted,
        None => match authenticate(&state, &mut stream).await {
            Ok(verified) => match state.admission().admit_user(verified.user) {
                Ok(slot) => (verified, slot),
                Err(full) => {
                    let refusal = Refused {
                        code: "too_many_connections",
                        detail: full.message().to_owned(),
                        close: close::TOO_MANY_CONNECTIONS,
                        reason: "too many connections",
                    };
                    return refusal.send(sink).await;
                }
            },
            Err(refusal) => return refusal.send(sink).await,
        },
    };
    let config = state.config().clone();
    let (out, queue) = outbound::channel(config.queue_frames, config.queue_bytes);
    let writer = tokio::spawn(outbound::write_loop(
        sink,
        queue,
        config.heartbeat_interval,
        state.shutdown_token(),
    ));
    user_slot.attach(verified.generation, &out);
    // A logout between the token check and the attach above sent its notice before this
    // connection could hear it: check once more now that a notice would reach it.
    if let Err(AuthError::Revoked) = state.sessions().check(&verified).await {
        out.close(
            close::SESSION_REVOKED,
            "session ended: logged out or banned",
        );
        drop(out);
        let _ = writer.await;
        return;
    }
    let mut session = Session {
        id: state.next_connection_id(),
        user: verified.user,
        expires_at: verified.expires_at,
        allowance: state.user_limits().allowance(verified.user),
        refused_in_a_row: 0,
        out,
        rooms: HashSet::new(),
        watching: HashSet::new(),
        in_flight: Arc::new(Semaphore::new(config.max_in_flight)),
        last_command: Instant::now(),
        idle: tokio::sync::watch::Sender::new(false),
        state: state.clone(),
    };
    metrics::gauge!("chat_gateway_connections").increment(1.0);
    let announcer = Announcer::start(
        state.commands().clone(),
        ConnectionInfo {
            user: session.user,
            connection_id: session.connection_id(),
            gateway_id: state.gateway_id().to_owned(),
            boot_id: state.boot_id().to_owned(),
        },
        session.idle.subscribe(),
    );
    session.say_hello().await;
    session.read_loop(&mut stream, config.idle_timeout).await;
    session.close_all();
    // The connection is over for its caps as soon as it stops reading.
    drop((user_slot, address));
    announcer.closed(ANNOUNCE_BOUND).await;
    metrics::gauge!("chat_gateway_connections").decrement(1.0);
    drop(session);
    let _ = writer.await;
    // Closing handshake: give the client a moment to answer our Close frame. Dropping the
    // socket at once would reset the connection under a client that is still sending
    // (pongs, say) and it would lose the Close frame and its code.
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
        while stream.next().await.is_some() {}
    })
    .await;
}

/// The error code for a `join` or `resume` beyond `max_rooms_per_connection`.
const TOO_MANY_ROOMS: &str = "too_many_rooms";

/// Most users one `watch` frame may name.
const MAX_WATCH: usize = 1_000;
/// Most users one connection watches in all (room members included).
const MAX_WATCHED: usize = 5_000;

/// Longest a closing connection waits for its `connection.closed` to be stored (it keeps
/// being retried after that; see [`crate::announce`]).
const ANNOUNCE_BOUND: Duration = Duration::from_secs(2);

/// How long a closing connection waits for the client's Close reply.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(2);

/// Why a connection ends before `hello`: an `error` frame, then a Close frame.
struct Refused {
    code: &'static str,
    detail: String,
    close: u16,
    reason: &'static str,
}

impl Refused {
    fn unauthenticated(reason: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code: "unauthenticated",
            detail: detail.into(),
            close: close::UNAUTHENTICATED,
            reason,
        }
    }

    async fn send(self, mut sink: futures::stream::SplitSink<WebSocket, Message>) {
        use futures::SinkExt;
        let _ = sink
            .send(Message::Text(frames::error(None, self.code, self.detail)))
            .await;
        let _ = sink
            .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                code: self.close,
                reason: self.reason.into(),
            })))
            .await;
    }
}

/// Waits for the first frame, which must be `auth` with a valid token of a live session.
async fn authenticate(
    state: &GatewayState,
    stream: &mut futures::stream::SplitStream<WebSocket>,
) -> Result<Verified, Refused> {
    let first = tokio::time::timeout(state.config().auth_timeout, stream.next())
        .await
        .map_err(|_| Refused::unauthenticated("authentication timeout", "no auth frame in time"))?;
    let Some(Ok(Message::Text(text))) = first else {
        return Err(Refused::unauthenticated(
            "unauthenticated",
            "the first frame must be auth",
        ));
    };
    let Ok(ClientFrame::Auth { token, .. }) = frames::decode(&text) else {
        return Err(Refused::unauthenticated(
            "unauthenticated",
            "the first frame must be auth",
        ));
    };
    match state.sessions().authenticate(&token).await {
        Ok(verified) => Ok(verified),
        // Not the client's fault: "try again later", not "log in again".
        Err(AuthError::Database(e)) => {
            tracing::warn!(error = %e, "cannot check a session for an auth frame");
            Err(Refused {
                code: "database_unavailable",
                detail: "the database is unavailable; retry shortly".to_owned(),
                close: TRY_AGAIN_LATER,
                reason: "database unavailable",
            })
        }
        Err(e) => Err(Refused::unauthenticated("invalid token", e.to_string())),
    }
}

/// RFC 6455's "Try Again Later".
const TRY_AGAIN_LATER: u16 = 1013;

struct Session {
    id: ConnectionId,
    user: UserId,
    /// When the connection's token expires (Unix seconds); an `auth` frame renews it.
    expires_at: u64,
    /// Frames the user may still send now, shared by their connections here (see
    /// [`crate::user_limits`]).
    allowance: Arc<Allowance>,
    /// Frames refused for the rate limit since the last accepted one.
    refused_in_a_row: u32,
    out: OutboundSender,
    /// Rooms this connection receives live.
    rooms: HashSet<RoomId>,
    /// Users whose presence this connection receives.
    watching: HashSet<UserId>,
    in_flight: Arc<Semaphore>,
    /// When the client last sent a command (pings and pongs do not count): for `away`.
    last_command: Instant,
    /// Whether this connection is idle, as told to its [`Announcer`].
    idle: tokio::sync::watch::Sender<bool>,
    state: GatewayState,
}

impl Session {
    fn connection_id(&self) -> String {
        format!("{}-{}", self.state.boot_id(), self.id)
    }

    /// Starts relaying these users' presence, and sends where each stands now. A
    /// connection watches at most [`MAX_WATCHED`] users in all (memory is per gateway).
    async fn watch(&mut self, users: Vec<UserId>) {
        let room_left = MAX_WATCHED.saturating_sub(self.watching.len());
        let users: Vec<UserId> = users.into_iter().take(room_left).collect();
        for user in &users {
            if self.watching.insert(*user) {
                self.state.presence().watch(*user, self.id, &self.out);
            }
        }
        let Ok(now) = self.state.commands().read_model().presence_of(&users).await else {
            return;
        };
        for (user, status, last_seen) in now {
            self.reply(ServerFrame::Presence {
                user_id: user.to_string(),
                status,
                last_seen: last_seen.and_then(|t| t.format(&Rfc3339).ok()),
            })
            .await;
        }
    }

    /// Watches the members of a room just joined, unless the room is too large.
    async fn watch_members(&mut self, room: &RoomId) {
        let limit = self.state.config().presence_member_limit;
        match self
            .state
            .commands()
            .read_model()
            .room_members(room, limit)
            .await
        {
            Ok(Some(members)) => {
                let others = members.into_iter().filter(|m| *m != self.user).collect();
                self.watch(others).await;
            }
            // Too many members for a list: counts instead (see `RoomPresence`).
            Ok(None) => {
                let read = self.state.commands().read_model().clone();
                if let Ok((members, online)) = read.room_presence_counts(room).await {
                    self.reply(ServerFrame::RoomPresence {
                        room_id: room.to_string(),
                        members,
                        online,
                    })
                    .await;
                }
                self.state.fanout().count_presence(room, read);
            }
            Err(_) => {}
        }
    }

    /// Reports this connection idle after `away_after` without commands, and active again
    /// on the next one. Whether the user is away is decided from all their connections, on
    /// every gateway (see `chat_projector::presence`), not by one connection.
    fn track_activity(&mut self, command: bool) {
        let idle = if command {
            self.last_command = Instant::now();
            false
        } else if self.last_command.elapsed() >= self.state.config().away_after {
            true
        } else {
            return;
        };
        self.idle
            .send_if_modified(|reported| std::mem::replace(reported, idle) != idle);
    }

    async fn say_hello(&mut self) {
        let rooms = self
            .state
            .commands()
            .read_model()
            .member_rooms(self.user)
            .await
            .unwrap_or_default();
        let config = self.state.config();
        self.reply(ServerFrame::Hello {
            protocol: PROTOCOL_VERSION,
            user_id: self.user.to_string(),
            connection_id: self.connection_id(),
            heartbeat_ms: config.heartbeat_interval.as_millis() as u64,
            idle_timeout_ms: config.idle_timeout.as_millis() as u64,
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
        })
        .await;
    }

    async fn read_loop(
        &mut self,
        stream: &mut futures::stream::SplitStream<WebSocket>,
        idle: Duration,
    ) {
        let mut idle_check =
            tokio::time::interval(self.state.config().away_after.max(Duration::from_secs(4)) / 4);
        // An absolute deadline: other wake-ups (the away check) must not extend it.
        let mut heard_at = tokio::time::Instant::now();
        loop {
            let expiry = tokio::time::sleep(self.until_expiry());
            let silence = tokio::time::sleep_until(heard_at + idle);
            let next = tokio::select! {
                next = stream.next() => Ok(next),
                _ = silence => Err(()),
                // The writer ended (slow consumer, shutdown, broken socket).
                _ = self.out.closed() => return,
                _ = expiry => {
                    self.send_error(None, "token_expired", "the token expired; reconnect with a fresh one").await;
                    return self.close(close::TOKEN_EXPIRED, "token expired").await;
                }
                _ = idle_check.tick() => {
                    self.track_activity(false);
                    continue;
                }
            };
            heard_at = tokio::time::Instant::now();
            let message = match next {
                Err(()) => return self.close(close::IDLE_TIMEOUT, "idle timeout").await,
                Ok(None) => return,
                Ok(Some(Err(e))) => return self.on_read_error(e).await,
                Ok(Some(Ok(message))) => message,
            };
            if let Message::Close(_) = message {
                return;
            }
            // Every frame counts against the user's allowance, control frames included:
            // a flood of pings or binary frames costs the server as much as text.
            metrics::counter!("chat_gateway_frames_in_total").increment(1);
            if let Err(wait) = self.allowance.take() {
                self.refused_in_a_row += 1;
                if self.refused_in_a_row >= self.state.config().flood_close_after {
                    return self
                        .close(close::TOO_MANY_REQUESTS, "rate limit exceeded")
                        .await;
                }
                // Control frames get no answer; text and binary learn how long to wait.
                let id = match &message {
                    Message::Text(text) => frames::request_id(text),
                    Message::Binary(_) => None,
                    _ => continue,
                };
                self.push(Outbound::Reply(frames::rate_limited(id, wait)))
                    .await;
                continue;
            }
            self.refused_in_a_row = 0;
            match message {
                Message::Text(text) => {
                    self.track_activity(true);
                    self.on_text(&text).await
                }
                Message::Binary(_) => {
                    self.send_error(
                        None,
                        "binary_not_supported",
                        "frames are JSON text; binary frames are ignored",
                    )
                    .await
                }
                Message::Close(_) | Message::Ping(_) | Message::Pong(_) => {}
            }
        }
    }

    async fn on_read_error(&mut self, error: axum::Error) {
        // tungstenite reports these as errors on read; the client gets the matching code.
        let text = error.to_string();
        if text.contains("UTF-8") || text.contains("utf-8") || text.contains("Utf8") {
            self.close(close::INVALID_PAYLOAD, "text frame is not valid UTF-8")
                .await
        } else if text.contains("too long")
            || text.contains("Space limit")
            || text.contains("too big")
        {
            self.close(close::MESSAGE_TOO_BIG, "frame too large").await
        } else {
            tracing::debug!(error = %text, "connection read error");
        }
    }

    async fn on_text(&mut self, text: &str) {
        let frame = match frames::decode(text) {
            Ok(frame) => frame,
            Err(Refusal { id, code, message }) => return self.send_error(id, code, message).await,
        };
        match frame {
            ClientFrame::Auth { id, token } => self.on_reauth(id, &token).await,
            ClientFrame::Ping { id } => self.reply(ServerFrame::Pong { id }).await,
            ClientFrame::Send {
                id,
                room_id,
                message,
                client_msg_id,
            } => self.on_send(id, room_id, message, client_msg_id).await,
            ClientFrame::Edit {
                id,
                room_id,
                message_id,
                message,
            } => {
                let result = match parse_target(&room_id, &message_id) {
                    Ok((room, msg)) => {
                        self.state
                            .commands()
                            .edit_message(self.user, &room, msg, &message)
                            .await
                    }
                    Err(e) => Err(e),
                };
                self.ack_or_error(id, result.map(|p| p.seq)).await
            }
            ClientFrame::Delete {
                id,
                room_id,
                message_id,
            } => {
                let result = match parse_target(&room_id, &message_id) {
                    Ok((room, msg)) => {
                        self.state
                            .commands()
                            .delete_message(self.user, &room, msg)
                            .await
                    }
                    Err(e) => Err(e),
                };
                self.ack_or_error(id, result.map(|p| p.seq)).await
            }
            ClientFrame::Typing { id, room_id } => {
                let result = match parse_room(&room_id) {
                    Ok(room) => self
                        .state
                        .commands()
                        .typing(self.user, room)
                        .await
                        .map(|_| ()),
                    Err(e) => Err(e),
                };
                // Typing is fire-and-forget: only a failure is answered.
                if let Err(e) = result {
                    self.send_command_error(id, e).await;
                }
            }
            ClientFrame::Status { id, status } => {
                let result = match Status::parse(&status) {
                    Some(s) if s != Status::Typing => {
                        self.state.commands().set_status(self.user, s, None).await
                    }
                    _ => Err(bad_input(
                        "invalid_status",
                        "status must be online, away or offline",
                    )),
                };
                self.ack_or_error(id, result.map(|p| p.seq)).await
            }
            ClientFrame::Join {
                id,
                room_id,
                last_seq,
            } => self.on_join(id, room_id, last_seq).await,
            ClientFrame::Leave { id, room_id } => self.on_leave(id, room_id).await,
            ClientFrame::Resume { id, rooms } => self.on_resume(id, rooms).await,
            ClientFrame::Watch { id, user_ids } => self.on_watch(id, user_ids).await,
        }
    }

    async fn on_send(
        &mut self,
        id: String,
        room_id: String,
        message: String,
        client_msg_id: Option<String>,
    ) {
        let room = match parse_room(&room_id) {
            Ok(room) => room,
            Err(e) => return self.send_command_error(Some(id), e).await,
        };
        let client_msg_id = match client_msg_id.map(|c| ClientMsgId::parse(&c)).transpose() {
            Ok(c) => c,
            Err(e) => {
                return self
                    .send_error(
                        Some(id),
                        "invalid_client_msg_id",
                        format!("clientMsgId {e}"),
                    )
                    .await
            }
        };
        let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
            return;
        };
        // One message, one trace: this span is the root the publish, the projector's
        // apply and every gateway's fan-out continue.
        let span = tracing::info_span!("ws.send", room = %room);
        // Membership is checked by the command layer (see `Commands::begin_post_as` for
        // posting under a membership it checked earlier).
        let posting = self
            .state
            .commands()
            .begin_post(self.user, &room, &message, None, client_msg_id)
            .boxed();
        let pending = tracing::Instrument::instrument(posting, span.clone()).await;
        let out = self.out.clone();
        let reply = async move {
            let frame = match pending {
                Ok(pending) => match pending.finish().await {
                    Ok(posted) => frames::encode(&ServerFrame::Ack {
                        id,
                        seq: Some(posted.seq),
                        message_id: Some(posted.message_id.to_string()),
                        timestamp: posted.timestamp.format(&Rfc3339).ok(),
                    }),
                    Err(e) => frames::error(Some(id), e.code, e.message),
                },
                Err(e) => frames::error(Some(id), e.code, e.message),
            };
            let _ = out.push(Outbound::Reply(frame)).await;
            drop(permit);
        };
        tokio::spawn(tracing::Instrument::instrument(reply, span));
    }

    async fn on_join(&mut self, id: String, room_id: String, last_seq: Option<u64>) {
        let room = match parse_room(&room_id) {
            Ok(room) => room,
            Err(e) => return self.send_command_error(Some(id), e).await,
        };
        if let Err(e) = self.room_cap(&room) {
            return self.send_command_error(Some(id), e).await;
        }
        if let Err(e) = self.state.commands().join_room(self.user, &room).await {
            return self.send_command_error(Some(id), e).await;
        }
        let outcome = match last_seq {
            Some(from) => self.resume_room(&id, &room, from).await,
            None => self.subscribe_live(&room).await,
        };
        match outcome {
            Ok(outcome) => {
                self.reply(ServerFrame::Joined {
                    id,
                    room_id: room.to_string(),
                    last_seq: outcome.last_seq,
                })
                .await
            }
            Err(e) => self.send_error(Some(id), "event_log_unavailable", e).await,
        }
    }

    /// A fresh token for the same user extends the connection past the old one's expiry.
    async fn on_reauth(&mut self, id: Option<String>, token: &str) {
        match self.state.tokens().verify_claims(token) {
            Ok(v) if v.user == self.user => {
                match self.state.sessions().check(&v).await {
                    Ok(()) => {}
                    Err(AuthError::Database(_)) => {
                        return self
                            .send_error(
                                id,
                                "database_unavailable",
                                "the database is unavailable; retry shortly",
                            )
                            .await
                    }
                    Err(e) => return self.send_error(id, "invalid_token", e.to_string()).await,
                }
                self.expires_at = self.expires_at.max(v.expires_at);
                if let Some(id) = id {
                    self.reply(ack(id)).await;
                }
            }
            Ok(_) => {
                self.send_error(id, "wrong_user", "a connection cannot change its user")
                    .await
            }
            Err(e) => self.send_error(id, "invalid_token", e.to_string()).await,
        }
    }

    /// Time left before the token expires.
    fn until_expiry(&self) -> Duration {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Duration::from_secs(self.expires_at.saturating_sub(now))
    }

    async fn on_watch(&mut self, id: String, user_ids: Vec<String>) {
        if user_ids.len() > MAX_WATCH {
            return self
                .send_error(
                    Some(id),
                    "invalid_frame",
                    format!("at most {MAX_WATCH} users per watch"),
                )
                .await;
        }
        let users: Result<Vec<UserId>, _> = user_ids.iter().map(|u| UserId::parse(u)).collect();
        let Ok(users) = users else {
            return self
                .send_error(Some(id), "invalid_user_id", "userIds must be user ids")
                .await;
        };
        self.reply(ack(id)).await;
        self.watch(users).await;
    }

    async fn on_leave(&mut self, id: String, room_id: String) {
        let room = match parse_room(&room_id) {
            Ok(room) => room,
            Err(e) => return self.send_command_error(Some(id), e).await,
        };
        match self.state.commands().leave_room(self.user, &room).await {
            Ok(left) => {
                self.stop_live(&room).await;
                self.reply(ServerFrame::Ack {
                    id,
                    seq: left.map(|p| p.seq),
                    message_id: None,
                    timestamp: None,
                })
                .await
            }
            Err(e) => self.send_command_error(Some(id), e).await,
        }
    }

    async fn on_resume(&mut self, id: String, positions: Vec<RoomPosition>) {
        let positions = resume::distinct_positions(positions);
        let cap = self.state.config().max_rooms_per_connection;
        if positions.len() > cap {
            let message = format!("a resume names at most {cap} distinct rooms");
            return self.send_error(Some(id), TOO_MANY_ROOMS, message).await;
        }
        for RoomPosition { room_id, last_seq } in positions {
            let room = match parse_room(&room_id) {
                Ok(room) => room,
                Err(e) => {
                    self.send_command_error(Some(id.clone()), e).await;
                    continue;
                }
            };
            if let Err(e) = self.state.commands().require_member(&room, self.user).await {
                self.send_command_error(Some(id.clone()), e).await;
                continue;
            }
            if let Err(e) = self.room_cap(&room) {
                self.send_command_error(Some(id.clone()), e).await;
                continue;
            }
            if let Err(e) = self.resume_room(&id, &room, last_seq).await {
                self.send_error(Some(id.clone()), "event_log_unavailable", e)
                    .await;
            }
        }
    }

    /// Holds back live events, subscribes, replays, then releases: see [`crate::resume`].
    async fn resume_room(
        &mut self,
        id: &str,
        room: &RoomId,
        from: u64,
    ) -> Result<ReplayOutcome, String> {
        self.push(Outbound::BeginReplay {
            room: room.clone(),
            from,
        })
        .await;
        let result = async {
            self.ensure_subscribed(room).await?;
            resume::replay_room(&self.state, &self.out, room, from)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        let outcome = result.clone().unwrap_or(ReplayOutcome {
            recovered: false,
            replayed: 0,
            last_seq: from,
        });
        let frame = frames::encode(&ServerFrame::Resumed {
            id: id.to_owned(),
            room_id: room.to_string(),
            recovered: outcome.recovered,
            replayed: outcome.replayed,
            last_seq: outcome.last_seq,
        });
        // Not recovered: the client reloads history up to `last_seq`; live events go on
        // from there (also when its position was beyond the room's end).
        let skip_to = (result.is_ok() && !outcome.recovered).then_some(outcome.last_seq);
        self.push(Outbound::EndReplay {
            room: room.clone(),
            result: frame,
            skip_to,
        })
        .await;
        result
    }

    /// Subscribes without replay; answers the room's latest sequence.
    async fn subscribe_live(&mut self, room: &RoomId) -> Result<ReplayOutcome, String> {
        self.ensure_subscribed(room).await?;
        let latest = self
            .state
            .fanout()
            .latest_in_room(room)
            .await
            .map_err(|e| e.to_string())?;
        Ok(ReplayOutcome {
            recovered: true,
            replayed: 0,
            last_seq: latest,
        })
    }

    async fn ensure_subscribed(&mut self, room: &RoomId) -> Result<(), String> {
        self.state
            .fanout()
            .subscribe(room, self.id, self.user, self.out.clone())
            .await
            .map_err(|e| e.to_string())?;
        if self.rooms.insert(room.clone()) {
            self.watch_members(room).await;
        }
        Ok(())
    }

    /// Refuses a room beyond the rooms a connection may receive at once.
    fn room_cap(&self, room: &RoomId) -> Result<(), CommandError> {
        let cap = self.state.config().max_rooms_per_connection;
        if self.rooms.contains(room) || self.rooms.len() < cap {
            return Ok(());
        }
        Err(bad_input(
            TOO_MANY_ROOMS,
            &format!("a connection receives at most {cap} rooms at once"),
        ))
    }

    async fn stop_live(&mut self, room: &RoomId) {
        if self.rooms.remove(room) {
            self.state.fanout().unsubscribe(room, self.id);
            self.push(Outbound::Forget { room: room.clone() }).await;
        }
    }

    fn close_all(&mut self) {
        for room in self.rooms.drain() {
            self.state.fanout().unsubscribe(&room, self.id);
        }
        self.state
            .presence()
            .unwatch_all(self.id, self.watching.drain());
    }

    async fn ack_or_error(&self, id: String, result: Result<u64, CommandError>) {
        match result {
            Ok(seq) => {
                self.reply(ServerFrame::Ack {
                    id,
                    seq: Some(seq),
                    message_id: None,
                    timestamp: None,
                })
                .await
            }
            Err(e) => self.send_command_error(Some(id), e).await,
        }
    }

    async fn send_command_error(&self, id: Option<String>, error: CommandError) {
        self.send_error(id, error.code, error.message).await
    }

    async fn send_error(&self, id: Option<String>, code: &str, message: impl Into<String>) {
        self.push(Outbound::Reply(frames::error(id, code, message)))
            .await
    }

    async fn reply(&self, frame: ServerFrame) {
        self.push(Outbound::Reply(frames::encode(&frame))).await
    }

    async fn close(&self, code: u16, reason: &'static str) {
        self.out.close(code, reason)
    }

    async fn push(&self, item: Outbound) {
        // A closed queue means the writer is gone; the reader ends on its own.
        let _ = self.out.push(item).await;
    }
}

fn bad_input(code: &'static str, message: &str) -> CommandError {
    CommandError::new(chat_core::commands::Failure::BadInput, code, message)
}

fn parse_room(raw: &str) -> Result<RoomId, CommandError> {
    RoomId::parse(raw).map_err(|e| bad_input("invalid_room_id", &format!("roomId {e}")))
}

/// The room and message an `edit` or `delete` is about.
fn parse_target(room_id: &str, message_id: &str) -> Result<(RoomId, MessageId), CommandError> {
    Ok((parse_room(room_id)?, parse_message_id(message_id)?))
}

fn parse_message_id(raw: &str) -> Result<MessageId, CommandError> {
    uuid::Uuid::parse_str(raw)
        .map(MessageId)
        .map_err(|_| bad_input("invalid_message_id", "messageId must be a UUID"))
}

/// An `ack` that carries nothing but the frame's `id`.
fn ack(id: String) -> ServerFrame {
    ServerFrame::Ack {
        id,
        seq: None,
        message_id: None,
        timestamp: None,
    }
}
