//! Bad input to profiles and the people directory, each refused with its own code and
//! storing nothing: display names that are empty, too long, hold control characters or
//! disguise themselves (bidi overrides, nothing visible, stacked accents) (at
//! registration and in `PATCH /users/me`), queries of wildcards (literal characters, never
//! a pattern and never a dump), empty queries, too many or malformed ids, no token.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::app::spawn_app;
use crate::people::{encode, register_as, register_named, rename, search, usernames};

fn bad_names() -> Vec<(&'static str, Value)> {
    vec![
        ("empty", json!("")),
        ("blank", json!("   ")),
        ("65 characters", json!("é".repeat(65))),
        ("a bell", json!("ding\u{7}dong")),
        ("a newline", json!("two\nlines")),
        ("an escape", json!("\u{1b}[31mred")),
        ("a C1 control", json!("x\u{85}y")),
        ("a right-to-left override", json!("Invoice \u{202E}fdp.exe")),
        (
            "only zero-width characters",
            json!("\u{200B}\u{200D}\u{FEFF}"),
        ),
        ("only Hangul fillers", json!("\u{3164}\u{3164}")),
        (
            "stacked accents",
            json!(format!("a{}", "\u{301}".repeat(63))),
        ),
        ("not a string", json!(42)),
    ]
}

#[tokio::test]
async fn bad_display_names_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    for (i, (what, name)) in bad_names().into_iter().enumerate() {
        let username = format!("user{i}");
        let (status, body) = register_named(&app, &username, name).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert_eq!(body["error"]["code"], "invalid_display_name", "{what}");
        let sql = format!("SELECT count(*) FROM accounts WHERE username = '{username}'");
        assert_eq!(app.count(&sql).await, 0, "{what}: no account was created");
    }
    // 64 characters (after trimming) is the limit, not over it.
    register_as(&app, "longest", &format!("  {}  ", "é".repeat(64))).await;

    let alice = app.register("alice").await;
    for (what, name) in bad_names() {
        let (status, body) = rename(&app, &alice, name).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert_eq!(body["error"]["code"], "invalid_display_name", "{what}");
    }
    let (status, body) = app
        .request(
            Method::PATCH,
            "/users/me",
            Some(&alice.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "missing_field");
    let (_, me) = app.get("/users/me", Some(&alice.token)).await;
    assert_eq!(me["displayName"], "alice", "nothing was stored");
    let sql = format!(
        "SELECT count(*) FROM profiles WHERE user_id = '{}'",
        alice.id
    );
    assert_eq!(app.count(&sql).await, 0);

    // The refusals stored no event either: alice's first good name is the people stream's
    // second event (the first is `longest`'s).
    let (status, _) = rename(&app, &alice, json!("Alice")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.count("SELECT max(seq) FROM profiles").await,
        2,
        "only the two good names reached the people stream"
    );
}

#[tokio::test]
async fn wildcards_are_literal_and_nothing_lists_the_whole_directory() {
    let app = spawn_app().await;
    let caller = app.register("caller").await;
    for name in ["alice", "bob", "_under", "x_y"] {
        app.register(name).await;
    }
    register_as(&app, "percy", "%percent").await;
    register_as(&app, "backs", "\\slash").await;
    register_as(&app, "star", "*star").await;

    for (query, want) in [
        ("%", vec!["percy"]),
        ("%%", vec![]),
        ("_", vec!["_under"]),
        ("x_", vec!["x_y"]),
        ("x%", vec![]),
        ("*", vec!["star"]),
        ("\\", vec!["backs"]),
        ("\\%", vec![]),
        ("'; select 1; --", vec![]),
    ] {
        let (status, found) = search(&app, &caller, query).await;
        assert_eq!(status, StatusCode::OK, "{query}: {found}");
        assert_eq!(usernames(&found), want, "{query:?} is a literal prefix");
    }
    for query in ["", "   ", "%20"] {
        let (status, body) = app
            .get(&format!("/users?query={query}"), Some(&caller.token))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}: {body}");
        assert_eq!(body["error"]["code"], "empty_field", "{query:?}");
    }
    for path in [
        "/users".to_owned(),
        "/users?limit=5".to_owned(),
        format!("/users?query=a&ids={}", caller.id),
        "/users?query=a&limit=51".to_owned(),
        "/users?query=a&limit=0".to_owned(),
        format!("/users?query={}", encode(&"a".repeat(65))),
    ] {
        let (status, body) = app.get(&path, Some(&caller.token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameter", "{path}");
    }
}

#[tokio::test]
async fn id_lookups_are_bounded_and_checked() {
    let app = spawn_app().await;
    let caller = app.register("caller").await;
    let many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let (status, body) = app
        .get(
            &format!("/users?ids={}", many.join(",")),
            Some(&caller.token),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "too_many_ids");
    let (status, found) = app
        .get(
            &format!("/users?ids={}", many[..100].join(",")),
            Some(&caller.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "100 is allowed: {found}");
    assert_eq!(usernames(&found), Vec::<String>::new());

    for ids in ["nope", "", &format!("{},x", caller.id), "1,2"] {
        let (status, body) = app
            .get(&format!("/users?ids={}", encode(ids)), Some(&caller.token))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{ids:?}: {body}");
        assert_eq!(body["error"]["code"], "invalid_user_id", "{ids:?}");
    }
    let (status, body) = app.get("/users/not-a-uuid", Some(&caller.token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_user_id");
}

#[tokio::test]
async fn every_people_route_needs_a_token() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    for (method, path, body) in [
        (Method::GET, "/users/me".to_owned(), None),
        (
            Method::PATCH,
            "/users/me".to_owned(),
            Some(json!({"displayName": "x"})),
        ),
        (Method::GET, "/users?query=a".to_owned(), None),
        (Method::GET, format!("/users?ids={}", alice.id), None),
        (Method::GET, format!("/users/{}", alice.id), None),
    ] {
        for token in [None, Some("not-a-token")] {
            let (status, answer) = app
                .request(method.clone(), &path, token, body.clone())
                .await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path}: {answer}"
            );
        }
    }
    assert_eq!(app.count("SELECT count(*) FROM profiles").await, 0);
}

/// A stranger cannot take another person's username as their display name (in any case
/// or width), at registration or later; a name that merely contains it, or one's own
/// username, is fine.
#[tokio::test]
async fn nobody_can_be_named_after_another_persons_username() {
    let app = spawn_app().await;
    let carol = register_as(&app, "carol", "Carol").await;
    let eve = app.register("eve").await;
    for name in ["carol", "CAROL", " Carol ", "ｃａｒｏｌ"] {
        let (status, body) = rename(&app, &eve, json!(name)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{name}: {body}");
        assert_eq!(body["error"]["code"], "display_name_taken", "{name}");
    }
    let (_, me) = app.get("/users/me", Some(&eve.token)).await;
    assert_eq!(me["displayName"], "eve", "nothing was stored");

    let (status, body) = register_named(&app, "mallory", json!("Carol")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "display_name_taken");
    let sql = "SELECT count(*) FROM accounts WHERE username = 'mallory'";
    assert_eq!(app.count(sql).await, 0, "no account was created");

    let (status, body) = rename(&app, &eve, json!("Carol's friend Eve")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = rename(&app, &carol, json!("carol")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "one's own username is one's own: {body}"
    );
}
