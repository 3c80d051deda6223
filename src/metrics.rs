//! Prometheus metrics (issue 19): requests and their latency per route and GraphQL operation,
//! errors per code, SQL statements per request, the database pool, job runs and the outbox's
//! lag. Served on a listen address of its own (`PARTNERHUB_METRICS_LISTEN`), never on the public
//! one: what an operator scrapes is not for visitors.
// Seconds and counts as Prometheus reads them: measurements, not money.
#![allow(clippy::disallowed_types)]

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

/// The process's recorder: one per process, whatever the number of applications built in it
/// (the tests build many; their numbers add up, which the tests allow for).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
        let statements = [1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 89.0];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full("partnerhub_statements_per_request".into()), &statements)
            })
            .map(PrometheusBuilder::build_recorder);
        match recorder {
            Ok(recorder) => {
                let handle = recorder.handle();
                if metrics::set_global_recorder(recorder).is_err() {
                    tracing::warn!("a metrics recorder was already installed; /metrics shows only this one's");
                }
                handle
            }
            Err(e) => {
                tracing::error!(error = %e, "metrics buckets refused; using the defaults");
                let recorder = PrometheusBuilder::new().build_recorder();
                let handle = recorder.handle();
                let _ = metrics::set_global_recorder(recorder);
                handle
            }
        }
    })
}

/// Installs the recorder (at start, so that the first requests are counted).
pub fn install() {
    handle();
}

tokio::task_local! {
    static STATEMENTS: Arc<AtomicU64>;
}

/// Runs `fut` counting the SQL statements it (and the loaders it starts) runs.
pub async fn counting_statements<F: std::future::Future>(fut: F) -> (F::Output, u64) {
    let counter = Arc::new(AtomicU64::new(0));
    let out = STATEMENTS.scope(counter.clone(), fut).await;
    (out, counter.load(Ordering::Relaxed))
}

/// Called for every statement (the database's metric callback).
pub fn statement_ran() {
    let _ = STATEMENTS.try_with(|c| c.fetch_add(1, Ordering::Relaxed));
}

/// Spawns a task that counts its statements for the request that spawned it (DataLoader
/// batches run in tasks of their own).
pub fn spawn_counted<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    match STATEMENTS.try_with(Arc::clone) {
        Ok(counter) => tokio::spawn(STATEMENTS.scope(counter, fut)),
        Err(_) => tokio::spawn(fut),
    }
}

/// Operation names are the clients' words: a bounded set of plain ones becomes labels, the rest
/// is counted as "other", so that a client cannot grow the metrics without end.
pub fn operation_label(name: Option<&str>) -> String {
    const MAX_NAMES: usize = 300;
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Some(name) =
        name.filter(|n| !n.is_empty() && n.len() <= 64 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    else {
        return "anonymous".into();
    };
    let mut seen = SEEN.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if seen.contains(name) {
        return name.to_string();
    }
    if seen.len() < MAX_NAMES {
        seen.insert(name.to_string());
        return name.to_string();
    }
    "other".into()
}

/// One request served.
pub fn request(route: &str, operation: &str, status: u16, elapsed: std::time::Duration, statements: u64) {
    let seconds = elapsed.as_secs_f64();
    let class = format!("{}xx", status / 100);
    metrics::counter!("partnerhub_requests_total", "route" => route.to_string(), "operation" => operation.to_string(), "status" => class)
        .increment(1);
    metrics::histogram!("partnerhub_request_duration_seconds", "route" => route.to_string(), "operation" => operation.to_string())
        .record(seconds);
    metrics::histogram!("partnerhub_statements_per_request", "route" => route.to_string(), "operation" => operation.to_string())
        .record(statements as f64);
}

/// One error answered, by its `extensions.code`.
pub fn error(code: &str) {
    metrics::counter!("partnerhub_errors_total", "code" => code.to_string()).increment(1);
}

/// One run of a background job.
pub fn job(name: &'static str, ok: bool) {
    metrics::counter!("partnerhub_job_runs_total", "job" => name, "outcome" => if ok { "ok" } else { "failed" })
        .increment(1);
}

async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let db = &state.ctx.db;
    let (size, idle) = match sea_orm::ConnectionTrait::get_database_backend(db) {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    metrics::gauge!("partnerhub_db_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("partnerhub_db_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("partnerhub_db_connections", "state" => "in_use").set(f64::from(size) - idle as f64);
    metrics::gauge!("partnerhub_db_connections_max").set(f64::from(state.settings.database_max_connections));
    match crate::jobs::outbox::lag(&state.ctx).await {
        Ok(lag) => {
            metrics::gauge!("partnerhub_outbox_lag_seconds").set(lag.undispatched.as_secs_f64());
            metrics::gauge!("partnerhub_outbox_due_deliveries").set(lag.due as f64);
            metrics::gauge!("partnerhub_outbox_delivery_lag_seconds").set(lag.delivery.as_secs_f64());
        }
        Err(e) => e.report("reading the outbox lag for /metrics"),
    }
    let handle = handle();
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render())
}

/// The metrics endpoint, for the metrics listener.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(render)).with_state(state)
}
