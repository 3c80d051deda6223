//! Programmes and tiers (public), and tier changes of partners (staff confirm them).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{program, tier, tier_change};
use sea_orm::{ColumnTrait, QueryFilter};

use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    loaders::{Names, load, load_with},
    types::{Organization, Program, Tier},
};
use crate::{
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::programs,
};

pub struct TierChange(pub tier_change::Model);

/// One change of a partner's tier.
#[Object]
impl TierChange {
    /// Opaque global identifier; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ID(crate::ids::encode(crate::ids::NodeType::TierChange, self.0.id))
    }
    /// The tier before; null on joining.
    async fn from(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        let Some(id) = self.0.from_tier_id else { return Ok(None) };
        Ok(load::<tier::Entity>(ctx, id).await?.map(Tier))
    }
    /// The tier after.
    async fn to(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        Ok(load::<tier::Entity>(ctx, self.0.to_tier_id).await?.map(Tier))
    }
    /// Why.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// Who changed it; null for the automatic review.
    async fn changed_by_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.0.changed_by_user_id else { return Ok(None) };
        load_with::<Names>(ctx, id).await
    }
    /// When.
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
}

/// The tiers of a programme, lowest first (keyset order is creation order; ranks are given).
pub async fn program_tiers(
    ctx: &Context<'_>,
    program_id: uuid::Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<Tier>> {
    let select = programs::tiers_of(ctx.principal(), program_id);
    Ok(paginate(&ctx.service().db, select, tier::Column::Id, |m| m.id, Tier, args).await?)
}

pub async fn tier_history(
    ctx: &Context<'_>,
    partner_id: uuid::Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<TierChange>> {
    let select = programs::history(ctx.principal(), partner_id);
    Ok(paginate(&ctx.service().db, select, tier_change::Column::Id, |m| m.id, TierChange, args).await?)
}

#[derive(Default)]
pub struct ProgramQuery;

#[Object]
impl ProgramQuery {
    /// The vendor's partner programmes; public.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn programs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Program>> {
        let select = programs::visible(ctx.principal());
        Ok(paginate(
            &ctx.service().db,
            select,
            program::Column::Id,
            |m| m.id,
            Program,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }
}

/// The input of `changePartnerTier`.
#[derive(InputObject)]
pub struct ChangePartnerTierInput {
    /// The partner organisation.
    pub partner_id: ID,
    /// The tier to place it in (a tier of a programme it is in).
    pub tier_id: ID,
    /// Required for a downgrade.
    pub reason: Option<String>,
}

/// What `changePartnerTier` returns.
#[derive(SimpleObject)]
pub struct ChangePartnerTierPayload {
    /// The Organization as `changePartnerTier` left it.
    pub partner: Organization,
    /// The TierChange as `changePartnerTier` left it.
    pub change: TierChange,
}

#[derive(Default)]
pub struct ProgramMutation;

#[Object]
impl ProgramMutation {
    /// Moves a partner to a tier (staff ADMIN or CHANNEL_MANAGER); kept in `tierHistory`, and the
    /// partner is notified.
    async fn change_partner_tier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ChangePartnerTierInput,
    ) -> async_graphql::Result<ChangePartnerTierPayload> {
        policy::signed_in(ctx.principal())?;
        let partner =
            ids::decode_as(NodeType::Organization, &input.partner_id).ok_or(AppError::NotFound("Organization"))?;
        let tier = ids::decode_as(NodeType::Tier, &input.tier_id).ok_or(AppError::NotFound("Tier"))?;
        let (org, change) =
            programs::change_partner_tier(ctx.service(), ctx.principal(), partner, tier, input.reason.as_deref())
                .await?;
        Ok(ChangePartnerTierPayload { partner: Organization(org), change: TierChange(change) })
    }
}

pub struct SuccessStory(pub entity::success_story::Model);

/// A customer reference submitted by a partner.
#[Object]
impl SuccessStory {
    /// Opaque global identifier; `node(id:)` fetches the story again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::SuccessStory, self.0.id))
    }
    /// The customer it is about.
    async fn customer_name(&self) -> &str {
        &self.0.customer_name
    }
    /// Its headline.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What was done and what it brought.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// The products used.
    async fn products(&self) -> Vec<String> {
        self.0
            .products
            .as_array()
            .map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
    /// Whether the customer agreed to publication.
    async fn publishable(&self) -> bool {
        self.0.publishable
    }
    /// Where its review is.
    async fn status(&self) -> super::enums::SuccessStoryStatus {
        self.0.status.into()
    }
    /// Why it was rejected.
    async fn review_reason(&self) -> Option<&str> {
        self.0.review_reason.as_deref()
    }
    /// The partner who submitted it.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.partner_id).await?.map(Organization))
    }
    /// When it was submitted.
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }
    /// When it was reviewed.
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
}

#[derive(Default)]
pub struct StoryQuery;

#[Object]
impl StoryQuery {
    /// Success stories you may see (staff: all, oldest first; partners: their own), by status.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn success_stories(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only stories with this status.")] status: Option<super::enums::SuccessStoryStatus>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<SuccessStory>> {
        policy::signed_in(ctx.principal())?;
        let mut select = crate::service::stories::visible(ctx.principal());
        if let Some(status) = status {
            select = select.filter(entity::success_story::Column::Status.eq(crate::domain::ReviewStatus::from(status)));
        }
        Ok(paginate(
            &ctx.service().db,
            select,
            entity::success_story::Column::Id,
            |m| m.id,
            SuccessStory,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }
}

/// The input of `submitSuccessStory`.
#[derive(InputObject)]
pub struct SubmitSuccessStoryInput {
    /// The customer the story is about.
    pub customer_name: String,
    /// A headline.
    pub title: String,
    /// What was done and what it brought.
    pub summary: String,
    /// The products used (SKUs or names).
    pub products: Vec<String>,
    /// May appear in the public directory once accepted.
    pub publishable: bool,
}

/// The input of `reviewSuccessStory`.
#[derive(InputObject)]
pub struct ReviewSuccessStoryInput {
    /// The story.
    pub id: ID,
    /// Accept (it counts toward tiers) or reject.
    pub accept: bool,
    /// Required when rejecting.
    pub reason: Option<String>,
}

/// What `reviewSuccessStory` and `submitSuccessStory` returns (each).
#[derive(SimpleObject)]
pub struct SuccessStoryPayload {
    /// The SuccessStory as `reviewSuccessStory` and `submitSuccessStory` left it.
    pub story: SuccessStory,
}

#[derive(Default)]
pub struct StoryMutation;

#[Object]
impl StoryMutation {
    /// Submits a customer reference for your partner organisation; staff review it.
    async fn submit_success_story(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: SubmitSuccessStoryInput,
    ) -> async_graphql::Result<SuccessStoryPayload> {
        let story = crate::service::stories::NewStory {
            customer_name: input.customer_name,
            title: input.title,
            summary: input.summary,
            products: input.products,
            publishable: input.publishable,
        };
        let created = crate::service::stories::submit(ctx.service(), ctx.principal(), story).await?;
        Ok(SuccessStoryPayload { story: SuccessStory(created) })
    }

    /// Accepts or rejects a submitted story (staff ADMIN or CHANNEL_MANAGER); accepted ones
    /// count for tiers.
    async fn review_success_story(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ReviewSuccessStoryInput,
    ) -> async_graphql::Result<SuccessStoryPayload> {
        policy::signed_in(ctx.principal())?;
        let id = ids::decode_as(NodeType::SuccessStory, &input.id).ok_or(AppError::NotFound("SuccessStory"))?;
        let reviewed =
            crate::service::stories::review(ctx.service(), ctx.principal(), id, input.accept, input.reason.as_deref())
                .await?;
        Ok(SuccessStoryPayload { story: SuccessStory(reviewed) })
    }
}

/// An amount of money: `Decimal` is a string, never a float.
#[derive(SimpleObject)]
pub struct Money {
    /// The amount, exact, in the currency's units (not cents).
    pub amount: super::scalars::Decimal,
    /// ISO 4217 code, such as EUR.
    pub currency: String,
}

/// An amount of money in input, shaped like `Money` in output.
#[derive(InputObject)]
pub struct MoneyInput {
    /// The amount, exact, in the currency's units (not cents): `"1234.50"`.
    pub amount: super::scalars::Decimal,
    /// ISO 4217 code; where a programme or plan fixes the currency, it must be that one.
    pub currency: String,
}

impl MoneyInput {
    pub fn parts(self) -> (rust_decimal::Decimal, String) {
        (self.amount.0, self.currency)
    }
}

impl Money {
    pub fn new(amount: rust_decimal::Decimal, currency: impl Into<String>) -> Self {
        Money { amount: amount.into(), currency: currency.into() }
    }
}

pub struct Course(pub entity::course::Model);

/// A training course; exams of CERTIFYING courses count toward tier requirements.
#[Object]
impl Course {
    /// Opaque global identifier; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ID(crate::ids::encode(crate::ids::NodeType::Course, self.0.id))
    }
    /// The course's short code, unique, such as `BASIC-101`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The course's title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// A training, or an exam with a certificate.
    async fn kind(&self) -> super::enums::CourseKind {
        self.0.kind.into()
    }
    /// The fee per person.
    async fn fee(&self) -> async_graphql::Result<Money> {
        Ok(Money::new(crate::service::courses::fee(&self.0), self.0.fee_currency.clone()))
    }
}

pub struct ExamResult(pub entity::exam_result::Model);

/// A person's passed exam and certificate.
#[Object]
impl ExamResult {
    /// Opaque global identifier; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ID(crate::ids::encode(crate::ids::NodeType::ExamResult, self.0.id))
    }
    /// Who passed it.
    async fn person_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        load_with::<Names>(ctx, self.0.user_id).await
    }
    /// The certifying course.
    async fn course(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Course>> {
        Ok(load::<entity::course::Entity>(ctx, self.0.course_id).await?.map(Course))
    }
    /// When the exam was passed.
    async fn passed_at(&self) -> DateTime<Utc> {
        self.0.passed_at
    }
    /// The certificate's number.
    async fn certificate_number(&self) -> &str {
        &self.0.certificate_number
    }
    /// When the certificate lapses; null when it does not.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
}

pub async fn certifications(
    ctx: &Context<'_>,
    partner_id: uuid::Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<ExamResult>> {
    let select = crate::service::courses::of_partner(ctx.principal(), partner_id);
    Ok(paginate(&ctx.service().db, select, entity::exam_result::Column::Id, |m| m.id, ExamResult, args).await?)
}

#[derive(Default)]
pub struct CourseQuery;

#[Object]
impl CourseQuery {
    /// The training catalog; public, like the programmes it serves.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn courses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Course>> {
        let select = crate::service::courses::visible(ctx.principal());
        Ok(paginate(
            &ctx.service().db,
            select,
            entity::course::Column::Id,
            |m| m.id,
            Course,
            PageArgs::of(ctx, first, after, last, before),
        )
        .await?)
    }
}

/// The input of `createCourse`.
#[derive(InputObject)]
pub struct CreateCourseInput {
    /// A short unique code, such as `BASIC-101`.
    pub code: String,
    /// The course's title.
    pub title: String,
    /// A training, or an exam with a certificate.
    pub kind: super::enums::CourseKind,
    /// What the course costs a partner; zero for free.
    pub fee: MoneyInput,
}

/// What `createCourse` returns.
#[derive(SimpleObject)]
pub struct CreateCoursePayload {
    /// The Course as `createCourse` left it.
    pub course: Course,
}

/// The input of `recordExamResult`.
#[derive(InputObject)]
pub struct RecordExamResultInput {
    /// The person who passed it.
    pub user_id: ID,
    /// The certifying course's code.
    pub course_code: String,
    /// When the exam was passed.
    pub passed_at: DateTime<Utc>,
    /// The certificate's number.
    pub certificate_number: String,
    /// When the certificate lapses; null when it does not.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What `recordExamResult` returns.
#[derive(SimpleObject)]
pub struct RecordExamResultPayload {
    /// The ExamResult as `recordExamResult` left it.
    pub exam_result: ExamResult,
}

#[derive(Default)]
pub struct CourseMutation;

#[Object]
impl CourseMutation {
    /// Adds a course to the training catalog (staff ADMIN).
    async fn create_course(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: CreateCourseInput,
    ) -> async_graphql::Result<CreateCoursePayload> {
        let course = crate::service::courses::create(
            ctx.service(),
            ctx.principal(),
            crate::service::courses::NewCourse {
                code: input.code,
                title: input.title,
                kind: input.kind.into(),
                fee: input.fee.amount.0,
                currency: input.fee.currency,
            },
        )
        .await?;
        Ok(CreateCoursePayload { course: Course(course) })
    }

    /// Records a passed exam of a partner's employee (staff ADMIN or CHANNEL_MANAGER).
    async fn record_exam_result(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RecordExamResultInput,
    ) -> async_graphql::Result<RecordExamResultPayload> {
        policy::signed_in(ctx.principal())?;
        let user = ids::decode_as(NodeType::User, &input.user_id).ok_or(AppError::NotFound("User"))?;
        let result = crate::service::courses::record(
            ctx.service(),
            ctx.principal(),
            crate::service::courses::NewExamResult {
                user_id: user,
                course_code: input.course_code,
                passed_at: input.passed_at,
                certificate_number: input.certificate_number,
                expires_at: input.expires_at,
            },
        )
        .await?;
        Ok(RecordExamResultPayload { exam_result: ExamResult(result) })
    }
}
