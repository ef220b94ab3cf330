//! Logging: `tracing` to stderr, for people (`pretty`) or collectors (`json`).
//!
//! `RUST_LOG` filters as usual (default `info`). HTTP requests run inside a span that
//! carries the request id, so every line logged while serving a request names it.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Pretty => registry.with(fmt::layer().with_writer(std::io::stderr)).init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .init(),
    }
}
