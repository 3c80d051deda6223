use sea_orm::entity::prelude::*;

use crate::fixed::Fixed;

/// A partner's proposal for a tender: one per partner, editable until the deadline.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tender_responses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tender_id: Uuid,
    pub partner_id: Uuid,
    /// Who last wrote it.
    pub user_id: Uuid,
    pub proposal: String,
    pub price: Fixed,
    pub currency: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
