use sea_orm::entity::prelude::*;

use crate::enums::{GrantScope, GrantSide, GrantStatus};

/// A partner–customer relationship: what the partner may do on the customer's account, until when.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub customer_id: Uuid,
    /// PENDING, ACTIVE, EXPIRED, REVOKED, ENDED or DECLINED.
    pub status: GrantStatus,
    /// Bit set of rights (see `policy::Rights`), so that intersections can be computed in SQL.
    pub rights: i32,
    /// ACCOUNT (everything) or SUBSCRIPTIONS (a list kept beside the grant).
    pub scope: GrantScope,
    /// Which side asked: PARTNER or CUSTOMER.
    pub requested_by: GrantSide,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub auto_extend: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// How long the grant runs once accepted (days, at most two years).
    pub duration_days: i32,
    /// What the asking side wrote with its request.
    pub message: Option<String>,
    /// Who asked; nobody approves their own request.
    pub requested_by_user_id: Option<Uuid>,
    /// Set when the one automatic extension has happened.
    pub auto_extended_at: Option<DateTimeUtc>,
    /// Asked for by VAT number or domain: the partner does not learn who the customer is until
    /// the customer approves.
    pub customer_hidden: bool,
    /// The end both sides were warned of, a week before it; a moved end is warned of again.
    pub expiry_warned_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
