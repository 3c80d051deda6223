use sea_orm::entity::prelude::*;

use crate::enums::ProgramKind;
use crate::fixed::Fixed;

/// A partner programme (reseller, referral) run by the vendor.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "programs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: ProgramKind,
    /// ISO 4217 code.
    pub currency: String,
    /// Programmes of one group exclude each other: an organisation is in at most one of them.
    pub exclusivity_group: Option<String>,
    /// Minimum yearly amount of managed products, decimal text in `currency`.
    pub min_yearly_amount: Option<Fixed>,
    pub requires_registration_number: bool,
    pub requires_website: bool,
    /// How long an approved deal registration protects its customer and products.
    pub deal_protection_days: i32,
    /// The highest special discount staff may give on an approved deal, in percent.
    pub deal_max_discount_percent: Option<Fixed>,
    /// Days after payment during which a cancellation or refund reverses commission, and
    /// commission stays PENDING.
    pub reversal_window_days: i32,
    /// The least a partner is paid in one payout; below it the balance carries over.
    pub min_payout: Option<Fixed>,
    /// Payout batches run every this many months (1 to 3), from January.
    pub payout_interval_months: i32,
    /// How long an organisation created through an affiliate's referral code is attributed to it.
    pub referral_attribution_months: i32,
    /// The largest invoice file a rebate claim may carry, in bytes.
    pub rebate_file_max_bytes: i64,
    pub created_at: DateTimeUtc,
    /// The directory lists every partner of the programme who opted in, whatever its tier.
    pub directory_lists_all: bool,
    /// The yearly programme fee the billing run invoices at each partnership year, in `currency`.
    pub yearly_fee: Option<Fixed>,
    /// How long a partner who stops meeting its tier keeps it before a downgrade is proposed.
    pub downgrade_grace_months: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
