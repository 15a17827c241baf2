//! The error body of every HTTP answer that is not a success:
//! `{"error": {"code": "snake_case_code", "message": "human readable"}}`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Stable, machine-readable; clients branch on this.
    pub code: String,
    /// For people; may change between releases.
    pub message: String,
    /// Seconds to wait before retrying; set on 503 answers (also sent as `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}
