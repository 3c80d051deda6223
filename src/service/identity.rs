//! Identity: resolving an API token or a session into a principal, and the records of sign-in
//! (users by issuer and subject, login states, sessions). The OIDC protocol itself is in `auth`.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{api_token, membership, organization, user};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, SelectTwo,
    sea_query::{Expr, JoinType},
};
use uuid::Uuid;

use crate::{
    domain::{OrganizationKind, UserKind},
    error::{AppError, AppResult},
    principal::{AuthMethod, MembershipContext, Principal},
    secrets as token,
};

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
    let found = api_token::Entity::find().filter(api_token::Column::TokenHash.eq(hash)).find_also_related(user::Entity);
    let (token, user, memberships) = holder_with_memberships(db, found).await?.ok_or_else(invalid)?;
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid());
    }
    if token.last_used_at.is_none_or(|at| now - at >= LAST_USE_RESOLUTION) {
        api_token::ActiveModel { id: Set(token.id), last_used_at: Set(Some(now)), ..Default::default() }
            .update(db)
            .await?;
    }
    principal_for(user, memberships, AuthMethod::ApiToken { token_id: token.id }, organization_header)
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
    let hash = token::hash(secret);
    let found = entity::session::Entity::find_by_id(hash)
        .filter(entity::session::Column::ExpiresAt.gt(now))
        .find_also_related(user::Entity);
    let (_session, user, memberships) = holder_with_memberships(db, found).await?.ok_or_else(invalid)?;
    principal_for(user, memberships, AuthMethod::Session, organization_header)
}

fn principal_for(
    user: user::Model,
    memberships: Vec<MembershipContext>,
    method: AuthMethod,
    organization_header: Option<&str>,
) -> AppResult<Principal> {
    // A service account exists for one organisation; outside it, it is nobody.
    if memberships.is_empty() && user.kind == UserKind::ServiceAccount {
        return Err(AppError::Unauthenticated("the API token is invalid, expired or revoked".into()));
    }
    let acting = choose_acting(&memberships, organization_header)?;
    Ok(Principal { user, method, memberships, acting })
}

/// The memberships of the user `holder` selects (its one `user_id`).
/// A token's or session's row, its user and every membership of that user with its
/// organisation's kind, in one statement (the holder repeated beside each membership): the
/// first statement of every request, so one round trip rather than two.
async fn holder_with_memberships<H>(
    db: &DatabaseConnection,
    holder: SelectTwo<H, user::Entity>,
) -> AppResult<Option<(H::Model, user::Model, Vec<MembershipContext>)>>
where
    H: EntityTrait,
    H::Model: FromQueryResult,
{
    const KIND: &str = "organization_kind_";
    let statement = holder
        .and_also_related(membership::Entity)
        .join(
            JoinType::LeftJoin,
            membership::Entity::belongs_to(organization::Entity)
                .from(membership::Column::OrganizationId)
                .to(organization::Column::Id)
                .into(),
        )
        .column_as(Expr::col((organization::Entity, organization::Column::Kind)), KIND)
        .order_by_asc(membership::Column::Id)
        .into_query();
    // Identity is what scopes start from: there is no principal yet to scope by.
    #[allow(clippy::disallowed_methods)]
    let rows = db.query_all(&statement).await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let held = H::Model::from_query_result(first, "A_")?;
    let Some(user) = user::Model::from_query_result_optional(first, "B_")? else { return Ok(None) };
    let mut memberships = Vec::new();
    for row in &rows {
        let Some(membership) = membership::Model::from_query_result_optional(row, "C_")? else { continue };
        let organization_kind = row
            .try_get::<Option<OrganizationKind>>("", KIND)?
            .ok_or_else(|| AppError::internal(format!("membership {} without its organisation", membership.id)))?;
        let role = membership.role;
        memberships.push(MembershipContext { membership, organization_kind, role });
    }
    Ok(Some((held, user, memberships)))
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

/// What a login start keeps until the provider sends the user back (the state only as its hash).
pub struct LoginStart<'a> {
    pub state: &'a str,
    pub provider: &'a str,
    pub pkce_verifier: &'a str,
    pub nonce: &'a str,
    pub return_to: String,
}

pub async fn remember_login(
    db: &DatabaseConnection,
    start: LoginStart<'_>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    entity::login_state::ActiveModel {
        id: Set(token::hash(start.state)),
        provider: Set(start.provider.into()),
        pkce_verifier: Set(start.pkce_verifier.into()),
        nonce: Set(start.nonce.into()),
        return_to: Set(start.return_to),
        created_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Deletes the login state of `state` and returns it when it was still valid; a second use
/// finds nothing.
pub async fn take_login(
    db: &DatabaseConnection,
    state: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<entity::login_state::Model>> {
    use entity::login_state;
    let id = token::hash(state);
    let txn = crate::db::begin_write(db).await?;
    let found = login_state::Entity::find_by_id(id.clone()).one(&txn).await?;
    let deleted = login_state::Entity::delete_many().filter(login_state::Column::Id.eq(id)).exec(&txn).await?;
    // Expired rows of other logins go too, so the table does not grow.
    login_state::Entity::delete_many().filter(login_state::Column::ExpiresAt.lte(now)).exec(&txn).await?;
    txn.commit().await?;
    Ok(found.filter(|row| deleted.rows_affected == 1 && row.expires_at > now))
}

/// What the provider said about the person who signed in.
pub struct SignedIn<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// The user with this (issuer, subject), created at the first sign-in; the provider is the
/// source of truth for the address and whether it is verified. One write transaction.
pub async fn upsert_user(db: &DatabaseConnection, who: SignedIn<'_>, now: DateTime<Utc>) -> AppResult<user::Model> {
    let SignedIn { issuer, subject, email, email_verified, name } = who;
    let txn = crate::db::begin_write(db).await?;
    let existing = user::Entity::find()
        .filter(user::Column::OidcIssuer.eq(issuer))
        .filter(user::Column::OidcSubject.eq(subject))
        .one(&txn)
        .await?;
    let user = match existing {
        Some(found) => {
            let mut active: user::ActiveModel = found.clone().into();
            active.email = Set(email.clone().or(found.email.clone()));
            active.email_verified = Set(email.is_some() && email_verified || email.is_none() && found.email_verified);
            if let Some(name) = &name {
                active.display_name = Set(name.clone());
            }
            active.update(&txn).await?
        }
        None => {
            let display_name = name.or_else(|| email.clone()).unwrap_or_else(|| subject.to_string());
            let created = super::people::insert_user(
                &txn,
                super::people::NewUser {
                    kind: UserKind::Person,
                    display_name: &display_name,
                    email: email.as_deref(),
                    email_verified,
                },
                now,
            )
            .await?;
            let mut active: user::ActiveModel = created.into();
            active.oidc_issuer = Set(Some(issuer.to_string()));
            active.oidc_subject = Set(Some(subject.to_string()));
            active.update(&txn).await?
        }
    };
    txn.commit().await?;
    Ok(user)
}

/// Creates a browser session and returns the cookie secret (stored only as its hash).
pub async fn create_session(
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    provider: &str,
    lifetime: chrono::TimeDelta,
    now: DateTime<Utc>,
) -> AppResult<String> {
    // Ended sessions are useless rows; logins are rare enough to sweep them here.
    entity::session::Entity::delete_many().filter(entity::session::Column::ExpiresAt.lte(now)).exec(db).await?;
    let secret = token::generate();
    entity::session::ActiveModel {
        id: Set(secret.hash),
        user_id: Set(user_id),
        provider: Set(provider.into()),
        created_at: Set(now),
        expires_at: Set(now + lifetime),
    }
    .insert(db)
    .await?;
    Ok(secret.secret)
}

/// Ends a session (logout).
pub async fn end_session(db: &impl sea_orm::ConnectionTrait, secret: &str) -> AppResult<bool> {
    let result = entity::session::Entity::delete_many()
        .filter(entity::session::Column::Id.eq(token::hash(secret)))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}
