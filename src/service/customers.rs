//! Customers as partners see them: created with access in one step, found again without
//! duplicates, listed only where a live grant says so.

use entity::organization;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Select,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, field, grants, idempotency, invitations, optional_field, people};
use crate::{
    db,
    domain::{
        OrganizationKind, Role,
        grants::{GrantSide, GrantStatus},
        validate,
    },
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
};

pub struct NewCustomer {
    pub name: String,
    pub country: String,
    pub domain: Option<String>,
    pub vat_number: Option<String>,
    pub admin_email: String,
    pub access: grants::Request,
    /// A retry with the same key answers with the customer, grant and invitation of the first
    /// call (with a fresh invitation token: the first answer, which had it, was lost).
    pub idempotency_key: Option<String>,
}

pub struct Created {
    pub customer: organization::Model,
    pub grant: entity::grant::Model,
    pub invitation: entity::invitation::Model,
    pub invitation_token: String,
}

/// The same VAT number, or the same domain once some organisation has proven it, is the same
/// company: refuse without saying who it is (that would tell any partner whose customer it is);
/// the partner asks for access by that VAT number or domain instead.
async fn duplicate_guard(db: &impl sea_orm::ConnectionTrait, domain: Option<&str>, vat: Option<&str>) -> AppResult<()> {
    let mut same = Condition::any();
    if let Some(vat) = vat {
        same = same.add(organization::Column::VatNumber.eq(vat));
    }
    if let Some(domain) = domain {
        same = same.add(
            organization::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(entity::domain::Column::OrganizationId)
                    .from(entity::domain::Entity)
                    .and_where(entity::domain::Column::Name.eq(domain))
                    .and_where(entity::domain::Column::VerifiedAt.is_not_null())
                    .to_owned(),
            ),
        );
    }
    if domain.is_none() && vat.is_none() {
        return Ok(());
    }
    let found = organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrganizationKind::Customer))
        .filter(same)
        .one(db)
        .await?;
    match found {
        Some(existing) => {
            let by = if vat.is_some() && existing.vat_number.as_deref() == vat { "vatNumber" } else { "domain" };
            Err(AppError::Duplicate { by })
        }
        None => Ok(()),
    }
}

#[tracing::instrument(skip_all)]
pub async fn create(ctx: &Ctx, principal: Option<&Principal>, input: NewCustomer) -> AppResult<Created> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::RequestCustomerAccess)?;
    let partner = policy::acting(principal)?.clone();
    let name = field("name", validate::name(&input.name, 200))?;
    let country = field("country", validate::country(&input.country))?;
    let domain = optional_field("domain", input.domain.as_deref(), validate::domain)?;
    let vat_number = optional_field("vatNumber", input.vat_number.as_deref(), validate::vat_number)?;
    let admin_email = field("adminEmail", validate::email(&input.admin_email))?;
    grants::check_request(&input.access)?;
    let canonical = json!({
        "partner": partner.organization_id(), "name": name, "country": country, "domain": domain,
        "vatNumber": vat_number, "adminEmail": admin_email, "access": format!("{:?}", input.access),
    });
    let key = input
        .idempotency_key
        .as_deref()
        .map(|k| idempotency::Key::new(principal.user_id(), "createCustomer", k, &canonical))
        .transpose()?;
    let fields = Fields { name, country, domain, vat_number, admin_email };
    match create_once(ctx, principal, &partner, fields, &input.access, key.as_ref()).await {
        // The same key in flight twice: the loser's work rolled back; it answers with the winner's.
        Err(err) => match &key {
            Some(key) => {
                let customer = idempotency::winner(&ctx.db, key, err).await?;
                let txn = db::begin_write(&ctx.db).await?;
                let replayed = replay(&txn, principal, &partner, customer, ctx.now()).await?;
                txn.commit().await?;
                Ok(replayed)
            }
            None => Err(err),
        },
        created => created,
    }
}

struct Fields {
    name: String,
    country: String,
    domain: Option<String>,
    vat_number: Option<String>,
    admin_email: String,
}

/// What the first call with the key created: the customer, the partner's grant on it, and its
/// ADMIN's invitation with a new token.
async fn replay(
    txn: &sea_orm::DatabaseTransaction,
    principal: &Principal,
    partner: &crate::principal::MembershipContext,
    customer_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Created> {
    // Under the scope of now: a partner whose access has ended since the first call replays
    // nothing (and gets no fresh invitation token for a customer it no longer serves).
    let customer = organization::Entity::find_by_id(customer_id)
        .filter(policy::organizations_scope(Some(principal), now))
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("Organization"))?;
    let grant = entity::grant::Entity::find()
        .filter(entity::grant::Column::PartnerId.eq(partner.organization_id()))
        .filter(entity::grant::Column::CustomerId.eq(customer_id))
        .order_by_asc(entity::grant::Column::Id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("Grant"))?;
    let invitation = entity::invitation::Entity::find()
        .filter(entity::invitation::Column::OrganizationId.eq(customer_id))
        .filter(entity::invitation::Column::Role.eq(Role::Admin))
        .order_by_asc(entity::invitation::Column::Id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("Invitation"))?;
    let (invitation, invitation_token) = invitations::reissue(txn, principal, &customer, invitation, now).await?;
    Ok(Created { customer, grant, invitation, invitation_token })
}

async fn create_once(
    ctx: &Ctx,
    principal: &Principal,
    partner: &crate::principal::MembershipContext,
    Fields { name, country, domain, vat_number, admin_email }: Fields,
    access: &grants::Request,
    key: Option<&idempotency::Key<'_>>,
) -> AppResult<Created> {
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    if let Some(key) = key
        && let Some(customer) = idempotency::previous(&txn, key).await?
    {
        let replayed = replay(&txn, principal, partner, customer, now).await?;
        txn.commit().await?;
        return Ok(replayed);
    }
    duplicate_guard(&txn, domain.as_deref(), vat_number.as_deref()).await?;
    let customer = people::insert_organization(
        &txn,
        OrganizationKind::Customer,
        people::OrganizationFields {
            name,
            country: Some(country),
            domain: domain.clone(),
            vat_number,
            ..Default::default()
        },
        now,
    )
    .await?;
    if let Some(domain) = &domain {
        super::domains::insert(&txn, customer.id, domain, now).await?;
    }
    let new_grant = grants::NewGrant {
        partner_id: partner.organization_id(),
        customer_id: customer.id,
        side: GrantSide::Partner,
        status: GrantStatus::Active,
        customer_hidden: false,
    };
    let grant = grants::insert(&txn, principal, new_grant, access, now).await?;
    if partner.role != Role::Admin {
        // Whoever creates the customer keeps acting for it.
        grants::insert_assignment(&txn, grant.id, principal.user_id(), grant.rights, now).await?;
    }
    let (invitation, invitation_token) = invitations::insert(
        &txn,
        Some(principal),
        &customer,
        &admin_email,
        Role::Admin,
        policy::MemberAuthority::Own,
        now,
    )
    .await?;
    if let Some(key) = key {
        idempotency::remember(&txn, key, customer.id, now).await?;
    }
    super::deals::adopt_prospect(&txn, partner.organization_id(), &customer).await?;
    txn.commit().await?;
    Ok(Created { customer, grant, invitation, invitation_token })
}

#[derive(Default)]
pub struct Filter {
    pub search: Option<String>,
}

/// The customers the principal may act for (a live grant, and for non-admins an assignment),
/// optionally by name, domain or VAT number. Never more: a search does not reach other customers.
pub fn visible(ctx: &Ctx, principal: Option<&Principal>, filter: &Filter) -> AppResult<Select<organization::Entity>> {
    let principal = policy::signed_in(principal)?;
    let mut query = organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrganizationKind::Customer))
        .filter(policy::organizations_scope(Some(principal), ctx.now()));
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern =
            format!("%{}%", search.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        query = query.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(organization::Column::Name)))
                        .like(LikeExpr::new(&pattern).escape('\\')),
                )
                .add(organization::Column::Domain.eq(search.to_lowercase()))
                .add(organization::Column::VatNumber.eq(search.to_uppercase().replace(' ', ""))),
        );
    }
    Ok(query)
}
