use sea_orm::entity::prelude::*;

/// A finding of the nightly tier evaluation: the evaluated tier differs from the current one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tier_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub partnership_id: Uuid,
    pub current_tier_id: Uuid,
    /// None when not even the entry tier's requirements are met.
    pub evaluated_tier_id: Option<Uuid>,
    pub evaluated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
