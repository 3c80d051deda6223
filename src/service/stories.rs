//! Success stories: partners submit customer references, staff review them.

use entity::success_story;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, Select};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, notifications};
use crate::{
    db,
    domain::ReviewStatus,
    domain::notifications::NotificationKind,
    domain::validate,
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
};

pub struct NewStory {
    pub customer_name: String,
    pub title: String,
    pub summary: String,
    pub products: Vec<String>,
    pub publishable: bool,
}

/// Stories a principal sees: staff all; a partner's members their own.
pub fn visible(principal: Option<&Principal>) -> Select<success_story::Entity> {
    success_story::Entity::find().filter(policy::success_stories_scope(principal))
}

#[tracing::instrument(skip_all)]
pub async fn submit(ctx: &Ctx, principal: Option<&Principal>, story: NewStory) -> AppResult<success_story::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::SubmitSuccessStory)?;
    let partner_id = policy::acting(principal)?.organization_id();
    let customer_name = field("customerName", validate::name(&story.customer_name, 200))?;
    let title = field("title", validate::name(&story.title, 200))?;
    let summary = story.summary.trim().to_string();
    if summary.is_empty() || summary.chars().count() > 5000 {
        return Err(AppError::bad_input("summary", "must be 1 to 5000 characters"));
    }
    if story.products.is_empty() || story.products.len() > 20 {
        return Err(AppError::bad_input("products", "name 1 to 20 products"));
    }
    let products = story.products.iter().map(|p| validate::name(p, 100)).collect::<Result<Vec<_>, _>>();
    let products = field("products", products)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let created = success_story::ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(partner_id),
        customer_name: Set(customer_name),
        title: Set(title),
        summary: Set(summary),
        products: Set(json!(products)),
        publishable: Set(story.publishable),
        status: Set(ReviewStatus::Submitted),
        review_reason: Set(None),
        submitted_by_user_id: Set(Some(principal.user_id())),
        reviewed_by_user_id: Set(None),
        submitted_at: Set(now),
        reviewed_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let event = audit::Event {
        action: "success_story.submitted",
        target_type: "SuccessStory",
        target_id: Some(created.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "title": created.title, "customerName": created.customer_name })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Staff accept or reject a submitted story (a rejection needs a reason); the partner is told.
#[tracing::instrument(skip_all, fields(story_id = %id, accept))]
pub async fn review(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    accept: bool,
    reason: Option<&str>,
) -> AppResult<success_story::Model> {
    let principal = policy::signed_in(principal)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let story = visible(Some(principal))
        .filter(success_story::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("SuccessStory"))?;
    policy::can(principal, Action::ReviewSuccessStory)?;
    if story.status != ReviewStatus::Submitted {
        return Err(AppError::Conflict(format!("this story was already {}", story.status.as_str().to_lowercase())));
    }
    if !accept && reason.is_none() {
        return Err(AppError::bad_input("reason", "a rejection needs a reason"));
    }
    let status = if accept { ReviewStatus::Accepted } else { ReviewStatus::Rejected };
    let mut active: success_story::ActiveModel = story.clone().into();
    active.status = Set(status);
    active.review_reason = Set(reason.clone());
    active.reviewed_by_user_id = Set(Some(principal.user_id()));
    active.reviewed_at = Set(Some(now));
    let updated = active.update(&txn).await?;
    let event = audit::Event {
        action: if accept { "success_story.accepted" } else { "success_story.rejected" },
        target_type: "SuccessStory",
        target_id: Some(updated.id),
        customer_id: None,
        before: Some(json!({ "status": story.status })),
        after: Some(json!({ "status": status, "reason": reason })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    let payload = json!({
        "storyId": ids::encode(NodeType::SuccessStory, updated.id), "title": updated.title,
        "status": status, "reason": reason,
    });
    notifications::enqueue(&txn, NotificationKind::SuccessStoryReviewed, updated.partner_id, None, payload, now)
        .await?;
    txn.commit().await?;
    Ok(updated)
}
