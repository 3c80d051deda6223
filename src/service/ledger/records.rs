//! Partner of record: a partner claims to advise a customer (on all its products or one), the
//! customer's ADMIN confirms or denies, staff may decide in its place or end a confirmed claim.
//! One confirmed partner of record per customer and product at a time (a unique index): a new
//! confirmed claim ends the previous one, and both partners are told.

use chrono::{DateTime, Utc};
use entity::{organization, partner_of_record_claim as claim, product};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    db,
    domain::{OrganizationKind, RecordClaimStatus, notifications::NotificationKind},
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
    service::{Ctx, audit, notifications},
};

/// Claims the principal sees.
pub fn visible(principal: Option<&Principal>) -> Select<claim::Entity> {
    claim::Entity::find().filter(policy::record_claims_scope(principal))
}

fn key_of(product_id: Option<Uuid>) -> String {
    product_id.map_or_else(|| "*".to_string(), |p| p.to_string())
}

fn payload(c: &claim::Model, partner: &str) -> serde_json::Value {
    json!({
        "claimId": ids::encode(NodeType::PartnerOfRecordClaim, c.id),
        "partner": partner,
        "customerId": ids::encode(NodeType::Organization, c.customer_id),
        "productId": c.product_id.map(|p| ids::encode(NodeType::Product, p)),
        "status": c.status,
    })
}

async fn name_of(db: &impl ConnectionTrait, id: Uuid) -> AppResult<String> {
    Ok(organization::Entity::find_by_id(id).one(db).await?.map(|o| o.name).unwrap_or_default())
}

/// The acting partner claims to be the customer's advising partner.
#[tracing::instrument(skip_all)]
pub async fn claim(
    ctx: &Ctx,
    principal: Option<&Principal>,
    customer_id: Uuid,
    product_id: Option<Uuid>,
    note: Option<String>,
) -> AppResult<claim::Model> {
    let p = policy::signed_in(principal)?;
    policy::can(p, Action::ClaimPartnerOfRecord)?;
    let partner_id = policy::acting(p)?.organization_id();
    let now = ctx.now();
    // Only a customer the partner sees: a claim cannot probe for accounts it has no relation to.
    let customer = organization::Entity::find_by_id(customer_id)
        .filter(policy::organizations_scope(principal, now))
        .one(&ctx.db)
        .await?
        .filter(|o| o.kind == OrganizationKind::Customer)
        .ok_or_else(|| AppError::bad_input("customerId", "is not a customer you work with"))?;
    if let Some(product_id) = product_id {
        product::Entity::find_by_id(product_id)
            .one(&ctx.db)
            .await?
            .ok_or_else(|| AppError::bad_input("productId", "is not a product of the catalog"))?;
    }
    let note = note.map(|n| n.trim().chars().take(2000).collect::<String>()).filter(|n| !n.is_empty());
    let txn = db::begin_write(&ctx.db).await?;
    let already = claim::Entity::find()
        .filter(claim::Column::PartnerId.eq(partner_id))
        .filter(claim::Column::CustomerId.eq(customer.id))
        .filter(claim::Column::ProductKey.eq(key_of(product_id)))
        .filter(claim::Column::Status.eq(RecordClaimStatus::Confirmed))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Err(AppError::Conflict("your organisation is already the partner of record for this".into()));
    }
    let created = claim::ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(partner_id),
        customer_id: Set(customer.id),
        product_id: Set(product_id),
        product_key: Set(key_of(product_id)),
        status: Set(RecordClaimStatus::Claimed),
        claimed_by_user_id: Set(p.user_id()),
        decided_by_user_id: Set(None),
        staff_verified: Set(false),
        note: Set(note),
        claimed_at: Set(now),
        decided_at: Set(None),
        ended_at: Set(None),
        end_reason: Set(None),
    }
    .insert(&txn)
    .await?;
    let partner = name_of(&txn, partner_id).await?;
    notifications::enqueue(
        &txn,
        NotificationKind::PartnerOfRecordClaimed,
        customer.id,
        None,
        payload(&created, &partner),
        now,
    )
    .await?;
    let event = audit::Event {
        action: "partner_of_record.claimed",
        target_type: "PartnerOfRecordClaim",
        target_id: Some(created.id),
        customer_id: Some(customer.id),
        before: None,
        after: Some(json!({ "partner": partner_id, "product": product_id })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// The customer's ADMIN (or staff, verifying in its place) confirms or denies a claim.
#[tracing::instrument(skip_all, fields(claim_id = %claim_id, confirm))]
pub async fn decide(
    ctx: &Ctx,
    principal: Option<&Principal>,
    claim_id: Uuid,
    confirm: bool,
) -> AppResult<claim::Model> {
    let p = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let found = visible(principal)
        .filter(claim::Column::Id.eq(claim_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("PartnerOfRecordClaim"))?;
    policy::can(p, Action::DecidePartnerOfRecord { claim: &found })?;
    if found.status != RecordClaimStatus::Claimed {
        return Err(AppError::Conflict(format!("the claim is {}", found.status)));
    }
    let staff = p.acting.as_ref().is_some_and(|m| m.organization_kind == OrganizationKind::Vendor);
    let to = if confirm { RecordClaimStatus::Confirmed } else { RecordClaimStatus::Denied };
    let partner = name_of(&txn, found.partner_id).await?;
    if confirm {
        // The previous partner of record for the same customer and product steps down first:
        // the unique index allows one confirmed claim.
        let previous = claim::Entity::find()
            .filter(claim::Column::CustomerId.eq(found.customer_id))
            .filter(claim::Column::ProductKey.eq(found.product_key.clone()))
            .filter(claim::Column::Status.eq(RecordClaimStatus::Confirmed))
            .all(&txn)
            .await?;
        for old in previous {
            end(&txn, &old, &format!("replaced by {partner}"), now).await?;
        }
    }
    let changed = claim::Entity::update_many()
        .col_expr(claim::Column::Status, Expr::value(to))
        .col_expr(claim::Column::DecidedAt, Expr::value(Some(now)))
        .col_expr(claim::Column::DecidedByUserId, Expr::value(Some(p.user_id())))
        .col_expr(claim::Column::StaffVerified, Expr::value(staff))
        .filter(claim::Column::Id.eq(found.id))
        .filter(claim::Column::Status.eq(RecordClaimStatus::Claimed))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        return Err(AppError::Conflict("the claim was decided at the same moment".into()));
    }
    let decided =
        claim::Entity::find_by_id(found.id).one(&txn).await?.ok_or(AppError::NotFound("PartnerOfRecordClaim"))?;
    notifications::enqueue(
        &txn,
        NotificationKind::PartnerOfRecordDecided,
        found.partner_id,
        None,
        payload(&decided, &partner),
        now,
    )
    .await?;
    let event = audit::Event {
        action: if confirm { "partner_of_record.confirmed" } else { "partner_of_record.denied" },
        target_type: "PartnerOfRecordClaim",
        target_id: Some(found.id),
        customer_id: Some(found.customer_id),
        before: Some(json!({ "status": found.status })),
        after: Some(json!({ "status": to, "staff": staff })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    Ok(decided)
}

async fn end(db: &impl ConnectionTrait, old: &claim::Model, reason: &str, now: DateTime<Utc>) -> AppResult<()> {
    claim::Entity::update_many()
        .col_expr(claim::Column::Status, Expr::value(RecordClaimStatus::Ended))
        .col_expr(claim::Column::EndedAt, Expr::value(Some(now)))
        .col_expr(claim::Column::EndReason, Expr::value(Some(reason.to_string())))
        .filter(claim::Column::Id.eq(old.id))
        .filter(claim::Column::Status.eq(RecordClaimStatus::Confirmed))
        .exec(db)
        .await?;
    let ended = claim::Model { status: RecordClaimStatus::Ended, ..old.clone() };
    let partner = name_of(db, old.partner_id).await?;
    let mut body = payload(&ended, &partner);
    body["reason"] = json!(reason);
    notifications::enqueue(db, NotificationKind::PartnerOfRecordEnded, old.partner_id, None, body, now).await
}

/// Staff end a confirmed claim (an override): it earns nothing from now on.
pub async fn end_by_staff(
    ctx: &Ctx,
    principal: Option<&Principal>,
    claim_id: Uuid,
    reason: &str,
) -> AppResult<claim::Model> {
    let p = policy::signed_in(principal)?;
    let now = ctx.now();
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::bad_input("reason", "must be 1 to 2000 characters"));
    }
    let txn = db::begin_write(&ctx.db).await?;
    let found = visible(principal)
        .filter(claim::Column::Id.eq(claim_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("PartnerOfRecordClaim"))?;
    // Only staff override: the customer's ADMIN decides open claims, and does not end them here.
    if p.acting.as_ref().is_none_or(|m| m.organization_kind != OrganizationKind::Vendor) {
        return Err(AppError::Forbidden("staff end a partner of record".into()));
    }
    policy::can(p, Action::DecidePartnerOfRecord { claim: &found })?;
    if found.status != RecordClaimStatus::Confirmed {
        return Err(AppError::Conflict(format!("the claim is {}", found.status)));
    }
    end(&txn, &found, reason, now).await?;
    let event = audit::Event {
        action: "partner_of_record.ended",
        target_type: "PartnerOfRecordClaim",
        target_id: Some(found.id),
        customer_id: Some(found.customer_id),
        before: Some(json!({ "status": found.status })),
        after: Some(json!({ "status": RecordClaimStatus::Ended, "reason": reason })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    claim::Entity::find_by_id(found.id).one(&ctx.db).await?.ok_or(AppError::NotFound("PartnerOfRecordClaim"))
}
