//! The partner ledger (issue 15): append-only entries whose states are rows of their own,
//! balances summed in SQL, commissions posted from paid invoices, reversals, the release of
//! held money, quarter closes, partner-of-record claims and payout batches.

pub mod payouts;
pub mod post;
pub mod records;
pub mod referrals;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{ledger_entry, ledger_entry_state};
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use uuid::Uuid;

use crate::{
    domain::{
        EntryKind, EntryState,
        ledger::{Balance, Balances},
    },
    error::{AppError, AppResult},
    policy,
    principal::Principal,
};

/// The states of money earned and not yet paid out.
pub const UNPAID: [EntryState; 2] = [EntryState::Pending, EntryState::Approved];

/// A state row that is its entry's current one: no later row of the same entry exists.
pub fn latest_state() -> Condition {
    let later = Alias::new("later");
    Condition::all().add(
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from_as(ledger_entry_state::Entity, later.clone())
                .and_where(
                    Expr::col((later.clone(), ledger_entry_state::Column::EntryId))
                        .equals((ledger_entry_state::Entity, ledger_entry_state::Column::EntryId)),
                )
                .and_where(
                    Expr::col((later, ledger_entry_state::Column::Seq))
                        .gt(Expr::col((ledger_entry_state::Entity, ledger_entry_state::Column::Seq))),
                )
                .to_owned(),
        )
        .not(),
    )
}

/// What a partner's ledger list filters on.
#[derive(Default)]
pub struct Filter {
    pub partner_id: Option<Uuid>,
    pub kind: Option<EntryKind>,
    pub state: Option<EntryState>,
    pub quarter: Option<String>,
}

/// Ledger entries the principal reads, filtered; the state filter reads the current state in SQL.
pub fn entries(principal: Option<&Principal>, filter: &Filter) -> AppResult<Select<ledger_entry::Entity>> {
    let mut select = ledger_entry::Entity::find()
        .filter(policy::ledger_scope(principal, (ledger_entry::Entity, ledger_entry::Column::PartnerId)));
    if let Some(partner) = filter.partner_id {
        select = select.filter(ledger_entry::Column::PartnerId.eq(partner));
    }
    if let Some(kind) = filter.kind {
        select = select.filter(ledger_entry::Column::Kind.eq(kind));
    }
    if let Some(quarter) = &filter.quarter {
        let q = crate::service::field("quarter", crate::domain::ledger::Quarter::parse(quarter))?;
        select = select.filter(ledger_entry::Column::Quarter.eq(q.to_string()));
    }
    if let Some(state) = filter.state {
        let mut current = Query::select()
            .column((ledger_entry_state::Entity, ledger_entry_state::Column::EntryId))
            .from(ledger_entry_state::Entity)
            .and_where(Expr::col((ledger_entry_state::Entity, ledger_entry_state::Column::State)).eq(state.as_str()))
            .cond_where(latest_state())
            .to_owned();
        if let Some(partner) = filter.partner_id {
            current
                .and_where(Expr::col((ledger_entry_state::Entity, ledger_entry_state::Column::PartnerId)).eq(partner));
        }
        select = select.filter(ledger_entry::Column::Id.in_subquery(current));
    }
    Ok(select)
}

/// The current state of each entry, in one statement (the caller read the entries under scope).
pub async fn current_states(
    db: &impl ConnectionTrait,
    entry_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, ledger_entry_state::Model>> {
    if entry_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = ledger_entry_state::Entity::find()
        .filter(ledger_entry_state::Column::EntryId.is_in(entry_ids.iter().copied()))
        .filter(latest_state())
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|s| (s.entry_id, s)).collect())
}

/// The entries of one partner joined to their current states, under the ledger's policy: what
/// every sum of the ledger starts from.
pub fn partner_entries(principal: Option<&Principal>, partner_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    let (e, s) = (ledger_entry::Entity, ledger_entry_state::Entity);
    Query::select()
        .from(e)
        .inner_join(s, Expr::col((s, ledger_entry_state::Column::EntryId)).equals((e, ledger_entry::Column::Id)))
        .and_where(Expr::col((e, ledger_entry::Column::PartnerId)).eq(partner_id))
        .cond_where(policy::ledger_scope(principal, (e, ledger_entry::Column::PartnerId)))
        .cond_where(latest_state())
        .to_owned()
}

/// Adds one summed row (kind, current state, amount, currency) to the balances; an unknown kind
/// or state is an error, not a silent zero.
pub fn add_balance_row(out: &mut Balances, kind: &str, state: &str, amount: Decimal, currency: &str) -> AppResult<()> {
    let (Some(k), Some(st)) = (EntryKind::parse(kind), EntryState::parse(state)) else {
        return Err(AppError::internal(format!("ledger row of kind {kind} in state {state}")));
    };
    out.add(k, st, amount, currency);
    Ok(())
}

/// A partner's balances per currency, summed in SQL from the entries and their current states;
/// nothing is stored. One statement.
pub async fn balances(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    partner_id: Uuid,
) -> AppResult<Balances> {
    #[derive(sea_orm::FromQueryResult)]
    struct Sum {
        currency: String,
        kind: String,
        state: String,
        amount: i64,
    }
    let (e, s) = (ledger_entry::Entity, ledger_entry_state::Entity);
    let query = partner_entries(principal, partner_id)
        .column((e, ledger_entry::Column::Currency))
        .column((e, ledger_entry::Column::Kind))
        .column((s, ledger_entry_state::Column::State))
        .expr_as(crate::db::sum_fixed((e, ledger_entry::Column::Amount)), Alias::new("amount"))
        .group_by_col((e, ledger_entry::Column::Currency))
        .group_by_col((e, ledger_entry::Column::Kind))
        .group_by_col((s, ledger_entry_state::Column::State))
        .to_owned();
    let rows =
        <Sum as sea_orm::FromQueryResult>::find_by_statement(db.get_database_backend().build(&query)).all(db).await?;
    let mut out = Balances::default();
    for r in rows {
        add_balance_row(&mut out, &r.kind, &r.state, entity::fixed::Fixed(r.amount).to_decimal(), &r.currency)?;
    }
    Ok(out)
}

/// Held money of a partner, per reason and release date (PENDING entries), in one statement.
pub async fn holds(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    partner_id: Uuid,
) -> AppResult<Vec<(String, Option<DateTime<Utc>>, Decimal, String)>> {
    #[derive(sea_orm::FromQueryResult)]
    struct Hold {
        hold_reason: Option<String>,
        release_at: Option<DateTime<Utc>>,
        currency: String,
        amount: i64,
    }
    let (e, s) = (ledger_entry::Entity, ledger_entry_state::Entity);
    let query = partner_entries(principal, partner_id)
        .column((s, ledger_entry_state::Column::HoldReason))
        .column((s, ledger_entry_state::Column::ReleaseAt))
        .column((e, ledger_entry::Column::Currency))
        .expr_as(crate::db::sum_fixed((e, ledger_entry::Column::Amount)), Alias::new("amount"))
        .and_where(Expr::col((s, ledger_entry_state::Column::State)).eq(EntryState::Pending.as_str()))
        .group_by_col((s, ledger_entry_state::Column::HoldReason))
        .group_by_col((s, ledger_entry_state::Column::ReleaseAt))
        .group_by_col((e, ledger_entry::Column::Currency))
        .to_owned();
    let rows =
        <Hold as sea_orm::FromQueryResult>::find_by_statement(db.get_database_backend().build(&query)).all(db).await?;
    Ok(rows.into_iter().map(|h| hold_row(h.hold_reason, h.release_at, h.amount, h.currency)).collect())
}

/// (reason, release, amount, currency) of a summed hold row; a hold without a reason is "held".
pub fn hold_row(
    reason: Option<String>,
    release_at: Option<DateTime<Utc>>,
    amount: i64,
    currency: String,
) -> (String, Option<DateTime<Utc>>, Decimal, String) {
    (reason.unwrap_or_else(|| "held".into()), release_at, entity::fixed::Fixed(amount).to_decimal(), currency)
}

/// One currency's balance, zero when the partner has none in it.
pub fn balance_in(balances: &Balances, currency: &str) -> Balance {
    balances.0.get(currency).cloned().unwrap_or_default()
}

/// What the money fields of one request read about a partner: its balances, what is pending
/// behind holds, and its programmes (read once per request through a loader).
#[derive(Clone, Debug, Default)]
pub struct Standing {
    pub balances: Balances,
    /// (reason, release, amount, currency) of the pending entries.
    pub holds: Vec<(String, Option<DateTime<Utc>>, Decimal, String)>,
    pub places: Places,
}

/// Three statements side by side.
pub async fn standing(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    partner_id: Uuid,
) -> AppResult<Standing> {
    let (balances, holds, places) = futures_util::try_join!(
        balances(db, principal, partner_id),
        holds(db, principal, partner_id),
        places_of(db, partner_id)
    )?;
    Ok(Standing { balances, holds, places })
}

/// A partner's partnerships with their programmes: read once for a request's money figures
/// (minimum payouts, the quarter's rules, the next payout date).
#[derive(Clone, Debug, Default)]
pub struct Places(pub Vec<(entity::partnership::Model, entity::program::Model)>);

impl Places {
    pub fn programs(&self) -> impl Iterator<Item = &entity::program::Model> + Clone {
        self.0.iter().map(|(_, program)| program)
    }
}

/// One statement: the partnerships joined to their programmes, in the order of the programmes.
pub async fn places_of(db: &impl ConnectionTrait, partner_id: Uuid) -> AppResult<Places> {
    use entity::{partnership, program};
    use sea_orm::{QueryOrder, QuerySelect, sea_query::JoinType};
    let rows = partnership::Entity::find()
        .select_also(program::Entity)
        .join(
            JoinType::InnerJoin,
            partnership::Entity::belongs_to(program::Entity)
                .from(partnership::Column::ProgramId)
                .to(program::Column::Id)
                .into(),
        )
        .filter(partnership::Column::OrganizationId.eq(partner_id))
        .order_by_asc(program::Column::Id)
        .all(db)
        .await?;
    Ok(Places(rows.into_iter().filter_map(|(place, program)| program.map(|p| (place, p))).collect()))
}

/// The minimum payout of a partner per currency: the highest of its programmes' minimums.
pub fn minimum_payouts(places: &Places) -> HashMap<String, Decimal> {
    let mut out: HashMap<String, Decimal> = HashMap::new();
    for p in places.programs() {
        if let Some(min) = p.min_payout {
            let m = out.entry(p.currency.clone()).or_default();
            *m = (*m).max(min.to_decimal());
        }
    }
    out
}

/// A partner's commission figures for a quarter, in its programme currency.
#[derive(Default)]
pub struct QuarterFigures {
    pub currency: Option<String>,
    pub commissions: Decimal,
    pub base: Decimal,
    pub target: Option<Decimal>,
    pub rate: Option<Decimal>,
    pub rebates_unpaid: Decimal,
}

/// The entries that count towards a quarter's commission: commissions, their reversals and
/// adjustments of `quarter`, open or paid (a write-off as duplicate or fraud does not count).
pub fn quarter_entries(
    principal: Option<&Principal>,
    partner_id: Uuid,
    quarter: crate::domain::ledger::Quarter,
) -> sea_orm::sea_query::SelectStatement {
    let (e, s) = (ledger_entry::Entity, ledger_entry_state::Entity);
    let open_or_paid = [EntryState::Pending, EntryState::Approved, EntryState::Paid, EntryState::Reversed];
    partner_entries(principal, partner_id)
        .and_where(Expr::col((e, ledger_entry::Column::Kind)).is_in([
            EntryKind::Commission.as_str(),
            EntryKind::Reversal.as_str(),
            EntryKind::Adjustment.as_str(),
        ]))
        .and_where(Expr::col((e, ledger_entry::Column::Quarter)).eq(quarter.to_string()))
        .and_where(Expr::col((s, ledger_entry_state::Column::State)).is_in(open_or_paid.map(|st| st.as_str())))
        .to_owned()
}

impl QuarterFigures {
    /// Adds one kind's sums (amount and attributed base, as stored `Fixed`): an adjustment moves
    /// the commission but was not earned on revenue.
    pub fn add_sum(&mut self, kind: &str, amount: i64, base: Option<i64>) {
        let amount = entity::fixed::Fixed(amount).to_decimal();
        match EntryKind::parse(kind) {
            Some(EntryKind::Adjustment) => self.commissions += amount,
            Some(EntryKind::Commission | EntryKind::Reversal) => {
                self.commissions += amount;
                self.base += entity::fixed::Fixed(base.unwrap_or_default()).to_decimal();
            }
            _ => {}
        }
    }

    /// The target and the rate reached under the rule that applies to the partner's tier now
    /// (`rules` are its programmes' rules valid from before now, `commission_rules_of`).
    pub fn apply_rules(&mut self, places: &Places, rules: &[entity::commission_rule::Model], now: DateTime<Utc>) {
        let tier_of =
            |program_id: Uuid| places.0.iter().find(|(p, _)| p.program_id == program_id).map(|(p, _)| p.tier_id);
        let live = rules.iter().filter(|r| {
            r.valid_from <= now
                && r.valid_to.is_none_or(|to| now < to)
                && r.tier_id.is_none_or(|t| Some(t) == tier_of(r.program_id))
        });
        let best = live.clone().find(|r| r.quarterly_target.is_some()).or_else(|| live.clone().next());
        if let Some(rule) = best {
            let target = rule.quarterly_target.map(|t| t.to_decimal());
            self.target = target;
            self.rate = Some(crate::domain::ledger::rate_reached(
                self.base,
                rule.percent.to_decimal(),
                target,
                rule.accelerated_percent.map(|a| a.to_decimal()),
            ));
        }
    }
}

/// The commission rules of a partner's programmes that started before now: one statement.
pub async fn commission_rules_of(
    db: &impl ConnectionTrait,
    places: &Places,
    now: DateTime<Utc>,
) -> AppResult<Vec<entity::commission_rule::Model>> {
    Ok(entity::commission_rule::Entity::find()
        .filter(entity::commission_rule::Column::ProgramId.is_in(places.programs().map(|p| p.id)))
        .filter(entity::commission_rule::Column::ValidFrom.lte(now))
        .all(db)
        .await?)
}

/// This quarter's commission against the target, and rebates accepted in the last 3 months and
/// not yet paid: a fixed number of statements, whatever the number of entries.
pub async fn quarter_figures(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    partner_id: Uuid,
    places: &Places,
    quarter: crate::domain::ledger::Quarter,
    now: DateTime<Utc>,
) -> AppResult<QuarterFigures> {
    #[derive(sea_orm::FromQueryResult)]
    struct Sum {
        kind: String,
        amount: i64,
        base: Option<i64>,
    }
    let Some(program) = places.programs().next() else { return Ok(QuarterFigures::default()) };
    let currency = program.currency.clone();
    let e = ledger_entry::Entity;
    let query = quarter_entries(principal, partner_id, quarter)
        .column((e, ledger_entry::Column::Kind))
        .expr_as(crate::db::sum_fixed((e, ledger_entry::Column::Amount)), Alias::new("amount"))
        .expr_as(crate::db::sum_fixed((e, ledger_entry::Column::Base)), Alias::new("base"))
        .and_where(Expr::col((e, ledger_entry::Column::Currency)).eq(currency.as_str()))
        .group_by_col((e, ledger_entry::Column::Kind))
        .to_owned();
    let rows =
        <Sum as sea_orm::FromQueryResult>::find_by_statement(db.get_database_backend().build(&query)).all(db).await?;
    let mut figures = QuarterFigures { currency: Some(currency.clone()), ..Default::default() };
    for r in rows {
        figures.add_sum(&r.kind, r.amount, r.base);
    }
    figures.rebates_unpaid = rebates_unpaid(db, principal, partner_id, &currency, now).await?;
    let rules = commission_rules_of(db, places, now).await?;
    figures.apply_rules(places, &rules, now);
    Ok(figures)
}

/// The rebates a summary counts: REBATE entries earned in the 3 months before `now` (a REBATE
/// entry is posted when a claim is accepted).
pub fn recent_rebates(
    principal: Option<&Principal>,
    partner_id: Uuid,
    now: DateTime<Utc>,
) -> sea_orm::sea_query::SelectStatement {
    let e = ledger_entry::Entity;
    partner_entries(principal, partner_id)
        .and_where(Expr::col((e, ledger_entry::Column::Kind)).eq(EntryKind::Rebate.as_str()))
        .and_where(Expr::col((e, ledger_entry::Column::EarnedAt)).gte(now - chrono::Months::new(3)))
        .to_owned()
}

/// Rebates accepted in the last 3 months and not yet paid.
async fn rebates_unpaid(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    partner_id: Uuid,
    currency: &str,
    now: DateTime<Utc>,
) -> AppResult<Decimal> {
    #[derive(sea_orm::FromQueryResult)]
    struct Sum {
        amount: Option<i64>,
    }
    let (e, s) = (ledger_entry::Entity, ledger_entry_state::Entity);
    let query = recent_rebates(principal, partner_id, now)
        .expr_as(crate::db::sum_fixed((e, ledger_entry::Column::Amount)), Alias::new("amount"))
        .and_where(Expr::col((e, ledger_entry::Column::Currency)).eq(currency))
        .and_where(Expr::col((s, ledger_entry_state::Column::State)).is_in(UNPAID.map(|st| st.as_str())))
        .to_owned();
    let row =
        <Sum as sea_orm::FromQueryResult>::find_by_statement(db.get_database_backend().build(&query)).one(db).await?;
    Ok(entity::fixed::Fixed(row.and_then(|r| r.amount).unwrap_or_default()).to_decimal())
}
