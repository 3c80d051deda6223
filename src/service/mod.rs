//! Use cases, one module per capability. Each takes the service context and the principal,
//! asks the policy, and writes its audit (and later outbox) rows in the same transaction.
// Services are where tenant data is read, each read under the policy's scope.
#![allow(clippy::disallowed_methods)]

pub mod applications;
pub mod audit;
pub mod billing;
pub mod bootstrap;
pub mod catalog;
pub mod change_requests;
pub mod courses;
pub mod customers;
pub mod dashboard;
pub mod deals;
pub mod directory;
pub mod domains;
pub mod gifts;
pub mod grants;
pub mod idempotency;
pub mod identity;
pub mod invitations;
pub mod ledger;
pub mod notifications;
pub mod organizations;
pub mod people;
pub mod programme_fees;
pub mod programs;
pub mod questionnaires;
pub mod rebate_claims;
pub mod rebates;
pub mod service_accounts;
pub mod stories;
pub mod subscriptions;
pub mod tenders;
pub mod tier_proposals;
pub mod tokens;
pub mod webhooks;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::clock::Clock;

/// What every use case needs from the application.
#[derive(Clone)]
pub struct Ctx {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
    /// Where uploaded files are kept.
    pub files: crate::files::Files,
    /// E-mail and webhooks, for the outbox worker and endpoint checks.
    pub delivery: Arc<crate::delivery::Channels>,
    /// Live events for this node's subscriptions.
    pub events: crate::events::Events,
    /// How often a client address or an e-mail may post a tender.
    pub tender_posts: Arc<tenders::PostLimits>,
}

/// Limits the settings put on use cases.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The longest an API token may live.
    pub token_max_lifetime: chrono::TimeDelta,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { token_max_lifetime: chrono::TimeDelta::days(730) }
    }
}

impl Ctx {
    /// The use cases' context from the settings: file store and delivery channels opened.
    pub fn open(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        settings: &crate::config::Settings,
    ) -> Result<Self, String> {
        Ok(Ctx {
            db,
            clock,
            limits: Limits { token_max_lifetime: settings.token_max_lifetime },
            files: crate::files::Files::open(&settings.files)?,
            delivery: Arc::new(crate::delivery::Channels::start(settings)?),
            events: crate::events::Events::default(),
            tender_posts: Arc::new(tenders::PostLimits::per_hour(settings.rate_limits.tender_posts_per_hour)),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// A decimal from the caller, stored exactly (`entity::fixed::Fixed`): BAD_USER_INPUT naming
/// the field when it has more than four places or is out of range.
pub(crate) fn fixed(name: &str, value: rust_decimal::Decimal) -> crate::error::AppResult<entity::fixed::Fixed> {
    entity::fixed::Fixed::from_decimal(value).map_err(|e| crate::error::AppError::bad_input(name, e.to_string()))
}

/// A decimal we computed, stored exactly; one that does not fit is our bug.
pub(crate) fn exact(value: rust_decimal::Decimal) -> crate::error::AppResult<entity::fixed::Fixed> {
    entity::fixed::Fixed::from_decimal(value)
        .map_err(|e| crate::error::AppError::internal(format!("computed amount {value} {e}")))
}

/// Turns a validation message into a field error.
pub(crate) fn field<T>(name: &str, result: Result<T, String>) -> crate::error::AppResult<T> {
    result.map_err(|message| crate::error::AppError::bad_input(name, message))
}

/// Optional text inputs: absent or blank means "none".
pub(crate) fn optional_field(
    name: &str,
    value: Option<&str>,
    check: impl Fn(&str) -> Result<String, String>,
) -> crate::error::AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => field(name, check(v)).map(Some),
        None => Ok(None),
    }
}
