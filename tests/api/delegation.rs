//! Delegated access, as a generated table: actors × operations × grant states -> the outcome the
//! rules of SPEC §4 give. The oracle below states those rules plainly; the app must agree on
//! every cell.

use chrono::{TimeDelta, Utc};
use entity::{grant, grant_assignment, subscription};
use partnerhub::{
    domain::GrantStatus,
    ids::{self, NodeType},
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    None,
    PendingByPartner,
    PendingByCustomer,
    Active,
    Narrowed,
    Expired,
    Revoked,
    Ended,
}

const STATES: [State; 8] = [
    State::None,
    State::PendingByPartner,
    State::PendingByCustomer,
    State::Active,
    State::Narrowed,
    State::Expired,
    State::Revoked,
    State::Ended,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Staff,
    PartnerAdmin,
    AssignedEmployee,
    UnassignedEmployee,
    OtherPartnerAdmin,
    CustomerAdmin,
    CustomerMember,
    Distributor,
}

const ACTORS: [Actor; 9] = [
    Actor::Anonymous,
    Actor::Staff,
    Actor::PartnerAdmin,
    Actor::AssignedEmployee,
    Actor::UnassignedEmployee,
    Actor::OtherPartnerAdmin,
    Actor::CustomerAdmin,
    Actor::CustomerMember,
    Actor::Distributor,
];

pub const OPERATIONS: [&str; 18] = [
    "readCustomer",
    "readInvoices",
    "createSubscription",
    "changeSeats",
    "changePlan",
    "cancelSubscription",
    "resumeSubscription",
    "setAutoRenew",
    "requestCustomerAccess",
    "invitePartner",
    "acceptGrant",
    "approveGrant",
    "declineGrant",
    "updateGrant",
    "revokeGrant",
    "endGrant",
    "assignGrantMember",
    "unassignGrantMember",
];

fn live(s: State) -> bool {
    matches!(s, State::Active | State::Narrowed)
}

fn open(s: State) -> bool {
    live(s) || matches!(s, State::PendingByPartner | State::PendingByCustomer)
}

/// The rules, stated once more independently of the implementation.
fn expected(actor: Actor, op: &str, state: State) -> &'static str {
    use Actor::*;
    if actor == Anonymous {
        return "UNAUTHENTICATED";
    }
    match op {
        // A customer without a live grant looks like an unknown id; an assignment is needed
        // unless you are the partner's admin.
        "readCustomer" => match actor {
            Staff | CustomerAdmin | CustomerMember => "OK",
            PartnerAdmin if live(state) => "OK",
            AssignedEmployee if live(state) => "OK",
            // Baltic sees Hanse through its own grant.
            OtherPartnerAdmin => "OK",
            _ => "NULL",
        },
        // Billing on the account: staff and the customer's ADMIN; a partner user with
        // VIEW_BILLING through a live whole-account grant (Sam's assignment has no billing).
        "readInvoices" => match actor {
            Staff | CustomerAdmin | OtherPartnerAdmin => "OK",
            PartnerAdmin if live(state) => "OK",
            AssignedEmployee if live(state) => "NONE",
            CustomerMember => "NONE",
            _ => "NULL",
        },
        // Subscriptions: the customer's ADMIN, or a partner user with MANAGE_PRODUCTS there (the
        // narrowed grant keeps only VIEW_BILLING). Without a live grant the customer and its
        // subscriptions do not exist for the partner; Baltic holds its own grant on Hanse.
        "createSubscription" | "changeSeats" | "changePlan" | "cancelSubscription" | "resumeSubscription"
        | "setAutoRenew" => match actor {
            CustomerAdmin | OtherPartnerAdmin => "OK",
            PartnerAdmin | AssignedEmployee if state == State::Active => "OK",
            PartnerAdmin | AssignedEmployee if live(state) => "FORBIDDEN",
            Staff | CustomerMember => "FORBIDDEN",
            _ => "NOT_FOUND",
        },
        "requestCustomerAccess" => match actor {
            PartnerAdmin | AssignedEmployee if open(state) => "CONFLICT",
            PartnerAdmin | AssignedEmployee => "OK",
            // Baltic already holds an active grant on Hanse.
            OtherPartnerAdmin => "CONFLICT",
            _ => "FORBIDDEN",
        },
        "invitePartner" => match actor {
            CustomerAdmin if open(state) => "CONFLICT",
            CustomerAdmin => "OK",
            _ => "FORBIDDEN",
        },
        _ if state == State::None => "NOT_FOUND",
        // Grants are visible to staff and to the members of both sides only.
        _ if matches!(actor, OtherPartnerAdmin | Distributor) => "NOT_FOUND",
        "acceptGrant" => match (actor, state) {
            (PartnerAdmin, State::PendingByCustomer) => "OK",
            (PartnerAdmin, State::PendingByPartner) => "FORBIDDEN",
            (PartnerAdmin, _) => "CONFLICT",
            _ => "FORBIDDEN",
        },
        "approveGrant" => match (actor, state) {
            (CustomerAdmin, State::PendingByPartner) => "OK",
            (CustomerAdmin, State::PendingByCustomer) => "FORBIDDEN",
            (CustomerAdmin, _) => "CONFLICT",
            _ => "FORBIDDEN",
        },
        "declineGrant" => match (actor, state) {
            (PartnerAdmin, State::PendingByCustomer) | (CustomerAdmin, State::PendingByPartner) => "OK",
            (CustomerAdmin, s) if s != State::PendingByCustomer => "CONFLICT",
            _ => "FORBIDDEN",
        },
        "updateGrant" => match actor {
            CustomerAdmin if live(state) => "OK",
            CustomerAdmin => "CONFLICT",
            _ => "FORBIDDEN",
        },
        "revokeGrant" => match actor {
            CustomerAdmin if live(state) || state == State::PendingByCustomer => "OK",
            CustomerAdmin => "CONFLICT",
            _ => "FORBIDDEN",
        },
        "endGrant" => match actor {
            PartnerAdmin if live(state) || state == State::PendingByPartner => "OK",
            PartnerAdmin => "CONFLICT",
            _ => "FORBIDDEN",
        },
        "assignGrantMember" => match actor {
            PartnerAdmin if live(state) => "OK",
            PartnerAdmin => "CONFLICT",
            _ => "FORBIDDEN",
        },
        "unassignGrantMember" => match actor {
            PartnerAdmin => "OK",
            _ => "FORBIDDEN",
        },
        other => panic!("no rule for {other}"),
    }
}

struct World {
    app: TestApp,
    tokens: Vec<(Actor, Option<String>)>,
    alpine: Uuid,
    hanse: Uuid,
    sam: Uuid,
    chris: Uuid,
    /// Hanse's own subscription (no managing partner), and the plans to move it between.
    subscription: Uuid,
    base_plan: String,
    upgrade_plan: String,
}

async fn user_id(app: &TestApp, token: &str) -> Uuid {
    let me = app.gql(Some(token), "{ viewer { user { id } } }", json!({})).await;
    ids::decode(me["data"]["viewer"]["user"]["id"].as_str().unwrap()).unwrap().1
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let vera = demo.token("vera.admin@");
    let hans = demo.token("hans@");
    let hanse_gid = organization_id(&app, &vera, "Hanse Logistik GmbH").await;
    let alpine_gid = organization_id(&app, &vera, "Alpine Voice AG").await;
    let member = app
        .gql(
            Some(&hans),
            "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { token } }",
            json!({ "i": { "organizationId": hanse_gid, "name": "reader", "role": "MEMBER" } }),
        )
        .await["data"]["createServiceAccount"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let alpine = ids::decode(&alpine_gid).unwrap().1;
    // An Alpine employee with one membership and no assignment.
    let technician = app
        .gql(
            Some(&demo.token("anna@")),
            "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { token } }",
            json!({ "i": { "organizationId": alpine_gid, "name": "technician", "role": "TECHNICAL" } }),
        )
        .await["data"]["createServiceAccount"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let sam = user_id(&app, &demo.token("sam@")).await;
    let chris = user_id(&app, &demo.token("chris@")).await;
    let catalog = app.gql(Some(&hans), "{ products { nodes { sku plans { id code } } } }", json!({})).await;
    let plans =
        catalog["data"]["products"]["nodes"].as_array().unwrap().iter().find(|p| p["sku"] == "CPBX").unwrap()["plans"]
            .clone();
    let (base_plan, upgrade_plan) =
        (plans[0]["id"].as_str().unwrap().to_string(), plans[1]["id"].as_str().unwrap().to_string());
    let own = app
        .gql(
            Some(&hans),
            "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }",
            json!({ "i": { "customerId": hanse_gid, "planId": base_plan, "seats": 5, "billedTo": "CUSTOMER", "idempotencyKey": "hanse-own" } }),
        )
        .await;
    let subscription =
        ids::decode(own["data"]["createSubscription"]["subscription"]["id"].as_str().unwrap()).unwrap().1;
    // Hanse's own invoice for this month (its other subscriptions are billed to Baltic).
    let period = Utc::now().format("%Y-%m").to_string();
    let billed = app
        .gql(
            Some(&vera),
            "mutation($p: String!) { runBilling(input: {period: $p}) { invoices { number } } }",
            json!({ "p": period }),
        )
        .await;
    assert_eq!(billed["data"]["runBilling"]["invoices"].as_array().unwrap().len(), 1, "{billed}");
    let tokens = vec![
        (Actor::Anonymous, None),
        (Actor::Staff, Some(vera)),
        (Actor::PartnerAdmin, Some(demo.token("anna@"))),
        (Actor::AssignedEmployee, Some(demo.token("sam@"))),
        (Actor::UnassignedEmployee, Some(technician)),
        (Actor::OtherPartnerAdmin, Some(demo.token("bruno@"))),
        (Actor::CustomerAdmin, Some(hans)),
        (Actor::CustomerMember, Some(member)),
        (Actor::Distributor, Some(demo.token("dora@"))),
    ];
    World {
        hanse: ids::decode(&hanse_gid).unwrap().1,
        app,
        tokens,
        alpine,
        sam,
        chris,
        subscription,
        base_plan,
        upgrade_plan,
    }
}

/// Closes whatever Alpine and Hanse have between them, then makes a grant in `state` (with Sam
/// assigned) directly in the database; puts Hanse's subscription back as it was (cancelled
/// when the operation is to resume it).
async fn prepare(w: &World, state: State, op: &str) -> Option<Uuid> {
    let db = &w.app.ctx.db;
    let now = Utc::now() + TimeDelta::seconds(1);
    let base = ids::decode(&w.base_plan).unwrap().1;
    subscription::Entity::update_many()
        .col_expr(subscription::Column::Seats, Expr::value(5))
        .col_expr(subscription::Column::PlanId, Expr::value(base))
        .col_expr(subscription::Column::PendingPlanId, Expr::value(Option::<Uuid>::None))
        .col_expr(subscription::Column::CancelAtPeriodEnd, Expr::value(op == "resumeSubscription"))
        .col_expr(subscription::Column::AutoRenew, Expr::value(true))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(w.subscription))
        .exec(db)
        .await
        .unwrap();
    grant::Entity::update_many()
        .col_expr(grant::Column::Status, Expr::value("ENDED"))
        .col_expr(grant::Column::EndsAt, Expr::value(now - TimeDelta::days(1)))
        .filter(grant::Column::PartnerId.eq(w.alpine))
        .filter(grant::Column::CustomerId.eq(w.hanse))
        .exec(db)
        .await
        .unwrap();
    if state == State::None {
        return None;
    }
    let (status, side, rights, ends_at) = match state {
        State::PendingByPartner => ("PENDING", "PARTNER", 15, now + TimeDelta::days(90)),
        State::PendingByCustomer => ("PENDING", "CUSTOMER", 15, now + TimeDelta::days(90)),
        State::Active => ("ACTIVE", "PARTNER", 15, now + TimeDelta::days(30)),
        State::Narrowed => ("ACTIVE", "PARTNER", 2, now + TimeDelta::days(30)),
        // Past its end, but the expiry job has not run: it must give nothing all the same.
        State::Expired => ("ACTIVE", "PARTNER", 15, now - TimeDelta::seconds(5)),
        State::Revoked => ("REVOKED", "PARTNER", 15, now - TimeDelta::days(1)),
        State::Ended | State::None => ("ENDED", "PARTNER", 15, now - TimeDelta::days(1)),
    };
    let id = Uuid::now_v7();
    grant::ActiveModel {
        id: Set(id),
        partner_id: Set(w.alpine),
        customer_id: Set(w.hanse),
        status: Set(GrantStatus::parse(status).unwrap()),
        rights: Set(rights),
        scope: Set(partnerhub::domain::GrantScope::Account),
        requested_by: Set(partnerhub::domain::GrantSide::parse(side).unwrap()),
        starts_at: Set(now - TimeDelta::days(1)),
        ends_at: Set(ends_at),
        auto_extend: Set(false),
        created_at: Set(now - TimeDelta::days(1)),
        updated_at: Set(now),
        duration_days: Set(60),
        message: Set(None),
        requested_by_user_id: Set(None),
        auto_extended_at: Set(None),
        expiry_warned_at: Set(None),
        customer_hidden: Set(false),
    }
    .insert(db)
    .await
    .unwrap();
    grant_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        grant_id: Set(id),
        user_id: Set(w.sam),
        rights: Set(1),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    Some(id)
}

fn request(w: &World, op: &str, grant: &str) -> (String, Value) {
    let hanse = ids::encode(NodeType::Organization, w.hanse);
    let alpine = ids::encode(NodeType::Organization, w.alpine);
    let sub = ids::encode(NodeType::ProductSubscription, w.subscription);
    let by_id = |name: &str| {
        (format!("mutation($id: ID!) {{ {name}(input: {{id: $id}}) {{ grant {{ id }} }} }}"), json!({ "id": grant }))
    };
    match op {
        "readCustomer" => ("query($id: ID!) { customer(id: $id) { id } }".into(), json!({ "id": hanse })),
        "readInvoices" => {
            ("query($id: ID!) { customer(id: $id) { invoices { totalCount } } }".into(), json!({ "id": hanse }))
        }
        "createSubscription" => (
            "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }".into(),
            json!({ "i": { "customerId": hanse, "planId": w.base_plan, "seats": 3, "billedTo": "CUSTOMER", "idempotencyKey": Uuid::now_v7().to_string() } }),
        ),
        "changeSeats" => (
            "mutation($id: ID!) { changeSeats(input: {id: $id, seats: 7}) { subscription { seats } } }".into(),
            json!({ "id": sub }),
        ),
        "changePlan" => (
            "mutation($id: ID!, $p: ID!) { changePlan(input: {id: $id, planId: $p}) { subscription { id } } }".into(),
            json!({ "id": sub, "p": w.upgrade_plan }),
        ),
        "cancelSubscription" | "resumeSubscription" => (
            format!("mutation($id: ID!) {{ {op}(input: {{id: $id}}) {{ subscription {{ cancelAtPeriodEnd }} }} }}"),
            json!({ "id": sub }),
        ),
        "setAutoRenew" => (
            "mutation($id: ID!) { setAutoRenew(input: {id: $id, autoRenew: false}) { subscription { autoRenew } } }".into(),
            json!({ "id": sub }),
        ),
        "requestCustomerAccess" => (
            "mutation($id: ID!) { requestCustomerAccess(input: {customerId: $id, rights: [VIEW_BILLING]}) { grant { id } } }".into(),
            json!({ "id": hanse }),
        ),
        "invitePartner" => (
            "mutation($id: ID!) { invitePartner(input: {partnerId: $id, rights: [VIEW_BILLING]}) { grant { id } } }".into(),
            json!({ "id": alpine }),
        ),
        "assignGrantMember" => (
            "mutation($g: ID!, $u: ID!) { assignGrantMember(input: {grantId: $g, userId: $u, rights: [VIEW_BILLING]}) { grant { id } } }".into(),
            json!({ "g": grant, "u": ids::encode(NodeType::User, w.chris) }),
        ),
        "unassignGrantMember" => (
            "mutation($g: ID!, $u: ID!) { unassignGrantMember(input: {grantId: $g, userId: $u}) { grant { id } } }".into(),
            json!({ "g": grant, "u": ids::encode(NodeType::User, w.sam) }),
        ),
        name => by_id(name),
    }
}

fn outcome(op: &str, body: &Value) -> String {
    if body.get("errors").is_some() {
        return error_code(body).to_string();
    }
    if matches!(op, "readCustomer" | "readInvoices") && body["data"]["customer"].is_null() {
        return "NULL".into();
    }
    if op == "readInvoices" && body["data"]["customer"]["invoices"]["totalCount"] == 0 {
        return "NONE".into();
    }
    "OK".into()
}

#[tokio::test]
async fn actors_by_operations_by_grant_states() {
    let w = world().await;
    assert_eq!(w.tokens.iter().map(|(a, _)| *a).collect::<Vec<_>>(), ACTORS, "every actor has a token");
    let mut failures = Vec::new();
    let mut cells = 0;
    for state in STATES {
        for (actor, token) in &w.tokens {
            for op in OPERATIONS {
                let grant = prepare(&w, state, op).await.unwrap_or_else(Uuid::now_v7);
                let (query, variables) = request(&w, op, &ids::encode(NodeType::Grant, grant));
                let body = w.app.gql(token.as_deref(), &query, variables).await;
                let got = outcome(op, &body);
                let want = expected(*actor, op, state);
                cells += 1;
                if got != want {
                    failures.push(format!("{state:?} {actor:?} {op}: expected {want}, got {got} {body}"));
                }
            }
        }
    }
    assert_eq!(cells, 8 * 9 * OPERATIONS.len());
    assert!(failures.is_empty(), "{} of {cells} cells differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_grant_mutation_is_in_the_table() {
    let sdl = partnerhub::graphql::sdl();
    for name in [
        "acceptGrant",
        "approveGrant",
        "declineGrant",
        "updateGrant",
        "revokeGrant",
        "endGrant",
        "assignGrantMember",
        "unassignGrantMember",
        "requestCustomerAccess",
        "invitePartner",
        "createSubscription",
        "changeSeats",
        "changePlan",
        "cancelSubscription",
        "resumeSubscription",
        "setAutoRenew",
    ] {
        assert!(sdl.contains(&format!("\t{name}(")), "{name} is gone from the schema");
        assert!(OPERATIONS.contains(&name), "{name} has no rows");
    }
}
