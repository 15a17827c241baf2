//! A small client of the product's HTTP api for tests: any request as (status, JSON), and
//! the set-up steps tests share (register, create and join rooms, send, read history).

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

/// A registered user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub token: String,
}

/// The api at `base` (`http://127.0.0.1:<port>`).
pub struct ApiClient {
    pub base: String,
    pub http: reqwest::Client,
}

impl ApiClient {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// Any request; a body that is not JSON comes back as a JSON string.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.request(reqwest::Method::GET, path, token, None).await
    }

    pub async fn register(&self, username: &str) -> User {
        let (status, body) = self
            .post(
                "/auth/register",
                None,
                json!({"username": username, "password": "correct horse"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "register {username}: {body}");
        User {
            id: body["userId"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn create_room(&self, owner: &User, body: Value) -> String {
        let (status, reply) = self.post("/rooms", Some(&owner.token), body).await;
        assert_eq!(status, StatusCode::CREATED, "create room: {reply}");
        reply["roomId"].as_str().unwrap().to_owned()
    }

    pub async fn join(&self, user: &User, room: &str) {
        let (status, reply) = self
            .post(&format!("/rooms/{room}/join"), Some(&user.token), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "join: {reply}");
    }

    pub async fn send(&self, user: &User, room: &str, text: &str) -> Value {
        let (status, reply) = self.send_raw(user, room, text, None).await;
        assert_eq!(status, StatusCode::CREATED, "send: {reply}");
        reply
    }

    pub async fn send_raw(
        &self,
        user: &User,
        room: &str,
        text: &str,
        client_msg_id: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut body = json!({
            "roomId": room, "message": text, "senderId": user.id,
            "timestamp": "2026-11-21T10:00:00.000Z",
        });
        if let Some(id) = client_msg_id {
            body["clientMsgId"] = json!(id);
        }
        self.post("/sendMessage", Some(&user.token), body).await
    }

    /// `getMessages` for `room` with extra query text (e.g. `&limit=5`).
    pub async fn messages(&self, user: &User, room: &str, extra: &str) -> (StatusCode, Value) {
        self.get(
            &format!("/getMessages?roomId={room}{extra}"),
            Some(&user.token),
        )
        .await
    }

    /// Waits until `getMessages` shows at least `count` messages (bounded).
    pub async fn wait_for_messages(&self, user: &User, room: &str, count: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self.messages(user, room, "&limit=500").await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let list = body["messages"].as_array().cloned().unwrap_or_default();
            if list.len() >= count || std::time::Instant::now() > deadline {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
