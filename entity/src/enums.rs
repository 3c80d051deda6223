//! Every status, kind and role column, as an enum stored by its text. The text is what the
//! database holds (a CHECK constraint on PostgreSQL, a trigger on SQLite, refuses any other) and
//! what the API shows; the Rust code names variants only.

use sea_orm::entity::prelude::*;

macro_rules! db_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum,
            serde::Serialize, serde::Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(48))")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $text)] #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the database and shown in the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Every enum column: (table, column, the texts it may hold). Migrations build the database's
/// constraints from this list, and a test checks that it names every enum column.
pub fn columns() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    fn texts<E: Copy + 'static>(all: &'static [E], text: fn(E) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|e| text(*e)).collect()
    }
    vec![
        ("organizations", "kind", texts(OrganizationKind::ALL, OrganizationKind::as_str)),
        ("users", "kind", texts(UserKind::ALL, UserKind::as_str)),
        ("memberships", "role", texts(Role::ALL, Role::as_str)),
        ("invitations", "role", texts(Role::ALL, Role::as_str)),
        ("grants", "status", texts(GrantStatus::ALL, GrantStatus::as_str)),
        ("grants", "scope", texts(GrantScope::ALL, GrantScope::as_str)),
        ("grants", "requested_by", texts(GrantSide::ALL, GrantSide::as_str)),
        ("subscriptions", "status", texts(SubscriptionStatus::ALL, SubscriptionStatus::as_str)),
        ("subscriptions", "billed_to", texts(BilledTo::ALL, BilledTo::as_str)),
        ("subscription_changes", "kind", texts(SubscriptionChangeKind::ALL, SubscriptionChangeKind::as_str)),
        ("subscription_change_requests", "status", texts(ChangeRequestStatus::ALL, ChangeRequestStatus::as_str)),
        ("charges", "kind", texts(ChargeKind::ALL, ChargeKind::as_str)),
        ("invoices", "status", texts(InvoiceStatus::ALL, InvoiceStatus::as_str)),
        ("invoice_lines", "kind", texts(ChargeKind::ALL, ChargeKind::as_str)),
        ("plans", "billing_period", texts(BillingPeriod::ALL, BillingPeriod::as_str)),
        ("success_stories", "status", texts(ReviewStatus::ALL, ReviewStatus::as_str)),
        ("applications", "status", texts(ApplicationStatus::ALL, ApplicationStatus::as_str)),
        ("programs", "kind", texts(ProgramKind::ALL, ProgramKind::as_str)),
        ("courses", "kind", texts(CourseKind::ALL, CourseKind::as_str)),
        ("notifications", "kind", texts(NotificationKind::ALL, NotificationKind::as_str)),
        ("deals", "status", texts(DealStatus::ALL, DealStatus::as_str)),
        ("deals", "rejection_code", texts(DealRejectionCode::ALL, DealRejectionCode::as_str)),
        ("deals", "lost_reason", texts(DealLostReason::ALL, DealLostReason::as_str)),
        ("deal_events", "to_status", texts(DealStatus::ALL, DealStatus::as_str)),
        ("partner_of_record_claims", "status", texts(RecordClaimStatus::ALL, RecordClaimStatus::as_str)),
        ("ledger_entries", "kind", texts(EntryKind::ALL, EntryKind::as_str)),
        ("ledger_entries", "source_type", texts(EntrySource::ALL, EntrySource::as_str)),
        ("ledger_entry_states", "state", texts(EntryState::ALL, EntryState::as_str)),
        ("payout_batches", "status", texts(PayoutStatus::ALL, PayoutStatus::as_str)),
        ("rebate_claims", "status", texts(ClaimStatus::ALL, ClaimStatus::as_str)),
        ("rebate_claims", "rejection_code", texts(ClaimRejection::ALL, ClaimRejection::as_str)),
        ("rebate_claim_lines", "distributor_mark", texts(LineMark::ALL, LineMark::as_str)),
        ("users", "language", texts(Language::ALL, Language::as_str)),
        ("deliveries", "language", texts(Language::ALL, Language::as_str)),
        ("deliveries", "channel", texts(DeliveryChannel::ALL, DeliveryChannel::as_str)),
        ("deliveries", "status", texts(DeliveryStatus::ALL, DeliveryStatus::as_str)),
        ("partner_profile_tags", "kind", texts(ProfileTagKind::ALL, ProfileTagKind::as_str)),
        ("tenders", "status", texts(TenderStatus::ALL, TenderStatus::as_str)),
        ("tender_tags", "kind", texts(TenderTagKind::ALL, TenderTagKind::as_str)),
        ("tier_proposals", "direction", texts(ProposalDirection::ALL, ProposalDirection::as_str)),
        ("tier_proposals", "status", texts(ProposalStatus::ALL, ProposalStatus::as_str)),
    ]
}

db_enum!(
    /// One deployment has one VENDOR; every other organisation has one of the other kinds.
    OrganizationKind { Vendor = "VENDOR", Partner = "PARTNER", Customer = "CUSTOMER", Distributor = "DISTRIBUTOR" }
);

db_enum!(
    /// A membership's role. Which roles exist depends on the organisation's kind.
    Role {
        Admin = "ADMIN",
        ChannelManager = "CHANNEL_MANAGER",
        Finance = "FINANCE",
        Sales = "SALES",
        Technical = "TECHNICAL",
        Billing = "BILLING",
        Member = "MEMBER",
    }
);

db_enum!(UserKind { Person = "PERSON", ServiceAccount = "SERVICE_ACCOUNT" });

db_enum!(
    GrantStatus {
        Pending = "PENDING",
        Active = "ACTIVE",
        Expired = "EXPIRED",
        Revoked = "REVOKED",
        Ended = "ENDED",
        Declined = "DECLINED",
    }
);

db_enum!(
    /// Which side asked for the grant; the other side answers.
    GrantSide { Partner = "PARTNER", Customer = "CUSTOMER" }
);

db_enum!(
    /// What a grant covers: the whole account, or only the subscriptions listed beside it.
    GrantScope { Account = "ACCOUNT", Subscriptions = "SUBSCRIPTIONS" }
);

db_enum!(
    /// ACTIVE, or CANCELLED once it has ended.
    SubscriptionStatus { Active = "ACTIVE", Cancelled = "CANCELLED" }
);

db_enum!(
    /// Who pays: the partner (it buys at its price and re-bills) or the customer (list price).
    BilledTo { Partner = "PARTNER", Customer = "CUSTOMER" }
);

db_enum!(
    SubscriptionChangeKind {
        Created = "CREATED",
        SeatsChanged = "SEATS_CHANGED",
        Upgraded = "UPGRADED",
        DowngradeScheduled = "DOWNGRADE_SCHEDULED",
        CancelScheduled = "CANCEL_SCHEDULED",
        CancelUndone = "CANCEL_UNDONE",
        AutoRenewSet = "AUTO_RENEW_SET",
        Renewed = "RENEWED",
        Ended = "ENDED",
        BillingHandedOver = "BILLING_HANDED_OVER",
    }
);

db_enum!(
    ChangeRequestStatus { Pending = "PENDING", Approved = "APPROVED", Declined = "DECLINED", Withdrawn = "WITHDRAWN" }
);

db_enum!(
    /// A period in advance, or a prorated change for the rest of a period.
    ChargeKind { Period = "PERIOD", Proration = "PRORATION", ProgrammeFee = "PROGRAMME_FEE" }
);

db_enum!(InvoiceStatus { Draft = "DRAFT", Issued = "ISSUED", Paid = "PAID", Void = "VOID", Refunded = "REFUNDED" });

db_enum!(BillingPeriod { Monthly = "MONTHLY", Yearly = "YEARLY" });

db_enum!(
    /// A success story's review.
    ReviewStatus { Submitted = "SUBMITTED", Accepted = "ACCEPTED", Rejected = "REJECTED" }
);

db_enum!(ApplicationStatus { Submitted = "SUBMITTED", Approved = "APPROVED", Rejected = "REJECTED" });

db_enum!(ProgramKind { Reseller = "RESELLER", Referral = "REFERRAL" });

db_enum!(
    /// ONLINE (e.g. the basic training) or CERTIFYING (an exam with a certificate).
    CourseKind { Online = "ONLINE", Certifying = "CERTIFYING" }
);

db_enum!(
    /// What a directory filter value of a partner's profile is.
    ProfileTagKind { Language = "LANGUAGE", Expertise = "EXPERTISE", ProductLine = "PRODUCT_LINE" }
);

db_enum!(
    /// Where a call for tenders stands: UNCONFIRMED until its visitor author confirms the e-mail,
    /// OPEN until the deadline, then CLOSED; AWARDED once the author picked a response.
    TenderStatus { Unconfirmed = "UNCONFIRMED", Open = "OPEN", Closed = "CLOSED", Awarded = "AWARDED" }
);

db_enum!(
    /// What a tender is restricted to or about: a country of its region, an expertise, a product line.
    TenderTagKind { Region = "REGION", Expertise = "EXPERTISE", ProductLine = "PRODUCT_LINE" }
);

db_enum!(
    NotificationKind {
        GrantRequested = "GRANT_REQUESTED",
        GrantOffered = "GRANT_OFFERED",
        GrantApproved = "GRANT_APPROVED",
        GrantAccepted = "GRANT_ACCEPTED",
        GrantDeclined = "GRANT_DECLINED",
        GrantChanged = "GRANT_CHANGED",
        GrantRevoked = "GRANT_REVOKED",
        GrantEnded = "GRANT_ENDED",
        GrantExpired = "GRANT_EXPIRED",
        GrantExtended = "GRANT_EXTENDED",
        ApplicationApproved = "APPLICATION_APPROVED",
        ApplicationRejected = "APPLICATION_REJECTED",
        TierChanged = "TIER_CHANGED",
        SuccessStoryReviewed = "SUCCESS_STORY_REVIEWED",
        WelcomeGiftShipped = "WELCOME_GIFT_SHIPPED",
        InvoiceIssued = "INVOICE_ISSUED",
        SubscriptionBillingHandedOver = "SUBSCRIPTION_BILLING_HANDED_OVER",
        PartnerBilledSubscriptionsStopping = "PARTNER_BILLED_SUBSCRIPTIONS_STOPPING",
        SubscriptionChangeRequested = "SUBSCRIPTION_CHANGE_REQUESTED",
        SubscriptionChangeDecided = "SUBSCRIPTION_CHANGE_DECIDED",
        DealStatusChanged = "DEAL_STATUS_CHANGED",
        DealExpiring = "DEAL_EXPIRING",
        PartnerOfRecordClaimed = "PARTNER_OF_RECORD_CLAIMED",
        PartnerOfRecordDecided = "PARTNER_OF_RECORD_DECIDED",
        PartnerOfRecordEnded = "PARTNER_OF_RECORD_ENDED",
        PayoutMade = "PAYOUT_MADE",
        RebateClaimDecided = "REBATE_CLAIM_DECIDED",
        GrantExpiring = "GRANT_EXPIRING",
        Invitation = "INVITATION",
        WebhookEndpointDisabled = "WEBHOOK_ENDPOINT_DISABLED",
        TenderConfirmation = "TENDER_CONFIRMATION",
        TenderPublished = "TENDER_PUBLISHED",
        TenderAwarded = "TENDER_AWARDED",
        TenderNotAwarded = "TENDER_NOT_AWARDED",
        TenderDigest = "TENDER_DIGEST",
        TierGraceStarted = "TIER_GRACE_STARTED",
        TierGraceRecovered = "TIER_GRACE_RECOVERED",
    }
);

db_enum!(
    /// The language a person reads notifications in.
    Language { En = "EN", De = "DE", Fr = "FR", Pl = "PL", Es = "ES" }
);

db_enum!(
    /// How a notification leaves: an e-mail to a person, or a signed POST to a webhook endpoint.
    DeliveryChannel { Email = "EMAIL", Webhook = "WEBHOOK" }
);

db_enum!(
    /// A delivery waits (first try or a retry), went out, or gave up after its last attempt.
    DeliveryStatus { Pending = "PENDING", Delivered = "DELIVERED", Dead = "DEAD" }
);

db_enum!(
    /// A deal registration's review status, then its outcome.
    DealStatus {
        Draft = "DRAFT",
        Submitted = "SUBMITTED",
        InReview = "IN_REVIEW",
        ActionRequired = "ACTION_REQUIRED",
        Approved = "APPROVED",
        Rejected = "REJECTED",
        Won = "WON",
        Lost = "LOST",
        Expired = "EXPIRED",
    }
);

db_enum!(
    /// Why staff rejected a deal registration.
    DealRejectionCode {
        /// Another partner's registration for the customer and product was approved.
        Conflict = "CONFLICT",
        NotQualified = "NOT_QUALIFIED",
        Duplicate = "DUPLICATE",
        Incomplete = "INCOMPLETE",
        Other = "OTHER",
    }
);

db_enum!(
    /// Why an approved deal was lost.
    DealLostReason {
        Price = "PRICE",
        Competitor = "COMPETITOR",
        NoBudget = "NO_BUDGET",
        NoDecision = "NO_DECISION",
        Other = "OTHER",
    }
);

db_enum!(
    /// A partner's claim to advise a customer.
    RecordClaimStatus {
        /// Waiting for the customer's ADMIN (or staff).
        Claimed = "CLAIMED",
        /// The partner of record: earns from its confirmation on.
        Confirmed = "CONFIRMED",
        Denied = "DENIED",
        /// Replaced by a newer confirmed claim, or ended by staff.
        Ended = "ENDED",
        /// Taken back by the partner before an answer.
        Withdrawn = "WITHDRAWN",
    }
);

db_enum!(
    /// What a ledger entry is.
    EntryKind {
        Commission = "COMMISSION",
        Rebate = "REBATE",
        Adjustment = "ADJUSTMENT",
        Reversal = "REVERSAL",
        Payout = "PAYOUT",
    }
);

db_enum!(
    /// What a ledger entry was posted from.
    EntrySource {
        InvoiceLine = "INVOICE_LINE",
        Claim = "CLAIM",
        QuarterClose = "QUARTER_CLOSE",
        PayoutBatch = "PAYOUT_BATCH",
        LedgerEntry = "LEDGER_ENTRY",
    }
);

db_enum!(
    /// Where a ledger entry's money stands.
    EntryState {
        /// Held, with a reason and the date it is released.
        Pending = "PENDING",
        /// Owed, paid in the next payout batch.
        Approved = "APPROVED",
        Paid = "PAID",
        /// Cancelled with its reversal before it was paid: the two net to zero.
        Reversed = "REVERSED",
        Duplicate = "DUPLICATE",
        Fraud = "FRAUD",
    }
);

db_enum!(PayoutStatus { Running = "RUNNING", Completed = "COMPLETED" });

db_enum!(
    /// A rebate claim's review status.
    ClaimStatus {
        /// Waiting for staff.
        Open = "OPEN",
        /// Its rebate is in the ledger.
        Accepted = "ACCEPTED",
        /// Refused with a reason; after acceptance its rebate was reversed.
        Rejected = "REJECTED",
    }
);

db_enum!(
    /// Why staff rejected a rebate claim.
    ClaimRejection {
        /// The quantities claimed do not match the invoice.
        QuantityMismatch = "QUANTITY_MISMATCH",
        Duplicate = "DUPLICATE",
        /// The distributor is not (or no longer) on the approved list.
        DistributorNotApproved = "DISTRIBUTOR_NOT_APPROVED",
        PartnerStatusChanged = "PARTNER_STATUS_CHANGED",
        UnusualActivity = "UNUSUAL_ACTIVITY",
        /// With a text.
        Other = "OTHER",
    }
);

db_enum!(
    /// A distributor's mark on a claim line.
    LineMark { Confirmed = "CONFIRMED", Disputed = "DISPUTED" }
);

db_enum!(
    /// Whether a tier proposal moves a partner up or down.
    ProposalDirection { Upgrade = "UPGRADE", Downgrade = "DOWNGRADE" }
);

db_enum!(
    /// OPEN until staff confirm or dismiss it, or the evaluation withdraws it.
    ProposalStatus { Open = "OPEN", Confirmed = "CONFIRMED", Dismissed = "DISMISSED", Withdrawn = "WITHDRAWN" }
);
