//! The tender board in GraphQL (issue 18): customers and visitors post calls for tenders;
//! entitled partners read them redacted until they express interest, then respond; the author
//! awards one response. `/tenders/new` serves visitors the same service as plain pages.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::{tender, tender_response};

use super::{
    connection::{Page, PageArgs, first_page_of, paginate, plain_first_page},
    context::ContextExt,
    ledger::decode,
    loaders::{Names, TenderStandings, load_with},
    programs::{Money, MoneyInput},
};
use crate::{
    ids::{self, NodeType},
    policy,
    service::tenders::{self, Awarder, NewTender, Posted},
};

/// Where a call for tenders stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::TenderStatus")]
pub enum TenderStatus {
    /// Posted by a visitor who has not confirmed the e-mail yet: seen by nobody.
    Unconfirmed,
    /// Taking responses until the deadline.
    Open,
    /// Past its deadline; the author may still award it.
    Closed,
    /// The author picked a response.
    Awarded,
}

pub struct Tender(pub tender::Model);

fn strings(v: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// Who posted a tender and how to reach them.
#[derive(SimpleObject)]
pub struct TenderAuthor {
    /// The customer organisation; null for a visitor.
    pub organization_name: Option<String>,
    /// The person to contact.
    pub contact_name: String,
    /// Their e-mail address.
    pub contact_email: String,
}

impl Tender {
    /// Whether the principal sees the author (the policy's rule; interest is the partner's).
    async fn reveals_author(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        if policy::reads_tender_as_author(ctx.principal(), &self.0) {
            return Ok(true);
        }
        let interested = load_with::<TenderStandings>(ctx, self.0.id).await?.is_some_and(|s| s.interested);
        Ok(policy::reads_tender_author(ctx.principal(), &self.0, interested))
    }

    fn is_authors(&self, ctx: &Context<'_>) -> bool {
        policy::reads_tender_as_author(ctx.principal(), &self.0)
    }
}

/// A call for tenders. Partners see it without its author until they express interest.
#[Object]
impl Tender {
    /// Opaque identifier.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Tender, self.0.id))
    }
    /// What is asked for.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The details, plain text.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The lowest the author expects to pay.
    async fn budget_min(&self) -> Money {
        Money::new(self.0.budget_min.to_decimal(), self.0.currency.clone())
    }
    /// The most the author expects to pay.
    async fn budget_max(&self) -> Money {
        Money::new(self.0.budget_max.to_decimal(), self.0.currency.clone())
    }
    /// The countries (ISO 3166-1 alpha-2) where partners may answer; empty: anywhere.
    async fn region(&self) -> Vec<String> {
        strings(&self.0.region)
    }
    /// The product lines it is about.
    async fn product_lines(&self) -> Vec<String> {
        strings(&self.0.product_lines)
    }
    /// The expertise a partner needs (one of them); empty: any.
    async fn expertise(&self) -> Vec<String> {
        strings(&self.0.expertise)
    }
    /// Responses are taken until then.
    async fn deadline(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.deadline
    }
    /// Where it stands; CLOSED from the deadline on, whether or not the closing job ran.
    async fn status(&self, ctx: &Context<'_>) -> TenderStatus {
        let open = self.0.status == entity::enums::TenderStatus::Open;
        if open && !tenders::accepts_responses(&self.0, ctx.service().now()) {
            TenderStatus::Closed
        } else {
            self.0.status.into()
        }
    }
    /// When it was published (confirmed, for a visitor's tender).
    async fn published_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.published_at
    }
    /// Who posted it: null for a partner until it expresses interest (`expressInterest`).
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<TenderAuthor>> {
        if !self.reveals_author(ctx).await? {
            return Ok(None);
        }
        let organization_name = match self.0.author_organization_id {
            Some(id) => load_with::<Names>(ctx, id).await?,
            None => None,
        };
        Ok(Some(TenderAuthor {
            organization_name,
            contact_name: self.0.contact_name.clone(),
            contact_email: self.0.contact_email.clone(),
        }))
    }
    /// Whether your organisation expressed interest.
    async fn interest_expressed(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(load_with::<TenderStandings>(ctx, self.0.id).await?.is_some_and(|s| s.interested))
    }
    /// Your organisation's response, if it responded.
    async fn my_response(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<TenderResponse>> {
        Ok(load_with::<TenderStandings>(ctx, self.0.id).await?.and_then(|s| s.response).map(TenderResponse))
    }
    /// The responses, oldest first: for the author's organisation and staff (empty for others).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn responses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<TenderResponse>> {
        use sea_orm::{ColumnTrait, QueryFilter, QueryTrait};
        let args = PageArgs::of(ctx, first, after, last, before);
        let mut select =
            tenders::visible_responses(ctx.principal()).filter(tender_response::Column::TenderId.eq(self.0.id));
        let authors = self.is_authors(ctx);
        if !authors {
            // A partner reads its own through `myResponse`; the list is the author's.
            select = select.filter(sea_orm::sea_query::Expr::val(false));
        }
        let db = &ctx.service().db;
        // A first page under each tender of a list: one statement for all of them (none for a
        // partner, whose list is empty).
        if let Some(size) = plain_first_page(&args)? {
            let rows = if authors {
                super::loaders::first_page::<tender_response::Entity>(ctx, self.0.id, size).await?
            } else {
                Vec::new()
            };
            return Ok(first_page_of(db, rows, size, select.into_query(), |m| m.id, TenderResponse));
        }
        Ok(paginate(db, select, tender_response::Column::Id, |m| m.id, TenderResponse, args).await?)
    }
    /// The response the author picked: shown to the author, staff, and the winner.
    async fn awarded_response(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<TenderResponse>> {
        let Some(id) = self.0.awarded_response_id else { return Ok(None) };
        let own = load_with::<TenderStandings>(ctx, self.0.id).await?.and_then(|s| s.response);
        if let Some(r) = own.filter(|r| r.id == id) {
            return Ok(Some(TenderResponse(r)));
        }
        if !self.is_authors(ctx) {
            return Ok(None);
        }
        Ok(super::loaders::load::<tender_response::Entity>(ctx, id).await?.map(TenderResponse))
    }
}

pub struct TenderResponse(pub tender_response::Model);

/// A partner's proposal for a tender.
#[Object]
impl TenderResponse {
    /// Opaque identifier.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::TenderResponse, self.0.id))
    }
    /// The tender it answers.
    async fn tender_id(&self) -> ID {
        ID(ids::encode(NodeType::Tender, self.0.tender_id))
    }
    /// The responding partner.
    async fn partner_id(&self) -> ID {
        ID(ids::encode(NodeType::Organization, self.0.partner_id))
    }
    /// The responding partner's name.
    async fn partner_name(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(load_with::<Names>(ctx, self.0.partner_id).await?.unwrap_or_default())
    }
    /// What the partner proposes, plain text.
    async fn proposal(&self) -> &str {
        &self.0.proposal
    }
    /// Its price.
    async fn price(&self) -> Money {
        Money::new(self.0.price.to_decimal(), self.0.currency.clone())
    }
    /// When it was first sent.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.updated_at
    }
}

#[derive(Default)]
pub struct TenderQuery;

#[Object]
impl TenderQuery {
    /// Calls for tenders you may read, oldest first: for a partner, the open ones it is entitled
    /// to (its country in the region, one of the expertise on its profile, where the author
    /// restricted them) and those it took part in; for a customer, its own; for staff, all.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn tenders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Tender>> {
        policy::signed_in(ctx.principal())?;
        let args = PageArgs::of(ctx, first, after, last, before);
        let select = tenders::visible(ctx.principal(), ctx.service().now());
        Ok(paginate(&ctx.service().db, select, tender::Column::Id, |m| m.id, Tender, args).await?)
    }
}

/// A budget range in one currency.
#[derive(InputObject)]
pub struct BudgetInput {
    /// The lowest expected price, 0 or more.
    pub min: super::scalars::Decimal,
    /// The highest, at least `min` and more than 0.
    pub max: super::scalars::Decimal,
    /// ISO 4217 code, such as EUR.
    pub currency: String,
}

/// The input of `postTender`.
#[derive(InputObject)]
pub struct PostTenderInput {
    /// What is asked for, up to 150 characters.
    pub title: String,
    /// The details, plain text, 20 to 5000 characters.
    pub description: String,
    /// What the author expects to pay.
    pub budget: BudgetInput,
    /// Countries (ISO 3166-1 alpha-2) whose partners may see it; empty or absent: any.
    pub region: Option<Vec<String>>,
    /// Product lines it is about.
    pub product_lines: Option<Vec<String>>,
    /// Expertise a partner must list on its profile (one of them); empty or absent: any.
    pub expertise: Option<Vec<String>>,
    /// When responses close: at least an hour and at most a year from now.
    pub deadline: chrono::DateTime<chrono::Utc>,
    /// The person partners contact.
    pub contact_name: String,
    /// Their e-mail; a visitor confirms it before anything is published.
    pub contact_email: String,
}

/// What `postTender` returns.
#[derive(SimpleObject)]
pub struct PostTenderPayload {
    /// The published tender (a customer's); null while a visitor's awaits confirmation.
    pub tender: Option<Tender>,
    /// Where the confirmation link went (a visitor's tender); null when published.
    pub confirmation_sent_to: Option<String>,
    /// Until when the link works.
    pub confirmation_expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The input of `confirmTender`.
#[derive(InputObject)]
pub struct ConfirmTenderInput {
    /// The token from the confirmation e-mail's link.
    pub token: String,
}

/// What `confirmTender` returns to the visitor.
#[derive(SimpleObject)]
pub struct ConfirmTenderPayload {
    /// The published tender's ID.
    pub tender_id: ID,
    /// Its title.
    pub title: String,
    /// The private key to the tender's responses and award (also e-mailed); shown once.
    pub manage_key: String,
}

/// The input of `expressInterest`.
#[derive(InputObject)]
pub struct ExpressInterestInput {
    /// The tender.
    pub tender_id: ID,
}

/// The input of `respondToTender`.
#[derive(InputObject)]
pub struct RespondToTenderInput {
    /// The tender.
    pub tender_id: ID,
    /// What your organisation proposes, plain text, up to 5000 characters.
    pub proposal: String,
    /// Its price, in the tender's currency.
    pub price: MoneyInput,
    /// A key of your choosing: a retry with the same key and input answers the same response.
    pub idempotency_key: String,
}

/// The input of `awardTender`.
#[derive(InputObject)]
pub struct AwardTenderInput {
    /// The winning response.
    pub response_id: ID,
    /// A visitor's key to its tender (from the confirmation); signed-in authors leave it out.
    pub manage_key: Option<String>,
}

/// What `awardTender` returns.
#[derive(SimpleObject)]
pub struct AwardTenderPayload {
    /// The awarded tender.
    pub tender_id: ID,
    /// AWARDED.
    pub status: TenderStatus,
    /// The winning response.
    pub awarded_response_id: ID,
}

#[derive(Default)]
pub struct TenderMutation;

#[Object]
impl TenderMutation {
    /// Posts a call for tenders. A customer's ADMIN publishes at once; a visitor (not signed in)
    /// gets a confirmation link by e-mail, and nothing is published until it is followed. Limited
    /// per client address and per e-mail (`RATE_LIMITED` with `Retry-After`).
    async fn post_tender(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: PostTenderInput,
    ) -> async_graphql::Result<PostTenderPayload> {
        let new = NewTender {
            title: input.title,
            description: input.description,
            budget_min: input.budget.min.0,
            budget_max: input.budget.max.0,
            currency: input.budget.currency,
            region: input.region.unwrap_or_default(),
            product_lines: input.product_lines.unwrap_or_default(),
            expertise: input.expertise.unwrap_or_default(),
            deadline: input.deadline,
            contact_name: input.contact_name,
            contact_email: input.contact_email,
        };
        let posted = tenders::post(ctx.service(), ctx.principal(), ctx.state().client, new).await?;
        Ok(match posted {
            Posted::Published(t) => PostTenderPayload {
                tender: Some(Tender(*t)),
                confirmation_sent_to: None,
                confirmation_expires_at: None,
            },
            Posted::AwaitingConfirmation { email, expires_at } => PostTenderPayload {
                tender: None,
                confirmation_sent_to: Some(email),
                confirmation_expires_at: Some(expires_at),
            },
        })
    }

    /// Publishes a visitor's tender from its e-mailed token (once; the link expires in 24 hours).
    async fn confirm_tender(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ConfirmTenderInput,
    ) -> async_graphql::Result<ConfirmTenderPayload> {
        let done = tenders::confirm(ctx.service(), &input.token).await?;
        Ok(ConfirmTenderPayload {
            tender_id: ID(ids::encode(NodeType::Tender, done.tender.id)),
            title: done.tender.title,
            manage_key: done.manage_key,
        })
    }

    /// Records your organisation's interest (partner ADMIN or SALES): the author and contact
    /// become visible to it. Recorded once, with who expressed it and when.
    async fn express_interest(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ExpressInterestInput,
    ) -> async_graphql::Result<Tender> {
        let id = decode(NodeType::Tender, &input.tender_id, "Tender")?;
        let t = tenders::express_interest(ctx.service(), ctx.principal(), id).await?;
        Ok(Tender(t))
    }

    /// Sends or changes your organisation's response (partner ADMIN or SALES): one per partner,
    /// editable until the deadline.
    async fn respond_to_tender(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RespondToTenderInput,
    ) -> async_graphql::Result<TenderResponse> {
        let tender_id = decode(NodeType::Tender, &input.tender_id, "Tender")?;
        let (price, currency) = input.price.parts();
        let response = tenders::respond(
            ctx.service(),
            ctx.principal(),
            tenders::Response {
                tender_id,
                proposal: input.proposal,
                price,
                currency,
                idempotency_key: input.idempotency_key,
            },
        )
        .await?;
        Ok(TenderResponse(response))
    }

    /// Picks the winning response: the posting customer's ADMIN, or the visitor with its key.
    /// The winner and every other responder are notified.
    async fn award_tender(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: AwardTenderInput,
    ) -> async_graphql::Result<AwardTenderPayload> {
        let response_id = decode(NodeType::TenderResponse, &input.response_id, "TenderResponse")?;
        let awarder = match input.manage_key.as_deref() {
            Some(key) => Awarder::Key(key),
            None => Awarder::Principal(policy::signed_in(ctx.principal())?),
        };
        let t = tenders::award(ctx.service(), awarder, response_id).await?;
        Ok(AwardTenderPayload {
            tender_id: ID(ids::encode(NodeType::Tender, t.id)),
            status: t.status.into(),
            awarded_response_id: ID(ids::encode(NodeType::TenderResponse, response_id)),
        })
    }
}
