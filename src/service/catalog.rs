//! The catalog: products, their plans and volume bands (staff ADMIN keeps them; everyone signed
//! in reads them).

use std::collections::HashMap;

use entity::{plan, product, volume_band};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, fixed, programs};
use crate::{
    db,
    domain::{BillingPeriod, validate},
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
};

fn price(name: &str, amount: Decimal) -> AppResult<Decimal> {
    if amount.is_sign_negative() || amount.scale() > 4 {
        return Err(AppError::bad_input(name, "must be zero or more, with at most 4 decimals"));
    }
    Ok(amount.normalize())
}

pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub product_line: String,
}

#[tracing::instrument(skip_all)]
pub async fn create_product(ctx: &Ctx, principal: Option<&Principal>, input: NewProduct) -> AppResult<product::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageCatalog)?;
    let sku = field("sku", validate::name(&input.sku, 32))?.to_uppercase();
    let name = field("name", validate::name(&input.name, 200))?;
    let line = field("productLine", validate::name(&input.product_line, 64))?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let created = product::ActiveModel {
        id: Set(Uuid::now_v7()),
        sku: Set(sku),
        name: Set(name),
        product_line: Set(line),
        active: Set(true),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let event = audit::Event {
        action: "product.created",
        target_type: "Product",
        target_id: Some(created.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "sku": created.sku })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Takes a product or a plan off (or back on) sale; existing subscriptions keep running.
#[tracing::instrument(skip_all)]
pub async fn set_product_active(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    active: bool,
) -> AppResult<product::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageCatalog)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let found = product::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound("Product"))?;
    let mut active_model: product::ActiveModel = found.into();
    active_model.active = Set(active);
    let updated = active_model.update(&txn).await?;
    let event = audit::Event {
        action: "product.updated",
        target_type: "Product",
        target_id: Some(id),
        customer_id: None,
        before: None,
        after: Some(json!({ "active": active })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(updated)
}

pub struct NewPlan {
    pub product_id: Uuid,
    pub code: String,
    pub name: String,
    pub billing_period: BillingPeriod,
    pub unit_price: Decimal,
    pub currency: String,
    pub rank: i32,
    pub bands: Vec<Band>,
}

/// A volume band as given: from `min_seats` on, `unit_price` per seat, in `currency`.
pub struct Band {
    pub min_seats: i32,
    pub unit_price: Decimal,
    pub currency: String,
}

/// Bands sorted by their first seat; each in the plan's currency.
fn check_bands(bands: &[Band], plan_currency: &str) -> AppResult<Vec<(i32, Decimal)>> {
    let mut seen = Vec::new();
    for Band { min_seats: min, unit_price: p, currency } in bands {
        if !currency.trim().eq_ignore_ascii_case(plan_currency) {
            return Err(AppError::bad_input(
                "volumeBands.unitPrice.currency",
                format!("must be the plan's currency, {plan_currency}"),
            ));
        }
        if *min < 2 {
            return Err(AppError::bad_input("volumeBands", "a band starts at 2 seats or more"));
        }
        if seen.iter().any(|(m, _)| m == min) {
            return Err(AppError::bad_input("volumeBands", "two bands start at the same seat count"));
        }
        seen.push((*min, price("volumeBands", *p)?));
    }
    seen.sort_by_key(|(m, _)| *m);
    Ok(seen)
}

async fn insert_bands(db: &impl ConnectionTrait, plan_id: Uuid, bands: &[(i32, Decimal)]) -> AppResult<()> {
    for (min, p) in bands {
        volume_band::ActiveModel {
            id: Set(Uuid::now_v7()),
            plan_id: Set(plan_id),
            min_seats: Set(*min),
            unit_price: Set(fixed("volumeBands", *p)?),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn create_plan(ctx: &Ctx, principal: Option<&Principal>, input: NewPlan) -> AppResult<plan::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageCatalog)?;
    let code = field("code", validate::name(&input.code, 32))?.to_uppercase();
    let name = field("name", validate::name(&input.name, 200))?;
    let period = input.billing_period;
    let unit_price = price("unitPrice", input.unit_price)?;
    let currency = programs::currency("unitPrice", &input.currency)?;
    if !(0..=1000).contains(&input.rank) {
        return Err(AppError::bad_input("rank", "is between 0 and 1000"));
    }
    let bands = check_bands(&input.bands, &currency)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let currency = programs::programme_currency(&txn, "unitPrice", &currency).await?;
    product::Entity::find_by_id(input.product_id).one(&txn).await?.ok_or(AppError::NotFound("Product"))?;
    if plan::Entity::find().filter(plan::Column::Code.eq(code.as_str())).one(&txn).await?.is_some() {
        return Err(AppError::Conflict("a plan with this code exists".into()));
    }
    let same_rank = plan::Entity::find()
        .filter(plan::Column::ProductId.eq(input.product_id))
        .filter(plan::Column::Rank.eq(input.rank))
        .one(&txn)
        .await?;
    if let Some(other) = same_rank {
        return Err(AppError::bad_input(
            "rank",
            format!("plan {} of this product already has rank {}; ranks order upgrades", other.code, input.rank),
        ));
    }
    let created = plan::ActiveModel {
        id: Set(Uuid::now_v7()),
        product_id: Set(input.product_id),
        code: Set(code),
        name: Set(name),
        billing_period: Set(period),
        unit_price: Set(fixed("unitPrice", unit_price)?),
        currency: Set(currency),
        rank: Set(input.rank),
        active: Set(true),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    insert_bands(&txn, created.id, &bands).await?;
    let event = audit::Event {
        action: "plan.created",
        target_type: "Plan",
        target_id: Some(created.id),
        customer_id: None,
        before: None,
        after: Some(json!({ "code": created.code, "unitPrice": created.unit_price, "currency": created.currency })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Replaces a plan's volume bands; the next billing run prices with them.
#[tracing::instrument(skip_all)]
pub async fn set_volume_bands(
    ctx: &Ctx,
    principal: Option<&Principal>,
    plan_id: Uuid,
    bands: Vec<Band>,
) -> AppResult<plan::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::ManageCatalog)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let found = plan::Entity::find_by_id(plan_id).one(&txn).await?.ok_or(AppError::NotFound("Plan"))?;
    let bands = check_bands(&bands, &found.currency)?;
    volume_band::Entity::delete_many().filter(volume_band::Column::PlanId.eq(plan_id)).exec(&txn).await?;
    insert_bands(&txn, plan_id, &bands).await?;
    let event = audit::Event {
        action: "plan.bands_set",
        target_type: "Plan",
        target_id: Some(plan_id),
        customer_id: None,
        before: None,
        after: Some(
            json!({ "bands": bands.iter().map(|(m, p)| json!({ "minSeats": m, "unitPrice": p.to_string() })).collect::<Vec<_>>() }),
        ),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(found)
}

/// A plan with its bands, ready to price.
#[derive(Clone, Debug)]
pub struct Priced {
    pub plan: plan::Model,
    pub unit_price: Decimal,
    pub bands: Vec<(i32, Decimal)>,
}

impl Priced {
    pub fn yearly(&self) -> bool {
        self.plan.billing_period == BillingPeriod::Yearly
    }

    /// The list price of `seats` seats for one period, unrounded.
    pub fn period_price(&self, seats: i32) -> Decimal {
        crate::domain::billing::period_price(self.unit_price, &self.bands, seats)
    }

    pub fn seat_price(&self, seats: i32) -> Decimal {
        crate::domain::billing::seat_price(self.unit_price, &self.bands, seats)
    }
}

/// Plans with their bands, in two queries whatever their number.
pub async fn priced(db: &impl ConnectionTrait, plan_ids: &[Uuid]) -> AppResult<HashMap<Uuid, Priced>> {
    let plans = plan::Entity::find().filter(plan::Column::Id.is_in(plan_ids.iter().copied())).all(db).await?;
    let bands =
        volume_band::Entity::find().filter(volume_band::Column::PlanId.is_in(plan_ids.iter().copied())).all(db).await?;
    let mut out = HashMap::new();
    for plan in plans {
        let mut own = Vec::new();
        for b in bands.iter().filter(|b| b.plan_id == plan.id) {
            own.push((b.min_seats, b.unit_price.to_decimal()));
        }
        let unit_price = plan.unit_price.to_decimal();
        out.insert(plan.id, Priced { plan, unit_price, bands: own });
    }
    Ok(out)
}

/// The products anyone may list (the catalog is public).
pub fn products(principal: Option<&Principal>) -> sea_orm::Select<product::Entity> {
    product::Entity::find().filter(policy::programs_scope(principal))
}
