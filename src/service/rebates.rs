//! Rebates, part one: the approved distributor list and the rebate table (issue 16). Claims
//! name a distributor of the list, and freeze the rate in force on their invoice date.

use chrono::{DateTime, Utc};
use entity::{distributor_approval, organization, program, rebate_rate, tier};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, sea_query::Query,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    db,
    domain::{
        OrganizationKind,
        rebates::{self, Validity},
    },
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
    service::{Ctx, audit, fixed},
};

/// Puts a DISTRIBUTOR organisation on the approved list, or takes it off (it stays listed as
/// inactive for staff, so the claims that named it keep their history).
#[tracing::instrument(skip_all, fields(organization = %organization_id, active))]
pub async fn set_distributor(
    ctx: &Ctx,
    principal: Option<&Principal>,
    organization_id: Uuid,
    active: bool,
    note: Option<String>,
) -> AppResult<distributor_approval::Model> {
    let p = policy::signed_in(principal)?;
    policy::can(p, Action::ManageRebates)?;
    let org = organization::Entity::find_by_id(organization_id)
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound("Organization"))?;
    if org.kind != OrganizationKind::Distributor {
        return Err(AppError::bad_input("organizationId", "is not a DISTRIBUTOR organisation"));
    }
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(AppError::bad_input("note", "is at most 500 characters"));
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let before = distributor_approval::Entity::find_by_id(org.id).one(&txn).await?;
    let saved = match &before {
        Some(row) => {
            let mut row: distributor_approval::ActiveModel = row.clone().into();
            row.active = Set(active);
            row.note = Set(note);
            row.updated_at = Set(now);
            row.update(&txn).await?
        }
        None => {
            distributor_approval::ActiveModel {
                organization_id: Set(org.id),
                active: Set(active),
                note: Set(note),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
    };
    let event = audit::Event {
        action: if active { "distributor.approved" } else { "distributor.withdrawn" },
        target_type: "Organization",
        target_id: Some(org.id),
        customer_id: None,
        before: before.map(|b| json!({ "active": b.active })),
        after: Some(json!({ "active": saved.active, "note": saved.note })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    Ok(saved)
}

/// The approved distributors a principal sees (`policy::distributors_scope`), as organisations;
/// `active` narrows to the active or the withdrawn ones.
pub fn distributors(principal: Option<&Principal>, active: Option<bool>) -> Select<organization::Entity> {
    let mut listed = Query::select()
        .column(distributor_approval::Column::OrganizationId)
        .from(distributor_approval::Entity)
        .cond_where(policy::distributors_scope(principal))
        .to_owned();
    if let Some(active) = active {
        listed.and_where(distributor_approval::Column::Active.eq(active));
    }
    organization::Entity::find().filter(organization::Column::Id.in_subquery(listed))
}

/// A new rebate rate, as staff enter it.
pub struct NewRate {
    pub program_id: Uuid,
    pub tier_id: Uuid,
    pub product_line: String,
    pub amount_per_unit: (Decimal, String),
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
}

fn validity(rate: &rebate_rate::Model) -> Validity {
    Validity { from: rate.valid_from, to: rate.valid_to }
}

/// Adds a rate to a programme's rebate table. Rates of one tier, product line and currency may
/// not overlap in time: the rate in force on an invoice date is then never in doubt.
#[tracing::instrument(skip_all, fields(program = %new.program_id, tier = %new.tier_id))]
pub async fn create_rate(ctx: &Ctx, principal: Option<&Principal>, new: NewRate) -> AppResult<rebate_rate::Model> {
    let p = policy::signed_in(principal)?;
    policy::can(p, Action::ManageRebates)?;
    let program =
        program::Entity::find_by_id(new.program_id).one(&ctx.db).await?.ok_or(AppError::NotFound("Program"))?;
    let line = new.product_line.trim().to_string();
    if line.is_empty() || line.chars().count() > 100 {
        return Err(AppError::bad_input("productLine", "is 1 to 100 characters"));
    }
    let (amount, currency) = new.amount_per_unit;
    let currency = currency.trim().to_uppercase();
    if currency != program.currency {
        return Err(AppError::bad_input(
            "amountPerUnit",
            format!("must be in the programme's currency, {}", program.currency),
        ));
    }
    if amount <= Decimal::ZERO {
        return Err(AppError::bad_input("amountPerUnit", "must be positive"));
    }
    let amount = fixed("amountPerUnit", amount)?;
    if new.valid_to.is_some_and(|to| to <= new.valid_from) {
        return Err(AppError::bad_input("validTo", "must be after validFrom"));
    }
    let period = Validity { from: new.valid_from, to: new.valid_to };
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    // The tier's row is locked (on PostgreSQL; SQLite's write transaction already serialises) so
    // that two rates entered at once cannot both pass the overlap check.
    let found = tier::Entity::find_by_id(new.tier_id).lock_exclusive().one(&txn).await?;
    if found.is_none_or(|t| t.program_id != program.id) {
        return Err(AppError::bad_input("tierId", "is not a tier of that programme"));
    }
    let key = rebates::product_line_key(&line);
    let same = rebate_rate::Entity::find()
        .filter(rebate_rate::Column::TierId.eq(new.tier_id))
        .filter(rebate_rate::Column::Currency.eq(currency.as_str()))
        .all(&txn)
        .await?;
    if same.iter().any(|r| rebates::product_line_key(&r.product_line) == key && validity(r).overlaps(&period)) {
        return Err(AppError::ConflictOn {
            field: "validFrom",
            message: "another rate of this tier and product line is in force in that period; end it first".into(),
        });
    }
    let rate = rebate_rate::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program.id),
        tier_id: Set(new.tier_id),
        product_line: Set(line),
        amount_per_unit: Set(amount),
        currency: Set(currency),
        valid_from: Set(new.valid_from),
        valid_to: Set(new.valid_to),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let event = audit::Event {
        action: "rebate_rate.created",
        target_type: "RebateRate",
        target_id: Some(rate.id),
        customer_id: None,
        before: None,
        after: Some(json!({
            "program": program.id, "tier": rate.tier_id, "productLine": rate.product_line,
            "amountPerUnit": rate.amount_per_unit, "currency": rate.currency,
        })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    Ok(rate)
}

/// A programme's rebate table, oldest first: published terms, like the programme itself. With
/// `at`, only the rates in force then (one per tier, product line and currency).
#[tracing::instrument(skip_all, fields(program = %program_id))]
pub async fn rates(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    program_id: Uuid,
    at: Option<DateTime<Utc>>,
) -> AppResult<Vec<rebate_rate::Model>> {
    let mut select = rebate_rate::Entity::find()
        .filter(rebate_rate::Column::ProgramId.eq(program_id))
        .filter(policy::programs_scope(principal));
    if let Some(at) = at {
        select = select.filter(rebate_rate::Column::ValidFrom.lte(at));
    }
    let rates = select.order_by_asc(rebate_rate::Column::Id).all(db).await?;
    Ok(match at {
        Some(at) => rates.into_iter().filter(|r| validity(r).covers(at)).collect(),
        None => rates,
    })
}
