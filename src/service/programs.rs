//! Partner programmes and tiers: staff move a partner between tiers, with a reason for every
//! downgrade, a history entry and a notification.

use entity::{organization, tier, tier_change};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, Select};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, notifications};
use crate::{
    auth::Principal,
    db,
    domain::OrganizationKind,
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
};

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
        .filter(organization::Column::Kind.eq(OrganizationKind::Partner.as_str()))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Organization"))?;
    let target = tier::Entity::find_by_id(tier_id).one(&txn).await?.ok_or(AppError::NotFound("Tier"))?;
    if partner.program_id.is_some_and(|p| p != target.program_id) {
        return Err(AppError::bad_input("tierId", "is a tier of another programme"));
    }
    let current = match partner.tier_id {
        Some(id) => tier::Entity::find_by_id(id).one(&txn).await?,
        None => None,
    };
    if current.as_ref().is_some_and(|c| c.id == target.id) {
        return Err(AppError::Conflict("the partner is already at this tier".into()));
    }
    if current.as_ref().is_some_and(|c| target.rank < c.rank) && reason.is_none() {
        return Err(AppError::bad_input("reason", "a downgrade needs a reason"));
    }
    let mut active: organization::ActiveModel = partner.clone().into();
    active.tier_id = Set(Some(target.id));
    active.program_id = Set(Some(target.program_id));
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
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
    let from = current.as_ref().map(|c| c.name.clone());
    let event = audit::Event {
        action: "partner.tier_changed",
        target_type: "Organization",
        target_id: Some(partner.id),
        customer_id: None,
        before: Some(json!({ "tier": from })),
        after: Some(json!({ "tier": target.name, "reason": reason })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    let payload = json!({
        "partnerId": ids::encode(NodeType::Organization, partner.id),
        "from": from, "to": target.name, "reason": reason,
    });
    notifications::enqueue(&txn, "TIER_CHANGED", partner.id, None, payload, now).await?;
    txn.commit().await?;
    Ok((updated, change))
}

/// A partner's tier history: for staff, and for the partner's own members.
pub fn history(principal: Option<&Principal>, partner_id: Uuid) -> Select<tier_change::Entity> {
    tier_change::Entity::find()
        .filter(tier_change::Column::OrganizationId.eq(partner_id))
        .filter(policy::partner_internals_scope(principal, partner_id))
}
