//! The commands the HTTP API answers (`/rooms`, `/create`, `/dm`, `/join <name>`,
//! `/people`, `/history`, `/who`) and the recent messages shown on joining a room: each
//! turns API answers into actions. Names in the answers (`senderName`, the directory,
//! member lists) go into the session's name cache on the way.

use chat_schemas::http::{MessageView, RoomSummary};
use chat_schemas::{RoomId, UserId};
use reqwest::StatusCode;

use super::{Client, RECENT_ON_JOIN};
use crate::api::ApiError;
use crate::input::Input;
use crate::names::{Known, Names, LOOKUP_BATCH};
use crate::resolve::{self, Pick};
use crate::room_names::looks_like_an_id;
use crate::session::Action;
use crate::{display, terminal};

/// How many candidates a name search shows.
const CANDIDATES: u32 = 10;

impl Client {
    /// The latest messages of a room just joined, up to `up_to`, oldest first: what a
    /// person needs to see what the conversation is about (later ones arrive live).
    pub(super) async fn show_recent(&mut self, room: &RoomId, up_to: u64) {
        if !self.session.knows_room_name(room.as_str()) {
            self.learn_room_names().await;
        }
        if up_to == 0 {
            return;
        }
        match self.api.recent(room, RECENT_ON_JOIN, up_to + 1).await {
            Ok(page) => {
                self.learn_senders(&page.messages);
                let tag = self.session.room_tag(room.as_str());
                for message in page.messages.iter().filter(|m| !m.deleted) {
                    terminal::print(&display::message_line(message, &tag, self.session.names()));
                }
            }
            Err(e) => terminal::note(&format!("error: recent messages of {room}: {e}")),
        }
    }

    /// The names of the user's rooms (`GET /rooms`), for rooms joined by id; a failure
    /// only leaves ids where names would be.
    pub(super) async fn learn_room_names(&mut self) {
        if let Ok(list) = self.api.rooms().await {
            self.name_rooms(&list.rooms).await;
        }
    }

    /// Group rooms by their names, direct rooms after the other person: `@<username>`,
    /// which is what people type (`/switch @ines`, `/dm ines`); usernames not known yet are
    /// looked up in one batch. `peerName` keeps the display names current and names the
    /// room (`@<peerName>`) if that lookup fails.
    async fn name_rooms(&mut self, rooms: &[RoomSummary]) {
        for room in rooms {
            if let (Some(peer), Some(name)) = (&room.peer_id, &room.peer_name) {
                self.session.names_mut().rename(peer, name);
            }
        }
        let unknown: Vec<String> = rooms
            .iter()
            .filter_map(|r| r.peer_id.clone())
            .filter(|p| {
                self.session
                    .names()
                    .get(p)
                    .is_none_or(|k| k.username.is_none())
            })
            .collect();
        if !unknown.is_empty() {
            for batch in unknown.chunks(LOOKUP_BATCH) {
                if let Ok(found) = self.api.people(batch).await {
                    let names = self.session.names_mut();
                    for p in &found.users {
                        names.learn(&p.user_id, &p.username, &p.display_name);
                    }
                }
            }
        }
        for room in rooms {
            let name = match &room.peer_id {
                Some(peer) => direct_name(self.session.names(), peer),
                None => room.name.clone(),
            };
            self.session.name_room(&room.room_id, &name);
        }
    }

    fn learn_senders(&mut self, messages: &[MessageView]) {
        let names = self.session.names_mut();
        for m in messages {
            names.rename(&m.sender_id, &m.sender_name);
        }
    }

    /// The commands answered by the HTTP API.
    pub(super) async fn query(&mut self, input: Input) -> Result<Vec<Action>, ApiError> {
        let actions = match input {
            Input::Rooms => {
                let list = self.api.rooms().await?;
                if list.rooms.is_empty() {
                    return Ok(vec![Action::Note("* no rooms".into())]);
                }
                self.name_rooms(&list.rooms).await;
                let for_people = self.keyboard.is_interactive();
                list.rooms
                    .iter()
                    .map(|room| {
                        let name = match room.peer_id {
                            Some(_) => self.session.room_label(&room.room_id),
                            None => room.name.clone(),
                        };
                        if for_people {
                            Action::Print(display::room_line_for_people(room, &name))
                        } else {
                            Action::Print(display::room_line(room, &name))
                        }
                    })
                    .collect()
            }
            Input::Create { name, private } => {
                let created = self.api.create_room(&name, private).await?;
                self.session.name_room(&created.room_id, &name);
                let mut actions = vec![Action::Note(format!("* created {}", created.room_id))];
                actions.extend(self.join_answered(&created.room_id)?);
                actions
            }
            Input::Join(target) => self.join_by_name(&target).await?,
            Input::Direct(target) => self.direct(&target).await?,
            Input::People(text) => {
                let found = self.api.search_people(&text, CANDIDATES).await?.users;
                if found.is_empty() {
                    return Ok(vec![Action::Note(format!("* no one found for {text:?}"))]);
                }
                found
                    .iter()
                    .map(|p| {
                        let names = self.session.names_mut();
                        names.learn(&p.user_id, &p.username, &p.display_name);
                        Action::Print(display::person_line(p))
                    })
                    .collect()
            }
            Input::Search(words) => self.search(&words).await?,
            Input::History(limit) => {
                let Some(room) = self.session.current_room().cloned() else {
                    return Ok(vec![no_current_room()]);
                };
                let known = self.session.known_seq(&room);
                let page = self.api.messages(&room, limit, known).await?;
                if page.messages.is_empty() {
                    return Ok(vec![Action::Note(format!("* no messages in {room}"))]);
                }
                self.learn_senders(&page.messages);
                let tag = self.session.room_tag(room.as_str());
                page.messages
                    .iter()
                    .map(|m| Action::Print(display::history_line(m, &tag, self.session.names())))
                    .collect()
            }
            Input::Who(None) => self.members().await?,
            Input::React { seq, emoji, add } => self.react(seq, &emoji, add).await?,
            Input::Name(name) => {
                let me = self.api.rename_me(&name).await?;
                self.session
                    .names_mut()
                    .learn(&me.user_id, &me.username, &me.display_name);
                vec![Action::Note(format!(
                    "* others now see you as {}",
                    me.display_name
                ))]
            }
            Input::Add(target) => {
                let Some(room) = self.session.current_room().cloned() else {
                    return Ok(vec![no_current_room()]);
                };
                let Some(user) = self.find_person(&target).await? else {
                    return Ok(vec![Action::Note(format!(
                        "error: no one found for {target:?}; /people <text> searches"
                    ))]);
                };
                let added = self.api.add_members(&room, &[user]).await?;
                let who = self.session.names().full_label(&user.to_string());
                let room = self.session.room_label(room.as_str());
                let note = if added.added.is_empty() {
                    format!("* {who} is already in {room}")
                } else {
                    format!("* added {who} to {room}")
                };
                vec![Action::Note(note)]
            }
            Input::Who(Some(target)) => {
                let Some(user) = self.find_person(&target).await? else {
                    return Ok(vec![Action::Note(format!(
                        "error: no one found for {target:?}; /people <text> searches"
                    ))]);
                };
                let status = self.api.status(user).await?;
                vec![Action::Print(display::status_line(
                    &status,
                    self.session.names(),
                ))]
            }
            _ => Vec::new(),
        };
        Ok(actions)
    }

    /// `/join <name or id>`: the room with that id (private rooms you were added to have no
    /// directory entry), else a room of yours this session knows by that name, else a public
    /// room of exactly that name, else the candidates.
    async fn join_by_name(&mut self, target: &str) -> Result<Vec<Action>, ApiError> {
        if looks_like_an_id(target) {
            return self.join_answered(target);
        }
        // One of your own rooms by the name this session knows it by (`/rooms`, `@vic`).
        if let Some(known) = self.session.find_room(target) {
            return self.join_answered(&known);
        }
        let found = match self.api.public_rooms(target, CANDIDATES).await {
            Ok(list) => list.rooms,
            // A server without the directory: the name can only be an id.
            Err(ApiError::Refused {
                status: StatusCode::NOT_FOUND,
                ..
            }) => Vec::new(),
            Err(e) => return Err(e),
        };
        match resolve::public_room(target, found) {
            Pick::One(room) => {
                self.session.name_room(&room.room_id, &room.name);
                self.join_answered(&room.room_id)
            }
            Pick::Several(rooms) => {
                let mut actions: Vec<Action> = rooms
                    .iter()
                    .map(|r| Action::Print(display::public_room_line(r)))
                    .collect();
                actions.push(Action::Note(format!(
                    "* no public room is called exactly {target:?}: /join one of these by its name or id"
                )));
                Ok(actions)
            }
            // Room ids are always generated (see `looks_like_an_id`), so a name that is no
            // public room's is not an id either.
            Pick::Nothing => Ok(vec![Action::Note(format!(
                "error: no public room called {target:?} (a private room is joined by its id)"
            ))]),
        }
    }

    /// `/dm <username or id>`: opens (or finds) the direct room and makes it current.
    async fn direct(&mut self, target: &str) -> Result<Vec<Action>, ApiError> {
        let user = match UserId::parse(target) {
            Ok(user) => user,
            Err(_) => {
                let found = self.api.search_people(target, CANDIDATES).await?.users;
                match resolve::person(target, found) {
                    Pick::One(person) => {
                        let names = self.session.names_mut();
                        names.learn(&person.user_id, &person.username, &person.display_name);
                        parse_user(&person.user_id)?
                    }
                    Pick::Several(people) => {
                        let mut actions: Vec<Action> = people
                            .iter()
                            .map(|p| Action::Print(display::person_line(p)))
                            .collect();
                        actions.push(Action::Note(format!(
                            "* several people match {target:?}: /dm <username> of one of them"
                        )));
                        return Ok(actions);
                    }
                    Pick::Nothing => {
                        return Ok(vec![Action::Note(format!(
                            "error: no one found for {target:?}; /people <text> searches"
                        ))])
                    }
                }
            }
        };
        let direct = self.api.open_direct(user).await?;
        let label = self.session.names().full_label(&user.to_string());
        let name = direct_name(self.session.names(), &user.to_string());
        self.session.name_room(&direct.room_id, &name);
        let mut actions = Vec::new();
        // The id is for scripts; a person is told who the conversation is with.
        if !self.keyboard.is_interactive() {
            actions.push(Action::Note(format!("* direct room {}", direct.room_id)));
        }
        actions.push(Action::Note(format!("* talking with {label}")));
        actions.extend(self.join_answered(&direct.room_id)?);
        Ok(actions)
    }

    /// A person by username (exactly, or the one match) or id.
    async fn find_person(&mut self, target: &str) -> Result<Option<UserId>, ApiError> {
        if let Ok(user) = UserId::parse(target) {
            if !self.session.names().is_settled(target) {
                let found = self.api.people(&[target.to_owned()]).await?.users;
                let names = self.session.names_mut();
                for p in &found {
                    names.learn(&p.user_id, &p.username, &p.display_name);
                }
            }
            return Ok(Some(user));
        }
        let found = self.api.search_people(target, CANDIDATES).await?.users;
        match resolve::person(target, found) {
            Pick::One(person) => {
                let names = self.session.names_mut();
                names.learn(&person.user_id, &person.username, &person.display_name);
                Ok(Some(parse_user(&person.user_id)?))
            }
            _ => Ok(None),
        }
    }

    /// `/who`: the current room's members with names and presence
    /// (`GET /rooms/{roomId}/members`).
    async fn members(&mut self) -> Result<Vec<Action>, ApiError> {
        let Some(room) = self.session.current_room().cloned() else {
            return Ok(vec![no_current_room()]);
        };
        let list = self.api.members(&room).await?;
        let names = self.session.names_mut();
        for m in &list.members {
            if !m.username.is_empty() {
                let shown = if m.display_name.is_empty() {
                    &m.username
                } else {
                    &m.display_name
                };
                names.learn(&m.user_id, &m.username, shown);
            }
        }
        let names = self.session.names();
        Ok(list
            .members
            .iter()
            .map(|m| {
                let status = m.status.as_deref().unwrap_or("offline");
                Action::Print(display::member_line(&names.full_label(&m.user_id), status))
            })
            .collect())
    }

    /// Joins a room whose id the server just gave us.
    fn join_answered(&mut self, room_id: &str) -> Result<Vec<Action>, ApiError> {
        let room = RoomId::parse(room_id)
            .map_err(|e| ApiError::Unexpected(format!("room id {room_id:?} {e}")))?;
        Ok(self.session.join(room))
    }
}

/// A direct room is called after the other person: `@<username>` (their display name if
/// the username is not known).
fn direct_name(names: &Names, peer: &str) -> String {
    match names.get(peer) {
        Some(Known {
            username: Some(username),
            ..
        }) => format!("@{username}"),
        _ => format!("@{}", names.label(peer)),
    }
}

pub(super) fn no_current_room() -> Action {
    Action::Note("error: no current room: /join, /create or /switch first".into())
}

fn parse_user(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|e| ApiError::Unexpected(format!("user id {raw:?} {e}")))
}
