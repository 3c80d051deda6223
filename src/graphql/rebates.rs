//! Rebates in GraphQL (issue 16): the approved distributor list, the rebate table, and claims with
//! their review and the distributor's marks.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Upload};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{rebate_claim, rebate_rate};

use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    customers::Product,
    ledger::{decode, money, partner_of},
    loaders::{RebateSummaries, children, load, load_with},
    programs::{Money, MoneyInput},
    types::{Organization, Program, Tier, User},
};
use crate::{
    domain::billing::display,
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::{rebate_claims, rebates},
};

pub struct RebateRate(pub rebate_rate::Model);

/// A rate of a programme's rebate table: an amount per unit of a product line bought from an
/// approved distributor, for partners of one tier, for invoices dated within its period.
#[Object]
impl RebateRate {
    /// Opaque global identifier; `node(id:)` fetches the rate again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::RebateRate, self.0.id))
    }
    /// The programme whose terms it is.
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Program>> {
        Ok(load::<entity::program::Entity>(ctx, self.0.program_id).await?.map(Program))
    }
    /// The tier whose partners earn it.
    async fn tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        Ok(load::<entity::tier::Entity>(ctx, self.0.tier_id).await?.map(Tier))
    }
    /// The product line it pays on.
    async fn product_line(&self) -> &str {
        &self.0.product_line
    }
    /// What one unit earns.
    async fn amount_per_unit(&self) -> Money {
        let amount = self.0.amount_per_unit.to_decimal();
        Money::new(display(amount, &self.0.currency), self.0.currency.clone())
    }
    /// The first invoice date it applies to.
    async fn valid_from(&self) -> DateTime<Utc> {
        self.0.valid_from
    }
    /// The invoice date from which it no longer applies; open when null.
    async fn valid_to(&self) -> Option<DateTime<Utc>> {
        self.0.valid_to
    }
}

#[derive(Default)]
pub struct RebateQuery;

#[Object]
impl RebateQuery {
    /// Distributors on the vendor's approved list, the ones a rebate claim may name. Staff also
    /// see the ones taken off it (`active: false`); everyone else only the active ones.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn approved_distributors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the active (true) or the withdrawn (false) ones; both when absent.")] active: Option<
            bool,
        >,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Organization>> {
        policy::signed_in(ctx.principal())?;
        let args = PageArgs::of(ctx, first, after, last, before);
        let select = rebates::distributors(ctx.principal(), active);
        Ok(paginate(&ctx.service().db, select, entity::organization::Column::Id, |m| m.id, Organization, args).await?)
    }

    /// A programme's rebate table (its published terms), oldest first; with `at`, only the
    /// rates in force on that invoice date.
    async fn rebate_rates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme.")] program_id: ID,
        #[graphql(desc = "An invoice date: only the rates in force then.")] at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Vec<RebateRate>> {
        policy::signed_in(ctx.principal())?;
        let Some(id) = ids::decode_as(NodeType::Program, &program_id) else { return Ok(Vec::new()) };
        Ok(rebates::rates(&ctx.service().db, ctx.principal(), id, at).await?.into_iter().map(RebateRate).collect())
    }
}

/// The input of `setDistributorApproval`.
#[derive(InputObject)]
pub struct SetDistributorApprovalInput {
    /// A DISTRIBUTOR organisation.
    pub organization_id: ID,
    /// On the list (true), or taken off it (false).
    pub active: bool,
    /// Why, for staff (at most 500 characters).
    pub note: Option<String>,
}

/// What `setDistributorApproval` returns.
#[derive(SimpleObject)]
pub struct DistributorApprovalPayload {
    /// The distributor.
    pub organization: Organization,
    /// Whether it is on the list now.
    pub active: bool,
    /// Staff's note.
    pub note: Option<String>,
    /// When the approval last changed.
    pub updated_at: DateTime<Utc>,
}

/// The input of `createRebateRate`.
#[derive(InputObject)]
pub struct CreateRebateRateInput {
    /// The programme.
    pub program_id: ID,
    /// The tier whose partners earn it.
    pub tier_id: ID,
    /// The product line it pays on (compared without case).
    pub product_line: String,
    /// What one unit earns, in the programme's currency.
    pub amount_per_unit: MoneyInput,
    /// The first invoice date it applies to.
    pub valid_from: DateTime<Utc>,
    /// The invoice date from which it no longer applies; open when absent.
    pub valid_to: Option<DateTime<Utc>>,
}

/// What `createRebateRate` returns.
#[derive(SimpleObject)]
pub struct RebateRatePayload {
    /// The rate created.
    pub rate: RebateRate,
}

#[derive(Default)]
pub struct RebateMutation;

#[Object]
impl RebateMutation {
    /// Puts a distributor on the approved list or takes it off (staff ADMIN or FINANCE).
    async fn set_distributor_approval(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: SetDistributorApprovalInput,
    ) -> async_graphql::Result<DistributorApprovalPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Organization, &input.organization_id, "Organization")?;
        let saved = rebates::set_distributor(ctx.service(), ctx.principal(), id, input.active, input.note).await?;
        let organization =
            load::<entity::organization::Entity>(ctx, id).await?.ok_or(AppError::NotFound("Organization"))?;
        Ok(DistributorApprovalPayload {
            organization: Organization(organization),
            active: saved.active,
            note: saved.note,
            updated_at: saved.updated_at,
        })
    }

    /// Adds a rate to a programme's rebate table (staff ADMIN or FINANCE). Rates of one tier,
    /// product line and currency may not overlap in time (CONFLICT).
    async fn create_rebate_rate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateRebateRateInput,
    ) -> async_graphql::Result<RebateRatePayload> {
        policy::signed_in(ctx.principal())?;
        let new = rebates::NewRate {
            program_id: decode(NodeType::Program, &input.program_id, "Program")?,
            tier_id: decode(NodeType::Tier, &input.tier_id, "Tier")?,
            product_line: input.product_line,
            amount_per_unit: input.amount_per_unit.parts(),
            valid_from: input.valid_from,
            valid_to: input.valid_to,
        };
        let rate = rebates::create_rate(ctx.service(), ctx.principal(), new).await?;
        Ok(RebateRatePayload { rate: RebateRate(rate) })
    }
}

/// A rebate claim's review status.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ClaimStatus")]
pub enum RebateClaimStatus {
    /// Waiting for staff.
    Open,
    /// Accepted: its rebate is in the partner's ledger, owed.
    Accepted,
    /// Refused with a reason; after an acceptance its rebate was reversed.
    Rejected,
}

/// Why staff rejected a rebate claim.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ClaimRejection")]
pub enum RebateRejectionReason {
    /// The quantities claimed do not match the invoice.
    QuantityMismatch,
    /// The purchase was already claimed.
    Duplicate,
    /// The distributor is not (or no longer) on the approved list.
    DistributorNotApproved,
    /// The partner's status changed.
    PartnerStatusChanged,
    /// Unusual activity.
    UnusualActivity,
    /// Another reason, given as text.
    Other,
}

/// The distributor's mark on a claim line.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::LineMark")]
pub enum RebateLineMark {
    /// The distributor confirms the product and quantity.
    Confirmed,
    /// The distributor disputes them.
    Disputed,
}

/// A stored file and the name it was uploaded under.
pub struct InvoiceFile(pub entity::stored_file::Model, pub String);

/// The invoice file of a claim, one click away: `GET <url>` with the same credentials.
#[Object]
impl InvoiceFile {
    /// Where to download it: `/files/<id>`, as an attachment.
    async fn url(&self) -> String {
        format!("/files/{}", self.0.id)
    }
    /// The name it was uploaded under (display only).
    async fn file_name(&self) -> &str {
        &self.1
    }
    /// PDF, JPEG or PNG, judged by its content.
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }
    /// Its size in bytes.
    async fn size_bytes(&self) -> i64 {
        self.0.size_bytes
    }
    /// Its SHA-256, in hex: the same file is never claimed twice.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
}

/// A line, whether the caller reads amounts, and the claim's currency.
pub struct RebateClaimLine(pub entity::rebate_claim_line::Model, bool, String);

/// A product and quantity of a claim, with the rate that priced it.
#[Object]
impl RebateClaimLine {
    /// Identifies the line within its claim (for `markRebateClaimLines`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The product.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        Ok(load::<entity::product::Entity>(ctx, self.0.product_id).await?.map(Product))
    }
    /// Its product line, whose rate applied.
    async fn product_line(&self) -> &str {
        &self.0.product_line
    }
    /// Units bought.
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    /// The rebate per unit, frozen at submission; null for the distributor.
    async fn amount_per_unit(&self) -> Option<Money> {
        self.1.then(|| money(self.0.amount_per_unit.to_decimal(), &self.2))
    }
    /// The line's rebate; null for the distributor.
    async fn amount(&self) -> Option<Money> {
        self.1.then(|| money(self.0.amount.to_decimal(), &self.2))
    }
    /// The distributor's mark, once it looked.
    async fn distributor_mark(&self) -> Option<RebateLineMark> {
        self.0.distributor_mark.map(Into::into)
    }
}

pub struct RebateClaim(pub rebate_claim::Model);

impl RebateClaim {
    fn amounts(&self, ctx: &Context<'_>) -> bool {
        policy::sees_claim_amounts(ctx.principal(), &self.0)
    }
}

/// A partner's claim of a rebate on purchases from an approved distributor, proven by the
/// invoice file. Read by the partner, staff, and (without amounts) the distributor it names.
#[Object]
impl RebateClaim {
    /// Opaque global identifier; `node(id:)` fetches the claim again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::RebateClaim, self.0.id))
    }
    /// OPEN, ACCEPTED or REJECTED.
    async fn status(&self) -> RebateClaimStatus {
        self.0.status.into()
    }
    /// The claiming partner.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.partner_id).await?.map(Organization))
    }
    /// The programme whose rebate table priced it.
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Program>> {
        Ok(load::<entity::program::Entity>(ctx, self.0.program_id).await?.map(Program))
    }
    /// The partner's tier when it claimed.
    async fn tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        Ok(load::<entity::tier::Entity>(ctx, self.0.tier_id).await?.map(Tier))
    }
    /// The distributor the products were bought from.
    async fn distributor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.distributor_id).await?.map(Organization))
    }
    /// Who submitted it.
    async fn submitted_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        Ok(load::<entity::user::Entity>(ctx, self.0.submitted_by_user_id).await?.map(User))
    }
    /// The invoice number, as written on the invoice.
    async fn invoice_number(&self) -> &str {
        &self.0.invoice_number
    }
    /// The invoice date: the rates in force then priced the claim.
    async fn invoice_date(&self) -> NaiveDate {
        self.0.invoice_date
    }
    /// Products and quantities.
    async fn lines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<RebateClaimLine>> {
        let amounts = self.amounts(ctx);
        Ok(children::<entity::rebate_claim_line::Entity>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|l| RebateClaimLine(l, amounts, self.0.currency.clone()))
            .collect())
    }
    /// The invoice file.
    async fn invoice_file(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<InvoiceFile>> {
        Ok(load::<entity::stored_file::Entity>(ctx, self.0.file_id)
            .await?
            .map(|f| InvoiceFile(f, self.0.file_name.clone())))
    }
    /// The rebate, frozen at submission; null for the distributor.
    async fn amount(&self, ctx: &Context<'_>) -> Option<Money> {
        self.amounts(ctx).then(|| money(self.0.amount.to_decimal(), &self.0.currency))
    }
    /// Why staff rejected it.
    async fn rejection_reason(&self) -> Option<RebateRejectionReason> {
        self.0.rejection_code.map(Into::into)
    }
    /// Staff's words, with OTHER or any reason.
    async fn rejection_text(&self) -> Option<&str> {
        self.0.rejection_text.as_deref()
    }
    /// When staff last decided.
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
    /// When it was accepted (its rebate's date in the ledger).
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
    /// The distributor's note with its marks.
    async fn distributor_note(&self) -> Option<&str> {
        self.0.distributor_note.as_deref()
    }
    /// When the distributor marked the lines.
    async fn distributor_marked_at(&self) -> Option<DateTime<Utc>> {
        self.0.distributor_marked_at
    }
    /// When it was submitted.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Filters of `rebateClaims`.
#[derive(InputObject, Default)]
pub struct RebateClaimFilter {
    /// Only claims in this status (staff's queue: OPEN).
    pub status: Option<RebateClaimStatus>,
    /// Only this partner's claims (staff).
    pub partner_id: Option<ID>,
    /// Only claims naming this distributor.
    pub distributor_id: Option<ID>,
}

/// A partner's rebates for the dashboard.
#[derive(SimpleObject)]
pub struct RebateSummary {
    /// Rebates of claims accepted in the last 3 months (reversed ones excluded).
    pub accepted: Money,
    /// Of those, paid out.
    pub paid: Money,
    /// Of those, not yet paid.
    pub unpaid: Money,
    /// How many claims those are.
    pub claims_accepted: i64,
    /// Claims waiting for staff.
    pub claims_open: i64,
}

/// `partner.rebateSummary`: the partner's ADMIN and BILLING, and staff; null for anyone else,
/// and before the partner's first claim.
pub async fn summary_of(ctx: &Context<'_>, partner_id: uuid::Uuid) -> async_graphql::Result<Option<RebateSummary>> {
    Ok(load_with::<RebateSummaries>(ctx, partner_id).await?.map(RebateSummary::from))
}

impl From<crate::service::rebate_claims::Summary> for RebateSummary {
    fn from(s: crate::service::rebate_claims::Summary) -> Self {
        RebateSummary {
            accepted: money(s.accepted, &s.currency),
            paid: money(s.paid, &s.currency),
            unpaid: money(s.unpaid, &s.currency),
            claims_accepted: s.claims_accepted,
            claims_open: s.claims_open,
        }
    }
}

#[derive(Default)]
pub struct RebateClaimQuery;

#[Object]
impl RebateClaimQuery {
    /// Rebate claims you may see: your partner's, those naming your distributor (without
    /// amounts), or all for staff, whose default order is the queue's: oldest first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn rebate_claims(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only claims matching this.")] filter: Option<RebateClaimFilter>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<RebateClaim>> {
        policy::signed_in(ctx.principal())?;
        let filter = filter.unwrap_or_default();
        let id_of = |field: &str, id: Option<ID>| {
            id.map(|id| {
                ids::decode_as(NodeType::Organization, &id)
                    .ok_or_else(|| AppError::bad_input(field, "is not an organisation ID"))
            })
            .transpose()
        };
        let filter = rebate_claims::Filter {
            status: filter.status.map(Into::into),
            partner_id: id_of("partnerId", filter.partner_id)?,
            distributor_id: id_of("distributorId", filter.distributor_id)?,
        };
        let select = rebate_claims::filtered(ctx.principal(), &filter);
        let args = PageArgs::of(ctx, first, after, last, before);
        Ok(paginate(&ctx.service().db, select, rebate_claim::Column::Id, |m| m.id, RebateClaim, args).await?)
    }

    /// The rebate figures of a partner's dashboard (yours when `partnerId` is absent): accepted
    /// in the last 3 months, paid and unpaid, and open claims. Null before its first claim, and
    /// for anyone but the partner's ADMIN and BILLING, and staff.
    async fn rebate_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner; yours when absent.")] partner_id: Option<ID>,
    ) -> async_graphql::Result<Option<RebateSummary>> {
        let partner = partner_of(ctx, partner_id)?;
        summary_of(ctx, partner).await
    }
}

/// A product and quantity claimed.
#[derive(InputObject)]
pub struct RebateClaimLineInput {
    /// The product (its line's rate applies).
    pub product_id: ID,
    /// Units bought, 1 to 1000000.
    pub quantity: i32,
}

/// The input of `submitRebateClaim`.
#[derive(InputObject)]
pub struct SubmitRebateClaimInput {
    /// The programme; your first one with a rebate table when absent.
    pub program_id: Option<ID>,
    /// A distributor on the approved list.
    pub distributor_id: ID,
    /// As written on the invoice.
    pub invoice_number: String,
    /// The invoice's date; not in the future.
    pub invoice_date: NaiveDate,
    /// 1 to 50 products with quantities.
    pub lines: Vec<RebateClaimLineInput>,
    /// The invoice: a PDF, JPEG or PNG (judged by its content), at most the programme's
    /// `rebateFileMaxBytes`. Sent as a GraphQL multipart request.
    pub file: Upload,
    /// A retry with the same key and input returns the first claim.
    pub idempotency_key: Option<String>,
}

/// What the claim mutations return.
#[derive(SimpleObject)]
pub struct RebateClaimPayload {
    /// The claim as the mutation left it.
    pub claim: RebateClaim,
}

/// The input of `acceptRebateClaim`.
#[derive(InputObject)]
pub struct AcceptRebateClaimInput {
    /// An OPEN claim.
    pub claim_id: ID,
}

/// The input of `rejectRebateClaim`.
#[derive(InputObject)]
pub struct RejectRebateClaimInput {
    /// An OPEN or ACCEPTED claim (an accepted one's rebate is reversed).
    pub claim_id: ID,
    /// Why.
    pub reason: RebateRejectionReason,
    /// In words; required with OTHER (at most 2000 characters).
    pub text: Option<String>,
}

/// A distributor's mark on one line.
#[derive(InputObject)]
pub struct RebateLineMarkInput {
    /// A line of the claim (`lines { id }`).
    pub line_id: ID,
    /// CONFIRMED or DISPUTED.
    pub mark: RebateLineMark,
}

/// The input of `markRebateClaimLines`.
#[derive(InputObject)]
pub struct MarkRebateClaimLinesInput {
    /// A claim naming your distributor.
    pub claim_id: ID,
    /// The lines you confirm or dispute.
    pub lines: Vec<RebateLineMarkInput>,
    /// For staff (at most 2000 characters).
    pub note: Option<String>,
}

#[derive(Default)]
pub struct RebateClaimMutation;

#[Object]
impl RebateClaimMutation {
    /// Claims a rebate (a Silver or Gold partner's ADMIN or SALES) with the invoice file, as a
    /// GraphQL multipart request. Refused as CONFLICT, naming the field, when the invoice number,
    /// the date and lines, or the file were already claimed with the distributor, by anyone.
    async fn submit_rebate_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: SubmitRebateClaimInput,
    ) -> async_graphql::Result<RebateClaimPayload> {
        policy::signed_in(ctx.principal())?;
        let upload = input.file.value(ctx).map_err(|_| AppError::bad_input("file", "attach the invoice file"))?;
        let mut lines = Vec::with_capacity(input.lines.len());
        for line in input.lines {
            let product = ids::decode_as(NodeType::Product, &line.product_id)
                .ok_or_else(|| AppError::bad_input("lines", "name products by their ID"))?;
            lines.push((product, line.quantity));
        }
        let program_id = match input.program_id {
            Some(id) => Some(
                ids::decode_as(NodeType::Program, &id)
                    .ok_or_else(|| AppError::bad_input("programId", "is not a programme ID"))?,
            ),
            None => None,
        };
        let new = rebate_claims::NewClaim {
            program_id,
            distributor_id: ids::decode_as(NodeType::Organization, &input.distributor_id)
                .ok_or_else(|| AppError::bad_input("distributorId", "is not an organisation ID"))?,
            invoice_number: input.invoice_number,
            invoice_date: input.invoice_date,
            lines,
            invoice: rebate_claims::Invoice { name: upload.filename, file: upload.content },
            idempotency_key: input.idempotency_key,
        };
        let claim = rebate_claims::submit(ctx.service(), ctx.principal(), new).await?;
        Ok(RebateClaimPayload { claim: RebateClaim(claim) })
    }

    /// Accepts an OPEN claim (staff ADMIN or FINANCE): its rebate is posted to the partner's
    /// ledger, owed, and the partner is notified.
    async fn accept_rebate_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: AcceptRebateClaimInput,
    ) -> async_graphql::Result<RebateClaimPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::RebateClaim, &input.claim_id, "RebateClaim")?;
        let claim = rebate_claims::decide(ctx.service(), ctx.principal(), id, rebate_claims::Decision::Accept).await?;
        Ok(RebateClaimPayload { claim: RebateClaim(claim) })
    }

    /// Rejects an OPEN or ACCEPTED claim with a reason (staff ADMIN or FINANCE); an accepted
    /// one's rebate is reversed in the ledger. The partner is notified.
    async fn reject_rebate_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RejectRebateClaimInput,
    ) -> async_graphql::Result<RebateClaimPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::RebateClaim, &input.claim_id, "RebateClaim")?;
        let decision = rebate_claims::Decision::Reject { code: input.reason.into(), text: input.text };
        let claim = rebate_claims::decide(ctx.service(), ctx.principal(), id, decision).await?;
        Ok(RebateClaimPayload { claim: RebateClaim(claim) })
    }

    /// Marks a claim's lines confirmed or disputed, with a note for staff (a member of the
    /// distributor the claim names). Staff see the marks; the decision stays theirs.
    async fn mark_rebate_claim_lines(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: MarkRebateClaimLinesInput,
    ) -> async_graphql::Result<RebateClaimPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::RebateClaim, &input.claim_id, "RebateClaim")?;
        let mut marks = Vec::with_capacity(input.lines.len());
        for line in input.lines {
            let line_id = uuid::Uuid::parse_str(&line.line_id)
                .map_err(|_| AppError::bad_input("lines", "name lines of this claim"))?;
            marks.push((line_id, line.mark.into()));
        }
        let claim = rebate_claims::mark(ctx.service(), ctx.principal(), id, marks, input.note).await?;
        Ok(RebateClaimPayload { claim: RebateClaim(claim) })
    }
}
