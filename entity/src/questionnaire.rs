use sea_orm::entity::prelude::*;

/// One version of a programme's onboarding questionnaire; a change is a new row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "questionnaires")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub program_id: Uuid,
    pub version: i32,
    /// The questions (JSON, `domain::questionnaire::Question`).
    pub questions: Json,
    pub published_at: DateTimeUtc,
    pub published_by_user_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
