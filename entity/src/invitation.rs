use sea_orm::entity::prelude::*;

use crate::enums::Role;

/// An invitation to join an organisation with a role, accepted once by the invited e-mail.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub role: Role,
    /// SHA-256 (hex) of the single-use token sent to the invitee.
    pub token_hash: String,
    pub invited_by_user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub accepted_by_user_id: Option<Uuid>,
    pub cancelled_at: Option<DateTimeUtc>,
    /// The partner that invited on the customer's behalf (under MANAGE_USERS); None when the
    /// organisation's own ADMIN (or staff) invited.
    pub invited_by_organization_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
