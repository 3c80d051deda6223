//! Forward-only schema migrations, applied on start and by `partnerhub migrate`.
// Migrations work on whole tables, below any tenant.
#![allow(clippy::disallowed_methods)]

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_foundation;
mod m20261123_000002_sign_in;
mod m20261123_000003_grants;
mod m20261123_000004_subscriptions;
mod m20261123_000005_notifications;
mod m20261123_000006_tier_changes;
mod m20261123_000007_success_stories;
mod m20261123_000008_courses;
mod m20261123_000009_onboarding;
mod m20261123_000010_billing;
mod m20261123_000011_personal_notifications;
mod m20261130_000012_cross_party_rules;
pub mod m20261130_000013_exact_money_and_enums;
mod m20261201_000014_billing_runs;
mod m20261201_000015_scope_indexes;
mod m20261201_000016_deals;
mod m20261201_000017_ledger;
mod m20261201_000018_referrals;
mod m20261204_000019_rebate_rates;
pub(crate) mod m20261204_000020_rebate_claims;
mod m20261205_000021_delivery;
mod m20261205_000022_directory;
mod m20261206_000023_tenders;
mod m20261207_000024_programme_gaps;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261123_000002_sign_in::Migration),
            Box::new(m20261123_000003_grants::Migration),
            Box::new(m20261123_000004_subscriptions::Migration),
            Box::new(m20261123_000005_notifications::Migration),
            Box::new(m20261123_000006_tier_changes::Migration),
            Box::new(m20261123_000007_success_stories::Migration),
            Box::new(m20261123_000008_courses::Migration),
            Box::new(m20261123_000009_onboarding::Migration),
            Box::new(m20261123_000010_billing::Migration),
            Box::new(m20261123_000011_personal_notifications::Migration),
            Box::new(m20261130_000012_cross_party_rules::Migration),
            Box::new(m20261130_000013_exact_money_and_enums::Migration),
            Box::new(m20261201_000014_billing_runs::Migration),
            Box::new(m20261201_000015_scope_indexes::Migration),
            Box::new(m20261201_000016_deals::Migration),
            Box::new(m20261201_000017_ledger::Migration),
            Box::new(m20261201_000018_referrals::Migration),
            Box::new(m20261204_000019_rebate_rates::Migration),
            Box::new(m20261204_000020_rebate_claims::Migration),
            Box::new(m20261205_000021_delivery::Migration),
            Box::new(m20261205_000022_directory::Migration),
            Box::new(m20261206_000023_tenders::Migration),
            Box::new(m20261207_000024_programme_gaps::Migration),
        ]
    }
}
