//! Grants: the partner–customer relationship, its life from request to end, employee
//! assignments, and what a partner user may do on a customer right now.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{grant, grant_assignment, grant_scope_item, membership, organization, subscription};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, Select,
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field};
use crate::{
    db,
    domain::notifications::NotificationKind,
    domain::{
        OrganizationKind, Rights,
        grants::{self as rules, GrantScope, GrantSide, GrantStatus},
    },
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
};

pub fn visible(principal: Option<&Principal>) -> Select<grant::Entity> {
    grant::Entity::find().filter(policy::grants_scope(principal))
}

fn snapshot(g: &grant::Model) -> serde_json::Value {
    json!({
        "status": g.status, "rights": Rights::from_bits(g.rights).names(), "scope": g.scope,
        "startsAt": g.starts_at, "endsAt": g.ends_at, "autoExtend": g.auto_extend,
    })
}

/// Whether the grant is live right now (`domain::grants::is_live`).
pub fn is_live(g: &grant::Model, now: DateTime<Utc>) -> bool {
    rules::is_live(g.status, g.ends_at, now)
}

/// Records the change in the audit trail, with the customer it concerns.
async fn audited(
    txn: &DatabaseTransaction,
    principal: Option<&Principal>,
    action: &'static str,
    before: Option<&grant::Model>,
    after: &grant::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let event = audit::Event {
        action,
        target_type: "Grant",
        target_id: Some(after.id),
        customer_id: Some(after.customer_id),
        before: before.map(snapshot),
        after: Some(snapshot(after)),
    };
    audit::record(txn, principal, event, now).await?;
    notify(txn, action, after, now).await
}

/// Tells the other side about a grant decision, through the outbox, in the same transaction.
pub(crate) async fn notify(
    txn: &impl ConnectionTrait,
    action: &str,
    g: &grant::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let asked_by_partner = g.requested_by == GrantSide::Partner;
    let requester = if asked_by_partner { g.partner_id } else { g.customer_id };
    use NotificationKind as K;
    let recipients: &[(NotificationKind, Uuid)] = match action {
        "grant.requested" if asked_by_partner => &[(K::GrantRequested, g.customer_id)],
        "grant.requested" => &[(K::GrantOffered, g.partner_id)],
        "grant.approved" => &[(K::GrantApproved, g.partner_id)],
        "grant.accepted" => &[(K::GrantAccepted, g.customer_id)],
        "grant.declined" => &[(K::GrantDeclined, requester)],
        "grant.updated" => &[(K::GrantChanged, g.partner_id)],
        "grant.revoked" => &[(K::GrantRevoked, g.partner_id)],
        "grant.ended" => &[(K::GrantEnded, g.customer_id)],
        "grant.expired" => &[(K::GrantExpired, g.partner_id), (K::GrantExpired, g.customer_id)],
        "grant.extended" => &[(K::GrantExtended, g.partner_id), (K::GrantExtended, g.customer_id)],
        "grant.expiring" => &[(K::GrantExpiring, g.partner_id), (K::GrantExpiring, g.customer_id)],
        _ => &[],
    };
    for (kind, organization_id) in recipients {
        // A customer asked by VAT number or domain stays unnamed to the partner until it approves.
        let hide = g.customer_hidden && *organization_id == g.partner_id;
        let payload = json!({
            "grantId": crate::ids::encode(crate::ids::NodeType::Grant, g.id),
            "partnerId": crate::ids::encode(crate::ids::NodeType::Organization, g.partner_id),
            "customerId": (!hide).then(|| crate::ids::encode(crate::ids::NodeType::Organization, g.customer_id)),
            "status": g.status,
            "rights": Rights::from_bits(g.rights).names(),
            "endsAt": g.ends_at,
        });
        super::notifications::enqueue(txn, *kind, *organization_id, None, payload, now).await?;
    }
    Ok(())
}

/// What a grant covers: the whole account, or only some of the customer's subscriptions.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    Account,
    Subscriptions(Vec<Uuid>),
}

impl Scope {
    fn kind(&self) -> GrantScope {
        match self {
            Scope::Account => GrantScope::Account,
            Scope::Subscriptions(_) => GrantScope::Subscriptions,
        }
    }

    /// Whether this scope covers the subscription.
    pub fn covers(&self, subscription_id: Uuid) -> bool {
        match self {
            Scope::Account => true,
            Scope::Subscriptions(ids) => ids.contains(&subscription_id),
        }
    }

    /// Whether `narrower` covers no more than `self`.
    fn contains(&self, narrower: &Scope) -> bool {
        match (self, narrower) {
            (Scope::Account, _) => true,
            (Scope::Subscriptions(_), Scope::Account) => false,
            (Scope::Subscriptions(wide), Scope::Subscriptions(narrow)) => narrow.iter().all(|id| wide.contains(id)),
        }
    }
}

#[derive(Debug)]
pub struct Request {
    pub rights: Rights,
    pub duration_days: i32,
    pub message: Option<String>,
    pub auto_extend: bool,
    pub scope: Scope,
}

/// What a request asks for, with what is left out defaulted: every right, for a year, the
/// whole account, no automatic extension.
#[derive(Default)]
pub struct Asked {
    pub rights: Option<Rights>,
    pub duration_days: Option<i32>,
    pub message: Option<String>,
    pub auto_extend: Option<bool>,
    pub scope: Option<Scope>,
}

impl From<Asked> for Request {
    fn from(a: Asked) -> Request {
        Request {
            rights: a.rights.unwrap_or(Rights::ALL),
            duration_days: a.duration_days.unwrap_or(rules::DEFAULT_DURATION_DAYS),
            message: a.message,
            auto_extend: a.auto_extend.unwrap_or(false),
            scope: a.scope.unwrap_or_default(),
        }
    }
}

/// The scope a grant has now (one query for SUBSCRIPTIONS scopes).
pub async fn scope_of(db: &impl ConnectionTrait, g: &grant::Model) -> AppResult<Scope> {
    if g.scope == GrantScope::Account {
        return Ok(Scope::Account);
    }
    let items = grant_scope_item::Entity::find().filter(grant_scope_item::Column::GrantId.eq(g.id)).all(db).await?;
    Ok(Scope::Subscriptions(items.into_iter().map(|i| i.subscription_id).collect()))
}

/// Writes the scope of a grant, after checking that every subscription is the customer's.
async fn set_scope(txn: &DatabaseTransaction, g: &grant::Model, scope: &Scope) -> AppResult<()> {
    grant_scope_item::Entity::delete_many().filter(grant_scope_item::Column::GrantId.eq(g.id)).exec(txn).await?;
    let Scope::Subscriptions(ids) = scope else { return Ok(()) };
    if ids.is_empty() {
        return Err(AppError::bad_input("scope", "name at least one subscription, or give the whole account"));
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    let owned = subscription::Entity::find()
        .filter(subscription::Column::Id.is_in(unique.iter().copied()))
        .filter(subscription::Column::CustomerId.eq(g.customer_id))
        .count(txn)
        .await?;
    if owned != unique.len() as u64 {
        return Err(AppError::bad_input("scope", "names subscriptions that are not this customer's"));
    }
    for subscription_id in unique {
        grant_scope_item::ActiveModel {
            id: Set(Uuid::now_v7()),
            grant_id: Set(g.id),
            subscription_id: Set(subscription_id),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

pub(crate) fn check_request(r: &Request) -> AppResult<()> {
    if r.rights == Rights::NONE {
        return Err(AppError::bad_input("rights", "ask for at least one right"));
    }
    field("duration", rules::validate_duration(r.duration_days))?;
    field("autoExtend", rules::validate_auto_extend(r.auto_extend, r.rights))?;
    if r.message.as_deref().is_some_and(|m| m.chars().count() > 2000) {
        return Err(AppError::bad_input("message", "must be at most 2000 characters"));
    }
    Ok(())
}

/// A live or pending relationship already exists between the two: ask once.
async fn ensure_no_open_grant(
    db: &impl ConnectionTrait,
    partner_id: Uuid,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let open = grant::Entity::find()
        .filter(grant::Column::PartnerId.eq(partner_id))
        .filter(grant::Column::CustomerId.eq(customer_id))
        .filter(grant::Column::Status.is_in([GrantStatus::Pending, GrantStatus::Active]))
        .filter(grant::Column::EndsAt.gt(now))
        .one(db)
        .await?;
    match open {
        Some(g) if g.status == GrantStatus::Active => Err(AppError::Conflict("this partner already has access".into())),
        Some(_) => Err(AppError::Conflict("a request between these two is already waiting for an answer".into())),
        None => Ok(()),
    }
}

/// Who a new grant is between, who asked, and in which state it starts.
pub struct NewGrant {
    pub partner_id: Uuid,
    pub customer_id: Uuid,
    pub side: GrantSide,
    pub status: GrantStatus,
    /// The partner asked by VAT number or domain: it learns the customer when it approves.
    pub customer_hidden: bool,
}

/// Inserts a grant. A pending one keeps `ends_at` at its request deadline (90 days) until it
/// is answered; an active one runs for its duration from now.
pub(crate) async fn insert(
    txn: &DatabaseTransaction,
    principal: &Principal,
    new: NewGrant,
    r: &Request,
    now: DateTime<Utc>,
) -> AppResult<grant::Model> {
    let NewGrant { partner_id, customer_id, side, status, customer_hidden } = new;
    let ends_at = match status {
        GrantStatus::Pending => now + rules::PENDING_VALIDITY,
        _ => now + TimeDelta::days(r.duration_days.into()),
    };
    let created = grant::ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(partner_id),
        customer_id: Set(customer_id),
        status: Set(status),
        rights: Set(r.rights.bits()),
        scope: Set(r.scope.kind()),
        requested_by: Set(side),
        starts_at: Set(now),
        ends_at: Set(ends_at),
        auto_extend: Set(r.auto_extend),
        created_at: Set(now),
        updated_at: Set(now),
        duration_days: Set(r.duration_days),
        message: Set(r.message.clone()),
        requested_by_user_id: Set(Some(principal.user_id())),
        auto_extended_at: Set(None),
        expiry_warned_at: Set(None),
        customer_hidden: Set(customer_hidden),
    }
    .insert(txn)
    .await?;
    set_scope(txn, &created, &r.scope).await?;
    let action = if status == GrantStatus::Pending { "grant.requested" } else { "grant.created" };
    audited(txn, Some(principal), action, None, &created, now).await?;
    Ok(created)
}

async fn organization_of_kind(
    db: &impl ConnectionTrait,
    id: Uuid,
    kind: OrganizationKind,
    what: &'static str,
) -> AppResult<organization::Model> {
    organization::Entity::find_by_id(id)
        .filter(organization::Column::Kind.eq(kind.as_str()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound(what))
}

/// How a partner names the customer it asks: by id (a customer it knows), or by its VAT
/// number or verified domain, without learning who it is until the customer approves.
#[derive(Clone, Debug)]
pub enum CustomerRef {
    Id(Uuid),
    VatNumber(String),
    Domain(String),
}

/// A partner asks a customer for access.
pub async fn request_access(
    ctx: &Ctx,
    principal: Option<&Principal>,
    customer: CustomerRef,
    r: Request,
) -> AppResult<grant::Model> {
    let (customer_id, hidden) = match customer {
        CustomerRef::Id(id) => (id, false),
        other => (find_by_identifier(&ctx.db, &other).await?, true),
    };
    open_request(ctx, principal, GrantSide::Partner, customer_id, hidden, r).await
}

/// The customer with this VAT number, or that proved this domain (NOT_FOUND otherwise: then
/// there is nobody to ask, and the partner may create the customer).
async fn find_by_identifier(db: &impl ConnectionTrait, customer: &CustomerRef) -> AppResult<Uuid> {
    let mut query = organization::Entity::find().filter(organization::Column::Kind.eq(OrganizationKind::Customer));
    query = match customer {
        CustomerRef::Id(id) => query.filter(organization::Column::Id.eq(*id)),
        CustomerRef::VatNumber(vat) => query.filter(organization::Column::VatNumber.eq(vat.as_str())),
        CustomerRef::Domain(domain) => query.filter(
            organization::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(entity::domain::Column::OrganizationId)
                    .from(entity::domain::Entity)
                    .and_where(entity::domain::Column::Name.eq(domain.as_str()))
                    .and_where(entity::domain::Column::VerifiedAt.is_not_null())
                    .to_owned(),
            ),
        ),
    };
    Ok(query.one(db).await?.ok_or(AppError::NotFound("Organization"))?.id)
}

/// A customer admin offers access to a partner; the partner's admin accepts it.
pub async fn invite_partner(
    ctx: &Ctx,
    principal: Option<&Principal>,
    partner_id: Uuid,
    r: Request,
) -> AppResult<grant::Model> {
    open_request(ctx, principal, GrantSide::Customer, partner_id, false, r).await
}

/// One side (the acting organisation) asks the other for a grant; it waits, PENDING, for an answer.
#[tracing::instrument(skip_all, fields(side = ?side, other = %other))]
async fn open_request(
    ctx: &Ctx,
    principal: Option<&Principal>,
    side: GrantSide,
    other: Uuid,
    customer_hidden: bool,
    r: Request,
) -> AppResult<grant::Model> {
    let principal = policy::signed_in(principal)?;
    let (action, other_kind) = match side {
        GrantSide::Partner => (Action::RequestCustomerAccess, OrganizationKind::Customer),
        GrantSide::Customer => (Action::InvitePartner, OrganizationKind::Partner),
    };
    policy::can(principal, action)?;
    check_request(&r)?;
    let own = policy::acting(principal)?.organization_id();
    let (partner_id, customer_id) = match side {
        GrantSide::Partner => (own, other),
        GrantSide::Customer => (other, own),
    };
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    organization_of_kind(&txn, other, other_kind, "Organization").await?;
    ensure_no_open_grant(&txn, partner_id, customer_id, now).await?;
    let new = NewGrant { partner_id, customer_id, side, status: GrantStatus::Pending, customer_hidden };
    let created = insert(&txn, principal, new, &r, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// What a grant change may alter.
#[derive(Default)]
pub struct Change {
    pub rights: Option<Rights>,
    pub ends_at: Option<DateTime<Utc>>,
    pub auto_extend: Option<bool>,
    pub scope: Option<Scope>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Customer admin answers a partner's request, possibly narrowing it.
    Approve,
    /// Partner admin accepts a customer's offer.
    Accept,
    /// The answering side says no.
    Decline,
    /// Customer admin changes a live grant.
    Update,
    /// Customer admin takes access away (or withdraws its offer).
    Revoke,
    /// Partner admin gives access up (or withdraws its request).
    End,
}

impl Transition {
    fn action(self) -> &'static str {
        match self {
            Transition::Approve => "grant.approved",
            Transition::Accept => "grant.accepted",
            Transition::Decline => "grant.declined",
            Transition::Update => "grant.updated",
            Transition::Revoke => "grant.revoked",
            Transition::End => "grant.ended",
        }
    }
}

/// Every change of a grant: who may make it, from which state, and what it writes, in one
/// write transaction with its audit row.
#[tracing::instrument(skip_all, fields(grant_id = %id, transition = ?transition))]
pub async fn transition(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    transition: Transition,
    change: Change,
) -> AppResult<grant::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let existing = visible(Some(principal))
        .filter(grant::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Grant"))?;
    let current = existing.status;
    let side = existing.requested_by;
    // Said as the grant is now: one past its end is expired, whether or not the job ran.
    let shown = rules::status_at(current, existing.ends_at, now);
    let pending_open = shown == GrantStatus::Pending;
    let live = is_live(&existing, now);
    let wrong_state = |what: &str| {
        let state = shown.as_str().to_lowercase();
        let article = if state.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        AppError::Conflict(format!("{article} {state} grant cannot be {what}"))
    };

    let mut next: grant::ActiveModel = existing.clone().into();
    next.updated_at = Set(now);
    match transition {
        Transition::Approve | Transition::Accept => {
            let (action, expected_side) = match transition {
                Transition::Approve => (Action::ManageGrantAsCustomer { grant: &existing }, GrantSide::Partner),
                _ => (Action::ManageGrantAsPartner { grant: &existing }, GrantSide::Customer),
            };
            policy::can(principal, action)?;
            if !pending_open {
                return Err(wrong_state("answered"));
            }
            if side != expected_side {
                return Err(AppError::Forbidden("the side that asked cannot answer its own request".into()));
            }
            if existing.requested_by_user_id == Some(principal.user_id()) {
                return Err(AppError::Forbidden("nobody approves their own request".into()));
            }
            let requested = Rights::from_bits(existing.rights);
            let rights = change.rights.unwrap_or(requested);
            if !requested.contains(rights) || rights == Rights::NONE {
                return Err(AppError::bad_input("rights", "may narrow the requested rights, not widen them"));
            }
            let full_end = now + TimeDelta::days(existing.duration_days.into());
            let ends_at = match change.ends_at {
                Some(wanted) => field("expiresAt", rules::validate_end(full_end, wanted, now))?,
                None => full_end,
            };
            if existing.auto_extend {
                field("rights", rules::validate_auto_extend(true, rights))?;
            }
            if let Some(scope) = &change.scope {
                if !scope_of(&txn, &existing).await?.contains(scope) {
                    return Err(AppError::bad_input("scope", "may narrow the requested scope, not widen it"));
                }
                next.scope = Set(scope.kind());
            }
            next.status = Set(GrantStatus::Active);
            next.rights = Set(rights.bits());
            next.starts_at = Set(now);
            next.ends_at = Set(ends_at);
            // Approving is the customer making itself known to the partner.
            next.customer_hidden = Set(false);
        }
        Transition::Decline => {
            let action = match side {
                GrantSide::Partner => Action::ManageGrantAsCustomer { grant: &existing },
                GrantSide::Customer => Action::ManageGrantAsPartner { grant: &existing },
            };
            policy::can(principal, action)?;
            if !pending_open {
                return Err(wrong_state("declined"));
            }
            next.status = Set(GrantStatus::Declined);
        }
        Transition::Update => {
            policy::can(principal, Action::ManageGrantAsCustomer { grant: &existing })?;
            if !live {
                return Err(wrong_state("changed"));
            }
            let rights = change.rights.unwrap_or(Rights::from_bits(existing.rights));
            if rights == Rights::NONE {
                return Err(AppError::bad_input("rights", "keep at least one right, or revoke the grant"));
            }
            if let Some(end) = change.ends_at {
                if end <= now {
                    return Err(AppError::bad_input("expiresAt", "must be in the future; revoke to end it now"));
                }
                if end > existing.starts_at + TimeDelta::days(rules::MAX_DURATION_DAYS.into()) {
                    return Err(AppError::bad_input("expiresAt", "a grant runs at most two years from its start"));
                }
                next.ends_at = Set(end);
            }
            let auto_extend = change.auto_extend.unwrap_or(existing.auto_extend);
            field("autoExtend", rules::validate_auto_extend(auto_extend, rights))?;
            next.rights = Set(rights.bits());
            next.auto_extend = Set(auto_extend);
            if let Some(scope) = &change.scope {
                next.scope = Set(scope.kind());
            }
        }
        Transition::Revoke => {
            policy::can(principal, Action::ManageGrantAsCustomer { grant: &existing })?;
            if !(live || (pending_open && side == GrantSide::Customer)) {
                return Err(wrong_state("revoked"));
            }
            next.status = Set(GrantStatus::Revoked);
            next.ends_at = Set(now.min(existing.ends_at));
        }
        Transition::End => {
            policy::can(principal, Action::ManageGrantAsPartner { grant: &existing })?;
            if !(live || (pending_open && side == GrantSide::Partner)) {
                return Err(wrong_state("ended"));
            }
            next.status = Set(GrantStatus::Ended);
            next.ends_at = Set(now.min(existing.ends_at));
        }
    }
    let updated = next.update(&txn).await?;
    if let Some(scope) = &change.scope {
        set_scope(&txn, &updated, scope).await?;
    }
    audited(&txn, Some(principal), transition.action(), Some(&existing), &updated, now).await?;
    if matches!(transition, Transition::Update | Transition::Revoke | Transition::End) && live {
        after_access_narrowed(&txn, Some(principal), &updated, now).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// What follows when a partner's access to a customer ends or narrows: the invitations it sent
/// on the customer's behalf die with MANAGE_USERS, and what it pays for there that no live
/// grant covers any more stops renewing.
pub(crate) async fn after_access_narrowed(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    g: &grant::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let rights = if is_live(g, now) { Rights::from_bits(g.rights) } else { Rights::NONE };
    if !rights.contains(Rights::MANAGE_USERS) {
        super::invitations::withdraw_partner_invitations(
            db,
            g.customer_id,
            g.partner_id,
            "the partner's access to manage this organisation's users ended",
            now,
        )
        .await?;
    }
    super::subscriptions::stop_partner_billed(db, principal, g, now).await?;
    Ok(())
}

/// Lets a partner employee act under a grant with a subset of its rights (partner ADMIN).
pub async fn assign(
    ctx: &Ctx,
    principal: Option<&Principal>,
    grant_id: Uuid,
    user_id: Uuid,
    rights: Option<Rights>,
) -> AppResult<grant::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let g = visible(Some(principal))
        .filter(grant::Column::Id.eq(grant_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Grant"))?;
    policy::can(principal, Action::ManageGrantAsPartner { grant: &g })?;
    if !is_live(&g, now) {
        return Err(AppError::Conflict("only a live grant can be staffed".into()));
    }
    let granted = Rights::from_bits(g.rights);
    let rights = rights.unwrap_or(granted);
    if !granted.contains(rights) || rights == Rights::NONE {
        return Err(AppError::bad_input("rights", "must be a non-empty subset of the grant's rights"));
    }
    let member = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::OrganizationId.eq(g.partner_id))
        .one(&txn)
        .await?;
    if member.is_none() {
        return Err(AppError::NotFound("User"));
    }
    let existing = grant_assignment::Entity::find()
        .filter(grant_assignment::Column::GrantId.eq(g.id))
        .filter(grant_assignment::Column::UserId.eq(user_id))
        .one(&txn)
        .await?;
    let before =
        existing.as_ref().map(|a| json!({ "userId": a.user_id, "rights": Rights::from_bits(a.rights).names() }));
    match existing {
        Some(a) => {
            let mut active: grant_assignment::ActiveModel = a.into();
            active.rights = Set(rights.bits());
            active.update(&txn).await?
        }
        None => insert_assignment(&txn, g.id, user_id, rights.bits(), now).await?,
    };
    let event = audit::Event {
        action: "grant.member_assigned",
        target_type: "Grant",
        target_id: Some(g.id),
        customer_id: Some(g.customer_id),
        before,
        after: Some(json!({ "userId": user_id, "rights": rights.names() })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(g)
}

pub(crate) async fn insert_assignment(
    db: &impl ConnectionTrait,
    grant_id: Uuid,
    user_id: Uuid,
    rights: i32,
    now: DateTime<Utc>,
) -> AppResult<grant_assignment::Model> {
    Ok(grant_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        grant_id: Set(grant_id),
        user_id: Set(user_id),
        rights: Set(rights),
        created_at: Set(now),
    }
    .insert(db)
    .await?)
}

pub async fn unassign(
    ctx: &Ctx,
    principal: Option<&Principal>,
    grant_id: Uuid,
    user_id: Uuid,
) -> AppResult<grant::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let g = visible(Some(principal))
        .filter(grant::Column::Id.eq(grant_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Grant"))?;
    policy::can(principal, Action::ManageGrantAsPartner { grant: &g })?;
    let removed = grant_assignment::Entity::delete_many()
        .filter(grant_assignment::Column::GrantId.eq(g.id))
        .filter(grant_assignment::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::NotFound("GrantAssignment"));
    }
    let event = audit::Event {
        action: "grant.member_unassigned",
        target_type: "Grant",
        target_id: Some(g.id),
        customer_id: Some(g.customer_id),
        before: Some(json!({ "userId": user_id })),
        after: None,
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(g)
}

/// The live grants the acting partner holds on these customers.
pub async fn live_for_viewer(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    customer_ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<Vec<grant::Model>> {
    let Some(m) =
        principal.and_then(|p| p.acting.as_ref()).filter(|m| m.organization_kind == OrganizationKind::Partner)
    else {
        return Ok(Vec::new());
    };
    Ok(grant::Entity::find()
        .filter(grant::Column::PartnerId.eq(m.organization_id()))
        .filter(grant::Column::CustomerId.is_in(customer_ids.iter().copied()))
        .filter(grant::Column::Status.eq(GrantStatus::Active))
        .filter(grant::Column::EndsAt.gt(now))
        .all(db)
        .await?)
}

/// What one partner user may do on one customer now (see `policy::partner_rights_query`).
pub async fn rights_of(
    db: &impl ConnectionTrait,
    actor: &policy::PartnerActor,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Rights> {
    let query = policy::partner_rights_query(actor, &[customer_id], now);
    let rows = RightsRow::find_by_statement(db.get_database_backend().build(&query)).all(db).await?;
    Ok(rows.into_iter().fold(Rights::NONE, |acc, row| acc.union(Rights::from_bits(row.rights))))
}

#[derive(FromQueryResult)]
struct RightsRow {
    customer_id: Uuid,
    rights: i32,
}

/// What the principal may do on each of these customers, now (one statement).
pub async fn viewer_rights(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    customer_ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, Rights>> {
    let Some(query) = policy::viewer_rights_query(principal, customer_ids, now) else { return Ok(HashMap::new()) };
    let rows = RightsRow::find_by_statement(db.get_database_backend().build(&query)).all(db).await?;
    let mut out: HashMap<Uuid, Rights> = HashMap::new();
    for row in rows {
        let entry = out.entry(row.customer_id).or_default();
        *entry = entry.union(Rights::from_bits(row.rights));
    }
    Ok(out)
}

/// The subscriptions a SUBSCRIPTIONS-scoped grant lists, as far as the principal sees them.
pub fn listed_subscriptions(
    principal: Option<&Principal>,
    grant_id: Uuid,
    now: DateTime<Utc>,
) -> Select<subscription::Entity> {
    let listed = sea_orm::sea_query::Query::select()
        .column(grant_scope_item::Column::SubscriptionId)
        .from(grant_scope_item::Entity)
        .and_where(grant_scope_item::Column::GrantId.eq(grant_id))
        .to_owned();
    subscription::Entity::find()
        .filter(subscription::Column::Id.in_subquery(listed))
        .filter(policy::subscriptions_scope(principal, now))
}

/// A visible grant's history: every audit event about it.
pub fn history(principal: Option<&Principal>, g: &grant::Model) -> Select<entity::audit_event::Entity> {
    use entity::audit_event;
    let visible = sea_orm::sea_query::Query::select()
        .column(grant::Column::Id)
        .from(grant::Entity)
        .cond_where(policy::grants_scope(principal))
        .and_where(grant::Column::Id.eq(g.id))
        .to_owned();
    audit_event::Entity::find()
        .filter(audit_event::Column::TargetType.eq("Grant"))
        .filter(audit_event::Column::TargetId.in_subquery(visible))
}

/// The partner employees acting under a grant: the partner's internal matter, for staff and the
/// partner's members.
pub fn assignments(principal: Option<&Principal>, g: &grant::Model) -> Select<grant_assignment::Entity> {
    grant_assignment::Entity::find()
        .filter(grant_assignment::Column::GrantId.eq(g.id))
        .filter(policy::partner_internals_scope(principal, g.partner_id))
}
