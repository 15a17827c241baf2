//! `GET /healthz` (the process answers), `GET /readyz` (ready to serve: NATS connected,
//! Postgres answering, the projector within `API_READY_MAX_LAG` events of the room
//! stream), and `GET /metrics` (Prometheus text; see the README's "Operations").

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use crate::state::ApiState;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<Value>) {
    let progress = state.commands.room_stream_progress().await;
    let (nats, postgres, lag) = (
        progress.nats_connected,
        progress.applied.is_some(),
        progress.lag(),
    );
    let ready = nats && postgres && lag.is_some_and(|l| l <= state.config.ready_max_lag);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"ready": ready, "nats": nats, "postgres": postgres, "projectorLag": lag})),
    )
}

/// Prometheus text, with the Postgres pool's state sampled at scrape time.
pub async fn metrics(State(state): State<ApiState>) -> impl IntoResponse {
    let pool = state.read.pool_status();
    metrics::gauge!("chat_db_pool_connections", "state" => "open").set(pool.size as f64);
    metrics::gauge!("chat_db_pool_connections", "state" => "idle").set(pool.available as f64);
    metrics::gauge!("chat_db_pool_max").set(pool.max_size as f64);
    chat_core::metrics::endpoint().await
}
