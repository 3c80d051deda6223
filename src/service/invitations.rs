//! Invitations and membership removal. An organisation admin invites a person by e-mail with a
//! role; the single-use token is valid for 7 days; only a signed-in user whose provider vouches
//! for that same e-mail address (verified) can accept it.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{invitation, membership, organization, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Select,
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, organizations, people};
use crate::{
    db,
    domain::{OrganizationKind, Role, RolesOfKind, notifications::NotificationKind, validate},
    error::{AppError, AppResult},
    policy::{self, MemberAuthority},
    principal::Principal,
    secrets as token,
};

pub const VALIDITY: TimeDelta = TimeDelta::days(7);

fn audit_json(i: &invitation::Model) -> serde_json::Value {
    json!({ "organizationId": i.organization_id, "email": i.email, "role": i.role, "expiresAt": i.expires_at,
            "acceptedAt": i.accepted_at, "cancelledAt": i.cancelled_at,
            "invitedByOrganizationId": i.invited_by_organization_id })
}

fn customer_of(org: &organization::Model) -> Option<Uuid> {
    (org.kind == OrganizationKind::Customer).then_some(org.id)
}

/// In whose name the principal may touch `org`'s members of `roles` (see
/// `policy::member_authority`): the partner's effective rights on a customer are looked up here.
pub async fn member_authority(
    ctx: &Ctx,
    principal: &Principal,
    org: &organization::Model,
    roles: &[Role],
) -> AppResult<MemberAuthority> {
    let kind = org.kind;
    let delegated = if kind == OrganizationKind::Customer && policy::PartnerActor::of(principal).is_some() {
        super::grants::viewer_rights(&ctx.db, Some(principal), &[org.id], ctx.now()).await?.get(&org.id).copied()
    } else {
        None
    };
    policy::member_authority(principal, org.id, kind, delegated.unwrap_or_default(), roles)
}

pub fn visible(principal: Option<&Principal>, now: DateTime<Utc>) -> Select<invitation::Entity> {
    invitation::Entity::find().filter(policy::invitations_scope(principal, now))
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
    let authority = member_authority(ctx, principal, &org, &[role]).await?;
    let kind = org.kind;
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
    let (created, secret) = insert(&txn, Some(principal), &org, &email, role, authority, now).await?;
    txn.commit().await?;
    Ok((created, secret))
}

/// Writes an invitation and its audit row; returns it with the token (shown once). An
/// invitation a partner sends on a customer's behalf records the partner, so that it is checked
/// again when accepted and dies with the partner's access.
pub(crate) async fn insert(
    txn: &sea_orm::DatabaseTransaction,
    principal: Option<&Principal>,
    org: &organization::Model,
    email: &str,
    role: Role,
    authority: MemberAuthority,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<(invitation::Model, String)> {
    let secret = token::generate();
    let created = invitation::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.id),
        email: Set(email.to_string()),
        role: Set(role),
        token_hash: Set(secret.hash),
        invited_by_user_id: Set(principal.map(Principal::user_id)),
        created_at: Set(now),
        expires_at: Set(now + VALIDITY),
        accepted_at: Set(None),
        accepted_by_user_id: Set(None),
        cancelled_at: Set(None),
        invited_by_organization_id: Set(match authority {
            MemberAuthority::Partner(partner) => Some(partner),
            MemberAuthority::Own => None,
        }),
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
    send_email(txn, principal, org, &created, &secret.secret, now).await?;
    Ok((created, secret.secret))
}

/// The invitation e-mail, through the outbox in the invitation's transaction: the token goes to
/// the invited address (in the invitee's organisation's language) and nowhere else.
async fn send_email(
    txn: &impl sea_orm::ConnectionTrait,
    principal: Option<&Principal>,
    org: &organization::Model,
    invitation: &invitation::Model,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let payload = serde_json::json!({
        "invitationId": crate::ids::encode(crate::ids::NodeType::Invitation, invitation.id),
        "organization": org.name,
        "role": invitation.role,
        "inviter": principal.map_or_else(|| org.name.clone(), |p| p.user.display_name.clone()),
        "expiresAt": invitation.expires_at,
        "language": crate::domain::delivery::language_for(None, org.country.as_deref()),
        "token": token,
    });
    super::notifications::enqueue_email(txn, NotificationKind::Invitation, &invitation.email, payload, now).await
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
    email_token: Option<&str>,
) -> AppResult<invitation::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let existing = visible(Some(principal), now)
        .filter(invitation::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Invitation"))?;
    let org = organizations::find_visible(ctx, Some(principal), existing.organization_id).await?;
    let role = existing.role;
    if let MemberAuthority::Partner(partner) = member_authority(ctx, principal, &org, &[role]).await?
        && existing.invited_by_organization_id != Some(partner)
    {
        return Err(AppError::NotFound("Invitation"));
    }
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
    if let Some(token) = email_token {
        send_email(&txn, Some(principal), &org, &updated, token, now).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// A fresh token for an open invitation, when the call that created it is replayed by its
/// idempotency key: the first answer, which carried the token, never arrived. The old token
/// stops working.
pub(crate) async fn reissue(
    txn: &sea_orm::DatabaseTransaction,
    principal: &Principal,
    org: &organization::Model,
    existing: invitation::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<(invitation::Model, String)> {
    still_open(&existing)?;
    let secret = token::generate();
    let mut active: invitation::ActiveModel = existing.clone().into();
    active.token_hash = Set(secret.hash);
    active.expires_at = Set(now + VALIDITY);
    let updated = active.update(txn).await?;
    let event = audit::Event {
        action: "invitation.reissued",
        target_type: "Invitation",
        target_id: Some(updated.id),
        customer_id: customer_of(org),
        before: Some(audit_json(&existing)),
        after: Some(audit_json(&updated)),
    };
    audit::record(txn, Some(principal), event, now).await?;
    send_email(txn, Some(principal), org, &updated, &secret.secret, now).await?;
    Ok((updated, secret.secret))
}

/// A new token and a new 7-day validity; the old token stops working.
pub async fn resend(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<(invitation::Model, String)> {
    let secret = token::generate();
    let hash = secret.hash.clone();
    let updated = change_open(
        ctx,
        principal,
        id,
        "invitation.resent",
        |active, now| {
            active.token_hash = Set(hash);
            active.expires_at = Set(now + VALIDITY);
        },
        Some(&secret.secret),
    )
    .await?;
    Ok((updated, secret.secret))
}

pub async fn cancel(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<invitation::Model> {
    change_open(ctx, principal, id, "invitation.cancelled", |active, now| active.cancelled_at = Set(Some(now)), None)
        .await
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
    let role = found.role;
    if let Some(partner_id) = found.invited_by_organization_id
        && !partner_invitation_stands(&txn, &found, partner_id, role, now).await?
    {
        withdraw(&txn, &found, "the partner that sent it no longer manages this organisation's users", now).await?;
        txn.commit().await?;
        return Err(AppError::Conflict(
            "this invitation was withdrawn: the partner that sent it no longer manages this organisation's users"
                .into(),
        ));
    }
    let origin =
        people::Invited { by_organization: found.invited_by_organization_id, by_user: found.invited_by_user_id };
    let created = people::insert_membership(&txn, user.id, found.organization_id, role, origin, now).await?;
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

/// Whether the partner's user who sent this invitation may still hand its role out there now:
/// still a member of the partner, whose live grant, assignment and role give MANAGE_USERS.
async fn partner_invitation_stands(
    db: &impl ConnectionTrait,
    found: &invitation::Model,
    partner_id: Uuid,
    role: Role,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let Some(sender) = found.invited_by_user_id else { return Ok(false) };
    let membership = membership::Entity::find()
        .filter(membership::Column::UserId.eq(sender))
        .filter(membership::Column::OrganizationId.eq(partner_id))
        .one(db)
        .await?;
    let Some(sender_role) = membership.map(|m| m.role) else { return Ok(false) };
    let actor = policy::PartnerActor { partner_id, user_id: sender, role: sender_role };
    let rights = super::grants::rights_of(db, &actor, found.organization_id, now).await?;
    Ok(policy::partner_invitation_stands(rights, role))
}

/// Cancels an open invitation for `reason`, audited as done by nobody (the rule did it).
async fn withdraw(
    db: &impl ConnectionTrait,
    found: &invitation::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut active: invitation::ActiveModel = found.clone().into();
    active.cancelled_at = Set(Some(now));
    let updated = active.update(db).await?;
    let mut after = audit_json(&updated);
    after["reason"] = json!(reason);
    let event = audit::Event {
        action: "invitation.cancelled",
        target_type: "Invitation",
        target_id: Some(updated.id),
        customer_id: Some(updated.organization_id),
        before: Some(audit_json(found)),
        after: Some(after),
    };
    audit::record(db, None, event, now).await
}

/// Cancels the invitations a partner sent on a customer's behalf that are still open: its
/// access ended (or lost MANAGE_USERS), so they die with it. Returns how many.
pub(crate) async fn withdraw_partner_invitations(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    partner_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let open = invitation::Entity::find()
        .filter(invitation::Column::OrganizationId.eq(customer_id))
        .filter(invitation::Column::InvitedByOrganizationId.eq(partner_id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::CancelledAt.is_null())
        .all(db)
        .await?;
    for found in &open {
        withdraw(db, found, reason, now).await?;
    }
    Ok(open.len())
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
    let role = found.role;
    member_authority(ctx, principal, &org, &[role]).await?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    if role == Role::Admin {
        ensure_another_admin(&txn, org.id).await?;
    }
    delete_membership(&txn, principal, &org, &found, now).await?;
    txn.commit().await?;
    Ok(found.id)
}

async fn ensure_another_admin(db: &impl ConnectionTrait, organization_id: Uuid) -> AppResult<()> {
    let admins = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(organization_id))
        .filter(membership::Column::Role.eq(Role::Admin))
        .count(db)
        .await?;
    if admins <= 1 {
        return Err(AppError::Conflict("an organisation keeps at least one ADMIN".into()));
    }
    Ok(())
}

fn membership_json(m: &membership::Model) -> serde_json::Value {
    json!({ "userId": m.user_id, "organizationId": m.organization_id, "role": m.role,
            "invitedByOrganizationId": m.invited_by_organization_id })
}

async fn delete_membership(
    db: &impl ConnectionTrait,
    principal: &Principal,
    org: &organization::Model,
    found: &membership::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    membership::Entity::delete_by_id(found.id).exec(db).await?;
    super::service_accounts::revoke_tokens_of_removed(db, principal, found, now).await?;
    let event = audit::Event {
        action: "membership.removed",
        target_type: "Membership",
        target_id: Some(found.id),
        customer_id: customer_of(org),
        before: Some(membership_json(found)),
        after: None,
    };
    audit::record(db, Some(principal), event, now).await
}

/// Gives a member another role of the organisation's kind. A partner moves a customer's users
/// between BILLING and MEMBER only; nobody takes the last ADMIN's role away.
pub async fn change_role(
    ctx: &Ctx,
    principal: Option<&Principal>,
    membership_id: Uuid,
    role: Role,
) -> AppResult<membership::Model> {
    let principal = policy::signed_in(principal)?;
    let found = membership::Entity::find_by_id(membership_id)
        .filter(policy::memberships_scope(Some(principal), ctx.now()))
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound("Membership"))?;
    let org = organizations::find_visible(ctx, Some(principal), found.organization_id).await?;
    let current = found.role;
    member_authority(ctx, principal, &org, &[current, role]).await?;
    let kind = org.kind;
    if !role.is_allowed_for(kind) {
        return Err(AppError::bad_input("role", format!("a {kind} organisation does not have the role {role}")));
    }
    if current == role {
        return Err(AppError::Conflict(format!("this member already has the role {role}")));
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    if current == Role::Admin {
        ensure_another_admin(&txn, org.id).await?;
    }
    let mut active: membership::ActiveModel = found.clone().into();
    active.role = Set(role);
    let updated = active.update(&txn).await?;
    let event = audit::Event {
        action: "membership.role_changed",
        target_type: "Membership",
        target_id: Some(found.id),
        customer_id: customer_of(&org),
        before: Some(membership_json(&found)),
        after: Some(membership_json(&updated)),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// The customer's ADMIN removes, in one step, every user a partner brought in (except those it
/// has since made ADMIN itself, who are its own now) and that partner's open invitations.
pub async fn remove_partner_members(
    ctx: &Ctx,
    principal: Option<&Principal>,
    organization_id: Uuid,
    partner_id: Uuid,
) -> AppResult<Vec<Uuid>> {
    let principal = policy::signed_in(principal)?;
    let org = organizations::find_visible(ctx, Some(principal), organization_id).await?;
    if member_authority(ctx, principal, &org, &[]).await? != MemberAuthority::Own {
        return Err(AppError::Forbidden("only the organisation's own ADMIN removes what a partner brought in".into()));
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let brought = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org.id))
        .filter(membership::Column::InvitedByOrganizationId.eq(partner_id))
        .filter(membership::Column::Role.ne(Role::Admin))
        .all(&txn)
        .await?;
    for m in &brought {
        delete_membership(&txn, principal, &org, m, now).await?;
    }
    withdraw_partner_invitations(&txn, org.id, partner_id, "the customer removed what this partner brought in", now)
        .await?;
    txn.commit().await?;
    Ok(brought.into_iter().map(|m| m.id).collect())
}

/// What the invitation link shows before sign-in: the token is the credential, and it shows
/// only the invitation it opens (organisation, role, address, validity).
pub async fn preview(ctx: &Ctx, secret: &str) -> AppResult<(invitation::Model, organization::Model, Option<String>)> {
    let found = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(token::hash(secret.trim())))
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound("Invitation"))?;
    still_open(&found)?;
    if found.expires_at <= ctx.now() {
        return Err(AppError::Conflict("this invitation has expired; ask for a new one".into()));
    }
    let org = organization::Entity::find_by_id(found.organization_id)
        .one(&ctx.db)
        .await?
        .ok_or(AppError::NotFound("Invitation"))?;
    let inviter = match found.invited_by_user_id {
        Some(id) => user::Entity::find_by_id(id).one(&ctx.db).await?.map(|u| u.display_name),
        None => None,
    };
    Ok((found, org, inviter))
}

/// The name of an organisation the caller just joined (for the page that confirms it).
pub async fn organization_name(ctx: &Ctx, id: Uuid) -> AppResult<String> {
    Ok(organization::Entity::find_by_id(id).one(&ctx.db).await?.map(|o| o.name).unwrap_or_default())
}
