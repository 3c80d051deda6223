use sea_orm::entity::prelude::*;

use crate::fixed::Fixed;

/// A rebate rate of a programme: `amount_per_unit` in `currency` for each unit of a product line
/// a partner of `tier_id` bought from an approved distributor, for invoices dated from
/// `valid_from` until `valid_to` (exclusive).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rebate_rates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub program_id: Uuid,
    pub tier_id: Uuid,
    pub product_line: String,
    pub amount_per_unit: Fixed,
    pub currency: String,
    pub valid_from: DateTimeUtc,
    pub valid_to: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
