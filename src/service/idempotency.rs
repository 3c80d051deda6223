//! Idempotency keys: the first result of a creating mutation is remembered per (user, operation,
//! key); a retry gets the same record back, and the same key with other input is a conflict.

use chrono::{DateTime, Utc};
use entity::idempotency_key;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub struct Key<'a> {
    pub user_id: Uuid,
    pub operation: &'static str,
    pub key: &'a str,
    pub request_hash: String,
}

impl<'a> Key<'a> {
    /// `input` is the canonical form of the request (its serialized, already-validated fields).
    pub fn new(user_id: Uuid, operation: &'static str, key: &'a str, input: &serde_json::Value) -> AppResult<Self> {
        if key.is_empty() || key.len() > 200 {
            return Err(AppError::bad_input("idempotencyKey", "must be 1 to 200 characters"));
        }
        Ok(Key { user_id, operation, key, request_hash: hex::encode(Sha256::digest(input.to_string().as_bytes())) })
    }
}

/// The id created by an earlier call with this key, if there was one.
pub async fn previous(db: &impl ConnectionTrait, key: &Key<'_>) -> AppResult<Option<Uuid>> {
    let found = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::UserId.eq(key.user_id))
        .filter(idempotency_key::Column::Operation.eq(key.operation))
        .filter(idempotency_key::Column::Key.eq(key.key))
        .one(db)
        .await?;
    match found {
        Some(row) if row.request_hash == key.request_hash => Ok(Some(row.result_id)),
        Some(_) => Err(AppError::Conflict("this idempotency key was already used with different input".into())),
        None => Ok(None),
    }
}

pub async fn remember(db: &impl ConnectionTrait, key: &Key<'_>, result_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    idempotency_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(key.user_id),
        key: Set(key.key.to_string()),
        operation: Set(key.operation.into()),
        request_hash: Set(key.request_hash.clone()),
        result_id: Set(result_id),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// After a creating transaction failed with CONFLICT: when a concurrent request with the same
/// key won (its key row is what made this one fail), the id that request created, so that both
/// answer with one record. Any other failure stands.
pub async fn winner(db: &impl ConnectionTrait, key: &Key<'_>, err: AppError) -> AppResult<Uuid> {
    match err {
        AppError::Conflict(_) => previous(db, key).await?.ok_or(err),
        other => Err(other),
    }
}
