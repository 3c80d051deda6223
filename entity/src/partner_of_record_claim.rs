use sea_orm::entity::prelude::*;

use crate::enums::RecordClaimStatus;

/// A partner's claim to be the advising partner of a customer, for all its products or one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_of_record_claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub customer_id: Uuid,
    /// None: every product of the customer.
    pub product_id: Option<Uuid>,
    /// `product_id` as text, or `*`: what the unique "one confirmed per customer and product" keys on.
    pub product_key: String,
    pub status: RecordClaimStatus,
    pub claimed_by_user_id: Uuid,
    pub decided_by_user_id: Option<Uuid>,
    /// Staff checked it (or decided it in the customer's place).
    pub staff_verified: bool,
    pub note: Option<String>,
    pub claimed_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub end_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
