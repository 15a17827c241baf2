//! The public room directory (`GET /rooms/public`) on the real stack: a room is found by
//! part of its name, best match and most recent activity first; private and direct rooms
//! are never listed, whoever asks; the query is literal; bad parameters answer 400 with a
//! stable code; a token is needed; lookups share the people directory's rate limit.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;

use crate::app::{spawn_app, TestApp, User};
use crate::people::{encode, search};

async fn public_rooms(app: &TestApp, user: &User, params: &str) -> (StatusCode, Value) {
    app.get(&format!("/rooms/public{params}"), Some(&user.token))
        .await
}

async fn room(app: &TestApp, owner: &User, name: &str, visibility: &str) -> String {
    app.create_room(owner, json!({"name": name, "visibility": visibility}))
        .await
}

/// The names of a directory answer, checking each room has exactly the four fields.
fn names(list: &Value) -> Vec<String> {
    let rooms = list["rooms"].as_array().expect("a rooms list");
    rooms
        .iter()
        .map(|r| {
            let keys: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                BTreeSet::from(["lastActivityAt", "memberCount", "name", "roomId"]),
                "{r}"
            );
            r["name"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_public_room_is_found_by_part_of_its_name() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let rust = room(&app, &alice, "Rust Beginners", "public").await;
    room(&app, &alice, "Trusted Circle", "public").await;
    room(&app, &alice, "rust", "public").await;
    room(&app, &alice, "Gardening", "public").await;
    app.join(&bob, &rust).await;

    // Exact name first, then a name starting with it, then any other substring.
    let (status, found) = public_rooms(&app, &bob, "?query=RUST").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(names(&found), ["rust", "Rust Beginners", "Trusted Circle"]);
    let (_, found) = public_rooms(&app, &bob, "?query=begin").await;
    assert_eq!(names(&found), ["Rust Beginners"]);
    let entry = &found["rooms"][0];
    assert_eq!(entry["roomId"], rust.as_str());
    assert_eq!(entry["memberCount"], 2);
    let at = entry["lastActivityAt"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).is_ok(),
        "{at} is RFC 3339"
    );

    // No query: every public room, most recently active first; a message makes a room
    // the most recent.
    let sent = app.send(&alice, &rust, "hello").await;
    let seq = sent["seq"].as_u64().unwrap();
    app.wait_for_checkpoint(seq, std::time::Duration::from_secs(10))
        .await;
    let (status, found) = public_rooms(&app, &bob, "").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        names(&found),
        ["Rust Beginners", "Gardening", "rust", "Trusted Circle"]
    );
    let (_, found) = public_rooms(&app, &bob, "?query=&limit=2").await;
    assert_eq!(names(&found), ["Rust Beginners", "Gardening"]);
    let (_, found) = public_rooms(&app, &bob, "?query=nothing-like-it").await;
    assert_eq!(names(&found), Vec::<String>::new());
}

#[tokio::test]
async fn private_and_direct_rooms_are_never_listed_to_anyone() {
    let app = spawn_app().await;
    // Eve holds two accounts: one is in every room, the other in none.
    let alice = app.register("alice").await;
    let eve = app.register("eve").await;
    let eve2 = app.register("eve2").await;
    let secret = app
        .create_room(
            &alice,
            json!({"name": "secret plans", "visibility": "private", "members": [eve.id]}),
        )
        .await;
    let (status, dm) = app
        .post("/dms", Some(&alice.token), json!({"userId": eve.id}))
        .await;
    assert!(status.is_success(), "{dm}");
    let dm = dm["roomId"].as_str().unwrap().to_owned();
    room(&app, &alice, "plans in public", "public").await;

    for user in [&alice, &eve, &eve2] {
        for params in ["", "?query=plans", "?query=secret", "?limit=50"] {
            let (status, found) = public_rooms(&app, user, params).await;
            assert_eq!(status, StatusCode::OK, "{found}");
            let listed = found.to_string();
            assert!(!listed.contains(&secret), "private room listed: {listed}");
            assert!(!listed.contains(&dm), "direct room listed: {listed}");
            assert!(!listed.contains("secret"), "{listed}");
        }
        let (_, found) = public_rooms(&app, user, "?query=plans").await;
        assert_eq!(names(&found), ["plans in public"]);
    }
}

#[tokio::test]
async fn wildcards_are_literal() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    for name in ["100% rust", "snake_case", "back\\slash", "plain"] {
        room(&app, &alice, name, "public").await;
    }
    for (query, want) in [
        ("%", vec!["100% rust"]),
        ("%%", vec![]),
        ("_", vec!["snake_case"]),
        ("e_c", vec!["snake_case"]),
        ("e%c", vec![]),
        ("\\", vec!["back\\slash"]),
        ("\\%", vec![]),
        ("'; select 1; --", vec![]),
    ] {
        let (status, found) =
            public_rooms(&app, &alice, &format!("?query={}", encode(query))).await;
        assert_eq!(status, StatusCode::OK, "{query}: {found}");
        assert_eq!(names(&found), want, "{query:?} is literal");
    }
}

#[tokio::test]
async fn bad_limits_and_queries_are_refused_with_a_code() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    for limit in ["0", "51", "-1", "x", "1.5", ""] {
        let (status, body) = public_rooms(&app, &alice, &format!("?limit={limit}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{limit}: {body}");
        assert_eq!(body["error"]["code"], "invalid_limit", "{limit}");
        assert!(body["error"]["message"].as_str().unwrap().contains("limit"));
    }
    for query in ["a".repeat(65), "a\u{1}b".to_owned()] {
        let path = format!("?query={}", encode(&query));
        let (status, body) = public_rooms(&app, &alice, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["code"], "invalid_query");
    }
    let (status, _) = public_rooms(&app, &alice, &format!("?query={}", "a".repeat(64))).await;
    assert_eq!(status, StatusCode::OK, "64 characters are fine");
}

#[tokio::test]
async fn the_directory_needs_a_token() {
    let app = spawn_app().await;
    for token in [None, Some("not-a-token")] {
        let (status, body) = app.get("/rooms/public?query=a", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
}

#[tokio::test]
async fn room_lookups_share_the_directory_rate_limit() {
    let app = spawn_app().await;
    let eve = app.register("eve").await;
    let dave = app.register("dave").await;
    let mut limited = 0;
    for i in 0..40 {
        // Alternating the two directories does not double the allowance.
        let (status, body) = if i % 2 == 0 {
            public_rooms(&app, &eve, "?query=a").await
        } else {
            search(&app, &eve, "d").await
        };
        match status {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["error"]["code"], "rate_limited", "{body}");
                limited += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(limited > 0, "40 lookups at once must meet the limit");
    let (status, _) = public_rooms(&app, &dave, "").await;
    assert_eq!(status, StatusCode::OK, "another user is not limited by eve");
}
