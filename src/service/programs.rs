//! Partner programmes: staff keep programmes, terms and tiers; partnerships place an
//! organisation in a programme at a tier; staff move partners between tiers, with a reason for
//! every downgrade, a history entry and a notification; evaluation compares each partnership
//! with every tier's requirements.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    course, exam_result, membership, organization, partnership, program, program_terms, success_story, tier,
    tier_change,
};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationDef, Select, sea_query::Query,
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, notifications, optional_field};
use crate::{
    db,
    domain::notifications::NotificationKind,
    domain::{CourseKind, ProgramKind},
    domain::{
        OrganizationKind,
        tiers::{self, Benefits, Evaluation, ExamPass, PartnerFacts, Requirements, TierDefinition},
        validate,
    },
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
};

/// An amount a caller gives in a programme's currency.
pub fn amount_in(name: &str, amount: Decimal, currency: &str, expected: &str) -> AppResult<Decimal> {
    if !currency.trim().eq_ignore_ascii_case(expected) {
        return Err(AppError::bad_input(
            format!("{name}.currency"),
            format!("must be in the programme's currency, {expected}"),
        ));
    }
    if amount.is_sign_negative() || amount.scale() > 4 {
        return Err(AppError::bad_input(name, "must be zero or more, with at most 4 decimals"));
    }
    Ok(amount.normalize())
}

/// An ISO 4217 code in use (see `domain::currency::parse`).
pub fn currency(name: &str, value: &str) -> AppResult<String> {
    crate::domain::currency::parse(value).map(str::to_string).map_err(|m| AppError::bad_input(name, m))
}

/// A currency the vendor's programmes trade in: prices in any other could not be billed to a
/// partner of any programme.
pub async fn programme_currency(db: &impl ConnectionTrait, name: &str, value: &str) -> AppResult<String> {
    let code = currency(name, value)?;
    let used: Vec<String> =
        program::Entity::find().select_only().column(program::Column::Currency).distinct().into_tuple().all(db).await?;
    if !used.contains(&code) {
        let allowed = if used.is_empty() { "none yet: create a programme first".to_string() } else { used.join(", ") };
        return Err(AppError::bad_input(name, format!("{code} is not a currency of any programme ({allowed})")));
    }
    Ok(code)
}

pub fn requirements_of(t: &tier::Model) -> AppResult<Requirements> {
    t.requirements.clone().map_or(Ok(Requirements::default()), |j| {
        serde_json::from_value(j).map_err(|e| AppError::internal_from(format!("tier {} requirements", t.id), e))
    })
}

/// Whether stored benefits include a directory listing (kept as a column for the directory's
/// join).
fn listing(benefits: &Option<serde_json::Value>) -> bool {
    benefits.as_ref().and_then(|b| b.get("directoryListing")).and_then(serde_json::Value::as_bool).unwrap_or(false)
}

pub fn benefits_of(t: &tier::Model) -> AppResult<Benefits> {
    t.benefits.clone().map_or(Ok(Benefits::default()), |j| {
        serde_json::from_value(j).map_err(|e| AppError::internal_from(format!("tier {} benefits", t.id), e))
    })
}

pub struct NewProgram {
    pub name: String,
    pub kind: ProgramKind,
    pub currency: String,
    pub terms: String,
    pub exclusivity_group: Option<String>,
    /// With the currency it was given in, which must be the programme's.
    pub min_yearly_amount: Option<(Decimal, String)>,
    pub requires_registration_number: bool,
    pub requires_website: bool,
    /// Days an approved deal protects its customer and products (90 when not given).
    pub deal_protection_days: Option<i32>,
    /// The highest special discount on an approved deal, in percent (none: no discounts).
    pub deal_max_discount_percent: Option<Decimal>,
    /// How commissions are held and paid out.
    pub payouts: PayoutTerms,
    /// List every partner who opted in, not only those at a tier with a listing.
    pub directory_lists_all: bool,
    /// The yearly programme fee, with the currency it was given in (none: no fee).
    pub yearly_fee: Option<(Decimal, String)>,
    /// Months of grace before a downgrade is proposed (1 when not given).
    pub downgrade_grace_months: Option<i32>,
}

fn grace_months(value: Option<i32>) -> AppResult<Option<i32>> {
    match value {
        Some(m) if !(1..=12).contains(&m) => Err(AppError::bad_input("downgradeGraceMonths", "must be 1 to 12 months")),
        other => Ok(other),
    }
}

fn yearly_fee(given: Option<(Decimal, String)>, currency: &str) -> AppResult<Option<Option<entity::fixed::Fixed>>> {
    let Some((amount, cur)) = given else { return Ok(None) };
    let amount = amount_in("yearlyFee", amount, &cur, currency)?;
    let amount = super::programme_fees::fee_amount(amount)?;
    Ok(Some(amount.map(|a| super::fixed("yearlyFee", a)).transpose()?))
}

/// Staff change a programme's yearly fee (zero removes it; the next billing run bills the new
/// amount for years not yet billed) and its downgrade grace period.
#[tracing::instrument(skip_all, fields(program_id = %program_id))]
pub async fn update_program_rules(
    ctx: &Ctx,
    principal: Option<&Principal>,
    program_id: Uuid,
    fee: Option<(Decimal, String)>,
    downgrade_grace_months: Option<i32>,
) -> AppResult<program::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageProgram)?;
    let months = grace_months(downgrade_grace_months)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let current = program::Entity::find_by_id(program_id).one(&txn).await?.ok_or(AppError::NotFound("Program"))?;
    let fee = yearly_fee(fee, &current.currency)?;
    let mut active: program::ActiveModel = current.clone().into();
    if let Some(fee) = fee {
        active.yearly_fee = Set(fee);
    }
    if let Some(m) = months {
        active.downgrade_grace_months = Set(m);
    }
    let updated = active.update(&txn).await?;
    let event = audit::Event {
        action: "program.rules_changed",
        target_type: "Program",
        target_id: Some(program_id),
        customer_id: None,
        before: Some(json!({ "yearlyFee": current.yearly_fee, "graceMonths": current.downgrade_grace_months })),
        after: Some(json!({ "yearlyFee": updated.yearly_fee, "graceMonths": updated.downgrade_grace_months })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// A programme's payout settings: none given means 7 days' reversal window, no minimum payout,
/// a batch every 3 months.
#[derive(Default)]
pub struct PayoutTerms {
    pub reversal_window_days: Option<i32>,
    /// With the currency it was given in, which must be the programme's.
    pub min_payout: Option<(Decimal, String)>,
    pub payout_interval_months: Option<i32>,
    /// Months an organisation created through an affiliate's code stays attributed (12 when not given).
    pub referral_attribution_months: Option<i32>,
    /// The largest invoice file of a rebate claim, in bytes (10 MiB when not given).
    pub rebate_file_max_bytes: Option<i64>,
}

fn terms_body(field: &str, body: &str) -> AppResult<String> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 100_000 {
        return Err(AppError::bad_input(field, "must be 1 to 100000 characters"));
    }
    Ok(body.to_string())
}

#[tracing::instrument(skip_all)]
pub async fn create_program(
    ctx: &Ctx,
    principal: Option<&Principal>,
    input: NewProgram,
) -> AppResult<(program::Model, program_terms::Model)> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageProgram)?;
    let name = field("name", validate::name(&input.name, 200))?;
    let currency = currency("currency", &input.currency)?;
    let body = terms_body("terms", &input.terms)?;
    let group = optional_field("exclusivityGroup", input.exclusivity_group.as_deref(), |g| validate::name(g, 64))?
        .map(|g| g.to_lowercase());
    let minimum = match input.min_yearly_amount {
        Some((a, given)) => {
            Some(super::fixed("minimumYearlyAmount", amount_in("minimumYearlyAmount", a, &given, &currency)?)?)
        }
        None => None,
    };
    let protection_days = input.deal_protection_days.unwrap_or(90);
    if !(1..=730).contains(&protection_days) {
        return Err(AppError::bad_input("dealProtectionDays", "must be 1 to 730 days"));
    }
    let max_discount = match input.deal_max_discount_percent {
        Some(p) if p < Decimal::ZERO || p > Decimal::from(100) => {
            return Err(AppError::bad_input("dealMaxDiscountPercent", "must be 0 to 100"));
        }
        Some(p) => Some(super::fixed("dealMaxDiscountPercent", p)?),
        None => None,
    };
    let reversal_window_days = input.payouts.reversal_window_days.unwrap_or(7);
    if !(0..=90).contains(&reversal_window_days) {
        return Err(AppError::bad_input("reversalWindowDays", "must be 0 to 90 days"));
    }
    let payout_interval_months = input.payouts.payout_interval_months.unwrap_or(3);
    if ![1, 2, 3].contains(&payout_interval_months) {
        return Err(AppError::bad_input(
            "payoutIntervalMonths",
            "must be 1, 2 or 3: partners are paid at least every 3 months",
        ));
    }
    let referral_attribution_months = input.payouts.referral_attribution_months.unwrap_or(12);
    if !(1..=60).contains(&referral_attribution_months) {
        return Err(AppError::bad_input("referralAttributionMonths", "must be 1 to 60 months"));
    }
    let rebate_file_max_bytes =
        input.payouts.rebate_file_max_bytes.unwrap_or(crate::domain::rebates::DEFAULT_FILE_MAX_BYTES);
    if !(1024..=crate::domain::rebates::LARGEST_FILE_MAX_BYTES).contains(&rebate_file_max_bytes) {
        return Err(AppError::bad_input("rebateFileMaxBytes", "must be 1 KiB to 50 MiB"));
    }
    let min_payout = match input.payouts.min_payout {
        Some((a, given)) => {
            let amount = amount_in("minimumPayout", a, &given, &currency)?;
            if amount < Decimal::ZERO {
                return Err(AppError::bad_input("minimumPayout", "must not be negative"));
            }
            Some(super::fixed("minimumPayout", amount)?)
        }
        None => None,
    };
    let downgrade_grace_months = grace_months(input.downgrade_grace_months)?.unwrap_or(1);
    let fee = yearly_fee(input.yearly_fee, &currency)?.flatten();
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let created = program::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        kind: Set(input.kind),
        currency: Set(currency),
        exclusivity_group: Set(group),
        min_yearly_amount: Set(minimum),
        requires_registration_number: Set(input.requires_registration_number),
        requires_website: Set(input.requires_website),
        deal_protection_days: Set(protection_days),
        deal_max_discount_percent: Set(max_discount),
        reversal_window_days: Set(reversal_window_days),
        min_payout: Set(min_payout),
        payout_interval_months: Set(payout_interval_months),
        referral_attribution_months: Set(referral_attribution_months),
        rebate_file_max_bytes: Set(rebate_file_max_bytes),
        created_at: Set(now),
        directory_lists_all: Set(input.directory_lists_all),
        yearly_fee: Set(fee),
        downgrade_grace_months: Set(downgrade_grace_months),
    }
    .insert(&txn)
    .await?;
    let terms = insert_terms(&txn, created.id, 1, body, principal.user_id(), now).await?;
    let event = audit::Event {
        action: "program.created",
        target_type: "Program",
        target_id: Some(created.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "name": created.name, "kind": created.kind, "group": created.exclusivity_group })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok((created, terms))
}

async fn insert_terms(
    db: &impl ConnectionTrait,
    program_id: Uuid,
    version: i32,
    body: String,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<program_terms::Model> {
    Ok(program_terms::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program_id),
        version: Set(version),
        body: Set(body),
        published_at: Set(now),
        published_by_user_id: Set(Some(by)),
    }
    .insert(db)
    .await?)
}

/// Publishes a new version of a programme's terms; older versions are kept, and applications
/// must accept the newest.
#[tracing::instrument(skip_all, fields(program_id = %program_id))]
pub async fn publish_terms(
    ctx: &Ctx,
    principal: Option<&Principal>,
    program_id: Uuid,
    body: &str,
) -> AppResult<program_terms::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageProgram)?;
    let body = terms_body("text", body)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    program::Entity::find_by_id(program_id).one(&txn).await?.ok_or(AppError::NotFound("Program"))?;
    let version = current_terms(&txn, program_id).await?.map_or(1, |t| t.version + 1);
    // Two publishers at once: the unique (programme, version) key refuses the second.
    let terms = insert_terms(&txn, program_id, version, body, principal.user_id(), now).await?;
    let event = audit::Event {
        action: "program.terms_published",
        target_type: "Program",
        target_id: Some(program_id),
        customer_id: None,
        before: None,
        after: Some(json!({ "version": version })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(terms)
}

pub async fn current_terms(db: &impl ConnectionTrait, program_id: Uuid) -> AppResult<Option<program_terms::Model>> {
    Ok(program_terms::Entity::find()
        .filter(program_terms::Column::ProgramId.eq(program_id))
        .order_by_desc(program_terms::Column::Version)
        .one(db)
        .await?)
}

pub struct TierFields {
    pub name: Option<String>,
    pub rank: Option<i32>,
    pub requirements: Option<Requirements>,
    /// The currency `requirements.yearly_purchase_volume` was given in: the programme's.
    pub volume_currency: Option<String>,
    pub benefits: Option<Benefits>,
}

/// The yearly purchase volume must be in the programme's currency.
fn check_volume_currency(fields: &TierFields, program: &program::Model) -> AppResult<()> {
    match (&fields.requirements, &fields.volume_currency) {
        (Some(Requirements { yearly_purchase_volume: Some(volume), .. }), Some(currency)) => {
            amount_in("requirements.yearlyPurchaseVolume", *volume, currency, &program.currency).map(|_| ())
        }
        _ => Ok(()),
    }
}

fn tier_json(fields: &TierFields) -> AppResult<(Option<serde_json::Value>, Option<serde_json::Value>)> {
    let requirements = match &fields.requirements {
        Some(r) => {
            field("requirements", r.validate())?;
            Some(serde_json::to_value(r).map_err(AppError::internal)?)
        }
        None => None,
    };
    let benefits = match &fields.benefits {
        Some(b) => {
            field("benefits", b.validate())?;
            Some(serde_json::to_value(b).map_err(AppError::internal)?)
        }
        None => None,
    };
    Ok((requirements, benefits))
}

async fn check_gift_products(db: &impl ConnectionTrait, benefits: &Option<Benefits>) -> AppResult<()> {
    let Some(b) = benefits else { return Ok(()) };
    if b.welcome_gift_products.is_empty() {
        return Ok(());
    }
    let found = entity::product::Entity::find()
        .filter(entity::product::Column::Id.is_in(b.welcome_gift_products.iter().copied()))
        .count(db)
        .await?;
    if found != b.welcome_gift_products.len() as u64 {
        return Err(AppError::bad_input("benefits", "a welcome gift product does not exist"));
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(program_id = %program_id))]
pub async fn create_tier(
    ctx: &Ctx,
    principal: Option<&Principal>,
    program_id: Uuid,
    fields: TierFields,
) -> AppResult<tier::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageProgram)?;
    let name = field("name", validate::name(fields.name.as_deref().unwrap_or(""), 100))?;
    let rank = fields.rank.ok_or_else(|| AppError::bad_input("rank", "is required"))?;
    if !(0..=1000).contains(&rank) {
        return Err(AppError::bad_input("rank", "is between 0 and 1000"));
    }
    let (requirements, benefits) = tier_json(&fields)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let program = program::Entity::find_by_id(program_id).one(&txn).await?.ok_or(AppError::NotFound("Program"))?;
    check_volume_currency(&fields, &program)?;
    check_gift_products(&txn, &fields.benefits).await?;
    let created = tier::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program_id),
        name: Set(name),
        rank: Set(rank),
        requirements: Set(requirements),
        directory_listing: Set(listing(&benefits)),
        benefits: Set(benefits),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let event = audit::Event {
        action: "tier.created",
        target_type: "Tier",
        target_id: Some(created.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "name": created.name, "rank": created.rank })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(created)
}

#[tracing::instrument(skip_all, fields(tier_id = %tier_id))]
pub async fn update_tier(
    ctx: &Ctx,
    principal: Option<&Principal>,
    tier_id: Uuid,
    fields: TierFields,
) -> AppResult<tier::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageProgram)?;
    let name = optional_field("name", fields.name.as_deref(), |n| validate::name(n, 100))?;
    if fields.rank.is_some() {
        return Err(AppError::bad_input("rank", "cannot change; partners' history refers to it"));
    }
    let (requirements, benefits) = tier_json(&fields)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let current = tier::Entity::find_by_id(tier_id).one(&txn).await?.ok_or(AppError::NotFound("Tier"))?;
    if fields.volume_currency.is_some() {
        let program =
            program::Entity::find_by_id(current.program_id).one(&txn).await?.ok_or(AppError::NotFound("Program"))?;
        check_volume_currency(&fields, &program)?;
    }
    check_gift_products(&txn, &fields.benefits).await?;
    let mut active: tier::ActiveModel = current.clone().into();
    if let Some(n) = name {
        active.name = Set(n);
    }
    if requirements.is_some() {
        active.requirements = Set(requirements);
    }
    if benefits.is_some() {
        active.directory_listing = Set(listing(&benefits));
        active.benefits = Set(benefits);
    }
    let updated = active.update(&txn).await?;
    let event = audit::Event {
        action: "tier.updated",
        target_type: "Tier",
        target_id: Some(updated.id),
        customer_id: None,
        before: Some(
            json!({ "name": current.name, "requirements": current.requirements, "benefits": current.benefits }),
        ),
        after: Some(
            json!({ "name": updated.name, "requirements": updated.requirements, "benefits": updated.benefits }),
        ),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// The programme of `program_id`'s exclusivity group an organisation already takes part in,
/// other than `program_id` itself.
pub async fn exclusive_conflict(
    db: &impl ConnectionTrait,
    organization_ids: &[Uuid],
    program: &program::Model,
) -> AppResult<Option<program::Model>> {
    let Some(group) = &program.exclusivity_group else { return Ok(None) };
    if organization_ids.is_empty() {
        return Ok(None);
    }
    let in_group = Query::select()
        .column(partnership::Column::ProgramId)
        .from(partnership::Entity)
        .and_where(partnership::Column::OrganizationId.is_in(organization_ids.iter().copied()))
        .to_owned();
    Ok(program::Entity::find()
        .filter(program::Column::ExclusivityGroup.eq(group.as_str()))
        .filter(program::Column::Id.ne(program.id))
        .filter(program::Column::Id.in_subquery(in_group))
        .one(db)
        .await?)
}

/// The lowest tier of a programme: where approved applicants start.
pub async fn entry_tier(db: &impl ConnectionTrait, program_id: Uuid) -> AppResult<Option<tier::Model>> {
    Ok(tier::Entity::find()
        .filter(tier::Column::ProgramId.eq(program_id))
        .order_by_asc(tier::Column::Rank)
        .one(db)
        .await?)
}

/// Places an organisation in a programme at a tier; the caller checked the policy and
/// exclusivity. Writes the first history entry.
pub async fn insert_partnership(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    tier: &tier::Model,
    by: Option<Uuid>,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<partnership::Model> {
    let created = partnership::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        program_id: Set(tier.program_id),
        tier_id: Set(tier.id),
        joined_at: Set(now),
        committed_yearly_volume: Set(None),
        yearly_fee_paid_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        grace_started_at: Set(None),
        grace_ends_at: Set(None),
        grace_missing: Set(None),
        yearly_fee_due_at: Set(None),
    }
    .insert(db)
    .await?;
    tier_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        from_tier_id: Set(None),
        to_tier_id: Set(tier.id),
        reason: Set(Some(reason.into())),
        changed_by_user_id: Set(by),
        changed_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(created)
}

#[tracing::instrument(skip_all, fields(partner_id = %partner_id, tier_id = %tier_id))]
pub async fn change_partner_tier(
    ctx: &Ctx,
    principal: Option<&Principal>,
    partner_id: Uuid,
    tier_id: Uuid,
    reason: Option<&str>,
) -> AppResult<(organization::Model, tier_change::Model)> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ChangePartnerTier)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
    if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(AppError::bad_input("reason", "must be at most 2000 characters"));
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let partner = organization::Entity::find_by_id(partner_id)
        .filter(organization::Column::Kind.eq(OrganizationKind::Partner))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Organization"))?;
    let target = tier::Entity::find_by_id(tier_id).one(&txn).await?.ok_or(AppError::NotFound("Tier"))?;
    let existing = partnership::Entity::find()
        .filter(partnership::Column::OrganizationId.eq(partner.id))
        .filter(partnership::Column::ProgramId.eq(target.program_id))
        .one(&txn)
        .await?;
    let current = match &existing {
        Some(p) => tier::Entity::find_by_id(p.tier_id).one(&txn).await?,
        None => None,
    };
    if current.as_ref().is_some_and(|c| c.id == target.id) {
        return Err(AppError::Conflict("the partner is already at this tier".into()));
    }
    if current.as_ref().is_some_and(|c| target.rank < c.rank) && reason.is_none() {
        return Err(AppError::bad_input("reason", "a downgrade needs a reason"));
    }
    let partnership_id = match existing {
        Some(p) => {
            let id = p.id;
            // The first move above the entry tier waits for the onboarding questionnaire.
            let entry = entry_tier(&txn, p.program_id).await?;
            if current.as_ref().is_some_and(|c| Some(c.id) == entry.map(|e| e.id) && target.rank > c.rank) {
                super::questionnaires::settle_before_first_tier(&txn, &p, principal.user_id(), now).await?;
            }
            let mut active: partnership::ActiveModel = p.into();
            active.tier_id = Set(target.id);
            active.updated_at = Set(now);
            active.update(&txn).await?;
            id
        }
        None => {
            // Staff place a partner that never applied (e.g. one migrated from elsewhere).
            let program =
                program::Entity::find_by_id(target.program_id).one(&txn).await?.ok_or(AppError::NotFound("Program"))?;
            if let Some(other) = exclusive_conflict(&txn, &[partner.id], &program).await? {
                return Err(AppError::bad_input(
                    "tierId",
                    format!("the partner is in {}, which excludes this programme", other.name),
                ));
            }
            let p = insert_partnership(&txn, partner.id, &target, Some(principal.user_id()), "placed by staff", now)
                .await?;
            // The entry row above is the change; no second one.
            let change = tier_change::Entity::find()
                .filter(tier_change::Column::OrganizationId.eq(p.organization_id))
                .order_by_desc(tier_change::Column::Id)
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::internal("placement left no history"))?;
            notify_tier_change(&txn, principal, &partner, None, &target, reason.as_deref(), now).await?;
            txn.commit().await?;
            return Ok((partner, change));
        }
    };
    let change = tier_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(partner.id),
        from_tier_id: Set(current.as_ref().map(|c| c.id)),
        to_tier_id: Set(target.id),
        reason: Set(reason.clone()),
        changed_by_user_id: Set(Some(principal.user_id())),
        changed_at: Set(now),
    }
    .insert(&txn)
    .await?;
    // Staff decided: an open proposal is settled, and a grace period ends with the change.
    super::tier_proposals::settle_on_tier_change(
        &txn,
        partnership_id,
        target.id,
        principal.user_id(),
        reason.as_deref(),
        now,
    )
    .await?;
    notify_tier_change(&txn, principal, &partner, current.as_ref(), &target, reason.as_deref(), now).await?;
    let mut touched: organization::ActiveModel = partner.into();
    touched.updated_at = Set(now);
    let updated = touched.update(&txn).await?;
    txn.commit().await?;
    Ok((updated, change))
}

async fn notify_tier_change(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    partner: &organization::Model,
    from: Option<&tier::Model>,
    to: &tier::Model,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let from = from.map(|c| c.name.clone());
    let event = audit::Event {
        action: "partner.tier_changed",
        target_type: "Organization",
        target_id: Some(partner.id),
        customer_id: None,
        before: Some(json!({ "tier": from })),
        after: Some(json!({ "tier": to.name, "reason": reason })),
    };
    audit::record(txn, Some(principal), event, now).await?;
    let payload = json!({
        "partnerId": ids::encode(NodeType::Organization, partner.id),
        "from": from, "to": to.name, "reason": reason,
    });
    notifications::enqueue(txn, NotificationKind::TierChanged, partner.id, None, payload, now).await
}

/// A partner's tier history: for staff, and for the partner's own members.
pub fn history(principal: Option<&Principal>, partner_id: Uuid) -> Select<tier_change::Entity> {
    tier_change::Entity::find()
        .filter(tier_change::Column::OrganizationId.eq(partner_id))
        .filter(policy::partner_internals_scope(principal, partner_id))
}

/// The partnerships of an organisation anyone who sees it may list (programme and tier are
/// what the directory shows); commitments and evaluations are checked field by field.
pub fn partnerships_of(organization_id: Uuid) -> Select<partnership::Entity> {
    partnership::Entity::find().filter(partnership::Column::OrganizationId.eq(organization_id))
}

/// Staff record what a partner committed to buy per year and until when its fee is paid.
#[tracing::instrument(skip_all, fields(partner_id = %partner_id, program_id = %program_id))]
pub async fn update_partnership(
    ctx: &Ctx,
    principal: Option<&Principal>,
    partner_id: Uuid,
    program_id: Uuid,
    committed: Option<(Decimal, String)>,
    fee_paid_until: Option<DateTime<Utc>>,
) -> AppResult<partnership::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::UpdatePartnership)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let program = program::Entity::find_by_id(program_id).one(&txn).await?.ok_or(AppError::NotFound("Program"))?;
    let current = partnerships_of(partner_id)
        .filter(partnership::Column::ProgramId.eq(program_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Partnership"))?;
    let mut active: partnership::ActiveModel = current.clone().into();
    if let Some((amount, cur)) = committed {
        let amount = amount_in("committedYearlyVolume", amount, &cur, &program.currency)?;
        active.committed_yearly_volume = Set(Some(super::fixed("committedYearlyVolume", amount)?));
    }
    if let Some(until) = fee_paid_until {
        active.yearly_fee_paid_until = Set(Some(until));
    }
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    let event = audit::Event {
        action: "partnership.updated",
        target_type: "Organization",
        target_id: Some(partner_id),
        customer_id: None,
        before: Some(
            json!({ "committed": current.committed_yearly_volume, "feePaidUntil": current.yearly_fee_paid_until }),
        ),
        after: Some(
            json!({ "committed": updated.committed_yearly_volume, "feePaidUntil": updated.yearly_fee_paid_until }),
        ),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Gathers what the evaluation counts for one partnership and evaluates it against every tier
/// of its programme.
pub async fn evaluate(db: &impl ConnectionTrait, p: &partnership::Model, now: DateTime<Utc>) -> AppResult<Evaluation> {
    let mut all = evaluate_many(db, std::slice::from_ref(p), now).await?;
    all.remove(&p.id).ok_or_else(|| AppError::internal("the evaluation of a partnership went missing"))
}

/// The evaluation of each partnership, by id: four queries whatever the number of partnerships
/// and the size of the partners (tiers, people, their exams, accepted stories).
pub async fn evaluate_many(
    db: &impl ConnectionTrait,
    partnerships: &[partnership::Model],
    now: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, Evaluation>> {
    if partnerships.is_empty() {
        return Ok(HashMap::new());
    }
    let program_ids: Vec<Uuid> = partnerships.iter().map(|p| p.program_id).collect();
    let organization_ids: Vec<Uuid> = partnerships.iter().map(|p| p.organization_id).collect();
    let tiers = tier::Entity::find().filter(tier::Column::ProgramId.is_in(program_ids)).all(db).await?;
    let people: Vec<(Uuid, Uuid)> = membership::Entity::find()
        .select_only()
        .column(membership::Column::OrganizationId)
        .column(membership::Column::UserId)
        .filter(membership::Column::OrganizationId.is_in(organization_ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let exams: Vec<(exam_result::Model, Option<course::Model>)> = exam_result::Entity::find()
        .filter(exam_result::Column::UserId.is_in(people.iter().map(|(_, u)| *u)))
        .select_also(course::Entity)
        .join(JoinType::LeftJoin, exam_course())
        .all(db)
        .await?;
    let stories = success_story::Entity::find()
        .filter(success_story::Column::PartnerId.is_in(organization_ids))
        .filter(success_story::Column::Status.eq(crate::domain::ReviewStatus::Accepted))
        .all(db)
        .await?;
    let questionnaires = questionnaire_states(db, partnerships.iter().map(|p| p.id)).await?;
    let mut out = HashMap::new();
    for p in partnerships {
        let members: Vec<Uuid> = people.iter().filter(|(o, _)| *o == p.organization_id).map(|(_, u)| *u).collect();
        let own: Vec<ExamFact> = exams
            .iter()
            .filter(|(e, _)| members.contains(&e.user_id))
            .map(|(e, c)| ExamFact {
                person: e.user_id,
                passed_at: e.passed_at,
                expires_at: e.expires_at,
                course: c.as_ref().map(|c| c.kind),
            })
            .collect();
        let accepted_stories =
            stories.iter().filter(|s| s.partner_id == p.organization_id).filter_map(|s| s.reviewed_at).collect();
        let answered = questionnaires.get(&p.id).copied();
        out.insert(p.id, evaluate_one(p, &tiers, &own, accepted_stories, answered, now)?);
    }
    Ok(out)
}

/// For each partnership whose programme has a questionnaire: whether it answered it. One
/// statement: the programme's first version joined, the answers left-joined.
pub async fn questionnaire_states(
    db: &impl ConnectionTrait,
    partnership_ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, bool>> {
    use entity::{questionnaire as q, questionnaire_answer as a};
    use sea_orm::sea_query::{Expr, ExprTrait};
    let (p,) = (partnership::Entity,);
    let stmt = Query::select()
        .column((p, partnership::Column::Id))
        .expr_as(Expr::col((a::Entity, a::Column::Id)).is_not_null(), sea_orm::sea_query::Alias::new("answered"))
        .from(p)
        .inner_join(
            q::Entity,
            Expr::col((q::Entity, q::Column::ProgramId))
                .equals((p, partnership::Column::ProgramId))
                .and(Expr::col((q::Entity, q::Column::Version)).eq(1)),
        )
        .left_join(a::Entity, Expr::col((a::Entity, a::Column::PartnershipId)).equals((p, partnership::Column::Id)))
        .and_where(Expr::col((p, partnership::Column::Id)).is_in(partnership_ids))
        .to_owned();
    let rows = db.query_all_raw(db.get_database_backend().build(&stmt)).await?;
    let mut out = HashMap::new();
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let answered: bool = row.try_get("", "answered")?;
        out.insert(id, answered);
    }
    Ok(out)
}

/// An exam a member of the partner passed, with the kind of its course (none when the course is
/// gone).
#[derive(Clone, Debug)]
pub struct ExamFact {
    pub person: Uuid,
    pub passed_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub course: Option<CourseKind>,
}

/// One partnership measured against its programme's tiers (`tiers` may hold other programmes'
/// too), from its members' exams and the review dates of its accepted stories.
pub fn evaluate_one(
    p: &partnership::Model,
    tiers: &[tier::Model],
    exams: &[ExamFact],
    accepted_stories: Vec<DateTime<Utc>>,
    questionnaire_answered: Option<bool>,
    now: DateTime<Utc>,
) -> AppResult<Evaluation> {
    let entry = tiers.iter().filter(|t| t.program_id == p.program_id).min_by_key(|t| t.rank).map(|t| t.id);
    let definitions = tiers
        .iter()
        .filter(|t| t.program_id == p.program_id)
        .map(|t| Ok(TierDefinition { id: t.id, name: t.name.clone(), rank: t.rank, requirements: requirements_of(t)? }))
        .collect::<AppResult<Vec<_>>>()?;
    let facts = PartnerFacts {
        joined_at: p.joined_at,
        basic_training_passed: exams.iter().any(|e| e.course == Some(CourseKind::Online)),
        exams: exams
            .iter()
            .map(|e| ExamPass {
                person: e.person,
                passed_at: e.passed_at,
                expires_at: e.expires_at,
                certifying: e.course == Some(CourseKind::Certifying),
            })
            .collect(),
        committed_yearly_volume: p.committed_yearly_volume.map(|v| v.to_decimal()).unwrap_or_default(),
        accepted_stories,
        yearly_fee_paid_until: p.yearly_fee_paid_until,
        yearly_fee_due_at: p.yearly_fee_due_at,
        // Only before the first tier above entry.
        questionnaire_answered: questionnaire_answered.filter(|_| entry == Some(p.tier_id)),
    };
    Ok(tiers::evaluate(&definitions, &facts, now))
}

fn exam_course() -> RelationDef {
    exam_result::Entity::belongs_to(course::Entity).from(exam_result::Column::CourseId).to(course::Column::Id).into()
}

/// The tiers of some programmes (public, like the programmes), lowest first.
pub fn tiers_of_programs(
    principal: Option<&Principal>,
    program_ids: impl IntoIterator<Item = Uuid>,
) -> Select<tier::Entity> {
    tier::Entity::find()
        .filter(tier::Column::ProgramId.is_in(program_ids))
        .filter(policy::programs_scope(principal))
        .order_by_asc(tier::Column::Rank)
}

/// The programmes (public).
pub fn visible(principal: Option<&Principal>) -> Select<program::Entity> {
    program::Entity::find().filter(policy::programs_scope(principal))
}

/// A programme's tiers (public, like the programme).
pub fn tiers_of(principal: Option<&Principal>, program_id: Uuid) -> Select<tier::Entity> {
    tier::Entity::find().filter(tier::Column::ProgramId.eq(program_id)).filter(policy::programs_scope(principal))
}

/// Every published version of a programme's terms (public).
pub fn terms_of(principal: Option<&Principal>, program_id: Uuid) -> Select<program_terms::Entity> {
    program_terms::Entity::find()
        .filter(program_terms::Column::ProgramId.eq(program_id))
        .filter(policy::programs_scope(principal))
}
