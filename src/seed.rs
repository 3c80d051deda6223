//! `partnerhub seed --scale N`: the demo, then per unit of N 1,000 partners, 50,000 customers
//! with grants (whole-account, scoped to some subscriptions, and some expired), 200,000
//! subscriptions, SALES users assigned to a third of their partner's customers, and API tokens
//! for a sample of partner users, a deal for every fifth customer and a commission entry per
//! customer in the partner's ledger (approved after its window, or still held), a rebate claim
//! for every second customer (open, accepted or rejected, with two lines and a file), then runs the
//! period's scheduled payout. Deterministic (a seeded generator, IDs from a counter), and in
//! multi-row INSERTs, so that N=1 takes well under a minute. The benchmark and the plan tests
//! run on it.
// Seeding writes whole tables as the system, not as a principal.
#![allow(clippy::disallowed_methods)]

use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    api_token, grant, grant_assignment, grant_scope_item, ledger_entry, ledger_entry_state, membership, organization,
    partnership, plan, program, tier, user,
};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{
    db,
    domain::{
        BilledTo, ClaimRejection, ClaimStatus, DealRejectionCode, DealStatus, EntryKind, EntrySource, EntryState,
        GrantScope, GrantSide, GrantStatus, OrganizationKind, ProgramKind, Rights, Role, SubscriptionStatus, UserKind,
        ledger::Quarter,
    },
    error::{AppError, AppResult},
    secrets,
    service::{Ctx, exact},
};

/// Per unit of scale.
pub const PARTNERS: i64 = 1_000;
pub const CUSTOMERS_PER_PARTNER: usize = 50;
pub const SUBSCRIPTIONS_PER_CUSTOMER: usize = 4;

/// A partner user whose API token the seed wrote.
pub struct SeedUser {
    pub email: String,
    pub role: Role,
    pub partner: String,
    pub token: String,
}

#[derive(Default)]
pub struct Seeded {
    pub partners: usize,
    pub customers: usize,
    pub grants: usize,
    pub subscriptions: usize,
    pub assignments: usize,
    pub deals: usize,
    pub ledger_entries: usize,
    pub rebate_claims: usize,
    pub payout_batches: usize,
    pub users: Vec<SeedUser>,
}

/// IDs in creation order (UUIDv7 layout: keyset pagination relies on it), from a counter, so
/// that two seeds of the same scale are the same rows.
struct Ids {
    base_ms: u64,
    next: u64,
}

impl Ids {
    fn next(&mut self) -> Uuid {
        self.next += 1;
        let ms = self.base_ms + self.next / 4096;
        let counter = self.next.to_be_bytes();
        let mut random = [0u8; 10];
        random[2..].copy_from_slice(&counter);
        uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid()
    }
}

/// Rows written in batches: one multi-row INSERT per `BATCH` rows.
const BATCH: usize = 500;

async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> AppResult<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(BATCH).collect();
        <A::Entity as EntityTrait>::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

pub async fn seed(ctx: &Ctx, scale: Decimal, token_sample: usize) -> AppResult<Seeded> {
    if scale <= Decimal::ZERO || scale > Decimal::from(20) {
        return Err(AppError::bad_input("scale", "is more than 0 and at most 20"));
    }
    let now = ctx.now();
    let mut rng = StdRng::seed_from_u64(13);
    // Before every demo row, so that the seed's rows sort after them.
    let mut ids = Ids { base_ms: (now - TimeDelta::days(400)).timestamp_millis() as u64, next: 0 };
    let db = &ctx.db;
    let reseller = program::Entity::find()
        .filter(program::Column::Kind.eq(ProgramKind::Reseller))
        .order_by_asc(program::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::Conflict("seed runs after the demo: no reseller programme".into()))?;
    let tiers = tier::Entity::find().filter(tier::Column::ProgramId.eq(reseller.id)).all(db).await?;
    let plans: Vec<plan::Model> = plan::Entity::find()
        .filter(plan::Column::Active.eq(true))
        .filter(plan::Column::Currency.eq(reseller.currency.clone()))
        .order_by_asc(plan::Column::Id)
        .all(db)
        .await?;
    if tiers.is_empty() || plans.is_empty() {
        return Err(AppError::Conflict("seed runs after the demo: no tiers or plans".into()));
    }

    let distributor = organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrganizationKind::Distributor))
        .order_by_asc(organization::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::Conflict("seed runs after the demo: no distributor".into()))?;

    // Rebate claims price their lines at the demo's rates, D7xx and D3xx phones.
    let rates = entity::rebate_rate::Entity::find()
        .filter(entity::rebate_rate::Column::ProgramId.eq(reseller.id))
        .order_by_asc(entity::rebate_rate::Column::Id)
        .all(db)
        .await?;
    let products = entity::product::Entity::find().order_by_asc(entity::product::Column::Id).all(db).await?;
    let rated: Vec<(entity::product::Model, entity::rebate_rate::Model)> = products
        .into_iter()
        .filter_map(|p| {
            let key = crate::domain::rebates::product_line_key(&p.product_line);
            let rate = rates.iter().find(|r| crate::domain::rebates::product_line_key(&r.product_line) == key)?;
            Some((p, rate.clone()))
        })
        .collect();
    if rated.is_empty() {
        return Err(AppError::Conflict("seed runs after the demo: no rebate rates".into()));
    }

    let partners = (Decimal::from(PARTNERS) * scale).round().to_usize().unwrap_or(1).max(1);
    let mut out = Seeded { partners, ..Default::default() };
    let txn = db::begin_write(db).await?;
    for p in 0..partners {
        let partner = ids.next();
        let at = |days: i64| now - TimeDelta::days(days);
        let mut orgs = vec![organization::ActiveModel {
            id: Set(partner),
            kind: Set(OrganizationKind::Partner),
            name: Set(format!("Seed Partner {p:05}")),
            country: Set(Some("DE".into())),
            domain: Set(None),
            vat_number: Set(None),
            registration_number: Set(None),
            website: Set(None),
            created_at: Set(at(390)),
            updated_at: Set(at(390)),
        }];
        let tier = &tiers[p % tiers.len()];
        let partnerships = vec![partnership::ActiveModel {
            id: Set(ids.next()),
            organization_id: Set(partner),
            program_id: Set(reseller.id),
            tier_id: Set(tier.id),
            joined_at: Set(at(380)),
            committed_yearly_volume: Set(None),
            yearly_fee_paid_until: Set(None),
            created_at: Set(at(380)),
            updated_at: Set(at(380)),
            grace_started_at: Set(None),
            grace_ends_at: Set(None),
            grace_missing: Set(None),
            yearly_fee_due_at: Set(None),
        }];
        // An ADMIN and two SALES users.
        let mut users = Vec::new();
        let mut memberships = Vec::new();
        let mut staff = Vec::new();
        for (n, role) in [(0, Role::Admin), (1, Role::Sales), (2, Role::Sales)] {
            let id = ids.next();
            let email = format!("{}{n}@partner{p:05}.seed.example", role.as_str().to_lowercase());
            users.push(user::ActiveModel {
                id: Set(id),
                kind: Set(UserKind::Person),
                oidc_issuer: Set(Some("https://idp.seed.example".into())),
                oidc_subject: Set(Some(email.clone())),
                email: Set(Some(email.clone())),
                email_verified: Set(true),
                display_name: Set(format!("{} {n} of partner {p}", role.as_str())),
                created_at: Set(at(380)),
                language: Set(None),
                notifications_read_at: Set(None),
            });
            memberships.push(membership::ActiveModel {
                id: Set(ids.next()),
                user_id: Set(id),
                organization_id: Set(partner),
                role: Set(role),
                created_at: Set(at(380)),
                invited_by_organization_id: Set(None),
                invited_by_user_id: Set(None),
            });
            staff.push((id, email, role));
        }
        let mut grants = Vec::new();
        let mut subs = Vec::new();
        let mut scope_items = Vec::new();
        let mut assignments = Vec::new();
        let mut deals = Vec::new();
        let mut deal_products = Vec::new();
        let mut entries = Vec::new();
        let mut entry_states = Vec::new();
        let mut files = Vec::new();
        let mut claims = Vec::new();
        let mut claim_lines = Vec::new();
        for c in 0..CUSTOMERS_PER_PARTNER {
            let customer = ids.next();
            orgs.push(organization::ActiveModel {
                id: Set(customer),
                kind: Set(OrganizationKind::Customer),
                name: Set(format!("Seed Customer {p:05}-{c:02}")),
                country: Set(Some(["DE", "AT", "CH", "FR", "IT"][c % 5].into())),
                domain: Set(None),
                vat_number: Set(None),
                registration_number: Set(None),
                website: Set(None),
                created_at: Set(at(370)),
                updated_at: Set(at(370)),
            });
            let mut sub_ids = Vec::new();
            for _ in 0..SUBSCRIPTIONS_PER_CUSTOMER {
                let plan = &plans[rng.random_range(0..plans.len())];
                let id = ids.next();
                let started = at(rng.random_range(30..360));
                let renews = now + TimeDelta::days(rng.random_range(1..365));
                subs.push(entity::subscription::ActiveModel {
                    id: Set(id),
                    customer_id: Set(customer),
                    product_id: Set(plan.product_id),
                    seats: Set(rng.random_range(1..60)),
                    status: Set(SubscriptionStatus::Active),
                    created_at: Set(started),
                    updated_at: Set(started),
                    plan_id: Set(Some(plan.id)),
                    partner_id: Set(Some(partner)),
                    billed_to: Set(if rng.random_range(0..10) < 7 { BilledTo::Partner } else { BilledTo::Customer }),
                    started_at: Set(Some(started)),
                    current_period_start: Set(Some(started)),
                    current_period_end: Set(Some(renews)),
                    auto_renew: Set(true),
                    cancel_at_period_end: Set(false),
                    pending_plan_id: Set(None),
                });
                sub_ids.push(id);
            }
            // 70% whole account, 20% scoped to some subscriptions, 10% expired.
            let roll = rng.random_range(0..100);
            let (status, scope, ends_at) = if roll < 70 {
                (GrantStatus::Active, GrantScope::Account, now + TimeDelta::days(rng.random_range(30..700)))
            } else if roll < 90 {
                (GrantStatus::Active, GrantScope::Subscriptions, now + TimeDelta::days(rng.random_range(30..700)))
            } else {
                (GrantStatus::Expired, GrantScope::Account, at(rng.random_range(1..30)))
            };
            let grant_id = ids.next();
            grants.push(grant_row(grant_id, partner, customer, status, scope, ends_at, now));
            if scope == GrantScope::Subscriptions {
                for s in sub_ids.iter().take(rng.random_range(1..=2)) {
                    scope_items.push(grant_scope_item::ActiveModel {
                        id: Set(ids.next()),
                        grant_id: Set(grant_id),
                        subscription_id: Set(*s),
                    });
                }
            }
            // Every fifth customer has a deal in review, registered by the ADMIN or a SALES user;
            // none approved, so that the year's numbers stay the service's to give.
            if c % 5 == 0 {
                let deal_id = ids.next();
                let (author, email, _) = &staff[(c / 5) % staff.len()];
                let status =
                    [DealStatus::Draft, DealStatus::Submitted, DealStatus::InReview, DealStatus::Rejected][(c / 5) % 4];
                let created = at(rng.random_range(1..120));
                deals.push(seed_deal(deal_id, partner, *author, email, customer, distributor.id, status, created)?);
                deal_products.push(entity::deal_product::ActiveModel {
                    id: Set(ids.next()),
                    deal_id: Set(deal_id),
                    product_id: Set(plans[c % plans.len()].product_id),
                    quantity: Set(rng.random_range(5..200)),
                });
            }
            // A rebate claim for every second customer's purchase from the distributor: open,
            // accepted or rejected. Accepted ones carry no ledger entry here, so the ledger
            // benchmark stays the commissions it was.
            if c % 2 == 0 {
                let (claim_id, file_id) = (ids.next(), ids.next());
                let (admin, _, _) = &staff[0];
                let created = at(rng.random_range(1..300));
                files.push(entity::stored_file::ActiveModel {
                    id: Set(file_id),
                    sha256: Set(format!("{:0>64}", file_id.simple())),
                    content_type: Set("application/pdf".into()),
                    size_bytes: Set(rng.random_range(20_000..900_000)),
                    uploaded_by_user_id: Set(*admin),
                    created_at: Set(created),
                });
                let unique = i32::try_from(p * CUSTOMERS_PER_PARTNER + c + 1).unwrap_or(i32::MAX);
                let picked = [&rated[c % rated.len()], &rated[(c + 1) % rated.len()]];
                let quantities = [unique, 1 + (c as i32 % 7)];
                let mut total = Decimal::ZERO;
                let mut keyed = Vec::new();
                for (position, ((product, rate), quantity)) in picked.iter().zip(quantities).enumerate() {
                    let per_unit = rate.amount_per_unit.to_decimal();
                    total += per_unit * Decimal::from(quantity);
                    keyed.push((product.id.to_string(), i64::from(quantity)));
                    claim_lines.push(entity::rebate_claim_line::ActiveModel {
                        id: Set(ids.next()),
                        claim_id: Set(claim_id),
                        position: Set(position as i32 + 1),
                        product_id: Set(product.id),
                        product_line: Set(product.product_line.clone()),
                        quantity: Set(quantity),
                        rate_id: Set(rate.id),
                        amount_per_unit: Set(rate.amount_per_unit),
                        amount: Set(exact(per_unit * Decimal::from(quantity))?),
                        distributor_mark: Set((c % 4 == 0).then_some(crate::domain::LineMark::Confirmed)),
                    });
                }
                let status = [ClaimStatus::Open, ClaimStatus::Accepted, ClaimStatus::Accepted, ClaimStatus::Rejected]
                    [(c / 2) % 4];
                let number = format!("SD-{p:05}-{c:02}");
                claims.push(entity::rebate_claim::ActiveModel {
                    id: Set(claim_id),
                    partner_id: Set(partner),
                    program_id: Set(reseller.id),
                    tier_id: Set(tier.id),
                    distributor_id: Set(distributor.id),
                    submitted_by_user_id: Set(*admin),
                    invoice_key: Set(crate::domain::rebates::invoice_number_key(&number)),
                    invoice_number: Set(number),
                    invoice_date: Set(created.date_naive()),
                    lines_key: Set(crate::domain::rebates::lines_key(&keyed)),
                    file_id: Set(file_id),
                    file_name: Set(format!("invoice-{p}-{c}.pdf")),
                    amount: Set(exact(total)?),
                    currency: Set(reseller.currency.clone()),
                    status: Set(status),
                    rejection_code: Set((status == ClaimStatus::Rejected).then_some(ClaimRejection::QuantityMismatch)),
                    rejection_text: Set(None),
                    reviewed_by_user_id: Set(None),
                    reviewed_at: Set((status != ClaimStatus::Open).then_some(created)),
                    accepted_at: Set((status == ClaimStatus::Accepted).then_some(created)),
                    distributor_note: Set(None),
                    distributor_marked_by_user_id: Set(None),
                    distributor_marked_at: Set(None),
                    created_at: Set(created),
                    updated_at: Set(created),
                });
            }
            // What the customer paid earned the partner 20%: approved once the 7-day window
            // passed, held before.
            let entry_id = ids.next();
            let earned = at(rng.random_range(1..360));
            let base = Decimal::new(rng.random_range(1_000..100_000), 2);
            let amount = (base * Decimal::new(20, 2)).round_dp(2);
            entries.push(ledger_entry::ActiveModel {
                id: Set(entry_id),
                partner_id: Set(partner),
                kind: Set(EntryKind::Commission),
                amount: Set(exact(amount)?),
                currency: Set(reseller.currency.clone()),
                source_type: Set(EntrySource::InvoiceLine),
                source_id: Set(None),
                source_key: Set(format!("seed:{entry_id}")),
                customer_id: Set(Some(customer)),
                invoice_line_id: Set(None),
                rule_id: Set(None),
                rate: Set(Some(exact(Decimal::from(20))?)),
                base: Set(Some(exact(base)?)),
                reverses_entry_id: Set(None),
                quarter: Set(Quarter::of(earned).to_string()),
                description: Set(format!("20% commission on {base} {} of a seeded invoice", reseller.currency)),
                earned_at: Set(earned),
                created_at: Set(earned),
            });
            let release = earned + TimeDelta::days(7);
            let mut state = |seq: i32, state: EntryState, at: DateTime<Utc>| ledger_entry_state::ActiveModel {
                id: Set(ids.next()),
                entry_id: Set(entry_id),
                partner_id: Set(partner),
                seq: Set(seq),
                state: Set(state),
                hold_reason: Set((state == EntryState::Pending)
                    .then(|| format!("reversal window until {}", release.format("%Y-%m-%d")))),
                release_at: Set((state == EntryState::Pending).then_some(release)),
                batch_id: Set(None),
                reason: Set(None),
                actor_user_id: Set(None),
                created_at: Set(at),
            };
            entry_states.push(state(1, EntryState::Pending, earned));
            if release <= now {
                entry_states.push(state(2, EntryState::Approved, release));
            }
            // A third of the customers are assigned to a SALES user.
            if c % 3 == 0 {
                let sales = staff[1 + (c / 3) % 2].0;
                assignments.push(grant_assignment::ActiveModel {
                    id: Set(ids.next()),
                    grant_id: Set(grant_id),
                    user_id: Set(sales),
                    rights: Set(Rights::MANAGE_PRODUCTS.union(Rights::VIEW_BILLING).bits()),
                    created_at: Set(at(300)),
                });
            }
        }
        out.customers += CUSTOMERS_PER_PARTNER;
        out.grants += grants.len();
        out.subscriptions += subs.len();
        out.assignments += assignments.len();
        out.deals += deals.len();
        out.ledger_entries += entries.len();
        let mut tokens = Vec::new();
        if p < token_sample {
            for (user_id, email, role) in &staff {
                let secret = secrets::generate_with(&mut rng);
                tokens.push(api_token::ActiveModel {
                    id: Set(ids.next()),
                    user_id: Set(*user_id),
                    name: Set("seed".into()),
                    prefix: Set(secret.visible_prefix),
                    token_hash: Set(secret.hash),
                    expires_at: Set(None),
                    last_used_at: Set(None),
                    revoked_at: Set(None),
                    created_at: Set(at(10)),
                });
                out.users.push(SeedUser {
                    email: email.clone(),
                    role: *role,
                    partner: format!("Seed Partner {p:05}"),
                    token: secret.secret,
                });
            }
        }
        insert_all(&txn, orgs).await?;
        insert_all(&txn, partnerships).await?;
        insert_all(&txn, users).await?;
        insert_all(&txn, memberships).await?;
        insert_all(&txn, subs).await?;
        insert_all(&txn, grants).await?;
        insert_all(&txn, scope_items).await?;
        insert_all(&txn, assignments).await?;
        insert_all(&txn, tokens).await?;
        insert_all(&txn, deals).await?;
        insert_all(&txn, deal_products).await?;
        insert_all(&txn, entries).await?;
        insert_all(&txn, entry_states).await?;
        out.rebate_claims += claims.len();
        insert_all(&txn, files).await?;
        insert_all(&txn, claims).await?;
        insert_all(&txn, claim_lines).await?;
    }
    txn.commit().await?;
    // The state the payout job leaves: this period's scheduled payout made, so that a server on
    // the seed (the benchmark's) does not start by paying every partner.
    out.payout_batches = crate::service::ledger::payouts::run_scheduled(ctx).await?;
    Ok(out)
}

/// A grant row as the seed writes it (tests bulk-load customers with it too).
pub fn grant_row(
    id: Uuid,
    partner: Uuid,
    customer: Uuid,
    status: GrantStatus,
    scope: GrantScope,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> grant::ActiveModel {
    let starts = now - TimeDelta::days(365);
    grant::ActiveModel {
        id: Set(id),
        partner_id: Set(partner),
        customer_id: Set(customer),
        status: Set(status),
        rights: Set(Rights::ALL.bits()),
        scope: Set(scope),
        requested_by: Set(GrantSide::Partner),
        starts_at: Set(starts),
        ends_at: Set(ends_at),
        auto_extend: Set(false),
        created_at: Set(starts),
        updated_at: Set(starts),
        duration_days: Set(730),
        message: Set(None),
        requested_by_user_id: Set(None),
        auto_extended_at: Set(None),
        expiry_warned_at: Set(None),
        customer_hidden: Set(false),
    }
}

#[allow(clippy::too_many_arguments)]
fn seed_deal(
    id: Uuid,
    partner: Uuid,
    author: Uuid,
    email: &str,
    customer: Uuid,
    distributor: Uuid,
    status: DealStatus,
    created: DateTime<Utc>,
) -> AppResult<entity::deal::ActiveModel> {
    let reviewed = status != DealStatus::Draft;
    Ok(entity::deal::ActiveModel {
        id: Set(id),
        partner_id: Set(partner),
        program_id: Set(None),
        created_by_user_id: Set(author),
        customer_id: Set(Some(customer)),
        prospect_name: Set(None),
        prospect_country: Set(None),
        prospect_domain: Set(None),
        prospect_vat: Set(None),
        match_domain: Set(None),
        match_vat: Set(None),
        distributor_id: Set(distributor),
        estimated_value: Set(crate::service::exact(Decimal::new(12_500, 0))?),
        currency: Set("EUR".into()),
        expected_close_date: Set((created + TimeDelta::days(90)).date_naive()),
        sales_lead_name: Set("Seed Lead".into()),
        sales_lead_email: Set(email.to_string()),
        sales_lead_phone: Set(None),
        engineer_name: Set(None),
        engineer_email: Set(None),
        engineer_phone: Set(None),
        competitors: Set("[]".into()),
        next_steps: Set(None),
        opportunity_exists: Set(false),
        status: Set(status),
        number: Set(None),
        editable_fields: Set(None),
        staff_question: Set(None),
        rejection_code: Set((status == DealStatus::Rejected).then_some(DealRejectionCode::NotQualified)),
        rejection_text: Set(None),
        lost_reason: Set(None),
        protected_until: Set(None),
        expiry_notice_sent_at: Set(None),
        special_discount_percent: Set(None),
        submitted_at: Set(reviewed.then_some(created)),
        approved_at: Set(None),
        closed_at: Set(None),
        created_at: Set(created),
        updated_at: Set(created),
    })
}
