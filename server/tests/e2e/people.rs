//! Profiles and the people directory on the real stack: people find each other by part of
//! a name (username or display name, any case, any script), rename and read back, set a
//! name at registration, and history's `senderName` follows a rename. The directory shows
//! `{userId, username, displayName}` and nothing more; a rebuild of the projection from
//! the people stream gives the same profiles.

use chat_testkit::start_projector;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::app::{spawn_app, spawn_app_with, AppOptions, TestApp, User};

/// Registers `username` with an optional display name; answers (status, body).
pub async fn register_named(app: &TestApp, username: &str, name: Value) -> (StatusCode, Value) {
    app.post(
        "/auth/register",
        None,
        json!({"username": username, "password": "correct horse", "displayName": name}),
    )
    .await
}

pub async fn register_as(app: &TestApp, username: &str, name: &str) -> User {
    let (status, body) = register_named(app, username, json!(name)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    User {
        id: body["userId"].as_str().unwrap().to_owned(),
        token: body["token"].as_str().unwrap().to_owned(),
    }
}

pub async fn rename(app: &TestApp, user: &User, name: Value) -> (StatusCode, Value) {
    app.request(
        Method::PATCH,
        "/users/me",
        Some(&user.token),
        Some(json!({"displayName": name})),
    )
    .await
}

/// Percent-encodes a query parameter value (every byte but ASCII letters and digits).
pub fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn search(app: &TestApp, user: &User, query: &str) -> (StatusCode, Value) {
    app.get(
        &format!("/users?query={}", encode(query)),
        Some(&user.token),
    )
    .await
}

/// The usernames of a list answer, checking every entry has exactly the three fields.
pub fn usernames(list: &Value) -> Vec<String> {
    let users = list["users"].as_array().expect("a users list");
    users.iter().map(only_three_fields).collect()
}

/// Asserts `person` carries `userId`, `username` and `displayName` and nothing else.
pub fn only_three_fields(person: &Value) -> String {
    let keys: BTreeSet<&str> = person
        .as_object()
        .expect("a person object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["displayName", "userId", "username"]),
        "{person}"
    );
    person["username"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn two_users_find_each_other_by_part_of_a_name() {
    let app = spawn_app().await;
    let alice = register_as(&app, "alice_w", "Алиса Wonder").await;
    let bob = app.register("Bobby").await;
    app.register("carol").await;

    // Bob types part of Alice's display name, in any case, in Cyrillic.
    for typed in ["Али", "али", "АЛИСА", "алиса w"] {
        let (status, found) = search(&app, &bob, typed).await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(usernames(&found), ["alice_w"], "{typed}");
        assert_eq!(found["users"][0]["displayName"], "Алиса Wonder");
        assert_eq!(found["users"][0]["userId"], alice.id);
    }
    // ... or part of her username.
    let (_, found) = search(&app, &bob, "ALI").await;
    assert_eq!(usernames(&found), ["alice_w"]);
    // Alice finds Bob, whose display name defaults to his username.
    let (_, found) = search(&app, &alice, "bob").await;
    assert_eq!(usernames(&found), ["Bobby"]);
    assert_eq!(found["users"][0]["displayName"], "Bobby");
    assert_eq!(found["users"][0]["userId"], bob.id);
    // A prefix, not a substring; and `limit` bounds the answer.
    let (_, found) = search(&app, &bob, "wonder").await;
    assert_eq!(usernames(&found), Vec::<String>::new());
    let (status, found) = app.get("/users?query=a&limit=1", Some(&bob.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(usernames(&found), ["alice_w"]);
}

#[tokio::test]
async fn a_rename_reads_back_everywhere_and_history_follows_it() {
    let app = spawn_app().await;
    let alice = register_as(&app, "alice", "  Alice A.  ").await;
    let bob = app.register("bob").await;

    let (status, me) = app.get("/users/me", Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        me,
        json!({"userId": alice.id, "username": "alice", "displayName": "Alice A."})
    );
    let (_, me) = app.get("/users/me", Some(&bob.token)).await;
    assert_eq!(me["displayName"], "bob", "defaults to the username");

    let room = app
        .create_room(&alice, json!({"name": "r", "members": [bob.id]}))
        .await;
    app.send(&alice, &room, "hi").await;
    app.send(&bob, &room, "hello").await;
    let names = |messages: Vec<Value>| -> Vec<String> {
        messages
            .iter()
            .map(|m| m["senderName"].as_str().unwrap().to_owned())
            .collect()
    };
    // Sends are not waited for; history is read once both are projected.
    let page = app.wait_for_messages(&bob, &room, 2).await;
    assert_eq!(names(page), ["Alice A.", "bob"]);

    let (status, renamed) = rename(&app, &alice, json!("Ἀλίκη 🌸")).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(
        renamed,
        json!({"userId": alice.id, "username": "alice", "displayName": "Ἀλίκη 🌸"})
    );
    // Read-your-writes: the next reads show it at once, whoever reads.
    let (_, me) = app.get("/users/me", Some(&alice.token)).await;
    assert_eq!(me["displayName"], "Ἀλίκη 🌸");
    let (status, seen) = app
        .get(&format!("/users/{}", alice.id), Some(&bob.token))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen, renamed);
    let page = app.wait_for_messages(&bob, &room, 2).await;
    assert_eq!(
        names(page),
        ["Ἀλίκη 🌸", "bob"],
        "history shows the current name"
    );

    // The batch form: known ids answered, unknown ones simply absent, repeats once.
    let unknown = uuid::Uuid::now_v7();
    let (status, batch) = app
        .get(
            &format!("/users?ids={},{unknown},{},{}", alice.id, bob.id, alice.id),
            Some(&bob.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{batch}");
    assert_eq!(usernames(&batch), ["alice", "bob"]);
    let (status, body) = app
        .get(&format!("/users/{unknown}"), Some(&bob.token))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "user_not_found");
}

#[tokio::test]
async fn a_hostile_user_with_two_accounts_learns_only_names() {
    let app = spawn_app().await;
    let alice = register_as(&app, "alice", "Alice").await;
    let bob = app.register("bob").await;
    let secret = app
        .create_room(
            &alice,
            json!({"name": "secret plans", "visibility": "private", "members": [bob.id]}),
        )
        .await;
    let (status, dm) = app
        .post("/dms", Some(&alice.token), json!({"userId": bob.id}))
        .await;
    assert!(status.is_success(), "{dm}");
    app.send(&alice, &secret, "the plan").await;

    let mallory = app.register("mallory").await;
    let mallory2 = app.register("mallory2").await;
    let mut answers = Vec::new();
    for (who, path) in [
        (&mallory, "/users?query=a".to_owned()),
        (&mallory2, "/users?query=b".to_owned()),
        (&mallory, format!("/users?ids={},{}", alice.id, bob.id)),
        (&mallory2, format!("/users/{}", alice.id)),
        (&mallory, format!("/users/{}", bob.id)),
    ] {
        let (status, body) = app.get(&path, Some(&who.token)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        match body.get("users") {
            Some(_) => {
                usernames(&body);
            }
            None => {
                only_three_fields(&body);
            }
        }
        answers.push(body.to_string());
    }
    let everything = answers.join("\n");
    let dm_room = dm["roomId"].as_str().unwrap_or_default().to_owned();
    for leak in [
        secret.as_str(),
        dm_room.as_str(),
        "secret plans",
        "the plan",
        "room",
    ] {
        assert!(
            leak.is_empty() || !everything.contains(leak),
            "the directory leaked {leak:?}: {everything}"
        );
    }
    // And their own room list is still empty: the directory opened nothing.
    let (_, rooms) = app.get("/rooms", Some(&mallory.token)).await;
    assert!(!rooms.to_string().contains(&secret), "{rooms}");
}

#[tokio::test]
async fn directory_lookups_are_rate_limited_per_user() {
    let app = spawn_app().await;
    let eve = app.register("eve").await;
    let dave = app.register("dave").await;
    let mut limited = 0;
    for _ in 0..40 {
        let (status, _) = search(&app, &eve, "d").await;
        match status {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(limited > 0, "40 lookups at once must meet the limit");
    let (status, _) = search(&app, &dave, "e").await;
    assert_eq!(status, StatusCode::OK, "another user is not limited by eve");
}

/// Waits until `sql` answers `want`; panics after 30 s.
async fn wait_for_count(app: &TestApp, sql: &str, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = app.count(sql).await;
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {got}, want {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_from_the_people_stream_gives_the_same_profiles() {
    let app = spawn_app_with(AppOptions {
        run_projector: false,
        ..Default::default()
    })
    .await;
    let mut projector = start_projector(&app.nats.url(), &app.database_url);
    let alice = register_as(&app, "alice", "First").await;
    let bob = register_as(&app, "bob", "Бob").await;
    app.register("carol").await;
    for name in ["Second", "Third"] {
        let (status, body) = rename(&app, &alice, json!(name)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let rows = "SELECT count(*) FROM profiles";
    wait_for_count(&app, rows, 2).await;
    let before = profiles(&app).await;
    assert_eq!(
        before,
        vec![
            (alice.id.clone(), "Third".to_owned()),
            (bob.id.clone(), "Бob".to_owned())
        ]
        .into_iter()
        .collect::<BTreeSet<_>>()
    );

    // Wipe the read model and its checkpoint, then project the stream again.
    projector.kill9();
    let (db, conn) = tokio_postgres::connect(&app.database_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    db.batch_execute(
        "DELETE FROM profiles; DELETE FROM projector_checkpoints WHERE stream = 'CHAT_PEOPLE'",
    )
    .await
    .unwrap();
    let (_, me) = app.get("/users/me", Some(&alice.token)).await;
    assert_eq!(me["displayName"], "alice", "wiped: back to the default");
    projector = {
        drop(projector);
        start_projector(&app.nats.url(), &app.database_url)
    };
    wait_for_count(&app, rows, 2).await;
    assert_eq!(profiles(&app).await, before);
    let (_, me) = app.get("/users/me", Some(&alice.token)).await;
    assert_eq!(me["displayName"], "Third");
    projector.kill9();
}

async fn profiles(app: &TestApp) -> BTreeSet<(String, String)> {
    let (db, conn) = tokio_postgres::connect(&app.database_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    db.query("SELECT user_id::text, display_name FROM profiles", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}
