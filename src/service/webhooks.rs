//! Webhook endpoints of partners and customers, their secrets, their delivery log, and
//! redelivery (also of staff's dead letters).

use chrono::{DateTime, Utc};
use entity::{delivery, webhook_endpoint, webhook_secret};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Select, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, idempotency};
use crate::{
    db,
    domain::{DeliveryStatus, delivery::new_secret, notifications::NotificationKind},
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
};

/// Endpoints one organisation may keep.
pub const MAX_ENDPOINTS: u64 = 10;

pub fn endpoints(principal: Option<&Principal>) -> Select<webhook_endpoint::Entity> {
    webhook_endpoint::Entity::find().filter(policy::webhook_endpoints_scope(principal))
}

pub fn deliveries(principal: Option<&Principal>) -> Select<delivery::Entity> {
    delivery::Entity::find().filter(policy::deliveries_scope(principal))
}

/// The delivery log of one endpoint (already read under the scope).
pub fn deliveries_of(principal: Option<&Principal>, endpoint: &webhook_endpoint::Model) -> Select<delivery::Entity> {
    deliveries(principal).filter(delivery::Column::EndpointId.eq(endpoint.id))
}

pub struct EndpointInput {
    pub url: String,
    pub kinds: Vec<NotificationKind>,
    pub description: String,
}

fn kinds_json(kinds: &[NotificationKind]) -> serde_json::Value {
    let mut texts: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    json!(texts)
}

fn description(text: &str) -> AppResult<String> {
    let text = text.trim();
    if text.chars().count() > 200 {
        return Err(AppError::bad_input("description", "must be at most 200 characters"));
    }
    Ok(text.to_string())
}

async fn checked_url(ctx: &Ctx, url: &str) -> AppResult<String> {
    if url.len() > 2000 {
        return Err(AppError::bad_input("url", "must be at most 2000 characters"));
    }
    let checked = ctx.delivery.webhooks.check(url).await.map_err(|e| AppError::bad_input("url", e))?;
    Ok(checked.to_string())
}

fn generate_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    new_secret(bytes)
}

async fn insert_secret(db: &impl ConnectionTrait, endpoint_id: Uuid, now: DateTime<Utc>) -> AppResult<String> {
    let secret = generate_secret();
    webhook_secret::ActiveModel {
        id: Set(Uuid::now_v7()),
        endpoint_id: Set(endpoint_id),
        secret: Set(secret.clone()),
        created_at: Set(now),
        expires_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(secret)
}

/// The newest secret of an endpoint.
async fn current_secret(db: &impl ConnectionTrait, endpoint_id: Uuid) -> AppResult<String> {
    webhook_secret::Entity::find()
        .filter(webhook_secret::Column::EndpointId.eq(endpoint_id))
        .filter(webhook_secret::Column::ExpiresAt.is_null())
        .order_by_desc(webhook_secret::Column::Id)
        .one(db)
        .await?
        .map(|s| s.secret)
        .ok_or_else(|| AppError::internal(format!("endpoint {endpoint_id} has no secret")))
}

/// Registers an endpoint for the acting organisation; returns it with its signing secret.
#[tracing::instrument(skip_all)]
pub async fn register(
    ctx: &Ctx,
    principal: Option<&Principal>,
    input: EndpointInput,
    idempotency_key: Option<&str>,
) -> AppResult<(webhook_endpoint::Model, String)> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageWebhooks)?;
    let organization_id = policy::acting(principal)?.organization_id();
    let url = checked_url(ctx, &input.url).await?;
    let description = description(&input.description)?;
    let kinds = kinds_json(&input.kinds);
    let key = idempotency_key
        .map(|k| {
            let canonical = json!({ "url": url, "kinds": kinds, "description": description });
            idempotency::Key::new(principal.user_id(), "registerWebhookEndpoint", k, &canonical)
        })
        .transpose()?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    if let Some(key) = &key
        && let Some(id) = idempotency::previous(&txn, key).await?
    {
        let endpoint = endpoints(Some(principal)).filter(webhook_endpoint::Column::Id.eq(id)).one(&txn).await?;
        let endpoint = endpoint.ok_or(AppError::NotFound("WebhookEndpoint"))?;
        let secret = current_secret(&txn, endpoint.id).await?;
        txn.commit().await?;
        return Ok((endpoint, secret));
    }
    let existing = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganizationId.eq(organization_id))
        .count(&txn)
        .await?;
    if existing >= MAX_ENDPOINTS {
        return Err(AppError::Conflict(format!("an organisation keeps at most {MAX_ENDPOINTS} webhook endpoints")));
    }
    let endpoint = webhook_endpoint::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        url: Set(url.clone()),
        kinds: Set(kinds.clone()),
        description: Set(description),
        enabled: Set(true),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        created_by_user_id: Set(principal.user_id()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let secret = insert_secret(&txn, endpoint.id, now).await?;
    if let Some(key) = &key {
        idempotency::remember(&txn, key, endpoint.id, now).await?;
    }
    let event = audit::Event {
        action: "webhook_endpoint.registered",
        target_type: "WebhookEndpoint",
        target_id: Some(endpoint.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "url": url, "kinds": kinds })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok((endpoint, secret))
}

/// An endpoint the principal manages, read under its scope (NOT_FOUND otherwise), then the
/// action checked (FORBIDDEN).
async fn managed<'p>(
    db: &impl ConnectionTrait,
    principal: Option<&'p Principal>,
    id: Uuid,
) -> AppResult<(&'p Principal, webhook_endpoint::Model)> {
    let principal = policy::signed_in(principal)?;
    let endpoint = endpoints(Some(principal))
        .filter(webhook_endpoint::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("WebhookEndpoint"))?;
    policy::can(principal, Action::ManageWebhooks)?;
    Ok((principal, endpoint))
}

pub struct EndpointChanges {
    pub url: Option<String>,
    pub kinds: Option<Vec<NotificationKind>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

#[tracing::instrument(skip_all, fields(endpoint_id = %id))]
pub async fn update(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    changes: EndpointChanges,
) -> AppResult<webhook_endpoint::Model> {
    let (principal, found) = managed(&ctx.db, principal, id).await?;
    let url = match &changes.url {
        Some(url) => Some(checked_url(ctx, url).await?),
        None => None,
    };
    let description = changes.description.as_deref().map(description).transpose()?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let mut active: webhook_endpoint::ActiveModel = found.clone().into();
    if let Some(url) = url {
        active.url = Set(url);
    }
    if let Some(kinds) = &changes.kinds {
        active.kinds = Set(kinds_json(kinds));
    }
    if let Some(description) = description {
        active.description = Set(description);
    }
    match changes.enabled {
        Some(true) if !found.enabled => {
            active.enabled = Set(true);
            active.disabled_at = Set(None);
            active.disabled_reason = Set(None);
        }
        Some(false) if found.enabled => {
            active.enabled = Set(false);
            active.disabled_at = Set(Some(now));
            active.disabled_reason = Set(Some("disabled by its owner".into()));
        }
        _ => {}
    }
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    let event = audit::Event {
        action: "webhook_endpoint.updated",
        target_type: "WebhookEndpoint",
        target_id: Some(updated.id),
        customer_id: None,
        before: Some(json!({ "url": found.url, "kinds": found.kinds, "enabled": found.enabled })),
        after: Some(json!({ "url": updated.url, "kinds": updated.kinds, "enabled": updated.enabled })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// A new signing secret; the previous ones keep signing for the overlap window, so receivers
/// can switch without rejecting a message.
#[tracing::instrument(skip_all, fields(endpoint_id = %id))]
pub async fn rotate_secret(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
) -> AppResult<(webhook_endpoint::Model, String, DateTime<Utc>)> {
    let (principal, endpoint) = managed(&ctx.db, principal, id).await?;
    let now = ctx.now();
    let old_until = now + ctx.delivery.settings.webhook_secret_overlap;
    let txn = db::begin_write(&ctx.db).await?;
    webhook_secret::Entity::update_many()
        .col_expr(webhook_secret::Column::ExpiresAt, Expr::value(old_until))
        .filter(webhook_secret::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_secret::Column::ExpiresAt.is_null())
        .exec(&txn)
        .await?;
    let secret = insert_secret(&txn, endpoint.id, now).await?;
    let event = audit::Event {
        action: "webhook_endpoint.secret_rotated",
        target_type: "WebhookEndpoint",
        target_id: Some(endpoint.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "previousSecretsExpireAt": old_until })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok((endpoint, secret, old_until))
}

/// Queues a delivery again with a fresh schedule: the owner redelivers a webhook message; a
/// staff ADMIN retries a dead letter.
#[tracing::instrument(skip_all, fields(delivery_id = %id))]
pub async fn redeliver(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<delivery::Model> {
    let principal = policy::signed_in(principal)?;
    let found = deliveries(Some(principal))
        .filter(delivery::Column::Id.eq(id))
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound("Delivery"))?;
    let owner = match found.endpoint_id {
        Some(endpoint) => webhook_endpoint::Entity::find_by_id(endpoint).one(&ctx.db).await?.map(|e| e.organization_id),
        None => None,
    };
    policy::can(principal, Action::Redeliver { endpoint_organization_id: owner })?;
    if found.status == DeliveryStatus::Pending {
        return Err(AppError::Conflict("this delivery is already waiting for its next try".into()));
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let queued = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(DeliveryStatus::Pending.as_str()))
        .col_expr(delivery::Column::Attempts, Expr::value(0))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(delivery::Column::LeaseUntil, Expr::value(None::<DateTime<Utc>>))
        .col_expr(delivery::Column::LeaseOwner, Expr::value(None::<Uuid>))
        .filter(delivery::Column::Id.eq(found.id))
        .filter(delivery::Column::Status.eq(found.status))
        .exec(&txn)
        .await?;
    if queued.rows_affected == 0 {
        return Err(AppError::Conflict("this delivery changed meanwhile; read it again".into()));
    }
    let event = audit::Event {
        action: "delivery.redelivered",
        target_type: "Delivery",
        target_id: Some(found.id),
        customer_id: None,
        before: Some(json!({ "status": found.status, "attempts": found.attempts })),
        after: Some(json!({ "status": DeliveryStatus::Pending })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    let queued = delivery::Entity::find_by_id(found.id).one(&txn).await?.ok_or(AppError::NotFound("Delivery"))?;
    txn.commit().await?;
    Ok(queued)
}

/// An endpoint whose delivery just died is disabled (once), and its organisation's ADMINs told
/// by e-mail; the owner enables it again after fixing it.
pub(crate) async fn disable_failing(
    txn: &impl ConnectionTrait,
    endpoint_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let disabled = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(webhook_endpoint::Column::DisabledAt, Expr::value(Some(now)))
        .col_expr(webhook_endpoint::Column::DisabledReason, Expr::value(Some(format!("kept failing: {reason}"))))
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(endpoint_id))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .exec_with_returning(txn)
        .await?;
    let Some(endpoint) = disabled.into_iter().next() else { return Ok(()) };
    let event = audit::Event {
        action: "webhook_endpoint.disabled",
        target_type: "WebhookEndpoint",
        target_id: Some(endpoint.id),
        customer_id: None,
        before: Some(json!({ "enabled": true })),
        after: Some(json!({ "enabled": false, "reason": reason })),
    };
    audit::record(txn, None, event, now).await?;
    let payload = json!({
        "endpointId": ids::encode(NodeType::WebhookEndpoint, endpoint.id),
        "url": endpoint.url,
        "reason": reason,
    });
    super::notifications::enqueue(
        txn,
        NotificationKind::WebhookEndpointDisabled,
        endpoint.organization_id,
        None,
        payload,
        now,
    )
    .await
}
