//! The tender board (issue 18): who reads a tender, the redaction until interest, the visitor's
//! e-mail confirmation, responses until the deadline, the award, the daily digest, the limits,
//! and the pages visitors post with. Every rule is played from the abusive side too: the rival
//! partner outside the region, the other customer, the public, the partner trying to award.

use chrono::TimeDelta;
use entity::{audit_event, notification};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::*;

pub const OPERATIONS: [&str; 5] = ["postTender", "confirmTender", "expressInterest", "respondToTender", "awardTender"];

const POST: &str = "mutation($input: PostTenderInput!) { postTender(input: $input) {
    tender { id status title } confirmationSentTo confirmationExpiresAt } }";
const TENDER: &str = "id title status region expertise deadline budgetMin { amount currency }
    author { organizationName contactName contactEmail } interestExpressed myResponse { id price { amount } }";
const INTEREST: &str =
    "mutation($id: ID!) { expressInterest(input: { tenderId: $id }) { id author { organizationName contactEmail } } }";
const RESPOND: &str = "mutation($input: RespondToTenderInput!) { respondToTender(input: $input) {
    id price { amount currency } proposal partnerName } }";
const AWARD: &str =
    "mutation($input: AwardTenderInput!) { awardTender(input: $input) { tenderId status awardedResponseId } }";

fn tender_input(title: &str, region: &[&str], expertise: &[&str], email: &str, app: &TestApp) -> Value {
    json!({
        "title": title,
        "description": "Forty desk phones and a cloud PBX for our offices, installed before spring.",
        "budget": { "min": "10000", "max": "25000.50", "currency": "CHF" },
        "region": region, "productLines": ["Desk phones"], "expertise": expertise,
        "deadline": (app.ctx.now() + TimeDelta::days(10)).to_rfc3339(),
        "contactName": "Erika Edelweiss", "contactEmail": email,
    })
}

async fn spawn() -> (TestApp, World) {
    let app = TestApp::spawn_with(|s| s.rate_limits.tender_posts_per_hour = 1000).await;
    let world = app.demo().await;
    (app, world)
}

/// A customer's tender, published at once; its id.
async fn publish(app: &TestApp, world: &World, title: &str, region: &[&str], expertise: &[&str]) -> String {
    let body = app
        .gql(
            Some(&world.token("erika@")),
            POST,
            json!({ "input": tender_input(title, region, expertise, "erika@edelweiss-dental.example", app) }),
        )
        .await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["postTender"]["tender"]["status"], "OPEN", "{body}");
    body["data"]["postTender"]["tender"]["id"].as_str().unwrap().to_string()
}

/// The demo's calls (`demo::seed_tenders`): the tests below count what they post themselves.
const DEMO_TITLES: [&str; 3] = [
    "Phones and a cloud PBX for our new practice in Lucerne",
    "Voice for three warehouses",
    "Phones for a bakery chain in Vienna and Munich",
];

/// The titles of the tenders `token` reads, the demo's left out.
async fn titles(app: &TestApp, token: Option<&str>) -> Vec<String> {
    let body = app.gql(token, "{ tenders(first: 100) { nodes { title } } }", json!({})).await;
    assert_no_errors(&body);
    body["data"]["tenders"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_string())
        .filter(|t| !DEMO_TITLES.contains(&t.as_str()))
        .collect()
}

async fn node(app: &TestApp, token: Option<&str>, id: &str) -> Value {
    let q = format!("query($id: ID!) {{ node(id: $id) {{ ... on Tender {{ {TENDER} }} }} }}");
    let body = app.gql(token, &q, json!({ "id": id })).await;
    assert_no_errors(&body);
    body["data"]["node"].clone()
}

/// The token of the newest e-mail of `kind` to `address`, from the outbox.
async fn mailed_token(app: &TestApp, kind: &str, address: &str) -> String {
    let rows = notification::Entity::find()
        .filter(notification::Column::RecipientEmail.eq(address))
        .order_by_desc(notification::Column::Id)
        .all(&app.ctx.db)
        .await
        .unwrap();
    let row = rows.iter().find(|n| n.kind.as_str() == kind).unwrap_or_else(|| panic!("no {kind} to {address}"));
    row.payload["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn only_entitled_partners_read_a_tender_and_the_author_shows_after_interest() {
    let (app, world) = spawn().await;
    let (anna, bruno, erika) = (world.token("anna@"), world.token("bruno@"), world.token("erika@"));
    let swiss = publish(&app, &world, "Phones for Swiss clinics", &["CH"], &["healthcare"]).await;
    let baltic = publish(&app, &world, "Contact centre in Riga", &["LV"], &[]).await;
    let anywhere = publish(&app, &world, "Logistics voice anywhere", &[], &["Logistics"]).await;

    // Alpine (CH, Healthcare) reads the Swiss one, redacted; Baltic (LV) the Riga one; the
    // expertise-only one reaches Nordlicht (Logistics) and neither of them.
    assert_eq!(titles(&app, Some(&anna)).await, ["Phones for Swiss clinics"]);
    assert_eq!(titles(&app, Some(&bruno)).await, ["Contact centre in Riga"]);
    let nordlicht = world.token("admin@nordlicht-telecom");
    assert_eq!(titles(&app, Some(&nordlicht)).await, ["Logistics voice anywhere"]);
    let seen = node(&app, Some(&anna), &swiss).await;
    assert_eq!(seen["title"], "Phones for Swiss clinics");
    assert!(seen["author"].is_null(), "redacted before interest: {seen}");
    assert_eq!(seen["interestExpressed"], false);
    assert!(!seen.to_string().contains("edelweiss"), "{seen}");

    // The rival outside the region: no list entry, no node, no interest.
    assert!(node(&app, Some(&bruno), &swiss).await.is_null());
    let refused = app.gql(Some(&bruno), INTEREST, json!({ "id": swiss })).await;
    assert_eq!(error_code(&refused), "NOT_FOUND", "{refused}");
    // The public, another customer, the distributor: nothing.
    let anonymous = app.gql(None, "{ tenders { nodes { id } } }", json!({})).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    assert!(node(&app, None, &swiss).await.is_null());
    for other in ["finn@", "dora@"] {
        assert!(titles(&app, Some(&world.token(other))).await.is_empty(), "{other}");
        assert!(node(&app, Some(&world.token(other)), &anywhere).await.is_null(), "{other}");
    }
    // The author reads its own three, with itself as author; staff read all.
    assert_eq!(titles(&app, Some(&erika)).await.len(), 3);
    assert_eq!(node(&app, Some(&erika), &baltic).await["author"]["organizationName"], "Edelweiss Dental");
    assert_eq!(titles(&app, Some(&world.token("vera.admin@"))).await.len(), 3);

    // Interest reveals the author to Alpine, and is audited once.
    let shown = app.gql(Some(&anna), INTEREST, json!({ "id": swiss })).await;
    assert_no_errors(&shown);
    assert_eq!(shown["data"]["expressInterest"]["author"]["organizationName"], "Edelweiss Dental");
    assert_eq!(shown["data"]["expressInterest"]["author"]["contactEmail"], "erika@edelweiss-dental.example");
    assert_no_errors(&app.gql(Some(&anna), INTEREST, json!({ "id": swiss })).await);
    let sam_sees = node(&app, Some(&world.token("sam@")), &swiss).await;
    assert_eq!(sam_sees["interestExpressed"], true, "interest is the organisation's: {sam_sees}");
    let audits = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("tender.interest_expressed"))
        .filter(audit_event::Column::TargetId.eq(partnerhub::ids::decode_as(partnerhub::ids::NodeType::Tender, &swiss)))
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(audits.len(), 1, "recorded once");
    // Bruno still sees nothing of it.
    assert!(node(&app, Some(&bruno), &swiss).await.is_null());
}

#[tokio::test]
async fn a_visitor_tender_waits_for_the_emailed_link_which_works_once_for_a_day() {
    let (app, world) = spawn().await;
    let anna = world.token("anna@");
    let posted = app
        .gql(
            None,
            POST,
            json!({ "input": tender_input("Visitor's phones", &["CH"], &[], "ursula@visitor.example", &app) }),
        )
        .await;
    assert_no_errors(&posted);
    assert!(posted["data"]["postTender"]["tender"].is_null(), "{posted}");
    assert_eq!(posted["data"]["postTender"]["confirmationSentTo"], "ursula@visitor.example");
    // Unconfirmed: nobody reads it, not even staff.
    assert!(titles(&app, Some(&anna)).await.is_empty());
    assert!(titles(&app, Some(&world.token("vera.admin@"))).await.is_empty());

    // A second one, left until the link expired: refused, and still unpublished.
    let late =
        app.gql(None, POST, json!({ "input": tender_input("Too late", &[], &[], "late@visitor.example", &app) })).await;
    assert_no_errors(&late);
    let late_token = mailed_token(&app, "TENDER_CONFIRMATION", "late@visitor.example").await;
    let token = mailed_token(&app, "TENDER_CONFIRMATION", "ursula@visitor.example").await;
    app.clock.advance(TimeDelta::hours(23));
    const CONFIRM: &str = "mutation($t: String!) { confirmTender(input: { token: $t }) { tenderId title manageKey } }";
    let confirmed = app.gql(None, CONFIRM, json!({ "t": token })).await;
    assert_no_errors(&confirmed);
    assert_eq!(confirmed["data"]["confirmTender"]["title"], "Visitor's phones");
    assert!(confirmed["data"]["confirmTender"]["manageKey"].as_str().unwrap().len() > 30);
    assert_eq!(titles(&app, Some(&anna)).await, ["Visitor's phones"]);
    let seen = node(&app, Some(&anna), confirmed["data"]["confirmTender"]["tenderId"].as_str().unwrap()).await;
    assert!(seen["author"].is_null(), "{seen}");

    // Used: refused. Unknown: refused. Expired: refused, naming the token.
    let again = app.gql(None, CONFIRM, json!({ "t": token })).await;
    assert_eq!(error_code(&again), "NOT_FOUND", "{again}");
    assert_eq!(error_code(&app.gql(None, CONFIRM, json!({ "t": "phk_forged" })).await), "NOT_FOUND");
    app.clock.advance(TimeDelta::hours(2));
    let expired = app.gql(None, CONFIRM, json!({ "t": late_token })).await;
    assert_eq!(error_code(&expired), "CONFLICT", "{expired}");
    assert_eq!(expired["errors"][0]["extensions"]["field"], "token");
    assert_eq!(titles(&app, Some(&anna)).await, ["Visitor's phones"], "the expired one stays unpublished");
    // Once delivered, the mail's token is not kept in the outbox.
    partnerhub::jobs::outbox::run_once(&app.ctx).await.unwrap();
    let rows = notification::Entity::find()
        .filter(notification::Column::RecipientEmail.eq("ursula@visitor.example"))
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert!(rows.iter().all(|n| n.payload.get("token").is_none()), "{rows:?}");
}

#[tokio::test]
async fn responses_close_at_the_deadline_and_the_author_awards_one() {
    let (app, world) = spawn().await;
    let (anna, cara, erika) = (world.token("anna@"), world.token("cara@"), world.token("erika@"));
    let id = publish(&app, &world, "Phones for the practice", &[], &[]).await;
    let respond = |token: String, key: &str, amount: &str| {
        let app = &app;
        let id = id.clone();
        let key = key.to_string();
        let amount = amount.to_string();
        async move {
            app.gql(
                Some(&token),
                RESPOND,
                json!({ "input": { "tenderId": id, "proposal": "We install and run it.\n<b>24/7</b>",
                    "price": { "amount": amount, "currency": "CHF" }, "idempotencyKey": key } }),
            )
            .await
        }
    };
    let first = respond(anna.clone(), "k1", "18000").await;
    assert_no_errors(&first);
    let response_id = first["data"]["respondToTender"]["id"].as_str().unwrap().to_string();
    assert_eq!(first["data"]["respondToTender"]["proposal"], "We install and run it.\n<b>24/7</b>");
    // A retry answers the same; the same key for other input is a conflict; a new key edits the
    // one response (one per partner).
    assert_eq!(respond(anna.clone(), "k1", "18000").await["data"]["respondToTender"]["id"], response_id.as_str());
    assert_eq!(error_code(&respond(anna.clone(), "k1", "17000").await), "CONFLICT");
    let edited = respond(anna.clone(), "k2", "17500.25").await;
    assert_eq!(edited["data"]["respondToTender"]["id"], response_id.as_str());
    assert_eq!(edited["data"]["respondToTender"]["price"]["amount"], "17500.25");
    let wrong_currency = app
        .gql(
            Some(&anna),
            RESPOND,
            json!({ "input": { "tenderId": id, "proposal": "x", "price": { "amount": "1", "currency": "EUR" }, "idempotencyKey": "k3" } }),
        )
        .await;
    assert_eq!(wrong_currency["errors"][0]["extensions"]["field"], "price.currency", "{wrong_currency}");
    assert_no_errors(&respond(cara.clone(), "c1", "21000").await);

    // A rival reads its own response only; the author reads both.
    let q = "query($id: ID!) { node(id: $id) { ... on Tender { status myResponse { id }
        responses(first: 10) { nodes { id partnerName price { amount } } } awardedResponse { id } } } }";
    let cara_view = app.gql(Some(&cara), q, json!({ "id": id })).await;
    assert_eq!(cara_view["data"]["node"]["responses"]["nodes"], json!([]), "{cara_view}");
    assert_ne!(cara_view["data"]["node"]["myResponse"]["id"], response_id.as_str());
    let author_view = app.gql(Some(&erika), q, json!({ "id": id })).await;
    let partners: Vec<_> = author_view["data"]["node"]["responses"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["partnerName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(partners, ["Alpine Voice AG", "Celtic Comms Ltd"]);

    // The deadline passes: closed on the next request, before the job runs.
    app.clock.advance(TimeDelta::days(10) + TimeDelta::minutes(1));
    let late = respond(anna.clone(), "k4", "15000").await;
    assert_eq!(error_code(&late), "CONFLICT", "{late}");
    assert_eq!(app.gql(Some(&anna), q, json!({ "id": id })).await["data"]["node"]["status"], "CLOSED");
    assert_eq!(partnerhub::service::tenders::run_close(&app.ctx).await.unwrap(), 1);
    assert_eq!(partnerhub::service::tenders::run_close(&app.ctx).await.unwrap(), 0, "closed once");

    // Who may not award: the partner whose response it is, another customer, staff, the public.
    let award = |token: Option<String>| {
        let app = &app;
        let response_id = response_id.clone();
        async move { app.gql(token.as_deref(), AWARD, json!({ "input": { "responseId": response_id } })).await }
    };
    assert_eq!(error_code(&award(Some(anna.clone())).await), "FORBIDDEN");
    assert_eq!(error_code(&award(Some(world.token("finn@"))).await), "NOT_FOUND");
    assert_eq!(error_code(&award(Some(world.token("vera.admin@"))).await), "FORBIDDEN");
    assert_eq!(error_code(&award(None).await), "UNAUTHENTICATED");
    let forged =
        app.gql(None, AWARD, json!({ "input": { "responseId": response_id, "manageKey": "phk_guess" } })).await;
    assert_eq!(error_code(&forged), "NOT_FOUND");
    let awarded = award(Some(erika.clone())).await;
    assert_no_errors(&awarded);
    assert_eq!(awarded["data"]["awardTender"]["status"], "AWARDED");
    assert_eq!(error_code(&award(Some(erika.clone())).await), "CONFLICT", "awarded once");
    // The winner sees its award; the other is told it went elsewhere.
    let anna_view = app.gql(Some(&anna), q, json!({ "id": id })).await;
    assert_eq!(anna_view["data"]["node"]["awardedResponse"]["id"], response_id.as_str());
    assert!(app.gql(Some(&cara), q, json!({ "id": id })).await["data"]["node"]["awardedResponse"].is_null());
    assert!(notification_kinds(&app, &anna).await.contains(&"TENDER_AWARDED".to_string()));
    assert!(notification_kinds(&app, &cara).await.contains(&"TENDER_NOT_AWARDED".to_string()));
}

#[tokio::test]
async fn new_matching_tenders_reach_partners_in_one_daily_digest() {
    let (app, world) = spawn().await;
    publish(&app, &world, "Swiss clinic phones", &["CH"], &[]).await;
    let digests = |org: &'static str| {
        let app = &app;
        async move {
            let orgs = entity::organization::Entity::find()
                .filter(entity::organization::Column::Name.eq(org))
                .one(&app.ctx.db)
                .await
                .unwrap()
                .unwrap();
            notification::Entity::find()
                .filter(notification::Column::OrganizationId.eq(orgs.id))
                .filter(notification::Column::Kind.eq(entity::enums::NotificationKind::TenderDigest))
                .all(&app.ctx.db)
                .await
                .unwrap()
        }
    };
    let sent = partnerhub::service::tenders::run_digest(&app.ctx).await.unwrap();
    assert!(sent >= 1);
    let alpine = digests("Alpine Voice AG").await;
    assert_eq!(alpine.len(), 1);
    let listed = alpine[0].payload["tenders"].to_string();
    assert!(listed.contains("Swiss clinic phones"), "{listed}");
    assert!(!listed.contains("Voice for three warehouses"), "an awarded call is not news: {listed}");
    assert!(digests("Baltic Cloud SIA").await.is_empty(), "outside the region");
    // A second run the same day, here or on another node, sends nothing more.
    partnerhub::service::tenders::run_digest(&app.ctx).await.unwrap();
    assert_eq!(digests("Alpine Voice AG").await.len(), 1);
    // The next day's digest holds only what is new since.
    app.clock.advance(TimeDelta::days(1));
    partnerhub::service::tenders::run_digest(&app.ctx).await.unwrap();
    assert_eq!(digests("Alpine Voice AG").await.len(), 1, "nothing new, nothing sent");
    publish(&app, &world, "Second Swiss tender", &["CH"], &[]).await;
    app.clock.advance(TimeDelta::days(1));
    partnerhub::service::tenders::run_digest(&app.ctx).await.unwrap();
    let alpine = digests("Alpine Voice AG").await;
    assert_eq!(alpine.len(), 2);
    assert_eq!(alpine[1].payload["count"], 1);
}

#[tokio::test]
async fn posting_is_limited_per_address_and_per_email() {
    let app = TestApp::spawn_with(|s| s.rate_limits.tender_posts_per_hour = 2).await;
    app.demo().await;
    let post = |email: &'static str, title: &'static str| {
        let app = &app;
        async move {
            app.request(None)
                .raw(json!({ "query": POST, "variables": { "input": tender_input(title, &[], &[], email, app) } }))
                .await
        }
    };
    // Bad input is not counted: a visitor fixing a typo is not throttled.
    let mut bad = tender_input("Typo", &[], &[], "a@visitor.example", &app);
    bad["budget"]["currency"] = json!("EURO");
    let refused = app.gql(None, POST, json!({ "input": bad })).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "budget.currency", "{refused}");
    for (email, title) in [("a@visitor.example", "One"), ("b@visitor.example", "Two")] {
        let r = post(email, title).await;
        let body: Value = r.json().await.unwrap();
        assert_no_errors(&body);
    }
    let third = post("c@visitor.example", "Three").await;
    let retry: u64 = header(third.headers(), "retry-after").parse().unwrap();
    assert!(retry >= 1);
    let body: Value = third.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    assert!(body["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap() >= 1);
    let stored = entity::tender::Entity::find().all(&app.ctx.db).await.unwrap();
    assert_eq!(stored.iter().filter(|t| t.title == "Three").count(), 0, "nothing stored");
}

/// The visitor's pages without a browser: CSRF, errors in words with the typed values kept (and
/// escaped), the confirmation and the private page (the browser test drives the same in chromium).
#[tokio::test]
async fn the_pages_refuse_forged_forms_and_keep_what_was_typed() {
    let (app, world) = spawn().await;
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let form_page = client.get(app.url("/tenders/new")).send().await.unwrap();
    assert_eq!(form_page.status(), 200);
    assert!(header(form_page.headers(), "content-security-policy").contains("default-src 'none'"));
    let cookie = header(form_page.headers(), "set-cookie").to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let html = form_page.text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let deadline = (app.ctx.now() + TimeDelta::days(20)).format("%Y-%m-%d").to_string();
    let mut fields = vec![
        ("title", "Phones <script>alert(1)</script>".to_string()),
        ("description", "Desk phones for our three shops in Basel, with installation.".into()),
        ("budget_min", "5000".into()),
        ("budget_max", "9000".into()),
        ("currency", "CHF".into()),
        ("region", "CH".into()),
        ("product_lines", "Desk phones".into()),
        ("expertise", "".into()),
        ("deadline", deadline),
        ("contact_name", "Ursula Visitor".into()),
        ("contact_email", "not-an-address".into()),
    ];
    // Without the cookie's token (a form posted from another site): refused, nothing stored.
    let forged = reqwest::Client::new()
        .post(app.url("/tenders/new"))
        .form(&[fields.clone(), vec![("csrf", "forged".into())]].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().contains("send it again"));
    // A bad e-mail: said in words beside the field, everything typed kept and escaped.
    fields.push(("csrf", csrf.clone()));
    let invalid = client.post(app.url("/tenders/new")).form(&fields).send().await.unwrap();
    assert_eq!(invalid.status(), 400);
    let page = invalid.text().await.unwrap();
    assert!(page.contains("Your e-mail"), "{page}");
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    assert!(page.contains("value=\"not-an-address\"") && page.contains("Basel"), "{page}");
    assert!(!page.contains("<script>alert"), "escaped: {page}");
    assert_eq!(entity::tender::Entity::find().all(&app.ctx.db).await.unwrap().len(), DEMO_TITLES.len());

    fields.retain(|(k, _)| *k != "contact_email");
    fields.push(("contact_email", "ursula@visitor.example".into()));
    let sent = client.post(app.url("/tenders/new")).form(&fields).send().await.unwrap();
    assert_eq!(sent.status(), 200);
    assert!(sent.text().await.unwrap().contains("Check your e-mail"));

    let token = mailed_token(&app, "TENDER_CONFIRMATION", "ursula@visitor.example").await;
    let link = format!("/tenders/confirm?token={token}");
    let ask = client.get(app.url(&link)).send().await.unwrap().text().await.unwrap();
    assert!(ask.contains("Publish it"), "{ask}");
    assert!(titles(&app, Some(&world.token("anna@"))).await.is_empty(), "not before the button");
    let done = client
        .post(app.url("/tenders/confirm"))
        .form(&[("token", token.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    // minijinja writes `/` as `&#x2f;` in HTML, which every HTML reader decodes.
    let done = done.text().await.unwrap().replace("&#x2f;", "/");
    assert!(done.contains("is published"), "{done}");
    let manage = done.split("href=\"/tenders/manage?key=").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(titles(&app, Some(&world.token("anna@"))).await, ["Phones <script>alert(1)</script>"]);
    // Used: said in words.
    let reused = client.get(app.url(&link)).send().await.unwrap().text().await.unwrap();
    assert!(reused.contains("already used"), "{reused}");

    // The private page lists the responses and awards one, with the form's token.
    let listed = app.gql(Some(&world.token("anna@")), "{ tenders { nodes { id title } } }", json!({})).await;
    let id = listed["data"]["tenders"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["title"] == "Phones <script>alert(1)</script>")
        .map(|n| n["id"].as_str().unwrap().to_string())
        .unwrap();
    let answered = app
        .gql(
            Some(&world.token("anna@")),
            RESPOND,
            json!({ "input": { "tenderId": id, "proposal": "Yes, with three technicians.",
                "price": { "amount": "8000", "currency": "CHF" }, "idempotencyKey": "p1" } }),
        )
        .await;
    assert_no_errors(&answered);
    let response_id = answered["data"]["respondToTender"]["id"].as_str().unwrap();
    let key = manage.to_string();
    let listing =
        client.get(app.url(&format!("/tenders/manage?key={key}"))).send().await.unwrap().text().await.unwrap();
    assert!(listing.contains("Alpine Voice AG") && listing.contains("Award to"), "{listing}");
    let key = url::form_urlencoded::parse(format!("key={key}").as_bytes()).next().unwrap().1.to_string();
    let forged_award = reqwest::Client::new()
        .post(app.url("/tenders/manage"))
        .form(&[("key", key.as_str()), ("response", response_id), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged_award.status(), 403);
    let awarded = client
        .post(app.url("/tenders/manage"))
        .form(&[("key", key.as_str()), ("response", response_id), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(awarded.contains("Awarded."), "{awarded}");
}

/// (actor, outcome per operation in OPERATIONS order). Targets: a fresh unrestricted tender by
/// Edelweiss (so every partner is entitled), a fresh confirmation link, and Celtic's response.
#[rustfmt::skip]
const TABLE: &[(&str, [&str; 5])] = &[
    ("vera.admin@", ["FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    ("anna@", ["FORBIDDEN", "OK", "OK", "OK", "NOT_FOUND"]),
    ("sam@", ["FORBIDDEN", "OK", "OK", "OK", "NOT_FOUND"]),
    ("bruno@", ["FORBIDDEN", "OK", "OK", "OK", "NOT_FOUND"]),
    // The customer that posted: awards; does not answer its own tender.
    ("erika@", ["OK", "OK", "FORBIDDEN", "FORBIDDEN", "OK"]),
    // Another customer: posts its own; the tender does not exist for it.
    ("finn@", ["OK", "OK", "FORBIDDEN", "FORBIDDEN", "NOT_FOUND"]),
    ("dora@", ["FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "NOT_FOUND"]),
    // A visitor posts (and confirms by e-mail); the rest needs a partner or the author.
    ("anonymous", ["OK", "OK", "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED"]),
];

#[tokio::test]
async fn actors_by_tender_operations() {
    let (app, world) = spawn().await;
    let token_of = |actor: &str| (actor != "anonymous").then(|| world.token(actor));
    let mut failures = Vec::new();
    for (serial, (actor, expected)) in TABLE.iter().enumerate() {
        for (op, want) in OPERATIONS.iter().zip(expected) {
            let id = publish(&app, &world, &format!("Target {serial} {op}"), &[], &[]).await;
            let email = format!("visitor{serial}{op}@visitor.example").to_lowercase();
            let (document, variables) = match *op {
                "postTender" => (POST.to_string(), json!({ "input": tender_input("Posted", &[], &[], &email, &app) })),
                "confirmTender" => {
                    let posted = app
                        .gql(None, POST, json!({ "input": tender_input("To confirm", &[], &[], &email, &app) }))
                        .await;
                    assert_no_errors(&posted);
                    let token = mailed_token(&app, "TENDER_CONFIRMATION", &email).await;
                    (
                        "mutation($t: String!) { confirmTender(input: { token: $t }) { tenderId } }".into(),
                        json!({ "t": token }),
                    )
                }
                "expressInterest" => (INTEREST.into(), json!({ "id": id })),
                "respondToTender" => (
                    RESPOND.into(),
                    json!({ "input": { "tenderId": id, "proposal": "p", "price": { "amount": "1", "currency": "CHF" }, "idempotencyKey": format!("{serial}") } }),
                ),
                "awardTender" => {
                    let r = app
                        .gql(
                            Some(&world.token("cara@")),
                            RESPOND,
                            json!({ "input": { "tenderId": id, "proposal": "p", "price": { "amount": "1", "currency": "CHF" }, "idempotencyKey": format!("t{serial}") } }),
                        )
                        .await;
                    assert_no_errors(&r);
                    (AWARD.into(), json!({ "input": { "responseId": r["data"]["respondToTender"]["id"] } }))
                }
                other => panic!("no target for {other}"),
            };
            let body = app.gql(token_of(actor).as_deref(), &document, variables).await;
            let got = if body.get("errors").is_some() { error_code(&body).to_string() } else { "OK".into() };
            if got != *want {
                failures.push(format!("{actor} {op}: want {want}, got {got} ({body})"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A page of tenders with their authors, standings and responses costs the same number of
/// statements with three tenders as with seven, for staff, the author and a partner.
#[tokio::test]
async fn a_page_of_tenders_costs_the_same_statements_whatever_its_length() {
    let app = TestApp::spawn_counting(|s| s.rate_limits.tender_posts_per_hour = 1000).await;
    let world = app.demo().await;
    const LIST: &str = "{ tenders(first: 50) { nodes { title status author { organizationName contactEmail }
        interestExpressed myResponse { id price { amount } } awardedResponse { id partnerName }
        responses(first: 5) { nodes { partnerName price { amount } } } } } }";
    let readers = ["vera.admin@", "hans@", "anna@"].map(|r| world.token(r));
    let mut before = Vec::new();
    for token in &readers {
        let (n, body) = app.read_statements(Some(token), LIST, json!({})).await;
        assert_no_errors(&body);
        before.push(n);
    }
    for i in 0..4 {
        let id = publish(&app, &world, &format!("More phones {i}"), &[], &[]).await;
        for (who, key) in [("anna@", "a"), ("cara@", "c")] {
            let r = app
                .gql(
                    Some(&world.token(who)),
                    RESPOND,
                    json!({ "input": { "tenderId": id, "proposal": "p", "price": { "amount": "10", "currency": "CHF" }, "idempotencyKey": format!("{key}{i}") } }),
                )
                .await;
            assert_no_errors(&r);
        }
        assert_no_errors(&app.gql(Some(&world.token("anna@")), INTEREST, json!({ "id": id })).await);
    }
    for (token, was) in readers.iter().zip(before) {
        let (n, body) = app.read_statements(Some(token), LIST, json!({})).await;
        assert_no_errors(&body);
        assert_eq!(n, was, "statements grew with the page: {body}");
        assert!(n <= 9, "{n} statements");
    }
}
