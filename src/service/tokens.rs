//! API tokens: created with the secret shown once, listed without it, revoked for good.

use chrono::{DateTime, Utc};
use entity::api_token;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field};
use crate::{
    db,
    domain::validate,
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
    secrets as token,
};

/// Inserts a token for `user_id` and returns its row and the secret (the only time it exists).
pub async fn issue(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    name: String,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<(api_token::Model, String)> {
    let secret = token::generate();
    let row = api_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        name: Set(name),
        prefix: Set(secret.visible_prefix),
        token_hash: Set(secret.hash),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok((row, secret.secret))
}

fn token_json(t: &api_token::Model) -> serde_json::Value {
    json!({ "name": t.name, "prefix": t.prefix, "userId": t.user_id, "expiresAt": t.expires_at, "revokedAt": t.revoked_at })
}

#[tracing::instrument(skip_all)]
pub async fn create(
    ctx: &Ctx,
    principal: Option<&Principal>,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> AppResult<(api_token::Model, String)> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::CreateApiToken)?;
    let name = field("name", validate::name(name, 100))?;
    let now = ctx.now();
    if expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::bad_input("expiresAt", "must be in the future"));
    }
    let longest = ctx.limits.token_max_lifetime;
    if expires_at.is_some_and(|at| at > now + longest) {
        return Err(AppError::bad_input("expiresAt", format!("a token lives at most {} days", longest.num_days())));
    }
    let txn = db::begin_write(&ctx.db).await?;
    let (row, secret) = issue(&txn, principal.user_id(), name, expires_at, now).await?;
    audit::record(
        &txn,
        Some(principal),
        audit::Event {
            action: "api_token.created",
            target_type: "ApiToken",
            target_id: Some(row.id),
            customer_id: None,
            before: None,
            after: Some(token_json(&row)),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((row, secret))
}

/// Tokens the principal may see, newest last.
pub fn visible(principal: Option<&Principal>) -> Select<api_token::Entity> {
    api_token::Entity::find().filter(policy::api_tokens_scope(principal))
}

/// The principal's own tokens (for `viewer.apiTokens`).
pub fn own(principal: &Principal) -> Select<api_token::Entity> {
    api_token::Entity::find().filter(api_token::Column::UserId.eq(principal.user_id()))
}

/// Revoking is final and idempotent: revoking a revoked token returns it unchanged.
#[tracing::instrument(skip_all, fields(token_id = %id))]
pub async fn revoke(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<api_token::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let existing = api_token::Entity::find_by_id(id)
        .filter(policy::api_tokens_scope(Some(principal)))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("ApiToken"))?;
    policy::can(principal, Action::RevokeApiToken { token: &existing })?;
    if existing.revoked_at.is_some() {
        txn.commit().await?;
        return Ok(existing);
    }
    let before = token_json(&existing);
    let updated = api_token::ActiveModel { id: Set(existing.id), revoked_at: Set(Some(now)), ..Default::default() }
        .update(&txn)
        .await?;
    audit::record(
        &txn,
        Some(principal),
        audit::Event {
            action: "api_token.revoked",
            target_type: "ApiToken",
            target_id: Some(updated.id),
            customer_id: None,
            before: Some(before),
            after: Some(token_json(&updated)),
        },
        now,
    )
    .await?;
    // Live streams opened with the token end now, on every node.
    let event = crate::events::Event::TokenRevoked(updated.id);
    let told_nodes = crate::events::Events::notify_on_commit(&txn, event).await?;
    txn.commit().await?;
    if !told_nodes {
        ctx.events.publish(event);
    }
    Ok(updated)
}
