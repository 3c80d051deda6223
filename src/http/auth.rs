//! /auth/*: the browser side of SSO. Failures are small HTML pages with a clear status
//! (400 for a bad or replayed request, 503 when the provider cannot be reached).

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde_json::json;

use super::ClientAddr;
use crate::{
    AppState,
    auth::{oidc::LoginError, session},
    error::AppError,
    service::identity,
    telemetry,
};

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let escape = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>{m}</p><p><a href=\"/\">Back</a></p><p><small>request id {id}</small></p></body></html>",
        t = escape(title),
        m = escape(message),
        id = telemetry::current_request_id(),
    );
    (status, Html(body)).into_response()
}

fn login_error(err: LoginError) -> Response {
    match err {
        LoginError::ProviderUnavailable => {
            page(StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", &err.to_string())
        }
        LoginError::Internal(detail) => {
            tracing::error!(detail = %detail, "sign-in failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, "Sign-in failed", "internal error")
        }
        other => {
            tracing::info!(reason = %other, "sign-in refused");
            page(StatusCode::BAD_REQUEST, "Sign-in refused", &other.to_string())
        }
    }
}

pub async fn providers(State(state): State<AppState>) -> impl IntoResponse {
    let list: Vec<_> = state
        .providers
        .list()
        .into_iter()
        .map(|p| json!({ "key": p.key, "displayName": p.display_name, "loginUrl": format!("/auth/login?provider={}", p.key) }))
        .collect();
    Json(json!({ "providers": list }))
}

/// Sign-in attempts (login starts and callbacks) are limited per client address.
fn too_many(state: &AppState, client: Option<std::net::IpAddr>) -> Option<Response> {
    let wait = state.auth_limits.sign_in_attempt(client)?;
    let seconds = super::limits::retry_after_secs(wait);
    let mut response =
        page(StatusCode::TOO_MANY_REQUESTS, "Too many sign-in attempts", &format!("Try again in {seconds} seconds."));
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Some(response)
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = too_many(&state, client) {
        return refused;
    }
    let Some(provider) = params.get("provider") else {
        return page(StatusCode::BAD_REQUEST, "Sign-in refused", "name a provider: /auth/login?provider=<key>");
    };
    match state
        .providers
        .begin(&state.ctx.db, provider, params.get("returnTo").map(String::as_str), state.ctx.now())
        .await
    {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(err) => login_error(err),
    }
}

pub async fn callback(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = too_many(&state, client) {
        return refused;
    }
    let Some(state_param) = params.get("state") else {
        return login_error(LoginError::BadState);
    };
    let Some(code) = params.get("code") else {
        let reason = params.get("error").cloned().unwrap_or_else(|| "no authorization code".into());
        return login_error(LoginError::Refused(reason));
    };
    let now = state.ctx.now();
    let logged_in = match state
        .providers
        .finish(&state.ctx.db, state_param, code, params.get("iss").map(String::as_str), now)
        .await
    {
        Ok(l) => l,
        Err(err) => return login_error(err),
    };
    let lifetime = state.settings.session_lifetime;
    let secret =
        match identity::create_session(&state.ctx.db, logged_in.user.id, &logged_in.provider, lifetime, now).await {
            Ok(s) => s,
            Err(err) => return login_error(LoginError::Internal(err.to_string())),
        };
    tracing::info!(user_id = %logged_in.user.id, provider = %logged_in.provider, "signed in");
    let mut response = Redirect::to(&logged_in.return_to).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&state.cookie.set(&secret, lifetime)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Ends the session of the cookie sent, on every node, and clears the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(err) = same_origin(&state, &headers) {
        return super::error_response(err);
    }
    let secret = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).and_then(session::secret_from_cookies);
    if let Some(secret) = secret
        && let Err(err) = identity::end_session(&state.ctx.db, secret).await
    {
        return super::error_response(err);
    }
    let mut response = Json(json!({ "signedOut": true })).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&state.cookie.clear()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Requests authenticated by cookie must come from our own pages or from a dashboard origin
/// listed in `PARTNERHUB_CORS_ORIGINS`: a browser names the page's origin in `Origin` (and
/// `Sec-Fetch-Site`); anything else is refused.
pub fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    let listed = origin.as_deref().is_some_and(|o| {
        o == state.settings.public_url.to_ascii_lowercase() || state.settings.cors_origins.iter().any(|c| c == o)
    });
    let cross_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site");
    let foreign = origin.is_some() && !listed;
    if foreign || (cross_site && !listed) {
        return Err(AppError::Forbidden("cookie-authenticated requests must come from this site".into()));
    }
    Ok(())
}
