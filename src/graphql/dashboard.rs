//! The partner portal's home page in one query, and staff's queue heads (issue 17).

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    context::ContextExt,
    ledger::{PartnerEarnings, earnings_from, partner_of},
    loaders::{self, load},
    onboarding::TierEvaluation,
    rebates::RebateSummary,
    types::Organization,
};
use crate::{
    policy,
    service::{dashboard, ledger, programs, rebate_claims},
};

/// How many items are in one status.
#[derive(SimpleObject)]
pub struct StatusCount {
    /// The status, as its enum shows it (e.g. APPROVED, OPEN).
    pub status: String,
    /// How many.
    pub count: i32,
}

fn by_status(rows: &[(String, i64)]) -> Vec<StatusCount> {
    rows.iter()
        .map(|(status, n)| StatusCount { status: status.clone(), count: i32::try_from(*n).unwrap_or(i32::MAX) })
        .collect()
}

fn int(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub struct PartnerDashboard {
    partner: uuid::Uuid,
    facts: dashboard::Facts,
    places: ledger::Places,
}

// Six statements at most: the sign-in, the facts, the programmes, the partner, the tiers and the
// commission rules (tests/api/dashboard.rs holds the budget).
/// A partner's home page: the account and its tier, recent deals and claims, money, renewals,
/// grants ending and unread notifications, read in at most six statements whatever the number of
/// customers. Money is null for anyone but the partner's ADMIN and BILLING, and staff.
#[Object]
impl PartnerDashboard {
    /// The partner.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.partner).await?.map(Organization))
    }
    /// Its current tier and what is missing for the next, in its first programme.
    async fn tier_evaluation(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<TierEvaluation>> {
        let Some((place, _)) = self.places.0.first() else { return Ok(None) };
        let service = ctx.service();
        let tiers = programs::tiers_of_programs(ctx.principal(), [place.program_id])
            .all(&service.db)
            .await
            .map_err(crate::error::AppError::from)?;
        let evaluation = programs::evaluate_one(
            place,
            &tiers,
            &self.facts.exams,
            self.facts.accepted_stories.clone(),
            self.facts.questionnaires.get(&place.id).copied(),
            service.now(),
        )?;
        // Read under the tiers' scope: the tier fields below need no statement of their own.
        loaders::feed_rows::<entity::tier::Entity>(ctx, tiers).await?;
        Ok(Some(TierEvaluation::new(place, evaluation)))
    }
    /// Deals registered in the last 30 days, by status.
    async fn deals_last_30_days(&self) -> Vec<StatusCount> {
        by_status(&self.facts.counts.deals)
    }
    /// Rebate claims submitted in the last 30 days, by status.
    async fn rebate_claims_last_30_days(&self) -> Vec<StatusCount> {
        by_status(&self.facts.counts.claims)
    }
    /// Commission this quarter against the target, balances and the next payout.
    async fn earnings(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PartnerEarnings>> {
        if !policy::reads_ledger_of(ctx.principal(), self.partner) {
            return Ok(None);
        }
        let Some(program) = self.places.programs().next() else { return Ok(None) };
        let service = ctx.service();
        let now = service.now();
        let mut figures = self.facts.quarter_figures(&program.currency);
        let rules = ledger::commission_rules_of(&service.db, &self.places, now).await?;
        figures.apply_rules(&self.places, &rules, now);
        let standing = ledger::Standing {
            balances: self.facts.balances.clone(),
            holds: self.facts.holds.clone(),
            places: self.places.clone(),
        };
        Ok(earnings_from(&standing, figures, now))
    }
    /// Rebates accepted, paid and unpaid, and claims open.
    async fn rebates(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RebateSummary>> {
        if !policy::reads_ledger_of(ctx.principal(), self.partner) {
            return Ok(None);
        }
        Ok(rebate_claims::summary_from(self.facts.rebates.clone()).map(RebateSummary::from))
    }
    /// Subscriptions it manages that renew or end within 30 days (`renewalsDue(withinDays: 30)`
    /// lists them).
    async fn renewals_due_in_30_days(&self) -> i32 {
        int(self.facts.counts.renewals_due)
    }
    /// Customers with such a renewal.
    async fn customers_with_renewals_due(&self) -> i32 {
        int(self.facts.counts.customers_with_renewals_due)
    }
    /// Its live grants that end within 14 days.
    async fn grants_expiring_soon(&self) -> i32 {
        int(self.facts.counts.grants_expiring)
    }
    /// Your notifications since you last marked them read (`markNotificationsRead`).
    async fn unread_notifications(&self) -> i32 {
        int(self.facts.counts.unread_notifications)
    }
}

/// One staff work queue's head.
#[derive(SimpleObject)]
pub struct QueueHead {
    /// APPLICATIONS, DEALS, REBATE_CLAIMS or TIER_REVIEWS; each list is its own query, oldest
    /// first (`applications(status: SUBMITTED)`, `deals`, `rebateClaims(filter: {status: OPEN})`,
    /// `tierReviewQueue`).
    pub queue: String,
    /// How many wait.
    pub waiting: i32,
    /// Since when the oldest has waited; null when none waits.
    pub oldest_since: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct DashboardQuery;

#[Object]
impl DashboardQuery {
    /// The home page of a partner portal (yours when `partnerId` is absent): for the partner's
    /// members and staff; null for anyone else.
    async fn partner_dashboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner; yours when absent.")] partner_id: Option<ID>,
    ) -> async_graphql::Result<Option<PartnerDashboard>> {
        let partner = partner_of(ctx, partner_id)?;
        let principal = policy::signed_in(ctx.principal())?;
        if !policy::sees_partner_internals(Some(principal), partner) {
            return Ok(None);
        }
        let service = ctx.service();
        let (facts, places) = futures_util::try_join!(
            dashboard::facts(&service.db, principal, partner, service.now()),
            ledger::places_of(&service.db, partner)
        )?;
        Ok(Some(PartnerDashboard { partner, facts, places }))
    }

    /// What waits for staff (staff only; empty for anyone else): applications, deals and rebate
    /// claims to review, tier changes to confirm, with counts and the oldest's age.
    async fn staff_queues(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<QueueHead>> {
        let principal = policy::signed_in(ctx.principal())?;
        let heads = dashboard::staff_queues(&ctx.service().db, principal).await?;
        Ok(heads
            .into_iter()
            .map(|h| QueueHead { queue: h.queue, waiting: int(h.waiting), oldest_since: h.oldest_since })
            .collect())
    }
}

/// What `markNotificationsRead` returns.
#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// Notifications written up to this time are read.
    pub read_at: DateTime<Utc>,
}

/// The input of `markNotificationsRead`.
#[derive(async_graphql::InputObject, Default)]
pub struct MarkNotificationsReadInput {
    /// Notifications written up to this time are read (the newest one your page showed); now
    /// when absent.
    pub up_to: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct DashboardMutation;

#[Object]
impl DashboardMutation {
    /// Marks your notifications read (up to now by default): the dashboard's unread count counts
    /// only those written after.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: Option<
            MarkNotificationsReadInput,
        >,
    ) -> async_graphql::Result<MarkNotificationsReadPayload> {
        let up_to = input.and_then(|i| i.up_to);
        let read_at = dashboard::mark_notifications_read(ctx.service(), ctx.principal(), up_to).await?;
        Ok(MarkNotificationsReadPayload { read_at })
    }
}
