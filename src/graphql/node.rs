//! Relay's `Node` interface: every object can be fetched again by its global ID. An object the
//! caller may not see resolves exactly like an id that does not exist: `null`, no error.

use async_graphql::{Context, ID, Interface, Object};
use entity::{api_token, audit_event, domain, grant, invitation, membership, organization, program, tier, user};
use sea_orm::EntityTrait;

use super::{
    billing::{Invoice, Plan},
    change_requests::SubscriptionChangeRequest,
    context::ContextExt,
    customers::{AuditEvent, Domain, Grant, Product, ProductSubscription},
    loaders::load,
    members::Invitation,
    onboarding::{Application, Partnership, WelcomeGift},
    programs::SuccessStory,
    types::{ApiToken, Membership, Organization, Program, ServiceAccount, Tier, User},
    viewer::Notification,
};
use crate::{
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::service_accounts,
};

#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global identifier"))]
pub enum Node {
    Organization(Organization),
    User(User),
    ServiceAccount(ServiceAccount),
    Membership(Membership),
    ApiToken(ApiToken),
    Program(Program),
    Tier(Tier),
    Invitation(Invitation),
    Grant(Grant),
    Domain(Domain),
    AuditEvent(AuditEvent),
    Product(Product),
    ProductSubscription(ProductSubscription),
    Notification(Notification),
    SuccessStory(SuccessStory),
    Application(Application),
    WelcomeGift(WelcomeGift),
    Partnership(Partnership),
    Plan(Plan),
    Invoice(Invoice),
    SubscriptionChangeRequest(SubscriptionChangeRequest),
}

const MAX_NODES: usize = 100;

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches any object by its global ID; `null` when it does not exist or is not visible.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        resolve(ctx, &id).await
    }

    /// Fetches up to 100 objects by global ID, in the order asked; `null` for each one that does
    /// not exist or is not visible.
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(AppError::bad_input("ids", format!("at most {MAX_NODES} ids at once")).into());
        }
        futures_util::future::try_join_all(ids.iter().map(|id| resolve(ctx, id))).await
    }
}

async fn resolve(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<Node>> {
    let Some((node_type, id)) = ids::decode(id) else { return Ok(None) };
    Ok(match node_type {
        NodeType::Organization => {
            load::<organization::Entity>(ctx, id).await?.map(|m| Node::Organization(Organization(m)))
        }
        NodeType::User => load::<user::Entity>(ctx, id).await?.map(|m| Node::User(User(m))),
        NodeType::Membership => load::<membership::Entity>(ctx, id).await?.map(|m| Node::Membership(Membership(m))),
        NodeType::ApiToken => load::<api_token::Entity>(ctx, id).await?.map(|m| Node::ApiToken(ApiToken(m))),
        NodeType::Program => load::<program::Entity>(ctx, id).await?.map(|m| Node::Program(Program(m))),
        NodeType::Tier => load::<tier::Entity>(ctx, id).await?.map(|m| Node::Tier(Tier(m))),
        NodeType::Invitation => load::<invitation::Entity>(ctx, id).await?.map(|m| Node::Invitation(Invitation(m))),
        NodeType::Product => load::<entity::product::Entity>(ctx, id).await?.map(|m| Node::Product(Product(m))),
        NodeType::ProductSubscription => load::<entity::subscription::Entity>(ctx, id)
            .await?
            .map(|m| Node::ProductSubscription(ProductSubscription(m))),
        NodeType::Notification => {
            use sea_orm::{ColumnTrait, QueryFilter};
            let Some(principal) = ctx.principal() else { return Ok(None) };
            let select = crate::service::notifications::for_viewer(principal);
            let found = select
                .filter(entity::notification::Column::Id.eq(id))
                .one(&ctx.service().db)
                .await
                .map_err(AppError::from)?;
            found.map(|n| Node::Notification(Notification(n)))
        }
        NodeType::SuccessStory => {
            use sea_orm::{ColumnTrait, QueryFilter};
            let found = crate::service::stories::visible(ctx.principal())
                .filter(entity::success_story::Column::Id.eq(id))
                .one(&ctx.service().db)
                .await
                .map_err(AppError::from)?;
            found.map(|s| Node::SuccessStory(SuccessStory(s)))
        }
        NodeType::Application => {
            use sea_orm::{ColumnTrait, QueryFilter};
            let found = crate::service::applications::visible(ctx.principal())
                .filter(entity::application::Column::Id.eq(id))
                .one(&ctx.service().db)
                .await
                .map_err(AppError::from)?;
            found.map(|a| Node::Application(Application(a)))
        }
        NodeType::WelcomeGift => {
            use sea_orm::{ColumnTrait, QueryFilter};
            let found = crate::service::gifts::visible(ctx.principal())
                .filter(entity::welcome_gift::Column::Id.eq(id))
                .one(&ctx.service().db)
                .await
                .map_err(AppError::from)?;
            found.map(|g| Node::WelcomeGift(WelcomeGift(g)))
        }
        // A partnership is visible with its organisation.
        NodeType::Partnership => match load::<entity::partnership::Entity>(ctx, id).await? {
            Some(p) if load::<organization::Entity>(ctx, p.organization_id).await?.is_some() => {
                Some(Node::Partnership(Partnership(p)))
            }
            _ => None,
        },
        NodeType::Plan => load::<entity::plan::Entity>(ctx, id).await?.map(|m| Node::Plan(Plan(m))),
        NodeType::Invoice => load::<entity::invoice::Entity>(ctx, id).await?.map(|m| Node::Invoice(Invoice(m))),
        NodeType::Grant => load::<grant::Entity>(ctx, id).await?.map(|m| Node::Grant(Grant(m))),
        NodeType::SubscriptionChangeRequest => load::<entity::subscription_change_request::Entity>(ctx, id)
            .await?
            .map(|m| Node::SubscriptionChangeRequest(SubscriptionChangeRequest(m))),
        NodeType::Domain => {
            // A domain is visible with its organisation.
            let found = domain::Entity::find_by_id(id).one(&ctx.service().db).await.map_err(AppError::from)?;
            match found {
                Some(d) if load::<organization::Entity>(ctx, d.organization_id).await?.is_some() => {
                    Some(Node::Domain(Domain(d)))
                }
                _ => None,
            }
        }
        NodeType::AuditEvent => {
            use sea_orm::QueryFilter;
            let found = audit_event::Entity::find_by_id(id)
                .filter(policy::audit_events_scope(ctx.principal(), ctx.service().now()))
                .one(&ctx.service().db)
                .await
                .map_err(AppError::from)?;
            found.map(|e| Node::AuditEvent(AuditEvent(e)))
        }
        NodeType::ServiceAccount => service_accounts::find_visible(ctx.service(), ctx.principal(), id)
            .await?
            .map(|(u, m)| Node::ServiceAccount(ServiceAccount(u, m))),
    })
}
