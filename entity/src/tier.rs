use sea_orm::entity::prelude::*;

/// A tier of a programme; `rank` orders them (Registered < Silver < Gold).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tiers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub program_id: Uuid,
    pub name: String,
    pub rank: i32,
    /// `domain::tiers::Requirements` as JSON; none means no requirements.
    pub requirements: Option<Json>,
    /// `domain::tiers::Benefits` as JSON.
    pub benefits: Option<Json>,
    /// Whether the tier lists its partners in the public directory (kept with `benefits`).
    pub directory_listing: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
