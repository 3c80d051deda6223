use sea_orm::entity::prelude::*;

/// A partnership's answers to the questionnaire version they answered; editable until reviewed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "questionnaire_answers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub partnership_id: Uuid,
    pub organization_id: Uuid,
    pub questionnaire_id: Uuid,
    /// The answers (JSON, `domain::questionnaire::Answer`).
    pub answers: Json,
    pub answered_by_user_id: Uuid,
    pub answered_at: DateTimeUtc,
    pub reviewed_at: Option<DateTimeUtc>,
    pub reviewed_by_user_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
