//! Faults (issue 19): many writers at once on SQLite, and PostgreSQL stopped and started again
//! under a running node.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;

const CREATE: &str = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { apiToken { id } } }";
const VIEWER: &str = "{ viewer { user { displayName } actingAs { organization { name } } } }";

/// Sixteen clients writing at once: SQLite serialises them (WAL, a busy timeout, and write
/// transactions that take the lock at BEGIN), and none is told "database is locked".
#[tokio::test]
async fn concurrent_writers_are_serialised_not_refused() {
    let app = TestApp::spawn_with(|s| s.database_max_connections = 8).await;
    let world = app.demo().await;
    let tokens: Vec<String> = ["anna@", "bruno@", "cara@", "erika@"].iter().map(|u| world.token(u)).collect();
    let mut writers = Vec::new();
    for w in 0..16 {
        let (client, url, token) = (app.client.clone(), app.url("/graphql"), tokens[w % tokens.len()].clone());
        writers.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for i in 0..12 {
                let body: Value = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({ "query": CREATE, "variables": { "input": { "name": format!("writer {w} {i}") } } }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if body.get("errors").is_some() {
                    failures.push(body.to_string());
                }
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for w in writers {
        failures.extend(w.await.unwrap());
    }
    assert!(failures.is_empty(), "{} writes failed, e.g. {:?}", failures.len(), failures.first());
    let stored = entity::api_token::Entity::find()
        .filter(entity::api_token::Column::Name.starts_with("writer "))
        .count(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(stored, 16 * 12);
}

/// A PostgreSQL cluster of the test's own, to stop and start without disturbing the others.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
        // PostgreSQL refuses to run as root: its programs run as `postgres` then.
        let mut command = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = command.args(args).output().unwrap();
        assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn start_new() -> Cluster {
        let versions = std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL (scripts/test installs it)");
        let mut bins: Vec<PathBuf> = versions.map(|v| v.unwrap().path().join("bin")).filter(|b| b.exists()).collect();
        bins.sort();
        let bin = bins.pop().expect("a PostgreSQL version under /usr/lib/postgresql");
        let dir = std::env::temp_dir().join(format!("ph-fault-pg-{}", uuid::Uuid::now_v7().as_simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = Command::new("chown").args(["-R", "postgres:", dir.to_str().unwrap()]).status();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Cluster { bin, dir, port };
        let data = cluster.data();
        cluster.run("initdb", &["-D", &data, "-U", "partnerhub", "--auth=trust", "-E", "UTF8", "--no-locale"]);
        cluster.start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn start(&self) {
        let options = format!("-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off", self.port, self.dir.display());
        let log = self.dir.join("server.log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-l", &log, "-w", "-o", &options, "start"]);
    }

    fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://partnerhub@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
        let _ = Command::new(self.bin.join("pg_ctl")).args(["-D", &data, "-m", "immediate", "stop"]).output();
        let _ = std::fs::remove_dir_all(Path::new(&self.dir));
    }
}

/// PostgreSQL stops under a running node and starts again: meanwhile `/readyz` says 503 and
/// requests get INTERNAL with their request id; afterwards the same process serves again,
/// reads and writes, and its jobs run. (Only where the suite runs on PostgreSQL: the embedded
/// database cannot go away.)
#[tokio::test]
async fn the_node_survives_postgresql_going_away_and_resumes_without_a_restart() {
    if std::env::var("PARTNERHUB_TEST_DATABASE_URL").is_err() {
        return;
    }
    let cluster = Cluster::start_new();
    let app = TestApp::spawn_on(cluster.url(), |s| {
        s.operations.acquire_timeout = Duration::from_secs(1);
    })
    .await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    assert_no_errors(&app.gql(Some(&anna), VIEWER, json!({})).await);

    // Readers keep asking through the outage; each answer is data or a clean INTERNAL naming its
    // request id, never a dropped connection.
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (client, url, token, running) = (app.client.clone(), app.url("/graphql"), anna.clone(), running.clone());
        readers.push(tokio::spawn(async move {
            let (mut ok, mut internal, mut other) = (0, 0, Vec::new());
            while running.load(std::sync::atomic::Ordering::SeqCst) {
                let r = client.post(&url).bearer_auth(&token).json(&json!({ "query": VIEWER })).send().await;
                match r {
                    Ok(r) => {
                        let id =
                            r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                        let body: Value = r.json().await.unwrap_or_default();
                        match body.get("errors") {
                            None => ok += 1,
                            Some(_) if error_code(&body) == "INTERNAL" && body.to_string().contains(&id) => {
                                internal += 1
                            }
                            Some(_) => other.push(body.to_string()),
                        }
                    }
                    Err(e) => other.push(e.to_string()),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (ok, internal, other)
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    cluster.stop();
    let started = Instant::now();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let r = app.request(Some(&anna)).raw(json!({ "query": VIEWER })).await;
    let id = header(r.headers(), "x-request-id").to_string();
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "INTERNAL", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains(&id), "{body}");
    assert!(started.elapsed() < Duration::from_secs(5), "answered after {:?}", started.elapsed());
    eprintln!("PostgreSQL down: /readyz 503 and INTERNAL within {} ms", started.elapsed().as_millis());

    cluster.start();
    let restarted = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = app.client.get(app.url("/readyz")).send().await.unwrap().status();
        let body = app.gql(Some(&anna), VIEWER, json!({})).await;
        if ready == 200 && body.get("errors").is_none() {
            break;
        }
        assert!(Instant::now() < deadline, "the node did not resume: {ready} {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("PostgreSQL back: served again {} ms after it started", restarted.elapsed().as_millis());
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.store(false, std::sync::atomic::Ordering::SeqCst);
    let (mut ok, mut internal) = (0, 0);
    for r in readers {
        let (o, i, other) = r.await.unwrap();
        assert!(other.is_empty(), "answers other than data or INTERNAL: {other:?}");
        ok += o;
        internal += i;
    }
    eprintln!("readers through the outage: {ok} answered with data, {internal} INTERNAL with their request id");
    assert!(ok > 0 && internal > 0, "{ok} {internal}");
    let write = app.gql(Some(&anna), CREATE, json!({ "input": { "name": "after the outage" } })).await;
    assert_no_errors(&write);
    partnerhub::jobs::outbox::run_once(&app.ctx).await.expect("the outbox runs again");
    partnerhub::service::tenders::run_close(&app.ctx).await.expect("and the other jobs");
}
