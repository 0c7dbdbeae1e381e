//! Logging set-up: structured JSON on stderr, or a human format on a terminal.
//! (Standard output is kept for command results such as tables and `--json`.)

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// `default_filter` applies when RUST_LOG is unset.
pub fn init(format: &str, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let pretty = match format {
        "pretty" => true,
        "json" => false,
        _ => std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if pretty {
        builder.init();
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    }
}
