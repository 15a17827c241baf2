//! Adding people to a room and listing its members on the real stack: members add people
//! (private rooms included), the list shows names, presence and read positions to members
//! only, every bad input is refused with its code and stores nothing, and nobody learns
//! from these routes whether two people have a direct room.

use chat_testkit::WsClient;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::app::{spawn_app, spawn_app_with, AppOptions, TestApp, User};
use crate::people::register_as;

async fn add_raw(app: &TestApp, adder: &User, room: &str, body: Value) -> (StatusCode, Value) {
    app.post(&format!("/rooms/{room}/members"), Some(&adder.token), body)
        .await
}

async fn members(app: &TestApp, user: &User, room: &str, query: &str) -> (StatusCode, Value) {
    app.get(&format!("/rooms/{room}/members{query}"), Some(&user.token))
        .await
}

fn usernames(list: &Value) -> Vec<&str> {
    list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect()
}

/// What a room's stored state looks like from outside: its members and its stream
/// position (any stored event moves it).
async fn footprint(app: &TestApp, room: &str) -> (i64, i64) {
    let members = app
        .count(&format!(
            "SELECT count(*) FROM room_members WHERE room_id = '{room}'"
        ))
        .await;
    let last = app
        .count(&format!(
            "SELECT COALESCE(max(last_seq), 0) FROM rooms WHERE room_id = '{room}'"
        ))
        .await;
    (members, last)
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_member_adds_people_to_a_private_room_and_members_list_them_by_username() {
    let app = spawn_app().await;
    let alice = register_as(&app, "alice", "Alice A.").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app
        .create_room(&alice, json!({"name": "plans", "visibility": "private"}))
        .await;
    let mut alice_ws = WsClient::connect(&app.base, &alice.token).await;
    alice_ws.join(&room).await;

    let (status, body) = add_raw(&app, &alice, &room, json!({"userIds": [carol.id, bob.id]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["roomId"], room);
    let mut added: Vec<&str> = body["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    added.sort();
    let mut want = vec![bob.id.as_str(), carol.id.as_str()];
    want.sort();
    assert_eq!(added, want);
    assert!(body["seq"].as_u64().is_some(), "{body}");

    // Adding again (and alice herself) adds nobody and stores nothing.
    let before = footprint(&app, &room).await;
    let (status, body) = add_raw(
        &app,
        &bob,
        &room,
        json!({"userIds": [carol.id, alice.id, carol.id]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["added"], json!([]));
    assert!(body.get("seq").is_none(), "{body}");
    assert_eq!(footprint(&app, &room).await, before);

    // The list: by username, names, presence as getStatus has it, read positions.
    let (status, list) = members(&app, &carol, &room, "").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(usernames(&list), ["alice", "bob", "carol"]);
    let first = &list["members"][0];
    assert_eq!(first["userId"], alice.id);
    assert_eq!(first["displayName"], "Alice A.");
    assert_eq!(first["status"], "online");
    assert!(first["lastSeen"].is_string(), "{first}");
    assert_eq!(first["lastReadSeq"], 0);
    assert_eq!(list["members"][1]["status"], "offline");
    assert_eq!(list["members"][1]["displayName"], "bob");

    // Pages: `after` is the last username of the previous page.
    let (_, page) = members(&app, &carol, &room, "?limit=2").await;
    assert_eq!(usernames(&page), ["alice", "bob"]);
    let (_, page) = members(&app, &carol, &room, "?limit=2&after=bob").await;
    assert_eq!(usernames(&page), ["carol"]);
    // Each added member is a `member.joined` of their own, the adder its actor.
    let joins = alice_ws.events(2).await;
    for join in &joins {
        assert_eq!(join["event"]["type"], "member.joined", "{join}");
        assert_eq!(join["event"]["actor"], alice.id, "{join}");
    }
    let mut joined: Vec<&str> = joins
        .iter()
        .map(|j| j["event"]["data"]["userId"].as_str().unwrap())
        .collect();
    joined.sort();
    assert_eq!(joined, want);
}

#[tokio::test]
async fn bad_input_to_add_members_is_refused_with_its_code_and_stores_nothing() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "plans", "visibility": "private"}))
        .await;
    let ghost = uuid::Uuid::now_v7().to_string();
    let many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let cases = [
        (json!({}), StatusCode::BAD_REQUEST, "invalid_user_ids"),
        (
            json!({"userIds": []}),
            StatusCode::BAD_REQUEST,
            "invalid_user_ids",
        ),
        (
            json!({"userIds": "x"}),
            StatusCode::BAD_REQUEST,
            "invalid_user_ids",
        ),
        (
            json!({"userIds": [7]}),
            StatusCode::BAD_REQUEST,
            "invalid_user_ids",
        ),
        (
            json!({"userIds": ["not a uuid"]}),
            StatusCode::BAD_REQUEST,
            "invalid_user_ids",
        ),
        (
            json!({"userIds": [alice.id, alice.id]}),
            StatusCode::BAD_REQUEST,
            "invalid_user_ids",
        ),
        (
            json!({"userIds": many}),
            StatusCode::BAD_REQUEST,
            "too_many_ids",
        ),
        (
            json!({"userIds": [bob.id, ghost]}),
            StatusCode::NOT_FOUND,
            "user_not_found",
        ),
    ];
    let before = footprint(&app, &room).await;
    for (body, status, want) in cases {
        let (got, answer) = add_raw(&app, &alice, &room, body.clone()).await;
        assert_eq!((got, code(&answer)), (status, want), "{body}: {answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
    }
    // The unknown id is named; Bob, valid, was not added either.
    let (_, answer) = add_raw(&app, &alice, &room, json!({"userIds": [bob.id, ghost]})).await;
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&ghost),
        "{answer}"
    );
    assert_eq!(footprint(&app, &room).await, before);

    // Unknown rooms and bad room ids.
    let (status, answer) =
        add_raw(&app, &alice, "no-such-room", json!({"userIds": [bob.id]})).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::NOT_FOUND, "room_not_found")
    );
    let (status, answer) = add_raw(&app, &alice, "bad.room", json!({"userIds": [bob.id]})).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "invalid_room_id")
    );
    // Not JSON.
    let (status, answer) = app
        .request(
            reqwest::Method::POST,
            &format!("/rooms/{room}/members"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(footprint(&app, &room).await, before);

    // Listing: limits out of range.
    for query in ["?limit=0", "?limit=501", "?limit=x"] {
        let (status, answer) = members(&app, &alice, &room, query).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::BAD_REQUEST, "invalid_parameter"),
            "{query}"
        );
    }
}

#[tokio::test]
async fn an_outsider_can_neither_list_nor_add_and_learns_nothing_about_direct_rooms() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app
        .create_room(&alice, json!({"name": "secret", "visibility": "private"}))
        .await;
    let before = footprint(&app, &room).await;

    // Carol (not a member) cannot list or add anyone.
    let (status, answer) = members(&app, &carol, &room, "").await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::FORBIDDEN, "not_a_member")
    );
    assert!(!answer.to_string().contains(&alice.id), "{answer}");
    for ids in [json!([bob.id]), json!([bob.id, carol.id])] {
        let (status, answer) = add_raw(&app, &carol, &room, json!({"userIds": ids})).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::FORBIDDEN, "not_a_member")
        );
    }
    // Naming only herself is a mistake in the list, whatever the room.
    let (status, answer) = add_raw(&app, &carol, &room, json!({"userIds": [carol.id]})).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "invalid_user_ids")
    );
    // An unknown id does not tell her the room is there but closed to her in another way.
    let ghost = uuid::Uuid::now_v7().to_string();
    let (status, answer) = add_raw(&app, &carol, &room, json!({"userIds": [ghost]})).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::FORBIDDEN, "not_a_member")
    );
    assert_eq!(footprint(&app, &room).await, before);

    // A direct room: its own members cannot add people to it ...
    let (_, opened) = app
        .post("/dms", Some(&alice.token), json!({"userId": bob.id}))
        .await;
    let dm = opened["roomId"].as_str().unwrap().to_owned();
    let dm_before = footprint(&app, &dm).await;
    let (status, answer) = add_raw(&app, &alice, &dm, json!({"userIds": [carol.id]})).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "direct_room"),
        "{answer}"
    );
    // ... and to Carol, who knows (or guesses) its id, it answers exactly as a direct room
    // that does not exist, for adding and for listing.
    let nowhere = format!("dm_{}", uuid::Uuid::now_v7().simple());
    for target in [&dm, &nowhere] {
        let (status, answer) = add_raw(&app, &carol, target, json!({"userIds": [alice.id]})).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::NOT_FOUND, "room_not_found"),
            "{target}"
        );
        let (status, answer) = members(&app, &carol, target, "").await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::NOT_FOUND, "room_not_found"),
            "{target}"
        );
    }
    let (_, real) = add_raw(&app, &carol, &dm, json!({"userIds": [alice.id]})).await;
    let (_, fake) = add_raw(&app, &carol, &nowhere, json!({"userIds": [alice.id]})).await;
    assert_eq!(real, fake);
    assert_eq!(footprint(&app, &dm).await, dm_before);
    // Alice and Bob may list their own direct room.
    let (status, list) = members(&app, &bob, &dm, "").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(usernames(&list), ["alice", "bob"]);
}

#[tokio::test]
async fn adding_people_is_rate_limited_like_other_writes() {
    let app = spawn_app_with(AppOptions {
        write_rate: chat_core::ratelimit::Rate {
            per_second: 0.1,
            burst: 3.0,
        },
        ..AppOptions::default()
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.create_room(&alice, json!({"name": "lobby"})).await;
    let mut limited = None;
    for _ in 0..5 {
        let (status, answer) = add_raw(&app, &alice, &room, json!({"userIds": [bob.id]})).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(answer);
            break;
        }
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let answer = limited.expect("a burst of adds meets the write limit");
    assert_eq!(code(&answer), "rate_limited");
}

#[tokio::test]
async fn two_members_adding_the_same_person_at_once_add_them_once() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app
        .create_room(
            &alice,
            json!({"name": "plans", "visibility": "private", "members": [carol.id]}),
        )
        .await;
    let body = json!({"userIds": [bob.id]});
    let (by_alice, by_carol) = tokio::join!(
        add_raw(&app, &alice, &room, body.clone()),
        add_raw(&app, &carol, &room, body.clone())
    );
    for (status, answer) in [&by_alice, &by_carol] {
        assert_eq!(*status, StatusCode::OK, "{answer}");
    }
    let credited: usize = [&by_alice.1, &by_carol.1]
        .iter()
        .map(|a| a["added"].as_array().unwrap().len())
        .sum();
    assert_eq!(credited, 1, "{by_alice:?} {by_carol:?}");
    let (_, list) = members(&app, &alice, &room, "").await;
    assert_eq!(usernames(&list), ["alice", "bob", "carol"]);
}

/// Strangers with free accounts cannot bury someone under rooms: each person may be added
/// to rooms by others only so often (30 at once, then one every 10 s), whoever adds them;
/// a refused or failed attempt stores nothing and costs the person nothing.
#[tokio::test]
async fn nobody_can_be_added_to_rooms_without_end() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let mallory = app.register("mallory").await;
    let carol = app.register("carol").await;
    let bob = app.register("bob").await;
    let dave = app.register("dave").await;
    let lobby = app
        .create_room(&alice, json!({"name": "lobby", "visibility": "private"}))
        .await;

    // Failed attempts (mallory is not in alice's room) do not use up bob's allowance.
    for _ in 0..35 {
        let (status, answer) = add_raw(&app, &mallory, &lobby, json!({"userIds": [bob.id]})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    }

    // 30 rooms with bob, from two accounts, then the allowance is spent.
    for i in 0..30 {
        let by = if i % 2 == 0 { &mallory } else { &carol };
        let (status, answer) = app
            .post(
                "/rooms",
                Some(&by.token),
                json!({"name": format!("spam {i}"), "visibility": "private", "members": [bob.id]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "room {i}: {answer}");
    }
    let (status, answer) = app
        .post(
            "/rooms",
            Some(&mallory.token),
            json!({"name": "one more", "visibility": "private", "members": [bob.id, dave.id]}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert_eq!(code(&answer), "rate_limited");
    let (status, answer) = add_raw(&app, &alice, &lobby, json!({"userIds": [bob.id]})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    let refused = app
        .count("SELECT count(*) FROM rooms WHERE name = 'one more'")
        .await;
    assert_eq!(refused, 0, "a refused room is not created");
    let (_, rooms) = app.get("/rooms", Some(&bob.token)).await;
    assert_eq!(rooms["rooms"].as_array().unwrap().len(), 30, "{rooms}");

    // Everyone else can still be added, and bob can still join and create rooms himself.
    let (status, answer) = add_raw(&app, &alice, &lobby, json!({"userIds": [dave.id]})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["added"], json!([dave.id]));
    let (status, answer) = app
        .post(
            "/rooms",
            Some(&bob.token),
            json!({"name": "mine", "members": [alice.id]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}
