//! `GET /healthz` (the process answers), `GET /readyz` (ready to serve: NATS connected,
//! Postgres answering, the projector within `API_READY_MAX_LAG` events of the room
//! stream), and `GET /metrics` (Prometheus text; see the README's "Operations").

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chat_core::eventlog::StreamKind;
use serde_json::{json, Value};

use crate::state::ApiState;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<Value>) {
    let log = &state.commands.log;
    let nats = log.is_connected();
    let stream = log.settings().name(StreamKind::Rooms);
    let applied = state.read.checkpoint(stream).await.ok();
    let postgres = applied.is_some();
    // The stream's last sequence, read only when NATS is up (the call would wait).
    let stored = if nats {
        match log.jetstream().get_stream(stream).await {
            Ok(s) => Some(s.cached_info().state.last_sequence),
            Err(_) => None,
        }
    } else {
        None
    };
    let lag = match (stored, applied) {
        (Some(stored), Some(applied)) => Some(stored.saturating_sub(applied)),
        _ => None,
    };
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
    let pool = state.read.pool().status();
    metrics::gauge!("chat_db_pool_connections", "state" => "open").set(pool.size as f64);
    metrics::gauge!("chat_db_pool_connections", "state" => "idle").set(pool.available as f64);
    metrics::gauge!("chat_db_pool_max").set(pool.max_size as f64);
    chat_core::metrics::endpoint().await
}
