//! Logging set-up: structured JSON on stderr, or a human format on a terminal, plus the
//! engine's job-log layer, which also stores every event inside a job's span (INFO and
//! above, whatever RUST_LOG says) in that job's log. Standard output is kept for
//! command results such as tables and `--json`.
//!
//! With `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set,
//! spans are also exported over OTLP/HTTP (protobuf) as service `OTEL_SERVICE_NAME`
//! (default `deployflow`); the exporter reads the other standard `OTEL_*` variables
//! itself. Without either, no OpenTelemetry layer is installed at all.

use std::io::IsTerminal;

use engine::JobLogLayer;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Level;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Flushes and stops the span exporter when dropped: keep it until the process ends.
#[must_use = "dropping the guard stops exporting spans"]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.traces.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("warning: could not export the last spans: {e}");
        }
    }
}

/// `default_filter` applies to stderr when RUST_LOG is unset.
pub fn init(format: &str, default_filter: &str) -> Telemetry {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let pretty = match format {
        "pretty" => true,
        "json" => false,
        _ => std::io::stderr().is_terminal(),
    };
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let stderr = if pretty {
        stderr.boxed()
    } else {
        stderr
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed()
    };
    let traces = tracer_provider();
    let otel = traces.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("deployflow"))
            .with_filter(span_filter())
    });
    tracing_subscriber::registry()
        .with(stderr.with_filter(filter))
        .with(JobLogLayer.with_filter(LevelFilter::INFO))
        .with(otel)
        .init();
    Telemetry { traces }
}

/// The OTLP span pipeline, when an endpoint is configured. Built before the async
/// runtime starts: the blocking HTTP client must not be created inside it.
fn tracer_provider() -> Option<SdkTracerProvider> {
    let configured = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    if !configured {
        return None;
    }
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!("warning: traces are not exported: {e}");
            return None;
        }
    };
    let service = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "deployflow".into());
    Some(
        SdkTracerProvider::builder()
            .with_resource(Resource::builder().with_service_name(service).build())
            .with_batch_exporter(exporter)
            .build(),
    )
}

/// Our spans and their events; not the chatter of the libraries underneath (the
/// exporter's own HTTP client included, which would otherwise trace itself).
fn span_filter() -> Targets {
    Targets::new()
        .with_default(Level::INFO)
        .with_target("sqlx", Level::WARN)
        .with_target("opentelemetry", LevelFilter::OFF)
        .with_target("opentelemetry_sdk", LevelFilter::OFF)
        .with_target("opentelemetry_otlp", LevelFilter::OFF)
        .with_target("reqwest", LevelFilter::OFF)
        .with_target("hyper", LevelFilter::OFF)
        .with_target("hyper_util", LevelFilter::OFF)
}
