//! Notifications that leave the outbox (issue 17): e-mails through a real SMTP server (aiosmtpd)
//! read back by the tests, and webhooks signed as Standard Webhooks describes, verified by the
//! specification's reference library (Python), never by our own code.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, response::IntoResponse, routing::any};
use partnerhub::jobs::outbox;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

pub const OPERATIONS: [&str; 5] =
    ["registerWebhookEndpoint", "updateWebhookEndpoint", "rotateWebhookSecret", "redeliver", "setPreferredLanguage"];

const REGISTER: &str = "mutation($i: RegisterWebhookEndpointInput!) { registerWebhookEndpoint(input: $i) { secret endpoint { id url kinds enabled } } }";
const UPDATE: &str = "mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) { endpoint { id url enabled disabledReason } } }";
const ROTATE: &str =
    "mutation($id: ID!) { rotateWebhookSecret(input: {endpointId: $id}) { secret previousSecretsExpireAt } }";
const REDELIVER: &str =
    "mutation($id: ID!) { redeliver(input: {deliveryId: $id}) { delivery { id status attempts } } }";
const DELIVERIES: &str = "query($f: DeliveryFilter) { deliveries(filter: $f, first: 100) { nodes { id channel status attempts nextAttemptAt lastResponseCode lastError recipient endpoint { id } notification { kind } attemptLog { number succeeded responseCode error } } } }";
const LANGUAGE: &str = "mutation($l: Language) { setPreferredLanguage(input: {language: $l}) { language } }";

/// A request the receiver got: headers, body, path.
type Seen = (HashMap<String, String>, String, String);

/// A webhook receiver on loopback: records every request and answers with the next queued
/// status (204 when none is queued).
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Seen>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        async fn hook(
            State(r): State<Receiver>,
            uri: axum::http::Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> axum::response::Response {
            let headers: HashMap<String, String> = headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
                .collect();
            r.seen.lock().unwrap().push((headers, String::from_utf8_lossy(&body).into_owned(), uri.path().to_string()));
            match uri.path() {
                "/redirect" => (StatusCode::FOUND, [("location", "/elsewhere")]).into_response(),
                "/slow" => {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    StatusCode::NO_CONTENT.into_response()
                }
                "/big" => (StatusCode::INTERNAL_SERVER_ERROR, vec![b'x'; 4 << 20]).into_response(),
                _ => {
                    let status = r.answers.lock().unwrap().pop_front().unwrap_or(204);
                    StatusCode::from_u16(status).unwrap().into_response()
                }
            }
        }
        let app = Router::new().fallback(any(hook)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn app_with(sink: &SmtpSink, adjust: impl FnOnce(&mut partnerhub::config::Settings)) -> TestApp {
    let smtp = sink.url.clone();
    TestApp::spawn_with(move |s| {
        s.delivery.smtp_url = Some(smtp);
        s.delivery.webhook_allow_loopback = true;
        adjust(s)
    })
    .await
}

fn subjects(messages: &[Value]) -> Vec<String> {
    messages.iter().map(|m| m["subject"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn e_mails_reach_the_readers_of_each_notification_in_their_language() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let hanse = organization_id(&app, &world.token("vera.admin@"), "Hanse Logistik GmbH").await;
    let asked = app
        .gql(
            Some(&anna),
            "mutation($id: ID!) { requestCustomerAccess(input: {customerId: $id, rights: [VIEW_BILLING], durationDays: 30}) { grant { id } } }",
            json!({ "id": hanse }),
        )
        .await;
    assert_no_errors(&asked);
    // Anna chooses Polish; Sam, in the same partner, keeps the default of Alpine's country.
    assert_no_errors(&app.gql(Some(&anna), LANGUAGE, json!({ "l": "PL" })).await);
    let me = app.gql(Some(&anna), "{ viewer { preferredLanguage } }", json!({})).await;
    assert_eq!(me["data"]["viewer"]["preferredLanguage"], "PL");
    let pass = outbox::run_once(&app.ctx).await.unwrap();
    assert!(pass.dispatched > 20 && pass.delivered > 20 && pass.dead == 0, "{pass:?}");

    // German for the customer in Germany, naming the partner who asks.
    let hans = sink.wait_for("hans@hanse-logistik.example", 1).await;
    let request = hans.iter().find(|m| m["subject"].as_str().unwrap().contains("bittet um Zugriff")).expect("German");
    assert_eq!(request["subject"], "Alpine Voice AG bittet um Zugriff auf Ihr Konto");
    assert!(request["text"].as_str().unwrap().starts_with("Guten Tag Hans Hanse,"));
    assert!(request["html"].as_str().unwrap().contains("lang=\"de\""));
    assert!(request["from"].as_str().unwrap().contains("no-reply@localhost"));
    // Spanish for Iberia's invoice; the link in it works.
    let ines = sink.wait_for("ines@iberiaclinics.example", 1).await;
    let invoice = ines.iter().find(|m| m["subject"].as_str().unwrap().starts_with("Factura ")).expect("Spanish");
    let link = invoice["text"].as_str().unwrap().lines().find_map(|l| l.strip_prefix("Abrir partnerhub: ")).unwrap();
    assert_eq!(link, "http://127.0.0.1:8080/", "the public URL");
    let landing = app.client.get(link.replace("http://127.0.0.1:8080", &app.base)).send().await.unwrap();
    assert_eq!(landing.status(), StatusCode::OK);
    // Polish for Anna, English for Sam (Switzerland has no single language).
    let tier_pl = sink.wait_for("anna@alpinevoice.example", 1).await;
    assert!(
        subjects(&tier_pl).iter().any(|s| s.starts_with("Twój poziom partnerski to teraz")),
        "{:?}",
        subjects(&tier_pl)
    );
    let sam = sink.wait_for("sam@alpinevoice.example", 1).await;
    assert!(subjects(&sam).iter().any(|s| s.starts_with("Your partner tier is now")), "{:?}", subjects(&sam));
    // An invoice reaches those who read bills (ADMIN), not Alpine's SALES user.
    assert!(subjects(&tier_pl).iter().any(|s| s.starts_with("Wystawiono fakturę")));
    assert!(!subjects(&sam).iter().any(|s| s.starts_with("Invoice ")), "{:?}", subjects(&sam));
    // Every message carries its outbox id; nothing went twice.
    let all = sink.messages();
    let mut keys: Vec<_> = all.iter().map(|m| format!("{}|{}", m["outbox_id"], m["rcpt_tos"])).collect();
    let total = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), total, "a message went twice");
    assert!(
        all.iter().all(|m| m["outbox_id"].as_str().is_some_and(|id| m["message_id"].as_str().unwrap().contains(id)))
    );
    // Delivered notifications say so; a second pass sends nothing.
    let list =
        app.gql(Some(&anna), "{ viewer { notifications(first: 100) { nodes { deliveredAt } } } }", json!({})).await;
    assert!(
        list["data"]["viewer"]["notifications"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| !n["deliveredAt"].is_null())
    );
    assert_eq!(outbox::run_once(&app.ctx).await.unwrap(), outbox::Pass::default());
    assert_eq!(sink.messages().len(), total);
}

#[tokio::test]
async fn an_invitation_is_e_mailed_with_a_link_that_opens_it() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let alpine = organization_id(&app, &anna, "Alpine Voice AG").await;
    let invite = "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token invitation { id } } }";
    let sent = app
        .gql(
            Some(&anna),
            invite,
            json!({ "i": { "organizationId": alpine, "email": "new.hire@example.test", "role": "SALES" } }),
        )
        .await;
    assert_no_errors(&sent);
    // In production the token leaves only by e-mail.
    assert!(sent["data"]["inviteMember"]["token"].is_null());
    outbox::run_once(&app.ctx).await.unwrap();
    let mail = sink.wait_for("new.hire@example.test", 1).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["subject"], "Anna Alpine invites you to Alpine Voice AG on partnerhub");
    let text = mail[0]["text"].as_str().unwrap();
    assert!(text.contains("as sales"), "{text}");
    let link = text.lines().find_map(|l| l.strip_prefix("Accept the invitation: ")).unwrap();
    // Links use the public URL (the test app listens elsewhere).
    assert!(link.starts_with("http://127.0.0.1:8080/invitations/accept?token=phk_"), "{link}");
    let html = mail[0]["html"].as_str().unwrap().replace("&#x2f;", "/");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    let page = app.client.get(link.replace("http://127.0.0.1:8080", &app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(header(page.headers(), "referrer-policy"), "no-referrer");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Join Alpine Voice AG") && html.contains("new.hire@example.test") && html.contains("as sales")
    );
    // The stored payload no longer holds the token once the e-mail went out.
    let row = entity::notification::Entity::find()
        .filter(entity::notification::Column::RecipientEmail.eq("new.hire@example.test"))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.payload.get("token").is_none() && row.delivered_at.is_some());
    // A made-up token opens nothing.
    let bad = app.client.get(app.url("/invitations/accept?token=phk_madeup")).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::NOT_FOUND);
}

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[tokio::test]
async fn two_nodes_send_each_message_once_and_a_dead_node_s_lease_runs_out() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    app.demo().await;
    let other = app.second_node().await;
    // Node A leases a batch and dies before sending it.
    outbox::dispatch(&app.ctx).await.unwrap();
    let held = outbox::claim(&app.ctx).await.unwrap();
    assert!(!held.is_empty());
    // Both nodes work at once: every other delivery goes out once; the held ones wait.
    let (a, b) = tokio::join!(outbox::run_once(&app.ctx), outbox::run_once(&other.ctx));
    let (a, b) = (a.unwrap(), b.unwrap());
    let sent_before = sink.messages().len();
    assert_eq!(a.delivered + b.delivered, sent_before);
    let held_ids: Vec<String> = held.iter().map(|d| d.notification_id.to_string()).collect();
    assert!(!sink.messages().iter().any(|m| held_ids.contains(&m["outbox_id"].as_str().unwrap().to_string())));
    // After the lease (60 s) another node sends them.
    app.clock.advance(chrono::TimeDelta::seconds(61));
    other.clock.advance(chrono::TimeDelta::seconds(61));
    let late = outbox::run_once(&other.ctx).await.unwrap();
    assert_eq!(late.delivered, held.len());
    let all = sink.messages();
    let mut keys: Vec<_> = all.iter().map(|m| format!("{}|{}", m["outbox_id"], m["rcpt_tos"])).collect();
    let total = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), total, "a message went twice");
    let pending = entity::delivery::Entity::find()
        .filter(entity::delivery::Column::Status.ne(partnerhub::domain::DeliveryStatus::Delivered))
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert!(pending.is_empty(), "{pending:?}");
}

async fn register(app: &TestApp, token: &str, url: &str, kinds: Value) -> Value {
    app.gql(Some(token), REGISTER, json!({ "i": { "url": url, "kinds": kinds, "description": "ERP" } })).await
}

/// A partner's grant request reaches Hanse: one GRANT_REQUESTED for Hanse's endpoint.
async fn ask_hanse(app: &TestApp, partner_admin: &str, hanse: &str) {
    let asked = app
        .gql(
            Some(partner_admin),
            "mutation($id: ID!) { requestCustomerAccess(input: {customerId: $id, rights: [VIEW_BILLING], durationDays: 30}) { grant { id } } }",
            json!({ "id": hanse }),
        )
        .await;
    assert_no_errors(&asked);
}

#[tokio::test]
async fn webhooks_are_signed_as_the_standard_describes_and_rotation_overlaps() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    let world = app.demo().await;
    outbox::run_once(&app.ctx).await.unwrap();
    let (hans, anna) = (world.token("hans@"), world.token("anna@"));
    let hanse = organization_id(&app, &hans, "Hanse Logistik GmbH").await;
    let (receiver, base) = Receiver::start().await;
    let made = register(&app, &hans, &format!("{base}/hooks"), json!(["GRANT_REQUESTED"])).await;
    assert_no_errors(&made);
    let secret = made["data"]["registerWebhookEndpoint"]["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let endpoint = made["data"]["registerWebhookEndpoint"]["endpoint"]["id"].clone();
    assert_eq!(made["data"]["registerWebhookEndpoint"]["endpoint"]["kinds"], json!(["GRANT_REQUESTED"]));

    ask_hanse(&app, &anna, &hanse).await;
    outbox::run_once(&app.ctx).await.unwrap();
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "only the kind the endpoint wants");
    let (headers, body, _) = &requests[0];
    let verified = verify_webhook(&secret, body, headers).expect("the reference library verifies it");
    assert_eq!(verified["type"], "GRANT_REQUESTED");
    assert_eq!(verified["data"]["organizationId"], json!(hanse));
    assert!(headers["webhook-id"].starts_with("msg_"));
    assert!(verify_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", body, headers).is_err(), "another secret fails");
    let mut tampered = body.clone();
    tampered.push(' ');
    assert!(verify_webhook(&secret, &tampered, headers).is_err(), "a changed body fails");

    // Rotation: both secrets sign during the overlap, then only the new one.
    let rotated = app.gql(Some(&hans), ROTATE, json!({ "id": endpoint })).await;
    assert_no_errors(&rotated);
    let new_secret = rotated["data"]["rotateWebhookSecret"]["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    let log = app.gql(Some(&hans), DELIVERIES, json!({ "f": { "endpointId": endpoint } })).await;
    let first = log["data"]["deliveries"]["nodes"][0].clone();
    assert_eq!(first["status"], "DELIVERED");
    assert_eq!(first["lastResponseCode"], 204);
    assert_eq!(first["attemptLog"][0]["succeeded"], true);
    assert_no_errors(&app.gql(Some(&hans), REDELIVER, json!({ "id": first["id"] })).await);
    outbox::run_once(&app.ctx).await.unwrap();
    let (headers, body, _) = receiver.requests()[1].clone();
    assert_eq!(headers["webhook-id"], requests[0].0["webhook-id"], "a redelivery keeps its id for receivers to dedupe");
    assert!(verify_webhook(&secret, &body, &headers).is_ok() && verify_webhook(&new_secret, &body, &headers).is_ok());
    app.clock.advance(chrono::TimeDelta::hours(25));
    assert_no_errors(&app.gql(Some(&hans), REDELIVER, json!({ "id": first["id"] })).await);
    outbox::run_once(&app.ctx).await.unwrap();
    let (headers, body, _) = receiver.requests()[2].clone();
    assert!(verify_webhook(&secret, &body, &headers).is_err() && verify_webhook(&new_secret, &body, &headers).is_ok());
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_then_dead_lettered_disabled_and_its_owner_told() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |s| s.delivery.schedule.max_attempts = 3).await;
    let world = app.demo().await;
    outbox::run_once(&app.ctx).await.unwrap();
    let (hans, anna, vera) = (world.token("hans@"), world.token("anna@"), world.token("vera.admin@"));
    let hanse = organization_id(&app, &hans, "Hanse Logistik GmbH").await;
    let (receiver, base) = Receiver::start().await;
    receiver.answers.lock().unwrap().extend([500, 503, 500]);
    let made = register(&app, &hans, &format!("{base}/hooks"), json!([])).await;
    let endpoint = made["data"]["registerWebhookEndpoint"]["endpoint"]["id"].clone();
    ask_hanse(&app, &anna, &hanse).await;

    outbox::run_once(&app.ctx).await.unwrap();
    let log = app.gql(Some(&hans), DELIVERIES, json!({ "f": { "endpointId": endpoint } })).await;
    let d = log["data"]["deliveries"]["nodes"][0].clone();
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone(), d["lastResponseCode"].clone()),
        (json!("PENDING"), json!(1), json!(500))
    );
    let next = chrono::DateTime::parse_from_rfc3339(d["nextAttemptAt"].as_str().unwrap()).unwrap();
    let wait = next.with_timezone(&chrono::Utc) - partnerhub::clock::Clock::now(&app.clock);
    assert!(wait >= chrono::TimeDelta::seconds(23) && wait <= chrono::TimeDelta::seconds(37), "{wait:?}: 30 s ±20%");
    // Not due yet: nothing is sent.
    outbox::run_once(&app.ctx).await.unwrap();
    assert_eq!(receiver.requests().len(), 1);
    for _ in 0..2 {
        app.clock.advance(chrono::TimeDelta::minutes(5));
        outbox::run_once(&app.ctx).await.unwrap();
    }
    assert_eq!(receiver.requests().len(), 3);
    let log = app.gql(Some(&hans), DELIVERIES, json!({ "f": { "endpointId": endpoint } })).await;
    let d = log["data"]["deliveries"]["nodes"][0].clone();
    assert_eq!(d["status"], "DEAD");
    assert_eq!(d["attemptLog"].as_array().unwrap().len(), 3);
    assert!(d["nextAttemptAt"].is_null());
    let list = app.gql(Some(&hans), "{ webhookEndpoints { nodes { enabled disabledReason } } }", json!({})).await;
    let e = &list["data"]["webhookEndpoints"]["nodes"][0];
    assert_eq!(e["enabled"], false);
    assert!(e["disabledReason"].as_str().unwrap().contains("answered 500"), "{e}");
    // Its ADMIN is told by e-mail (in German), and nothing more is sent to it.
    ask_hanse(&app, &world.token("cara@"), &hanse).await;
    outbox::run_once(&app.ctx).await.unwrap();
    let told = sink.wait_for("hans@hanse-logistik.example", 1).await;
    assert!(subjects(&told).iter().any(|s| s.starts_with("Webhook-Endpunkt deaktiviert")), "{:?}", subjects(&told));
    assert_eq!(receiver.requests().len(), 3);

    // Staff see the dead letter; the owner fixes and enables the endpoint and redelivers it.
    let dead = app.gql(Some(&vera), DELIVERIES, json!({ "f": { "status": "DEAD" } })).await;
    assert!(dead["data"]["deliveries"]["nodes"].as_array().unwrap().iter().any(|n| n["id"] == d["id"]));
    assert_no_errors(&app.gql(Some(&hans), UPDATE, json!({ "i": { "endpointId": endpoint, "enabled": true } })).await);
    let again = app.gql(Some(&hans), REDELIVER, json!({ "id": d["id"] })).await;
    assert_eq!(again["data"]["redeliver"]["delivery"]["status"], "PENDING");
    outbox::run_once(&app.ctx).await.unwrap();
    let log = app.gql(Some(&hans), DELIVERIES, json!({ "f": { "endpointId": endpoint, "status": "DELIVERED" } })).await;
    assert_eq!(log["data"]["deliveries"]["nodes"].as_array().unwrap().len(), 1);
    // A pending delivery cannot be queued twice.
    let d = &log["data"]["deliveries"]["nodes"][0];
    assert_no_errors(&app.gql(Some(&hans), REDELIVER, json!({ "id": d["id"] })).await);
    assert_eq!(error_code(&app.gql(Some(&hans), REDELIVER, json!({ "id": d["id"] })).await), "CONFLICT");
}

#[tokio::test]
async fn webhooks_never_reach_private_addresses_follow_redirects_or_wait_long() {
    let dns =
        crate::domains::dnsmasq_with(&["--address=/inside.test/10.1.2.3", "--address=/here.test/127.0.0.1"]).await;
    let sink = SmtpSink::start().await;
    let strict = app_with(&sink, |s| {
        s.delivery.webhook_allow_loopback = false;
        s.dns_resolver = Some(dns.addr);
    })
    .await;
    let world = strict.demo().await;
    let hans = world.token("hans@");
    for (url, why) in [
        ("http://example.com/hooks", "must use https"),
        ("https://10.0.0.7/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://[::ffff:127.0.0.1]/hooks", "loopback"),
        ("https://inside.test/hooks", "resolves to 10.1.2.3"),
        ("https://here.test/hooks", "resolves to 127.0.0.1"),
        ("https://user:pw@example.com/", "user name"),
        ("ftp://example.com/", "https"),
    ] {
        let body = register(&strict, &hans, url, json!([])).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{url}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "url", "{url}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(why), "{url}: {body}");
    }

    // A name that points inside by the time of sending (DNS rebinding) gets no connection: the
    // endpoint is written as if its name had resolved to a public address when registered.
    let (receiver, base) = Receiver::start().await;
    let port = base.rsplit(':').next().unwrap();
    let hanse = organization_id(&strict, &hans, "Hanse Logistik GmbH").await;
    let staff_user = entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq("vera.admin@northwind.example"))
        .one(&strict.ctx.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let endpoint = entity::webhook_endpoint::ActiveModel {
        id: sea_orm::Set(uuid::Uuid::now_v7()),
        organization_id: sea_orm::Set(partnerhub::ids::decode(&hanse).unwrap().1),
        url: sea_orm::Set(format!("https://here.test:{port}/hooks")),
        kinds: sea_orm::Set(json!([])),
        description: sea_orm::Set(String::new()),
        enabled: sea_orm::Set(true),
        disabled_at: sea_orm::Set(None),
        disabled_reason: sea_orm::Set(None),
        created_by_user_id: sea_orm::Set(staff_user),
        created_at: sea_orm::Set(partnerhub::clock::Clock::now(&strict.clock)),
        updated_at: sea_orm::Set(partnerhub::clock::Clock::now(&strict.clock)),
    };
    sea_orm::ActiveModelTrait::insert(endpoint, &strict.ctx.db).await.unwrap();
    ask_hanse(&strict, &world.token("anna@"), &hanse).await;
    outbox::run_once(&strict.ctx).await.unwrap();
    let dead_or_waiting = entity::delivery::Entity::find()
        .filter(entity::delivery::Column::Channel.eq(partnerhub::domain::DeliveryChannel::Webhook))
        .one(&strict.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(dead_or_waiting.last_error.as_deref().unwrap().contains("resolves to 127.0.0.1"), "{dead_or_waiting:?}");
    assert!(receiver.requests().is_empty());

    // Loopback allowed (development, tests): a redirect is not followed, a slow receiver is cut
    // off, and a huge answer is read only in part.
    let app = app_with(&sink, |s| s.delivery.webhook_timeout = Duration::from_secs(1)).await;
    let world = app.demo().await;
    outbox::run_once(&app.ctx).await.unwrap();
    let hans = world.token("hans@");
    let hanse = organization_id(&app, &hans, "Hanse Logistik GmbH").await;
    for path in ["/redirect", "/slow", "/big"] {
        assert_no_errors(&register(&app, &hans, &format!("{base}{path}"), json!(["GRANT_REQUESTED"])).await);
    }
    ask_hanse(&app, &world.token("anna@"), &hanse).await;
    let started = std::time::Instant::now();
    outbox::run_once(&app.ctx).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "the slow receiver held the worker");
    let errors: HashMap<String, String> = entity::delivery::Entity::find()
        .filter(entity::delivery::Column::Channel.eq(partnerhub::domain::DeliveryChannel::Webhook))
        .all(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.endpoint_id.unwrap().to_string(), d.last_error.unwrap_or_default()))
        .collect();
    let mut errors: Vec<String> = errors.into_values().collect();
    errors.sort();
    assert_eq!(errors, vec!["answered 302; redirects are not followed", "answered 500", "no answer in time"]);
    assert!(!receiver.requests().iter().any(|(_, _, path)| path == "/elsewhere"));
}

/// Who may do what with webhook endpoints and deliveries: the owner's ADMIN only; a rival
/// partner or another customer sees nothing; staff ADMINs see and redeliver dead letters.
#[tokio::test]
async fn actors_by_webhook_operations() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    let world = app.demo().await;
    let (receiver, base) = Receiver::start().await;
    receiver.answers.lock().unwrap().extend([500; 20]);
    let anna = world.token("anna@");
    let made = register(&app, &anna, &format!("{base}/a"), json!([])).await;
    assert_no_errors(&made);
    let endpoint = made["data"]["registerWebhookEndpoint"]["endpoint"]["id"].clone();
    outbox::run_once(&app.ctx).await.unwrap();
    let anna_log = app.gql(Some(&anna), DELIVERIES, json!({ "f": { "endpointId": endpoint } })).await;
    let delivery = anna_log["data"]["deliveries"]["nodes"][0]["id"].clone();
    assert!(!delivery.is_null(), "{anna_log}");
    // Per actor: register, read the endpoint, update it, rotate, list its deliveries, redeliver
    // (after the delivery has settled), choose a language.
    #[rustfmt::skip]
    let table: &[(&str, [&str; 7])] = &[
        ("anna@",        ["OK",        "OK",   "OK",        "OK",        "SOME", "CONFLICT",  "OK"]),
        ("sam@",         ["FORBIDDEN", "NONE", "NOT_FOUND", "NOT_FOUND", "0", "NOT_FOUND", "OK"]),
        ("bruno@",       ["OK",        "NONE", "NOT_FOUND", "NOT_FOUND", "0", "NOT_FOUND", "OK"]),
        ("hans@",        ["OK",        "NONE", "NOT_FOUND", "NOT_FOUND", "0", "NOT_FOUND", "OK"]),
        ("dora@",        ["FORBIDDEN", "NONE", "NOT_FOUND", "NOT_FOUND", "0", "NOT_FOUND", "OK"]),
        ("vera.admin@",  ["FORBIDDEN", "NONE", "NOT_FOUND", "NOT_FOUND", "SOME", "CONFLICT",  "OK"]),
        ("fiona.finance@", ["FORBIDDEN", "NONE", "NOT_FOUND", "NOT_FOUND", "0", "NOT_FOUND", "OK"]),
        ("anonymous",    ["UNAUTHENTICATED", "NONE", "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED"]),
    ];
    let mut failures = Vec::new();
    for (actor, expected) in table {
        let token = (*actor != "anonymous").then(|| world.token(actor));
        let token = token.as_deref();
        let mut got = Vec::new();
        got.push(outcome(&register_anonymous_ok(&app, token, &format!("{base}/{actor}")).await));
        let read = app.gql(token, "query($id: ID!) { node(id: $id) { id } }", json!({ "id": endpoint })).await;
        got.push(if read["errors"].is_null() && read["data"]["node"].is_null() {
            "NONE".into()
        } else {
            outcome(&read)
        });
        got.push(outcome(
            &app.gql(token, UPDATE, json!({ "i": { "endpointId": endpoint, "description": "x" } })).await,
        ));
        got.push(outcome(&app.gql(token, ROTATE, json!({ "id": endpoint })).await));
        let log = app.gql(token, DELIVERIES, json!({ "f": { "endpointId": endpoint } })).await;
        got.push(if log["errors"].is_null() {
            let n = log["data"]["deliveries"]["nodes"].as_array().unwrap().len();
            if n > 0 { "SOME".into() } else { "0".into() }
        } else {
            outcome(&log)
        });
        // Still pending after one failed try: redelivering it is a CONFLICT for who may see it.
        got.push(outcome(&app.gql(token, REDELIVER, json!({ "id": delivery })).await));
        got.push(outcome(&app.gql(token, LANGUAGE, json!({ "l": "EN" })).await));
        for ((op, want), got) in ["register", "read", "update", "rotate", "deliveries", "redeliver", "language"]
            .iter()
            .zip(expected)
            .zip(got)
        {
            if got != *want {
                failures.push(format!("{actor} {op}: want {want}, got {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Staff see every delivery (e-mails too, with their addresses); an endpoint's owner only its webhooks.
    let all = app.gql(Some(&world.token("vera.admin@")), DELIVERIES, json!({ "f": { "channel": "EMAIL" } })).await;
    assert!(all["data"]["deliveries"]["nodes"].as_array().unwrap().iter().any(|d| !d["recipient"].is_null()));
    let own = app.gql(Some(&anna), DELIVERIES, json!({ "f": { "channel": "EMAIL" } })).await;
    assert_eq!(own["data"]["deliveries"]["nodes"].as_array().unwrap().len(), 0);
}

async fn register_anonymous_ok(app: &TestApp, token: Option<&str>, url: &str) -> Value {
    app.gql(token, REGISTER, json!({ "i": { "url": url } })).await
}

fn outcome(body: &Value) -> String {
    if body["errors"].is_null() { "OK".into() } else { error_code(body).to_string() }
}

#[tokio::test]
async fn bad_webhook_input_names_its_field_and_keeps_what_was_stored() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let (_, base) = Receiver::start().await;
    let made = register(&app, &anna, &format!("{base}/ok"), json!(["INVOICE_ISSUED"])).await;
    let endpoint = made["data"]["registerWebhookEndpoint"]["endpoint"]["id"].clone();
    let long = "d".repeat(201);
    let bad = app.gql(Some(&anna), UPDATE, json!({ "i": { "endpointId": endpoint, "description": long } })).await;
    assert_eq!(
        (error_code(&bad), bad["errors"][0]["extensions"]["field"].clone()),
        ("BAD_USER_INPUT", json!("description"))
    );
    let bad =
        app.gql(Some(&anna), UPDATE, json!({ "i": { "endpointId": endpoint, "url": "https://10.0.0.1/" } })).await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "url");
    let list = app.gql(Some(&anna), "{ webhookEndpoints { nodes { url kinds enabled } } }", json!({})).await;
    assert_eq!(list["data"]["webhookEndpoints"]["nodes"][0]["url"], format!("{base}/ok"));
    // A retry with the same idempotency key returns the first endpoint.
    let once = json!({ "i": { "url": format!("{base}/k"), "idempotencyKey": "k1" } });
    let a = app.gql(Some(&anna), REGISTER, once.clone()).await;
    let b = app.gql(Some(&anna), REGISTER, once).await;
    assert_eq!(a["data"]["registerWebhookEndpoint"], b["data"]["registerWebhookEndpoint"]);
}
