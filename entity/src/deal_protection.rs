use sea_orm::entity::prelude::*;

/// What an approved deal protects: one row per product and per way of naming its customer
/// (`org:<uuid>`, `domain:<domain>`, `vat:<number>`). Unique on (customer key, product), so two
/// approvals of rival deals cannot both commit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deal_protections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub deal_id: Uuid,
    pub customer_key: String,
    pub product_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
