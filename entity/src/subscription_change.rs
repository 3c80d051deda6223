use sea_orm::entity::prelude::*;

use crate::enums::SubscriptionChangeKind;

/// One change of a subscription, for its history.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscription_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub kind: SubscriptionChangeKind,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub actor_user_id: Option<Uuid>,
    pub acting_organization_id: Option<Uuid>,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
