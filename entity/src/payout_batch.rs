use sea_orm::entity::prelude::*;

use crate::enums::PayoutStatus;

/// A payout batch: every partner's approved, unpaid balance in one currency, paid once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payout_batches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `PO-<year>-<6 digits>`, without gaps per year.
    #[sea_orm(unique)]
    pub number: String,
    pub currency: String,
    /// The currency while the batch runs, None once complete: unique, so one batch runs per
    /// currency at a time.
    pub running_currency: Option<String>,
    #[sea_orm(unique)]
    pub idempotency_key: String,
    pub status: PayoutStatus,
    /// None when the schedule ran it.
    pub created_by_user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
