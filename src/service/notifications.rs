//! The notifications outbox. Rows are written inside the transaction of the decision they
//! report, so a rolled-back decision notifies nobody; delivery is separate work.

use chrono::{DateTime, Utc};
use entity::notification;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select,
};
use uuid::Uuid;

use crate::{auth::Principal, error::AppResult, policy};

pub async fn enqueue(
    db: &impl ConnectionTrait,
    kind: &str,
    organization_id: Uuid,
    user_id: Option<Uuid>,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind.into()),
        organization_id: Set(organization_id),
        user_id: Set(user_id),
        payload: Set(payload),
        created_at: Set(now),
        delivered_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The notifications of the organisation the principal acts as, addressed to all of it or to
/// the principal.
pub fn for_viewer(principal: &Principal) -> AppResult<Select<notification::Entity>> {
    let m = policy::acting(principal)?;
    Ok(notification::Entity::find().filter(notification::Column::OrganizationId.eq(m.organization_id())).filter(
        Condition::any()
            .add(notification::Column::UserId.is_null())
            .add(notification::Column::UserId.eq(principal.user_id())),
    ))
}
