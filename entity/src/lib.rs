//! sea-orm entities, one module per table. No GraphQL, no business rules: the API wraps these
//! models in its own types so that a column change never silently changes the API.

pub mod api_token;
pub mod application;
pub mod audit_event;
pub mod course;
pub mod domain;
pub mod exam_result;
pub mod grant;
pub mod grant_assignment;
pub mod grant_scope_item;
pub mod idempotency_key;
pub mod invitation;
pub mod login_state;
pub mod membership;
pub mod notification;
pub mod organization;
pub mod partnership;
pub mod product;
pub mod program;
pub mod program_terms;
pub mod session;
pub mod subscription;
pub mod success_story;
pub mod tier;
pub mod tier_change;
pub mod tier_review;
pub mod user;
pub mod welcome_gift;
