//! Deal registration rules with no I/O: the status machine, what counts as live, the
//! registration number and the keys that name a customer for conflict checks.

use chrono::{DateTime, Utc};

use super::DealStatus;

/// At most this many products in one registration; more is another registration.
pub const MAX_PRODUCTS: usize = 3;

/// Who acts on a deal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The registering partner (its ADMIN, or the SALES user who registered it).
    Partner,
    /// Vendor staff (ADMIN or CHANNEL_MANAGER).
    Staff,
}

/// What can be done to a deal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Edit,
    Submit,
    StartReview,
    RequestAction,
    Approve,
    Reject,
    Win,
    Lose,
    Extend,
}

impl Operation {
    pub const ALL: [Operation; 9] = [
        Operation::Edit,
        Operation::Submit,
        Operation::StartReview,
        Operation::RequestAction,
        Operation::Approve,
        Operation::Reject,
        Operation::Win,
        Operation::Lose,
        Operation::Extend,
    ];

    fn side(self) -> Side {
        match self {
            Operation::Edit | Operation::Submit | Operation::Win | Operation::Lose => Side::Partner,
            _ => Side::Staff,
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Operation::Edit => "edited",
            Operation::Submit => "submitted",
            Operation::StartReview => "taken into review",
            Operation::RequestAction => "sent back with a question",
            Operation::Approve => "approved",
            Operation::Reject => "rejected",
            Operation::Win => "marked won",
            Operation::Lose => "marked lost",
            Operation::Extend => "extended",
        }
    }
}

/// Why an operation is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The other side does this (FORBIDDEN).
    WrongSide(String),
    /// Not in this status (CONFLICT).
    WrongStatus(String),
}

/// The status an operation leads to from `status`, done by `side`.
pub fn transition(status: DealStatus, operation: Operation, side: Side) -> Result<DealStatus, Refusal> {
    use DealStatus as S;
    use Operation as O;
    if operation.side() != side {
        let who = match operation.side() {
            Side::Partner => "the registering partner",
            Side::Staff => "vendor staff",
        };
        return Err(Refusal::WrongSide(format!("only {who} may do this")));
    }
    let next = match (operation, status) {
        (O::Edit, S::Draft | S::ActionRequired) => Some(status),
        (O::Submit, S::Draft) => Some(S::Submitted),
        (O::Submit, S::ActionRequired) => Some(S::InReview),
        (O::StartReview, S::Submitted) => Some(S::InReview),
        (O::RequestAction, S::Submitted | S::InReview) => Some(S::ActionRequired),
        (O::Approve, S::Submitted | S::InReview) => Some(S::Approved),
        (O::Reject, S::Submitted | S::InReview | S::ActionRequired) => Some(S::Rejected),
        (O::Win, S::Approved) => Some(S::Won),
        (O::Lose, S::Approved) => Some(S::Lost),
        (O::Extend, S::Approved) => Some(S::Approved),
        _ => None,
    };
    next.ok_or_else(|| {
        Refusal::WrongStatus(format!(
            "a deal that is {} cannot be {}",
            status.as_str().to_lowercase().replace('_', " "),
            operation.verb()
        ))
    })
}

/// The status as of `now`: an approved deal past its protection is EXPIRED, whether or not the
/// expiry job has written it yet.
pub fn effective(status: DealStatus, protected_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DealStatus {
    match (status, protected_until) {
        (DealStatus::Approved, Some(end)) if end <= now => DealStatus::Expired,
        _ => status,
    }
}

/// Whether a deal counts for conflicts: under review or approved and protected.
pub fn is_live(status: DealStatus, protected_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    matches!(
        effective(status, protected_until, now),
        DealStatus::Submitted | DealStatus::InReview | DealStatus::ActionRequired | DealStatus::Approved
    )
}

/// `DR-<year>-<6 digits>`.
pub fn number(year: i32, sequence: i32) -> String {
    format!("DR-{year}-{sequence:06}")
}

/// The keys that name a deal's customer: its organisation, its (verified) domains, its VAT
/// number, each already normalised. Two deals conflict when they share a key and a product.
pub fn customer_keys(organization: Option<uuid::Uuid>, domains: &[String], vat: Option<&str>) -> Vec<String> {
    let mut keys: Vec<String> = organization.map(|o| format!("org:{o}")).into_iter().collect();
    keys.extend(domains.iter().map(|d| format!("domain:{d}")));
    keys.extend(vat.map(|v| format!("vat:{v}")));
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn each_operation_belongs_to_one_side() {
        for op in Operation::ALL {
            for status in DealStatus::ALL {
                let other = if op.side() == Side::Partner { Side::Staff } else { Side::Partner };
                assert!(matches!(transition(*status, op, other), Err(Refusal::WrongSide(_))), "{op:?} {status:?}");
            }
        }
    }

    #[test]
    fn the_review_path_and_its_dead_ends() {
        use DealStatus as S;
        let go = |s, op| transition(s, op, Operation::side(op));
        assert_eq!(go(S::Draft, Operation::Submit), Ok(S::Submitted));
        assert_eq!(go(S::Submitted, Operation::StartReview), Ok(S::InReview));
        assert_eq!(go(S::InReview, Operation::RequestAction), Ok(S::ActionRequired));
        assert_eq!(go(S::ActionRequired, Operation::Submit), Ok(S::InReview));
        assert_eq!(go(S::InReview, Operation::Approve), Ok(S::Approved));
        assert_eq!(go(S::Approved, Operation::Win), Ok(S::Won));
        for closed in [S::Rejected, S::Won, S::Lost, S::Expired] {
            for op in Operation::ALL {
                assert!(matches!(go(closed, op), Err(Refusal::WrongStatus(_))), "{closed:?} {op:?}");
            }
        }
        assert!(go(S::Submitted, Operation::Edit).is_err(), "a submitted deal is not edited");
        assert!(go(S::Draft, Operation::Approve).is_err(), "a draft is not approved");
    }

    /// Every (status, operation) by the operation's own side, against the rule written out as a
    /// table: the status reached, or "-" for CONFLICT.
    #[test]
    fn the_status_machine_as_a_table() {
        use DealStatus as S;
        #[rustfmt::skip]
        let table: [(S, [&str; 9]); 9] = [
            //                       Edit               Submit       StartReview  RequestAction      Approve     Reject      Win    Lose    Extend
            (S::Draft,          ["DRAFT",           "SUBMITTED", "-",         "-",               "-",        "-",        "-",   "-",    "-"]),
            (S::Submitted,      ["-",               "-",         "IN_REVIEW", "ACTION_REQUIRED", "APPROVED", "REJECTED", "-",   "-",    "-"]),
            (S::InReview,       ["-",               "-",         "-",         "ACTION_REQUIRED", "APPROVED", "REJECTED", "-",   "-",    "-"]),
            (S::ActionRequired, ["ACTION_REQUIRED", "IN_REVIEW", "-",         "-",               "-",        "REJECTED", "-",   "-",    "-"]),
            (S::Approved,       ["-",               "-",         "-",         "-",               "-",        "-",        "WON", "LOST", "APPROVED"]),
            (S::Rejected,       ["-"; 9]),
            (S::Won,            ["-"; 9]),
            (S::Lost,           ["-"; 9]),
            (S::Expired,        ["-"; 9]),
        ];
        for (status, row) in table {
            for (op, want) in Operation::ALL.into_iter().zip(row) {
                let got = match transition(status, op, op.side()) {
                    Ok(next) => next.as_str().to_string(),
                    Err(Refusal::WrongStatus(_)) => "-".to_string(),
                    Err(other) => panic!("{status:?} {op:?}: {other:?}"),
                };
                assert_eq!(got, want, "{status:?} {op:?}");
            }
        }
    }

    #[test]
    fn an_approved_deal_expires_at_its_end() {
        let now = Utc::now();
        assert_eq!(effective(DealStatus::Approved, Some(now), now), DealStatus::Expired);
        assert_eq!(effective(DealStatus::Approved, Some(now + TimeDelta::seconds(1)), now), DealStatus::Approved);
        assert!(!is_live(DealStatus::Approved, Some(now - TimeDelta::days(1)), now));
        assert!(is_live(DealStatus::ActionRequired, None, now));
        assert!(!is_live(DealStatus::Draft, None, now));
    }

    #[test]
    fn numbers_and_keys() {
        assert_eq!(number(2026, 42), "DR-2026-000042");
        let keys = customer_keys(None, &["acme.example".into()], Some("DE123456789"));
        assert_eq!(keys, vec!["domain:acme.example", "vat:DE123456789"]);
    }
}
