//! One integration-test binary: each test starts the real application on port 0 with a fresh
//! database (SQLite, or PostgreSQL when PARTNERHUB_TEST_DATABASE_URL is set) and talks GraphQL
//! over HTTP, as a client would.
// Tests arrange and inspect the database directly.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod helpers;
mod idp;

mod authorization;
mod backup;
mod billing;
mod bootstrap;
mod contract;
mod cross_party;
mod customers;
mod dashboard;
mod deals;
mod delegation;
mod directory;
mod domains;
mod faults;
mod footing;
mod hardening;
mod http;
mod invitations;
mod ledger;
mod ledger_invariants;
mod live;
mod nodes;
mod notifications;
mod onboarding;
mod operations;
mod organizations;
mod pagination;
mod plans;
mod programme_rules;
mod programs;
mod rebate_claims;
mod rebates;
mod service_accounts;
mod sso;
mod statements;
mod tenders;
mod tokens;
mod viewer;
mod who_pays;
