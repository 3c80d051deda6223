//! The onboarding questionnaire: staff publish versions of it, a partner's ADMIN answers the
//! current one, and may change the answers until staff review them. A new version never
//! touches stored answers: they keep pointing at the version they answered.

use entity::{partnership, program, questionnaire, questionnaire_answer};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select,
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit};
use crate::{
    db,
    domain::questionnaire::{self as rules, Answer, Question},
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
};

/// The stored questions of a version.
pub fn questions_of(q: &questionnaire::Model) -> AppResult<Vec<Question>> {
    serde_json::from_value(q.questions.clone())
        .map_err(|e| AppError::internal_from(format!("questionnaire {} questions", q.id), e))
}

/// The stored answers.
pub fn answers_of(a: &questionnaire_answer::Model) -> AppResult<Vec<Answer>> {
    serde_json::from_value(a.answers.clone())
        .map_err(|e| AppError::internal_from(format!("questionnaire answers {}", a.id), e))
}

/// The current (newest) version of a programme's questionnaire; public, like the programme.
pub async fn current(db: &impl ConnectionTrait, program_id: Uuid) -> AppResult<Option<questionnaire::Model>> {
    Ok(questionnaire::Entity::find()
        .filter(questionnaire::Column::ProgramId.eq(program_id))
        .order_by_desc(questionnaire::Column::Version)
        .one(db)
        .await?)
}

/// Every questionnaire version (public, like the programmes).
pub fn versions(principal: Option<&Principal>) -> Select<questionnaire::Entity> {
    questionnaire::Entity::find().filter(policy::programs_scope(principal))
}

/// Answers the principal may read: staff all, a partner's members their own.
pub fn answers_visible(principal: Option<&Principal>) -> Select<questionnaire_answer::Entity> {
    questionnaire_answer::Entity::find().filter(policy::questionnaire_answers_scope(principal))
}

fn bad((field, why): rules::Invalid) -> AppError {
    AppError::bad_input(field, why)
}

/// Publishes a new version (staff ADMIN); the first is version 1.
#[tracing::instrument(skip_all, fields(program_id = %program_id))]
pub async fn publish(
    ctx: &Ctx,
    principal: Option<&Principal>,
    program_id: Uuid,
    questions: Vec<Question>,
) -> AppResult<questionnaire::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageProgram)?;
    let questions: Vec<Question> = questions
        .into_iter()
        .map(|q| Question {
            key: q.key.trim().to_string(),
            label: q.label.trim().to_string(),
            options: q.options.iter().map(|o| o.trim().to_string()).collect(),
            help: q.help.into_iter().map(|(l, t)| (l.trim().to_lowercase(), t.trim().to_string())).collect(),
            ..q
        })
        .collect();
    rules::validate_questions(&questions).map_err(bad)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    program::Entity::find_by_id(program_id).one(&txn).await?.ok_or(AppError::NotFound("Program"))?;
    let version = current(&txn, program_id).await?.map_or(1, |q| q.version + 1);
    let created = questionnaire::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program_id),
        version: Set(version),
        questions: Set(serde_json::to_value(&questions).map_err(|e| AppError::internal_from("questions", e))?),
        published_at: Set(now),
        published_by_user_id: Set(Some(principal.user_id())),
    }
    .insert(&txn)
    .await?;
    let event = audit::Event {
        action: "questionnaire.published",
        target_type: "Program",
        target_id: Some(program_id),
        customer_id: None,
        before: None,
        after: Some(json!({ "version": version, "questions": questions.len() })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// The acting partner's ADMIN answers the programme's current questionnaire, or changes its
/// answers (now to the current version) until staff have reviewed them.
#[tracing::instrument(skip_all, fields(program_id = %program_id))]
pub async fn answer(
    ctx: &Ctx,
    principal: Option<&Principal>,
    program_id: Uuid,
    answers: Vec<Answer>,
) -> AppResult<questionnaire_answer::Model> {
    let principal = policy::signed_in(principal)?;
    let partner_id = policy::acting(principal)?.organization_id();
    policy::can(principal, Action::AnswerQuestionnaire { organization_id: partner_id })?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let place = partnership::Entity::find()
        .filter(partnership::Column::OrganizationId.eq(partner_id))
        .filter(partnership::Column::ProgramId.eq(program_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Partnership"))?;
    let Some(version) = current(&txn, program_id).await? else {
        return Err(AppError::bad_input("programId", "this programme has no questionnaire"));
    };
    let clean = rules::validate_answers(&questions_of(&version)?, &answers).map_err(bad)?;
    let stored = serde_json::to_value(&clean).map_err(|e| AppError::internal_from("answers", e))?;
    let existing = questionnaire_answer::Entity::find()
        .filter(questionnaire_answer::Column::PartnershipId.eq(place.id))
        .one(&txn)
        .await?;
    let saved = match existing {
        Some(a) if a.reviewed_at.is_some() => {
            return Err(AppError::Conflict("staff reviewed these answers; they can no longer change".into()));
        }
        Some(a) => {
            let mut active: questionnaire_answer::ActiveModel = a.into();
            active.questionnaire_id = Set(version.id);
            active.answers = Set(stored);
            active.answered_by_user_id = Set(principal.user_id());
            active.answered_at = Set(now);
            active.update(&txn).await?
        }
        None => {
            questionnaire_answer::ActiveModel {
                id: Set(Uuid::now_v7()),
                partnership_id: Set(place.id),
                organization_id: Set(partner_id),
                questionnaire_id: Set(version.id),
                answers: Set(stored),
                answered_by_user_id: Set(principal.user_id()),
                answered_at: Set(now),
                reviewed_at: Set(None),
                reviewed_by_user_id: Set(None),
            }
            .insert(&txn)
            .await?
        }
    };
    let event = audit::Event {
        action: "questionnaire.answered",
        target_type: "Organization",
        target_id: Some(partner_id),
        customer_id: None,
        before: None,
        after: Some(json!({ "version": version.version, "answers": clean.len() })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Staff mark answers reviewed: from then on the partner cannot change them.
#[tracing::instrument(skip_all, fields(answers_id = %id))]
pub async fn review(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<questionnaire_answer::Model> {
    let principal = policy::signed_in(principal)?;
    let txn = db::begin_write(&ctx.db).await?;
    let found = answers_visible(Some(principal))
        .filter(questionnaire_answer::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("QuestionnaireAnswers"))?;
    policy::can(principal, Action::ReviewPartners)?;
    if found.reviewed_at.is_some() {
        return Err(AppError::Conflict("these answers are already reviewed".into()));
    }
    let now = ctx.now();
    let updated = mark_reviewed(&txn, found, principal.user_id(), now).await?;
    let event = audit::Event {
        action: "questionnaire.reviewed",
        target_type: "Organization",
        target_id: Some(updated.organization_id),
        customer_id: None,
        before: None,
        after: Some(json!({ "answers": updated.id })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(updated)
}

async fn mark_reviewed(
    db: &impl ConnectionTrait,
    a: questionnaire_answer::Model,
    by: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<questionnaire_answer::Model> {
    let mut active: questionnaire_answer::ActiveModel = a.into();
    active.reviewed_at = Set(Some(now));
    active.reviewed_by_user_id = Set(Some(by));
    Ok(active.update(db).await?)
}

/// Before staff move a partner from its entry tier to a higher one: a programme with a
/// questionnaire needs it answered; the move counts as the answers' review.
pub async fn settle_before_first_tier(
    db: &impl ConnectionTrait,
    place: &partnership::Model,
    by: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    if current(db, place.program_id).await?.is_none() {
        return Ok(());
    }
    let found = questionnaire_answer::Entity::find()
        .filter(questionnaire_answer::Column::PartnershipId.eq(place.id))
        .one(db)
        .await?;
    match found {
        None => Err(AppError::bad_input(
            "tierId",
            "the partner has not answered the programme's onboarding questionnaire yet",
        )),
        Some(a) if a.reviewed_at.is_none() => mark_reviewed(db, a, by, now).await.map(|_| ()),
        Some(_) => Ok(()),
    }
}
