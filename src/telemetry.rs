//! Logging (text or JSON) and the request id that ties a client's error to the log.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{LogFormat, Settings};

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Installs the global subscriber once; later calls (tests building several apps) are no-ops.
pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_new(format!("{},sqlx=warn,sea_orm=warn", settings.log_filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match settings.log_format {
        LogFormat::Json => {
            registry.with(fmt::layer().json().with_current_span(true).with_writer(std::io::stderr)).try_init()
        }
        LogFormat::Text => registry
            .with(fmt::layer().with_ansi(std::io::stderr().is_terminal()).with_writer(std::io::stderr))
            .try_init(),
    };
}

/// Runs `fut` with `id` as the current request id.
pub async fn with_request_id<F: std::future::Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

/// The id of the request being served ("-" outside a request, e.g. in a CLI command).
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_else(|_| "-".into())
}

/// Accepts a caller's `X-Request-Id` when it is short and plain, so ids can be followed across
/// systems; otherwise makes a new one.
pub fn request_id_from_header(value: Option<&str>) -> String {
    match value {
        Some(v)
            if !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            v.to_string()
        }
        _ => uuid::Uuid::now_v7().to_string(),
    }
}
