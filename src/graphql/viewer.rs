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

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticationMethod {
    ApiToken,
    Session,
}

/// The signed-in caller.
pub struct Viewer(Arc<Principal>);

#[Object]
impl Viewer {
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
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<Membership>> {
        let select = crate::service::people::memberships_of(&self.0);
        Ok(paginate(
            &ctx.service().db,
            select,
            membership::Column::Id,
            |m| m.id,
            Membership,
            PageArgs { first, after, last, before },
        )
        .await?)
    }

    /// Notifications of the organisation this request acts as and to you personally, oldest first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<Notification>> {
        let select = crate::service::notifications::for_viewer(&self.0);
        Ok(paginate(
            &ctx.service().db,
            select,
            entity::notification::Column::Id,
            |m| m.id,
            Notification,
            PageArgs { first, after, last, before },
        )
        .await?)
    }

    /// The user's own API tokens, without their secrets.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn api_tokens(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<ApiToken>> {
        Ok(paginate(
            &ctx.service().db,
            tokens::own(&self.0),
            api_token::Column::Id,
            |m| m.id,
            ApiToken,
            PageArgs { first, after, last, before },
        )
        .await?)
    }
}

pub struct Notification(pub entity::notification::Model);

/// Something that happened that concerns your organisation (or you).
#[Object]
impl Notification {
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Notification, self.0.id))
    }
    /// E.g. GRANT_REQUESTED, GRANT_REVOKED.
    async fn kind(&self) -> super::enums::NotificationKind {
        self.0.kind.into()
    }
    async fn payload(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.payload.clone())
    }
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

#[derive(InputObject)]
pub struct CreateApiTokenInput {
    /// What the token is for, e.g. "billing sync".
    pub name: String,
    /// When it stops working; never, if absent.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    /// The secret, shown this once: send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub api_token: ApiToken,
}

#[derive(InputObject)]
pub struct RevokeApiTokenInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct RevokeApiTokenPayload {
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
        input: CreateApiTokenInput,
    ) -> async_graphql::Result<CreateApiTokenPayload> {
        let (row, secret) = tokens::create(ctx.service(), ctx.principal(), &input.name, input.expires_at).await?;
        Ok(CreateApiTokenPayload { token: secret, api_token: ApiToken(row) })
    }

    /// Revokes a token for good: the next request with it is UNAUTHENTICATED.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiTokenInput,
    ) -> async_graphql::Result<RevokeApiTokenPayload> {
        policy::signed_in(ctx.principal())?;
        let id = ids::decode_as(NodeType::ApiToken, &input.id).ok_or(AppError::NotFound("ApiToken"))?;
        let row = tokens::revoke(ctx.service(), ctx.principal(), id).await?;
        Ok(RevokeApiTokenPayload { api_token: ApiToken(row) })
    }
}

#[derive(InputObject)]
pub struct CreateServiceAccountInput {
    pub organization_id: ID,
    pub name: String,
    /// One of the roles of the organisation's kind.
    pub role: Role,
}

#[derive(SimpleObject)]
pub struct CreateServiceAccountPayload {
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
