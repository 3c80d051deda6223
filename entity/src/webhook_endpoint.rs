use sea_orm::entity::prelude::*;

/// Where an organisation's systems receive its notifications: a URL and the kinds it wants,
/// signed with the endpoint's secrets.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    /// The notification kinds (their texts) sent here; empty means every kind.
    pub kinds: Json,
    pub description: String,
    pub enabled: bool,
    pub disabled_at: Option<DateTimeUtc>,
    /// Why it stopped (the owner's choice, or too many failures).
    pub disabled_reason: Option<String>,
    pub created_by_user_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
