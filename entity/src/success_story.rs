use sea_orm::entity::prelude::*;

use crate::enums::ReviewStatus;

/// A customer reference a partner submits; staff accept or reject it; accepted ones count for
/// tiers and may appear in the directory when publishable.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "success_stories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub partner_id: Uuid,
    pub customer_name: String,
    pub title: String,
    pub summary: String,
    /// The product names or SKUs the story is about (a JSON array of strings).
    pub products: Json,
    pub publishable: bool,
    /// SUBMITTED, ACCEPTED or REJECTED.
    pub status: ReviewStatus,
    pub review_reason: Option<String>,
    pub submitted_by_user_id: Option<Uuid>,
    pub reviewed_by_user_id: Option<Uuid>,
    pub submitted_at: DateTimeUtc,
    pub reviewed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
