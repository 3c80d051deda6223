//! Organisations: who sees which, `node` hiding what is not visible, creation by staff.

use entity::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;

const LIST: &str = "{ organizations(first: 100) { totalCount nodes { id name kind } } }";
const NODE: &str = "query($id: ID!) { node(id: $id) { id ... on Organization { name } } }";
const CREATE: &str = "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id kind name country domain vatNumber website } } }";

fn names(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body["data"]["organizations"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no list: {body}"))
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn staff_see_all_others_their_own_and_what_grants_connect() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;

    let staff = app.gql(Some(&world.token("carl.channel@")), LIST, json!({})).await;
    // The demo's 13, and the directory's 11 partners.
    assert_eq!(staff["data"]["organizations"]["totalCount"], 24);

    // Anna (partner ADMIN) sees her partner and the two customers with ACTIVE grants, not the
    // customer whose grant is still PENDING.
    let anna = app.gql(Some(&world.token("anna@")), LIST, json!({})).await;
    assert_eq!(names(&anna), ["Alpine Voice AG", "Edelweiss Dental", "Fjord Freight AS"]);
    assert_eq!(anna["data"]["organizations"]["totalCount"], 3);

    // Sam (SALES) only where assigned.
    let sam = app.gql(Some(&world.token("sam@")), LIST, json!({})).await;
    assert_eq!(names(&sam), ["Alpine Voice AG", "Edelweiss Dental"]);

    // A customer sees itself and the partners holding or asking for access.
    let giulia = app.gql(Some(&world.token("giulia@")), LIST, json!({})).await;
    assert_eq!(names(&giulia), ["Alpine Voice AG", "Baltic Cloud SIA", "Garda Hotels Srl"]);

    let dora = app.gql(Some(&world.token("dora@")), LIST, json!({})).await;
    assert_eq!(names(&dora), ["Danube Distribution GmbH"]);

    let filtered = app
        .gql(
            Some(&world.token("carl.channel@")),
            "{ organizations(filter: {kind: PARTNER}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        filtered["data"]["organizations"]["totalCount"], 15,
        "three resellers, an affiliate and the directory's eleven"
    );

    let anonymous = app.gql(None, LIST, json!({})).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
}

#[tokio::test]
async fn another_partners_organisation_looks_exactly_like_one_that_does_not_exist() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let staff = world.token("vera.admin@");
    let baltic = organization_id(&app, &staff, "Baltic Cloud SIA").await;
    let hanse = organization_id(&app, &staff, "Hanse Logistik GmbH").await; // a customer Alpine has no grant for
    let anna = world.token("anna@");

    let missing = {
        // A well-formed id of the right type that was never issued.
        let fake = partnerhub::ids::encode(partnerhub::ids::NodeType::Organization, uuid::Uuid::now_v7());
        app.gql(Some(&anna), NODE, json!({ "id": fake })).await
    };
    assert_eq!(missing, json!({ "data": { "node": null } }));
    for hidden in [&baltic, &hanse] {
        assert_eq!(app.gql(Some(&anna), NODE, json!({ "id": hidden })).await, missing);
        let one =
            app.gql(Some(&anna), "query($id: ID!) { organization(id: $id) { name } }", json!({ "id": hidden })).await;
        assert_eq!(one, json!({ "data": { "organization": null } }));
    }
    let nodes = app
        .gql(Some(&anna), "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": [baltic, "junk"] }))
        .await;
    assert_eq!(nodes, json!({ "data": { "nodes": [null, null] } }));

    // Staff see it.
    let seen = app.gql(Some(&staff), NODE, json!({ "id": baltic })).await;
    assert_eq!(seen["data"]["node"]["name"], "Baltic Cloud SIA");
}

#[tokio::test]
async fn staff_admin_creates_organisations_with_validated_input_and_an_audit_row() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let input = json!({
        "kind": "DISTRIBUTOR", "name": "  Rhine Supply GmbH ", "country": "de",
        "domain": "Rhine-Supply.example", "vatNumber": "de 811 907 980", "website": "https://rhine-supply.example"
    });
    let body = app.gql(Some(&vera), CREATE, json!({ "input": input })).await;
    assert_no_errors(&body);
    let org = &body["data"]["createOrganization"]["organization"];
    assert_eq!(org["name"], "Rhine Supply GmbH");
    assert_eq!(org["country"], "DE");
    assert_eq!(org["domain"], "rhine-supply.example");
    assert_eq!(org["vatNumber"], "DE811907980");

    let id = partnerhub::ids::decode(org["id"].as_str().unwrap()).unwrap().1;
    let events =
        audit_event::Entity::find().filter(audit_event::Column::TargetId.eq(id)).all(&app.ctx.db).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "organization.created");
    assert!(!events[0].request_id.is_empty() && events[0].request_id != "-");

    for (field, bad) in [
        ("name", json!({ "kind": "CUSTOMER", "name": "", "country": "DE" })),
        ("country", json!({ "kind": "CUSTOMER", "name": "X", "country": "XX" })),
        ("domain", json!({ "kind": "CUSTOMER", "name": "X", "country": "DE", "domain": "not a domain" })),
        ("vatNumber", json!({ "kind": "CUSTOMER", "name": "X", "country": "DE", "vatNumber": "12" })),
        ("website", json!({ "kind": "CUSTOMER", "name": "X", "country": "DE", "website": "ftp://x.example" })),
        ("kind", json!({ "kind": "VENDOR", "name": "X", "country": "DE" })),
    ] {
        let body = app.gql(Some(&vera), CREATE, json!({ "input": bad })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{field}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let count = app.gql(Some(&vera), "{ organizations { totalCount } }", json!({})).await;
    assert_eq!(count["data"]["organizations"]["totalCount"], 25, "refused input stored nothing");
}

#[tokio::test]
async fn only_staff_admins_create_organisations() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let input = json!({ "input": { "kind": "CUSTOMER", "name": "Nope", "country": "FR" } });
    for who in ["carl.channel@", "fiona.finance@", "anna@", "erika@", "dora@"] {
        let body = app.gql(Some(&world.token(who)), CREATE, input.clone()).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{who}: {body}");
    }
    assert_eq!(error_code(&app.gql(None, CREATE, input).await), "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_idempotency_key_creates_one_organisation() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let input = json!({ "kind": "CUSTOMER", "name": "Once Only", "country": "FR", "idempotencyKey": "k-1" });
    let first = app.gql(Some(&vera), CREATE, json!({ "input": input })).await;
    let second = app.gql(Some(&vera), CREATE, json!({ "input": input })).await;
    assert_no_errors(&second);
    assert_eq!(
        first["data"]["createOrganization"]["organization"]["id"],
        second["data"]["createOrganization"]["organization"]["id"]
    );
    let other = json!({ "kind": "CUSTOMER", "name": "Something Else", "country": "FR", "idempotencyKey": "k-1" });
    let conflict = app.gql(Some(&vera), CREATE, json!({ "input": other })).await;
    assert_eq!(error_code(&conflict), "CONFLICT");
    // Two at once with a fresh key: one organisation, both told its id.
    let racing = json!({ "kind": "CUSTOMER", "name": "Raced", "country": "FR", "idempotencyKey": "k-2" });
    let (a, b) = tokio::join!(
        app.gql(Some(&vera), CREATE, json!({ "input": racing.clone() })),
        app.gql(Some(&vera), CREATE, json!({ "input": racing }))
    );
    assert_no_errors(&a);
    assert_no_errors(&b);
    assert_eq!(a["data"]["createOrganization"], b["data"]["createOrganization"]);
    let count = app.gql(Some(&vera), "{ organizations(filter: {kind: CUSTOMER}) { totalCount } }", json!({})).await;
    assert_eq!(count["data"]["organizations"]["totalCount"], 8);
}
