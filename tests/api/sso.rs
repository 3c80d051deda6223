//! SSO against real OpenID providers: the whole flow over HTTP, redirects off, and every way a
//! login must be refused without creating a session.

use chrono::TimeDelta;
use entity::session;
use reqwest::{StatusCode, header};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::{browser::*, helpers::*, idp::idp};

const WHO: &str = "{ viewer { authentication user { id email displayName } } }";

async fn sessions(app: &TestApp) -> u64 {
    session::Entity::find().count(&app.ctx.db).await.unwrap()
}

async fn auth_url(app: &TestApp, provider: &str) -> String {
    let started = start(app, provider, None).await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    started.headers()[header::LOCATION].to_str().unwrap().to_string()
}

fn replace_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.to_string(), if k == name { value.to_string() } else { v.to_string() }))
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

#[tokio::test]
async fn users_are_found_by_issuer_and_subject() {
    let app = sso_app().await;
    let first = sign_in(&app, "alpha", "alice").await;
    let (status, me) = gql(&app, &first, WHO, json!({})).await;
    assert_eq!(status, OK, "{me}");
    assert_eq!(me["data"]["viewer"]["authentication"], "SESSION");
    assert_eq!(me["data"]["viewer"]["user"]["email"], "alice@example.test");
    let alice = me["data"]["viewer"]["user"]["id"].clone();

    let again = sign_in(&app, "alpha", "alice").await;
    assert_ne!(again, first, "a new session each time");
    let (_, me) = gql(&app, &again, WHO, json!({})).await;
    assert_eq!(me["data"]["viewer"]["user"]["id"], alice);

    // Same subject, another issuer: another person.
    let other = sign_in(&app, "beta", "alice").await;
    let (_, me) = gql(&app, &other, WHO, json!({})).await;
    assert_ne!(me["data"]["viewer"]["user"]["id"], alice);
    assert_eq!(sessions(&app).await, 3);
}

#[tokio::test]
async fn providers_are_listed() {
    let app = sso_app().await;
    let body: Value = app.client.get(app.url("/auth/providers")).send().await.unwrap().json().await.unwrap();
    let names: Vec<_> =
        body["providers"].as_array().unwrap().iter().map(|p| p["displayName"].as_str().unwrap()).collect();
    assert_eq!(names, ["Alpha Corp", "Beta Cloud", "Forge"]);
    assert_eq!(body["providers"][0]["loginUrl"], "/auth/login?provider=alpha");
}

#[tokio::test]
async fn login_uses_pkce_state_and_nonce() {
    let app = sso_app().await;
    let url = url::Url::parse(&auth_url(&app, "alpha").await).unwrap();
    let params: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(params["code_challenge_method"], "S256");
    assert!(params["state"].len() >= 16 && params["nonce"].len() >= 16);
    assert_eq!(params["redirect_uri"], "http://partnerhub.test/auth/callback");
    assert!(params["scope"].contains("openid") && params["scope"].contains("email"));
}

#[tokio::test]
async fn a_wrong_or_replayed_state_is_refused() {
    let app = sso_app().await;
    let back = authorize(&auth_url(&app, "alpha").await, "alice").await;
    let wrong = callback(&app, &replace_param(&back, "state", "not-the-state")).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(&wrong).is_none());
    assert_eq!(sessions(&app).await, 0);

    let ok = callback(&app, &back).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let replay = callback(&app, &back).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.text().await.unwrap().contains("unknown, used or expired"));
    assert_eq!(sessions(&app).await, 1);
}

#[tokio::test]
async fn a_state_older_than_ten_minutes_is_refused() {
    let app = sso_app().await;
    let back = authorize(&auth_url(&app, "alpha").await, "alice").await;
    app.clock.advance(TimeDelta::minutes(11));
    assert_eq!(callback(&app, &back).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sessions(&app).await, 0);
}

#[tokio::test]
async fn an_answer_naming_another_issuer_is_refused() {
    let app = sso_app().await;
    let back = authorize(&auth_url(&app, "alpha").await, "alice").await;
    let forged = replace_param(&back, "iss", &idp().beta);
    let r = callback(&app, &forged).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(&r).is_none());
    assert_eq!(sessions(&app).await, 0);
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let app = sso_app().await;
    let first = authorize(&auth_url(&app, "alpha").await, "alice").await;
    assert_eq!(callback(&app, &first).await.status(), StatusCode::SEE_OTHER);
    let code = url::Url::parse(&first).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
    // A fresh login whose answer carries the old, used code.
    let second = authorize(&auth_url(&app, "alpha").await, "alice").await;
    let r = callback(&app, &replace_param(&second, "code", &code)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sessions(&app).await, 1);
}

#[tokio::test]
async fn forged_id_tokens_are_refused() {
    let app = sso_app().await;
    let forge = |spec: Value| {
        let client = reqwest::Client::new();
        async move { client.post(format!("{}/forge", idp().forge)).json(&spec).send().await.unwrap() }
    };
    // The control: an honest token from the same provider is accepted.
    forge(json!({})).await;
    let back = authorize(&auth_url(&app, "forge").await, "-").await;
    assert_eq!(callback(&app, &back).await.status(), StatusCode::SEE_OTHER);

    for spec in [
        json!({ "aud": "another-client" }),
        json!({ "expiresIn": -120 }),
        json!({ "signWith": "unknown" }),
        json!({ "nonce": "not-the-nonce" }),
        json!({ "iss": "https://impostor.example" }),
    ] {
        forge(spec.clone()).await;
        let back = authorize(&auth_url(&app, "forge").await, "-").await;
        let r = callback(&app, &back).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{spec}");
        assert!(session_cookie(&r).is_none(), "{spec}");
    }
    assert_eq!(sessions(&app).await, 1);
}

#[tokio::test]
async fn return_to_must_stay_on_this_site() {
    let app = sso_app().await;
    for bad in ["//evil.example", "https://evil.example/x", "/\\evil.example", "evil"] {
        let r = start(&app, "alpha", Some(bad)).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(start(&app, "nobody", None).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn logout_ends_the_session_for_the_next_request() {
    let app = sso_app().await;
    let cookie = sign_in(&app, "alpha", "alice").await;
    let r = app.client.post(app.url("/auth/logout")).header(header::COOKIE, &cookie).send().await.unwrap();
    assert_eq!(r.status(), OK);
    let cleared = r.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(cleared.starts_with("partnerhub_session=;") && cleared.contains("Max-Age=0"));
    let (status, body) = gql(&app, &cookie, WHO, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(sessions(&app).await, 0);
}

#[tokio::test]
async fn a_session_past_its_lifetime_is_refused() {
    let app = sso_app().await;
    let cookie = sign_in(&app, "alpha", "alice").await;
    app.clock.advance(TimeDelta::hours(11));
    assert_eq!(gql(&app, &cookie, WHO, json!({})).await.0, OK);
    app.clock.advance(TimeDelta::hours(1));
    let (status, body) = gql(&app, &cookie, WHO, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn cookie_requests_from_another_site_are_refused() {
    let app = sso_app().await;
    let cookie = sign_in(&app, "alpha", "alice").await;
    let send = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
        let mut r = app.client.post(app.url("/graphql")).header(header::COOKIE, &cookie).json(&json!({ "query": WHO }));
        if let Some(o) = origin {
            r = r.header(header::ORIGIN, o);
        }
        if let Some(s) = fetch_site {
            r = r.header("Sec-Fetch-Site", s);
        }
        r.send()
    };
    assert_eq!(send(Some("https://evil.example"), None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(send(None, Some("cross-site")).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(send(Some("http://partnerhub.test"), Some("same-origin")).await.unwrap().status(), OK);
    // A dashboard listed in PARTNERHUB_CORS_ORIGINS may send the cookie; one that is not, may not.
    assert_eq!(send(Some(DASHBOARD), Some("cross-site")).await.unwrap().status(), OK);
    assert_eq!(send(Some("http://localhost:3001"), Some("cross-site")).await.unwrap().status(), StatusCode::FORBIDDEN);
    // Form posts stay refused whatever the credentials.
    let form = app
        .client
        .post(app.url("/graphql"))
        .header(header::COOKIE, &cookie)
        .form(&[("query", WHO)])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn outside_plain_http_development_the_cookie_is_host_only_and_secure() {
    let providers = idp().providers();
    let app = TestApp::spawn_with(move |s| {
        s.public_url = crate::idp::SECURE_PUBLIC_URL.into();
        s.oidc_providers = providers;
    })
    .await;
    let started = start(&app, "alpha", None).await;
    let back = authorize(started.headers()[header::LOCATION].to_str().unwrap(), "alice").await;
    let r = callback(&app, &back).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let set = r.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("__Host-partnerhub_session="), "{set}");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(flag), "{flag} in {set}");
    }
}

#[tokio::test]
async fn an_unreachable_provider_gives_a_503_page() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut providers = idp().providers();
    providers[0].key = "down".into();
    providers[0].issuer = format!("http://127.0.0.1:{port}");
    // An issuer that differs from the provider's own by one byte is not that provider.
    providers[2].key = "slash".into();
    providers[2].issuer = format!("{}/", idp().forge);
    let app = TestApp::spawn_with(move |s| {
        s.environment = partnerhub::config::Environment::Development;
        s.public_url = crate::idp::PUBLIC_URL.into();
        s.oidc_providers = providers;
    })
    .await;
    let r = start(&app, "down", None).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.text().await.unwrap().contains("cannot be reached"));
    assert_eq!(start(&app, "slash", None).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    // The others still work.
    sign_in(&app, "beta", "bob").await;
}
