//! The one error type. Every failure is classified once, here, into the closed set of codes of
//! the API; internal details (with their source and where they were raised) are logged with the
//! request id and never sent to clients.

use std::{panic::Location, sync::Arc};

use sea_orm::{DbErr, SqlErr};

/// `extensions.code` values: the closed set documented in the README.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL: &str = "INTERNAL";
    /// The document is not GraphQL: nothing ran.
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The document does not fit the schema or the server's limits (depth, complexity, a literal
    /// out of range, introspection when it is off): nothing ran.
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// A persisted query's hash or a trusted document's id the server does not know: send the
    /// document again with its hash (automatic persisted queries), or use a listed operation.
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// The request ran longer than `PARTNERHUB_REQUEST_TIMEOUT` and was stopped (HTTP 504); what
    /// it had written in a transaction was rolled back with it.
    pub const TIMEOUT: &str = "TIMEOUT";
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    /// Also what a denied read of an existing object looks like.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    BadInput { field: Option<String>, message: String },
    #[error("{0}")]
    Conflict(String),
    /// A conflict with what is stored that one input field causes (a period overlapping another).
    #[error("{message}")]
    ConflictOn { field: &'static str, message: String },
    /// A customer that already exists, found by `by` (vatNumber or domain). Who it is stays
    /// unsaid: the partner asks for access by that identifier and learns it once approved.
    #[error("this customer already exists on partnerhub; ask it for access with requestCustomerAccess by its {by}")]
    Duplicate { by: &'static str },
    /// Too many attempts; the client may retry after that many seconds.
    #[error("too many attempts; retry in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// Our fault. Shown to clients as "internal error" with the request id; the detail is for
    /// the log only.
    #[error("internal error")]
    Internal(Arc<Internal>),
}

/// What went wrong inside, where it was raised, and what caused it.
#[derive(Debug)]
pub struct Internal {
    pub message: String,
    pub location: &'static Location<'static>,
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at {}:{})", self.message, self.location.file(), self.location.line())?;
        let mut cause = self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(err) = cause {
            write!(f, ": {err}")?;
            cause = err.source();
        }
        Ok(())
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadInput { field: Some(field.into()), message: message.into() }
    }

    /// An internal error raised here, described by `message`.
    #[track_caller]
    pub fn internal(message: impl std::fmt::Display) -> Self {
        AppError::Internal(Arc::new(Internal {
            message: message.to_string(),
            location: Location::caller(),
            source: None,
        }))
    }

    /// An internal error caused by `source`.
    #[track_caller]
    pub fn internal_from(
        message: impl std::fmt::Display,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        AppError::Internal(Arc::new(Internal {
            message: message.to_string(),
            location: Location::caller(),
            source: Some(Box::new(source)),
        }))
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => code::UNAUTHENTICATED,
            AppError::Forbidden(_) => code::FORBIDDEN,
            AppError::NotFound(_) => code::NOT_FOUND,
            AppError::BadInput { .. } => code::BAD_USER_INPUT,
            AppError::Conflict(_) | AppError::ConflictOn { .. } | AppError::Duplicate { .. } => code::CONFLICT,
            AppError::RateLimited { .. } => code::RATE_LIMITED,
            AppError::Internal(_) => code::INTERNAL,
        }
    }

    /// The message a client may read. Internal errors are logged here, once, with the request id.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => {
                self.report("internal error");
                format!("internal error; request id {}", crate::telemetry::current_request_id())
            }
            other => other.to_string(),
        }
    }

    /// Logs the error with the request id (and, for an internal one, its detail, location and
    /// source): for work outside a request too, such as the jobs.
    pub fn report(&self, what: &str) {
        let request_id = crate::telemetry::current_request_id();
        match self {
            AppError::Internal(detail) => tracing::error!(%request_id, detail = %detail, "{what}"),
            other => tracing::warn!(%request_id, error = %other, code = other.code(), "{what}"),
        }
    }
}

/// Unique constraints and what a violation means in product terms, with the input field it
/// names. Keyed by the constraint's name (PostgreSQL reports it) and by its table and columns
/// (SQLite reports those). A violation of a constraint not listed here is a bug: INTERNAL.
const UNIQUE: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "ux_memberships_user_organization",
        "memberships.user_id, memberships.organization_id",
        "this user is already a member of that organisation",
        None,
    ),
    (
        "ux_users_oidc_identity",
        "users.oidc_issuer, users.oidc_subject",
        "this identity is already linked to a user",
        None,
    ),
    (
        "ux_idempotency_keys_user_operation_key",
        "idempotency_keys.user_id, idempotency_keys.operation, idempotency_keys.key",
        "this idempotency key is being used by another request",
        Some("idempotencyKey"),
    ),
    (
        "ux_tiers_program_rank",
        "tiers.program_id, tiers.rank",
        "the programme already has a tier of this rank",
        Some("rank"),
    ),
    (
        "ux_partnerships_org_program",
        "partnerships.organization_id, partnerships.program_id",
        "the organisation is already in this programme",
        Some("programId"),
    ),
    ("products_sku_key", "products.sku", "a product with this SKU exists", Some("sku")),
    ("plans_code_key", "plans.code", "a plan with this code exists", Some("code")),
    (
        "ux_plans_product_rank",
        "plans.product_id, plans.rank",
        "another plan of this product has this rank",
        Some("rank"),
    ),
    ("courses_code_key", "courses.code", "a course with this code exists", Some("code")),
    (
        "ux_exam_results_certificate",
        "exam_results.course_id, exam_results.certificate_number",
        "this certificate number is already recorded for the course",
        Some("certificateNumber"),
    ),
    ("welcome_gifts_partnership_id_key", "welcome_gifts.partnership_id", "the welcome gift was already claimed", None),
    ("ux_domains_verified_name", "domains.name", "another organisation has already proven this domain", Some("domain")),
    (
        "ux_domains_organization_name",
        "domains.organization_id, domains.name",
        "the organisation already claims this domain",
        Some("domain"),
    ),
    ("ux_organizations_single_vendor", "organizations.kind", "the deployment already has its vendor", None),
    ("ux_tier_proposals_open", "tier_proposals.partnership_id", "the partner already has an open tier proposal", None),
    (
        "ux_questionnaires_version",
        "questionnaires.program_id, questionnaires.version",
        "another version of the questionnaire was published at the same moment",
        None,
    ),
    (
        "questionnaire_answers_partnership_id_key",
        "questionnaire_answers.partnership_id",
        "the questionnaire was answered at the same moment",
        None,
    ),
    (
        "ux_programme_fees_year",
        "programme_fees.partnership_id, programme_fees.year_start",
        "this partnership year's fee already exists",
        None,
    ),
    (
        "ux_invoices_bill_to_period",
        "invoices.bill_to_organization_id, invoices.period, invoices.currency",
        "this organisation already has an invoice for the period",
        None,
    ),
    (
        "ux_deal_protections",
        "deal_protections.customer_key, deal_protections.product_id",
        "another deal for this customer and product is approved and protected",
        None,
    ),
    (
        "ux_grant_assignments_grant_user",
        "grant_assignments.grant_id, grant_assignments.user_id",
        "this employee is already assigned",
        Some("userId"),
    ),
    (
        "ux_por_confirmed",
        "partner_of_record_claims.customer_id, partner_of_record_claims.product_key",
        "another partner of record was confirmed for this customer and product at the same moment",
        None,
    ),
    (
        "ux_por_open",
        "partner_of_record_claims.partner_id, partner_of_record_claims.customer_id, partner_of_record_claims.product_key",
        "your organisation already has an open claim for this customer and product",
        None,
    ),
    ("ledger_entries_source_key_key", "ledger_entries.source_key", "this was already posted to the ledger", None),
    (
        "ux_ledger_states_seq",
        "ledger_entry_states.entry_id, ledger_entry_states.seq",
        "the entry changed at the same moment",
        None,
    ),
    (
        "ux_ledger_states_once",
        "ledger_entry_states.entry_id, ledger_entry_states.state",
        "the entry is already in that state",
        None,
    ),
    (
        "payout_batches_idempotency_key_key",
        "payout_batches.idempotency_key",
        "a payout batch with this idempotency key exists",
        None,
    ),
    (
        "payout_batches_running_currency_key",
        "payout_batches.running_currency",
        "a payout batch in this currency is running",
        None,
    ),
    (
        "ux_payout_statements",
        "payout_statements.batch_id, payout_statements.partner_id",
        "this partner is already paid in this batch",
        None,
    ),
];

/// The unique constraint a database error names, if it is one of ours.
fn unique_violation(detail: &str) -> Option<(&'static str, Option<&'static str>)> {
    UNIQUE
        .iter()
        .find(|(name, columns, _, _)| {
            detail.contains(&format!("\"{name}\"")) || detail.contains(&format!("UNIQUE constraint failed: {columns}"))
        })
        .map(|(_, _, message, field)| (*message, *field))
}

/// Unique violations of a known constraint become conflicts in product terms; anything else from
/// the database is internal, with its source and the caller's location.
impl From<DbErr> for AppError {
    #[track_caller]
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err()
            && let Some((message, _field)) = unique_violation(&detail)
        {
            return AppError::Conflict(message.into());
        }
        AppError::internal_from("database error", err)
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let mut error = async_graphql::Error::new(err.public_message());
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", err.code());
        if let AppError::BadInput { field: Some(field), .. } = &err {
            extensions.set("field", field.as_str());
        }
        if let AppError::Duplicate { by: field } | AppError::ConflictOn { field, .. } = &err {
            extensions.set("field", *field);
        }
        if let AppError::RateLimited { retry_after } = &err {
            extensions.set("retryAfter", *retry_after);
        }
        if let AppError::Internal(_) = &err {
            extensions.set("requestId", crate::telemetry::current_request_id());
        }
        error.extensions = Some(extensions);
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_code_from_the_closed_set() {
        let all = [
            AppError::Unauthenticated("x".into()),
            AppError::Forbidden("x".into()),
            AppError::NotFound("Organization"),
            AppError::bad_input("name", "x"),
            AppError::Conflict("x".into()),
            AppError::RateLimited { retry_after: 1 },
            AppError::internal("boom"),
        ];
        let codes: Vec<_> = all.iter().map(AppError::code).collect();
        assert_eq!(
            codes,
            ["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "CONFLICT", "RATE_LIMITED", "INTERNAL"]
        );
    }

    #[test]
    fn internal_text_never_reaches_the_client_but_the_log_has_its_source_and_place() {
        let err = AppError::internal_from("reading users", DbErr::Custom("relation \"users\" does not exist".into()));
        let AppError::Internal(detail) = &err else { panic!() };
        let logged = detail.to_string();
        assert!(logged.contains("relation \"users\" does not exist") && logged.contains("src/error.rs:"), "{logged}");
        let client: async_graphql::Error = err.into();
        assert!(!client.message.contains("users"));
        assert!(client.message.starts_with("internal error"));
    }

    #[test]
    fn unique_violations_are_named_by_constraint_and_unknown_ones_are_internal() {
        assert_eq!(
            unique_violation("duplicate key value violates unique constraint \"ux_memberships_user_organization\""),
            Some(("this user is already a member of that organisation", None))
        );
        assert_eq!(
            unique_violation("UNIQUE constraint failed: memberships.user_id, memberships.organization_id"),
            Some(("this user is already a member of that organisation", None))
        );
        assert_eq!(unique_violation("UNIQUE constraint failed: plans.code").map(|u| u.1), Some(Some("code")));
        assert_eq!(unique_violation("duplicate key value violates unique constraint \"ux_something_new\""), None);
    }
}
