//! Sign-in over HTTP: the OpenID Connect flow and the session cookie. Who a request is comes
//! from `service::identity`; the principal type lives in `crate::principal`.

pub mod oidc;
pub mod session;

pub use crate::principal::{AuthMethod, MembershipContext, Principal, SharedPrincipal};
