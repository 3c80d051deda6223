use sea_orm::entity::prelude::*;

use crate::enums::ApplicationStatus;

/// An application to join a programme, reviewed by staff.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub program_id: Uuid,
    pub applicant_user_id: Uuid,
    /// The organisation that applies when it already exists, or the one created on approval.
    pub organization_id: Option<Uuid>,
    pub company_name: String,
    pub registration_number: Option<String>,
    pub vat_number: Option<String>,
    pub website: Option<String>,
    pub country: String,
    pub address: String,
    pub primary_expertise: String,
    pub experience: String,
    pub plan: String,
    pub accepted_terms_version: i32,
    /// SUBMITTED, APPROVED or REJECTED.
    pub status: ApplicationStatus,
    pub reason: Option<String>,
    pub submitted_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    pub reviewed_at: Option<DateTimeUtc>,
    pub reviewed_by_user_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
