use sea_orm::entity::prelude::*;

use crate::enums::ChargeKind;

/// Something owed and not yet invoiced: a period in advance (PERIOD) or a prorated change
/// (PRORATION, from `from_plan_id`/`from_seats` to `plan_id`/`seats` for the rest of the period).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "charges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub bill_to_organization_id: Uuid,
    pub kind: ChargeKind,
    pub plan_id: Uuid,
    pub seats: i32,
    pub from_plan_id: Option<Uuid>,
    pub from_seats: Option<i32>,
    pub period_start: DateTimeUtc,
    pub period_end: DateTimeUtc,
    /// When the charged service starts (the change's time for a proration).
    pub service_start: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub invoice_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
