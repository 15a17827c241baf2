//! HTTP hardening from outside, over raw sockets: read timeouts against slowloris (idle
//! keep-alive, half-sent heads including a WebSocket upgrade, short bodies), per-address
//! limits on sign-in, one username fold for limits and lookup, `/metrics` only on the
//! operator's listener, and the memory a burst of failed logins leaves behind.

use chat_core::client_address::IpRange;
use chat_core::http_server::HttpTimeouts;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::app::{spawn_app, spawn_app_with, AppOptions, TestApp};
use chat_testkit::{free_port, GatewayProcess, WsClient};

/// Short enough for a test, long enough for a loaded machine to send a whole request.
const SHORT: Duration = Duration::from_millis(700);
/// How long a test waits for the server to close a connection it should close.
const BOUND: Duration = Duration::from_secs(10);

fn short_timeouts() -> AppOptions {
    AppOptions {
        http_timeouts: HttpTimeouts {
            header: SHORT,
            body: SHORT,
        },
        ..AppOptions::default()
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .expect("connects")
}

/// Reads until the server closes the connection; answers what it sent and how long the
/// close took, or `None` if it was still open after [`BOUND`].
async fn until_closed(stream: &mut TcpStream) -> Option<(String, Duration)> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = BOUND.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => {
                let text = String::from_utf8_lossy(&received).into_owned();
                return Some((text, started.elapsed()));
            }
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn slowloris_connections_are_closed_within_the_header_timeout() {
    let app = spawn_app_with(short_timeouts()).await;

    // A kept-alive connection that asks nothing more.
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: chat\r\n\r\n")
        .await
        .unwrap();
    let (answer, took) = until_closed(&mut idle)
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    println!("idle keep-alive connection closed after {took:?}");

    // Half-sent heads: a plain request and a WebSocket upgrade, each missing its last line.
    let partial_heads = [
        "GET /healthz HTTP/1.1\r\nHost: chat\r\n".to_owned(),
        "GET /ws HTTP/1.1\r\nHost: chat\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            .to_owned(),
    ];
    for head in partial_heads {
        let mut slow = connect(&app).await;
        slow.write_all(head.as_bytes()).await.unwrap();
        let (_, took) = until_closed(&mut slow)
            .await
            .unwrap_or_else(|| panic!("a half-sent head stays open: {head:?}"));
        println!("half-sent head closed after {took:?}: {head:?}");
    }

    // Many at once, silent from the start: every one is let go.
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(connect(&app).await);
    }
    for stream in &mut silent {
        assert!(
            until_closed(stream).await.is_some(),
            "a silent connection stays open"
        );
    }

    // The timeouts are about reading requests: an upgraded WebSocket outlives them.
    let user = app.register("patient").await;
    let mut ws = WsClient::connect(&app.base, &user.token).await;
    let room = app.create_room(&user, json!({"name": "r"})).await;
    // Quiet for several header timeouts (any frame the server sends is fine), then used.
    let _ = ws.frame_within(SHORT * 3).await;
    ws.join(&room).await;
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_gets_408_and_is_closed() {
    let app = spawn_app_with(short_timeouts()).await;
    let mut short = connect(&app).await;
    short
        .write_all(
            b"POST /auth/login HTTP/1.1\r\nHost: chat\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"username\":",
        )
        .await
        .unwrap();
    let (answer, took) = until_closed(&mut short)
        .await
        .expect("a connection with a short body is closed");
    println!("short body answered and closed after {took:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"body_timeout\""), "{answer}");

    // A route that never reads its body answers, and the connection still closes.
    let mut unread = connect(&app).await;
    unread
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: chat\r\nContent-Length: 100\r\n\r\nab")
        .await
        .unwrap();
    let (answer, _) = until_closed(&mut unread)
        .await
        .expect("a connection with an unread short body is closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

fn credentials(username: &str, password: &str) -> Value {
    json!({"username": username, "password": password})
}

/// A sign-in from `forwarded`, as the trusted proxy on loopback relays it.
async fn sign_in(app: &TestApp, path: &str, forwarded: &str, body: Value) -> reqwest::Response {
    app.http
        .post(format!("{}{path}", app.base))
        .header("x-forwarded-for", forwarded)
        .json(&body)
        .send()
        .await
        .expect("request sent")
}

#[tokio::test]
async fn sign_ins_are_limited_per_client_address_behind_a_trusted_proxy() {
    let app = spawn_app_with(AppOptions {
        auth_per_minute_per_address: 5.0,
        trusted_proxies: IpRange::parse_list("127.0.0.1").unwrap(),
        ..AppOptions::default()
    })
    .await;
    let guesser = "203.0.113.7";
    for i in 0..5 {
        let body = credentials(&format!("nobody{i}"), "wrong password");
        let answer = sign_in(&app, "/auth/login", guesser, body).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    for path in ["/auth/login", "/auth/register"] {
        let answer = sign_in(
            &app,
            path,
            guesser,
            credentials("fresh_name", "long enough"),
        )
        .await;
        assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
        let wait: u64 = answer.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait >= 1);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    }
    // Another client behind the same proxy is not held back by the first.
    let other = sign_in(
        &app,
        "/auth/register",
        "198.51.100.1",
        credentials("fresh_name", "long enough"),
    )
    .await;
    assert_eq!(other.status(), StatusCode::CREATED);
    // The left part of the header is the client's own words: it cannot pick a new address.
    let spoofed = sign_in(
        &app,
        "/auth/login",
        &format!("192.0.2.99, {guesser}"),
        credentials("nobody", "wrong password"),
    )
    .await;
    assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn unicode_look_alike_names_share_limits_and_never_reach_another_account() {
    let app = spawn_app().await;
    let login =
        |name: &str, password: &str| app.post("/auth/login", None, credentials(name, password));
    let idle = app.register("idle").await;
    app.register("sam").await;
    let kate = app.register("kate").await;

    // Guesses at "idle" use up its limit; a dotted capital I must not open a fresh one
    // onto the same account (Postgres lower() made "İdle" into "idle").
    let mut last = StatusCode::OK;
    for _ in 0..12 {
        last = login("idle", "wrong password").await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let (status, body) = login("\u{130}dle", "correct horse").await;
    assert_ne!(status, StatusCode::OK, "İdle reached {}: {body}", idle.id);
    assert!(body.get("token").is_none(), "{body}");

    // Guesses spelled with a long s count against "sam" itself.
    for _ in 0..12 {
        let _ = login("\u{17F}am", "wrong password").await;
    }
    let (status, body) = login("sam", "correct horse").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");

    // The same name by case folding is the same account (and nobody else's).
    for name in ["\u{212A}ate", "\u{FF2B}ate", "KaTE"] {
        let (status, body) = login(name, "correct horse").await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        assert_eq!(body["userId"], kate.id.as_str(), "{name}");
    }

    // Registration folds the same way: a look-alike of a taken name is taken.
    let (status, _) = app
        .post("/auth/register", None, credentials("KATE", "correct horse"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn metrics_are_served_on_the_operator_listener_only() {
    let app = spawn_app().await;
    let public = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let operator = app
        .http
        .get(format!("{}/metrics", app.metrics_base))
        .send()
        .await
        .unwrap();
    assert_eq!(operator.status(), StatusCode::OK);
    assert!(operator.text().await.unwrap().contains("chat_"));

    let gw = GatewayProcess::start(&app, &[]).await;
    let public = reqwest::get(format!("{}/metrics", gw.base)).await.unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let operator = reqwest::get(format!("{}/metrics", gw.metrics_base))
        .await
        .unwrap();
    assert_eq!(operator.status(), StatusCode::OK);
}

/// The all-in-one server as its own process (its memory is what the test measures).
/// `CHAT_SERVER_BIN` may name another build, to compare.
struct ServerProcess {
    process: chat_testkit::Proc,
    base: String,
}

impl ServerProcess {
    async fn start(app: &TestApp) -> Self {
        let mut process = chat_testkit::product::chat_server(
            app,
            free_port(),
            &[("CHAT_RUN_PROJECTOR", "false")],
        );
        process.start().await;
        Self {
            base: process.base.clone(),
            process,
        }
    }

    /// Resident memory in MiB, from `/proc/<pid>/status`.
    fn rss_mib(&self) -> f64 {
        let pid = self.process.pid().expect("the server is running");
        let status =
            std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server is running");
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status");
        kib / 1024.0
    }
}

#[tokio::test]
async fn memory_returns_after_a_burst_of_failed_logins() {
    let app = spawn_app().await;
    let server = ServerProcess::start(&app).await;
    let http = reqwest::Client::new();
    let before = server.rss_mib();
    // 500 logins for unknown names, 50 at a time, from loopback (not counted per address).
    let statuses = futures::future::join_all((0..10).map(|batch| {
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            let mut statuses = Vec::new();
            for i in 0..50 {
                let answer = http
                    .post(format!("{base}/auth/login"))
                    .json(&credentials(&format!("ghost{batch}x{i}"), "wrong password"))
                    .send()
                    .await
                    .expect("login answered");
                statuses.push(answer.status().as_u16());
            }
            statuses
        }
    }))
    .await;
    let statuses: Vec<u16> = statuses.into_iter().flatten().collect();
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let busy = statuses.iter().filter(|s| **s == 503).count();
    assert_eq!(refused + busy, 500, "only 401 and 503: {statuses:?}");
    let peak = server.rss_mib();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut now = peak;
    while now > before + 100.0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        now = server.rss_mib();
    }
    println!(
        "RSS: {before:.0} MiB before, {peak:.0} MiB after 500 failed logins \
         ({refused} answered 401, {busy} 503), {now:.0} MiB at the end"
    );
    assert!(
        now <= before + 100.0,
        "RSS stayed at {now:.0} MiB, {before:.0} MiB before"
    );
}
