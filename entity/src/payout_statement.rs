use sea_orm::entity::prelude::*;

use crate::fixed::Fixed;

/// What one partner was paid in one batch; unique per (batch, partner).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payout_statements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub batch_id: Uuid,
    pub partner_id: Uuid,
    pub amount: Fixed,
    pub currency: String,
    /// How many ledger entries it paid.
    pub entries: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
