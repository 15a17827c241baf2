//! `GET /search`: full-text search over the messages of the caller's rooms (see
//! `chat_core::readmodel::search`). Rate limited per caller with the directory lookups
//! (`API_SEARCH_PER_SEC`), since each search reads an index rather than one room's page.

use axum::extract::State;
use axum::Json;
use chat_core::input::search;
use chat_core::readmodel::SearchHit;
use chat_schemas::http::{SearchResult, SearchResults};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{AuthUser, QueryParams};
use crate::state::ApiState;
use crate::validate::format_time;

/// Query parameters, as text so each can be named when wrong.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchParams {
    q: Option<String>,
    room_id: Option<String>,
    limit: Option<String>,
    before_seq: Option<String>,
}

fn view(hit: SearchHit) -> SearchResult {
    SearchResult {
        room_id: hit.room.to_string(),
        seq: hit.seq,
        message_id: hit.message_id.to_string(),
        sender_id: hit.sender.to_string(),
        sender_name: hit.sender_name,
        message: hit.body,
        snippet: hit.snippet.text,
        highlights: hit.snippet.highlights,
        rank: hit.rank,
        timestamp: format_time(hit.sent_at),
    }
}

pub async fn search_messages(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    QueryParams(p): QueryParams<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    let query = search::search(
        p.q.as_deref(),
        p.room_id.as_deref(),
        p.limit.as_deref(),
        p.before_seq.as_deref(),
    )?;
    state.limit_search(caller)?;
    let page = state.commands.search_messages(caller, &query).await?;
    Ok(Json(SearchResults {
        results: page.hits.into_iter().map(view).collect(),
        next_before_seq: page.next_before_seq,
    }))
}
