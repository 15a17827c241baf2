//! The HTTP API calls the client makes: sign-in, rooms, direct rooms, history, status, the
//! people and public room directories, and member lists.
//! Non-success answers are turned into [`ApiError::Refused`] with the server's error code.

use chat_schemas::error::ErrorBody;
use chat_schemas::http::{
    MembersAdded, MessagePage, PersonList, PersonView, PublicRoomList, ReactionsView, RoomList,
    RoomRef, SearchResults, Session, StatusView,
};
use chat_schemas::{RoomId, UserId};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::time::Duration;

/// Bound on one HTTP call, so that a hung server never freezes the terminal for long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `GET /rooms/{roomId}/members`, as far as the client reads it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct MemberList {
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unreachable(String),
    #[error("{code}: {message} (HTTP {status})")]
    Refused {
        status: StatusCode,
        code: String,
        message: String,
    },
    #[error("unexpected answer from the server: {0}")]
    Unexpected(String),
}

/// A signed-in (or not yet signed-in) connection to the HTTP API.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl ApiClient {
    /// `base` is the server's base URL (`http://host:port`).
    pub fn new(base: Url) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .expect("an HTTP client without TLS always builds");
        Self {
            http,
            base,
            token: None,
        }
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// `POST /auth/register`; keeps the token.
    pub async fn register(&mut self, username: &str, password: &str) -> Result<Session, ApiError> {
        let body = json!({"username": username, "password": password});
        let session: Session = self
            .call(Method::POST, "auth/register", &[], Some(body))
            .await?;
        self.token = Some(session.token.clone());
        Ok(session)
    }

    /// `POST /auth/login`; keeps the token.
    pub async fn login(&mut self, username: &str, password: &str) -> Result<Session, ApiError> {
        let body = json!({"username": username, "password": password});
        let session: Session = self
            .call(Method::POST, "auth/login", &[], Some(body))
            .await?;
        self.token = Some(session.token.clone());
        Ok(session)
    }

    /// `GET /rooms`: the caller's rooms, most recently active first.
    pub async fn rooms(&self) -> Result<RoomList, ApiError> {
        self.call(Method::GET, "rooms", &[], None).await
    }

    /// `POST /rooms`: a new group room of which the caller is a member.
    pub async fn create_room(&self, name: &str, private: bool) -> Result<RoomRef, ApiError> {
        let visibility = if private { "private" } else { "public" };
        let body = json!({"name": name, "visibility": visibility});
        self.call(Method::POST, "rooms", &[], Some(body)).await
    }

    /// `POST /dms`: the direct room of the caller and `user`.
    pub async fn open_direct(&self, user: UserId) -> Result<RoomRef, ApiError> {
        let body = json!({"userId": user.to_string()});
        self.call(Method::POST, "dms", &[], Some(body)).await
    }

    /// `GET /getMessages`: the most recent `limit` messages of `room`, oldest first. With
    /// `min_seq` the server first waits (briefly) until its history has reached that `seq`,
    /// so what was already seen live is in it.
    pub async fn messages(
        &self,
        room: &RoomId,
        limit: u32,
        min_seq: Option<u64>,
    ) -> Result<MessagePage, ApiError> {
        let mut query = vec![("roomId", room.to_string()), ("limit", limit.to_string())];
        if let Some(seq) = min_seq {
            query.push(("minSeq", seq.to_string()));
        }
        self.call(Method::GET, "getMessages", &query, None).await
    }

    /// `GET /getMessages` before `before_seq`: the latest `limit` messages older than it.
    pub async fn recent(
        &self,
        room: &RoomId,
        limit: u32,
        before_seq: u64,
    ) -> Result<MessagePage, ApiError> {
        let query = [
            ("roomId", room.to_string()),
            ("limit", limit.to_string()),
            ("beforeSeq", before_seq.to_string()),
            ("minSeq", (before_seq - 1).to_string()),
        ];
        self.call(Method::GET, "getMessages", &query, None).await
    }

    /// `GET /users?query=`: people whose username or display name starts with `text`.
    pub async fn search_people(&self, text: &str, limit: u32) -> Result<PersonList, ApiError> {
        let query = [("query", text.to_owned()), ("limit", limit.to_string())];
        self.call(Method::GET, "users", &query, None).await
    }

    /// `GET /search?q=`: messages of the caller's rooms with these words.
    pub async fn search_messages(
        &self,
        words: &str,
        limit: u32,
    ) -> Result<SearchResults, ApiError> {
        let query = [("q", words.to_owned()), ("limit", limit.to_string())];
        self.call(Method::GET, "search", &query, None).await
    }

    /// `GET /users?ids=`: these people (at most [`crate::names::LOOKUP_BATCH`]).
    pub async fn people(&self, ids: &[String]) -> Result<PersonList, ApiError> {
        let query = [("ids", ids.join(","))];
        self.call(Method::GET, "users", &query, None).await
    }

    /// `GET /rooms/public?query=`: public rooms whose name contains `text`.
    pub async fn public_rooms(&self, text: &str, limit: u32) -> Result<PublicRoomList, ApiError> {
        let query = [("query", text.to_owned()), ("limit", limit.to_string())];
        self.call(Method::GET, "rooms/public", &query, None).await
    }

    /// `GET /rooms/{roomId}/members`: `{members: [{userId, username, displayName, status,
    /// …}]}`, read loosely so that fields added later do not break the client.
    pub async fn members(&self, room: &RoomId) -> Result<MemberList, ApiError> {
        self.call(Method::GET, &format!("rooms/{room}/members"), &[], None)
            .await
    }

    /// `PATCH /users/me {displayName}`: the caller's new display name, as stored.
    pub async fn rename_me(&self, display_name: &str) -> Result<PersonView, ApiError> {
        let body = json!({ "displayName": display_name });
        self.call(Method::PATCH, "users/me", &[], Some(body)).await
    }

    /// `POST /rooms/{roomId}/members {userIds}`: adds people to a room the caller is in.
    pub async fn add_members(
        &self,
        room: &RoomId,
        users: &[UserId],
    ) -> Result<MembersAdded, ApiError> {
        let ids: Vec<String> = users.iter().map(ToString::to_string).collect();
        let body = json!({ "userIds": ids });
        let path = format!("rooms/{room}/members");
        self.call(Method::POST, &path, &[], Some(body)).await
    }

    /// `GET /getMessages` from `seq`: the page whose first message is `#seq`, if it exists;
    /// with `min_seq`, once history has reached what was seen live.
    pub async fn message_at(
        &self,
        room: &RoomId,
        seq: u64,
        min_seq: Option<u64>,
    ) -> Result<MessagePage, ApiError> {
        let mut query = vec![
            ("roomId", room.to_string()),
            ("limit", "1".to_owned()),
            ("afterSeq", (seq - 1).to_string()),
        ];
        if let Some(seen) = min_seq {
            query.push(("minSeq", seen.to_string()));
        }
        self.call(Method::GET, "getMessages", &query, None).await
    }

    /// `POST` (`add`) or `DELETE` the caller's reaction `emoji` to a message.
    pub async fn react(
        &self,
        room: &RoomId,
        message_id: &str,
        emoji: &str,
        add: bool,
    ) -> Result<ReactionsView, ApiError> {
        let path = format!("rooms/{room}/messages/{message_id}/reactions");
        if add {
            let body = json!({ "emoji": emoji });
            return self.call(Method::POST, &path, &[], Some(body)).await;
        }
        let encoded: String = emoji
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        self.call(Method::DELETE, &format!("{path}/{encoded}"), &[], None)
            .await
    }

    /// `GET /getStatus`.
    pub async fn status(&self, user: UserId) -> Result<StatusView, ApiError> {
        let query = [("userId", user.to_string())];
        self.call(Method::GET, "getStatus", &query, None).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<T, ApiError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| ApiError::Unexpected(e.to_string()))?;
        let mut request = self.http.request(method, url.clone()).query(query);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| transport_error(&url, e))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| transport_error(&url, e))?;
        if status.is_success() {
            return serde_json::from_str(&text)
                .map_err(|e| ApiError::Unexpected(format!("{path}: {e}")));
        }
        Err(match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => ApiError::Refused {
                status,
                code: body.error.code,
                message: body.error.message,
            },
            Err(_) => ApiError::Refused {
                status,
                code: "http_error".into(),
                message: text.chars().take(200).collect(),
            },
        })
    }
}

fn transport_error(url: &Url, e: reqwest::Error) -> ApiError {
    // The innermost cause ("Connection refused") is what a person needs to see.
    let mut cause: &dyn std::error::Error = &e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let what = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        cause.to_string()
    };
    ApiError::Unreachable(format!("{}: {what}", url.origin().ascii_serialization()))
}
