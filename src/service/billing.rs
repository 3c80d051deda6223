//! Billing: runs turn unbilled charges into one invoice per bill-to organisation, period and
//! currency, numbered INV-<year>-<6 digits> without gaps; partners are billed at their tier's
//! discount on top of the volume band, customers at list price; tax by the country's rate, or
//! reverse charge. Invoices are issued, paid or voided, never deleted.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::{charge, invoice, invoice_counter, invoice_line, organization, partnership, payment, tax_rate, tier};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, catalog, exact, fixed, idempotency, notifications, programs};
use crate::{
    db,
    domain::notifications::NotificationKind,
    domain::{ChargeKind, InvoiceStatus, OrganizationKind, SubscriptionStatus, billing},
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
};

/// A billing period: a calendar month, "YYYY-MM".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub year: i32,
    pub month: u32,
}

impl Period {
    pub fn parse(text: &str) -> AppResult<Period> {
        let bad = || AppError::bad_input("period", format!("{text:?} is not a month such as 2026-12"));
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        let (year, month) = (y.parse::<i32>().map_err(|_| bad())?, m.parse::<u32>().map_err(|_| bad())?);
        if y.len() != 4 || m.len() != 2 || !(1..=12).contains(&month) || !(2000..=2999).contains(&year) {
            return Err(bad());
        }
        Ok(Period { year, month })
    }

    pub fn of(at: DateTime<Utc>) -> Period {
        Period { year: at.year(), month: at.month() }
    }

    pub fn start(self) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or_default()
    }

    pub fn end(self) -> DateTime<Utc> {
        let (y, m) = if self.month == 12 { (self.year + 1, 1) } else { (self.year, self.month + 1) };
        Period { year: y, month: m }.start()
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The vendor's country: the seller of every invoice, for the reverse charge.
async fn seller_country(db: &impl ConnectionTrait) -> AppResult<Option<String>> {
    Ok(organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrganizationKind::Vendor))
        .one(db)
        .await?
        .and_then(|v| v.country))
}

/// A partner's discount in percent: the best of its reseller tiers' (0 for anyone else).
async fn discount_of(db: &impl ConnectionTrait, org: &organization::Model) -> AppResult<Decimal> {
    if org.kind != OrganizationKind::Partner {
        return Ok(Decimal::ZERO);
    }
    let placed: Vec<(partnership::Model, Option<tier::Model>)> = partnership::Entity::find()
        .filter(partnership::Column::OrganizationId.eq(org.id))
        .find_also_related(tier::Entity)
        .all(db)
        .await?;
    let mut best = Decimal::ZERO;
    for (_, t) in placed {
        if let Some(t) = t {
            best = best.max(programs::benefits_of(&t)?.discount_percent);
        }
    }
    Ok(best)
}

async fn next_number(db: &impl ConnectionTrait, year: i32) -> AppResult<String> {
    invoice_counter::Entity::insert(invoice_counter::ActiveModel { year: Set(year), last_number: Set(0) })
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
    // The row lock taken here is held until the invoice commits: numbers go out in commit order.
    invoice_counter::Entity::update_many()
        .col_expr(invoice_counter::Column::LastNumber, Expr::col(invoice_counter::Column::LastNumber).add(1))
        .filter(invoice_counter::Column::Year.eq(year))
        .exec(db)
        .await?;
    let counter = invoice_counter::Entity::find_by_id(year)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("the invoice counter vanished"))?;
    Ok(format!("INV-{year}-{:06}", counter.last_number))
}

struct Line {
    kind: ChargeKind,
    subscription_id: Option<Uuid>,
    customer_id: Option<Uuid>,
    description: String,
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal,
    amounts: billing::LineAmounts,
    retail_net: Decimal,
}

fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// One line per charge, priced for the bill-to organisation.
fn price_charge(
    c: &charge::Model,
    customer: Uuid,
    plans: &HashMap<Uuid, catalog::Priced>,
    discount: Decimal,
) -> AppResult<Line> {
    let plan = plans.get(&c.plan_id).ok_or_else(|| AppError::internal(format!("plan {} of a charge", c.plan_id)))?;
    let currency = plan.plan.currency.as_str();
    let period = format!("{} to {}", date(c.period_start), date(c.period_end));
    if c.kind == ChargeKind::Period {
        let quantity = Decimal::from(c.seats);
        let unit = plan.seat_price(c.seats);
        let amounts = billing::line(quantity, unit, discount, currency);
        let retail_net = billing::line(quantity, unit, Decimal::ZERO, currency).net;
        return Ok(Line {
            kind: ChargeKind::Period,
            subscription_id: Some(c.subscription_id),
            customer_id: Some(customer),
            description: format!("{} ({}), {} seats, {period}", plan.plan.name, plan.plan.code, c.seats),
            quantity,
            unit_price: unit,
            discount_percent: discount,
            amounts,
            retail_net,
        });
    }
    let from_plan = c.from_plan_id.and_then(|id| plans.get(&id)).unwrap_or(plan);
    let from_seats = c.from_seats.unwrap_or(c.seats);
    let (left, total) = billing::remaining_days(c.period_start, c.period_end, c.service_start);
    let delta = billing::prorate(from_plan.period_price(from_seats), plan.period_price(c.seats), left, total);
    let unit = billing::round(delta, currency);
    let what = if from_plan.plan.id != plan.plan.id {
        format!("{} to {}", from_plan.plan.code, plan.plan.code)
    } else {
        format!("{from_seats} to {} seats of {}", c.seats, plan.plan.code)
    };
    Ok(Line {
        kind: ChargeKind::Proration,
        subscription_id: Some(c.subscription_id),
        customer_id: Some(customer),
        description: format!("Change from {what} on {}, {left}/{total} days of {period}", date(c.service_start)),
        quantity: Decimal::ONE,
        unit_price: unit,
        discount_percent: discount,
        amounts: billing::line(Decimal::ONE, unit, discount, currency),
        retail_net: unit,
    })
}

/// Bills every charge created before the period's end and not yet invoiced: one invoice per
/// bill-to organisation and currency, in its own transaction. An organisation that already has
/// an invoice for the period gets none (its new charges wait for the next period), so running a
/// period twice, on one node or two, makes no second invoice.
#[tracing::instrument(skip_all, fields(period = %period))]
pub async fn run(
    ctx: &Ctx,
    principal: Option<&Principal>,
    period: Period,
    issue: bool,
    idempotency_key: Option<&str>,
) -> AppResult<Vec<invoice::Model>> {
    if let Some(p) = principal {
        policy::can(p, Action::ManageBilling)?;
    }
    // With a key, the run has an id that tags its invoices: a retry (after a lost answer or a
    // failure half-way) bills what is left and answers with every invoice of the run.
    let run_id = match (principal, idempotency_key) {
        (Some(p), Some(key)) => {
            let canonical = json!({ "period": period.to_string(), "issue": issue });
            let key = idempotency::Key::new(p.user_id(), "runBilling", key, &canonical)?;
            Some(match start_run(ctx, &key).await {
                Err(err) => idempotency::winner(&ctx.db, &key, err).await?,
                started => started?,
            })
        }
        _ => None,
    };
    let made = bill_pending(ctx, principal, period, issue, run_id).await?;
    match run_id {
        Some(run) => Ok(invoice::Entity::find()
            .filter(invoice::Column::BillingRunId.eq(run))
            .order_by_asc(invoice::Column::Id)
            .all(&ctx.db)
            .await?),
        None => Ok(made),
    }
}

/// The run id remembered for this key, or a new one.
async fn start_run(ctx: &Ctx, key: &idempotency::Key<'_>) -> AppResult<Uuid> {
    let txn = db::begin_write(&ctx.db).await?;
    if let Some(run) = idempotency::previous(&txn, key).await? {
        txn.commit().await?;
        return Ok(run);
    }
    let run = Uuid::now_v7();
    idempotency::remember(&txn, key, run, ctx.now()).await?;
    txn.commit().await?;
    Ok(run)
}

async fn bill_pending(
    ctx: &Ctx,
    principal: Option<&Principal>,
    period: Period,
    issue: bool,
    run_id: Option<Uuid>,
) -> AppResult<Vec<invoice::Model>> {
    let now = ctx.now();
    super::programme_fees::accrue(&ctx.db, period, now).await?;
    let fees = super::programme_fees::pending(&ctx.db, period).await?;
    let pending = charge::Entity::find()
        .filter(charge::Column::InvoiceId.is_null())
        .filter(charge::Column::CreatedAt.lt(period.end()))
        .order_by_asc(charge::Column::Id)
        .all(&ctx.db)
        .await?;
    let plan_ids: Vec<Uuid> =
        pending.iter().flat_map(|c| [Some(c.plan_id), c.from_plan_id]).flatten().collect::<Vec<_>>();
    let plans = catalog::priced(&ctx.db, &plan_ids).await?;
    let mut groups: BTreeMap<(Uuid, String), Billable> = BTreeMap::new();
    for c in pending {
        let currency = plans.get(&c.plan_id).map(|p| p.plan.currency.clone()).unwrap_or_default();
        groups.entry((c.bill_to_organization_id, currency)).or_default().charges.push(c);
    }
    for f in fees {
        groups.entry((f.organization_id, f.currency.clone())).or_default().fees.push(f);
    }
    let seller = seller_country(&ctx.db).await?.unwrap_or_default();
    let mut made = Vec::new();
    for ((bill_to, currency), billable) in groups {
        if let Some(inv) =
            bill_one(ctx, principal, period, bill_to, &currency, &billable, &plans, &seller, issue, run_id, now).await?
        {
            made.push(inv);
        }
    }
    Ok(made)
}

/// What one invoice bills: subscription charges and programme fees.
#[derive(Default)]
struct Billable {
    charges: Vec<charge::Model>,
    fees: Vec<entity::programme_fee::Model>,
}

#[allow(clippy::too_many_arguments)]
async fn bill_one(
    ctx: &Ctx,
    principal: Option<&Principal>,
    period: Period,
    bill_to: Uuid,
    currency: &str,
    billable: &Billable,
    plans: &HashMap<Uuid, catalog::Priced>,
    seller: &str,
    issue: bool,
    run_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<Option<invoice::Model>> {
    let txn = db::begin_write(&ctx.db).await?;
    let exists = invoice::Entity::find()
        .filter(invoice::Column::BillToOrganizationId.eq(bill_to))
        .filter(invoice::Column::Period.eq(period.to_string()))
        .filter(invoice::Column::Currency.eq(currency))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Ok(None);
    }
    let org = organization::Entity::find_by_id(bill_to).one(&txn).await?.ok_or(AppError::NotFound("Organization"))?;
    let charges = &billable.charges;
    let discount = discount_of(&txn, &org).await?;
    let subscription_ids: Vec<Uuid> = charges.iter().map(|c| c.subscription_id).collect();
    let customers: HashMap<Uuid, Uuid> = entity::subscription::Entity::find()
        .filter(entity::subscription::Column::Id.is_in(subscription_ids))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.customer_id))
        .collect();
    let deals = super::deals::protected_for(&txn, bill_to, &customers.values().copied().collect::<Vec<_>>()).await?;
    let mut lines = Vec::new();
    for c in charges {
        let customer = customers.get(&c.subscription_id).copied().unwrap_or(bill_to);
        let product = plans.get(&c.plan_id).map(|p| p.plan.product_id);
        // An approved deal protecting this customer and product during the charge's period
        // adds its special discount, and the line says which deal.
        let special = deals.iter().filter(|d| {
            d.customer_id == customer
                && Some(d.product_id) == product
                && d.from < c.period_end
                && d.until > c.period_start
        });
        match special.max_by_key(|d| d.percent) {
            Some(d) => {
                let total = (discount + d.percent).min(Decimal::ONE_HUNDRED);
                let mut line = price_charge(c, customer, plans, total)?;
                line.description = format!("{}; deal {} special discount {}%", line.description, d.number, d.percent);
                lines.push(line);
            }
            None => lines.push(price_charge(c, customer, plans, discount)?),
        }
    }
    for f in &billable.fees {
        let amount = f.amount.to_decimal();
        lines.push(Line {
            kind: ChargeKind::ProgrammeFee,
            subscription_id: None,
            customer_id: None,
            description: format!("Yearly programme fee, {} to {}", date(f.year_start), date(f.year_end)),
            quantity: Decimal::ONE,
            unit_price: amount,
            discount_percent: Decimal::ZERO,
            amounts: billing::line(Decimal::ONE, amount, Decimal::ZERO, currency),
            retail_net: amount,
        });
    }
    let country = org.country.clone().unwrap_or_default();
    let reverse_charge = billing::reverse_charge(seller, &country, org.vat_number.as_deref());
    let rate = if reverse_charge {
        Decimal::ZERO
    } else {
        match tax_rate::Entity::find_by_id(country.clone()).one(&txn).await? {
            Some(r) => r.rate.to_decimal(),
            None => Decimal::ZERO,
        }
    };
    let nets: Vec<Decimal> = lines.iter().map(|l| l.amounts.net).collect();
    let subtotal: Decimal = nets.iter().copied().sum();
    // Tax on the invoice's net total, then spread over the lines so that they add up exactly.
    let tax_total = billing::round(subtotal * rate / Decimal::ONE_HUNDRED, currency);
    let taxes = billing::allocate(tax_total, &nets, currency);
    let gross_total: Decimal = lines.iter().map(|l| l.amounts.gross).sum();
    let discount_total: Decimal = lines.iter().map(|l| l.amounts.discount).sum();
    let number = next_number(&txn, period.year).await?;
    let status = if issue { InvoiceStatus::Issued } else { InvoiceStatus::Draft };
    let inserted = invoice::ActiveModel {
        id: Set(Uuid::now_v7()),
        number: Set(number),
        year: Set(period.year),
        bill_to_organization_id: Set(bill_to),
        period: Set(period.to_string()),
        currency: Set(currency.into()),
        country: Set(org.country.clone()),
        vat_number: Set(org.vat_number.clone()),
        tax_rate: Set(exact(rate)?),
        reverse_charge: Set(reverse_charge),
        status: Set(status),
        subtotal: Set(exact(gross_total)?),
        discount_total: Set(exact(discount_total)?),
        tax_total: Set(exact(tax_total)?),
        total: Set(exact(subtotal + tax_total)?),
        created_at: Set(now),
        issued_at: Set(issue.then_some(now)),
        paid_at: Set(None),
        billing_run_id: Set(run_id),
        voided_at: Set(None),
        void_reason: Set(None),
        refunded_at: Set(None),
        refund_reason: Set(None),
    }
    .insert(&txn)
    .await;
    // Another run made this organisation's invoice since we looked: roll back, number included.
    let created = match inserted.map_err(AppError::from) {
        Ok(created) => created,
        Err(AppError::Conflict(_)) => return Ok(None),
        Err(other) => return Err(other),
    };
    for (position, (l, tax)) in lines.iter().zip(taxes).enumerate() {
        invoice_line::ActiveModel {
            id: Set(Uuid::now_v7()),
            invoice_id: Set(created.id),
            position: Set(position as i32 + 1),
            kind: Set(l.kind),
            subscription_id: Set(l.subscription_id),
            customer_id: Set(l.customer_id),
            description: Set(l.description.clone()),
            quantity: Set(exact(l.quantity)?),
            unit_price: Set(exact(l.unit_price)?),
            gross: Set(exact(l.amounts.gross)?),
            discount_percent: Set(exact(l.discount_percent)?),
            discount: Set(exact(l.amounts.discount)?),
            net: Set(exact(l.amounts.net)?),
            tax: Set(exact(tax)?),
            total: Set(exact(l.amounts.net + tax)?),
            retail_net: Set(exact(l.retail_net)?),
        }
        .insert(&txn)
        .await?;
    }
    let ids: Vec<Uuid> = charges.iter().map(|c| c.id).collect();
    let claimed = charge::Entity::update_many()
        .col_expr(charge::Column::InvoiceId, Expr::val(created.id))
        .filter(charge::Column::Id.is_in(ids))
        .filter(charge::Column::InvoiceId.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != charges.len() as u64
        || !super::programme_fees::attach(&txn, &billable.fees, created.id).await?
    {
        // Another run billed some of them first: roll back, number included.
        return Ok(None);
    }
    let event = audit::Event {
        action: "invoice.created",
        target_type: "Invoice",
        target_id: Some(created.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "number": created.number, "total": created.total, "status": created.status })),
    };
    audit::record(&txn, principal, event, now).await?;
    if issue {
        super::programme_fees::issued(&txn, &created, now).await?;
        notify_issued(&txn, &created, now).await?;
    }
    txn.commit().await?;
    Ok(Some(created))
}

async fn notify_issued(db: &impl ConnectionTrait, inv: &invoice::Model, now: DateTime<Utc>) -> AppResult<()> {
    let payload = json!({
        "invoiceId": ids::encode(NodeType::Invoice, inv.id),
        "number": inv.number, "total": inv.total, "currency": inv.currency,
    });
    notifications::enqueue(db, NotificationKind::InvoiceIssued, inv.bill_to_organization_id, None, payload, now).await
}

fn staff_billing(principal: Option<&Principal>) -> AppResult<()> {
    policy::can(policy::signed_in(principal)?, Action::ManageBilling)
}

#[tracing::instrument(skip_all, fields(invoice_id = %id, to = %to))]
async fn transition(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    from: &[InvoiceStatus],
    to: InvoiceStatus,
    reason: Option<String>,
) -> AppResult<invoice::Model> {
    staff_billing(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let inv = invoice::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound("Invoice"))?;
    if !from.contains(&inv.status) {
        return Err(AppError::Conflict(format!("the invoice is {}", inv.status)));
    }
    let mut active: invoice::ActiveModel = inv.clone().into();
    active.status = Set(to);
    match to {
        InvoiceStatus::Issued => active.issued_at = Set(Some(now)),
        _ => {
            active.voided_at = Set(Some(now));
            active.void_reason = Set(reason.clone());
        }
    }
    let updated = active.update(&txn).await?;
    let event = audit::Event {
        action: if to == InvoiceStatus::Issued { "invoice.issued" } else { "invoice.voided" },
        target_type: "Invoice",
        target_id: Some(id),
        customer_id: None,
        before: Some(json!({ "status": inv.status })),
        after: Some(json!({ "status": to, "reason": reason })),
    };
    audit::record(&txn, principal, event, now).await?;
    if to == InvoiceStatus::Issued {
        super::programme_fees::issued(&txn, &updated, now).await?;
        notify_issued(&txn, &updated, now).await?;
    } else {
        super::programme_fees::cancelled(&txn, &updated).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

pub async fn issue(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<invoice::Model> {
    transition(ctx, principal, id, &[InvoiceStatus::Draft], InvoiceStatus::Issued, None).await
}

/// Voids a draft or issued invoice (never a paid one); it keeps its number and stays listed.
pub async fn void(ctx: &Ctx, principal: Option<&Principal>, id: Uuid, reason: &str) -> AppResult<invoice::Model> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::bad_input("reason", "must be 1 to 2000 characters"));
    }
    transition(
        ctx,
        principal,
        id,
        &[InvoiceStatus::Draft, InvoiceStatus::Issued],
        InvoiceStatus::Void,
        Some(reason.into()),
    )
    .await
}

/// Refunds a paid invoice (staff ADMIN or FINANCE): its money went back to the payer, and the
/// commission it earned is reversed, in the same transaction.
#[tracing::instrument(skip_all, fields(invoice_id = %id))]
pub async fn refund(ctx: &Ctx, principal: Option<&Principal>, id: Uuid, reason: &str) -> AppResult<invoice::Model> {
    staff_billing(principal)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::bad_input("reason", "must be 1 to 2000 characters"));
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let inv = invoice::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound("Invoice"))?;
    let changed = invoice::Entity::update_many()
        .col_expr(invoice::Column::Status, Expr::value(InvoiceStatus::Refunded))
        .col_expr(invoice::Column::RefundedAt, Expr::value(Some(now)))
        .col_expr(invoice::Column::RefundReason, Expr::value(Some(reason.to_string())))
        .filter(invoice::Column::Id.eq(id))
        .filter(invoice::Column::Status.eq(InvoiceStatus::Paid))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        return Err(AppError::Conflict(format!("only a paid invoice is refunded; this one is {}", inv.status)));
    }
    let updated = invoice::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound("Invoice"))?;
    let reversed = super::ledger::post::reverse_invoice(&txn, &updated, now).await?;
    super::programme_fees::cancelled(&txn, &updated).await?;
    let event = audit::Event {
        action: "invoice.refunded",
        target_type: "Invoice",
        target_id: Some(id),
        customer_id: None,
        before: Some(json!({ "status": inv.status })),
        after: Some(json!({ "status": updated.status, "reason": reason, "reversals": reversed })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    Ok(updated)
}

pub struct NewPayment {
    pub invoice_id: Uuid,
    pub amount: Decimal,
    pub currency: String,
    pub received_at: DateTime<Utc>,
    pub reference: Option<String>,
    /// A retry with the same key returns the first payment instead of recording a second.
    pub idempotency_key: Option<String>,
}

/// Records money received; the invoice is PAID once payments cover its total.
#[tracing::instrument(skip_all, fields(invoice_id = %input.invoice_id))]
pub async fn record_payment(
    ctx: &Ctx,
    principal: Option<&Principal>,
    input: NewPayment,
) -> AppResult<(invoice::Model, payment::Model)> {
    staff_billing(principal)?;
    let user = policy::signed_in(principal)?.user_id();
    let canonical = json!({
        "invoice": input.invoice_id, "amount": input.amount.normalize().to_string(), "currency": input.currency,
        "receivedAt": input.received_at, "reference": input.reference,
    });
    let key = input
        .idempotency_key
        .as_deref()
        .map(|k| idempotency::Key::new(user, "recordPayment", k, &canonical))
        .transpose()?;
    match record_once(ctx, principal, &input, key.as_ref()).await {
        // The same key in flight twice: the loser's work rolled back; it answers with the winner's.
        Err(err) => match &key {
            Some(key) => replay(&ctx.db, idempotency::winner(&ctx.db, key, err).await?).await,
            None => Err(err),
        },
        recorded => recorded,
    }
}

async fn replay(db: &impl ConnectionTrait, payment_id: Uuid) -> AppResult<(invoice::Model, payment::Model)> {
    let recorded = payment::Entity::find_by_id(payment_id).one(db).await?.ok_or(AppError::NotFound("Payment"))?;
    let inv = invoice::Entity::find_by_id(recorded.invoice_id).one(db).await?.ok_or(AppError::NotFound("Invoice"))?;
    Ok((inv, recorded))
}

async fn record_once(
    ctx: &Ctx,
    principal: Option<&Principal>,
    input: &NewPayment,
    key: Option<&idempotency::Key<'_>>,
) -> AppResult<(invoice::Model, payment::Model)> {
    let (id, amount, currency, received_at) =
        (input.invoice_id, input.amount, input.currency.as_str(), input.received_at);
    let reference = input.reference.clone();
    let now = ctx.now();
    if received_at > now {
        return Err(AppError::bad_input("receivedAt", "must not be in the future"));
    }
    let txn = db::begin_write(&ctx.db).await?;
    if let Some(key) = key
        && let Some(previous) = idempotency::previous(&txn, key).await?
    {
        return replay(&txn, previous).await;
    }
    let inv = invoice::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound("Invoice"))?;
    if inv.status != InvoiceStatus::Issued {
        return Err(AppError::Conflict(format!(
            "payments are recorded on issued invoices; this one is {}",
            inv.status
        )));
    }
    if !currency.trim().eq_ignore_ascii_case(&inv.currency) {
        return Err(AppError::bad_input("amount", format!("must be in the invoice's currency, {}", inv.currency)));
    }
    if amount <= Decimal::ZERO || amount != billing::round(amount, &inv.currency) {
        return Err(AppError::bad_input("amount", "must be positive, in the currency's minor unit"));
    }
    let paid = paid(&txn, &[inv.id]).await?.remove(&inv.id).unwrap_or_default();
    let total = inv.total.to_decimal();
    if paid + amount > total {
        return Err(AppError::bad_input("amount", format!("exceeds the {} still due", total - paid)));
    }
    let recorded = payment::ActiveModel {
        id: Set(Uuid::now_v7()),
        invoice_id: Set(inv.id),
        amount: Set(fixed("amount", amount)?),
        currency: Set(inv.currency.clone()),
        received_at: Set(received_at),
        reference: Set(reference.map(|r| r.trim().chars().take(200).collect())),
        recorded_by_user_id: Set(principal.map(Principal::user_id)),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    if let Some(key) = key {
        idempotency::remember(&txn, key, recorded.id, now).await?;
    }
    let mut updated = inv.clone();
    if paid + amount == total {
        let mut active: invoice::ActiveModel = inv.clone().into();
        active.status = Set(InvoiceStatus::Paid);
        active.paid_at = Set(Some(received_at));
        updated = active.update(&txn).await?;
        // What the customer paid earns its partner of record's commission, in this transaction.
        super::ledger::post::accrue_invoice(&txn, &updated, now).await?;
        super::programme_fees::paid(&txn, &updated, received_at).await?;
    }
    let event = audit::Event {
        action: "invoice.payment_recorded",
        target_type: "Invoice",
        target_id: Some(inv.id),
        customer_id: None,
        before: Some(json!({ "status": inv.status })),
        after: Some(json!({ "amount": recorded.amount, "status": updated.status })),
    };
    audit::record(&txn, principal, event, now).await?;
    txn.commit().await?;
    Ok((updated, recorded))
}

/// Invoices the principal may read.
pub fn visible(principal: Option<&Principal>, now: DateTime<Utc>) -> Select<invoice::Entity> {
    invoice::Entity::find().filter(policy::invoices_scope(principal, now))
}

/// Per customer and currency: what the partner's customers would pay at list price (retail),
/// what the partner pays (cost) and the difference (margin), from the partner's own invoices
/// of the period that are not void.
pub struct ReportRow {
    pub customer_id: Uuid,
    pub currency: String,
    pub retail: Decimal,
    pub cost: Decimal,
}

/// The customers on the partner's own invoices of `period` that are not void.
pub fn report_customers(
    principal: Option<&Principal>,
    partner_id: Uuid,
    period: Period,
    now: DateTime<Utc>,
) -> sea_orm::Select<entity::organization::Entity> {
    use sea_orm::sea_query::Query;
    let invoices = Query::select()
        .column(invoice::Column::Id)
        .from(invoice::Entity)
        .cond_where(policy::invoices_scope(principal, now))
        .and_where(invoice::Column::BillToOrganizationId.eq(partner_id))
        .and_where(invoice::Column::Period.eq(period.to_string()))
        .and_where(invoice::Column::Status.ne(InvoiceStatus::Void))
        .to_owned();
    let customers = Query::select()
        .column(invoice_line::Column::CustomerId)
        .from(invoice_line::Entity)
        .and_where(invoice_line::Column::InvoiceId.in_subquery(invoices))
        .to_owned();
    entity::organization::Entity::find().filter(entity::organization::Column::Id.in_subquery(customers))
}

/// The report's amounts for these customers, per currency: summed in SQL, in one statement.
pub async fn partner_report(
    ctx: &Ctx,
    principal: Option<&Principal>,
    period: Period,
    customer_ids: &[Uuid],
) -> AppResult<Vec<ReportRow>> {
    use sea_orm::sea_query::{Alias, Expr, Query};
    #[derive(sea_orm::FromQueryResult)]
    struct Sums {
        customer_id: Uuid,
        currency: String,
        retail: i64,
        cost: i64,
    }
    let p = policy::signed_in(principal)?;
    policy::can(p, Action::ReadBillingReport)?;
    let partner_id = policy::acting(p)?.organization_id();
    let query = Query::select()
        .column((invoice_line::Entity, invoice_line::Column::CustomerId))
        .column((invoice::Entity, invoice::Column::Currency))
        .expr_as(crate::db::sum_fixed((invoice_line::Entity, invoice_line::Column::RetailNet)), Alias::new("retail"))
        .expr_as(crate::db::sum_fixed((invoice_line::Entity, invoice_line::Column::Net)), Alias::new("cost"))
        .from(invoice_line::Entity)
        .inner_join(
            invoice::Entity,
            Expr::col((invoice::Entity, invoice::Column::Id))
                .equals((invoice_line::Entity, invoice_line::Column::InvoiceId)),
        )
        .cond_where(policy::invoices_scope(principal, ctx.now()))
        .and_where(Expr::col((invoice::Entity, invoice::Column::BillToOrganizationId)).eq(partner_id))
        .and_where(Expr::col((invoice::Entity, invoice::Column::Period)).eq(period.to_string()))
        .and_where(Expr::col((invoice::Entity, invoice::Column::Status)).ne(InvoiceStatus::Void.as_str()))
        .and_where(
            Expr::col((invoice_line::Entity, invoice_line::Column::CustomerId)).is_in(customer_ids.iter().copied()),
        )
        .group_by_col((invoice_line::Entity, invoice_line::Column::CustomerId))
        .group_by_col((invoice::Entity, invoice::Column::Currency))
        .order_by((invoice_line::Entity, invoice_line::Column::CustomerId), sea_orm::Order::Asc)
        .order_by((invoice::Entity, invoice::Column::Currency), sea_orm::Order::Asc)
        .to_owned();
    let sums = <Sums as sea_orm::FromQueryResult>::find_by_statement(ctx.db.get_database_backend().build(&query))
        .all(&ctx.db)
        .await?;
    Ok(sums
        .into_iter()
        .map(|s| ReportRow {
            retail: billing::round(entity::fixed::Fixed(s.retail).to_decimal(), &s.currency),
            cost: billing::round(entity::fixed::Fixed(s.cost).to_decimal(), &s.currency),
            customer_id: s.customer_id,
            currency: s.currency,
        })
        .collect())
}

/// What has been paid on each invoice, summed in SQL: exact, as amounts are integers of
/// ten-thousandths, and an overflow is an error on both databases rather than a wrong sum.
pub async fn paid(db: &impl ConnectionTrait, invoice_ids: &[Uuid]) -> AppResult<HashMap<Uuid, Decimal>> {
    #[derive(sea_orm::FromQueryResult)]
    struct Paid {
        invoice_id: Uuid,
        paid: i64,
    }
    let query = sea_orm::sea_query::Query::select()
        .column(payment::Column::InvoiceId)
        .expr_as(crate::db::sum_fixed(payment::Column::Amount), sea_orm::sea_query::Alias::new("paid"))
        .from(payment::Entity)
        .and_where(payment::Column::InvoiceId.is_in(invoice_ids.iter().copied()))
        .group_by_col(payment::Column::InvoiceId)
        .to_owned();
    let rows =
        <Paid as sea_orm::FromQueryResult>::find_by_statement(db.get_database_backend().build(&query)).all(db).await?;
    Ok(rows.into_iter().map(|r| (r.invoice_id, entity::fixed::Fixed(r.paid).to_decimal())).collect())
}

/// What is still to pay on an invoice, given what was paid.
pub fn amount_due(inv: &invoice::Model, paid: Decimal) -> Decimal {
    billing::amount_due(inv.total.to_decimal(), paid, inv.status == InvoiceStatus::Void, &inv.currency)
}

/// What a partner manages per year at list price in `currency`: its active subscriptions, a
/// monthly plan counted twelve times.
pub async fn managed_yearly_amount(db: &impl ConnectionTrait, partner_id: Uuid, currency: &str) -> AppResult<Decimal> {
    let amounts = managed_yearly_amounts(db, &[partner_id]).await?;
    let amount = amounts.get(&partner_id).and_then(|by| by.get(currency)).copied().unwrap_or_default();
    Ok(billing::round(amount, currency))
}

/// The same for many partners, per currency, rounded: three queries whatever their number.
pub async fn managed_yearly_amounts(
    db: &impl ConnectionTrait,
    partner_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, HashMap<String, Decimal>>> {
    let subs = entity::subscription::Entity::find()
        .filter(entity::subscription::Column::PartnerId.is_in(partner_ids.iter().copied()))
        .filter(entity::subscription::Column::Status.eq(SubscriptionStatus::Active))
        .all(db)
        .await?;
    let plan_ids: Vec<Uuid> = subs.iter().filter_map(|s| s.plan_id).collect();
    let plans = catalog::priced(db, &plan_ids).await?;
    let mut out: HashMap<Uuid, HashMap<String, Decimal>> = HashMap::new();
    for s in subs {
        let (Some(partner), Some(p)) = (s.partner_id, s.plan_id.and_then(|id| plans.get(&id))) else { continue };
        let times = if p.yearly() { Decimal::ONE } else { Decimal::from(12) };
        *out.entry(partner).or_default().entry(p.plan.currency.clone()).or_default() += p.period_price(s.seats) * times;
    }
    for by_currency in out.values_mut() {
        for (currency, amount) in by_currency.iter_mut() {
            *amount = billing::round(*amount, currency);
        }
    }
    Ok(out)
}

/// What the invoice export writes: the organisation, and each line of its invoices that the
/// principal may read with a period in [from, to], in invoice then line order, with the
/// customer's name.
pub struct Export {
    pub organization: entity::organization::Model,
    pub lines: Vec<(invoice::Model, invoice_line::Model, Option<String>)>,
}

pub async fn export(
    ctx: &Ctx,
    principal: Option<&Principal>,
    organization_id: Uuid,
    from: Period,
    to: Period,
) -> AppResult<Export> {
    // The organisation must be visible at all; its invoices are then those the policy allows.
    let organization =
        super::organizations::find_visible(ctx, Some(policy::signed_in(principal)?), organization_id).await?;
    let invoices = visible(principal, ctx.now())
        .filter(invoice::Column::BillToOrganizationId.eq(organization.id))
        .filter(invoice::Column::Period.gte(from.to_string()))
        .filter(invoice::Column::Period.lte(to.to_string()))
        .order_by_asc(invoice::Column::Number)
        .all(&ctx.db)
        .await?;
    let lines = invoice_line::Entity::find()
        .filter(invoice_line::Column::InvoiceId.is_in(invoices.iter().map(|i| i.id)))
        .order_by_asc(invoice_line::Column::Position)
        .all(&ctx.db)
        .await?;
    // Customers are named on the lines of bills one may read, also where the customer itself is
    // no longer visible (a grant that ended after the invoice).
    let names: HashMap<Uuid, String> = entity::organization::Entity::find()
        .filter(entity::organization::Column::Id.is_in(lines.iter().filter_map(|l| l.customer_id)))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut out = Vec::with_capacity(lines.len());
    for inv in &invoices {
        for l in lines.iter().filter(|l| l.invoice_id == inv.id) {
            let name = l.customer_id.and_then(|id| names.get(&id)).cloned();
            out.push((inv.clone(), l.clone(), name));
        }
    }
    Ok(Export { organization, lines: out })
}
