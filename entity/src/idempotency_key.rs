use sea_orm::entity::prelude::*;

/// The first result of a mutation called with an idempotency key, replayed on retries.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub key: String,
    pub operation: String,
    /// SHA-256 of the canonical input, so the same key with other input is refused.
    pub request_hash: String,
    /// The id of what the first call created.
    pub result_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
