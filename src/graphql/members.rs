//! Members and invitations of an organisation.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{invitation, membership, organization};
use sea_orm::{ColumnTrait, QueryFilter};

use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    loaders::load,
    types::{Membership, Organization, Role},
};
use crate::{
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::invitations,
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Cancelled,
    Expired,
}

pub struct Invitation(pub invitation::Model);

/// An invitation to join an organisation with a role; valid 7 days, accepted once.
#[Object]
impl Invitation {
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Invitation, self.0.id))
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    async fn status(&self, ctx: &Context<'_>) -> InvitationStatus {
        if self.0.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if self.0.cancelled_at.is_some() {
            InvitationStatus::Cancelled
        } else if self.0.expires_at <= ctx.service().now() {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        }
    }
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        load::<organization::Entity>(ctx, self.0.organization_id)
            .await?
            .map(Organization)
            .ok_or_else(|| AppError::NotFound("Organization").into())
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The partner that sent it on the customer's behalf; checked again when accepted, and
    /// cancelled when that partner's access ends.
    async fn invited_by_partner_id(&self) -> Option<ID> {
        self.0.invited_by_organization_id.map(|id| ID(ids::encode(NodeType::Organization, id)))
    }
}

/// Lists hanging off one organisation (each is one query for the page it is asked for).
pub async fn members(
    ctx: &Context<'_>,
    organization_id: uuid::Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<Membership>> {
    let select = crate::service::people::members_of(ctx.principal(), organization_id, ctx.service().now());
    Ok(paginate(&ctx.service().db, select, membership::Column::Id, |m| m.id, Membership, args).await?)
}

pub async fn invitations(
    ctx: &Context<'_>,
    organization_id: uuid::Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<Invitation>> {
    let select = invitations::visible(ctx.principal(), ctx.service().now())
        .filter(invitation::Column::OrganizationId.eq(organization_id));
    Ok(paginate(&ctx.service().db, select, invitation::Column::Id, |m| m.id, Invitation, args).await?)
}

#[derive(InputObject)]
pub struct InviteMemberInput {
    pub organization_id: ID,
    pub email: String,
    /// One of the roles of the organisation's kind.
    pub role: Role,
}

#[derive(SimpleObject)]
pub struct InviteMemberPayload {
    pub invitation: Invitation,
    /// The single-use secret the invitee accepts with (sent by e-mail once delivery exists);
    /// shown this once.
    pub token: String,
}

#[derive(InputObject)]
pub struct AcceptInvitationInput {
    pub token: String,
}

#[derive(SimpleObject)]
pub struct AcceptInvitationPayload {
    pub membership: Membership,
}

#[derive(InputObject)]
pub struct InvitationIdInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct CancelInvitationPayload {
    pub invitation: Invitation,
}

#[derive(InputObject)]
pub struct RemoveMemberInput {
    pub membership_id: ID,
}

#[derive(SimpleObject)]
pub struct RemoveMemberPayload {
    pub removed_membership_id: ID,
}

#[derive(InputObject)]
pub struct ChangeMemberRoleInput {
    pub membership_id: ID,
    pub role: Role,
}

#[derive(SimpleObject)]
pub struct MembershipPayload {
    pub membership: Membership,
}

#[derive(InputObject)]
pub struct RemovePartnerInvitedMembersInput {
    pub organization_id: ID,
    pub partner_id: ID,
}

#[derive(SimpleObject)]
pub struct RemovePartnerInvitedMembersPayload {
    pub removed_membership_ids: Vec<ID>,
}

fn decode(node_type: NodeType, id: &ID, what: &'static str) -> Result<uuid::Uuid, AppError> {
    ids::decode_as(node_type, id).ok_or(AppError::NotFound(what))
}

#[derive(Default)]
pub struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Invites a person by e-mail to an organisation you administer.
    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        input: InviteMemberInput,
    ) -> async_graphql::Result<InviteMemberPayload> {
        policy::signed_in(ctx.principal())?;
        let org = decode(NodeType::Organization, &input.organization_id, "Organization")?;
        let (invitation, token) =
            invitations::invite(ctx.service(), ctx.principal(), org, &input.email, input.role.into()).await?;
        Ok(InviteMemberPayload { invitation: Invitation(invitation), token })
    }

    /// Accepts an invitation sent to your verified e-mail address.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        input: AcceptInvitationInput,
    ) -> async_graphql::Result<AcceptInvitationPayload> {
        let membership = invitations::accept(ctx.service(), ctx.principal(), &input.token).await?;
        Ok(AcceptInvitationPayload { membership: Membership(membership) })
    }

    /// Issues a new token and 7 more days; the previous token stops working.
    async fn resend_invitation(
        &self,
        ctx: &Context<'_>,
        input: InvitationIdInput,
    ) -> async_graphql::Result<InviteMemberPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Invitation, &input.id, "Invitation")?;
        let (invitation, token) = invitations::resend(ctx.service(), ctx.principal(), id).await?;
        Ok(InviteMemberPayload { invitation: Invitation(invitation), token })
    }

    async fn cancel_invitation(
        &self,
        ctx: &Context<'_>,
        input: InvitationIdInput,
    ) -> async_graphql::Result<CancelInvitationPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Invitation, &input.id, "Invitation")?;
        let invitation = invitations::cancel(ctx.service(), ctx.principal(), id).await?;
        Ok(CancelInvitationPayload { invitation: Invitation(invitation) })
    }

    /// Removes a member from an organisation you administer; their next request has no access.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveMemberInput,
    ) -> async_graphql::Result<RemoveMemberPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Membership, &input.membership_id, "Membership")?;
        let removed = invitations::remove_member(ctx.service(), ctx.principal(), id).await?;
        Ok(RemoveMemberPayload { removed_membership_id: ID(ids::encode(NodeType::Membership, removed)) })
    }

    /// Gives a member another role of the organisation's kind. A partner managing a customer's
    /// users moves them between BILLING and MEMBER only; the last ADMIN keeps the role.
    async fn change_member_role(
        &self,
        ctx: &Context<'_>,
        input: ChangeMemberRoleInput,
    ) -> async_graphql::Result<MembershipPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Membership, &input.membership_id, "Membership")?;
        let changed = invitations::change_role(ctx.service(), ctx.principal(), id, input.role.into()).await?;
        Ok(MembershipPayload { membership: Membership(changed) })
    }

    /// Removes in one step every user a partner brought into your organisation (except those you
    /// have since made ADMIN) and cancels that partner's open invitations (your ADMIN).
    async fn remove_partner_invited_members(
        &self,
        ctx: &Context<'_>,
        input: RemovePartnerInvitedMembersInput,
    ) -> async_graphql::Result<RemovePartnerInvitedMembersPayload> {
        policy::signed_in(ctx.principal())?;
        let org = decode(NodeType::Organization, &input.organization_id, "Organization")?;
        let partner = decode(NodeType::Organization, &input.partner_id, "Organization")?;
        let removed = invitations::remove_partner_members(ctx.service(), ctx.principal(), org, partner).await?;
        Ok(RemovePartnerInvitedMembersPayload {
            removed_membership_ids: removed.into_iter().map(|id| ID(ids::encode(NodeType::Membership, id))).collect(),
        })
    }
}
