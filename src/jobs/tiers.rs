//! The nightly tier review: evaluates every partnership and lists for staff those whose
//! evaluated tier differs from their current one. Staff decide; the job never changes a tier.

use entity::{partnership, tier_review};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};
use uuid::Uuid;

use crate::{error::AppResult, service::Ctx};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReviewRun {
    pub evaluated: usize,
    pub differing: usize,
}

/// Idempotent: each finding is keyed by its partnership, so two nodes running it at once write
/// the same rows.
#[tracing::instrument(skip_all)]
pub async fn run_review(ctx: &Ctx) -> AppResult<ReviewRun> {
    let now = ctx.now();
    let mut run = ReviewRun::default();
    for p in partnership::Entity::find().all(&ctx.db).await? {
        let evaluation = crate::service::programs::evaluate(&ctx.db, &p, now).await?;
        run.evaluated += 1;
        if evaluation.highest_met == Some(p.tier_id) {
            tier_review::Entity::delete_many()
                .filter(tier_review::Column::PartnershipId.eq(p.id))
                .exec(&ctx.db)
                .await?;
            continue;
        }
        run.differing += 1;
        let row = tier_review::ActiveModel {
            id: Set(Uuid::now_v7()),
            partnership_id: Set(p.id),
            current_tier_id: Set(p.tier_id),
            evaluated_tier_id: Set(evaluation.highest_met),
            evaluated_at: Set(now),
        };
        tier_review::Entity::insert(row)
            .on_conflict(
                OnConflict::column(tier_review::Column::PartnershipId)
                    .update_columns([
                        tier_review::Column::CurrentTierId,
                        tier_review::Column::EvaluatedTierId,
                        tier_review::Column::EvaluatedAt,
                    ])
                    .to_owned(),
            )
            .exec(&ctx.db)
            .await?;
    }
    tracing::info!(evaluated = run.evaluated, differing = run.differing, "tier review done");
    Ok(run)
}
