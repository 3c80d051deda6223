//! A browser, as far as sign-in needs one: follows the provider's redirects with its cookies,
//! posts the login and consent forms, and hands the callback to the app, redirects off.

use reqwest::{Response, StatusCode, header};
use serde_json::Value;
use url::Url;

use crate::{
    helpers::TestApp,
    idp::{PUBLIC_URL, SECURE_PUBLIC_URL},
};

fn location(response: &Response, base: &str) -> String {
    let raw =
        response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).expect("redirect without Location");
    Url::parse(base).unwrap().join(raw).unwrap().to_string()
}

fn no_redirects(cookies: bool) -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(cookies).build().unwrap()
}

/// GET /auth/login on the app, as a browser would.
pub async fn start(app: &TestApp, provider: &str, return_to: Option<&str>) -> Response {
    let mut url = format!("{}/auth/login?provider={provider}", app.base);
    if let Some(r) = return_to {
        url.push_str(&format!("&returnTo={}", urlencode(r)));
    }
    no_redirects(false).get(url).send().await.unwrap()
}

pub fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Signs in at the provider as `login`; returns the callback URL the provider sends back to.
pub async fn authorize(auth_url: &str, login: &str) -> String {
    let client = no_redirects(true);
    let mut url = auth_url.to_string();
    for _ in 0..20 {
        if url.starts_with(PUBLIC_URL) || url.starts_with(SECURE_PUBLIC_URL) {
            return url;
        }
        let response = client.get(&url).send().await.unwrap();
        if response.status().is_redirection() {
            url = location(&response, &url);
            continue;
        }
        assert_eq!(response.status(), StatusCode::OK, "unexpected page at {url}");
        let page = response.text().await.unwrap();
        let form: Vec<(&str, &str)> = if page.contains("name=\"login\"") {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else {
            vec![("prompt", "consent")]
        };
        let response = client.post(&url).form(&form).send().await.unwrap();
        assert!(response.status().is_redirection(), "form at {url} answered {}", response.status());
        url = location(&response, &url);
    }
    panic!("the provider never redirected back");
}

/// Hands the provider's callback to the app (on its real address).
pub async fn callback(app: &TestApp, callback_url: &str) -> Response {
    let parsed = Url::parse(callback_url).unwrap();
    let url = format!("{}{}?{}", app.base, parsed.path(), parsed.query().unwrap_or(""));
    no_redirects(false).get(url).send().await.unwrap()
}

/// The `name=value` of the session cookie the response sets, if any.
pub fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.contains("partnerhub_session=") && !c.contains("Max-Age=0"))
        .map(|c| c.split(';').next().unwrap().to_string())
}

/// The whole flow; returns the session cookie.
pub async fn sign_in(app: &TestApp, provider: &str, login: &str) -> String {
    let started = start(app, provider, Some("/home")).await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER, "login start");
    let auth_url = started.headers()[header::LOCATION].to_str().unwrap().to_string();
    let back = authorize(&auth_url, login).await;
    let finished = callback(app, &back).await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER, "callback: {:?}", finished.text().await);
    assert_eq!(finished.headers()[header::LOCATION], "/home");
    session_cookie(&finished).expect("a session cookie")
}

/// A GraphQL request authenticated by cookie.
pub async fn gql(app: &TestApp, cookie: &str, query: &str, variables: Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(header::COOKIE, cookie)
        .json(&serde_json::json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The app as configured for SSO tests: the three test providers, plain-HTTP development.
/// A partner dashboard on another origin, listed in `PARTNERHUB_CORS_ORIGINS`.
pub const DASHBOARD: &str = "http://localhost:3000";

pub async fn sso_app() -> TestApp {
    let providers = crate::idp::idp().providers();
    TestApp::spawn_with(move |s| {
        s.environment = partnerhub::config::Environment::Development;
        s.public_url = PUBLIC_URL.into();
        s.oidc_providers = providers;
        s.cors_origins = vec![DASHBOARD.into()];
    })
    .await
}
