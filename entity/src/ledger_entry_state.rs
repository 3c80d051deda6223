use sea_orm::entity::prelude::*;

use crate::enums::EntryState;

/// One state of a ledger entry; the one with the highest `seq` is current. Unique per (entry,
/// seq) and per (entry, state): two transitions racing cannot both land, and nothing is paid twice.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entry_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub entry_id: Uuid,
    pub partner_id: Uuid,
    pub seq: i32,
    pub state: EntryState,
    /// Why the money is held (PENDING).
    pub hold_reason: Option<String>,
    /// When it will be released (PENDING).
    pub release_at: Option<DateTimeUtc>,
    /// The payout batch (PAID).
    pub batch_id: Option<Uuid>,
    /// Staff's reason (DUPLICATE, FRAUD), or what reversed it (REVERSED).
    pub reason: Option<String>,
    pub actor_user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
