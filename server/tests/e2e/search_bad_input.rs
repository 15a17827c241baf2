//! Bad input to `GET /search`, each refused with its own stable code (or, where the words
//! are merely odd, answered normally): operators only, only excluded words, unbalanced
//! quotes, 10 KB of query, control characters, SQL look-alikes, bad paging, no token, and
//! the per-caller rate limit.

use reqwest::StatusCode;
use serde_json::json;

use crate::app::spawn_app;
use crate::people::encode;
use crate::search::search;

#[tokio::test]
async fn queries_without_a_word_to_look_for_are_invalid_query() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app
        .create_room(&alice, json!({"name": "r", "visibility": "private"}))
        .await;
    app.send(&alice, &room, "or and not").await;
    for words in [
        "or",
        "-",
        "\"\"",
        "\" \"",
        "-foo",
        "- -",
        "!!! && || ()",
        "-\"a b\"",
        "%_\\*",
    ] {
        let (status, body) = search(&app, &alice, &format!("q={}", encode(words))).await;
        // `or` alone is a word to the 'simple' configuration, not an operator.
        if words == "or" {
            assert_eq!(status, StatusCode::OK, "{words}: {body}");
            continue;
        }
        assert_eq!(status, StatusCode::BAD_REQUEST, "{words}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query", "{words}");
    }
}

#[tokio::test]
async fn odd_but_valid_words_are_searched_and_bad_parameters_refused() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app
        .create_room(&alice, json!({"name": "r", "visibility": "private"}))
        .await;
    app.send(&alice, &room, "hello world, quoted text").await;
    app.wait_for_messages(&alice, &room, 1).await;
    for words in [
        "\"hello world",
        "hello\"",
        "\"quoted\" \"text",
        "'); DROP TABLE messages; --",
        "hello:* & !world | <->",
    ] {
        let (status, body) = search(&app, &alice, &format!("q={}", encode(words))).await;
        assert_eq!(status, StatusCode::OK, "{words}: {body}");
        assert!(body["results"].is_array(), "{words}: {body}");
    }
    let (_, body) = search(&app, &alice, &format!("q={}", encode("\"hello world"))).await;
    assert_eq!(body["results"].as_array().unwrap().len(), 1, "{body}");

    let ten_kb = "word ".repeat(2048);
    let cases = [
        (format!("q={}", encode(&ten_kb)), "invalid_query"),
        (format!("q={}", encode(&"é".repeat(257))), "invalid_query"),
        (format!("q={}", encode("a\u{0}b")), "invalid_query"),
        (format!("q={}", encode("a\u{1b}[31m")), "invalid_query"),
        ("q=".to_owned(), "missing_field"),
        (format!("q={}", encode("   ")), "missing_field"),
        ("roomId=abc".to_owned(), "missing_field"),
        ("q=a&limit=0".to_owned(), "invalid_parameter"),
        ("q=a&limit=51".to_owned(), "invalid_parameter"),
        ("q=a&limit=x".to_owned(), "invalid_parameter"),
        ("q=a&beforeSeq=0".to_owned(), "invalid_parameter"),
        ("q=a&beforeSeq=-5".to_owned(), "invalid_parameter"),
        ("q=a&roomId=a%2Fb".to_owned(), "invalid_room_id"),
        ("q=%FF".to_owned(), "invalid_query"),
    ];
    for (params, code) in cases {
        let (status, body) = search(&app, &alice, &params).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{}: {body}",
            &params[..params.len().min(40)]
        );
        assert_eq!(
            body["error"]["code"],
            code,
            "{}",
            &params[..params.len().min(40)]
        );
    }
    // 256 characters is the limit, not over it.
    let (status, body) = search(&app, &alice, &format!("q={}", encode(&"é".repeat(256)))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = app.get("/search?q=hello", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn searches_are_rate_limited_per_caller() {
    let app = spawn_app().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let mut limited = false;
    for _ in 0..100 {
        let (status, body) = search(&app, &alice, "q=hello").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["error"]["code"], "rate_limited", "{body}");
            limited = true;
            break;
        }
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert!(limited, "a burst of searches is limited");
    let (status, body) = search(&app, &bob, "q=hello").await;
    assert_eq!(status, StatusCode::OK, "another caller is not: {body}");
}
