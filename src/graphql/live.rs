//! Live updates (issue 17): the `Subscription` root, served over WebSocket with the
//! graphql-transport-ws protocol. Each stream listens to this node's event bus (fed by every
//! node through PostgreSQL LISTEN/NOTIFY), and for each event authenticates the connection's
//! credential again, then reads the notification, and the object it names, under the policy as a
//! read would: another organisation's events never pass, and a revoked token ends the stream.

use std::sync::Arc;

use async_graphql::Context;
use futures_util::{Stream, stream};
use tokio::sync::broadcast::error::RecvError;

use super::{
    context::{ContextExt, RequestState},
    customers::Grant,
    deals::Deal,
    ledger::PayoutBatch,
    loaders::{ByIdIn, Loaders},
    rebates::RebateClaim,
    viewer::Notification,
};
use crate::{
    domain::notifications::NotificationKind,
    error::AppError,
    events::Event,
    ids::{self, NodeType},
    principal::{AuthMethod, Principal},
    service::{self, identity, notifications},
};

/// How a live connection signed in, kept to sign it in again at every event.
#[derive(Clone)]
pub enum Credential {
    Token(String),
    Session(String),
}

/// The connection's credential and the organisation it acts as.
#[derive(Clone)]
pub struct LiveAuth {
    pub credential: Credential,
    pub organization: Option<String>,
}

impl LiveAuth {
    pub async fn authenticate(&self, ctx: &service::Ctx) -> Result<Principal, AppError> {
        let organization = self.organization.as_deref();
        match &self.credential {
            Credential::Token(secret) => identity::authenticate_token(&ctx.db, secret, organization, ctx.now()).await,
            Credential::Session(secret) => {
                identity::authenticate_session(&ctx.db, secret, organization, ctx.now()).await
            }
        }
    }
}

/// What a stream carries between events.
struct Watch {
    rx: tokio::sync::broadcast::Receiver<Event>,
    ctx: service::Ctx,
    auth: LiveAuth,
    first: Arc<Principal>,
    loaders: Arc<Loaders>,
    kinds: &'static [NotificationKind],
    ended: bool,
}

fn same_standing(a: &Principal, b: &Principal) -> bool {
    let key = |p: &Principal| p.acting.as_ref().map(|m| (m.membership.id, m.role));
    a.user_id() == b.user_id() && key(a) == key(b)
}

impl Watch {
    fn start(ctx: &Context<'_>, kinds: &'static [NotificationKind]) -> async_graphql::Result<Watch> {
        let state: &RequestState = ctx.state();
        let first = state.principal.clone().ok_or_else(|| AppError::Unauthenticated("sign in to subscribe".into()))?;
        let auth = ctx.data::<LiveAuth>().map_err(|_| AppError::Unauthenticated("subscribe over WebSocket".into()))?;
        let loaders =
            ctx.data::<Arc<Loaders>>().map_err(|_| AppError::internal("a live connection without loaders"))?;
        Ok(Watch {
            rx: state.ctx.events.subscribe(),
            ctx: state.ctx.clone(),
            auth: auth.clone(),
            first,
            loaders: loaders.clone(),
            kinds,
            ended: false,
        })
    }

    /// The next notification of the watched kinds this connection may read, or the error that
    /// ends the stream.
    async fn next(&mut self) -> Option<async_graphql::Result<(Principal, entity::notification::Model)>> {
        while !self.ended {
            let id = match self.rx.recv().await {
                Ok(Event::Notification(id)) => id,
                Ok(Event::TokenRevoked(token)) => {
                    if self.first.method == (AuthMethod::ApiToken { token_id: token }) {
                        return self.end(AppError::Unauthenticated("the API token was revoked".into()));
                    }
                    continue;
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a live stream fell behind; events were skipped");
                    continue;
                }
                Err(RecvError::Closed) => return None,
            };
            let principal = match self.auth.authenticate(&self.ctx).await {
                Ok(p) if same_standing(&p, &self.first) => p,
                Ok(_) => {
                    return self.end(AppError::Unauthenticated("your membership changed; subscribe again".into()));
                }
                Err(err) => return self.end(err),
            };
            let found = match notifications::visible_one(&self.ctx.db, &principal, id).await {
                Ok(found) => found,
                Err(err) => return self.end(err),
            };
            let Some(n) = found.filter(|n| self.kinds.is_empty() || self.kinds.contains(&n.kind)) else { continue };
            self.loaders.clear_all();
            return Some(Ok((principal, n)));
        }
        None
    }

    fn end<T>(&mut self, err: AppError) -> Option<async_graphql::Result<T>> {
        self.ended = true;
        Some(Err(err.into()))
    }

    /// The stream of (notification, the object its payload names under `field`), read through
    /// the connection's scoped loaders.
    fn objects<E, T>(
        self,
        field: &'static str,
        node: NodeType,
        wrap: fn(E::Model) -> T,
    ) -> impl Stream<Item = async_graphql::Result<T>>
    where
        E: ByIdIn,
        E::Model: Clone + Send + Sync + 'static,
        T: Send + 'static,
    {
        stream::unfold(self, move |mut watch| async move {
            loop {
                let item = match watch.next().await? {
                    Err(err) => Err(err),
                    Ok((_, n)) => {
                        let Some(id) =
                            n.payload.get(field).and_then(|v| v.as_str()).and_then(|g| ids::decode_as(node, g))
                        else {
                            continue;
                        };
                        match E::loader(&watch.loaders).load_one(id).await {
                            Ok(Some(model)) => Ok(wrap(model)),
                            Ok(None) => continue,
                            Err(err) => Err(err.into()),
                        }
                    }
                };
                return Some((item, watch));
            }
        })
    }
}

#[derive(Default)]
pub struct Subscription;

/// Live updates over WebSocket (graphql-transport-ws on `/graphql`), for the organisation the
/// connection acts as. Sign in with `connection_init`'s payload (`{"authorization": "Bearer
/// <token>", "organization": "<id>"}`) or the session cookie.
#[async_graphql::Subscription]
impl Subscription {
    /// Every notification you would read in `viewer.notifications`, as it is written.
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Notification>>> {
        let watch = Watch::start(ctx, &[])?;
        Ok(stream::unfold(watch, |mut w| async move { w.next().await.map(|r| (r.map(|(_, n)| Notification(n)), w)) }))
    }

    /// A grant of your organisation changed: requested, answered, changed, revoked, ended,
    /// expiring, expired or extended.
    async fn grant_changed(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Grant>>> {
        use NotificationKind::*;
        const KINDS: &[NotificationKind] = &[
            GrantRequested,
            GrantOffered,
            GrantApproved,
            GrantAccepted,
            GrantDeclined,
            GrantChanged,
            GrantRevoked,
            GrantEnded,
            GrantExpired,
            GrantExtended,
            GrantExpiring,
        ];
        Ok(Watch::start(ctx, KINDS)?.objects::<entity::grant::Entity, _>("grantId", NodeType::Grant, Grant))
    }

    /// A deal you registered changed status, or its protection ends soon.
    async fn deal_changed(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Deal>>> {
        const KINDS: &[NotificationKind] = &[NotificationKind::DealStatusChanged, NotificationKind::DealExpiring];
        Ok(Watch::start(ctx, KINDS)?.objects::<entity::deal::Entity, _>("dealId", NodeType::Deal, Deal))
    }

    /// A rebate claim of your partner was accepted or rejected.
    async fn rebate_claim_changed(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<RebateClaim>>> {
        const KINDS: &[NotificationKind] = &[NotificationKind::RebateClaimDecided];
        Ok(Watch::start(ctx, KINDS)?.objects::<entity::rebate_claim::Entity, _>(
            "claimId",
            NodeType::RebateClaim,
            RebateClaim,
        ))
    }

    /// A payout to your partner was made.
    async fn payout_made(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<PayoutBatch>>> {
        const KINDS: &[NotificationKind] = &[NotificationKind::PayoutMade];
        Ok(Watch::start(ctx, KINDS)?.objects::<entity::payout_batch::Entity, _>(
            "batchId",
            NodeType::PayoutBatch,
            PayoutBatch,
        ))
    }
}
