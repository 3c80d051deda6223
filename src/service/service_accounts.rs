//! Service accounts: non-person users for integrations (a partner's billing system, a
//! distributor's ERP), members of one organisation with one role, reached by API token only.

use entity::{membership, user};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, organizations, people, tokens};
use crate::{
    db,
    domain::{OrganizationKind, Role, RolesOfKind, UserKind, validate},
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
};

pub struct Created {
    pub user: user::Model,
    pub membership: membership::Model,
    pub secret: String,
}

#[tracing::instrument(skip_all, fields(organization_id = %organization_id))]
pub async fn create(
    ctx: &Ctx,
    principal: Option<&Principal>,
    organization_id: Uuid,
    name: &str,
    role: Role,
) -> AppResult<Created> {
    let principal = policy::signed_in(principal)?;
    let organization = organizations::find_visible(ctx, Some(principal), organization_id).await?;
    policy::can(principal, Action::CreateServiceAccount { organization_id })?;
    let kind = organization.kind;
    if !role.is_allowed_for(kind) {
        let allowed: Vec<_> = Role::allowed_for(kind).iter().map(|r| r.as_str()).collect();
        return Err(AppError::bad_input("role", format!("a {kind} organisation has the roles {}", allowed.join(", "))));
    }
    let name = field("name", validate::name(name, 100))?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let user = people::insert_user(
        &txn,
        people::NewUser { kind: UserKind::ServiceAccount, display_name: &name, email: None, email_verified: false },
        now,
    )
    .await?;
    let membership =
        people::insert_membership(&txn, user.id, organization.id, role, people::Invited::default(), now).await?;
    let (_, secret) = tokens::issue(&txn, user.id, format!("{name} (initial)"), None, now).await?;
    audit::record(
        &txn,
        Some(principal),
        audit::Event {
            action: "service_account.created",
            target_type: "ServiceAccount",
            target_id: Some(user.id),
            customer_id: (kind == OrganizationKind::Customer).then_some(organization.id),
            before: None,
            after: Some(json!({ "name": name, "organizationId": organization.id, "role": role.as_str() })),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Created { user, membership, secret })
}

/// A service account the principal may see (as a user) with its membership.
pub async fn find_visible(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
) -> AppResult<Option<(user::Model, membership::Model)>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let found = user::Entity::find_by_id(id)
        .filter(user::Column::Kind.eq(UserKind::ServiceAccount))
        .filter(policy::users_scope(principal, ctx.now()))
        .find_also_related(membership::Entity)
        .one(&ctx.db)
        .await?;
    Ok(found.and_then(|(u, m)| m.map(|m| (u, m))))
}

/// A service account belongs to one organisation: removed from it, it is gone, and its tokens
/// are revoked in the same transaction so that none of them authenticates again.
pub(crate) async fn revoke_tokens_of_removed(
    db: &impl sea_orm::ConnectionTrait,
    principal: &Principal,
    removed: &membership::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    use entity::api_token;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let account = user::Entity::find_by_id(removed.user_id)
        .filter(user::Column::Kind.eq(UserKind::ServiceAccount))
        .one(db)
        .await?;
    if account.is_none() {
        return Ok(());
    }
    let revoked = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(Some(now)))
        .filter(api_token::Column::UserId.eq(removed.user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    audit::record(
        db,
        Some(principal),
        audit::Event {
            action: "service_account.tokens_revoked",
            target_type: "ServiceAccount",
            target_id: Some(removed.user_id),
            customer_id: None,
            before: None,
            after: Some(json!({ "revokedTokens": revoked.rows_affected, "reason": "removed from its organisation" })),
        },
        now,
    )
    .await
}
