//! `viewer`: the user, their memberships, and the membership a request acts as.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const VIEWER: &str = "{ viewer { authentication user { displayName kind } actingAs { role organization { name } } memberships { totalCount nodes { role organization { name kind } } } } }";

#[tokio::test]
async fn a_single_membership_is_the_acting_one() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let body = app.gql(Some(&world.token("anna@")), VIEWER, json!({})).await;
    assert_no_errors(&body);
    let viewer = &body["data"]["viewer"];
    assert_eq!(viewer["authentication"], "API_TOKEN");
    assert_eq!(viewer["user"]["displayName"], "Anna Alpine");
    assert_eq!(viewer["user"]["kind"], "PERSON");
    assert_eq!(viewer["actingAs"]["role"], "ADMIN");
    assert_eq!(viewer["actingAs"]["organization"]["name"], "Alpine Voice AG");
    assert_eq!(viewer["memberships"]["totalCount"], 1);
}

#[tokio::test]
async fn a_user_with_several_memberships_picks_one_with_the_header() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let chris = world.token("chris@");
    let staff = world.token("vera.admin@");
    let alpine = organization_id(&app, &staff, "Alpine Voice AG").await;
    let baltic = organization_id(&app, &staff, "Baltic Cloud SIA").await;
    let hanse = organization_id(&app, &staff, "Hanse Logistik GmbH").await;

    let body = app.gql(Some(&chris), VIEWER, json!({})).await;
    assert_no_errors(&body);
    assert!(body["data"]["viewer"]["actingAs"].is_null());
    assert_eq!(body["data"]["viewer"]["memberships"]["totalCount"], 2);

    for (org, name) in [(&alpine, "Alpine Voice AG"), (&baltic, "Baltic Cloud SIA")] {
        let body = app.request(Some(&chris)).acting_as(org).send(VIEWER, json!({})).await;
        assert_eq!(body["data"]["viewer"]["actingAs"]["organization"]["name"], name);
        assert_eq!(body["data"]["viewer"]["actingAs"]["role"], "TECHNICAL");
    }
    // A bare UUID works as well as the global ID.
    let bare = partnerhub::ids::decode(&baltic).unwrap().1.to_string();
    let body = app.request(Some(&chris)).acting_as(&bare).send(VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["actingAs"]["organization"]["name"], "Baltic Cloud SIA");

    // Naming an organisation the user does not belong to is refused.
    let r = app.request(Some(&chris)).acting_as(&hanse).raw(json!({ "query": VIEWER })).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&r.json().await.unwrap()), "FORBIDDEN");

    // What the request may see follows the acting membership: Chris is TECHNICAL without
    // assignments, so he sees his two partners and no customer.
    let body =
        app.request(Some(&chris)).acting_as(&alpine).send("{ organizations { nodes { name } } }", json!({})).await;
    let names: Vec<_> = body["data"]["organizations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{body}");

    // Mutations that need an organisation ask for the header when it is missing.
    let body = app
        .gql(
            Some(&chris),
            "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id } } }",
            json!({ "input": { "kind": "CUSTOMER", "name": "X", "country": "DE" } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("X-Partnerhub-Organization"));
}
