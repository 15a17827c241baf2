//! Rooms a connection receives live: `join` (with or without a position), `leave`,
//! `resume`, and the sequence both `join` and `resume` go through for one room: hold back
//! live events, subscribe, watch the members, then replay from the position or answer the
//! room's latest sequence (see [`crate::resume`]).

use chat_core::commands::CommandError;
use chat_schemas::ws::{RoomPosition, ServerFrame};
use chat_schemas::RoomId;
use std::collections::VecDeque;

use super::replies::{self, command_error, error, TOO_MANY_ROOMS};
use super::{reply, Action, Command, Done, Io, Session, Waiting};
use crate::resume::{self, ReplayOutcome};

/// A `join` waiting for its command.
pub(super) struct Join {
    id: String,
    pub(super) room: RoomId,
    last_seq: Option<u64>,
}

/// A `resume` waiting for a room's membership check.
pub(super) struct Resume {
    id: String,
    room: RoomId,
    from: u64,
    rest: VecDeque<RoomPosition>,
}

/// One room on its way to being live.
pub(super) struct Stream {
    room: RoomId,
    /// The client's position, when it asked for a replay.
    from: Option<u64>,
    stage: Stage,
    /// The frame that asked for it, and what follows once it is live.
    origin: Origin,
}

#[derive(Clone, Copy)]
enum Stage {
    Subscribing,
    /// Reading the members to watch (a room new to the connection).
    Members,
    /// Reading where the members stand now, or how many are online.
    Watching,
    /// Replaying from the position, or reading the latest sequence.
    Finishing,
}

enum Origin {
    Join {
        id: String,
    },
    Resume {
        id: String,
        rest: VecDeque<RoomPosition>,
    },
}

impl Origin {
    fn id(&self) -> &str {
        match self {
            Origin::Join { id } | Origin::Resume { id, .. } => id,
        }
    }
}

impl Session {
    pub(super) fn on_join(
        &mut self,
        id: String,
        room_id: &str,
        last_seq: Option<u64>,
    ) -> Vec<Action> {
        let room = match replies::parse_room(room_id).and_then(|room| {
            self.room_cap(&room)?;
            Ok(room)
        }) {
            Ok(room) => room,
            Err(e) => return reply(command_error(Some(id), e)),
        };
        self.wait(
            Waiting::Join(Join {
                id,
                room: room.clone(),
                last_seq,
            }),
            Io::Command(Command::Join(room)),
        )
    }

    pub(super) fn joined(
        &mut self,
        join: Join,
        result: Result<Option<u64>, CommandError>,
    ) -> Vec<Action> {
        match result {
            Err(e) => reply(command_error(Some(join.id), e)),
            // It made the user a member: `roomAdded` goes first (see `inbox`).
            Ok(Some(_)) => self.announce_join(join),
            Ok(None) => self.join_stream(join),
        }
    }

    /// Makes the joined room live on this connection.
    pub(super) fn join_stream(&mut self, join: Join) -> Vec<Action> {
        self.start_stream(join.room, join.last_seq, Origin::Join { id: join.id })
    }

    pub(super) fn on_resume(&mut self, id: String, positions: Vec<RoomPosition>) -> Vec<Action> {
        let positions = resume::distinct_positions(positions);
        let cap = self.limits.max_rooms;
        if positions.len() > cap {
            let message = format!("a resume names at most {cap} distinct rooms");
            return reply(error(Some(id), TOO_MANY_ROOMS, message));
        }
        self.resume_next(id, positions.into(), Vec::new())
    }

    /// Moves a `resume` on to its next valid room, answering the invalid ones on the way.
    fn resume_next(
        &mut self,
        id: String,
        mut rest: VecDeque<RoomPosition>,
        mut actions: Vec<Action>,
    ) -> Vec<Action> {
        while let Some(RoomPosition { room_id, last_seq }) = rest.pop_front() {
            match replies::parse_room(&room_id) {
                Ok(room) => {
                    let check = Io::Command(Command::RequireMember(room.clone()));
                    let resume = Resume {
                        id,
                        room,
                        from: last_seq,
                        rest,
                    };
                    actions.extend(self.wait(Waiting::Resume(resume), check));
                    return actions;
                }
                Err(e) => actions.push(Action::Reply(command_error(Some(id.clone()), e))),
            }
        }
        actions
    }

    pub(super) fn member_checked(
        &mut self,
        resume: Resume,
        result: Result<Option<u64>, CommandError>,
    ) -> Vec<Action> {
        let Resume {
            id,
            room,
            from,
            rest,
        } = resume;
        match result.and_then(|_| self.room_cap(&room)) {
            Ok(()) => self.start_stream(room, Some(from), Origin::Resume { id, rest }),
            Err(e) => {
                let refused = vec![Action::Reply(command_error(Some(id.clone()), e))];
                self.resume_next(id, rest, refused)
            }
        }
    }

    fn start_stream(&mut self, room: RoomId, from: Option<u64>, origin: Origin) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(from) = from {
            actions.push(Action::BeginReplay {
                room: room.clone(),
                from,
            });
        }
        let subscribe = Io::Subscribe(room.clone());
        let stream = Stream {
            room,
            from,
            stage: Stage::Subscribing,
            origin,
        };
        actions.extend(self.wait(Waiting::Stream(stream), subscribe));
        actions
    }

    pub(super) fn stream_step(&mut self, mut stream: Stream, done: Done) -> Vec<Action> {
        match (stream.stage, done) {
            (Stage::Subscribing, Done::Subscribed(Err(e))) => self.stream_finished(stream, Err(e)),
            (Stage::Subscribing, Done::Subscribed(Ok(()))) => {
                if self.rooms.insert(stream.room.clone()) {
                    let io = Io::RoomMembers {
                        room: stream.room.clone(),
                        limit: self.limits.presence_member_limit,
                    };
                    stream.stage = Stage::Members;
                    return self.wait(Waiting::Stream(stream), io);
                }
                self.stream_finish(stream, Vec::new())
            }
            (Stage::Members, Done::RoomMembers(Some(Some(members)))) => {
                let others = members.into_iter().filter(|m| *m != self.user).collect();
                let (mut actions, io) = self.watch_users(others);
                stream.stage = Stage::Watching;
                actions.extend(self.wait(Waiting::Stream(stream), io));
                actions
            }
            // Too many members for a list: counts instead (see `RoomPresence`).
            (Stage::Members, Done::RoomMembers(Some(None))) => {
                stream.stage = Stage::Watching;
                let io = Io::RoomCounts(stream.room.clone());
                self.wait(Waiting::Stream(stream), io)
            }
            (Stage::Members, Done::RoomMembers(None)) => self.stream_finish(stream, Vec::new()),
            (Stage::Watching, Done::RoomCounts(counts)) => {
                let mut actions: Vec<Action> = counts
                    .map(|(members, online)| {
                        Action::Reply(ServerFrame::RoomPresence {
                            room_id: stream.room.to_string(),
                            members,
                            online,
                        })
                    })
                    .into_iter()
                    .collect();
                actions.push(Action::CountPresence(stream.room.clone()));
                self.stream_finish(stream, actions)
            }
            (Stage::Watching, Done::Presence(rows)) => {
                self.stream_finish(stream, super::watch::presence_frames(rows))
            }
            (Stage::Finishing, Done::Replayed(result)) => self.stream_finished(stream, result),
            (Stage::Finishing, Done::Latest(result)) => {
                let outcome = result.map(|latest| ReplayOutcome {
                    recovered: true,
                    replayed: 0,
                    last_seq: latest,
                });
                self.stream_finished(stream, outcome)
            }
            (_, done) => {
                debug_assert!(false, "an I/O result out of turn: {done:?}");
                Vec::new()
            }
        }
    }

    /// Subscribed and watching: replays from the position, or reads the latest sequence.
    fn stream_finish(&mut self, mut stream: Stream, mut actions: Vec<Action>) -> Vec<Action> {
        let room = stream.room.clone();
        let io = match stream.from {
            Some(from) => Io::Replay { room, from },
            None => Io::Latest(room),
        };
        stream.stage = Stage::Finishing;
        actions.extend(self.wait(Waiting::Stream(stream), io));
        actions
    }

    /// The room is live, or could not be made so: answers the frame that asked.
    fn stream_finished(
        &mut self,
        stream: Stream,
        result: Result<ReplayOutcome, String>,
    ) -> Vec<Action> {
        let Stream {
            room, from, origin, ..
        } = stream;
        let mut actions = Vec::new();
        if let Some(from) = from {
            let outcome = result.clone().unwrap_or(ReplayOutcome {
                recovered: false,
                replayed: 0,
                last_seq: from,
            });
            // Not recovered: the client reloads history up to `last_seq`; live events go
            // on from there (also when its position was beyond the room's end).
            let skip_to = (result.is_ok() && !outcome.recovered).then_some(outcome.last_seq);
            actions.push(Action::EndReplay {
                room: room.clone(),
                result: ServerFrame::Resumed {
                    id: origin.id().to_owned(),
                    room_id: room.to_string(),
                    recovered: outcome.recovered,
                    replayed: outcome.replayed,
                    last_seq: outcome.last_seq,
                },
                skip_to,
            });
        }
        match (origin, result) {
            (Origin::Join { id }, Ok(outcome)) => {
                actions.push(Action::Reply(ServerFrame::Joined {
                    id,
                    room_id: room.to_string(),
                    last_seq: outcome.last_seq,
                }))
            }
            (Origin::Join { id }, Err(e)) => {
                actions.push(Action::Reply(error(Some(id), "event_log_unavailable", e)));
            }
            (Origin::Resume { id, rest }, result) => {
                if let Err(e) = result {
                    let failed = error(Some(id.clone()), "event_log_unavailable", e);
                    actions.push(Action::Reply(failed));
                }
                return self.resume_next(id, rest, actions);
            }
        }
        actions
    }

    /// Stops receiving a room live, if it was.
    pub(super) fn stop_live(&mut self, room: &RoomId) -> Vec<Action> {
        if self.rooms.remove(room) {
            vec![Action::Unsubscribe(room.clone())]
        } else {
            Vec::new()
        }
    }

    /// Refuses a room beyond the rooms a connection may receive at once.
    fn room_cap(&self, room: &RoomId) -> Result<(), CommandError> {
        let cap = self.limits.max_rooms;
        if self.rooms.contains(room) || self.rooms.len() < cap {
            return Ok(());
        }
        Err(replies::bad_input(
            TOO_MANY_ROOMS,
            &format!("a connection receives at most {cap} rooms at once"),
        ))
    }
}
