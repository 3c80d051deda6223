use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::organization;

use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    types::{Organization, OrganizationKind},
};
use crate::{
    ids::{self, NodeType},
    policy,
    service::organizations::{self, Filter, NewOrganization},
};

/// Narrows the organisation list.
#[derive(InputObject, Default)]
pub struct OrganizationFilter {
    /// Only organisations of this kind.
    pub kind: Option<OrganizationKind>,
}

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// One organisation; `null` when it does not exist or is not visible to the caller.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organisation.")] id: ID,
    ) -> async_graphql::Result<Option<Organization>> {
        policy::signed_in(ctx.principal())?;
        let Some(id) = ids::decode_as(NodeType::Organization, &id) else { return Ok(None) };
        Ok(super::loaders::load::<organization::Entity>(ctx, id).await?.map(Organization))
    }

    /// Organisations the caller may see: staff see all; others their own and those a grant
    /// connects them to.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only organisations matching this.")] filter: Option<OrganizationFilter>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Organization>> {
        let principal = policy::signed_in(ctx.principal())?;
        let filter = Filter { kind: filter.and_then(|f| f.kind).map(Into::into) };
        let select = organizations::visible(ctx.service(), Some(principal), &filter);
        Ok(paginate(
            &ctx.service().db,
            select,
            organization::Column::Id,
            |m| m.id,
            Organization,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }
}

/// The input of `createOrganization`.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// PARTNER, CUSTOMER or DISTRIBUTOR (the vendor exists once, from bootstrap).
    pub kind: OrganizationKind,
    /// The organisation's name, 1 to 200 characters.
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// The organisation's e-mail domain (to be verified by TXT record).
    pub domain: Option<String>,
    /// Its VAT number.
    pub vat_number: Option<String>,
    /// Its trade-register number.
    pub registration_number: Option<String>,
    /// Its website.
    pub website: Option<String>,
    /// The affiliate's referral code the customer came through: what it pays earns that affiliate
    /// commission for the programme's attribution period.
    pub referral_code: Option<String>,
    /// A retry with the same key returns the organisation the first call created.
    pub idempotency_key: Option<String>,
}

/// What `createOrganization` returns.
#[derive(SimpleObject)]
pub struct CreateOrganizationPayload {
    /// The Organization as `createOrganization` left it.
    pub organization: Organization,
}

#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    /// Creates a distributor, a customer, or a partner migrated from an older system (staff ADMIN).
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateOrganizationInput,
    ) -> async_graphql::Result<CreateOrganizationPayload> {
        let created = organizations::create(
            ctx.service(),
            ctx.principal(),
            NewOrganization {
                kind: Some(input.kind.into()),
                name: input.name,
                country: input.country,
                domain: input.domain,
                vat_number: input.vat_number,
                registration_number: input.registration_number,
                website: input.website,
                referral_code: input.referral_code,
            },
            input.idempotency_key.as_deref(),
        )
        .await?;
        Ok(CreateOrganizationPayload { organization: Organization(created) })
    }
}
