//! The security checklist (`docs/SECURITY.md`), item by item: origins at the WebSocket
//! handshake, forged and malformed tokens on every entrance, logout and bans closing every
//! socket, connection caps per user and per address, size limits and no compression, and
//! authorization of every room-scoped frame and route.

use base64::Engine as _;
use futures::SinkExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::app::{spawn_app, spawn_app_with, AppOptions, TestApp, TEST_SECRET};
use chat_testkit::{Ended, GatewayProcess, WsClient};

/// An RSA public key, as a server using RS256 would publish it: the classic
/// key-confusion attack signs an HS256 token with it as the HMAC secret.
const RSA_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAt2yncwt1B/8/mtchigmt
H9AvF/rf0Hw8x/2q5t/B5+3iE81mi2Gi7TvMF/wtfGmtrM8OC+KHUSUzN8IWPClG
NU1hatCh8SlCVe+x3mCK95Poc41xK6Zg3NOrx7KhjzNles/dPsI5flJrdVpfPkLM
2cqkTcWmA1kVuhlqGkjy4KrXE6Pe8vQj7nH44ZmJMvDTO0jjZqknbBE8LT9w49WU
naR5QEo0v52iixnJws+yXg3XIPwZL3gE2pN9j3g4mc/rIMLsX1pMFgr4/SAOeQ5q
89Ua1JNXgjt4Zf7y7qI1WmZZX/NtiDkHPt2zpmk2DPunTvvi6MI4QGdyOyy9izop
wQIDAQAB
-----END PUBLIC KEY-----
";

const EC_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgDy098tpAKsgfV02yKyourHD8ilZ
Ruipto3g0nwG12FROcz2AxW8T7XvOzG2m63CNVWJImdgMC5AGlJXIWMM7g==
-----END PUBLIC KEY-----
";

const ADMIN_KEY: &str = "operator-key-0123456789-0123456789-0123";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT with exactly this header and payload, HMAC-SHA256-signed with `key` whatever the
/// header's `alg` says.
fn hs256(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(key),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    format!("{input}.{signature}")
}

/// The claims the server issues, valid for ten minutes.
fn good_claims(user: &str) -> Value {
    let now = now();
    json!({"sub": user, "iat": now - 10, "exp": now + 600, "iss": "chat", "aud": "chat-clients"})
}

fn with(claims: &Value, key: &str, value: Value) -> Value {
    let mut claims = claims.clone();
    claims[key] = value;
    claims
}

fn without(claims: &Value, key: &str) -> Value {
    let mut claims = claims.clone();
    claims.as_object_mut().unwrap().remove(key);
    claims
}

/// A raw upgrade request to `/ws` (no WebSocket client), so the refusal's status, headers
/// and body can be read as plain HTTP.
async fn handshake(
    app: &TestApp,
    query: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = app
        .http
        .get(format!("{}/ws{query}", app.base))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.unwrap();
    let (status, head) = (resp.status(), resp.headers().clone());
    if status == StatusCode::SWITCHING_PROTOCOLS {
        return (status, head, Value::Null);
    }
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, head, body)
}

/// The first frame is `auth` with `token`: answered `unauthenticated`, closed with 4001.
async fn assert_in_band_auth_refused(base: &str, token: &str, case: &str) {
    let mut ws = WsClient::connect_anonymous(base).await;
    ws.send_json(json!({"type": "auth", "token": token})).await;
    let frame = ws.next_frame().await;
    assert_eq!(
        (frame["type"].as_str(), frame["code"].as_str()),
        (Some("error"), Some("unauthenticated")),
        "{case}: {frame}"
    );
    assert_eq!(ws.until_closed().await, Ended::Closed(Some(4001)), "{case}");
}

/// Refused on the HTTP API (401 `http_code`), at the handshake in the header and in the
/// query (401 `invalid_token`, no upgrade), and in an `auth` frame (4001).
async fn assert_refused_everywhere(app: &TestApp, token: &str, http_code: &str, case: &str) {
    let (status, body) = app.get("/rooms", Some(token)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, http_code),
        "{case}: HTTP {body}"
    );
    assert!(body["error"]["message"].is_string(), "{case}: {body}");
    let bearer = format!("Bearer {token}");
    for (query, headers) in [
        (String::new(), vec![("authorization", bearer.as_str())]),
        (format!("?token={token}"), vec![]),
    ] {
        let (status, head, body) = handshake(app, &query, &headers).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNAUTHORIZED, "invalid_token"),
            "{case}: handshake {query:?} {body}"
        );
        assert!(head.get("upgrade").is_none(), "{case}: upgraded anyway");
    }
    assert_in_band_auth_refused(&app.base, token, case).await;
}

/// Retries `connect` until it succeeds (a closed connection frees its slot a moment
/// later); panics after a few seconds.
async fn connect_eventually(base: &str, token: &str, headers: &[(&str, &str)]) -> WsClient {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match WsClient::try_connect(base, Some(token), headers).await {
            Ok(ws) => return ws,
            Err(refusal) => assert!(
                Instant::now() < deadline,
                "no slot freed in time: {refusal:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn login(app: &TestApp, username: &str, password: &str) -> (StatusCode, Value) {
    app.post(
        "/auth/login",
        None,
        json!({"username": username, "password": password}),
    )
    .await
}

async fn stored_room_events(app: &TestApp) -> u64 {
    let nats = async_nats::connect(app.nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(nats);
    let mut stream = js.get_stream("CHAT_ROOMS").await.unwrap();
    stream.info().await.unwrap().state.messages
}

// 1. Origins ---------------------------------------------------------------------------

#[tokio::test]
async fn the_handshake_admits_only_exact_origins_and_clients_without_one() {
    let app = spawn_app_with(AppOptions {
        gateway: chat_gateway::GatewayConfig {
            allowed_origins: vec!["https://app.example.com".into()],
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let alice = app.register("alice").await;
    let bearer = format!("Bearer {}", alice.token);
    let own = app.base.clone();
    for origin in [
        "https://evil.example",
        "null",
        "https://app.example.com.evil.com",
        "https://evil-app.example.com",
        "https://evilapp.example.com",
        "https://app.example.co",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://app.example.com/",
        "https://APP.EXAMPLE.COM",
        &format!("{own}.evil.com"),
        &format!("{own}0"),
        &own.replacen("http://", "https://evil.", 1),
    ] {
        let (status, head, body) =
            handshake(&app, "", &[("authorization", &bearer), ("origin", origin)]).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "origin_not_allowed"),
            "origin {origin}: {body}"
        );
        assert!(head.get("upgrade").is_none(), "origin {origin} upgraded");
    }
    // The listed origin, the server's own, and no Origin at all (a native client).
    for origin in [Some("https://app.example.com"), Some(own.as_str()), None] {
        let mut headers = vec![("authorization", bearer.as_str())];
        headers.extend(origin.map(|o| ("origin", o)));
        let (status, _, body) = handshake(&app, "", &headers).await;
        assert_eq!(
            status,
            StatusCode::SWITCHING_PROTOCOLS,
            "origin {origin:?}: {body}"
        );
    }
    // The origin check comes before the token check: a foreign page learns nothing about
    // a token it holds.
    let (status, _, body) = handshake(
        &app,
        "?token=nonsense",
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "origin_not_allowed")
    );
}

// 2. Tokens ----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_malformed_tokens_are_refused_by_the_api_the_handshake_and_auth_frames() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let secret = TEST_SECRET.as_bytes();
    let hs = json!({"alg": "HS256", "typ": "JWT"});
    let good = good_claims(&alice.id);
    let now = now();

    // The hand-made token is right when nothing is wrong with it: every refusal below is
    // for the one thing changed.
    let control = hs256(&hs, &good, secret);
    let (status, body) = app.get("/rooms", Some(&control)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    WsClient::connect(&app.base, &control).await.close().await;

    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes()),
        b64(good.to_string().as_bytes())
    );
    let none_with_signature = hs256(&json!({"alg": "none"}), &good, secret);
    let mut tampered: Vec<String> = control.split('.').map(str::to_owned).collect();
    tampered[1] = b64(with(&good, "sub", json!(uuid::Uuid::now_v7().to_string()))
        .to_string()
        .as_bytes());
    let tampered = tampered.join(".");

    let cases: Vec<(&str, String, &str)> = vec![
        ("alg none, no signature", unsigned, "invalid_token"),
        (
            "alg none, with a signature",
            none_with_signature,
            "invalid_token",
        ),
        (
            "alg RS256 header over an HMAC signature",
            hs256(&json!({"alg": "RS256", "typ": "JWT"}), &good, secret),
            "invalid_token",
        ),
        (
            "HS256 keyed with an RSA public key PEM",
            hs256(&hs, &good, RSA_PUBLIC_PEM.as_bytes()),
            "invalid_token",
        ),
        (
            "HS256 keyed with an EC public key PEM",
            hs256(&hs, &good, EC_PUBLIC_PEM.as_bytes()),
            "invalid_token",
        ),
        (
            "another secret",
            hs256(&hs, &good, b"another-secret-another-secret-another-secret"),
            "invalid_token",
        ),
        (
            "payload swapped under a valid signature",
            tampered,
            "invalid_token",
        ),
        (
            "expired",
            hs256(&hs, &with(&good, "exp", json!(now - 100)), secret),
            "token_expired",
        ),
        (
            "not yet valid (nbf in the future)",
            hs256(&hs, &with(&good, "nbf", json!(now + 600)), secret),
            "invalid_token",
        ),
        (
            "exp as a string",
            hs256(
                &hs,
                &with(&good, "exp", json!((now + 600).to_string())),
                secret,
            ),
            "invalid_token",
        ),
        (
            "nbf as a string",
            hs256(
                &hs,
                &with(&good, "nbf", json!((now - 10).to_string())),
                secret,
            ),
            "invalid_token",
        ),
        (
            "no exp",
            hs256(&hs, &without(&good, "exp"), secret),
            "invalid_token",
        ),
        (
            "no iat",
            hs256(&hs, &without(&good, "iat"), secret),
            "invalid_token",
        ),
        (
            "wrong audience",
            hs256(&hs, &with(&good, "aud", json!("someone-else")), secret),
            "invalid_token",
        ),
        (
            "no audience",
            hs256(&hs, &without(&good, "aud"), secret),
            "invalid_token",
        ),
        (
            "wrong issuer",
            hs256(&hs, &with(&good, "iss", json!("evil")), secret),
            "invalid_token",
        ),
        (
            "no issuer",
            hs256(&hs, &without(&good, "iss"), secret),
            "invalid_token",
        ),
        (
            "no subject",
            hs256(&hs, &without(&good, "sub"), secret),
            "invalid_token",
        ),
        (
            "subject not a user id",
            hs256(&hs, &with(&good, "sub", json!("alice")), secret),
            "invalid_token",
        ),
        (
            "subject a user id with no account",
            hs256(
                &hs,
                &with(&good, "sub", json!(uuid::Uuid::now_v7().to_string())),
                secret,
            ),
            "invalid_token",
        ),
        (
            "generation as a string",
            hs256(&hs, &with(&good, "gen", json!("0")), secret),
            "invalid_token",
        ),
        ("not a JWT", "not-a-jwt".to_owned(), "invalid_token"),
    ];
    for (case, token, http_code) in &cases {
        assert_refused_everywhere(&app, token, http_code, case).await;
    }
}

// 3. Logout and bans -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_ends_every_token_and_closes_every_socket_on_every_gateway() {
    let app = spawn_app().await;
    let gw = GatewayProcess::start(&app, &[]).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (status, body) = login(&app, "alice", "correct horse").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let phone_token = body["token"].as_str().unwrap().to_owned();

    // Three devices on two gateways, one of them authenticated in-band.
    let mut laptop = WsClient::connect(&app.base, &alice.token).await;
    let mut phone = WsClient::connect(&gw.base, &phone_token).await;
    let mut tablet = WsClient::connect_anonymous(&gw.base).await;
    tablet
        .send_json(json!({"type": "auth", "token": alice.token}))
        .await;
    assert_eq!(tablet.next_frame().await["type"], "hello");
    let mut bystander = WsClient::connect(&gw.base, &bob.token).await;

    let (status, body) = app
        .post("/auth/logout", Some(&alice.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for (device, ws) in [
        ("laptop", &mut laptop),
        ("phone", &mut phone),
        ("tablet", &mut tablet),
    ] {
        assert_eq!(
            ws.until_closed().await,
            Ended::Closed(Some(4004)),
            "{device}"
        );
    }
    let pong = bystander
        .call(json!({"type": "ping"}), &mut Vec::new())
        .await;
    assert_eq!(pong["type"], "pong", "another user's socket stays open");

    // Every token issued before the logout is refused everywhere, on either gateway.
    for token in [&alice.token, &phone_token] {
        assert_refused_everywhere(&app, token, "invalid_token", "after logout").await;
        let refused = WsClient::try_connect(&gw.base, Some(token), &[]).await;
        assert_eq!(refused.err().map(|(s, _)| s), Some(401));
        assert_in_band_auth_refused(&gw.base, token, "after logout, other gateway").await;
    }
    let (status, _) = app
        .post("/auth/logout", Some(&alice.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.get("/rooms", Some(&bob.token)).await;
    assert_eq!(status, StatusCode::OK, "bob's session is untouched");

    // Logging in again works at once (even within the same second).
    let (status, body) = login(&app, "alice", "correct horse").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = body["token"].as_str().unwrap().to_owned();
    let (status, body) = app.get("/rooms", Some(&fresh)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut back = WsClient::connect(&gw.base, &fresh).await;
    // A connection cannot be renewed with a token of the ended session.
    let renewal = back
        .call(
            json!({"type": "auth", "token": alice.token}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(renewal["code"], "invalid_token", "{renewal}");

    // Without API_ADMIN_KEY the admin routes do not exist.
    let (status, body) = app
        .post(
            &format!("/admin/users/{}/ban", bob.id),
            Some(ADMIN_KEY),
            json!({}),
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_closes_every_socket_and_refuses_logins_until_it_is_lifted() {
    let app = spawn_app_with(AppOptions {
        admin_key: Some(ADMIN_KEY.into()),
        ..Default::default()
    })
    .await;
    let gw = GatewayProcess::start(&app, &[]).await;
    let alice = app.register("alice").await;
    let mallory = app.register("mallory").await;
    let mut here = WsClient::connect(&app.base, &mallory.token).await;
    let mut there = WsClient::connect(&gw.base, &mallory.token).await;
    let mut bystander = WsClient::connect(&app.base, &alice.token).await;

    let ban = format!("/admin/users/{}/ban", mallory.id);
    // Only the operator's key bans: not a user's token, not a wrong key.
    for (key, expected) in [
        (None, "missing_token"),
        (Some(alice.token.as_str()), "invalid_token"),
        (Some(mallory.token.as_str()), "invalid_token"),
        (
            Some("operator-key-0123456789-0123456789-0124"),
            "invalid_token",
        ),
    ] {
        let (status, body) = app.post(&ban, key, json!({})).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNAUTHORIZED, expected),
            "{key:?}"
        );
    }
    let nobody = format!("/admin/users/{}/ban", uuid::Uuid::now_v7());
    let (status, body) = app.post(&nobody, Some(ADMIN_KEY), json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "user_not_found")
    );
    let (status, body) = app
        .post("/admin/users/not-a-user/ban", Some(ADMIN_KEY), json!({}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_user_id")
    );
    let (status, _) = app.get("/rooms", Some(&mallory.token)).await;
    assert_eq!(status, StatusCode::OK, "refused attempts changed nothing");

    let (status, body) = app.post(&ban, Some(ADMIN_KEY), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(here.until_closed().await, Ended::Closed(Some(4004)));
    assert_eq!(there.until_closed().await, Ended::Closed(Some(4004)));
    let pong = bystander
        .call(json!({"type": "ping"}), &mut Vec::new())
        .await;
    assert_eq!(pong["type"], "pong");
    assert_refused_everywhere(&app, &mallory.token, "invalid_token", "banned").await;
    let (status, body) = login(&app, "mallory", "correct horse").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "account_banned")
    );
    // The ban is told only to who knows the password.
    let (status, body) = login(&app, "mallory", "wrong horse").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );

    let unban = format!("/admin/users/{}/unban", mallory.id);
    let (status, body) = app.post(&unban, Some(ADMIN_KEY), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = app.get("/rooms", Some(&mallory.token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "old tokens stay ended");
    let (status, body) = login(&app, "mallory", "correct horse").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = body["token"].as_str().unwrap();
    WsClient::connect(&gw.base, fresh).await.close().await;
}

// 4. Connection caps -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_per_user_cap_are_refused_and_closing_one_frees_a_slot() {
    let app = spawn_app_with(AppOptions {
        gateway: chat_gateway::GatewayConfig {
            max_connections_per_user: 3,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(WsClient::connect(&app.base, &alice.token).await);
    }
    let refused = WsClient::try_connect(&app.base, Some(&alice.token), &[]).await;
    let (status, body) = refused.err().expect("a fourth connection is refused");
    assert_eq!((status, code(&body)), (429, "too_many_connections"));
    assert!(body["error"]["message"].is_string());
    // Through an `auth` frame: told why, then closed with 4005.
    let mut in_band = WsClient::connect_anonymous(&app.base).await;
    in_band
        .send_json(json!({"type": "auth", "token": alice.token}))
        .await;
    assert_eq!(in_band.next_frame().await["code"], "too_many_connections");
    assert_eq!(in_band.until_closed().await, Ended::Closed(Some(4005)));
    // The cap is per user: bob is not affected.
    WsClient::connect(&app.base, &bob.token).await;

    open.pop().unwrap().close().await;
    let mut again = connect_eventually(&app.base, &alice.token, &[]).await;
    let pong = again.call(json!({"type": "ping"}), &mut Vec::new()).await;
    assert_eq!(pong["type"], "pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_per_address_cap_are_refused_and_closing_one_frees_a_slot() {
    let app = spawn_app().await;
    let gw = GatewayProcess::start(
        &app,
        &[
            ("GATEWAY_MAX_CONNECTIONS_PER_IP", "3"),
            // Loopback is exempt by default; here it stands for a remote address.
            ("GATEWAY_IP_LIMIT_EXEMPT", "none"),
            ("GATEWAY_AUTH_TIMEOUT_MS", "60000"),
        ],
    )
    .await;
    let users = app.insert_users("u", 4).await;
    // Unauthenticated sockets count too: they are the cheapest to open.
    let first = WsClient::connect(&gw.base, &users[0].token).await;
    let _anonymous = WsClient::connect_anonymous(&gw.base).await;
    let _third = WsClient::connect(&gw.base, &users[1].token).await;
    for (token, forwarded) in [
        (Some(users[2].token.as_str()), None),
        (None, None),
        // Not behind a trusted proxy: X-Forwarded-For is the client's own word, ignored.
        (Some(users[2].token.as_str()), Some("203.0.113.9")),
    ] {
        let headers: Vec<(&str, &str)> = forwarded
            .map(|f| ("x-forwarded-for", f))
            .into_iter()
            .collect();
        let refused = WsClient::try_connect(&gw.base, token, &headers).await;
        let (status, body) = refused.err().expect("over the address cap");
        assert_eq!(
            (status, code(&body)),
            (429, "too_many_connections"),
            "{forwarded:?}"
        );
    }
    first.close().await;
    connect_eventually(&gw.base, &users[3].token, &[]).await;

    // Behind a trusted proxy the forwarded address counts, right-most first.
    let proxied = GatewayProcess::start(
        &app,
        &[
            ("GATEWAY_MAX_CONNECTIONS_PER_IP", "2"),
            ("GATEWAY_IP_LIMIT_EXEMPT", "none"),
            ("GATEWAY_TRUSTED_PROXIES", "127.0.0.1/32"),
        ],
    )
    .await;
    let client = [("x-forwarded-for", "203.0.113.7")];
    let _a = WsClient::try_connect(&proxied.base, Some(&users[0].token), &client)
        .await
        .unwrap();
    let _b = WsClient::try_connect(&proxied.base, Some(&users[1].token), &client)
        .await
        .unwrap();
    // The left part of the header is whatever the client wrote: it does not help.
    let forged = [("x-forwarded-for", "198.51.100.1, 203.0.113.7")];
    for headers in [&client[..], &forged[..]] {
        let refused = WsClient::try_connect(&proxied.base, Some(&users[2].token), headers).await;
        assert_eq!(refused.err().map(|(s, _)| s), Some(429), "{headers:?}");
    }
    let other = [("x-forwarded-for", "203.0.113.8")];
    WsClient::try_connect(&proxied.base, Some(&users[2].token), &other)
        .await
        .expect("another client address has its own allowance");
}

// 5. Sizes and compression -------------------------------------------------------------

#[tokio::test]
async fn size_limits_hold_and_compression_is_never_negotiated() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;
    let bearer = format!("Bearer {}", alice.token);
    for offer in [
        "permessage-deflate",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_no_context_takeover, x-webkit-deflate-frame",
    ] {
        let (status, head, _) = handshake(
            &app,
            "",
            &[
                ("authorization", &bearer),
                ("sec-websocket-extensions", offer),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SWITCHING_PROTOCOLS);
        assert!(
            head.get("sec-websocket-extensions").is_none(),
            "an extension was negotiated for {offer:?}: {head:?}"
        );
    }

    // A message is at most 4000 characters, over WebSocket as over HTTP.
    let mut ws = WsClient::connect(&app.base, &alice.token).await;
    let longest = "é".repeat(4000);
    let ok = ws
        .call(
            json!({"type": "send", "roomId": room, "message": longest}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(ok["type"], "ack", "{ok}");
    let too_long = "é".repeat(4001);
    let refused = ws
        .call(
            json!({"type": "send", "roomId": room, "message": too_long}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(refused["code"], "message_too_large", "{refused}");
    let (status, body) = app.send_raw(&alice, &room, &too_long, None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "message_too_large")
    );
    // A frame just over 64 KiB, split into continuation frames, is still one message over
    // the limit: closed with 1009.
    let huge = json!({"type": "ping", "id": "x", "pad": "y".repeat(64 * 1024)}).to_string();
    let (head, tail) = huge.split_at(huge.len() / 2);
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    let first = Frame::message(head.as_bytes().to_vec(), OpCode::Data(Data::Text), false);
    let rest = Frame::message(tail.as_bytes().to_vec(), OpCode::Data(Data::Continue), true);
    let _ = ws.socket.send(Message::Frame(first)).await;
    let _ = ws.socket.send(Message::Frame(rest)).await;
    assert_eq!(ws.until_closed().await, Ended::Closed(Some(1009)));
}

// 6. Authorization ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_room_scoped_route_and_frame_is_refused_to_non_members() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let carol = app.register("carol").await;
    let mallory = app.register("mallory").await;
    let private = app
        .create_room(
            &alice,
            json!({"name": "p", "visibility": "private", "members": [carol.id]}),
        )
        .await;
    let public = app.create_room(&alice, json!({"name": "q"})).await;
    let (status, body) = app
        .post("/dms", Some(&alice.token), json!({"userId": carol.id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let direct = body["roomId"].as_str().unwrap().to_owned();
    let posted = app.send(&alice, &private, "secret").await;
    let message_id = posted["messageId"].as_str().unwrap().to_owned();
    let seq = posted["seq"].as_u64().unwrap();
    app.wait_for_checkpoint(seq, Duration::from_secs(10)).await;
    let before = stored_room_events(&app).await;

    // HTTP.
    let forbidden = |expected: &'static str| (StatusCode::FORBIDDEN, expected);
    // A direct room answers outsiders as a room that does not exist (see exactness.rs).
    let not_found = (StatusCode::NOT_FOUND, "room_not_found");
    for (room, member_only, join) in [
        (
            &private,
            forbidden("not_a_member"),
            forbidden("room_private"),
        ),
        (&direct, not_found, not_found),
    ] {
        let (status, body) = app.messages(&mallory, room, "").await;
        assert_eq!((status, code(&body)), member_only, "history");
        let (status, body) = app.send_raw(&mallory, room, "hi", None).await;
        assert_eq!((status, code(&body)), member_only, "send");
        let (status, body) = app
            .post(
                "/updateStatus",
                Some(&mallory.token),
                json!({"userId": mallory.id, "status": "typing", "roomId": room}),
            )
            .await;
        assert_eq!((status, code(&body)), member_only, "typing");
        let (status, body) = app
            .post(
                &format!("/rooms/{room}/join"),
                Some(&mallory.token),
                json!({}),
            )
            .await;
        assert_eq!((status, code(&body)), join, "join");
    }

    // WebSocket: every frame naming a room mallory is not in.
    let mut m = WsClient::connect(&app.base, &mallory.token).await;
    let cases = [
        (
            json!({"type": "send", "roomId": private, "message": "hi"}),
            "not_a_member",
        ),
        (
            json!({"type": "edit", "roomId": private, "messageId": message_id, "message": "mine"}),
            "not_a_member",
        ),
        (
            json!({"type": "delete", "roomId": private, "messageId": message_id}),
            "not_a_member",
        ),
        (json!({"type": "typing", "roomId": private}), "not_a_member"),
        (json!({"type": "join", "roomId": private}), "room_private"),
        (
            json!({"type": "join", "roomId": private, "lastSeq": 0}),
            "room_private",
        ),
        (json!({"type": "join", "roomId": direct}), "room_not_found"),
        (
            json!({"type": "resume", "rooms": [{"roomId": private, "lastSeq": 0}]}),
            "not_a_member",
        ),
        (
            json!({"type": "resume", "rooms": [{"roomId": direct, "lastSeq": 0}]}),
            "room_not_found",
        ),
        (
            json!({"type": "send", "roomId": direct, "message": "hi"}),
            "room_not_found",
        ),
    ];
    for (frame, expected) in cases {
        let mut events = Vec::new();
        let answer = m.call(frame.clone(), &mut events).await;
        assert_eq!(
            (answer["type"].as_str(), answer["code"].as_str()),
            (Some("error"), Some(expected)),
            "{frame}: {answer}"
        );
        assert!(events.is_empty(), "{frame} leaked events: {events:?}");
    }
    // A member may not change someone else's message.
    let mut c = WsClient::connect(&app.base, &carol.token).await;
    for frame in [
        json!({"type": "edit", "roomId": private, "messageId": message_id, "message": "mine"}),
        json!({"type": "delete", "roomId": private, "messageId": message_id}),
    ] {
        let answer = c.call(frame.clone(), &mut Vec::new()).await;
        assert_eq!(answer["code"], "not_your_message", "{frame}: {answer}");
    }
    assert_eq!(
        stored_room_events(&app).await,
        before,
        "a refused request stored an event"
    );

    // Leaving ends the right to resume: a former member must join again.
    m.join(&public).await;
    let mut ignored = Vec::new();
    let left = m
        .call(json!({"type": "leave", "roomId": public}), &mut ignored)
        .await;
    assert_eq!(left["type"], "ack", "{left}");
    let resume = m
        .call(
            json!({"type": "resume", "rooms": [{"roomId": public, "lastSeq": 0}]}),
            &mut ignored,
        )
        .await;
    assert_eq!(resume["code"], "not_a_member", "{resume}");

    // Presence: anyone signed in may see whether alice is online (and watch it), but
    // where she is typing only reaches members of that room.
    m.join(&public).await;
    let ack = m
        .call(
            json!({"type": "watch", "userIds": [alice.id]}),
            &mut ignored,
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    c.join(&private).await;
    let mut a = WsClient::connect(&app.base, &alice.token).await;
    a.send_json(json!({"type": "typing", "roomId": private}))
        .await;
    let typing = loop {
        let frame = c.next_frame().await;
        if frame["type"] == "typing" {
            break frame;
        }
    };
    assert_eq!(typing["roomId"], private.as_str());
    // Typing lapses after 5 s; the projector shows it well within that.
    let status_path = format!("/getStatus?userId={}", alice.id);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (_, seen) = app.get(&status_path, Some(&carol.token)).await;
        if seen["typingIn"] == private.as_str() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a member never saw typingIn: {seen}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, seen_by_outsider) = app.get(&status_path, Some(&mallory.token)).await;
    assert_eq!(status, StatusCode::OK, "{seen_by_outsider}");
    assert_ne!(seen_by_outsider["status"], "typing", "{seen_by_outsider}");
    assert!(
        seen_by_outsider.get("typingIn").is_none(),
        "{seen_by_outsider}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Some(frame) = m
        .frame_within(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        assert_ne!(frame["type"], "typing", "an outsider saw typing: {frame}");
        if let Some(room) = frame["roomId"].as_str() {
            assert_ne!(
                room, private,
                "an outsider got a frame of the room: {frame}"
            );
        }
    }
    drop(a);
}
