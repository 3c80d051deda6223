//! The GraphQL face of every stored status, kind and role: one enum each, mirroring the
//! database enum it comes from (`remote`), so that a value added there fails to compile here
//! until the API shows it too.

use async_graphql::Enum;

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::OrganizationKind")]
pub enum OrganizationKind {
    /// The company that runs the programmes.
    Vendor,
    Partner,
    Customer,
    Distributor,
}

/// Roles per organisation kind: vendor ADMIN, CHANNEL_MANAGER, FINANCE; partner ADMIN, SALES,
/// TECHNICAL, BILLING; customer ADMIN, BILLING, MEMBER; distributor ADMIN, MEMBER.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::Role")]
pub enum Role {
    Admin,
    ChannelManager,
    Finance,
    Sales,
    Technical,
    Billing,
    Member,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::UserKind")]
pub enum UserKind {
    /// Someone who signs in through SSO.
    Person,
    /// An integration, reached by API token only.
    ServiceAccount,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "GrantStatus", remote = "crate::domain::GrantStatus")]
pub enum GrantStatus {
    /// Asked by one side, waiting for the other.
    Pending,
    /// In force until `endsAt`.
    Active,
    /// Past its end (or a request nobody answered).
    Expired,
    /// Taken back by the customer.
    Revoked,
    /// Given up by the partner.
    Ended,
    /// Refused by the side that was asked.
    Declined,
}

/// Which side asked for a grant; the other side answers.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "GrantSide", remote = "crate::domain::GrantSide")]
pub enum GrantSide {
    Partner,
    Customer,
}

/// What a grant covers: the whole account, or only the subscriptions it lists.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::GrantScope")]
pub enum GrantScopeKind {
    Account,
    Subscriptions,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::SubscriptionStatus")]
pub enum SubscriptionStatus {
    Active,
    /// Ended at a period's end.
    Cancelled,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::BilledTo")]
pub enum BilledTo {
    /// The partner buys at its price and re-bills its customer.
    Partner,
    /// The customer is billed at list price.
    Customer,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::SubscriptionChangeKind")]
pub enum SubscriptionChangeKind {
    Created,
    SeatsChanged,
    Upgraded,
    DowngradeScheduled,
    CancelScheduled,
    CancelUndone,
    AutoRenewSet,
    Renewed,
    Ended,
    BillingHandedOver,
}

/// A period in advance, or a prorated change for the rest of a period.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "InvoiceLineKind", remote = "crate::domain::ChargeKind")]
pub enum InvoiceLineKind {
    Period,
    Proration,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::InvoiceStatus")]
pub enum InvoiceStatus {
    Draft,
    Issued,
    Paid,
    Void,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::BillingPeriod")]
pub enum BillingPeriod {
    Monthly,
    Yearly,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "SuccessStoryStatus", remote = "crate::domain::ReviewStatus")]
pub enum SuccessStoryStatus {
    Submitted,
    Accepted,
    Rejected,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ApplicationStatus")]
pub enum ApplicationStatus {
    Submitted,
    Approved,
    Rejected,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ProgramKind")]
pub enum ProgramKind {
    /// Partners buy and resell.
    Reseller,
    /// Partners refer customers and earn commission.
    Referral,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::CourseKind")]
pub enum CourseKind {
    /// A training, such as the basic training.
    Online,
    /// An exam with a certificate.
    Certifying,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::NotificationKind")]
pub enum NotificationKind {
    GrantRequested,
    GrantOffered,
    GrantApproved,
    GrantAccepted,
    GrantDeclined,
    GrantChanged,
    GrantRevoked,
    GrantEnded,
    GrantExpired,
    GrantExtended,
    ApplicationApproved,
    ApplicationRejected,
    TierChanged,
    SuccessStoryReviewed,
    WelcomeGiftShipped,
    InvoiceIssued,
    SubscriptionBillingHandedOver,
    PartnerBilledSubscriptionsStopping,
    SubscriptionChangeRequested,
    SubscriptionChangeDecided,
}
