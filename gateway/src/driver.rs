//! The I/O side of a connection after `hello`: reads frames, asks the [`Session`] what to
//! do, and does it against the real world (the command layer, fan-out, presence, replay,
//! the outbound queue), feeding results back. Protocol decisions stay in
//! [`crate::session`]; what is here is sockets, timers, tasks and the calls they make.
//!
//! Sends are pipelined: each is checked and enqueued on the NATS connection in the order
//! received (so a client's messages are stored in its order), and its PubAck is awaited in
//! a task of its own, at most `max_in_flight` at once; the outcome comes back to the
//! session, which only then answers the `ack`.

use axum::extract::ws::Message;
use chat_core::commands::{CommandError, PostedMessage};
use chat_core::sessions::AuthError;
use chat_schemas::{ClientMsgId, RoomId, UserId};
use futures::{FutureExt, StreamExt};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};

use crate::announce::Announced;
use crate::fanout::ConnectionId;
use crate::frames;
use crate::inbox::InboxReceiver;
use crate::memberships::Memberships;
use crate::outbound::{Outbound, OutboundSender};
use crate::resume;
use crate::session::{Action, Command, Done, Io, ReadFailure, RefusedFrame, Session, SessionCheck};
use crate::transport::FrameStream;
use crate::user_limits::Allowance;
use crate::GatewayState;

mod perform;

/// A send's outcome, on its way back from its task to the session.
type Posted = (String, Result<PostedMessage, CommandError>);

/// Where the outcomes of sends come back from their tasks. Its channel is made at the
/// connection's first send: an idle connection holds none (a channel allocates its first
/// block of 32 slots when it is made).
#[derive(Default)]
pub struct Outcomes {
    sender: Option<mpsc::UnboundedSender<Posted>>,
    receiver: Option<mpsc::UnboundedReceiver<Posted>>,
}

impl Outcomes {
    fn sender(&mut self) -> mpsc::UnboundedSender<Posted> {
        let (sender, receiver) = (&mut self.sender, &mut self.receiver);
        sender
            .get_or_insert_with(|| {
                let (sender, new_receiver) = mpsc::unbounded_channel();
                *receiver = Some(new_receiver);
                sender
            })
            .clone()
    }

    /// The next outcome; never, before the first send.
    async fn next(&mut self) -> Option<Posted> {
        match &mut self.receiver {
            Some(receiver) => receiver.recv().await,
            None => std::future::pending().await,
        }
    }

    /// Whether a send was made (its outcome may still be on its way).
    pub fn any(&self) -> bool {
        self.receiver.is_some()
    }
}

/// Whether the connection goes on after a batch of actions.
#[derive(PartialEq, Eq)]
enum Flow {
    Open,
    Closed,
}

/// One connection's handles on the world, for the session's actions.
pub struct Driver {
    pub state: GatewayState,
    pub id: ConnectionId,
    pub user: UserId,
    pub out: OutboundSender,
    /// Frames the user may still send now, shared by their connections here (see
    /// [`crate::user_limits`]).
    pub allowance: Arc<Allowance>,
    pub in_flight: Arc<Semaphore>,
    /// When the client last sent a command (pings and pongs do not count): for `away`.
    pub last_command: Instant,
    /// Tells the gateway's announcer when this connection goes idle or active again.
    pub announced: Announced,
    /// Proofs of membership of the rooms this connection joined or resumed.
    pub members: Memberships,
    /// The user's inbox notices (see [`crate::inbox`]), handed to the session between frames.
    pub inbox: InboxReceiver,
}

impl Driver {
    /// Says `hello`, then reads frames until the connection ends; returns where the
    /// outcomes of sends still in flight arrive, for [`answer_in_flight`].
    pub async fn run(&mut self, session: &mut Session, stream: &mut impl FrameStream) -> Outcomes {
        let mut outcomes = Outcomes::default();
        let hello = session.start();
        if self.execute(session, hello, &mut outcomes).await == Flow::Open {
            self.read_loop(session, stream, &mut outcomes).await;
        }
        outcomes
    }

    async fn read_loop(
        &mut self,
        session: &mut Session,
        stream: &mut impl FrameStream,
        outcomes: &mut Outcomes,
    ) {
        let config = self.state.config().clone();
        let mut idle_check =
            tokio::time::interval(config.away_after.max(Duration::from_secs(4)) / 4);
        // An absolute deadline: other wake-ups (the away check, acks) must not extend it.
        let mut heard_at = tokio::time::Instant::now();
        loop {
            let expiry = tokio::time::sleep(until(session.expires_at()));
            let silence = tokio::time::sleep_until(heard_at + config.idle_timeout);
            let next = tokio::select! {
                next = stream.next() => next,
                () = silence => {
                    let actions = session.on_silence();
                    self.execute(session, actions, outcomes).await;
                    return;
                }
                // The writer ended (slow consumer, shutdown, broken socket).
                () = self.out.closed() => return,
                () = expiry => {
                    let actions = session.on_token_expired();
                    self.execute(session, actions, outcomes).await;
                    return;
                }
                _ = idle_check.tick() => {
                    self.track_activity(false);
                    continue;
                }
                Some(notice) = self.inbox.recv() => {
                    let actions = session.on_inbox(Arc::unwrap_or_clone(notice));
                    self.execute(session, actions, outcomes).await;
                    continue;
                }
                Some((id, result)) = outcomes.next() => {
                    let actions = session.on_posted(id, result);
                    self.execute(session, actions, outcomes).await;
                    continue;
                }
            };
            heard_at = tokio::time::Instant::now();
            let message = match next {
                None => return,
                Some(Err(e)) => {
                    let text = e.to_string();
                    let failure = ReadFailure::classify(&text);
                    if failure == ReadFailure::Other {
                        tracing::debug!(error = %text, "connection read error");
                    }
                    let actions = session.on_read_failure(failure);
                    self.execute(session, actions, outcomes).await;
                    return;
                }
                Some(Ok(Message::Close(_))) => return,
                Some(Ok(message)) => message,
            };
            // Every frame counts against the user's allowance, control frames included:
            // a flood of pings or binary frames costs the server as much as text.
            metrics::counter!("chat_gateway_frames_in_total").increment(1);
            let actions = if let Err(wait) = self.allowance.take() {
                let refused = match &message {
                    Message::Text(text) => RefusedFrame::Text(frames::request_id(text)),
                    Message::Binary(_) => RefusedFrame::Binary,
                    _ => RefusedFrame::Control,
                };
                session.on_rate_limited(refused, wait)
            } else {
                match message {
                    Message::Text(text) => {
                        self.track_activity(true);
                        session.on_text(&text)
                    }
                    Message::Binary(_) => session.on_binary(),
                    Message::Close(_) | Message::Ping(_) | Message::Pong(_) => {
                        session.on_control();
                        Vec::new()
                    }
                }
            };
            if self.execute(session, actions, outcomes).await == Flow::Closed {
                return;
            }
        }
    }

    /// Carries out actions in order, feeding I/O results back to the session.
    async fn execute(
        &mut self,
        session: &mut Session,
        actions: Vec<Action>,
        outcomes: &mut Outcomes,
    ) -> Flow {
        let mut queue = VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Reply(frame) => {
                    self.push(Outbound::Reply(frames::encode(&frame))).await;
                }
                Action::BeginReplay { room, from } => {
                    self.push(Outbound::BeginReplay { room, from }).await;
                }
                Action::EndReplay {
                    room,
                    result,
                    skip_to,
                } => {
                    let result = frames::encode(&result);
                    self.push(Outbound::EndReplay {
                        room,
                        result,
                        skip_to,
                    })
                    .await;
                }
                Action::Unsubscribe(room) => {
                    self.members.forget(&room);
                    self.state.fanout().unsubscribe(&room, self.id);
                    self.push(Outbound::Forget { room }).await;
                }
                Action::WatchPresence(users) => {
                    for user in users {
                        self.state.presence().watch(user, self.id, &self.out);
                    }
                }
                Action::CountPresence(room) => {
                    let read = self.state.commands().read_model().clone();
                    self.state.fanout().count_presence(&room, read);
                }
                Action::Post {
                    id,
                    room,
                    message,
                    client_msg_id,
                } => {
                    // Boxed, like `perform` below: an idle connection's task is as large as
                    // the largest thing it may await, so rare, deep futures live on the heap
                    // only while they run.
                    let refused =
                        Box::pin(self.post(id, room, &message, client_msg_id, outcomes)).await;
                    if let Some((id, e)) = refused {
                        queue.extend(session.on_posted(id, Err(e)));
                    }
                }
                Action::Close { code, reason } => {
                    self.out.close(code, reason);
                    return Flow::Closed;
                }
                Action::Io(io) => {
                    let done = Box::pin(self.perform(io)).await;
                    queue.extend(session.on_done(done));
                }
            }
        }
        Flow::Open
    }

    /// Checks and enqueues a message, and awaits its PubAck in a task of its own; returns
    /// the refusal when it could not be enqueued.
    async fn post(
        &self,
        id: String,
        room: RoomId,
        message: &str,
        client_msg_id: Option<ClientMsgId>,
        outcomes: &mut Outcomes,
    ) -> Option<(String, CommandError)> {
        let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
            return None;
        };
        // One message, one trace: this span is the root the publish, the projector's
        // apply and every gateway's fan-out continue.
        let span = tracing::info_span!("ws.send", room = %room);
        // A room this connection receives is one its user is a member of (fan-out drops
        // the subscription on `member.left`): no read-model query per message then.
        let commands = self.state.commands();
        let member = self
            .state
            .fanout()
            .is_subscribed(&room, self.id)
            .then(|| self.members.get(&room))
            .flatten();
        let posting = if let Some(member) = member {
            async move {
                commands
                    .begin_post_as(&member, message, None, client_msg_id)
                    .await
            }
            .boxed()
        } else {
            commands
                .begin_post(self.user, &room, message, None, client_msg_id)
                .boxed()
        };
        let pending = match tracing::Instrument::instrument(posting, span.clone()).await {
            Ok(pending) => pending,
            Err(e) => return Some((id, e)),
        };
        let posted_tx = outcomes.sender();
        let stored = async move {
            let _ = posted_tx.send((id, pending.finish().await));
            drop(permit);
        };
        tokio::spawn(tracing::Instrument::instrument(stored, span));
        None
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
        self.announced.idle(idle);
    }

    async fn push(&self, item: Outbound) {
        // A closed queue means the writer is gone; the reader ends on its own.
        let _ = self.out.push(item).await;
    }
}

/// Answers the sends still in flight when the reader stopped, as they are stored: the
/// writer keeps running until the last one is answered.
pub async fn answer_in_flight(mut session: Session, out: OutboundSender, outcomes: Outcomes) {
    // Only the tasks of sends still in flight hold a sender now: the loop ends with them.
    let Outcomes { sender, receiver } = outcomes;
    drop(sender);
    let Some(mut posted) = receiver else {
        return;
    };
    while let Some((id, result)) = posted.recv().await {
        for action in session.on_posted(id, result) {
            if let Action::Reply(frame) = action {
                let _ = out.push(Outbound::Reply(frames::encode(&frame))).await;
            }
        }
    }
}

/// Time left until `expires_at` (Unix seconds).
fn until(expires_at: u64) -> Duration {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Duration::from_secs(expires_at.saturating_sub(now))
}
