//! The welcome gift: once a partnership's tier has the gift benefit, the partner's ADMIN
//! claims one product from the tier's list, once; staff ship it.

use entity::{partnership, tier, welcome_gift};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, Select};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, idempotency, notifications, programs};
use crate::{
    db,
    domain::notifications::NotificationKind,
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
};

pub fn visible(principal: Option<&Principal>) -> Select<welcome_gift::Entity> {
    welcome_gift::Entity::find().filter(policy::welcome_gifts_scope(principal))
}

#[tracing::instrument(skip_all, fields(product_id = %product_id))]
pub async fn claim(
    ctx: &Ctx,
    principal: Option<&Principal>,
    product_id: Uuid,
    shipping_address: &str,
    idempotency_key: Option<&str>,
) -> AppResult<welcome_gift::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ClaimWelcomeGift)?;
    let partner_id = policy::acting(principal)?.organization_id();
    let address = shipping_address.trim();
    if address.chars().count() < 10 || address.chars().count() > 500 {
        return Err(AppError::bad_input("shippingAddress", "give a full delivery address (10 to 500 characters)"));
    }
    let canonical = json!({ "partner": partner_id, "product": product_id, "address": address });
    let key = idempotency_key
        .map(|k| idempotency::Key::new(principal.user_id(), "claimWelcomeGift", k, &canonical))
        .transpose()?;
    match claim_once(ctx, principal, partner_id, product_id, address, key.as_ref()).await {
        // A retry whose first call went through (or is in flight) answers with that claim.
        Err(err) => match &key {
            Some(key) => {
                let id = idempotency::winner(&ctx.db, key, err).await?;
                welcome_gift::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AppError::NotFound("WelcomeGift"))
            }
            None => Err(err),
        },
        claimed => claimed,
    }
}

async fn claim_once(
    ctx: &Ctx,
    principal: &Principal,
    partner_id: Uuid,
    product_id: Uuid,
    address: &str,
    key: Option<&idempotency::Key<'_>>,
) -> AppResult<welcome_gift::Model> {
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    if let Some(key) = key
        && let Some(id) = idempotency::previous(&txn, key).await?
    {
        let first = welcome_gift::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound("WelcomeGift"))?;
        txn.commit().await?;
        return Ok(first);
    }
    let placed: Vec<(partnership::Model, Option<tier::Model>)> = partnership::Entity::find()
        .filter(partnership::Column::OrganizationId.eq(partner_id))
        .find_also_related(tier::Entity)
        .all(&txn)
        .await?;
    let mut with_gift = Vec::new();
    for (p, t) in placed {
        let Some(t) = t else { continue };
        let benefits = programs::benefits_of(&t)?;
        if !benefits.welcome_gift_products.is_empty() {
            with_gift.push((p, benefits));
        }
    }
    if with_gift.is_empty() {
        return Err(AppError::Conflict("your tier has no welcome gift".into()));
    }
    let Some((p, _)) = with_gift.into_iter().find(|(_, b)| b.welcome_gift_products.contains(&product_id)) else {
        return Err(AppError::bad_input("productId", "is not one of your tier's welcome gifts"));
    };
    // The unique key on the partnership turns a second claim, even a concurrent one, into CONFLICT.
    let created = welcome_gift::ActiveModel {
        id: Set(Uuid::now_v7()),
        partnership_id: Set(p.id),
        product_id: Set(product_id),
        shipping_address: Set(address.to_string()),
        claimed_by_user_id: Set(principal.user_id()),
        claimed_at: Set(now),
        shipped_at: Set(None),
        shipped_by_user_id: Set(None),
    }
    .insert(&txn)
    .await?;
    let event = audit::Event {
        action: "welcome_gift.claimed",
        target_type: "WelcomeGift",
        target_id: Some(created.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "productId": product_id })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    if let Some(key) = key {
        idempotency::remember(&txn, key, created.id, now).await?;
    }
    txn.commit().await?;
    Ok(created)
}

#[tracing::instrument(skip_all, fields(gift_id = %id))]
pub async fn mark_shipped(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<welcome_gift::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ReviewPartners)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let gift = welcome_gift::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound("WelcomeGift"))?;
    if gift.shipped_at.is_some() {
        return Err(AppError::Conflict("the gift was already shipped".into()));
    }
    let p = partnership::Entity::find_by_id(gift.partnership_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Partnership"))?;
    let mut active: welcome_gift::ActiveModel = gift.into();
    active.shipped_at = Set(Some(now));
    active.shipped_by_user_id = Set(Some(principal.user_id()));
    let shipped = active.update(&txn).await?;
    let payload = json!({
        "giftId": ids::encode(NodeType::WelcomeGift, shipped.id),
        "productId": ids::encode(NodeType::Product, shipped.product_id),
    });
    notifications::enqueue(
        &txn,
        NotificationKind::WelcomeGiftShipped,
        p.organization_id,
        Some(shipped.claimed_by_user_id),
        payload,
        now,
    )
    .await?;
    let event = audit::Event {
        action: "welcome_gift.shipped",
        target_type: "WelcomeGift",
        target_id: Some(shipped.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "shippedAt": now })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(shipped)
}
