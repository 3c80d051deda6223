//! GraphQL over HTTP: methods, media types, limits, error shape, operations endpoints.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let alive = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(alive.status(), OK);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_a_sane_one() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(!header(r.headers(), "x-request-id").is_empty());
    let r = app.client.get(app.url("/healthz")).header("X-Request-Id", "abc-123").send().await.unwrap();
    assert_eq!(header(r.headers(), "x-request-id"), "abc-123");
    let r = app.client.get(app.url("/healthz")).header("X-Request-Id", "no spaces <allowed>").send().await.unwrap();
    assert_ne!(header(r.headers(), "x-request-id"), "no spaces <allowed>");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_refused_with_415() {
    let app = TestApp::spawn().await;
    for content_type in
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/json; charset=utf-16"]
    {
        let r = app
            .client
            .post(app.url("/graphql"))
            .header("Content-Type", content_type)
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
    }
    let r = app.client.post(app.url("/graphql")).body(r#"{"query":"{ __typename }"}"#).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "no content type at all");
}

#[tokio::test]
async fn queries_work_over_get_but_mutations_are_405() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/graphql")).query(&[("query", "{ __typename }")]).send().await.unwrap();
    assert_eq!(r.status(), OK);
    assert_eq!(r.json::<Value>().await.unwrap()["data"]["__typename"], "Query");

    let mutation = r#"mutation { createApiToken(input: {name: "x"}) { token } }"#;
    let r = app.client.get(app.url("/graphql")).query(&[("query", mutation)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(r.headers(), "allow"), "POST");

    // The operation actually selected decides, not the first one in the document.
    let doc = "query A { __typename } mutation B { createApiToken(input: {name: \"x\"}) { token } }";
    let r = app.client.get(app.url("/graphql")).query(&[("query", doc), ("operationName", "B")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let r = app.client.get(app.url("/graphql")).query(&[("query", doc), ("operationName", "A")]).send().await.unwrap();
    assert_eq!(r.status(), OK);
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused() {
    let app = TestApp::spawn().await;
    let padding = "#".repeat(1024 * 1024 + 10);
    let body = json!({ "query": format!("{{ __typename }}\n{padding}") }).to_string();
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&r.json::<Value>().await.unwrap()), "BAD_USER_INPUT");
}

#[tokio::test]
async fn batches_are_refused_unless_configured() {
    let app = TestApp::spawn().await;
    let batch = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]);
    let r = app.request(None).raw(batch.clone()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await.unwrap()), "BAD_USER_INPUT");

    let app = TestApp::spawn_with(|s| s.graphql.max_batch = 2).await;
    let r = app.request(None).raw(batch).await;
    assert_eq!(r.status(), OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body[1]["data"]["__typename"], "Query");
    let three = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }, { "query": "{ __typename }" }]);
    assert_eq!(app.request(None).raw(three).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_requests_get_400_with_a_code() {
    let app = TestApp::spawn().await;
    let send = |body: &'static str| {
        app.client.post(app.url("/graphql")).header("Content-Type", "application/json").body(body).send()
    };
    for body in
        [r#"{"query":"#, r#"{"query": 1}"#, r#"{"query":"{ __typename }","variables":[]}"#, r#""just a string""#]
    {
        let r = send(body).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&r.json().await.unwrap()), "BAD_USER_INPUT", "{body}");
    }
}

#[tokio::test]
async fn engine_errors_have_codes_and_graphql_response_json_uses_400() {
    let app = TestApp::spawn().await;
    let body = app.gql(None, "{ nope }", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    let body = app.gql(None, "{ viewer { ", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED");

    let r = app
        .client
        .post(app.url("/graphql"))
        .header("Accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ nope }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(header(r.headers(), "content-type").starts_with("application/graphql-response+json"));
    let body: Value = r.json().await.unwrap();
    assert!(body.get("data").is_none());

    let r = app
        .client
        .post(app.url("/graphql"))
        .header("Accept", "text/csv")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn depth_and_complexity_are_limited() {
    let app = TestApp::spawn_with(|s| s.graphql.max_depth = 4).await;
    let world = app.demo().await;
    let token = world.token("anna@");
    let deep = "{ viewer { memberships { nodes { organization { tier { program { name } } } } } } }";
    let body = app.gql(Some(&token), deep, json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().to_lowercase().contains("nested"), "{body}");

    let app = TestApp::spawn_with(|s| s.graphql.max_complexity = 5).await;
    let body =
        app.gql(None, "{ a: viewer { user { id displayName email } } b: viewer { user { id } } }", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
}

/// The schema is public: introspection and GraphiQL are on in production too, unless
/// PARTNERHUB_INTROSPECTION turns them off, and then introspection is a clear error, not a null.
/// Field suggestions stay a development aid.
#[tokio::test]
async fn introspection_is_on_unless_turned_off_and_then_says_so() {
    let app = TestApp::spawn().await;
    let body = app.gql(None, "{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query", "{body}");
    let body = app.gql(None, "{ viewr }", json!({})).await;
    assert!(!body["errors"][0]["message"].as_str().unwrap().contains("viewer"), "no suggestion: {body}");
    let r = app.client.get(app.url("/graphql")).header("Accept", "text/html").send().await.unwrap();
    assert_eq!(r.status(), OK);

    let app = TestApp::spawn_with(|s| s.graphql.introspection = false).await;
    for document in [
        "{ __schema { queryType { name } } }",
        "{ __type(name: \"Query\") { name } }",
        "query { ...F } fragment F on Query { viewer { user { id } } t: __type(name: \"User\") { name } }",
    ] {
        let body = app.gql(None, document, json!({})).await;
        assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{document}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("introspection is turned off"), "{body}");
        assert!(body.get("data").is_none() || body["data"].is_null(), "{body}");
    }
    let body = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query", "__typename is not introspection: {body}");
    let r = app.client.get(app.url("/graphql")).header("Accept", "text/html").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "no GraphiQL without introspection");

    let app = TestApp::spawn_with(development).await;
    let body = app.gql(None, "{ viewr }", json!({})).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("viewer"), "suggestion: {body}");
}

#[tokio::test]
async fn unknown_paths_are_404_with_a_code() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(&r.json().await.unwrap()), "NOT_FOUND");
}

#[tokio::test]
async fn the_landing_page_links_graphiql_the_schema_and_sign_in() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), OK);
    assert!(header(r.headers(), "content-type").starts_with("text/html"));
    assert!(header(r.headers(), "content-security-policy").contains("default-src 'none'"));
    let html = r.text().await.unwrap();
    for link in ["href=\"/graphql\"", "href=\"/schema.graphql\""] {
        assert!(html.contains(link), "{link} in {html}");
    }
    let sdl = app.client.get(app.url("/schema.graphql")).send().await.unwrap().text().await.unwrap();
    assert_eq!(sdl, partnerhub::graphql::sdl(), "the schema served is the one committed");
    let graphiql = app.client.get(app.url("/graphql")).header("Accept", "text/html").send().await.unwrap();
    assert!(header(graphiql.headers(), "content-type").starts_with("text/html"));
    let page = graphiql.text().await.unwrap();
    assert!(!page.contains("unpkg") && !page.contains("https://"), "no CDN: {page}");
}

#[tokio::test]
async fn schema_graphql_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        committed == partnerhub::graphql::sdl(),
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
}

#[tokio::test]
async fn an_unexpected_failure_is_internal_with_the_request_id_and_no_sql() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    // Break the database under the running server.
    app.ctx.db.execute_unprepared("ALTER TABLE programs RENAME TO programs_gone").await.unwrap();
    let r = app
        .request(Some(&world.token("vera.admin@")))
        .raw(json!({ "query": "{ organizations(filter: {kind: PARTNER}) { nodes { name program { name } } } }" }))
        .await;
    let request_id = header(r.headers(), "x-request-id").to_string();
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "INTERNAL", "{body}");
    let text = body.to_string();
    assert!(
        !text.to_lowercase().contains("programs") && !text.contains("SELECT") && !text.contains("no such table"),
        "{text}"
    );
    assert_eq!(body["errors"][0]["extensions"]["requestId"], request_id.as_str());
    assert!(body["errors"][0]["message"].as_str().unwrap().contains(&request_id));
}
