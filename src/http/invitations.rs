//! `/invitations/accept?token=…`: where the invitation e-mail's link leads. It shows the
//! invitation the token opens; a visitor signs in (returning here), then accepts with a form
//! (POST, cookie session, same-origin checked as every cookie request). Plain HTML, no script.

use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use minijinja::{AutoEscape, Environment, context};

use super::ClientAddr;
use crate::{AppState, error::AppError, service::invitations};

const PAGE: &str = include_str!("../../templates/pages/invitation.html");

#[derive(serde::Deserialize)]
pub struct TokenParam {
    token: Option<String>,
}

fn render(status: StatusCode, vars: minijinja::Value) -> Response {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    let html = env.render_str(PAGE, vars).unwrap_or_else(|e| {
        tracing::error!(error = %e, "invitation page failed to render");
        "<!doctype html><title>Error</title><p>internal error</p>".into()
    });
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    // The token is in the address: keep it out of caches and other sites' Referer.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    response
}

fn refused(err: &AppError) -> Response {
    let status = match err {
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = match err {
        AppError::NotFound(_) => "This invitation link is not valid: it may have been replaced by a newer one.".into(),
        other => other.public_message(),
    };
    render(status, context! { title => "Invitation", error => message })
}

pub async fn show(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Query(param): Query<TokenParam>,
) -> Response {
    let token = param.token.unwrap_or_default();
    let (invitation, org, inviter) = match invitations::preview(&state.ctx, &token).await {
        Ok(found) => found,
        Err(err) => return refused(&err),
    };
    let signed_in = match super::graphql::principal(&state, &headers, client).await {
        Ok(Some(p)) => Some(p.user.email.clone().unwrap_or_else(|| p.user.display_name.clone())),
        _ => None,
    };
    let providers: Vec<_> =
        state.providers.list().into_iter().map(|p| context! { key => p.key, name => p.display_name }).collect();
    let vars = context! {
        title => format!("Join {}", org.name),
        token => token.clone(),
        return_to => format!("/invitations/accept?token={}", url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()),
        signed_in => signed_in,
        providers => providers,
        invitation => context! {
            organization => org.name,
            email => invitation.email,
            role => invitation.role.as_str().to_lowercase(),
            inviter => inviter,
            expires => invitation.expires_at.format("%Y-%m-%d").to_string(),
        },
    };
    render(StatusCode::OK, vars)
}

pub async fn accept(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(param): Form<TokenParam>,
) -> Response {
    let token = param.token.unwrap_or_default();
    let principal = match super::graphql::principal(&state, &headers, client).await {
        Ok(p) => p,
        Err(err) => return refused(&err),
    };
    match invitations::accept(&state.ctx, principal.as_deref(), &token).await {
        Ok(membership) => {
            let org = invitations::organization_name(&state.ctx, membership.organization_id).await.unwrap_or_default();
            render(
                StatusCode::OK,
                context! {
                    title => "Welcome",
                    member => context! { organization => org, role => membership.role.as_str().to_lowercase() },
                },
            )
        }
        Err(err) => refused(&err),
    }
}
