//! Grant expiry: live grants past their end expire (or get their one automatic extension), and
//! requests nobody answered lapse after 90 days.

use chrono::{DateTime, Utc};
use entity::grant;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};

use crate::{
    db,
    domain::{
        Rights,
        grants::{AtEnd, GrantStatus, at_end},
    },
    error::AppResult,
    service::{Ctx, audit},
};

const BATCH: u64 = 500;

/// What one run changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub expired: u32,
    pub extended: u32,
}

pub async fn run_expiry(ctx: &Ctx) -> AppResult<Outcome> {
    let now = ctx.now();
    let due = grant::Entity::find()
        .filter(grant::Column::Status.is_in([GrantStatus::Active, GrantStatus::Pending]))
        .filter(grant::Column::EndsAt.lte(now))
        .order_by_asc(grant::Column::EndsAt)
        .limit(BATCH)
        .all(&ctx.db)
        .await?;
    let mut outcome = Outcome::default();
    for g in due {
        let decision = if g.status == GrantStatus::Pending {
            AtEnd::Expire
        } else {
            at_end(g.ends_at, g.auto_extend, g.auto_extended_at.is_some(), Rights::from_bits(g.rights))
        };
        if apply(ctx, &g, &decision, now).await? {
            match decision {
                AtEnd::Expire => outcome.expired += 1,
                AtEnd::Extend(_) => outcome.extended += 1,
            }
        }
    }
    Ok(outcome)
}

/// How long before its end a live grant's two sides are told it ends.
pub const EXPIRY_WARNING: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// Tells both sides of each live grant that ends within a week, once per end date: the
/// conditional update that records the warned end makes a second run (on any node) a no-op.
pub async fn warn_expiring(ctx: &Ctx) -> AppResult<u32> {
    let now = ctx.now();
    let soon = grant::Entity::find()
        .filter(grant::Column::Status.eq(GrantStatus::Active))
        .filter(grant::Column::EndsAt.gt(now))
        .filter(grant::Column::EndsAt.lte(now + EXPIRY_WARNING))
        .order_by_asc(grant::Column::EndsAt)
        .limit(BATCH)
        .all(&ctx.db)
        .await?;
    let mut warned = 0;
    for g in soon.into_iter().filter(|g| g.expiry_warned_at != Some(g.ends_at)) {
        let txn = db::begin_write(&ctx.db).await?;
        let marked = grant::Entity::update_many()
            .col_expr(grant::Column::ExpiryWarnedAt, Expr::value(Some(g.ends_at)))
            .filter(grant::Column::Id.eq(g.id))
            .filter(grant::Column::Status.eq(GrantStatus::Active))
            .filter(grant::Column::EndsAt.eq(g.ends_at))
            .exec(&txn)
            .await?;
        if marked.rows_affected == 0 {
            txn.rollback().await?;
            continue;
        }
        crate::service::grants::notify(&txn, "grant.expiring", &g, now).await?;
        txn.commit().await?;
        warned += 1;
    }
    Ok(warned)
}

/// Changes the grant only if it is still exactly as read; true when this run made the change.
async fn apply(ctx: &Ctx, g: &grant::Model, decision: &AtEnd, now: DateTime<Utc>) -> AppResult<bool> {
    let txn = db::begin_write(&ctx.db).await?;
    let update = grant::Entity::update_many()
        .filter(grant::Column::Id.eq(g.id))
        .filter(grant::Column::Status.eq(g.status))
        .filter(grant::Column::EndsAt.eq(g.ends_at))
        .col_expr(grant::Column::UpdatedAt, Expr::value(now));
    let update = match decision {
        AtEnd::Expire => update.col_expr(grant::Column::Status, Expr::value(GrantStatus::Expired.as_str())),
        AtEnd::Extend(until) => update
            .col_expr(grant::Column::EndsAt, Expr::value(*until))
            .col_expr(grant::Column::AutoExtendedAt, Expr::value(Some(now))),
    };
    if update.exec(&txn).await?.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(false);
    }
    let (action, after) = match decision {
        AtEnd::Expire => ("grant.expired", serde_json::json!({ "status": GrantStatus::Expired.as_str() })),
        AtEnd::Extend(until) => ("grant.extended", serde_json::json!({ "endsAt": until })),
    };
    let event = audit::Event {
        action,
        target_type: "Grant",
        target_id: Some(g.id),
        customer_id: Some(g.customer_id),
        before: Some(serde_json::json!({ "status": g.status, "endsAt": g.ends_at })),
        after: Some(after),
    };
    audit::record(&txn, None, event, now).await?;
    if let Some(changed) = grant::Entity::find_by_id(g.id).one(&txn).await? {
        crate::service::grants::notify(&txn, action, &changed, now).await?;
        if *decision == AtEnd::Expire && g.status == GrantStatus::Active {
            crate::service::grants::after_access_narrowed(&txn, None, &changed, now).await?;
        }
    }
    txn.commit().await?;
    Ok(true)
}
