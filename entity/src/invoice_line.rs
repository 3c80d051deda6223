use sea_orm::entity::prelude::*;

/// One line of an invoice; every amount is decimal text rounded to the currency's minor unit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub position: i32,
    /// PERIOD or PRORATION.
    pub kind: String,
    pub subscription_id: Option<Uuid>,
    /// The customer the line is for (on a partner's invoice, whom the partner re-bills).
    pub customer_id: Option<Uuid>,
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub gross: String,
    pub discount_percent: String,
    pub discount: String,
    pub net: String,
    pub tax: String,
    pub total: String,
    /// What the line would be at list price: the retail amount a partner's margin is measured on.
    pub retail_net: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
