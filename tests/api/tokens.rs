//! API tokens: shown once, stored hashed, listed without secrets, revoked or expired for good.

use chrono::{TimeDelta, Utc};
use entity::api_token;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::*;

const CREATE: &str = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id name prefix status expiresAt } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { id status revokedAt } } }";
const VIEWER: &str = "{ viewer { user { email } } }";

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(Some(token), CREATE, json!({ "input": input })).await
}

#[tokio::test]
async fn a_created_token_is_shown_once_works_and_is_stored_hashed() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let body = create(&app, &anna, json!({ "name": "billing sync" })).await;
    assert_no_errors(&body);
    let created = &body["data"]["createApiToken"];
    let secret = created["token"].as_str().unwrap();
    assert!(secret.starts_with("phk_") && secret.len() > 40);
    assert!(secret.starts_with(created["apiToken"]["prefix"].as_str().unwrap()));
    assert_eq!(created["apiToken"]["status"], "ACTIVE");

    let me = app.gql(Some(secret), VIEWER, json!({})).await;
    assert_eq!(me["data"]["viewer"]["user"]["email"], "anna@alpinevoice.example");

    // Listed by name, never with the secret; nothing in the database holds it either.
    let list = app
        .gql(
            Some(&anna),
            "{ viewer { apiTokens(first: 10) { totalCount nodes { name prefix lastUsedAt } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&list);
    assert_eq!(list["data"]["viewer"]["apiTokens"]["totalCount"], 2);
    assert!(!list.to_string().contains(secret));
    let billing = list["data"]["viewer"]["apiTokens"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "billing sync")
        .unwrap();
    assert!(billing["lastUsedAt"].is_string(), "last use recorded: {billing}");
    for row in api_token::Entity::find().all(&app.ctx.db).await.unwrap() {
        assert_ne!(row.token_hash, secret);
        assert!(!row.token_hash.contains(&secret[4..]));
    }
}

#[tokio::test]
async fn a_revoked_token_is_unauthenticated_on_the_next_request() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let body = create(&app, &anna, json!({ "name": "ci" })).await;
    let secret = body["data"]["createApiToken"]["token"].as_str().unwrap().to_string();
    let id = body["data"]["createApiToken"]["apiToken"]["id"].as_str().unwrap().to_string();

    let revoked = app.gql(Some(&anna), REVOKE, json!({ "id": id })).await;
    assert_no_errors(&revoked);
    assert_eq!(revoked["data"]["revokeApiToken"]["apiToken"]["status"], "REVOKED");

    let r = app.request(Some(&secret)).raw(json!({ "query": VIEWER })).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(r.headers(), "www-authenticate"), "Bearer");
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    // Revoking again changes nothing.
    let again = app.gql(Some(&anna), REVOKE, json!({ "id": id })).await;
    assert_eq!(
        again["data"]["revokeApiToken"]["apiToken"]["revokedAt"],
        revoked["data"]["revokeApiToken"]["apiToken"]["revokedAt"]
    );
}

#[tokio::test]
async fn an_expired_token_is_unauthenticated_from_the_second_it_expires() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let expires = Utc::now() + TimeDelta::hours(1);
    let body = create(&app, &anna, json!({ "name": "short", "expiresAt": expires.to_rfc3339() })).await;
    assert_no_errors(&body);
    let secret = body["data"]["createApiToken"]["token"].as_str().unwrap().to_string();
    assert_eq!(error_code(&app.gql(Some(&secret), VIEWER, json!({})).await), "");

    app.clock.advance(TimeDelta::minutes(61));
    let body = app.gql(Some(&secret), VIEWER, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let list = app.gql(Some(&anna), "{ viewer { apiTokens { nodes { name status } } } }", json!({})).await;
    let short = list["data"]["viewer"]["apiTokens"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "short")
        .unwrap()
        .clone();
    assert_eq!(short["status"], "EXPIRED");
}

#[tokio::test]
async fn unknown_and_malformed_credentials_are_unauthenticated_and_anonymous_is_null() {
    let app = TestApp::spawn().await;
    app.demo().await;
    for token in ["phk_doesnotexist", "garbage"] {
        assert_eq!(error_code(&app.gql(Some(token), VIEWER, json!({})).await), "UNAUTHENTICATED");
    }
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = app.gql(None, VIEWER, json!({})).await;
    assert_no_errors(&body);
    assert!(body["data"]["viewer"].is_null());
}

#[tokio::test]
async fn token_input_is_validated() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let body = create(&app, &anna, json!({ "name": "  " })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "name");
    let past = (Utc::now() - TimeDelta::minutes(1)).to_rfc3339();
    let body = create(&app, &anna, json!({ "name": "old", "expiresAt": past })).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "expiresAt");
    let body = create(&app, &anna, json!({ "name": "x", "expiresAt": "tomorrow" })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "expiresAt", "the engine's conversion error names it too");
    let body = app.gql(None, CREATE, json!({ "input": { "name": "anon" } })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn nobody_revokes_or_sees_another_persons_token() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let body = create(&app, &anna, json!({ "name": "mine" })).await;
    let id = body["data"]["createApiToken"]["apiToken"]["id"].as_str().unwrap().to_string();
    for other in ["sam@", "bruno@", "erika@", "vera.admin@"] {
        let body = app.gql(Some(&world.token(other)), REVOKE, json!({ "id": id })).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{other}: {body}");
        let node =
            app.gql(Some(&world.token(other)), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
        assert!(node["data"]["node"].is_null(), "{other}");
    }
    let still = app
        .gql(Some(&anna), "query($id: ID!) { node(id: $id) { ... on ApiToken { status } } }", json!({ "id": id }))
        .await;
    assert_eq!(still["data"]["node"]["status"], "ACTIVE");
}
