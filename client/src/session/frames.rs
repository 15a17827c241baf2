//! What the session does with each server frame: `hello` resumes or joins, events are
//! deduplicated and shown (or held until their names are known), answers settle the
//! requests they name, errors are shown against what caused them.

use super::*;

impl Session {
    pub fn on_frame(&mut self, frame: ServerFrame) -> Vec<Action> {
        match frame {
            ServerFrame::Hello { user_id, .. } => {
                self.me = Some(user_id);
                self.on_hello()
            }
            ServerFrame::Ack {
                id,
                seq,
                message_id,
                ..
            } => self.on_ack(&id, seq, message_id),
            ServerFrame::Joined {
                id,
                room_id,
                last_seq,
            } => {
                self.outstanding.answered(&id);
                self.rooms.on_joined(&room_id, last_seq);
                if self.current.as_ref().is_some_and(|c| c.as_str() == room_id) {
                    self.seen_current();
                }
                // Scripts match on the id and position; a person reads the name.
                let note = if self.room_names.for_people() {
                    format!("* joined {}", self.room_names.label(&room_id))
                } else {
                    format!("* joined {room_id} lastSeq={last_seq}")
                };
                let mut actions = vec![Action::Note(note)];
                if self.rooms.is_wanted(&room_id) && self.shown_recent.insert(room_id.clone()) {
                    if let Ok(room) = RoomId::parse(&room_id) {
                        actions.push(Action::ShowRecent {
                            room,
                            up_to: last_seq,
                        });
                    }
                }
                actions
            }
            ServerFrame::Resumed {
                id,
                room_id,
                recovered,
                replayed,
                last_seq,
            } => {
                // A `join` with `lastSeq` also answers `resumed`, then `joined`.
                if matches!(self.outstanding.get(&id), Some(ClientFrame::Resume { .. })) {
                    self.outstanding.answered(&id);
                }
                self.rooms.resume_ended(&room_id, recovered, last_seq);
                let note = if recovered {
                    format!("* resumed {room_id} replayed={replayed}")
                } else {
                    format!("* resumed {room_id}: missed events could not be replayed; /history shows them")
                };
                vec![Action::Note(note)]
            }
            ServerFrame::Event {
                room_id,
                seq,
                prev_seq,
                event,
            } => self.on_event(room_id, seq, prev_seq, event),
            ServerFrame::Presence {
                user_id, status, ..
            } => {
                if self.presence.get(&user_id) == Some(&status) {
                    return Vec::new();
                }
                self.presence.insert(user_id.clone(), status.clone());
                self.show(PersonLine::Presence { user_id, status })
            }
            ServerFrame::RoomPresence {
                room_id,
                members,
                online,
            } => {
                if self.room_presence.get(&room_id) == Some(&(members, online)) {
                    return Vec::new();
                }
                let tag = self.room_names.tag(&room_id);
                let line = display::room_presence_line(&tag, members, online);
                self.room_presence.insert(room_id, (members, online));
                vec![Action::Print(line)]
            }
            ServerFrame::Typing {
                room_id, user_id, ..
            } => self.show(PersonLine::Typing { room_id, user_id }),
            ServerFrame::Error {
                id, code, message, ..
            } => self.on_error(id, code, message),
            ServerFrame::Pong { .. } => Vec::new(),
            // Inbox, profile and read-state frames: the inbox's are read in `crate::inbox`
            // before this enum sees them; the terminal shows no unread badges or "seen by".
            ServerFrame::RoomAdded { .. }
            | ServerFrame::RoomRemoved { .. }
            | ServerFrame::Profile { .. }
            | ServerFrame::ReadPosition { .. }
            | ServerFrame::Receipt { .. } => Vec::new(),
        }
    }

    /// A new connection: resume every room with a known position, then repeat every
    /// unanswered request (a pending `join` resumes from what is known, too).
    fn on_hello(&mut self) -> Vec<Action> {
        self.connections += 1;
        self.disconnected();
        let note = if self.connections == 1 {
            "* connected"
        } else {
            "* reconnected"
        };
        let mut actions = vec![Action::Note(note.into())];
        let pending = self.outstanding.pending();
        let joining: HashSet<&str> = pending
            .iter()
            .filter_map(|frame| match frame {
                ClientFrame::Join { room_id, .. } => Some(room_id.as_str()),
                _ => None,
            })
            .collect();
        for (room, position) in self.rooms.positions() {
            if !joining.contains(room.as_str()) {
                actions.extend(self.resume(room, position));
            }
        }
        for mut frame in pending {
            if let ClientFrame::Join {
                room_id, last_seq, ..
            } = &mut frame
            {
                *last_seq = self.rooms.position(room_id);
                self.outstanding.insert(frame.clone());
            }
            actions.push(Action::Send(frame));
        }
        actions
    }

    fn on_event(
        &mut self,
        room_id: String,
        seq: u64,
        prev_seq: u64,
        event: Envelope,
    ) -> Vec<Action> {
        let verdict = self.rooms.on_event(&room_id, seq, prev_seq);
        let rooms = &self.rooms;
        self.echoes
            .retain(|(room, seq)| rooms.is_wanted(room) && rooms.position(room) < Some(*seq));
        match verdict {
            Verdict::Show => {
                let watch = self.watch_newcomer(&event.body);
                if self.current.as_ref().is_some_and(|c| c.as_str() == room_id) {
                    self.seen_current();
                }
                let mut actions = self.show(PersonLine::Event { room_id, event });
                actions.extend(watch);
                actions
            }
            Verdict::Drop => Vec::new(),
            Verdict::Gap { from } => {
                let mut actions = vec![Action::Note(format!(
                    "* missed events in {room_id} after seq {from}: resuming"
                ))];
                actions.extend(self.resume(room_id, from));
                actions
            }
        }
    }

    fn on_ack(&mut self, id: &str, seq: Option<u64>, message_id: Option<String>) -> Vec<Action> {
        if self.read_ids.remove(id) {
            return Vec::new();
        }
        let seq_number = seq;
        let seq = seq.map_or_else(|| "-".to_owned(), |s| s.to_string());
        let note = match self.outstanding.answered(id) {
            Some(ClientFrame::Send { room_id, .. }) => {
                let note = format!(
                    "ok send {room_id} seq={seq} messageId={}",
                    message_id.as_deref().unwrap_or("-")
                );
                if let Some(seq) = seq_number.filter(|_| self.rooms.is_wanted(&room_id)) {
                    self.echoes.insert((room_id, seq));
                }
                note
            }
            Some(ClientFrame::Status { status, .. }) => format!("ok status {status}"),
            Some(ClientFrame::Leave { room_id, .. }) => {
                self.rooms.forget(&room_id);
                if self.current.as_ref().is_some_and(|c| c.as_str() == room_id) {
                    self.current = None;
                }
                format!("ok leave {room_id}")
            }
            _ => return Vec::new(),
        };
        vec![Action::Ack(note)]
    }

    fn on_error(&mut self, id: Option<String>, code: String, message: String) -> Vec<Action> {
        if id.as_ref().is_some_and(|id| self.read_ids.remove(id)) {
            return vec![Action::Note(format!(
                "error: marking a room read: {code}: {message}"
            ))];
        }
        let request = id.and_then(|id| self.outstanding.answered(&id));
        let context = match request {
            Some(ClientFrame::Send { room_id, .. }) => format!("send to {room_id}: "),
            Some(ClientFrame::Join { room_id, .. }) => {
                self.rooms.forget(&room_id);
                format!("join {room_id}: ")
            }
            Some(ClientFrame::Resume { rooms, .. }) => {
                let mut context = String::new();
                for RoomPosition { room_id, .. } in rooms {
                    self.rooms.forget(&room_id);
                    context = format!("resume {room_id}: ");
                }
                context
            }
            Some(ClientFrame::Leave { room_id, .. }) => format!("leave {room_id}: "),
            Some(ClientFrame::Status { .. }) => "status: ".into(),
            _ => String::new(),
        };
        vec![Action::Note(format!("error: {context}{code}: {message}"))]
    }

    /// The server sends presence for the members a room had when it was joined; someone
    /// who joins later is watched explicitly. Not repeated after a reconnect: resuming a
    /// room watches its members as they are then.
    fn watch_newcomer(&mut self, body: &EventBody) -> Option<Action> {
        let EventBody::MemberJoined { user_id } = body else {
            return None;
        };
        let user_id = user_id.to_string();
        if self.me.as_ref() == Some(&user_id) {
            return None;
        }
        Some(Action::Send(ClientFrame::Watch {
            id: self.outstanding.next_id(),
            user_ids: vec![user_id],
        }))
    }
}
