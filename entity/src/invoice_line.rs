use sea_orm::entity::prelude::*;

use crate::enums::ChargeKind;
use crate::fixed::Fixed;

/// One line of an invoice; every amount is decimal text rounded to the currency's minor unit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub position: i32,
    /// PERIOD or PRORATION.
    pub kind: ChargeKind,
    pub subscription_id: Option<Uuid>,
    /// The customer the line is for (on a partner's invoice, whom the partner re-bills).
    pub customer_id: Option<Uuid>,
    pub description: String,
    pub quantity: Fixed,
    pub unit_price: Fixed,
    pub gross: Fixed,
    pub discount_percent: Fixed,
    pub discount: Fixed,
    pub net: Fixed,
    pub tax: Fixed,
    pub total: Fixed,
    /// What the line would be at list price: the retail amount a partner's margin is measured on.
    pub retail_net: Fixed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
