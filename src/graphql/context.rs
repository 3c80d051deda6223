//! What each request carries into resolvers: the principal and the service context.

use std::sync::Arc;

use async_graphql::Context;

use crate::{auth::Principal, service};

pub struct RequestState {
    pub ctx: service::Ctx,
    pub principal: Option<Arc<Principal>>,
    /// Where domain verification looks TXT records up (the system resolver when `None`).
    pub dns_resolver: Option<std::net::SocketAddr>,
    /// The server's external origin, for links (referral links).
    pub public_url: String,
    /// Development shows secrets that production only e-mails (invitation tokens).
    pub development: bool,
    /// The client's address, for limits on anonymous writes (posting tenders).
    pub client: Option<std::net::IpAddr>,
}

pub trait ContextExt {
    fn state(&self) -> &RequestState;

    fn service(&self) -> &service::Ctx {
        &self.state().ctx
    }

    fn principal(&self) -> Option<&Principal> {
        self.state().principal.as_deref()
    }
}

impl ContextExt for Context<'_> {
    fn state(&self) -> &RequestState {
        // The HTTP layer always inserts the state; a schema executed without it is a programming
        // error, which `data_unchecked` turns into a panic caught and reported as INTERNAL.
        self.data_unchecked::<RequestState>()
    }
}
