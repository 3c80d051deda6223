//! Opaque global IDs: base64url of `<Type>:<uuid>`. Clients must not parse them; the type lets
//! `node(id:)` find the right table.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::domain::kinds::string_enum;

string_enum!(
    NodeType {
        Organization = "Organization",
        User = "User",
        ServiceAccount = "ServiceAccount",
        Membership = "Membership",
        ApiToken = "ApiToken",
        Program = "Program",
        Tier = "Tier",
        Invitation = "Invitation",
        Grant = "Grant",
        Domain = "Domain",
        AuditEvent = "AuditEvent",
        Product = "Product",
        ProductSubscription = "ProductSubscription",
        Notification = "Notification",
        SuccessStory = "SuccessStory",
        Application = "Application",
        WelcomeGift = "WelcomeGift",
        Partnership = "Partnership",
        Plan = "Plan",
        Invoice = "Invoice",
        SubscriptionChangeRequest = "SubscriptionChangeRequest",
        Course = "Course",
        ExamResult = "ExamResult",
        GrantAssignment = "GrantAssignment",
        ProgramTerms = "ProgramTerms",
        SubscriptionChange = "SubscriptionChange",
        TierChange = "TierChange",
        TierProposal = "TierProposal",
        Questionnaire = "Questionnaire",
        QuestionnaireAnswers = "QuestionnaireAnswers",
        Deal = "Deal",
        PartnerOfRecordClaim = "PartnerOfRecordClaim",
        LedgerEntry = "LedgerEntry",
        PayoutBatch = "PayoutBatch",
        CommissionRule = "CommissionRule",
        ReferralCode = "ReferralCode",
        ReferralAttribution = "ReferralAttribution",
        RebateRate = "RebateRate",
        RebateClaim = "RebateClaim",
        WebhookEndpoint = "WebhookEndpoint",
        Delivery = "Delivery",
        Tender = "Tender",
        TenderResponse = "TenderResponse",
    }
);

pub fn encode(node_type: NodeType, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", node_type.as_str(), id.as_simple()))
}

pub fn decode(global_id: &str) -> Option<(NodeType, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(global_id.trim_end_matches('=')).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (kind, id) = text.split_once(':')?;
    Some((NodeType::parse(kind)?, Uuid::parse_str(id).ok()?))
}

/// A stable ID for a computed row that has no table of its own (a report line): the same parts
/// give the same ID in every response, so a client cache can normalise it, but `node(id:)` does
/// not fetch it (it is refetched through the list that computes it).
pub fn derived(kind: &str, parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{}", parts.join(":")))
}

/// Decodes a global ID of the expected type; any other type is treated as not found.
pub fn decode_as(expected: NodeType, global_id: &str) -> Option<Uuid> {
    decode(global_id).filter(|(t, _)| *t == expected).map(|(_, id)| id)
}

/// The organisation header accepts a global ID or a bare UUID.
pub fn decode_organization_reference(value: &str) -> Option<Uuid> {
    decode_as(NodeType::Organization, value).or_else(|| Uuid::parse_str(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects_junk() {
        let id = Uuid::now_v7();
        let gid = encode(NodeType::Organization, id);
        assert_eq!(decode(&gid), Some((NodeType::Organization, id)));
        assert_eq!(decode_as(NodeType::User, &gid), None);
        assert_eq!(decode("not base64!"), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("Bogus:1")), None);
        assert_eq!(decode_organization_reference(&id.to_string()), Some(id));
        let row = derived("BillingReportRow", &["a", "b", "2026-11"]);
        assert_eq!(row, derived("BillingReportRow", &["a", "b", "2026-11"]));
        assert_eq!(decode(&row), None, "not a node");
    }
}
