//! Rows every capability that adds people or organisations writes the same way.

use chrono::{DateTime, Utc};
use entity::{membership, organization, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use uuid::Uuid;

use crate::{
    domain::{OrganizationKind, Role, UserKind},
    error::AppResult,
};

pub struct NewUser<'a> {
    pub kind: UserKind,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub email_verified: bool,
}

/// A user with no sign-in identity yet: people get theirs at their first SSO login.
pub async fn insert_user(db: &impl ConnectionTrait, new: NewUser<'_>, now: DateTime<Utc>) -> AppResult<user::Model> {
    Ok(user::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind),
        oidc_issuer: Set(None),
        oidc_subject: Set(None),
        email: Set(new.email.map(Into::into)),
        email_verified: Set(new.email_verified),
        display_name: Set(new.display_name.into()),
        created_at: Set(now),
        language: Set(None),
        notifications_read_at: Set(None),
    }
    .insert(db)
    .await?)
}

/// Who brought a member in: the invitation's sender, and the partner when it invited on a
/// customer's behalf. Nobody for founders and members added by the system.
#[derive(Clone, Copy, Debug, Default)]
pub struct Invited {
    pub by_organization: Option<Uuid>,
    pub by_user: Option<Uuid>,
}

pub async fn insert_membership(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    organization_id: Uuid,
    role: Role,
    invited: Invited,
    now: DateTime<Utc>,
) -> AppResult<membership::Model> {
    Ok(membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        organization_id: Set(organization_id),
        role: Set(role),
        created_at: Set(now),
        invited_by_organization_id: Set(invited.by_organization),
        invited_by_user_id: Set(invited.by_user),
    }
    .insert(db)
    .await?)
}

/// Validated fields of a new organisation.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFields {
    pub name: String,
    pub country: Option<String>,
    pub domain: Option<String>,
    pub vat_number: Option<String>,
    pub registration_number: Option<String>,
    pub website: Option<String>,
}

pub async fn insert_organization(
    db: &impl ConnectionTrait,
    kind: OrganizationKind,
    fields: OrganizationFields,
    now: DateTime<Utc>,
) -> AppResult<organization::Model> {
    Ok(organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        name: Set(fields.name),
        country: Set(fields.country),
        domain: Set(fields.domain),
        vat_number: Set(fields.vat_number),
        registration_number: Set(fields.registration_number),
        website: Set(fields.website),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// The members of an organisation that the principal sees (`policy::memberships_scope`).
pub fn members_of(
    principal: Option<&crate::principal::Principal>,
    organization_id: Uuid,
    now: DateTime<Utc>,
) -> sea_orm::Select<membership::Entity> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(organization_id))
        .filter(crate::policy::memberships_scope(principal, now))
}

/// The principal's own memberships.
pub fn memberships_of(principal: &crate::principal::Principal) -> sea_orm::Select<membership::Entity> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    membership::Entity::find().filter(membership::Column::UserId.eq(principal.user_id()))
}

/// Sets (or clears) the language of the caller's e-mails.
pub async fn set_language(
    ctx: &super::Ctx,
    principal: Option<&crate::principal::Principal>,
    language: Option<crate::domain::Language>,
) -> AppResult<Option<crate::domain::Language>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let principal = crate::policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    user::Entity::update_many()
        .col_expr(user::Column::Language, Expr::value(language.map(|l| l.as_str())))
        .filter(user::Column::Id.eq(principal.user_id()))
        .exec(&txn)
        .await?;
    let event = super::audit::Event {
        action: "user.language_set",
        target_type: "User",
        target_id: Some(principal.user_id()),
        customer_id: None,
        before: Some(serde_json::json!({ "language": principal.user.language })),
        after: Some(serde_json::json!({ "language": language })),
    };
    super::audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(language)
}
