//! Identity: who is asking (API token today, SSO sessions later) and which membership they act as.

pub mod oidc;
pub mod session;
pub mod token;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{api_token, membership, organization, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::{
    domain::{OrganizationKind, Role, UserKind},
    error::{AppError, AppResult},
};

/// How the request proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    ApiToken { token_id: Uuid },
    Session,
}

/// One of the user's memberships, with what the policy needs to know about it.
#[derive(Clone, Debug)]
pub struct MembershipContext {
    pub membership: membership::Model,
    pub organization_kind: OrganizationKind,
    pub role: Role,
}

impl MembershipContext {
    pub fn organization_id(&self) -> Uuid {
        self.membership.organization_id
    }
}

/// A signed-in caller. Anonymous requests have no `Principal` at all.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user: user::Model,
    pub method: AuthMethod,
    pub memberships: Vec<MembershipContext>,
    /// The membership this request acts as: the one named by `X-Partnerhub-Organization`, or the
    /// only one. `None` when the user has several and named none.
    pub acting: Option<MembershipContext>,
}

impl Principal {
    pub fn user_id(&self) -> Uuid {
        self.user.id
    }

    pub fn user_kind(&self) -> UserKind {
        self.user.kind
    }
}

pub type SharedPrincipal = Option<Arc<Principal>>;

/// How often `last_used_at` is written: often enough to tell a live token from a dead one,
/// rarely enough that reads do not turn into writes.
const LAST_USE_RESOLUTION: TimeDelta = TimeDelta::seconds(60);

/// Resolves an `Authorization: Bearer` secret and the organisation header into a principal.
/// Unknown, revoked and expired tokens are all `UNAUTHENTICATED` with the same message.
pub async fn authenticate_token(
    db: &DatabaseConnection,
    secret: &str,
    organization_header: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Principal> {
    let invalid = || AppError::Unauthenticated("the API token is invalid, expired or revoked".into());
    let hash = token::hash(secret);
    let (token, user) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash))
        .find_also_related(user::Entity)
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    let user = user.ok_or_else(invalid)?;
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid());
    }
    if token.last_used_at.is_none_or(|at| now - at >= LAST_USE_RESOLUTION) {
        api_token::ActiveModel { id: Set(token.id), last_used_at: Set(Some(now)), ..Default::default() }
            .update(db)
            .await?;
    }
    principal_for(db, user, AuthMethod::ApiToken { token_id: token.id }, organization_header).await
}

/// Resolves a session cookie's secret. Unknown, logged-out and expired sessions are all
/// `UNAUTHENTICATED`, on every node, from the second they end.
pub async fn authenticate_session(
    db: &DatabaseConnection,
    secret: &str,
    organization_header: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Principal> {
    let invalid = || AppError::Unauthenticated("the session has ended; sign in again".into());
    let (_session, user) = entity::session::Entity::find_by_id(token::hash(secret))
        .filter(entity::session::Column::ExpiresAt.gt(now))
        .find_also_related(user::Entity)
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    let user = user.ok_or_else(invalid)?;
    principal_for(db, user, AuthMethod::Session, organization_header).await
}

async fn principal_for(
    db: &DatabaseConnection,
    user: user::Model,
    method: AuthMethod,
    organization_header: Option<&str>,
) -> AppResult<Principal> {
    let memberships = load_memberships(db, user.id).await?;
    // A service account exists for one organisation; outside it, it is nobody.
    if memberships.is_empty() && user.kind == UserKind::ServiceAccount {
        return Err(AppError::Unauthenticated("the API token is invalid, expired or revoked".into()));
    }
    let acting = choose_acting(&memberships, organization_header)?;
    Ok(Principal { user, method, memberships, acting })
}

async fn load_memberships(db: &DatabaseConnection, user_id: Uuid) -> AppResult<Vec<MembershipContext>> {
    let rows = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .find_also_related(organization::Entity)
        .order_by_asc(membership::Column::Id)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(membership, organization)| {
            let organization = organization
                .ok_or_else(|| AppError::internal(format!("membership {} without its organisation", membership.id)))?;
            let role = membership.role;
            Ok(MembershipContext { membership, organization_kind: organization.kind, role })
        })
        .collect()
}

/// The header holds an organisation's global ID (or its bare UUID).
fn choose_acting(memberships: &[MembershipContext], header: Option<&str>) -> AppResult<Option<MembershipContext>> {
    match header.map(str::trim).filter(|h| !h.is_empty()) {
        Some(value) => {
            let wanted = crate::ids::decode_organization_reference(value).ok_or_else(|| {
                AppError::Forbidden("X-Partnerhub-Organization does not name an organisation you belong to".into())
            })?;
            memberships.iter().find(|m| m.organization_id() == wanted).cloned().map(Some).ok_or_else(|| {
                AppError::Forbidden("X-Partnerhub-Organization does not name an organisation you belong to".into())
            })
        }
        None if memberships.len() == 1 => Ok(memberships.first().cloned()),
        None => Ok(None),
    }
}
