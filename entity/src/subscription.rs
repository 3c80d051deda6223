use sea_orm::entity::prelude::*;

use crate::enums::{BilledTo, SubscriptionStatus};

/// A customer's subscription to a plan of a product, with its current period.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub product_id: Uuid,
    pub seats: i32,
    /// ACTIVE or CANCELLED (ended).
    pub status: SubscriptionStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub plan_id: Option<Uuid>,
    /// The partner that manages it; None when the customer bought it directly.
    pub partner_id: Option<Uuid>,
    /// PARTNER (the partner buys at its price and re-bills) or CUSTOMER (billed at list price).
    pub billed_to: BilledTo,
    pub started_at: Option<DateTimeUtc>,
    pub current_period_start: Option<DateTimeUtc>,
    /// The renewal date.
    pub current_period_end: Option<DateTimeUtc>,
    pub auto_renew: bool,
    pub cancel_at_period_end: bool,
    /// A downgrade that takes effect at the renewal.
    pub pending_plan_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
