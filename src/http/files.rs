//! `GET /files/<id>`: an invoice file, under the same authentication and policy as the claim it
//! belongs to, streamed from the store as an attachment (never rendered by the browser).

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::ClientAddr;
use crate::{AppState, error::AppError, service::rebate_claims};

pub async fn download(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match serve(&state, &headers, client, &id).await {
        Ok(response) => response,
        Err(err) => super::error_response(err),
    }
}

async fn serve(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
    id: &str,
) -> Result<Response, AppError> {
    let principal = super::graphql::principal(state, headers, client).await?;
    let principal = crate::policy::signed_in(principal.as_deref())?;
    let id = uuid::Uuid::parse_str(id).map_err(|_| AppError::NotFound("File"))?;
    let (file, claim) = rebate_claims::file_for(&state.ctx.db, Some(principal), id).await?;
    let stream = state.ctx.files.get(&file.sha256).await?;
    let extension = match file.content_type.as_str() {
        "application/pdf" => "pdf",
        "image/png" => "png",
        _ => "jpg",
    };
    // The name is ours (invoice number, made safe), not the uploader's.
    let number: String =
        claim.invoice_number.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).take(64).collect();
    let disposition = format!("attachment; filename=\"invoice-{number}.{extension}\"");
    let mut response = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&file.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size_bytes));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        out.insert(header::CONTENT_DISPOSITION, value);
    }
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}
