//! `GET /healthz` (the process answers) and `GET /readyz` (NATS connected and Postgres
//! answering: ready to serve).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::state::ApiState;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<Value>) {
    let nats = state.commands.log.is_connected();
    let postgres = state
        .read
        .with_client(|c| async move { Ok(c.simple_query("SELECT 1").await.is_ok()) })
        .await
        .unwrap_or(false);
    let status = if nats && postgres {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"ready": nats && postgres, "nats": nats, "postgres": postgres})),
    )
}
