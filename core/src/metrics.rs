//! Prometheus metrics. Code records through the `metrics` facade (`counter!`,
//! `histogram!`, `gauge!`); [`render`] answers `GET /metrics` in the Prometheus text
//! format. The recorder is installed once per process.
//!
//! Names (all prefixed `chat_`): see the README's "Operations" section.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder (idempotent) and answers its handle.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let latency = [
            0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ];
        let sizes = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &latency)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_size".into()), &sizes))
            .expect("bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed already (a test process running several
        // apps): then this handle simply renders nothing new.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// The current metrics as Prometheus text.
pub fn render() -> String {
    install().render()
}

/// The `GET /metrics` handler, shared by every service. It also reports the Tokio
/// runtime's live tasks (`chat_runtime_alive_tasks`), read at each scrape: a count that
/// grows with idle connections or requests means something keeps a task per one.
pub async fn endpoint() -> impl axum::response::IntoResponse {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        metrics::gauge!("chat_runtime_alive_tasks").set(runtime.metrics().num_alive_tasks() as f64);
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(),
    )
}

/// A router answering only `GET /metrics`: the operator's listener of a service that has
/// nothing of its own to add to a scrape.
pub fn router() -> axum::Router {
    install();
    axum::Router::new().route("/metrics", axum::routing::get(endpoint))
}
