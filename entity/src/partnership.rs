use sea_orm::entity::prelude::*;

use crate::fixed::Fixed;

/// An organisation's place in a programme: its tier, when it joined, and what it committed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partnerships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub program_id: Uuid,
    pub tier_id: Uuid,
    pub joined_at: DateTimeUtc,
    /// Committed yearly purchase volume, decimal text in the programme's currency.
    pub committed_yearly_volume: Option<Fixed>,
    pub yearly_fee_paid_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Since when the partner has not met its tier (or its fee is over 30 days overdue).
    pub grace_started_at: Option<DateTimeUtc>,
    /// When the grace period ends: from then on a downgrade is proposed.
    pub grace_ends_at: Option<DateTimeUtc>,
    /// What was missing when the grace period started (JSON list of requirement texts).
    pub grace_missing: Option<String>,
    /// When the oldest unpaid, issued programme fee fell due.
    pub yearly_fee_due_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::tier::Entity", from = "Column::TierId", to = "super::tier::Column::Id")]
    Tier,
}

impl Related<super::tier::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tier.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
