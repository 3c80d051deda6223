//! Live updates over graphql-transport-ws, driven by the npm `graphql-ws` client (tests/ws): a
//! change made through one node reaches a subscriber on another within a second (PostgreSQL
//! LISTEN/NOTIFY; on SQLite one node, in memory), another partner's subscriber gets nothing, and
//! a revoked token ends its stream at once.

use std::{process::Stdio, time::Duration};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader, Lines},
    process::{Child, ChildStdout, Command},
};

use crate::helpers::*;

const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ws/subscribe.mjs");

/// One `graphql-ws` client process and the lines it prints.
struct Subscriber {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Subscriber {
    async fn start(app: &TestApp, token: Option<&str>, query: &str) -> Subscriber {
        assert!(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ws/node_modules/graphql-ws")).exists(),
            "the graphql-ws client is needed: npm ci in tests/ws (scripts/test does)"
        );
        let url = app.base.replacen("http://", "ws://", 1) + "/graphql";
        let mut child = Command::new("node")
            .args([CLIENT, &url, token.unwrap_or("-"), query])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Subscriber { _child: child, lines }
    }

    /// The next line, or None after `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        match tokio::time::timeout(wait, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => Some(serde_json::from_str(&line).unwrap()),
            _ => None,
        }
    }
}

/// Waits (with a deadline) until `count` streams listen on the node.
async fn listening(app: &TestApp, count: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while app.ctx.events.subscribers() < count {
        assert!(std::time::Instant::now() < deadline, "the subscriptions did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const GRANTS: &str = "subscription { grantChanged { id status partner { name } } }";

fn on_postgres() -> bool {
    std::env::var("PARTNERHUB_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

#[tokio::test]
async fn a_change_through_one_node_reaches_a_subscriber_on_another_and_no_rival() {
    let a = TestApp::spawn().await;
    let world = a.demo().await;
    // On SQLite there is one process: both subscribers and the change go through one node.
    let b = if on_postgres() { Some(a.second_node().await) } else { None };
    let node_b = b.as_ref().unwrap_or(&a);
    let (anna, hans, cara) = (world.token("anna@"), world.token("hans@"), world.token("cara@"));
    let before = node_b.ctx.events.subscribers();
    let mut hanse = Subscriber::start(node_b, Some(&hans), GRANTS).await;
    let mut rival = Subscriber::start(node_b, Some(&cara), GRANTS).await;
    let mut all = Subscriber::start(node_b, Some(&hans), "subscription { notificationAdded { kind payload } }").await;
    for s in [&mut hanse, &mut rival, &mut all] {
        assert_eq!(s.next(Duration::from_secs(20)).await, Some(json!({ "connected": true })));
    }
    listening(node_b, before + 3).await;

    let hanse_id = organization_id(&a, &hans, "Hanse Logistik GmbH").await;
    if !on_postgres() {
        // The demo's own notifications leave first, so the one measured is the next batch's.
        while partnerhub::jobs::outbox::dispatch(&a.ctx).await.unwrap() > 0 {}
    }
    let asked = a
        .gql(
            Some(&anna),
            "mutation($id: ID!) { requestCustomerAccess(input: {customerId: $id, rights: [VIEW_BILLING], durationDays: 30}) { grant { id } } }",
            json!({ "id": hanse_id }),
        )
        .await;
    assert_no_errors(&asked);
    let started = std::time::Instant::now();
    if !on_postgres() {
        // SQLite: the outbox worker publishes committed notifications to this process.
        partnerhub::jobs::outbox::dispatch(&a.ctx).await.unwrap();
    }
    let got = hanse.next(Duration::from_secs(5)).await.expect("Hans hears of the request");
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    let grant = &got["data"]["grantChanged"];
    assert_eq!(grant["id"], asked["data"]["requestCustomerAccess"]["grant"]["id"]);
    assert_eq!(grant["status"], "PENDING");
    assert_eq!(grant["partner"]["name"], "Alpine Voice AG");
    let note = all.next(Duration::from_secs(5)).await.expect("and its notification");
    assert_eq!(note["data"]["notificationAdded"]["kind"], "GRANT_REQUESTED");
    // Another partner's subscriber received nothing.
    assert_eq!(rival.next(Duration::from_millis(500)).await, None);
}

#[tokio::test]
async fn a_revoked_token_ends_its_stream_and_strangers_cannot_subscribe() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let hans = world.token("hans@");
    let made = app
        .gql(Some(&hans), "mutation { createApiToken(input: {name: \"live\"}) { token apiToken { id } } }", json!({}))
        .await;
    assert_no_errors(&made);
    let token = made["data"]["createApiToken"]["token"].as_str().unwrap().to_string();
    let id = made["data"]["createApiToken"]["apiToken"]["id"].clone();
    let before = app.ctx.events.subscribers();
    let mut live = Subscriber::start(&app, Some(&token), GRANTS).await;
    assert_eq!(live.next(Duration::from_secs(20)).await, Some(json!({ "connected": true })));
    listening(&app, before + 1).await;
    let revoked = app
        .gql(
            Some(&hans),
            "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_no_errors(&revoked);
    let started = std::time::Instant::now();
    let ended = live.next(Duration::from_secs(5)).await.expect("the stream ends");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(ended["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{ended}");
    assert_eq!(ended["errors"][0]["message"], "the API token was revoked");
    assert_eq!(live.next(Duration::from_secs(5)).await, Some(json!({ "complete": true })));

    // No credential, or a bad one: the connection is refused.
    for token in [None, Some("phk_not-a-token")] {
        let mut stranger = Subscriber::start(&app, token, GRANTS).await;
        let mut lines = Vec::new();
        while let Some(line) = stranger.next(Duration::from_secs(10)).await {
            lines.push(line);
        }
        assert!(!lines.contains(&json!({ "connected": true })), "{token:?}: {lines:?}");
        assert!(lines.iter().any(|l| l.get("closed").is_some() || l.get("error").is_some()), "{token:?}: {lines:?}");
    }
}
