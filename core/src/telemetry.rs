//! Logs and traces.
//!
//! - **Logs**: `RUST_LOG` filters (default `info`); `LOG_FORMAT=json` writes one JSON
//!   object per line. Nothing logs tokens, passwords or message bodies.
//! - **Traces**: exported over OTLP (HTTP/protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT` or
//!   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (and `OTEL_SDK_DISABLED` is not `true`);
//!   off otherwise. The other standard variables apply (`OTEL_SERVICE_NAME`,
//!   `OTEL_BSP_SCHEDULE_DELAY`, ...).
//! - **Trace context across NATS**: [`inject`] writes the current span's W3C
//!   `traceparent` into an event's headers; [`extract`] reads it back on the other side
//!   (projector, fan-out), so one message is one trace across the services.

use async_nats::HeaderMap;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Keeps the trace exporter alive; [`Telemetry::shutdown`] flushes what is buffered.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            let _ = provider.shutdown();
        }
    }
}

/// Logs only (tests and tools); a second call is harmless.
pub fn init_logging() {
    let _ = tracing_subscriber::registry().with(log_layer()).try_init();
}

/// Logs, and traces when an OTLP endpoint is configured. `service` is the default
/// service name (`OTEL_SERVICE_NAME` wins).
pub fn init(service: &str) -> Telemetry {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = otlp_enabled().then(|| tracer_provider(service)).flatten();
    let otel = provider.as_ref().map(|p| {
        // Only this project's spans (and HTTP request spans) are exported, whatever the
        // log filter says.
        let filter = EnvFilter::new("info,chat_core=debug,chat_gateway=debug,chat_projector=debug");
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("chat"))
            .with_filter(filter)
    });
    let _ = tracing_subscriber::registry()
        .with(log_layer())
        .with(otel)
        .try_init();
    Telemetry { provider }
}

fn log_layer<S>() -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    // Colour codes only for a person at a terminal, not in log files.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let fmt = tracing_subscriber::fmt::layer().with_ansi(ansi);
    if json {
        fmt.json().with_filter(filter).boxed()
    } else {
        fmt.with_filter(filter).boxed()
    }
}

fn otlp_enabled() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    !disabled && (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

fn tracer_provider(service: &str) -> Option<SdkTracerProvider> {
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!("tracing export disabled: {e}");
            return None;
        }
    };
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service.to_owned());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(name)
        .build();
    Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    )
}

/// Writes the current span's trace context (`traceparent`) into NATS headers.
pub fn inject(headers: &mut HeaderMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&context, &mut HeaderInjector(headers))
    });
}

/// Makes `span` a child of the trace context carried in `headers`, if any.
pub fn continue_trace(span: &tracing::Span, headers: Option<&HeaderMap>) {
    if let Some(headers) = headers {
        let parent = opentelemetry::global::get_text_map_propagator(|p| {
            p.extract(&HeaderExtractor(headers))
        });
        let _ = span.set_parent(parent);
    }
}

/// The `traceparent` carried in `headers`, kept as text (to be continued later).
pub fn traceparent(headers: Option<&HeaderMap>) -> Option<String> {
    headers?.get("traceparent").map(|v| v.as_str().to_owned())
}

/// Makes `span` a child of a `traceparent` kept as text.
pub fn continue_traceparent(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(value) = traceparent {
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", value);
        continue_trace(span, Some(&headers));
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value.as_str());
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}
