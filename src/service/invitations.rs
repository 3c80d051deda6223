//! Invitations and membership removal. An organisation admin invites a person by e-mail with a
//! role; the single-use token is valid for 7 days; only a signed-in user whose provider vouches
//! for that same e-mail address (verified) can accept it.

use chrono::TimeDelta;
use entity::{invitation, membership, organization, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Select};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, organizations, people};
use crate::{
    auth::{Principal, token},
    db,
    domain::{OrganizationKind, Role, validate},
    error::{AppError, AppResult},
    policy::{self, Action},
};

pub const VALIDITY: TimeDelta = TimeDelta::days(7);

fn audit_json(i: &invitation::Model) -> serde_json::Value {
    json!({ "organizationId": i.organization_id, "email": i.email, "role": i.role, "expiresAt": i.expires_at,
            "acceptedAt": i.accepted_at, "cancelledAt": i.cancelled_at })
}

fn customer_of(org: &organization::Model) -> Option<Uuid> {
    (org.kind == OrganizationKind::Customer.as_str()).then_some(org.id)
}

/// Members of an organisation are managed by its ADMIN (staff ADMIN for any), and a customer's
/// also by a partner user whose live grant, assignment and role give MANAGE_USERS there.
pub async fn can_manage_members(ctx: &Ctx, principal: &Principal, org: &organization::Model) -> AppResult<()> {
    let own = policy::can(principal, Action::ManageMembers { organization_id: org.id });
    if own.is_ok() || org.kind != OrganizationKind::Customer.as_str() {
        return own;
    }
    let rights = super::grants::viewer_rights(&ctx.db, Some(principal), &[org.id], ctx.now()).await?;
    policy::can(principal, Action::ManageCustomerUsers { rights: rights.get(&org.id).copied().unwrap_or_default() })
}

pub fn visible(principal: Option<&Principal>) -> Select<invitation::Entity> {
    invitation::Entity::find().filter(policy::invitations_scope(principal))
}

#[tracing::instrument(skip_all, fields(organization_id = %organization_id))]
pub async fn invite(
    ctx: &Ctx,
    principal: Option<&Principal>,
    organization_id: Uuid,
    email: &str,
    role: Role,
) -> AppResult<(invitation::Model, String)> {
    let principal = policy::signed_in(principal)?;
    let org = organizations::find_visible(ctx, Some(principal), organization_id).await?;
    can_manage_members(ctx, principal, &org).await?;
    let kind = OrganizationKind::parse(&org.kind).ok_or_else(|| AppError::internal("bad organisation kind"))?;
    if !role.is_allowed_for(kind) {
        return Err(AppError::bad_input("role", format!("a {kind} organisation does not have the role {role}")));
    }
    let email = field("email", validate::email(email))?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let already_member = membership::Entity::find()
        .inner_join(user::Entity)
        .filter(membership::Column::OrganizationId.eq(organization_id))
        .filter(user::Column::Email.eq(email.clone()))
        .count(&txn)
        .await?;
    if already_member > 0 {
        return Err(AppError::Conflict("this person is already a member".into()));
    }
    let pending = invitation::Entity::find()
        .filter(invitation::Column::OrganizationId.eq(organization_id))
        .filter(invitation::Column::Email.eq(email.clone()))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::CancelledAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .count(&txn)
        .await?;
    if pending > 0 {
        return Err(AppError::Conflict("this person already has a pending invitation; resend or cancel it".into()));
    }
    let (created, secret) = insert(&txn, Some(principal), &org, &email, role, now).await?;
    txn.commit().await?;
    Ok((created, secret))
}

/// Writes an invitation and its audit row; returns it with the token (shown once).
pub(crate) async fn insert(
    txn: &sea_orm::DatabaseTransaction,
    principal: Option<&Principal>,
    org: &organization::Model,
    email: &str,
    role: Role,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<(invitation::Model, String)> {
    let secret = token::generate();
    let created = invitation::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.id),
        email: Set(email.to_string()),
        role: Set(role.as_str().into()),
        token_hash: Set(secret.hash),
        invited_by_user_id: Set(principal.map(Principal::user_id)),
        created_at: Set(now),
        expires_at: Set(now + VALIDITY),
        accepted_at: Set(None),
        accepted_by_user_id: Set(None),
        cancelled_at: Set(None),
    }
    .insert(txn)
    .await?;
    let event = audit::Event {
        action: "invitation.created",
        target_type: "Invitation",
        target_id: Some(created.id),
        customer_id: customer_of(org),
        before: None,
        after: Some(audit_json(&created)),
    };
    audit::record(txn, principal, event, now).await?;
    Ok((created, secret.secret))
}

fn still_open(i: &invitation::Model) -> AppResult<()> {
    if i.accepted_at.is_some() {
        return Err(AppError::Conflict("this invitation has already been accepted".into()));
    }
    if i.cancelled_at.is_some() {
        return Err(AppError::Conflict("this invitation was cancelled".into()));
    }
    Ok(())
}

/// Changes an open invitation the principal administers, checked and audited in one
/// transaction (so a cancel cannot slip past a concurrent accept).
async fn change_open(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    action: &'static str,
    apply: impl FnOnce(&mut invitation::ActiveModel, chrono::DateTime<chrono::Utc>),
) -> AppResult<invitation::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let existing = visible(Some(principal))
        .filter(invitation::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Invitation"))?;
    let org = organizations::find_visible(ctx, Some(principal), existing.organization_id).await?;
    policy::can(principal, Action::ManageMembers { organization_id: org.id })?;
    still_open(&existing)?;
    let mut active: invitation::ActiveModel = existing.clone().into();
    apply(&mut active, now);
    let updated = active.update(&txn).await?;
    let event = audit::Event {
        action,
        target_type: "Invitation",
        target_id: Some(updated.id),
        customer_id: customer_of(&org),
        before: Some(audit_json(&existing)),
        after: Some(audit_json(&updated)),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// A new token and a new 7-day validity; the old token stops working.
pub async fn resend(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<(invitation::Model, String)> {
    let secret = token::generate();
    let hash = secret.hash.clone();
    let updated = change_open(ctx, principal, id, "invitation.resent", |active, now| {
        active.token_hash = Set(hash);
        active.expires_at = Set(now + VALIDITY);
    })
    .await?;
    Ok((updated, secret.secret))
}

pub async fn cancel(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<invitation::Model> {
    change_open(ctx, principal, id, "invitation.cancelled", |active, now| active.cancelled_at = Set(Some(now))).await
}

/// Accepting needs the invited address, verified by the provider the user signed in with.
#[tracing::instrument(skip_all)]
pub async fn accept(ctx: &Ctx, principal: Option<&Principal>, secret: &str) -> AppResult<membership::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let found = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(token::hash(secret.trim())))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Invitation"))?;
    still_open(&found)?;
    if found.expires_at <= now {
        return Err(AppError::Conflict("this invitation has expired; ask for a new one".into()));
    }
    let user = &principal.user;
    let matches = user.email_verified && user.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&found.email));
    if !matches {
        return Err(AppError::Forbidden(
            "this invitation is for another e-mail address, or your provider has not verified yours".into(),
        ));
    }
    let role = Role::parse(&found.role).ok_or_else(|| AppError::internal("bad role in invitation"))?;
    let created = people::insert_membership(&txn, user.id, found.organization_id, role, now).await?;
    let mut active: invitation::ActiveModel = found.clone().into();
    active.accepted_at = Set(Some(now));
    active.accepted_by_user_id = Set(Some(user.id));
    let updated = active.update(&txn).await?;
    let org = organization::Entity::find_by_id(found.organization_id).one(&txn).await?;
    let event = audit::Event {
        action: "invitation.accepted",
        target_type: "Invitation",
        target_id: Some(updated.id),
        customer_id: org.as_ref().and_then(customer_of),
        before: Some(audit_json(&found)),
        after: Some(audit_json(&updated)),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Removes a member; the next request of theirs acting for that organisation has no membership.
/// The last ADMIN cannot be removed, so an organisation is never left without one.
pub async fn remove_member(ctx: &Ctx, principal: Option<&Principal>, membership_id: Uuid) -> AppResult<Uuid> {
    let principal = policy::signed_in(principal)?;
    let found = membership::Entity::find_by_id(membership_id)
        .filter(policy::memberships_scope(Some(principal), ctx.now()))
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound("Membership"))?;
    let org = organizations::find_visible(ctx, Some(principal), found.organization_id).await?;
    can_manage_members(ctx, principal, &org).await?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    if found.role == Role::Admin.as_str() {
        let admins = membership::Entity::find()
            .filter(membership::Column::OrganizationId.eq(org.id))
            .filter(membership::Column::Role.eq(Role::Admin.as_str()))
            .count(&txn)
            .await?;
        if admins <= 1 {
            return Err(AppError::Conflict("the last ADMIN of an organisation cannot be removed".into()));
        }
    }
    membership::Entity::delete_by_id(found.id).exec(&txn).await?;
    let event = audit::Event {
        action: "membership.removed",
        target_type: "Membership",
        target_id: Some(found.id),
        customer_id: customer_of(&org),
        before: Some(json!({ "userId": found.user_id, "organizationId": found.organization_id, "role": found.role })),
        after: None,
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(found.id)
}
