//! The daily tier review (see `service::tier_proposals::run_review`): proposals and grace
//! periods for staff; the job never changes a tier.

pub use crate::service::tier_proposals::{ReviewRun, run_review};
