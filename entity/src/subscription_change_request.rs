use sea_orm::entity::prelude::*;

use crate::enums::ChangeRequestStatus;

/// A customer asking the partner who pays for a subscription for more seats or a higher plan.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscription_change_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub customer_id: Uuid,
    /// The partner billed for the subscription, who decides.
    pub partner_id: Uuid,
    pub seats: Option<i32>,
    pub plan_id: Option<Uuid>,
    pub message: Option<String>,
    /// PENDING, APPROVED, DECLINED or WITHDRAWN.
    pub status: ChangeRequestStatus,
    pub requested_by_user_id: Uuid,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by_user_id: Option<Uuid>,
    pub decision_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
