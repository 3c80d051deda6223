//! What the outbox tells, and to whom within an organisation: a notification is read with the
//! same rights as the object it describes (an invoice's totals only by those who read invoices).

use super::Role;

pub use entity::enums::NotificationKind;

/// Who in the addressed organisation reads a notification of a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Every member (grants, programme decisions: every member sees those objects).
    Everyone,
    /// Those who read the organisation's bills: ADMIN, BILLING, and the vendor's FINANCE.
    Billing,
    /// The organisation's ADMINs (its integrations: webhook endpoints).
    Admins,
}

pub const BILLING_READERS: [Role; 3] = [Role::Admin, Role::Billing, Role::Finance];

/// Who reads each kind of notification.
pub trait Audiences: Sized {
    fn audience(self) -> Audience;
    /// Whether a member with `role` reads notifications of this kind addressed to its organisation.
    fn read_by(self, role: Role) -> bool;
    /// The kinds a member with `role` reads.
    fn read_by_role(role: Role) -> Vec<Self>;
}

impl Audiences for NotificationKind {
    fn audience(self) -> Audience {
        use NotificationKind::*;
        match self {
            InvoiceIssued | SubscriptionBillingHandedOver | PartnerBilledSubscriptionsStopping | PayoutMade => {
                Audience::Billing
            }
            WebhookEndpointDisabled => Audience::Admins,
            _ => Audience::Everyone,
        }
    }

    fn read_by(self, role: Role) -> bool {
        match self.audience() {
            Audience::Everyone => true,
            Audience::Billing => BILLING_READERS.contains(&role),
            Audience::Admins => role == Role::Admin,
        }
    }

    fn read_by_role(role: Role) -> Vec<NotificationKind> {
        NotificationKind::ALL.iter().copied().filter(|k| k.read_by(role)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoice_totals_reach_those_who_read_invoices() {
        assert!(NotificationKind::InvoiceIssued.read_by(Role::Billing));
        assert!(NotificationKind::InvoiceIssued.read_by(Role::Admin));
        assert!(!NotificationKind::InvoiceIssued.read_by(Role::Sales));
        assert!(!NotificationKind::InvoiceIssued.read_by(Role::Member));
        assert!(NotificationKind::GrantRevoked.read_by(Role::Technical));
        assert!(!NotificationKind::read_by_role(Role::Sales).contains(&NotificationKind::InvoiceIssued));
    }
}
