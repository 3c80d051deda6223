//! Deal registration (SPEC §6): a partner registers an opportunity with one customer, staff
//! review it, and approval gives a gapless `DR-<year>-<6 digits>` number and protection of the
//! customer and products. Rival registrations of other partners are flagged; the database holds
//! one approved deal per customer and product (`deal_protections`).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use entity::{deal, deal_counter, deal_event, deal_product, deal_protection, domain as domain_row, organization};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query},
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, idempotency, notifications, optional_field};
use crate::{
    db,
    domain::{
        DealLostReason, DealRejectionCode, DealStatus, OrganizationKind,
        deals::{self, Operation, Refusal, Side},
        notifications::NotificationKind,
        validate,
    },
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
};

/// Deals the principal sees.
pub fn visible(principal: Option<&Principal>) -> Select<deal::Entity> {
    deal::Entity::find().filter(policy::deals_scope(principal))
}

/// What a deals list may be narrowed to.
#[derive(Default)]
pub struct Filter {
    pub status: Option<DealStatus>,
    pub customer_id: Option<Uuid>,
    pub distributor_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    /// Approved deals whose protection ends within this many days.
    pub expiring_within_days: Option<i32>,
    /// Live deals with a live rival of another partner (same customer, a shared product).
    pub conflicting: Option<bool>,
    /// Text in the customer's name or the registration number.
    pub search: Option<String>,
}

const LIVE: [DealStatus; 4] =
    [DealStatus::Submitted, DealStatus::InReview, DealStatus::ActionRequired, DealStatus::Approved];

fn outer(c: deal::Column) -> Expr {
    Expr::col((deal::Entity, c))
}

/// The visible deals matching `filter`.
pub fn filtered(principal: Option<&Principal>, filter: &Filter, now: DateTime<Utc>) -> AppResult<Select<deal::Entity>> {
    let mut select = visible(principal);
    if let Some(status) = filter.status {
        select = match status {
            // As shown: an approved deal past its end is EXPIRED before the job writes it.
            DealStatus::Approved => select.filter(deal::Column::Status.eq(status)).filter(
                Condition::any().add(deal::Column::ProtectedUntil.is_null()).add(deal::Column::ProtectedUntil.gt(now)),
            ),
            DealStatus::Expired => select.filter(
                Condition::any().add(deal::Column::Status.eq(status)).add(
                    Condition::all()
                        .add(deal::Column::Status.eq(DealStatus::Approved))
                        .add(deal::Column::ProtectedUntil.lte(now)),
                ),
            ),
            other => select.filter(deal::Column::Status.eq(other)),
        };
    }
    if let Some(customer) = filter.customer_id {
        select = select.filter(deal::Column::CustomerId.eq(customer));
    }
    if let Some(distributor) = filter.distributor_id {
        select = select.filter(deal::Column::DistributorId.eq(distributor));
    }
    if let Some(product) = filter.product_id {
        let with = Query::select()
            .column(deal_product::Column::DealId)
            .from(deal_product::Entity)
            .and_where(deal_product::Column::ProductId.eq(product))
            .to_owned();
        select = select.filter(deal::Column::Id.in_subquery(with));
    }
    if let Some(days) = filter.expiring_within_days {
        if !(0..=365).contains(&days) {
            return Err(AppError::bad_input("expiringWithinDays", "must be 0 to 365"));
        }
        select = select
            .filter(deal::Column::Status.eq(DealStatus::Approved))
            .filter(deal::Column::ProtectedUntil.gt(now))
            .filter(deal::Column::ProtectedUntil.lte(now + TimeDelta::days(days.into())));
    }
    if let Some(conflicting) = filter.conflicting {
        // Another partner's live deal naming the same customer (organisation, domain or VAT
        // number) with a product in common.
        let (r, rp, mp) = (Alias::new("r"), Alias::new("rp"), Alias::new("mp"));
        let rival = Query::select()
            .expr(Expr::val(1))
            .from_as(deal::Entity, r.clone())
            .join_as(
                JoinType::InnerJoin,
                deal_product::Entity,
                rp.clone(),
                Expr::col((rp.clone(), deal_product::Column::DealId)).equals((r.clone(), deal::Column::Id)),
            )
            .join_as(
                JoinType::InnerJoin,
                deal_product::Entity,
                mp.clone(),
                Condition::all()
                    .add(Expr::col((mp.clone(), deal_product::Column::DealId)).equals((deal::Entity, deal::Column::Id)))
                    .add(
                        Expr::col((mp.clone(), deal_product::Column::ProductId))
                            .equals((rp.clone(), deal_product::Column::ProductId)),
                    ),
            )
            .and_where(Expr::col((r.clone(), deal::Column::PartnerId)).ne(outer(deal::Column::PartnerId)))
            .and_where(Expr::col((r.clone(), deal::Column::Status)).is_in(LIVE.map(|s| s.as_str())))
            .cond_where(
                Condition::any()
                    .add(Expr::col((r.clone(), deal::Column::ProtectedUntil)).is_null())
                    .add(Expr::col((r.clone(), deal::Column::ProtectedUntil)).gt(now)),
            )
            .cond_where(
                Condition::any()
                    .add(Expr::col((r.clone(), deal::Column::CustomerId)).eq(outer(deal::Column::CustomerId)))
                    .add(Expr::col((r.clone(), deal::Column::MatchVat)).eq(outer(deal::Column::MatchVat)))
                    .add(Expr::col((r, deal::Column::MatchDomain)).eq(outer(deal::Column::MatchDomain))),
            )
            .to_owned();
        let rival = Expr::exists(rival);
        let mine_live = Condition::all().add(deal::Column::Status.is_in(LIVE)).add(
            Condition::any().add(deal::Column::ProtectedUntil.is_null()).add(deal::Column::ProtectedUntil.gt(now)),
        );
        select = if conflicting {
            select.filter(mine_live).filter(rival)
        } else {
            select.filter(Condition::any().add(mine_live.not()).add(rival.not()))
        };
    }
    if let Some(text) = filter.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > 100 {
            return Err(AppError::bad_input("search", "must be at most 100 characters"));
        }
        let pattern = format!("%{}%", text.to_lowercase().replace(['%', '_'], ""));
        let named = Query::select()
            .column(organization::Column::Id)
            .from(organization::Entity)
            .and_where(
                Expr::expr(Func::lower(Expr::col((organization::Entity, organization::Column::Name))))
                    .like(pattern.clone()),
            )
            .to_owned();
        select = select.filter(
            Condition::any()
                .add(Expr::expr(Func::lower(outer(deal::Column::ProspectName))).like(pattern.clone()))
                .add(Expr::expr(Func::lower(outer(deal::Column::Number))).like(pattern))
                .add(deal::Column::CustomerId.in_subquery(named)),
        );
    }
    Ok(select)
}

/// One visible deal, or NOT_FOUND exactly as for a missing one.
pub async fn find(db: &impl ConnectionTrait, principal: Option<&Principal>, id: Uuid) -> AppResult<deal::Model> {
    visible(principal).filter(deal::Column::Id.eq(id)).one(db).await?.ok_or(AppError::NotFound("Deal"))
}

/// One visible deal by its registration number.
pub async fn by_number(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    number: &str,
) -> AppResult<Option<deal::Model>> {
    Ok(visible(principal).filter(deal::Column::Number.eq(number.trim().to_ascii_uppercase())).one(db).await?)
}

#[derive(Clone, Debug)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Prospect {
    pub name: String,
    pub country: String,
    pub domain: Option<String>,
    pub vat_number: Option<String>,
}

pub struct NewDeal {
    pub customer_id: Option<Uuid>,
    pub prospect: Option<Prospect>,
    pub products: Vec<(Uuid, i32)>,
    pub estimated_value: (Decimal, String),
    pub expected_close_date: NaiveDate,
    pub sales_lead: Contact,
    pub engineer: Option<Contact>,
    pub competitors: Vec<String>,
    pub distributor_id: Uuid,
    pub next_steps: Option<String>,
    pub opportunity_exists: bool,
    /// Submit at once instead of keeping a draft.
    pub submit: bool,
    pub idempotency_key: Option<String>,
}

/// Fields a partner may change; staff name which of them when they ask a question.
#[derive(Default)]
pub struct Changes {
    pub products: Option<Vec<(Uuid, i32)>>,
    pub estimated_value: Option<(Decimal, String)>,
    pub expected_close_date: Option<NaiveDate>,
    pub sales_lead: Option<Contact>,
    pub engineer: Option<Contact>,
    pub competitors: Option<Vec<String>>,
    pub next_steps: Option<String>,
    pub opportunity_exists: Option<bool>,
}

/// The input fields staff may name in a question (the API's names).
pub const EDITABLE: [&str; 8] = [
    "products",
    "estimatedValue",
    "expectedCloseDate",
    "salesLead",
    "engineer",
    "competitors",
    "nextSteps",
    "opportunityExists",
];

impl Changes {
    fn named(&self) -> Vec<&'static str> {
        let given = [
            self.products.is_some(),
            self.estimated_value.is_some(),
            self.expected_close_date.is_some(),
            self.sales_lead.is_some(),
            self.engineer.is_some(),
            self.competitors.is_some(),
            self.next_steps.is_some(),
            self.opportunity_exists.is_some(),
        ];
        EDITABLE.iter().zip(given).filter(|(_, g)| *g).map(|(n, _)| *n).collect()
    }
}

/// What a submission tells the partner at once: the customer and products are protected for
/// another partner until this date (never who).
pub struct Submitted {
    pub deal: deal::Model,
    pub protected_until: Option<DateTime<Utc>>,
}

fn contact(prefix: &str, c: &Contact) -> AppResult<Contact> {
    Ok(Contact {
        name: field(&format!("{prefix}.name"), validate::name(&c.name, 200))?,
        email: field(&format!("{prefix}.email"), validate::email(&c.email))?,
        phone: optional_field(&format!("{prefix}.phone"), c.phone.as_deref(), |p| {
            let p = p.trim();
            let ok = (5..=32).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit() || " +-()/.".contains(c));
            if ok { Ok(p.to_string()) } else { Err(format!("{p:?} is not a phone number")) }
        })?,
    })
}

fn competitors(list: &[String]) -> AppResult<String> {
    if list.len() > 20 {
        return Err(AppError::bad_input("competitors", "name at most 20 competitors"));
    }
    let names = list.iter().map(|c| validate::name(c, 200)).collect::<Result<Vec<_>, _>>();
    Ok(json!(field("competitors", names)?).to_string())
}

async fn products(db: &impl ConnectionTrait, products: &[(Uuid, i32)]) -> AppResult<()> {
    if products.is_empty() {
        return Err(AppError::bad_input("products", "name 1 to 3 products"));
    }
    if products.len() > deals::MAX_PRODUCTS {
        return Err(AppError::bad_input(
            "products",
            "a deal covers at most 3 products: register another deal for the others",
        ));
    }
    let mut ids: Vec<Uuid> = products.iter().map(|p| p.0).collect();
    ids.sort();
    ids.dedup();
    if ids.len() != products.len() {
        return Err(AppError::bad_input("products", "name each product once"));
    }
    if products.iter().any(|p| !(1..=1_000_000).contains(&p.1)) {
        return Err(AppError::bad_input("products", "each quantity must be 1 to 1000000"));
    }
    let found = entity::product::Entity::find()
        .filter(entity::product::Column::Id.is_in(ids.clone()))
        .filter(entity::product::Column::Active.eq(true))
        .all(db)
        .await?;
    if found.len() != ids.len() {
        return Err(AppError::bad_input("products", "a product is unknown or off sale"));
    }
    Ok(())
}

fn money(name: &str, (amount, currency): &(Decimal, String)) -> AppResult<(entity::fixed::Fixed, String)> {
    if *amount <= Decimal::ZERO {
        return Err(AppError::bad_input(name, "must be more than zero"));
    }
    let code = field(name, crate::domain::currency::parse(currency))?.to_string();
    Ok((super::fixed(name, *amount)?, code))
}

fn close_date(date: NaiveDate, now: DateTime<Utc>) -> AppResult<NaiveDate> {
    if date < now.date_naive() {
        return Err(AppError::bad_input("expectedCloseDate", "must be today or later"));
    }
    Ok(date)
}

/// The keys that name the deal's customer: its organisation, the organisation's verified
/// domains and VAT number, or the prospect's domain and VAT number.
async fn keys_of(db: &impl ConnectionTrait, d: &deal::Model) -> AppResult<(Vec<String>, Vec<String>, Option<String>)> {
    let mut domains: Vec<String> = d.match_domain.iter().cloned().collect();
    if let Some(customer) = d.customer_id {
        let verified: Vec<String> = domain_row::Entity::find()
            .select_only()
            .column(domain_row::Column::Name)
            .filter(domain_row::Column::OrganizationId.eq(customer))
            .filter(domain_row::Column::VerifiedAt.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        domains.extend(verified);
    }
    domains.sort();
    domains.dedup();
    let keys = deals::customer_keys(d.customer_id, &domains, d.match_vat.as_deref());
    Ok((keys, domains, d.match_vat.clone()))
}

/// Other partners' live deals for the same customer sharing a product with `d`.
async fn rivals(db: &impl ConnectionTrait, d: &deal::Model, now: DateTime<Utc>) -> AppResult<Vec<deal::Model>> {
    let (_, domains, vat) = keys_of(db, d).await?;
    let mine: Vec<Uuid> = deal_product::Entity::find()
        .select_only()
        .column(deal_product::Column::ProductId)
        .filter(deal_product::Column::DealId.eq(d.id))
        .into_tuple()
        .all(db)
        .await?;
    let mut same_customer = Condition::any();
    let mut orgs = Query::select()
        .column(domain_row::Column::OrganizationId)
        .from(domain_row::Entity)
        .and_where(domain_row::Column::Name.is_in(domains.clone()))
        .and_where(domain_row::Column::VerifiedAt.is_not_null())
        .to_owned();
    if let Some(customer) = d.customer_id {
        same_customer = same_customer.add(deal::Column::CustomerId.eq(customer));
    }
    if !domains.is_empty() {
        same_customer = same_customer
            .add(deal::Column::MatchDomain.is_in(domains.clone()))
            .add(deal::Column::CustomerId.in_subquery(orgs.take()));
    }
    if let Some(vat) = vat {
        let by_vat = Query::select()
            .column(organization::Column::Id)
            .from(organization::Entity)
            .and_where(organization::Column::VatNumber.eq(vat.clone()))
            .to_owned();
        same_customer =
            same_customer.add(deal::Column::MatchVat.eq(vat)).add(deal::Column::CustomerId.in_subquery(by_vat));
    }
    let sharing = Query::select()
        .column(deal_product::Column::DealId)
        .from(deal_product::Entity)
        .and_where(deal_product::Column::ProductId.is_in(mine))
        .to_owned();
    let found = deal::Entity::find()
        .filter(same_customer)
        .filter(deal::Column::PartnerId.ne(d.partner_id))
        .filter(deal::Column::Id.in_subquery(sharing))
        .filter(deal::Column::Status.is_in([
            DealStatus::Submitted,
            DealStatus::InReview,
            DealStatus::ActionRequired,
            DealStatus::Approved,
        ]))
        .order_by_asc(deal::Column::Id)
        .all(db)
        .await?;
    Ok(found.into_iter().filter(|r| deals::is_live(r.status, r.protected_until, now)).collect())
}

/// Per deal, the rival registrations of other partners: live, naming the same customer
/// (organisation, verified domain or VAT number) and sharing a product. Staff only (partners
/// never learn who): anyone else gets empty lists without a statement. Six statements for any
/// number of deals.
pub async fn conflicts_of(
    ctx: &Ctx,
    principal: Option<&Principal>,
    deal_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<deal::Model>>> {
    let mut out: HashMap<Uuid, Vec<deal::Model>> = deal_ids.iter().map(|d| (*d, Vec::new())).collect();
    if principal.is_none_or(|p| policy::can(p, Action::ReviewDeals).is_err()) {
        return Ok(out);
    }
    let now = ctx.now();
    let db = &ctx.db;
    let subjects =
        deal::Entity::find().filter(deal::Column::Id.in_subquery(visible_among(principal, deal_ids))).all(db).await?;
    // Every way each deal names its customer.
    let verified = |orgs: Vec<Uuid>| {
        domain_row::Entity::find()
            .filter(domain_row::Column::OrganizationId.is_in(orgs))
            .filter(domain_row::Column::VerifiedAt.is_not_null())
            .all(db)
    };
    let keys = |d: &deal::Model, domains: &[domain_row::Model]| -> Vec<String> {
        let mut names: Vec<String> = d.match_domain.iter().cloned().collect();
        names.extend(domains.iter().filter(|x| Some(x.organization_id) == d.customer_id).map(|x| x.name.clone()));
        deals::customer_keys(d.customer_id, &names, d.match_vat.as_deref())
    };
    let subject_domains = verified(subjects.iter().filter_map(|d| d.customer_id).collect()).await?;
    let mut orgs: Vec<Uuid> = subjects.iter().filter_map(|d| d.customer_id).collect();
    let mut names: Vec<String> = subjects.iter().filter_map(|d| d.match_domain.clone()).collect();
    names.extend(subject_domains.iter().map(|d| d.name.clone()));
    let vats: Vec<String> = subjects.iter().filter_map(|d| d.match_vat.clone()).collect();
    let by_domain = Query::select()
        .column(domain_row::Column::OrganizationId)
        .from(domain_row::Entity)
        .and_where(domain_row::Column::Name.is_in(names.clone()))
        .and_where(domain_row::Column::VerifiedAt.is_not_null())
        .to_owned();
    orgs.sort();
    orgs.dedup();
    let candidates = deal::Entity::find()
        .filter(
            Condition::any()
                .add(deal::Column::CustomerId.is_in(orgs))
                .add(deal::Column::CustomerId.in_subquery(by_domain))
                .add(deal::Column::MatchDomain.is_in(names))
                .add(deal::Column::MatchVat.is_in(vats)),
        )
        .filter(deal::Column::Status.is_in(LIVE))
        .order_by_asc(deal::Column::Id)
        .all(db)
        .await?;
    let candidates: Vec<deal::Model> =
        candidates.into_iter().filter(|r| deals::is_live(r.status, r.protected_until, now)).collect();
    let candidate_domains = verified(candidates.iter().filter_map(|d| d.customer_id).collect()).await?;
    let all: Vec<Uuid> = subjects.iter().chain(&candidates).map(|d| d.id).collect();
    let mut products: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for item in deal_product::Entity::find().filter(deal_product::Column::DealId.is_in(all)).all(db).await? {
        products.entry(item.deal_id).or_default().push(item.product_id);
    }
    for subject in &subjects {
        let mine = keys(subject, &subject_domains);
        let my_products = products.get(&subject.id).cloned().unwrap_or_default();
        let rivals = candidates.iter().filter(|r| {
            r.partner_id != subject.partner_id
                && keys(r, &candidate_domains).iter().any(|k| mine.contains(k))
                && products.get(&r.id).is_some_and(|p| p.iter().any(|x| my_products.contains(x)))
        });
        out.insert(subject.id, rivals.cloned().collect());
    }
    Ok(out)
}

/// Those of `deal_ids` the principal sees, as a subquery.
fn visible_among(principal: Option<&Principal>, deal_ids: &[Uuid]) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(deal::Column::Id)
        .from(deal::Entity)
        .cond_where(policy::deals_scope(principal))
        .and_where(deal::Column::Id.is_in(deal_ids.iter().copied()))
        .to_owned()
}

/// The products of many deals, one statement.
pub async fn products_of(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    deal_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<deal_product::Model>>> {
    let seen = visible_among(principal, deal_ids);
    let rows = deal_product::Entity::find()
        .filter(deal_product::Column::DealId.in_subquery(seen))
        .order_by_asc(deal_product::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, Vec<deal_product::Model>> = deal_ids.iter().map(|d| (*d, Vec::new())).collect();
    for row in rows {
        out.entry(row.deal_id).or_default().push(row);
    }
    Ok(out)
}

/// The history of many deals, oldest first, one statement.
pub async fn history_of(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    deal_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<deal_event::Model>>> {
    let seen = visible_among(principal, deal_ids);
    let rows = deal_event::Entity::find()
        .filter(deal_event::Column::DealId.in_subquery(seen))
        .order_by_asc(deal_event::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, Vec<deal_event::Model>> = deal_ids.iter().map(|d| (*d, Vec::new())).collect();
    for row in rows {
        out.entry(row.deal_id).or_default().push(row);
    }
    Ok(out)
}

async fn event(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    before: Option<&deal::Model>,
    after: &deal::Model,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    deal_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        deal_id: Set(after.id),
        from_status: Set(before.map(|b| b.status)),
        to_status: Set(after.status),
        actor_user_id: Set(principal.map(Principal::user_id)),
        note: Set(note),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let snapshot =
        |d: &deal::Model| json!({ "status": d.status, "number": d.number, "protectedUntil": d.protected_until });
    audit::record(
        db,
        principal,
        audit::Event {
            action: "deal.status_changed",
            target_type: "Deal",
            target_id: Some(after.id),
            customer_id: after.customer_id,
            before: before.map(snapshot),
            after: Some(snapshot(after)),
        },
        now,
    )
    .await?;
    if before.is_some_and(|b| b.status != after.status) && after.status != DealStatus::Submitted {
        notifications::enqueue_personal(
            db,
            NotificationKind::DealStatusChanged,
            after.created_by_user_id,
            json!({ "dealId": ids::encode(NodeType::Deal, after.id), "status": after.status, "number": after.number }),
            now,
        )
        .await?;
    }
    Ok(())
}

fn refused(refusal: Refusal) -> AppError {
    match refusal {
        Refusal::WrongSide(m) => AppError::Forbidden(m),
        Refusal::WrongStatus(m) => AppError::Conflict(m),
    }
}

/// The side the principal acts on for `deal`, checked by the policy.
fn side(principal: &Principal, d: &deal::Model, operation: Operation) -> AppResult<Side> {
    if policy::can(principal, Action::ReviewDeals).is_ok() {
        return Ok(Side::Staff);
    }
    policy::can(principal, Action::WorkOnDeal { deal: d }).map_err(|e| match operation {
        Operation::Edit | Operation::Submit | Operation::Win | Operation::Lose => e,
        _ => AppError::Forbidden("only vendor staff may do this".into()),
    })?;
    Ok(Side::Partner)
}

#[tracing::instrument(skip_all)]
pub async fn register(ctx: &Ctx, principal: Option<&Principal>, new: NewDeal) -> AppResult<Submitted> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::RegisterDeal)?;
    let partner_id = policy::acting(principal)?.organization_id();
    let now = ctx.now();
    let (value, currency) = money("estimatedValue", &new.estimated_value)?;
    let close = close_date(new.expected_close_date, now)?;
    let lead = contact("salesLead", &new.sales_lead)?;
    let engineer = new.engineer.as_ref().map(|e| contact("engineer", e)).transpose()?;
    let competitors = competitors(&new.competitors)?;
    let next_steps = new.next_steps.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if next_steps.as_deref().is_some_and(|s| s.chars().count() > 4000) {
        return Err(AppError::bad_input("nextSteps", "must be at most 4000 characters"));
    }
    let canonical = json!({
        "customer": new.customer_id, "prospect": new.prospect.as_ref().map(|p| (&p.name, &p.country, &p.domain, &p.vat_number)),
        "products": new.products, "value": value.to_decimal().to_string(), "currency": currency, "close": close,
        "lead": (&lead.name, &lead.email), "distributor": new.distributor_id, "submit": new.submit,
    });
    let key = new
        .idempotency_key
        .as_deref()
        .map(|k| idempotency::Key::new(principal.user_id(), "registerDeal", k, &canonical))
        .transpose()?;
    let txn = db::begin_write(&ctx.db).await?;
    if let Some(key) = &key
        && let Some(id) = idempotency::previous(&txn, key).await?
    {
        drop(txn);
        let deal = find(&ctx.db, Some(principal), id).await?;
        let protected_until = protection_notice(&ctx.db, &deal, now).await?;
        return Ok(Submitted { deal, protected_until });
    }
    products(&txn, &new.products).await?;
    let distributor = organization::Entity::find_by_id(new.distributor_id)
        .filter(organization::Column::Kind.eq(OrganizationKind::Distributor))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::bad_input("distributorId", "name a distributor organisation"))?;
    let (customer_id, prospect, match_domain, match_vat) = match (new.customer_id, &new.prospect) {
        (Some(_), Some(_)) => {
            return Err(AppError::bad_input("prospect", "name an existing customer or a prospect, not both"));
        }
        (None, None) => return Err(AppError::bad_input("customerId", "name an existing customer or a prospect")),
        (Some(id), None) => {
            // A customer the partner can see, exactly as in its customer list.
            let customer = super::customers::visible(ctx, Some(principal), &Default::default())?
                .filter(organization::Column::Id.eq(id))
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::bad_input("customerId", "is not one of your customers"))?;
            let domain: Option<String> = domain_row::Entity::find()
                .select_only()
                .column(domain_row::Column::Name)
                .filter(domain_row::Column::OrganizationId.eq(customer.id))
                .filter(domain_row::Column::VerifiedAt.is_not_null())
                .order_by_asc(domain_row::Column::Id)
                .into_tuple()
                .one(&txn)
                .await?;
            (Some(customer.id), None, domain, customer.vat_number.clone())
        }
        (None, Some(p)) => {
            let p = Prospect {
                name: field("prospect.name", validate::name(&p.name, 200))?,
                country: field("prospect.country", validate::country(&p.country))?,
                domain: optional_field("prospect.domain", p.domain.as_deref(), validate::domain)?,
                vat_number: optional_field("prospect.vatNumber", p.vat_number.as_deref(), validate::vat_number)?,
            };
            let (d, v) = (p.domain.clone(), p.vat_number.clone());
            (None, Some(p), d, v)
        }
    };
    let program_id = entity::partnership::Entity::find()
        .filter(entity::partnership::Column::OrganizationId.eq(partner_id))
        .order_by_asc(entity::partnership::Column::Id)
        .one(&txn)
        .await?
        .map(|p| p.program_id);
    let id = Uuid::now_v7();
    let status = if new.submit { DealStatus::Submitted } else { DealStatus::Draft };
    let created = deal::ActiveModel {
        id: Set(id),
        partner_id: Set(partner_id),
        program_id: Set(program_id),
        created_by_user_id: Set(principal.user_id()),
        customer_id: Set(customer_id),
        prospect_name: Set(prospect.as_ref().map(|p| p.name.clone())),
        prospect_country: Set(prospect.as_ref().map(|p| p.country.clone())),
        prospect_domain: Set(prospect.as_ref().and_then(|p| p.domain.clone())),
        prospect_vat: Set(prospect.as_ref().and_then(|p| p.vat_number.clone())),
        match_domain: Set(match_domain),
        match_vat: Set(match_vat),
        distributor_id: Set(distributor.id),
        estimated_value: Set(value),
        currency: Set(currency),
        expected_close_date: Set(close),
        sales_lead_name: Set(lead.name),
        sales_lead_email: Set(lead.email),
        sales_lead_phone: Set(lead.phone),
        engineer_name: Set(engineer.as_ref().map(|e| e.name.clone())),
        engineer_email: Set(engineer.as_ref().map(|e| e.email.clone())),
        engineer_phone: Set(engineer.and_then(|e| e.phone)),
        competitors: Set(competitors),
        next_steps: Set(next_steps),
        opportunity_exists: Set(new.opportunity_exists),
        status: Set(status),
        number: Set(None),
        editable_fields: Set(None),
        staff_question: Set(None),
        rejection_code: Set(None),
        rejection_text: Set(None),
        lost_reason: Set(None),
        protected_until: Set(None),
        expiry_notice_sent_at: Set(None),
        special_discount_percent: Set(None),
        submitted_at: Set(new.submit.then_some(now)),
        approved_at: Set(None),
        closed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    replace_products(&txn, id, &new.products).await?;
    event(&txn, Some(principal), None, &created, None, now).await?;
    if let Some(key) = &key {
        idempotency::remember(&txn, key, id, now).await?;
    }
    let protected_until = if new.submit { protection_notice(&txn, &created, now).await? } else { None };
    txn.commit().await?;
    Ok(Submitted { deal: created, protected_until })
}

async fn replace_products(db: &impl ConnectionTrait, deal_id: Uuid, list: &[(Uuid, i32)]) -> AppResult<()> {
    deal_product::Entity::delete_many().filter(deal_product::Column::DealId.eq(deal_id)).exec(db).await?;
    for (product_id, quantity) in list {
        deal_product::ActiveModel {
            id: Set(Uuid::now_v7()),
            deal_id: Set(deal_id),
            product_id: Set(*product_id),
            quantity: Set(*quantity),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The latest end of another partner's approved protection over this customer and a product.
async fn protection_notice(
    db: &impl ConnectionTrait,
    d: &deal::Model,
    now: DateTime<Utc>,
) -> AppResult<Option<DateTime<Utc>>> {
    Ok(rivals(db, d, now)
        .await?
        .into_iter()
        .filter(|r| r.status == DealStatus::Approved)
        .filter_map(|r| r.protected_until)
        .max())
}

/// Edits a draft, or, when staff asked, only the fields they named.
#[tracing::instrument(skip_all, fields(deal_id = %id))]
pub async fn update(ctx: &Ctx, principal: Option<&Principal>, id: Uuid, changes: Changes) -> AppResult<deal::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let found = find(&txn, Some(principal), id).await?;
    let side = side(principal, &found, Operation::Edit)?;
    deals::transition(found.status, Operation::Edit, side).map_err(refused)?;
    if found.status == DealStatus::ActionRequired {
        let allowed: Vec<String> =
            found.editable_fields.as_deref().and_then(|f| serde_json::from_str(f).ok()).unwrap_or_default();
        if let Some(outside) = changes.named().into_iter().find(|n| !allowed.iter().any(|a| a == n)) {
            return Err(AppError::Forbidden(format!(
                "staff asked about {} only; {outside} cannot change now",
                allowed.join(", ")
            )));
        }
    }
    let mut active: deal::ActiveModel = found.clone().into();
    if let Some(list) = &changes.products {
        products(&txn, list).await?;
        replace_products(&txn, id, list).await?;
    }
    if let Some(v) = &changes.estimated_value {
        let (value, currency) = money("estimatedValue", v)?;
        active.estimated_value = Set(value);
        active.currency = Set(currency);
    }
    if let Some(d) = changes.expected_close_date {
        active.expected_close_date = Set(close_date(d, now)?);
    }
    if let Some(c) = &changes.sales_lead {
        let c = contact("salesLead", c)?;
        active.sales_lead_name = Set(c.name);
        active.sales_lead_email = Set(c.email);
        active.sales_lead_phone = Set(c.phone);
    }
    if let Some(c) = &changes.engineer {
        let c = contact("engineer", c)?;
        active.engineer_name = Set(Some(c.name));
        active.engineer_email = Set(Some(c.email));
        active.engineer_phone = Set(c.phone);
    }
    if let Some(list) = &changes.competitors {
        active.competitors = Set(competitors(list)?);
    }
    if let Some(s) = &changes.next_steps {
        let s = s.trim();
        if s.chars().count() > 4000 {
            return Err(AppError::bad_input("nextSteps", "must be at most 4000 characters"));
        }
        active.next_steps = Set((!s.is_empty()).then(|| s.to_string()));
    }
    if let Some(o) = changes.opportunity_exists {
        active.opportunity_exists = Set(o);
    }
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Submits a draft, or resubmits after answering staff's question.
#[tracing::instrument(skip_all, fields(deal_id = %id))]
pub async fn submit(ctx: &Ctx, principal: Option<&Principal>, id: Uuid) -> AppResult<Submitted> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let found = find(&txn, Some(principal), id).await?;
    let to = deals::transition(found.status, Operation::Submit, side(principal, &found, Operation::Submit)?)
        .map_err(refused)?;
    let mut active: deal::ActiveModel = found.clone().into();
    active.status = Set(to);
    active.editable_fields = Set(None);
    active.submitted_at = Set(Some(now));
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    event(&txn, Some(principal), Some(&found), &updated, None, now).await?;
    let protected_until = protection_notice(&txn, &updated, now).await?;
    txn.commit().await?;
    Ok(Submitted { deal: updated, protected_until })
}

/// What staff decide.
pub enum Review {
    Start,
    Ask { fields: Vec<String>, question: String },
    Approve { protection_days: Option<i32>, special_discount_percent: Option<Decimal> },
    Reject { code: DealRejectionCode, text: Option<String> },
    Extend { days: i32 },
}

#[tracing::instrument(skip_all, fields(deal_id = %id))]
pub async fn review(ctx: &Ctx, principal: Option<&Principal>, id: Uuid, review: Review) -> AppResult<deal::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let found = find(&txn, Some(principal), id).await?;
    let operation = match review {
        Review::Start => Operation::StartReview,
        Review::Ask { .. } => Operation::RequestAction,
        Review::Approve { .. } => Operation::Approve,
        Review::Reject { .. } => Operation::Reject,
        Review::Extend { .. } => Operation::Extend,
    };
    let status = deals::effective(found.status, found.protected_until, now);
    let to = deals::transition(status, operation, side(principal, &found, operation)?).map_err(refused)?;
    let mut active: deal::ActiveModel = found.clone().into();
    active.status = Set(to);
    active.updated_at = Set(now);
    let mut note = None;
    match review {
        Review::Start => {}
        Review::Ask { fields, question } => {
            if fields.is_empty() || fields.iter().any(|f| !EDITABLE.contains(&f.as_str())) {
                return Err(AppError::bad_input("fields", format!("name fields among {}", EDITABLE.join(", "))));
            }
            let question = field("question", validate::name(&question, 4000))?;
            active.editable_fields = Set(Some(json!(fields).to_string()));
            active.staff_question = Set(Some(question.clone()));
            note = Some(question);
        }
        Review::Approve { protection_days, special_discount_percent } => {
            let program = match found.program_id {
                Some(p) => entity::program::Entity::find_by_id(p).one(&txn).await?,
                None => None,
            };
            let days = protection_days.unwrap_or(program.as_ref().map_or(90, |p| p.deal_protection_days));
            if !(1..=730).contains(&days) {
                return Err(AppError::bad_input("protectionDays", "must be 1 to 730 days"));
            }
            if let Some(percent) = special_discount_percent {
                let max = program.as_ref().and_then(|p| p.deal_max_discount_percent).map(|m| m.to_decimal());
                match max {
                    Some(max) if percent > Decimal::ZERO && percent <= max => {}
                    Some(max) => {
                        return Err(AppError::bad_input(
                            "specialDiscountPercent",
                            format!("must be more than 0 and at most the programme's {max}%"),
                        ));
                    }
                    None => {
                        return Err(AppError::bad_input(
                            "specialDiscountPercent",
                            "the partner's programme gives no special discount on deals",
                        ));
                    }
                }
                active.special_discount_percent = Set(Some(super::fixed("specialDiscountPercent", percent)?));
            }
            let until = now + TimeDelta::days(days.into());
            protect(&txn, &found, now).await?;
            active.number = Set(Some(next_number(&txn, now.year()).await?));
            active.protected_until = Set(Some(until));
            active.approved_at = Set(Some(now));
            active.editable_fields = Set(None);
        }
        Review::Reject { code, text } => {
            let text = optional_field("reason", text.as_deref(), |t| validate::name(t, 4000))?;
            if code == DealRejectionCode::Other && text.is_none() {
                return Err(AppError::bad_input("reason", "say why, in text, when the code is OTHER"));
            }
            active.rejection_code = Set(Some(code));
            active.rejection_text = Set(text.clone());
            note = text;
        }
        Review::Extend { days } => {
            if !(1..=365).contains(&days) {
                return Err(AppError::bad_input("days", "must be 1 to 365"));
            }
            let from = std::cmp::max(found.protected_until.unwrap_or(now), now);
            active.protected_until = Set(Some(from + TimeDelta::days(days.into())));
            // Told again before the new end.
            active.expiry_notice_sent_at = Set(None);
            note = Some(format!("extended by {days} days"));
        }
    }
    let updated = active.update(&txn).await?;
    event(&txn, Some(principal), Some(&found), &updated, note, now).await?;
    if operation == Operation::Approve {
        // The others' registrations for this customer and product lose, and are told why.
        for rival in rivals(&txn, &updated, now).await? {
            let mut losing: deal::ActiveModel = rival.clone().into();
            losing.status = Set(DealStatus::Rejected);
            losing.rejection_code = Set(Some(DealRejectionCode::Conflict));
            losing.rejection_text =
                Set(Some("another partner's registration for this customer and product was approved".into()));
            losing.updated_at = Set(now);
            let lost = losing.update(&txn).await?;
            event(&txn, Some(principal), Some(&rival), &lost, Some("conflict".into()), now).await?;
        }
    }
    txn.commit().await?;
    Ok(updated)
}

/// Holds the customer and products for an approved deal. The unique (customer key, product)
/// refuses a second holder, also when two approvals commit at once on several nodes. Holds of
/// deals whose protection ended are released first.
async fn protect(db: &impl ConnectionTrait, d: &deal::Model, now: DateTime<Utc>) -> AppResult<()> {
    let (keys, _, _) = keys_of(db, d).await?;
    let products: Vec<Uuid> = deal_product::Entity::find()
        .select_only()
        .column(deal_product::Column::ProductId)
        .filter(deal_product::Column::DealId.eq(d.id))
        .into_tuple()
        .all(db)
        .await?;
    let ended = Query::select()
        .column(deal::Column::Id)
        .from(deal::Entity)
        .and_where(deal::Column::ProtectedUntil.lte(now))
        .to_owned();
    deal_protection::Entity::delete_many()
        .filter(deal_protection::Column::CustomerKey.is_in(keys.clone()))
        .filter(deal_protection::Column::DealId.in_subquery(ended))
        .exec(db)
        .await?;
    for key in &keys {
        for product in &products {
            let held = deal_protection::ActiveModel {
                id: Set(Uuid::now_v7()),
                deal_id: Set(d.id),
                customer_key: Set(key.clone()),
                product_id: Set(*product),
            }
            .insert(db)
            .await;
            if let Err(err) = held {
                return Err(match AppError::from(err) {
                    AppError::Conflict(_) => AppError::Conflict(
                        "another partner's deal for this customer and product is approved and protected".into(),
                    ),
                    other => other,
                });
            }
        }
    }
    Ok(())
}

async fn release(db: &impl ConnectionTrait, deal_id: Uuid) -> AppResult<()> {
    deal_protection::Entity::delete_many().filter(deal_protection::Column::DealId.eq(deal_id)).exec(db).await?;
    Ok(())
}

/// The next registration number of the year; the counter row's lock is held until the approval
/// commits, so numbers go out without gaps, in commit order.
async fn next_number(db: &impl ConnectionTrait, year: i32) -> AppResult<String> {
    deal_counter::Entity::insert(deal_counter::ActiveModel { year: Set(year), last_number: Set(0) })
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
    deal_counter::Entity::update_many()
        .col_expr(deal_counter::Column::LastNumber, Expr::col(deal_counter::Column::LastNumber).add(1))
        .filter(deal_counter::Column::Year.eq(year))
        .exec(db)
        .await?;
    let counter = deal_counter::Entity::find_by_id(year)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("the deal counter vanished"))?;
    Ok(deals::number(year, counter.last_number))
}

/// The partner closes an approved deal: won, or lost with a reason.
#[tracing::instrument(skip_all, fields(deal_id = %id))]
pub async fn close(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    won: bool,
    lost_reason: Option<DealLostReason>,
) -> AppResult<deal::Model> {
    let principal = policy::signed_in(principal)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let found = find(&txn, Some(principal), id).await?;
    let operation = if won { Operation::Win } else { Operation::Lose };
    let status = deals::effective(found.status, found.protected_until, now);
    let to = deals::transition(status, operation, side(principal, &found, operation)?).map_err(refused)?;
    if !won && lost_reason.is_none() {
        return Err(AppError::bad_input("lostReason", "say why the deal was lost"));
    }
    let mut active: deal::ActiveModel = found.clone().into();
    active.status = Set(to);
    active.lost_reason = Set(if won { None } else { lost_reason });
    active.closed_at = Set(Some(now));
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    release(&txn, id).await?;
    event(&txn, Some(principal), Some(&found), &updated, None, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// How long before its protection ends the partner is told.
pub const EXPIRY_NOTICE: TimeDelta = TimeDelta::days(14);

/// What one expiry run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ExpiryRun {
    pub expired: u32,
    pub noticed: u32,
}

/// Writes EXPIRED on approved deals past their protection and releases what they held (reads
/// show them expired already), and tells the partners of deals whose protection ends within 14
/// days. Each change is a conditional UPDATE on the row as read, so nodes running this at once
/// do each change once.
pub async fn run_expiry(ctx: &Ctx) -> AppResult<ExpiryRun> {
    let now = ctx.now();
    let mut run = ExpiryRun::default();
    let due = deal::Entity::find()
        .filter(deal::Column::Status.eq(DealStatus::Approved))
        .filter(deal::Column::ProtectedUntil.lte(now + EXPIRY_NOTICE))
        .order_by_asc(deal::Column::ProtectedUntil)
        .limit(500)
        .all(&ctx.db)
        .await?;
    for found in due {
        let Some(end) = found.protected_until else { continue };
        let txn = db::begin_write(&ctx.db).await?;
        let unchanged = deal::Entity::update_many()
            .filter(deal::Column::Id.eq(found.id))
            .filter(deal::Column::Status.eq(DealStatus::Approved))
            .filter(deal::Column::ProtectedUntil.eq(end));
        if end <= now {
            let done = unchanged
                .col_expr(deal::Column::Status, Expr::value(DealStatus::Expired.as_str()))
                .col_expr(deal::Column::UpdatedAt, Expr::value(now))
                .exec(&txn)
                .await?;
            if done.rows_affected == 1 {
                release(&txn, found.id).await?;
                let expired = deal::Model { status: DealStatus::Expired, updated_at: now, ..found.clone() };
                event(&txn, None, Some(&found), &expired, None, now).await?;
                run.expired += 1;
            }
        } else if found.expiry_notice_sent_at.is_none() {
            let done = unchanged
                .filter(deal::Column::ExpiryNoticeSentAt.is_null())
                .col_expr(deal::Column::ExpiryNoticeSentAt, Expr::value(Some(now)))
                .exec(&txn)
                .await?;
            if done.rows_affected == 1 {
                notifications::enqueue_personal(
                    &txn,
                    NotificationKind::DealExpiring,
                    found.created_by_user_id,
                    json!({ "dealId": ids::encode(NodeType::Deal, found.id), "number": found.number, "protectedUntil": end }),
                    now,
                )
                .await?;
                run.noticed += 1;
            }
        }
        txn.commit().await?;
    }
    Ok(run)
}

/// An approved deal's special discount as billing applies it: to the partner's charges for
/// this customer and product within [from, until).
pub struct Special {
    pub customer_id: Uuid,
    pub product_id: Uuid,
    pub number: String,
    pub percent: Decimal,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// The special discounts of a partner's approved (or won, until their protection's end) deals
/// for these customers: two statements for a whole invoice.
pub async fn protected_for(db: &impl ConnectionTrait, partner_id: Uuid, customers: &[Uuid]) -> AppResult<Vec<Special>> {
    let found = deal::Entity::find()
        .filter(deal::Column::PartnerId.eq(partner_id))
        .filter(deal::Column::CustomerId.is_in(customers.iter().copied()))
        .filter(deal::Column::Status.is_in([DealStatus::Approved, DealStatus::Won]))
        .filter(deal::Column::SpecialDiscountPercent.is_not_null())
        .all(db)
        .await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let items = deal_product::Entity::find()
        .filter(deal_product::Column::DealId.is_in(found.iter().map(|d| d.id)))
        .all(db)
        .await?;
    let mut out = Vec::new();
    for d in &found {
        let (Some(customer_id), Some(number), Some(percent), Some(from), Some(until)) =
            (d.customer_id, &d.number, d.special_discount_percent, d.approved_at, d.protected_until)
        else {
            continue;
        };
        for item in items.iter().filter(|i| i.deal_id == d.id) {
            out.push(Special {
                customer_id,
                product_id: item.product_id,
                number: number.clone(),
                percent: percent.to_decimal(),
                from,
                until,
            });
        }
    }
    Ok(out)
}

/// A partner that creates the customer its deals named as a prospect (same VAT number or domain)
/// gets those deals attached to the new organisation: from then on they are the customer's, and
/// an approved one's special discount reaches the subscriptions the partner sells it.
pub async fn adopt_prospect(
    db: &impl ConnectionTrait,
    partner_id: Uuid,
    customer: &organization::Model,
) -> AppResult<u64> {
    let mut same = Condition::any();
    if let Some(vat) = customer.vat_number.as_deref().and_then(|v| validate::vat_number(v).ok()) {
        same = same.add(deal::Column::MatchVat.eq(vat));
    }
    if let Some(domain) = customer.domain.as_deref().and_then(|d| validate::domain(d).ok()) {
        same = same.add(deal::Column::MatchDomain.eq(domain));
    }
    if same.is_empty() {
        return Ok(0);
    }
    let done = deal::Entity::update_many()
        .col_expr(deal::Column::CustomerId, Expr::value(Some(customer.id)))
        .filter(deal::Column::PartnerId.eq(partner_id))
        .filter(deal::Column::CustomerId.is_null())
        .filter(same)
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}
