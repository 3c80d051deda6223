//! Output types. Each wraps an entity model so that the API changes only when this file does.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::{api_token, membership, organization, program, tier, user};

pub use super::enums::{OrganizationKind, Role, UserKind};
use super::{
    connection::{Page, PageArgs},
    context::ContextExt,
    loaders::{first_child, load, load_with},
};
use crate::{
    error::AppError,
    ids::{self, NodeType},
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ApiTokenStatus {
    Active,
    Expired,
    Revoked,
}

pub struct Organization(pub organization::Model);

/// A vendor, partner, customer or distributor organisation.
#[Object]
impl Organization {
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Organization, self.0.id))
    }
    async fn kind(&self) -> async_graphql::Result<OrganizationKind> {
        Ok(self.0.kind.into())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// ISO 3166-1 alpha-2.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    async fn domain(&self) -> Option<&str> {
        self.0.domain.as_deref()
    }
    async fn vat_number(&self) -> Option<&str> {
        self.0.vat_number.as_deref()
    }
    async fn registration_number(&self) -> Option<&str> {
        self.0.registration_number.as_deref()
    }
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// The partner's programme: the first it joined (see `partnerships` for all).
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Program>> {
        let Some(p) = first_child::<entity::partnership::Entity>(ctx, self.0.id).await? else { return Ok(None) };
        Ok(load::<program::Entity>(ctx, p.program_id).await?.map(Program))
    }
    /// The partner's current tier in that programme.
    async fn tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        let Some(p) = first_child::<entity::partnership::Entity>(ctx, self.0.id).await? else { return Ok(None) };
        Ok(load::<tier::Entity>(ctx, p.tier_id).await?.map(Tier))
    }
    /// Every programme the organisation takes part in, with its tier.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn partnerships(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::onboarding::Partnership>> {
        super::onboarding::organization_partnerships(ctx, self.0.id, PageArgs { first, after, last, before }).await
    }
    /// The partner against every tier of a programme (by default the first it joined): each
    /// requirement's target, current value and whether it is met, and what is missing for the
    /// next tier. For staff and the partner's members; null otherwise.
    async fn tier_evaluation(
        &self,
        ctx: &Context<'_>,
        program_id: Option<ID>,
    ) -> async_graphql::Result<Option<super::onboarding::TierEvaluation>> {
        let partnership = match program_id {
            None => first_child::<entity::partnership::Entity>(ctx, self.0.id).await?,
            Some(id) => {
                let Some(program) = ids::decode_as(NodeType::Program, &id) else { return Ok(None) };
                super::loaders::children::<entity::partnership::Entity>(ctx, self.0.id)
                    .await?
                    .into_iter()
                    .find(|p| p.program_id == program)
            }
        };
        let Some(p) = partnership else { return Ok(None) };
        super::onboarding::evaluation(ctx, &p).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The organisation's members (visible to its own members and to staff).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<Membership>> {
        super::members::members(ctx, self.0.id, PageArgs { first, after, last, before }).await
    }
    /// What you may do on this customer now: the live grant's rights ∩ your assignment ∩ your
    /// role. Empty for anyone but a partner user with access.
    async fn viewer_rights(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<super::customers::GrantRight>> {
        let rights = super::loaders::load_with::<super::loaders::ViewerRights>(ctx, self.0.id).await?;
        Ok(super::customers::to_list(rights.unwrap_or_default()))
    }
    /// For a partner viewing one of its customers: the live grant it holds there.
    async fn viewer_grant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<super::customers::Grant>> {
        Ok(super::loaders::load_with::<super::loaders::ViewerGrant>(ctx, self.0.id).await?.map(super::customers::Grant))
    }
    /// The first domain the organisation claimed, and whether it is proven.
    async fn primary_domain(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<super::customers::Domain>> {
        Ok(first_child::<entity::domain::Entity>(ctx, self.0.id).await?.map(super::customers::Domain))
    }
    /// Exams passed by this partner's people (for staff and the partner's members).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn certifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::programs::ExamResult>> {
        super::programs::certifications(ctx, self.0.id, PageArgs { first, after, last, before }).await
    }
    /// Every tier change of this partner (for staff and the partner's members).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn tier_history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::programs::TierChange>> {
        super::programs::tier_history(ctx, self.0.id, PageArgs { first, after, last, before }).await
    }
    /// The customer's subscriptions you may see.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn subscriptions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::customers::ProductSubscription>> {
        super::customers::organization_subscriptions(ctx, &self.0, PageArgs { first, after, last, before }).await
    }
    /// Grants of this partner or on this customer that you may see.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn grants(
        &self,
        ctx: &Context<'_>,
        filter: Option<super::customers::GrantFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::customers::Grant>> {
        super::customers::organization_grants(ctx, &self.0, filter, PageArgs { first, after, last, before }).await
    }
    /// Its first ADMIN, the account's super-admin.
    async fn super_admin(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SuperAdminContact>> {
        Ok(load_with::<super::loaders::SuperAdmin>(ctx, self.0.id)
            .await?
            .map(|u| SuperAdminContact { display_name: u.display_name, email: u.email }))
    }
    /// Plans, licences and the next renewal of the active subscriptions you may see.
    async fn subscription_summary(&self, ctx: &Context<'_>) -> async_graphql::Result<SubscriptionSummary> {
        let s = load_with::<super::loaders::CustomerSubscriptions>(ctx, self.0.id).await?.unwrap_or_default();
        Ok(SubscriptionSummary { plans: s.plans, licences: s.licences, next_renewal_at: s.next_renewal })
    }
    /// Invoices billed to this organisation that you may read.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        status: Option<super::enums::InvoiceStatus>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::billing::Invoice>> {
        super::billing::organization_invoices(ctx, self.0.id, status, PageArgs { first, after, last, before }).await
    }
    /// Invitations to the organisation (visible to its admins and to staff admins).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::members::Invitation>> {
        super::members::invitations(ctx, self.0.id, PageArgs { first, after, last, before }).await
    }
}

/// Whom to contact about an account.
#[derive(async_graphql::SimpleObject)]
pub struct SuperAdminContact {
    pub display_name: String,
    pub email: Option<String>,
}

#[derive(async_graphql::SimpleObject)]
pub struct SubscriptionSummary {
    /// Plan codes, each once.
    pub plans: Vec<String>,
    /// Seats over all active subscriptions.
    pub licences: i64,
    pub next_renewal_at: Option<DateTime<Utc>>,
}

pub struct User(pub user::Model);

/// A person, identified by their identity provider's issuer and subject.
#[Object]
impl User {
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::User, self.0.id))
    }
    async fn kind(&self) -> async_graphql::Result<UserKind> {
        Ok(self.0.kind.into())
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct Membership(pub membership::Model);

/// A user's role in one organisation.
#[Object]
impl Membership {
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Membership, self.0.id))
    }
    async fn role(&self) -> async_graphql::Result<Role> {
        Ok(self.0.role.into())
    }
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        load::<organization::Entity>(ctx, self.0.organization_id)
            .await?
            .map(Organization)
            .ok_or_else(|| AppError::NotFound("Organization").into())
    }
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load::<user::Entity>(ctx, self.0.user_id).await?.map(User).ok_or_else(|| AppError::NotFound("User").into())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who sent the invitation this member joined with.
    async fn invited_by_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.0.invited_by_user_id else { return Ok(None) };
        load_with::<super::loaders::Names>(ctx, id).await
    }
    /// The partner that brought this user in on the customer's behalf (under MANAGE_USERS);
    /// the customer's ADMIN removes all of them at once with `removePartnerInvitedMembers`.
    async fn brought_in_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<BroughtInBy>> {
        let Some(partner) = self.0.invited_by_organization_id else { return Ok(None) };
        let name = load_with::<super::loaders::Names>(ctx, partner).await?.unwrap_or_default();
        Ok(Some(BroughtInBy { partner_id: ID(ids::encode(NodeType::Organization, partner)), partner_name: name }))
    }
}

/// The partner that brought a customer's user in.
#[derive(async_graphql::SimpleObject)]
pub struct BroughtInBy {
    pub partner_id: ID,
    pub partner_name: String,
}

pub struct ApiToken(pub api_token::Model);

/// An API token. The secret is shown once, when it is created, and never again.
#[Object]
impl ApiToken {
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::ApiToken, self.0.id))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The first characters of the secret, to tell tokens apart.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    async fn status(&self, ctx: &Context<'_>) -> ApiTokenStatus {
        if self.0.revoked_at.is_some() {
            ApiTokenStatus::Revoked
        } else if self.0.expires_at.is_some_and(|at| at <= ctx.service().now()) {
            ApiTokenStatus::Expired
        } else {
            ApiTokenStatus::Active
        }
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct ServiceAccount(pub user::Model, pub membership::Model);

/// A non-person member of one organisation, used by integrations through API tokens.
#[Object]
impl ServiceAccount {
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::ServiceAccount, self.0.id))
    }
    async fn name(&self) -> &str {
        &self.0.display_name
    }
    async fn role(&self) -> async_graphql::Result<Role> {
        Ok(self.1.role.into())
    }
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        load::<organization::Entity>(ctx, self.1.organization_id)
            .await?
            .map(Organization)
            .ok_or_else(|| AppError::NotFound("Organization").into())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct Program(pub program::Model);

/// A partner programme run by the vendor.
#[Object]
impl Program {
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Program, self.0.id))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> super::enums::ProgramKind {
        self.0.kind.into()
    }
    /// ISO 4217 code of the programme's currency.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// Programmes of one group exclude each other: an organisation is in at most one.
    async fn exclusivity_group(&self) -> Option<&str> {
        self.0.exclusivity_group.as_deref()
    }
    async fn entry_conditions(&self) -> async_graphql::Result<super::onboarding::EntryConditions> {
        super::onboarding::entry_conditions(&self.0)
    }
    /// The terms applicants accept now.
    async fn current_terms(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<super::onboarding::ProgramTerms>> {
        Ok(first_child::<entity::program_terms::Entity>(ctx, self.0.id).await?.map(super::onboarding::ProgramTerms))
    }
    /// Every published version of the terms, oldest first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn terms_versions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::onboarding::ProgramTerms>> {
        super::onboarding::program_terms_versions(ctx, self.0.id, PageArgs { first, after, last, before }).await
    }
    /// The programme's tiers.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn tiers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<Tier>> {
        super::programs::program_tiers(ctx, self.0.id, PageArgs { first, after, last, before }).await
    }
}

pub struct Tier(pub tier::Model);

/// A level of a programme; a higher rank is a higher tier.
#[Object]
impl Tier {
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Tier, self.0.id))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn rank(&self) -> i32 {
        self.0.rank
    }
    async fn requirements(&self, ctx: &Context<'_>) -> async_graphql::Result<super::onboarding::TierRequirements> {
        super::onboarding::tier_requirements(ctx, &self.0).await
    }
    async fn benefits(&self, ctx: &Context<'_>) -> async_graphql::Result<super::onboarding::TierBenefits> {
        super::onboarding::tier_benefits(ctx, &self.0).await
    }
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Program> {
        load::<program::Entity>(ctx, self.0.program_id)
            .await?
            .map(Program)
            .ok_or_else(|| AppError::NotFound("Program").into())
    }
}
