//! Notifications leaving the server, in GraphQL (issue 17): webhook endpoints with their
//! secrets, the delivery log (webhooks for their owners, every channel's dead letters for
//! staff), redelivery, and the language of one's e-mails.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{delivery, delivery_attempt, webhook_endpoint};
use sea_orm::{ColumnTrait, QueryFilter};

use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    enums::NotificationKind,
    ledger::decode,
    loaders::{children, load},
    viewer::Notification,
};
use crate::{
    domain,
    ids::{self, NodeType},
    policy,
    service::{people, webhooks},
};

/// How a delivery leaves.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::DeliveryChannel")]
pub enum DeliveryChannel {
    /// An e-mail to one person.
    Email,
    /// A signed POST to one webhook endpoint.
    Webhook,
}

/// Where a delivery stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::DeliveryStatus")]
pub enum DeliveryStatus {
    /// Waiting for its first or next try (`nextAttemptAt`).
    Pending,
    /// Went out: the receiver accepted it.
    Delivered,
    /// Every try failed: a dead letter, until someone redelivers it.
    Dead,
}

/// A language e-mails are written in.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::Language")]
pub enum Language {
    /// English.
    En,
    /// German.
    De,
    /// French.
    Fr,
    /// Polish.
    Pl,
    /// Spanish.
    Es,
}

pub struct WebhookEndpoint(pub webhook_endpoint::Model);

/// Where your organisation's systems receive its notifications: each POST is signed as the
/// Standard Webhooks specification describes (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`), with the endpoint's secret.
#[Object]
impl WebhookEndpoint {
    /// Opaque global identifier; `node(id:)` fetches the endpoint again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::WebhookEndpoint, self.0.id))
    }
    /// Where messages are POSTed (https; checked against private addresses at every send).
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The notification kinds sent here; empty means every kind.
    async fn kinds(&self) -> Vec<NotificationKind> {
        self.0
            .kinds
            .as_array()
            .map(|a| {
                a.iter().filter_map(|k| k.as_str().and_then(domain::NotificationKind::parse)).map(Into::into).collect()
            })
            .unwrap_or_default()
    }
    /// What it is for, in your words.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// False once disabled, by you or because it kept failing; nothing is sent meanwhile.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// When it was disabled.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }
    /// Why it was disabled.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct Delivery(pub delivery::Model);

/// One notification on its way to one e-mail address or webhook endpoint, with every try.
#[Object]
impl Delivery {
    /// Opaque global identifier; `node(id:)` fetches the delivery again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Delivery, self.0.id))
    }
    /// E-mail or webhook.
    async fn channel(&self) -> DeliveryChannel {
        self.0.channel.into()
    }
    /// Pending, delivered, or dead.
    async fn status(&self) -> DeliveryStatus {
        self.0.status.into()
    }
    /// The notification it carries; null when you do not read it.
    async fn notification(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Notification>> {
        Ok(load::<entity::notification::Entity>(ctx, self.0.notification_id).await?.map(Notification))
    }
    /// The endpoint, for a webhook delivery.
    async fn endpoint(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<WebhookEndpoint>> {
        let Some(id) = self.0.endpoint_id else { return Ok(None) };
        Ok(load::<webhook_endpoint::Entity>(ctx, id).await?.map(WebhookEndpoint))
    }
    /// The e-mail address, for an e-mail (staff see these in the dead-letter queue).
    async fn recipient(&self) -> Option<&str> {
        (self.0.channel == domain::DeliveryChannel::Email).then_some(self.0.target.as_str())
    }
    /// Tries so far in this round (a redelivery starts a new round).
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When the next try is due; null unless pending.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == domain::DeliveryStatus::Pending).then_some(self.0.next_attempt_at)
    }
    /// When it was last tried.
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_attempt_at
    }
    /// The HTTP status the webhook receiver last answered.
    async fn last_response_code(&self) -> Option<i32> {
        self.0.last_response_code
    }
    /// Why the last try failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When it went out.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// When the notification was dispatched to this recipient.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Every try, oldest first.
    async fn attempt_log(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DeliveryAttempt>> {
        Ok(children::<delivery_attempt::Entity>(ctx, self.0.id).await?.into_iter().map(DeliveryAttempt).collect())
    }
}

pub struct DeliveryAttempt(pub delivery_attempt::Model);

/// One try of a delivery.
#[Object]
impl DeliveryAttempt {
    /// 1 for the first try of a round.
    async fn number(&self) -> i32 {
        self.0.number
    }
    /// When it was tried.
    async fn attempted_at(&self) -> DateTime<Utc> {
        self.0.attempted_at
    }
    /// Whether the receiver accepted it.
    async fn succeeded(&self) -> bool {
        self.0.succeeded
    }
    /// The HTTP status a webhook receiver answered.
    async fn response_code(&self) -> Option<i32> {
        self.0.response_code
    }
    /// Why it failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// How long it took, in milliseconds.
    async fn duration_ms(&self) -> i32 {
        self.0.duration_ms
    }
}

/// Which deliveries to list.
#[derive(InputObject, Default)]
pub struct DeliveryFilter {
    /// Only those to this endpoint (its delivery log).
    pub endpoint_id: Option<ID>,
    /// Only those in this status (DEAD: the dead-letter queue).
    pub status: Option<DeliveryStatus>,
    /// Only e-mails, or only webhooks.
    pub channel: Option<DeliveryChannel>,
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The webhook endpoints of the organisation you act as (its ADMIN), oldest first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<WebhookEndpoint>> {
        policy::signed_in(ctx.principal())?;
        let select = webhooks::endpoints(ctx.principal());
        let args = PageArgs::of(ctx, first, after, last, before);
        Ok(paginate(&ctx.service().db, select, webhook_endpoint::Column::Id, |m| m.id, WebhookEndpoint, args).await?)
    }

    /// Deliveries, oldest first: the delivery log of your organisation's webhook endpoints (its
    /// ADMIN), or, for staff ADMINs, every delivery; `status: DEAD` is the dead-letter queue.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deliveries matching this.")] filter: Option<DeliveryFilter>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Delivery>> {
        policy::signed_in(ctx.principal())?;
        let filter = filter.unwrap_or_default();
        let mut select = webhooks::deliveries(ctx.principal());
        if let Some(endpoint) = &filter.endpoint_id {
            let id = decode(NodeType::WebhookEndpoint, endpoint, "WebhookEndpoint")?;
            select = select.filter(delivery::Column::EndpointId.eq(id));
        }
        if let Some(status) = filter.status {
            select = select.filter(delivery::Column::Status.eq(domain::DeliveryStatus::from(status)));
        }
        if let Some(channel) = filter.channel {
            select = select.filter(delivery::Column::Channel.eq(domain::DeliveryChannel::from(channel)));
        }
        let args = PageArgs::of(ctx, first, after, last, before);
        Ok(paginate(&ctx.service().db, select, delivery::Column::Id, |m| m.id, Delivery, args).await?)
    }
}

/// The input of `registerWebhookEndpoint`.
#[derive(InputObject)]
pub struct RegisterWebhookEndpointInput {
    /// An https URL on a public address (http only in development, or to this host where the
    /// server allows loopback).
    pub url: String,
    /// The kinds to send; all when empty or absent.
    pub kinds: Option<Vec<NotificationKind>>,
    /// What it is for (at most 200 characters).
    pub description: Option<String>,
    /// A retry with the same key returns the first endpoint (and its current secret).
    pub idempotency_key: Option<String>,
}

/// What `registerWebhookEndpoint` returns.
#[derive(SimpleObject)]
pub struct RegisterWebhookEndpointPayload {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_…`), shown here and on rotation only: give it to your
    /// Standard Webhooks library to verify each message.
    pub secret: String,
}

/// The input of `updateWebhookEndpoint`; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint.
    pub endpoint_id: ID,
    /// A new URL, checked as at registration.
    pub url: Option<String>,
    /// The kinds to send; all when empty.
    pub kinds: Option<Vec<NotificationKind>>,
    /// A new description.
    pub description: Option<String>,
    /// False stops sending; true enables a disabled endpoint again.
    pub enabled: Option<bool>,
}

/// What `updateWebhookEndpoint` returns.
#[derive(SimpleObject)]
pub struct WebhookEndpointPayload {
    /// The endpoint as it is now.
    pub endpoint: WebhookEndpoint,
}

/// The input of `rotateWebhookSecret`.
#[derive(InputObject)]
pub struct RotateWebhookSecretInput {
    /// The endpoint.
    pub endpoint_id: ID,
}

/// What `rotateWebhookSecret` returns.
#[derive(SimpleObject)]
pub struct RotateWebhookSecretPayload {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The new secret, shown this once. Messages are signed with it and, until
    /// `previousSecretsExpireAt`, with the previous one too.
    pub secret: String,
    /// When the previous secret stops signing.
    pub previous_secrets_expire_at: DateTime<Utc>,
}

/// The input of `redeliver`.
#[derive(InputObject)]
pub struct RedeliverInput {
    /// A delivered or dead delivery.
    pub delivery_id: ID,
}

/// What `redeliver` returns.
#[derive(SimpleObject)]
pub struct DeliveryPayload {
    /// The delivery, pending again.
    pub delivery: Delivery,
}

/// The input of `setPreferredLanguage`.
#[derive(InputObject)]
pub struct SetPreferredLanguageInput {
    /// Your e-mails' language; null to follow your organisation's country.
    pub language: Option<Language>,
}

/// What `setPreferredLanguage` returns.
#[derive(SimpleObject)]
pub struct SetPreferredLanguagePayload {
    /// The language you chose; null when it follows your organisation's country.
    pub language: Option<Language>,
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers a webhook endpoint for the organisation you act as (a partner's or customer's
    /// ADMIN) and returns its signing secret.
    async fn register_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RegisterWebhookEndpointInput,
    ) -> async_graphql::Result<RegisterWebhookEndpointPayload> {
        let endpoint = webhooks::EndpointInput {
            url: input.url,
            kinds: input.kinds.unwrap_or_default().into_iter().map(Into::into).collect(),
            description: input.description.unwrap_or_default(),
        };
        let (endpoint, secret) =
            webhooks::register(ctx.service(), ctx.principal(), endpoint, input.idempotency_key.as_deref()).await?;
        Ok(RegisterWebhookEndpointPayload { endpoint: WebhookEndpoint(endpoint), secret })
    }

    /// Changes an endpoint's URL, kinds or description, or disables and enables it.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: UpdateWebhookEndpointInput,
    ) -> async_graphql::Result<WebhookEndpointPayload> {
        let id = decode(NodeType::WebhookEndpoint, &input.endpoint_id, "WebhookEndpoint")?;
        let changes = webhooks::EndpointChanges {
            url: input.url,
            kinds: input.kinds.map(|k| k.into_iter().map(Into::into).collect()),
            description: input.description,
            enabled: input.enabled,
        };
        let endpoint = webhooks::update(ctx.service(), ctx.principal(), id, changes).await?;
        Ok(WebhookEndpointPayload { endpoint: WebhookEndpoint(endpoint) })
    }

    /// Gives an endpoint a new signing secret; the previous one keeps signing beside it for the
    /// overlap window, so your receiver can switch without losing a message.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RotateWebhookSecretInput,
    ) -> async_graphql::Result<RotateWebhookSecretPayload> {
        let id = decode(NodeType::WebhookEndpoint, &input.endpoint_id, "WebhookEndpoint")?;
        let (endpoint, secret, until) = webhooks::rotate_secret(ctx.service(), ctx.principal(), id).await?;
        Ok(RotateWebhookSecretPayload {
            endpoint: WebhookEndpoint(endpoint),
            secret,
            previous_secrets_expire_at: until,
        })
    }

    /// Sends a delivery again with a fresh schedule: your endpoint's message (its ADMIN), or any
    /// dead letter (staff ADMIN).
    async fn redeliver(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: RedeliverInput,
    ) -> async_graphql::Result<DeliveryPayload> {
        let id = decode(NodeType::Delivery, &input.delivery_id, "Delivery")?;
        let delivery = webhooks::redeliver(ctx.service(), ctx.principal(), id).await?;
        Ok(DeliveryPayload { delivery: Delivery(delivery) })
    }

    /// Chooses the language of your e-mails.
    async fn set_preferred_language(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: SetPreferredLanguageInput,
    ) -> async_graphql::Result<SetPreferredLanguagePayload> {
        let language = people::set_language(ctx.service(), ctx.principal(), input.language.map(Into::into)).await?;
        Ok(SetPreferredLanguagePayload { language: language.map(Into::into) })
    }
}
