//! The contract a client developer builds on: CORS for dashboards on other origins, persisted
//! queries and trusted documents, one answer for a malformed ID.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;

const DASHBOARD: &str = "http://localhost:3000";
const WHO: &str = "{ viewer { user { displayName } } }";

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn a_listed_dashboard_origin_may_call_the_api_and_others_get_no_cors_headers() {
    let app = TestApp::spawn_with(|s| s.cors_origins = vec![DASHBOARD.into()]).await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header(header::ORIGIN, origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization,content-type")
            .send()
    };
    let listed = preflight(DASHBOARD).await.unwrap();
    assert!(listed.status().is_success(), "preflight: {}", listed.status());
    assert_eq!(header(listed.headers(), "access-control-allow-origin"), DASHBOARD, "never a wildcard");
    assert_eq!(header(listed.headers(), "access-control-allow-credentials"), "true");
    let allowed = header(listed.headers(), "access-control-allow-headers").to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
    assert!(header(listed.headers(), "access-control-allow-methods").contains("POST"));
    assert!(header(listed.headers(), "vary").to_ascii_lowercase().contains("origin"));

    let unlisted = preflight("http://evil.example").await.unwrap();
    assert!(unlisted.headers().get("access-control-allow-origin").is_none(), "an unlisted origin is not allowed");

    let call = |origin: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header(header::ORIGIN, origin)
            .bearer_auth(&anna)
            .json(&json!({ "query": WHO }))
            .send()
    };
    let real = call(DASHBOARD).await.unwrap();
    assert_eq!(header(real.headers(), "access-control-allow-origin"), DASHBOARD);
    assert!(header(real.headers(), "access-control-expose-headers").to_ascii_lowercase().contains("x-request-id"));
    let body: Value = real.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["user"]["displayName"], "Anna Alpine");
    let foreign = call("http://evil.example").await.unwrap();
    assert!(foreign.headers().get("access-control-allow-origin").is_none(), "the browser will not let it read");
}

#[test]
fn a_cors_wildcard_is_refused_in_the_settings() {
    use std::collections::HashMap;
    let vars = HashMap::from([("PARTNERHUB_CORS_ORIGINS".to_string(), "*".to_string())]);
    let err = partnerhub::config::Settings::from_vars(&vars).unwrap_err().to_string();
    assert!(err.contains("PARTNERHUB_CORS_ORIGINS"), "{err}");
}

async fn post(app: &TestApp, token: &str, body: Value) -> Value {
    app.client.post(app.url("/graphql")).bearer_auth(token).json(&body).send().await.unwrap().json().await.unwrap()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

#[tokio::test]
async fn automatic_persisted_queries_register_once_then_run_by_hash() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let hash = sha256(WHO);

    let miss = post(&app, &anna, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(error_code(&miss), "PERSISTED_QUERY_NOT_FOUND", "{miss}");
    assert!(miss.get("data").is_none());

    let wrong = post(&app, &anna, json!({ "query": "{ __typename }", "extensions": persisted(&hash) })).await;
    assert_eq!(error_code(&wrong), "BAD_USER_INPUT");
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "extensions.persistedQuery.sha256Hash");
    let still = post(&app, &anna, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(error_code(&still), "PERSISTED_QUERY_NOT_FOUND", "a mismatch registers nothing");

    let registered = post(&app, &anna, json!({ "query": WHO, "extensions": persisted(&hash) })).await;
    assert_eq!(registered["data"]["viewer"]["user"]["displayName"], "Anna Alpine");
    let by_hash = post(&app, &anna, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(by_hash["data"]["viewer"]["user"]["displayName"], "Anna Alpine");
    // GET too, so a CDN can cache it by URL.
    let get: Value = app
        .client
        .get(app.url("/graphql"))
        .query(&[("extensions", persisted(&hash).to_string())])
        .bearer_auth(&anna)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(get["data"]["viewer"]["user"]["displayName"], "Anna Alpine");
    // A mutation stays POST-only, persisted or not.
    let mutation = "mutation { revokeApiToken(input: {id: \"x\"}) { apiToken { id } } }";
    let r = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", mutation), ("extensions", &persisted(&sha256(mutation)).to_string())])
        .bearer_auth(&anna)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);

    let version =
        post(&app, &anna, json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": hash } } })).await;
    assert_eq!(version["errors"][0]["extensions"]["field"], "extensions.persistedQuery.version");
}

#[tokio::test]
async fn in_trusted_documents_mode_only_the_manifest_runs() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("persisted.json");
    std::fs::write(&manifest, json!({ "who-am-i": WHO }).to_string()).unwrap();
    let path = manifest.clone();
    let app = TestApp::spawn_with(move |s| s.graphql.trusted_documents = Some(path)).await;
    let world = app.demo().await;
    let anna = world.token("anna@");

    for body in
        [json!({ "documentId": "who-am-i" }), json!({ "query": WHO }), json!({ "extensions": persisted(&sha256(WHO)) })]
    {
        let answer = post(&app, &anna, body.clone()).await;
        assert_eq!(answer["data"]["viewer"]["user"]["displayName"], "Anna Alpine", "{body}: {answer}");
    }
    let other = "{ viewer { user { email } } }";
    for body in [
        json!({ "query": other }),
        json!({ "documentId": "nope" }),
        json!({ "query": other, "extensions": persisted(&sha256(other)) }),
    ] {
        let answer = post(&app, &anna, body.clone()).await;
        assert_eq!(error_code(&answer), "PERSISTED_QUERY_NOT_FOUND", "{body}: {answer}");
    }
    let after = post(&app, &anna, json!({ "extensions": persisted(&sha256(other)) })).await;
    assert_eq!(error_code(&after), "PERSISTED_QUERY_NOT_FOUND", "registering is off in this mode");
}

#[tokio::test]
async fn a_malformed_id_is_answered_like_an_id_that_names_nothing() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let anna = world.token("anna@");
    let new_id = |t| partnerhub::ids::encode(t, uuid::Uuid::now_v7());
    use partnerhub::ids::NodeType::{Grant, Organization, Product};
    // Not base64; empty; base64 of a type with a bad UUID; a well-formed ID of another type.
    let malformed = |other: String| ["junk".to_string(), String::new(), "T3JnYW5pemF0aW9uOnh5eg".into(), other];
    let cases = [
        (&vera, "query($id: ID!) { node(id: $id) { id } }", new_id(Organization), None),
        (&vera, "query($id: ID!) { organization(id: $id) { id } }", new_id(Organization), Some(new_id(Grant))),
        (&anna, "query($id: ID!) { customer(id: $id) { id } }", new_id(Organization), Some(new_id(Grant))),
        (
            &anna,
            "mutation($id: ID!) { revokeGrant(input: {id: $id}) { grant { id } } }",
            new_id(Grant),
            Some(new_id(Organization)),
        ),
        (
            &anna,
            "mutation($id: ID!) { claimWelcomeGift(input: {productId: $id, shippingAddress: \"Bahnhofstrasse 1, 8001 Zuerich\"}) { welcomeGift { id } } }",
            new_id(Product),
            Some(new_id(Organization)),
        ),
    ];
    let shape = |b: &Value| (b["data"].clone(), b["errors"][0]["extensions"].clone());
    for (token, query, unknown, other_type) in cases {
        let expected = app.gql(Some(token), query, json!({ "id": unknown })).await;
        for bad in malformed(other_type.unwrap_or_default()) {
            let got = app.gql(Some(token), query, json!({ "id": bad })).await;
            assert_eq!(shape(&got), shape(&expected), "{query} with {bad:?}: {got} vs {expected}");
        }
    }
}
