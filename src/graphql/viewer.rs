use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{api_token, membership};

use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    types::{ApiToken, Membership, Role, ServiceAccount, User},
};
use crate::{
    auth::{AuthMethod, Principal},
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::{service_accounts, tokens},
};

/// How the caller proved who they are.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticationMethod {
    /// An API token in `Authorization: Bearer`.
    ApiToken,
    /// The session cookie of a browser sign-in (SSO).
    Session,
}

/// The signed-in caller.
pub struct Viewer(Arc<Principal>);

/// The signed-in caller.
#[Object]
impl Viewer {
    /// The caller's user.
    async fn user(&self) -> User {
        User(self.0.user.clone())
    }

    /// How this request is signed in.
    async fn authentication(&self) -> AuthenticationMethod {
        match self.0.method {
            AuthMethod::ApiToken { .. } => AuthenticationMethod::ApiToken,
            AuthMethod::Session => AuthenticationMethod::Session,
        }
    }

    /// The language you chose for your e-mails; null when they follow your organisation's
    /// country (German in Germany and Austria, French in France and Belgium, and so on).
    async fn preferred_language(&self) -> Option<super::webhooks::Language> {
        self.0.user.language.map(Into::into)
    }

    /// The membership this request acts as: the one named by the `X-Partnerhub-Organization`
    /// header, or the only one. `null` when the user has several and named none.
    async fn acting_as(&self) -> Option<Membership> {
        self.0.acting.as_ref().map(|m| Membership(m.membership.clone()))
    }

    /// Every organisation the user belongs to, with the role in each.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn memberships(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Membership>> {
        let select = crate::service::people::memberships_of(&self.0);
        Ok(paginate(
            &ctx.service().db,
            select,
            membership::Column::Id,
            |m| m.id,
            Membership,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }

    /// Notifications of the organisation this request acts as and to you personally, oldest first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Notification>> {
        let select = crate::service::notifications::for_viewer(&self.0);
        Ok(paginate(
            &ctx.service().db,
            select,
            entity::notification::Column::Id,
            |m| m.id,
            Notification,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }

    /// The user's own API tokens, without their secrets.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn api_tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<ApiToken>> {
        Ok(paginate(
            &ctx.service().db,
            tokens::own(&self.0),
            api_token::Column::Id,
            |m| m.id,
            ApiToken,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }
}

pub struct Notification(pub entity::notification::Model);

/// Something that happened that concerns your organisation (or you).
#[Object]
impl Notification {
    /// Opaque global identifier; `node(id:)` fetches the notification again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Notification, self.0.id))
    }
    /// E.g. GRANT_REQUESTED, GRANT_REVOKED.
    async fn kind(&self) -> super::enums::NotificationKind {
        self.0.kind.into()
    }
    /// What the notification is about (IDs and names), as JSON; its shape depends on `kind`.
    async fn payload(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.payload.clone())
    }
    /// When it was sent.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was sent by e-mail or webhook; `null` until then.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// The signed-in caller; `null` for anonymous requests.
    async fn viewer(&self, ctx: &Context<'_>) -> Option<Viewer> {
        ctx.state().principal.clone().map(Viewer)
    }
}

/// The input of `createApiToken`.
#[derive(InputObject)]
pub struct CreateApiTokenInput {
    /// What the token is for, e.g. "billing sync".
    pub name: String,
    /// When it stops working; never, if absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What `createApiToken` returns.
#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    /// The secret, shown this once: send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// The ApiToken as `createApiToken` left it.
    pub api_token: ApiToken,
}

/// The input of `revokeApiToken`.
#[derive(InputObject)]
pub struct RevokeApiTokenInput {
    /// The token.
    pub id: ID,
}

/// What `revokeApiToken` returns.
#[derive(SimpleObject)]
pub struct RevokeApiTokenPayload {
    /// The ApiToken as `revokeApiToken` left it.
    pub api_token: ApiToken,
}

#[derive(Default)]
pub struct ApiTokenMutation;

#[Object]
impl ApiTokenMutation {
    /// Creates a personal API token for the signed-in user.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateApiTokenInput,
    ) -> async_graphql::Result<CreateApiTokenPayload> {
        let (row, secret) = tokens::create(ctx.service(), ctx.principal(), &input.name, input.expires_at).await?;
        Ok(CreateApiTokenPayload { token: secret, api_token: ApiToken(row) })
    }

    /// Revokes a token for good: the next request with it is UNAUTHENTICATED.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RevokeApiTokenInput,
    ) -> async_graphql::Result<RevokeApiTokenPayload> {
        policy::signed_in(ctx.principal())?;
        let id = ids::decode_as(NodeType::ApiToken, &input.id).ok_or(AppError::NotFound("ApiToken"))?;
        let row = tokens::revoke(ctx.service(), ctx.principal(), id).await?;
        Ok(RevokeApiTokenPayload { api_token: ApiToken(row) })
    }
}

/// The input of `createServiceAccount`.
#[derive(InputObject)]
pub struct CreateServiceAccountInput {
    /// The organisation the account acts for.
    pub organization_id: ID,
    /// What the integration is, such as `CRM sync`.
    pub name: String,
    /// One of the roles of the organisation's kind.
    pub role: Role,
}

/// What `createServiceAccount` returns.
#[derive(SimpleObject)]
pub struct CreateServiceAccountPayload {
    /// The ServiceAccount as `createServiceAccount` left it.
    pub service_account: ServiceAccount,
    /// The service account's first API token, shown this once.
    pub token: String,
}

#[derive(Default)]
pub struct ServiceAccountMutation;

#[Object]
impl ServiceAccountMutation {
    /// Creates a service account in an organisation (its ADMIN, or staff ADMIN for any).
    async fn create_service_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateServiceAccountInput,
    ) -> async_graphql::Result<CreateServiceAccountPayload> {
        policy::signed_in(ctx.principal())?;
        let organization_id =
            ids::decode_as(NodeType::Organization, &input.organization_id).ok_or(AppError::NotFound("Organization"))?;
        let created =
            service_accounts::create(ctx.service(), ctx.principal(), organization_id, &input.name, input.role.into())
                .await?;
        Ok(CreateServiceAccountPayload {
            service_account: ServiceAccount(created.user, created.membership),
            token: created.secret,
        })
    }
}
