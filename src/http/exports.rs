//! CSV exports over HTTP, with the same authentication and policy as /graphql.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{
    ClientAddr,
    csv::{Cell, CsvWriter},
};
use crate::{
    AppState,
    domain::billing::display,
    error::AppError,
    ids::{self, NodeType},
    service::{
        billing::{self, Period},
        ledger::payouts,
    },
};

fn failure(err: AppError) -> Response {
    let status = super::status_for(&err);
    let mut extensions = json!({ "code": err.code() });
    if let AppError::BadInput { field: Some(field), .. } = &err {
        extensions["field"] = json!(field);
    }
    let body = json!({ "errors": [{ "message": err.public_message(), "extensions": extensions }] });
    super::with_error_headers((status, Json(body)).into_response(), &err)
}

const HEADER: [&str; 19] = [
    "invoice_number",
    "status",
    "period",
    "issued_at",
    "bill_to",
    "currency",
    "tax_rate",
    "reverse_charge",
    "line",
    "kind",
    "customer",
    "description",
    "quantity",
    "unit_price",
    "gross",
    "discount",
    "net",
    "tax",
    "total",
];

/// `GET /exports/invoices.csv?organization=<id>&from=YYYY-MM&to=YYYY-MM`: one row per invoice
/// line of the organisation's invoices you may read, amounts as decimal strings, RFC 4180.
pub async fn invoices(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match invoices_csv(&state, &headers, client, &params).await {
        Ok(body) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8; header=present")),
                (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"invoices.csv\"")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response(),
        Err(err) => failure(err),
    }
}

async fn invoices_csv(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
    params: &HashMap<String, String>,
) -> Result<Vec<u8>, AppError> {
    let principal = super::graphql::principal(state, headers, client).await?;
    let principal = crate::policy::signed_in(principal.as_deref())?;
    let param = |name: &str| {
        params.get(name).map(String::as_str).ok_or_else(|| AppError::bad_input(name, format!("{name} is required")))
    };
    let organization = ids::decode_as(NodeType::Organization, param("organization")?)
        .ok_or_else(|| AppError::bad_input("organization", "is not an organisation id"))?;
    let from = Period::parse(param("from")?).map_err(|_| AppError::bad_input("from", "is a month such as 2026-01"))?;
    let to = Period::parse(param("to")?).map_err(|_| AppError::bad_input("to", "is a month such as 2026-12"))?;
    if to.start() < from.start() {
        return Err(AppError::bad_input("to", "comes before from"));
    }
    let export = billing::export(&state.ctx, Some(principal), organization, from, to).await?;
    let org = export.organization;
    let mut out = CsvWriter::new(&HEADER)?;
    for (inv, line, customer) in export.lines {
        let money = |amount: entity::fixed::Fixed| Cell::Decimal(display(amount.to_decimal(), &inv.currency));
        let customer = customer.unwrap_or_default();
        let issued = inv.issued_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
        out.row(&[
            Cell::Text(&inv.number),
            Cell::Text(inv.status.as_str()),
            Cell::Text(&inv.period),
            Cell::Text(&issued),
            Cell::Text(&org.name),
            Cell::Text(&inv.currency),
            Cell::Decimal(inv.tax_rate.to_decimal()),
            Cell::Bool(inv.reverse_charge),
            Cell::Int(line.position.into()),
            Cell::Text(line.kind.as_str()),
            Cell::Text(&customer),
            Cell::Text(&line.description),
            Cell::Decimal(line.quantity.to_decimal()),
            money(line.unit_price),
            money(line.gross),
            money(line.discount),
            money(line.net),
            money(line.tax),
            money(line.total),
        ])?;
    }
    out.finish()
}

const PAYOUT_HEADER: [&str; 10] =
    ["batch", "partner", "entry", "kind", "earned_at", "quarter", "description", "rate", "base", "amount"];

/// `GET /exports/payouts/<batch number>.csv`: one row per ledger entry the batch paid, with the
/// partner it paid; a partner's ADMIN or BILLING gets its own rows (its statement), staff all.
/// A batch you do not see is 404, like one that does not exist.
pub async fn payouts(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    match payouts_csv(&state, &headers, client, &file).await {
        Ok((name, body)) => {
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\""))
                .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8; header=present")),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                body,
            )
                .into_response()
        }
        Err(err) => failure(err),
    }
}

async fn payouts_csv(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
    file: &str,
) -> Result<(String, Vec<u8>), AppError> {
    let principal = super::graphql::principal(state, headers, client).await?;
    let principal = crate::policy::signed_in(principal.as_deref())?;
    let number = file.strip_suffix(".csv").ok_or(AppError::NotFound("PayoutBatch"))?;
    let db = &state.ctx.db;
    let batch = payouts::by_number(db, Some(principal), number).await?.ok_or(AppError::NotFound("PayoutBatch"))?;
    let rows = payouts::paid_entries(db, Some(principal), batch.id).await?;
    let names = payouts::partner_names(db, &rows.iter().map(|(e, _)| e.partner_id).collect::<Vec<_>>()).await?;
    let mut out = CsvWriter::new(&PAYOUT_HEADER)?;
    for (entry, _) in rows {
        let partner = names.get(&entry.partner_id).map(String::as_str).unwrap_or_default();
        let earned = entry.earned_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let id = ids::encode(NodeType::LedgerEntry, entry.id);
        out.row(&[
            Cell::Text(&batch.number),
            Cell::Text(partner),
            Cell::Text(&id),
            Cell::Text(entry.kind.as_str()),
            Cell::Text(&earned),
            Cell::Text(&entry.quarter),
            Cell::Text(&entry.description),
            Cell::Text(&entry.rate.map(|r| r.to_decimal().to_string()).unwrap_or_default()),
            Cell::Text(&entry.base.map(|b| display(b.to_decimal(), &entry.currency).to_string()).unwrap_or_default()),
            Cell::Decimal(display(entry.amount.to_decimal(), &entry.currency)),
        ])?;
    }
    Ok((batch.number, out.finish()?))
}
