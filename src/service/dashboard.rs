//! The partner dashboard's facts and the staff queues' heads, each in one statement: every part
//! is a scoped SELECT (the policy's conditions, as a list query would use them), joined by
//! UNION ALL, so the cost does not grow with the partner's customers.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    application, course, deal, exam_result, grant, ledger_entry, ledger_entry_state, membership, notification,
    rebate_claim, subscription, success_story, tier_proposal,
};
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement, SimpleExpr, UnionType},
};
use uuid::Uuid;

use super::{
    ledger::{self, QuarterFigures},
    programs, rebate_claims as ledger_rows,
};
use crate::{
    domain::{
        ApplicationStatus, ClaimStatus, CourseKind, DealStatus, EntryState, GrantStatus, ProposalStatus, ReviewStatus,
        SubscriptionStatus,
        ledger::{Balances, Quarter},
    },
    error::{AppError, AppResult},
    policy,
    principal::Principal,
};

/// How far back the dashboard's deals and claims go, and how far ahead renewals and grant ends.
pub const RECENT: TimeDelta = TimeDelta::days(30);
pub const GRANTS_AHEAD: TimeDelta = TimeDelta::days(14);

/// The dashboard's counts for one partner, as the principal sees them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// (status, count) of the partner's deals registered in the last 30 days.
    pub deals: Vec<(String, i64)>,
    /// (status, count) of its rebate claims submitted in the last 30 days.
    pub claims: Vec<(String, i64)>,
    pub renewals_due: i64,
    pub customers_with_renewals_due: i64,
    pub grants_expiring: i64,
    pub unread_notifications: i64,
}

/// Everything of the dashboard that is a sum, a count or a list of facts about one partner, read
/// in one statement: the counts, the ledger's sums (empty unless the principal reads the
/// partner's ledger), and the exams and accepted stories its tier evaluation weighs.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    pub counts: Counts,
    /// Balances per currency, from every entry's current state.
    pub balances: Balances,
    /// (reason, release, amount, currency) of what is pending.
    pub holds: Vec<(String, Option<DateTime<Utc>>, Decimal, String)>,
    /// (currency, kind, amount, base) of this quarter's commission entries, as stored `Fixed`.
    pub quarter: Vec<(String, String, i64, Option<i64>)>,
    /// The rebate summary's rows: recent REBATE sums per state, claim counts per status.
    pub rebates: Vec<ledger_rows::SummaryRow>,
    pub exams: Vec<programs::ExamFact>,
    pub accepted_stories: Vec<DateTime<Utc>>,
    /// Per partnership whose programme has a questionnaire: whether the partner answered it.
    pub questionnaires: std::collections::HashMap<uuid::Uuid, bool>,
}

impl Facts {
    /// This quarter's figures in `currency` (the first programme's): commissions, revenue and
    /// the unpaid recent rebates; the caller applies the commission rules.
    pub fn quarter_figures(&self, currency: &str) -> QuarterFigures {
        let mut figures = QuarterFigures { currency: Some(currency.to_string()), ..Default::default() };
        for (c, kind, amount, base) in &self.quarter {
            if c == currency {
                figures.add_sum(kind, *amount, *base);
            }
        }
        figures.rebates_unpaid = self
            .rebates
            .iter()
            .filter(|r| !r.from_claims && r.currency == currency)
            .filter(|r| EntryState::parse(&r.state).is_some_and(|s| ledger::UNPAID.contains(&s)))
            .map(|r| entity::fixed::Fixed(r.amount.unwrap_or_default()).to_decimal())
            .sum();
        figures
    }
}

/// The columns every part of the facts statement has, in this order; a part leaves the ones it
/// does not use NULL (typed, so PostgreSQL can unite the parts).
#[derive(Default)]
struct Shape {
    status: Option<SimpleExpr>,
    currency: Option<SimpleExpr>,
    extra: Option<SimpleExpr>,
    who: Option<SimpleExpr>,
    at1: Option<SimpleExpr>,
    at2: Option<SimpleExpr>,
    n: Option<SimpleExpr>,
    amount: Option<SimpleExpr>,
    base: Option<SimpleExpr>,
}

fn shaped(name: &str, mut select: SelectStatement, shape: Shape) -> SelectStatement {
    let null = |ty: &str| Expr::cust(format!("CAST(NULL AS {ty})"));
    select.expr_as(Expr::val(name.to_string()), Alias::new("part"));
    for (alias, value, ty) in [
        ("status", shape.status, "TEXT"),
        ("currency", shape.currency, "TEXT"),
        ("extra", shape.extra, "TEXT"),
        ("who", shape.who, "uuid"),
        ("at1", shape.at1, "timestamptz"),
        ("at2", shape.at2, "timestamptz"),
        ("n", shape.n, "BIGINT"),
        ("amount", shape.amount, "BIGINT"),
        ("base", shape.base, "BIGINT"),
    ] {
        select.expr_as(value.unwrap_or_else(|| null(ty)), Alias::new(alias));
    }
    select
}

/// The facts of `partner`'s dashboard, in one statement of UNION ALL parts, each a scoped
/// SELECT as the matching list or figure reads it, so the cost does not grow with the partner's
/// customers, entries or people.
pub async fn facts(
    db: &impl ConnectionTrait,
    principal: &Principal,
    partner: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Facts> {
    let p = Some(principal);
    let since = now - RECENT;
    let count = || -> SimpleExpr { Func::count(Expr::col(Alias::new("id"))).into() };
    let mut parts = Vec::new();

    let mut deals = Query::select();
    deals
        .from(deal::Entity)
        .cond_where(policy::deals_scope(p))
        .and_where(deal::Column::PartnerId.eq(partner))
        .and_where(deal::Column::CreatedAt.gte(since))
        .group_by_col(deal::Column::Status);
    let status = |c: SimpleExpr| Shape { status: Some(c), n: Some(count()), ..Default::default() };
    parts.push(shaped("deals", deals, status(Expr::col(deal::Column::Status))));
    let mut claims = Query::select();
    claims
        .from(rebate_claim::Entity)
        .cond_where(policy::rebate_claims_scope(p))
        .and_where(rebate_claim::Column::PartnerId.eq(partner))
        .and_where(rebate_claim::Column::CreatedAt.gte(since))
        .group_by_col(rebate_claim::Column::Status);
    parts.push(shaped("claims", claims, status(Expr::col(rebate_claim::Column::Status))));
    let renewals = || {
        let mut s = Query::select();
        s.from(subscription::Entity)
            .cond_where(policy::subscriptions_scope(p, now))
            .and_where(subscription::Column::PartnerId.eq(partner))
            .and_where(subscription::Column::Status.eq(SubscriptionStatus::Active))
            .and_where(subscription::Column::CurrentPeriodEnd.gte(now))
            .and_where(subscription::Column::CurrentPeriodEnd.lte(now + RECENT));
        s
    };
    let counted = |n: SimpleExpr| Shape { n: Some(n), ..Default::default() };
    parts.push(shaped("renewals", renewals(), counted(count())));
    parts.push(shaped(
        "customers",
        renewals(),
        counted(Func::count_distinct(Expr::col(subscription::Column::CustomerId)).into()),
    ));
    let mut grants = Query::select();
    grants
        .from(grant::Entity)
        .cond_where(policy::grants_scope(p))
        .and_where(grant::Column::PartnerId.eq(partner))
        .and_where(grant::Column::Status.eq(GrantStatus::Active))
        .and_where(grant::Column::EndsAt.gte(now))
        .and_where(grant::Column::EndsAt.lte(now + GRANTS_AHEAD));
    parts.push(shaped("grants", grants, counted(count())));
    let mut unread = Query::select();
    unread.from(notification::Entity).cond_where(policy::notifications_scope(principal));
    if let Some(read) = principal.user.notifications_read_at {
        unread.and_where(notification::Column::CreatedAt.gt(read));
    }
    parts.push(shaped("unread", unread, counted(count())));

    if policy::reads_ledger_of(p, partner) {
        let (e, s) = (ledger_entry::Entity, ledger_entry_state::Entity);
        let col = |c: ledger_entry::Column| -> SimpleExpr { Expr::col((e, c)) };
        let state: SimpleExpr = Expr::col((s, ledger_entry_state::Column::State));
        let sum = |c: ledger_entry::Column| -> SimpleExpr { crate::db::sum_fixed((e, c)) };
        let mut balances = ledger::partner_entries(p, partner);
        balances
            .group_by_col((e, ledger_entry::Column::Currency))
            .group_by_col((e, ledger_entry::Column::Kind))
            .group_by_col((s, ledger_entry_state::Column::State));
        parts.push(shaped(
            "balance",
            balances,
            Shape {
                status: Some(state.clone()),
                currency: Some(col(ledger_entry::Column::Currency)),
                extra: Some(col(ledger_entry::Column::Kind)),
                amount: Some(sum(ledger_entry::Column::Amount)),
                ..Default::default()
            },
        ));
        let mut holds = ledger::partner_entries(p, partner);
        holds
            .and_where(Expr::col((s, ledger_entry_state::Column::State)).eq(EntryState::Pending.as_str()))
            .group_by_col((s, ledger_entry_state::Column::HoldReason))
            .group_by_col((s, ledger_entry_state::Column::ReleaseAt))
            .group_by_col((e, ledger_entry::Column::Currency));
        parts.push(shaped(
            "hold",
            holds,
            Shape {
                extra: Some(Expr::col((s, ledger_entry_state::Column::HoldReason))),
                currency: Some(col(ledger_entry::Column::Currency)),
                at1: Some(Expr::col((s, ledger_entry_state::Column::ReleaseAt))),
                amount: Some(sum(ledger_entry::Column::Amount)),
                ..Default::default()
            },
        ));
        let mut quarter = ledger::quarter_entries(p, partner, Quarter::of(now));
        quarter.group_by_col((e, ledger_entry::Column::Currency)).group_by_col((e, ledger_entry::Column::Kind));
        parts.push(shaped(
            "quarter",
            quarter,
            Shape {
                currency: Some(col(ledger_entry::Column::Currency)),
                extra: Some(col(ledger_entry::Column::Kind)),
                amount: Some(sum(ledger_entry::Column::Amount)),
                base: Some(sum(ledger_entry::Column::Base)),
                ..Default::default()
            },
        ));
        let mut rebates = ledger::recent_rebates(p, partner, now);
        rebates.group_by_col((e, ledger_entry::Column::Currency)).group_by_col((s, ledger_entry_state::Column::State));
        parts.push(shaped(
            "rebate",
            rebates,
            Shape {
                status: Some(state),
                currency: Some(col(ledger_entry::Column::Currency)),
                n: Some(Func::count(Expr::col((e, ledger_entry::Column::Id))).into()),
                amount: Some(sum(ledger_entry::Column::Amount)),
                ..Default::default()
            },
        ));
        let mut all_claims = Query::select();
        all_claims
            .from(rebate_claim::Entity)
            .cond_where(policy::rebate_claims_scope(p))
            .and_where(rebate_claim::Column::PartnerId.eq(partner))
            .group_by_col(rebate_claim::Column::Currency)
            .group_by_col(rebate_claim::Column::Status);
        parts.push(shaped(
            "claim",
            all_claims,
            Shape {
                status: Some(Expr::col(rebate_claim::Column::Status)),
                currency: Some(Expr::col(rebate_claim::Column::Currency)),
                n: Some(count()),
                ..Default::default()
            },
        ));
    }

    // What the tier evaluation weighs (`programs::evaluate_one`): the members' exams with their
    // course's kind, and the accepted stories; the caller checked that the principal sees the
    // partner's internals.
    let (x, m, c) = (exam_result::Entity, membership::Entity, course::Entity);
    let mut exams = Query::select();
    exams
        .from(x)
        .inner_join(
            m,
            Expr::col((m, membership::Column::UserId))
                .equals((x, exam_result::Column::UserId))
                .and(Expr::col((m, membership::Column::OrganizationId)).eq(partner)),
        )
        .left_join(c, Expr::col((c, course::Column::Id)).equals((x, exam_result::Column::CourseId)));
    parts.push(shaped(
        "exam",
        exams,
        Shape {
            status: Some(Expr::col((c, course::Column::Kind))),
            who: Some(Expr::col((x, exam_result::Column::UserId))),
            at1: Some(Expr::col((x, exam_result::Column::PassedAt))),
            at2: Some(Expr::col((x, exam_result::Column::ExpiresAt))),
            ..Default::default()
        },
    ));
    let mut stories = Query::select();
    stories
        .from(success_story::Entity)
        .and_where(success_story::Column::PartnerId.eq(partner))
        .and_where(success_story::Column::Status.eq(ReviewStatus::Accepted))
        .and_where(success_story::Column::ReviewedAt.is_not_null());
    parts.push(shaped(
        "story",
        stories,
        Shape { at1: Some(Expr::col(success_story::Column::ReviewedAt)), ..Default::default() },
    ));
    // The questionnaire state of each partnership (see `programs::questionnaire_states`): one
    // row per partnership whose programme has a questionnaire, `n` = 1 when answered.
    {
        use entity::{partnership as p, questionnaire as q, questionnaire_answer as a};
        let mut questionnaires = Query::select();
        questionnaires
            .from(p::Entity)
            .inner_join(
                q::Entity,
                Expr::col((q::Entity, q::Column::ProgramId))
                    .equals((p::Entity, p::Column::ProgramId))
                    .and(Expr::col((q::Entity, q::Column::Version)).eq(1)),
            )
            .left_join(a::Entity, Expr::col((a::Entity, a::Column::PartnershipId)).equals((p::Entity, p::Column::Id)))
            .and_where(Expr::col((p::Entity, p::Column::OrganizationId)).eq(partner));
        parts.push(shaped(
            "questionnaire",
            questionnaires,
            Shape {
                who: Some(Expr::col((p::Entity, p::Column::Id))),
                n: Some(Expr::cust("CASE WHEN questionnaire_answers.id IS NULL THEN 0 ELSE 1 END")),
                ..Default::default()
            },
        ));
    }

    let mut parts = parts.into_iter();
    let Some(mut all) = parts.next() else { return Err(AppError::internal("a dashboard without parts")) };
    for other in parts {
        all.union(UnionType::All, other);
    }
    let rows = db.query_all_raw(db.get_database_backend().build(&all)).await?;
    let mut facts = Facts::default();
    let counts = &mut facts.counts;
    for row in rows {
        let part: String = row.try_get("", "part")?;
        let text = |c: &str| row.try_get::<Option<String>>("", c);
        let n = || row.try_get::<Option<i64>>("", "n").map(Option::unwrap_or_default);
        let amount = || row.try_get::<Option<i64>>("", "amount");
        let status = text("status")?.unwrap_or_default();
        let currency = text("currency")?.unwrap_or_default();
        match part.as_str() {
            "deals" => counts.deals.push((status, n()?)),
            "claims" => counts.claims.push((status, n()?)),
            "renewals" => counts.renewals_due = n()?,
            "customers" => counts.customers_with_renewals_due = n()?,
            "grants" => counts.grants_expiring = n()?,
            "unread" => counts.unread_notifications = n()?,
            "balance" => ledger::add_balance_row(
                &mut facts.balances,
                &text("extra")?.unwrap_or_default(),
                &status,
                entity::fixed::Fixed(amount()?.unwrap_or_default()).to_decimal(),
                &currency,
            )?,
            "hold" => facts.holds.push(ledger::hold_row(
                text("extra")?,
                row.try_get("", "at1")?,
                amount()?.unwrap_or_default(),
                currency,
            )),
            "quarter" => facts.quarter.push((
                currency,
                text("extra")?.unwrap_or_default(),
                amount()?.unwrap_or_default(),
                row.try_get("", "base")?,
            )),
            "rebate" | "claim" => facts.rebates.push(ledger_rows::SummaryRow {
                from_claims: part == "claim",
                currency,
                state: status,
                amount: amount()?,
                entries: n()?,
            }),
            "exam" => facts.exams.push(programs::ExamFact {
                person: row.try_get("", "who")?,
                passed_at: row.try_get("", "at1")?,
                expires_at: row.try_get("", "at2")?,
                course: CourseKind::parse(&status),
            }),
            "story" => facts.accepted_stories.push(row.try_get("", "at1")?),
            "questionnaire" => {
                facts.questionnaires.insert(row.try_get("", "who")?, n()? == 1);
            }
            other => return Err(AppError::internal(format!("a dashboard part named {other}"))),
        }
    }
    counts.deals.sort();
    counts.claims.sort();
    Ok(facts)
}

fn part(name: &str, mut select: SelectStatement) -> SelectStatement {
    select.expr_as(Expr::val(name.to_string()), Alias::new("part"));
    select
}

/// One staff queue: how many wait, and since when the oldest has waited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueHead {
    pub queue: String,
    pub waiting: i64,
    pub oldest_since: Option<DateTime<Utc>>,
}

/// Applications, deals, rebate claims and tier reviews waiting for staff, in one statement; the
/// lists themselves are the queue queries (oldest first).
pub async fn staff_queues(db: &impl ConnectionTrait, principal: &Principal) -> AppResult<Vec<QueueHead>> {
    let p = Some(principal);
    let head = |name: &str, since: sea_orm::sea_query::SimpleExpr| {
        let mut s = part(name, Query::select());
        s.expr_as(Func::count(Expr::col(Alias::new("id"))), Alias::new("n"))
            .expr_as(Func::min(since), Alias::new("oldest"));
        s
    };
    let mut applications = head("APPLICATIONS", Expr::col(application::Column::SubmittedAt));
    applications
        .from(application::Entity)
        .cond_where(policy::applications_scope(p))
        .and_where(application::Column::Status.eq(ApplicationStatus::Submitted));
    let mut deals = head("DEALS", Expr::col(deal::Column::CreatedAt));
    deals
        .from(deal::Entity)
        .cond_where(policy::deals_scope(p))
        .and_where(deal::Column::Status.is_in([DealStatus::Submitted, DealStatus::InReview]));
    let mut claims = head("REBATE_CLAIMS", Expr::col(rebate_claim::Column::CreatedAt));
    claims
        .from(rebate_claim::Entity)
        .cond_where(policy::rebate_claims_scope(p))
        .and_where(rebate_claim::Column::Status.eq(ClaimStatus::Open));
    let mut reviews = head("TIER_REVIEWS", Expr::col(tier_proposal::Column::ProposedAt));
    reviews
        .from(tier_proposal::Entity)
        .cond_where(policy::tier_review_queue_scope(p))
        .and_where(tier_proposal::Column::Status.eq(ProposalStatus::Open));
    let mut all = applications;
    for other in [deals, claims, reviews] {
        all.union(UnionType::All, other);
    }
    let rows = db.query_all_raw(db.get_database_backend().build(&all)).await?;
    let mut heads = Vec::new();
    for row in rows {
        heads.push(QueueHead {
            queue: row.try_get("", "part")?,
            waiting: row.try_get("", "n")?,
            oldest_since: row.try_get("", "oldest")?,
        });
    }
    heads
        .sort_by_key(|h| ["APPLICATIONS", "DEALS", "REBATE_CLAIMS", "TIER_REVIEWS"].iter().position(|q| *q == h.queue));
    Ok(heads)
}

/// Marks the caller's notifications read up to `up_to` (never later than now).
pub async fn mark_notifications_read(
    ctx: &super::Ctx,
    principal: Option<&Principal>,
    up_to: Option<DateTime<Utc>>,
) -> AppResult<DateTime<Utc>> {
    let principal = policy::signed_in(principal)?;
    let now = up_to.map_or(ctx.now(), |t| Ord::min(t, ctx.now()));
    entity::user::Entity::update_many()
        .col_expr(entity::user::Column::NotificationsReadAt, Expr::value(Some(now)))
        .filter(entity::user::Column::Id.eq(principal.user_id()))
        .exec(&ctx.db)
        .await?;
    Ok(now)
}
