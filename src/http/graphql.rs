//! GraphQL over HTTP: POST with a JSON body, GET for queries only, GraphiQL for a browser.
//! Handled here rather than by a generic extractor because the rules are ours: 415 for any body
//! that is not JSON (no cross-site form can call the API), 405 for a mutation over GET, the
//! body limit, batching only when configured, and `application/graphql-response+json`.

use std::{net::IpAddr, sync::Arc};

use async_graphql::{
    BatchResponse, Request as GqlRequest, Response as GqlResponse, Variables,
    parser::{parse_query, types::OperationType},
};
use axum::{
    body::Bytes,
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{
    ClientAddr,
    limits::{self, AuthLimits},
    persisted::{Asked, Refused},
};
use crate::{
    AppState,
    auth::{Principal, session},
    error::{AppError, code},
    graphql::{checks, context::RequestState, loaders},
    service::identity,
};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// `{"errors":[{"message", "extensions":{"code"}}]}`, the shape of every error we answer with.
pub fn error_body(message: &str, code: &str) -> Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

/// Which media type the client accepts for the answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Media {
    Json,
    GraphqlResponseJson,
}

impl Media {
    fn as_str(self) -> &'static str {
        match self {
            Media::Json => "application/json; charset=utf-8",
            Media::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// Picks the first acceptable type in the client's order; `None` when none is (406).
fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return Some(Media::Json) };
    for part in accept.split(',') {
        let media = part.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match media.as_str() {
            GRAPHQL_RESPONSE_JSON => return Some(Media::GraphqlResponseJson),
            "application/json" | "application/*" | "*/*" => return Some(Media::Json),
            _ => {}
        }
    }
    None
}

fn not_acceptable() -> Response {
    plain_error(
        StatusCode::NOT_ACCEPTABLE,
        Media::Json,
        "answers are application/json or application/graphql-response+json",
        code::BAD_USER_INPUT,
    )
}

fn plain_error(status: StatusCode, media: Media, message: &str, code: &str) -> Response {
    (status, [(header::CONTENT_TYPE, media.as_str())], error_body(message, code).to_string()).into_response()
}

fn app_error(err: AppError, media: Media) -> Response {
    crate::metrics::error(err.code());
    let status = super::status_for(&err);
    let response = plain_error(status, media, &err.public_message(), err.code());
    super::with_error_headers(response, &err)
}

/// Resolves the caller from the request headers: an API token, else a session cookie (only from
/// our own origin); no credentials is anonymous, bad ones are 401. Failed attempts are counted
/// per client address and token prefix; past the limit they are 429 with `Retry-After`.
pub(super) async fn principal(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<IpAddr>,
) -> Result<Option<Arc<Principal>>, AppError> {
    let organization = headers.get("x-partnerhub-organization").and_then(|v| v.to_str().ok());
    let credentials = credentials(headers);
    let Some(credentials) = credentials else { return Ok(None) };
    let token = match &credentials {
        Credentials::Bearer(Ok(secret)) => Some(*secret),
        _ => None,
    };
    let keys = AuthLimits::keys(client, token);
    if let Some(wait) = state.auth_limits.refused(&keys) {
        return Err(AppError::RateLimited { retry_after: limits::retry_after_secs(wait) });
    }
    let outcome = match credentials {
        Credentials::Cookie(secret) => match super::auth::same_origin(state, headers) {
            Ok(()) => identity::authenticate_session(&state.ctx.db, secret, organization, state.ctx.now()).await,
            Err(err) => Err(err),
        },
        Credentials::Bearer(Ok(secret)) => {
            identity::authenticate_token(&state.ctx.db, secret, organization, state.ctx.now()).await
        }
        Credentials::Bearer(Err(err)) => Err(err),
    };
    match outcome {
        Ok(principal) => Ok(Some(Arc::new(principal))),
        Err(err @ AppError::Unauthenticated(_)) => match state.auth_limits.failed(&keys) {
            Some(wait) => Err(AppError::RateLimited { retry_after: limits::retry_after_secs(wait) }),
            None => Err(err),
        },
        Err(err) => Err(err),
    }
}

enum Credentials<'a> {
    Bearer(Result<&'a str, AppError>),
    Cookie(&'a str),
}

/// The credentials a request carries: the Authorization header wins over a session cookie.
fn credentials(headers: &HeaderMap) -> Option<Credentials<'_>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).and_then(session::secret_from_cookies);
        return cookie.map(Credentials::Cookie);
    };
    let Ok(value) = value.to_str() else {
        return Some(Credentials::Bearer(Err(AppError::Unauthenticated(
            "the Authorization header is not readable".into(),
        ))));
    };
    let (scheme, secret) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || secret.trim().is_empty() {
        return Some(Credentials::Bearer(Err(AppError::Unauthenticated(
            "use Authorization: Bearer <API token>".into(),
        ))));
    }
    Some(Credentials::Bearer(Ok(secret.trim())))
}

pub async fn post(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    request: axum::extract::Request,
) -> Response {
    let headers = request.headers().clone();
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    if let Some(boundary) = multipart_boundary(&headers) {
        return multipart(&state, &headers, client, request.into_body(), boundary, media).await;
    }
    if !is_json(&headers) {
        return plain_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "send the request as Content-Type: application/json (or multipart/form-data with a file)",
            code::BAD_USER_INPUT,
        );
    }
    let body = match <Bytes as axum::extract::FromRequest<AppState>>::from_request(request, &state).await {
        Ok(body) => body,
        Err(rejection) => {
            return plain_error(
                rejection.status(),
                media,
                "the request body is too large or unreadable",
                code::BAD_USER_INPUT,
            );
        }
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return plain_error(StatusCode::BAD_REQUEST, media, "the body is not valid JSON", code::BAD_USER_INPUT);
        }
    };
    let batch = match value {
        Value::Array(items) => {
            let max = state.settings.graphql.max_batch;
            if max == 0 {
                return plain_error(
                    StatusCode::BAD_REQUEST,
                    media,
                    "batched requests are not accepted",
                    code::BAD_USER_INPUT,
                );
            }
            if items.is_empty() || items.len() > max {
                return plain_error(
                    StatusCode::BAD_REQUEST,
                    media,
                    &format!("a batch holds 1 to {max} operations"),
                    code::BAD_USER_INPUT,
                );
            }
            let max_variables = state.settings.graphql.max_variables;
            match items.into_iter().map(|i| request_from_json(i, max_variables)).collect::<Result<Vec<_>, _>>() {
                Ok(requests) => Operations::Batch(requests.into_iter().map(|i| resolve(&state, i)).collect()),
                Err(message) => return plain_error(StatusCode::BAD_REQUEST, media, &message, code::BAD_USER_INPUT),
            }
        }
        other => match request_from_json(other, state.settings.graphql.max_variables) {
            Ok(request) => Operations::Single(Box::new(resolve(&state, request))),
            Err(message) => return plain_error(StatusCode::BAD_REQUEST, media, &message, code::BAD_USER_INPUT),
        },
    };
    execute(&state, &headers, client, batch, media).await
}

/// The boundary of a `multipart/form-data` body.
fn multipart_boundary(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())?;
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    multer::parse_boundary(content_type).ok()
}

/// A GraphQL multipart request: one operation with its files. Only a signed-in caller may send
/// one (nothing anonymous takes a file), so any other body is refused unread; a cookie must come
/// from our own origin, as for JSON, so a cross-site form cannot post one.
async fn multipart(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<IpAddr>,
    body: axum::body::Body,
    boundary: String,
    media: Media,
) -> Response {
    // Who it is, before a byte of the body is read: a bad token or a cross-site cookie is
    // refused at once, not after a 10 MiB upload.
    match principal(state, headers, client).await {
        Ok(Some(_)) => {}
        Ok(None) => return app_error(AppError::Unauthenticated("sign in to upload files".into()), media),
        Err(err) => return app_error(err, media),
    }
    let max_file = match crate::service::rebate_claims::upload_limit(&state.ctx.db).await {
        Ok(limit) => limit,
        Err(err) => return app_error(err, media),
    };
    let max_operations = state.settings.graphql.max_body_bytes as u64;
    let received = match super::upload::receive(body, boundary, max_file, max_operations).await {
        Ok(received) => received,
        Err(refusal) => {
            let mut body = error_body(&refusal.message, code::BAD_USER_INPUT);
            if let Some(field) = refusal.field {
                body["errors"][0]["extensions"]["field"] = Value::from(field);
            }
            let mut response =
                (refusal.status, [(header::CONTENT_TYPE, media.as_str())], body.to_string()).into_response();
            // The rest of the body is not read: the client should stop sending it.
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    if received.operations.is_array() {
        return plain_error(
            StatusCode::BAD_REQUEST,
            media,
            "a multipart request carries one operation",
            code::BAD_USER_INPUT,
        );
    }
    let incoming = match request_from_json(received.operations, state.settings.graphql.max_variables) {
        Ok(incoming) => incoming,
        Err(message) => return plain_error(StatusCode::BAD_REQUEST, media, &message, code::BAD_USER_INPUT),
    };
    let mut request = resolve(state, incoming);
    if let Ok(request) = &mut request {
        for (paths, upload) in received.files {
            for path in paths {
                match upload.try_clone() {
                    Ok(copy) => request.set_upload(&path, copy),
                    Err(err) => return app_error(AppError::internal_from("taking the upload", err), media),
                }
            }
        }
    }
    execute(state, headers, client, Operations::Single(Box::new(request)), media).await
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return false;
    }
    // JSON is UTF-8; a body announced in another charset is not one we read.
    parts.all(|p| match p.split_once('=') {
        Some((k, v)) if k.trim().eq_ignore_ascii_case("charset") => {
            v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    })
}

/// One operation as sent: its parameters, and what names its document (the text, a persisted
/// query hash or a trusted document id), resolved by `persisted::Documents`.
struct Incoming {
    request: GqlRequest,
    asked: Result<Asked, Refused>,
}

/// The GraphQL-over-HTTP parameters, strictly: `query` a string (or absent when a persisted
/// document is named), `variables` and `extensions` objects or null, `operationName` a string or
/// null, `documentId` (also `doc_id`, `id`) a string.
fn request_from_json(value: Value, max_variables: usize) -> Result<Incoming, String> {
    let Value::Object(mut map) = value else { return Err("the body must be a JSON object with a query".into()) };
    let mut asked = Asked::default();
    match map.remove("query") {
        None | Some(Value::Null) => {}
        Some(Value::String(q)) => asked.query = Some(q),
        Some(_) => return Err("`query` must be a string".into()),
    }
    for key in ["documentId", "doc_id", "id"] {
        match map.remove(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(id)) => asked.document_id = Some(id),
            Some(_) => return Err(format!("`{key}` must be a string")),
        }
    }
    let mut request = GqlRequest::new(String::new());
    match map.remove("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => request = request.operation_name(name),
        Some(_) => return Err("`operationName` must be a string".into()),
    }
    match map.remove("variables") {
        None | Some(Value::Null) => {}
        Some(Value::Object(vars)) if vars.len() > max_variables => {
            return Err(format!("an operation takes at most {max_variables} variables"));
        }
        Some(v @ Value::Object(_)) => request = request.variables(Variables::from_json(v)),
        Some(_) => return Err("`variables` must be an object".into()),
    }
    let mut asked = Ok(asked);
    match map.remove("extensions") {
        None | Some(Value::Null) => {}
        Some(Value::Object(ext)) => {
            if let Ok(a) = &mut asked
                && let Err(refused) = a.from_extensions(&ext)
            {
                asked = Err(refused);
            }
            for (k, v) in ext {
                let value = async_graphql::Value::from_json(v).map_err(|_| "`extensions` must be JSON".to_string())?;
                request.extensions.insert(k, value);
            }
        }
        Some(_) => return Err("`extensions` must be an object".into()),
    }
    if let Ok(a) = &asked
        && a.query.is_none()
        && a.sha256.is_none()
        && a.document_id.is_none()
    {
        return Err("`query` must be a string".into());
    }
    Ok(Incoming { request, asked })
}

/// The request with its document, or why there is none.
fn resolve(state: &AppState, incoming: Incoming) -> Result<GqlRequest, Refused> {
    let document = state.documents.resolve(incoming.asked?)?;
    let mut request = incoming.request;
    request.query = document;
    Ok(request)
}

/// A refused document is a request error, answered like a parse error.
fn refused_response(refused: Refused) -> GqlResponse {
    let mut error = async_graphql::ServerError::new(refused.message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", refused.code);
    if let Some(field) = refused.field {
        extensions.set("field", field);
    }
    error.extensions = Some(extensions);
    GqlResponse::from_errors(vec![error])
}

pub async fn get(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ws: Result<axum::extract::ws::WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
    protocol: Result<async_graphql_axum::GraphQLProtocol, StatusCode>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    if let Ok(ws) = ws {
        return match protocol {
            Ok(protocol) => super::live::upgrade(state, &headers, ws, protocol),
            Err(_) => (StatusCode::BAD_REQUEST, "name the graphql-transport-ws protocol").into_response(),
        };
    }
    let Ok(Query(params)) = params else {
        return plain_error(
            StatusCode::BAD_REQUEST,
            Media::Json,
            "the query string is not valid",
            code::BAD_USER_INPUT,
        );
    };
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let names_a_document = ["query", "extensions", "documentId", "doc_id", "id"].iter().any(|n| param(n).is_some());
    if !names_a_document {
        if state.settings.graphql.introspection && accepts_html(&headers) {
            return super::graphiql::page();
        }
        return plain_error(
            StatusCode::BAD_REQUEST,
            Media::Json,
            "GET /graphql needs a `query` parameter",
            code::BAD_USER_INPUT,
        );
    }
    let Some(media) = negotiate(&headers) else { return not_acceptable() };
    let mut json = serde_json::Map::new();
    for name in ["query", "documentId", "doc_id", "id"] {
        if let Some(value) = param(name) {
            json.insert(name.into(), Value::String(value));
        }
    }
    for name in ["variables", "extensions"] {
        if let Some(text) = param(name) {
            match serde_json::from_str::<Value>(&text) {
                Ok(v) => {
                    json.insert(name.into(), v);
                }
                Err(_) => {
                    return plain_error(
                        StatusCode::BAD_REQUEST,
                        media,
                        &format!("`{name}` is not valid JSON"),
                        code::BAD_USER_INPUT,
                    );
                }
            }
        }
    }
    let operation_name = param("operationName");
    if let Some(name) = &operation_name {
        json.insert("operationName".into(), Value::String(name.clone()));
    }
    let request = match request_from_json(Value::Object(json), state.settings.graphql.max_variables) {
        Ok(r) => resolve(&state, r),
        Err(message) => return plain_error(StatusCode::BAD_REQUEST, media, &message, code::BAD_USER_INPUT),
    };
    if let Ok(request) = &request
        && !is_query(&request.query, operation_name.as_deref())
    {
        let mut response = plain_error(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            "only queries may be sent with GET; send mutations with POST",
            code::BAD_USER_INPUT,
        );
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, &headers, client, Operations::Single(Box::new(request)), media).await
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

/// Whether the operation GET would run is a query. A document that does not parse counts as a
/// query here: executing it reports the syntax error the usual way.
fn is_query(document: &str, operation_name: Option<&str>) -> bool {
    let Ok(doc) = parse_query(document) else { return true };
    let operation = match operation_name {
        Some(name) => {
            doc.operations.iter().find(|(n, _)| n.map(|n| n.as_str()) == Some(name)).map(|(_, op)| op.node.ty)
        }
        None => doc.operations.iter().next().map(|(_, op)| op.node.ty),
    };
    !matches!(operation, Some(OperationType::Mutation | OperationType::Subscription))
}

/// One operation or a batch, each with its document or the reason it has none.
enum Operations {
    Single(Box<Result<GqlRequest, Refused>>),
    Batch(Vec<Result<GqlRequest, Refused>>),
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<IpAddr>,
    batch: Operations,
    media: Media,
) -> Response {
    let principal = match principal(state, headers, client).await {
        Ok(p) => p,
        Err(err) => return app_error(err, media),
    };
    let prepare = |request: GqlRequest| {
        request.data(loaders::Loaders::new(&state.ctx, &principal, state.settings.graphql.dataloader_delay)).data(
            RequestState {
                ctx: state.ctx.clone(),
                principal: principal.clone(),
                dns_resolver: state.settings.dns_resolver,
                public_url: state.settings.public_url.clone(),
                development: state.settings.is_development(),
                client,
            },
        )
    };
    let run = |request: Result<GqlRequest, Refused>| async {
        match request {
            Ok(request) => state.schema.execute(prepare(request)).await,
            Err(refused) => refused_response(refused),
        }
    };
    let operation = match &batch {
        Operations::Single(request) => {
            crate::metrics::operation_label(request.as_ref().as_ref().ok().and_then(|r| r.operation_name.as_deref()))
        }
        Operations::Batch(_) => "batch".into(),
    };
    let response = match batch {
        Operations::Single(request) => BatchResponse::Single(run(*request).await),
        Operations::Batch(requests) => {
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                responses.push(run(request).await);
            }
            BatchResponse::Batch(responses)
        }
    };
    let mut response = respond(response, media, state.settings.graphql.max_errors.max(2));
    response.extensions_mut().insert(super::OperationName(operation));
    response
}

/// Longest message an error from the GraphQL engine keeps: a parse error must not echo a huge
/// document back.
const MAX_ENGINE_MESSAGE: usize = 300;

/// Every error leaves with a code. Errors refused before execution carry theirs from
/// `graphql::checks`; an engine error without one and without a path is the document's
/// (`GRAPHQL_VALIDATION_FAILED`: an unknown operation name, say); one with a path is an argument
/// whose value did not convert (`BAD_USER_INPUT`, naming the field) or else a bug (`INTERNAL`).
/// Messages are one line, kept short. At most `max_errors` are listed; a last one says how many
/// more there were.
fn with_codes(mut response: GqlResponse, max_errors: usize) -> GqlResponse {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            let field = checks::invalid_argument(&error.message);
            let code = match (&field, error.path.is_empty()) {
                (_, true) => code::GRAPHQL_VALIDATION_FAILED,
                (Some(_), false) => code::BAD_USER_INPUT,
                (None, false) => code::INTERNAL,
            };
            extensions.set("code", code);
            if let Some(field) = field {
                extensions.set("field", field);
            }
        }
        error.message = short(&error.message);
        if let Some(async_graphql::Value::String(code)) = extensions.get("code") {
            crate::metrics::error(code);
        }
    }
    if response.errors.len() > max_errors {
        let left_out = response.errors.len() - (max_errors - 1);
        response.errors.truncate(max_errors - 1);
        let code = response.errors.last().and_then(|e| e.extensions.as_ref()).and_then(|x| x.get("code").cloned());
        let mut summary = async_graphql::ServerError::new(format!("{left_out} more errors were left out"), None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", code.unwrap_or_else(|| async_graphql::Value::from(code::INTERNAL)));
        summary.extensions = Some(extensions);
        response.errors.push(summary);
    }
    response
}

/// The first line of a message, at most `MAX_ENGINE_MESSAGE` characters.
fn short(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    if line.chars().count() <= MAX_ENGINE_MESSAGE {
        return line.to_string();
    }
    let cut: String = line.chars().take(MAX_ENGINE_MESSAGE).collect();
    format!("{cut}…")
}

/// A request that never reached execution (no data, errors without a path) is a 400 under
/// `application/graphql-response+json`; under `application/json` GraphQL errors are 200.
fn is_request_error(response: &GqlResponse) -> bool {
    matches!(response.data, async_graphql::Value::Null)
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// The JSON of one response; a request error carries no `data` entry at all.
fn response_json(response: GqlResponse, max_errors: usize) -> Result<Value, serde_json::Error> {
    let request_error = is_request_error(&response);
    let mut value = serde_json::to_value(with_codes(response, max_errors))?;
    if request_error && let Some(map) = value.as_object_mut() {
        map.remove("data");
    }
    Ok(value)
}

fn respond(response: BatchResponse, media: Media, max_errors: usize) -> Response {
    // A limit met inside execution (posting a tender) says when to retry, as one met before.
    let retry_after = match &response {
        BatchResponse::Single(r) => retry_after_of(r),
        BatchResponse::Batch(rs) => rs.iter().filter_map(retry_after_of).max(),
    };
    let (status, body) = match response {
        BatchResponse::Single(r) => {
            let status = if media == Media::GraphqlResponseJson && is_request_error(&r) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            let body = if is_request_error(&r) {
                response_json(r, max_errors).map(|v| v.to_string())
            } else {
                // Straight to text: through a `Value` first, the answer was built twice.
                serde_json::to_string(&with_codes(r, max_errors))
            };
            (status, body)
        }
        BatchResponse::Batch(rs) => {
            let all = rs.into_iter().map(|r| response_json(r, max_errors)).collect::<Result<Vec<_>, _>>();
            (StatusCode::OK, all.map(|v| Value::Array(v).to_string()))
        }
    };
    match body {
        Ok(body) => {
            let mut response = (status, [(header::CONTENT_TYPE, media.as_str())], body).into_response();
            if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(err) => app_error(AppError::internal_from("encoding the response", err), media),
    }
}

/// The longest `retryAfter` of a response's RATE_LIMITED errors.
fn retry_after_of(response: &GqlResponse) -> Option<u64> {
    response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref()?.get("retryAfter"))
        .filter_map(|v| match v {
            async_graphql::Value::Number(n) => n.as_u64(),
            _ => None,
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_mutations_from_queries() {
        assert!(is_query("{ viewer { user { id } } }", None));
        assert!(!is_query("mutation { x }", None));
        assert!(!is_query("query A { a } mutation B { b }", Some("B")));
        assert!(is_query("query A { a } mutation B { b }", Some("A")));
        assert!(is_query("not graphql", None));
    }
}
