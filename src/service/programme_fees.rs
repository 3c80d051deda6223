//! The yearly programme fee, billed: the billing run adds a fee row for each partnership year
//! that starts (or renews) by the end of the period it bills and puts it on the partner's
//! invoice as a line, taxed like the rest of that invoice. Issuing the invoice makes the fee due;
//! its payment makes it paid until the year's end, which the tier requirement "yearly fee paid"
//! reads. Unpaid more than 30 days after it fell due, it starts the grace period
//! (`domain::tiers::review`).

use std::collections::HashSet;

use chrono::{DateTime, Months, Utc};
use entity::{invoice, partnership, program, programme_fee};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::OnConflict,
};
use uuid::Uuid;

use super::billing::Period;
use crate::error::AppResult;

/// The start of the partnership year that contains `at` (years run from the joining date).
pub fn year_start(joined_at: DateTime<Utc>, at: DateTime<Utc>) -> DateTime<Utc> {
    let mut start = joined_at;
    let mut years = 1;
    while let Some(next) = joined_at.checked_add_months(Months::new(12 * years)) {
        if next > at {
            break;
        }
        start = next;
        years += 1;
    }
    start
}

fn year_end(start: DateTime<Utc>) -> DateTime<Utc> {
    start.checked_add_months(Months::new(12)).unwrap_or(start)
}

/// Adds the fee of every partnership year that is under way at the period's start or starts
/// within it, for programmes with a fee. Keyed by (partnership, year start): a second run adds
/// nothing.
pub async fn accrue(db: &impl ConnectionTrait, period: Period, now: DateTime<Utc>) -> AppResult<usize> {
    let with_fee: Vec<program::Model> =
        program::Entity::find().filter(program::Column::YearlyFee.is_not_null()).all(db).await?;
    if with_fee.is_empty() {
        return Ok(0);
    }
    let places = partnership::Entity::find()
        .filter(partnership::Column::ProgramId.is_in(with_fee.iter().map(|p| p.id)))
        .all(db)
        .await?;
    let mut rows = Vec::new();
    for p in places {
        let Some(programme) = with_fee.iter().find(|g| g.id == p.program_id) else { continue };
        let Some(amount) = programme.yearly_fee.filter(|a| a.0 > 0) else { continue };
        // A partnership that had not started by the period's end owes nothing yet.
        if p.joined_at >= period.end() {
            continue;
        }
        let mut start = year_start(p.joined_at, period.start().max(p.joined_at));
        while start < period.end() {
            // A year staff recorded as paid by hand is not billed again.
            if p.yearly_fee_paid_until.is_some_and(|until| until >= year_end(start)) {
                start = year_end(start);
                continue;
            }
            rows.push(programme_fee::ActiveModel {
                id: Set(Uuid::now_v7()),
                partnership_id: Set(p.id),
                organization_id: Set(p.organization_id),
                year_start: Set(start),
                year_end: Set(year_end(start)),
                amount: Set(amount),
                currency: Set(programme.currency.clone()),
                invoice_id: Set(None),
                due_at: Set(None),
                paid_at: Set(None),
                created_at: Set(now),
            });
            start = year_end(start);
        }
    }
    let added = rows.len();
    if !rows.is_empty() {
        programme_fee::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([programme_fee::Column::PartnershipId, programme_fee::Column::YearStart])
                    .do_nothing()
                    .to_owned(),
            )
            .try_insert()
            .exec_without_returning(db)
            .await?;
    }
    Ok(added)
}

/// Fees not yet on an invoice, of years starting before the period's end.
pub async fn pending(db: &impl ConnectionTrait, period: Period) -> AppResult<Vec<programme_fee::Model>> {
    Ok(programme_fee::Entity::find()
        .filter(programme_fee::Column::InvoiceId.is_null())
        .filter(programme_fee::Column::YearStart.lt(period.end()))
        .order_by_asc(programme_fee::Column::Id)
        .all(db)
        .await?)
}

/// Marks fees as billed on an invoice; false when another run took one of them first.
pub async fn attach(db: &impl ConnectionTrait, fees: &[programme_fee::Model], invoice_id: Uuid) -> AppResult<bool> {
    if fees.is_empty() {
        return Ok(true);
    }
    let claimed = programme_fee::Entity::update_many()
        .col_expr(programme_fee::Column::InvoiceId, sea_orm::sea_query::Expr::val(invoice_id))
        .filter(programme_fee::Column::Id.is_in(fees.iter().map(|f| f.id)))
        .filter(programme_fee::Column::InvoiceId.is_null())
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == fees.len() as u64)
}

/// The invoice was issued: its fees fall due (at the year's start, or now if later).
pub async fn issued(db: &impl ConnectionTrait, inv: &invoice::Model, now: DateTime<Utc>) -> AppResult<()> {
    let fees = of_invoice(db, inv.id).await?;
    for f in &fees {
        let mut active: programme_fee::ActiveModel = f.clone().into();
        active.due_at = Set(Some(f.year_start.max(now)));
        sea_orm::ActiveModelTrait::update(active, db).await?;
    }
    refresh(db, fees.iter().map(|f| f.partnership_id)).await
}

/// The invoice was paid: its fees are paid until their years' ends.
pub async fn paid(db: &impl ConnectionTrait, inv: &invoice::Model, at: DateTime<Utc>) -> AppResult<()> {
    let fees = of_invoice(db, inv.id).await?;
    for f in &fees {
        let mut active: programme_fee::ActiveModel = f.clone().into();
        active.paid_at = Set(Some(at));
        sea_orm::ActiveModelTrait::update(active, db).await?;
    }
    refresh(db, fees.iter().map(|f| f.partnership_id)).await
}

/// The invoice was voided (the fee is waived) or refunded (the fee is unpaid again, and no
/// longer due): neither counts from now on.
pub async fn cancelled(db: &impl ConnectionTrait, inv: &invoice::Model) -> AppResult<()> {
    let fees = of_invoice(db, inv.id).await?;
    for f in &fees {
        let mut active: programme_fee::ActiveModel = f.clone().into();
        active.due_at = Set(None);
        active.paid_at = Set(None);
        sea_orm::ActiveModelTrait::update(active, db).await?;
    }
    // A refunded year no longer counts as paid: paid-until goes back to that year's start.
    for f in fees.iter().filter(|f| f.paid_at.is_some()) {
        partnership::Entity::update_many()
            .col_expr(partnership::Column::YearlyFeePaidUntil, sea_orm::sea_query::Expr::val(Some(f.year_start)))
            .filter(partnership::Column::Id.eq(f.partnership_id))
            .filter(partnership::Column::YearlyFeePaidUntil.eq(f.year_end))
            .exec(db)
            .await?;
    }
    refresh(db, fees.iter().map(|f| f.partnership_id)).await
}

async fn of_invoice(db: &impl ConnectionTrait, invoice_id: Uuid) -> AppResult<Vec<programme_fee::Model>> {
    Ok(programme_fee::Entity::find().filter(programme_fee::Column::InvoiceId.eq(invoice_id)).all(db).await?)
}

/// Recomputes, for each partnership, until when its fee is paid (the latest paid year's end,
/// never earlier than what staff recorded by hand) and since when its oldest unpaid fee is due.
async fn refresh(db: &impl ConnectionTrait, partnership_ids: impl Iterator<Item = Uuid>) -> AppResult<()> {
    let ids: HashSet<Uuid> = partnership_ids.collect();
    for id in ids {
        let Some(p) = partnership::Entity::find_by_id(id).one(db).await? else { continue };
        let fees = programme_fee::Entity::find().filter(programme_fee::Column::PartnershipId.eq(id)).all(db).await?;
        let paid_until = fees.iter().filter(|f| f.paid_at.is_some()).map(|f| f.year_end).max();
        let paid_until = paid_until.max(p.yearly_fee_paid_until);
        let due = fees
            .iter()
            .filter(|f| f.paid_at.is_none() && paid_until.is_none_or(|until| f.year_end > until))
            .filter_map(|f| f.due_at)
            .min();
        let mut active: partnership::ActiveModel = p.into();
        active.yearly_fee_paid_until = Set(paid_until);
        active.yearly_fee_due_at = Set(due);
        sea_orm::ActiveModelTrait::update(active, db).await?;
    }
    Ok(())
}

/// The fee in a programme's currency, checked (none or zero removes it).
pub fn fee_amount(amount: Decimal) -> AppResult<Option<Decimal>> {
    if amount.is_sign_negative() || amount.scale() > 2 {
        return Err(crate::error::AppError::bad_input("yearlyFee", "must be zero or more, with at most 2 decimals"));
    }
    Ok((!amount.is_zero()).then_some(amount.normalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partnership_years_run_from_the_joining_day() {
        let joined: DateTime<Utc> = "2025-03-15T10:00:00Z".parse().unwrap();
        assert_eq!(year_start(joined, joined), joined);
        assert_eq!(year_start(joined, "2026-03-15T09:59:59Z".parse().unwrap()), joined);
        let renewed: DateTime<Utc> = "2026-03-15T10:00:00Z".parse().unwrap();
        assert_eq!(year_start(joined, renewed), renewed);
        assert_eq!(year_start(joined, "2027-01-01T00:00:00Z".parse().unwrap()), renewed);
        assert_eq!(year_end(renewed), "2027-03-15T10:00:00Z".parse::<DateTime<Utc>>().unwrap());
    }
}
