use sea_orm::entity::prelude::*;

use crate::enums::LineMark;
use crate::fixed::Fixed;

/// A line of a rebate claim: a product and its quantity, with the rate that priced it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rebate_claim_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub claim_id: Uuid,
    pub position: i32,
    pub product_id: Uuid,
    pub product_line: String,
    pub quantity: i32,
    pub rate_id: Uuid,
    pub amount_per_unit: Fixed,
    pub amount: Fixed,
    /// The distributor's mark, once it looked.
    pub distributor_mark: Option<LineMark>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
