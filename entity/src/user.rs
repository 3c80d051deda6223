use sea_orm::entity::prelude::*;

use crate::enums::{Language, UserKind};

/// A person (identified by OIDC issuer + subject once they have signed in) or a service account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// PERSON or SERVICE_ACCOUNT.
    pub kind: UserKind,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: String,
    pub created_at: DateTimeUtc,
    /// The language of their e-mails; their organisation's country decides when unset.
    pub language: Option<Language>,
    /// Notifications written before this are read (the dashboard's unread count).
    pub notifications_read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::membership::Entity")]
    Memberships,
}

impl Related<super::membership::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Memberships.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
