//! The partner dashboard's counts and the staff queues' heads, each in one statement: every part
//! is a scoped SELECT (the policy's conditions, as a list query would use them), joined by
//! UNION ALL, so the cost does not grow with the partner's customers.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{application, deal, grant, notification, rebate_claim, subscription, tier_review};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Alias, Expr, Func, Query, SelectStatement, UnionType},
};
use uuid::Uuid;

use crate::{
    domain::{ApplicationStatus, ClaimStatus, DealStatus, GrantStatus, SubscriptionStatus},
    error::AppResult,
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

fn part(name: &str, mut select: SelectStatement) -> SelectStatement {
    select.expr_as(Expr::val(name.to_string()), Alias::new("part"));
    select
}

/// The counts of `partner`'s dashboard, in one statement.
pub async fn counts(
    db: &impl ConnectionTrait,
    principal: &Principal,
    partner: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Counts> {
    let p = Some(principal);
    let since = now - RECENT;
    let count = || Func::count(Expr::col(Alias::new("id")));
    let mut deals = part("deals", Query::select());
    deals
        .expr_as(Expr::col(deal::Column::Status), Alias::new("status"))
        .expr_as(count(), Alias::new("n"))
        .from(deal::Entity)
        .cond_where(policy::deals_scope(p))
        .and_where(deal::Column::PartnerId.eq(partner))
        .and_where(deal::Column::CreatedAt.gte(since))
        .group_by_col(deal::Column::Status);
    let mut claims = part("claims", Query::select());
    claims
        .expr_as(Expr::col(rebate_claim::Column::Status), Alias::new("status"))
        .expr_as(count(), Alias::new("n"))
        .from(rebate_claim::Entity)
        .cond_where(policy::rebate_claims_scope(p))
        .and_where(rebate_claim::Column::PartnerId.eq(partner))
        .and_where(rebate_claim::Column::CreatedAt.gte(since))
        .group_by_col(rebate_claim::Column::Status);
    let renewals = |what: &str, counted: sea_orm::sea_query::SimpleExpr| {
        let mut s = part(what, Query::select());
        s.expr_as(Expr::val(""), Alias::new("status"))
            .expr_as(counted, Alias::new("n"))
            .from(subscription::Entity)
            .cond_where(policy::subscriptions_scope(p, now))
            .and_where(subscription::Column::PartnerId.eq(partner))
            .and_where(subscription::Column::Status.eq(SubscriptionStatus::Active))
            .and_where(subscription::Column::CurrentPeriodEnd.gte(now))
            .and_where(subscription::Column::CurrentPeriodEnd.lte(now + RECENT));
        s
    };
    let due = renewals("renewals", count().into());
    let customers = renewals("customers", Func::count_distinct(Expr::col(subscription::Column::CustomerId)).into());
    let mut grants = part("grants", Query::select());
    grants
        .expr_as(Expr::val(""), Alias::new("status"))
        .expr_as(count(), Alias::new("n"))
        .from(grant::Entity)
        .cond_where(policy::grants_scope(p))
        .and_where(grant::Column::PartnerId.eq(partner))
        .and_where(grant::Column::Status.eq(GrantStatus::Active))
        .and_where(grant::Column::EndsAt.gte(now))
        .and_where(grant::Column::EndsAt.lte(now + GRANTS_AHEAD));
    let mut unread = part("unread", Query::select());
    unread
        .expr_as(Expr::val(""), Alias::new("status"))
        .expr_as(count(), Alias::new("n"))
        .from(notification::Entity)
        .cond_where(policy::notifications_scope(principal));
    if let Some(read) = principal.user.notifications_read_at {
        unread.and_where(notification::Column::CreatedAt.gt(read));
    }
    let mut all = deals;
    for other in [claims, due, customers, grants, unread] {
        all.union(UnionType::All, other);
    }
    let rows = db.query_all_raw(db.get_database_backend().build(&all)).await?;
    let mut counts = Counts::default();
    for row in rows {
        let part: String = row.try_get("", "part")?;
        let status: String = row.try_get("", "status")?;
        let n: i64 = row.try_get("", "n")?;
        match part.as_str() {
            "deals" => counts.deals.push((status, n)),
            "claims" => counts.claims.push((status, n)),
            "renewals" => counts.renewals_due = n,
            "customers" => counts.customers_with_renewals_due = n,
            "grants" => counts.grants_expiring = n,
            _ => counts.unread_notifications = n,
        }
    }
    counts.deals.sort();
    counts.claims.sort();
    Ok(counts)
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
    let mut reviews = head("TIER_REVIEWS", Expr::col(tier_review::Column::EvaluatedAt));
    reviews.from(tier_review::Entity).cond_where(policy::tier_reviews_scope(p));
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
    let now = up_to.map_or(ctx.now(), |t| t.min(ctx.now()));
    entity::user::Entity::update_many()
        .col_expr(entity::user::Column::NotificationsReadAt, Expr::value(Some(now)))
        .filter(entity::user::Column::Id.eq(principal.user_id()))
        .exec(&ctx.db)
        .await?;
    Ok(now)
}
