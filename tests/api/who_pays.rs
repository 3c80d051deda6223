//! Whoever pays decides what costs more, as a generated table: billed to (PARTNER, CUSTOMER) ×
//! the partner's grant (live, revoked) × actor × operation, against an oracle that states the
//! rule plainly; then the reproduction as a story, from Erika raising what Alpine pays
//! for to the renewal that no longer charges Alpine once its grant is gone.

use chrono::TimeDelta;
use entity::{grant, subscription, subscription_change_request};
use partnerhub::ids::{self, NodeType};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

pub const OPERATIONS: [&str; 11] = [
    "raiseSeats",
    "lowerSeats",
    "upgrade",
    "downgrade",
    "cancelSubscription",
    "resumeSubscription",
    "autoRenewOn",
    "autoRenewOff",
    "handOverSubscriptionBilling",
    "requestSubscriptionChange",
    "readSubscription",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    CustomerAdmin,
    CustomerMember,
    PartnerAdmin,
    /// Sam: SALES, assigned MANAGE_PRODUCTS under the grant.
    PartnerSales,
    /// A BILLING service account of Alpine, assigned nothing.
    PartnerBilling,
    OtherPartner,
}

const ACTORS: [Actor; 6] = [
    Actor::CustomerAdmin,
    Actor::CustomerMember,
    Actor::PartnerAdmin,
    Actor::PartnerSales,
    Actor::PartnerBilling,
    Actor::OtherPartner,
];

fn raises(op: &str) -> bool {
    matches!(op, "raiseSeats" | "upgrade" | "resumeSubscription" | "autoRenewOn")
}

fn stops(op: &str) -> bool {
    matches!(op, "cancelSubscription" | "autoRenewOff")
}

/// The rule, stated independently of the implementation.
fn expected(actor: Actor, partner_pays: bool, live: bool, op: &str) -> &'static str {
    use Actor::*;
    // Who sees the subscription at all: the customer's members; the partner's users through a
    // live grant (Sam by his assignment); the partner's ADMIN and BILLING what their
    // organisation pays for, grant or not.
    let sees = match actor {
        CustomerAdmin | CustomerMember => true,
        PartnerAdmin => live || partner_pays,
        PartnerSales => live,
        PartnerBilling => partner_pays,
        OtherPartner => false,
    };
    if !sees {
        return "NOT_FOUND";
    }
    if op == "readSubscription" {
        return "OK";
    }
    if op == "requestSubscriptionChange" {
        return match actor {
            CustomerAdmin if partner_pays => "OK",
            CustomerAdmin => "CONFLICT",
            _ => "FORBIDDEN",
        };
    }
    let allowed = match actor {
        CustomerAdmin => !(partner_pays && raises(op)),
        CustomerMember | OtherPartner => false,
        // MANAGE_PRODUCTS under a live grant: anything on what Alpine manages.
        PartnerAdmin | PartnerSales if live => true,
        // The payer may stop paying (cancel, no renewal, hand the bill over), nothing more.
        PartnerAdmin | PartnerBilling => partner_pays && (stops(op) || op == "handOverSubscriptionBilling"),
        PartnerSales => false,
    };
    if !allowed {
        return "FORBIDDEN";
    }
    if op == "handOverSubscriptionBilling" && !partner_pays {
        return "CONFLICT";
    }
    "OK"
}

struct World {
    app: TestApp,
    tokens: Vec<(Actor, String)>,
    subscription: Uuid,
    alpine: Uuid,
    grant: Uuid,
    base_plan: Uuid,
    upgrade_plan: Uuid,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let (anna, erika, vera) = (demo.token("anna@"), demo.token("erika@"), demo.token("vera.admin@"));
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let alpine_gid = organization_id(&app, &vera, "Alpine Voice AG").await;
    let account = |token: String, org: String, name: &'static str, role: &'static str| {
        let app = &app;
        async move {
            let body = app
                .gql(
                    Some(&token),
                    "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { token } }",
                    json!({ "i": { "organizationId": org, "name": name, "role": role } }),
                )
                .await;
            body["data"]["createServiceAccount"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_string()
        }
    };
    let member = account(erika.clone(), edelweiss.clone(), "reader", "MEMBER").await;
    let billing = account(anna.clone(), alpine_gid.clone(), "accounts payable", "BILLING").await;
    let subs = app
        .gql(Some(&erika), "query($id: ID!) { customer(id: $id) { subscriptions { nodes { id billedTo product { sku } plan { id } } } } }", json!({ "id": edelweiss }))
        .await;
    let phones = subs["data"]["customer"]["subscriptions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["product"]["sku"] == "D785")
        .cloned()
        .unwrap();
    assert_eq!(phones["billedTo"], "PARTNER");
    let plans = app.gql(Some(&erika), "{ products { nodes { sku plans { id } } } }", json!({})).await;
    let d785 =
        plans["data"]["products"]["nodes"].as_array().unwrap().iter().find(|p| p["sku"] == "D785").unwrap().clone();
    let plan = |i: usize| ids::decode(d785["plans"][i]["id"].as_str().unwrap()).unwrap().1;
    let alpine = ids::decode(&alpine_gid).unwrap().1;
    let customer = ids::decode(&edelweiss).unwrap().1;
    let grant = grant::Entity::find()
        .filter(grant::Column::PartnerId.eq(alpine))
        .filter(grant::Column::CustomerId.eq(customer))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    World {
        tokens: vec![
            (Actor::CustomerAdmin, erika),
            (Actor::CustomerMember, member),
            (Actor::PartnerAdmin, anna),
            (Actor::PartnerSales, demo.token("sam@")),
            (Actor::PartnerBilling, billing),
            (Actor::OtherPartner, demo.token("bruno@")),
        ],
        subscription: ids::decode(phones["id"].as_str().unwrap()).unwrap().1,
        alpine,
        grant,
        base_plan: plan(0),
        upgrade_plan: plan(1),
        app,
    }
}

/// Puts the subscription and the grant in the state a cell needs, directly in the database.
async fn prepare(w: &World, partner_pays: bool, live: bool, op: &str) {
    let db = &w.app.ctx.db;
    let now = chrono::Utc::now();
    subscription_change_request::Entity::delete_many().exec(db).await.unwrap();
    subscription::Entity::update_many()
        .col_expr(subscription::Column::Seats, Expr::value(10))
        .col_expr(
            subscription::Column::PlanId,
            Expr::value(if op == "downgrade" { w.upgrade_plan } else { w.base_plan }),
        )
        .col_expr(subscription::Column::PendingPlanId, Expr::value(Option::<Uuid>::None))
        .col_expr(subscription::Column::CancelAtPeriodEnd, Expr::value(op == "resumeSubscription"))
        .col_expr(subscription::Column::AutoRenew, Expr::value(op != "autoRenewOn"))
        .col_expr(subscription::Column::BilledTo, Expr::value(if partner_pays { "PARTNER" } else { "CUSTOMER" }))
        .col_expr(subscription::Column::PartnerId, Expr::value(Some(w.alpine)))
        .col_expr(subscription::Column::Status, Expr::value("ACTIVE"))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(w.subscription))
        .exec(db)
        .await
        .unwrap();
    let (status, ends_at) =
        if live { ("ACTIVE", now + TimeDelta::days(30)) } else { ("REVOKED", now - TimeDelta::days(1)) };
    grant::Entity::update_many()
        .col_expr(grant::Column::Status, Expr::value(status))
        .col_expr(grant::Column::EndsAt, Expr::value(ends_at))
        .filter(grant::Column::Id.eq(w.grant))
        .exec(db)
        .await
        .unwrap();
}

fn request(w: &World, op: &str) -> (String, Value) {
    let id = ids::encode(NodeType::ProductSubscription, w.subscription);
    let plan = |p: Uuid| ids::encode(NodeType::Plan, p);
    let simple = |field: &str, extra: &str| {
        (
            format!("mutation($id: ID!) {{ {field}(input: {{id: $id{extra}}}) {{ subscription {{ id }} }} }}"),
            json!({ "id": id }),
        )
    };
    match op {
        "raiseSeats" => simple("changeSeats", ", seats: 90000"),
        "lowerSeats" => simple("changeSeats", ", seats: 5"),
        "upgrade" | "downgrade" => (
            "mutation($id: ID!, $p: ID!) { changePlan(input: {id: $id, planId: $p}) { subscription { id } } }".into(),
            json!({ "id": id, "p": plan(if op == "upgrade" { w.upgrade_plan } else { w.base_plan }) }),
        ),
        "autoRenewOn" => simple("setAutoRenew", ", autoRenew: true"),
        "autoRenewOff" => simple("setAutoRenew", ", autoRenew: false"),
        "requestSubscriptionChange" => (
            "mutation($id: ID!) { requestSubscriptionChange(input: {subscriptionId: $id, seats: 20}) { request { id } } }".into(),
            json!({ "id": id }),
        ),
        "readSubscription" => ("query($id: ID!) { node(id: $id) { id } }".into(), json!({ "id": id })),
        other => simple(other, ""),
    }
}

fn outcome(op: &str, body: &Value) -> String {
    if body.get("errors").is_some() {
        return error_code(body).to_string();
    }
    if op == "readSubscription" && body["data"]["node"].is_null() {
        return "NOT_FOUND".into();
    }
    "OK".into()
}

#[tokio::test]
async fn billed_to_by_grant_by_actor_by_operation() {
    let w = world().await;
    assert_eq!(w.tokens.iter().map(|(a, _)| *a).collect::<Vec<_>>(), ACTORS);
    let mut failures = Vec::new();
    let mut cells = 0;
    for partner_pays in [true, false] {
        for live in [true, false] {
            for (actor, token) in &w.tokens {
                for op in OPERATIONS {
                    prepare(&w, partner_pays, live, op).await;
                    let (query, variables) = request(&w, op);
                    let got = outcome(op, &w.app.gql(Some(token), &query, variables).await);
                    let want = expected(*actor, partner_pays, live, op);
                    cells += 1;
                    if got != want {
                        let billed = if partner_pays { "PARTNER" } else { "CUSTOMER" };
                        failures
                            .push(format!("billed {billed}, live {live}, {actor:?} {op}: expected {want}, got {got}"));
                    }
                }
            }
        }
    }
    assert_eq!(cells, 2 * 2 * ACTORS.len() * OPERATIONS.len());
    assert!(failures.is_empty(), "{} of {cells} cells differ:\n{}", failures.len(), failures.join("\n"));
}

const SUB: &str = "id seats autoRenew billedTo status plan { code }";

async fn edelweiss_subscriptions(app: &TestApp, token: &str, edelweiss: &str) -> Vec<Value> {
    let body = app
        .gql(
            Some(token),
            &format!(
                "query($id: ID!) {{ customer(id: $id) {{ subscriptions {{ nodes {{ {SUB} product {{ sku }} }} }} }} }}"
            ),
            json!({ "id": edelweiss }),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["customer"]["subscriptions"]["nodes"].as_array().unwrap().clone()
}

async fn node(app: &TestApp, token: &str, id: &str) -> Value {
    let body = app
        .gql(
            Some(token),
            &format!("query($id: ID!) {{ node(id: $id) {{ ... on ProductSubscription {{ {SUB} }} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["node"].clone()
}

async fn kinds_of(app: &TestApp, token: &str) -> Vec<String> {
    let body = app.gql(Some(token), "{ viewer { notifications(first: 100) { nodes { kind } } } }", json!({})).await;
    body["data"]["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

/// The reproduction: Erika raises what Alpine pays for, before and after revoking
/// Alpine's grant. Then what a customer does instead (ask), and what happens to the partner's
/// bill when its grant is gone.
#[tokio::test]
async fn a_customer_cannot_raise_what_its_partner_pays_for() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, erika, vera) = (world.token("anna@"), world.token("erika@"), world.token("vera.admin@"));
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let subs = edelweiss_subscriptions(&app, &erika, &edelweiss).await;
    let phones = subs.iter().find(|s| s["product"]["sku"] == "D785").unwrap()["id"].as_str().unwrap().to_string();
    let pbx = subs.iter().find(|s| s["product"]["sku"] == "CPBX").unwrap()["id"].as_str().unwrap().to_string();
    let seats = "mutation($id: ID!, $n: Int!) { changeSeats(input: {id: $id, seats: $n}) { subscription { seats } } }";
    let raised = app.gql(Some(&erika), seats, json!({ "id": phones, "n": 90000 })).await;
    assert_eq!(error_code(&raised), "FORBIDDEN", "{raised}");
    assert!(raised["errors"][0]["message"].as_str().unwrap().contains("requestSubscriptionChange"));

    // She asks instead (the demo's request: 5 more seats); Alpine decides, and pays for what it
    // approves.
    let ask = "mutation($i: RequestSubscriptionChangeInput!) { requestSubscriptionChange(input: $i) { request { id status seats } } }";
    let twice = app.gql(Some(&erika), ask, json!({ "i": { "subscriptionId": phones, "seats": 30 } })).await;
    assert_eq!(error_code(&twice), "CONFLICT", "one waiting request per subscription");
    let fewer = app.gql(Some(&erika), ask, json!({ "i": { "subscriptionId": pbx, "seats": 2 } })).await;
    assert_eq!(fewer["errors"][0]["extensions"]["field"], "seats", "fewer seats need nobody's approval");
    let queue = app
        .gql(
            Some(&anna),
            "{ subscriptionChangeRequests(status: PENDING) { totalCount nodes { id seats message requestedByName } } }",
            json!({}),
        )
        .await;
    assert_eq!(queue["data"]["subscriptionChangeRequests"]["totalCount"], 1, "{queue}");
    let waiting = &queue["data"]["subscriptionChangeRequests"]["nodes"][0];
    assert_eq!((waiting["seats"].as_i64(), waiting["requestedByName"].as_str()), (Some(15), Some("Erika Edelweiss")));
    let request = waiting["id"].as_str().unwrap().to_string();
    assert!(kinds_of(&app, &anna).await.contains(&"SUBSCRIPTION_CHANGE_REQUESTED".to_string()));
    let decide = |verb: &str| {
        format!(
            "mutation($id: ID!, $n: String) {{ {verb}(input: {{id: $id, note: $n}}) {{ request {{ status decisionNote }} }} }}"
        )
    };
    let by_erika = app.gql(Some(&erika), &decide("approveSubscriptionChange"), json!({ "id": request })).await;
    assert_eq!(error_code(&by_erika), "FORBIDDEN", "the customer does not approve its own request");
    let approved = app
        .gql(Some(&anna), &decide("approveSubscriptionChange"), json!({ "id": request, "n": "welcome aboard" }))
        .await;
    assert_no_errors(&approved);
    assert_eq!(node(&app, &erika, &phones).await["seats"], 15);
    assert!(kinds_of(&app, &erika).await.contains(&"SUBSCRIPTION_CHANGE_DECIDED".to_string()));
    let history = app
        .gql(
            Some(&erika),
            "query($id: ID!) { node(id: $id) { ... on ProductSubscription { history { nodes { kind actorName } } } } }",
            json!({ "id": phones }),
        )
        .await;
    let last = history["data"]["node"]["history"]["nodes"].as_array().unwrap().last().cloned().unwrap();
    assert_eq!(last, json!({ "kind": "SEATS_CHANGED", "actorName": "Anna Alpine" }), "made, and audited, as Alpine");
    // A declined and a withdrawn request change nothing.
    let plans = app.gql(Some(&erika), "{ products { nodes { sku plans { id } } } }", json!({})).await;
    let pro =
        plans["data"]["products"]["nodes"].as_array().unwrap().iter().find(|p| p["sku"] == "CPBX").unwrap()["plans"][1]
            ["id"]
            .clone();
    let up = app.gql(Some(&erika), ask, json!({ "i": { "subscriptionId": pbx, "planId": pro } })).await;
    let declined = app
        .gql(
            Some(&anna),
            &decide("declineSubscriptionChange"),
            json!({ "id": up["data"]["requestSubscriptionChange"]["request"]["id"], "n": "next quarter" }),
        )
        .await;
    assert_eq!(
        declined["data"]["declineSubscriptionChange"]["request"],
        json!({ "status": "DECLINED", "decisionNote": "next quarter" })
    );
    assert_eq!(node(&app, &erika, &pbx).await["plan"]["code"], "CPBX-STD-M");
    let again = app.gql(Some(&erika), ask, json!({ "i": { "subscriptionId": pbx, "seats": 50 } })).await;
    let withdrawn = app
        .gql(
            Some(&erika),
            &decide("withdrawSubscriptionChange"),
            json!({ "id": again["data"]["requestSubscriptionChange"]["request"]["id"] }),
        )
        .await;
    assert_eq!(withdrawn["data"]["withdrawSubscriptionChange"]["request"]["status"], "WITHDRAWN");

    // Erika revokes Alpine. What Alpine pays for stops renewing; everyone concerned is told.
    let grants = app
        .gql(
            Some(&erika),
            "query($id: ID!) { node(id: $id) { ... on Organization { grants { nodes { id partner { name } } } } } }",
            json!({ "id": edelweiss }),
        )
        .await;
    let grant = grants["data"]["node"]["grants"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["partner"]["name"] == "Alpine Voice AG")
        .unwrap()["id"]
        .clone();
    assert_no_errors(
        &app.gql(
            Some(&erika),
            "mutation($id: ID!) { revokeGrant(input: {id: $id}) { grant { status } } }",
            json!({ "id": grant }),
        )
        .await,
    );
    for token in [&anna, &erika, &vera, &world.token("fiona.finance@")] {
        assert!(
            kinds_of(&app, token).await.contains(&"PARTNER_BILLED_SUBSCRIPTIONS_STOPPING".to_string()),
            "the partner, the customer and staff are told"
        );
    }
    assert!(
        !kinds_of(&app, &world.token("sam@")).await.contains(&"PARTNER_BILLED_SUBSCRIPTIONS_STOPPING".to_string()),
        "billing news is for those who read bills"
    );
    // Still no raising, even with the partner gone.
    let raised = app.gql(Some(&erika), seats, json!({ "id": phones, "n": 100000 })).await;
    assert_eq!(error_code(&raised), "FORBIDDEN");
    // Anna still sees what Alpine pays for, read-only: she may stop it, not change it.
    let seen = node(&app, &anna, &phones).await;
    assert_eq!((seen["autoRenew"].as_bool(), seen["billedTo"].as_str()), (Some(false), Some("PARTNER")), "{seen}");
    assert_eq!(error_code(&app.gql(Some(&anna), seats, json!({ "id": phones, "n": 25 })).await), "FORBIDDEN");
    let cancel = "mutation($id: ID!) { cancelSubscription(input: {id: $id}) { subscription { cancelAtPeriodEnd } } }";
    assert_no_errors(&app.gql(Some(&anna), cancel, json!({ "id": phones })).await);
    // Alpine hands the Cloud PBX over; Edelweiss keeps it by turning renewal on: its own bill.
    let hand =
        "mutation($id: ID!) { handOverSubscriptionBilling(input: {id: $id}) { subscription { billedTo autoRenew } } }";
    let handed = app.gql(Some(&anna), hand, json!({ "id": pbx })).await;
    assert_eq!(
        handed["data"]["handOverSubscriptionBilling"]["subscription"],
        json!({ "billedTo": "CUSTOMER", "autoRenew": false })
    );
    assert!(node(&app, &anna, &pbx).await.is_null(), "once Alpine no longer pays, it no longer sees it");
    let renew = "mutation($id: ID!) { setAutoRenew(input: {id: $id, autoRenew: true}) { subscription { autoRenew } } }";
    assert_no_errors(&app.gql(Some(&erika), renew, json!({ "id": pbx })).await);

    // At the renewal: the phones end, the Cloud PBX renews on Edelweiss's bill; Alpine is not
    // billed for the next period of either.
    let end: chrono::DateTime<chrono::Utc> = app
        .gql(
            Some(&erika),
            "query($id: ID!) { node(id: $id) { ... on ProductSubscription { renewsAt } } }",
            json!({ "id": phones }),
        )
        .await["data"]["node"]["renewsAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.clock.advance(end - chrono::Utc::now() + TimeDelta::hours(1));
    partnerhub::service::subscriptions::run_renewals(&app.ctx).await.unwrap();
    assert_eq!(node(&app, &erika, &phones).await["status"], "CANCELLED");
    let kept = node(&app, &erika, &pbx).await;
    assert_eq!((kept["status"].as_str(), kept["billedTo"].as_str()), (Some("ACTIVE"), Some("CUSTOMER")));
    let period = (end + TimeDelta::days(1)).format("%Y-%m").to_string();
    let run = app
        .gql(Some(&vera), "mutation($p: String!) { runBilling(input: {period: $p}) { invoices { billToName lines { kind description } } } }", json!({ "p": period }))
        .await;
    assert_no_errors(&run);
    let invoices = run["data"]["runBilling"]["invoices"].as_array().unwrap();
    // Alpine still owes the seats it approved during the period, and no new period.
    let alpine_periods = invoices
        .iter()
        .filter(|i| i["billToName"] == "Alpine Voice AG")
        .flat_map(|i| i["lines"].as_array().unwrap().iter())
        .filter(|l| l["kind"] == "PERIOD")
        .count();
    assert_eq!(alpine_periods, 0, "Alpine pays for no new period: {run}");
    let edelweiss_lines: Vec<&Value> = invoices
        .iter()
        .filter(|i| i["billToName"] == "Edelweiss Dental")
        .flat_map(|i| i["lines"].as_array().unwrap().iter())
        .collect();
    assert!(edelweiss_lines.iter().any(|l| l["kind"] == "PERIOD"), "Edelweiss pays for what it kept: {run}");
}
