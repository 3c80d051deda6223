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
    insert(db, kind, Some(organization_id), user_id, None, payload, now).await
}

/// A notification to one person outside any organisation (an applicant without one yet).
pub async fn enqueue_personal(
    db: &impl ConnectionTrait,
    kind: NotificationKind,
    user_id: Uuid,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    insert(db, kind, None, Some(user_id), None, payload, now).await
}

/// An e-mail to an address that is nobody's yet (an invitation): in no one's list.
pub async fn enqueue_email(
    db: &impl ConnectionTrait,
    kind: NotificationKind,
    email: &str,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    insert(db, kind, None, None, Some(email.to_string()), payload, now).await
}

async fn insert(
    db: &impl ConnectionTrait,
    kind: NotificationKind,
    organization_id: Option<Uuid>,
    user_id: Option<Uuid>,
    recipient_email: Option<String>,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let id = Uuid::now_v7();
    notification::ActiveModel {
        id: Set(id),
        kind: Set(kind),
        organization_id: Set(organization_id),
        user_id: Set(user_id),
        payload: Set(payload),
        created_at: Set(now),
        delivered_at: Set(None),
        recipient_email: Set(recipient_email),
        dispatched_at: Set(None),
    }
    .insert(db)
    .await?;
    // Subscribers on every node hear of it when the transaction commits (on SQLite the outbox
    // worker tells this process's subscribers once it is committed).
    crate::events::Events::notify_on_commit(db, crate::events::Event::Notification(id)).await?;
    Ok(())
}

/// The principal's notifications (the policy's scope).
pub fn for_viewer(principal: &Principal) -> Select<notification::Entity> {
    notification::Entity::find().filter(policy::notifications_scope(principal))
}

/// One notification, when the principal reads it (a live stream's event).
pub async fn visible_one(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> AppResult<Option<notification::Model>> {
    use sea_orm::ColumnTrait;
    Ok(for_viewer(principal).filter(notification::Column::Id.eq(id)).one(db).await?)
}
