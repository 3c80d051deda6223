use sea_orm::entity::prelude::*;

use crate::enums::{ProposalDirection, ProposalStatus};

/// A tier change the evaluation proposes to staff: an upgrade as soon as the partner is eligible,
/// a downgrade once its grace period has ended. Kept with its decision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tier_proposals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partnership_id: Uuid,
    pub organization_id: Uuid,
    pub direction: ProposalDirection,
    pub status: ProposalStatus,
    pub from_tier_id: Uuid,
    pub to_tier_id: Uuid,
    /// The requirements of the current tier the partner did not meet (JSON list of texts).
    pub missing: Json,
    pub proposed_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by_user_id: Option<Uuid>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
