//! The onboarding questionnaire, tier proposals (the review queue and the tier history) and a
//! programme's fee and grace rules.

use std::collections::BTreeMap;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{partnership, questionnaire, questionnaire_answer, tier, tier_proposal};
use uuid::Uuid;

use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    loaders::{Names, first_child, load, load_with},
    onboarding::Partnership,
    programs::MoneyInput,
    scalars::Decimal,
    types::{Organization, Program, Tier},
};
use crate::{
    domain::questionnaire as rules,
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::{programs, questionnaires, tier_proposals},
};

fn decode(kind: NodeType, id: &ID, what: &'static str) -> Result<Uuid, AppError> {
    ids::decode_as(kind, id).ok_or(AppError::NotFound(what))
}

/// The kind of a question, which decides the answer it takes.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::questionnaire::QuestionKind")]
pub enum QuestionKind {
    /// One of the options (`choices` with one value).
    SingleChoice,
    /// Some of the options, each once (`choices`).
    MultipleChoice,
    /// Text, 1 to 2000 characters (`text`).
    FreeText,
    /// A number (`number`).
    Number,
    /// Yes or no (`yes`).
    YesNo,
}

/// Whether a proposal moves the partner up or down.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ProposalDirection")]
pub enum TierProposalDirection {
    /// The partner meets a higher tier: proposed at once.
    Upgrade,
    /// The partner stopped meeting its tier and its grace period ended.
    Downgrade,
}

/// Where a proposal is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ProposalStatus")]
pub enum TierProposalStatus {
    /// Waiting for staff.
    Open,
    /// Staff moved the partner as proposed.
    Confirmed,
    /// Staff decided against it, with a reason.
    Dismissed,
    /// The evaluation changed (the partner recovered, or a tier change settled it otherwise).
    Withdrawn,
}

/// A text in one language.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "LocalizedTextInput")]
pub struct LocalizedText {
    /// ISO 639-1 code, such as en or de.
    pub language: String,
    /// The text.
    pub text: String,
}

pub struct Question(rules::Question, String);

/// One question of a questionnaire version.
#[Object]
impl Question {
    /// Stable within the version; answers name it.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// What the answer is.
    async fn kind(&self) -> QuestionKind {
        self.0.kind.into()
    }
    /// The question.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// Whether it must be answered.
    async fn required(&self) -> bool {
        self.0.required
    }
    /// The options of a choice question.
    async fn options(&self) -> &[String] {
        &self.0.options
    }
    /// The help text in the reader's language where one exists (else English, else any).
    async fn help(&self) -> Option<&str> {
        self.0.help_in(&self.1)
    }
    /// The help text in every language given.
    async fn help_translations(&self) -> Vec<LocalizedText> {
        self.0
            .help
            .iter()
            .map(|(language, text)| LocalizedText { language: language.clone(), text: text.clone() })
            .collect()
    }
}

pub struct Questionnaire(pub questionnaire::Model);

/// One version of a programme's onboarding questionnaire; a change publishes a new version.
#[Object]
impl Questionnaire {
    /// Opaque global identifier; `node(id:)` fetches the version again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Questionnaire, self.0.id))
    }
    /// Its version, from 1.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was published.
    async fn published_at(&self) -> DateTime<Utc> {
        self.0.published_at
    }
    /// The questions, in order.
    async fn questions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Question>> {
        let language = ctx
            .principal()
            .and_then(|p| p.user.language)
            .map_or_else(|| "en".to_string(), |l| l.as_str().to_lowercase());
        Ok(questionnaires::questions_of(&self.0)?.into_iter().map(|q| Question(q, language.clone())).collect())
    }
}

/// One answer; the value set depends on the question's kind.
#[derive(SimpleObject)]
pub struct Answer {
    /// The question's key.
    pub key: String,
    /// A free-text answer.
    pub text: Option<String>,
    /// A number answer.
    pub number: Option<Decimal>,
    /// The options picked.
    pub choices: Vec<String>,
    /// A yes/no answer.
    pub yes: Option<bool>,
}

pub struct QuestionnaireAnswers(pub questionnaire_answer::Model);

/// A partner's answers to the questionnaire version it answered.
#[Object]
impl QuestionnaireAnswers {
    /// Opaque global identifier; `node(id:)` fetches the answers again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::QuestionnaireAnswers, self.0.id))
    }
    /// The version answered.
    async fn questionnaire(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Questionnaire>> {
        Ok(load::<questionnaire::Entity>(ctx, self.0.questionnaire_id).await?.map(Questionnaire))
    }
    /// The partner.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.organization_id).await?.map(Organization))
    }
    /// The answers, in the questions' order.
    async fn answers(&self) -> async_graphql::Result<Vec<Answer>> {
        Ok(questionnaires::answers_of(&self.0)?
            .into_iter()
            .map(|a| Answer {
                key: a.key,
                text: a.text,
                number: a.number.map(Into::into),
                choices: a.choices,
                yes: a.yes,
            })
            .collect())
    }
    /// Who answered last.
    async fn answered_by_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        load_with::<Names>(ctx, self.0.answered_by_user_id).await
    }
    /// When they were last saved.
    async fn answered_at(&self) -> DateTime<Utc> {
        self.0.answered_at
    }
    /// When staff reviewed them; from then on they cannot change.
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
    /// Whether the partner may still change them.
    async fn editable(&self) -> bool {
        self.0.reviewed_at.is_none()
    }
}

/// The answers of a partnership, for staff and the partner's members.
pub async fn answers_of(
    ctx: &Context<'_>,
    partnership_id: Uuid,
) -> async_graphql::Result<Option<QuestionnaireAnswers>> {
    Ok(first_child::<questionnaire_answer::Entity>(ctx, partnership_id).await?.map(QuestionnaireAnswers))
}

/// The current questionnaire of a programme.
pub async fn current_of(ctx: &Context<'_>, program_id: Uuid) -> async_graphql::Result<Option<Questionnaire>> {
    Ok(first_child::<questionnaire::Entity>(ctx, program_id).await?.map(Questionnaire))
}

pub struct TierProposal(pub tier_proposal::Model);

/// A tier change the daily review proposes to staff, kept with its decision.
#[Object]
impl TierProposal {
    /// Opaque global identifier; `node(id:)` fetches the proposal again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::TierProposal, self.0.id))
    }
    /// The partner's place in the programme.
    async fn partnership(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partnership>> {
        Ok(load::<partnership::Entity>(ctx, self.0.partnership_id).await?.map(Partnership))
    }
    /// The partner.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.organization_id).await?.map(Organization))
    }
    /// Up or down.
    async fn direction(&self) -> TierProposalDirection {
        self.0.direction.into()
    }
    /// Open, or how it was settled.
    async fn status(&self) -> TierProposalStatus {
        self.0.status.into()
    }
    /// The partner's tier when proposed.
    #[graphql(name = "fromTier")]
    async fn tier_before(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        Ok(load::<tier::Entity>(ctx, self.0.from_tier_id).await?.map(Tier))
    }
    /// The tier proposed.
    async fn to_tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        Ok(load::<tier::Entity>(ctx, self.0.to_tier_id).await?.map(Tier))
    }
    /// What the partner missed of its tier when proposed (empty for an upgrade).
    async fn missing(&self) -> Vec<String> {
        serde_json::from_value(self.0.missing.clone()).unwrap_or_default()
    }
    /// When the review proposed it.
    async fn proposed_at(&self) -> DateTime<Utc> {
        self.0.proposed_at
    }
    /// When it was settled.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
    /// Who settled it (staff); null when the evaluation withdrew it.
    async fn decided_by_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.0.decided_by_user_id else { return Ok(None) };
        load_with::<Names>(ctx, id).await
    }
    /// Why staff confirmed a downgrade or dismissed the proposal.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// The partner's questionnaire answers, for the first move above the entry tier.
    async fn questionnaire_answers(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<QuestionnaireAnswers>> {
        answers_of(ctx, self.0.partnership_id).await
    }
}

/// A partner's tier proposals, newest last (staff reviewers and the partner's members).
pub async fn proposals_of(
    ctx: &Context<'_>,
    partner_id: Uuid,
    args: PageArgs,
) -> async_graphql::Result<Page<TierProposal>> {
    let select = tier_proposals::of_partner(ctx.principal(), partner_id);
    Ok(paginate(&ctx.service().db, select, tier_proposal::Column::Id, |m| m.id, TierProposal, args).await?)
}

#[derive(Default)]
pub struct ProposalQuery;

#[Object]
impl ProposalQuery {
    /// Open tier proposals (staff ADMIN or CHANNEL_MANAGER): upgrades as soon as a partner is
    /// eligible, downgrades once its grace period has ended. Oldest first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn tier_review_queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<TierProposal>> {
        policy::signed_in(ctx.principal())?;
        let select = tier_proposals::queue(ctx.principal());
        let args = PageArgs::of(ctx, first, after, last, before);
        Ok(paginate(&ctx.service().db, select, tier_proposal::Column::Id, |m| m.id, TierProposal, args).await?)
    }
}

/// One question to publish.
#[derive(InputObject)]
pub struct QuestionInput {
    /// Stable key: a-z, 0-9 and _, up to 40 characters, unique in the questionnaire.
    pub key: String,
    /// What the answer is.
    pub kind: QuestionKind,
    /// The question, up to 300 characters.
    pub label: String,
    /// Whether it must be answered.
    #[graphql(default)]
    pub required: bool,
    /// The options of a choice question (2 to 30, different); none for other kinds.
    #[graphql(default)]
    pub options: Vec<String>,
    /// Help text, one per language.
    #[graphql(default)]
    pub help: Vec<LocalizedText>,
}

/// The input of `publishQuestionnaire`.
#[derive(InputObject)]
pub struct PublishQuestionnaireInput {
    /// The programme.
    pub program_id: ID,
    /// The questions, in order (1 to 50).
    pub questions: Vec<QuestionInput>,
}

/// The result of `publishQuestionnaire`.
#[derive(SimpleObject)]
pub struct PublishQuestionnairePayload {
    /// The new version.
    pub questionnaire: Questionnaire,
}

/// One answer: set the value the question's kind takes.
#[derive(InputObject)]
pub struct AnswerInput {
    /// The question's key.
    pub key: String,
    /// For FREE_TEXT.
    pub text: Option<String>,
    /// For NUMBER.
    pub number: Option<Decimal>,
    /// For SINGLE_CHOICE (one) and MULTIPLE_CHOICE (one or more).
    #[graphql(default)]
    pub choices: Vec<String>,
    /// For YES_NO.
    pub yes: Option<bool>,
}

/// The input of `answerQuestionnaire`.
#[derive(InputObject)]
pub struct AnswerQuestionnaireInput {
    /// The programme whose current questionnaire is answered.
    pub program_id: ID,
    /// Every required question, and any others.
    pub answers: Vec<AnswerInput>,
}

/// The result of `answerQuestionnaire` and `reviewQuestionnaireAnswers`.
#[derive(SimpleObject)]
pub struct QuestionnaireAnswersPayload {
    /// The answers as stored.
    pub answers: QuestionnaireAnswers,
}

/// The input of `reviewQuestionnaireAnswers`.
#[derive(InputObject)]
pub struct ReviewQuestionnaireAnswersInput {
    /// The answers reviewed.
    pub id: ID,
}

/// The input of `decideTierProposal`.
#[derive(InputObject)]
pub struct DecideTierProposalInput {
    /// The open proposal.
    pub id: ID,
    /// True: move the partner as proposed; false: dismiss the proposal.
    pub confirm: bool,
    /// Required to confirm a downgrade and to dismiss.
    pub reason: Option<String>,
}

/// The result of `decideTierProposal`.
#[derive(SimpleObject)]
pub struct DecideTierProposalPayload {
    /// The proposal, settled.
    pub proposal: TierProposal,
}

/// The input of `updateProgramRules`.
#[derive(InputObject)]
pub struct UpdateProgramRulesInput {
    /// The programme.
    pub program_id: ID,
    /// The yearly fee, in the programme's currency, invoiced at each partnership year; 0
    /// removes it. Absent: unchanged.
    pub yearly_fee: Option<MoneyInput>,
    /// Months (1 to 12) a partner keeps a tier it no longer meets before a downgrade is
    /// proposed. Absent: unchanged.
    pub downgrade_grace_months: Option<i32>,
}

/// The result of `updateProgramRules`.
#[derive(SimpleObject)]
pub struct UpdateProgramRulesPayload {
    /// The programme.
    pub program: Program,
}

#[derive(Default)]
pub struct QuestionnaireMutation;

#[Object]
impl QuestionnaireMutation {
    /// Publishes a new version of a programme's onboarding questionnaire (staff ADMIN). Stored
    /// answers keep the version they answered.
    async fn publish_questionnaire(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: PublishQuestionnaireInput,
    ) -> async_graphql::Result<PublishQuestionnairePayload> {
        let program_id = decode(NodeType::Program, &input.program_id, "Program")?;
        let questions = input
            .questions
            .into_iter()
            .map(|q| rules::Question {
                key: q.key,
                kind: q.kind.into(),
                label: q.label,
                required: q.required,
                options: q.options,
                help: q.help.into_iter().map(|h| (h.language, h.text)).collect::<BTreeMap<_, _>>(),
            })
            .collect();
        let created = questionnaires::publish(ctx.service(), ctx.principal(), program_id, questions).await?;
        Ok(PublishQuestionnairePayload { questionnaire: Questionnaire(created) })
    }

    /// Answers the programme's current questionnaire for the partner acted as (its ADMIN), or
    /// changes the answers until staff have reviewed them.
    async fn answer_questionnaire(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: AnswerQuestionnaireInput,
    ) -> async_graphql::Result<QuestionnaireAnswersPayload> {
        let program_id = decode(NodeType::Program, &input.program_id, "Program")?;
        let answers = input
            .answers
            .into_iter()
            .map(|a| rules::Answer {
                key: a.key.trim().to_string(),
                text: a.text,
                number: a.number.map(|n| n.0),
                choices: a.choices,
                yes: a.yes,
            })
            .collect();
        let saved = questionnaires::answer(ctx.service(), ctx.principal(), program_id, answers).await?;
        Ok(QuestionnaireAnswersPayload { answers: QuestionnaireAnswers(saved) })
    }

    /// Marks a partner's answers reviewed (staff ADMIN or CHANNEL_MANAGER); they can no longer
    /// change.
    async fn review_questionnaire_answers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ReviewQuestionnaireAnswersInput,
    ) -> async_graphql::Result<QuestionnaireAnswersPayload> {
        let id = decode(NodeType::QuestionnaireAnswers, &input.id, "QuestionnaireAnswers")?;
        let reviewed = questionnaires::review(ctx.service(), ctx.principal(), id).await?;
        Ok(QuestionnaireAnswersPayload { answers: QuestionnaireAnswers(reviewed) })
    }

    /// Confirms (the tier changes) or dismisses an open tier proposal (staff ADMIN or
    /// CHANNEL_MANAGER).
    async fn decide_tier_proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: DecideTierProposalInput,
    ) -> async_graphql::Result<DecideTierProposalPayload> {
        let id = decode(NodeType::TierProposal, &input.id, "TierProposal")?;
        let decided =
            tier_proposals::decide(ctx.service(), ctx.principal(), id, input.confirm, input.reason.as_deref()).await?;
        Ok(DecideTierProposalPayload { proposal: TierProposal(decided) })
    }

    /// Sets a programme's yearly fee and downgrade grace period (staff ADMIN).
    async fn update_program_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: UpdateProgramRulesInput,
    ) -> async_graphql::Result<UpdateProgramRulesPayload> {
        let program_id = decode(NodeType::Program, &input.program_id, "Program")?;
        let updated = programs::update_program_rules(
            ctx.service(),
            ctx.principal(),
            program_id,
            input.yearly_fee.map(MoneyInput::parts),
            input.downgrade_grace_months,
        )
        .await?;
        Ok(UpdateProgramRulesPayload { program: Program(updated) })
    }
}
