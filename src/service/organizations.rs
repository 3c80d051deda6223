//! Organisations: creation by staff, and the scoped queries every reader goes through.

use entity::organization;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, idempotency, optional_field, people};
use crate::{
    db,
    domain::{OrganizationKind, validate},
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
};

#[derive(Debug, Clone, Default)]
pub struct NewOrganization {
    pub kind: Option<OrganizationKind>,
    pub name: String,
    pub country: String,
    pub domain: Option<String>,
    pub vat_number: Option<String>,
    pub registration_number: Option<String>,
    pub website: Option<String>,
    /// An affiliate's referral code the organisation came through (customers only).
    pub referral_code: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: Option<OrganizationKind>,
}

/// Everything the principal may see, filtered; the caller pages through it.
pub fn visible(ctx: &Ctx, principal: Option<&Principal>, filter: &Filter) -> Select<organization::Entity> {
    let mut query = organization::Entity::find().filter(policy::organizations_scope(principal, ctx.now()));
    if let Some(kind) = filter.kind {
        query = query.filter(organization::Column::Kind.eq(kind.as_str()));
    }
    query
}

#[tracing::instrument(skip_all, fields(kind = ?input.kind))]
pub async fn create(
    ctx: &Ctx,
    principal: Option<&Principal>,
    input: NewOrganization,
    idempotency_key: Option<&str>,
) -> AppResult<organization::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::CreateOrganization)?;
    let kind = match input.kind {
        Some(OrganizationKind::Vendor) => {
            return Err(AppError::bad_input(
                "kind",
                "a deployment has exactly one vendor; create a PARTNER, CUSTOMER or DISTRIBUTOR",
            ));
        }
        Some(kind) => kind,
        None => return Err(AppError::bad_input("kind", "is required")),
    };
    let name = field("name", validate::name(&input.name, 200))?;
    let country = field("country", validate::country(&input.country))?;
    let domain = optional_field("domain", input.domain.as_deref(), validate::domain)?;
    let vat_number = optional_field("vatNumber", input.vat_number.as_deref(), validate::vat_number)?;
    let registration_number =
        optional_field("registrationNumber", input.registration_number.as_deref(), |v| validate::name(v, 64))?;
    let website = optional_field("website", input.website.as_deref(), validate::website)?;

    let canonical = json!({
        "kind": kind.as_str(), "name": name, "country": country, "domain": domain,
        "vatNumber": vat_number, "registrationNumber": registration_number, "website": website,
        "referralCode": input.referral_code,
    });
    let key = idempotency_key
        .map(|k| idempotency::Key::new(principal.user_id(), "createOrganization", k, &canonical))
        .transpose()?;
    let fields =
        people::OrganizationFields { name, country: Some(country), domain, vat_number, registration_number, website };
    let referral = input.referral_code.filter(|c| !c.trim().is_empty());
    match insert_once(ctx, principal, kind, fields, referral.as_deref(), canonical, key.as_ref()).await {
        // The same key in flight twice: the loser's work rolled back; it answers with the winner's.
        Err(err) => match &key {
            Some(key) => {
                let id = idempotency::winner(&ctx.db, key, err).await?;
                organization::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AppError::NotFound("Organization"))
            }
            None => Err(err),
        },
        created => created,
    }
}

async fn insert_once(
    ctx: &Ctx,
    principal: &Principal,
    kind: OrganizationKind,
    fields: people::OrganizationFields,
    referral: Option<&str>,
    canonical: serde_json::Value,
    key: Option<&idempotency::Key<'_>>,
) -> AppResult<organization::Model> {
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    if let Some(key) = key
        && let Some(id) = idempotency::previous(&txn, key).await?
    {
        let existing =
            organization::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound("Organization"))?;
        txn.commit().await?;
        return Ok(existing);
    }
    let created = people::insert_organization(&txn, kind, fields, now).await?;
    if let Some(code) = referral {
        super::ledger::referrals::attribute(&txn, &created, code, now).await?;
    }
    if let Some(key) = key {
        idempotency::remember(&txn, key, created.id, now).await?;
    }
    audit::record(
        &txn,
        Some(principal),
        audit::Event {
            action: "organization.created",
            target_type: "Organization",
            target_id: Some(created.id),
            customer_id: (kind == OrganizationKind::Customer).then_some(created.id),
            before: None,
            after: Some(canonical),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Whether one organisation is visible to the principal (one query).
pub async fn find_visible(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<organization::Model> {
    organization::Entity::find_by_id(id)
        .filter(policy::organizations_scope(principal, ctx.now()))
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound("Organization"))
}

/// Whether a vendor exists yet (bootstrap refuses once one does).
pub async fn vendor_exists(db: &impl sea_orm::ConnectionTrait) -> AppResult<bool> {
    Ok(organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrganizationKind::Vendor))
        .one(db)
        .await?
        .is_some())
}
