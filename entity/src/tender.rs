use sea_orm::entity::prelude::*;

use crate::enums::TenderStatus;
use crate::fixed::Fixed;

/// A call for tenders: posted by a customer's ADMIN, or by a visitor who confirmed the e-mail;
/// seen only by the active partners it is restricted to.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    /// Plain text, escaped wherever it is shown.
    pub description: String,
    pub budget_min: Fixed,
    pub budget_max: Fixed,
    pub currency: String,
    /// JSON arrays: ISO country codes (empty: anywhere), product lines, expertise.
    pub region: Json,
    pub product_lines: Json,
    pub expertise: Json,
    pub deadline: DateTimeUtc,
    pub contact_name: String,
    pub contact_email: String,
    /// The customer that posted it; None for a visitor.
    pub author_organization_id: Option<Uuid>,
    pub author_user_id: Option<Uuid>,
    pub status: TenderStatus,
    /// SHA-256 of the single-use confirmation token, until it is used.
    pub confirmation_hash: Option<String>,
    pub confirmation_expires_at: Option<DateTimeUtc>,
    /// SHA-256 of the visitor author's key to its tender (responses, award).
    pub manage_key_hash: Option<String>,
    pub awarded_response_id: Option<Uuid>,
    pub published_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
