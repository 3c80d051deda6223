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

/// Where an invitation is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Sent, not yet accepted; the token works until `expiresAt`.
    Pending,
    /// The invited person joined.
    Accepted,
    /// Taken back; the token no longer works.
    Cancelled,
    /// Not accepted in time; resend it for a new token.
    Expired,
}

pub struct Invitation(pub invitation::Model);

/// An invitation to join an organisation with a role; valid 7 days, accepted once.
#[Object]
impl Invitation {
    /// Opaque global identifier; `node(id:)` fetches the invitation again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Invitation, self.0.id))
    }
    /// The address invited; only that verified address can accept.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// The role the person gets on accepting.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// Where the invitation is.
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
    /// The organisation the person is invited to.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        load::<organization::Entity>(ctx, self.0.organization_id)
            .await?
            .map(Organization)
            .ok_or_else(|| AppError::NotFound("Organization").into())
    }
    /// When the token stops working.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// When it was accepted.
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
    /// When it was sent.
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

/// The input of `inviteMember`.
#[derive(InputObject)]
pub struct InviteMemberInput {
    /// The organisation to invite the person to.
    pub organization_id: ID,
    /// The address to invite; only that address, verified by its identity provider, can accept.
    pub email: String,
    /// One of the roles of the organisation's kind.
    pub role: Role,
}

/// What `inviteMember` and `resendInvitation` returns (each).
#[derive(SimpleObject)]
pub struct InviteMemberPayload {
    /// The Invitation as `inviteMember` and `resendInvitation` left it.
    pub invitation: Invitation,
    /// The single-use secret the invitee accepts with. It is e-mailed to the invitee; this
    /// field shows it only in development (null in production).
    pub token: Option<String>,
}

/// The input of `acceptInvitation`.
#[derive(InputObject)]
pub struct AcceptInvitationInput {
    /// The invitation token from the e-mail or from whoever invited you; it must be for your
    /// verified address.
    pub token: String,
}

/// What `acceptInvitation` returns.
#[derive(SimpleObject)]
pub struct AcceptInvitationPayload {
    /// The Membership as `acceptInvitation` left it.
    pub membership: Membership,
}

/// The input of `cancelInvitation` and `resendInvitation`.
#[derive(InputObject)]
pub struct InvitationIdInput {
    /// The invitation.
    pub id: ID,
}

/// What `cancelInvitation` returns.
#[derive(SimpleObject)]
pub struct CancelInvitationPayload {
    /// The Invitation as `cancelInvitation` left it.
    pub invitation: Invitation,
}

/// The input of `removeMember`.
#[derive(InputObject)]
pub struct RemoveMemberInput {
    /// The membership to end.
    pub membership_id: ID,
}

/// What `removeMember` returns.
#[derive(SimpleObject)]
pub struct RemoveMemberPayload {
    /// The membership that ended.
    pub removed_membership_id: ID,
}

/// The input of `changeMemberRole`.
#[derive(InputObject)]
pub struct ChangeMemberRoleInput {
    /// The membership to change.
    pub membership_id: ID,
    /// The new role; it must be one the organisation's kind has.
    pub role: Role,
}

/// What `changeMemberRole` returns.
#[derive(SimpleObject)]
pub struct MembershipPayload {
    /// The Membership as `changeMemberRole` left it.
    pub membership: Membership,
}

/// The input of `removePartnerInvitedMembers`.
#[derive(InputObject)]
pub struct RemovePartnerInvitedMembersInput {
    /// Your organisation.
    pub organization_id: ID,
    /// The partner whose invited members to remove.
    pub partner_id: ID,
}

/// What `removePartnerInvitedMembers` returns.
#[derive(SimpleObject)]
pub struct RemovePartnerInvitedMembersPayload {
    /// The memberships that ended.
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
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: InviteMemberInput,
    ) -> async_graphql::Result<InviteMemberPayload> {
        policy::signed_in(ctx.principal())?;
        let org = decode(NodeType::Organization, &input.organization_id, "Organization")?;
        let (invitation, token) =
            invitations::invite(ctx.service(), ctx.principal(), org, &input.email, input.role.into()).await?;
        Ok(InviteMemberPayload { invitation: Invitation(invitation), token: ctx.state().development.then_some(token) })
    }

    /// Accepts an invitation sent to your verified e-mail address.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: AcceptInvitationInput,
    ) -> async_graphql::Result<AcceptInvitationPayload> {
        let membership = invitations::accept(ctx.service(), ctx.principal(), &input.token).await?;
        Ok(AcceptInvitationPayload { membership: Membership(membership) })
    }

    /// Issues a new token and 7 more days; the previous token stops working.
    async fn resend_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: InvitationIdInput,
    ) -> async_graphql::Result<InviteMemberPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Invitation, &input.id, "Invitation")?;
        let (invitation, token) = invitations::resend(ctx.service(), ctx.principal(), id).await?;
        Ok(InviteMemberPayload { invitation: Invitation(invitation), token: ctx.state().development.then_some(token) })
    }

    /// Takes an invitation back; its token stops working.
    async fn cancel_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
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
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
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
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
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
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
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
