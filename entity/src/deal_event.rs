use sea_orm::entity::prelude::*;

use crate::enums::DealStatus;

/// One transition in a deal's history: from which status to which, by whom, when.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deal_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub deal_id: Uuid,
    pub from_status: Option<DealStatus>,
    pub to_status: DealStatus,
    /// None for the server's own transitions (expiry).
    pub actor_user_id: Option<Uuid>,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
