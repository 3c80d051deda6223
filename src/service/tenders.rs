//! The tender board (issue 18): calls for tenders that only entitled partners see.
//!
//! A customer's ADMIN publishes at once; a visitor's tender waits, UNCONFIRMED and invisible,
//! until the single-use link e-mailed by the outbox is followed within 24 hours, and the visitor
//! then holds a private key to its tender (its responses and the award). A partner sees the
//! author and contact only after expressing interest, which is recorded and audited; it answers
//! with one response, editable until the deadline. The deadline closes a tender twice over: the
//! scope compares it with the clock on every request, and a job marks it CLOSED.

use std::{collections::HashMap, net::IpAddr, num::NonZeroU32};

use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    enums::{TenderStatus, TenderTagKind},
    fixed::Fixed,
    organization, partnership, tender, tender_digest, tender_interest, tender_response, tender_tag,
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Expr, OnConflict},
};
use serde_json::json;
use uuid::Uuid;

use super::{
    Ctx, audit, field, fixed,
    idempotency::{self, Key},
    notifications,
};
use crate::{
    db,
    domain::{currency, notifications::NotificationKind, validate},
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
};

/// Characters of a tender's description, and of a proposal.
pub const MAX_TEXT: usize = 5000;
/// What an unknown or used confirmation link is (`NOT_FOUND`: "Confirmation link not found").
pub const LINK: &str = "Confirmation link";
/// How long a visitor's confirmation link works.
pub const CONFIRMATION_VALIDITY: TimeDelta = TimeDelta::hours(24);
/// Countries, expertise or product lines one tender may name.
const MAX_TAGS: usize = 30;

/// Limits posting per client address and per author e-mail (GCRA, `governor`): a flood from one
/// address, or in one person's name from many, is refused with `RATE_LIMITED` and `Retry-After`.
pub struct PostLimits {
    limiter: DefaultKeyedRateLimiter<PostKey>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum PostKey {
    Client(IpAddr),
    Email(String),
}

impl PostLimits {
    pub fn per_hour(n: u32) -> Self {
        PostLimits { limiter: RateLimiter::keyed(Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))) }
    }

    /// Counts one post against the address and the e-mail; refused when either is used up.
    fn check(&self, client: Option<IpAddr>, email: &str) -> AppResult<()> {
        let clock = governor::clock::DefaultClock::default();
        let keys = client.map(PostKey::Client).into_iter().chain([PostKey::Email(email.to_ascii_lowercase())]);
        let wait = keys
            .filter_map(|k| self.limiter.check_key(&k).err().map(|not_until| not_until.wait_time_from(clock.now())))
            .max();
        if self.limiter.len() > 100_000 {
            self.limiter.retain_recent();
        }
        match wait {
            Some(wait) => Err(AppError::RateLimited { retry_after: crate::http::limits::retry_after_secs(wait) }),
            None => Ok(()),
        }
    }
}

/// What an author types.
#[derive(Clone, Debug, Default)]
pub struct NewTender {
    pub title: String,
    pub description: String,
    pub budget_min: Decimal,
    pub budget_max: Decimal,
    pub currency: String,
    /// ISO country codes; empty: any country.
    pub region: Vec<String>,
    pub product_lines: Vec<String>,
    /// Empty: any expertise.
    pub expertise: Vec<String>,
    pub deadline: DateTime<Utc>,
    pub contact_name: String,
    pub contact_email: String,
}

/// A tender's input, checked: every field error names its field, and nothing is stored.
struct Checked {
    title: String,
    description: String,
    budget_min: Fixed,
    budget_max: Fixed,
    currency: String,
    region: Vec<String>,
    product_lines: Vec<String>,
    expertise: Vec<String>,
    deadline: DateTime<Utc>,
    contact_name: String,
    contact_email: String,
}

fn check(input: &NewTender, now: DateTime<Utc>) -> AppResult<Checked> {
    let title = field("title", validate::name(&input.title, 150))?;
    let description = field("description", validate::plain_text(&input.description, MAX_TEXT))?;
    if description.chars().count() < 20 {
        return Err(AppError::bad_input("description", "must say what is needed in at least 20 characters"));
    }
    let currency = field("budget.currency", currency::parse(input.currency.trim()))?.to_string();
    if input.budget_min < Decimal::ZERO {
        return Err(AppError::bad_input("budget.min", "must not be negative"));
    }
    if input.budget_max <= Decimal::ZERO {
        return Err(AppError::bad_input("budget.max", "must be more than 0"));
    }
    if input.budget_max < input.budget_min {
        return Err(AppError::bad_input("budget.max", "must not be less than the lowest amount of the budget"));
    }
    let budget_min = fixed("budget.min", input.budget_min)?;
    let budget_max = fixed("budget.max", input.budget_max)?;
    let mut region: Vec<String> = Vec::new();
    for c in &input.region {
        let code = field("region", validate::country(c))?;
        if !region.contains(&code) {
            region.push(code);
        }
    }
    if region.len() > MAX_TAGS {
        return Err(AppError::bad_input("region", format!("must hold at most {MAX_TAGS} countries")));
    }
    let product_lines = field("productLines", super::directory::labels(&input.product_lines, false))?;
    let expertise = field("expertise", super::directory::labels(&input.expertise, false))?;
    if input.deadline <= now + TimeDelta::hours(1) {
        return Err(AppError::bad_input("deadline", "must be at least an hour from now"));
    }
    if input.deadline > now + TimeDelta::days(366) {
        return Err(AppError::bad_input("deadline", "must be within a year"));
    }
    let contact_name = field("contactName", validate::name(&input.contact_name, 100))?;
    let contact_email = field("contactEmail", validate::email(&input.contact_email))?;
    Ok(Checked {
        title,
        description,
        budget_min,
        budget_max,
        currency,
        region,
        product_lines,
        expertise,
        deadline: input.deadline,
        contact_name,
        contact_email,
    })
}

/// What posting did.
pub enum Posted {
    /// A customer's tender: open now.
    Published(Box<tender::Model>),
    /// A visitor's: the confirmation link went to this address, valid until then.
    AwaitingConfirmation { email: String, expires_at: DateTime<Utc> },
}

/// Posts a tender: published at once for a customer's ADMIN; for a visitor (no principal),
/// kept unconfirmed while the confirmation e-mail goes out.
#[tracing::instrument(skip_all)]
pub async fn post(
    ctx: &Ctx,
    principal: Option<&Principal>,
    client: Option<IpAddr>,
    input: NewTender,
) -> AppResult<Posted> {
    if let Some(p) = principal {
        policy::can(p, Action::PostTender)?;
    }
    let now = ctx.now();
    let c = check(&input, now)?;
    ctx.tender_posts.check(client, &c.contact_email)?;
    let id = Uuid::now_v7();
    let author = principal.and_then(|p| p.acting.as_ref().map(|m| (m.organization_id(), p.user_id())));
    let token = author.is_none().then(crate::secrets::generate);
    let expires_at = now + CONFIRMATION_VALIDITY;
    let txn = db::begin_write(&ctx.db).await?;
    let row = tender::ActiveModel {
        id: Set(id),
        title: Set(c.title.clone()),
        description: Set(c.description),
        budget_min: Set(c.budget_min),
        budget_max: Set(c.budget_max),
        currency: Set(c.currency),
        region: Set(json!(c.region)),
        product_lines: Set(json!(c.product_lines)),
        expertise: Set(json!(c.expertise)),
        deadline: Set(c.deadline),
        contact_name: Set(c.contact_name),
        contact_email: Set(c.contact_email.clone()),
        author_organization_id: Set(author.map(|a| a.0)),
        author_user_id: Set(author.map(|a| a.1)),
        status: Set(if author.is_some() { TenderStatus::Open } else { TenderStatus::Unconfirmed }),
        confirmation_hash: Set(token.as_ref().map(|t| t.hash.clone())),
        confirmation_expires_at: Set(token.as_ref().map(|_| expires_at)),
        manage_key_hash: Set(None),
        awarded_response_id: Set(None),
        published_at: Set(author.map(|_| now)),
        closed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let mut tags = Vec::new();
    for (kind, values) in [
        (TenderTagKind::Region, &c.region),
        (TenderTagKind::Expertise, &c.expertise),
        (TenderTagKind::ProductLine, &c.product_lines),
    ] {
        let mut seen = Vec::new();
        for v in values {
            let value = if kind == TenderTagKind::Region { v.clone() } else { super::directory::tag_value(v) };
            if !seen.contains(&value) {
                seen.push(value.clone());
                tags.push(tender_tag::ActiveModel { tender_id: Set(id), kind: Set(kind), value: Set(value) });
            }
        }
    }
    if !tags.is_empty() {
        tender_tag::Entity::insert_many(tags).exec_without_returning(&txn).await?;
    }
    audit::record(
        &txn,
        principal,
        audit::Event {
            action: "tender.posted",
            target_type: "Tender",
            target_id: Some(id),
            customer_id: author.map(|a| a.0),
            before: None,
            after: Some(json!({ "title": row.title, "status": row.status.as_str(), "deadline": row.deadline })),
        },
        now,
    )
    .await?;
    let posted = match token {
        Some(token) => {
            notifications::enqueue_email(
                &txn,
                NotificationKind::TenderConfirmation,
                &c.contact_email,
                json!({ "title": row.title, "token": token.secret, "expiresAt": expires_at }),
                now,
            )
            .await?;
            Posted::AwaitingConfirmation { email: c.contact_email, expires_at }
        }
        None => Posted::Published(Box::new(row)),
    };
    txn.commit().await?;
    Ok(posted)
}

/// A visitor's confirmed tender and the key that manages it (shown once, and e-mailed).
pub struct Confirmed {
    pub tender: tender::Model,
    pub manage_key: String,
}

/// The unconfirmed tender a confirmation link opens, for the page that asks to publish it; the
/// same refusals as `confirm`.
pub async fn pending(ctx: &Ctx, token: &str) -> AppResult<tender::Model> {
    let found = tender::Entity::find()
        .filter(tender::Column::ConfirmationHash.eq(crate::secrets::hash(token.trim())))
        .filter(tender::Column::Status.eq(TenderStatus::Unconfirmed))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| AppError::NotFound(LINK))?;
    if found.confirmation_expires_at.is_none_or(|at| at <= ctx.now()) {
        return Err(expired());
    }
    Ok(found)
}

fn expired() -> AppError {
    AppError::ConflictOn {
        field: "token",
        message: "this confirmation link expired: links work for 24 hours; post the tender again".into(),
    }
}

/// Follows a confirmation link: publishes the tender once. A used, unknown or expired link is
/// refused, and changes nothing.
#[tracing::instrument(skip_all)]
pub async fn confirm(ctx: &Ctx, token: &str) -> AppResult<Confirmed> {
    let now = ctx.now();
    let hash = crate::secrets::hash(token.trim());
    let refused = || AppError::NotFound(LINK);
    let found = pending(ctx, token).await?;
    let key = crate::secrets::generate();
    let txn = db::begin_write(&ctx.db).await?;
    // Conditional on the hash: of two clicks at once, one publishes; the other finds no row.
    let done = tender::Entity::update_many()
        .col_expr(tender::Column::Status, Expr::value(TenderStatus::Open))
        .col_expr(tender::Column::ConfirmationHash, Expr::value(Option::<String>::None))
        .col_expr(tender::Column::ManageKeyHash, Expr::value(key.hash.clone()))
        .col_expr(tender::Column::PublishedAt, Expr::value(now))
        .col_expr(tender::Column::UpdatedAt, Expr::value(now))
        .filter(tender::Column::Id.eq(found.id))
        .filter(tender::Column::ConfirmationHash.eq(hash))
        .filter(tender::Column::Status.eq(TenderStatus::Unconfirmed))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(refused());
    }
    audit::record(
        &txn,
        None,
        audit::Event {
            action: "tender.confirmed",
            target_type: "Tender",
            target_id: Some(found.id),
            customer_id: None,
            before: Some(json!({ "status": TenderStatus::Unconfirmed.as_str() })),
            after: Some(json!({ "status": TenderStatus::Open.as_str(), "publishedAt": now })),
        },
        now,
    )
    .await?;
    notifications::enqueue_email(
        &txn,
        NotificationKind::TenderPublished,
        &found.contact_email,
        json!({ "title": found.title, "token": key.secret, "deadline": found.deadline }),
        now,
    )
    .await?;
    txn.commit().await?;
    let tender = tender::Entity::find_by_id(found.id).one(&ctx.db).await?.ok_or_else(refused)?;
    Ok(Confirmed { tender, manage_key: key.secret })
}

/// Tenders the principal reads (the policy's scope).
pub fn visible(principal: Option<&Principal>, now: DateTime<Utc>) -> Select<tender::Entity> {
    tender::Entity::find().filter(policy::tenders_scope(principal, now))
}

/// Responses the principal reads (the policy's scope).
pub fn visible_responses(principal: Option<&Principal>) -> Select<tender_response::Entity> {
    tender_response::Entity::find().filter(policy::tender_responses_scope(principal))
}

async fn visible_one(ctx: &Ctx, principal: &Principal, id: Uuid) -> AppResult<tender::Model> {
    visible(Some(principal), ctx.now())
        .filter(tender::Column::Id.eq(id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| AppError::NotFound("Tender"))
}

/// Whether responses are taken now: open, and before the deadline whatever the job did yet.
pub fn accepts_responses(t: &tender::Model, now: DateTime<Utc>) -> bool {
    t.status == TenderStatus::Open && t.deadline > now
}

fn closed(t: &tender::Model) -> AppError {
    AppError::ConflictOn { field: "tenderId", message: format!("this tender closed on {}", t.deadline.to_rfc3339()) }
}

async fn record_interest(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    t: &tender::Model,
    partner_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let inserted = tender_interest::Entity::insert(tender_interest::ActiveModel {
        tender_id: Set(t.id),
        partner_id: Set(partner_id),
        user_id: Set(principal.user_id()),
        expressed_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([tender_interest::Column::TenderId, tender_interest::Column::PartnerId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted > 0 {
        audit::record(
            txn,
            Some(principal),
            audit::Event {
                action: "tender.interest_expressed",
                target_type: "Tender",
                target_id: Some(t.id),
                customer_id: t.author_organization_id,
                before: None,
                after: Some(json!({ "partnerId": ids::encode(NodeType::Organization, partner_id) })),
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// Records the acting partner's interest (once, audited): from now on it sees who posted the
/// tender and how to reach them.
#[tracing::instrument(skip_all)]
pub async fn express_interest(ctx: &Ctx, principal: Option<&Principal>, tender_id: Uuid) -> AppResult<tender::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::AnswerTender)?;
    let partner_id = policy::acting(principal)?.organization_id();
    let t = visible_one(ctx, principal, tender_id).await?;
    let now = ctx.now();
    if !accepts_responses(&t, now) {
        return Err(closed(&t));
    }
    let txn = db::begin_write(&ctx.db).await?;
    record_interest(&txn, principal, &t, partner_id, now).await?;
    txn.commit().await?;
    Ok(t)
}

/// A partner's proposal.
pub struct Response {
    pub tender_id: Uuid,
    pub proposal: String,
    pub price: Decimal,
    pub currency: String,
    pub idempotency_key: String,
}

/// Writes the acting partner's response: the first call creates it (recording interest too),
/// later ones change it, until the deadline. A retry with the same key answers the same row.
#[tracing::instrument(skip_all)]
pub async fn respond(ctx: &Ctx, principal: Option<&Principal>, input: Response) -> AppResult<tender_response::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::AnswerTender)?;
    let partner_id = policy::acting(principal)?.organization_id();
    let proposal = field("proposal", validate::plain_text(&input.proposal, MAX_TEXT))?;
    if proposal.is_empty() {
        return Err(AppError::bad_input("proposal", "must not be empty"));
    }
    if input.price <= Decimal::ZERO {
        return Err(AppError::bad_input("price.amount", "must be more than 0"));
    }
    let price = fixed("price.amount", input.price)?;
    let currency = field("price.currency", currency::parse(input.currency.trim()))?;
    let key = Key::new(
        principal.user_id(),
        "respondToTender",
        &input.idempotency_key,
        &json!({ "tender": input.tender_id, "proposal": proposal, "price": price.0, "currency": currency }),
    )?;
    let t = visible_one(ctx, principal, input.tender_id).await?;
    let find = |id: Uuid| async move {
        tender_response::Entity::find_by_id(id)
            .filter(tender_response::Column::PartnerId.eq(partner_id))
            .one(&ctx.db)
            .await?
            .ok_or_else(|| AppError::internal("a remembered response is gone"))
    };
    if let Some(id) = idempotency::previous(&ctx.db, &key).await? {
        return find(id).await;
    }
    let now = ctx.now();
    if !accepts_responses(&t, now) {
        return Err(closed(&t));
    }
    if currency != t.currency {
        return Err(AppError::bad_input("price.currency", format!("must be the tender's currency, {}", t.currency)));
    }
    let written = async {
        let txn = db::begin_write(&ctx.db).await?;
        let existing = tender_response::Entity::find()
            .filter(tender_response::Column::TenderId.eq(t.id))
            .filter(tender_response::Column::PartnerId.eq(partner_id))
            .one(&txn)
            .await?;
        let (id, before) = match existing {
            Some(old) => {
                let before = json!({ "price": old.price.0, "proposalChars": old.proposal.chars().count() });
                let mut row: tender_response::ActiveModel = old.into();
                row.proposal = Set(proposal.clone());
                row.price = Set(price);
                row.currency = Set(currency.to_string());
                row.user_id = Set(principal.user_id());
                row.updated_at = Set(now);
                (row.update(&txn).await?.id, Some(before))
            }
            None => {
                record_interest(&txn, principal, &t, partner_id, now).await?;
                let row = tender_response::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tender_id: Set(t.id),
                    partner_id: Set(partner_id),
                    user_id: Set(principal.user_id()),
                    proposal: Set(proposal.clone()),
                    price: Set(price),
                    currency: Set(currency.to_string()),
                    created_at: Set(now),
                    updated_at: Set(now),
                };
                (row.insert(&txn).await?.id, None)
            }
        };
        audit::record(
            &txn,
            Some(principal),
            audit::Event {
                action: if before.is_some() { "tender.response_changed" } else { "tender.responded" },
                target_type: "TenderResponse",
                target_id: Some(id),
                customer_id: t.author_organization_id,
                before,
                after: Some(json!({ "price": price.0, "proposalChars": proposal.chars().count() })),
            },
            now,
        )
        .await?;
        idempotency::remember(&txn, &key, id, now).await?;
        txn.commit().await?;
        Ok::<_, AppError>(id)
    }
    .await;
    let id = match written {
        Ok(id) => id,
        Err(e) => idempotency::winner(&ctx.db, &key, e).await?,
    };
    find(id).await
}

/// Who awards: the posting customer's ADMIN, or the visitor with its tender's key.
pub enum Awarder<'a> {
    Principal(&'a Principal),
    Key(&'a str),
}

/// The tender a visitor's key manages.
pub async fn by_manage_key(db: &impl ConnectionTrait, key: &str) -> AppResult<Option<tender::Model>> {
    let key = key.trim();
    if key.is_empty() {
        return Ok(None);
    }
    Ok(tender::Entity::find().filter(tender::Column::ManageKeyHash.eq(crate::secrets::hash(key))).one(db).await?)
}

/// The responses to the tender a visitor's key manages, oldest first.
pub async fn responses_by_key(db: &impl ConnectionTrait, t: &tender::Model) -> AppResult<Vec<tender_response::Model>> {
    Ok(tender_response::Entity::find()
        .filter(tender_response::Column::TenderId.eq(t.id))
        .order_by_asc(tender_response::Column::Id)
        .all(db)
        .await?)
}

/// Organisation names by id (responders for an author; the author once interest is shown).
pub async fn names(db: &impl ConnectionTrait, ids: Vec<Uuid>) -> AppResult<HashMap<Uuid, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

/// Picks the winning response. Open or closed tenders may be awarded, once; the winner and
/// every other responder are told.
#[tracing::instrument(skip_all)]
pub async fn award(ctx: &Ctx, awarder: Awarder<'_>, response_id: Uuid) -> AppResult<tender::Model> {
    let response = tender_response::Entity::find_by_id(response_id).one(&ctx.db).await?;
    let not_found = || AppError::NotFound("TenderResponse");
    let response = response.ok_or_else(not_found)?;
    let t = tender::Entity::find_by_id(response.tender_id).one(&ctx.db).await?.ok_or_else(not_found)?;
    let principal = match awarder {
        Awarder::Principal(p) => {
            // Whoever may not read the responses learns nothing about them.
            let readable =
                visible_responses(Some(p)).filter(tender_response::Column::Id.eq(response_id)).one(&ctx.db).await?;
            if readable.is_none() || t.author_organization_id.is_none() {
                return Err(not_found());
            }
            policy::can(p, Action::AwardTender { tender: &t })?;
            Some(p)
        }
        Awarder::Key(key) => {
            if t.manage_key_hash.as_deref() != Some(crate::secrets::hash(key.trim()).as_str()) {
                return Err(not_found());
            }
            None
        }
    };
    if !matches!(t.status, TenderStatus::Open | TenderStatus::Closed) {
        return Err(AppError::ConflictOn { field: "responseId", message: "this tender was already awarded".into() });
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let done = tender::Entity::update_many()
        .col_expr(tender::Column::Status, Expr::value(TenderStatus::Awarded))
        .col_expr(tender::Column::AwardedResponseId, Expr::value(response_id))
        .col_expr(tender::Column::ClosedAt, Expr::value(t.closed_at.unwrap_or(now)))
        .col_expr(tender::Column::UpdatedAt, Expr::value(now))
        .filter(tender::Column::Id.eq(t.id))
        .filter(tender::Column::Status.is_in([TenderStatus::Open, TenderStatus::Closed]))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::ConflictOn { field: "responseId", message: "this tender was already awarded".into() });
    }
    let all = responses_by_key(&txn, &t).await?;
    for r in &all {
        let (kind, won) = if r.id == response_id {
            (NotificationKind::TenderAwarded, true)
        } else {
            (NotificationKind::TenderNotAwarded, false)
        };
        let payload = json!({
            "title": t.title, "tenderId": ids::encode(NodeType::Tender, t.id), "won": won,
            "price": r.price.to_decimal().to_string(), "currency": r.currency,
        });
        notifications::enqueue(&txn, kind, r.partner_id, None, payload, now).await?;
    }
    audit::record(
        &txn,
        principal,
        audit::Event {
            action: "tender.awarded",
            target_type: "Tender",
            target_id: Some(t.id),
            customer_id: t.author_organization_id,
            before: Some(json!({ "status": t.status.as_str() })),
            after: Some(json!({
                "status": TenderStatus::Awarded.as_str(),
                "responseId": ids::encode(NodeType::TenderResponse, response_id),
                "partnerId": ids::encode(NodeType::Organization, response.partner_id),
            })),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    tender::Entity::find_by_id(t.id).one(&ctx.db).await?.ok_or_else(not_found)
}

/// What the acting organisation has to do with each tender: its interest and its response.
#[derive(Clone, Debug, Default)]
pub struct Standing {
    pub interested: bool,
    pub response: Option<tender_response::Model>,
}

/// The acting partner's standing on these tenders (two statements); empty for anyone else.
pub async fn standing(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    tender_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Standing>> {
    let mut out: HashMap<Uuid, Standing> = HashMap::new();
    let Some(m) = principal.and_then(|p| p.acting.as_ref()) else { return Ok(out) };
    if m.organization_kind != crate::domain::OrganizationKind::Partner || tender_ids.is_empty() {
        return Ok(out);
    }
    let interests = tender_interest::Entity::find()
        .filter(tender_interest::Column::PartnerId.eq(m.organization_id()))
        .filter(tender_interest::Column::TenderId.is_in(tender_ids.iter().copied()))
        .all(db)
        .await?;
    for i in interests {
        out.entry(i.tender_id).or_default().interested = true;
    }
    let responses = tender_response::Entity::find()
        .filter(tender_response::Column::PartnerId.eq(m.organization_id()))
        .filter(tender_response::Column::TenderId.is_in(tender_ids.iter().copied()))
        .all(db)
        .await?;
    for r in responses {
        let id = r.tender_id;
        out.entry(id).or_default().response = Some(r);
    }
    Ok(out)
}

/// Closes the tenders whose deadline passed; returns how many. Conditional, so nodes running it
/// together close each once.
#[tracing::instrument(skip_all)]
pub async fn run_close(ctx: &Ctx) -> AppResult<u64> {
    let now = ctx.now();
    let done = tender::Entity::update_many()
        .col_expr(tender::Column::Status, Expr::value(TenderStatus::Closed))
        .col_expr(tender::Column::ClosedAt, Expr::value(now))
        .col_expr(tender::Column::UpdatedAt, Expr::value(now))
        .filter(tender::Column::Status.eq(TenderStatus::Open))
        .filter(tender::Column::Deadline.lte(now))
        .exec(&ctx.db)
        .await?;
    Ok(done.rows_affected)
}

/// The daily digest: each active partner is told, once per UTC day, of the tenders published for
/// it since its last digest (the first digest looks back one day). One row per partner and day
/// makes a second run, here or on another node, send nothing twice.
#[tracing::instrument(skip_all)]
pub async fn run_digest(ctx: &Ctx) -> AppResult<usize> {
    let now = ctx.now();
    let today = now.date_naive();
    let partners: Vec<Uuid> = partnership::Entity::find()
        .select_only()
        .column(partnership::Column::OrganizationId)
        .distinct()
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let mut sent = 0;
    for partner in partners {
        let last = tender_digest::Entity::find()
            .filter(tender_digest::Column::OrganizationId.eq(partner))
            .order_by_desc(tender_digest::Column::SentAt)
            .one(&ctx.db)
            .await?
            .map(|d| d.sent_at);
        let since = last.unwrap_or(now - TimeDelta::days(1));
        let fresh = tender::Entity::find()
            .filter(policy::tenders_open_to(partner, now))
            .filter(tender::Column::PublishedAt.gt(since))
            .filter(tender::Column::PublishedAt.lte(now))
            .order_by_asc(tender::Column::Deadline)
            .limit(20)
            .all(&ctx.db)
            .await?;
        if fresh.is_empty() {
            continue;
        }
        let txn = db::begin_write(&ctx.db).await?;
        let inserted = tender_digest::Entity::insert(tender_digest::ActiveModel {
            organization_id: Set(partner),
            day: Set(today),
            tenders: Set(i32::try_from(fresh.len()).unwrap_or(i32::MAX)),
            sent_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([tender_digest::Column::OrganizationId, tender_digest::Column::Day])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if inserted == 0 {
            txn.rollback().await?;
            continue;
        }
        let tenders: Vec<_> = fresh
            .iter()
            .map(|t| {
                json!({
                    "id": ids::encode(NodeType::Tender, t.id), "title": t.title, "deadline": t.deadline,
                    "budget": format!("{}–{} {}", t.budget_min.to_decimal(), t.budget_max.to_decimal(), t.currency),
                })
            })
            .collect();
        let payload = json!({ "count": fresh.len(), "tenders": tenders });
        notifications::enqueue(&txn, NotificationKind::TenderDigest, partner, None, payload, now).await?;
        txn.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(now: DateTime<Utc>) -> NewTender {
        NewTender {
            title: "New phones for 40 desks".into(),
            description: "We replace the desk phones of our Zurich office and want a partner to run it.".into(),
            budget_min: Decimal::new(10_000, 0),
            budget_max: Decimal::new(25_000, 0),
            currency: "CHF".into(),
            region: vec!["ch".into(), "CH".into()],
            product_lines: vec!["Desk phones".into()],
            expertise: vec![],
            deadline: now + TimeDelta::days(14),
            contact_name: "Erika".into(),
            contact_email: "erika@example.com".into(),
        }
    }

    #[test]
    fn input_is_checked_field_by_field() {
        let now = Utc::now();
        let ok = check(&input(now), now).unwrap();
        assert_eq!(ok.region, vec!["CH".to_string()], "codes normalised, duplicates dropped");
        type Change = Box<dyn Fn(&mut NewTender)>;
        let cases: Vec<(&str, Change)> = vec![
            ("title", Box::new(|t| t.title = " ".into())),
            ("description", Box::new(|t| t.description = "x".repeat(MAX_TEXT + 1))),
            ("description", Box::new(|t| t.description = "too short".into())),
            ("budget.max", Box::new(|t| t.budget_max = Decimal::new(5, 0))),
            ("budget.min", Box::new(|t| t.budget_min = Decimal::new(-1, 0))),
            ("budget.currency", Box::new(|t| t.currency = "XXY".into())),
            ("region", Box::new(|t| t.region = vec!["Switzerland".into()])),
            ("deadline", Box::new(move |t| t.deadline = now)),
            ("deadline", Box::new(move |t| t.deadline = now + TimeDelta::days(400))),
            ("contactEmail", Box::new(|t| t.contact_email = "nobody".into())),
        ];
        for (name, change) in cases {
            let mut t = input(now);
            change(&mut t);
            match check(&t, now) {
                Err(AppError::BadInput { field, .. }) => assert_eq!(field.as_deref(), Some(name)),
                Err(other) => panic!("{name}: {other:?}"),
                Ok(_) => panic!("{name} accepted"),
            }
        }
    }

    #[test]
    fn posting_is_limited_per_address_and_per_email() {
        let limits = PostLimits::per_hour(2);
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(limits.check(Some(ip), "a@example.com").is_ok());
        assert!(limits.check(Some(ip), "b@example.com").is_ok());
        assert!(
            matches!(limits.check(Some(ip), "c@example.com"), Err(AppError::RateLimited { retry_after }) if retry_after > 0)
        );
        // The same person from other addresses is refused too, on the e-mail alone.
        let other: IpAddr = "10.9.9.9".parse().unwrap();
        assert!(limits.check(Some(other), "A@example.com").is_ok());
        assert!(limits.check(Some("10.9.9.8".parse().unwrap()), "a@example.com").is_err());
    }
}
