//! Rebates in GraphQL, part one (issue 16): the approved distributor list and the rebate table.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::rebate_rate;

use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    ledger::decode,
    loaders::load,
    programs::{Money, MoneyInput},
    types::{Organization, Program, Tier},
};
use crate::{
    domain::billing::display,
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::rebates,
};

pub struct RebateRate(pub rebate_rate::Model);

/// A rate of a programme's rebate table: an amount per unit of a product line bought from an
/// approved distributor, for partners of one tier, for invoices dated within its period.
#[Object]
impl RebateRate {
    /// Opaque global identifier; `node(id:)` fetches the rate again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::RebateRate, self.0.id))
    }
    /// The programme whose terms it is.
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Program>> {
        Ok(load::<entity::program::Entity>(ctx, self.0.program_id).await?.map(Program))
    }
    /// The tier whose partners earn it.
    async fn tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        Ok(load::<entity::tier::Entity>(ctx, self.0.tier_id).await?.map(Tier))
    }
    /// The product line it pays on.
    async fn product_line(&self) -> &str {
        &self.0.product_line
    }
    /// What one unit earns.
    async fn amount_per_unit(&self) -> Money {
        let amount = self.0.amount_per_unit.to_decimal();
        Money::new(display(amount, &self.0.currency), self.0.currency.clone())
    }
    /// The first invoice date it applies to.
    async fn valid_from(&self) -> DateTime<Utc> {
        self.0.valid_from
    }
    /// The invoice date from which it no longer applies; open when null.
    async fn valid_to(&self) -> Option<DateTime<Utc>> {
        self.0.valid_to
    }
}

#[derive(Default)]
pub struct RebateQuery;

#[Object]
impl RebateQuery {
    /// Distributors on the vendor's approved list, the ones a rebate claim may name. Staff also
    /// see the ones taken off it (`active: false`); everyone else only the active ones.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn approved_distributors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the active (true) or the withdrawn (false) ones; both when absent.")] active: Option<
            bool,
        >,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Organization>> {
        policy::signed_in(ctx.principal())?;
        let args = PageArgs::of(ctx, first, after, last, before);
        let select = rebates::distributors(ctx.principal(), active);
        Ok(paginate(&ctx.service().db, select, entity::organization::Column::Id, |m| m.id, Organization, args).await?)
    }

    /// A programme's rebate table (its published terms), oldest first; with `at`, only the
    /// rates in force on that invoice date.
    async fn rebate_rates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme.")] program_id: ID,
        #[graphql(desc = "An invoice date: only the rates in force then.")] at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Vec<RebateRate>> {
        policy::signed_in(ctx.principal())?;
        let Some(id) = ids::decode_as(NodeType::Program, &program_id) else { return Ok(Vec::new()) };
        Ok(rebates::rates(&ctx.service().db, ctx.principal(), id, at).await?.into_iter().map(RebateRate).collect())
    }
}

/// The input of `setDistributorApproval`.
#[derive(InputObject)]
pub struct SetDistributorApprovalInput {
    /// A DISTRIBUTOR organisation.
    pub organization_id: ID,
    /// On the list (true), or taken off it (false).
    pub active: bool,
    /// Why, for staff (at most 500 characters).
    pub note: Option<String>,
}

/// What `setDistributorApproval` returns.
#[derive(SimpleObject)]
pub struct DistributorApprovalPayload {
    /// The distributor.
    pub organization: Organization,
    /// Whether it is on the list now.
    pub active: bool,
    /// Staff's note.
    pub note: Option<String>,
    /// When the approval last changed.
    pub updated_at: DateTime<Utc>,
}

/// The input of `createRebateRate`.
#[derive(InputObject)]
pub struct CreateRebateRateInput {
    /// The programme.
    pub program_id: ID,
    /// The tier whose partners earn it.
    pub tier_id: ID,
    /// The product line it pays on (compared without case).
    pub product_line: String,
    /// What one unit earns, in the programme's currency.
    pub amount_per_unit: MoneyInput,
    /// The first invoice date it applies to.
    pub valid_from: DateTime<Utc>,
    /// The invoice date from which it no longer applies; open when absent.
    pub valid_to: Option<DateTime<Utc>>,
}

/// What `createRebateRate` returns.
#[derive(SimpleObject)]
pub struct RebateRatePayload {
    /// The rate created.
    pub rate: RebateRate,
}

#[derive(Default)]
pub struct RebateMutation;

#[Object]
impl RebateMutation {
    /// Puts a distributor on the approved list or takes it off (staff ADMIN or FINANCE).
    async fn set_distributor_approval(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: SetDistributorApprovalInput,
    ) -> async_graphql::Result<DistributorApprovalPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Organization, &input.organization_id, "Organization")?;
        let saved = rebates::set_distributor(ctx.service(), ctx.principal(), id, input.active, input.note).await?;
        let organization =
            load::<entity::organization::Entity>(ctx, id).await?.ok_or(AppError::NotFound("Organization"))?;
        Ok(DistributorApprovalPayload {
            organization: Organization(organization),
            active: saved.active,
            note: saved.note,
            updated_at: saved.updated_at,
        })
    }

    /// Adds a rate to a programme's rebate table (staff ADMIN or FINANCE). Rates of one tier,
    /// product line and currency may not overlap in time (CONFLICT).
    async fn create_rebate_rate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateRebateRateInput,
    ) -> async_graphql::Result<RebateRatePayload> {
        policy::signed_in(ctx.principal())?;
        let new = rebates::NewRate {
            program_id: decode(NodeType::Program, &input.program_id, "Program")?,
            tier_id: decode(NodeType::Tier, &input.tier_id, "Tier")?,
            product_line: input.product_line,
            amount_per_unit: input.amount_per_unit.parts(),
            valid_from: input.valid_from,
            valid_to: input.valid_to,
        };
        let rate = rebates::create_rate(ctx.service(), ctx.principal(), new).await?;
        Ok(RebateRatePayload { rate: RebateRate(rate) })
    }
}
