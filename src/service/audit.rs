//! The audit trail: append-only rows written inside the transaction of the change they record.

use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use uuid::Uuid;

use crate::{error::AppResult, principal::Principal, telemetry::current_request_id};

pub struct Event {
    pub action: &'static str,
    pub target_type: &'static str,
    pub target_id: Option<Uuid>,
    /// The customer whose account the action touched, if any.
    pub customer_id: Option<Uuid>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub async fn record(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    event: Event,
    now: DateTime<Utc>,
) -> AppResult<()> {
    audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        occurred_at: Set(now),
        request_id: Set(current_request_id()),
        actor_user_id: Set(principal.map(Principal::user_id)),
        acting_organization_id: Set(principal.and_then(|p| p.acting.as_ref()).map(|m| m.organization_id())),
        customer_organization_id: Set(event.customer_id),
        action: Set(event.action.into()),
        target_type: Set(event.target_type.into()),
        target_id: Set(event.target_id),
        before: Set(event.before),
        after: Set(event.after),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The audit trail of `organization_id` that the principal reads (`policy::audit_scope`).
pub fn trail(
    principal: Option<&Principal>,
    organization_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<sea_orm::Select<audit_event::Entity>> {
    use sea_orm::{EntityTrait, QueryFilter};
    Ok(audit_event::Entity::find().filter(crate::policy::audit_scope(principal, organization_id, now)?))
}
