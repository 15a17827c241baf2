//! The OpenAPI document served at `/openapi.json` against the router's route table.

use std::collections::BTreeSet;

use chat_api::router::routes;
use chat_api::routes::openapi::DOCUMENT;
use serde_json::Value;

/// The HTTP methods an OpenAPI path item may hold operations under.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("api/openapi.json is not valid JSON")
}

/// Every operation of the document as (METHOD, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let paths = doc["paths"]
        .as_object()
        .expect("the document has no `paths` object");
    let mut found = Vec::new();
    for (path, item) in paths {
        let item = item
            .as_object()
            .unwrap_or_else(|| panic!("path item {path} is not an object"));
        for (key, operation) in item {
            if METHODS.contains(&key.as_str()) {
                found.push((key.to_uppercase(), path.clone(), operation));
            }
        }
    }
    found
}

/// Every `$ref` value anywhere in `value`, with the JSON pointer of where it occurs.
fn refs<'a>(value: &'a Value, at: String, found: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref" {
                    if let Value::String(target) = child {
                        found.push((at.clone(), target));
                        continue;
                    }
                }
                refs(
                    child,
                    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                    found,
                );
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1() {
    let doc = document();
    let version = doc["openapi"].as_str().expect("`openapi` is not a string");
    assert!(
        version.starts_with("3.1"),
        "openapi is {version:?}, expected 3.1.x"
    );
}

#[test]
fn the_document_lists_exactly_the_routes_of_the_router() {
    let doc = document();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let routed: BTreeSet<(String, String)> = routes()
        .iter()
        .map(|r| (r.method.to_uppercase(), r.path.to_owned()))
        .collect();

    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "the document and the router disagree\n  routed but not documented: {undocumented:?}\n  \
         documented but not routed: {unrouted:?}"
    );
}

#[test]
fn every_operation_answers_at_least_one_success() {
    let doc = document();
    for (method, path, operation) in operations(&doc) {
        let responses = operation["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} has no `responses` object"));
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{method} {path} documents no 2xx response: {:?}",
            responses.keys().collect::<Vec<_>>()
        );
    }
}

#[test]
fn every_reference_points_at_an_existing_component() {
    let doc = document();
    let mut found = Vec::new();
    refs(&doc, String::new(), &mut found);
    assert!(!found.is_empty(), "the document has no $ref at all");

    let broken: Vec<_> = found
        .iter()
        .filter(|(_, target)| {
            !target.starts_with("#/components/")
                || doc.pointer(target.trim_start_matches('#')).is_none()
        })
        .collect();
    assert!(
        broken.is_empty(),
        "unresolved references (location, target): {broken:#?}"
    );
}
