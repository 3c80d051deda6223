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

/// Whether an API token still works.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ApiTokenStatus {
    /// Works until `expiresAt`.
    Active,
    /// Past `expiresAt`.
    Expired,
    /// Revoked by its owner or an ADMIN.
    Revoked,
}

pub struct Organization(pub organization::Model);

/// A vendor, partner, customer or distributor organisation.
#[Object]
impl Organization {
    /// Opaque global identifier; `node(id:)` fetches the organisation again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Organization, self.0.id))
    }
    /// What the organisation is to the vendor.
    async fn kind(&self) -> async_graphql::Result<OrganizationKind> {
        Ok(self.0.kind.into())
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// A partner's rebates for its dashboard: accepted in the last 3 months, paid and unpaid,
    /// and open claims. Null before its first claim, and for anyone but the partner's ADMIN and
    /// BILLING, and staff.
    async fn rebate_summary(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<super::rebates::RebateSummary>> {
        if self.0.kind != crate::domain::OrganizationKind::Partner {
            return Ok(None);
        }
        super::rebates::summary_of(ctx, self.0.id).await
    }
    /// ISO 3166-1 alpha-2.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    /// Its e-mail domain, as given (see `primaryDomain` for the verified one).
    async fn domain(&self) -> Option<&str> {
        self.0.domain.as_deref()
    }
    /// Its VAT number.
    async fn vat_number(&self) -> Option<&str> {
        self.0.vat_number.as_deref()
    }
    /// Its trade-register number.
    async fn registration_number(&self) -> Option<&str> {
        self.0.registration_number.as_deref()
    }
    /// Its website.
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
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::onboarding::Partnership>> {
        super::onboarding::organization_partnerships(ctx, self.0.id, PageArgs::of(ctx, first, after, last, before))
            .await
    }
    /// The partner against every tier of a programme (by default the first it joined): each
    /// requirement's target, current value and whether it is met, and what is missing for the
    /// next tier. For staff and the partner's members; null otherwise.
    async fn tier_evaluation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme to evaluate against; the first the partner is in when absent.")]
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
    /// When the organisation was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The organisation's members (visible to its own members and to staff).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Membership>> {
        super::members::members(ctx, self.0.id, PageArgs::of(ctx, first, after, last, before)).await
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
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::programs::ExamResult>> {
        super::programs::certifications(ctx, self.0.id, PageArgs::of(ctx, first, after, last, before)).await
    }
    /// Every tier change of this partner (for staff and the partner's members).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn tier_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::programs::TierChange>> {
        super::programs::tier_history(ctx, self.0.id, PageArgs::of(ctx, first, after, last, before)).await
    }
    /// Every tier proposal of this partner, open and settled, oldest first: with `tierHistory`,
    /// the partner's tier history (staff who review partners, and the partner's members).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn tier_proposals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::questionnaires::TierProposal>> {
        super::questionnaires::proposals_of(ctx, self.0.id, PageArgs::of(ctx, first, after, last, before)).await
    }
    /// The customer's subscriptions you may see.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn subscriptions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::customers::ProductSubscription>> {
        super::customers::organization_subscriptions(ctx, &self.0, PageArgs::of(ctx, first, after, last, before)).await
    }
    /// Grants of this partner or on this customer that you may see.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn grants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only grants matching this.")] filter: Option<super::customers::GrantFilter>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::customers::Grant>> {
        super::customers::organization_grants(ctx, &self.0, filter, PageArgs::of(ctx, first, after, last, before)).await
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
        #[graphql(desc = "Only invoices with this status.")] status: Option<super::enums::InvoiceStatus>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::billing::Invoice>> {
        super::billing::organization_invoices(ctx, self.0.id, status, PageArgs::of(ctx, first, after, last, before))
            .await
    }
    /// Invitations to the organisation (visible to its admins and to staff admins).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::members::Invitation>> {
        super::members::invitations(ctx, self.0.id, PageArgs::of(ctx, first, after, last, before)).await
    }
}

/// Whom to contact about an account.
#[derive(async_graphql::SimpleObject)]
pub struct SuperAdminContact {
    /// Their name.
    pub display_name: String,
    /// Their e-mail address.
    pub email: Option<String>,
}

/// A customer's active subscriptions in sum, as a partner's customer list shows them.
#[derive(async_graphql::SimpleObject)]
pub struct SubscriptionSummary {
    /// Plan codes, each once.
    pub plans: Vec<String>,
    /// Seats over all active subscriptions.
    pub licences: i64,
    /// The soonest renewal among them.
    pub next_renewal_at: Option<DateTime<Utc>>,
}

pub struct User(pub user::Model);

/// A person, identified by their identity provider's issuer and subject.
#[Object]
impl User {
    /// Opaque global identifier; `node(id:)` fetches the user again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::User, self.0.id))
    }
    /// A person or a service account.
    async fn kind(&self) -> async_graphql::Result<UserKind> {
        Ok(self.0.kind.into())
    }
    /// Their name, from the identity provider.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// Their e-mail address, from the identity provider.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// When the user first signed in (or was created, for a service account).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct Membership(pub membership::Model);

/// A user's role in one organisation.
#[Object]
impl Membership {
    /// Opaque global identifier; `node(id:)` fetches the membership again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Membership, self.0.id))
    }
    /// The person's role in it.
    async fn role(&self) -> async_graphql::Result<Role> {
        Ok(self.0.role.into())
    }
    /// The organisation.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        load::<organization::Entity>(ctx, self.0.organization_id)
            .await?
            .map(Organization)
            .ok_or_else(|| AppError::NotFound("Organization").into())
    }
    /// The person.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load::<user::Entity>(ctx, self.0.user_id).await?.map(User).ok_or_else(|| AppError::NotFound("User").into())
    }
    /// When the person joined.
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
    /// The partner's global ID.
    pub partner_id: ID,
    /// The partner's name.
    pub partner_name: String,
}

pub struct ApiToken(pub api_token::Model);

/// An API token. The secret is shown once, when it is created, and never again.
#[Object]
impl ApiToken {
    /// Opaque global identifier; `node(id:)` fetches the token again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::ApiToken, self.0.id))
    }
    /// What the token is for, as its owner named it.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The first characters of the secret, to tell tokens apart.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    /// Whether the token works.
    async fn status(&self, ctx: &Context<'_>) -> ApiTokenStatus {
        if self.0.revoked_at.is_some() {
            ApiTokenStatus::Revoked
        } else if self.0.expires_at.is_some_and(|at| at <= ctx.service().now()) {
            ApiTokenStatus::Expired
        } else {
            ApiTokenStatus::Active
        }
    }
    /// When the token stops working; null for none (bounded by PARTNERHUB_TOKEN_MAX_LIFETIME when
    /// set).
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When a request last authenticated with the token.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When it was revoked; null while it is not.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// When the token was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct ServiceAccount(pub user::Model, pub membership::Model);

/// A non-person member of one organisation, used by integrations through API tokens.
#[Object]
impl ServiceAccount {
    /// Opaque global identifier; `node(id:)` fetches the account again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::ServiceAccount, self.0.id))
    }
    /// What the integration is.
    async fn name(&self) -> &str {
        &self.0.display_name
    }
    /// Its role there.
    async fn role(&self) -> async_graphql::Result<Role> {
        Ok(self.1.role.into())
    }
    /// The organisation it acts for.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        load::<organization::Entity>(ctx, self.1.organization_id)
            .await?
            .map(Organization)
            .ok_or_else(|| AppError::NotFound("Organization").into())
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct Program(pub program::Model);

/// A partner programme run by the vendor.
#[Object]
impl Program {
    /// Opaque global identifier; `node(id:)` fetches the programme again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Program, self.0.id))
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Reseller or referral.
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
    /// Days an approved deal registration protects its customer and products.
    async fn deal_protection_days(&self) -> i32 {
        self.0.deal_protection_days
    }
    /// The highest special discount on an approved deal, in percent; none when deals carry none.
    async fn deal_max_discount_percent(&self) -> Option<super::scalars::Decimal> {
        self.0.deal_max_discount_percent.map(|p| p.to_decimal().into())
    }
    /// Days after payment during which a refund or cancellation reverses commission.
    async fn reversal_window_days(&self) -> i32 {
        self.0.reversal_window_days
    }
    /// The least paid to a partner in one payout; none when any balance is paid.
    async fn minimum_payout(&self) -> Option<super::programs::Money> {
        self.0.min_payout.map(|m| super::programs::Money::new(m.to_decimal(), &self.0.currency))
    }
    /// Months between payout batches.
    async fn payout_interval_months(&self) -> i32 {
        self.0.payout_interval_months
    }
    /// Months an organisation created through an affiliate's referral code stays attributed to it.
    async fn referral_attribution_months(&self) -> i32 {
        self.0.referral_attribution_months
    }
    /// The largest invoice file a rebate claim may carry, in bytes.
    async fn rebate_file_max_bytes(&self) -> i64 {
        self.0.rebate_file_max_bytes
    }
    /// Whether the public directory lists every partner who opted in, not only those at a tier
    /// whose benefits include a listing.
    async fn directory_lists_all(&self) -> bool {
        self.0.directory_lists_all
    }
    /// The yearly programme fee the billing run invoices at each partnership year; null for
    /// none.
    async fn yearly_fee(&self) -> Option<super::programs::Money> {
        self.0.yearly_fee.map(|m| super::programs::Money::new(m.to_decimal(), &self.0.currency))
    }
    /// Months a partner keeps a tier it no longer meets before a downgrade is proposed.
    async fn downgrade_grace_months(&self) -> i32 {
        self.0.downgrade_grace_months
    }
    /// The current version of the onboarding questionnaire; null when the programme has none.
    async fn questionnaire(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::questionnaires::Questionnaire>> {
        super::questionnaires::current_of(ctx, self.0.id).await
    }
    /// What an application must meet.
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
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::onboarding::ProgramTerms>> {
        super::onboarding::program_terms_versions(ctx, self.0.id, PageArgs::of(ctx, first, after, last, before)).await
    }
    /// The programme's tiers.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn tiers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Tier>> {
        super::programs::program_tiers(ctx, self.0.id, PageArgs::of(ctx, first, after, last, before)).await
    }
}

pub struct Tier(pub tier::Model);

/// A level of a programme; a higher rank is a higher tier.
#[Object]
impl Tier {
    /// Opaque global identifier; `node(id:)` fetches the tier again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Tier, self.0.id))
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its place in the programme, lowest first.
    async fn rank(&self) -> i32 {
        self.0.rank
    }
    /// What a partner must meet to be in it.
    async fn requirements(&self, ctx: &Context<'_>) -> async_graphql::Result<super::onboarding::TierRequirements> {
        super::onboarding::tier_requirements(ctx, &self.0).await
    }
    /// What partners in the tier get.
    async fn benefits(&self, ctx: &Context<'_>) -> async_graphql::Result<super::onboarding::TierBenefits> {
        super::onboarding::tier_benefits(ctx, &self.0).await
    }
    /// The programme.
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Program> {
        load::<program::Entity>(ctx, self.0.program_id)
            .await?
            .map(Program)
            .ok_or_else(|| AppError::NotFound("Program").into())
    }
}
