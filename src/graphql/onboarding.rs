//! Programme administration, applications, partnerships with their evaluation, the welcome
//! gift and the tier review queue.

use super::scalars::Decimal;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{application, partnership, program, program_terms, tier, welcome_gift};
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

use super::enums::ApplicationStatus;
use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    loaders::{Names, load, load_with},
    programs::{ExamResult, Money, MoneyInput},
    types::{Organization, Program, Tier},
};
use crate::{
    domain::tiers as rules,
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::{applications, courses, gifts, programs},
};

fn decode(kind: NodeType, id: &ID, what: &'static str) -> Result<Uuid, AppError> {
    ids::decode_as(kind, id).ok_or(AppError::NotFound(what))
}

pub struct ProgramTerms(pub program_terms::Model);

/// One version of a programme's terms and conditions.
#[Object]
impl ProgramTerms {
    /// Opaque global identifier; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ID(crate::ids::encode(crate::ids::NodeType::ProgramTerms, self.0.id))
    }
    /// Its version, from 1; applicants accept the current one.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The terms.
    async fn text(&self) -> &str {
        &self.0.body
    }
    /// When this version was published.
    async fn published_at(&self) -> DateTime<Utc> {
        self.0.published_at
    }
}

/// What an applicant's company must have for the programme to consider it.
#[derive(SimpleObject)]
pub struct EntryConditions {
    /// Whether applicants must give a trade-register number.
    pub registration_number_required: bool,
    /// Whether applicants must give a website.
    pub website_required: bool,
    /// The minimum yearly amount of managed products, when the programme sets one.
    pub minimum_yearly_amount: Option<Money>,
}

pub fn entry_conditions(p: &program::Model) -> async_graphql::Result<EntryConditions> {
    let minimum = p.min_yearly_amount.map(|stored| Money::new(stored.to_decimal(), p.currency.clone()));
    Ok(EntryConditions {
        registration_number_required: p.requires_registration_number,
        website_required: p.requires_website,
        minimum_yearly_amount: minimum,
    })
}

/// "N exams by at least P people, within M months of joining".
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "CertificationRequirementInput")]
pub struct CertificationRequirement {
    /// How many certifying exams must be passed.
    pub exams: u32,
    /// How many different people must hold them.
    pub distinct_people: u32,
    /// Within how many months of joining the programme; null for no limit.
    pub within_months_of_joining: Option<u32>,
}

/// A tier's requirements; an absent one is not required.
#[derive(SimpleObject)]
pub struct TierRequirements {
    /// The online basic training passed by someone of the partner.
    pub basic_training: bool,
    /// Certifying exams required; null for none.
    pub certifications: Option<CertificationRequirement>,
    /// Purchases in the last twelve months required; null for none.
    pub yearly_purchase_volume: Option<Money>,
    /// Accepted success stories in the last 12 months.
    pub success_stories: Option<u32>,
    /// The programme's yearly fee paid.
    pub yearly_fee: bool,
}

/// What a partner must meet to be in a tier.
#[derive(InputObject)]
pub struct TierRequirementsInput {
    /// Someone of the partner passed the basic training.
    #[graphql(default)]
    pub basic_training: bool,
    /// Certifying exams required; null for none.
    pub certifications: Option<CertificationRequirement>,
    /// Products bought in the last 12 months, in the programme's currency.
    pub yearly_purchase_volume: Option<MoneyInput>,
    /// Accepted success stories required; null for none.
    pub success_stories: Option<u32>,
    /// The yearly programme fee must be paid up.
    #[graphql(default)]
    pub yearly_fee: bool,
}

impl TierRequirementsInput {
    /// The rules, and the currency the yearly purchase volume was given in (the service checks
    /// it against the programme's).
    fn into_rules(self) -> (rules::Requirements, Option<String>) {
        let i = self;
        let (volume, currency) = match i.yearly_purchase_volume.map(MoneyInput::parts) {
            Some((amount, currency)) => (Some(amount), Some(currency)),
            None => (None, None),
        };
        let rules = rules::Requirements {
            basic_training: i.basic_training,
            certifications: i.certifications.map(|c| rules::CertificationRequirement {
                exams: c.exams,
                distinct_people: c.distinct_people,
                within_months_of_joining: c.within_months_of_joining,
            }),
            yearly_purchase_volume: volume,
            success_stories: i.success_stories,
            yearly_fee: i.yearly_fee,
        };
        (rules, currency)
    }
}

/// What a tier gives.
#[derive(SimpleObject)]
pub struct TierBenefits {
    /// Discount on list prices, in percent.
    pub discount_percent: Decimal,
    /// Whether the partner may claim rebates.
    pub rebate_eligible: bool,
    /// A listing in the public partner directory.
    pub directory_listing: bool,
    /// A named channel manager at the vendor.
    pub dedicated_channel_manager: bool,
    /// Invitations to partner events.
    pub event_invitations: bool,
    /// Products to pick the one welcome gift from; empty when the tier has no gift.
    pub welcome_gift_products: Vec<super::customers::Product>,
}

/// What partners in a tier get.
#[derive(InputObject)]
pub struct TierBenefitsInput {
    /// The discount on list prices, 0 to 100, not more than a higher tier's.
    #[graphql(default)]
    pub discount_percent: Decimal,
    /// Whether the partner may claim rebates.
    #[graphql(default)]
    pub rebate_eligible: bool,
    /// A listing in the public partner directory.
    #[graphql(default)]
    pub directory_listing: bool,
    /// A named channel manager at the vendor.
    #[graphql(default)]
    pub dedicated_channel_manager: bool,
    /// Invitations to partner events.
    #[graphql(default)]
    pub event_invitations: bool,
    /// Products a partner may pick one of as a welcome gift; empty for none.
    #[graphql(default)]
    pub welcome_gift_product_ids: Vec<ID>,
}

impl TierBenefitsInput {
    fn into_rules(self) -> Result<rules::Benefits, AppError> {
        let products = self
            .welcome_gift_product_ids
            .iter()
            .map(|id| ids::decode_as(NodeType::Product, id))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| AppError::bad_input("benefits", "a welcome gift product does not exist"))?;
        Ok(rules::Benefits {
            discount_percent: self.discount_percent.0,
            rebate_eligible: self.rebate_eligible,
            directory_listing: self.directory_listing,
            dedicated_channel_manager: self.dedicated_channel_manager,
            event_invitations: self.event_invitations,
            welcome_gift_products: products,
        })
    }
}

pub async fn tier_requirements(ctx: &Context<'_>, t: &tier::Model) -> async_graphql::Result<TierRequirements> {
    let r = programs::requirements_of(t)?;
    let volume = match r.yearly_purchase_volume {
        Some(amount) => {
            let currency = load::<program::Entity>(ctx, t.program_id).await?.map(|p| p.currency).unwrap_or_default();
            Some(Money::new(amount, currency))
        }
        None => None,
    };
    Ok(TierRequirements {
        basic_training: r.basic_training,
        certifications: r.certifications.map(|c| CertificationRequirement {
            exams: c.exams,
            distinct_people: c.distinct_people,
            within_months_of_joining: c.within_months_of_joining,
        }),
        yearly_purchase_volume: volume,
        success_stories: r.success_stories,
        yearly_fee: r.yearly_fee,
    })
}

pub async fn tier_benefits(ctx: &Context<'_>, t: &tier::Model) -> async_graphql::Result<TierBenefits> {
    let b = programs::benefits_of(t)?;
    let products = super::loaders::load_many::<entity::product::Entity>(ctx, &b.welcome_gift_products)
        .await?
        .into_iter()
        .map(super::customers::Product)
        .collect();
    Ok(TierBenefits {
        discount_percent: b.discount_percent.into(),
        rebate_eligible: b.rebate_eligible,
        directory_listing: b.directory_listing,
        dedicated_channel_manager: b.dedicated_channel_manager,
        event_invitations: b.event_invitations,
        welcome_gift_products: products,
    })
}

/// A kind of tier requirement.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::tiers::RequirementKind")]
pub enum TierRequirementKind {
    /// Someone of the partner passed the basic training.
    BasicTraining,
    /// Enough certifying exams passed, by enough distinct people, soon enough after joining.
    Certifications,
    /// What the partner bought in the last twelve months, in the programme's currency.
    YearlyPurchaseVolume,
    /// Accepted success stories.
    SuccessStories,
    /// The yearly programme fee is paid up (a billed fee counts for 30 days after it fell due).
    YearlyFee,
    /// The programme's onboarding questionnaire is answered (before the first tier above entry).
    Questionnaire,
}

/// One requirement of one tier, checked against the partner.
#[derive(SimpleObject)]
pub struct RequirementCheck {
    /// The requirement.
    pub kind: TierRequirementKind,
    /// What the tier asks, such as `3 exams by 2 people`.
    pub target: String,
    /// Where the partner stands, such as `2 exams by 1 person`.
    pub current: String,
    /// Whether it is met.
    pub met: bool,
}

impl From<rules::RequirementResult> for RequirementCheck {
    fn from(r: rules::RequirementResult) -> Self {
        RequirementCheck { kind: r.kind.into(), target: r.target, current: r.current, met: r.met }
    }
}

pub struct TierCheck(rules::TierResult);

/// A tier with each of its requirements checked.
#[Object]
impl TierCheck {
    /// The tier.
    async fn tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        Ok(load::<tier::Entity>(ctx, self.0.tier_id).await?.map(Tier))
    }
    /// Each requirement, met or not.
    async fn requirements(&self) -> Vec<RequirementCheck> {
        self.0.requirements.iter().cloned().map(Into::into).collect()
    }
    /// Every requirement of this tier is met.
    async fn met(&self) -> bool {
        self.0.met
    }
}

pub struct TierEvaluation {
    current: Uuid,
    evaluation: rules::Evaluation,
    grace: Option<(DateTime<Utc>, DateTime<Utc>, Option<String>)>,
}

impl TierEvaluation {
    pub fn new(place: &partnership::Model, evaluation: rules::Evaluation) -> Self {
        let grace = match (place.grace_started_at, place.grace_ends_at) {
            (Some(started), Some(ends)) => Some((started, ends, place.grace_missing.clone())),
            _ => None,
        };
        TierEvaluation { current: place.tier_id, evaluation, grace }
    }
}

/// A partner measured against every tier of its programme, now.
#[Object]
impl TierEvaluation {
    /// The partner's tier now.
    async fn current_tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        Ok(load::<tier::Entity>(ctx, self.current).await?.map(Tier))
    }
    /// Every tier, lowest first.
    async fn tiers(&self) -> Vec<TierCheck> {
        self.evaluation.tiers.iter().cloned().map(TierCheck).collect()
    }
    /// The highest tier whose requirements (and those of every tier below) are all met.
    async fn highest_met_tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        let Some(id) = self.evaluation.highest_met else { return Ok(None) };
        Ok(load::<tier::Entity>(ctx, id).await?.map(Tier))
    }
    /// The tier above the highest met one; null at the top.
    async fn next_tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        let reached = self.evaluation.tiers.iter().take_while(|t| t.met).count();
        let Some(next) = self.evaluation.tiers.get(reached) else { return Ok(None) };
        Ok(load::<tier::Entity>(ctx, next.tier_id).await?.map(Tier))
    }
    /// What the partner still lacks for the next tier.
    async fn missing_for_next(&self) -> Vec<RequirementCheck> {
        self.evaluation.missing_for_next.iter().cloned().map(Into::into).collect()
    }
    /// When the partner stopped meeting its current tier (or its fee fell over 30 days
    /// overdue), as the daily review found; null when it meets it.
    async fn grace_started_at(&self) -> Option<DateTime<Utc>> {
        self.grace.as_ref().map(|g| g.0)
    }
    /// The day the grace period ends: the tier stays until then, and from then on a downgrade is
    /// proposed to staff. Null outside a grace period.
    async fn grace_ends_at(&self) -> Option<DateTime<Utc>> {
        self.grace.as_ref().map(|g| g.1)
    }
    /// What was missing when the grace period started.
    async fn grace_missing(&self) -> Vec<String> {
        self.grace.as_ref().and_then(|g| g.2.as_deref()).and_then(|m| serde_json::from_str(m).ok()).unwrap_or_default()
    }
}

pub struct Partnership(pub partnership::Model);

/// An organisation's place in a programme.
#[Object]
impl Partnership {
    /// Opaque global identifier; `node(id:)` fetches the partnership again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Partnership, self.0.id))
    }
    /// The programme.
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Program>> {
        Ok(load::<program::Entity>(ctx, self.0.program_id).await?.map(Program))
    }
    /// The partner's tier in it.
    async fn tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        Ok(load::<tier::Entity>(ctx, self.0.tier_id).await?.map(Tier))
    }
    /// When the partner joined the programme.
    async fn joined_at(&self) -> DateTime<Utc> {
        self.0.joined_at
    }
    /// What the partner committed to buy per year (staff and the partner's members).
    async fn committed_yearly_volume(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Money>> {
        if !policy::sees_partner_internals(ctx.principal(), self.0.organization_id) {
            return Ok(None);
        }
        let Some(text) = &self.0.committed_yearly_volume else { return Ok(None) };
        let currency = load::<program::Entity>(ctx, self.0.program_id).await?.map(|p| p.currency).unwrap_or_default();
        Ok(Some(Money::new(text.to_decimal(), currency)))
    }
    /// Until when the programme's yearly fee is paid (staff and the partner's members).
    async fn yearly_fee_paid_until(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        policy::sees_partner_internals(ctx.principal(), self.0.organization_id)
            .then_some(self.0.yearly_fee_paid_until)
            .flatten()
    }
    /// The programme's minimum yearly amount against what the partner manages (staff and the
    /// partner's members; null when the programme has no minimum).
    async fn program_minimum(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::billing::ProgramMinimum>> {
        super::billing::program_minimum(ctx, &self.0).await
    }
    /// Each tier's requirements against the partner's facts (staff and the partner's members).
    async fn tier_evaluation(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<TierEvaluation>> {
        evaluation(ctx, &self.0).await
    }
    /// When the oldest unpaid programme fee fell due (staff and the partner's members); null
    /// when none is due.
    async fn yearly_fee_due_at(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        policy::sees_partner_internals(ctx.principal(), self.0.organization_id)
            .then_some(self.0.yearly_fee_due_at)
            .flatten()
    }
    /// The partner's answers to the onboarding questionnaire (staff and the partner's members).
    async fn questionnaire_answers(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::questionnaires::QuestionnaireAnswers>> {
        super::questionnaires::answers_of(ctx, self.0.id).await
    }
    /// The welcome gift claimed in this programme, if any (staff and the partner's members).
    async fn welcome_gift(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<WelcomeGift>> {
        Ok(super::loaders::first_child::<welcome_gift::Entity>(ctx, self.0.id).await?.map(WelcomeGift))
    }
}

pub async fn evaluation(ctx: &Context<'_>, p: &partnership::Model) -> async_graphql::Result<Option<TierEvaluation>> {
    let evaluation = load_with::<super::loaders::Evaluations>(ctx, p.id).await?;
    Ok(evaluation.map(|evaluation| TierEvaluation::new(p, evaluation)))
}

pub async fn organization_partnerships(
    ctx: &Context<'_>,
    organization_id: Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<Partnership>> {
    let select = programs::partnerships_of(organization_id);
    Ok(paginate(&ctx.service().db, select, partnership::Column::Id, |m| m.id, Partnership, args).await?)
}

pub async fn program_terms_versions(
    ctx: &Context<'_>,
    program_id: Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<ProgramTerms>> {
    let select = programs::terms_of(ctx.principal(), program_id);
    Ok(paginate::<program_terms::Entity, _>(
        &ctx.service().db,
        select,
        program_terms::Column::Id,
        |m| m.id,
        ProgramTerms,
        args,
    )
    .await?)
}

pub struct Application(pub application::Model);

/// An application to join a programme.
#[Object]
impl Application {
    /// Opaque global identifier; `node(id:)` fetches the application again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Application, self.0.id))
    }
    /// The programme applied to.
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Program>> {
        Ok(load::<program::Entity>(ctx, self.0.program_id).await?.map(Program))
    }
    /// The person who applied.
    async fn applicant_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        load_with::<Names>(ctx, self.0.applicant_user_id).await
    }
    /// The applying company's name.
    async fn company_name(&self) -> &str {
        &self.0.company_name
    }
    /// The company's trade-register number, where the programme asks for it.
    async fn registration_number(&self) -> Option<&str> {
        self.0.registration_number.as_deref()
    }
    /// The company's VAT number.
    async fn vat_number(&self) -> Option<&str> {
        self.0.vat_number.as_deref()
    }
    /// The company's website, where the programme asks for it.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// The company's country (ISO 3166-1 alpha-2).
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// The company's postal address.
    async fn address(&self) -> &str {
        &self.0.address
    }
    /// The company's main field of expertise.
    async fn primary_expertise(&self) -> &str {
        &self.0.primary_expertise
    }
    /// What the applicant says of its experience with the products.
    async fn experience(&self) -> &str {
        &self.0.experience
    }
    /// What the applicant plans to sell, and to whom.
    async fn plan(&self) -> &str {
        &self.0.plan
    }
    /// The version of the programme's terms the applicant accepted.
    async fn accepted_terms_version(&self) -> i32 {
        self.0.accepted_terms_version
    }
    /// Where the application is.
    async fn status(&self) -> ApplicationStatus {
        self.0.status.into()
    }
    /// Why it was rejected.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// When it was submitted.
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }
    /// The review is due by then (7 days after submission).
    async fn due_at(&self) -> DateTime<Utc> {
        self.0.due_at
    }
    /// Still waiting after its due date.
    async fn overdue(&self, ctx: &Context<'_>) -> bool {
        self.0.status == crate::domain::ApplicationStatus::Submitted && ctx.service().now() > self.0.due_at
    }
    /// When the channel team approved or rejected it.
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
    /// The partner's onboarding questionnaire answers, once approved and answered.
    async fn questionnaire_answers(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::questionnaires::QuestionnaireAnswers>> {
        let Some(org) = self.0.organization_id else { return Ok(None) };
        let places = super::loaders::children::<partnership::Entity>(ctx, org).await?;
        let Some(place) = places.into_iter().find(|p| p.program_id == self.0.program_id) else { return Ok(None) };
        super::questionnaires::answers_of(ctx, place.id).await
    }
    /// The partner organisation, once approved (or the one that applied).
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        let Some(id) = self.0.organization_id else { return Ok(None) };
        Ok(load::<entity::organization::Entity>(ctx, id).await?.map(Organization))
    }
}

pub struct WelcomeGift(pub welcome_gift::Model);

/// The one free product a partner claimed.
#[Object]
impl WelcomeGift {
    /// Opaque global identifier; `node(id:)` fetches the gift again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::WelcomeGift, self.0.id))
    }
    /// The product chosen.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<super::customers::Product>> {
        Ok(load::<entity::product::Entity>(ctx, self.0.product_id).await?.map(super::customers::Product))
    }
    /// Where to send it.
    async fn shipping_address(&self) -> &str {
        &self.0.shipping_address
    }
    /// Who claimed it.
    async fn claimed_by_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        load_with::<Names>(ctx, self.0.claimed_by_user_id).await
    }
    /// When it was claimed.
    async fn claimed_at(&self) -> DateTime<Utc> {
        self.0.claimed_at
    }
    /// When it was shipped; null while waiting.
    async fn shipped_at(&self) -> Option<DateTime<Utc>> {
        self.0.shipped_at
    }
}

#[derive(Default)]
pub struct OnboardingQuery;

#[Object]
impl OnboardingQuery {
    /// Applications: staff see every one, oldest (so most overdue) first; applicants their own.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn applications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only applications with this status.")] status: Option<ApplicationStatus>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Application>> {
        policy::signed_in(ctx.principal())?;
        let mut select = applications::visible(ctx.principal());
        if let Some(status) = status {
            select = select.filter(application::Column::Status.eq(crate::domain::ApplicationStatus::from(status)));
        }
        let args = PageArgs::of(ctx, first, after, last, before);
        Ok(paginate(&ctx.service().db, select, application::Column::Id, |m| m.id, Application, args).await?)
    }

    /// Claimed welcome gifts: staff see all (to ship them), partners their own.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn welcome_gifts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only gifts shipped (true) or waiting (false).")] shipped: Option<bool>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<WelcomeGift>> {
        policy::signed_in(ctx.principal())?;
        let mut select = gifts::visible(ctx.principal());
        select = match shipped {
            Some(true) => select.filter(welcome_gift::Column::ShippedAt.is_not_null()),
            Some(false) => select.filter(welcome_gift::Column::ShippedAt.is_null()),
            None => select,
        };
        let args = PageArgs::of(ctx, first, after, last, before);
        Ok(paginate(&ctx.service().db, select, welcome_gift::Column::Id, |m| m.id, WelcomeGift, args).await?)
    }
}

/// The input of `createProgram`.
#[derive(InputObject)]
pub struct CreateProgramInput {
    /// The programme's name.
    pub name: String,
    /// Reseller or referral.
    pub kind: super::enums::ProgramKind,
    /// The programme's currency (ISO 4217); its money amounts are in it.
    pub currency: String,
    /// The text of the terms and conditions, version 1.
    pub terms: String,
    /// Programmes of one group exclude each other.
    pub exclusivity_group: Option<String>,
    /// Minimum yearly amount of managed products, in the programme's currency.
    pub minimum_yearly_amount: Option<MoneyInput>,
    /// Whether applicants must give a trade-register number.
    #[graphql(default)]
    pub registration_number_required: bool,
    /// Whether applicants must give a website.
    #[graphql(default)]
    pub website_required: bool,
    /// Days an approved deal registration protects its customer and products (default 90).
    pub deal_protection_days: Option<i32>,
    /// The highest special discount staff may give on an approved deal, in percent (none:
    /// deals carry no discount).
    pub deal_max_discount_percent: Option<Decimal>,
    /// Days after payment during which a refund or cancellation reverses commission (default 7).
    pub reversal_window_days: Option<i32>,
    /// The least paid to a partner in one payout; below it the balance carries over (default none).
    pub minimum_payout: Option<MoneyInput>,
    /// Months between payout batches: 1, 2 or 3 (the default).
    pub payout_interval_months: Option<i32>,
    /// Months an organisation created through an affiliate's referral code stays attributed to it
    /// (default 12).
    pub referral_attribution_months: Option<i32>,
    /// The largest invoice file a rebate claim may carry, in bytes: 1 KiB to 50 MiB (default
    /// 10 MiB). Larger uploads are cut off while they stream in.
    pub rebate_file_max_bytes: Option<i32>,
    /// List every partner who opted in in the public directory, whatever its tier (default
    /// false: only tiers whose benefits include a listing).
    pub directory_lists_all: Option<bool>,
    /// A yearly programme fee in the programme's currency, invoiced by the billing run at each
    /// partnership year (default none).
    pub yearly_fee: Option<MoneyInput>,
    /// Months (1 to 12) a partner keeps a tier it no longer meets before a downgrade is proposed
    /// (default 1).
    pub downgrade_grace_months: Option<i32>,
}

/// What `createProgram` returns.
#[derive(SimpleObject)]
pub struct ProgramPayload {
    /// The Program as `createProgram` left it.
    pub program: Program,
}

/// The input of `publishProgramTerms`.
#[derive(InputObject)]
pub struct PublishProgramTermsInput {
    /// The programme.
    pub program_id: ID,
    /// The new terms; they become the current version.
    pub text: String,
}

/// What `publishProgramTerms` returns.
#[derive(SimpleObject)]
pub struct PublishProgramTermsPayload {
    /// The Program as `publishProgramTerms` left it.
    pub program: Program,
    /// The ProgramTerms as `publishProgramTerms` left it.
    pub terms: ProgramTerms,
}

/// The input of `createTier`.
#[derive(InputObject)]
pub struct CreateTierInput {
    /// The programme the tier belongs to.
    pub program_id: ID,
    /// The tier's name, such as `Gold`.
    pub name: String,
    /// Higher is better; unique within the programme.
    pub rank: i32,
    /// What a partner must meet to be in the tier.
    pub requirements: Option<TierRequirementsInput>,
    /// What partners in the tier get.
    pub benefits: Option<TierBenefitsInput>,
}

/// The input of `updateTier`.
#[derive(InputObject)]
pub struct UpdateTierInput {
    /// The tier.
    pub id: ID,
    /// A new name.
    pub name: Option<String>,
    /// Replaces the requirements when given.
    pub requirements: Option<TierRequirementsInput>,
    /// Replaces the benefits when given.
    pub benefits: Option<TierBenefitsInput>,
}

/// What `createTier` and `updateTier` returns (each).
#[derive(SimpleObject)]
pub struct TierPayload {
    /// The Tier as `createTier` and `updateTier` left it.
    pub tier: Tier,
}

/// The applying company, as it will be registered.
#[derive(InputObject)]
pub struct CompanyInput {
    /// The company's registered name.
    pub name: String,
    /// Its trade-register number; required by programmes that ask for it.
    pub registration_number: Option<String>,
    /// Its VAT number.
    pub vat_number: Option<String>,
    /// Its website; required by programmes that ask for it.
    pub website: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// The company's postal address.
    pub address: String,
}

/// The input of `applyForPartnership`.
#[derive(InputObject)]
pub struct ApplyForPartnershipInput {
    /// The programme to join; applying accepts its current terms.
    pub program_id: ID,
    /// The applying company.
    pub company: CompanyInput,
    /// Your main field of expertise.
    pub primary_expertise: String,
    /// Your experience with the products (up to 5000 characters).
    pub experience: String,
    /// What you plan to sell, and to whom (up to 5000 characters).
    pub plan: String,
    /// Must be the programme's current terms version.
    pub accepted_terms_version: i32,
}

/// What `applyForPartnership` and `rejectApplication` returns (each).
#[derive(SimpleObject)]
pub struct ApplicationPayload {
    /// The Application as `applyForPartnership` and `rejectApplication` left it.
    pub application: Application,
}

/// The input of `approveApplication`.
#[derive(InputObject)]
pub struct ApproveApplicationInput {
    /// The application to approve.
    pub id: ID,
}

/// What `approveApplication` returns.
#[derive(SimpleObject)]
pub struct ApproveApplicationPayload {
    /// The Application as `approveApplication` left it.
    pub application: Application,
    /// The Organization as `approveApplication` left it.
    pub partner: Organization,
}

/// The input of `rejectApplication`.
#[derive(InputObject)]
pub struct RejectApplicationInput {
    /// The application.
    pub id: ID,
    /// Why; the applicant reads it.
    pub reason: String,
}

/// The input of `updatePartnership`.
#[derive(InputObject)]
pub struct UpdatePartnershipInput {
    /// The partner.
    pub partner_id: ID,
    /// The programme.
    pub program_id: ID,
    /// What the partner commits to buy per year, in the programme's currency.
    pub committed_yearly_volume: Option<MoneyInput>,
    /// Until when the yearly fee is paid.
    pub yearly_fee_paid_until: Option<DateTime<Utc>>,
}

/// What `updatePartnership` returns.
#[derive(SimpleObject)]
pub struct PartnershipPayload {
    /// The Partnership as `updatePartnership` left it.
    pub partnership: Partnership,
}

/// The input of `importExamResults`.
#[derive(InputObject)]
pub struct ImportExamResultsInput {
    /// RFC 4180 CSV with a header row: email, courseCode, passedAt, certificateNumber and
    /// optionally expiresAt. Dates are RFC 3339 or YYYY-MM-DD.
    pub csv: String,
}

/// What `importExamResults` returns.
#[derive(SimpleObject)]
pub struct ImportExamResultsPayload {
    /// How many rows were recorded.
    pub imported: i32,
    /// The results recorded.
    pub exam_results: Vec<ExamResult>,
}

/// The input of `claimWelcomeGift`.
#[derive(InputObject)]
pub struct ClaimWelcomeGiftInput {
    /// One of the products the tier's `welcomeGiftProducts` lists.
    pub product_id: ID,
    /// Where to send it: a full delivery address, 10 to 500 characters.
    pub shipping_address: String,
    /// A retry with the same key answers with the first claim instead of CONFLICT.
    pub idempotency_key: Option<String>,
}

/// The input of `markWelcomeGiftShipped`.
#[derive(InputObject)]
pub struct MarkWelcomeGiftShippedInput {
    /// The welcome gift.
    pub id: ID,
}

/// What `claimWelcomeGift` and `markWelcomeGiftShipped` returns (each).
#[derive(SimpleObject)]
pub struct WelcomeGiftPayload {
    /// The WelcomeGift as `claimWelcomeGift` and `markWelcomeGiftShipped` left it.
    pub welcome_gift: WelcomeGift,
}

fn tier_fields(
    name: Option<String>,
    rank: Option<i32>,
    requirements: Option<TierRequirementsInput>,
    benefits: Option<TierBenefitsInput>,
) -> Result<programs::TierFields, AppError> {
    let (requirements, volume_currency) = match requirements.map(TierRequirementsInput::into_rules) {
        Some((rules, currency)) => (Some(rules), currency),
        None => (None, None),
    };
    Ok(programs::TierFields {
        name,
        rank,
        requirements,
        volume_currency,
        benefits: benefits.map(TierBenefitsInput::into_rules).transpose()?,
    })
}

#[derive(Default)]
pub struct OnboardingMutation;

#[Object]
impl OnboardingMutation {
    /// Creates a programme with version 1 of its terms (staff ADMIN).
    async fn create_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateProgramInput,
    ) -> async_graphql::Result<ProgramPayload> {
        let new = programs::NewProgram {
            name: input.name,
            kind: input.kind.into(),
            currency: input.currency,
            terms: input.terms,
            exclusivity_group: input.exclusivity_group,
            min_yearly_amount: input.minimum_yearly_amount.map(MoneyInput::parts),
            requires_registration_number: input.registration_number_required,
            requires_website: input.website_required,
            deal_protection_days: input.deal_protection_days,
            deal_max_discount_percent: input.deal_max_discount_percent.map(|p| p.0),
            payouts: programs::PayoutTerms {
                reversal_window_days: input.reversal_window_days,
                min_payout: input.minimum_payout.map(MoneyInput::parts),
                payout_interval_months: input.payout_interval_months,
                referral_attribution_months: input.referral_attribution_months,
                rebate_file_max_bytes: input.rebate_file_max_bytes.map(i64::from),
            },
            directory_lists_all: input.directory_lists_all.unwrap_or(false),
            yearly_fee: input.yearly_fee.map(MoneyInput::parts),
            downgrade_grace_months: input.downgrade_grace_months,
        };
        let (program, _) = programs::create_program(ctx.service(), ctx.principal(), new).await?;
        Ok(ProgramPayload { program: Program(program) })
    }

    /// Publishes the next version of a programme's terms (staff ADMIN); applicants must accept it.
    async fn publish_program_terms(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: PublishProgramTermsInput,
    ) -> async_graphql::Result<PublishProgramTermsPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Program, &input.program_id, "Program")?;
        let terms = programs::publish_terms(ctx.service(), ctx.principal(), id, &input.text).await?;
        let program = load::<program::Entity>(ctx, id).await?.ok_or(AppError::NotFound("Program"))?;
        Ok(PublishProgramTermsPayload { program: Program(program), terms: ProgramTerms(terms) })
    }

    /// Adds a tier to a programme (staff ADMIN).
    async fn create_tier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: CreateTierInput,
    ) -> async_graphql::Result<TierPayload> {
        policy::signed_in(ctx.principal())?;
        let program = decode(NodeType::Program, &input.program_id, "Program")?;
        let fields = tier_fields(Some(input.name), Some(input.rank), input.requirements, input.benefits)?;
        let tier = programs::create_tier(ctx.service(), ctx.principal(), program, fields).await?;
        Ok(TierPayload { tier: Tier(tier) })
    }

    /// Renames a tier or replaces its requirements or benefits (staff ADMIN).
    async fn update_tier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: UpdateTierInput,
    ) -> async_graphql::Result<TierPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Tier, &input.id, "Tier")?;
        let fields = tier_fields(input.name, None, input.requirements, input.benefits)?;
        let tier = programs::update_tier(ctx.service(), ctx.principal(), id, fields).await?;
        Ok(TierPayload { tier: Tier(tier) })
    }

    /// Applies to a programme: for a new organisation, or as ADMIN for the partner you act as.
    /// Applying does not guarantee acceptance.
    async fn apply_for_partnership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ApplyForPartnershipInput,
    ) -> async_graphql::Result<ApplicationPayload> {
        policy::signed_in(ctx.principal())?;
        let program_id = decode(NodeType::Program, &input.program_id, "Program")?;
        let c = input.company;
        let new = applications::NewApplication {
            program_id,
            company: applications::Company {
                name: c.name,
                registration_number: c.registration_number,
                vat_number: c.vat_number,
                website: c.website,
                country: c.country,
                address: c.address,
            },
            primary_expertise: input.primary_expertise,
            experience: input.experience,
            plan: input.plan,
            accepted_terms_version: input.accepted_terms_version,
        };
        let created = applications::apply(ctx.service(), ctx.principal(), new).await?;
        Ok(ApplicationPayload { application: Application(created) })
    }

    /// Approves an application (staff ADMIN or CHANNEL_MANAGER): the partner starts at the
    /// programme's entry tier with the applicant as ADMIN, and is welcomed.
    async fn approve_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ApproveApplicationInput,
    ) -> async_graphql::Result<ApproveApplicationPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Application, &input.id, "Application")?;
        let (application, partner) = applications::approve(ctx.service(), ctx.principal(), id).await?;
        Ok(ApproveApplicationPayload { application: Application(application), partner: Organization(partner) })
    }

    /// Rejects an application with a reason (staff ADMIN or CHANNEL_MANAGER).
    async fn reject_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RejectApplicationInput,
    ) -> async_graphql::Result<ApplicationPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::Application, &input.id, "Application")?;
        let decided = applications::reject(ctx.service(), ctx.principal(), id, &input.reason).await?;
        Ok(ApplicationPayload { application: Application(decided) })
    }

    /// Records a partner's committed yearly volume and fee payment (staff ADMIN,
    /// CHANNEL_MANAGER or FINANCE); both count for tier requirements.
    async fn update_partnership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: UpdatePartnershipInput,
    ) -> async_graphql::Result<PartnershipPayload> {
        policy::signed_in(ctx.principal())?;
        let partner = decode(NodeType::Organization, &input.partner_id, "Organization")?;
        let program = decode(NodeType::Program, &input.program_id, "Program")?;
        let committed = input.committed_yearly_volume.map(MoneyInput::parts);
        let updated = programs::update_partnership(
            ctx.service(),
            ctx.principal(),
            partner,
            program,
            committed,
            input.yearly_fee_paid_until,
        )
        .await?;
        Ok(PartnershipPayload { partnership: Partnership(updated) })
    }

    /// Imports exam results from CSV (staff ADMIN or CHANNEL_MANAGER): all rows or none; an
    /// error names the first bad row.
    async fn import_exam_results(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ImportExamResultsInput,
    ) -> async_graphql::Result<ImportExamResultsPayload> {
        let created = courses::import(ctx.service(), ctx.principal(), &input.csv).await?;
        Ok(ImportExamResultsPayload {
            imported: i32::try_from(created.len()).unwrap_or(i32::MAX),
            exam_results: created.into_iter().map(ExamResult).collect(),
        })
    }

    /// Claims the welcome gift of your tier, once (partner ADMIN).
    async fn claim_welcome_gift(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ClaimWelcomeGiftInput,
    ) -> async_graphql::Result<WelcomeGiftPayload> {
        policy::signed_in(ctx.principal())?;
        let product = ids::decode_as(NodeType::Product, &input.product_id)
            .ok_or_else(|| AppError::bad_input("productId", "is not one of your tier's welcome gifts"))?;
        let gift = gifts::claim(
            ctx.service(),
            ctx.principal(),
            product,
            &input.shipping_address,
            input.idempotency_key.as_deref(),
        )
        .await?;
        Ok(WelcomeGiftPayload { welcome_gift: WelcomeGift(gift) })
    }

    /// Marks a claimed gift shipped (staff ADMIN or CHANNEL_MANAGER); the partner is told.
    async fn mark_welcome_gift_shipped(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: MarkWelcomeGiftShippedInput,
    ) -> async_graphql::Result<WelcomeGiftPayload> {
        policy::signed_in(ctx.principal())?;
        let id = decode(NodeType::WelcomeGift, &input.id, "WelcomeGift")?;
        let gift = gifts::mark_shipped(ctx.service(), ctx.principal(), id).await?;
        Ok(WelcomeGiftPayload { welcome_gift: WelcomeGift(gift) })
    }
}
