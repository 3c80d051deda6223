//! The HTTP surface: /graphql, /healthz, /readyz; request ids, panics turned into INTERNAL.

mod auth;
pub mod csv;
mod directory;
mod exports;
mod files;
mod graphiql;
mod graphql;
mod invitations;
mod landing;
pub mod limits;
mod live;
mod pages;
pub mod persisted;
mod tenders;
mod upload;

use std::{panic::AssertUnwindSafe, time::Instant};

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use futures_util::FutureExt;
use serde_json::json;
use tracing::Instrument;

use crate::{AppState, error::code, telemetry};

pub use graphql::error_body;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(landing::page))
        .route("/schema.graphql", get(landing::schema))
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphiql/{name}", get(graphiql::asset))
        .route("/auth/providers", get(auth::providers))
        .route("/auth/login", get(auth::login))
        .route("/auth/callback", get(auth::callback))
        .route("/auth/logout", axum::routing::post(auth::logout))
        .route("/exports/invoices.csv", get(exports::invoices))
        .route("/exports/payouts/{file}", get(exports::payouts))
        .route("/files/{id}", get(files::download))
        .route("/invitations/accept", get(invitations::show).post(invitations::accept))
        .route("/partners", get(directory::search))
        .route("/partners/{slug}", get(directory::profile))
        .route("/tenders/new", get(tenders::new).post(tenders::post))
        .route("/tenders/confirm", get(tenders::confirm_page).post(tenders::confirm))
        .route("/tenders/manage", get(tenders::manage).post(tenders::award))
        .route("/assets/site.css", get(pages::stylesheet))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), request_context))
        .layer(cors(&state.settings.cors_origins))
        .with_state(state)
}

/// Browser dashboards on the listed origins may call the API with a bearer token or with the
/// session cookie (credentials are allowed, so the list is explicit: never `*`). A preflight
/// from any other origin is answered without `Access-Control-Allow-Origin`, and the browser
/// stops there.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("x-partnerhub-organization"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER, header::WWW_AUTHENTICATE])
        .allow_credentials(true)
        .max_age(std::time::Duration::from_secs(600))
}

/// The GraphQL operation a response answered, for the metrics (set by the GraphQL handler).
#[derive(Clone)]
pub struct OperationName(pub String);

/// One span per request with its id, the id echoed in `X-Request-Id`, a panic anywhere below
/// answered as INTERNAL with that id (the log has the rest), a request that outlives
/// `PARTNERHUB_REQUEST_TIMEOUT` answered 504 `TIMEOUT` (dropping it rolls back its transaction),
/// and the request counted in the metrics with its statements.
async fn request_context(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let request_id =
        telemetry::request_id_from_header(request.headers().get("x-request-id").and_then(|v| v.to_str().ok()));
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let span = tracing::info_span!("request", request_id = %request_id, method = %request.method(), path = %request.uri().path());
    let started = Instant::now();
    let id = request_id.clone();
    let limit = state.settings.operations.request_timeout;
    let (mut response, statements) = crate::metrics::counting_statements(telemetry::with_request_id(
        request_id.clone(),
        async move {
            match tokio::time::timeout(limit, AssertUnwindSafe(next.run(request)).catch_unwind()).await {
                Ok(Ok(response)) => response,
                Ok(Err(_)) => {
                    tracing::error!(request_id = %id, "request handler panicked");
                    let message = format!("internal error; request id {id}");
                    (StatusCode::INTERNAL_SERVER_ERROR, Json(error_body(&message, code::INTERNAL))).into_response()
                }
                Err(_) => {
                    tracing::warn!(request_id = %id, limit_ms = limit.as_millis() as u64, "request timed out");
                    let message = format!(
                        "the request took longer than {} s and was stopped; nothing it began was kept; request id {id}",
                        limit.as_secs_f64()
                    );
                    (StatusCode::GATEWAY_TIMEOUT, Json(error_body(&message, code::TIMEOUT))).into_response()
                }
            }
        }
        .instrument(span.clone()),
    ))
    .await;
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = elapsed.as_millis() as u64,
            statements,
            "served"
        )
    });
    let operation = response.extensions().get::<OperationName>().map_or_else(String::new, |o| o.0.clone());
    if response.status() == StatusCode::GATEWAY_TIMEOUT {
        crate::metrics::error(code::TIMEOUT);
    } else if response.status().is_server_error() && operation.is_empty() {
        crate::metrics::error(code::INTERNAL);
    }
    crate::metrics::request(&route, &operation, response.status().as_u16(), elapsed, statements);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The client's address, when the server was started with connection info (tests that call
/// the router directly have none).
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let info = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(ClientAddr(info.map(|axum::extract::ConnectInfo(addr)| addr.ip())))
    }
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "alive" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.ctx.db.ping().await {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "database unreachable" }))).into_response()
        }
    }
}

/// An application error answered outside GraphQL, in the same JSON shape.
pub(crate) fn error_response(err: crate::error::AppError) -> Response {
    crate::metrics::error(err.code());
    let response = (status_for(&err), Json(error_body(&err.public_message(), err.code()))).into_response();
    with_error_headers(response, &err)
}

/// `WWW-Authenticate` on a 401, `Retry-After` on a 429.
pub(crate) fn with_error_headers(mut response: Response, err: &crate::error::AppError) -> Response {
    use crate::error::AppError;
    match err {
        AppError::Unauthenticated(_) => {
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        AppError::RateLimited { retry_after } => {
            if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
            }
        }
        _ => {}
    }
    response
}

/// The HTTP status of an error answered before or outside GraphQL execution.
pub(crate) fn status_for(err: &crate::error::AppError) -> StatusCode {
    use crate::error::AppError;
    match err {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::BadInput { .. }
        | AppError::Conflict(_)
        | AppError::ConflictOn { .. }
        | AppError::Duplicate { .. } => StatusCode::BAD_REQUEST,
    }
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(error_body("no such endpoint; the API is at /graphql", code::NOT_FOUND)))
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request as HttpRequest};
    use tower::ServiceExt;

    use super::*;

    async fn boom() -> StatusCode {
        panic!("secret detail: relation users")
    }

    #[tokio::test]
    async fn a_panic_becomes_internal_with_the_request_id() {
        let settings = crate::config::Settings::from_vars(&Default::default()).unwrap();
        let app = crate::Application::build(
            crate::config::Settings {
                database_url: "sqlite::memory:".into(),
                files: crate::files::Location::Local(std::env::temp_dir().join("partnerhub-unit-files")),
                ..settings
            },
            std::sync::Arc::new(crate::clock::SystemClock),
        )
        .await
        .unwrap();
        let app: Router = Router::new()
            .route("/boom", get(boom))
            .layer(middleware::from_fn_with_state(app.state.clone(), request_context))
            .with_state(app.state.clone());
        let response = app.oneshot(HttpRequest::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let id = response.headers().get("x-request-id").unwrap().to_str().unwrap().to_string();
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["errors"][0]["extensions"]["code"], "INTERNAL");
        let message = json["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(&id));
        assert!(!message.contains("secret"));
    }
}
