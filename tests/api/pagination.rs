//! Cursor connections: keyset pages forwards and backwards, bounds, and a constant number of
//! SQL statements per list however long the page.

use entity::{organization, tier};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  organizations(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { name } }
  }
}";

async fn add_partners(app: &TestApp, token: &str, n: usize) {
    for i in 0..n {
        let body = app
            .gql(
                Some(token),
                "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id } } }",
                json!({ "input": { "kind": "PARTNER", "name": format!("Partner {i:03}"), "country": "FR" } }),
            )
            .await;
        assert_no_errors(&body);
    }
}

fn page_names(body: &Value) -> Vec<String> {
    body["data"]["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pages_forward_and_backward_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    add_partners(&app, &vera, 15).await; // 24 demo organisations + 15

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = app.gql(Some(&vera), PAGE, json!({ "first": 7, "after": after })).await;
        assert_no_errors(&body);
        assert_eq!(body["data"]["organizations"]["totalCount"], 39);
        seen.extend(page_names(&body));
        let info = &body["data"]["organizations"]["pageInfo"];
        assert_eq!(info["hasPreviousPage"], after.is_some());
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), 39);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 39);

    // Backwards from the end gives the same order.
    let mut backwards = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let body = app.gql(Some(&vera), PAGE, json!({ "last": 10, "before": before })).await;
        assert_no_errors(&body);
        let mut names = page_names(&body);
        names.extend(backwards);
        backwards = names;
        let info = &body["data"]["organizations"]["pageInfo"];
        if info["hasPreviousPage"] == false {
            break;
        }
        before = info["startCursor"].as_str().map(str::to_string);
    }
    assert_eq!(backwards, seen);
}

#[tokio::test]
async fn page_bounds_and_bad_cursors_are_input_errors() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    for (vars, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "first": -1 }), "first"),
        (json!({ "last": 500 }), "last"),
        (json!({ "first": 1, "last": 1 }), "last"),
        (json!({ "after": "bm9wZQ" }), "after"),
        (json!({ "before": "!!" }), "before"),
    ] {
        let body = app.gql(Some(&vera), PAGE, vars.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{vars}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{vars}");
    }
    let body = app.gql(Some(&vera), PAGE, json!({ "first": 100 })).await;
    assert_no_errors(&body);
    let body = app.gql(Some(&vera), PAGE, json!({})).await;
    assert_eq!(page_names(&body).len(), 20, "the default page holds 20");
}

#[tokio::test]
async fn listing_100_organisations_with_relations_costs_a_constant_number_of_statements() {
    let app = TestApp::spawn_counting(|_| {}).await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    add_partners(&app, &vera, 95).await;
    // Every partner gets a tier, so each row resolves tier and programme through the loaders.
    let gold = tier::Entity::find().filter(tier::Column::Name.eq("Gold")).one(&app.ctx.db).await.unwrap().unwrap();
    let placed = entity::partnership::Entity::find().all(&app.ctx.db).await.unwrap();
    let unplaced = organization::Entity::find()
        .filter(organization::Column::Kind.eq("PARTNER"))
        .all(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| !placed.iter().any(|p| p.organization_id == o.id));
    let now = app.ctx.now();
    let rows: Vec<entity::partnership::ActiveModel> = unplaced
        .map(|o| entity::partnership::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            organization_id: Set(o.id),
            program_id: Set(gold.program_id),
            tier_id: Set(gold.id),
            joined_at: Set(now),
            committed_yearly_volume: Set(None),
            yearly_fee_paid_until: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            grace_started_at: Set(None),
            grace_ends_at: Set(None),
            grace_missing: Set(None),
            yearly_fee_due_at: Set(None),
        })
        .collect();
    entity::partnership::Entity::insert_many(rows).exec(&app.ctx.db).await.unwrap();

    let query = "query($first: Int) { organizations(first: $first) { totalCount edges { cursor node { id name kind tier { name program { name } } program { currency } } } } }";
    let warm = app.gql(Some(&vera), query, json!({ "first": 1 })).await; // records the token's last use
    assert_no_errors(&warm);

    let (small, body) = app.read_statements(Some(&vera), query, json!({ "first": 5 })).await;
    assert_no_errors(&body);
    let (large, body) = app.read_statements(Some(&vera), query, json!({ "first": 100 })).await;
    assert_no_errors(&body);
    let edges = body["data"]["organizations"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 100);
    assert!(
        edges
            .iter()
            .filter(|e| e["node"]["kind"] == "PARTNER")
            .all(|e| e["node"]["tier"]["program"]["name"].is_string())
    );

    // token with memberships, page with its count, partnerships, tiers, programmes; the
    // programme is asked for at two levels, and the second may start before the first has filled
    // the request's cache, so it can be read twice: 6 at most, whatever the page size.
    for (page, statements) in [(5, small), (100, large)] {
        assert!((5..=6).contains(&statements), "{statements} statements for a page of {page}");
    }
}

/// `totalCount` rides in the page's statement, so asking for it costs no statement; only an
/// empty page after a cursor, which has no row to carry it, counts on its own, and still right.
#[tokio::test]
async fn total_count_costs_no_statement_and_survives_an_empty_page() {
    let app = TestApp::spawn_counting(|_| {}).await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    app.gql(Some(&vera), "{ __typename }", json!({})).await;
    let (without, _) = app.read_statements(Some(&vera), "{ organizations { nodes { name } } }", json!({})).await;
    let query = "query($after: String) { organizations(first: 100, after: $after) { totalCount nodes { name } pageInfo { endCursor } } }";
    let (with, body) = app.read_statements(Some(&vera), query, json!({})).await;
    assert_no_errors(&body);
    assert_eq!(with, without);
    let total = body["data"]["organizations"]["totalCount"].as_i64().unwrap();
    let listed = body["data"]["organizations"]["nodes"].as_array().unwrap().len() as i64;
    assert!(total >= 2 && total == listed, "{body}");
    let end = body["data"]["organizations"]["pageInfo"]["endCursor"].clone();
    let (after_the_end, body) = app.read_statements(Some(&vera), query, json!({ "after": end })).await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["organizations"]["nodes"], json!([]));
    assert_eq!(body["data"]["organizations"]["totalCount"].as_i64(), Some(total));
    assert_eq!(after_the_end, without + 1);
    // A page in the middle carries the whole list's count, not what is left after the cursor.
    let first = body_of_first(&app, &vera).await;
    let (_, body) = app.read_statements(Some(&vera), query, json!({ "after": first })).await;
    assert_eq!(body["data"]["organizations"]["totalCount"].as_i64(), Some(total), "{body}");
}

async fn body_of_first(app: &TestApp, token: &str) -> serde_json::Value {
    let body = app.gql(Some(token), "{ organizations(first: 1) { pageInfo { endCursor } } }", json!({})).await;
    body["data"]["organizations"]["pageInfo"]["endCursor"].clone()
}

#[tokio::test]
async fn members_and_invitations_cost_the_same_for_any_page_size() {
    let app = TestApp::spawn_counting(|_| {}).await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let alpine = organization_id(&app, &anna, "Alpine Voice AG").await;
    for i in 0..30 {
        let body = app
            .gql(
                Some(&anna),
                "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { token } }",
                json!({ "i": { "organizationId": alpine, "name": format!("sync {i}"), "role": "BILLING" } }),
            )
            .await;
        assert_no_errors(&body);
        let body = app
            .gql(
                Some(&anna),
                "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }",
                json!({ "i": { "organizationId": alpine, "email": format!("p{i}@example.test"), "role": "SALES" } }),
            )
            .await;
        assert_no_errors(&body);
    }
    let query = "query($id: ID!, $n: Int) { node(id: $id) { ... on Organization {
        members(first: $n) { totalCount nodes { role user { displayName kind } organization { name } } }
        invitations(first: $n) { totalCount nodes { email status organization { name } } } } } }";
    let (small, body) = app.read_statements(Some(&anna), query, json!({ "id": alpine, "n": 3 })).await;
    assert_no_errors(&body);
    let (large, body) = app.read_statements(Some(&anna), query, json!({ "id": alpine, "n": 100 })).await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["node"]["members"]["nodes"].as_array().unwrap().len(), 33);
    assert_eq!(body["data"]["node"]["invitations"]["totalCount"], 31, "30 and the demo's own");
    assert_eq!(small, large, "statements must not grow with the page");
    // token, memberships, organisation, 2 pages, 2 counts, users
    assert!(large <= 8, "{large}");
}
