use sea_orm::entity::prelude::*;

/// The one free product a partnership claims once it has a tier with the gift benefit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "welcome_gifts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub partnership_id: Uuid,
    pub product_id: Uuid,
    pub shipping_address: String,
    pub claimed_by_user_id: Uuid,
    pub claimed_at: DateTimeUtc,
    pub shipped_at: Option<DateTimeUtc>,
    pub shipped_by_user_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
