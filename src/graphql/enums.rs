//! The GraphQL face of every stored status, kind and role: one enum each, mirroring the
//! database enum it comes from (`remote`), so that a value added there fails to compile here
//! until the API shows it too.

use async_graphql::Enum;

/// What an organisation is to the vendor.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::OrganizationKind")]
pub enum OrganizationKind {
    /// The company that runs the programmes.
    Vendor,
    /// Sells or refers the vendor's products under a programme, and manages its customers' accounts.
    Partner,
    /// Uses the products; grants partners access to its account.
    Customer,
    /// Supplies partners; sees the partners it serves.
    Distributor,
}

/// Roles per organisation kind: vendor ADMIN, CHANNEL_MANAGER, FINANCE; partner ADMIN, SALES,
/// TECHNICAL, BILLING; customer ADMIN, BILLING, MEMBER; distributor ADMIN, MEMBER.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::Role")]
pub enum Role {
    /// Everything in its organisation, including members and access.
    Admin,
    /// Vendor staff: programmes, tiers, applications and partners.
    ChannelManager,
    /// Vendor staff: catalog prices, invoices and payments.
    Finance,
    /// Partner staff: customers and subscriptions it is assigned to.
    Sales,
    /// Partner staff: customer accounts it is assigned to, without billing.
    Technical,
    /// Invoices and payments of its organisation.
    Billing,
    /// Reads its organisation; a customer's ordinary user.
    Member,
}

/// A person or an integration.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::UserKind")]
pub enum UserKind {
    /// Someone who signs in through SSO.
    Person,
    /// An integration, reached by API token only.
    ServiceAccount,
}

/// Where a grant is in its life.
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
    /// The partner asked (or created the customer); the customer answers.
    Partner,
    /// The customer offered; the partner answers.
    Customer,
}

/// What a grant covers: the whole account, or only the subscriptions it lists.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::GrantScope")]
pub enum GrantScopeKind {
    /// The whole customer account, every subscription included.
    Account,
    /// Only the subscriptions the grant lists.
    Subscriptions,
}

/// Whether a subscription is in force.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::SubscriptionStatus")]
pub enum SubscriptionStatus {
    /// In force; renews at `renewsAt` unless cancelled.
    Active,
    /// Ended at a period's end.
    Cancelled,
}

/// Who pays for a subscription.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::BilledTo")]
pub enum BilledTo {
    /// The partner buys at its price and re-bills its customer.
    Partner,
    /// The customer is billed at list price.
    Customer,
}

/// What happened to a subscription, in its history.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::SubscriptionChangeKind")]
pub enum SubscriptionChangeKind {
    /// Subscribed.
    Created,
    /// Seats added (prorated now) or removed (from the next period).
    SeatsChanged,
    /// Moved to a higher-ranked plan at once, prorated.
    Upgraded,
    /// Will move to a lower-ranked plan at renewal.
    DowngradeScheduled,
    /// Will end at the period's end.
    CancelScheduled,
    /// A scheduled cancellation was taken back.
    CancelUndone,
    /// Automatic renewal turned on or off.
    AutoRenewSet,
    /// A new period began (and was charged).
    Renewed,
    /// Ended at a period's end.
    Ended,
    /// Billing moved from the partner to the customer.
    BillingHandedOver,
}

/// A period in advance, or a prorated change for the rest of a period.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "InvoiceLineKind", remote = "crate::domain::ChargeKind")]
pub enum InvoiceLineKind {
    /// A whole period, billed in advance.
    Period,
    /// A change for the rest of a period (a credit when negative).
    Proration,
    /// A partner's yearly programme fee.
    ProgrammeFee,
}

/// Where an invoice is in its life; invoices are never deleted.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::InvoiceStatus")]
pub enum InvoiceStatus {
    /// Made by a billing run, not yet sent; may still be voided without trace to the customer.
    Draft,
    /// Sent and due.
    Issued,
    /// Payments cover its total.
    Paid,
    /// Cancelled with a reason; keeps its number.
    Void,
    /// Paid, then its money went back to the payer: commission on it is reversed.
    Refunded,
}

/// How often a plan is billed.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::BillingPeriod")]
pub enum BillingPeriod {
    /// Billed each month, in advance.
    Monthly,
    /// Billed each year, in advance.
    Yearly,
}

/// Where a success story is in review.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "SuccessStoryStatus", remote = "crate::domain::ReviewStatus")]
pub enum SuccessStoryStatus {
    /// Waiting for the channel team.
    Submitted,
    /// Counts toward tier requirements.
    Accepted,
    /// Does not count; the reviewer says why.
    Rejected,
}

/// Where an application to a programme is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ApplicationStatus")]
pub enum ApplicationStatus {
    /// Waiting for the channel team.
    Submitted,
    /// The applicant became a partner in the programme.
    Approved,
    /// Declined, with a reason.
    Rejected,
}

/// How partners earn in a programme.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ProgramKind")]
pub enum ProgramKind {
    /// Partners buy and resell.
    Reseller,
    /// Partners refer customers and earn commission.
    Referral,
}

/// What a course is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::CourseKind")]
pub enum CourseKind {
    /// A training, such as the basic training.
    Online,
    /// An exam with a certificate.
    Certifying,
}

/// What a notification is about.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::NotificationKind")]
pub enum NotificationKind {
    /// A partner asks for access to your account.
    GrantRequested,
    /// A customer offers your organisation access.
    GrantOffered,
    /// The customer approved your request for access.
    GrantApproved,
    /// The partner accepted the access you offered.
    GrantAccepted,
    /// The other side declined a request or offer.
    GrantDeclined,
    /// The rights, scope or end of a grant changed.
    GrantChanged,
    /// The customer revoked a partner's access.
    GrantRevoked,
    /// The partner gave up its access.
    GrantEnded,
    /// A grant reached its end.
    GrantExpired,
    /// A grant was extended automatically.
    GrantExtended,
    /// Your application to a programme was approved.
    ApplicationApproved,
    /// Your application to a programme was rejected.
    ApplicationRejected,
    /// Your tier in a programme changed.
    TierChanged,
    /// A success story you submitted was accepted or rejected.
    SuccessStoryReviewed,
    /// Your welcome gift was shipped.
    WelcomeGiftShipped,
    /// An invoice to your organisation was issued.
    InvoiceIssued,
    /// A subscription's billing moved from the partner to the customer.
    SubscriptionBillingHandedOver,
    /// Your partner's access ended, so the subscriptions it pays for stop renewing.
    PartnerBilledSubscriptionsStopping,
    /// A customer asks its paying partner for a change.
    SubscriptionChangeRequested,
    /// The partner approved or declined a change you asked for.
    SubscriptionChangeDecided,
    /// A grant ends within a week.
    GrantExpiring,
    /// An invitation to join an organisation (sent by e-mail only).
    Invitation,
    /// A webhook endpoint kept failing and was disabled.
    WebhookEndpointDisabled,
    /// A deal you registered changed status (approved, rejected, questioned, expired).
    DealStatusChanged,
    /// The protection of a deal you registered ends within 14 days.
    DealExpiring,
    /// A partner claims to be your advising partner (partner of record).
    PartnerOfRecordClaimed,
    /// The customer (or staff) confirmed or denied your partner-of-record claim.
    PartnerOfRecordDecided,
    /// Another partner became the partner of record in your place, or staff ended your claim.
    PartnerOfRecordEnded,
    /// A payout batch paid your organisation.
    PayoutMade,
    /// Staff accepted or rejected a rebate claim of yours.
    RebateClaimDecided,
    /// A visitor's call for tenders waits for its e-mail to be confirmed (sent to that address).
    TenderConfirmation,
    /// A visitor's call for tenders is published; the mail carries its private link.
    TenderPublished,
    /// The author of a tender picked your response.
    TenderAwarded,
    /// The author of a tender you responded to picked another response.
    TenderNotAwarded,
    /// The day's new calls for tenders that match your organisation.
    TenderDigest,
    /// A partner no longer meets its tier: its grace period started (what is missing, and when
    /// it ends). Sent to the partner and to the vendor's channel team.
    TierGraceStarted,
    /// The partner meets its tier again: the grace period is over, the tier stays.
    TierGraceRecovered,
}
