//! Programmes and tiers (public), and tier changes of partners (staff confirm them).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{program, tier, tier_change};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    loaders::{Names, load, load_with},
    types::{Organization, Program, Tier},
};
use crate::{
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::programs,
};

pub struct TierChange(pub tier_change::Model);

/// One change of a partner's tier.
#[Object]
impl TierChange {
    async fn from(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        let Some(id) = self.0.from_tier_id else { return Ok(None) };
        Ok(load::<tier::Entity>(ctx, id).await?.map(Tier))
    }
    async fn to(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        Ok(load::<tier::Entity>(ctx, self.0.to_tier_id).await?.map(Tier))
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn changed_by_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.0.changed_by_user_id else { return Ok(None) };
        load_with::<Names>(ctx, id).await
    }
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
}

/// The tiers of a programme, lowest first (keyset order is creation order; ranks are given).
pub async fn program_tiers(
    ctx: &Context<'_>,
    program_id: uuid::Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<Tier>> {
    let select = tier::Entity::find().filter(tier::Column::ProgramId.eq(program_id));
    Ok(paginate(&ctx.service().db, select, tier::Column::Id, |m| m.id, Tier, args).await?)
}

pub async fn tier_history(
    ctx: &Context<'_>,
    partner_id: uuid::Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<TierChange>> {
    let select = programs::history(ctx.principal(), partner_id);
    Ok(paginate(&ctx.service().db, select, tier_change::Column::Id, |m| m.id, TierChange, args).await?)
}

#[derive(Default)]
pub struct ProgramQuery;

#[Object]
impl ProgramQuery {
    /// The vendor's partner programmes; public.
    async fn programs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<Program>> {
        let select = program::Entity::find().filter(policy::programs_scope(ctx.principal()));
        Ok(paginate(
            &ctx.service().db,
            select,
            program::Column::Id,
            |m| m.id,
            Program,
            PageArgs { first, after, last, before },
        )
        .await?)
    }
}

#[derive(InputObject)]
pub struct ChangePartnerTierInput {
    pub partner_id: ID,
    pub tier_id: ID,
    /// Required for a downgrade.
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct ChangePartnerTierPayload {
    pub partner: Organization,
    pub change: TierChange,
}

#[derive(Default)]
pub struct ProgramMutation;

#[Object]
impl ProgramMutation {
    /// Moves a partner to a tier (staff ADMIN or CHANNEL_MANAGER); kept in `tierHistory`, and the
    /// partner is notified.
    async fn change_partner_tier(
        &self,
        ctx: &Context<'_>,
        input: ChangePartnerTierInput,
    ) -> async_graphql::Result<ChangePartnerTierPayload> {
        policy::signed_in(ctx.principal())?;
        let partner =
            ids::decode_as(NodeType::Organization, &input.partner_id).ok_or(AppError::NotFound("Organization"))?;
        let tier = ids::decode_as(NodeType::Tier, &input.tier_id).ok_or(AppError::NotFound("Tier"))?;
        let (org, change) =
            programs::change_partner_tier(ctx.service(), ctx.principal(), partner, tier, input.reason.as_deref())
                .await?;
        Ok(ChangePartnerTierPayload { partner: Organization(org), change: TierChange(change) })
    }
}
