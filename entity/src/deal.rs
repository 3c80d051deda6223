use sea_orm::entity::prelude::*;

use crate::enums::{DealLostReason, DealRejectionCode, DealStatus};
use crate::fixed::Fixed;

/// A partner's registration of a sales opportunity with one customer (an organisation, or a
/// prospect given by name, domain and VAT number).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub program_id: Option<Uuid>,
    pub created_by_user_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub prospect_name: Option<String>,
    pub prospect_country: Option<String>,
    pub prospect_domain: Option<String>,
    pub prospect_vat: Option<String>,
    /// The customer's domain and VAT number, normalised, to find conflicting registrations.
    pub match_domain: Option<String>,
    pub match_vat: Option<String>,
    pub distributor_id: Uuid,
    pub estimated_value: Fixed,
    pub currency: String,
    pub expected_close_date: Date,
    pub sales_lead_name: String,
    pub sales_lead_email: String,
    pub sales_lead_phone: Option<String>,
    pub engineer_name: Option<String>,
    pub engineer_email: Option<String>,
    pub engineer_phone: Option<String>,
    /// JSON array of names.
    pub competitors: String,
    pub next_steps: Option<String>,
    pub opportunity_exists: bool,
    pub status: DealStatus,
    /// `DR-<year>-<6 digits>`, from approval on.
    pub number: Option<String>,
    /// JSON array of the input fields staff asked about (ACTION_REQUIRED).
    pub editable_fields: Option<String>,
    pub staff_question: Option<String>,
    pub rejection_code: Option<DealRejectionCode>,
    pub rejection_text: Option<String>,
    pub lost_reason: Option<DealLostReason>,
    pub protected_until: Option<DateTimeUtc>,
    /// When the partner was told the protection ends soon (reset by an extension).
    pub expiry_notice_sent_at: Option<DateTimeUtc>,
    pub special_discount_percent: Option<Fixed>,
    pub submitted_at: Option<DateTimeUtc>,
    pub approved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
