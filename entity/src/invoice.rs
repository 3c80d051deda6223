use sea_orm::entity::prelude::*;

use crate::enums::InvoiceStatus;
use crate::fixed::Fixed;

/// An invoice to one organisation for one period; numbered without gaps per year, never deleted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub number: String,
    pub year: i32,
    pub bill_to_organization_id: Uuid,
    /// YYYY-MM.
    pub period: String,
    pub currency: String,
    pub country: Option<String>,
    pub vat_number: Option<String>,
    /// Percent, decimal text.
    pub tax_rate: Fixed,
    pub reverse_charge: bool,
    /// DRAFT, ISSUED, PAID, VOID or REFUNDED.
    pub status: InvoiceStatus,
    pub subtotal: Fixed,
    pub discount_total: Fixed,
    pub tax_total: Fixed,
    pub total: Fixed,
    pub created_at: DateTimeUtc,
    pub issued_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    pub voided_at: Option<DateTimeUtc>,
    pub void_reason: Option<String>,
    /// When a paid invoice's money went back to the payer (status REFUNDED).
    pub refunded_at: Option<DateTimeUtc>,
    pub refund_reason: Option<String>,
    /// The billing run (called with an idempotency key) that made this invoice.
    pub billing_run_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
