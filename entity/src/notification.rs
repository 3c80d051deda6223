use sea_orm::entity::prelude::*;

use crate::enums::NotificationKind;

/// An outbox row: a decision to tell an organisation (or one of its users) about, written in
/// the same transaction as the decision; delivery by e-mail and webhook marks it delivered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: NotificationKind,
    /// None for a person who belongs to no organisation yet (then `user_id` is set).
    pub organization_id: Option<Uuid>,
    /// One user of that organisation, or everyone in it when `None`.
    pub user_id: Option<Uuid>,
    pub payload: Json,
    pub created_at: DateTimeUtc,
    /// When its last e-mail or webhook went out.
    pub delivered_at: Option<DateTimeUtc>,
    /// An address outside every organisation (an invitation): e-mailed there only, listed to nobody.
    pub recipient_email: Option<String>,
    /// When the worker turned it into deliveries (one per recipient and endpoint).
    pub dispatched_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
