//! DataLoaders, one per relation, created per request and scoped by the policy, so a relation
//! costs one `IN (...)` query per request level and never shows what the caller may not see.
// Each loader reads under the policy's scope of its entity (`Scoped`, `Child`).
#![allow(clippy::disallowed_methods)]

use std::{collections::HashMap, marker::PhantomData, sync::Arc, time::Duration};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{
    api_token, application, audit_event, commission_rule, course, deal, deal_event, deal_product, delivery,
    delivery_attempt, domain, exam_result, grant, grant_assignment, invitation, invoice, invoice_line, ledger_entry,
    ledger_entry_state, membership, notification, organization, partner_of_record_claim, partnership, payment,
    payout_batch, plan, product, program, program_terms, questionnaire, questionnaire_answer, rebate_claim,
    rebate_claim_line, rebate_rate, referral_attribution, referral_code, stored_file, subscription,
    subscription_change, subscription_change_request, success_story, tender, tender_response, tier, tier_change,
    tier_proposal, user, volume_band, webhook_endpoint, welcome_gift,
};
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{auth::Principal, error::AppError, policy, service};

/// An entity that can be loaded by id under the policy's scope.
pub trait Scoped: EntityTrait {
    fn scope(principal: Option<&Principal>, ctx: &service::Ctx) -> Condition;
    fn id_column() -> Self::Column;
    fn id_of(model: &Self::Model) -> Uuid;
}

macro_rules! scoped {
    ($module:ident, $scope:expr) => {
        impl Scoped for $module::Entity {
            fn scope(principal: Option<&Principal>, ctx: &service::Ctx) -> Condition {
                #[allow(clippy::redundant_closure_call)]
                ($scope)(principal, ctx)
            }
            fn id_column() -> Self::Column {
                $module::Column::Id
            }
            fn id_of(model: &Self::Model) -> Uuid {
                model.id
            }
        }
    };
}

scoped!(organization, |p, c: &service::Ctx| policy::organizations_scope(p, c.now()));
scoped!(user, |p, c: &service::Ctx| policy::users_scope(p, c.now()));
scoped!(membership, |p, c: &service::Ctx| policy::memberships_scope(p, c.now()));
scoped!(api_token, |p, _| policy::api_tokens_scope(p));
scoped!(program, |p, _| policy::programs_scope(p));
scoped!(tier, |p, _| policy::programs_scope(p));
scoped!(invitation, |p, c: &service::Ctx| policy::invitations_scope(p, c.now()));
scoped!(grant, |p, _| policy::grants_scope(p));
scoped!(tender, |p, c: &service::Ctx| policy::tenders_scope(p, c.now()));
scoped!(tender_response, |p, _| policy::tender_responses_scope(p));
scoped!(product, |p, _| policy::programs_scope(p));
scoped!(course, |p, _| policy::programs_scope(p));
scoped!(subscription, |p, c: &service::Ctx| policy::subscriptions_scope(p, c.now()));
scoped!(plan, |p, _| policy::catalog_scope(p));
scoped!(invoice, |p, c: &service::Ctx| policy::invoices_scope(p, c.now()));
scoped!(partnership, |p, _| policy::programs_scope(p));
scoped!(subscription_change_request, |p, c: &service::Ctx| policy::subscription_change_requests_scope(p, c.now()));
scoped!(notification, |p: Option<&Principal>, _| p
    .map_or_else(|| Condition::all().add(sea_orm::sea_query::Expr::val(false)), policy::notifications_scope));
scoped!(success_story, |p, _| policy::success_stories_scope(p));
scoped!(application, |p, _| policy::applications_scope(p));
scoped!(welcome_gift, |p, _| policy::welcome_gifts_scope(p));
scoped!(domain, |p, c: &service::Ctx| policy::domains_scope(p, c.now()));
scoped!(audit_event, |p, c: &service::Ctx| policy::audit_events_scope(p, c.now()));
scoped!(exam_result, |p, _| policy::exam_results_scope(p));
scoped!(tier_change, |p, _| policy::tier_changes_scope(p));
scoped!(grant_assignment, |p, _| policy::grant_assignments_scope(p));
scoped!(subscription_change, |p, c: &service::Ctx| policy::subscription_changes_scope(p, c.now()));
scoped!(program_terms, |p, _| policy::programs_scope(p));
scoped!(tier_proposal, |p, _| policy::tier_proposals_scope(p));
scoped!(questionnaire, |p, _| policy::programs_scope(p));
scoped!(questionnaire_answer, |p, _| policy::questionnaire_answers_scope(p));
scoped!(deal, |p, _| policy::deals_scope(p));
scoped!(ledger_entry, |p, _| policy::ledger_scope(p, (ledger_entry::Entity, ledger_entry::Column::PartnerId)));
scoped!(partner_of_record_claim, |p, _| policy::record_claims_scope(p));
scoped!(payout_batch, |p, _| policy::payout_batches_scope(p));
scoped!(commission_rule, |p, _| policy::programs_scope(p));
scoped!(rebate_rate, |p, _| policy::programs_scope(p));
scoped!(rebate_claim, |p, _| policy::rebate_claims_scope(p));
scoped!(stored_file, |p, _| policy::stored_files_scope(p));
scoped!(webhook_endpoint, |p, _| policy::webhook_endpoints_scope(p));
scoped!(delivery, |p, _| policy::deliveries_scope(p));
scoped!(referral_code, |p, _| policy::ledger_scope(p, (referral_code::Entity, referral_code::Column::PartnerId)));
scoped!(referral_attribution, |p, _| policy::ledger_scope(
    p,
    (referral_attribution::Entity, referral_attribution::Column::PartnerId)
));

pub struct ById<E> {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Loader<Uuid> for ById<E>
where
    E: Scoped,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = E::find()
            .filter(E::id_column().is_in(keys.iter().copied()))
            .filter(E::scope(self.principal.as_deref(), &self.ctx))
            .all(&self.ctx.db)
            .await?;
        Ok(rows.into_iter().map(|m| (E::id_of(&m), m)).collect())
    }
}

/// Cached for the request only: an object met twice in one answer is read once, and the next
/// request reads it again (a revoked grant or changed role applies at once). `delay` is the
/// setting `PARTNERHUB_DATALOADER_DELAY_US`.
fn cached<K: Send + Sync + std::hash::Hash + Eq + Clone + 'static, L: Loader<K>>(
    loader: L,
    delay: Duration,
) -> DataLoader<L, HashMapCache> {
    // A batch runs in a task of its own; it counts its statements for the request that asked.
    DataLoader::with_cache(loader, crate::metrics::spawn_counted, HashMapCache::default()).delay(delay)
}

macro_rules! loaders {
    (
        by_id { $($id_field:ident: $id_entity:ident),* $(,)? }
        children { $($child_field:ident: $child_entity:ident),* $(,)? }
        others { $($other_field:ident: $other:ident),* $(,)? }
        pages { $($page_field:ident: $page_entity:ident),* $(,)? }
    ) => {
        /// Every DataLoader of a request, by name: a relation without its loader does not compile.
        pub struct Loaders {
            $(pub $id_field: DataLoader<ById<$id_entity::Entity>, HashMapCache>,)*
            $(pub $child_field: DataLoader<Children<$child_entity::Entity>, HashMapCache>,)*
            $(pub $other_field: DataLoader<$other, HashMapCache>,)*
            $(pub $page_field: DataLoader<FirstPages<$page_entity::Entity>, HashMapCache>,)*
        }

        impl Loaders {
            /// Forgets what was read: a live stream reads each event's objects afresh.
            pub fn clear_all(&self) {
                $(self.$id_field.clear::<Uuid>();)*
                $(self.$child_field.clear::<Uuid>();)*
                $(self.$other_field.clear::<Uuid>();)*
                $(self.$page_field.clear::<(Uuid, u64)>();)*
            }

            pub fn new(ctx: &service::Ctx, principal: &Option<Arc<Principal>>, delay: Duration) -> Loaders {
                Loaders {
                    $($id_field: cached(ById { ctx: ctx.clone(), principal: principal.clone(), _entity: PhantomData }, delay),)*
                    $($child_field: cached(Children { ctx: ctx.clone(), principal: principal.clone(), _entity: PhantomData }, delay),)*
                    $($other_field: cached($other { ctx: ctx.clone(), principal: principal.clone() }, delay),)*
                    $($page_field: cached(FirstPages { ctx: ctx.clone(), principal: principal.clone(), _entity: PhantomData }, delay),)*
                }
            }
        }

        $(impl ByIdIn for $id_entity::Entity {
            fn loader(loaders: &Loaders) -> &DataLoader<ById<Self>, HashMapCache> {
                &loaders.$id_field
            }
        })*

        $(impl ChildrenIn for $child_entity::Entity {
            fn loader(loaders: &Loaders) -> &DataLoader<Children<Self>, HashMapCache> {
                &loaders.$child_field
            }
        })*

        $(impl In for $other {
            fn loader(loaders: &Loaders) -> &DataLoader<Self, HashMapCache> {
                &loaders.$other_field
            }
        })*

        $(impl PagesIn for $page_entity::Entity {
            fn loader(loaders: &Loaders) -> &DataLoader<FirstPages<Self>, HashMapCache> {
                &loaders.$page_field
            }
        })*
    };
}

loaders! {
    by_id {
        organizations: organization,
        users: user,
        memberships: membership,
        api_tokens: api_token,
        programs: program,
        tiers: tier,
        invitations: invitation,
        grants: grant,
        products: product,
        courses: course,
        subscriptions: subscription,
        plans: plan,
        invoices: invoice,
        partnerships: partnership,
        change_requests: subscription_change_request,
        notifications: notification,
        stories: success_story,
        applications: application,
        gifts: welcome_gift,
        domains_by_id: domain,
        audit_events: audit_event,
        exam_results: exam_result,
        tier_changes: tier_change,
        grant_assignments: grant_assignment,
        subscription_changes: subscription_change,
        terms_by_id: program_terms,
        tier_proposals: tier_proposal,
        questionnaires: questionnaire,
        questionnaire_answers: questionnaire_answer,
        deals: deal,
        ledger_entries: ledger_entry,
        record_claims: partner_of_record_claim,
        payout_batches: payout_batch,
        commission_rules: commission_rule,
        rebate_rates: rebate_rate,
        rebate_claims: rebate_claim,
        stored_files: stored_file,
        referral_codes: referral_code,
        referral_attributions: referral_attribution,
        webhook_endpoints: webhook_endpoint,
        deliveries: delivery,
        tenders: tender,
        tender_responses: tender_response,
    }
    children {
        domains: domain,
        partnerships_of: partnership,
        terms: program_terms,
        plans_of: plan,
        bands: volume_band,
        lines: invoice_line,
        payments: payment,
        gift_of: welcome_gift,
        questionnaire_versions: questionnaire,
        answers_of: questionnaire_answer,
        entry_states: ledger_entry_state,
        claim_lines: rebate_claim_line,
        delivery_attempts: delivery_attempt,
    }
    others {
        tender_standings: TenderStandings,
        viewer_rights: ViewerRights,
        names: Names,
        viewer_grant: ViewerGrant,
        customer_subscriptions: CustomerSubscriptions,
        super_admin: SuperAdmin,
        paid: Paid,
        evaluations: Evaluations,
        directory_extras: DirectoryExtras,
        managed_amounts: ManagedAmounts,
        deal_products: DealProducts,
        deal_history: DealHistory,
        deal_conflicts: DealConflicts,
        payout_statements: PayoutStatements,
        partner_standing: PartnerStanding,
        rebate_summaries: RebateSummaries,
    }
    pages {
        subscription_pages: subscription,
        tender_response_pages: tender_response,
    }
}

/// The loader of `E` by id in a request's `Loaders`.
pub trait ByIdIn: Scoped + Sized {
    fn loader(loaders: &Loaders) -> &DataLoader<ById<Self>, HashMapCache>;
}

/// The loader of `E` under its parent in a request's `Loaders`.
pub trait ChildrenIn: Child + Sized {
    fn loader(loaders: &Loaders) -> &DataLoader<Children<Self>, HashMapCache>;
}

/// The first-pages loader of `E` in a request's `Loaders`.
pub trait PagesIn: Nested + Sized {
    fn loader(loaders: &Loaders) -> &DataLoader<FirstPages<Self>, HashMapCache>;
}

/// A loader of its own kind in a request's `Loaders`.
pub trait In: Loader<Uuid> + Sized {
    fn loader(loaders: &Loaders) -> &DataLoader<Self, HashMapCache>;
}

/// The request's loaders (the HTTP layer always puts them in).
pub fn of<'a>(ctx: &'a async_graphql::Context<'_>) -> async_graphql::Result<&'a Loaders> {
    // A live connection shares its loaders with its streams, which clear them per event.
    ctx.data::<Loaders>()
        .or_else(|_| ctx.data::<Arc<Loaders>>().map(|l| l.as_ref()))
        .map_err(|_| AppError::internal("a request without its loaders").into())
}

/// Loads one row through the request's loader for `E`.
pub async fn load<E>(ctx: &async_graphql::Context<'_>, id: Uuid) -> async_graphql::Result<Option<E::Model>>
where
    E: ByIdIn,
    E::Model: Clone + Send + Sync + 'static,
{
    Ok(E::loader(of(ctx)?).load_one(id).await?)
}

/// Puts rows read elsewhere in this request into `E`'s loader, so fields that load them by id
/// need no statement. The rows must have been read under `E`'s scope (`Scoped::scope`).
pub async fn feed_rows<E>(ctx: &async_graphql::Context<'_>, rows: Vec<E::Model>) -> async_graphql::Result<()>
where
    E: ByIdIn,
    E::Model: Clone + Send + Sync + 'static,
{
    E::loader(of(ctx)?).feed_many(rows.into_iter().map(|m| (E::id_of(&m), m))).await;
    Ok(())
}

/// Per customer, what the requesting partner user may do there now (one query per batch).
pub struct ViewerRights {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for ViewerRights {
    type Value = crate::domain::Rights;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut rights =
            service::grants::viewer_rights(&self.ctx.db, self.principal.as_deref(), keys, self.ctx.now()).await?;
        // Every key answered (none are rights too), so a page that primed the cache is not
        // asked again for the customers it holds no live grant on.
        for key in keys {
            rights.entry(*key).or_default();
        }
        Ok(rights)
    }
}

/// An entity listed under a parent (a plan under its product, a line under its invoice): the
/// rows of many parents in one `IN (...)` query per batch, in a fixed order.
pub trait Child: EntityTrait {
    fn parent_column() -> Self::Column;
    fn parent_of(model: &Self::Model) -> Uuid;
    fn order() -> (Self::Column, Order);
    /// The policy's scope, when the parent's own does not already cover the children.
    fn scope(_principal: Option<&Principal>) -> Condition {
        Condition::all()
    }
}

macro_rules! child {
    ($module:ident, $parent:ident . $field:ident, $order:ident, $direction:expr) => {
        child!($module, $parent.$field, $order, $direction, |_| Condition::all());
    };
    ($module:ident, $parent:ident . $field:ident, $order:ident, $direction:expr, $scope:expr) => {
        impl Child for $module::Entity {
            fn parent_column() -> Self::Column {
                $module::Column::$parent
            }
            fn parent_of(model: &Self::Model) -> Uuid {
                model.$field
            }
            fn order() -> (Self::Column, Order) {
                ($module::Column::$order, $direction)
            }
            fn scope(principal: Option<&Principal>) -> Condition {
                #[allow(clippy::redundant_closure_call)]
                ($scope)(principal)
            }
        }
    };
}

// Domains and partnerships: the first one is the organisation's primary.
child!(domain, OrganizationId.organization_id, Id, Order::Asc);
child!(partnership, OrganizationId.organization_id, Id, Order::Asc);
// The newest terms version is the current one.
child!(program_terms, ProgramId.program_id, Version, Order::Desc);
// Prices are for everyone signed in.
child!(plan, ProductId.product_id, Rank, Order::Asc, policy::catalog_scope);
child!(volume_band, PlanId.plan_id, MinSeats, Order::Asc);
// An invoice's lines and payments: the invoice was already scoped by the policy.
child!(invoice_line, InvoiceId.invoice_id, Position, Order::Asc);
// A claim's lines: the claim was already scoped by the policy.
child!(rebate_claim_line, ClaimId.claim_id, Position, Order::Asc);
child!(payment, InvoiceId.invoice_id, Id, Order::Asc);
// Attempts are read only under a delivery already read under its scope.
child!(delivery_attempt, DeliveryId.delivery_id, Id, Order::Asc);
// A partnership's welcome gift (one at most), for staff and the partner's members.
child!(welcome_gift, PartnershipId.partnership_id, Id, Order::Asc, policy::welcome_gifts_scope);
// The newest questionnaire version is the current one (public, like the programme).
child!(questionnaire, ProgramId.program_id, Version, Order::Desc);
// A partnership's questionnaire answers (one at most), for staff and the partner's members.
child!(questionnaire_answer, PartnershipId.partnership_id, Id, Order::Asc, policy::questionnaire_answers_scope);
// A ledger entry's states, oldest first (the last is current): the entry was already scoped.
child!(ledger_entry_state, EntryId.entry_id, Seq, Order::Asc);

pub struct Children<E> {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Loader<Uuid> for Children<E>
where
    E: Child,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = Vec<E::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let (column, direction) = E::order();
        let rows = E::find()
            .filter(E::parent_column().is_in(keys.iter().copied()))
            .filter(E::scope(self.principal.as_deref()))
            .order_by(column, direction)
            .all(&self.ctx.db)
            .await?;
        let mut out: HashMap<Uuid, Self::Value> = HashMap::new();
        for row in rows {
            out.entry(E::parent_of(&row)).or_default().push(row);
        }
        Ok(out)
    }
}

/// Several rows through the request's loader for `E`, in the order asked (one batch).
pub async fn load_many<E>(ctx: &async_graphql::Context<'_>, ids: &[Uuid]) -> async_graphql::Result<Vec<E::Model>>
where
    E: ByIdIn,
    E::Model: Clone + Send + Sync + 'static,
{
    let mut found = E::loader(of(ctx)?).load_many(ids.iter().copied()).await?;
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// The children of one parent, in their order, through the request's loader.
pub async fn children<E>(ctx: &async_graphql::Context<'_>, parent: Uuid) -> async_graphql::Result<Vec<E::Model>>
where
    E: ChildrenIn,
    E::Model: Clone + Send + Sync + 'static,
{
    Ok(E::loader(of(ctx)?).load_one(parent).await?.unwrap_or_default())
}

/// The first child of one parent (a primary domain, a current terms version).
pub async fn first_child<E>(ctx: &async_graphql::Context<'_>, parent: Uuid) -> async_graphql::Result<Option<E::Model>>
where
    E: ChildrenIn,
    E::Model: Clone + Send + Sync + 'static,
{
    Ok(children::<E>(ctx, parent).await?.into_iter().next())
}

/// Names of whoever appears in an audit trail. Names only: someone who acted on your account
/// is named to you even when you cannot otherwise see their user or organisation.
pub struct Names {
    ctx: service::Ctx,
    #[allow(dead_code)]
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for Names {
    type Value = String;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let users = user::Entity::find().filter(user::Column::Id.is_in(keys.iter().copied())).all(&self.ctx.db).await?;
        let orgs = organization::Entity::find()
            .filter(organization::Column::Id.is_in(keys.iter().copied()))
            .all(&self.ctx.db)
            .await?;
        Ok(users.into_iter().map(|u| (u.id, u.display_name)).chain(orgs.into_iter().map(|o| (o.id, o.name))).collect())
    }
}

/// Loads the values of many keys with the request's loader `L` in one statement and puts them in
/// its cache, so that the items of a page find theirs there: a page primes what its items will
/// ask for. Straight, not through the batching: that waits the DataLoader delay on a timer thread
/// (a millisecond or more, whatever the setting), and a batch split when the items were slower
/// than the delay to reach it.
pub async fn prime<L: In + Loader<Uuid, Error = AppError>>(
    ctx: &async_graphql::Context<'_>,
    keys: &[Uuid],
) -> async_graphql::Result<()> {
    let loader = L::loader(of(ctx)?);
    let values = loader.loader().load(keys).await?;
    loader.feed_many(values).await;
    Ok(())
}

/// Puts values read beside a page into the request's loader `L`, as if it had loaded them.
pub async fn feed<L: In + Loader<Uuid, Error = AppError>>(
    ctx: &async_graphql::Context<'_>,
    values: HashMap<Uuid, L::Value>,
) -> async_graphql::Result<()> {
    L::loader(of(ctx)?).feed_many(values).await;
    Ok(())
}

/// Loads one value through the request's loader `L`.
pub async fn load_with<L: In + Loader<Uuid, Error = AppError>>(
    ctx: &async_graphql::Context<'_>,
    key: Uuid,
) -> async_graphql::Result<Option<L::Value>> {
    Ok(L::loader(of(ctx)?).load_one(key).await?)
}

pub use service::subscriptions::Summary as SubscriptionSummary;

/// Per customer, the summary of the active subscriptions the requester may see (one statement
/// per batch: `service::subscriptions::summaries`).
pub struct CustomerSubscriptions {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for CustomerSubscriptions {
    type Value = SubscriptionSummary;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        service::subscriptions::summaries(&self.ctx, self.principal.as_deref(), keys).await
    }
}

/// A partner's balances, holds and programmes, once per request however many money fields ask
/// (`partnerBalances` and `partnerEarnings` both read them). The caller checked
/// `policy::reads_ledger_of`; the statements are scoped again by the ledger's policy.
pub struct PartnerStanding {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for PartnerStanding {
    type Value = service::ledger::Standing;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        for key in keys {
            out.insert(*key, service::ledger::standing(&self.ctx.db, self.principal.as_deref(), *key).await?);
        }
        Ok(out)
    }
}

/// Per partner, its rebate figures for the dashboard (three statements per batch); absent for
/// a partner whose ledger the caller does not read.
pub struct RebateSummaries {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for RebateSummaries {
    type Value = service::rebate_claims::Summary;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        service::rebate_claims::summaries(&self.ctx.db, self.principal.as_deref(), keys, self.ctx.now()).await
    }
}

/// Each organisation's first ADMIN: its super-admin, as a customer list shows it. The caller
/// already sees the organisation through the policy's scope.
pub struct SuperAdmin {
    ctx: service::Ctx,
    #[allow(dead_code)]
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for SuperAdmin {
    type Value = user::Model;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        use sea_orm::QueryOrder;
        let rows = membership::Entity::find()
            .filter(membership::Column::OrganizationId.is_in(keys.iter().copied()))
            .filter(membership::Column::Role.eq(crate::domain::Role::Admin))
            .order_by_asc(membership::Column::Id)
            .find_also_related(user::Entity)
            .all(&self.ctx.db)
            .await?;
        let mut out = HashMap::new();
        for (m, u) in rows {
            if let Some(u) = u.filter(|u| u.kind == crate::domain::UserKind::Person) {
                out.entry(m.organization_id).or_insert(u);
            }
        }
        Ok(out)
    }
}

/// What has been paid on each invoice (one summing query per batch; the invoice itself was
/// already read through the policy's scope).
pub struct Paid {
    ctx: service::Ctx,
    #[allow(dead_code)]
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for Paid {
    type Value = rust_decimal::Decimal;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        service::billing::paid(&self.ctx.db, keys).await
    }
}

/// Each partnership's tier evaluation, for staff and the partner's members (five queries per
/// batch, whatever the number of partnerships: `service::programs::evaluate_many`).
pub struct Evaluations {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for Evaluations {
    type Value = crate::domain::tiers::Evaluation;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let partnerships: Vec<partnership::Model> = partnership::Entity::find()
            .filter(partnership::Column::Id.is_in(keys.iter().copied()))
            .all(&self.ctx.db)
            .await?
            .into_iter()
            .filter(|p| policy::sees_partner_internals(self.principal.as_deref(), p.organization_id))
            .collect();
        service::programs::evaluate_many(&self.ctx.db, &partnerships, self.ctx.now()).await
    }
}

/// What the directory shows beside each listed profile: its tier badge, certified people and
/// published stories (three statements per batch). Public: the caller read the profile through
/// the directory's listing.
pub struct DirectoryExtras {
    ctx: service::Ctx,
    #[allow(dead_code)]
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for DirectoryExtras {
    type Value = service::directory::Extras;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        service::directory::extras(&self.ctx.db, keys, self.ctx.now()).await
    }
}

/// The acting partner's interest in and response to each tender (two statements per batch).
pub struct TenderStandings {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for TenderStandings {
    type Value = service::tenders::Standing;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut found = service::tenders::standing(&self.ctx.db, self.principal.as_deref(), keys).await?;
        // Every key answered, so a tender the partner has no standing on is not asked again.
        for key in keys {
            found.entry(*key).or_default();
        }
        Ok(found)
    }
}

/// What each partner manages per year at list price, per currency (three queries per batch).
pub struct ManagedAmounts {
    ctx: service::Ctx,
    #[allow(dead_code)]
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for ManagedAmounts {
    type Value = HashMap<String, rust_decimal::Decimal>;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        service::billing::managed_yearly_amounts(&self.ctx.db, keys).await
    }
}

/// Per customer, the live grant the acting partner holds on it (one query per batch).
pub struct ViewerGrant {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for ViewerGrant {
    type Value = grant::Model;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows =
            service::grants::live_for_viewer(&self.ctx.db, self.principal.as_deref(), keys, self.ctx.now()).await?;
        Ok(rows.into_iter().map(|g| (g.customer_id, g)).collect())
    }
}

/// A child list paged under its parent (a customer's subscriptions) whose first pages, for every
/// parent on a page of parents, load in one statement.
pub trait Nested: EntityTrait {
    fn parent_column() -> Self::Column;
    fn key_column() -> Self::Column;
    fn parent_of(model: &Self::Model) -> Uuid;
    /// What the principal may see under these parents.
    fn visible_under(principal: Option<&Principal>, ctx: &service::Ctx, parents: &[Uuid]) -> sea_orm::Select<Self>;
}

impl Nested for subscription::Entity {
    fn parent_column() -> Self::Column {
        subscription::Column::CustomerId
    }
    fn key_column() -> Self::Column {
        subscription::Column::Id
    }
    fn parent_of(model: &Self::Model) -> Uuid {
        model.customer_id
    }
    fn visible_under(principal: Option<&Principal>, ctx: &service::Ctx, parents: &[Uuid]) -> sea_orm::Select<Self> {
        service::subscriptions::visible(principal, ctx.now())
            .filter(subscription::Column::CustomerId.is_in(parents.iter().copied()))
    }
}

impl Nested for tender_response::Entity {
    fn parent_column() -> Self::Column {
        tender_response::Column::TenderId
    }
    fn key_column() -> Self::Column {
        tender_response::Column::Id
    }
    fn parent_of(model: &Self::Model) -> Uuid {
        model.tender_id
    }
    fn visible_under(principal: Option<&Principal>, _: &service::Ctx, parents: &[Uuid]) -> sea_orm::Select<Self> {
        service::tenders::visible_responses(principal)
            .filter(tender_response::Column::TenderId.is_in(parents.iter().copied()))
    }
}

/// Keyed by (parent, page size): up to size + 1 rows of each parent in key order (the one more
/// tells whether there is a next page). One statement per page size, ranking each parent's rows
/// with `ROW_NUMBER() OVER (PARTITION BY parent ORDER BY key)`, on both databases.
pub struct FirstPages<E> {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Loader<(Uuid, u64)> for FirstPages<E>
where
    E: Nested,
    E::Model: sea_orm::FromQueryResult + Clone + Send + Sync + 'static,
{
    type Value = Vec<E::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[(Uuid, u64)]) -> Result<HashMap<(Uuid, u64), Self::Value>, Self::Error> {
        use sea_orm::{
            IdenStatic, QueryTrait,
            sea_query::{Alias, Asterisk, Expr, ExprTrait, Query},
        };
        let mut by_size: std::collections::BTreeMap<u64, Vec<Uuid>> = Default::default();
        for (parent, size) in keys {
            by_size.entry(*size).or_default().push(*parent);
        }
        let table = E::default().table_name().to_string();
        let (parent, key) = (E::parent_column().as_str().to_string(), E::key_column().as_str().to_string());
        let mut out: HashMap<(Uuid, u64), Self::Value> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for (size, parents) in by_size {
            let mut ranked = E::visible_under(self.principal.as_deref(), &self.ctx, &parents).into_query();
            ranked.expr_as(
                Expr::cust(format!(
                    "ROW_NUMBER() OVER (PARTITION BY \"{table}\".\"{parent}\" ORDER BY \"{table}\".\"{key}\")"
                )),
                Alias::new("page_rank"),
            );
            let page = Query::select()
                .column(Asterisk)
                .from_subquery(ranked, Alias::new("ranked"))
                .and_where(Expr::col(Alias::new("page_rank")).lte(size as i64 + 1))
                .order_by(Alias::new(key.as_str()), Order::Asc)
                .to_owned();
            let statement = self.ctx.db.get_database_backend().build(&page);
            for row in E::find().from_raw_sql(statement).all(&self.ctx.db).await? {
                if let Some(rows) = out.get_mut(&(E::parent_of(&row), size)) {
                    rows.push(row);
                }
            }
        }
        Ok(out)
    }
}

/// The first `size` rows (and one more) of `E` under `parent`, batched with the other parents.
pub async fn first_page<E>(
    ctx: &async_graphql::Context<'_>,
    parent: Uuid,
    size: u64,
) -> async_graphql::Result<Vec<E::Model>>
where
    E: PagesIn,
    E::Model: sea_orm::FromQueryResult + Clone + Send + Sync + 'static,
{
    Ok(E::loader(of(ctx)?).load_one((parent, size)).await?.unwrap_or_default())
}

/// Per deal, its products (one statement per batch, under the deals' scope).
pub struct DealProducts {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for DealProducts {
    type Value = Vec<deal_product::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        service::deals::products_of(&self.ctx.db, self.principal.as_deref(), keys).await
    }
}

/// Per deal, its history, oldest first (one statement per batch).
pub struct DealHistory {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for DealHistory {
    type Value = Vec<deal_event::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        service::deals::history_of(&self.ctx.db, self.principal.as_deref(), keys).await
    }
}

/// Per deal, its rivals (staff only; six statements per batch).
pub struct DealConflicts {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for DealConflicts {
    type Value = Vec<deal::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        service::deals::conflicts_of(&self.ctx, self.principal.as_deref(), keys).await
    }
}

/// Per payout batch, the statements the caller reads (staff all, a partner its own), one
/// statement per batch of batches.
pub struct PayoutStatements {
    ctx: service::Ctx,
    principal: Option<Arc<Principal>>,
}

impl Loader<Uuid> for PayoutStatements {
    type Value = Vec<entity::payout_statement::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = service::ledger::payouts::statements(&self.ctx.db, self.principal.as_deref(), keys).await?;
        let mut out: HashMap<Uuid, Self::Value> = HashMap::new();
        for row in rows {
            out.entry(row.batch_id).or_default().push(row);
        }
        Ok(out)
    }
}
