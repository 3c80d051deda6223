//! Two nodes on one PostgreSQL under a mixed load, one of them killed (SIGKILL) and restarted in
//! the middle (issue 19). Afterwards every acknowledged write is there, no number is missing or
//! doubled, no ledger entry is paid twice, the outbox has sent every e-mail, and every request
//! that failed got a clean answer or succeeded when retried with its idempotency key on the
//! other node. Grants are offered, accepted and revoked across the nodes meanwhile, and a revoked
//! grant is gone from the partner's next read on the other node. The test prints requests, errors by code and p50/p99 per operation.

use std::{
    collections::BTreeMap,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::helpers::*;

const LOAD: Duration = Duration::from_secs(9);
const KILL_AT: Duration = Duration::from_secs(3);
const RESTART_AT: Duration = Duration::from_secs(5);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A node process, killed and reaped when the test ends, whatever happened.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_node(app: &TestApp, port: u16, files: &std::path::Path) -> Node {
    Node(
        Command::new(env!("CARGO_BIN_EXE_partnerhub"))
            .arg("serve")
            .env("PARTNERHUB_DATABASE_URL", &app.database_url)
            .env("PARTNERHUB_LISTEN", format!("127.0.0.1:{port}"))
            .env("PARTNERHUB_FILES", files)
            .env("PARTNERHUB_DATABASE_MAX_CONNECTIONS", "8")
            .env("PARTNERHUB_OUTBOX_POLL_MS", "100")
            // A delivery leased by the node that dies goes out again soon.
            .env("PARTNERHUB_DELIVERY_LEASE", "2s")
            .env("PARTNERHUB_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "{base} did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What one operation ended in, and how long it took (retries included).
struct Outcome {
    op: &'static str,
    code: String,
    took: Duration,
    retried: bool,
    body: Value,
}

/// Sends a request to one node; when the connection fails (the node is dead), sends the very same
/// request (same idempotency key) to the other, until one answers.
async fn call(
    client: &reqwest::Client,
    nodes: &[String; 2],
    first: usize,
    token: &str,
    query: &str,
    variables: Value,
) -> (Value, bool) {
    let body = json!({ "query": query, "variables": variables });
    let mut retried = false;
    for attempt in 0..20 {
        let node = &nodes[(first + attempt) % 2];
        match client.post(format!("{node}/graphql")).bearer_auth(token).json(&body).send().await {
            Ok(r) => match r.json::<Value>().await {
                Ok(v) => return (v, retried),
                Err(_) => retried = true,
            },
            Err(_) => retried = true,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no node answered {query}");
}

fn code_of(body: &Value) -> String {
    if body.get("errors").is_some() { error_code(body).to_string() } else { "OK".into() }
}

/// A customer, a partner without a grant between them in the demo, and their ADMINs' tokens.
#[derive(Clone)]
struct Pair {
    customer: &'static str,
    customer_token: String,
    partner_id: String,
    partner_token: String,
}

/// The grant a customer offered and the partner has not answered yet.
async fn pending_offer(client: &reqwest::Client, nodes: &[String; 2], pair: &Pair) -> Option<String> {
    const PENDING: &str = "{ viewer { actingAs { organization { grants(filter: {status: PENDING}) { nodes { id partner { id } } } } } } }";
    let (body, _) = call(client, nodes, 0, &pair.customer_token, PENDING, json!({})).await;
    body["data"]["viewer"]["actingAs"]["organization"]["grants"]["nodes"]
        .as_array()?
        .iter()
        .find(|g| g["partner"]["id"] == pair.partner_id.as_str())
        .and_then(|g| g["id"].as_str().map(str::to_string))
}

async fn grant_status(client: &reqwest::Client, nodes: &[String; 2], pair: &Pair, grant: &str) -> String {
    const STATUS: &str = "query($id: ID!) { node(id: $id) { ... on Grant { status } } }";
    let (body, _) = call(client, nodes, 0, &pair.customer_token, STATUS, json!({ "id": grant })).await;
    body["data"]["node"]["status"].as_str().unwrap_or_default().to_string()
}

/// One grant's whole life across both nodes: the customer offers access, the partner accepts,
/// the customer revokes, and the partner's very next read, on the other node, no longer lists
/// the customer. Grant changes carry no idempotency key: a change cut off by the kill and sent
/// again answers CONFLICT when the first attempt had committed, and counts as done when the grant
/// is already in the state it asked for.
async fn grant_cycle(client: &reqwest::Client, nodes: &[String; 2], turn: usize, pair: &Pair, out: &mut Vec<Outcome>) {
    const INVITE: &str = "mutation($i: InvitePartnerInput!) { invitePartner(input: $i) { grant { id status } } }";
    let t = Instant::now();
    let variables = json!({ "i": { "partnerId": pair.partner_id, "rights": ["VIEW_BILLING"] } });
    let (body, retried) = call(client, nodes, turn, &pair.customer_token, INVITE, variables).await;
    let mut code = code_of(&body);
    let mut grant = body["data"]["invitePartner"]["grant"]["id"].as_str().map(str::to_string);
    if retried && code == "CONFLICT" {
        grant = pending_offer(client, nodes, pair).await;
        if grant.is_some() {
            code = "OK".into();
        }
    }
    out.push(Outcome { op: "invitePartner", code, took: t.elapsed(), retried, body });
    let Some(grant) = grant else { return };
    let steps = [
        ("acceptGrant", &pair.partner_token, "ACTIVE", turn + 1),
        ("revokeGrant", &pair.customer_token, "REVOKED", turn),
    ];
    for (op, token, target, node) in steps {
        let t = Instant::now();
        let query = format!("mutation($i: GrantIdInput!) {{ {op}(input: $i) {{ grant {{ id status }} }} }}");
        let (body, retried) = call(client, nodes, node, token, &query, json!({ "i": { "id": grant } })).await;
        let mut code = code_of(&body);
        if retried && code == "CONFLICT" && grant_status(client, nodes, pair, &grant).await == target {
            code = "OK".into();
        } else if code == "OK" && body["data"][op]["grant"]["status"] != target {
            code = format!("NOT_{target}");
        }
        let done = code == "OK";
        out.push(Outcome { op, code, took: t.elapsed(), retried, body });
        if !done {
            return;
        }
        // The partner reads its customers on the node that did not make the change.
        let (read, should_list) =
            if op == "acceptGrant" { ("customers after accept", true) } else { ("customers after revoke", false) };
        let t = Instant::now();
        let (body, retried) = call(
            client,
            nodes,
            node + 1,
            &pair.partner_token,
            "{ customers(first: 50) { nodes { name } } }",
            json!({}),
        )
        .await;
        let mut code = code_of(&body);
        let listed =
            body["data"]["customers"]["nodes"].as_array().is_some_and(|c| c.iter().any(|c| c["name"] == pair.customer));
        if code == "OK" && listed != should_list {
            code = if listed { "STILL_LISTED" } else { "NOT_LISTED" }.into();
        }
        out.push(Outcome { op: read, code, took: t.elapsed(), retried, body });
    }
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) * p).div_ceil(100)]
}

#[tokio::test]
async fn two_nodes_one_killed_lose_nothing_and_double_nothing() {
    if std::env::var("PARTNERHUB_TEST_DATABASE_URL").is_err() {
        // Several nodes share one PostgreSQL; the embedded database is one process's.
        return;
    }
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let files = tempfile::tempdir().unwrap();
    let (anna, vera, fiona) = (world.token("anna@"), world.token("vera.admin@"), world.token("fiona.finance@"));
    let fjord = organization_id(&app, &vera, "Fjord Freight AS").await;
    let danube = organization_id(&app, &vera, "Danube Distribution GmbH").await;
    let products = app.gql(Some(&anna), "{ products { nodes { id sku plans { id } } } }", json!({})).await;
    let nodes_list = products["data"]["products"]["nodes"].as_array().unwrap().clone();
    let product = nodes_list[0]["id"].as_str().unwrap().to_string();
    let plan = nodes_list.iter().find_map(|p| p["plans"][0]["id"].as_str()).unwrap().to_string();

    let ports = [free_port(), free_port()];
    let nodes = [format!("http://127.0.0.1:{}", ports[0]), format!("http://127.0.0.1:{}", ports[1])];
    let _a = start_node(&app, ports[0], files.path());
    let b = Arc::new(Mutex::new(start_node(&app, ports[1], files.path())));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    wait_ready(&client, &nodes[0]).await;
    wait_ready(&client, &nodes[1]).await;

    let started = Instant::now();
    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let mut workers = Vec::new();
    for w in 0..6usize {
        let (client, nodes, outcomes) = (client.clone(), nodes.clone(), outcomes.clone());
        let (anna, vera, fiona, fjord, danube, product, plan) =
            (anna.clone(), vera.clone(), fiona.clone(), fjord.clone(), danube.clone(), product.clone(), plan.clone());
        workers.push(tokio::spawn(async move {
            let mut i = 0usize;
            while started.elapsed() < LOAD {
                i += 1;
                let key = format!("w{w}-{i}");
                let t = Instant::now();
                let (op, token, query, variables): (&'static str, &str, &str, Value) = match (w + i) % 6 {
                    0 => ("partnerDashboard", &anna, "{ partnerDashboard { partner { name } renewalsDueIn30Days unreadNotifications } }", json!({})),
                    1 => ("customers", &anna, "{ customers(first: 20) { nodes { id name } } }", json!({})),
                    2 => (
                        "createSubscription",
                        &anna,
                        "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }",
                        json!({ "i": { "customerId": fjord, "planId": plan, "seats": 1, "billedTo": "PARTNER", "idempotencyKey": key } }),
                    ),
                    3 | 4 => (
                        "registerDeal",
                        &anna,
                        "mutation($i: RegisterDealInput!) { registerDeal(input: $i) { deal { id status } } }",
                        json!({ "i": {
                            "prospect": { "name": format!("Prospect {key}"), "country": "DE", "vatNumber": format!("DE{:09}", 100_000_000 + w * 100_000 + i) },
                            "products": [{ "productId": product, "quantity": 5 }],
                            "estimatedValue": { "amount": "5000", "currency": "EUR" }, "expectedCloseDate": "2099-01-31",
                            "salesLead": { "name": "Anna Alpine", "email": "anna@alpinevoice.example" },
                            "distributorId": danube, "submit": true, "idempotencyKey": key } }),
                    ),
                    _ => (
                        "runPayout",
                        &fiona,
                        "mutation($k: String!) { runPayout(input: {idempotencyKey: $k, currency: \"EUR\"}) { batch { id number } } }",
                        json!({ "k": key }),
                    ),
                };
                // Each worker alternates between the nodes, whatever the operation.
                let (body, retried) = call(&client, &nodes, w + i / 6, token, query, variables.clone()).await;
                let code = if body.get("errors").is_some() { error_code(&body).to_string() } else { "OK".into() };
                // A write retried with the same key answers the same record.
                let keyed = matches!(op, "createSubscription" | "registerDeal" | "runPayout");
                if keyed && retried && code == "OK" {
                    let (again, _) = call(&client, &nodes, w + i + 1, token, query, variables).await;
                    assert_eq!(again["data"], body["data"], "{op}: the retry with its key answered another record");
                }
                let mut approved = None;
                if op == "registerDeal" && code == "OK" {
                    let t = Instant::now();
                    let id = body["data"]["registerDeal"]["deal"]["id"].clone();
                    let (approve, _) = call(
                        &client,
                        &nodes,
                        w + i + 1,
                        &vera,
                        "mutation($i: ApproveDealInput!) { approveDeal(input: $i) { deal { id number status } } }",
                        json!({ "i": { "dealId": id } }),
                    )
                    .await;
                    approved = Some((approve, t.elapsed()));
                }
                let mut out = outcomes.lock().await;
                out.push(Outcome { op, code, took: t.elapsed(), retried, body });
                if let Some((approve, took)) = approved {
                    let code = if approve.get("errors").is_some() { error_code(&approve).to_string() } else { "OK".into() };
                    out.push(Outcome { op: "approveDeal", code, took, retried: false, body: approve });
                }
            }
        }));
    }
    // Grant revocations: two pairs that have no grant in the demo, each cycled by one worker.
    let pairs = [
        Pair {
            customer: "Fjord Freight AS",
            customer_token: world.token("finn@"),
            partner_id: organization_id(&app, &vera, "Celtic Comms Ltd").await,
            partner_token: world.token("cara@"),
        },
        Pair {
            customer: "Iberia Clinics SL",
            customer_token: world.token("ines@"),
            partner_id: organization_id(&app, &vera, "Baltic Cloud SIA").await,
            partner_token: world.token("bruno@"),
        },
    ];
    for (w, pair) in pairs.iter().cloned().enumerate() {
        let (client, nodes, outcomes) = (client.clone(), nodes.clone(), outcomes.clone());
        workers.push(tokio::spawn(async move {
            let mut turn = w;
            while started.elapsed() < LOAD {
                let mut out = Vec::new();
                grant_cycle(&client, &nodes, turn, &pair, &mut out).await;
                outcomes.lock().await.extend(out);
                turn += 1;
            }
        }));
    }
    // The chaos: node B dies without warning, and comes back.
    tokio::time::sleep(KILL_AT).await;
    {
        let mut dying = b.lock().await;
        dying.0.kill().unwrap();
        dying.0.wait().unwrap();
    }
    tokio::time::sleep(RESTART_AT - KILL_AT).await;
    *b.lock().await = start_node(&app, ports[1], files.path());
    for w in workers {
        w.await.unwrap();
    }
    wait_ready(&client, &nodes[1]).await;

    // The table.
    let outcomes = outcomes.lock().await;
    type Row = (Vec<Duration>, BTreeMap<String, usize>, usize);
    let mut by_op: BTreeMap<&str, Row> = BTreeMap::new();
    for o in outcomes.iter() {
        let entry = by_op.entry(o.op).or_default();
        entry.0.push(o.took);
        *entry.1.entry(o.code.clone()).or_default() += 1;
        entry.2 += usize::from(o.retried);
    }
    eprintln!("{:<24} {:>8} {:>8} {:>9} {:>9}  outcomes", "operation", "requests", "retried", "p50 ms", "p99 ms");
    for (op, (mut times, codes, retried)) in by_op {
        times.sort();
        eprintln!(
            "{op:<24} {:>8} {:>8} {:>9} {:>9}  {codes:?}",
            codes.values().sum::<usize>(),
            retried,
            percentile(&times, 50).as_millis(),
            percentile(&times, 99).as_millis()
        );
    }
    // Every failure was a clean, expected answer: none at all but a payout with nothing to pay.
    let unexpected: Vec<_> = outcomes
        .iter()
        .filter(|o| o.code != "OK" && !(o.op == "runPayout" && o.code == "CONFLICT"))
        .map(|o| format!("{} {} {}", o.op, o.code, o.body))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    assert!(outcomes.iter().any(|o| o.retried), "the kill interrupted no request: nothing was tested");

    // Every acknowledged write is there, once.
    let id = |v: &Value| partnerhub::ids::decode(v.as_str().unwrap()).unwrap().1;
    let db = &app.ctx.db;
    for o in outcomes.iter().filter(|o| o.code == "OK") {
        let found = match o.op {
            "createSubscription" => entity::subscription::Entity::find_by_id(id(
                &o.body["data"]["createSubscription"]["subscription"]["id"]
            ))
            .count(db)
            .await
            .unwrap(),
            "registerDeal" => entity::deal::Entity::find_by_id(id(&o.body["data"]["registerDeal"]["deal"]["id"]))
                .count(db)
                .await
                .unwrap(),
            "runPayout" => entity::payout_batch::Entity::find_by_id(id(&o.body["data"]["runPayout"]["batch"]["id"]))
                .count(db)
                .await
                .unwrap(),
            _ => 1,
        };
        assert_eq!(found, 1, "{} acknowledged and missing: {}", o.op, o.body);
    }
    let registered = outcomes.iter().filter(|o| o.op == "registerDeal" && o.code == "OK").count() as u64;
    let stored = entity::deal::Entity::find()
        .filter(entity::deal::Column::ProspectName.starts_with("Prospect w"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(stored, registered, "one deal per idempotency key");
    // Every revocation acknowledged is a revoked grant, and nothing else of the pairs is live.
    let revoked = outcomes.iter().filter(|o| o.op == "revokeGrant" && o.code == "OK").count() as u64;
    assert!(revoked > 0, "no grant was revoked under load");
    let mut stored = 0;
    for pair in &pairs {
        let customer = id(&json!(organization_id(&app, &vera, pair.customer).await));
        let grants = entity::grant::Entity::find()
            .filter(entity::grant::Column::CustomerId.eq(customer))
            .filter(entity::grant::Column::PartnerId.eq(id(&json!(pair.partner_id))))
            .all(db)
            .await
            .unwrap();
        assert!(
            grants.iter().all(|g| g.status == entity::enums::GrantStatus::Revoked),
            "a grant of {} was left live",
            pair.customer
        );
        stored += grants.len() as u64;
    }
    assert_eq!(stored, revoked, "one grant per acknowledged offer, revoked");
    // Numbers without gap or double, no entry paid twice, one live grant per pair.
    assert_eq!(partnerhub::backup::verify(db).await.unwrap(), Vec::<String>::new());

    // The outbox drains: every notification expanded, every e-mail sent (the nodes' workers and
    // the leases the dead node held, which ran out).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let lag = partnerhub::jobs::outbox::lag(&app.ctx).await.unwrap();
        let unsent = entity::delivery::Entity::find()
            .filter(entity::delivery::Column::Channel.eq(entity::enums::DeliveryChannel::Email))
            .filter(entity::delivery::Column::Status.ne(entity::enums::DeliveryStatus::Delivered))
            .count(db)
            .await
            .unwrap();
        if lag.undispatched.is_zero() && unsent == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the outbox did not drain: {unsent} e-mails unsent");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
