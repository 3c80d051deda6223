use sea_orm::entity::prelude::*;

/// A login in progress (authorization code flow), single use, valid for 10 minutes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_states")]
pub struct Model {
    /// SHA-256 (hex) of the `state` parameter.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub provider: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub return_to: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
