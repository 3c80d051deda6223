//! CSV exports over HTTP, with the same authentication and policy as /graphql.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{
    AppState,
    error::AppError,
    ids::{self, NodeType},
    service::billing::{self, Period},
};

fn failure(err: AppError) -> Response {
    let status = super::status_for(&err);
    let mut extensions = json!({ "code": err.code() });
    if let AppError::BadInput { field: Some(field), .. } = &err {
        extensions["field"] = json!(field);
    }
    let body = json!({ "errors": [{ "message": err.public_message(), "extensions": extensions }] });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
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
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match invoices_csv(&state, &headers, &params).await {
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
    params: &HashMap<String, String>,
) -> Result<Vec<u8>, AppError> {
    let principal = super::graphql::principal(state, headers).await?;
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
    let ctx = &state.ctx;
    // The organisation must be visible at all; its invoices are then those the policy allows.
    let visible = {
        use sea_orm::{EntityTrait, QueryFilter};
        entity::organization::Entity::find_by_id(organization)
            .filter(crate::policy::organizations_scope(Some(principal), ctx.now()))
            .one(&ctx.db)
            .await?
    };
    let Some(org) = visible else { return Err(AppError::NotFound("Organization")) };
    let rows = billing::export_lines(ctx, Some(principal), org.id, from, to).await?;
    let customer_ids: Vec<uuid::Uuid> = rows.iter().filter_map(|(_, l)| l.customer_id).collect();
    let names: HashMap<uuid::Uuid, String> = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::organization::Entity::find()
            .filter(entity::organization::Column::Id.is_in(customer_ids))
            .all(&ctx.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect()
    };
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let write_err = |e: csv::Error| AppError::internal(format!("csv: {e}"));
    out.write_record(HEADER).map_err(write_err)?;
    for (inv, line) in rows {
        let customer = line.customer_id.and_then(|id| names.get(&id)).cloned().unwrap_or_default();
        let issued = inv.issued_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
        out.write_record([
            inv.number.as_str(),
            inv.status.as_str(),
            inv.period.as_str(),
            issued.as_str(),
            org.name.as_str(),
            inv.currency.as_str(),
            inv.tax_rate.as_str(),
            if inv.reverse_charge { "true" } else { "false" },
            &line.position.to_string(),
            line.kind.as_str(),
            customer.as_str(),
            line.description.as_str(),
            line.quantity.as_str(),
            line.unit_price.as_str(),
            line.gross.as_str(),
            line.discount.as_str(),
            line.net.as_str(),
            line.tax.as_str(),
            line.total.as_str(),
        ])
        .map_err(write_err)?;
    }
    out.into_inner().map_err(|e| AppError::internal(format!("csv: {e}")))
}
