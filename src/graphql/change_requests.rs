//! What a customer asks of the partner that pays for its subscription, and the partner's answer;
//! handing a subscription's billing over to the customer.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::subscription_change_request as request;
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

use super::{
    billing::{Plan, SubscriptionPayload},
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    customers::ProductSubscription,
    loaders::{Names, load, load_with},
};
use crate::{
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::{
        change_requests::{self, Decision},
        subscriptions,
    },
};

/// Where a customer's request for more stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ChangeRequestStatus")]
pub enum SubscriptionChangeRequestStatus {
    /// Waiting for the partner.
    Pending,
    /// The partner made the change.
    Approved,
    /// The partner said no.
    Declined,
    /// The customer took it back.
    Withdrawn,
}

pub struct SubscriptionChangeRequest(pub request::Model);

/// A customer asking the partner that pays for one of its subscriptions for more seats or a
/// higher plan. The partner approves (the change is made, and the partner pays) or declines.
#[Object]
impl SubscriptionChangeRequest {
    /// Opaque global identifier; `node(id:)` fetches the request again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::SubscriptionChangeRequest, self.0.id))
    }
    /// Where the request is.
    async fn status(&self) -> SubscriptionChangeRequestStatus {
        self.0.status.into()
    }
    /// The subscription to change.
    async fn subscription(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProductSubscription>> {
        Ok(load::<entity::subscription::Entity>(ctx, self.0.subscription_id).await?.map(ProductSubscription))
    }
    /// The seats asked for, if more seats were asked.
    async fn seats(&self) -> Option<i32> {
        self.0.seats
    }
    /// The plan asked for, if a higher plan was asked.
    async fn plan(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Plan>> {
        let Some(id) = self.0.plan_id else { return Ok(None) };
        Ok(load::<entity::plan::Entity>(ctx, id).await?.map(Plan))
    }
    /// The customer's note.
    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }
    /// Who asked.
    async fn requested_by_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        load_with::<Names>(ctx, self.0.requested_by_user_id).await
    }
    /// When the customer asked.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the partner decided.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
    /// The partner's note on its decision.
    async fn decision_note(&self) -> Option<&str> {
        self.0.decision_note.as_deref()
    }
}

/// Requests on one subscription, oldest first.
pub async fn of_subscription(
    ctx: &Context<'_>,
    subscription_id: Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<SubscriptionChangeRequest>> {
    let select = change_requests::visible(ctx.principal(), ctx.service().now())
        .filter(request::Column::SubscriptionId.eq(subscription_id));
    Ok(paginate(&ctx.service().db, select, request::Column::Id, |m| m.id, SubscriptionChangeRequest, args).await?)
}

#[derive(Default)]
pub struct ChangeRequestQuery;

#[Object]
impl ChangeRequestQuery {
    /// Requests on subscriptions you see, oldest first: a partner's queue of what its customers
    /// ask of it, and a customer's own requests.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn subscription_change_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only requests with this status.")] status: Option<SubscriptionChangeRequestStatus>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<SubscriptionChangeRequest>> {
        policy::signed_in(ctx.principal())?;
        let mut select = change_requests::visible(ctx.principal(), ctx.service().now());
        if let Some(status) = status {
            select = select.filter(request::Column::Status.eq(crate::domain::ChangeRequestStatus::from(status)));
        }
        Ok(paginate(
            &ctx.service().db,
            select,
            request::Column::Id,
            |m| m.id,
            SubscriptionChangeRequest,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }
}

/// The input of `requestSubscriptionChange`.
#[derive(InputObject)]
pub struct RequestSubscriptionChangeInput {
    /// The subscription the partner pays for.
    pub subscription_id: ID,
    /// More seats than the subscription has.
    pub seats: Option<i32>,
    /// A plan of higher rank of the same product.
    pub plan_id: Option<ID>,
    /// A note to the partner.
    pub message: Option<String>,
}

/// The input of `approveSubscriptionChange`, `declineSubscriptionChange` and
/// `withdrawSubscriptionChange`.
#[derive(InputObject)]
pub struct DecideSubscriptionChangeInput {
    /// The change request to decide.
    pub id: ID,
    /// Told to the customer with the decision.
    pub note: Option<String>,
}

/// What `approveSubscriptionChange`, `declineSubscriptionChange`, `requestSubscriptionChange` and
/// `withdrawSubscriptionChange` returns (each).
#[derive(SimpleObject)]
pub struct SubscriptionChangeRequestPayload {
    /// The SubscriptionChangeRequest as `approveSubscriptionChange`, `declineSubscriptionChange`,
    /// `requestSubscriptionChange` and `withdrawSubscriptionChange` left it.
    pub request: SubscriptionChangeRequest,
}

#[derive(Default)]
pub struct ChangeRequestMutation;

fn request_id(id: &ID) -> Result<Uuid, AppError> {
    ids::decode_as(NodeType::SubscriptionChangeRequest, id).ok_or(AppError::NotFound("SubscriptionChangeRequest"))
}

async fn decide(
    ctx: &Context<'_>,
    input: DecideSubscriptionChangeInput,
    decision: Decision,
) -> async_graphql::Result<SubscriptionChangeRequestPayload> {
    policy::signed_in(ctx.principal())?;
    let id = request_id(&input.id)?;
    let decided = change_requests::decide(ctx.service(), ctx.principal(), id, decision, input.note).await?;
    Ok(SubscriptionChangeRequestPayload { request: SubscriptionChangeRequest(decided) })
}

#[Object]
impl ChangeRequestMutation {
    /// Asks the partner that pays for a subscription for more seats or a higher plan (the
    /// customer's ADMIN): whoever pays decides what costs more.
    async fn request_subscription_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RequestSubscriptionChangeInput,
    ) -> async_graphql::Result<SubscriptionChangeRequestPayload> {
        policy::signed_in(ctx.principal())?;
        let ask = change_requests::Ask {
            subscription_id: ids::decode_as(NodeType::ProductSubscription, &input.subscription_id)
                .ok_or(AppError::NotFound("ProductSubscription"))?,
            seats: input.seats,
            plan_id: match input.plan_id {
                Some(id) => Some(
                    ids::decode_as(NodeType::Plan, &id).ok_or_else(|| AppError::bad_input("planId", "no such plan"))?,
                ),
                None => None,
            },
            message: input.message,
        };
        let created = change_requests::request(ctx.service(), ctx.principal(), ask).await?;
        Ok(SubscriptionChangeRequestPayload { request: SubscriptionChangeRequest(created) })
    }

    /// Makes the change the customer asked for, at the partner's cost (a partner user with
    /// MANAGE_PRODUCTS on the customer).
    async fn approve_subscription_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: DecideSubscriptionChangeInput,
    ) -> async_graphql::Result<SubscriptionChangeRequestPayload> {
        decide(ctx, input, Decision::Approve).await
    }

    /// Says no to what the customer asked for.
    async fn decline_subscription_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: DecideSubscriptionChangeInput,
    ) -> async_graphql::Result<SubscriptionChangeRequestPayload> {
        decide(ctx, input, Decision::Decline).await
    }

    /// Takes back a request that waits for the partner (the customer's ADMIN).
    async fn withdraw_subscription_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: DecideSubscriptionChangeInput,
    ) -> async_graphql::Result<SubscriptionChangeRequestPayload> {
        decide(ctx, input, Decision::Withdraw).await
    }

    /// Bills the subscription to the customer from now on instead of the partner: the partner
    /// that pays (its ADMIN or BILLING, also after its grant ended) or the customer's ADMIN
    /// taking it over. Auto-renew stays as it is.
    async fn hand_over_subscription_billing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: super::billing::SubscriptionIdInput,
    ) -> async_graphql::Result<SubscriptionPayload> {
        policy::signed_in(ctx.principal())?;
        let id = ids::decode_as(NodeType::ProductSubscription, &input.id)
            .ok_or(AppError::NotFound("ProductSubscription"))?;
        let changed = subscriptions::hand_over_billing(ctx.service(), ctx.principal(), id).await?;
        Ok(SubscriptionPayload { subscription: ProductSubscription(changed) })
    }
}
