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
    async fn from(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        let Some(id) = self.0.from_tier_id else { return Ok(None) };
        Ok(load::<tier::Entity>(ctx, id).await?.map(Tier))
    }
    async fn to(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        Ok(load::<tier::Entity>(ctx, self.0.to_tier_id).await?.map(Tier))
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn changed_by_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.0.changed_by_user_id else { return Ok(None) };
        load_with::<Names>(ctx, id).await
    }
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
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<Program>> {
        let select = programs::visible(ctx.principal());
        Ok(paginate(
            &ctx.service().db,
            select,
            program::Column::Id,
            |m| m.id,
            Program,
            PageArgs { first, after, last, before },
        )
        .await?)
    }
}

#[derive(InputObject)]
pub struct ChangePartnerTierInput {
    pub partner_id: ID,
    pub tier_id: ID,
    /// Required for a downgrade.
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct ChangePartnerTierPayload {
    pub partner: Organization,
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
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::SuccessStory, self.0.id))
    }
    async fn customer_name(&self) -> &str {
        &self.0.customer_name
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    async fn products(&self) -> Vec<String> {
        self.0
            .products
            .as_array()
            .map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
    async fn publishable(&self) -> bool {
        self.0.publishable
    }
    async fn status(&self) -> super::enums::SuccessStoryStatus {
        self.0.status.into()
    }
    async fn review_reason(&self) -> Option<&str> {
        self.0.review_reason.as_deref()
    }
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.partner_id).await?.map(Organization))
    }
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }
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
        status: Option<super::enums::SuccessStoryStatus>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
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
            PageArgs { first, after, last, before },
        )
        .await?)
    }
}

#[derive(InputObject)]
pub struct SubmitSuccessStoryInput {
    pub customer_name: String,
    pub title: String,
    pub summary: String,
    pub products: Vec<String>,
    /// May appear in the public directory once accepted.
    pub publishable: bool,
}

#[derive(InputObject)]
pub struct ReviewSuccessStoryInput {
    pub id: ID,
    pub accept: bool,
    /// Required when rejecting.
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct SuccessStoryPayload {
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
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
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
    async fn person_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        load_with::<Names>(ctx, self.0.user_id).await
    }
    async fn course(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Course>> {
        Ok(load::<entity::course::Entity>(ctx, self.0.course_id).await?.map(Course))
    }
    async fn passed_at(&self) -> DateTime<Utc> {
        self.0.passed_at
    }
    async fn certificate_number(&self) -> &str {
        &self.0.certificate_number
    }
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
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Page<Course>> {
        let select = crate::service::courses::visible(ctx.principal());
        Ok(paginate(
            &ctx.service().db,
            select,
            entity::course::Column::Id,
            |m| m.id,
            Course,
            PageArgs { first, after, last, before },
        )
        .await?)
    }
}

#[derive(InputObject)]
pub struct CreateCourseInput {
    pub code: String,
    pub title: String,
    pub kind: super::enums::CourseKind,
    pub fee: MoneyInput,
}

#[derive(SimpleObject)]
pub struct CreateCoursePayload {
    pub course: Course,
}

#[derive(InputObject)]
pub struct RecordExamResultInput {
    pub user_id: ID,
    pub course_code: String,
    pub passed_at: DateTime<Utc>,
    pub certificate_number: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct RecordExamResultPayload {
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
