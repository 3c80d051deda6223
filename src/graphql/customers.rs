//! Customers and delegated access: grants, their history and staffing, customer domains, and
//! the audit trail.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{audit_event, domain as domain_row, grant, grant_assignment, organization};
use sea_orm::{ColumnTrait, QueryFilter};

use super::enums::{GrantScopeKind, GrantSide, GrantStatus, SubscriptionStatus};
use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    loaders::{CustomerSubscriptions, Names, ViewerRights, feed, load, load_with, prime},
    members::Invitation,
    types::{Organization, User},
};
use crate::{
    domain::{Rights, validate},
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::{
        customers, domains,
        grants::{self, Change, Request, Transition},
    },
};

/// What a grant lets the partner do in the customer's account.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum GrantRight {
    /// Subscribe, change seats and plans, cancel.
    ManageProducts,
    /// Read invoices and what subscriptions cost.
    ViewBilling,
    /// Pay for subscriptions and hand billing over.
    ManageBilling,
    /// Invite, change and remove the customer's ordinary users (never its ADMINs).
    ManageUsers,
}

impl GrantRight {
    fn bit(self) -> Rights {
        match self {
            GrantRight::ManageProducts => Rights::MANAGE_PRODUCTS,
            GrantRight::ViewBilling => Rights::VIEW_BILLING,
            GrantRight::ManageBilling => Rights::MANAGE_BILLING,
            GrantRight::ManageUsers => Rights::MANAGE_USERS,
        }
    }
}

pub fn to_list(rights: Rights) -> Vec<GrantRight> {
    [GrantRight::ManageProducts, GrantRight::ViewBilling, GrantRight::ManageBilling, GrantRight::ManageUsers]
        .into_iter()
        .filter(|r| rights.contains(r.bit()))
        .collect()
}

pub fn from_list(list: &[GrantRight]) -> Rights {
    list.iter().fold(Rights::NONE, |acc, r| acc.union(r.bit()))
}

/// `{kind: SUBSCRIPTIONS, subscriptionIds: [...]}` limits a grant to those subscriptions.
#[derive(InputObject)]
pub struct GrantScopeInput {
    /// The whole account, or only the listed subscriptions.
    pub kind: GrantScopeKind,
    /// The subscriptions, when `kind` is SUBSCRIPTIONS.
    pub subscription_ids: Option<Vec<ID>>,
}

fn scope_from(input: Option<GrantScopeInput>) -> Result<Option<grants::Scope>, AppError> {
    let Some(input) = input else { return Ok(None) };
    Ok(Some(match input.kind {
        GrantScopeKind::Account => grants::Scope::Account,
        GrantScopeKind::Subscriptions => {
            let ids = input.subscription_ids.unwrap_or_default();
            let decoded: Option<Vec<_>> =
                ids.iter().map(|id| ids::decode_as(NodeType::ProductSubscription, id)).collect();
            grants::Scope::Subscriptions(
                decoded.ok_or_else(|| AppError::bad_input("scope", "names something that is not a subscription"))?,
            )
        }
    }))
}

fn gid(node_type: NodeType, id: uuid::Uuid) -> ID {
    ID(ids::encode(node_type, id))
}

pub struct Grant(pub grant::Model);

/// What one partner may do on one customer's account, and until when.
#[Object]
impl Grant {
    /// Opaque global identifier; `node(id:)` fetches the grant again.
    pub async fn id(&self) -> ID {
        gid(NodeType::Grant, self.0.id)
    }
    /// As of now: a grant past its end is EXPIRED even before the job has marked it.
    async fn status(&self, ctx: &Context<'_>) -> GrantStatus {
        crate::domain::grants::status_at(self.0.status, self.0.ends_at, ctx.service().now()).into()
    }
    /// What the partner may do in the customer's account.
    async fn rights(&self) -> Vec<GrantRight> {
        to_list(Rights::from_bits(self.0.rights))
    }
    /// The whole account, or only the listed subscriptions.
    async fn scope(&self) -> GrantScopeKind {
        self.0.scope.into()
    }
    /// For a SUBSCRIPTIONS-scoped grant, the subscriptions it covers that you may see.
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
    ) -> async_graphql::Result<Page<ProductSubscription>> {
        use entity::subscription;
        let select = grants::listed_subscriptions(ctx.principal(), self.0.id, ctx.service().now());
        Ok(paginate(
            &ctx.service().db,
            select,
            subscription::Column::Id,
            |m| m.id,
            ProductSubscription,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }
    /// Which side asked; the other answers.
    async fn requested_by(&self) -> GrantSide {
        self.0.requested_by.into()
    }
    /// The message sent with the request or offer.
    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }
    /// Days of access from `startsAt`.
    async fn duration_days(&self) -> i32 {
        self.0.duration_days
    }
    /// When access begins (on approval).
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// When an active grant ends, or when a pending request lapses.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// Whether the grant extends itself at its end by `durationDays`.
    async fn auto_extend(&self) -> bool {
        self.0.auto_extend
    }
    /// When it was asked for or offered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The partner organisation's global ID.
    async fn partner_id(&self) -> ID {
        gid(NodeType::Organization, self.0.partner_id)
    }
    /// `null` to the partner while the customer, asked by VAT number or domain, has not approved.
    async fn customer_id(&self, ctx: &Context<'_>) -> Option<ID> {
        policy::sees_grant_customer(ctx.principal(), &self.0).then(|| gid(NodeType::Organization, self.0.customer_id))
    }
    /// `null` when the partner is not visible to you.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<organization::Entity>(ctx, self.0.partner_id).await?.map(Organization))
    }
    /// `null` when you have no live access to the customer.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        if !policy::sees_grant_customer(ctx.principal(), &self.0) {
            return Ok(None);
        }
        Ok(load::<organization::Entity>(ctx, self.0.customer_id).await?.map(Organization))
    }
    /// Every change of this grant, oldest first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<AuditEvent>> {
        let select = grants::history(ctx.principal(), &self.0);
        Ok(paginate(
            &ctx.service().db,
            select,
            audit_event::Column::Id,
            |m| m.id,
            AuditEvent,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }
    /// The partner employees who act under this grant, and with what (partner side only).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn assignments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<GrantAssignment>> {
        let select = grants::assignments(ctx.principal(), &self.0);
        Ok(paginate(
            &ctx.service().db,
            select,
            grant_assignment::Column::Id,
            |m| m.id,
            GrantAssignment,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }
}

pub struct Product(pub entity::product::Model);

/// A product of the catalog.
#[Object]
impl Product {
    /// Opaque global identifier; `node(id:)` fetches the product again.
    pub async fn id(&self) -> ID {
        gid(NodeType::Product, self.0.id)
    }
    /// Its stock-keeping unit.
    async fn sku(&self) -> &str {
        &self.0.sku
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The product line it belongs to.
    async fn product_line(&self) -> &str {
        &self.0.product_line
    }
    /// Whether it is on sale; plans of a product off sale cannot be subscribed to.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// The plans to buy it with, lowest rank first (for everyone signed in).
    async fn plans(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<super::billing::Plan>> {
        super::billing::product_plans(ctx, self.0.id).await
    }
}

pub struct ProductSubscription(pub entity::subscription::Model);

/// A customer's subscription to a product.
#[Object]
impl ProductSubscription {
    /// Opaque global identifier; `node(id:)` fetches the subscription again.
    pub async fn id(&self) -> ID {
        gid(NodeType::ProductSubscription, self.0.id)
    }
    /// The product.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        Ok(load::<entity::product::Entity>(ctx, self.0.product_id).await?.map(Product))
    }
    /// The current plan.
    async fn plan(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<super::billing::Plan>> {
        let Some(id) = self.0.plan_id else { return Ok(None) };
        Ok(load::<entity::plan::Entity>(ctx, id).await?.map(super::billing::Plan))
    }
    /// A downgrade that takes effect at the renewal.
    async fn pending_plan(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<super::billing::Plan>> {
        let Some(id) = self.0.pending_plan_id else { return Ok(None) };
        Ok(load::<entity::plan::Entity>(ctx, id).await?.map(super::billing::Plan))
    }
    /// Licences.
    async fn seats(&self) -> i32 {
        self.0.seats
    }
    /// Whether it is in force.
    async fn status(&self) -> SubscriptionStatus {
        self.0.status.into()
    }
    /// Who pays for it.
    async fn billed_to(&self) -> super::enums::BilledTo {
        self.0.billed_to.into()
    }
    /// The partner that manages it; null when the customer bought it directly.
    async fn managing_partner_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.0.partner_id else { return Ok(None) };
        load_with::<super::loaders::Names>(ctx, id).await
    }
    /// The customer using it.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<organization::Entity>(ctx, self.0.customer_id).await?.map(Organization))
    }
    /// When it began.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    /// When the current billing period began.
    async fn current_period_start(&self) -> Option<DateTime<Utc>> {
        self.0.current_period_start
    }
    /// The end of the current period: the renewal date (or the end, when cancelled).
    async fn renews_at(&self) -> Option<DateTime<Utc>> {
        self.0.current_period_end
    }
    /// Whether it renews at `renewsAt`.
    async fn auto_renew(&self) -> bool {
        self.0.auto_renew
    }
    /// Whether it ends at the current period's end.
    async fn cancel_at_period_end(&self) -> bool {
        self.0.cancel_at_period_end
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Every change, oldest first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::billing::SubscriptionChange>> {
        super::billing::subscription_history(ctx, self.0.id, PageArgs::of(ctx, first, after, last, before)).await
    }
    /// What the customer asked of the partner that pays for it, oldest first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn change_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<super::change_requests::SubscriptionChangeRequest>> {
        super::change_requests::of_subscription(ctx, self.0.id, PageArgs::of(ctx, first, after, last, before)).await
    }
}

/// A customer's subscriptions that you may see (all of them for its members; under a scoped
/// grant only the listed ones).
pub async fn organization_subscriptions(
    ctx: &Context<'_>,
    org: &organization::Model,
    args: PageArgs,
) -> async_graphql::Result<Page<ProductSubscription>> {
    use entity::subscription;
    let select = crate::service::subscriptions::of_customer(ctx.principal(), org.id, ctx.service().now());
    // The common case, a first page under each customer of a list, is one statement for all.
    if let Some(size) = super::connection::plain_first_page(&args)? {
        let rows = super::loaders::first_page::<subscription::Entity>(ctx, org.id, size).await?;
        let all = sea_orm::QueryTrait::into_query(select);
        return Ok(super::connection::first_page_of(&ctx.service().db, rows, size, all, |m| m.id, ProductSubscription));
    }
    Ok(paginate(&ctx.service().db, select, subscription::Column::Id, |m| m.id, ProductSubscription, args).await?)
}

pub struct GrantAssignment(pub grant_assignment::Model);

/// A partner member the grant's rights are given to (partner ADMINs act without one).
#[Object]
impl GrantAssignment {
    /// Opaque global identifier; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ID(crate::ids::encode(crate::ids::NodeType::GrantAssignment, self.0.id))
    }
    /// The assigned member.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        Ok(load::<entity::user::Entity>(ctx, self.0.user_id).await?.map(User))
    }
    /// The rights the member has under the grant (at most the grant's).
    async fn rights(&self) -> Vec<GrantRight> {
        to_list(Rights::from_bits(self.0.rights))
    }
    /// When the member was assigned.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct Domain(pub domain_row::Model);

/// A domain an organisation claims; verified once the TXT record is published.
#[Object]
impl Domain {
    /// Opaque global identifier; `node(id:)` fetches the domain again.
    pub async fn id(&self) -> ID {
        gid(NodeType::Domain, self.0.id)
    }
    /// The domain, such as `example.com`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Whether the TXT record was found.
    async fn verified(&self) -> bool {
        self.0.verified_at.is_some()
    }
    /// When it was verified.
    async fn verified_at(&self) -> Option<DateTime<Utc>> {
        self.0.verified_at
    }
    /// The TXT record to publish at the domain to prove it.
    async fn verification_record(&self) -> String {
        format!("{}{}", domains::TXT_PREFIX, self.0.token)
    }
}

pub struct AuditEvent(pub audit_event::Model);

/// One recorded change: who, acting for which organisation, on whose account, what, when.
#[Object]
impl AuditEvent {
    /// Opaque global identifier; `node(id:)` fetches the event again.
    pub async fn id(&self) -> ID {
        gid(NodeType::AuditEvent, self.0.id)
    }
    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// What was done, such as `grant.revoked`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The kind of record changed, such as `Grant`.
    async fn target_type(&self) -> &str {
        &self.0.target_type
    }
    /// The global ID of the record changed.
    async fn target_id(&self) -> Option<ID> {
        let node_type = NodeType::parse(&self.0.target_type)?;
        self.0.target_id.map(|id| gid(node_type, id))
    }
    /// The person or service account that acted; `null` for the system's own jobs.
    async fn actor_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.0.actor_user_id else { return Ok(None) };
        load_with::<Names>(ctx, id).await
    }
    /// The organisation the actor acted for.
    async fn acting_organization_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.0.acting_organization_id else { return Ok(None) };
        load_with::<Names>(ctx, id).await
    }
    /// The customer whose account it concerns, when you may see that organisation.
    async fn customer_id(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ID>> {
        let Some(id) = self.0.customer_organization_id else { return Ok(None) };
        Ok(load::<organization::Entity>(ctx, id).await?.map(|o| gid(NodeType::Organization, o.id)))
    }
    /// The record before the change, as JSON.
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.0.before.clone().map(Json)
    }
    /// The record after the change, as JSON.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.0.after.clone().map(Json)
    }
    /// The `X-Request-Id` of the request that made the change, to find it in the logs.
    async fn request_id(&self) -> &str {
        &self.0.request_id
    }
}

/// Narrows a partner's customer list.
#[derive(InputObject, Default)]
pub struct CustomerFilter {
    /// Part of the name, or the exact domain or VAT number; only your own customers are searched.
    pub search: Option<String>,
}

/// Narrows the audit trail.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    /// Only events of this action, such as `grant.revoked`.
    pub action: Option<String>,
    /// Only events about this record (any global ID).
    pub target_id: Option<ID>,
}

/// Narrows a list of grants.
#[derive(InputObject, Default)]
pub struct GrantFilter {
    /// Only grants with this status.
    pub status: Option<GrantStatus>,
}

pub async fn organization_grants(
    ctx: &Context<'_>,
    org: &organization::Model,
    filter: Option<GrantFilter>,
    args: PageArgs,
) -> async_graphql::Result<Page<Grant>> {
    let column = if org.kind == crate::domain::OrganizationKind::Partner {
        grant::Column::PartnerId
    } else {
        grant::Column::CustomerId
    };
    let mut select = grants::visible(ctx.principal()).filter(column.eq(org.id));
    if let Some(status) = filter.and_then(|f| f.status) {
        select = select.filter(grant::Column::Status.eq(crate::domain::GrantStatus::from(status)));
    }
    Ok(paginate(&ctx.service().db, select, grant::Column::Id, |m| m.id, Grant, args).await?)
}

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// Customers you may act for: a live grant, and unless you are the partner's ADMIN, an
    /// assignment under it.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only customers matching this.")] filter: Option<CustomerFilter>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Organization>> {
        let filter = customers::Filter { search: filter.and_then(|f| f.search) };
        let select = customers::visible(ctx.service(), ctx.principal(), &filter)?;
        let page = paginate(
            &ctx.service().db,
            select,
            organization::Column::Id,
            |m| m.id,
            Organization,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?;
        // What a customer list shows of each customer, for the whole page in one statement (the
        // items then read it from the request's cache).
        let ids: Vec<uuid::Uuid> = page.edges.iter().map(|e| e.node.0.id).collect();
        let look = ctx.look_ahead();
        let asks = |field: &str| {
            !ids.is_empty()
                && (look.field("nodes").field(field).exists()
                    || look.field("edges").field("node").field(field).exists())
        };
        match (asks("viewerRights"), asks("subscriptionSummary")) {
            (true, true) => {
                let (summaries, rights) =
                    crate::service::subscriptions::listing(ctx.service(), ctx.principal(), &ids).await?;
                feed::<CustomerSubscriptions>(ctx, summaries).await?;
                feed::<ViewerRights>(ctx, rights).await?;
            }
            (true, false) => prime::<ViewerRights>(ctx, &ids).await?,
            (false, true) => prime::<CustomerSubscriptions>(ctx, &ids).await?,
            (false, false) => {}
        }
        Ok(page)
    }

    /// One customer you may act for; `null` otherwise, exactly as for an unknown id.
    async fn customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer organisation.")] id: ID,
    ) -> async_graphql::Result<Option<Organization>> {
        policy::signed_in(ctx.principal())?;
        let Some(id) = ids::decode_as(NodeType::Organization, &id) else { return Ok(None) };
        let found = load::<organization::Entity>(ctx, id).await?;
        Ok(found.filter(|o| o.kind == crate::domain::OrganizationKind::Customer).map(Organization))
    }

    /// The audit trail of an organisation: for a customer, what was done on its account; for a
    /// partner, what it did; staff read everything. Newest last.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organisation whose trail to read (its ADMIN, or vendor staff).")] organization_id: ID,
        #[graphql(desc = "Only events matching this.")] filter: Option<AuditEventFilter>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<AuditEvent>> {
        let org = ids::decode_as(NodeType::Organization, &organization_id).ok_or(AppError::NotFound("Organization"))?;
        let mut select = crate::service::audit::trail(ctx.principal(), org, ctx.service().now())?;
        if let Some(filter) = filter {
            if let Some(action) = filter.action {
                select = select.filter(audit_event::Column::Action.eq(action));
            }
            if let Some(target) = filter.target_id {
                // An ID that does not decode names nothing, like an unknown one: no events.
                let id = ids::decode(&target).map_or(uuid::Uuid::nil(), |(_, id)| id);
                select = select.filter(audit_event::Column::TargetId.eq(id));
            }
        }
        Ok(paginate(
            &ctx.service().db,
            select,
            audit_event::Column::Id,
            |m| m.id,
            AuditEvent,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }
}

fn grant_id(id: &ID) -> Result<uuid::Uuid, AppError> {
    ids::decode_as(NodeType::Grant, id).ok_or(AppError::NotFound("Grant"))
}

fn org_id(id: &ID) -> Result<uuid::Uuid, AppError> {
    ids::decode_as(NodeType::Organization, id).ok_or(AppError::NotFound("Organization"))
}

fn request(
    rights: Option<Vec<GrantRight>>,
    duration_days: Option<i32>,
    message: Option<String>,
    auto_extend: Option<bool>,
    scope: Option<GrantScopeInput>,
) -> Result<Request, AppError> {
    Ok(grants::Asked {
        rights: rights.map(|r| from_list(&r)),
        duration_days,
        message,
        auto_extend,
        scope: scope_from(scope)?,
    }
    .into())
}

/// The input of `createCustomer`.
#[derive(InputObject)]
pub struct CreateCustomerInput {
    /// The company's name, 1 to 200 characters.
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// The company's e-mail domain; a customer with this domain already proven is refused.
    pub domain: Option<String>,
    /// The company's VAT number; a customer with this number already is refused.
    pub vat_number: Option<String>,
    /// The customer's first ADMIN, invited by e-mail.
    pub admin_email: String,
    /// Your access to the new customer; all four rights if absent.
    pub rights: Option<Vec<GrantRight>>,
    /// Days of access (default 365, at most 730).
    pub duration_days: Option<i32>,
    /// The whole account (a new customer has no subscriptions to name yet).
    pub scope: Option<GrantScopeInput>,
    /// A retry with the same key answers with the first call's customer, grant and invitation
    /// (with a new invitation token, the first being lost with the answer) instead of CONFLICT.
    pub idempotency_key: Option<String>,
}

/// What `createCustomer` returns.
#[derive(SimpleObject)]
pub struct CreateCustomerPayload {
    /// The Organization as `createCustomer` left it.
    pub customer: Organization,
    /// The Grant as `createCustomer` left it.
    pub grant: Grant,
    /// The Invitation as `createCustomer` left it.
    pub invitation: Invitation,
    /// The admin's invitation token: e-mailed to the admin; shown here only in development
    /// (null in production).
    pub invitation_token: Option<String>,
}

/// Name the customer by exactly one of `customerId`, `vatNumber` or `domain` (a domain the
/// customer has verified). Asked by VAT number or domain, the customer stays unnamed to you
/// (`Grant.customer` and `customerId` are null) until it approves.
#[derive(InputObject)]
pub struct RequestCustomerAccessInput {
    /// The customer, when you know its ID (give exactly one of customerId, vatNumber, domain).
    pub customer_id: Option<ID>,
    /// The customer's VAT number.
    pub vat_number: Option<String>,
    /// The customer's verified domain.
    pub domain: Option<String>,
    /// What you ask to do in the customer's account.
    pub rights: Vec<GrantRight>,
    /// The whole account if absent.
    pub scope: Option<GrantScopeInput>,
    /// Days of access once approved (default 365, at most 730).
    pub duration_days: Option<i32>,
    /// A note to the customer's ADMIN.
    pub message: Option<String>,
    /// Whether the grant extends itself at its end (default false).
    pub auto_extend: Option<bool>,
}

/// The input of `invitePartner`.
#[derive(InputObject)]
pub struct InvitePartnerInput {
    /// The partner you offer access to.
    pub partner_id: ID,
    /// What the partner may do in your account.
    pub rights: Vec<GrantRight>,
    /// The whole account if absent.
    pub scope: Option<GrantScopeInput>,
    /// Days of access once accepted (default 365, at most 730).
    pub duration_days: Option<i32>,
    /// A note to the partner.
    pub message: Option<String>,
    /// Whether the grant extends itself at its end (default false).
    pub auto_extend: Option<bool>,
}

/// Names one grant.
#[derive(InputObject)]
pub struct GrantIdInput {
    /// The grant's global ID.
    pub id: ID,
}

/// Names the domain whose TXT record is checked.
#[derive(InputObject)]
pub struct VerifyDomainInput {
    /// The domain's global ID, from `addDomain` or `Organization.domains`.
    pub id: ID,
}

/// The input of `approveGrant`.
#[derive(InputObject)]
pub struct ApproveGrantInput {
    /// The pending grant to approve (the side that was asked answers).
    pub id: ID,
    /// A subset of what was asked; all of it if absent.
    pub rights: Option<Vec<GrantRight>>,
    /// Earlier than the requested duration allows, if you want.
    pub expires_at: Option<DateTime<Utc>>,
    /// Narrower than requested, if you want.
    pub scope: Option<GrantScopeInput>,
}

/// The input of `updateGrant`.
#[derive(InputObject)]
pub struct UpdateGrantInput {
    /// The grant.
    pub id: ID,
    /// The rights the partner has from now on.
    pub rights: Option<Vec<GrantRight>>,
    /// A new scope.
    pub scope: Option<GrantScopeInput>,
    /// The access's new end.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it extends itself at its end.
    pub auto_extend: Option<bool>,
}

/// The input of `assignGrantMember`.
#[derive(InputObject)]
pub struct AssignGrantMemberInput {
    /// The grant whose rights the member gets.
    pub grant_id: ID,
    /// A member of your organisation.
    pub user_id: ID,
    /// A subset of the grant's rights; all of them if absent.
    pub rights: Option<Vec<GrantRight>>,
}

/// The input of `unassignGrantMember`.
#[derive(InputObject)]
pub struct UnassignGrantMemberInput {
    /// The grant.
    pub grant_id: ID,
    /// The member to take off it.
    pub user_id: ID,
}

/// What `acceptGrant`, `approveGrant`, `assignGrantMember`, `declineGrant`, `endGrant`,
/// `invitePartner`, `requestCustomerAccess`, `revokeGrant`, `unassignGrantMember` and `updateGrant`
/// returns (each).
#[derive(SimpleObject)]
pub struct GrantPayload {
    /// The Grant as `acceptGrant`, `approveGrant`, `assignGrantMember`, `declineGrant`, `endGrant`,
    /// `invitePartner`, `requestCustomerAccess`, `revokeGrant`, `unassignGrantMember` and
    /// `updateGrant` left it.
    pub grant: Grant,
}

/// The input of `addDomain`.
#[derive(InputObject)]
pub struct AddDomainInput {
    /// The organisation that claims the domain.
    pub organization_id: ID,
    /// The domain to prove, such as `example.com`; verified by a TXT record.
    pub domain: String,
}

/// What `addDomain` and `verifyDomain` returns (each).
#[derive(SimpleObject)]
pub struct DomainPayload {
    /// The Domain as `addDomain` and `verifyDomain` left it.
    pub domain: Domain,
}

#[derive(Default)]
pub struct CustomerMutation;

async fn change(
    ctx: &Context<'_>,
    id: &ID,
    transition: Transition,
    change: Change,
) -> async_graphql::Result<GrantPayload> {
    policy::signed_in(ctx.principal())?;
    let updated = grants::transition(ctx.service(), ctx.principal(), grant_id(id)?, transition, change).await?;
    Ok(GrantPayload { grant: Grant(updated) })
}

#[Object]
impl CustomerMutation {
    /// Creates a customer with you as its partner (an active grant for a year by default) and
    /// invites its first ADMIN. Refused with CONFLICT, naming the existing organisation, when a
    /// customer with the same VAT number or proven domain exists: ask it for access instead.
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateCustomerInput,
    ) -> async_graphql::Result<CreateCustomerPayload> {
        let created = customers::create(
            ctx.service(),
            ctx.principal(),
            customers::NewCustomer {
                name: input.name,
                country: input.country,
                domain: input.domain,
                vat_number: input.vat_number,
                admin_email: input.admin_email,
                access: request(input.rights, input.duration_days, None, None, input.scope)?,
                idempotency_key: input.idempotency_key,
            },
        )
        .await?;
        Ok(CreateCustomerPayload {
            customer: Organization(created.customer),
            grant: Grant(created.grant),
            invitation: Invitation(created.invitation),
            invitation_token: ctx.state().development.then_some(created.invitation_token),
        })
    }

    /// Asks a customer for access (partner ADMIN or SALES); its ADMIN approves or declines.
    async fn request_customer_access(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RequestCustomerAccessInput,
    ) -> async_graphql::Result<GrantPayload> {
        policy::signed_in(ctx.principal())?;
        let r = request(Some(input.rights), input.duration_days, input.message, input.auto_extend, input.scope)?;
        let customer = match (input.customer_id, input.vat_number, input.domain) {
            (Some(id), None, None) => grants::CustomerRef::Id(org_id(&id)?),
            (None, Some(vat), None) => {
                grants::CustomerRef::VatNumber(crate::service::field("vatNumber", validate::vat_number(&vat))?)
            }
            (None, None, Some(domain)) => {
                grants::CustomerRef::Domain(crate::service::field("domain", validate::domain(&domain))?)
            }
            _ => {
                return Err(AppError::bad_input(
                    "customerId",
                    "name the customer by one of customerId, vatNumber or domain",
                )
                .into());
            }
        };
        let created = grants::request_access(ctx.service(), ctx.principal(), customer, r).await?;
        Ok(GrantPayload { grant: Grant(created) })
    }

    /// Offers access to a partner (customer ADMIN); the partner's ADMIN accepts or declines.
    async fn invite_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: InvitePartnerInput,
    ) -> async_graphql::Result<GrantPayload> {
        policy::signed_in(ctx.principal())?;
        let r = request(Some(input.rights), input.duration_days, input.message, input.auto_extend, input.scope)?;
        let created = grants::invite_partner(ctx.service(), ctx.principal(), org_id(&input.partner_id)?, r).await?;
        Ok(GrantPayload { grant: Grant(created) })
    }

    /// The partner accepts the access a customer offered; it starts now.
    async fn accept_grant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: GrantIdInput,
    ) -> async_graphql::Result<GrantPayload> {
        change(ctx, &input.id, Transition::Accept, Change::default()).await
    }

    /// The customer's ADMIN approves a partner's request for access; it starts now.
    async fn approve_grant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ApproveGrantInput,
    ) -> async_graphql::Result<GrantPayload> {
        let c = Change {
            rights: input.rights.map(|r| from_list(&r)),
            ends_at: input.expires_at,
            auto_extend: None,
            scope: scope_from(input.scope)?,
        };
        change(ctx, &input.id, Transition::Approve, c).await
    }

    /// The side that was asked declines a request or offer.
    async fn decline_grant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: GrantIdInput,
    ) -> async_graphql::Result<GrantPayload> {
        change(ctx, &input.id, Transition::Decline, Change::default()).await
    }

    /// Changes a live grant's rights, end or auto-extension (customer ADMIN); on the next request.
    async fn update_grant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: UpdateGrantInput,
    ) -> async_graphql::Result<GrantPayload> {
        let c = Change {
            rights: input.rights.map(|r| from_list(&r)),
            ends_at: input.expires_at,
            auto_extend: input.auto_extend,
            scope: scope_from(input.scope)?,
        };
        change(ctx, &input.id, Transition::Update, c).await
    }

    /// The customer's ADMIN takes a partner's access back, at once.
    async fn revoke_grant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: GrantIdInput,
    ) -> async_graphql::Result<GrantPayload> {
        change(ctx, &input.id, Transition::Revoke, Change::default()).await
    }

    /// The partner gives up its access to a customer.
    async fn end_grant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: GrantIdInput,
    ) -> async_graphql::Result<GrantPayload> {
        change(ctx, &input.id, Transition::End, Change::default()).await
    }

    /// Lets one of your employees act for the customer, with a subset of the grant's rights.
    async fn assign_grant_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: AssignGrantMemberInput,
    ) -> async_graphql::Result<GrantPayload> {
        policy::signed_in(ctx.principal())?;
        let user = ids::decode_as(NodeType::User, &input.user_id).ok_or(AppError::NotFound("User"))?;
        let rights = input.rights.map(|r| from_list(&r));
        let g = grants::assign(ctx.service(), ctx.principal(), grant_id(&input.grant_id)?, user, rights).await?;
        Ok(GrantPayload { grant: Grant(g) })
    }

    /// Takes a partner member off a grant.
    async fn unassign_grant_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: UnassignGrantMemberInput,
    ) -> async_graphql::Result<GrantPayload> {
        policy::signed_in(ctx.principal())?;
        let user = ids::decode_as(NodeType::User, &input.user_id).ok_or(AppError::NotFound("User"))?;
        let g = grants::unassign(ctx.service(), ctx.principal(), grant_id(&input.grant_id)?, user).await?;
        Ok(GrantPayload { grant: Grant(g) })
    }

    /// Claims a domain for an organisation; publish its `verificationRecord`, then verify.
    async fn add_domain(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: AddDomainInput,
    ) -> async_graphql::Result<DomainPayload> {
        policy::signed_in(ctx.principal())?;
        let created =
            domains::add(ctx.service(), ctx.principal(), org_id(&input.organization_id)?, &input.domain).await?;
        Ok(DomainPayload { domain: Domain(created) })
    }

    /// Looks the TXT record up now and marks the domain verified when it is there.
    async fn verify_domain(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: VerifyDomainInput,
    ) -> async_graphql::Result<DomainPayload> {
        policy::signed_in(ctx.principal())?;
        let id = ids::decode_as(NodeType::Domain, &input.id).ok_or(AppError::NotFound("Domain"))?;
        let resolver = ctx.state().dns_resolver;
        let verified = domains::verify(ctx.service(), resolver, ctx.principal(), id).await?;
        Ok(DomainPayload { domain: Domain(verified) })
    }
}
