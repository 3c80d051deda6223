//! Applications to join a programme: a signed-in person applies for a new organisation (or, as
//! its ADMIN, for the partner it acts as); staff approve or reject, oldest first, within 7 days.

use chrono::TimeDelta;
use entity::{application, membership, organization, partnership, program};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, Select, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, notifications, optional_field, people, programs};
use crate::{
    db,
    domain::ApplicationStatus,
    domain::notifications::NotificationKind,
    domain::{OrganizationKind, Role, validate},
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
};

/// A review is due this long after submission.
pub const REVIEW_WITHIN: TimeDelta = TimeDelta::days(7);

pub struct Company {
    pub name: String,
    pub registration_number: Option<String>,
    pub vat_number: Option<String>,
    pub website: Option<String>,
    pub country: String,
    pub address: String,
}

pub struct NewApplication {
    pub program_id: Uuid,
    pub company: Company,
    pub primary_expertise: String,
    pub experience: String,
    pub plan: String,
    pub accepted_terms_version: i32,
}

fn long_text(name: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(AppError::bad_input(name, format!("must be 1 to {max} characters")));
    }
    Ok(v.to_string())
}

fn registration_number(value: &str) -> Result<String, String> {
    let v = value.trim().to_uppercase();
    let ok = (2..=64).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b" ./-".contains(&b))
        && v.bytes().any(|b| b.is_ascii_digit());
    if ok { Ok(v) } else { Err(format!("{value:?} is not a company registration number such as CHE-123.456.789")) }
}

/// Applications a principal sees: staff all; others their own.
pub fn visible(principal: Option<&Principal>) -> Select<application::Entity> {
    application::Entity::find().filter(policy::applications_scope(principal))
}

#[tracing::instrument(skip_all)]
pub async fn apply(ctx: &Ctx, principal: Option<&Principal>, input: NewApplication) -> AppResult<application::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ApplyForPartnership)?;
    let program =
        program::Entity::find_by_id(input.program_id).one(&ctx.db).await?.ok_or(AppError::NotFound("Program"))?;
    let terms = programs::current_terms(&ctx.db, program.id).await?;
    if terms.as_ref().map(|t| t.version) != Some(input.accepted_terms_version) {
        let current = terms.map_or("none".into(), |t| t.version.to_string());
        return Err(AppError::bad_input(
            "acceptedTermsVersion",
            format!("accept the current terms, version {current}"),
        ));
    }
    let c = &input.company;
    let name = field("company.name", validate::name(&c.name, 200))?;
    let registration =
        optional_field("company.registrationNumber", c.registration_number.as_deref(), registration_number)?;
    if program.requires_registration_number && registration.is_none() {
        return Err(AppError::bad_input("company.registrationNumber", "this programme requires a registered company"));
    }
    let vat = optional_field("company.vatNumber", c.vat_number.as_deref(), validate::vat_number)?;
    let website = optional_field("company.website", c.website.as_deref(), validate::website)?;
    if program.requires_website && website.is_none() {
        return Err(AppError::bad_input("company.website", "this programme requires the company's website"));
    }
    let country = field("company.country", validate::country(&c.country))?;
    let address = long_text("company.address", &c.address, 500)?;
    let expertise = field("primaryExpertise", validate::name(&input.primary_expertise, 200))?;
    let experience = long_text("experience", &input.experience, 5000)?;
    let plan = long_text("plan", &input.plan, 5000)?;

    // Applying as a partner's ADMIN is that partner applying; otherwise a new organisation.
    let existing = principal
        .acting
        .as_ref()
        .filter(|m| m.organization_kind == OrganizationKind::Partner)
        .map(|m| m.organization_id());
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let same_company = same_company(&txn, existing, vat.as_deref(), registration.as_deref()).await?;
    if let Some(other) = programs::exclusive_conflict(&txn, &same_company, &program).await? {
        return Err(AppError::bad_input(
            "programId",
            format!("the organisation is already in {}, which excludes this programme", other.name),
        ));
    }
    if !same_company.is_empty() {
        let already = programs_of(&same_company, program.id).one(&txn).await?;
        if already.is_some() {
            return Err(AppError::Conflict("the organisation is already a partner in this programme".into()));
        }
    }
    let pending = application::Entity::find()
        .filter(application::Column::ApplicantUserId.eq(principal.user_id()))
        .filter(application::Column::ProgramId.eq(program.id))
        .filter(application::Column::Status.eq(ApplicationStatus::Submitted))
        .one(&txn)
        .await?;
    if pending.is_some() {
        return Err(AppError::Conflict("you already have an application to this programme under review".into()));
    }
    let created = application::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program.id),
        applicant_user_id: Set(principal.user_id()),
        organization_id: Set(existing),
        company_name: Set(name),
        registration_number: Set(registration),
        vat_number: Set(vat),
        website: Set(website),
        country: Set(country),
        address: Set(address),
        primary_expertise: Set(expertise),
        experience: Set(experience),
        plan: Set(plan),
        accepted_terms_version: Set(input.accepted_terms_version),
        status: Set(ApplicationStatus::Submitted),
        reason: Set(None),
        submitted_at: Set(now),
        due_at: Set(now + REVIEW_WITHIN),
        reviewed_at: Set(None),
        reviewed_by_user_id: Set(None),
    }
    .insert(&txn)
    .await?;
    let event = audit::Event {
        action: "application.submitted",
        target_type: "Application",
        target_id: Some(created.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "program": program.name, "company": created.company_name })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Partner organisations that are this company: the one applying, and any with the same VAT or
/// registration number.
async fn same_company(
    db: &impl sea_orm::ConnectionTrait,
    acting: Option<Uuid>,
    vat: Option<&str>,
    registration: Option<&str>,
) -> AppResult<Vec<Uuid>> {
    let mut same = Condition::any();
    if let Some(id) = acting {
        same = same.add(organization::Column::Id.eq(id));
    }
    if let Some(vat) = vat {
        same = same.add(organization::Column::VatNumber.eq(vat));
    }
    if let Some(r) = registration {
        same = same.add(organization::Column::RegistrationNumber.eq(r));
    }
    if same.is_empty() {
        return Ok(vec![]);
    }
    Ok(organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrganizationKind::Partner))
        .filter(same)
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect())
}

fn programs_of(organizations: &[Uuid], program_id: Uuid) -> Select<partnership::Entity> {
    partnership::Entity::find()
        .filter(partnership::Column::OrganizationId.is_in(organizations.iter().copied()))
        .filter(partnership::Column::ProgramId.eq(program_id))
}

/// Marks a SUBMITTED application decided; a second reviewer (or node) finds nothing to change.
async fn decide(
    db: &impl sea_orm::ConnectionTrait,
    id: Uuid,
    status: ApplicationStatus,
    reason: Option<String>,
    organization_id: Option<Uuid>,
    by: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let mut update = application::Entity::update_many()
        .col_expr(application::Column::Status, Expr::val(status.as_str()))
        .col_expr(application::Column::Reason, Expr::val(reason))
        .col_expr(application::Column::ReviewedAt, Expr::val(now))
        .col_expr(application::Column::ReviewedByUserId, Expr::val(by));
    if let Some(org) = organization_id {
        update = update.col_expr(application::Column::OrganizationId, Expr::val(org));
    }
    let result = update
        .filter(application::Column::Id.eq(id))
        .filter(application::Column::Status.eq(ApplicationStatus::Submitted))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::Conflict("the application was already decided".into()));
    }
    Ok(())
}

async fn submitted(db: &impl sea_orm::ConnectionTrait, id: Uuid) -> AppResult<application::Model> {
    let found = application::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("Application"))?;
    if found.status != ApplicationStatus::Submitted {
        return Err(AppError::Conflict("the application was already decided".into()));
    }
    Ok(found)
}

/// Approves: the partner organisation (new, or the one that applied), the applicant as its
/// ADMIN, the programme's entry tier, and a welcome notification, in one transaction.
#[tracing::instrument(skip_all, fields(application_id = %id))]
pub async fn approve(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
) -> AppResult<(application::Model, organization::Model)> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ReviewPartners)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let app = submitted(&txn, id).await?;
    let program = program::Entity::find_by_id(app.program_id).one(&txn).await?.ok_or(AppError::NotFound("Program"))?;
    let tier = programs::entry_tier(&txn, program.id)
        .await?
        .ok_or_else(|| AppError::Conflict("the programme has no tiers yet".into()))?;
    let org = match app.organization_id {
        Some(org_id) => {
            organization::Entity::find_by_id(org_id).one(&txn).await?.ok_or(AppError::NotFound("Organization"))?
        }
        None => {
            people::insert_organization(
                &txn,
                OrganizationKind::Partner,
                people::OrganizationFields {
                    name: app.company_name.clone(),
                    country: Some(app.country.clone()),
                    domain: None,
                    vat_number: app.vat_number.clone(),
                    registration_number: app.registration_number.clone(),
                    website: app.website.clone(),
                },
                now,
            )
            .await?
        }
    };
    // Re-checked now: the company may have joined a rival programme since it applied.
    let same = same_company(&txn, Some(org.id), app.vat_number.as_deref(), app.registration_number.as_deref()).await?;
    if let Some(other) = programs::exclusive_conflict(&txn, &same, &program).await? {
        return Err(AppError::Conflict(format!(
            "the organisation has since joined {}, which excludes this programme",
            other.name
        )));
    }
    let is_member = membership::Entity::find()
        .filter(membership::Column::UserId.eq(app.applicant_user_id))
        .filter(membership::Column::OrganizationId.eq(org.id))
        .one(&txn)
        .await?;
    if is_member.is_none() {
        people::insert_membership(&txn, app.applicant_user_id, org.id, Role::Admin, people::Invited::default(), now)
            .await?;
    }
    programs::insert_partnership(&txn, org.id, &tier, Some(principal.user_id()), "application approved", now).await?;
    decide(&txn, app.id, ApplicationStatus::Approved, None, Some(org.id), principal.user_id(), now).await?;
    let payload = json!({
        "applicationId": ids::encode(NodeType::Application, app.id),
        "program": program.name,
        "tier": tier.name,
        "message": format!("Welcome to the {}! You start at {}.", program.name, tier.name),
    });
    notifications::enqueue(&txn, NotificationKind::ApplicationApproved, org.id, None, payload, now).await?;
    let event = audit::Event {
        action: "application.approved",
        target_type: "Application",
        target_id: Some(app.id),
        customer_id: None,
        before: Some(json!({ "status": ApplicationStatus::Submitted })),
        after: Some(json!({ "status": ApplicationStatus::Approved, "organizationId": org.id, "tier": tier.name })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    let decided = application::Entity::find_by_id(app.id).one(&txn).await?.ok_or(AppError::NotFound("Application"))?;
    txn.commit().await?;
    Ok((decided, org))
}

#[tracing::instrument(skip_all, fields(application_id = %id))]
pub async fn reject(ctx: &Ctx, principal: Option<&Principal>, id: Uuid, reason: &str) -> AppResult<application::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ReviewPartners)?;
    let reason = long_text("reason", reason, 2000)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let app = submitted(&txn, id).await?;
    decide(&txn, app.id, ApplicationStatus::Rejected, Some(reason.clone()), None, principal.user_id(), now).await?;
    let payload = json!({ "applicationId": ids::encode(NodeType::Application, app.id), "reason": reason });
    match app.organization_id {
        Some(org) => {
            notifications::enqueue(
                &txn,
                NotificationKind::ApplicationRejected,
                org,
                Some(app.applicant_user_id),
                payload,
                now,
            )
            .await?
        }
        None => {
            notifications::enqueue_personal(
                &txn,
                NotificationKind::ApplicationRejected,
                app.applicant_user_id,
                payload,
                now,
            )
            .await?
        }
    }
    let event = audit::Event {
        action: "application.rejected",
        target_type: "Application",
        target_id: Some(app.id),
        customer_id: None,
        before: Some(json!({ "status": ApplicationStatus::Submitted })),
        after: Some(json!({ "status": ApplicationStatus::Rejected, "reason": reason })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    let decided = application::Entity::find_by_id(app.id).one(&txn).await?.ok_or(AppError::NotFound("Application"))?;
    txn.commit().await?;
    Ok(decided)
}
