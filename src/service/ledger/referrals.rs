//! Affiliates: a partner of a referral programme gets a referral code and link; an organisation
//! created through the code is attributed to it for the programme's attribution period, and what
//! it pays earns the affiliate commission unless it has a confirmed partner of record.

use chrono::{DateTime, Months, Utc};
use entity::{organization, partnership, program, referral_attribution, referral_code};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};
use serde_json::json;
use uuid::Uuid;

use crate::{
    db,
    domain::{OrganizationKind, ProgramKind},
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
    service::{Ctx, audit},
};

/// Referral codes the principal reads: an affiliate's ADMIN and BILLING their own, staff all.
pub fn codes(principal: Option<&Principal>) -> Select<referral_code::Entity> {
    referral_code::Entity::find()
        .filter(policy::ledger_scope(principal, (referral_code::Entity, referral_code::Column::PartnerId)))
}

/// Attributions the principal reads: an affiliate's ADMIN and BILLING their own, staff all.
pub fn attributions(principal: Option<&Principal>) -> Select<referral_attribution::Entity> {
    referral_attribution::Entity::find().filter(policy::ledger_scope(
        principal,
        (referral_attribution::Entity, referral_attribution::Column::PartnerId),
    ))
}

fn new_code() -> String {
    // Ten characters of a random UUID, upper case: unguessable enough to share, short enough to type.
    let random = Uuid::new_v4().simple().to_string().to_uppercase();
    format!("NW-{}", &random[..10])
}

/// The acting affiliate's referral code in a referral programme it belongs to (the first when
/// `program_id` is absent): made once, then the same code.
pub async fn create_code(
    ctx: &Ctx,
    principal: Option<&Principal>,
    program_id: Option<Uuid>,
) -> AppResult<referral_code::Model> {
    let p = policy::signed_in(principal)?;
    policy::can(p, Action::CreateReferralCode)?;
    let partner_id = policy::acting(p)?.organization_id();
    let places =
        partnership::Entity::find().filter(partnership::Column::OrganizationId.eq(partner_id)).all(&ctx.db).await?;
    let referral: Vec<program::Model> = program::Entity::find()
        .filter(program::Column::Id.is_in(places.iter().map(|pl| pl.program_id)))
        .filter(program::Column::Kind.eq(ProgramKind::Referral))
        .all(&ctx.db)
        .await?;
    let program = match program_id {
        Some(id) => referral.into_iter().find(|pr| pr.id == id),
        None => referral.into_iter().next(),
    }
    .ok_or_else(|| {
        AppError::Forbidden("referral codes are for partners of a referral programme (affiliates)".into())
    })?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let existing = referral_code::Entity::find()
        .filter(referral_code::Column::PartnerId.eq(partner_id))
        .filter(referral_code::Column::ProgramId.eq(program.id))
        .one(&txn)
        .await?;
    if let Some(code) = existing {
        return Ok(code);
    }
    let inserted = referral_code::ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(partner_id),
        program_id: Set(program.id),
        code: Set(new_code()),
        created_by_user_id: Set(p.user_id()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await;
    let code = match inserted {
        Ok(code) => code,
        // Two first requests at once both read "none" on PostgreSQL; the unique key lets one
        // insert, and the other answers with its code, as a later request would.
        Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            let winner = referral_code::Entity::find()
                .filter(referral_code::Column::PartnerId.eq(partner_id))
                .filter(referral_code::Column::ProgramId.eq(program.id))
                .one(&ctx.db)
                .await?;
            return winner.ok_or_else(|| err.into());
        }
        Err(err) => return Err(err.into()),
    };
    let event = audit::Event {
        action: "referral_code.created",
        target_type: "ReferralCode",
        target_id: Some(code.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "code": code.code, "program": program.id })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    Ok(code)
}

/// Attributes a newly created organisation to the affiliate whose code it came through, in the
/// creating transaction. Only customers are attributed (a partner referred earns nobody
/// anything), and never to themselves.
pub async fn attribute(
    db: &impl ConnectionTrait,
    org: &organization::Model,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<referral_attribution::Model> {
    let text = code.trim().to_uppercase();
    let code = referral_code::Entity::find()
        .filter(referral_code::Column::Code.eq(text))
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("referralCode", "is not a referral code"))?;
    if org.kind != OrganizationKind::Customer {
        return Err(AppError::bad_input("referralCode", "only customers are attributed to an affiliate"));
    }
    if org.id == code.partner_id {
        return Err(AppError::bad_input("referralCode", "a partner does not refer itself"));
    }
    let program = program::Entity::find_by_id(code.program_id).one(db).await?.ok_or(AppError::NotFound("Program"))?;
    let months = u32::try_from(program.referral_attribution_months).unwrap_or(12);
    let ends_at = now.checked_add_months(Months::new(months)).unwrap_or(now);
    Ok(referral_attribution::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.id),
        partner_id: Set(code.partner_id),
        program_id: Set(code.program_id),
        code_id: Set(code.id),
        attributed_at: Set(now),
        ends_at: Set(ends_at),
    }
    .insert(db)
    .await?)
}

/// The affiliate named on its referral link's page, and the code as stored: public, since the
/// affiliate hands the code out to be seen; an unknown code names nobody.
pub async fn referred_by(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<(String, String)>> {
    let code = code.trim().to_uppercase();
    if code.is_empty() || code.len() > 40 {
        return Ok(None);
    }
    let Some(found) = referral_code::Entity::find().filter(referral_code::Column::Code.eq(code)).one(db).await? else {
        return Ok(None);
    };
    let partner = organization::Entity::find_by_id(found.partner_id).one(db).await?;
    Ok(partner.map(|p| (p.name, found.code)))
}
