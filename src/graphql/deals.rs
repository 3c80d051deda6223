//! Deal registration: partners register and work on their deals, staff review them, the named
//! distributor reads them (without contacts or the special discount).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{deal, deal_event, deal_product};

use super::{
    connection::{Page, PageArgs, paginate},
    context::ContextExt,
    customers::Product,
    loaders::{DealConflicts, DealHistory, DealProducts, load, load_with},
    programs::{Money, MoneyInput},
    scalars::Decimal,
    types::{Organization, User},
};
use crate::{
    error::AppError,
    ids::{self, NodeType},
    policy,
    service::deals::{self, Changes, Contact, NewDeal, Prospect, Review},
};

/// Where a deal registration stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::DealStatus")]
pub enum DealStatus {
    /// Saved by the partner, not sent.
    Draft,
    /// Sent, waiting for staff.
    Submitted,
    /// Staff are reviewing it.
    InReview,
    /// Staff asked a question; the partner may edit the fields they named and resubmit.
    ActionRequired,
    /// Approved: numbered and protected until `protectedUntil`.
    Approved,
    /// Refused, with a reason.
    Rejected,
    /// The partner won the business.
    Won,
    /// The partner lost it (with a reason).
    Lost,
    /// Its protection ended before it closed.
    Expired,
}

/// Why staff rejected a deal.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::DealRejectionCode")]
pub enum DealRejectionCode {
    /// Another partner's registration for the customer and product was approved.
    Conflict,
    /// The opportunity does not qualify.
    NotQualified,
    /// The same opportunity was registered before.
    Duplicate,
    /// Information is missing.
    Incomplete,
    /// Something else, said in text.
    Other,
}

/// Why an approved deal was lost.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::DealLostReason")]
pub enum DealLostReason {
    /// The price.
    Price,
    /// A competitor won.
    Competitor,
    /// The customer has no budget.
    NoBudget,
    /// The customer did not decide.
    NoDecision,
    /// Something else.
    Other,
}

/// A person on the partner's side of a deal.
#[derive(SimpleObject)]
pub struct DealContact {
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Phone number.
    pub phone: Option<String>,
}

pub struct DealProduct(pub deal_product::Model);

/// A product a deal is for, with its quantity.
#[Object]
impl DealProduct {
    /// The product.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        Ok(load::<entity::product::Entity>(ctx, self.0.product_id).await?.map(Product))
    }
    /// How many.
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
}

pub struct DealEvent(pub deal_event::Model);

/// One step of a deal's history: the status it left, the one it reached, who, and when.
#[Object]
impl DealEvent {
    /// The status before (none for the registration itself).
    async fn from_status(&self) -> Option<DealStatus> {
        self.0.from_status.map(Into::into)
    }
    /// The status after.
    async fn to_status(&self) -> DealStatus {
        self.0.to_status.into()
    }
    /// Who did it (none when the server did: expiry).
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(id) = self.0.actor_user_id else { return Ok(None) };
        Ok(load::<entity::user::Entity>(ctx, id).await?.map(User))
    }
    /// Staff's question, the rejection reason or the extension.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct Deal(pub deal::Model);

impl Deal {
    /// Contacts and the special discount are the partner's and staff's, not the distributor's.
    fn details(&self, ctx: &Context<'_>) -> bool {
        policy::sees_deal_details(ctx.principal(), &self.0)
    }
}

/// A partner's registration of an opportunity with one customer: reviewed by staff, numbered
/// and protected on approval, read by the distributor it names.
#[Object]
impl Deal {
    /// Opaque global identifier; `node(id:)` fetches the deal again.
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::Deal, self.0.id))
    }
    /// `DR-<year>-<6 digits>`, given on approval; what every later request refers to.
    async fn number(&self) -> Option<&str> {
        self.0.number.as_deref()
    }
    /// The status now (an approved deal past its protection is EXPIRED).
    async fn status(&self, ctx: &Context<'_>) -> DealStatus {
        crate::domain::deals::effective(self.0.status, self.0.protected_until, ctx.service().now()).into()
    }
    /// The registering partner.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.partner_id).await?.map(Organization))
    }
    /// The customer, when it is an organisation the reader sees.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        let Some(id) = self.0.customer_id else { return Ok(None) };
        Ok(load::<entity::organization::Entity>(ctx, id).await?.map(Organization))
    }
    /// The customer's name: the organisation's or the prospect's.
    async fn customer_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if let Some(name) = &self.0.prospect_name {
            return Ok(Some(name.clone()));
        }
        let Some(id) = self.0.customer_id else { return Ok(None) };
        load_with::<super::loaders::Names>(ctx, id).await
    }
    /// The prospect's domain, when the customer is not an organisation yet.
    async fn prospect_domain(&self) -> Option<&str> {
        self.0.prospect_domain.as_deref()
    }
    /// The prospect's VAT number.
    async fn prospect_vat_number(&self) -> Option<&str> {
        self.0.prospect_vat.as_deref()
    }
    /// The prospect's country (ISO 3166-1 alpha-2).
    async fn prospect_country(&self) -> Option<&str> {
        self.0.prospect_country.as_deref()
    }
    /// The distributor the deal goes through.
    async fn distributor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load::<entity::organization::Entity>(ctx, self.0.distributor_id).await?.map(Organization))
    }
    /// One to three products with their quantities.
    async fn products(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DealProduct>> {
        Ok(load_with::<DealProducts>(ctx, self.0.id).await?.unwrap_or_default().into_iter().map(DealProduct).collect())
    }
    /// The estimated value.
    async fn estimated_value(&self) -> Money {
        Money { amount: self.0.estimated_value.to_decimal().into(), currency: self.0.currency.clone() }
    }
    /// When the partner expects to close.
    async fn expected_close_date(&self) -> NaiveDate {
        self.0.expected_close_date
    }
    /// The partner's sales lead (partner and staff only).
    async fn sales_lead(&self, ctx: &Context<'_>) -> Option<DealContact> {
        self.details(ctx).then(|| DealContact {
            name: self.0.sales_lead_name.clone(),
            email: self.0.sales_lead_email.clone(),
            phone: self.0.sales_lead_phone.clone(),
        })
    }
    /// The partner's engineer (partner and staff only).
    async fn engineer(&self, ctx: &Context<'_>) -> Option<DealContact> {
        let (Some(name), Some(email)) = (&self.0.engineer_name, &self.0.engineer_email) else { return None };
        self.details(ctx).then(|| DealContact {
            name: name.clone(),
            email: email.clone(),
            phone: self.0.engineer_phone.clone(),
        })
    }
    /// Competitors in the running.
    async fn competitors(&self) -> Vec<String> {
        serde_json::from_str(&self.0.competitors).unwrap_or_default()
    }
    /// What happens next.
    async fn next_steps(&self) -> Option<&str> {
        self.0.next_steps.as_deref()
    }
    /// Whether the vendor already has an opportunity for it.
    async fn opportunity_exists(&self) -> bool {
        self.0.opportunity_exists
    }
    /// Staff's question while ACTION_REQUIRED.
    async fn staff_question(&self) -> Option<&str> {
        self.0.staff_question.as_deref()
    }
    /// The fields staff asked about: only these may change before resubmitting.
    async fn editable_fields(&self) -> Vec<String> {
        self.0.editable_fields.as_deref().and_then(|f| serde_json::from_str(f).ok()).unwrap_or_default()
    }
    /// Why it was rejected.
    async fn rejection_code(&self) -> Option<DealRejectionCode> {
        self.0.rejection_code.map(Into::into)
    }
    /// The rejection in words.
    async fn rejection_reason(&self) -> Option<&str> {
        self.0.rejection_text.as_deref()
    }
    /// Why it was lost.
    async fn lost_reason(&self) -> Option<DealLostReason> {
        self.0.lost_reason.map(Into::into)
    }
    /// The end of the protection of the customer and products.
    async fn protected_until(&self) -> Option<DateTime<Utc>> {
        self.0.protected_until
    }
    /// The special discount on the partner's subscriptions for this customer and these products
    /// while protected, in percent (partner and staff only).
    async fn special_discount_percent(&self, ctx: &Context<'_>) -> Option<Decimal> {
        self.0.special_discount_percent.filter(|_| self.details(ctx)).map(|p| p.to_decimal().into())
    }
    /// Other partners' live registrations for the same customer and a shared product (staff
    /// only; partners never learn who).
    async fn conflicts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Deal>> {
        Ok(load_with::<DealConflicts>(ctx, self.0.id).await?.unwrap_or_default().into_iter().map(Deal).collect())
    }
    /// Every status change, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DealEvent>> {
        Ok(load_with::<DealHistory>(ctx, self.0.id).await?.unwrap_or_default().into_iter().map(DealEvent).collect())
    }
    /// When it was sent to staff.
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }
    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The order of a deals list.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DealOrder {
    /// Oldest first (staff queues).
    OldestFirst,
    /// Newest first (partners).
    NewestFirst,
}

/// Filters of `deals`.
#[derive(InputObject, Default)]
pub struct DealFilter {
    /// Only deals in this status.
    pub status: Option<DealStatus>,
    /// Only deals of this customer organisation.
    pub customer_id: Option<ID>,
    /// Only deals through this distributor.
    pub distributor_id: Option<ID>,
    /// Only deals including this product.
    pub product_id: Option<ID>,
    /// Only approved deals whose protection ends within this many days.
    pub expiring_within_days: Option<i32>,
    /// Only live deals with a live registration of another partner for the same customer and a
    /// shared product (staff's conflict queue); `false`: only those without.
    pub conflicting: Option<bool>,
    /// Text in the customer's name or the registration number.
    pub search: Option<String>,
}

#[derive(Default)]
pub struct DealQuery;

#[Object]
impl DealQuery {
    /// Deals you may see: your partner's (SALES: those you registered), those naming your
    /// distributor, or all for staff.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn deals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deals matching this.")] filter: Option<DealFilter>,
        #[graphql(desc = "Oldest first (staff's default: a queue) or newest first (everyone else's default).")]
        order_by: Option<DealOrder>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
        #[graphql(desc = "Returns the last n items, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor (a `pageInfo.startCursor` or an edge's `cursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<Page<Deal>> {
        policy::signed_in(ctx.principal())?;
        let filter = filter.unwrap_or_default();
        let id_of = |field: &str, kind: NodeType, id: Option<ID>| {
            id.map(|id| {
                ids::decode_as(kind, &id).ok_or_else(|| AppError::bad_input(field, "is not an ID of this kind"))
            })
            .transpose()
        };
        let filter = deals::Filter {
            status: filter.status.map(Into::into),
            customer_id: id_of("customerId", NodeType::Organization, filter.customer_id)?,
            distributor_id: id_of("distributorId", NodeType::Organization, filter.distributor_id)?,
            product_id: id_of("productId", NodeType::Product, filter.product_id)?,
            expiring_within_days: filter.expiring_within_days,
            conflicting: filter.conflicting,
            search: filter.search,
        };
        let select = deals::filtered(ctx.principal(), &filter, ctx.service().now())?;
        // Newest first is the same keyset read backwards: `first`/`after` become `last`/`before`.
        let staff = policy::can_review_deals(ctx.principal());
        let order = order_by.unwrap_or(if staff { DealOrder::OldestFirst } else { DealOrder::NewestFirst });
        let newest = order == DealOrder::NewestFirst;
        let args = if newest {
            let size =
                first.or(if last.is_none() { Some(crate::graphql::connection::DEFAULT_PAGE_SIZE) } else { None });
            PageArgs::of(ctx, last, before, size, after)
        } else {
            PageArgs::of(ctx, first, after, last, before)
        };
        let mut page = paginate(&ctx.service().db, select, deal::Column::Id, |m| m.id, Deal, args).await?;
        if newest {
            page.edges.reverse();
            std::mem::swap(&mut page.has_previous_page, &mut page.has_next_page);
        }
        Ok(page)
    }

    /// One deal you may see, by its ID or its registration number; `null` otherwise, exactly as
    /// for one that does not exist.
    async fn deal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The deal's ID.")] id: Option<ID>,
        #[graphql(desc = "The registration number, DR-<year>-<6 digits>.")] number: Option<String>,
    ) -> async_graphql::Result<Option<Deal>> {
        policy::signed_in(ctx.principal())?;
        match (id, number) {
            (Some(id), None) => {
                let Some(id) = ids::decode_as(NodeType::Deal, &id) else { return Ok(None) };
                Ok(load::<deal::Entity>(ctx, id).await?.map(Deal))
            }
            (None, Some(number)) => Ok(deals::by_number(&ctx.service().db, ctx.principal(), &number).await?.map(Deal)),
            _ => Err(AppError::bad_input("id", "give either id or number").into()),
        }
    }
}

/// A person in input.
#[derive(InputObject)]
pub struct DealContactInput {
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Phone number.
    pub phone: Option<String>,
}

impl From<DealContactInput> for Contact {
    fn from(c: DealContactInput) -> Contact {
        Contact { name: c.name, email: c.email, phone: c.phone }
    }
}

/// A customer that is not an organisation yet.
#[derive(InputObject)]
pub struct ProspectInput {
    /// The company's name.
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Its web domain (finds conflicting registrations).
    pub domain: Option<String>,
    /// Its VAT number (finds conflicting registrations; spaces and case do not matter).
    pub vat_number: Option<String>,
}

/// A product and how many.
#[derive(InputObject)]
pub struct DealProductInput {
    /// The product's ID.
    pub product_id: ID,
    /// How many.
    pub quantity: i32,
}

fn product_list(list: Vec<DealProductInput>) -> Result<Vec<(uuid::Uuid, i32)>, AppError> {
    list.into_iter()
        .map(|p| {
            ids::decode_as(NodeType::Product, &p.product_id)
                .map(|id| (id, p.quantity))
                .ok_or_else(|| AppError::bad_input("products", "a product ID is not a product's"))
        })
        .collect()
}

/// The input of `registerDeal`.
#[derive(InputObject)]
pub struct RegisterDealInput {
    /// An existing customer you see; or give `prospect`.
    pub customer_id: Option<ID>,
    /// A customer that is not an organisation yet; or give `customerId`.
    pub prospect: Option<ProspectInput>,
    /// One to three products; more is another registration.
    pub products: Vec<DealProductInput>,
    /// The estimated value.
    pub estimated_value: MoneyInput,
    /// Today or later.
    pub expected_close_date: NaiveDate,
    /// Your sales lead.
    pub sales_lead: DealContactInput,
    /// Your engineer.
    pub engineer: Option<DealContactInput>,
    /// Competitors in the running.
    #[graphql(default)]
    pub competitors: Vec<String>,
    /// The distributor the deal goes through (required: it reads the deal).
    pub distributor_id: ID,
    /// What happens next.
    pub next_steps: Option<String>,
    /// Whether the vendor already has an opportunity for it.
    #[graphql(default)]
    pub opportunity_exists: bool,
    /// Send it to staff at once instead of keeping a draft.
    #[graphql(default)]
    pub submit: bool,
    /// A retry with the same key returns the same deal.
    pub idempotency_key: Option<String>,
}

/// The input of `updateDeal`: only what changes.
#[derive(InputObject)]
pub struct UpdateDealInput {
    /// The deal.
    pub deal_id: ID,
    /// One to three products.
    pub products: Option<Vec<DealProductInput>>,
    /// The estimated value.
    pub estimated_value: Option<MoneyInput>,
    /// Today or later.
    pub expected_close_date: Option<NaiveDate>,
    /// Your sales lead.
    pub sales_lead: Option<DealContactInput>,
    /// Your engineer.
    pub engineer: Option<DealContactInput>,
    /// Competitors in the running.
    pub competitors: Option<Vec<String>>,
    /// What happens next.
    pub next_steps: Option<String>,
    /// Whether the vendor already has an opportunity for it.
    pub opportunity_exists: Option<bool>,
}

/// What registering or submitting a deal returns.
#[derive(SimpleObject)]
pub struct DealPayload {
    /// The deal as the mutation left it.
    pub deal: Deal,
    /// Set when another partner holds an approved registration for this customer and a product
    /// of the deal: the protection's end. Who holds it is not told.
    pub protected_until: Option<DateTime<Utc>>,
}

fn deal_id(id: &ID) -> Result<uuid::Uuid, AppError> {
    ids::decode_as(NodeType::Deal, id).ok_or(AppError::NotFound("Deal"))
}

#[derive(Default)]
pub struct DealMutation;

#[Object]
impl DealMutation {
    /// Registers a deal for the partner you act for (its ADMIN or SALES): a draft, or submitted
    /// at once with `submit: true`.
    async fn register_deal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RegisterDealInput,
    ) -> async_graphql::Result<DealPayload> {
        let customer_id = match &input.customer_id {
            Some(id) => Some(
                ids::decode_as(NodeType::Organization, id)
                    .ok_or_else(|| AppError::bad_input("customerId", "is not one of your customers"))?,
            ),
            None => None,
        };
        let distributor_id = ids::decode_as(NodeType::Organization, &input.distributor_id)
            .ok_or_else(|| AppError::bad_input("distributorId", "name a distributor organisation"))?;
        let new = NewDeal {
            customer_id,
            prospect: input.prospect.map(|p| Prospect {
                name: p.name,
                country: p.country,
                domain: p.domain,
                vat_number: p.vat_number,
            }),
            products: product_list(input.products)?,
            estimated_value: input.estimated_value.parts(),
            expected_close_date: input.expected_close_date,
            sales_lead: input.sales_lead.into(),
            engineer: input.engineer.map(Into::into),
            competitors: input.competitors,
            distributor_id,
            next_steps: input.next_steps,
            opportunity_exists: input.opportunity_exists,
            submit: input.submit,
            idempotency_key: input.idempotency_key,
        };
        let done = deals::register(ctx.service(), ctx.principal(), new).await?;
        Ok(DealPayload { deal: Deal(done.deal), protected_until: done.protected_until })
    }

    /// Edits a draft; after staff's question, only the fields they named.
    async fn update_deal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: UpdateDealInput,
    ) -> async_graphql::Result<DealPayload> {
        let id = deal_id(&input.deal_id)?;
        let changes = Changes {
            products: input.products.map(product_list).transpose()?,
            estimated_value: input.estimated_value.map(MoneyInput::parts),
            expected_close_date: input.expected_close_date,
            sales_lead: input.sales_lead.map(Into::into),
            engineer: input.engineer.map(Into::into),
            competitors: input.competitors,
            next_steps: input.next_steps,
            opportunity_exists: input.opportunity_exists,
        };
        let updated = deals::update(ctx.service(), ctx.principal(), id, changes).await?;
        Ok(DealPayload { deal: Deal(updated), protected_until: None })
    }

    /// Sends a draft to staff, or resubmits after answering their question.
    async fn submit_deal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: DealIdInput,
    ) -> async_graphql::Result<DealPayload> {
        let done = deals::submit(ctx.service(), ctx.principal(), deal_id(&input.deal_id)?).await?;
        Ok(DealPayload { deal: Deal(done.deal), protected_until: done.protected_until })
    }

    /// Takes a submitted deal into review (staff ADMIN or CHANNEL_MANAGER).
    async fn start_deal_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: DealIdInput,
    ) -> async_graphql::Result<DealPayload> {
        review(ctx, &input.deal_id, Review::Start).await
    }

    /// Asks the partner a question; it may then edit only the named fields (staff).
    async fn request_deal_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: RequestDealActionInput,
    ) -> async_graphql::Result<DealPayload> {
        review(ctx, &input.deal_id, Review::Ask { fields: input.fields, question: input.question }).await
    }

    /// Approves a deal (staff): it gets its number and protection, and rival registrations of
    /// other partners are rejected with CONFLICT.
    async fn approve_deal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: ApproveDealInput,
    ) -> async_graphql::Result<DealPayload> {
        let decision = Review::Approve {
            protection_days: input.protection_days,
            special_discount_percent: input.special_discount_percent.map(|p| p.0),
        };
        review(ctx, &input.deal_id, decision).await
    }

    /// Rejects a deal with a reason code (and text; required for OTHER) (staff).
    async fn reject_deal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: RejectDealInput,
    ) -> async_graphql::Result<DealPayload> {
        review(ctx, &input.deal_id, Review::Reject { code: input.code.into(), text: input.reason }).await
    }

    /// Extends an approved deal's protection (staff); each extension is in its history.
    async fn extend_deal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: ExtendDealInput,
    ) -> async_graphql::Result<DealPayload> {
        review(ctx, &input.deal_id, Review::Extend { days: input.days }).await
    }

    /// Closes an approved deal: won, or lost with a reason (the registering partner).
    async fn close_deal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")] input: CloseDealInput,
    ) -> async_graphql::Result<DealPayload> {
        let id = deal_id(&input.deal_id)?;
        let closed =
            deals::close(ctx.service(), ctx.principal(), id, input.won, input.lost_reason.map(Into::into)).await?;
        Ok(DealPayload { deal: Deal(closed), protected_until: None })
    }
}

async fn review(ctx: &Context<'_>, id: &ID, decision: Review) -> async_graphql::Result<DealPayload> {
    let updated = deals::review(ctx.service(), ctx.principal(), deal_id(id)?, decision).await?;
    Ok(DealPayload { deal: Deal(updated), protected_until: None })
}

/// The input of `submitDeal` and `startDealReview`.
#[derive(InputObject)]
pub struct DealIdInput {
    /// The deal.
    pub deal_id: ID,
}

/// The input of `requestDealAction`.
#[derive(InputObject)]
pub struct RequestDealActionInput {
    /// The deal.
    pub deal_id: ID,
    /// The input fields the partner may change, e.g. `estimatedValue`.
    pub fields: Vec<String>,
    /// What staff ask.
    pub question: String,
}

/// The input of `approveDeal`.
#[derive(InputObject)]
pub struct ApproveDealInput {
    /// The deal.
    pub deal_id: ID,
    /// Days of protection (the programme's setting when not given).
    pub protection_days: Option<i32>,
    /// A special discount in percent, at most the programme's maximum.
    pub special_discount_percent: Option<Decimal>,
}

/// The input of `rejectDeal`.
#[derive(InputObject)]
pub struct RejectDealInput {
    /// The deal.
    pub deal_id: ID,
    /// Why.
    pub code: DealRejectionCode,
    /// Why, in words (required for OTHER).
    pub reason: Option<String>,
}

/// The input of `extendDeal`.
#[derive(InputObject)]
pub struct ExtendDealInput {
    /// The deal.
    pub deal_id: ID,
    /// Days to add, 1 to 365.
    pub days: i32,
}

/// The input of `closeDeal`.
#[derive(InputObject)]
pub struct CloseDealInput {
    /// The deal.
    pub deal_id: ID,
    /// Whether the partner won the business.
    pub won: bool,
    /// Why it was lost (required when not won).
    pub lost_reason: Option<DealLostReason>,
}
