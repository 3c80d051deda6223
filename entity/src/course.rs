use sea_orm::entity::prelude::*;

use crate::enums::CourseKind;
use crate::fixed::Fixed;

/// A training course: ONLINE (e.g. the basic training) or CERTIFYING (an exam with a certificate).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "courses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub kind: CourseKind,
    /// Exact decimal, e.g. "299.00".
    pub fee_amount: Fixed,
    pub fee_currency: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
