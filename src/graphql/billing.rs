//! The catalog (products, plans, volume bands), managed subscriptions and billing.

use super::scalars::Decimal;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{invoice, invoice_line, payment, plan, subscription, subscription_change, volume_band};
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

use super::enums::{BilledTo, BillingPeriod, InvoiceLineKind, InvoiceStatus, SubscriptionChangeKind};
use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    customers::{Product, ProductSubscription},
    loaders::{Names, children, load, load_with},
    programs::{Money, MoneyInput},
    types::Organization,
};
use crate::{
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::{billing, catalog, subscriptions},
};
use entity::fixed::Fixed;

fn decode(kind: NodeType, id: &ID, what: &'static str) -> Result<Uuid, AppError> {
    ids::decode_as(kind, id).ok_or(AppError::NotFound(what))
}

fn money(stored: &Fixed, currency: &str) -> async_graphql::Result<Money> {
    let amount = crate::domain::billing::display(stored.to_decimal(), currency);
    Ok(Money::new(amount, currency.to_string()))
}

pub struct Plan(pub plan::Model);

/// A way to buy a product: a price per seat and billing period, and a rank (higher is an
/// upgrade).
#[Object]
impl Plan {
    /// Opaque global identifier; `node(id:)` fetches the plan again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Plan, self.0.id))
    }
    /// Its unique code.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Its name as customers see it.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// How often it is billed.
    async fn billing_period(&self) -> BillingPeriod {
        self.0.billing_period.into()
    }
    /// The list price per seat and period, below every volume band.
    async fn unit_price(&self) -> async_graphql::Result<Money> {
        money(&self.0.unit_price, &self.0.currency)
    }
    /// Its place among the product's plans: moving to a higher rank is an upgrade.
    async fn rank(&self) -> i32 {
        self.0.rank
    }
    /// Whether it can be subscribed to.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// The product it sells.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        Ok(load::<entity::product::Entity>(ctx, self.0.product_id).await?.map(Product))
    }
    /// From `minSeats` seats up, every seat costs the band's price.
    async fn volume_bands(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<VolumeBand>> {
        let currency = self.0.currency.clone();
        Ok(children::<volume_band::Entity>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|b| VolumeBand { band: b, currency: currency.clone() })
            .collect())
    }
}

pub struct VolumeBand {
    band: volume_band::Model,
    currency: String,
}

/// A lower per-seat price from a number of seats on.
#[Object]
impl VolumeBand {
    /// The band applies from this many seats.
    async fn min_seats(&self) -> i32 {
        self.band.min_seats
    }
    /// The price per seat and period in the band.
    async fn unit_price(&self) -> async_graphql::Result<Money> {
        money(&self.band.unit_price, &self.currency)
    }
}

pub async fn product_plans(ctx: &Context<'_>, product_id: Uuid) -> async_graphql::Result<Vec<Plan>> {
    Ok(children::<plan::Entity>(ctx, product_id).await?.into_iter().map(Plan).collect())
}

pub struct SubscriptionChange(pub subscription_change::Model);

/// One change of a subscription.
#[Object]
impl SubscriptionChange {
    /// Opaque global identifier; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ID(crate::ids::encode(crate::ids::NodeType::SubscriptionChange, self.0.id))
    }
    /// What happened.
    async fn kind(&self) -> SubscriptionChangeKind {
        self.0.kind.into()
    }
    /// The subscription's fields before, as JSON.
    async fn before(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.before.clone().map(async_graphql::Json)
    }
    /// The subscription's fields after, as JSON.
    async fn after(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.after.clone().map(async_graphql::Json)
    }
    /// Who made it; null for the renewal job.
    async fn actor_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.0.actor_user_id else { return Ok(None) };
        load_with::<Names>(ctx, id).await
    }
    /// When.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}

pub async fn subscription_history(
    ctx: &Context<'_>,
    id: Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<SubscriptionChange>> {
    let select = subscriptions::history(ctx.principal(), id, ctx.service().now());
    Ok(paginate(&ctx.service().db, select, subscription_change::Column::Id, |m| m.id, SubscriptionChange, args).await?)
}

pub struct Invoice(pub invoice::Model);

/// An invoice: numbered INV-<year>-<6 digits> without gaps, never deleted.
#[Object]
impl Invoice {
    /// Opaque global identifier; `node(id:)` fetches the invoice again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Invoice, self.0.id))
    }
    /// Its number, without gaps per year, such as `2026-000042`.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// Where the invoice is.
    async fn status(&self) -> InvoiceStatus {
        self.0.status.into()
    }
    /// YYYY-MM.
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// The invoice's currency (ISO 4217).
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// The organisation billed.
    async fn bill_to(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.bill_to_organization_id).await?.map(Organization))
    }
    /// The billed organisation's name, as on the invoice.
    async fn bill_to_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        load_with::<Names>(ctx, self.0.bill_to_organization_id).await
    }
    /// The billed organisation's country when the invoice was made; it decides the tax.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    /// The billed organisation's VAT number, as on the invoice.
    async fn vat_number(&self) -> Option<&str> {
        self.0.vat_number.as_deref()
    }
    /// Percent; 0 under a reverse charge.
    async fn tax_rate(&self) -> async_graphql::Result<Decimal> {
        Ok(self.0.tax_rate.to_decimal().into())
    }
    /// The buyer accounts for VAT (B2B across an EU border).
    async fn reverse_charge(&self) -> bool {
        self.0.reverse_charge
    }
    /// The lines' gross before discounts.
    async fn subtotal(&self) -> async_graphql::Result<Money> {
        money(&self.0.subtotal, &self.0.currency)
    }
    /// What the partner discount took off, over all lines.
    async fn discount_total(&self) -> async_graphql::Result<Money> {
        money(&self.0.discount_total, &self.0.currency)
    }
    /// The tax, over all lines.
    async fn tax_total(&self) -> async_graphql::Result<Money> {
        money(&self.0.tax_total, &self.0.currency)
    }
    /// What is due: net of discounts, with tax.
    async fn total(&self) -> async_graphql::Result<Money> {
        money(&self.0.total, &self.0.currency)
    }
    /// What is still to be paid.
    async fn amount_due(&self, ctx: &Context<'_>) -> async_graphql::Result<Money> {
        let paid = load_with::<super::loaders::Paid>(ctx, self.0.id).await?.unwrap_or_default();
        Ok(Money::new(billing::amount_due(&self.0, paid), self.0.currency.clone()))
    }
    /// The invoice's lines, in order.
    async fn lines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<InvoiceLine>> {
        let currency = self.0.currency.clone();
        Ok(children::<invoice_line::Entity>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|l| InvoiceLine { line: l, currency: currency.clone() })
            .collect())
    }
    /// Payments recorded against it.
    async fn payments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Payment>> {
        Ok(children::<payment::Entity>(ctx, self.0.id).await?.into_iter().map(Payment).collect())
    }
    /// When the billing run made it.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was issued.
    async fn issued_at(&self) -> Option<DateTime<Utc>> {
        self.0.issued_at
    }
    /// When payments covered it.
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.0.paid_at
    }
    /// When it was voided.
    async fn voided_at(&self) -> Option<DateTime<Utc>> {
        self.0.voided_at
    }
    /// Why it was voided.
    async fn void_reason(&self) -> Option<&str> {
        self.0.void_reason.as_deref()
    }
}

pub struct InvoiceLine {
    line: invoice_line::Model,
    currency: String,
}

/// quantity × unit price = gross; gross − discount = net; net + tax = total; each rounded
/// half-up to the currency's minor unit.
#[Object]
impl InvoiceLine {
    /// The line's place on the invoice, from 1.
    async fn position(&self) -> i32 {
        self.line.position
    }
    /// A whole period, or a prorated change.
    async fn kind(&self) -> InvoiceLineKind {
        self.line.kind.into()
    }
    /// What the line bills, such as the plan and period.
    async fn description(&self) -> &str {
        &self.line.description
    }
    /// Seats, times the part of the period for a proration.
    async fn quantity(&self) -> async_graphql::Result<Decimal> {
        Ok(self.line.quantity.to_decimal().into())
    }
    /// The price per seat and period (the volume band's, where one applies).
    async fn unit_price(&self) -> async_graphql::Result<Money> {
        money(&self.line.unit_price, &self.currency)
    }
    /// Quantity times unit price, before the discount.
    async fn gross(&self) -> async_graphql::Result<Money> {
        money(&self.line.gross, &self.currency)
    }
    /// The partner's discount applied, in percent.
    async fn discount_percent(&self) -> async_graphql::Result<Decimal> {
        Ok(self.line.discount_percent.to_decimal().into())
    }
    /// What the partner discount took off this line.
    async fn discount(&self) -> async_graphql::Result<Money> {
        money(&self.line.discount, &self.currency)
    }
    /// Gross less the discount.
    async fn net(&self) -> async_graphql::Result<Money> {
        money(&self.line.net, &self.currency)
    }
    /// This line's share of the invoice's tax.
    async fn tax(&self) -> async_graphql::Result<Money> {
        money(&self.line.tax, &self.currency)
    }
    /// Net plus tax.
    async fn total(&self) -> async_graphql::Result<Money> {
        money(&self.line.total, &self.currency)
    }
    /// The customer the line is for (on a partner's invoice, whom it re-bills).
    async fn customer_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.line.customer_id else { return Ok(None) };
        load_with::<Names>(ctx, id).await
    }
    /// The subscription billed.
    async fn subscription(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProductSubscription>> {
        let Some(id) = self.line.subscription_id else { return Ok(None) };
        Ok(load::<subscription::Entity>(ctx, id).await?.map(ProductSubscription))
    }
}

pub struct Payment(pub payment::Model);

/// Money received against an invoice.
#[Object]
impl Payment {
    /// How much, in the invoice's currency.
    async fn amount(&self) -> async_graphql::Result<Money> {
        money(&self.0.amount, &self.0.currency)
    }
    /// When it was received.
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }
    /// The payer's reference, such as a bank transfer's.
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }
}

pub async fn organization_invoices(
    ctx: &Context<'_>,
    organization_id: Uuid,
    status: Option<InvoiceStatus>,
    args: PageArgs,
) -> async_graphql::Result<Page<Invoice>> {
    let mut select = billing::visible(ctx.principal(), ctx.service().now())
        .filter(invoice::Column::BillToOrganizationId.eq(organization_id));
    if let Some(status) = status {
        select = select.filter(invoice::Column::Status.eq(crate::domain::InvoiceStatus::from(status)));
    }
    Ok(paginate(&ctx.service().db, select, invoice::Column::Id, |m| m.id, Invoice, args).await?)
}

/// One currency's amounts of a customer on a partner's invoices.
#[derive(SimpleObject)]
pub struct ReportAmounts {
    /// What the customer's subscriptions cost at list price.
    pub retail: Money,
    /// What the partner pays, after its discount.
    pub cost: Money,
    /// Retail less cost: what the partner keeps.
    pub margin: Money,
}

/// One customer of a partner's billing report.
#[derive(SimpleObject)]
pub struct BillingReportRow {
    /// Stable for the same partner, customer and period, so a client cache can normalise the
    /// row. A row is computed from invoices, not stored, so it is not a `Node`: refetch it through
    /// `partnerBillingReport`.
    pub id: ID,
    /// The customer's organisation.
    pub customer_id: ID,
    /// The customer's name.
    pub customer_name: String,
    /// One entry per currency billed (usually one).
    pub amounts: Vec<ReportAmounts>,
}

/// A partner's managed yearly amount against its programme's minimum.
#[derive(SimpleObject)]
pub struct ProgramMinimum {
    /// The programme's minimum yearly amount.
    pub minimum: Money,
    /// Active subscriptions the partner manages, a year at list price.
    pub managed_yearly_amount: Money,
    /// Whether the managed amount reaches the minimum.
    pub met: bool,
}

pub async fn program_minimum(
    ctx: &Context<'_>,
    p: &entity::partnership::Model,
) -> async_graphql::Result<Option<ProgramMinimum>> {
    if !policy::sees_partner_internals(ctx.principal(), p.organization_id) {
        return Ok(None);
    }
    let Some(program) = load::<entity::program::Entity>(ctx, p.program_id).await? else { return Ok(None) };
    let Some(minimum) = &program.min_yearly_amount else { return Ok(None) };
    let minimum = minimum.to_decimal();
    let managed = load_with::<super::loaders::ManagedAmounts>(ctx, p.organization_id)
        .await?
        .and_then(|by_currency| by_currency.get(&program.currency).copied())
        .unwrap_or_else(|| crate::domain::billing::round(rust_decimal::Decimal::ZERO, &program.currency));
    Ok(Some(ProgramMinimum {
        minimum: Money::new(minimum, program.currency.clone()),
        managed_yearly_amount: Money::new(managed, program.currency.clone()),
        met: managed >= minimum,
    }))
}

#[derive(Default)]
pub struct BillingQuery;

#[Object]
impl BillingQuery {
    /// The catalog, for everyone signed in.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Product>> {
        policy::signed_in(ctx.principal())?;
        let select = catalog::products(ctx.principal());
        let args = PageArgs::of(ctx, first, after, last, before);
        Ok(paginate(&ctx.service().db, select, entity::product::Column::Id, |m| m.id, Product, args).await?)
    }

    /// Invoices you may read: your organisation's, and your customers' where you have VIEW_BILLING.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only invoices with this status.")] status: Option<InvoiceStatus>,
        #[graphql(desc = "Only invoices of this month, such as `2026-11`.")] period: Option<String>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Invoice>> {
        policy::signed_in(ctx.principal())?;
        let mut select = billing::visible(ctx.principal(), ctx.service().now());
        if let Some(status) = status {
            select = select.filter(invoice::Column::Status.eq(crate::domain::InvoiceStatus::from(status)));
        }
        if let Some(period) = period {
            select = select.filter(invoice::Column::Period.eq(billing::Period::parse(&period)?.to_string()));
        }
        let args = PageArgs::of(ctx, first, after, last, before);
        Ok(paginate(&ctx.service().db, select, invoice::Column::Id, |m| m.id, Invoice, args).await?)
    }

    /// Subscriptions you see that renew or end within `withinDays` (for a partner: across its
    /// customers).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn renewals_due(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many days ahead to look, 0 to 366.")] within_days: i32,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<ProductSubscription>> {
        policy::signed_in(ctx.principal())?;
        if !(0..=366).contains(&within_days) {
            return Err(AppError::bad_input("withinDays", "is between 0 and 366").into());
        }
        let select = subscriptions::renewals_due(ctx.principal(), ctx.service().now(), i64::from(within_days));
        let args = PageArgs::of(ctx, first, after, last, before);
        Ok(paginate(&ctx.service().db, select, subscription::Column::Id, |m| m.id, ProductSubscription, args).await?)
    }

    /// For the partner you act as (its ADMIN or BILLING): per customer, retail amount, your
    /// cost and your margin on your invoices of `period` (YYYY-MM).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn partner_billing_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The month, such as `2026-11`.")] period: String,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<BillingReportRow>> {
        let principal = policy::signed_in(ctx.principal())?;
        policy::can(principal, policy::Action::ReadBillingReport)?;
        let partner = policy::acting(principal)?.organization_id();
        let period = billing::Period::parse(&period)?;
        let service = ctx.service();
        let select = billing::report_customers(ctx.principal(), partner, period, service.now());
        let args = PageArgs::of(ctx, first, after, last, before);
        let page =
            paginate(&service.db, select, entity::organization::Column::Id, |o| o.id, Organization, args).await?;
        let ids: Vec<Uuid> = page.edges.iter().map(|e| e.node.0.id).collect();
        let rows = billing::partner_report(service, ctx.principal(), period, &ids).await?;
        let mut out = Page::with_additional_fields(page.has_previous_page, page.has_next_page, page.additional_fields);
        for edge in page.edges {
            let customer = edge.node.0;
            let amounts = rows
                .iter()
                .filter(|r| r.customer_id == customer.id)
                .map(|r| ReportAmounts {
                    retail: Money::new(r.retail, r.currency.clone()),
                    cost: Money::new(r.cost, r.currency.clone()),
                    margin: Money::new(r.retail - r.cost, r.currency.clone()),
                })
                .collect();
            let row = BillingReportRow {
                id: ID(ids::derived(
                    "BillingReportRow",
                    &[&partner.simple().to_string(), &customer.id.simple().to_string(), &period.to_string()],
                )),
                customer_id: ID(ids::encode(NodeType::Organization, customer.id)),
                customer_name: customer.name,
                amounts,
            };
            out.edges.push(async_graphql::connection::Edge::new(edge.cursor, row));
        }
        Ok(out)
    }
}

/// The input of `createProduct`.
#[derive(InputObject)]
pub struct CreateProductInput {
    /// A unique stock-keeping unit, stored upper case.
    pub sku: String,
    /// The product's name.
    pub name: String,
    /// The product line it belongs to, such as `Desk phones`.
    pub product_line: String,
}

/// The input of `setProductActive`.
#[derive(InputObject)]
pub struct SetProductActiveInput {
    /// The product.
    pub id: ID,
    /// On sale or not.
    pub active: bool,
}

/// What `createProduct` and `setProductActive` returns (each).
#[derive(SimpleObject)]
pub struct ProductPayload {
    /// The Product as `createProduct` and `setProductActive` left it.
    pub product: Product,
}

/// From `minSeats` seats on, each seat costs `unitPrice` (in the plan's currency).
#[derive(InputObject)]
pub struct VolumeBandInput {
    /// The smallest seat count the band applies to.
    pub min_seats: i32,
    /// The price per seat and period, in the plan's currency.
    pub unit_price: MoneyInput,
}

/// The input of `createPlan`.
#[derive(InputObject)]
pub struct CreatePlanInput {
    /// The product the plan sells.
    pub product_id: ID,
    /// A unique code, stored upper case, such as `D785-M`.
    pub code: String,
    /// The plan's name as customers see it.
    pub name: String,
    /// How often the plan is billed.
    pub billing_period: BillingPeriod,
    /// The list price per seat and period, in a programme's currency.
    pub unit_price: MoneyInput,
    /// Higher is an upgrade.
    pub rank: i32,
    /// Lower per-seat prices from a number of seats on; empty for none.
    #[graphql(default)]
    pub volume_bands: Vec<VolumeBandInput>,
}

/// The input of `setVolumeBands`.
#[derive(InputObject)]
pub struct SetVolumeBandsInput {
    /// The plan.
    pub plan_id: ID,
    /// The new bands, replacing the old; empty for none.
    pub volume_bands: Vec<VolumeBandInput>,
}

/// What `createPlan` and `setVolumeBands` returns (each).
#[derive(SimpleObject)]
pub struct PlanPayload {
    /// The Plan as `createPlan` and `setVolumeBands` left it.
    pub plan: Plan,
}

/// The input of `createSubscription`.
#[derive(InputObject)]
pub struct CreateSubscriptionInput {
    /// The customer, under a grant with MANAGE_PRODUCTS.
    pub customer_id: ID,
    /// The plan to subscribe to.
    pub plan_id: ID,
    /// How many seats, 1 or more.
    pub seats: i32,
    /// Who pays: the partner (at its price) or the customer (at list price).
    pub billed_to: BilledTo,
    /// A retry with the same key returns the first subscription.
    pub idempotency_key: String,
}

/// The input of `changeSeats`.
#[derive(InputObject)]
pub struct ChangeSeatsInput {
    /// The subscription.
    pub id: ID,
    /// The new number of seats, 1 or more: more apply now (prorated), fewer from the next period.
    pub seats: i32,
}

/// The input of `changePlan`.
#[derive(InputObject)]
pub struct ChangePlanInput {
    /// The subscription.
    pub id: ID,
    /// A plan of the same product: a higher rank applies now (prorated), a lower one at renewal.
    pub plan_id: ID,
}

/// The input of `cancelSubscription`, `handOverSubscriptionBilling` and `resumeSubscription`.
#[derive(InputObject)]
pub struct SubscriptionIdInput {
    /// The subscription.
    pub id: ID,
}

/// The input of `setAutoRenew`.
#[derive(InputObject)]
pub struct SetAutoRenewInput {
    /// The subscription.
    pub id: ID,
    /// Renew at the period's end, or not.
    pub auto_renew: bool,
}

/// What `cancelSubscription`, `changePlan`, `changeSeats`, `createSubscription`,
/// `handOverSubscriptionBilling`, `resumeSubscription` and `setAutoRenew` returns (each).
#[derive(SimpleObject)]
pub struct SubscriptionPayload {
    /// The ProductSubscription as `cancelSubscription`, `changePlan`, `changeSeats`,
    /// `createSubscription`, `handOverSubscriptionBilling`, `resumeSubscription` and `setAutoRenew`
    /// left it.
    pub subscription: ProductSubscription,
}

/// The input of `runBilling`.
#[derive(InputObject)]
pub struct RunBillingInput {
    /// YYYY-MM.
    pub period: String,
    /// Issue the invoices at once (the default), or leave them DRAFT.
    #[graphql(default = true)]
    pub issue: bool,
    /// A retry with the same key bills what the first call left and answers with every invoice
    /// of that run, instead of an empty list.
    pub idempotency_key: Option<String>,
}

/// What `runBilling` returns.
#[derive(SimpleObject)]
pub struct RunBillingPayload {
    /// The invoices this run made (none when the period was already billed).
    pub invoices: Vec<Invoice>,
}

/// The input of `issueInvoice`.
#[derive(InputObject)]
pub struct InvoiceIdInput {
    /// The invoice.
    pub id: ID,
}

/// The input of `voidInvoice` and `refundInvoice`.
#[derive(InputObject)]
pub struct VoidInvoiceInput {
    /// The invoice.
    pub id: ID,
    /// Why it is voided or refunded (kept on the invoice).
    pub reason: String,
}

/// The input of `recordPayment`.
#[derive(InputObject)]
pub struct RecordPaymentInput {
    /// The invoice paid.
    pub invoice_id: ID,
    /// How much was received, in the invoice's currency.
    pub amount: MoneyInput,
    /// When it was received (not in the future).
    pub received_at: DateTime<Utc>,
    /// The payer's reference.
    pub reference: Option<String>,
    /// A retry with the same key returns the first payment instead of recording a second.
    pub idempotency_key: Option<String>,
}

/// What `issueInvoice`, `recordPayment` and `voidInvoice` returns (each).
#[derive(SimpleObject)]
pub struct InvoicePayload {
    /// The Invoice as `issueInvoice`, `recordPayment` and `voidInvoice` left it.
    pub invoice: Invoice,
}

fn bands(input: Vec<VolumeBandInput>) -> Vec<catalog::Band> {
    input
        .into_iter()
        .map(|b| {
            let (unit_price, currency) = b.unit_price.parts();
            catalog::Band { min_seats: b.min_seats, unit_price, currency }
        })
        .collect()
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// Adds a product to the catalog (staff ADMIN).
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateProductInput,
    ) -> async_graphql::Result<ProductPayload> {
        let new = catalog::NewProduct { sku: input.sku, name: input.name, product_line: input.product_line };
        Ok(ProductPayload { product: Product(catalog::create_product(ctx.service(), ctx.principal(), new).await?) })
    }

    /// Takes a product off sale or back on (staff ADMIN); running subscriptions continue.
    async fn set_product_active(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: SetProductActiveInput,
    ) -> async_graphql::Result<ProductPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Product, &input.id, "Product")?;
        let product = catalog::set_product_active(ctx.service(), ctx.principal(), id, input.active).await?;
        Ok(ProductPayload { product: Product(product) })
    }

    /// Adds a plan with its volume bands (staff ADMIN).
    async fn create_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: CreatePlanInput,
    ) -> async_graphql::Result<PlanPayload> {
        policy::signed_in(ctx.principal())?;
        let product_id = decode(NodeType::Product, &input.product_id, "Product")?;
        let new = catalog::NewPlan {
            product_id,
            code: input.code,
            name: input.name,
            billing_period: input.billing_period.into(),
            unit_price: input.unit_price.amount.0,
            currency: input.unit_price.currency,
            rank: input.rank,
            bands: bands(input.volume_bands),
        };
        Ok(PlanPayload { plan: Plan(catalog::create_plan(ctx.service(), ctx.principal(), new).await?) })
    }

    /// Replaces a plan's volume bands (staff ADMIN).
    async fn set_volume_bands(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: SetVolumeBandsInput,
    ) -> async_graphql::Result<PlanPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Plan, &input.plan_id, "Plan")?;
        let plan = catalog::set_volume_bands(ctx.service(), ctx.principal(), id, bands(input.volume_bands)).await?;
        Ok(PlanPayload { plan: Plan(plan) })
    }

    /// Subscribes a customer to a plan (the customer's ADMIN, or a partner with MANAGE_PRODUCTS
    /// on the whole account); the first period is charged now.
    async fn create_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateSubscriptionInput,
    ) -> async_graphql::Result<SubscriptionPayload> {
        policy::signed_in(ctx.principal())?;
        let new = subscriptions::NewSubscription {
            customer_id: decode(NodeType::Organization, &input.customer_id, "Organization")?,
            plan_id: ids::decode_as(NodeType::Plan, &input.plan_id)
                .ok_or_else(|| AppError::bad_input("planId", "no such plan"))?,
            seats: input.seats,
            billed_to: input.billed_to.into(),
            idempotency_key: &input.idempotency_key,
        };
        let created = subscriptions::create(ctx.service(), ctx.principal(), new).await?;
        Ok(SubscriptionPayload { subscription: ProductSubscription(created) })
    }

    /// Changes the seats now; the rest of the period is charged or credited, prorated to the day.
    async fn change_seats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ChangeSeatsInput,
    ) -> async_graphql::Result<SubscriptionPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::ProductSubscription, &input.id, "ProductSubscription")?;
        let changed = subscriptions::change_seats(ctx.service(), ctx.principal(), id, input.seats).await?;
        Ok(SubscriptionPayload { subscription: ProductSubscription(changed) })
    }

    /// Upgrades now (prorated to the day) or downgrades at the next renewal.
    async fn change_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: ChangePlanInput,
    ) -> async_graphql::Result<SubscriptionPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::ProductSubscription, &input.id, "ProductSubscription")?;
        let plan = ids::decode_as(NodeType::Plan, &input.plan_id)
            .ok_or_else(|| AppError::bad_input("planId", "no such plan"))?;
        let changed = subscriptions::change_plan(ctx.service(), ctx.principal(), id, plan).await?;
        Ok(SubscriptionPayload { subscription: ProductSubscription(changed) })
    }

    /// Ends the subscription at the end of its period.
    async fn cancel_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: SubscriptionIdInput,
    ) -> async_graphql::Result<SubscriptionPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::ProductSubscription, &input.id, "ProductSubscription")?;
        let changed = subscriptions::set_cancel(ctx.service(), ctx.principal(), id, true).await?;
        Ok(SubscriptionPayload { subscription: ProductSubscription(changed) })
    }

    /// Takes back a cancellation before the period ends.
    async fn resume_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: SubscriptionIdInput,
    ) -> async_graphql::Result<SubscriptionPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::ProductSubscription, &input.id, "ProductSubscription")?;
        let changed = subscriptions::set_cancel(ctx.service(), ctx.principal(), id, false).await?;
        Ok(SubscriptionPayload { subscription: ProductSubscription(changed) })
    }

    /// Turns automatic renewal of a subscription on or off.
    async fn set_auto_renew(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: SetAutoRenewInput,
    ) -> async_graphql::Result<SubscriptionPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::ProductSubscription, &input.id, "ProductSubscription")?;
        let changed = subscriptions::set_auto_renew(ctx.service(), ctx.principal(), id, input.auto_renew).await?;
        Ok(SubscriptionPayload { subscription: ProductSubscription(changed) })
    }

    /// Invoices what is owed up to the end of `period` (staff ADMIN or FINANCE); a period runs
    /// once per organisation, so running it again makes no second invoice.
    async fn run_billing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: RunBillingInput,
    ) -> async_graphql::Result<RunBillingPayload> {
        let principal = policy::signed_in(ctx.principal())?;
        let period = billing::Period::parse(&input.period)?;
        let made =
            billing::run(ctx.service(), Some(principal), period, input.issue, input.idempotency_key.as_deref()).await?;
        Ok(RunBillingPayload { invoices: made.into_iter().map(Invoice).collect() })
    }

    /// Issues a draft invoice (staff ADMIN or FINANCE).
    async fn issue_invoice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: InvoiceIdInput,
    ) -> async_graphql::Result<InvoicePayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Invoice, &input.id, "Invoice")?;
        Ok(InvoicePayload { invoice: Invoice(billing::issue(ctx.service(), ctx.principal(), id).await?) })
    }

    /// Voids a draft or issued invoice with a reason (staff ADMIN or FINANCE); it keeps its number.
    async fn void_invoice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: VoidInvoiceInput,
    ) -> async_graphql::Result<InvoicePayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Invoice, &input.id, "Invoice")?;
        Ok(InvoicePayload { invoice: Invoice(billing::void(ctx.service(), ctx.principal(), id, &input.reason).await?) })
    }

    /// Refunds a paid invoice with a reason (staff ADMIN or FINANCE): the commission it earned is
    /// reversed.
    async fn refund_invoice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: VoidInvoiceInput,
    ) -> async_graphql::Result<InvoicePayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Invoice, &input.id, "Invoice")?;
        Ok(InvoicePayload {
            invoice: Invoice(billing::refund(ctx.service(), ctx.principal(), id, &input.reason).await?),
        })
    }

    /// Records a payment (staff ADMIN or FINANCE); covering the total makes the invoice PAID.
    async fn record_payment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RecordPaymentInput,
    ) -> async_graphql::Result<InvoicePayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Invoice, &input.invoice_id, "Invoice")?;
        let payment = billing::NewPayment {
            invoice_id: id,
            amount: input.amount.amount.0,
            currency: input.amount.currency,
            received_at: input.received_at,
            reference: input.reference,
            idempotency_key: input.idempotency_key,
        };
        let (inv, _) = billing::record_payment(ctx.service(), ctx.principal(), payment).await?;
        Ok(InvoicePayload { invoice: Invoice(inv) })
    }
}
