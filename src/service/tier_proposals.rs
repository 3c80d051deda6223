//! Eligibility is computed, a tier is assigned: the daily review evaluates every partnership and
//! keeps at most one open proposal per partnership for staff (an upgrade as soon as the partner
//! is eligible; a downgrade only after its grace period), starts and closes grace periods with
//! their notifications, and never changes a tier itself. Staff confirm (through
//! `programs::change_partner_tier`) or dismiss a proposal; every proposal stays, with its
//! decision, as the partner's tier history.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{organization, partnership, program, tier_proposal};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, notifications, programs};
use crate::{
    db,
    domain::{
        OrganizationKind, ProposalDirection, ProposalStatus,
        notifications::NotificationKind,
        tiers::{self, Direction, Grace, GraceStep},
    },
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
};

/// A dismissed proposal is not made again for this long (staff said no; the review would
/// otherwise ask again the next day).
const DISMISSAL_HOLDS: TimeDelta = TimeDelta::days(30);

/// Open proposals: the tier review queue (staff ADMIN or CHANNEL_MANAGER).
pub fn queue(principal: Option<&Principal>) -> Select<tier_proposal::Entity> {
    tier_proposal::Entity::find()
        .filter(policy::tier_review_queue_scope(principal))
        .filter(tier_proposal::Column::Status.eq(ProposalStatus::Open))
}

/// A partner's proposals, open and decided (staff reviewers and the partner's members).
pub fn of_partner(principal: Option<&Principal>, partner_id: Uuid) -> Select<tier_proposal::Entity> {
    tier_proposal::Entity::find()
        .filter(tier_proposal::Column::OrganizationId.eq(partner_id))
        .filter(policy::tier_proposals_scope(principal))
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReviewRun {
    pub evaluated: usize,
    /// Partnerships with an open proposal after the run.
    pub proposed: usize,
    /// Partnerships in a grace period after the run.
    pub in_grace: usize,
}

fn direction(d: Direction) -> ProposalDirection {
    match d {
        Direction::Upgrade => ProposalDirection::Upgrade,
        Direction::Downgrade => ProposalDirection::Downgrade,
    }
}

/// Idempotent and safe on several nodes at once: a grace period starts (and is announced) only
/// where none is stored, and the partial unique index keeps one open proposal per partnership.
#[tracing::instrument(skip_all)]
pub async fn run_review(ctx: &Ctx) -> AppResult<ReviewRun> {
    let now = ctx.now();
    let places = partnership::Entity::find().all(&ctx.db).await?;
    let evaluations = programs::evaluate_many(&ctx.db, &places, now).await?;
    let programs: HashMap<Uuid, program::Model> =
        program::Entity::find().all(&ctx.db).await?.into_iter().map(|p| (p.id, p)).collect();
    let proposals = tier_proposal::Entity::find()
        .filter(
            sea_orm::Condition::any().add(tier_proposal::Column::Status.eq(ProposalStatus::Open)).add(
                sea_orm::Condition::all()
                    .add(tier_proposal::Column::Status.eq(ProposalStatus::Dismissed))
                    .add(tier_proposal::Column::DecidedAt.gt(now - DISMISSAL_HOLDS)),
            ),
        )
        .all(&ctx.db)
        .await?;
    let vendor = organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrganizationKind::Vendor))
        .one(&ctx.db)
        .await?
        .map(|v| v.id);
    let mut run = ReviewRun::default();
    for p in &places {
        let Some(evaluation) = evaluations.get(&p.id) else { continue };
        run.evaluated += 1;
        let months = programs.get(&p.program_id).map_or(1, |g| u32::try_from(g.downgrade_grace_months).unwrap_or(1));
        let grace = match (p.grace_started_at, p.grace_ends_at) {
            (Some(started_at), Some(ends_at)) => Some(Grace { started_at, ends_at }),
            _ => None,
        };
        let fee_overdue = tiers::fee_overdue_since(p.yearly_fee_paid_until, p.yearly_fee_due_at, now);
        let review = tiers::review(p.tier_id, evaluation, fee_overdue, grace, months, now);
        let mine: Vec<&tier_proposal::Model> = proposals.iter().filter(|x| x.partnership_id == p.id).collect();
        let open = mine.iter().find(|x| x.status == ProposalStatus::Open);
        let wanted = review.proposal.map(|(d, to)| (direction(d), to));
        let same = |x: &tier_proposal::Model| wanted == Some((x.direction, x.to_tier_id));
        let kept = open.is_some_and(|o| same(o));
        let dismissed = mine.iter().any(|x| x.status == ProposalStatus::Dismissed && same(x));
        let withdraw = open.filter(|o| !same(o));
        let create = wanted.filter(|_| !kept && !dismissed);
        run.proposed += usize::from(kept || create.is_some());
        run.in_grace += usize::from(match review.grace {
            GraceStep::Start(_) => true,
            GraceStep::Recover => false,
            GraceStep::Keep => grace.is_some(),
        });
        // Most partnerships change nothing on most days: no transaction for them.
        if review.grace == GraceStep::Keep && withdraw.is_none() && create.is_none() {
            continue;
        }
        let txn = db::begin_write(&ctx.db).await?;
        match review.grace {
            GraceStep::Start(g) => start_grace(&txn, p, g, &review.missing, vendor, now).await?,
            GraceStep::Recover => recover(&txn, p, now).await?,
            GraceStep::Keep => false,
        };
        if let Some(o) = withdraw {
            close(&txn, o.id, ProposalStatus::Withdrawn, None, Some("the evaluation changed"), now).await?;
        }
        if let Some((d, to)) = create {
            propose(&txn, p, d, to, &review.missing, now).await?;
        }
        txn.commit().await?;
    }
    tracing::info!(evaluated = run.evaluated, proposed = run.proposed, in_grace = run.in_grace, "tier review done");
    Ok(run)
}

async fn start_grace(
    txn: &impl ConnectionTrait,
    p: &partnership::Model,
    g: Grace,
    missing: &[String],
    vendor: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let started = partnership::Entity::update_many()
        .col_expr(partnership::Column::GraceStartedAt, Expr::val(g.started_at))
        .col_expr(partnership::Column::GraceEndsAt, Expr::val(g.ends_at))
        .col_expr(partnership::Column::GraceMissing, Expr::val(json!(missing).to_string()))
        .filter(partnership::Column::Id.eq(p.id))
        .filter(partnership::Column::GraceStartedAt.is_null())
        .exec(txn)
        .await?;
    let started_here = started.rows_affected == 1;
    if started_here {
        let partner = organization::Entity::find_by_id(p.organization_id).one(txn).await?.map(|o| o.name);
        let tier = entity::tier::Entity::find_by_id(p.tier_id).one(txn).await?.map(|t| t.name);
        let payload = json!({
            "partnerId": ids::encode(NodeType::Organization, p.organization_id),
            "partner": partner, "tier": tier,
            "graceEndsAt": g.ends_at, "endsOn": g.ends_at.format("%Y-%m-%d").to_string(),
            "missing": missing,
        });
        // The partner, and the vendor's channel team (its channel managers read it there).
        for to in std::iter::once(p.organization_id).chain(vendor) {
            notifications::enqueue(txn, NotificationKind::TierGraceStarted, to, None, payload.clone(), now).await?;
        }
    }
    Ok(started_here)
}

/// Closes the grace period; true when this run closed it (and told the partner).
async fn recover(txn: &impl ConnectionTrait, p: &partnership::Model, now: DateTime<Utc>) -> AppResult<bool> {
    let closed = clear_grace(txn, p.id, true).await?;
    if closed {
        let tier = entity::tier::Entity::find_by_id(p.tier_id).one(txn).await?.map(|t| t.name);
        let payload = json!({ "partnerId": ids::encode(NodeType::Organization, p.organization_id), "tier": tier });
        notifications::enqueue(txn, NotificationKind::TierGraceRecovered, p.organization_id, None, payload, now)
            .await?;
    }
    Ok(closed)
}

/// Ends any grace period of a partnership (recovery, or a tier change by staff).
pub async fn clear_grace(txn: &impl ConnectionTrait, partnership_id: Uuid, only_if_set: bool) -> AppResult<bool> {
    let mut update = partnership::Entity::update_many()
        .col_expr(partnership::Column::GraceStartedAt, Expr::val(Option::<DateTime<Utc>>::None))
        .col_expr(partnership::Column::GraceEndsAt, Expr::val(Option::<DateTime<Utc>>::None))
        .col_expr(partnership::Column::GraceMissing, Expr::val(Option::<String>::None))
        .filter(partnership::Column::Id.eq(partnership_id));
    if only_if_set {
        update = update.filter(partnership::Column::GraceStartedAt.is_not_null());
    }
    Ok(update.exec(txn).await?.rows_affected == 1)
}

async fn propose(
    txn: &sea_orm::DatabaseTransaction,
    p: &partnership::Model,
    d: ProposalDirection,
    to: Uuid,
    missing: &[String],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let row = tier_proposal::ActiveModel {
        id: Set(Uuid::now_v7()),
        partnership_id: Set(p.id),
        organization_id: Set(p.organization_id),
        direction: Set(d),
        status: Set(ProposalStatus::Open),
        from_tier_id: Set(p.tier_id),
        to_tier_id: Set(to),
        missing: Set(json!(missing)),
        proposed_at: Set(now),
        decided_at: Set(None),
        decided_by_user_id: Set(None),
        reason: Set(None),
    };
    // Another node proposed it first: the partial unique index keeps one. A savepoint, so
    // that PostgreSQL's transaction survives the refused insert.
    let savepoint = sea_orm::TransactionTrait::begin(txn).await?;
    match tier_proposal::Entity::insert(row).exec(&savepoint).await.map_err(AppError::from) {
        Ok(_) => savepoint.commit().await?,
        Err(AppError::Conflict(_)) => savepoint.rollback().await?,
        Err(other) => return Err(other),
    }
    Ok(())
}

async fn close(
    txn: &impl ConnectionTrait,
    id: Uuid,
    status: ProposalStatus,
    by: Option<Uuid>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    tier_proposal::Entity::update_many()
        .col_expr(tier_proposal::Column::Status, Expr::val(status.as_str()))
        .col_expr(tier_proposal::Column::DecidedAt, Expr::val(Some(now)))
        .col_expr(tier_proposal::Column::DecidedByUserId, Expr::val(by))
        .col_expr(tier_proposal::Column::Reason, Expr::val(reason.map(str::to_string)))
        .filter(tier_proposal::Column::Id.eq(id))
        .filter(tier_proposal::Column::Status.eq(ProposalStatus::Open))
        .exec(txn)
        .await?;
    Ok(())
}

/// A tier change by staff settles the partnership's open proposal: CONFIRMED when it moved the
/// partner where the proposal said, WITHDRAWN otherwise; a grace period ends with the change.
pub async fn settle_on_tier_change(
    txn: &impl ConnectionTrait,
    partnership_id: Uuid,
    to_tier: Uuid,
    by: Uuid,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let open = tier_proposal::Entity::find()
        .filter(tier_proposal::Column::PartnershipId.eq(partnership_id))
        .filter(tier_proposal::Column::Status.eq(ProposalStatus::Open))
        .one(txn)
        .await?;
    if let Some(o) = open {
        let status = if o.to_tier_id == to_tier { ProposalStatus::Confirmed } else { ProposalStatus::Withdrawn };
        close(txn, o.id, status, Some(by), reason, now).await?;
    }
    clear_grace(txn, partnership_id, false).await?;
    Ok(())
}

/// Staff confirm a proposal (the tier changes; a downgrade needs a reason) or dismiss it (with
/// a reason).
#[tracing::instrument(skip_all, fields(proposal_id = %id, confirm))]
pub async fn decide(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    confirm: bool,
    reason: Option<&str>,
) -> AppResult<tier_proposal::Model> {
    let principal = policy::signed_in(principal)?;
    let found = tier_proposal::Entity::find_by_id(id)
        .filter(policy::tier_proposals_scope(Some(principal)))
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound("TierProposal"))?;
    policy::can(principal, Action::ChangePartnerTier)?;
    if found.status != ProposalStatus::Open {
        return Err(AppError::Conflict(format!("the proposal is {}", found.status)));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if confirm {
        if found.direction == ProposalDirection::Downgrade && reason.is_none() {
            return Err(AppError::bad_input("reason", "confirming a downgrade needs a reason"));
        }
        programs::change_partner_tier(ctx, Some(principal), found.organization_id, found.to_tier_id, reason).await?;
    } else {
        let Some(reason) = reason else {
            return Err(AppError::bad_input("reason", "dismissing a proposal needs a reason"));
        };
        if reason.chars().count() > 2000 {
            return Err(AppError::bad_input("reason", "must be at most 2000 characters"));
        }
        let now = ctx.now();
        let txn = db::begin_write(&ctx.db).await?;
        close(&txn, found.id, ProposalStatus::Dismissed, Some(principal.user_id()), Some(reason), now).await?;
        let event = audit::Event {
            action: "tier_proposal.dismissed",
            target_type: "Organization",
            target_id: Some(found.organization_id),
            customer_id: None,
            before: None,
            after: Some(json!({ "proposal": found.id, "reason": reason })),
        };
        audit::record(&txn, Some(principal), event, now).await?;
        txn.commit().await?;
    }
    tier_proposal::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AppError::NotFound("TierProposal"))
}
