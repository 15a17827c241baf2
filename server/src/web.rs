//! The browser client: the files under `web/static/`, compiled into the binary and served at
//! `/` (the page) and `/static/...` (its scripts, styles and icon), and the JavaScript SDK
//! (`clients/js/src/`) at `/static/sdk/...`. There is no build step; what is in the folders
//! is what the browser gets.
//!
//! Every answer carries a strict Content-Security-Policy: scripts, styles and images only
//! from this origin, network access only to this origin and its WebSocket, no inline code,
//! no framing. The client renders user text with `textContent`, so the policy is a second
//! line of defence, not the first.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// What the browser may load and connect to; `ws:`/`wss:` because `/ws` is on this server
/// and CSP 'self' does not cover WebSocket schemes in every browser.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' ws: wss:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file: its path under `/static/` and its bytes.
struct Asset {
    path: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal) => {
        Asset {
            path: $path,
            body: include_bytes!(concat!("../../web/static/", $path)),
        }
    };
}

/// A file of the JavaScript SDK (`clients/js/src/`), served under `/static/sdk/`: the page
/// talks to `/ws` through the same package that other applications use.
macro_rules! sdk_asset {
    ($file:literal) => {
        Asset {
            path: concat!("sdk/", $file),
            body: include_bytes!(concat!("../../clients/js/src/", $file)),
        }
    };
}

/// Every file the page uses. A file added to `web/static/` or `clients/js/src/` must be
/// listed here.
const ASSETS: &[Asset] = &[
    asset!("index.html"),
    asset!("app.css"),
    asset!("favicon.svg"),
    asset!("js/main.js"),
    asset!("js/api.js"),
    asset!("js/session.js"),
    asset!("js/chat.js"),
    asset!("js/room.js"),
    asset!("js/people.js"),
    asset!("js/format.js"),
    asset!("js/dom.js"),
    asset!("js/links.js"),
    asset!("js/notifications.js"),
    asset!("js/names.js"),
    asset!("js/reading.js"),
    asset!("js/members.js"),
    asset!("js/outgoing.js"),
    asset!("js/catchup.js"),
    asset!("js/joins.js"),
    asset!("js/features.js"),
    asset!("js/ui/login.js"),
    asset!("js/ui/sidebar.js"),
    asset!("js/ui/conversation.js"),
    asset!("js/ui/composer.js"),
    asset!("js/ui/drawer.js"),
    asset!("js/ui/leave.js"),
    asset!("js/ui/notify.js"),
    asset!("js/ui/avatar.js"),
    asset!("js/ui/people-search.js"),
    asset!("js/ui/profile.js"),
    asset!("js/ui/room-browser.js"),
    asset!("js/ui/message-search.js"),
    asset!("js/ui/person-card.js"),
    asset!("js/ui/members.js"),
    asset!("js/ui/seen.js"),
    asset!("js/ui/reactions.js"),
    sdk_asset!("index.js"),
    sdk_asset!("client.js"),
    sdk_asset!("connection.js"),
    sdk_asset!("cursors.js"),
    sdk_asset!("outbox.js"),
    sdk_asset!("resume.js"),
    sdk_asset!("backoff.js"),
    sdk_asset!("environment.js"),
    sdk_asset!("errors.js"),
    sdk_asset!("token.js"),
];

/// `/` and `/static/{*path}`. Merged into the app router beside the api, whose JSON 404
/// stays the answer for everything else.
pub fn router() -> Router {
    Router::new()
        .route("/", get(index).fallback(method_not_allowed))
        .route(
            "/static/{*path}",
            get(static_file).fallback(method_not_allowed),
        )
}

async fn index() -> Response {
    serve(find("index.html"))
}

async fn static_file(axum::extract::Path(path): axum::extract::Path<String>) -> Response {
    serve(find(&path))
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// By extension; every extension in [`ASSETS`] is here (a test checks).
fn content_type(path: &str) -> Option<&'static str> {
    Some(match path.rsplit_once('.')?.1 {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => return None,
    })
}

fn serve(asset: Option<&'static Asset>) -> Response {
    let Some((asset, content_type)) = asset.and_then(|a| Some((a, content_type(a.path)?))) else {
        return json_error(StatusCode::NOT_FOUND, "not_found", "no such file");
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The files change only with the binary; revalidate rather than cache stale code.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    for (name, value) in security_headers() {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn security_headers() -> [(HeaderName, &'static str); 5] {
    [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ]
}

async fn method_not_allowed() -> Response {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

/// The api's error body, `{"error": {"code", "message"}}`, for the few errors served here.
fn json_error(status: StatusCode, code: &'static str, message: &'static str) -> Response {
    let body = format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_body_and_a_content_type() {
        for asset in ASSETS {
            assert!(!asset.body.is_empty(), "{} is empty", asset.path);
            assert!(content_type(asset.path).is_some(), "{}", asset.path);
        }
        assert!(find("index.html").is_some());
        assert!(find("../Cargo.toml").is_none());
    }

    #[test]
    fn the_page_loads_only_the_assets_it_lists() {
        let page = std::str::from_utf8(find("index.html").unwrap().body).unwrap();
        for src in page.split("/static/").skip(1) {
            let path = src.split('"').next().unwrap();
            assert!(
                find(path).is_some(),
                "index.html loads unlisted /static/{path}"
            );
        }
    }

    #[test]
    fn every_module_a_script_imports_is_served() {
        for asset in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let source = std::str::from_utf8(asset.body).unwrap();
            let dir = asset.path.rsplit_once('/').map_or("", |(d, _)| d);
            for spec in source.split(" from '").skip(1) {
                let spec = spec.split('\'').next().unwrap();
                let path = resolve(dir, spec);
                assert!(
                    find(&path).is_some(),
                    "{} imports unlisted {path}",
                    asset.path
                );
            }
        }
    }

    /// `dir` + a relative import (`./x.js`, `../x.js`) → a path under `/static/`.
    fn resolve(dir: &str, spec: &str) -> String {
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        for part in spec.split('/') {
            match part {
                "." => {}
                ".." => {
                    parts.pop();
                }
                name => parts.push(name),
            }
        }
        parts.join("/")
    }
}
