//! The README's curl walk-through, pasted into bash twice in a row as a newcomer would:
//! both runs print what the README says they print, line for line.
//!
//! Lines are compared as JSON: the same keys everywhere, the same literal values (message
//! texts, statuses, error codes and messages), while what differs from run to run (ids,
//! tokens, times, `seq` numbers; shortened with `…` in the README) only has to be of the
//! same kind.

use serde_json::Value;

use crate::app::spawn_app;

const README: &str = include_str!("../../../README.md");

/// The text between the first fence opening with `fence` after `after`, and its close.
fn block<'a>(text: &'a str, after: &str, fence: &str) -> &'a str {
    let start = text
        .find(after)
        .unwrap_or_else(|| panic!("README has {after:?}"));
    let rest = &text[start..];
    let open = rest.find(fence).expect("an opening fence") + fence.len();
    let body = &rest[open..];
    &body[..body.find("\n```").expect("a closing fence") + 1]
}

/// An expected line without its trailing `# comment`.
fn expected_json(line: &str) -> Value {
    let end = line.rfind('}').expect("a JSON line") + 1;
    serde_json::from_str(&line[..end]).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// Whether `actual` has the shape and the literal values of `expected`.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|got| matches(v, got)))
        }
        (Value::String(e), Value::String(a)) => e == a || varies(e) && !a.is_empty(),
        (Value::Number(_), Value::Number(_)) => true,
        (e, a) => e == a,
    }
}

/// Values that differ from run to run: shortened ids, times.
fn varies(text: &str) -> bool {
    text.contains('…')
        || time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walk_through_prints_what_it_says_twice_in_a_row() {
    let app = spawn_app().await;
    let script = block(README, "## Try it: a walk-through with curl", "```bash\n");
    assert!(
        script.starts_with("B=http://127.0.0.1:8080;"),
        "the walk-through starts by naming the server: {script}"
    );
    let script = script.replacen("http://127.0.0.1:8080", &app.base, 1);
    let expected: Vec<Value> = block(README, "What you should see", "```text\n")
        .lines()
        .map(expected_json)
        .collect();

    for run in 1..=2 {
        let script = script.clone();
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("bash")
                .args(["-c", &script])
                .output()
                .expect("bash runs")
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let printed: Vec<&str> = stdout.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            printed.len(),
            expected.len(),
            "run {run} printed another number of lines:\n{stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        for (line, want) in printed.iter().zip(&expected) {
            let got: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("run {run}: not JSON ({e}): {line}"));
            assert!(
                matches(want, &got),
                "run {run}: printed\n  {line}\nwhere the README shows\n  {want}"
            );
        }
    }
}

#[test]
fn the_comparison_tells_shapes_and_literals_apart() {
    let want = expected_json(r#"{"userId":"01a1-…","status":"away","seq":3}   # note"#);
    let same = serde_json::json!({"userId": "01a2-ffff", "status": "away", "seq": 9});
    assert!(matches(&want, &same));
    let other_status = serde_json::json!({"userId": "x", "status": "online", "seq": 9});
    assert!(!matches(&want, &other_status));
    let extra_key = serde_json::json!({"userId": "x", "status": "away", "seq": 9, "more": 1});
    assert!(!matches(&want, &extra_key));
}
