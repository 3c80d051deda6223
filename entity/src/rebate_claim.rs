use sea_orm::entity::prelude::*;

use crate::enums::{ClaimRejection, ClaimStatus};
use crate::fixed::Fixed;

/// A partner's rebate claim: purchases from an approved distributor, proven by an invoice file,
/// with the rebate computed from the rates in force on the invoice date and frozen here.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rebate_claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub program_id: Uuid,
    /// The partner's tier when it claimed, whose rates apply.
    pub tier_id: Uuid,
    pub distributor_id: Uuid,
    pub submitted_by_user_id: Uuid,
    /// As written on the invoice.
    pub invoice_number: String,
    /// The number as duplicates are compared (no case, spaces or dashes).
    pub invoice_key: String,
    pub invoice_date: Date,
    /// The products and quantities as duplicates are compared.
    pub lines_key: String,
    pub file_id: Uuid,
    /// The name the file was uploaded under, for display only.
    pub file_name: String,
    pub amount: Fixed,
    pub currency: String,
    pub status: ClaimStatus,
    pub rejection_code: Option<ClaimRejection>,
    pub rejection_text: Option<String>,
    pub reviewed_by_user_id: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub accepted_at: Option<DateTimeUtc>,
    pub distributor_note: Option<String>,
    pub distributor_marked_by_user_id: Option<Uuid>,
    pub distributor_marked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
