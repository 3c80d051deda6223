//! Customers and grants as partners and customers use them.

use chrono::TimeDelta;
use entity::{audit_event, grant};
use partnerhub::jobs;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;

const CREATE: &str = "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) {
    customer { id name viewerRights } grant { id status rights endsAt } invitation { email role } invitationToken } }";
const RIGHTS: &str = "query($id: ID!) { customer(id: $id) { name viewerRights viewerGrant { status rights } } }";

fn gid(body: &Value, path: &[&str]) -> String {
    let mut v = body;
    for p in path {
        v = &v[*p];
    }
    v.as_str().unwrap_or_else(|| panic!("no {path:?} in {body}")).to_string()
}

#[tokio::test]
async fn a_partner_creates_a_customer_with_access_and_an_invited_admin() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let body = app
        .gql(Some(&anna), CREATE, json!({ "i": { "name": "Jura Bakery", "country": "CH", "adminEmail": "boss@jura.example", "vatNumber": "CHE111222333" } }))
        .await;
    assert_no_errors(&body);
    let created = &body["data"]["createCustomer"];
    assert_eq!(created["grant"]["status"], "ACTIVE");
    assert_eq!(created["grant"]["rights"].as_array().unwrap().len(), 4);
    assert_eq!(created["invitation"]["role"], "ADMIN");
    assert_eq!(created["customer"]["viewerRights"].as_array().unwrap().len(), 4);

    let list = app
        .gql(Some(&anna), "{ customers(filter: {search: \"jura\"}) { totalCount nodes { name } } }", json!({}))
        .await;
    assert_eq!(list["data"]["customers"]["totalCount"], 1);

    // Sam (SALES) creates one too, and keeps acting for it through an assignment.
    let sam = world.token("sam@");
    let body = app
        .gql(
            Some(&sam),
            CREATE,
            json!({ "i": { "name": "Sion Dairy", "country": "CH", "adminEmail": "a@sion.example" } }),
        )
        .await;
    assert_no_errors(&body);
    let id = gid(&body, &["data", "createCustomer", "customer", "id"]);
    let rights = app.gql(Some(&sam), RIGHTS, json!({ "id": id })).await;
    assert_eq!(
        rights["data"]["customer"]["viewerRights"],
        json!(["MANAGE_PRODUCTS", "VIEW_BILLING"]),
        "SALES role mask"
    );

    // Not for the technician, not for other partners.
    let other = app.gql(Some(&world.token("bruno@")), RIGHTS, json!({ "id": id })).await;
    assert!(other["data"]["customer"].is_null());

    let events = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("grant.created"))
        .count(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(events, 2);
}

#[tokio::test]
async fn duplicates_are_refused_without_naming_the_existing_customer() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let first = app.gql(Some(&anna), CREATE, json!({ "i": { "name": "Lake Clinic", "country": "CH", "adminEmail": "a@lake.example", "vatNumber": "CHE999888777" } })).await;
    assert_no_errors(&first);
    let existing = gid(&first, &["data", "createCustomer", "customer", "id"]);

    // Another partner, the same VAT number written differently: told that the customer exists,
    // not who it is (that would tell Bruno whose customer it is).
    let bruno = world.token("bruno@");
    let dup = app.gql(Some(&bruno), CREATE, json!({ "i": { "name": "Lakeside", "country": "CH", "adminEmail": "b@lake.example", "vatNumber": "che 999 888 777" } })).await;
    assert_eq!(error_code(&dup), "CONFLICT");
    assert_eq!(dup["errors"][0]["extensions"]["field"], "vatNumber");
    for leak in ["Lake Clinic", existing.as_str(), "a@lake.example", "existingOrganization"] {
        assert!(!dup.to_string().contains(leak), "{leak} leaks: {dup}");
    }
    let customers = app
        .gql(Some(&world.token("vera.admin@")), "{ organizations(filter: {kind: CUSTOMER}) { totalCount } }", json!({}))
        .await;
    assert_eq!(customers["data"]["organizations"]["totalCount"], 7, "nothing was created");

    // Bruno asks for access by that VAT number instead; who the customer is stays unsaid.
    let asked = app
        .gql(Some(&bruno), "mutation { requestCustomerAccess(input: {vatNumber: \"CHE-999.888.777\", rights: [VIEW_BILLING], message: \"we resell your phones\"}) { grant { id status customerId customer { name } } } }", json!({}))
        .await;
    assert_no_errors(&asked);
    let grant = &asked["data"]["requestCustomerAccess"]["grant"];
    assert_eq!(grant["status"], "PENDING");
    assert!(grant["customerId"].is_null() && grant["customer"].is_null(), "{asked}");
    let hidden = app.gql(Some(&bruno), RIGHTS, json!({ "id": existing })).await;
    assert!(hidden["data"]["customer"].is_null());

    // Search never reaches customers without a grant.
    let search = app.gql(Some(&bruno), "{ customers(filter: {search: \"lake\"}) { totalCount } }", json!({})).await;
    assert_eq!(search["data"]["customers"]["totalCount"], 0);
}

async fn grant_between(app: &TestApp, partner_token: &str, customer: &str, rights: &str) -> String {
    let body = app
        .gql(
            Some(partner_token),
            &format!("mutation($id: ID!) {{ requestCustomerAccess(input: {{customerId: $id, rights: {rights}, durationDays: 30}}) {{ grant {{ id }} }} }}"),
            json!({ "id": customer }),
        )
        .await;
    gid(&body, &["data", "requestCustomerAccess", "grant", "id"])
}

#[tokio::test]
async fn request_approve_narrow_revoke_and_ask_again() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let hans = world.token("hans@");
    let vera = world.token("vera.admin@");
    let hanse = organization_id(&app, &vera, "Hanse Logistik GmbH").await;

    let g = grant_between(&app, &anna, &hanse, "[MANAGE_PRODUCTS, VIEW_BILLING, MANAGE_USERS]").await;
    // A pending grant gives nothing.
    assert!(app.gql(Some(&anna), RIGHTS, json!({ "id": hanse })).await["data"]["customer"].is_null());

    // The customer sees the request and approves less than was asked.
    let pending = app.gql(Some(&hans), "query($id: ID!) { node(id: $id) { ... on Organization { grants(filter: {status: PENDING}) { nodes { id partner { name } rights } } } } }", json!({ "id": hanse })).await;
    assert_eq!(pending["data"]["node"]["grants"]["nodes"][0]["partner"]["name"], "Alpine Voice AG");
    let widen = app
        .gql(
            Some(&hans),
            "mutation($id: ID!) { approveGrant(input: {id: $id, rights: [MANAGE_BILLING]}) { grant { status } } }",
            json!({ "id": g }),
        )
        .await;
    assert_eq!(widen["errors"][0]["extensions"]["field"], "rights");
    let approved = app.gql(Some(&hans), "mutation($id: ID!) { approveGrant(input: {id: $id, rights: [MANAGE_PRODUCTS, VIEW_BILLING]}) { grant { status rights } } }", json!({ "id": g })).await;
    assert_eq!(approved["data"]["approveGrant"]["grant"]["status"], "ACTIVE");
    let rights = app.gql(Some(&anna), RIGHTS, json!({ "id": hanse })).await;
    assert_eq!(rights["data"]["customer"]["viewerRights"], json!(["MANAGE_PRODUCTS", "VIEW_BILLING"]));

    // Staff it: Sam gets products only.
    let sam_id = {
        let me = app.gql(Some(&world.token("sam@")), "{ viewer { user { id } } }", json!({})).await;
        gid(&me, &["data", "viewer", "user", "id"])
    };
    let bad = app.gql(Some(&anna), "mutation($g: ID!, $u: ID!) { assignGrantMember(input: {grantId: $g, userId: $u, rights: [MANAGE_USERS]}) { grant { id } } }", json!({ "g": g, "u": sam_id })).await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "rights", "only a subset of the grant");
    app.gql(Some(&anna), "mutation($g: ID!, $u: ID!) { assignGrantMember(input: {grantId: $g, userId: $u, rights: [MANAGE_PRODUCTS]}) { grant { id } } }", json!({ "g": g, "u": sam_id })).await;
    let sam = app.gql(Some(&world.token("sam@")), RIGHTS, json!({ "id": hanse })).await;
    assert_eq!(sam["data"]["customer"]["viewerRights"], json!(["MANAGE_PRODUCTS"]));
    // Who staffs the grant is the partner's business, not the customer's.
    let staffing = "query($id: ID!) { node(id: $id) { ... on Grant { assignments { totalCount } } } }";
    assert_eq!(
        app.gql(Some(&anna), staffing, json!({ "id": g })).await["data"]["node"]["assignments"]["totalCount"],
        1
    );
    assert_eq!(
        app.gql(Some(&hans), staffing, json!({ "id": g })).await["data"]["node"]["assignments"]["totalCount"],
        0
    );

    // Narrowed by the customer: effective on the next request.
    app.gql(
        Some(&hans),
        "mutation($id: ID!) { updateGrant(input: {id: $id, rights: [VIEW_BILLING]}) { grant { id } } }",
        json!({ "id": g }),
    )
    .await;
    let rights = app.gql(Some(&anna), RIGHTS, json!({ "id": hanse })).await;
    assert_eq!(rights["data"]["customer"]["viewerRights"], json!(["VIEW_BILLING"]));
    let sam = app.gql(Some(&world.token("sam@")), RIGHTS, json!({ "id": hanse })).await;
    assert_eq!(sam["data"]["customer"]["viewerRights"], json!([]));

    // Revoked: gone for the partner, on the next request, on another node too.
    let node_b = app.second_node().await;
    assert!(!node_b.gql(Some(&anna), RIGHTS, json!({ "id": hanse })).await["data"]["customer"].is_null());
    app.gql(
        Some(&hans),
        "mutation($id: ID!) { revokeGrant(input: {id: $id}) { grant { status } } }",
        json!({ "id": g }),
    )
    .await;
    assert!(node_b.gql(Some(&anna), RIGHTS, json!({ "id": hanse })).await["data"]["customer"].is_null());

    // A new relationship starts with nobody assigned.
    let again = grant_between(&app, &anna, &hanse, "[MANAGE_PRODUCTS]").await;
    app.gql(
        Some(&hans),
        "mutation($id: ID!) { approveGrant(input: {id: $id}) { grant { status } } }",
        json!({ "id": again }),
    )
    .await;
    let sam = app.gql(Some(&world.token("sam@")), RIGHTS, json!({ "id": hanse })).await;
    assert!(sam["data"]["customer"].is_null());
    let history = app.gql(Some(&hans), "query($id: ID!) { node(id: $id) { ... on Grant { history { nodes { action actorName actingOrganizationName } } } } }", json!({ "id": g })).await;
    let actions: Vec<_> = history["data"]["node"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["grant.requested", "grant.approved", "grant.member_assigned", "grant.updated", "grant.revoked"]
    );
    assert_eq!(history["data"]["node"]["history"]["nodes"][0]["actingOrganizationName"], "Alpine Voice AG");
}

#[tokio::test]
async fn a_customer_offers_access_and_the_partner_accepts() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let hanse = organization_id(&app, &vera, "Hanse Logistik GmbH").await;
    let offer = app
        .gql(Some(&world.token("hans@")), "mutation($id: ID!) { invitePartner(input: {partnerId: $id, rights: [VIEW_BILLING], autoExtend: true}) { grant { id status requestedBy } } }", json!({ "id": alpine }))
        .await;
    assert_eq!(offer["data"]["invitePartner"]["grant"]["requestedBy"], "CUSTOMER");
    let g = gid(&offer, &["data", "invitePartner", "grant", "id"]);
    let accepted = app
        .gql(
            Some(&world.token("anna@")),
            "mutation($id: ID!) { acceptGrant(input: {id: $id}) { grant { status } } }",
            json!({ "id": g }),
        )
        .await;
    assert_eq!(accepted["data"]["acceptGrant"]["grant"]["status"], "ACTIVE");
    assert!(!app.gql(Some(&world.token("anna@")), RIGHTS, json!({ "id": hanse })).await["data"]["customer"].is_null());

    // Auto-extension never goes with MANAGE_USERS.
    let refused = app
        .gql(Some(&world.token("hans@")), "mutation($id: ID!) { invitePartner(input: {partnerId: $id, rights: [MANAGE_USERS], autoExtend: true}) { grant { id } } }", json!({ "id": organization_id(&app, &vera, "Celtic Comms Ltd").await }))
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "autoExtend");
}

#[tokio::test]
async fn a_grant_gives_nothing_from_the_second_it_expires_and_extends_once() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let hans = world.token("hans@");
    let hanse = organization_id(&app, &world.token("vera.admin@"), "Hanse Logistik GmbH").await;
    let g = grant_between(&app, &anna, &hanse, "[VIEW_BILLING]").await;
    let approved = app
        .gql(
            Some(&hans),
            "mutation($id: ID!) { approveGrant(input: {id: $id}) { grant { endsAt } } }",
            json!({ "id": g }),
        )
        .await;
    let ends_at: chrono::DateTime<chrono::Utc> =
        approved["data"]["approveGrant"]["grant"]["endsAt"].as_str().unwrap().parse().unwrap();

    let until_end = ends_at - app.ctx.clock.now();
    app.clock.advance(until_end - TimeDelta::seconds(1));
    assert!(
        !app.gql(Some(&anna), RIGHTS, json!({ "id": hanse })).await["data"]["customer"].is_null(),
        "one second before"
    );
    app.clock.advance(TimeDelta::seconds(1));
    assert!(
        app.gql(Some(&anna), RIGHTS, json!({ "id": hanse })).await["data"]["customer"].is_null(),
        "at expiry, job or no job"
    );

    // Two nodes running the job at once expire it once.
    let (a, b) = tokio::join!(jobs::grants::run_expiry(&app.ctx), jobs::grants::run_expiry(&app.ctx));
    assert_eq!(a.unwrap().expired + b.unwrap().expired, 1);
    let expired = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("grant.expired"))
        .count(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(expired, 1);
    let row = grant::Entity::find().filter(grant::Column::Status.eq("EXPIRED")).count(&app.ctx.db).await.unwrap();
    assert_eq!(row, 1);

    // An auto-extending grant is extended once by six months, then expires.
    let offer = app
        .gql(Some(&hans), "mutation($id: ID!) { invitePartner(input: {partnerId: $id, rights: [VIEW_BILLING], durationDays: 10, autoExtend: true}) { grant { id } } }", json!({ "id": organization_id(&app, &world.token("vera.admin@"), "Celtic Comms Ltd").await }))
        .await;
    let g = gid(&offer, &["data", "invitePartner", "grant", "id"]);
    app.gql(
        Some(&world.token("cara@")),
        "mutation($id: ID!) { acceptGrant(input: {id: $id}) { grant { id } } }",
        json!({ "id": g }),
    )
    .await;
    app.clock.advance(TimeDelta::days(11));
    assert_eq!(jobs::grants::run_expiry(&app.ctx).await.unwrap().extended, 1);
    assert_eq!(jobs::grants::run_expiry(&app.ctx).await.unwrap().extended, 0);
    app.clock.advance(TimeDelta::days(200));
    let last = jobs::grants::run_expiry(&app.ctx).await.unwrap();
    assert_eq!(last.extended, 0);
    assert!(last.expired >= 1);
}

#[tokio::test]
async fn the_audit_trail_is_read_by_the_rules() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let vera = world.token("vera.admin@");
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let fjord = organization_id(&app, &vera, "Fjord Freight AS").await;
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;

    // On behalf of Edelweiss (MANAGE_USERS): invite one of its users.
    let invited = app
        .gql(
            Some(&anna),
            "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { invitation { id } } }",
            json!({ "i": { "organizationId": edelweiss, "email": "new@edelweiss-dental.example", "role": "MEMBER" } }),
        )
        .await;
    assert_no_errors(&invited);
    // Not on Fjord, whose grant lacks MANAGE_USERS.
    let refused = app
        .gql(
            Some(&anna),
            "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { invitation { id } } }",
            json!({ "i": { "organizationId": fjord, "email": "x@fjordfreight.example", "role": "MEMBER" } }),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");

    // And remove one of its users: the grant makes Edelweiss's members visible to Anna, not Fjord's.
    app.gql(
        Some(&world.token("erika@")),
        "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { token } }",
        json!({ "i": { "organizationId": edelweiss, "name": "old scanner", "role": "MEMBER" } }),
    )
    .await;
    let members =
        "query($id: ID!) { node(id: $id) { ... on Organization { members { totalCount nodes { id role } } } } }";
    let seen = app.gql(Some(&anna), members, json!({ "id": edelweiss })).await;
    assert_eq!(seen["data"]["node"]["members"]["totalCount"], 2, "{seen}");
    let scanner = seen["data"]["node"]["members"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "MEMBER")
        .unwrap()["id"]
        .clone();
    let removed = app
        .gql(
            Some(&anna),
            "mutation($id: ID!) { removeMember(input: {membershipId: $id}) { removedMembershipId } }",
            json!({ "id": scanner }),
        )
        .await;
    assert_no_errors(&removed);
    let hidden = app.gql(Some(&anna), members, json!({ "id": fjord })).await;
    assert_eq!(hidden["data"]["node"]["members"]["totalCount"], 0);

    let trail = "query($id: ID!) { auditEvents(organizationId: $id) { totalCount nodes { action actorName actingOrganizationName customerId } } }";
    let erika = app.gql(Some(&world.token("erika@")), trail, json!({ "id": edelweiss })).await;
    assert_no_errors(&erika);
    let nodes = erika["data"]["auditEvents"]["nodes"].as_array().unwrap();
    let on_behalf = nodes
        .iter()
        .find(|n| n["action"] == "invitation.created")
        .expect("the partner's action is on the customer's trail");
    assert_eq!(on_behalf["actorName"], "Anna Alpine");
    assert_eq!(on_behalf["actingOrganizationName"], "Alpine Voice AG");
    let removal = nodes.iter().find(|n| n["action"] == "membership.removed").expect("the removal is on the trail");
    assert_eq!(removal["actorName"], "Anna Alpine");

    let own = app.gql(Some(&anna), trail, json!({ "id": alpine })).await;
    assert!(
        own["data"]["auditEvents"]["nodes"].as_array().unwrap().iter().any(|n| n["action"] == "invitation.created")
    );
    // Another organisation's trail does not exist for you.
    assert_eq!(error_code(&app.gql(Some(&anna), trail, json!({ "id": edelweiss })).await), "NOT_FOUND");
    assert_eq!(error_code(&app.gql(Some(&world.token("bruno@")), trail, json!({ "id": alpine })).await), "NOT_FOUND");
    assert!(
        app.gql(Some(&vera), trail, json!({ "id": edelweiss })).await["data"]["auditEvents"]["totalCount"]
            .as_i64()
            .unwrap()
            >= 2
    );

    // Events cannot be changed or deleted through the API.
    let sdl = partnerhub::graphql::sdl();
    let mutations = sdl.split("type Mutation {").nth(1).unwrap().split('}').next().unwrap().to_lowercase();
    assert!(!mutations.contains("audit"));
}

#[tokio::test]
async fn listing_100_customers_with_grants_and_rights_costs_a_constant_number_of_statements() {
    let app = TestApp::spawn_counting(|_| {}).await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    for i in 0..98 {
        let body = app
            .gql(Some(&anna), CREATE, json!({ "i": { "name": format!("Client {i:03}"), "country": "FR", "adminEmail": format!("a{i}@client.example"), "domain": format!("client{i}.example") } }))
            .await;
        assert_no_errors(&body);
    }
    let query = "query($n: Int) { customers(first: $n) { totalCount nodes { name viewerRights primaryDomain { name verified } superAdmin { displayName email } subscriptionSummary { plans licences nextRenewalAt } viewerGrant { status rights endsAt partner { name } } } } }";
    app.gql(Some(&anna), "{ __typename }", json!({})).await;
    let (small, body) = app.read_statements(Some(&anna), query, json!({ "n": 5 })).await;
    assert_no_errors(&body);
    let (large, body) = app.read_statements(Some(&anna), query, json!({ "n": 100 })).await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["customers"]["totalCount"], 100);
    assert_eq!(body["data"]["customers"]["nodes"].as_array().unwrap().len(), 100);
    assert_eq!(small, large, "statements must not grow with the page");
    // token, memberships, page, count, rights, domains, super-admins, subscriptions, their
    // plans, grants, partner
    assert!(large <= 11, "{large}");
}

async fn subscription(app: &TestApp, customer: &str, sku: &str) -> String {
    use entity::{product, subscription};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let now = chrono::Utc::now();
    let customer = partnerhub::ids::decode(customer).unwrap().1;
    let product = match product::Entity::find().filter(product::Column::Sku.eq(sku)).one(&app.ctx.db).await.unwrap() {
        Some(p) => p,
        None => product::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            sku: Set(sku.into()),
            name: Set(format!("Product {sku}")),
            product_line: Set("D7xx".into()),
            active: Set(true),
            created_at: Set(now),
        }
        .insert(&app.ctx.db)
        .await
        .unwrap(),
    };
    let row = subscription::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        customer_id: Set(customer),
        product_id: Set(product.id),
        seats: Set(10),
        status: Set(partnerhub::domain::SubscriptionStatus::Active),
        created_at: Set(now),
        updated_at: Set(now),
        // A bare row: listing and scoping need no plan.
        plan_id: Set(None),
        partner_id: Set(None),
        billed_to: Set(partnerhub::domain::BilledTo::Customer),
        started_at: Set(None),
        current_period_start: Set(None),
        current_period_end: Set(None),
        auto_renew: Set(true),
        cancel_at_period_end: Set(false),
        pending_plan_id: Set(None),
    }
    .insert(&app.ctx.db)
    .await
    .unwrap();
    partnerhub::ids::encode(partnerhub::ids::NodeType::ProductSubscription, row.id)
}

#[tokio::test]
async fn a_grant_limited_to_one_subscription_shows_that_subscription_and_no_other() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let hans = world.token("hans@");
    let vera = world.token("vera.admin@");
    let hanse = organization_id(&app, &vera, "Hanse Logistik GmbH").await;
    let phones = subscription(&app, &hanse, "T-D785").await;
    let pbx = subscription(&app, &hanse, "T-PBX").await;
    let elsewhere = subscription(&app, &organization_id(&app, &vera, "Iberia Clinics SL").await, "T-D785").await;

    let ask = "mutation($id: ID!, $s: [ID!]) { requestCustomerAccess(input: {customerId: $id, rights: [MANAGE_PRODUCTS], scope: {kind: SUBSCRIPTIONS, subscriptionIds: $s}}) { grant { id scope } } }";
    let foreign = app.gql(Some(&anna), ask, json!({ "id": hanse, "s": [phones, elsewhere] })).await;
    assert_eq!(foreign["errors"][0]["extensions"]["field"], "scope", "{foreign}");
    let asked = app.gql(Some(&anna), ask, json!({ "id": hanse, "s": [phones] })).await;
    assert_eq!(asked["data"]["requestCustomerAccess"]["grant"]["scope"], "SUBSCRIPTIONS");
    let g = gid(&asked, &["data", "requestCustomerAccess", "grant", "id"]);

    // The customer may narrow the scope, not widen it.
    let wider = app
        .gql(Some(&hans), "mutation($id: ID!, $s: [ID!]) { approveGrant(input: {id: $id, scope: {kind: SUBSCRIPTIONS, subscriptionIds: $s}}) { grant { id } } }", json!({ "id": g, "s": [pbx] }))
        .await;
    assert_eq!(wider["errors"][0]["extensions"]["field"], "scope");
    let account = app
        .gql(
            Some(&hans),
            "mutation($id: ID!) { approveGrant(input: {id: $id, scope: {kind: ACCOUNT}}) { grant { id } } }",
            json!({ "id": g }),
        )
        .await;
    assert_eq!(account["errors"][0]["extensions"]["field"], "scope");
    let approved = app
        .gql(
            Some(&hans),
            "mutation($id: ID!) { approveGrant(input: {id: $id}) { grant { status subscriptions { totalCount } } } }",
            json!({ "id": g }),
        )
        .await;
    assert_eq!(approved["data"]["approveGrant"]["grant"]["status"], "ACTIVE");

    let list = "query($id: ID!) { customer(id: $id) { subscriptions { totalCount nodes { id product { sku } } } } }";
    let partner_view = app.gql(Some(&anna), list, json!({ "id": hanse })).await;
    assert_eq!(partner_view["data"]["customer"]["subscriptions"]["totalCount"], 1, "{partner_view}");
    assert_eq!(partner_view["data"]["customer"]["subscriptions"]["nodes"][0]["id"], phones.as_str());
    let node = app.gql(Some(&anna), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": pbx })).await;
    assert!(node["data"]["node"].is_null(), "the other subscription does not exist for the partner");

    let customer_view = app.gql(Some(&hans), list, json!({ "id": hanse })).await;
    assert_eq!(customer_view["data"]["customer"]["subscriptions"]["totalCount"], 4, "the demo's two and these two");

    // The customer widens it to the whole account: the partner sees both on its next request.
    app.gql(
        Some(&hans),
        "mutation($id: ID!) { updateGrant(input: {id: $id, scope: {kind: ACCOUNT}}) { grant { id } } }",
        json!({ "id": g }),
    )
    .await;
    let partner_view = app.gql(Some(&anna), list, json!({ "id": hanse })).await;
    assert_eq!(partner_view["data"]["customer"]["subscriptions"]["totalCount"], 4);
}

#[tokio::test]
async fn nobody_approves_their_own_request() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let vera = world.token("vera.admin@");
    let hanse = organization_id(&app, &vera, "Hanse Logistik GmbH").await;
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    // Anna is also an ADMIN of the customer (a consultant on both sides).
    let me = app.gql(Some(&anna), "{ viewer { user { id } } }", json!({})).await;
    let anna_id = partnerhub::ids::decode(me["data"]["viewer"]["user"]["id"].as_str().unwrap()).unwrap().1;
    entity::membership::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        user_id: Set(anna_id),
        organization_id: Set(partnerhub::ids::decode(&hanse).unwrap().1),
        role: Set(partnerhub::domain::Role::Admin),
        created_at: Set(chrono::Utc::now()),
        invited_by_organization_id: Set(None),
        invited_by_user_id: Set(None),
    }
    .insert(&app.ctx.db)
    .await
    .unwrap();
    let asked = app
        .request(Some(&anna))
        .acting_as(&alpine)
        .send("mutation($id: ID!) { requestCustomerAccess(input: {customerId: $id, rights: [VIEW_BILLING]}) { grant { id } } }", json!({ "id": hanse }))
        .await;
    let g = gid(&asked, &["data", "requestCustomerAccess", "grant", "id"]);
    let own = app
        .request(Some(&anna))
        .acting_as(&hanse)
        .send("mutation($id: ID!) { approveGrant(input: {id: $id}) { grant { status } } }", json!({ "id": g }))
        .await;
    assert_eq!(error_code(&own), "FORBIDDEN");
    assert!(own["errors"][0]["message"].as_str().unwrap().contains("own request"));
    // Another admin of the customer may.
    let hans = app
        .gql(
            Some(&world.token("hans@")),
            "mutation($id: ID!) { approveGrant(input: {id: $id}) { grant { status } } }",
            json!({ "id": g }),
        )
        .await;
    assert_eq!(hans["data"]["approveGrant"]["grant"]["status"], "ACTIVE");
}

#[tokio::test]
async fn the_demo_shows_a_full_a_scoped_and_a_pending_grant() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let garda = organization_id(&app, &vera, "Garda Hotels Srl").await;
    let grants = app
        .gql(Some(&world.token("giulia@")), "query($id: ID!) { node(id: $id) { ... on Organization { grants { nodes { status scope rights partner { name } } } } } }", json!({ "id": garda }))
        .await;
    let nodes = grants["data"]["node"]["grants"]["nodes"].as_array().unwrap();
    assert!(nodes.iter().any(|g| g["status"] == "PENDING" && g["partner"]["name"] == "Alpine Voice AG"), "{grants}");
    assert!(nodes.iter().any(|g| g["scope"] == "SUBSCRIPTIONS" && g["partner"]["name"] == "Baltic Cloud SIA"));
    let baltic_view = app
        .gql(
            Some(&world.token("bruno@")),
            "query($id: ID!) { customer(id: $id) { subscriptions { nodes { product { name } } } } }",
            json!({ "id": garda }),
        )
        .await;
    assert_eq!(
        baltic_view["data"]["customer"]["subscriptions"]["nodes"],
        json!([{ "product": { "name": "Cloud PBX" } }])
    );
    let full = app.gql(Some(&world.token("anna@")), "{ customers { nodes { name viewerRights } } }", json!({})).await;
    let edelweiss = full["data"]["customers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Edelweiss Dental")
        .unwrap()
        .clone();
    assert_eq!(edelweiss["viewerRights"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn grant_decisions_notify_the_other_side_through_the_outbox() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let hans = world.token("hans@");
    let hanse = organization_id(&app, &world.token("vera.admin@"), "Hanse Logistik GmbH").await;
    let inbox = "{ viewer { notifications { nodes { kind payload } } } }";
    let kinds = |body: &Value| -> Vec<String> {
        body["data"]["viewer"]["notifications"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_string())
            // The demo's own tier and story decisions are in the inboxes too.
            .filter(|k| k.starts_with("GRANT_"))
            .collect()
    };

    let g = grant_between(&app, &anna, &hanse, "[VIEW_BILLING]").await;
    let customer = app.gql(Some(&hans), inbox, json!({})).await;
    assert_eq!(kinds(&customer), ["GRANT_REQUESTED"]);
    assert_eq!(customer["data"]["viewer"]["notifications"]["nodes"][0]["payload"]["grantId"], g.as_str());

    app.gql(Some(&hans), "mutation($id: ID!) { approveGrant(input: {id: $id}) { grant { id } } }", json!({ "id": g }))
        .await;
    app.gql(Some(&hans), "mutation($id: ID!) { revokeGrant(input: {id: $id}) { grant { id } } }", json!({ "id": g }))
        .await;
    let partner = app.gql(Some(&anna), inbox, json!({})).await;
    assert_eq!(kinds(&partner), ["GRANT_APPROVED", "GRANT_REVOKED"]);

    // Only the two sides hear of it; a refused decision writes nothing.
    assert!(kinds(&app.gql(Some(&world.token("bruno@")), inbox, json!({})).await).is_empty());
    let refused = app
        .gql(Some(&anna), "mutation($id: ID!) { endGrant(input: {id: $id}) { grant { id } } }", json!({ "id": g }))
        .await;
    assert_eq!(error_code(&refused), "CONFLICT");
    assert_eq!(kinds(&app.gql(Some(&hans), inbox, json!({})).await), ["GRANT_REQUESTED"]);
}
