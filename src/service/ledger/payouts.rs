//! Payout batches, exactly once. A batch pays each partner its approved, unpaid balance in the
//! batch's currency when it reaches the programme's minimum. The database enforces the
//! invariant: an entry is PAID once (unique (entry, state)), a partner appears once per batch
//! (unique (batch, partner)), one batch per currency runs at a time (unique running currency),
//! and a key names one batch (unique key). Each partner is paid in its own transaction, so a node
//! killed half-way leaves whole partners paid or not; whoever runs payouts next (a retry, the
//! job, another node) completes the running batch before anything else.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};
use entity::{ledger_entry, ledger_entry_state, partnership, payout_batch, payout_counter, payout_statement, program};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;
use uuid::Uuid;

use super::{
    latest_state,
    post::{self, NewEntry, StateChange},
};
use crate::{
    db,
    domain::{
        EntryKind, EntrySource, EntryState, PayoutStatus,
        ledger::{self, Quarter},
        notifications::NotificationKind,
    },
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
    service::{Ctx, audit, exact, notifications, programs::programme_currency},
};

/// Batches the principal sees.
pub fn visible(principal: Option<&Principal>) -> Select<payout_batch::Entity> {
    payout_batch::Entity::find().filter(policy::payout_batches_scope(principal))
}

/// Statements of a batch the principal reads (staff: all; a partner: its own).
pub async fn statements(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    batch_ids: &[Uuid],
) -> AppResult<Vec<payout_statement::Model>> {
    Ok(payout_statement::Entity::find()
        .filter(payout_statement::Column::BatchId.is_in(batch_ids.iter().copied()))
        .filter(policy::ledger_scope(principal, (payout_statement::Entity, payout_statement::Column::PartnerId)))
        .order_by_asc(payout_statement::Column::Id)
        .all(db)
        .await?)
}

/// The entries a statement paid, for its CSV.
pub async fn paid_entries(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    batch_id: Uuid,
) -> AppResult<Vec<(ledger_entry::Model, ledger_entry_state::Model)>> {
    let states = ledger_entry_state::Entity::find()
        .filter(ledger_entry_state::Column::BatchId.eq(batch_id))
        .filter(ledger_entry_state::Column::State.eq(EntryState::Paid))
        .filter(policy::ledger_scope(principal, (ledger_entry_state::Entity, ledger_entry_state::Column::PartnerId)))
        .all(db)
        .await?;
    let mut entries: HashMap<Uuid, ledger_entry::Model> = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::Id.is_in(states.iter().map(|s| s.entry_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut rows: Vec<_> = states.into_iter().filter_map(|s| entries.remove(&s.entry_id).map(|e| (e, s))).collect();
    rows.sort_by_key(|(e, _)| (e.partner_id, e.id));
    Ok(rows)
}

async fn next_number(db: &impl ConnectionTrait, year: i32) -> AppResult<String> {
    payout_counter::Entity::insert(payout_counter::ActiveModel { year: Set(year), last_number: Set(0) })
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
    payout_counter::Entity::update_many()
        .col_expr(payout_counter::Column::LastNumber, Expr::col(payout_counter::Column::LastNumber).add(1))
        .filter(payout_counter::Column::Year.eq(year))
        .exec(db)
        .await?;
    let counter = payout_counter::Entity::find_by_id(year)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("the payout counter vanished"))?;
    Ok(format!("PO-{year}-{:06}", counter.last_number))
}

/// The minimum payout per partner in a currency: the highest minimum of its programmes in it.
async fn minimums(db: &impl ConnectionTrait, currency: &str) -> AppResult<HashMap<Uuid, Decimal>> {
    let programs: HashMap<Uuid, program::Model> = program::Entity::find()
        .filter(program::Column::Currency.eq(currency))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let places = partnership::Entity::find()
        .filter(partnership::Column::ProgramId.is_in(programs.keys().copied()))
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, Decimal> = HashMap::new();
    for place in places {
        if let Some(min) = programs.get(&place.program_id).and_then(|p| p.min_payout) {
            let m = out.entry(place.organization_id).or_default();
            *m = (*m).max(min.to_decimal());
        }
    }
    Ok(out)
}

/// The approved, unpaid entries of a currency, current state included, for one partner or all.
async fn approved(
    db: &impl ConnectionTrait,
    currency: &str,
    partner_id: Option<Uuid>,
) -> AppResult<Vec<(ledger_entry::Model, ledger_entry_state::Model)>> {
    let mut states = ledger_entry_state::Entity::find()
        .filter(ledger_entry_state::Column::State.eq(EntryState::Approved))
        .filter(latest_state());
    if let Some(partner) = partner_id {
        states = states.filter(ledger_entry_state::Column::PartnerId.eq(partner));
    }
    let states = states.all(db).await?;
    let mut entries: HashMap<Uuid, ledger_entry::Model> = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::Id.is_in(states.iter().map(|s| s.entry_id)))
        .filter(ledger_entry::Column::Currency.eq(currency))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    Ok(states.into_iter().filter_map(|s| entries.remove(&s.entry_id).map(|e| (e, s))).collect())
}

/// Whether any partner is owed at least its minimum in the currency.
async fn payable(ctx: &Ctx, code: &str) -> AppResult<bool> {
    let owed = approved(&ctx.db, code, None).await?;
    let minimums = minimums(&ctx.db, code).await?;
    let mut totals: HashMap<Uuid, Decimal> = HashMap::new();
    for (e, _) in &owed {
        *totals.entry(e.partner_id).or_default() += e.amount.to_decimal();
    }
    Ok(totals.iter().any(|(p, t)| *t > Decimal::ZERO && minimums.get(p).is_none_or(|m| t >= m)))
}

/// What a batch run did.
pub struct Run {
    pub batch: payout_batch::Model,
    /// Partners paid by this call (0 when another call had paid them).
    pub paid_now: usize,
}

/// `runPayout`: staff ADMIN or FINANCE, or the schedule (no principal). Completes a running batch
/// of the currency first; then, unless the key names that batch, starts and completes a new one.
#[tracing::instrument(skip_all, fields(currency = %currency_code))]
pub async fn run(ctx: &Ctx, principal: Option<&Principal>, key: &str, currency_code: &str) -> AppResult<Run> {
    if let Some(p) = principal {
        policy::can(p, Action::RunPayout)?;
    }
    let key = key.trim();
    if key.is_empty() || key.len() > 200 {
        return Err(AppError::bad_input("idempotencyKey", "must be 1 to 200 characters"));
    }
    let code = programme_currency(&ctx.db, "currency", currency_code).await?;
    let mut paid_now = 0;
    if let Some(keyed) =
        payout_batch::Entity::find().filter(payout_batch::Column::IdempotencyKey.eq(key)).one(&ctx.db).await?
    {
        if keyed.currency != code {
            return Err(AppError::Conflict("this idempotency key was already used with different input".into()));
        }
        paid_now += complete(ctx, &keyed).await?;
        return Ok(Run { batch: reload(ctx, keyed.id).await?, paid_now });
    }
    if let Some(running) = running(ctx, &code).await? {
        paid_now += complete(ctx, &running).await?;
    }
    // Another call may start a batch at the same moment: with this key (a retry racing its
    // original: answer with that batch), or another key for this currency (complete that one
    // first, then start ours, so that the key always names one batch).
    let mut attempts = 0;
    let batch = loop {
        attempts += 1;
        match start(ctx, principal, key, &code).await {
            Ok(batch) => break batch,
            Err(AppError::Conflict(message)) => {
                let keyed = payout_batch::Entity::find()
                    .filter(payout_batch::Column::IdempotencyKey.eq(key))
                    .one(&ctx.db)
                    .await?;
                if let Some(b) = keyed {
                    if b.currency != code {
                        return Err(AppError::Conflict(
                            "this idempotency key was already used with different input".into(),
                        ));
                    }
                    break b;
                }
                if let Some(other) = running(ctx, &code).await? {
                    paid_now += complete(ctx, &other).await?;
                }
                if attempts >= 5 {
                    return Err(AppError::Conflict(message));
                }
            }
            Err(other) => return Err(other),
        }
    };
    paid_now += complete(ctx, &batch).await?;
    Ok(Run { batch: reload(ctx, batch.id).await?, paid_now })
}

async fn reload(ctx: &Ctx, id: Uuid) -> AppResult<payout_batch::Model> {
    payout_batch::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AppError::NotFound("PayoutBatch"))
}

async fn running(ctx: &Ctx, code: &str) -> AppResult<Option<payout_batch::Model>> {
    Ok(payout_batch::Entity::find().filter(payout_batch::Column::RunningCurrency.eq(code)).one(&ctx.db).await?)
}

async fn start(ctx: &Ctx, principal: Option<&Principal>, key: &str, code: &str) -> AppResult<payout_batch::Model> {
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let number = next_number(&txn, now.year()).await?;
    let batch = payout_batch::ActiveModel {
        id: Set(Uuid::now_v7()),
        number: Set(number),
        currency: Set(code.to_string()),
        running_currency: Set(Some(code.to_string())),
        idempotency_key: Set(key.to_string()),
        status: Set(PayoutStatus::Running),
        created_by_user_id: Set(principal.map(Principal::user_id)),
        created_at: Set(now),
        completed_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let event = audit::Event {
        action: "payout.started",
        target_type: "PayoutBatch",
        target_id: Some(batch.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "number": batch.number, "currency": code })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    Ok(batch)
}

/// Pays every partner not yet paid in the batch, then marks it complete. Safe to run on
/// several nodes at once and again after a crash. Returns how many partners this call paid.
pub async fn complete(ctx: &Ctx, batch: &payout_batch::Model) -> AppResult<usize> {
    if batch.status == PayoutStatus::Completed {
        return Ok(0);
    }
    let owed = approved(&ctx.db, &batch.currency, None).await?;
    let mut partners: Vec<Uuid> = owed.iter().map(|(e, _)| e.partner_id).collect();
    partners.sort();
    partners.dedup();
    let minimums = minimums(&ctx.db, &batch.currency).await?;
    let mut paid = 0;
    for partner in partners {
        match pay_partner(ctx, batch, partner, minimums.get(&partner).copied()).await {
            Ok(true) => paid += 1,
            Ok(false) => {}
            // Another node paid this partner (or one of its entries moved) at the same moment:
            // what is paid stays paid; what moved waits for the next batch.
            Err(AppError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    payout_batch::Entity::update_many()
        .col_expr(payout_batch::Column::Status, Expr::value(PayoutStatus::Completed))
        .col_expr(payout_batch::Column::RunningCurrency, Expr::value(Option::<String>::None))
        .col_expr(payout_batch::Column::CompletedAt, Expr::value(Some(ctx.now())))
        .filter(payout_batch::Column::Id.eq(batch.id))
        .filter(payout_batch::Column::Status.eq(PayoutStatus::Running))
        .exec(&ctx.db)
        .await?;
    Ok(paid)
}

async fn pay_partner(
    ctx: &Ctx,
    batch: &payout_batch::Model,
    partner_id: Uuid,
    minimum: Option<Decimal>,
) -> AppResult<bool> {
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let done = payout_statement::Entity::find()
        .filter(payout_statement::Column::BatchId.eq(batch.id))
        .filter(payout_statement::Column::PartnerId.eq(partner_id))
        .one(&txn)
        .await?;
    if done.is_some() {
        return Ok(false);
    }
    let owed = approved(&txn, &batch.currency, Some(partner_id)).await?;
    let total: Decimal = owed.iter().map(|(e, _)| e.amount.to_decimal()).sum();
    // Below the minimum (or nothing, or less than nothing after reversals): carried over.
    if owed.is_empty() || total <= Decimal::ZERO || minimum.is_some_and(|m| total < m) {
        return Ok(false);
    }
    let change = StateChange { batch_id: Some(batch.id), ..StateChange::to(EntryState::Paid) };
    let currents: Vec<&ledger_entry_state::Model> = owed.iter().map(|(_, current)| current).collect();
    post::transition_many(&txn, &currents, &change, now).await?;
    payout_statement::ActiveModel {
        id: Set(Uuid::now_v7()),
        batch_id: Set(batch.id),
        partner_id: Set(partner_id),
        amount: Set(exact(total)?),
        currency: Set(batch.currency.clone()),
        entries: Set(i32::try_from(owed.len()).unwrap_or(i32::MAX)),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let payout = NewEntry {
        partner_id,
        kind: EntryKind::Payout,
        amount: -total,
        currency: batch.currency.clone(),
        source_type: EntrySource::PayoutBatch,
        source_id: Some(batch.id),
        source_key: format!("payout:{}:{partner_id}", batch.id),
        customer_id: None,
        invoice_line_id: None,
        rule_id: None,
        rate: None,
        base: None,
        reverses_entry_id: None,
        quarter: Quarter::of(now),
        description: format!("paid in payout batch {}: {} entries", batch.number, owed.len()),
        earned_at: now,
        state: EntryState::Paid,
        hold_reason: None,
        release_at: None,
        batch_id: Some(batch.id),
        reason: None,
    };
    post::post(&txn, payout, now).await?;
    let body = json!({
        "batchId": ids::encode(NodeType::PayoutBatch, batch.id),
        "number": batch.number,
        "amount": total.to_string(),
        "currency": batch.currency,
        "entries": owed.len(),
    });
    notifications::enqueue(&txn, NotificationKind::PayoutMade, partner_id, None, body, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// The schedule: on the first day of each payout slot (every 1 to 3 months, a programme
/// setting), one batch per programme currency, keyed by the slot, so every node may run it.
pub async fn run_scheduled(ctx: &Ctx) -> AppResult<usize> {
    let now = ctx.now();
    let programs = program::Entity::find().all(&ctx.db).await?;
    let mut by_currency: HashMap<String, i32> = HashMap::new();
    for p in programs {
        let interval = by_currency.entry(p.currency.clone()).or_insert(p.payout_interval_months);
        *interval = std::cmp::min(*interval, p.payout_interval_months);
    }
    let mut ran = 0;
    for (code, interval) in by_currency {
        let slot = ledger::payout_slot(now, u32::try_from(interval).unwrap_or(3));
        let key = format!("schedule:{code}:{}", slot.format("%Y-%m"));
        if let Some(batch) = running(ctx, &code).await? {
            complete(ctx, &batch).await?;
        }
        // A slot with nobody owed the minimum makes no empty batch.
        let keyed = payout_batch::Entity::find()
            .filter(payout_batch::Column::IdempotencyKey.eq(key.as_str()))
            .one(&ctx.db)
            .await?;
        if keyed.is_none() && !payable(ctx, &code).await? {
            continue;
        }
        run(ctx, None, &key, &code).await?;
        ran += 1;
    }
    Ok(ran)
}

/// The next scheduled payout for a partner's programmes (the soonest).
pub fn next_payout_at(places: &super::Places, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    places.programs().map(|p| ledger::next_payout(now, u32::try_from(p.payout_interval_months).unwrap_or(3))).min()
}

/// A batch the principal sees, by number.
pub async fn by_number(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    number: &str,
) -> AppResult<Option<payout_batch::Model>> {
    Ok(visible(principal).filter(payout_batch::Column::Number.eq(number.trim().to_uppercase())).one(db).await?)
}

/// The names of the partners in rows the caller already read under the ledger's scope.
pub async fn partner_names(db: &impl ConnectionTrait, partner_ids: &[Uuid]) -> AppResult<HashMap<Uuid, String>> {
    Ok(entity::organization::Entity::find()
        .filter(entity::organization::Column::Id.is_in(partner_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}
