//! The contract a client developer builds on: CORS for dashboards on other origins, persisted
//! queries and trusted documents, one answer for a malformed ID.

use chrono::Datelike;
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

/// Every mutation that creates records or money takes an `idempotencyKey`; a retry with the key
/// gets the first call's result, and the key with other input is a conflict.
#[tokio::test]
async fn a_retry_with_the_idempotency_key_gets_the_first_result() {
    let sdl = partnerhub::graphql::sdl();
    for input in [
        "CreateCustomerInput",
        "CreateOrganizationInput",
        "CreateSubscriptionInput",
        "RecordPaymentInput",
        "RunBillingInput",
        "ClaimWelcomeGiftInput",
    ] {
        let start = sdl.find(&format!("input {input} {{")).unwrap_or_else(|| panic!("no {input}"));
        let block = &sdl[start..start + sdl[start..].find("\n}").unwrap()];
        assert!(block.contains("idempotencyKey: String"), "{input} takes no idempotencyKey");
    }

    // Development shows the invitation token (production only e-mails it).
    let app = TestApp::spawn_with(development).await;
    let world = app.demo().await;
    let (anna, vera, fiona, bruno) =
        (world.token("anna@"), world.token("vera.admin@"), world.token("fiona.finance@"), world.token("bruno@"));

    // createCustomer: the same customer, grant and invitation; a new token for the invitation.
    let create = "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } grant { id } invitation { id } invitationToken } }";
    let input = json!({ "name": "Retry Roofing", "country": "AT", "adminEmail": "boss@retry.example", "idempotencyKey": "cust-1" });
    let first = app.gql(Some(&anna), create, json!({ "i": input.clone() })).await;
    let again = app.gql(Some(&anna), create, json!({ "i": input.clone() })).await;
    assert_no_errors(&first);
    assert_no_errors(&again);
    let (a, b) = (&first["data"]["createCustomer"], &again["data"]["createCustomer"]);
    for part in ["customer", "grant", "invitation"] {
        assert_eq!(a[part]["id"], b[part]["id"], "{part}");
    }
    assert_ne!(a["invitationToken"], b["invitationToken"], "the lost token is replaced");
    let customers =
        app.gql(Some(&anna), "{ customers(filter: {search: \"Retry Roofing\"}) { totalCount } }", json!({})).await;
    assert_eq!(customers["data"]["customers"]["totalCount"], 1, "{customers}");
    let other = app.gql(Some(&anna), create, json!({ "i": { "name": "Other Roofing", "country": "AT", "adminEmail": "boss@other.example", "idempotencyKey": "cust-1" } })).await;
    assert_eq!(error_code(&other), "CONFLICT", "the key with other input");
    // The abusive side: a partner that gave its access up cannot replay the key to get a fresh
    // ADMIN invitation token for a customer it no longer serves.
    let ended = json!({ "name": "Ended Roofing", "country": "AT", "adminEmail": "boss@ended.example", "idempotencyKey": "cust-2" });
    let made = app.gql(Some(&anna), create, json!({ "i": ended.clone() })).await;
    let grant = made["data"]["createCustomer"]["grant"]["id"].clone();
    let end = app
        .gql(
            Some(&anna),
            "mutation($id: ID!) { endGrant(input: {id: $id}) { grant { status } } }",
            json!({ "id": grant }),
        )
        .await;
    assert_no_errors(&end);
    let replayed = app.gql(Some(&anna), create, json!({ "i": ended })).await;
    assert_eq!(error_code(&replayed), "NOT_FOUND", "{replayed}");
    assert!(replayed["data"].is_null(), "no token: {replayed}");
    let bruno_same = app.gql(Some(&bruno), create, json!({ "i": input })).await;
    assert_no_errors(&bruno_same);
    assert_ne!(bruno_same["data"]["createCustomer"]["customer"]["id"], a["customer"]["id"], "keys are per user");

    // claimWelcomeGift: the same gift, where a second claim without the key is CONFLICT.
    let gifts = app
        .gql(
            None,
            "{ programs(first: 1) { nodes { tiers { nodes { benefits { welcomeGiftProducts { id sku } } } } } } }",
            json!({}),
        )
        .await;
    let d385 = gifts["data"]["programs"]["nodes"][0]["tiers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["benefits"]["welcomeGiftProducts"].as_array().unwrap().clone())
        .find(|p| p["sku"] == "D385")
        .unwrap()["id"]
        .clone();
    let claim = "mutation($i: ClaimWelcomeGiftInput!) { claimWelcomeGift(input: $i) { welcomeGift { id } } }";
    let gift =
        json!({ "productId": d385, "shippingAddress": "Brivibas iela 1, Riga LV-1010", "idempotencyKey": "gift-1" });
    let first = app.gql(Some(&bruno), claim, json!({ "i": gift.clone() })).await;
    let again = app.gql(Some(&bruno), claim, json!({ "i": gift.clone() })).await;
    assert_no_errors(&again);
    assert_eq!(first["data"], again["data"]);
    let mut keyless = gift.clone();
    keyless.as_object_mut().unwrap().remove("idempotencyKey");
    assert_eq!(error_code(&app.gql(Some(&bruno), claim, json!({ "i": keyless })).await), "CONFLICT");

    // runBilling: the invoices of the first run, not an empty list.
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let plans = app.gql(Some(&vera), "{ products { nodes { sku plans { id code } } } }", json!({})).await;
    let plan =
        plans["data"]["products"]["nodes"].as_array().unwrap().iter().find(|p| p["sku"] == "D385").unwrap()["plans"][0]
            ["id"]
            .clone();
    let sub = app
        .gql(Some(&anna), "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }",
            json!({ "i": { "customerId": edelweiss, "planId": plan, "seats": 3, "billedTo": "PARTNER", "idempotencyKey": "sub-1" } }))
        .await;
    assert_no_errors(&sub);
    let next =
        (chrono::Utc::now().date_naive().with_day(1).unwrap() + chrono::Months::new(1)).format("%Y-%m").to_string();
    let run = "mutation($i: RunBillingInput!) { runBilling(input: $i) { invoices { id number } } }";
    let keyed = json!({ "i": { "period": next, "idempotencyKey": "run-1" } });
    let first = app.gql(Some(&fiona), run, keyed.clone()).await;
    assert_no_errors(&first);
    assert!(!first["data"]["runBilling"]["invoices"].as_array().unwrap().is_empty(), "{first}");
    let again = app.gql(Some(&fiona), run, keyed).await;
    assert_eq!(again["data"], first["data"], "the retry answers with the first run's invoices");
    let keyless = app.gql(Some(&fiona), run, json!({ "i": { "period": next } })).await;
    assert_eq!(keyless["data"]["runBilling"]["invoices"], json!([]), "without a key, nothing is left to bill");
    let drafts =
        app.gql(Some(&fiona), run, json!({ "i": { "period": next, "issue": false, "idempotencyKey": "run-1" } })).await;
    assert_eq!(error_code(&drafts), "CONFLICT");
}
