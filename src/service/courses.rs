//! Courses and exam results: the trainings and certificates that tier requirements count.

use chrono::{DateTime, Utc};
use entity::{course, exam_result, membership, organization};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select,
    sea_query::Query,
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field};
use crate::{
    db,
    domain::CourseKind,
    domain::{OrganizationKind, validate},
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
};

pub struct NewCourse {
    pub code: String,
    pub title: String,
    pub kind: CourseKind,
    pub fee: Decimal,
    pub currency: String,
}

pub fn fee(c: &course::Model) -> Decimal {
    c.fee_amount.to_decimal()
}

pub async fn create(ctx: &Ctx, principal: Option<&Principal>, input: NewCourse) -> AppResult<course::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageCatalog)?;
    let code = field("code", validate::name(&input.code, 32))?.to_uppercase();
    let title = field("title", validate::name(&input.title, 200))?;
    if input.fee.is_sign_negative() || input.fee.scale() > 4 {
        return Err(AppError::bad_input("fee", "must be zero or more, with at most 4 decimals"));
    }
    let currency = input.currency.trim().to_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(AppError::bad_input("fee", "the currency is an ISO 4217 code such as EUR"));
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let created = course::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        title: Set(title),
        kind: Set(input.kind),
        fee_amount: Set(super::fixed("fee", input.fee)?),
        fee_currency: Set(currency),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let event = audit::Event {
        action: "course.created",
        target_type: "Course",
        target_id: Some(created.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "code": created.code, "fee": created.fee_amount, "currency": created.fee_currency })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(created)
}

pub struct NewExamResult {
    pub user_id: Uuid,
    pub course_code: String,
    pub passed_at: DateTime<Utc>,
    pub certificate_number: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Staff record a passed exam of a person who works for a partner.
pub async fn record(ctx: &Ctx, principal: Option<&Principal>, input: NewExamResult) -> AppResult<exam_result::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::RecordExamResult)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let created = insert_result(&txn, principal, input, now).await?;
    txn.commit().await?;
    Ok(created)
}

async fn insert_result(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    input: NewExamResult,
    now: DateTime<Utc>,
) -> AppResult<exam_result::Model> {
    let certificate = field("certificateNumber", validate::name(&input.certificate_number, 64))?;
    if input.passed_at > now {
        return Err(AppError::bad_input("passedAt", "must not be in the future"));
    }
    if input.expires_at.is_some_and(|e| e <= input.passed_at) {
        return Err(AppError::bad_input("expiresAt", "must be after passedAt"));
    }
    let course = course::Entity::find()
        .filter(course::Column::Code.eq(input.course_code.trim().to_uppercase()))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::bad_input("courseCode", "no course has this code"))?;
    let works_for_partner = membership::Entity::find()
        .filter(membership::Column::UserId.eq(input.user_id))
        .filter(membership::Column::OrganizationId.in_subquery(partner_ids()))
        .one(txn)
        .await?;
    if works_for_partner.is_none() {
        return Err(AppError::NotFound("User"));
    }
    let created = exam_result::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(input.user_id),
        course_id: Set(course.id),
        passed_at: Set(input.passed_at),
        certificate_number: Set(certificate),
        expires_at: Set(input.expires_at),
        recorded_by_user_id: Set(Some(principal.user_id())),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    let event = audit::Event {
        action: "exam_result.recorded",
        target_type: "ExamResult",
        target_id: Some(created.id),
        customer_id: None,
        before: None,
        after: Some(
            json!({ "userId": created.user_id, "course": course.code, "certificate": created.certificate_number }),
        ),
    };
    audit::record(txn, Some(principal), event, now).await?;
    Ok(created)
}

/// The columns an import must have, in any order.
pub const IMPORT_COLUMNS: [&str; 5] = ["email", "courseCode", "passedAt", "certificateNumber", "expiresAt"];
const MAX_IMPORT_ROWS: usize = 5000;

fn import_error(row: usize, error: AppError) -> AppError {
    let detail = match &error {
        AppError::BadInput { field: Some(f), message } => format!("{f}: {message}"),
        AppError::NotFound(_) => "email: no person of a partner has this e-mail address".into(),
        AppError::Conflict(message) => message.clone(),
        _ => return error,
    };
    AppError::bad_input("csv", format!("row {row}: {detail}"))
}

/// A date-time in RFC 3339, or a date (midnight UTC).
fn instant(column: &str, value: &str) -> AppResult<DateTime<Utc>> {
    let v = value.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(v) {
        return Ok(at.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| AppError::bad_input(column, format!("{v:?} is not a date such as 2026-03-01")))
}

/// Imports exam results from CSV (RFC 4180, a header row naming `IMPORT_COLUMNS`). All rows or
/// none: the first bad row refuses the whole import, naming its row number (the header is row
/// 1), and nothing is written.
#[tracing::instrument(skip_all)]
pub async fn import(ctx: &Ctx, principal: Option<&Principal>, csv_text: &str) -> AppResult<Vec<exam_result::Model>> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::RecordExamResult)?;
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(csv_text.as_bytes());
    let headers = reader.headers().map_err(|e| AppError::bad_input("csv", format!("row 1: {e}")))?.clone();
    let mut position = std::collections::HashMap::new();
    for name in IMPORT_COLUMNS {
        match headers.iter().position(|h| h.eq_ignore_ascii_case(name)) {
            Some(i) => position.insert(name, i),
            None if name == "expiresAt" => None,
            None => return Err(AppError::bad_input("csv", format!("row 1: the header has no {name} column"))),
        };
    }
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 2;
        let record = record.map_err(|e| AppError::bad_input("csv", format!("row {row}: {e}")))?;
        if rows.len() == MAX_IMPORT_ROWS {
            return Err(AppError::bad_input("csv", format!("at most {MAX_IMPORT_ROWS} rows at once")));
        }
        let cell = |name: &str| position.get(name).and_then(|i| record.get(*i)).unwrap_or("").to_string();
        rows.push((
            row,
            cell("email"),
            cell("courseCode"),
            cell("passedAt"),
            cell("certificateNumber"),
            cell("expiresAt"),
        ));
    }
    if rows.is_empty() {
        return Err(AppError::bad_input("csv", "no rows after the header"));
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let mut created = Vec::with_capacity(rows.len());
    for (row, email, course_code, passed_at, certificate_number, expires_at) in rows {
        let parsed = async {
            let email = field("email", validate::email(&email))?;
            let person = entity::user::Entity::find()
                .filter(entity::user::Column::Email.eq(email.as_str()))
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound("User"))?;
            let expires_at = if expires_at.is_empty() { None } else { Some(instant("expiresAt", &expires_at)?) };
            let input = NewExamResult {
                user_id: person.id,
                course_code,
                passed_at: instant("passedAt", &passed_at)?,
                certificate_number,
                expires_at,
            };
            insert_result(&txn, principal, input, now).await
        };
        // Dropping the transaction on error rolls back every row written before this one.
        created.push(parsed.await.map_err(|e| import_error(row, e))?);
    }
    txn.commit().await?;
    Ok(created)
}

fn partner_ids() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(organization::Column::Id)
        .from(organization::Entity)
        .and_where(organization::Column::Kind.eq(OrganizationKind::Partner))
        .to_owned()
}

/// The exam results of the people of a partner: for staff and the partner's own members.
pub fn of_partner(principal: Option<&Principal>, partner_id: Uuid) -> Select<exam_result::Entity> {
    let people = Query::select()
        .column(membership::Column::UserId)
        .from(membership::Entity)
        .and_where(membership::Column::OrganizationId.eq(partner_id))
        .to_owned();
    exam_result::Entity::find()
        .filter(exam_result::Column::UserId.in_subquery(people))
        .filter(policy::partner_internals_scope(principal, partner_id))
}

/// The courses (public: partners pick what to train for).
pub fn visible(principal: Option<&Principal>) -> sea_orm::Select<course::Entity> {
    use sea_orm::{EntityTrait, QueryFilter};
    course::Entity::find().filter(policy::programs_scope(principal))
}
