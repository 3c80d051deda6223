use sea_orm::entity::prelude::*;

use crate::fixed::Fixed;

/// The yearly programme fee of one partnership year: billed once by the billing run (it then
/// points at its invoice), paid with that invoice.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "programme_fees")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partnership_id: Uuid,
    pub organization_id: Uuid,
    pub year_start: DateTimeUtc,
    pub year_end: DateTimeUtc,
    pub amount: Fixed,
    pub currency: String,
    pub invoice_id: Option<Uuid>,
    /// When the fee fell due: the year's start, or the invoice's issue if later.
    pub due_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
