//! Grant rules with no I/O: statuses, lifetimes, what each partner role may do at most.

use chrono::{DateTime, Months, TimeDelta, Utc};

use super::{Rights, Role};

pub use entity::enums::{GrantScope, GrantSide, GrantStatus};

/// Whether a grant gives access at `now`: ACTIVE and not past its end, whether or not the
/// expiry job has marked it yet. The same rule in SQL is `policy::live_grant`.
pub fn is_live(status: GrantStatus, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status == GrantStatus::Active && ends_at > now
}

/// A grant's status as of `now`: an ACTIVE grant or a PENDING request past its end reads
/// EXPIRED, whether or not the expiry job has marked it yet. `policy::open_grant` is the SQL for
/// "PENDING or ACTIVE as of now".
pub fn status_at(status: GrantStatus, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> GrantStatus {
    match status {
        GrantStatus::Active | GrantStatus::Pending if ends_at <= now => GrantStatus::Expired,
        other => other,
    }
}

/// A partner's ADMIN acts for every granted customer; anyone else needs an assignment under
/// the grant. The SQL form is `policy::rights_expr`.
pub fn needs_assignment(role: Role) -> bool {
    role != Role::Admin
}

/// How long a grant runs when the request does not say.
pub const DEFAULT_DURATION_DAYS: i32 = 365;

/// A grant runs at most two years.
pub const MAX_DURATION_DAYS: i32 = 730;
/// A request nobody answers lapses after 90 days.
pub const PENDING_VALIDITY: TimeDelta = TimeDelta::days(90);
/// The one automatic extension.
pub const AUTO_EXTENSION: Months = Months::new(6);

/// The most a partner employee of `role` can do on a customer, whatever the grant says.
pub fn role_mask(role: Role) -> Rights {
    match role {
        Role::Admin => Rights::ALL,
        Role::Sales => Rights::MANAGE_PRODUCTS.union(Rights::VIEW_BILLING),
        Role::Technical => Rights::MANAGE_PRODUCTS.union(Rights::MANAGE_USERS),
        Role::Billing => Rights::VIEW_BILLING.union(Rights::MANAGE_BILLING),
        Role::ChannelManager | Role::Finance | Role::Member => Rights::NONE,
    }
}

/// Effective rights = grant ∩ assignment ∩ role; a partner admin needs no assignment.
pub fn effective(grant: Rights, assignment: Option<Rights>, role: Role) -> Rights {
    let assigned = if needs_assignment(role) { assignment.unwrap_or(Rights::NONE) } else { Rights::ALL };
    grant.intersect(assigned).intersect(role_mask(role))
}

pub fn validate_duration(days: i32) -> Result<i32, String> {
    if (1..=MAX_DURATION_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(format!("must be 1 to {MAX_DURATION_DAYS} days"))
    }
}

/// Auto-extension is never allowed for a grant that can manage the customer's users.
pub fn validate_auto_extend(auto_extend: bool, rights: Rights) -> Result<(), String> {
    if auto_extend && rights.contains(Rights::MANAGE_USERS) {
        Err("a grant with MANAGE_USERS cannot extend itself".into())
    } else {
        Ok(())
    }
}

/// The end an approver may set: after now, and no later than the requested duration allows.
pub fn validate_end(
    requested_end: DateTime<Utc>,
    wanted: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    if wanted <= now {
        return Err("must be in the future".into());
    }
    if wanted > requested_end {
        return Err("may shorten the grant, not lengthen it".into());
    }
    Ok(wanted)
}

/// What the expiry job does with a live grant past its end.
#[derive(Debug, PartialEq, Eq)]
pub enum AtEnd {
    Extend(DateTime<Utc>),
    Expire,
}

pub fn at_end(ends_at: DateTime<Utc>, auto_extend: bool, already_extended: bool, rights: Rights) -> AtEnd {
    if auto_extend && !already_extended && !rights.contains(Rights::MANAGE_USERS) {
        AtEnd::Extend(ends_at.checked_add_months(AUTO_EXTENSION).unwrap_or(ends_at))
    } else {
        AtEnd::Expire
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_rights_are_the_intersection() {
        let grant = Rights::MANAGE_PRODUCTS.union(Rights::VIEW_BILLING).union(Rights::MANAGE_USERS);
        assert_eq!(effective(grant, None, Role::Admin), grant);
        assert_eq!(effective(grant, None, Role::Sales), Rights::NONE, "no assignment, nothing");
        assert_eq!(
            effective(grant, Some(Rights::ALL), Role::Sales),
            Rights::MANAGE_PRODUCTS.union(Rights::VIEW_BILLING)
        );
        assert_eq!(effective(grant, Some(Rights::MANAGE_USERS), Role::Billing), Rights::NONE);
        assert_eq!(effective(Rights::NONE, Some(Rights::ALL), Role::Admin), Rights::NONE);
    }

    #[test]
    fn lifetimes() {
        assert!(validate_duration(730).is_ok());
        assert!(validate_duration(731).is_err());
        assert!(validate_duration(0).is_err());
        assert!(validate_auto_extend(true, Rights::ALL).is_err());
        assert!(validate_auto_extend(true, Rights::VIEW_BILLING).is_ok());
        let now = Utc::now();
        assert!(validate_end(now + TimeDelta::days(10), now + TimeDelta::days(5), now).is_ok());
        assert!(validate_end(now + TimeDelta::days(10), now + TimeDelta::days(11), now).is_err());
        assert!(validate_end(now + TimeDelta::days(10), now, now).is_err());
    }

    #[test]
    fn auto_extension_happens_once_and_never_with_manage_users() {
        let end = "2026-01-31T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            at_end(end, true, false, Rights::VIEW_BILLING),
            AtEnd::Extend("2026-07-31T00:00:00Z".parse().unwrap())
        );
        assert_eq!(at_end(end, true, true, Rights::VIEW_BILLING), AtEnd::Expire);
        assert_eq!(at_end(end, true, false, Rights::ALL), AtEnd::Expire);
        assert_eq!(at_end(end, false, false, Rights::VIEW_BILLING), AtEnd::Expire);
    }
}
