use std::{collections::HashMap, sync::Arc, time::Duration};

use partnerhub::{
    Application,
    clock::ShiftedClock,
    config::{Environment, Settings},
    db::StatementCounter,
    demo::{self, Demo},
    service::Ctx,
};
use reqwest::{Response, StatusCode, header::HeaderMap};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub statements: StatementCounter,
    pub clock: ShiftedClock,
    pub ctx: Ctx,
    /// Where the app's database is, for a second process (the CLI) to open.
    pub database_url: String,
    /// Where its files are (a second node shares them).
    pub files: partnerhub::files::Location,
    /// Whether this app made its database (a second node shares the first node's).
    owns_database: bool,
    /// How it delivers notifications (a second node delivers the same way).
    delivery: partnerhub::config::DeliverySettings,
    _dir: tempfile::TempDir,
}

/// A PostgreSQL test database goes with its test: dropped (its connections closed by force) on
/// a thread of its own, as `Drop` cannot wait on the test's runtime.
impl Drop for TestApp {
    fn drop(&mut self) {
        if !self.owns_database || !self.database_url.starts_with("postgres") {
            return;
        }
        let Ok(admin_url) = std::env::var("PARTNERHUB_TEST_DATABASE_URL") else { return };
        let Some((_, name)) = self.database_url.rsplit_once('/') else { return };
        let name = name.to_string();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                    admin.close().await.ok();
                }
            });
        })
        .join();
    }
}

/// A fresh database URL: a SQLite file in `dir`, or a new database on the PostgreSQL server
/// named by PARTNERHUB_TEST_DATABASE_URL (scripts/test starts one).
pub async fn fresh_database(dir: &tempfile::TempDir) -> String {
    match std::env::var("PARTNERHUB_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("ph_test_{}", uuid::Uuid::now_v7().as_simple());
            let admin = Database::connect(&admin_url).await.expect("connect to the PostgreSQL test server");
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
            admin.close().await.ok();
            let (base, _) = admin_url.rsplit_once('/').expect("URL with a database name");
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
    }
}

pub fn test_settings(database_url: String) -> Settings {
    let mut settings = Settings::from_vars(&HashMap::new()).expect("default settings");
    settings.database_url = database_url;
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.database_max_connections = 5;
    // Tests run many apps at once on a debug build: a longer wait keeps a list's keys in one
    // batch however busy the machine is, so statement counts are exact.
    settings.graphql.dataloader_delay = Duration::from_millis(2);
    // No test looks anything up in the real DNS (tests that need records start dnsmasq).
    settings.dns_resolver = Some(refusing_dns_server());
    // Never the working directory; `spawn_with` gives each app its own.
    settings.files = partnerhub::files::Location::Local(std::env::temp_dir().join("partnerhub-test-files"));
    settings
}

/// The S3-compatible server scripts/test starts (moto), with its bucket: the other file store.
/// A test that needs it fails without it.
pub fn s3_files(settings: &mut Settings) {
    let endpoint = std::env::var("PARTNERHUB_TEST_S3_ENDPOINT")
        .expect("PARTNERHUB_TEST_S3_ENDPOINT (scripts/test starts an S3-compatible server and sets it)");
    settings.files = partnerhub::files::Location::S3 { bucket: "partnerhub-test".into(), endpoint: Some(endpoint) };
}

/// A DNS server on loopback that answers every query at once with REFUSED.
fn refusing_dns_server() -> std::net::SocketAddr {
    static SERVER: std::sync::OnceLock<std::net::SocketAddr> = std::sync::OnceLock::new();
    *SERVER.get_or_init(|| {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                if n < 12 {
                    continue;
                }
                // Same id and question; QR set, RCODE 5 (REFUSED).
                buf[2] |= 0x80;
                buf[3] = (buf[3] & 0xF0) | 5;
                let _ = socket.send_to(&buf[..n], from);
            }
        });
        addr
    })
}

/// `TEST_LOG=1` shows the server's logs with the test's output (captured per test, so only a
/// failing test shows them); `TEST_LOG=<filter>` chooses what (e.g. `partnerhub::sql=debug` with
/// `PARTNERHUB_TRACE_SQL=1` for every statement).
fn init_test_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(wanted) = std::env::var("TEST_LOG") else { return };
        let filter = if wanted == "1" || wanted.is_empty() { "info".to_string() } else { wanted };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    });
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// For tests that count statements: a batch window longer than a scheduling quantum, so a
    /// thread descheduled on a busy 2-core machine cannot split a list's keys into two batches
    /// (that is scheduling, not an N+1, and made CI fail once at 13 vs 18).
    pub async fn spawn_counting(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_with(|s| {
            s.graphql.dataloader_delay = Duration::from_millis(40);
            adjust(s)
        })
        .await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = test_settings(fresh_database(&dir).await);
        settings.files = partnerhub::files::Location::Local(dir.path().join("files"));
        adjust(&mut settings);
        Self::start(settings, dir, true).await
    }

    /// An app on a SQLite file whatever database the suite runs on: for what only the embedded
    /// database has (its online backup).
    pub async fn spawn_sqlite() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = test_settings(format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()));
        settings.files = partnerhub::files::Location::Local(dir.path().join("files"));
        Self::start(settings, dir, true).await
    }

    /// An app on a database the test made itself (a private PostgreSQL cluster): never dropped
    /// by the app.
    pub async fn spawn_on(database_url: String, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = test_settings(database_url);
        settings.files = partnerhub::files::Location::Local(dir.path().join("files"));
        adjust(&mut settings);
        Self::start(settings, dir, false).await
    }

    async fn start(settings: Settings, dir: tempfile::TempDir, owns_database: bool) -> TestApp {
        init_test_log();
        let clock = ShiftedClock::default();
        let database_url = settings.database_url.clone();
        let files = settings.files.clone();
        let delivery = settings.delivery.clone();
        let app = Application::build(settings, Arc::new(clock.clone())).await.expect("build app");
        let listener = app.bind().await.unwrap();
        let addr = listener.local_addr().unwrap();
        let statements = app.state.statements.clone();
        let ctx = app.state.ctx.clone();
        tokio::spawn(app.serve_forever(listener));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        TestApp {
            base: format!("http://{addr}"),
            client,
            statements,
            clock,
            ctx,
            database_url,
            files,
            owns_database,
            delivery,
            _dir: dir,
        }
    }

    /// Another node on the same database, as in a multi-node deployment.
    pub async fn second_node(&self) -> TestApp {
        let mut settings = test_settings(self.database_url.clone());
        settings.files = self.files.clone();
        settings.delivery = self.delivery.clone();
        Self::start(settings, tempfile::tempdir().unwrap(), false).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The demo world: a vendor, staff, three partners, a distributor, five customers, grants.
    pub async fn demo(&self) -> World {
        World(demo::seed(&self.ctx).await.map_err(|e| e.to_string()).expect("seed demo"))
    }

    pub fn request(&self, token: Option<&str>) -> Gql<'_> {
        Gql { app: self, token: token.map(str::to_string), organization: None }
    }

    /// POSTs a GraphQL document and returns the JSON body (whatever the status).
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.request(token).send(query, variables).await
    }

    /// Runs `f` and returns how many SQL statements the application ran meanwhile.
    pub async fn count_statements<T>(&self, f: impl std::future::Future<Output = T>) -> (u64, T) {
        let before = self.statements.get();
        let out = f.await;
        (self.statements.get() - before, out)
    }

    /// The statements a read costs, the fewest of three runs. Chained loaders (responses, then
    /// their partners) gather keys that arrive from batches finishing at different times; on a
    /// loaded 2-core CI machine one of those can finish after the window and split a batch in two
    /// (CI once saw 10 for 8). That only ever adds statements to one run, while an N+1 adds them to
    /// every run, so the minimum still fails on an N+1. Only for reads: the query runs three times.
    pub async fn read_statements(&self, token: Option<&str>, query: &str, variables: Value) -> (u64, Value) {
        let mut best: Option<(u64, Value)> = None;
        for _ in 0..3 {
            let (n, body) = self.count_statements(self.gql(token, query, variables.clone())).await;
            if best.as_ref().is_none_or(|(b, _)| n < *b) {
                best = Some((n, body));
            }
        }
        best.expect("three runs")
    }
}

pub struct Gql<'a> {
    app: &'a TestApp,
    token: Option<String>,
    organization: Option<String>,
}

impl Gql<'_> {
    /// Acts as the membership of this organisation (X-Partnerhub-Organization).
    pub fn acting_as(mut self, organization_id: &str) -> Self {
        self.organization = Some(organization_id.to_string());
        self
    }

    pub async fn raw(&self, body: Value) -> Response {
        let mut request = self.app.client.post(self.app.url("/graphql")).json(&body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(org) = &self.organization {
            request = request.header("X-Partnerhub-Organization", org);
        }
        request.send().await.unwrap()
    }

    pub async fn send(&self, query: &str, variables: Value) -> Value {
        self.raw(json!({ "query": query, "variables": variables })).await.json().await.unwrap()
    }
}

pub struct World(pub Demo);

impl World {
    /// The token of the demo user whose e-mail starts with `email_prefix`.
    pub fn token(&self, email_prefix: &str) -> String {
        self.0
            .users
            .iter()
            .find(|u| u.email.starts_with(email_prefix))
            .unwrap_or_else(|| panic!("no demo user {email_prefix}"))
            .token
            .clone()
    }
}

/// The `extensions.code` of the first error, or "" when there is none.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

/// The kinds of the newest hundred notifications `token` reads.
pub async fn notification_kinds(app: &TestApp, token: &str) -> Vec<String> {
    let body = app.gql(Some(token), "{ viewer { notifications(last: 100) { nodes { kind } } } }", json!({})).await;
    assert_no_errors(&body);
    body["data"]["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

pub fn assert_no_errors(body: &Value) {
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
}

/// The global ID of the organisation named `name`, as `who` sees it through `organizations`.
pub async fn organization_id(app: &TestApp, token: &str, name: &str) -> String {
    let body = app.gql(Some(token), "{ organizations(first: 100) { nodes { id name } } }", json!({})).await;
    body["data"]["organizations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("{name} not visible: {body}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

pub const OK: StatusCode = StatusCode::OK;

#[allow(dead_code)]
pub fn development(settings: &mut Settings) {
    settings.environment = Environment::Development;
}

/// A Python with the notification tests' peers (aiosmtpd, standardwebhooks): scripts/test
/// installs them into target/test-tools/notify and names it in PARTNERHUB_TEST_PYTHON.
pub fn test_python() -> String {
    std::env::var("PARTNERHUB_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .or_else(|| {
            let local = concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-tools/notify/bin/python");
            std::path::Path::new(local).exists().then(|| local.to_string())
        })
        .expect("PARTNERHUB_TEST_PYTHON: a Python with aiosmtpd and standardwebhooks (scripts/test installs them)")
}

const NOTIFY_TOOLS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/notify/tools.py");

/// A real SMTP server (aiosmtpd) on loopback; each message it receives is a JSON file the test
/// reads back: envelope, headers, decoded text and HTML.
pub struct SmtpSink {
    child: std::process::Child,
    dir: tempfile::TempDir,
    pub url: String,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = std::process::Command::new(test_python())
            .args([NOTIFY_TOOLS, "smtp-sink", &port.to_string(), dir.path().to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the SMTP sink");
        let stdout = child.stdout.take().unwrap();
        let ready = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).map(|_| line)
        });
        let line =
            tokio::time::timeout(Duration::from_secs(20), ready).await.expect("SMTP sink start").unwrap().unwrap();
        assert_eq!(line.trim(), "ready", "SMTP sink did not start");
        SmtpSink { child, dir, url: format!("smtp://127.0.0.1:{port}") }
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Value> {
        let mut found: Vec<Value> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
            .collect();
        found.sort_by_key(|m| m["outbox_id"].as_str().unwrap_or_default().to_string());
        found
    }

    /// The messages to `address` (lower-case), polling until `count` arrived (10 s at most).
    pub async fn wait_for(&self, address: &str, count: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let to: Vec<Value> = self
                .messages()
                .into_iter()
                .filter(|m| m["rcpt_tos"].as_array().unwrap().iter().any(|r| r.as_str() == Some(address)))
                .collect();
            if to.len() >= count || std::time::Instant::now() > deadline {
                return to;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Verifies a captured webhook request with the Standard Webhooks reference library (Python);
/// the verified payload, or the library's refusal.
pub fn verify_webhook(secret: &str, body: &str, headers: &HashMap<String, String>) -> Result<Value, String> {
    use std::io::Write;
    let mut child = std::process::Command::new(test_python())
        .args([NOTIFY_TOOLS, "verify-webhook", secret])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the webhook verifier");
    let request = json!({ "body": body, "headers": headers });
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
