//! Relay's `Node` interface: every object can be fetched again by its global ID. An object the
//! caller may not see resolves exactly like an id that does not exist: `null`, no error.

use async_graphql::{Context, ID, Interface, Object};
use entity::{api_token, grant, invitation, membership, organization, program, tier, user};

use super::{
    billing::{Invoice, Plan, SubscriptionChange},
    change_requests::SubscriptionChangeRequest,
    context::ContextExt,
    customers::{AuditEvent, Domain, Grant, GrantAssignment, Product, ProductSubscription},
    loaders::load,
    members::Invitation,
    onboarding::{Application, Partnership, ProgramTerms, WelcomeGift},
    programs::{Course, ExamResult, SuccessStory, TierChange},
    questionnaires::{Questionnaire, QuestionnaireAnswers, TierProposal},
    types::{ApiToken, Membership, Organization, Program, ServiceAccount, Tier, User},
    viewer::Notification,
};
use crate::{
    error::AppError,
    ids::{self, NodeType},
    service::service_accounts,
};

/// An object with a global ID that `node(id:)` fetches again (Relay's object identification).
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global identifier"))]
// One value per answer, moved once: a box per node would cost more than the size.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    Organization(Organization),
    User(User),
    ServiceAccount(ServiceAccount),
    Membership(Membership),
    ApiToken(ApiToken),
    Program(Program),
    Tier(Tier),
    Invitation(Invitation),
    Grant(Grant),
    Domain(Domain),
    AuditEvent(AuditEvent),
    Product(Product),
    ProductSubscription(ProductSubscription),
    Notification(Notification),
    SuccessStory(SuccessStory),
    Application(Application),
    WelcomeGift(WelcomeGift),
    Partnership(Partnership),
    Plan(Plan),
    Invoice(Invoice),
    SubscriptionChangeRequest(SubscriptionChangeRequest),
    Course(Course),
    ExamResult(ExamResult),
    GrantAssignment(GrantAssignment),
    ProgramTerms(ProgramTerms),
    SubscriptionChange(SubscriptionChange),
    TierChange(TierChange),
    TierProposal(TierProposal),
    Questionnaire(Questionnaire),
    QuestionnaireAnswers(QuestionnaireAnswers),
    Deal(super::deals::Deal),
    LedgerEntry(super::ledger::LedgerEntry),
    PartnerOfRecordClaim(super::ledger::PartnerOfRecordClaim),
    PayoutBatch(super::ledger::PayoutBatch),
    CommissionRule(super::ledger::CommissionRule),
    ReferralCode(super::ledger::ReferralCode),
    ReferralAttribution(super::ledger::ReferralAttribution),
    RebateRate(super::rebates::RebateRate),
    RebateClaim(super::rebates::RebateClaim),
    WebhookEndpoint(super::webhooks::WebhookEndpoint),
    Delivery(super::webhooks::Delivery),
    Tender(super::tenders::Tender),
    TenderResponse(super::tenders::TenderResponse),
}

const MAX_NODES: usize = 100;

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches any object by its global ID; `null` when it does not exist or is not visible.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Any global ID from this API.")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        resolve(ctx, &id).await
    }

    /// Fetches up to 100 objects by global ID, in the order asked; `null` for each one that does
    /// not exist or is not visible.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global IDs from this API, at most 100.")] ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(AppError::bad_input("ids", format!("at most {MAX_NODES} ids at once")).into());
        }
        futures_util::future::try_join_all(ids.iter().map(|id| resolve(ctx, id))).await
    }
}

async fn resolve(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<Node>> {
    let Some((node_type, id)) = ids::decode(id) else { return Ok(None) };
    Ok(match node_type {
        NodeType::Organization => {
            load::<organization::Entity>(ctx, id).await?.map(|m| Node::Organization(Organization(m)))
        }
        NodeType::User => load::<user::Entity>(ctx, id).await?.map(|m| Node::User(User(m))),
        NodeType::Membership => load::<membership::Entity>(ctx, id).await?.map(|m| Node::Membership(Membership(m))),
        NodeType::ApiToken => load::<api_token::Entity>(ctx, id).await?.map(|m| Node::ApiToken(ApiToken(m))),
        NodeType::Program => load::<program::Entity>(ctx, id).await?.map(|m| Node::Program(Program(m))),
        NodeType::Tier => load::<tier::Entity>(ctx, id).await?.map(|m| Node::Tier(Tier(m))),
        NodeType::Invitation => load::<invitation::Entity>(ctx, id).await?.map(|m| Node::Invitation(Invitation(m))),
        NodeType::Product => load::<entity::product::Entity>(ctx, id).await?.map(|m| Node::Product(Product(m))),
        NodeType::ProductSubscription => load::<entity::subscription::Entity>(ctx, id)
            .await?
            .map(|m| Node::ProductSubscription(ProductSubscription(m))),
        NodeType::Notification => {
            load::<entity::notification::Entity>(ctx, id).await?.map(|n| Node::Notification(Notification(n)))
        }
        NodeType::SuccessStory => {
            load::<entity::success_story::Entity>(ctx, id).await?.map(|s| Node::SuccessStory(SuccessStory(s)))
        }
        NodeType::Application => {
            load::<entity::application::Entity>(ctx, id).await?.map(|a| Node::Application(Application(a)))
        }
        NodeType::WelcomeGift => {
            load::<entity::welcome_gift::Entity>(ctx, id).await?.map(|g| Node::WelcomeGift(WelcomeGift(g)))
        }
        // A partnership is visible with its organisation.
        NodeType::Partnership => match load::<entity::partnership::Entity>(ctx, id).await? {
            Some(p) if load::<organization::Entity>(ctx, p.organization_id).await?.is_some() => {
                Some(Node::Partnership(Partnership(p)))
            }
            _ => None,
        },
        NodeType::Deal => load::<entity::deal::Entity>(ctx, id).await?.map(|m| Node::Deal(super::deals::Deal(m))),
        NodeType::LedgerEntry => load::<entity::ledger_entry::Entity>(ctx, id)
            .await?
            .map(|m| Node::LedgerEntry(super::ledger::LedgerEntry(m))),
        NodeType::PartnerOfRecordClaim => load::<entity::partner_of_record_claim::Entity>(ctx, id)
            .await?
            .map(|m| Node::PartnerOfRecordClaim(super::ledger::PartnerOfRecordClaim(m))),
        NodeType::PayoutBatch => load::<entity::payout_batch::Entity>(ctx, id)
            .await?
            .map(|m| Node::PayoutBatch(super::ledger::PayoutBatch(m))),
        NodeType::CommissionRule => load::<entity::commission_rule::Entity>(ctx, id)
            .await?
            .map(|m| Node::CommissionRule(super::ledger::CommissionRule(m))),
        NodeType::ReferralCode => load::<entity::referral_code::Entity>(ctx, id)
            .await?
            .map(|m| Node::ReferralCode(super::ledger::ReferralCode(m))),
        NodeType::ReferralAttribution => load::<entity::referral_attribution::Entity>(ctx, id)
            .await?
            .map(|m| Node::ReferralAttribution(super::ledger::ReferralAttribution(m))),
        NodeType::RebateRate => {
            load::<entity::rebate_rate::Entity>(ctx, id).await?.map(|m| Node::RebateRate(super::rebates::RebateRate(m)))
        }
        NodeType::RebateClaim => load::<entity::rebate_claim::Entity>(ctx, id)
            .await?
            .map(|m| Node::RebateClaim(super::rebates::RebateClaim(m))),
        NodeType::WebhookEndpoint => load::<entity::webhook_endpoint::Entity>(ctx, id)
            .await?
            .map(|m| Node::WebhookEndpoint(super::webhooks::WebhookEndpoint(m))),
        NodeType::Delivery => {
            load::<entity::delivery::Entity>(ctx, id).await?.map(|m| Node::Delivery(super::webhooks::Delivery(m)))
        }
        NodeType::Tender => {
            load::<entity::tender::Entity>(ctx, id).await?.map(|m| Node::Tender(super::tenders::Tender(m)))
        }
        NodeType::TenderResponse => load::<entity::tender_response::Entity>(ctx, id)
            .await?
            .map(|m| Node::TenderResponse(super::tenders::TenderResponse(m))),
        NodeType::Plan => load::<entity::plan::Entity>(ctx, id).await?.map(|m| Node::Plan(Plan(m))),
        NodeType::Invoice => load::<entity::invoice::Entity>(ctx, id).await?.map(|m| Node::Invoice(Invoice(m))),
        NodeType::Grant => load::<grant::Entity>(ctx, id).await?.map(|m| Node::Grant(Grant(m))),
        NodeType::SubscriptionChangeRequest => load::<entity::subscription_change_request::Entity>(ctx, id)
            .await?
            .map(|m| Node::SubscriptionChangeRequest(SubscriptionChangeRequest(m))),
        NodeType::Domain => load::<entity::domain::Entity>(ctx, id).await?.map(|d| Node::Domain(Domain(d))),
        NodeType::AuditEvent => {
            load::<entity::audit_event::Entity>(ctx, id).await?.map(|e| Node::AuditEvent(AuditEvent(e)))
        }
        NodeType::Course => load::<entity::course::Entity>(ctx, id).await?.map(|m| Node::Course(Course(m))),
        NodeType::ExamResult => {
            load::<entity::exam_result::Entity>(ctx, id).await?.map(|m| Node::ExamResult(ExamResult(m)))
        }
        NodeType::GrantAssignment => {
            load::<entity::grant_assignment::Entity>(ctx, id).await?.map(|m| Node::GrantAssignment(GrantAssignment(m)))
        }
        NodeType::ProgramTerms => {
            load::<entity::program_terms::Entity>(ctx, id).await?.map(|m| Node::ProgramTerms(ProgramTerms(m)))
        }
        NodeType::SubscriptionChange => load::<entity::subscription_change::Entity>(ctx, id)
            .await?
            .map(|m| Node::SubscriptionChange(SubscriptionChange(m))),
        NodeType::TierChange => {
            load::<entity::tier_change::Entity>(ctx, id).await?.map(|m| Node::TierChange(TierChange(m)))
        }
        NodeType::TierProposal => {
            load::<entity::tier_proposal::Entity>(ctx, id).await?.map(|m| Node::TierProposal(TierProposal(m)))
        }
        NodeType::Questionnaire => {
            load::<entity::questionnaire::Entity>(ctx, id).await?.map(|m| Node::Questionnaire(Questionnaire(m)))
        }
        NodeType::QuestionnaireAnswers => load::<entity::questionnaire_answer::Entity>(ctx, id)
            .await?
            .map(|m| Node::QuestionnaireAnswers(QuestionnaireAnswers(m))),
        NodeType::ServiceAccount => service_accounts::find_visible(ctx.service(), ctx.principal(), id)
            .await?
            .map(|(u, m)| Node::ServiceAccount(ServiceAccount(u, m))),
    })
}
