//! `GET /openapi.json`: the OpenAPI 3.1 description of every route (kept in
//! `api/openapi.json`; a test checks it lists exactly the routes of [`crate::router`]).

use axum::http::header;
use axum::response::IntoResponse;

pub const DOCUMENT: &str = include_str!("../../openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
