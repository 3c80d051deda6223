//! Service accounts: created by an organisation's ADMIN (or staff ADMIN), used through tokens.

use serde_json::json;

use crate::helpers::*;

const CREATE: &str = "mutation($input: CreateServiceAccountInput!) { createServiceAccount(input: $input) { token serviceAccount { id name role organization { name } } } }";

#[tokio::test]
async fn a_partner_admin_creates_one_whose_token_acts_with_that_role() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let alpine = organization_id(&app, &anna, "Alpine Voice AG").await;
    let body = app
        .gql(
            Some(&anna),
            CREATE,
            json!({ "input": { "organizationId": alpine, "name": "Billing system", "role": "BILLING" } }),
        )
        .await;
    assert_no_errors(&body);
    let created = &body["data"]["createServiceAccount"];
    assert_eq!(created["serviceAccount"]["role"], "BILLING");
    assert_eq!(created["serviceAccount"]["organization"]["name"], "Alpine Voice AG");
    let token = created["token"].as_str().unwrap();

    let me = app
        .gql(Some(token), "{ viewer { user { displayName kind } actingAs { role organization { name } } } }", json!({}))
        .await;
    assert_eq!(me["data"]["viewer"]["user"]["kind"], "SERVICE_ACCOUNT");
    assert_eq!(me["data"]["viewer"]["actingAs"]["role"], "BILLING");

    // A BILLING member sees what the role sees: no customers without assignments.
    let orgs = app.gql(Some(token), "{ organizations { totalCount } }", json!({})).await;
    assert_eq!(orgs["data"]["organizations"]["totalCount"], 1);

    // The admin sees the service account's tokens and can revoke them.
    let sa_id = created["serviceAccount"]["id"].as_str().unwrap();
    let node = app
        .gql(
            Some(&anna),
            "query($id: ID!) { node(id: $id) { ... on ServiceAccount { name role } } }",
            json!({ "id": sa_id }),
        )
        .await;
    assert_eq!(node["data"]["node"]["name"], "Billing system");
    let tokens = app.gql(Some(token), "{ viewer { apiTokens { nodes { id } } } }", json!({})).await;
    let token_id = tokens["data"]["viewer"]["apiTokens"]["nodes"][0]["id"].as_str().unwrap();
    let revoked = app
        .gql(
            Some(&anna),
            "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { status } } }",
            json!({ "id": token_id }),
        )
        .await;
    assert_eq!(revoked["data"]["revokeApiToken"]["apiToken"]["status"], "REVOKED");
    assert_eq!(error_code(&app.gql(Some(token), "{ viewer { user { id } } }", json!({})).await), "UNAUTHENTICATED");
}

#[tokio::test]
async fn roles_must_fit_the_organisation_and_only_admins_create() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let vera = world.token("vera.admin@");
    let alpine = organization_id(&app, &anna, "Alpine Voice AG").await;
    let baltic = organization_id(&app, &vera, "Baltic Cloud SIA").await;

    let body = app
        .gql(Some(&anna), CREATE, json!({ "input": { "organizationId": alpine, "name": "x", "role": "FINANCE" } }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "role");

    let body = app
        .gql(Some(&anna), CREATE, json!({ "input": { "organizationId": alpine, "name": "", "role": "SALES" } }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "name");

    // Another partner's organisation does not exist for Anna.
    let body = app
        .gql(Some(&anna), CREATE, json!({ "input": { "organizationId": baltic, "name": "x", "role": "SALES" } }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");

    // A SALES member sees the organisation but may not add accounts to it.
    let body = app
        .gql(
            Some(&world.token("sam@")),
            CREATE,
            json!({ "input": { "organizationId": alpine, "name": "x", "role": "SALES" } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");

    // Staff ADMIN may create one in any organisation (a distributor's ERP, say).
    let danube = organization_id(&app, &vera, "Danube Distribution GmbH").await;
    let body = app
        .gql(Some(&vera), CREATE, json!({ "input": { "organizationId": danube, "name": "ERP", "role": "MEMBER" } }))
        .await;
    assert_no_errors(&body);
    // Staff who are not ADMIN may not.
    let body = app
        .gql(
            Some(&world.token("carl.channel@")),
            CREATE,
            json!({ "input": { "organizationId": danube, "name": "ERP", "role": "MEMBER" } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}
