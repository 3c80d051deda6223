//! The partner ledger in GraphQL: entries with their states and why money is held, balances,
//! the dashboard's earnings, partner-of-record claims, commission rules and payout batches.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    commission_rule, ledger_entry, ledger_entry_state, partner_of_record_claim, payout_batch, payout_statement,
};
use rust_decimal::Decimal as Dec;
use sea_orm::{ColumnTrait, QueryFilter};

use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    customers::Product,
    loaders::{PartnerStanding, PayoutStatements, children, load, load_with},
    programs::{Money, MoneyInput},
    scalars::Decimal,
    types::{Organization, Program, Tier},
};
use crate::{
    domain::{self, billing::display, ledger::Quarter},
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::ledger::{self as ledger_service, payouts, post, records, referrals},
};

pub(super) fn money(amount: Dec, currency: &str) -> Money {
    Money::new(display(amount, currency), currency.to_string())
}

/// The partner asked about: the given one, else the caller's own organisation.
pub(super) fn partner_of(ctx: &Context<'_>, partner_id: Option<ID>) -> async_graphql::Result<uuid::Uuid> {
    let principal = policy::signed_in(ctx.principal())?;
    match partner_id {
        Some(id) => Ok(ids::decode_as(NodeType::Organization, &id).unwrap_or_default()),
        None => Ok(policy::acting(principal)?.organization_id()),
    }
}

pub(super) fn decode(kind: NodeType, id: &ID, what: &'static str) -> Result<uuid::Uuid, AppError> {
    ids::decode_as(kind, id).ok_or(AppError::NotFound(what))
}

/// What a ledger entry is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::EntryKind")]
pub enum LedgerEntryKind {
    /// Earned on a paid invoice line of a customer you are the partner of record of.
    Commission,
    /// An accepted rebate claim.
    Rebate,
    /// A quarter's accelerator, or a correction by staff.
    Adjustment,
    /// Takes back an earlier entry (refund, cancellation inside the reversal window).
    Reversal,
    /// Money paid to you in a payout batch (negative: it left the balance).
    Payout,
}

/// Where a ledger entry's money stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::EntryState")]
pub enum LedgerEntryState {
    /// Held: `holdReason` says why, `releaseAt` until when.
    Pending,
    /// Owed: paid in the next payout batch (when the balance reaches the minimum payout).
    Approved,
    /// Paid in a payout batch.
    Paid,
    /// Cancelled together with its reversal before it was paid.
    Reversed,
    /// Marked a duplicate by staff.
    Duplicate,
    /// Held as fraud by staff.
    Fraud,
}

/// Where a partner-of-record claim stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::RecordClaimStatus")]
pub enum PartnerOfRecordStatus {
    /// Waiting for the customer's ADMIN (or staff).
    Claimed,
    /// The partner of record: earns commission from `decidedAt` on.
    Confirmed,
    /// Denied by the customer or staff.
    Denied,
    /// Replaced by another partner's confirmed claim, or ended by staff.
    Ended,
    /// Taken back by the partner.
    Withdrawn,
}

/// Where a payout batch stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::PayoutStatus")]
pub enum PayoutBatchStatus {
    /// Paying partners; the next run completes it if it was interrupted.
    Running,
    /// Every partner owed at or above the minimum is paid.
    Completed,
}

/// One state an entry passed through.
#[derive(SimpleObject)]
pub struct LedgerStateChange {
    /// The state.
    pub state: LedgerEntryState,
    /// Why the money was held (PENDING).
    pub hold_reason: Option<String>,
    /// When it was to be released (PENDING).
    pub release_at: Option<DateTime<Utc>>,
    /// Staff's reason, or what reversed it.
    pub reason: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<ledger_entry_state::Model> for LedgerStateChange {
    fn from(s: ledger_entry_state::Model) -> Self {
        LedgerStateChange {
            state: s.state.into(),
            hold_reason: s.hold_reason,
            release_at: s.release_at,
            reason: s.reason,
            at: s.created_at,
        }
    }
}

pub struct LedgerEntry(pub ledger_entry::Model);

impl LedgerEntry {
    async fn current(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ledger_entry_state::Model>> {
        Ok(children::<ledger_entry_state::Entity>(ctx, self.0.id).await?.into_iter().last())
    }
}

/// A posting to a partner's ledger: never edited; corrections are new entries.
#[Object]
impl LedgerEntry {
    /// Opaque global identifier.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::LedgerEntry, self.0.id))
    }
    /// What the entry is.
    async fn kind(&self) -> LedgerEntryKind {
        self.0.kind.into()
    }
    /// Positive when owed to the partner, negative when taken back or paid out.
    async fn amount(&self) -> Money {
        money(self.0.amount.to_decimal(), &self.0.currency)
    }
    /// Why the entry exists, in words.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Where its money stands now.
    async fn state(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<LedgerEntryState>> {
        Ok(self.current(ctx).await?.map(|s| s.state.into()))
    }
    /// While PENDING: why the money is held.
    async fn hold_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(self.current(ctx).await?.filter(|s| s.state == domain::EntryState::Pending).and_then(|s| s.hold_reason))
    }
    /// While PENDING: when it will be released.
    async fn release_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<DateTime<Utc>>> {
        Ok(self.current(ctx).await?.filter(|s| s.state == domain::EntryState::Pending).and_then(|s| s.release_at))
    }
    /// Every state it passed through, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<LedgerStateChange>> {
        Ok(children::<ledger_entry_state::Entity>(ctx, self.0.id).await?.into_iter().map(Into::into).collect())
    }
    /// The percentage applied (commission, accelerator).
    async fn rate(&self) -> Option<Decimal> {
        self.0.rate.map(|r| r.to_decimal().into())
    }
    /// What the rate was applied to (the line's list price).
    async fn base(&self) -> Option<Money> {
        self.0.base.map(|b| money(b.to_decimal(), &self.0.currency))
    }
    /// The calendar quarter it counts in, such as 2026-Q4.
    async fn quarter(&self) -> &str {
        &self.0.quarter
    }
    /// The customer it was earned on, when you still see that customer.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        match self.0.customer_id {
            Some(id) => Ok(load::<entity::organization::Entity>(ctx, id).await?.map(Organization)),
            None => Ok(None),
        }
    }
    /// The entry this one reverses.
    async fn reverses(&self) -> Option<ID> {
        self.0.reverses_entry_id.map(|id| ID(ids::encode(NodeType::LedgerEntry, id)))
    }
    /// When it was earned (the invoice's payment, the quarter's end).
    async fn earned_at(&self) -> DateTime<Utc> {
        self.0.earned_at
    }
    /// When it was posted.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Money held, with why and until when.
#[derive(SimpleObject)]
pub struct LedgerHold {
    /// Why, such as "reversal window until 2026-12-07" or "minimum payout of 50 EUR not reached".
    pub reason: String,
    /// When it is released; none when it waits for something else (the minimum payout).
    pub release_at: Option<DateTime<Utc>>,
    /// How much.
    pub amount: Money,
}

/// A partner's money in one currency, derived from its ledger in SQL.
#[derive(SimpleObject)]
pub struct LedgerBalance {
    /// ISO 4217.
    pub currency: String,
    /// Held (see `holds`).
    pub pending: Money,
    /// Owed and not yet paid.
    pub approved_unpaid: Money,
    /// Paid in payout batches (earning entries).
    pub paid: Money,
    /// Reversed pairs (net zero), duplicates and fraud.
    pub written_off: Money,
    /// What the payout batches sent (negative).
    pub paid_out: Money,
    /// Why money is held: pending entries by reason, and an approved balance under the minimum payout.
    pub holds: Vec<LedgerHold>,
}

/// What the partner dashboard shows about money, read in a fixed number of statements.
#[derive(SimpleObject)]
pub struct PartnerEarnings {
    /// This calendar quarter, such as 2026-Q4.
    pub quarter: String,
    /// Commission this quarter (commissions, reversals and accelerator adjustments).
    pub commissions: Money,
    /// List price of what attributed customers paid this quarter, net of reversals.
    pub attributed_revenue: Money,
    /// The quarterly target of the rule with an accelerator, if any.
    pub target: Option<Money>,
    /// The rate reached so far: the accelerated rate once the target is met.
    pub rate_reached: Option<Decimal>,
    /// Owed and not yet paid.
    pub approved_unpaid: Money,
    /// Held, with reasons.
    pub held: Money,
    /// Why money is held.
    pub holds: Vec<LedgerHold>,
    /// Rebates accepted in the last 3 months and not yet paid.
    pub rebates_unpaid: Money,
    /// The next scheduled payout.
    pub next_payout_at: Option<DateTime<Utc>>,
}

/// Builds a partner's balances (2 statements, plus 2 for the minimum payout).
pub async fn balances_of(ctx: &Context<'_>, partner_id: uuid::Uuid) -> async_graphql::Result<Vec<LedgerBalance>> {
    if !policy::reads_ledger_of(ctx.principal(), partner_id) {
        return Ok(Vec::new());
    }
    let standing = load_with::<PartnerStanding>(ctx, partner_id).await?.unwrap_or_default();
    Ok(balances_from(&standing))
}

/// The balances of a standing, with the holds per currency and a hold for an approved balance
/// under the minimum payout.
pub fn balances_from(standing: &ledger_service::Standing) -> Vec<LedgerBalance> {
    let pending = &standing.holds;
    let minimums = ledger_service::minimum_payouts(&standing.places);
    let mut out = Vec::new();
    for (currency, b) in standing.balances.0.clone() {
        let mut holds: Vec<LedgerHold> = pending
            .iter()
            .filter(|h| h.3 == currency)
            .map(|h| LedgerHold { reason: h.0.clone(), release_at: h.1, amount: money(h.2, &currency) })
            .collect();
        if let Some(min) = minimums.get(&currency)
            && b.approved > Dec::ZERO
            && b.approved < *min
        {
            holds.push(LedgerHold {
                reason: domain::ledger::below_minimum_hold(*min, &currency),
                release_at: None,
                amount: money(b.approved, &currency),
            });
        }
        out.push(LedgerBalance {
            pending: money(b.pending, &currency),
            approved_unpaid: money(b.approved, &currency),
            paid: money(b.paid, &currency),
            written_off: money(b.written_off, &currency),
            paid_out: money(b.paid_out, &currency),
            holds,
            currency,
        });
    }
    out
}

/// The dashboard's money figures for a partner in its programme currency.
pub async fn earnings_of(ctx: &Context<'_>, partner_id: uuid::Uuid) -> async_graphql::Result<Option<PartnerEarnings>> {
    let principal = ctx.principal();
    if !policy::reads_ledger_of(principal, partner_id) {
        return Ok(None);
    }
    let db = &ctx.service().db;
    let now = ctx.service().now();
    let standing = load_with::<PartnerStanding>(ctx, partner_id).await?.unwrap_or_default();
    let figures =
        ledger_service::quarter_figures(db, principal, partner_id, &standing.places, Quarter::of(now), now).await?;
    Ok(earnings_from(&standing, figures, now))
}

/// The earnings shown from a partner's standing and this quarter's figures; none without a
/// programme currency.
pub fn earnings_from(
    standing: &ledger_service::Standing,
    figures: ledger_service::QuarterFigures,
    now: DateTime<Utc>,
) -> Option<PartnerEarnings> {
    let currency = figures.currency.clone()?;
    let mine = balances_from(standing).into_iter().find(|b| b.currency == currency);
    let (approved, held, holds) = match mine {
        Some(b) => {
            let held = b.holds.iter().map(|h| h.amount.amount.0).sum::<Dec>();
            (b.approved_unpaid, money(held, &currency), b.holds)
        }
        None => (money(Dec::ZERO, &currency), money(Dec::ZERO, &currency), Vec::new()),
    };
    Some(PartnerEarnings {
        quarter: Quarter::of(now).to_string(),
        commissions: money(figures.commissions, &currency),
        attributed_revenue: money(figures.base, &currency),
        target: figures.target.map(|t| money(t, &currency)),
        rate_reached: figures.rate.map(Into::into),
        approved_unpaid: approved,
        held,
        holds,
        rebates_unpaid: money(figures.rebates_unpaid, &currency),
        next_payout_at: payouts::next_payout_at(&standing.places, now),
    })
}

/// A ledger list's filter.
#[derive(InputObject, Default)]
pub struct LedgerFilter {
    /// Only entries of this kind.
    pub kind: Option<LedgerEntryKind>,
    /// Only entries whose current state is this.
    pub state: Option<LedgerEntryState>,
    /// Only entries of this quarter, such as 2026-Q4.
    pub quarter: Option<String>,
}

/// A partner's ledger page (staff: any partner's; the partner's ADMIN and BILLING: its own).
pub async fn ledger_page(
    ctx: &Context<'_>,
    partner_id: uuid::Uuid,
    filter: Option<LedgerFilter>,
    args: PageArgs,
) -> async_graphql::Result<Page<LedgerEntry>> {
    let f = filter.unwrap_or_default();
    let filter = ledger_service::Filter {
        partner_id: Some(partner_id),
        kind: f.kind.map(Into::into),
        state: f.state.map(Into::into),
        quarter: f.quarter,
    };
    let select = ledger_service::entries(ctx.principal(), &filter)?;
    Ok(paginate(&ctx.service().db, select, ledger_entry::Column::Id, |m| m.id, LedgerEntry, args).await?)
}

pub struct PartnerOfRecordClaim(pub partner_of_record_claim::Model);

/// A partner's claim to advise a customer, and the customer's (or staff's) answer.
#[Object]
impl PartnerOfRecordClaim {
    /// Opaque global identifier.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::PartnerOfRecordClaim, self.0.id))
    }
    /// The partner that claims.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.partner_id).await?.map(Organization))
    }
    /// The customer it claims to advise.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.customer_id).await?.map(Organization))
    }
    /// The product it claims; none for all of the customer's products.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        match self.0.product_id {
            Some(id) => Ok(load::<entity::product::Entity>(ctx, id).await?.map(Product)),
            None => Ok(None),
        }
    }
    /// Where the claim stands.
    async fn status(&self) -> PartnerOfRecordStatus {
        self.0.status.into()
    }
    /// What the partner said about its role.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// Whether staff decided or checked it.
    async fn staff_verified(&self) -> bool {
        self.0.staff_verified
    }
    /// When the partner claimed.
    async fn claimed_at(&self) -> DateTime<Utc> {
        self.0.claimed_at
    }
    /// When it was confirmed or denied: a confirmed claim earns from then on.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
    /// When it stopped earning (replaced or ended by staff).
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.ended_at
    }
    /// Why it ended (replaced by another partner, or staff's reason).
    async fn end_reason(&self) -> Option<&str> {
        self.0.end_reason.as_deref()
    }
}

pub struct CommissionRule(pub commission_rule::Model);

/// A programme's commission rule: a percentage of the list price attributed customers pay.
#[Object]
impl CommissionRule {
    /// Opaque global identifier.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::CommissionRule, self.0.id))
    }
    /// The programme whose terms it is.
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Program>> {
        Ok(load::<entity::program::Entity>(ctx, self.0.program_id).await?.map(Program))
    }
    /// The tier it applies to; none for every tier.
    async fn tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        match self.0.tier_id {
            Some(id) => Ok(load::<entity::tier::Entity>(ctx, id).await?.map(Tier)),
            None => Ok(None),
        }
    }
    /// The product line it applies to; none for all.
    async fn product_line(&self) -> Option<&str> {
        self.0.product_line.as_deref()
    }
    /// Percent of the list price attributed customers pay.
    async fn percent(&self) -> Decimal {
        self.0.percent.to_decimal().into()
    }
    /// The rate for a quarter whose target was met.
    async fn accelerated_percent(&self) -> Option<Decimal> {
        self.0.accelerated_percent.map(|p| p.to_decimal().into())
    }
    /// Attributed revenue (list price) per quarter that unlocks the accelerated rate.
    async fn quarterly_target(&self) -> Option<Money> {
        self.0.quarterly_target.map(|t| money(t.to_decimal(), &self.0.currency))
    }
    /// From when it applies (the payment's date).
    async fn valid_from(&self) -> DateTime<Utc> {
        self.0.valid_from
    }
    /// Until when it applies (exclusive); none when open.
    async fn valid_to(&self) -> Option<DateTime<Utc>> {
        self.0.valid_to
    }
}

pub struct PayoutStatement(pub payout_statement::Model, pub String);

/// What one partner was paid in a batch.
#[Object]
impl PayoutStatement {
    /// A stable identifier (statements are fetched through their batch).
    pub async fn id(&self) -> ID {
        ID(ids::derived("PayoutStatement", &[&self.0.id.to_string()]))
    }
    /// The partner paid.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.partner_id).await?.map(Organization))
    }
    /// What it was paid.
    async fn amount(&self) -> Money {
        money(self.0.amount.to_decimal(), &self.0.currency)
    }
    /// How many ledger entries it paid.
    async fn entries(&self) -> i32 {
        self.0.entries
    }
    /// The statement as CSV (same sign-in as the API).
    async fn csv_url(&self) -> String {
        format!("/exports/payouts/{}.csv", self.1)
    }
}

pub struct PayoutBatch(pub payout_batch::Model);

/// A payout batch ("wave"): every partner's approved, unpaid balance in one currency, paid once.
#[Object]
impl PayoutBatch {
    /// Opaque global identifier.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::PayoutBatch, self.0.id))
    }
    /// `PO-<year>-<6 digits>`.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// The currency it pays, ISO 4217.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// Running or completed.
    async fn status(&self) -> PayoutBatchStatus {
        self.0.status.into()
    }
    /// When it started.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When every partner owed was paid.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// Per partner, what it was paid (a partner sees its own only).
    async fn statements(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PayoutStatement>> {
        let rows = load_with::<PayoutStatements>(ctx, self.0.id).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|s| PayoutStatement(s, self.0.number.clone())).collect())
    }
    /// What the statements you see add up to.
    async fn total(&self, ctx: &Context<'_>) -> async_graphql::Result<Money> {
        let rows = load_with::<PayoutStatements>(ctx, self.0.id).await?.unwrap_or_default();
        Ok(money(rows.iter().map(|s| s.amount.to_decimal()).sum(), &self.0.currency))
    }
    /// The batch as CSV, one row per paid entry (same sign-in as the API).
    async fn csv_url(&self) -> String {
        format!("/exports/payouts/{}.csv", self.0.number)
    }
}

pub struct ReferralCode(pub entity::referral_code::Model);

/// An affiliate's referral code: organisations created through it are attributed to the
/// affiliate for the programme's attribution period.
#[Object]
impl ReferralCode {
    /// Opaque global identifier.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::ReferralCode, self.0.id))
    }
    /// The code to give to referred organisations.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// A link that carries the code.
    async fn link(&self, ctx: &Context<'_>) -> String {
        format!("{}/?ref={}", ctx.state().public_url.trim_end_matches('/'), self.0.code)
    }
    /// The referral programme it belongs to.
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Program>> {
        Ok(load::<entity::program::Entity>(ctx, self.0.program_id).await?.map(Program))
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct ReferralAttribution(pub entity::referral_attribution::Model);

/// An organisation that came through an affiliate's referral code.
#[Object]
impl ReferralAttribution {
    /// Opaque global identifier.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::ReferralAttribution, self.0.id))
    }
    /// The referred organisation's name.
    async fn organization_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        load_with::<super::loaders::Names>(ctx, self.0.organization_id).await
    }
    /// The affiliate it is attributed to.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.partner_id).await?.map(Organization))
    }
    /// Since when.
    async fn attributed_at(&self) -> DateTime<Utc> {
        self.0.attributed_at
    }
    /// Until when what it pays earns the affiliate commission.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
}

#[derive(Default)]
pub struct LedgerQuery;

#[Object]
impl LedgerQuery {
    /// Partner-of-record claims you see: your partner's, those on your customer organisation, or
    /// all for staff.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn partner_of_record_claims(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only claims with this status.")] status: Option<PartnerOfRecordStatus>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<PartnerOfRecordClaim>> {
        policy::signed_in(ctx.principal())?;
        let mut select = records::visible(ctx.principal());
        if let Some(status) = status {
            select = select.filter(partner_of_record_claim::Column::Status.eq(domain::RecordClaimStatus::from(status)));
        }
        let args = PageArgs::of(ctx, first, after, last, before);
        Ok(paginate(
            &ctx.service().db,
            select,
            partner_of_record_claim::Column::Id,
            |m| m.id,
            PartnerOfRecordClaim,
            args,
        )
        .await?)
    }

    /// Payout batches you see: all for staff; those that paid your partner for its ADMIN and BILLING.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn payout_batches(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<PayoutBatch>> {
        policy::signed_in(ctx.principal())?;
        let args = PageArgs::of(ctx, first, after, last, before);
        let select = payouts::visible(ctx.principal());
        Ok(paginate(&ctx.service().db, select, payout_batch::Column::Id, |m| m.id, PayoutBatch, args).await?)
    }

    /// One payout batch you see, by its number (`PO-<year>-<6 digits>`); `null` otherwise.
    async fn payout_batch(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The batch's number.")] number: String,
    ) -> async_graphql::Result<Option<PayoutBatch>> {
        policy::signed_in(ctx.principal())?;
        Ok(payouts::by_number(&ctx.service().db, ctx.principal(), &number).await?.map(PayoutBatch))
    }

    /// A partner's ledger (your own partner's when `partnerId` is absent): every commission,
    /// rebate, adjustment, reversal and payout, with its state and why money is held. For the
    /// partner's ADMIN and BILLING, and staff; empty otherwise.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn partner_ledger(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner; yours when absent.")] partner_id: Option<ID>,
        #[graphql(desc = "Only entries matching this.")] filter: Option<LedgerFilter>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<LedgerEntry>> {
        let partner = partner_of(ctx, partner_id)?;
        ledger_page(ctx, partner, filter, PageArgs::of(ctx, first, after, last, before)).await
    }

    /// A partner's balances per currency (yours when `partnerId` is absent), summed from its
    /// ledger: pending (with why and until when), approved and unpaid, paid.
    async fn partner_balances(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner; yours when absent.")] partner_id: Option<ID>,
    ) -> async_graphql::Result<Vec<LedgerBalance>> {
        let partner = partner_of(ctx, partner_id)?;
        balances_of(ctx, partner).await
    }

    /// The dashboard's money (yours when `partnerId` is absent): commission this quarter against
    /// the target and the rate reached, owed and held balances, unpaid rebates, the next payout.
    /// Null for anyone but the partner's ADMIN and BILLING, and staff.
    async fn partner_earnings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner; yours when absent.")] partner_id: Option<ID>,
    ) -> async_graphql::Result<Option<PartnerEarnings>> {
        let partner = partner_of(ctx, partner_id)?;
        earnings_of(ctx, partner).await
    }

    /// Your referral codes (an affiliate's ADMIN and BILLING; staff: all).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn referral_codes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<ReferralCode>> {
        policy::signed_in(ctx.principal())?;
        let args = PageArgs::of(ctx, first, after, last, before);
        let select = referrals::codes(ctx.principal());
        Ok(paginate(&ctx.service().db, select, entity::referral_code::Column::Id, |m| m.id, ReferralCode, args).await?)
    }

    /// Organisations attributed to you through your referral codes (an affiliate's ADMIN and
    /// BILLING; staff: all).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn referral_attributions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<ReferralAttribution>> {
        policy::signed_in(ctx.principal())?;
        let args = PageArgs::of(ctx, first, after, last, before);
        let select = referrals::attributions(ctx.principal());
        Ok(paginate(
            &ctx.service().db,
            select,
            entity::referral_attribution::Column::Id,
            |m| m.id,
            ReferralAttribution,
            args,
        )
        .await?)
    }

    /// The commission rules of a programme (its published terms).
    async fn commission_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme.")] program_id: ID,
    ) -> async_graphql::Result<Vec<CommissionRule>> {
        policy::signed_in(ctx.principal())?;
        let Some(id) = ids::decode_as(NodeType::Program, &program_id) else { return Ok(Vec::new()) };
        Ok(post::rules(&ctx.service().db, ctx.principal(), id).await?.into_iter().map(CommissionRule).collect())
    }
}

/// The input of `createCommissionRule`.
#[derive(InputObject)]
pub struct CreateCommissionRuleInput {
    /// The programme.
    pub program_id: ID,
    /// Only partners of this tier; every tier when absent.
    pub tier_id: Option<ID>,
    /// Only this product line; all when absent.
    pub product_line: Option<String>,
    /// Percent of the list price, such as 20.
    pub percent: Decimal,
    /// The percent for a quarter whose target was met, such as 30.
    pub accelerated_percent: Option<Decimal>,
    /// Attributed revenue per quarter that unlocks the accelerated percent.
    pub quarterly_target: Option<MoneyInput>,
    /// From when it applies (payment date).
    pub valid_from: DateTime<Utc>,
    /// Until when (exclusive); open when absent.
    pub valid_to: Option<DateTime<Utc>>,
}

/// What `createCommissionRule` returns.
#[derive(SimpleObject)]
pub struct CommissionRulePayload {
    /// The rule created.
    pub rule: CommissionRule,
}

/// The input of `claimPartnerOfRecord`.
#[derive(InputObject)]
pub struct ClaimPartnerOfRecordInput {
    /// The customer you advise.
    pub customer_id: ID,
    /// One product; all of the customer's products when absent.
    pub product_id: Option<ID>,
    /// What you do for the customer, for its ADMIN to read.
    pub note: Option<String>,
}

/// The input of `decidePartnerOfRecord`.
#[derive(InputObject)]
pub struct DecidePartnerOfRecordInput {
    /// The claim.
    pub claim_id: ID,
    /// True to confirm, false to deny.
    pub confirm: bool,
}

/// The input of `endPartnerOfRecord`.
#[derive(InputObject)]
pub struct EndPartnerOfRecordInput {
    /// The confirmed claim.
    pub claim_id: ID,
    /// Why (told to the partner).
    pub reason: String,
}

/// What the partner-of-record mutations return.
#[derive(SimpleObject)]
pub struct PartnerOfRecordPayload {
    /// The claim as it is now.
    pub claim: PartnerOfRecordClaim,
}

/// What staff may mark an entry.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LedgerMark {
    /// The entry duplicates another.
    Duplicate,
    /// Fraud: holds every open entry of the same partner and customer.
    Fraud,
}

/// The input of `markLedgerEntry`.
#[derive(InputObject)]
pub struct MarkLedgerEntryInput {
    /// The entry.
    pub entry_id: ID,
    /// DUPLICATE or FRAUD.
    pub mark: LedgerMark,
    /// Why (shown to the partner).
    pub reason: String,
}

/// What `markLedgerEntry` returns.
#[derive(SimpleObject)]
pub struct MarkLedgerEntryPayload {
    /// Every entry marked (for FRAUD, all open entries of the partner and customer).
    pub entries: Vec<LedgerEntry>,
}

/// The input of `closeQuarter`.
#[derive(InputObject)]
pub struct CloseQuarterInput {
    /// A quarter that is over, such as 2026-Q3.
    pub quarter: String,
}

/// What `closeQuarter` returns.
#[derive(SimpleObject)]
pub struct CloseQuarterPayload {
    /// The accelerator adjustments posted now (none when already posted or no target was met).
    pub adjustments: Vec<LedgerEntry>,
}

/// The input of `runPayout`.
#[derive(InputObject)]
pub struct RunPayoutInput {
    /// Names the batch: a retry with it returns (and completes) the same batch.
    pub idempotency_key: String,
    /// The currency to pay, a programme currency.
    pub currency: String,
}

/// What `runPayout` returns.
#[derive(SimpleObject)]
pub struct RunPayoutPayload {
    /// The batch, completed.
    pub batch: PayoutBatch,
    /// Partners this call paid (0 for a retry of a completed batch).
    pub partners_paid: i32,
}

/// The input of `createReferralCode`.
#[derive(InputObject)]
pub struct CreateReferralCodeInput {
    /// The referral programme; the first you belong to when absent.
    pub program_id: Option<ID>,
}

/// What `createReferralCode` returns.
#[derive(SimpleObject)]
pub struct ReferralCodePayload {
    /// Your code (the same one when asked again).
    pub referral_code: ReferralCode,
}

#[derive(Default)]
pub struct LedgerMutation;

#[Object]
impl LedgerMutation {
    /// Your referral code and link as an affiliate (the ADMIN of a partner in a referral
    /// programme); asking again returns the same code.
    async fn create_referral_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateReferralCodeInput,
    ) -> async_graphql::Result<ReferralCodePayload> {
        policy::signed_in(ctx.principal())?;
        let program = input.program_id.map(|p| decode(NodeType::Program, &p, "Program")).transpose()?;
        let code = referrals::create_code(ctx.service(), ctx.principal(), program).await?;
        Ok(ReferralCodePayload { referral_code: ReferralCode(code) })
    }

    /// Adds a commission rule to a programme (staff ADMIN or FINANCE).
    async fn create_commission_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateCommissionRuleInput,
    ) -> async_graphql::Result<CommissionRulePayload> {
        policy::signed_in(ctx.principal())?;
        let new = post::NewRule {
            program_id: decode(NodeType::Program, &input.program_id, "Program")?,
            tier_id: input.tier_id.map(|t| decode(NodeType::Tier, &t, "Tier")).transpose()?,
            product_line: input.product_line,
            percent: input.percent.0,
            accelerated_percent: input.accelerated_percent.map(|p| p.0),
            quarterly_target: input.quarterly_target.map(MoneyInput::parts),
            valid_from: input.valid_from,
            valid_to: input.valid_to,
        };
        let rule = post::create_rule(ctx.service(), ctx.principal(), new).await?;
        Ok(CommissionRulePayload { rule: CommissionRule(rule) })
    }

    /// Claims to be a customer's advising partner (partner ADMIN or SALES); its ADMIN answers.
    async fn claim_partner_of_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ClaimPartnerOfRecordInput,
    ) -> async_graphql::Result<PartnerOfRecordPayload> {
        policy::signed_in(ctx.principal())?;
        let customer = ids::decode_as(NodeType::Organization, &input.customer_id)
            .ok_or_else(|| AppError::bad_input("customerId", "is not a customer you work with"))?;
        let product = input
            .product_id
            .map(|p| {
                ids::decode_as(NodeType::Product, &p)
                    .ok_or_else(|| AppError::bad_input("productId", "is not a product of the catalog"))
            })
            .transpose()?;
        let claim = records::claim(ctx.service(), ctx.principal(), customer, product, input.note).await?;
        Ok(PartnerOfRecordPayload { claim: PartnerOfRecordClaim(claim) })
    }

    /// Confirms or denies a claim: the customer's ADMIN, or staff ADMIN or CHANNEL_MANAGER.
    async fn decide_partner_of_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: DecidePartnerOfRecordInput,
    ) -> async_graphql::Result<PartnerOfRecordPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::PartnerOfRecordClaim, &input.claim_id, "PartnerOfRecordClaim")?;
        let claim = records::decide(ctx.service(), ctx.principal(), id, input.confirm).await?;
        Ok(PartnerOfRecordPayload { claim: PartnerOfRecordClaim(claim) })
    }

    /// Ends a confirmed partner of record (staff ADMIN or CHANNEL_MANAGER, overriding).
    async fn end_partner_of_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: EndPartnerOfRecordInput,
    ) -> async_graphql::Result<PartnerOfRecordPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::PartnerOfRecordClaim, &input.claim_id, "PartnerOfRecordClaim")?;
        let claim = records::end_by_staff(ctx.service(), ctx.principal(), id, &input.reason).await?;
        Ok(PartnerOfRecordPayload { claim: PartnerOfRecordClaim(claim) })
    }

    /// Marks an open entry DUPLICATE or FRAUD (staff ADMIN or FINANCE); nothing is deleted.
    async fn mark_ledger_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: MarkLedgerEntryInput,
    ) -> async_graphql::Result<MarkLedgerEntryPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::LedgerEntry, &input.entry_id, "LedgerEntry")?;
        let state = match input.mark {
            LedgerMark::Duplicate => domain::EntryState::Duplicate,
            LedgerMark::Fraud => domain::EntryState::Fraud,
        };
        let marked = post::mark(ctx.service(), ctx.principal(), id, state, &input.reason).await?;
        Ok(MarkLedgerEntryPayload { entries: marked.into_iter().map(LedgerEntry).collect() })
    }

    /// Closes a quarter that is over: posts the accelerator adjustments (staff ADMIN or FINANCE;
    /// the job does it on the first day of each quarter).
    async fn close_quarter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CloseQuarterInput,
    ) -> async_graphql::Result<CloseQuarterPayload> {
        let principal = policy::signed_in(ctx.principal())?;
        let quarter = crate::service::field("quarter", Quarter::parse(&input.quarter))?;
        let made = post::close_quarter(ctx.service(), Some(principal), quarter).await?;
        Ok(CloseQuarterPayload { adjustments: made.into_iter().map(LedgerEntry).collect() })
    }

    /// Pays every partner its approved, unpaid balance in a currency, exactly once (staff ADMIN
    /// or FINANCE). Completes an interrupted batch first.
    async fn run_payout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: RunPayoutInput,
    ) -> async_graphql::Result<RunPayoutPayload> {
        let principal = policy::signed_in(ctx.principal())?;
        let run = payouts::run(ctx.service(), Some(principal), &input.idempotency_key, &input.currency).await?;
        Ok(RunPayoutPayload {
            batch: PayoutBatch(run.batch),
            partners_paid: i32::try_from(run.paid_now).unwrap_or(i32::MAX),
        })
    }
}
