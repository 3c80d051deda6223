//! Whoever pays decides what costs more: a customer that wants more of a subscription its
//! partner pays for asks the partner, who approves (the change is made, in the partner's name) or
//! declines. The customer may withdraw its request while it waits.

use chrono::{DateTime, Utc};
use entity::subscription_change_request as request;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Select,
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, notifications, subscriptions};
use crate::{
    db,
    domain::ChangeRequestStatus,
    domain::notifications::NotificationKind,
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action, BillEffect},
    principal::Principal,
};

/// Requests on subscriptions the principal sees.
pub fn visible(principal: Option<&Principal>, now: DateTime<Utc>) -> Select<request::Entity> {
    request::Entity::find().filter(policy::subscription_change_requests_scope(principal, now))
}

pub struct Ask {
    pub subscription_id: Uuid,
    pub seats: Option<i32>,
    pub plan_id: Option<Uuid>,
    pub message: Option<String>,
}

fn snapshot(r: &request::Model) -> serde_json::Value {
    json!({ "subscriptionId": r.subscription_id, "seats": r.seats, "planId": r.plan_id, "status": r.status,
            "decisionNote": r.decision_note })
}

fn payload(r: &request::Model) -> serde_json::Value {
    json!({
        "requestId": ids::encode(NodeType::SubscriptionChangeRequest, r.id),
        "subscriptionId": ids::encode(NodeType::ProductSubscription, r.subscription_id),
        "customerId": ids::encode(NodeType::Organization, r.customer_id),
        "seats": r.seats,
        "planId": r.plan_id.map(|p| ids::encode(NodeType::Plan, p)),
        "status": r.status,
    })
}

async fn record(
    db: &impl ConnectionTrait,
    principal: &Principal,
    action: &'static str,
    before: Option<&request::Model>,
    after: &request::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let event = audit::Event {
        action,
        target_type: "SubscriptionChangeRequest",
        target_id: Some(after.id),
        customer_id: Some(after.customer_id),
        before: before.map(snapshot),
        after: Some(snapshot(after)),
    };
    audit::record(db, Some(principal), event, now).await
}

/// The customer's ADMIN asks the partner that pays for more seats and/or a higher plan.
#[tracing::instrument(skip_all, fields(subscription_id = %ask.subscription_id))]
pub async fn request(ctx: &Ctx, principal: Option<&Principal>, ask: Ask) -> AppResult<request::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let sub = subscriptions::changeable(&txn, principal, ask.subscription_id, now).await?;
    policy::can(principal, Action::RequestSubscriptionChange { customer_id: sub.customer_id })?;
    let Some(partner_id) = sub.partner_id.filter(|_| subscriptions::billed_to_partner(&sub)) else {
        return Err(AppError::Conflict("you pay for this subscription yourself: change it directly".into()));
    };
    if ask.seats.is_none() && ask.plan_id.is_none() {
        return Err(AppError::bad_input("seats", "ask for more seats, a higher plan, or both"));
    }
    if let Some(seats) = ask.seats
        && (seats <= sub.seats || seats > subscriptions::MAX_SEATS)
    {
        return Err(AppError::bad_input(
            "seats",
            format!(
                "ask for more than the {} seats there are, up to {}; fewer you change yourself",
                sub.seats,
                subscriptions::MAX_SEATS
            ),
        ));
    }
    if let Some(plan_id) = ask.plan_id {
        let (_, _, upgrade) = subscriptions::check_plan_move(&txn, &sub, plan_id).await?;
        if !upgrade {
            return Err(AppError::bad_input("planId", "ask for a higher plan; a lower one you choose yourself"));
        }
    }
    let message = ask.message.map(|m| m.trim().to_string()).filter(|m| !m.is_empty());
    if message.as_deref().is_some_and(|m| m.chars().count() > 2000) {
        return Err(AppError::bad_input("message", "must be at most 2000 characters"));
    }
    let waiting = request::Entity::find()
        .filter(request::Column::SubscriptionId.eq(sub.id))
        .filter(request::Column::Status.eq(ChangeRequestStatus::Pending))
        .count(&txn)
        .await?;
    if waiting > 0 {
        return Err(AppError::Conflict("a request for this subscription is already waiting for the partner".into()));
    }
    let created = request::ActiveModel {
        id: Set(Uuid::now_v7()),
        subscription_id: Set(sub.id),
        customer_id: Set(sub.customer_id),
        partner_id: Set(partner_id),
        seats: Set(ask.seats),
        plan_id: Set(ask.plan_id),
        message: Set(message),
        status: Set(ChangeRequestStatus::Pending),
        requested_by_user_id: Set(principal.user_id()),
        created_at: Set(now),
        decided_at: Set(None),
        decided_by_user_id: Set(None),
        decision_note: Set(None),
    }
    .insert(&txn)
    .await?;
    record(&txn, principal, "subscription.change_requested", None, &created, now).await?;
    notifications::enqueue(
        &txn,
        NotificationKind::SubscriptionChangeRequested,
        partner_id,
        None,
        payload(&created),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The partner makes the change, which it pays for.
    Approve,
    /// The partner says no.
    Decline,
    /// The customer takes its request back.
    Withdraw,
}

#[tracing::instrument(skip_all, fields(request_id = %id, decision = ?decision))]
pub async fn decide(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    decision: Decision,
    note: Option<String>,
) -> AppResult<request::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let found = visible(Some(principal), now)
        .filter(request::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("SubscriptionChangeRequest"))?;
    let sub = subscriptions::changeable(&txn, principal, found.subscription_id, now).await?;
    match decision {
        Decision::Withdraw => {
            policy::can(principal, Action::RequestSubscriptionChange { customer_id: found.customer_id })?
        }
        // Whoever may make the change (the partner's MANAGE_PRODUCTS) decides; the payer may
        // also say no without a grant, as it may stop paying.
        Decision::Decline => {
            policy::can(principal, Action::AnswerSubscriptionChange { partner_id: found.partner_id })?;
            subscriptions::authorize(&txn, principal, &sub, BillEffect::Stop, now).await?
        }
        Decision::Approve => {
            policy::can(principal, Action::AnswerSubscriptionChange { partner_id: found.partner_id })?;
            subscriptions::authorize(&txn, principal, &sub, BillEffect::Raise, now).await?
        }
    }
    if found.status != ChangeRequestStatus::Pending {
        return Err(AppError::Conflict(format!("this request was already {}", found.status.as_str().to_lowercase())));
    }
    if decision == Decision::Approve {
        let mut current = sub;
        if let Some(plan_id) = found.plan_id {
            current = subscriptions::apply_plan(&txn, principal, &current, plan_id, now).await?;
        }
        if let Some(seats) = found.seats.filter(|s| *s != current.seats) {
            subscriptions::apply_seats(&txn, principal, &current, seats, now).await?;
        }
    }
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_deref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::bad_input("note", "must be at most 2000 characters"));
    }
    let mut active: request::ActiveModel = found.clone().into();
    let (status, action) = match decision {
        Decision::Approve => (ChangeRequestStatus::Approved, "subscription.change_approved"),
        Decision::Decline => (ChangeRequestStatus::Declined, "subscription.change_declined"),
        Decision::Withdraw => (ChangeRequestStatus::Withdrawn, "subscription.change_withdrawn"),
    };
    active.status = Set(status);
    active.decided_at = Set(Some(now));
    active.decided_by_user_id = Set(Some(principal.user_id()));
    active.decision_note = Set(note);
    let updated = active.update(&txn).await?;
    record(&txn, principal, action, Some(&found), &updated, now).await?;
    let told = if decision == Decision::Withdraw { updated.partner_id } else { updated.customer_id };
    notifications::enqueue(&txn, NotificationKind::SubscriptionChangeDecided, told, None, payload(&updated), now)
        .await?;
    txn.commit().await?;
    Ok(updated)
}
