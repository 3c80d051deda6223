use sea_orm::entity::prelude::*;

use crate::fixed::Fixed;

/// A commission rule of a programme, for one tier or all, one product line or all, valid over
/// a period: `percent` of the list price of what attributed customers pay, or
/// `accelerated_percent` for a quarter in which the partner reached `quarterly_target`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "commission_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub program_id: Uuid,
    pub tier_id: Option<Uuid>,
    pub product_line: Option<String>,
    pub percent: Fixed,
    pub accelerated_percent: Option<Fixed>,
    /// Referred revenue (list price) per quarter, in `currency`.
    pub quarterly_target: Option<Fixed>,
    pub currency: String,
    pub valid_from: DateTimeUtc,
    pub valid_to: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
