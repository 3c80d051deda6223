//! The notifications outbox. Rows are written inside the transaction of the decision they
//! report, so a rolled-back decision notifies nobody; delivery is separate work.

use chrono::{DateTime, Utc};
use entity::notification;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

use crate::{domain::notifications::NotificationKind, error::AppResult, policy, principal::Principal};

pub async fn enqueue(
    db: &impl ConnectionTrait,
    kind: NotificationKind,
    organization_id: Uuid,
    user_id: Option<Uuid>,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        organization_id: Set(Some(organization_id)),
        user_id: Set(user_id),
        payload: Set(payload),
        created_at: Set(now),
        delivered_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A notification to one person outside any organisation (an applicant without one yet).
pub async fn enqueue_personal(
    db: &impl ConnectionTrait,
    kind: NotificationKind,
    user_id: Uuid,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        organization_id: Set(None),
        user_id: Set(Some(user_id)),
        payload: Set(payload),
        created_at: Set(now),
        delivered_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The principal's notifications (the policy's scope).
pub fn for_viewer(principal: &Principal) -> Select<notification::Entity> {
    notification::Entity::find().filter(policy::notifications_scope(principal))
}
