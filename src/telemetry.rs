//! Logging (text or JSON) and the request id that ties a client's error to the log.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{LogFormat, Settings};

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Flushes the spans not yet exported when the process ends.
pub struct Telemetry {
    traces: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.traces.take()
            && let Err(err) = provider.shutdown()
        {
            eprintln!("partnerhub: the last traces were not exported: {err}");
        }
    }
}

/// Installs the global subscriber once; later calls (tests building several apps) are no-ops.
/// With `PARTNERHUB_OTLP_ENDPOINT`, spans (the request span carries the request id) are also
/// exported over OTLP/HTTP by a background thread, so a slow collector never holds a request.
pub fn init(settings: &Settings) -> Telemetry {
    let filter = EnvFilter::try_new(format!("{},sqlx=warn,sea_orm=warn", settings.log_filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let traces = settings.otlp_endpoint.as_deref().and_then(|endpoint| match otlp(endpoint) {
        Ok(provider) => Some(provider),
        Err(err) => {
            eprintln!("partnerhub: traces are not exported to {endpoint}: {err}");
            None
        }
    });
    let otel = traces.as_ref().map(|provider| {
        use opentelemetry::trace::TracerProvider as _;
        tracing_opentelemetry::layer().with_tracer(provider.tracer("partnerhub"))
    });
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let _ = match settings.log_format {
        LogFormat::Json => {
            registry.with(fmt::layer().json().with_current_span(true).with_writer(std::io::stderr)).try_init()
        }
        LogFormat::Text => registry
            .with(fmt::layer().with_ansi(std::io::stderr().is_terminal()).with_writer(std::io::stderr))
            .try_init(),
    };
    Telemetry { traces }
}

fn otlp(endpoint: &str) -> Result<opentelemetry_sdk::trace::SdkTracerProvider, String> {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    // The exporter's reqwest is the one built with rustls but no bundled provider; ring is ours.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .build()
        .map_err(|e| e.to_string())?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name("partnerhub").build();
    Ok(opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
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
