//! What operators see: one trace per message across processes (exported over OTLP to a
//! receiver this test runs), Prometheus metrics that move with traffic, and readiness.

use axum::body::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::app::{spawn_app, spawn_app_with, AppOptions};
use chat_testkit::{start_projector_with, GatewayProcess, WsClient};

/// A span as the receiver got it.
#[derive(Debug, Clone)]
struct ReceivedSpan {
    service: String,
    name: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
}

/// An OTLP/HTTP trace receiver on a free port.
async fn otlp_receiver() -> (String, Arc<Mutex<Vec<ReceivedSpan>>>) {
    let spans: Arc<Mutex<Vec<ReceivedSpan>>> = Arc::default();
    let sink = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                let mut spans = sink.lock().unwrap();
                for resource_spans in request.resource_spans {
                    let service = resource_spans
                        .resource
                        .iter()
                        .flat_map(|r| r.attributes.iter())
                        .find(|a| a.key == "service.name")
                        .and_then(|a| a.value.as_ref())
                        .map(|v| format!("{:?}", v.value))
                        .unwrap_or_default();
                    for scope in resource_spans.scope_spans {
                        for span in scope.spans {
                            spans.push(ReceivedSpan {
                                service: service.clone(),
                                name: span.name,
                                trace_id: span.trace_id,
                                span_id: span.span_id,
                                parent_span_id: span.parent_span_id,
                            });
                        }
                    }
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, spans)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_covers_a_message_from_the_gateway_through_the_projector() {
    let (endpoint, spans) = otlp_receiver().await;
    let app = spawn_app_with(AppOptions {
        run_projector: false,
        ..Default::default()
    })
    .await;
    let otel = |service: &'static str| {
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
            ("OTEL_SERVICE_NAME", service.to_owned()),
        ]
    };
    let projector_env = otel("projector");
    let projector_env: Vec<(&str, &str)> = projector_env
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let mut projector = start_projector_with(&app.nats.url(), &app.database_url, &projector_env);
    let gateway_env = otel("gateway");
    let gateway_env: Vec<(&str, &str)> =
        gateway_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gw = GatewayProcess::start(&app, &gateway_env).await;

    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "traced"})).await;
    let mut a = WsClient::connect(&gw.base, &alice.token).await;
    a.join(&room).await;
    let ack = a
        .call(
            json!({"type": "send", "roomId": room, "message": "follow me"}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");

    let deadline = Instant::now() + Duration::from_secs(20);
    let found = loop {
        let spans = spans.lock().unwrap().clone();
        let by_name = |name: &str| {
            spans
                .iter()
                .filter(|s| s.name == name)
                .cloned()
                .collect::<Vec<_>>()
        };
        let found = by_name("ws.send").into_iter().find_map(|send| {
            let publish = spans
                .iter()
                .find(|s| s.name == "eventlog.publish" && s.parent_span_id == send.span_id)?;
            let apply = spans
                .iter()
                .find(|s| s.name == "projector.apply" && s.parent_span_id == publish.span_id)?;
            let fanout = spans
                .iter()
                .find(|s| s.name == "gateway.fanout" && s.parent_span_id == publish.span_id)?;
            Some((send, publish.clone(), apply.clone(), fanout.clone()))
        });
        if let Some(found) = found {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "no complete trace; spans received: {:?}",
            spans
                .iter()
                .map(|s| (&s.service, &s.name))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (send, publish, apply, fanout) = found;
    for span in [&publish, &apply, &fanout] {
        assert_eq!(
            span.trace_id, send.trace_id,
            "{} is in another trace",
            span.name
        );
    }
    assert!(send.service.contains("gateway"), "{send:?}");
    assert!(
        apply.service.contains("projector"),
        "the projector's own process exported it: {apply:?}"
    );
    projector.kill9();
}

fn sample(text: &str, name: &str, label: Option<(&str, &str)>) -> f64 {
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text parses");
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(ref buckets) => {
                buckets.last().map(|b| b.count).unwrap_or(0.0)
            }
            _ => 0.0,
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_move_with_traffic() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "counted"})).await;
    let scrape = || async {
        let resp = app
            .http
            .get(format!("{}/metrics", app.metrics_base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        resp.text().await.unwrap()
    };
    let before = scrape().await;
    let mut a = WsClient::connect(&app.base, &alice.token).await;
    a.join(&room).await;
    let mut last = json!(null);
    for i in 0..5 {
        last = app.send(&alice, &room, &format!("m{i}")).await;
    }
    app.messages(&alice, &room, &format!("&minSeq={}", last["seq"]))
        .await;
    a.events(5).await;
    let after = scrape().await;

    let grew = |name: &str, label: Option<(&str, &str)>| {
        let (b, a) = (sample(&before, name, label), sample(&after, name, label));
        assert!(a > b, "{name} {label:?} did not grow: {b} -> {a}");
    };
    grew("chat_publish_seconds_count", None);
    grew(
        "chat_http_request_seconds_count",
        Some(("route", "/sendMessage")),
    );
    grew(
        "chat_projector_events_total",
        Some(("stream", "CHAT_ROOMS")),
    );
    grew("chat_projector_batch_size_count", None);
    grew("chat_gateway_frames_out_total", None);
    grew("chat_gateway_frames_in_total", None);
    assert!(sample(&after, "chat_gateway_connections", None) >= 1.0);
    assert!(sample(&after, "chat_gateway_room_subscriptions", None) >= 1.0);
    assert!(sample(&after, "chat_db_pool_max", None) >= 1.0);
    assert!(after.contains("chat_projector_lag_events"));
}

#[tokio::test]
async fn readiness_follows_nats_and_comes_back() {
    let mut app = spawn_app().await;
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["projectorLag"], 0);
    app.nats.kill();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = app.get("/readyz", None).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(body["nats"], false, "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "still ready with NATS down");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.nats.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.get("/readyz", None).await.0 != StatusCode::OK {
        assert!(
            Instant::now() < deadline,
            "not ready again after NATS returned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
