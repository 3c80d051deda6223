//! Who is asking: a signed-in user and the membership the request acts as. Below the policy and
//! the services, which take it, and the identity layer, which builds it.

use std::sync::Arc;

use entity::{membership, user};
use uuid::Uuid;

use crate::domain::{OrganizationKind, Role, UserKind};

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
