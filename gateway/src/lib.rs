//! The WebSocket gateway. It serves `/ws` on the gateway binary and on the all-in-one
//! server; this crate holds its state and router.

use axum::routing::get;
use axum::{Json, Router};
use chat_core::eventlog::EventLog;
use chat_core::readmodel::ReadModel;
use chat_core::tokens::Tokens;

/// What every connection of this gateway shares.
#[derive(Clone)]
pub struct GatewayState {
    pub read: ReadModel,
    pub log: EventLog,
    pub tokens: Tokens,
}

/// The gateway's routes.
pub fn router(state: GatewayState) -> Router {
    Router::new()
        .route(
            "/gateway/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .with_state(state)
}
