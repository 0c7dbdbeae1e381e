//! Logging set-up: structured JSON on stderr, or a human format on a terminal, plus the
//! engine's job-log layer, which also stores every event inside a job's span (INFO and
//! above, whatever RUST_LOG says) in that job's log. Standard output is kept for
//! command results such as tables and `--json`.

use std::io::IsTerminal;

use engine::JobLogLayer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// `default_filter` applies to stderr when RUST_LOG is unset.
pub fn init(format: &str, default_filter: &str) {
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
    tracing_subscriber::registry()
        .with(stderr.with_filter(filter))
        .with(JobLogLayer.with_filter(LevelFilter::INFO))
        .init();
}
