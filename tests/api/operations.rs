//! Operations (issue 19): a request past its time, a pool with no connection free, a SIGTERM
//! with requests in flight, and the Prometheus endpoint on its own address.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use sea_orm::TransactionTrait;
use serde_json::{Value, json};

use crate::helpers::*;

const VIEWER: &str = "query Viewer { viewer { actingAs { organization { name } } } }";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A SQLite file in `dir` set up by the real binary's `bootstrap`, and its admin's API token.
fn bootstrapped(dir: &tempfile::TempDir, file: &str, vendor: &str, admin: &str) -> (String, String) {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join(format!("{file}.db")).display());
    let boot = Command::new(env!("CARGO_BIN_EXE_partnerhub"))
        .args(["bootstrap", "--vendor-name", vendor, "--admin-email", admin])
        .env("PARTNERHUB_DATABASE_URL", &url)
        .env("PARTNERHUB_LOG", "warn")
        .output()
        .unwrap();
    assert!(boot.status.success(), "{}", String::from_utf8_lossy(&boot.stderr));
    let token = String::from_utf8(boot.stdout).unwrap().lines().last().unwrap().trim().to_string();
    (url, token)
}

/// `partnerhub serve` on `url` and a loopback port, once `/readyz` answers; its output is dropped.
async fn serve(dir: &tempfile::TempDir, url: &str, port: u16, env: &[(&str, &str)]) -> (std::process::Child, String) {
    let server = Command::new(env!("CARGO_BIN_EXE_partnerhub"))
        .arg("serve")
        .env("PARTNERHUB_DATABASE_URL", url)
        .env("PARTNERHUB_LISTEN", format!("127.0.0.1:{port}"))
        .env("PARTNERHUB_FILES", dir.path().join("files"))
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (server, base)
}

/// How the server ended, once it has (after a SIGTERM), within 30 seconds.
async fn exit_status(server: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_request_past_its_time_is_answered_timeout_with_its_request_id() {
    let app = TestApp::spawn_with(|s| {
        s.operations.request_timeout = Duration::from_millis(800);
        // Every DataLoader batch waits this long: the request cannot finish in time.
        s.graphql.dataloader_delay = Duration::from_secs(3);
    })
    .await;
    let world = app.demo().await;
    let started = Instant::now();
    let r = app.request(Some(&world.token("anna@"))).raw(json!({ "query": VIEWER })).await;
    let elapsed = started.elapsed();
    assert_eq!(r.status(), 504);
    let id = header(r.headers(), "x-request-id").to_string();
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "TIMEOUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains(&id), "{body}");
    assert!(elapsed < Duration::from_millis(2500), "answered after {elapsed:?}");
}

#[tokio::test]
async fn a_full_pool_answers_within_the_acquire_timeout_with_the_request_id() {
    let app = TestApp::spawn_with(|s| {
        s.database_max_connections = 1;
        s.operations.acquire_timeout = Duration::from_millis(400);
    })
    .await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    // The pool's only connection, held by a transaction that does not end.
    let holder = app.ctx.db.begin().await.unwrap();
    let started = Instant::now();
    let r = app.request(Some(&anna)).raw(json!({ "query": VIEWER })).await;
    let elapsed = started.elapsed();
    let id = header(r.headers(), "x-request-id").to_string();
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "INTERNAL", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains(&id), "{body}");
    assert!(elapsed >= Duration::from_millis(350) && elapsed < Duration::from_secs(2), "answered after {elapsed:?}");
    eprintln!("full pool: refused after {} ms (acquire timeout 400 ms)", elapsed.as_millis());
    // Once the connection is back, the same request is served.
    holder.rollback().await.unwrap();
    let body = app.gql(Some(&anna), VIEWER, json!({})).await;
    assert_no_errors(&body);
}

/// The real binary: jobs run, `/metrics` is on its own address, and SIGTERM lets a request in
/// flight finish, refuses new connections, and exits 0.
#[tokio::test]
async fn sigterm_finishes_requests_in_flight_and_metrics_are_served_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (url, token) = bootstrapped(&dir, "ops", "Ops Telecom", "ops@ops.example");
    let (port, metrics_port) = (free_port(), free_port());
    let metrics = format!("127.0.0.1:{metrics_port}");
    let (mut server, base) = serve(
        &dir,
        &url,
        port,
        &[
            ("PARTNERHUB_METRICS_LISTEN", &metrics),
            ("PARTNERHUB_DATALOADER_DELAY_US", "1500000"),
            ("PARTNERHUB_SHUTDOWN_GRACE", "10s"),
            ("PARTNERHUB_LOG", "warn"),
        ],
    )
    .await;
    let client = reqwest::Client::new();

    // A counted request, an error, then the metrics.
    let ok: Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": VIEWER, "operationName": "Viewer" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_no_errors(&ok);
    let refused = client
        .post(format!("{base}/graphql"))
        .bearer_auth("phk_wrong")
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(client.get(format!("{base}/metrics")).send().await.unwrap().status(), 404, "not on the public address");
    let text =
        client.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap().text().await.unwrap();
    for expected in [
        "partnerhub_requests_total{",
        "operation=\"Viewer\"",
        "partnerhub_request_duration_seconds_bucket{",
        "partnerhub_errors_total{code=\"UNAUTHENTICATED\"}",
        "partnerhub_db_connections{state=\"in_use\"}",
        "partnerhub_db_connections_max",
        "partnerhub_job_runs_total{job=\"grant_expiry\",outcome=\"ok\"}",
        "partnerhub_job_runs_total{job=\"outbox\",outcome=\"ok\"}",
        "partnerhub_outbox_lag_seconds",
    ] {
        assert!(text.contains(expected), "{expected} missing from /metrics:\n{text}");
    }
    // The loader's statements count for the request that asked: the sign-in, and the batch.
    let statements = text
        .lines()
        .find(|l| l.starts_with("partnerhub_statements_per_request_sum{") && l.contains("operation=\"Viewer\""))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<rust_decimal::Decimal>().ok())
        .unwrap_or_else(|| panic!("no statements for Viewer:\n{text}"));
    assert!(statements >= rust_decimal::Decimal::from(2), "{statements} statements counted for Viewer");

    // A slow request in flight (each loader batch waits 1.5 s), then SIGTERM.
    let slow = {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        tokio::spawn(async move {
            client.post(format!("{base}/graphql")).bearer_auth(&token).json(&json!({ "query": VIEWER })).send().await
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let terminated = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(terminated.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let late = reqwest::Client::new().get(format!("{base}/healthz")).send().await;
    assert!(late.is_err(), "a new connection was accepted after SIGTERM: {late:?}");
    let answer = slow.await.unwrap().expect("the request in flight is answered");
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["actingAs"]["organization"]["name"], "Ops Telecom", "{body}");
    let status = exit_status(&mut server).await;
    assert!(status.success(), "exit status {status:?}");
}

/// On PostgreSQL every connection carries `statement_timeout`: a statement that runs too long is
/// cancelled by the server and its connection returns to the pool. (SQLite runs in the process;
/// the request timeout is its bound.)
#[tokio::test]
async fn a_slow_statement_is_cancelled_by_postgresql() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_with(|s| s.operations.statement_timeout = Duration::from_millis(300)).await;
    if app.ctx.db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let started = Instant::now();
    let slow = app.ctx.db.execute_unprepared("SELECT pg_sleep(3)").await;
    let elapsed = started.elapsed();
    let err = slow.expect_err("pg_sleep(3) outlived the statement timeout");
    assert!(err.to_string().contains("statement timeout"), "{err}");
    assert!(elapsed < Duration::from_secs(2), "cancelled after {elapsed:?}");
    app.ctx.db.execute_unprepared("SELECT 1").await.expect("the connection serves again");
}

/// With `PARTNERHUB_OTLP_ENDPOINT`, the real binary exports its spans over OTLP/HTTP to a
/// collector (here a loopback receiver that keeps what is POSTed to /v1/traces): the request span
/// with the request id the client sent. The batch waits a minute, so what arrives was flushed by
/// the SIGTERM shutdown: no span buffered at exit is lost.
#[tokio::test]
async fn traces_reach_an_otlp_collector_with_the_request_id_and_are_flushed_at_exit() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<u8>>> = Arc::default();
    let sink = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                assert_eq!(headers["content-type"], "application/x-protobuf");
                sink.lock().unwrap().extend_from_slice(&body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, collector).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let (url, token) = bootstrapped(&dir, "otlp", "Trace Telecom", "ops@trace.example");
    let port = free_port();
    let endpoint = format!("{collector_url}/");
    let (mut server, base) = serve(
        &dir,
        &url,
        port,
        &[
            ("PARTNERHUB_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "60000"),
            // info: the request span is an info span, and only enabled spans are exported.
            ("PARTNERHUB_LOG", "info"),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let answer = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .header("x-request-id", "otlp-check-4711")
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], "otlp-check-4711");
    assert_no_errors(&answer.json::<Value>().await.unwrap());
    assert!(received.lock().unwrap().is_empty(), "exported before the batch delay: the flush is not what is tested");

    assert!(Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap().success());
    let status = exit_status(&mut server).await;
    assert!(status.success(), "{status:?}");
    // Protobuf keeps strings as they are: the service, the span and the request id are readable.
    let body = String::from_utf8_lossy(&received.lock().unwrap()).into_owned();
    for expected in ["partnerhub", "request", "request_id", "otlp-check-4711", "/graphql"] {
        assert!(body.contains(expected), "{expected} not in the exported traces");
    }
}
