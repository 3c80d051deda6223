use sea_orm::entity::prelude::*;

/// A person's passed exam of a course, with its certificate.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exam_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub course_id: Uuid,
    pub passed_at: DateTimeUtc,
    pub certificate_number: String,
    pub expires_at: Option<DateTimeUtc>,
    pub recorded_by_user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
