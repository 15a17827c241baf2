//! Every HTTP route of the api, in one table. The router is built from this table and the
//! OpenAPI document is tested against it, so the two cannot drift apart.

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, MethodRouter};
use axum::Router;

use crate::error::ApiError;
use crate::routes::{
    accounts, admin, health, members, messages, openapi, people, public_rooms, reactions, reads,
    rooms, search, status,
};
use crate::state::ApiState;

/// One route: its method and path as the OpenAPI document names them, and its handler.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub handler: MethodRouter<ApiState>,
}

fn route(method: &'static str, path: &'static str, handler: MethodRouter<ApiState>) -> Route {
    Route {
        method,
        path,
        handler,
    }
}

/// The route table. Paths use axum's `{param}` syntax, the same as OpenAPI's.
pub fn routes() -> Vec<Route> {
    vec![
        route("GET", "/healthz", get(health::healthz)),
        route("GET", "/readyz", get(health::readyz)),
        route("GET", "/openapi.json", get(openapi::document)),
        route("POST", "/auth/register", post(accounts::register)),
        route("POST", "/auth/login", post(accounts::login)),
        route("POST", "/auth/logout", post(accounts::logout)),
        route("POST", "/rooms", post(rooms::create_room)),
        route("GET", "/rooms", get(rooms::list_rooms)),
        route("GET", "/rooms/public", get(public_rooms::list_public_rooms)),
        route("POST", "/rooms/{roomId}/join", post(rooms::join_room)),
        route("POST", "/rooms/{roomId}/leave", post(rooms::leave_room)),
        route(
            "POST",
            "/rooms/{roomId}/members",
            post(members::add_members),
        ),
        route("GET", "/rooms/{roomId}/members", get(members::list_members)),
        route("POST", "/rooms/{roomId}/read", post(reads::mark_read)),
        route(
            "POST",
            "/rooms/{roomId}/messages/{messageId}/reactions",
            post(reactions::add_reaction),
        ),
        route(
            "DELETE",
            "/rooms/{roomId}/messages/{messageId}/reactions/{emoji}",
            delete(reactions::remove_reaction),
        ),
        route("POST", "/dms", post(rooms::open_direct)),
        route("POST", "/sendMessage", post(messages::send_message)),
        route("GET", "/getMessages", get(messages::get_messages)),
        route("GET", "/search", get(search::search_messages)),
        route("POST", "/updateStatus", post(status::update_status)),
        route("GET", "/getStatus", get(status::get_status)),
        route("GET", "/users/me", get(people::get_me)),
        route("PATCH", "/users/me", patch(people::update_me)),
        route("GET", "/users", get(people::list_users)),
        route("GET", "/users/{userId}", get(people::get_user)),
        route("POST", "/admin/users/{userId}/ban", post(admin::ban)),
        route("POST", "/admin/users/{userId}/unban", post(admin::unban)),
    ]
}

/// The operator's router: `GET /metrics`, served on its own listener (loopback by default)
/// and never on the one clients reach, since metrics name routes, volumes and pool sizes.
pub fn operator_router(state: ApiState) -> Router {
    chat_core::metrics::install();
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// The api's router, with the body limit and JSON answers for unknown routes and methods.
pub fn router(state: ApiState) -> Router {
    chat_core::metrics::install();
    let limit = state.config.max_body_bytes;
    let mut router = Router::new();
    for r in routes() {
        router = router.route(r.path, r.handler);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(observe))
        .with_state(state)
}

/// One span and one latency sample per request, labelled by route (not by raw path, so
/// ids do not multiply the series).
async fn observe(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let span = tracing::info_span!("http.request", %method, %route, status = tracing::field::Empty);
    let started = std::time::Instant::now();
    let response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    let status = response.status().as_u16();
    span.record("status", status);
    metrics::histogram!(
        "chat_http_request_seconds",
        "method" => method,
        "route" => route,
        "status" => status.to_string()
    )
    .record(started.elapsed().as_secs_f64());
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}
