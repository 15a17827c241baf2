//! Errors that end the client, each with its exit code.
//!
//! | exit code | when |
//! |---|---|
//! | 0 | stdin ended or `/quit` |
//! | 1 | anything else below |
//! | 2 | bad flags (from the flag parser), or no password to be had |
//! | 3 | the server refused the credentials (login or registration) |
//! | 4 | the server could not be reached |

use crate::api::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid --server {url:?}: {reason}")]
    BadServerUrl { url: String, reason: String },
    #[error("login refused: invalid username or password")]
    BadCredentials,
    #[error("login refused: {message} ({code})")]
    LoginRefused { code: String, message: String },
    #[error("registration refused: {message} ({code})")]
    RegistrationRefused { code: String, message: String },
    #[error("cannot reach the server: {0}")]
    Unreachable(String),
    #[error("{0}")]
    Api(ApiError),
    #[error("WebSocket connection failed: {0}")]
    WebSocket(String),
    #[error("no password: {reason}")]
    NoPassword { reason: String },
}

impl ClientError {
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::BadCredentials
            | ClientError::LoginRefused { .. }
            | ClientError::RegistrationRefused { .. } => 3,
            ClientError::Unreachable(_) => 4,
            ClientError::NoPassword { .. } => 2,
            _ => 1,
        }
    }
}

impl From<ApiError> for ClientError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Unreachable(detail) => ClientError::Unreachable(detail),
            other => ClientError::Api(other),
        }
    }
}
