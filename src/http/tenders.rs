//! `/tenders/new`, `/tenders/confirm` and `/tenders/manage`: a visitor posts a call for tenders,
//! confirms the e-mail through the link the outbox sent, and later reads the responses and awards
//! one with the private link it got. Plain forms on the same service as GraphQL's `postTender`,
//! `confirmTender` and `awardTender`.
//!
//! Every form carries a CSRF token that must equal the `ph_csrf` cookie (double submit): the
//! cookie is `SameSite=Strict` and `HttpOnly`, so another site can neither send it nor read it.
//! A form refused for any reason is shown again with what the visitor typed.

use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use minijinja::context;
use rust_decimal::Decimal;

use super::{ClientAddr, pages};
use crate::{
    AppState,
    error::AppError,
    ids::{self, NodeType},
    service::tenders::{self, Awarder, NewTender, Posted},
};

const CSRF_COOKIE: &str = "ph_csrf";

/// The form as the visitor filled it (every field text, kept as typed).
#[derive(serde::Deserialize, serde::Serialize, Default, Clone)]
pub struct TenderForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    budget_min: String,
    #[serde(default)]
    budget_max: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    product_lines: String,
    #[serde(default)]
    expertise: String,
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
}

/// A field of the service's input, as the form names it.
fn form_field(service_field: &str) -> &str {
    match service_field {
        "budget.min" => "budget_min",
        "budget.max" => "budget_max",
        "budget.currency" => "currency",
        "productLines" => "product_lines",
        "contactName" => "contact_name",
        "contactEmail" => "contact_email",
        other => other,
    }
}

fn label(form_field: &str) -> &str {
    match form_field {
        "title" => "Title",
        "description" => "Description",
        "budget_min" => "Budget from",
        "budget_max" => "Budget up to",
        "currency" => "Currency",
        "region" => "Countries",
        "product_lines" => "Product lines",
        "expertise" => "Expertise required",
        "deadline" => "Deadline",
        "contact_name" => "Your name",
        "contact_email" => "Your e-mail",
        _ => "The form",
    }
}

/// What went wrong, in words, and the field it is about.
fn error_view(err: &AppError) -> minijinja::Value {
    match err {
        AppError::BadInput { field: Some(f), message } => {
            let field = form_field(f);
            let text = format!("{} {message}.", label(field));
            context! { field => field, text => text.clone(), message => format!("Please correct this: {text}") }
        }
        AppError::RateLimited { retry_after } => {
            let minutes = retry_after.div_ceil(60);
            context! { message => format!(
                "You have posted several calls for tenders in a short time. Please try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            ) }
        }
        AppError::NotFound(tenders::LINK) => context! {
            message => "This confirmation link is not valid, or was already used. If you have not published your call yet, post it again."
        },
        AppError::Forbidden(_) => {
            context! { message => "This form was open too long or came from another site. Please check it and send it again." }
        }
        other => context! { message => other.public_message() },
    }
}

/// The visitor's CSRF token: the cookie's, or a new one.
fn csrf_of(headers: &HeaderMap) -> (String, bool) {
    let existing = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, value)| *name == CSRF_COOKIE && value.len() >= 32)
        .map(|(_, value)| value.to_string());
    match existing {
        Some(token) => (token, false),
        None => (crate::secrets::generate().secret, true),
    }
}

/// Whether a POST carries the token of its own cookie, and no browser says it is cross-site.
fn csrf_holds(headers: &HeaderMap, sent: &str) -> bool {
    let (cookie, fresh) = csrf_of(headers);
    let cross_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site");
    !fresh && !cross_site && !sent.is_empty() && constant_time_eq(cookie.as_bytes(), sent.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A page of these forms: not cached, no Referer (links carry tokens), with the CSRF cookie.
fn page(state: &AppState, status: StatusCode, template: &str, csrf: (&str, bool), vars: minijinja::Value) -> Response {
    let vars = context! { csrf => csrf.0, ..vars };
    let mut response = pages::render(status, template, vars);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if csrf.1 {
        let secure = if state.cookie.secure { "; Secure" } else { "" };
        let cookie = format!("{CSRF_COOKIE}={}; HttpOnly{secure}; SameSite=Strict; Path=/tenders", csrf.0);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, value);
        }
    }
    response
}

pub async fn new(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (csrf, fresh) = csrf_of(&headers);
    let form = TenderForm { currency: "EUR".into(), ..Default::default() };
    page(
        &state,
        StatusCode::OK,
        "tender_new.html",
        (&csrf, fresh),
        context! { title => "Post a call for tenders", form },
    )
}

fn list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn amount(field: &'static str, text: &str) -> Result<Decimal, AppError> {
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace() && *c != '\'' && *c != '_').collect();
    cleaned.parse::<Decimal>().map_err(|_| AppError::bad_input(field, "must be an amount such as 12000 or 12000.50"))
}

/// The form's text as the service's input; a field that does not parse names itself.
fn parse(form: &TenderForm) -> Result<NewTender, AppError> {
    let day = NaiveDate::parse_from_str(form.deadline.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::bad_input("deadline", "must be a date such as 2027-01-31"))?;
    let end_of_day = day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default());
    Ok(NewTender {
        title: form.title.clone(),
        description: form.description.clone(),
        budget_min: amount("budget.min", &form.budget_min)?,
        budget_max: amount("budget.max", &form.budget_max)?,
        currency: form.currency.trim().to_ascii_uppercase(),
        region: list(&form.region),
        product_lines: list(&form.product_lines),
        expertise: list(&form.expertise),
        deadline: Utc.from_utc_datetime(&end_of_day),
        contact_name: form.contact_name.clone(),
        contact_email: form.contact_email.clone(),
    })
}

pub async fn post(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<TenderForm>,
) -> Response {
    let (csrf, fresh) = csrf_of(&headers);
    let again = |status: StatusCode, err: &AppError| {
        let mut response = page(
            &state,
            status,
            "tender_new.html",
            (&csrf, fresh),
            context! { title => "Post a call for tenders", form => form.clone(), error => error_view(err) },
        );
        response = super::with_error_headers(response, err);
        response
    };
    if !csrf_holds(&headers, &form.csrf) {
        return again(StatusCode::FORBIDDEN, &AppError::Forbidden("csrf".into()));
    }
    let input = match parse(&form) {
        Ok(input) => input,
        Err(err) => return again(StatusCode::BAD_REQUEST, &err),
    };
    // The pages are the visitors'; a signed-in customer posts through GraphQL.
    match tenders::post(&state.ctx, None, client, input).await {
        Ok(Posted::AwaitingConfirmation { email, expires_at }) => page(
            &state,
            StatusCode::OK,
            "tender_sent.html",
            (&csrf, fresh),
            context! {
                title => "Check your e-mail", email, title_posted => form.title.trim(),
                expires => expires_at.format("%Y-%m-%d %H:%M").to_string(),
            },
        ),
        Ok(Posted::Published(_)) => again(StatusCode::INTERNAL_SERVER_ERROR, &AppError::internal("published")),
        Err(err) => {
            let status = super::status_for(&err);
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(error = %err, "posting a tender failed");
            }
            again(status, &err)
        }
    }
}

#[derive(serde::Deserialize)]
pub struct TokenParam {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

fn tender_view(t: &entity::tender::Model) -> minijinja::Value {
    let region: Vec<String> = serde_json::from_value(t.region.clone()).unwrap_or_default();
    context! {
        title => t.title, description => t.description, deadline => t.deadline.format("%Y-%m-%d %H:%M").to_string(),
        budget => format!("{} – {} {}", t.budget_min.to_decimal(), t.budget_max.to_decimal(), t.currency),
        status => t.status.as_str().to_lowercase(), region,
    }
}

pub async fn confirm_page(State(state): State<AppState>, headers: HeaderMap, Query(p): Query<TokenParam>) -> Response {
    let (csrf, fresh) = csrf_of(&headers);
    let vars = match tenders::pending(&state.ctx, &p.token).await {
        Ok(t) => context! { title => "Confirm your call for tenders", tender => tender_view(&t), token => p.token },
        Err(err) => {
            context! { title => "Confirm your call for tenders", error => error_view(&err).get_attr("message").ok() }
        }
    };
    page(&state, StatusCode::OK, "tender_confirm.html", (&csrf, fresh), vars)
}

pub async fn confirm(State(state): State<AppState>, headers: HeaderMap, Form(p): Form<TokenParam>) -> Response {
    let (csrf, fresh) = csrf_of(&headers);
    let title = "Confirm your call for tenders";
    if !csrf_holds(&headers, &p.csrf) {
        let err = AppError::Forbidden("csrf".into());
        let vars = match tenders::pending(&state.ctx, &p.token).await {
            Ok(t) => {
                context! { title, tender => tender_view(&t), token => p.token, error => error_view(&err).get_attr("message").ok() }
            }
            Err(e) => context! { title, error => error_view(&e).get_attr("message").ok() },
        };
        return page(&state, StatusCode::FORBIDDEN, "tender_confirm.html", (&csrf, fresh), vars);
    }
    match tenders::confirm(&state.ctx, &p.token).await {
        Ok(done) => {
            let key: String = url::form_urlencoded::byte_serialize(done.manage_key.as_bytes()).collect();
            page(
                &state,
                StatusCode::OK,
                "tender_confirm.html",
                (&csrf, fresh),
                context! {
                    title => "Your call for tenders is published", published => true,
                    tender => tender_view(&done.tender), manage_link => format!("/tenders/manage?key={key}"),
                },
            )
        }
        Err(err) => page(
            &state,
            super::status_for(&err),
            "tender_confirm.html",
            (&csrf, fresh),
            context! { title, error => error_view(&err).get_attr("message").ok() },
        ),
    }
}

#[derive(serde::Deserialize)]
pub struct ManageParam {
    #[serde(default)]
    key: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    response: String,
}

async fn manage_page(
    state: &AppState,
    csrf: (&str, bool),
    key: &str,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let ctx = &state.ctx;
    let loaded = async {
        let Some(found) = tenders::by_manage_key(&ctx.db, key).await? else { return Ok(None) };
        let responses = tenders::responses_by_key(&ctx.db, &found).await?;
        let names = tenders::names(&ctx.db, responses.iter().map(|r| r.partner_id).collect()).await?;
        Ok::<_, AppError>(Some((found, responses, names)))
    };
    let (found, responses, names) = match loaded.await {
        Ok(Some(x)) => x,
        Ok(None) => {
            return page(
                state,
                StatusCode::NOT_FOUND,
                "tender_manage.html",
                csrf,
                context! { title => "Call for tenders", error => "This link does not open a call for tenders. Use the link of the e-mail that confirmed its publication." },
            );
        }
        Err(err) => {
            tracing::error!(error = %err, "a tender page failed");
            return page(
                state,
                StatusCode::INTERNAL_SERVER_ERROR,
                "tender_manage.html",
                csrf,
                context! { title => "Call for tenders", error => "The call for tenders could not be read. Please try again in a moment." },
            );
        }
    };
    let responses: Vec<_> = responses
        .iter()
        .map(|r| {
            context! {
                id => ids::encode(NodeType::TenderResponse, r.id),
                partner => names.get(&r.partner_id).cloned().unwrap_or_default(),
                price => format!("{} {}", r.price.to_decimal(), r.currency), proposal => r.proposal,
                sent => r.created_at.format("%Y-%m-%d").to_string(),
                awarded => found.awarded_response_id == Some(r.id),
            }
        })
        .collect();
    let can_award = matches!(found.status, entity::enums::TenderStatus::Open | entity::enums::TenderStatus::Closed);
    page(
        state,
        status,
        "tender_manage.html",
        csrf,
        context! {
            title => found.title.clone(), tender => tender_view(&found), responses, can_award, key, notice, error,
        },
    )
}

pub async fn manage(State(state): State<AppState>, headers: HeaderMap, Query(p): Query<ManageParam>) -> Response {
    let (csrf, fresh) = csrf_of(&headers);
    manage_page(&state, (&csrf, fresh), &p.key, StatusCode::OK, None, None).await
}

pub async fn award(State(state): State<AppState>, headers: HeaderMap, Form(p): Form<ManageParam>) -> Response {
    let (csrf, fresh) = csrf_of(&headers);
    if !csrf_holds(&headers, &p.csrf) {
        let message = error_view(&AppError::Forbidden("csrf".into())).get_attr("message").ok().map(|m| m.to_string());
        return manage_page(&state, (&csrf, fresh), &p.key, StatusCode::FORBIDDEN, None, message).await;
    }
    let Some(response_id) = ids::decode_as(NodeType::TenderResponse, &p.response) else {
        let message = Some("That response is not one of this call for tenders.".to_string());
        return manage_page(&state, (&csrf, fresh), &p.key, StatusCode::BAD_REQUEST, None, message).await;
    };
    match tenders::award(&state.ctx, Awarder::Key(&p.key), response_id).await {
        Ok(_) => {
            let notice = Some("Awarded. The partner you picked and the others are told by e-mail.".to_string());
            manage_page(&state, (&csrf, fresh), &p.key, StatusCode::OK, notice, None).await
        }
        Err(err) => {
            let message = error_view(&err).get_attr("message").ok().map(|m| m.to_string());
            manage_page(&state, (&csrf, fresh), &p.key, super::status_for(&err), None, message).await
        }
    }
}
