//! Signing in at start-up: the `--server` URL checked, registration if asked (a taken
//! name falls back to login), then login. Refusals become errors with their exit codes.

use reqwest::{StatusCode, Url};

use crate::api::{ApiClient, ApiError};
use crate::{terminal, Args, ClientError};

/// Registers first if asked (a taken name falls back to login), then logs in.
pub async fn sign_in(
    api: &mut ApiClient,
    args: &Args,
    password: &str,
) -> Result<chat_schemas::http::Session, ClientError> {
    if args.register {
        match api.register(&args.user, password).await {
            Ok(session) => {
                terminal::note(&format!("* registered {}", args.user));
                return Ok(session);
            }
            Err(ApiError::Refused {
                status: StatusCode::CONFLICT,
                ..
            }) => terminal::note(&format!(
                "* {} is already registered: logging in",
                args.user
            )),
            Err(ApiError::Refused {
                status,
                code,
                message,
            }) if status.is_client_error() => {
                return Err(ClientError::RegistrationRefused { code, message })
            }
            Err(e) => return Err(e.into()),
        }
    }
    match api.login(&args.user, password).await {
        Ok(session) => Ok(session),
        Err(ApiError::Refused {
            status: StatusCode::UNAUTHORIZED,
            ..
        }) => Err(ClientError::BadCredentials),
        Err(ApiError::Refused {
            status,
            code,
            message,
        }) if status.is_client_error() => Err(ClientError::LoginRefused { code, message }),
        Err(e) => Err(e.into()),
    }
}

/// The `--server` URL, with a trailing `/` so that API paths join beneath it.
pub fn server_url(raw: &str) -> Result<Url, ClientError> {
    let bad = |reason: &str| ClientError::BadServerUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("expected an http:// URL"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_url_must_be_http_and_gets_a_trailing_slash() {
        assert_eq!(
            server_url("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            server_url("http://host/chat").unwrap().as_str(),
            "http://host/chat/"
        );
        assert!(server_url("ftp://host").is_err());
        assert!(server_url("127.0.0.1:8080").is_err());
    }
}
