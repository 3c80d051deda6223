use sea_orm::entity::prelude::*;

/// An uploaded file, stored once by its content: the bytes are in the object store under
/// `sha256`, whoever uploaded them and however often.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stored_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lower-case hex.
    pub sha256: String,
    /// As judged from the content, never as declared.
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_by_user_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
