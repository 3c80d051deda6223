//! Postings: commission from paid invoices, reversals, the release of held money and the
//! quarter's accelerator. Every posting has a unique `source_key`, so posting twice (a retry, two
//! nodes) finds the first; every state change is a new row whose (entry, seq) is unique, so two
//! concurrent changes of one entry cannot both land.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    commission_rule, invoice, invoice_line, ledger_entry, ledger_entry_state, organization, partner_of_record_claim,
    partnership, product, program, subscription,
};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TryInsertResult,
};
use serde_json::json;
use uuid::Uuid;

use super::current_states;
use crate::{
    db,
    domain::{
        EntryKind, EntrySource, EntryState, OrganizationKind, RecordClaimStatus,
        ledger::{self, Quarter},
    },
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
    service::{Ctx, audit, exact},
};

/// An entry to post, with the state it starts in.
pub struct NewEntry {
    pub partner_id: Uuid,
    pub kind: EntryKind,
    pub amount: Decimal,
    pub currency: String,
    pub source_type: EntrySource,
    pub source_id: Option<Uuid>,
    pub source_key: String,
    pub customer_id: Option<Uuid>,
    pub invoice_line_id: Option<Uuid>,
    pub rule_id: Option<Uuid>,
    pub rate: Option<Decimal>,
    pub base: Option<Decimal>,
    pub reverses_entry_id: Option<Uuid>,
    pub quarter: Quarter,
    pub description: String,
    pub earned_at: DateTime<Utc>,
    pub state: EntryState,
    pub hold_reason: Option<String>,
    pub release_at: Option<DateTime<Utc>>,
    pub batch_id: Option<Uuid>,
    pub reason: Option<String>,
}

/// Posts an entry and its first state; None when its source was already posted.
pub async fn post(
    db: &impl ConnectionTrait,
    new: NewEntry,
    now: DateTime<Utc>,
) -> AppResult<Option<ledger_entry::Model>> {
    let id = Uuid::now_v7();
    let row = ledger_entry::ActiveModel {
        id: Set(id),
        partner_id: Set(new.partner_id),
        kind: Set(new.kind),
        amount: Set(exact(new.amount)?),
        currency: Set(new.currency),
        source_type: Set(new.source_type),
        source_id: Set(new.source_id),
        source_key: Set(new.source_key),
        customer_id: Set(new.customer_id),
        invoice_line_id: Set(new.invoice_line_id),
        rule_id: Set(new.rule_id),
        rate: Set(new.rate.map(exact).transpose()?),
        base: Set(new.base.map(exact).transpose()?),
        reverses_entry_id: Set(new.reverses_entry_id),
        quarter: Set(new.quarter.to_string()),
        description: Set(new.description),
        earned_at: Set(new.earned_at),
        created_at: Set(now),
    };
    let inserted = ledger_entry::Entity::insert(row.clone())
        .on_conflict_do_nothing_on([ledger_entry::Column::SourceKey])
        .exec_without_returning(db)
        .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Ok(None);
    }
    let state = StateChange {
        state: new.state,
        hold_reason: new.hold_reason,
        release_at: new.release_at,
        batch_id: new.batch_id,
        reason: new.reason,
        actor_user_id: None,
    };
    insert_state(db, id, new.partner_id, 1, state, now).await?;
    let entry = ledger_entry::Entity::find_by_id(id).one(db).await?;
    entry.map(Some).ok_or_else(|| AppError::internal("a posted ledger entry vanished"))
}

/// A new state for an entry.
pub struct StateChange {
    pub state: EntryState,
    pub hold_reason: Option<String>,
    pub release_at: Option<DateTime<Utc>>,
    pub batch_id: Option<Uuid>,
    pub reason: Option<String>,
    pub actor_user_id: Option<Uuid>,
}

impl StateChange {
    pub fn to(state: EntryState) -> StateChange {
        StateChange { state, hold_reason: None, release_at: None, batch_id: None, reason: None, actor_user_id: None }
    }
}

async fn insert_state(
    db: &impl ConnectionTrait,
    entry_id: Uuid,
    partner_id: Uuid,
    seq: i32,
    change: StateChange,
    now: DateTime<Utc>,
) -> AppResult<ledger_entry_state::Model> {
    Ok(ledger_entry_state::ActiveModel {
        id: Set(Uuid::now_v7()),
        entry_id: Set(entry_id),
        partner_id: Set(partner_id),
        seq: Set(seq),
        state: Set(change.state),
        hold_reason: Set(change.hold_reason),
        release_at: Set(change.release_at),
        batch_id: Set(change.batch_id),
        reason: Set(change.reason),
        actor_user_id: Set(change.actor_user_id),
        created_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// Moves many entries on to the same state at once, as `transition` does one: a multi-row INSERT
/// per 500 (a payout of thousands of entries is a few statements, not one per entry). All or
/// nothing in the caller's transaction: a move not allowed, or one that lost a race on the unique
/// (entry, seq) or (entry, state), fails the whole.
pub async fn transition_many(
    db: &impl ConnectionTrait,
    from: &[&ledger_entry_state::Model],
    change: &StateChange,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut rows = Vec::with_capacity(from.len());
    for f in from {
        if !ledger::may_move(f.state, change.state) {
            return Err(AppError::Conflict(format!("the entry is {}; it cannot become {}", f.state, change.state)));
        }
        rows.push(ledger_entry_state::ActiveModel {
            id: Set(Uuid::now_v7()),
            entry_id: Set(f.entry_id),
            partner_id: Set(f.partner_id),
            seq: Set(f.seq + 1),
            state: Set(change.state),
            hold_reason: Set(change.hold_reason.clone()),
            release_at: Set(change.release_at),
            batch_id: Set(change.batch_id),
            reason: Set(change.reason.clone()),
            actor_user_id: Set(change.actor_user_id),
            created_at: Set(now),
        });
    }
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(500));
        ledger_entry_state::Entity::insert_many(rows).exec_without_returning(db).await?;
        rows = rest;
    }
    Ok(())
}

/// Moves an entry on from its current state `from`: a new row numbered after it. CONFLICT when
/// the move is not allowed, or another change of the entry landed first (the unique seq).
pub async fn transition(
    db: &impl ConnectionTrait,
    from: &ledger_entry_state::Model,
    change: StateChange,
    now: DateTime<Utc>,
) -> AppResult<ledger_entry_state::Model> {
    if !ledger::may_move(from.state, change.state) {
        return Err(AppError::Conflict(format!("the entry is {}; it cannot become {}", from.state, change.state)));
    }
    insert_state(db, from.entry_id, from.partner_id, from.seq + 1, change, now).await
}

/// The partner of record for each (customer, product) at `at`: a confirmed claim for the product
/// wins over one for all of the customer's products; a claim earns from its confirmation on.
fn record_for(
    claims: &[partner_of_record_claim::Model],
    customer_id: Uuid,
    product_id: Uuid,
    at: DateTime<Utc>,
) -> Option<&partner_of_record_claim::Model> {
    let live = |c: &&partner_of_record_claim::Model| {
        c.customer_id == customer_id
            && c.status == RecordClaimStatus::Confirmed
            && c.decided_at.is_some_and(|d| d <= at)
    };
    claims
        .iter()
        .filter(live)
        .find(|c| c.product_id == Some(product_id))
        .or_else(|| claims.iter().filter(live).find(|c| c.product_id.is_none()))
}

/// Posts the commission a paid invoice earns: one entry per line and applicable rule, for the
/// confirmed partner of record of the line's customer and product. Only invoices a customer pays
/// itself earn (a partner-billed invoice is the partner's own purchase). Held for the programme's
/// reversal window. Idempotent. Runs in the transaction that marks the invoice paid.
pub async fn accrue_invoice(db: &impl ConnectionTrait, inv: &invoice::Model, now: DateTime<Utc>) -> AppResult<usize> {
    let Some(paid_at) = inv.paid_at else { return Ok(0) };
    let payer = organization::Entity::find_by_id(inv.bill_to_organization_id).one(db).await?;
    if payer.is_none_or(|p| p.kind != OrganizationKind::Customer) {
        return Ok(0);
    }
    let claims = partner_of_record_claim::Entity::find()
        .filter(partner_of_record_claim::Column::CustomerId.eq(inv.bill_to_organization_id))
        .filter(partner_of_record_claim::Column::Status.eq(RecordClaimStatus::Confirmed))
        .all(db)
        .await?;
    // An affiliate's attribution earns where no partner of record does, while it lasts.
    let referred = entity::referral_attribution::Entity::find()
        .filter(entity::referral_attribution::Column::OrganizationId.eq(inv.bill_to_organization_id))
        .filter(entity::referral_attribution::Column::AttributedAt.lte(paid_at))
        .filter(entity::referral_attribution::Column::EndsAt.gt(paid_at))
        .one(db)
        .await?;
    if claims.is_empty() && referred.is_none() {
        return Ok(0);
    }
    let lines = invoice_line::Entity::find()
        .filter(invoice_line::Column::InvoiceId.eq(inv.id))
        .order_by_asc(invoice_line::Column::Position)
        .all(db)
        .await?;
    let sub_ids: Vec<Uuid> = lines.iter().filter_map(|l| l.subscription_id).collect();
    let subs: HashMap<Uuid, subscription::Model> = subscription::Entity::find()
        .filter(subscription::Column::Id.is_in(sub_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let products: HashMap<Uuid, product::Model> = product::Entity::find()
        .filter(product::Column::Id.is_in(subs.values().map(|s| s.product_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let partner_ids: Vec<Uuid> =
        claims.iter().map(|c| c.partner_id).chain(referred.iter().map(|r| r.partner_id)).collect();
    let placements =
        partnership::Entity::find().filter(partnership::Column::OrganizationId.is_in(partner_ids)).all(db).await?;
    let programs: HashMap<Uuid, program::Model> = program::Entity::find()
        .filter(program::Column::Id.is_in(placements.iter().map(|p| p.program_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let rules = commission_rule::Entity::find()
        .filter(commission_rule::Column::ProgramId.is_in(programs.keys().copied()))
        .filter(commission_rule::Column::Currency.eq(inv.currency.clone()))
        .filter(commission_rule::Column::ValidFrom.lte(paid_at))
        .order_by_asc(commission_rule::Column::Id)
        .all(db)
        .await?;
    let mut posted = 0;
    for line in &lines {
        let (Some(sub), Some(customer_id)) = (line.subscription_id.and_then(|id| subs.get(&id)), line.customer_id)
        else {
            continue;
        };
        let Some(product) = products.get(&sub.product_id) else { continue };
        // The partner of record, else the affiliate (in its referral programme only).
        let (earner, only_program, why) = match record_for(&claims, customer_id, product.id, paid_at) {
            Some(claim) => (claim.partner_id, None, "partner of record"),
            None => match &referred {
                Some(r) => (r.partner_id, Some(r.program_id), "referral"),
                None => continue,
            },
        };
        for place in
            placements.iter().filter(|p| p.organization_id == earner && only_program.is_none_or(|o| o == p.program_id))
        {
            let Some(program) = programs.get(&place.program_id) else { continue };
            let applicable = rules.iter().filter(|r| {
                r.program_id == place.program_id
                    && r.tier_id.is_none_or(|t| t == place.tier_id)
                    && r.product_line.as_deref().is_none_or(|l| l == product.product_line)
                    && r.valid_to.is_none_or(|to| paid_at < to)
            });
            for rule in applicable {
                let base = line.retail_net.to_decimal();
                let percent = rule.percent.to_decimal();
                let amount = ledger::commission(base, percent, &inv.currency);
                if amount.is_zero() {
                    continue;
                }
                let release = paid_at + TimeDelta::days(program.reversal_window_days.into());
                let held = release > now;
                let entry = NewEntry {
                    partner_id: earner,
                    kind: EntryKind::Commission,
                    amount,
                    currency: inv.currency.clone(),
                    source_type: EntrySource::InvoiceLine,
                    source_id: Some(line.id),
                    source_key: format!("commission:{}:{}", line.id, rule.id),
                    customer_id: Some(customer_id),
                    invoice_line_id: Some(line.id),
                    rule_id: Some(rule.id),
                    rate: Some(percent),
                    base: Some(base),
                    reverses_entry_id: None,
                    quarter: Quarter::of(paid_at),
                    description: format!(
                        "{}% {why} commission on {} {} of invoice {}, line {}: {}",
                        percent.normalize(),
                        base,
                        inv.currency,
                        inv.number,
                        line.position,
                        line.description
                    ),
                    earned_at: paid_at,
                    state: if held { EntryState::Pending } else { EntryState::Approved },
                    hold_reason: held.then(|| ledger::reversal_window_hold(release)),
                    release_at: held.then_some(release),
                    batch_id: None,
                    reason: None,
                };
                if post(db, entry, now).await?.is_some() {
                    posted += 1;
                }
            }
        }
    }
    Ok(posted)
}

/// Reverses an entry: a REVERSAL entry of the opposite amount. Unpaid, the two cancel each
/// other (both REVERSED); paid, the reversal is owed back and comes off the next payout.
/// Nothing for an entry already reversed or written off.
pub async fn reverse(
    db: &impl ConnectionTrait,
    entry: &ledger_entry::Model,
    current: &ledger_entry_state::Model,
    why: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let unpaid = matches!(current.state, EntryState::Pending | EntryState::Approved);
    if !unpaid && current.state != EntryState::Paid {
        return Ok(false);
    }
    let reversal = NewEntry {
        partner_id: entry.partner_id,
        kind: EntryKind::Reversal,
        amount: -entry.amount.to_decimal(),
        currency: entry.currency.clone(),
        source_type: EntrySource::LedgerEntry,
        source_id: Some(entry.id),
        source_key: format!("reversal:{}", entry.id),
        customer_id: entry.customer_id,
        invoice_line_id: entry.invoice_line_id,
        rule_id: entry.rule_id,
        rate: entry.rate.map(|r| r.to_decimal()),
        base: entry.base.map(|b| -b.to_decimal()),
        reverses_entry_id: Some(entry.id),
        quarter: Quarter::of(now),
        description: format!("reverses: {} ({why})", entry.description),
        earned_at: now,
        state: if unpaid { EntryState::Reversed } else { EntryState::Approved },
        hold_reason: None,
        release_at: None,
        batch_id: None,
        reason: Some(why.to_string()),
    };
    if post(db, reversal, now).await?.is_none() {
        return Ok(false);
    }
    if unpaid {
        let change = StateChange { reason: Some(why.to_string()), ..StateChange::to(EntryState::Reversed) };
        transition(db, current, change, now).await?;
    }
    Ok(true)
}

async fn reverse_lines(
    db: &impl ConnectionTrait,
    line_ids: Vec<Uuid>,
    only_within_window: bool,
    why: &str,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if line_ids.is_empty() {
        return Ok(0);
    }
    let entries = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::InvoiceLineId.is_in(line_ids))
        .filter(ledger_entry::Column::Kind.eq(EntryKind::Commission))
        .all(db)
        .await?;
    let states = current_states(db, &entries.iter().map(|e| e.id).collect::<Vec<_>>()).await?;
    let mut reversed = 0;
    for entry in &entries {
        let Some(current) = states.get(&entry.id) else { continue };
        // Inside the window means still held for it: released money stays earned.
        if only_within_window && !(current.state == EntryState::Pending && current.release_at.is_some_and(|r| r > now))
        {
            continue;
        }
        if reverse(db, entry, current, why, now).await? {
            reversed += 1;
        }
    }
    Ok(reversed)
}

/// A refunded invoice takes back all the commission it earned.
pub async fn reverse_invoice(db: &impl ConnectionTrait, inv: &invoice::Model, now: DateTime<Utc>) -> AppResult<usize> {
    let lines: Vec<Uuid> = invoice_line::Entity::find()
        .filter(invoice_line::Column::InvoiceId.eq(inv.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    reverse_lines(db, lines, false, &format!("invoice {} refunded", inv.number), now).await
}

/// A subscription cancelled inside the reversal window takes back the commission still held
/// for that window; after the window, commission stands.
pub async fn reverse_cancelled(
    db: &impl ConnectionTrait,
    subscription_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let lines: Vec<Uuid> = invoice_line::Entity::find()
        .filter(invoice_line::Column::SubscriptionId.eq(subscription_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    reverse_lines(db, lines, true, "subscription cancelled inside the reversal window", now).await
}

/// Approves held entries whose release date has passed. Each entry in its own short
/// transaction; a node that loses the race to another (the unique seq) skips it.
pub async fn release_due(ctx: &Ctx) -> AppResult<usize> {
    let now = ctx.now();
    let due = ledger_entry_state::Entity::find()
        .filter(ledger_entry_state::Column::State.eq(EntryState::Pending))
        .filter(ledger_entry_state::Column::ReleaseAt.lte(now))
        .filter(super::latest_state())
        .all(&ctx.db)
        .await?;
    let mut released = 0;
    for held in due {
        let txn = db::begin_write(&ctx.db).await?;
        match transition(&txn, &held, StateChange::to(EntryState::Approved), now).await {
            Ok(_) => {
                txn.commit().await?;
                released += 1;
            }
            Err(AppError::Conflict(_)) => txn.rollback().await?,
            Err(other) => return Err(other),
        }
    }
    Ok(released)
}

/// Closes a quarter: for each partner and rule with an accelerator whose quarterly target was
/// met, an ADJUSTMENT entry tops the quarter's commission up to the higher rate. Nothing is
/// edited; a second close (or a second node) finds the adjustments posted. Staff (ADMIN or
/// FINANCE), or the job (no principal) once the quarter is over.
pub async fn close_quarter(
    ctx: &Ctx,
    principal: Option<&Principal>,
    quarter: Quarter,
) -> AppResult<Vec<ledger_entry::Model>> {
    if let Some(p) = principal {
        policy::can(p, Action::ManageLedger)?;
    }
    let now = ctx.now();
    if now < quarter.end() {
        return Err(AppError::bad_input("quarter", format!("{quarter} is not over yet")));
    }
    let rules = commission_rule::Entity::find()
        .filter(commission_rule::Column::QuarterlyTarget.is_not_null())
        .filter(commission_rule::Column::AcceleratedPercent.is_not_null())
        .all(&ctx.db)
        .await?;
    let txn = db::begin_write(&ctx.db).await?;
    let entries = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::Quarter.eq(quarter.to_string()))
        .filter(ledger_entry::Column::RuleId.is_in(rules.iter().map(|r| r.id)))
        .filter(ledger_entry::Column::Kind.is_in([EntryKind::Commission, EntryKind::Reversal]))
        .all(&txn)
        .await?;
    let states = current_states(&txn, &entries.iter().map(|e| e.id).collect::<Vec<_>>()).await?;
    // (partner, rule) -> (net base, posted)
    let mut sums: HashMap<(Uuid, Uuid), (Decimal, Decimal)> = HashMap::new();
    for e in &entries {
        let written_off =
            states.get(&e.id).is_some_and(|s| matches!(s.state, EntryState::Duplicate | EntryState::Fraud));
        let (Some(rule), false) = (e.rule_id, written_off) else { continue };
        let sum = sums.entry((e.partner_id, rule)).or_default();
        sum.0 += e.base.map(|b| b.to_decimal()).unwrap_or_default();
        sum.1 += e.amount.to_decimal();
    }
    let mut keys: Vec<_> = sums.keys().copied().collect();
    keys.sort();
    let mut made = Vec::new();
    for (partner_id, rule_id) in keys {
        let (base, posted) = sums[&(partner_id, rule_id)];
        let Some(rule) = rules.iter().find(|r| r.id == rule_id) else { continue };
        let target = rule.quarterly_target.map(|t| t.to_decimal());
        let accelerated = rule.accelerated_percent.map(|a| a.to_decimal());
        let Some(amount) = ledger::accelerator_adjustment(base, posted, target, accelerated, &rule.currency) else {
            continue;
        };
        let entry = NewEntry {
            partner_id,
            kind: EntryKind::Adjustment,
            amount,
            currency: rule.currency.clone(),
            source_type: EntrySource::QuarterClose,
            source_id: Some(rule.id),
            source_key: format!("accelerator:{partner_id}:{}:{quarter}", rule.id),
            customer_id: None,
            invoice_line_id: None,
            rule_id: Some(rule.id),
            rate: accelerated,
            base: Some(base),
            reverses_entry_id: None,
            quarter,
            description: format!(
                "{quarter} target of {} {} reached with {base}: commission raised to {}% (from {}%)",
                target.unwrap_or_default().normalize(),
                rule.currency,
                accelerated.unwrap_or_default().normalize(),
                rule.percent.to_decimal().normalize()
            ),
            earned_at: quarter.end() - TimeDelta::seconds(1),
            state: EntryState::Approved,
            hold_reason: None,
            release_at: None,
            batch_id: None,
            reason: None,
        };
        if let Some(posted) = post(&txn, entry, now).await? {
            made.push(posted);
        }
    }
    let event = audit::Event {
        action: "ledger.quarter_closed",
        target_type: "Quarter",
        target_id: None,
        customer_id: None,
        before: None,
        after: Some(json!({ "quarter": quarter.to_string(), "adjustments": made.len() })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    Ok(made)
}

/// Staff mark an open entry DUPLICATE or FRAUD, with a reason; for FRAUD on an entry earned on a
/// customer, every open entry of that partner and customer is held the same way.
pub async fn mark(
    ctx: &Ctx,
    principal: Option<&Principal>,
    entry_id: Uuid,
    state: EntryState,
    reason: &str,
) -> AppResult<Vec<ledger_entry::Model>> {
    let p = policy::signed_in(principal)?;
    policy::can(p, Action::ManageLedger)?;
    if !matches!(state, EntryState::Duplicate | EntryState::Fraud) {
        return Err(AppError::bad_input("state", "staff mark entries DUPLICATE or FRAUD"));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::bad_input("reason", "must be 1 to 2000 characters"));
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let entry = ledger_entry::Entity::find_by_id(entry_id).one(&txn).await?.ok_or(AppError::NotFound("LedgerEntry"))?;
    let mut targets = vec![entry.clone()];
    if state == EntryState::Fraud
        && let Some(customer) = entry.customer_id
    {
        targets = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::PartnerId.eq(entry.partner_id))
            .filter(ledger_entry::Column::CustomerId.eq(customer))
            .all(&txn)
            .await?;
    }
    let states = current_states(&txn, &targets.iter().map(|e| e.id).collect::<Vec<_>>()).await?;
    let mut marked = Vec::new();
    for target in targets {
        let Some(current) = states.get(&target.id) else { continue };
        let open = matches!(current.state, EntryState::Pending | EntryState::Approved);
        if !open {
            if target.id == entry.id {
                return Err(AppError::Conflict(format!(
                    "the entry is {}; only open entries are marked",
                    current.state
                )));
            }
            continue;
        }
        let change =
            StateChange { reason: Some(reason.into()), actor_user_id: Some(p.user_id()), ..StateChange::to(state) };
        transition(&txn, current, change, now).await?;
        marked.push(target);
    }
    let event = audit::Event {
        action: "ledger.entry_marked",
        target_type: "LedgerEntry",
        target_id: Some(entry.id),
        customer_id: entry.customer_id,
        before: None,
        after: Some(json!({ "state": state, "reason": reason, "entries": marked.len() })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    Ok(marked)
}

/// A commission rule, as staff give it.
pub struct NewRule {
    pub program_id: Uuid,
    pub tier_id: Option<Uuid>,
    pub product_line: Option<String>,
    pub percent: Decimal,
    pub accelerated_percent: Option<Decimal>,
    pub quarterly_target: Option<(Decimal, String)>,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
}

/// Adds a commission rule (staff ADMIN or FINANCE). Rules are data: a change of rate is a new
/// rule valid from a date, and the old one given an end by another rule's start.
pub async fn create_rule(ctx: &Ctx, principal: Option<&Principal>, new: NewRule) -> AppResult<commission_rule::Model> {
    let p = policy::signed_in(principal)?;
    policy::can(p, Action::ManageLedger)?;
    let program =
        program::Entity::find_by_id(new.program_id).one(&ctx.db).await?.ok_or(AppError::NotFound("Program"))?;
    if let Some(tier) = new.tier_id {
        let found = entity::tier::Entity::find_by_id(tier).one(&ctx.db).await?;
        if found.is_none_or(|t| t.program_id != program.id) {
            return Err(AppError::bad_input("tierId", "is not a tier of that programme"));
        }
    }
    let percent_ok = |p: Decimal| p > Decimal::ZERO && p <= Decimal::ONE_HUNDRED;
    if !percent_ok(new.percent) {
        return Err(AppError::bad_input("percent", "must be more than 0 and at most 100"));
    }
    let target = match (new.quarterly_target, new.accelerated_percent) {
        (None, None) => None,
        (Some((amount, currency)), Some(accelerated)) => {
            if !currency.trim().eq_ignore_ascii_case(&program.currency) {
                return Err(AppError::bad_input(
                    "quarterlyTarget",
                    format!("must be in the programme's currency, {}", program.currency),
                ));
            }
            if amount <= Decimal::ZERO {
                return Err(AppError::bad_input("quarterlyTarget", "must be positive"));
            }
            if !percent_ok(accelerated) || accelerated <= new.percent {
                return Err(AppError::bad_input("acceleratedPercent", "must be above percent and at most 100"));
            }
            Some(amount)
        }
        (Some(_), None) => return Err(AppError::bad_input("acceleratedPercent", "a target needs the rate it unlocks")),
        (None, Some(_)) => return Err(AppError::bad_input("quarterlyTarget", "an accelerated rate needs its target")),
    };
    if new.valid_to.is_some_and(|to| to <= new.valid_from) {
        return Err(AppError::bad_input("validTo", "must be after validFrom"));
    }
    let line = new.product_line.map(|l| l.trim().to_string()).filter(|l| !l.is_empty());
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let rule = commission_rule::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program.id),
        tier_id: Set(new.tier_id),
        product_line: Set(line),
        percent: Set(crate::service::fixed("percent", new.percent)?),
        accelerated_percent: Set(new
            .accelerated_percent
            .map(|a| crate::service::fixed("acceleratedPercent", a))
            .transpose()?),
        quarterly_target: Set(target.map(|t| crate::service::fixed("quarterlyTarget", t)).transpose()?),
        currency: Set(program.currency.clone()),
        valid_from: Set(new.valid_from),
        valid_to: Set(new.valid_to),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let event = audit::Event {
        action: "commission_rule.created",
        target_type: "CommissionRule",
        target_id: Some(rule.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "program": program.id, "percent": rule.percent, "accelerated": rule.accelerated_percent })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    Ok(rule)
}

/// Commission rules of a programme: published terms, like the programme itself.
pub async fn rules(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    program_id: Uuid,
) -> AppResult<Vec<commission_rule::Model>> {
    Ok(commission_rule::Entity::find()
        .filter(commission_rule::Column::ProgramId.eq(program_id))
        .filter(policy::programs_scope(principal))
        .order_by_asc(commission_rule::Column::Id)
        .all(db)
        .await?)
}
