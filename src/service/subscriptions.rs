//! A customer's subscriptions, managed by the customer's ADMIN or by a partner with
//! MANAGE_PRODUCTS there: create (idempotent), seats, upgrade now prorated to the day,
//! downgrade at the renewal, cancel at period end and undo, auto-renew; every change is kept.
//! What is owed becomes charges, which billing runs turn into invoice lines.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{charge, organization, subscription, subscription_change};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, Select, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, catalog, grants, idempotency, notifications};
use crate::{
    db,
    domain::notifications::NotificationKind,
    domain::{
        BilledTo, ChargeKind, GrantScope, GrantStatus, OrganizationKind, Rights, SubscriptionChangeKind,
        SubscriptionStatus, billing,
    },
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action, BillEffect, SubscriptionTarget},
    principal::Principal,
};

pub const MAX_SEATS: i32 = 100_000;

fn seats(value: i32) -> AppResult<i32> {
    if !(1..=MAX_SEATS).contains(&value) {
        return Err(AppError::bad_input("seats", format!("is between 1 and {MAX_SEATS}")));
    }
    Ok(value)
}

/// Subscriptions a principal sees (the policy's scope).
pub fn visible(principal: Option<&Principal>, now: DateTime<Utc>) -> Select<subscription::Entity> {
    subscription::Entity::find().filter(policy::subscriptions_scope(principal, now))
}

/// What a customer list shows of a customer's subscriptions: plans, licences and the next
/// renewal, over the active subscriptions the principal may see.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub plans: Vec<String>,
    pub licences: i64,
    pub next_renewal: Option<DateTime<Utc>>,
}

/// The summary of each of `customers`, every one answered (an empty summary for none), in one
/// statement summed in SQL per customer and plan: decoding every subscription with its plan cost
/// more than the rest of a customers page together (issue 13).
#[tracing::instrument(skip_all, fields(customers = customers.len()))]
pub async fn summaries(
    ctx: &Ctx,
    principal: Option<&Principal>,
    customers: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, Summary>> {
    let query = summary_query(principal, ctx.now(), customers);
    let rows = ListingRow::find_by_statement(ctx.db.get_database_backend().build(&query)).all(&ctx.db).await?;
    Ok(fold_summaries(customers, rows.iter()))
}

/// What a customers page shows of each customer beside its name: the subscription summary and
/// the viewer's rights there, both in one statement (`UNION ALL` of the two reads), so the page
/// costs what the hand-written floor does: the principal, the page with its count, this.
#[tracing::instrument(skip_all, fields(customers = customers.len()))]
pub async fn listing(
    ctx: &Ctx,
    principal: Option<&Principal>,
    customers: &[Uuid],
) -> AppResult<(std::collections::HashMap<Uuid, Summary>, std::collections::HashMap<Uuid, Rights>)> {
    use sea_orm::sea_query::{Alias, Query, UnionType};
    let now = ctx.now();
    let summaries = summary_query(principal, now, customers);
    // Not a partner user: no rights anywhere, and only the summaries to read.
    let Some(rights) = policy::viewer_rights_query(principal, customers, now) else {
        let rows = ListingRow::find_by_statement(ctx.db.get_database_backend().build(&summaries)).all(&ctx.db).await?;
        return Ok((fold_summaries(customers, rows.iter()), Default::default()));
    };
    let null = || Expr::cust("NULL");
    // The summaries' columns are typed (their `rights` a typed NULL): the bare NULLs of the
    // second part take those types.
    let mut both = Query::select()
        .column(Alias::new("customer_id"))
        .column(Alias::new("code"))
        .column(Alias::new("licences"))
        .column(Alias::new("next_renewal"))
        .column(Alias::new("rights"))
        .from_subquery(summaries, Alias::new("s"))
        .to_owned();
    both.union(
        UnionType::All,
        Query::select()
            .column(Alias::new("customer_id"))
            .expr_as(null(), Alias::new("code"))
            .expr_as(null(), Alias::new("licences"))
            .expr_as(null(), Alias::new("next_renewal"))
            .column(Alias::new("rights"))
            .from_subquery(rights, Alias::new("r"))
            .to_owned(),
    );
    let rows = ListingRow::find_by_statement(ctx.db.get_database_backend().build(&both)).all(&ctx.db).await?;
    let (rights, summaries): (Vec<&ListingRow>, Vec<&ListingRow>) = rows.iter().partition(|r| r.rights.is_some());
    let mut granted: std::collections::HashMap<Uuid, Rights> = customers.iter().map(|c| (*c, Rights::NONE)).collect();
    for row in rights {
        let entry = granted.entry(row.customer_id).or_default();
        *entry = entry.union(Rights::from_bits(row.rights.unwrap_or_default()));
    }
    Ok((fold_summaries(customers, summaries.into_iter()), granted))
}

/// One row of the listing: a summary row (customer, plan code, licences, first renewal) or a
/// rights row (customer, rights).
#[derive(sea_orm::FromQueryResult)]
struct ListingRow {
    customer_id: Uuid,
    code: Option<String>,
    licences: Option<i64>,
    next_renewal: Option<DateTime<Utc>>,
    rights: Option<i32>,
}

/// Per customer and plan: the licences and the first renewal of the active subscriptions the
/// principal sees.
fn summary_query(
    principal: Option<&Principal>,
    now: DateTime<Utc>,
    customers: &[Uuid],
) -> sea_orm::sea_query::SelectStatement {
    use entity::plan;
    use sea_orm::{
        QuerySelect, QueryTrait,
        sea_query::{Func, JoinType},
    };
    visible(principal, now)
        .select_only()
        .column(subscription::Column::CustomerId)
        .column_as(Expr::col((plan::Entity, plan::Column::Code)), "code")
        .column_as(Expr::expr(Func::sum(Expr::col((subscription::Entity, subscription::Column::Seats)))), "licences")
        .column_as(
            Expr::expr(Func::min(Expr::col((subscription::Entity, subscription::Column::CurrentPeriodEnd)))),
            "next_renewal",
        )
        .join(
            JoinType::LeftJoin,
            subscription::Entity::belongs_to(plan::Entity)
                .from(subscription::Column::PlanId)
                .to(plan::Column::Id)
                .into(),
        )
        .column_as(Expr::cust("CAST(NULL AS INTEGER)"), "rights")
        .filter(subscription::Column::CustomerId.is_in(customers.iter().copied()))
        .filter(subscription::Column::Status.eq(SubscriptionStatus::Active))
        .group_by(subscription::Column::CustomerId)
        .group_by(Expr::col((plan::Entity, plan::Column::Code)))
        .into_query()
}

fn fold_summaries<'a>(
    customers: &[Uuid],
    rows: impl Iterator<Item = &'a ListingRow>,
) -> std::collections::HashMap<Uuid, Summary> {
    let mut out: std::collections::HashMap<Uuid, Summary> =
        customers.iter().map(|c| (*c, Summary::default())).collect();
    for row in rows {
        let entry = out.entry(row.customer_id).or_default();
        entry.licences += row.licences.unwrap_or_default();
        entry.plans.extend(row.code.clone());
        entry.next_renewal = match (entry.next_renewal, row.next_renewal) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    for entry in out.values_mut() {
        entry.plans.sort();
    }
    out
}

/// The acting partner user's rights on a customer, and whether a whole-account grant gives them.
async fn partner_standing(
    db: &impl ConnectionTrait,
    principal: &Principal,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<(Rights, bool)> {
    let rights = grants::viewer_rights(db, Some(principal), &[customer_id], now).await?;
    let live = grants::live_for_viewer(db, Some(principal), &[customer_id], now).await?;
    Ok((rights.get(&customer_id).copied().unwrap_or_default(), live.iter().any(|g| g.scope == GrantScope::Account)))
}

async fn record_change(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    sub: &subscription::Model,
    kind: SubscriptionChangeKind,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    subscription_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        subscription_id: Set(sub.id),
        kind: Set(kind),
        before: Set(before.clone()),
        after: Set(after.clone()),
        actor_user_id: Set(principal.map(Principal::user_id)),
        acting_organization_id: Set(principal.and_then(|p| p.acting.as_ref()).map(|m| m.organization_id())),
        occurred_at: Set(now),
    }
    .insert(db)
    .await?;
    use SubscriptionChangeKind as K;
    let action = match kind {
        K::Created => "subscription.created",
        K::SeatsChanged => "subscription.seats_changed",
        K::Upgraded => "subscription.upgraded",
        K::DowngradeScheduled => "subscription.downgrade_scheduled",
        K::CancelScheduled => "subscription.cancel_scheduled",
        K::CancelUndone => "subscription.cancel_undone",
        K::AutoRenewSet => "subscription.auto_renew_set",
        K::Renewed => "subscription.renewed",
        K::BillingHandedOver => "subscription.billing_handed_over",
        K::Ended => "subscription.ended",
    };
    let event = audit::Event {
        action,
        target_type: "ProductSubscription",
        target_id: Some(sub.id),
        customer_id: Some(sub.customer_id),
        before,
        after,
    };
    audit::record(db, principal, event, now).await
}

/// Who is billed for a subscription's charges.
fn bill_to(sub: &subscription::Model) -> Uuid {
    match (sub.billed_to, sub.partner_id) {
        (BilledTo::Partner, Some(partner)) => partner,
        _ => sub.customer_id,
    }
}

#[allow(clippy::too_many_arguments)]
async fn charge(
    db: &impl ConnectionTrait,
    sub: &subscription::Model,
    kind: ChargeKind,
    plan_id: Uuid,
    seats: i32,
    from: Option<(Uuid, i32)>,
    service_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (Some(start), Some(end)) = (sub.current_period_start, sub.current_period_end) else {
        return Err(AppError::internal(format!("subscription {} has no period", sub.id)));
    };
    // A change on the period's last day (before the renewal runs) owes nothing for it.
    if kind == ChargeKind::Proration && billing::remaining_days(start, end, service_start).0 == 0 {
        return Ok(());
    }
    charge::ActiveModel {
        id: Set(Uuid::now_v7()),
        subscription_id: Set(sub.id),
        bill_to_organization_id: Set(bill_to(sub)),
        kind: Set(kind),
        plan_id: Set(plan_id),
        seats: Set(seats),
        from_plan_id: Set(from.map(|f| f.0)),
        from_seats: Set(from.map(|f| f.1)),
        period_start: Set(start),
        period_end: Set(end),
        service_start: Set(service_start),
        created_at: Set(now),
        invoice_id: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub struct NewSubscription<'a> {
    pub customer_id: Uuid,
    pub plan_id: Uuid,
    pub seats: i32,
    pub billed_to: BilledTo,
    pub idempotency_key: &'a str,
}

#[tracing::instrument(skip_all, fields(customer_id = %input.customer_id))]
pub async fn create(
    ctx: &Ctx,
    principal: Option<&Principal>,
    input: NewSubscription<'_>,
) -> AppResult<subscription::Model> {
    let principal = policy::signed_in(principal)?;
    let acting = policy::acting(principal)?.clone();
    let now = ctx.now();
    let seats = seats(input.seats)?;
    let billed_to = input.billed_to;
    let canonical =
        json!({ "customer": input.customer_id, "plan": input.plan_id, "seats": seats, "billedTo": billed_to });
    let key = idempotency::Key::new(principal.user_id(), "createSubscription", input.idempotency_key, &canonical)?;
    match create_once(ctx, principal, &acting, &input, seats, billed_to, &key, now).await {
        // The same key in flight twice: the loser's work rolled back; it answers with the winner's.
        Err(err) => {
            let id = idempotency::winner(&ctx.db, &key, err).await?;
            subscription::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AppError::NotFound("ProductSubscription"))
        }
        created => created,
    }
}

#[allow(clippy::too_many_arguments)]
async fn create_once(
    ctx: &Ctx,
    principal: &Principal,
    acting: &crate::principal::MembershipContext,
    input: &NewSubscription<'_>,
    seats: i32,
    billed_to: BilledTo,
    key: &idempotency::Key<'_>,
    now: DateTime<Utc>,
) -> AppResult<subscription::Model> {
    let txn = db::begin_write(&ctx.db).await?;
    if let Some(id) = idempotency::previous(&txn, key).await? {
        return subscription::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound("ProductSubscription"));
    }
    let customer = organization::Entity::find_by_id(input.customer_id)
        .filter(organization::Column::Kind.eq(OrganizationKind::Customer))
        .filter(policy::organizations_scope(Some(principal), now))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Organization"))?;
    let (rights, whole_account) = partner_standing(&txn, principal, customer.id, now).await?;
    policy::can(
        principal,
        Action::ManageSubscription {
            customer_id: customer.id,
            rights,
            whole_account,
            target: SubscriptionTarget::New,
            effect: BillEffect::Raise,
        },
    )?;
    let partner_id = (acting.organization_kind == OrganizationKind::Partner).then(|| acting.organization_id());
    if billed_to == BilledTo::Partner && partner_id.is_none() {
        return Err(AppError::bad_input("billedTo", "only a partner can be billed; a customer pays its own"));
    }
    let plans = catalog::priced(&txn, &[input.plan_id]).await?;
    let plan = plans.get(&input.plan_id).ok_or_else(|| AppError::bad_input("planId", "no such plan"))?;
    let product = entity::product::Entity::find_by_id(plan.plan.product_id).one(&txn).await?;
    if !plan.plan.active || !product.is_some_and(|p| p.active) {
        return Err(AppError::bad_input("planId", "is not on sale"));
    }
    let end = billing::period_end(now, plan.yearly());
    let created = subscription::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer.id),
        product_id: Set(plan.plan.product_id),
        seats: Set(seats),
        status: Set(SubscriptionStatus::Active),
        created_at: Set(now),
        updated_at: Set(now),
        plan_id: Set(Some(plan.plan.id)),
        partner_id: Set(partner_id),
        billed_to: Set(billed_to),
        started_at: Set(Some(now)),
        current_period_start: Set(Some(now)),
        current_period_end: Set(Some(end)),
        auto_renew: Set(true),
        cancel_at_period_end: Set(false),
        pending_plan_id: Set(None),
    }
    .insert(&txn)
    .await?;
    charge(&txn, &created, ChargeKind::Period, plan.plan.id, seats, None, now, now).await?;
    let after = json!({ "plan": plan.plan.code, "seats": seats, "billedTo": billed_to, "renewsAt": end });
    record_change(&txn, Some(principal), &created, SubscriptionChangeKind::Created, None, Some(after), now).await?;
    idempotency::remember(&txn, key, created.id, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Loads a subscription the principal sees and that can still change, inside the write
/// transaction; `authorize` then asks whether this principal may make this change to it.
pub(crate) async fn changeable(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<subscription::Model> {
    let sub = visible(Some(principal), now)
        .filter(subscription::Column::Id.eq(id))
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("ProductSubscription"))?;
    if sub.status != SubscriptionStatus::Active {
        return Err(AppError::Conflict("the subscription has ended".into()));
    }
    if sub.plan_id.is_none() || sub.current_period_end.is_none() {
        return Err(AppError::Conflict("the subscription predates plans; ask staff to move it to a plan".into()));
    }
    Ok(sub)
}

pub(crate) fn billed_to_partner(sub: &subscription::Model) -> bool {
    sub.billed_to == BilledTo::Partner && sub.partner_id.is_some()
}

/// Whether the principal may make a change with this effect on the bill (the policy decides:
/// whoever pays decides what costs more).
pub(crate) async fn authorize(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    sub: &subscription::Model,
    effect: BillEffect,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (rights, whole_account) = partner_standing(txn, principal, sub.customer_id, now).await?;
    policy::can(
        principal,
        Action::ManageSubscription {
            customer_id: sub.customer_id,
            rights,
            whole_account,
            target: SubscriptionTarget::Existing {
                managed_by: sub.partner_id,
                billed_to_partner: billed_to_partner(sub),
            },
            effect,
        },
    )
}

/// Marks the subscription changed only if nobody changed it since it was read.
async fn save(
    txn: &impl ConnectionTrait,
    before: &subscription::Model,
    changed: subscription::ActiveModel,
) -> AppResult<subscription::Model> {
    let result = subscription::Entity::update_many()
        .set(changed)
        .filter(subscription::Column::Id.eq(before.id))
        .filter(subscription::Column::UpdatedAt.eq(before.updated_at))
        .exec(txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::Conflict("the subscription changed meanwhile; read it again".into()));
    }
    subscription::Entity::find_by_id(before.id).one(txn).await?.ok_or(AppError::NotFound("ProductSubscription"))
}

fn touched(now: DateTime<Utc>) -> subscription::ActiveModel {
    subscription::ActiveModel { updated_at: Set(now), ..Default::default() }
}

/// Seats change now; the rest of the period is charged (or credited) prorated to the day.
#[tracing::instrument(skip_all, fields(subscription_id = %id))]
pub async fn change_seats(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    new_seats: i32,
) -> AppResult<subscription::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let sub = changeable(&txn, principal, id, now).await?;
    let updated = apply_seats(&txn, principal, &sub, new_seats, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// The seat change on a subscription already loaded in `txn`, authorized, charged and kept.
pub(crate) async fn apply_seats(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    sub: &subscription::Model,
    new_seats: i32,
    now: DateTime<Utc>,
) -> AppResult<subscription::Model> {
    let new_seats = seats(new_seats)?;
    let effect = if new_seats > sub.seats { BillEffect::Raise } else { BillEffect::Lower };
    authorize(txn, principal, sub, effect, now).await?;
    if sub.seats == new_seats {
        return Err(AppError::Conflict("the subscription already has this many seats".into()));
    }
    let plan = sub.plan_id.ok_or_else(|| AppError::internal("checked above"))?;
    let mut changed = touched(now);
    changed.seats = Set(new_seats);
    let updated = save(txn, sub, changed).await?;
    charge(txn, &updated, ChargeKind::Proration, plan, new_seats, Some((plan, sub.seats)), now, now).await?;
    let (before, after) = (json!({ "seats": sub.seats }), json!({ "seats": new_seats }));
    record_change(txn, Some(principal), &updated, SubscriptionChangeKind::SeatsChanged, Some(before), Some(after), now)
        .await?;
    Ok(updated)
}

/// An upgrade (a plan of higher rank) applies now, prorated; a downgrade waits for the renewal.
#[tracing::instrument(skip_all, fields(subscription_id = %id))]
pub async fn change_plan(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    plan_id: Uuid,
) -> AppResult<subscription::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let sub = changeable(&txn, principal, id, now).await?;
    let updated = apply_plan(&txn, principal, &sub, plan_id, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// A plan of the same product, billing period and currency that is on sale, and whether moving
/// to it is an upgrade (a higher rank).
pub(crate) async fn check_plan_move(
    db: &impl ConnectionTrait,
    sub: &subscription::Model,
    plan_id: Uuid,
) -> AppResult<(catalog::Priced, catalog::Priced, bool)> {
    let current_id = sub.plan_id.ok_or_else(|| AppError::internal("checked above"))?;
    if current_id == plan_id {
        return Err(AppError::Conflict("the subscription is already on this plan".into()));
    }
    let mut plans = catalog::priced(db, &[current_id, plan_id]).await?;
    let (Some(current), Some(target)) = (plans.remove(&current_id), plans.remove(&plan_id)) else {
        return Err(AppError::bad_input("planId", "no such plan"));
    };
    if target.plan.product_id != current.plan.product_id
        || target.plan.billing_period != current.plan.billing_period
        || target.plan.currency != current.plan.currency
    {
        return Err(AppError::bad_input("planId", "choose a plan of the same product, billing period and currency"));
    }
    if !target.plan.active {
        return Err(AppError::bad_input("planId", "is not on sale"));
    }
    let upgrade = target.plan.rank > current.plan.rank;
    Ok((current, target, upgrade))
}

/// The plan change on a subscription already loaded in `txn`, authorized, charged and kept.
pub(crate) async fn apply_plan(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    sub: &subscription::Model,
    plan_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<subscription::Model> {
    let (current, target, upgrade) = check_plan_move(txn, sub, plan_id).await?;
    authorize(txn, principal, sub, if upgrade { BillEffect::Raise } else { BillEffect::Lower }, now).await?;
    let before = json!({ "plan": current.plan.code });
    if upgrade {
        let mut changed = touched(now);
        changed.plan_id = Set(Some(plan_id));
        changed.pending_plan_id = Set(None);
        let updated = save(txn, sub, changed).await?;
        charge(txn, &updated, ChargeKind::Proration, plan_id, sub.seats, Some((current.plan.id, sub.seats)), now, now)
            .await?;
        let after = json!({ "plan": target.plan.code });
        record_change(txn, Some(principal), &updated, SubscriptionChangeKind::Upgraded, Some(before), Some(after), now)
            .await?;
        return Ok(updated);
    }
    let mut changed = touched(now);
    changed.pending_plan_id = Set(Some(plan_id));
    let updated = save(txn, sub, changed).await?;
    let after = json!({ "plan": target.plan.code, "from": updated.current_period_end });
    record_change(
        txn,
        Some(principal),
        &updated,
        SubscriptionChangeKind::DowngradeScheduled,
        Some(before),
        Some(after),
        now,
    )
    .await?;
    Ok(updated)
}

/// Cancels at the end of the period (`cancel`), or takes that back before it comes (`!cancel`).
#[tracing::instrument(skip_all, fields(subscription_id = %id))]
pub async fn set_cancel(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    cancel: bool,
) -> AppResult<subscription::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let sub = changeable(&txn, principal, id, now).await?;
    authorize(&txn, principal, &sub, if cancel { BillEffect::Stop } else { BillEffect::Raise }, now).await?;
    if sub.cancel_at_period_end == cancel {
        let state = if cancel { "already ends" } else { "is not cancelled" };
        return Err(AppError::Conflict(format!("the subscription {state} at the period's end")));
    }
    let mut changed = touched(now);
    changed.cancel_at_period_end = Set(cancel);
    let updated = save(&txn, &sub, changed).await?;
    let kind = if cancel { SubscriptionChangeKind::CancelScheduled } else { SubscriptionChangeKind::CancelUndone };
    let after = json!({ "endsAt": cancel.then_some(updated.current_period_end).flatten() });
    record_change(&txn, Some(principal), &updated, kind, None, Some(after), now).await?;
    if cancel {
        // Cancelled inside the reversal window: the commission still held for it is taken back.
        super::ledger::post::reverse_cancelled(&txn, updated.id, now).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

#[tracing::instrument(skip_all, fields(subscription_id = %id))]
pub async fn set_auto_renew(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    auto_renew: bool,
) -> AppResult<subscription::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let sub = changeable(&txn, principal, id, now).await?;
    authorize(&txn, principal, &sub, if auto_renew { BillEffect::Raise } else { BillEffect::Stop }, now).await?;
    if sub.auto_renew == auto_renew {
        return Err(AppError::Conflict(format!("auto-renew is already {}", if auto_renew { "on" } else { "off" })));
    }
    let mut changed = touched(now);
    changed.auto_renew = Set(auto_renew);
    let updated = save(&txn, &sub, changed).await?;
    let (before, after) = (json!({ "autoRenew": sub.auto_renew }), json!({ "autoRenew": auto_renew }));
    record_change(
        &txn,
        Some(principal),
        &updated,
        SubscriptionChangeKind::AutoRenewSet,
        Some(before),
        Some(after),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// From now on the customer pays for the subscription, not the partner: the partner that pays
/// (its ADMIN or BILLING, also after its grant ended) stops paying, or the customer's ADMIN takes
/// it over. Auto-renew stays as it is, so nobody pays for a period they did not choose: after a
/// grant ended it is off, and the customer turns it on if it wants to keep the subscription.
#[tracing::instrument(skip_all, fields(subscription_id = %id))]
pub async fn hand_over_billing(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<subscription::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let sub = changeable(&txn, principal, id, now).await?;
    authorize(&txn, principal, &sub, BillEffect::HandOver, now).await?;
    let Some(partner_id) = sub.partner_id.filter(|_| billed_to_partner(&sub)) else {
        return Err(AppError::Conflict("the customer already pays for this subscription".into()));
    };
    let mut changed = touched(now);
    changed.billed_to = Set(BilledTo::Customer);
    let updated = save(&txn, &sub, changed).await?;
    let (before, after) = (
        json!({ "billedTo": BilledTo::Partner }),
        json!({ "billedTo": BilledTo::Customer, "autoRenew": updated.auto_renew }),
    );
    record_change(
        &txn,
        Some(principal),
        &updated,
        SubscriptionChangeKind::BillingHandedOver,
        Some(before),
        Some(after),
        now,
    )
    .await?;
    let payload = subscription_payload(&updated);
    for organization_id in [updated.customer_id, partner_id] {
        notifications::enqueue(
            &txn,
            NotificationKind::SubscriptionBillingHandedOver,
            organization_id,
            None,
            payload.clone(),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(updated)
}

fn subscription_payload(sub: &subscription::Model) -> serde_json::Value {
    json!({
        "subscriptionId": ids::encode(NodeType::ProductSubscription, sub.id),
        "customerId": ids::encode(NodeType::Organization, sub.customer_id),
        "billedTo": sub.billed_to,
        "autoRenew": sub.auto_renew,
        "renewsAt": sub.current_period_end,
    })
}

/// When a partner's access to a customer ends (revoked, ended, expired) or narrows to fewer
/// subscriptions, the subscriptions it pays for there that no live grant covers any more stop
/// renewing: the partner is not charged on for what it can no longer manage. They stay visible
/// to the partner (read-only, to cancel or hand over their billing); the partner, the customer and
/// the vendor's staff are told. Returns them.
pub(crate) async fn stop_partner_billed(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    g: &entity::grant::Model,
    now: DateTime<Utc>,
) -> AppResult<Vec<Uuid>> {
    let candidates = subscription::Entity::find()
        .filter(subscription::Column::PartnerId.eq(g.partner_id))
        .filter(subscription::Column::CustomerId.eq(g.customer_id))
        .filter(subscription::Column::BilledTo.eq(BilledTo::Partner))
        .filter(subscription::Column::Status.eq(SubscriptionStatus::Active))
        .filter(subscription::Column::AutoRenew.eq(true))
        .all(db)
        .await?;
    let mut stopped = Vec::new();
    for sub in candidates {
        if covered_by_live_grant(db, &sub, now).await? {
            continue;
        }
        let mut changed = touched(now);
        changed.auto_renew = Set(false);
        let updated = save(db, &sub, changed).await?;
        let after =
            json!({ "autoRenew": false, "reason": "no grant of the partner that pays for it covers it any more" });
        record_change(
            db,
            principal,
            &updated,
            SubscriptionChangeKind::AutoRenewSet,
            Some(json!({ "autoRenew": true })),
            Some(after),
            now,
        )
        .await?;
        stopped.push(updated.id);
    }
    if stopped.is_empty() {
        return Ok(stopped);
    }
    let payload = json!({
        "partnerId": ids::encode(NodeType::Organization, g.partner_id),
        "customerId": ids::encode(NodeType::Organization, g.customer_id),
        "grantId": ids::encode(NodeType::Grant, g.id),
        "subscriptionIds": stopped.iter().map(|id| ids::encode(NodeType::ProductSubscription, *id)).collect::<Vec<_>>(),
        "rule": "billed to the partner: they stop renewing at the period's end unless their billing is handed over to the customer",
    });
    let vendor =
        organization::Entity::find().filter(organization::Column::Kind.eq(OrganizationKind::Vendor)).one(db).await?;
    for organization_id in [Some(g.partner_id), Some(g.customer_id), vendor.map(|v| v.id)].into_iter().flatten() {
        notifications::enqueue(
            db,
            NotificationKind::PartnerBilledSubscriptionsStopping,
            organization_id,
            None,
            payload.clone(),
            now,
        )
        .await?;
    }
    Ok(stopped)
}

/// Whether a live grant of the partner that pays for `sub` still covers it.
async fn covered_by_live_grant(
    db: &impl ConnectionTrait,
    sub: &subscription::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let Some(partner_id) = sub.partner_id else { return Ok(false) };
    let grants = entity::grant::Entity::find()
        .filter(entity::grant::Column::PartnerId.eq(partner_id))
        .filter(entity::grant::Column::CustomerId.eq(sub.customer_id))
        .filter(entity::grant::Column::Status.eq(GrantStatus::Active))
        .filter(entity::grant::Column::EndsAt.gt(now))
        .all(db)
        .await?;
    for g in grants {
        if grants::scope_of(db, &g).await?.covers(sub.id) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Subscriptions the principal sees that renew (or end) within `days`.
pub fn renewals_due(principal: Option<&Principal>, now: DateTime<Utc>, days: i64) -> Select<subscription::Entity> {
    visible(principal, now)
        .filter(subscription::Column::Status.eq(SubscriptionStatus::Active))
        .filter(subscription::Column::CurrentPeriodEnd.gte(now))
        .filter(subscription::Column::CurrentPeriodEnd.lte(now + TimeDelta::days(days)))
}

/// The job: every subscription whose period ended renews (a new period, its charge, a pending
/// downgrade applied) or ends. Each step is a conditional update on the period it read, so two
/// nodes renew a subscription once. Returns how many it renewed or ended.
#[tracing::instrument(skip_all)]
pub async fn run_renewals(ctx: &Ctx) -> AppResult<usize> {
    let now = ctx.now();
    let mut done = 0;
    // A subscription several periods behind (a node was down) catches up one period per pass.
    loop {
        let due = subscription::Entity::find()
            .filter(subscription::Column::Status.eq(SubscriptionStatus::Active))
            .filter(subscription::Column::CurrentPeriodEnd.lte(now))
            .order_by_asc(subscription::Column::Id)
            .all(&ctx.db)
            .await?;
        if due.is_empty() {
            return Ok(done);
        }
        let mut progressed = false;
        for sub in due {
            let txn = db::begin_write(&ctx.db).await?;
            let Some(old_end) = sub.current_period_end else { continue };
            // A partner pays on only while its grant covers the subscription (also when the
            // grant lapsed and the expiry job has not run yet).
            let orphaned = billed_to_partner(&sub) && !covered_by_live_grant(&txn, &sub, now).await?;
            let ends = sub.cancel_at_period_end || !sub.auto_renew || orphaned;
            let mut update = subscription::Entity::update_many()
                .col_expr(subscription::Column::UpdatedAt, Expr::val(now))
                .filter(subscription::Column::Id.eq(sub.id))
                .filter(subscription::Column::CurrentPeriodEnd.eq(old_end))
                .filter(subscription::Column::Status.eq(SubscriptionStatus::Active));
            let plan_id = sub.pending_plan_id.or(sub.plan_id);
            let plans = catalog::priced(&txn, &plan_id.into_iter().collect::<Vec<_>>()).await?;
            let Some(plan) = plan_id.and_then(|p| plans.get(&p)) else { continue };
            let new_end = billing::period_end(old_end, plan.yearly());
            if ends {
                update =
                    update.col_expr(subscription::Column::Status, Expr::val(SubscriptionStatus::Cancelled.as_str()));
            } else {
                update = update
                    .col_expr(subscription::Column::PlanId, Expr::val(plan.plan.id))
                    .col_expr(subscription::Column::PendingPlanId, Expr::val(Option::<Uuid>::None))
                    .col_expr(subscription::Column::CurrentPeriodStart, Expr::val(old_end))
                    .col_expr(subscription::Column::CurrentPeriodEnd, Expr::val(new_end));
            }
            if update.exec(&txn).await?.rows_affected == 0 {
                continue; // another node did it
            }
            let updated = subscription::Entity::find_by_id(sub.id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound("ProductSubscription"))?;
            if ends {
                record_change(
                    &txn,
                    None,
                    &updated,
                    SubscriptionChangeKind::Ended,
                    None,
                    Some(json!({ "endedAt": old_end })),
                    now,
                )
                .await?;
            } else {
                charge(&txn, &updated, ChargeKind::Period, plan.plan.id, updated.seats, None, old_end, now).await?;
                let after = json!({ "plan": plan.plan.code, "renewsAt": new_end });
                record_change(&txn, None, &updated, SubscriptionChangeKind::Renewed, None, Some(after), now).await?;
            }
            txn.commit().await?;
            done += 1;
            progressed = true;
        }
        if !progressed {
            return Ok(done);
        }
    }
}

/// A subscription's history.
pub fn history(principal: Option<&Principal>, id: Uuid, now: DateTime<Utc>) -> Select<subscription_change::Entity> {
    use sea_orm::sea_query::Query;
    let visible_ids = Query::select()
        .column(subscription::Column::Id)
        .from(subscription::Entity)
        .cond_where(policy::subscriptions_scope(principal, now))
        .and_where(subscription::Column::Id.eq(id))
        .to_owned();
    subscription_change::Entity::find()
        .filter(subscription_change::Column::SubscriptionId.eq(id))
        .filter(subscription_change::Column::SubscriptionId.in_subquery(visible_ids))
}

/// A customer's subscriptions that the principal sees.
pub fn of_customer(
    principal: Option<&Principal>,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> Select<subscription::Entity> {
    visible(principal, now).filter(subscription::Column::CustomerId.eq(customer_id))
}
