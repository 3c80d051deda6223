use sea_orm::entity::prelude::*;

use crate::enums::{DeliveryChannel, DeliveryStatus, Language};

/// One notification on its way to one e-mail address or one webhook endpoint. The worker holds
/// it under a lease while it tries; a node that dies mid-try loses the lease and another retries.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub notification_id: Uuid,
    pub channel: DeliveryChannel,
    /// The e-mail address, or the endpoint's id.
    pub target: String,
    pub endpoint_id: Option<Uuid>,
    /// The person an e-mail goes to, when it is a user.
    pub user_id: Option<Uuid>,
    pub language: Language,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_until: Option<DateTimeUtc>,
    pub lease_owner: Option<Uuid>,
    pub last_attempt_at: Option<DateTimeUtc>,
    pub last_response_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
