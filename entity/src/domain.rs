use sea_orm::entity::prelude::*;

/// A DNS domain an organisation claims; proven by a TXT record `partnerhub-verification=<token>`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "domains")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Lower-case, without a trailing dot.
    pub name: String,
    /// The value to publish after `partnerhub-verification=`; not a secret.
    pub token: String,
    pub verified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
