//! The one error type. Every failure is classified once, here, into the closed set of codes of
//! the API; internal details are logged with the request id and never sent to clients.

use std::sync::Arc;

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
    /// A customer that already exists, found by `by` (vatNumber or domain). Who it is stays
    /// unsaid: the partner asks for access by that identifier and learns it once approved.
    #[error("this customer already exists on partnerhub; ask it for access with requestCustomerAccess by its {by}")]
    Duplicate { by: &'static str },
    /// Too many attempts; the client may retry after that many seconds.
    #[error("too many attempts; retry in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// The text is for the log only.
    #[error("internal error")]
    Internal(Arc<str>),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadInput { field: Some(field.into()), message: message.into() }
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        AppError::Internal(message.to_string().into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => code::UNAUTHENTICATED,
            AppError::Forbidden(_) => code::FORBIDDEN,
            AppError::NotFound(_) => code::NOT_FOUND,
            AppError::BadInput { .. } => code::BAD_USER_INPUT,
            AppError::Conflict(_) | AppError::Duplicate { .. } => code::CONFLICT,
            AppError::RateLimited { .. } => code::RATE_LIMITED,
            AppError::Internal(_) => code::INTERNAL,
        }
    }

    /// The message a client may read. Internal errors are logged here, once, with the request id.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(detail) => {
                let request_id = crate::telemetry::current_request_id();
                tracing::error!(%request_id, detail = %detail, "internal error");
                format!("internal error; request id {request_id}")
            }
            other => other.to_string(),
        }
    }
}

/// Unique violations become conflicts named in product terms (by constraint name); anything else
/// from the database is internal.
impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
            return AppError::Conflict(conflict_message(&detail).into());
        }
        AppError::internal(err)
    }
}

fn conflict_message(detail: &str) -> &'static str {
    const KNOWN: &[(&[&str], &str)] = &[
        (
            &["ux_memberships_user_organization", "memberships.user_id"],
            "this user is already a member of that organisation",
        ),
        (&["ux_users_oidc_identity", "users.oidc_issuer"], "this identity is already linked to a user"),
        (
            &["ux_idempotency_keys_user_operation_key", "idempotency_keys.user_id"],
            "this idempotency key is being used by another request",
        ),
    ];
    KNOWN
        .iter()
        .find(|(needles, _)| needles.iter().any(|n| detail.contains(n)))
        .map(|(_, message)| *message)
        .unwrap_or("this conflicts with an existing record")
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let mut error = async_graphql::Error::new(err.public_message());
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", err.code());
        if let AppError::BadInput { field: Some(field), .. } = &err {
            extensions.set("field", field.as_str());
        }
        if let AppError::Duplicate { by } = &err {
            extensions.set("field", *by);
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
    fn internal_text_never_reaches_the_client() {
        let err: async_graphql::Error = AppError::internal("relation \"users\" does not exist").into();
        assert!(!err.message.contains("users"));
        assert!(err.message.starts_with("internal error"));
    }

    #[test]
    fn unique_violations_are_named_by_constraint() {
        assert_eq!(
            conflict_message("duplicate key value violates unique constraint \"ux_memberships_user_organization\""),
            "this user is already a member of that organisation"
        );
        assert_eq!(
            conflict_message("UNIQUE constraint failed: memberships.user_id, memberships.organization_id"),
            "this user is already a member of that organisation"
        );
    }
}
