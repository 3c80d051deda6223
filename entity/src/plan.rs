use sea_orm::entity::prelude::*;

use crate::enums::BillingPeriod;
use crate::fixed::Fixed;

/// A way to buy a product: billing period, unit price per seat, and a rank for up/downgrades.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub product_id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    /// MONTHLY or YEARLY.
    pub billing_period: BillingPeriod,
    /// Exact decimal: the list price per seat and period.
    pub unit_price: Fixed,
    pub currency: String,
    /// Higher is an upgrade.
    pub rank: i32,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
