//! The weaker holes of the security review, each played as the one who would use it: formulas in
//! a CSV, staff reading more than their rights show, guessing tokens, oversized requests, codes
//! that are not codes, a removed integration that keeps working, and a dedupe answer that names
//! another partner's customer.

use chrono::{Datelike, TimeDelta};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn next_period() -> String {
    let now = chrono::Utc::now();
    let first = now.date_naive().with_day(1).unwrap() + chrono::Months::new(1);
    first.format("%Y-%m").to_string()
}

/// A partner bills customers whose names are formulas, on a plan whose name is one; the
/// invoice export writes them as text, and amounts (a negative credit among them) as numbers.
#[tokio::test]
async fn csv_cells_never_run_as_formulas() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, vera) = (world.token("anna@"), world.token("vera.admin@"));
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let product = app.gql(Some(&vera), "{ products { nodes { id sku } } }", json!({})).await;
    let d385 =
        product["data"]["products"]["nodes"].as_array().unwrap().iter().find(|p| p["sku"] == "D385").unwrap()["id"]
            .clone();
    let plan = app
        .gql(
            Some(&vera),
            "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id } } }",
            json!({ "i": {
            "productId": d385, "code": "D385-X", "name": "-2+3", "billingPeriod": "MONTHLY",
            "unitPrice": { "amount": "10.00", "currency": "EUR" }, "rank": 7, "volumeBands": [] } }),
        )
        .await;
    let plan = plan["data"]["createPlan"]["plan"]["id"].clone();
    let names = ["=HYPERLINK(\"http://x.example\",\"y\")", "+1+cmd", "@SUM(1)", "-2+3 Ltd"];
    let mut first_sub = None;
    for (i, name) in names.iter().enumerate() {
        let created = app
            .gql(
                Some(&anna),
                "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }",
                json!({ "i": { "name": name, "country": "CH", "adminEmail": format!("x{i}@formula.example") } }),
            )
            .await;
        let customer = created["data"]["createCustomer"]["customer"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {created}"))
            .to_string();
        let sub = app
            .gql(Some(&anna), "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }", json!({ "i": { "customerId": customer, "planId": plan, "seats": 4, "billedTo": "PARTNER", "idempotencyKey": format!("f{i}") } }))
            .await;
        first_sub.get_or_insert(sub["data"]["createSubscription"]["subscription"]["id"].clone());
    }
    // A credit: fewer seats later in the period.
    app.clock.advance(TimeDelta::days(1));
    let fewer = app
        .gql(
            Some(&anna),
            "mutation($id: ID!) { changeSeats(input: {id: $id, seats: 1}) { subscription { seats } } }",
            json!({ "id": first_sub.unwrap() }),
        )
        .await;
    assert_no_errors(&fewer);
    let period = next_period();
    assert_no_errors(
        &app.gql(
            Some(&vera),
            "mutation($p: String!) { runBilling(input: {period: $p}) { invoices { id } } }",
            json!({ "p": period }),
        )
        .await,
    );
    let csv = app
        .client
        .get(app.url(&format!("/exports/invoices.csv?organization={alpine}&from={period}&to={period}")))
        .bearer_auth(&anna)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(!rows.is_empty(), "{csv}");
    for row in &rows {
        for name in ["bill_to", "customer", "description", "invoice_number", "kind"] {
            let cell = &row[column(name)];
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{name} = {cell:?} would run as a formula");
        }
        for name in ["quantity", "unit_price", "gross", "discount", "net", "tax", "total", "tax_rate"] {
            let cell = &row[column(name)];
            assert!(cell.parse::<rust_decimal::Decimal>().is_ok(), "{name} = {cell:?} is a plain number");
        }
    }
    let customers: Vec<&str> = rows.iter().map(|r| &r[column("customer")]).collect();
    for name in names {
        assert!(customers.contains(&format!("'{name}").as_str()), "{name} is kept, as text: {customers:?}");
    }
    assert!(rows.iter().any(|r| r[column("description")].starts_with("'-2+3")), "the plan's name too");
    assert!(rows.iter().any(|r| r[column("net")].starts_with('-')), "a credit stays a negative number: {csv}");
}

async fn actions_seen(app: &TestApp, token: &str, organization: &str) -> Vec<String> {
    let body = app
        .gql(Some(token), "query($id: ID!) { auditEvents(organizationId: $id, first: 100) { nodes { action targetType customerId } } }", json!({ "id": organization }))
        .await;
    assert_no_errors(&body);
    body["data"]["auditEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["action"].as_str().unwrap(), e["customerId"].as_str().unwrap_or("-")))
        .collect()
}

/// Sam (SALES, assigned to Edelweiss only) reads his partner's audit trail and notifications
/// with the rights of what they describe: no invitation e-mails, no other customer's
/// subscriptions, no invoice totals.
#[tokio::test]
async fn partner_staff_read_only_what_their_rights_show() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, sam, vera) = (world.token("anna@"), world.token("sam@"), world.token("vera.admin@"));
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let fjord = organization_id(&app, &vera, "Fjord Freight AS").await;
    let all = actions_seen(&app, &anna, &alpine).await;
    assert!(all.iter().any(|a| a.starts_with("invitation.created")), "{all:?}");
    assert!(all.iter().any(|a| a == &format!("subscription.created {fjord}")), "{all:?}");
    let seen = actions_seen(&app, &sam, &alpine).await;
    assert!(!seen.iter().any(|a| a.starts_with("invitation.")), "no invitation e-mails for SALES: {seen:?}");
    assert!(!seen.iter().any(|a| a.contains(&fjord)), "nothing of a customer Sam is not assigned to: {seen:?}");
    assert!(seen.iter().any(|a| a == &format!("subscription.created {edelweiss}")), "his own customer's: {seen:?}");
    // The same rule for one event fetched by id.
    let event = app
        .gql(Some(&anna), "query($id: ID!) { auditEvents(organizationId: $id, filter: {action: \"invitation.created\"}) { nodes { id } } }", json!({ "id": alpine }))
        .await["data"]["auditEvents"]["nodes"][0]["id"]
        .clone();
    let by_id = app.gql(Some(&sam), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": event })).await;
    assert!(by_id["data"]["node"].is_null(), "{by_id}");

    // This month's invoice to Alpine: its totals are for ADMIN and BILLING, not for SALES.
    let billing = app
        .gql(
            Some(&anna),
            "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { token } }",
            json!({ "i": { "organizationId": alpine, "name": "ap", "role": "BILLING" } }),
        )
        .await["data"]["createServiceAccount"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(notification_kinds(&app, &anna).await.contains(&"INVOICE_ISSUED".to_string()));
    assert!(notification_kinds(&app, &billing).await.contains(&"INVOICE_ISSUED".to_string()));
    let sams = notification_kinds(&app, &sam).await;
    assert!(!sams.contains(&"INVOICE_ISSUED".to_string()), "{sams:?}");
}

/// Guessing tokens: past the limit a client is refused before its credentials are checked, so
/// even a right guess gets 429; sign-in attempts are limited the same way.
#[tokio::test]
async fn failed_authentication_and_sign_in_are_rate_limited() {
    let app = TestApp::spawn_with(|s| {
        s.rate_limits.auth_failures_per_minute = 3;
        s.rate_limits.sign_ins_per_minute = 3;
    })
    .await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let query = json!({ "query": "{ viewer { user { id } } }" });
    for i in 0..3 {
        let r = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(format!("phk_guess{i:08}"))
            .json(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app.client.post(app.url("/graphql")).bearer_auth("phk_guess0004").json(&query).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = header(r.headers(), "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED");
    // Anna's real token, from the same client: refused all the same (nothing is checked).
    let r = app.client.post(app.url("/graphql")).bearer_auth(&anna).json(&query).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let export = app
        .client
        .get(app.url("/exports/invoices.csv?organization=x&from=2026-01&to=2026-01"))
        .bearer_auth(&anna)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::TOO_MANY_REQUESTS, "every endpoint that authenticates");
    // Anonymous requests carry no credentials to guess with and are not limited.
    let r = app.client.post(app.url("/graphql")).json(&query).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(client.get(app.url("/auth/login?provider=nowhere")).send().await.unwrap().status());
    }
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
}

/// Oversized requests get short answers: errors are capped, variables are bounded, a parse
/// error does not echo the document, and nested pages cost what they would read.
#[tokio::test]
async fn oversized_requests_get_short_answers() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let unused: Vec<String> = (0..5000).map(|i| format!("$v{i}: Int")).collect();
    let query = format!("query({}) {{ viewer {{ user {{ id }} }} }}", unused.join(", "));
    let r = app.request(None).raw(json!({ "query": query })).await;
    let text = r.text().await.unwrap();
    assert!(text.len() < 20_000, "{} bytes of errors", text.len());
    let body: Value = serde_json::from_str(&text).unwrap();
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 20);
    assert!(errors[19]["message"].as_str().unwrap().contains("more errors were left out"), "{}", errors[19]);

    let variables: serde_json::Map<String, Value> = (0..300).map(|i| (format!("v{i}"), json!(1))).collect();
    let r = app.request(None).raw(json!({ "query": "{ viewer { user { id } } }", "variables": variables })).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let garbage = format!("{{ viewer {} ", "x ".repeat(100_000));
    let body = app.gql(None, &garbage, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.len() < 400 && !message.contains('\n'), "{message}");

    let nested = "{ customers(first: 100) { nodes { subscriptions(first: 100) { nodes { history(first: 100) { nodes { kind } } } } } } }";
    let body = app.gql(Some(&anna), nested, json!({})).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().to_lowercase().contains("complex"), "{body}");
    let fair = "{ customers(first: 50) { totalCount nodes { id name viewerRights subscriptionSummary { plans licences nextRenewalAt } subscriptions(first: 10) { nodes { id seats plan { code } } } } } }";
    assert_no_errors(&app.gql(Some(&anna), fair, json!({})).await);
}

/// Codes are codes: currencies from ISO 4217 and a programme, bounded token lifetimes, names
/// without direction tricks, one plan per rank.
#[tokio::test]
async fn codes_that_are_not_codes_are_refused() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, vera) = (world.token("anna@"), world.token("vera.admin@"));
    let product = app.gql(Some(&vera), "{ products { nodes { id sku } } }", json!({})).await["data"]["products"]["nodes"][0]["id"].clone();
    let plan = |currency: &str, rank: i32, code: &str| json!({ "i": { "productId": product, "code": code, "name": "Plan", "billingPeriod": "MONTHLY", "unitPrice": { "amount": "1", "currency": currency }, "rank": rank, "volumeBands": [] } });
    let create = "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id } } }";
    for (currency, rank, code, field) in
        [("ZZZ", 50, "Z-1", "unitPrice"), ("USD", 51, "U-1", "unitPrice"), ("EUR", 1, "R-1", "rank")]
    {
        let body = app.gql(Some(&vera), create, plan(currency, rank, code)).await;
        assert_eq!(
            (error_code(&body), &body["errors"][0]["extensions"]["field"]),
            ("BAD_USER_INPUT", &json!(field)),
            "{currency} {rank}: {body}"
        );
    }
    assert_no_errors(&app.gql(Some(&vera), create, plan("EUR", 52, "E-1")).await);

    let token = "mutation($at: DateTime!) { createApiToken(input: {name: \"sync\", expiresAt: $at}) { token } }";
    let far = (chrono::Utc::now() + TimeDelta::days(3 * 365)).to_rfc3339();
    let body = app.gql(Some(&anna), token, json!({ "at": far })).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "expiresAt", "{body}");
    let near = (chrono::Utc::now() + TimeDelta::days(365)).to_rfc3339();
    assert_no_errors(&app.gql(Some(&anna), token, json!({ "at": near })).await);

    let customer = "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }";
    let body = app
        .gql(
            Some(&anna),
            customer,
            json!({ "i": { "name": "Invoice\u{202E}fdp.exe", "country": "CH", "adminEmail": "a@rtl.example" } }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "name", "{body}");
}

/// A service account removed from its organisation is nobody: its tokens stop at once.
#[tokio::test]
async fn a_removed_service_account_stops_authenticating() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, vera) = (world.token("anna@"), world.token("vera.admin@"));
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let created = app
        .gql(Some(&anna), "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { token serviceAccount { id } } }", json!({ "i": { "organizationId": alpine, "name": "erp", "role": "SALES" } }))
        .await;
    let secret = created["data"]["createServiceAccount"]["token"].as_str().unwrap().to_string();
    let me = app.gql(Some(&secret), "{ viewer { actingAs { id } } }", json!({})).await;
    let membership = me["data"]["viewer"]["actingAs"]["id"].clone();
    assert_no_errors(
        &app.gql(
            Some(&anna),
            "mutation($id: ID!) { removeMember(input: {membershipId: $id}) { removedMembershipId } }",
            json!({ "id": membership }),
        )
        .await,
    );
    let r = app
        .request(Some(&secret))
        .raw(json!({ "query": "mutation { createApiToken(input: {name: \"again\"}) { token } }" }))
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let events = actions_seen(&app, &anna, &alpine).await;
    assert!(events.iter().any(|a| a.starts_with("service_account.tokens_revoked")), "{events:?}");
}

/// Asked by a verified domain, the customer stays unnamed to the partner until it approves.
#[tokio::test]
async fn a_partner_asks_by_domain_and_learns_the_customer_when_approved() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (bruno, erika, vera) = (world.token("bruno@"), world.token("erika@"), world.token("vera.admin@"));
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let ask = "mutation($d: String!) { requestCustomerAccess(input: {domain: $d, rights: [VIEW_BILLING]}) { grant { id customerId customer { name } } } }";
    let unproven = app.gql(Some(&bruno), ask, json!({ "d": "edelweiss-dental.example" })).await;
    assert_eq!(error_code(&unproven), "NOT_FOUND", "an unproven domain names nobody");
    entity::domain::Entity::update_many()
        .col_expr(entity::domain::Column::VerifiedAt, Expr::value(Some(chrono::Utc::now())))
        .filter(entity::domain::Column::Name.eq("edelweiss-dental.example"))
        .exec(&app.ctx.db)
        .await
        .unwrap();
    let asked = app.gql(Some(&bruno), ask, json!({ "d": "EDELWEISS-dental.example." })).await;
    assert_no_errors(&asked);
    let grant = asked["data"]["requestCustomerAccess"]["grant"].clone();
    assert!(grant["customerId"].is_null() && grant["customer"].is_null(), "{grant}");
    let baltic = organization_id(&app, &vera, "Baltic Cloud SIA").await;
    let trail = actions_seen(&app, &bruno, &baltic).await;
    assert!(trail.iter().any(|a| a == "grant.requested -"), "not in the audit trail either: {trail:?}");
    let both = app.gql(Some(&bruno), ask, json!({ "d": "x.example" })).await;
    assert_eq!(error_code(&both), "NOT_FOUND");
    let two = app
        .gql(Some(&bruno), "mutation($id: ID!) { requestCustomerAccess(input: {customerId: $id, domain: \"x.example\", rights: [VIEW_BILLING]}) { grant { id } } }", json!({ "id": edelweiss }))
        .await;
    assert_eq!(two["errors"][0]["extensions"]["field"], "customerId", "one way of naming the customer");
    let approved = app
        .gql(
            Some(&erika),
            "mutation($id: ID!) { approveGrant(input: {id: $id}) { grant { status } } }",
            json!({ "id": grant["id"] }),
        )
        .await;
    assert_no_errors(&approved);
    let now = app
        .gql(
            Some(&bruno),
            "query($id: ID!) { node(id: $id) { ... on Grant { customerId customer { name } } } }",
            json!({ "id": grant["id"] }),
        )
        .await;
    assert_eq!(now["data"]["node"], json!({ "customerId": edelweiss, "customer": { "name": "Edelweiss Dental" } }));
}

/// Messages say what is true: a grant past its end is expired, and says so in English.
#[tokio::test]
async fn an_expired_grant_says_it_is_expired() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (erika, vera) = (world.token("erika@"), world.token("vera.admin@"));
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let customer = partnerhub::ids::decode(&edelweiss).unwrap().1;
    entity::grant::Entity::update_many()
        .col_expr(entity::grant::Column::EndsAt, Expr::value(chrono::Utc::now() - TimeDelta::hours(1)))
        .filter(entity::grant::Column::CustomerId.eq(customer))
        .exec(&app.ctx.db)
        .await
        .unwrap();
    let grants = app
        .gql(
            Some(&erika),
            "query($id: ID!) { node(id: $id) { ... on Organization { grants { nodes { id } } } } }",
            json!({ "id": edelweiss }),
        )
        .await;
    let id = grants["data"]["node"]["grants"]["nodes"][0]["id"].clone();
    let body = app
        .gql(
            Some(&erika),
            "mutation($id: ID!) { updateGrant(input: {id: $id, rights: [VIEW_BILLING]}) { grant { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["errors"][0]["message"], "an expired grant cannot be changed", "{body}");
}
