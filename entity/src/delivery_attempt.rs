use sea_orm::entity::prelude::*;

/// One try of a delivery: what the receiver answered, or why it could not be reached.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub delivery_id: Uuid,
    /// 1 for the first try.
    pub number: i32,
    pub attempted_at: DateTimeUtc,
    pub succeeded: bool,
    pub response_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
