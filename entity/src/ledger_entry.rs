use sea_orm::entity::prelude::*;

use crate::{
    enums::{EntryKind, EntrySource},
    fixed::Fixed,
};

/// One posting to a partner's ledger. Never updated or deleted: its states are rows of
/// `ledger_entry_states`, and a correction is a new entry (a REVERSAL or an ADJUSTMENT).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub kind: EntryKind,
    /// Positive for money owed to the partner, negative for reversals and payouts.
    pub amount: Fixed,
    pub currency: String,
    pub source_type: EntrySource,
    pub source_id: Option<Uuid>,
    /// Unique: posting the same thing twice finds the first posting.
    pub source_key: String,
    pub customer_id: Option<Uuid>,
    pub invoice_line_id: Option<Uuid>,
    pub rule_id: Option<Uuid>,
    /// The percentage applied, when there is one.
    pub rate: Option<Fixed>,
    /// What the rate was applied to.
    pub base: Option<Fixed>,
    pub reverses_entry_id: Option<Uuid>,
    /// The calendar quarter the entry counts in, `2026-Q4`.
    pub quarter: String,
    pub description: String,
    pub earned_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
