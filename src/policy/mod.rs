//! Authorization, in one place. `can` answers whether a principal may do one thing; the
//! `*_scope` functions return the SQL condition that limits a query to what the principal may
//! see, so lists, counts, `node` and loaders all agree. A denied read looks like a missing row.

use chrono::{DateTime, Utc};
use entity::{api_token, grant, grant_assignment, membership, organization, user};
use sea_orm::{
    ColumnTrait, Condition,
    sea_query::{Expr, ExprTrait, Func, Query, SelectStatement, SimpleExpr},
};
use uuid::Uuid;

use crate::{
    domain::{
        Audiences, BilledTo, GrantScope, GrantStatus, OrganizationKind, Rights, Role, UserKind,
        grants::needs_assignment, notifications::NotificationKind,
    },
    error::{AppError, AppResult},
    principal::{MembershipContext, Principal},
};

/// Something a principal asks to do, with what the decision depends on.
#[derive(Debug)]
pub enum Action<'a> {
    /// Create a distributor, customer or migrated partner organisation.
    CreateOrganization,
    /// Create a service account in this organisation.
    CreateServiceAccount { organization_id: Uuid },
    /// Create a personal API token.
    CreateApiToken,
    /// Revoke a token the principal can see (its own, or a service account's of its organisation).
    RevokeApiToken { token: &'a api_token::Model },
    /// Invite people to, and remove members from, this organisation.
    ManageMembers { organization_id: Uuid },
    /// Ask a customer for access (partner ADMIN or SALES), or create a customer with access.
    RequestCustomerAccess,
    /// Offer access to a partner (customer ADMIN).
    InvitePartner,
    /// Answer, narrow, change or revoke a grant on the customer's side (its ADMIN).
    ManageGrantAsCustomer { grant: &'a entity::grant::Model },
    /// Accept, end or staff a grant on the partner's side (its ADMIN).
    ManageGrantAsPartner { grant: &'a entity::grant::Model },
    /// Confirm a partner's tier change (staff ADMIN or CHANNEL_MANAGER).
    ChangePartnerTier,
    /// Submit a customer reference for the acting partner (any of its members).
    SubmitSuccessStory,
    /// Accept or reject a success story (staff ADMIN or CHANNEL_MANAGER).
    ReviewSuccessStory,
    /// Keep the catalog of products and courses (staff ADMIN).
    ManageCatalog,
    /// Record exam results (staff ADMIN or CHANNEL_MANAGER).
    RecordExamResult,
    /// Create programmes and tiers, publish terms (staff ADMIN).
    ManageProgram,
    /// Apply to a programme: a person, for a new organisation, or as ADMIN of the partner it
    /// acts as. Staff do not apply to their own programmes.
    ApplyForPartnership,
    /// Approve or reject applications, see the tier review queue, ship gifts (staff ADMIN or
    /// CHANNEL_MANAGER).
    ReviewPartners,
    /// Record a partner's committed volume and fee payments (staff ADMIN, CHANNEL_MANAGER or
    /// FINANCE).
    UpdatePartnership,
    /// Claim the welcome gift of the acting partner (its ADMIN).
    ClaimWelcomeGift,
    /// Answer the onboarding questionnaire for this partner (its ADMIN, acting as it).
    AnswerQuestionnaire { organization_id: Uuid },
    /// Create or change a customer's subscription, with the acting partner user's effective
    /// `rights` there and whether its grant covers the whole account.
    ManageSubscription {
        customer_id: Uuid,
        rights: Rights,
        whole_account: bool,
        target: SubscriptionTarget,
        effect: BillEffect,
    },
    /// Ask the partner who pays for a subscription for more (the customer's ADMIN).
    RequestSubscriptionChange { customer_id: Uuid },
    /// Answer a customer's request for more: the partner it was addressed to.
    AnswerSubscriptionChange { partner_id: Uuid },
    /// Run billing, issue and void invoices, record payments (staff ADMIN or FINANCE).
    ManageBilling,
    /// Read the acting partner's retail, cost and margin per customer (its ADMIN or BILLING,
    /// who read its invoices too).
    ReadBillingReport,
    /// Register deals for the acting partner (its ADMIN or SALES).
    RegisterDeal,
    /// Edit, submit and close a deal of the acting partner: its ADMIN, or the SALES user who
    /// registered it.
    WorkOnDeal { deal: &'a entity::deal::Model },
    /// Review, approve, reject and extend deal registrations (staff ADMIN or CHANNEL_MANAGER).
    ReviewDeals,
    /// Claim to be a customer's partner of record, or withdraw the claim (the acting partner's
    /// ADMIN or SALES).
    ClaimPartnerOfRecord,
    /// Confirm or deny a partner-of-record claim: the customer's ADMIN, or staff ADMIN or
    /// CHANNEL_MANAGER (who verify or override).
    DecidePartnerOfRecord { claim: &'a entity::partner_of_record_claim::Model },
    /// Keep commission rules, close quarters, mark entries DUPLICATE or FRAUD (staff ADMIN or
    /// FINANCE).
    ManageLedger,
    /// Run a payout batch (staff ADMIN or FINANCE).
    RunPayout,
    /// Keep the approved distributor list and the rebate table (staff ADMIN or FINANCE).
    ManageRebates,
    /// Get the acting affiliate's referral code (its ADMIN).
    CreateReferralCode,
    /// Claim a rebate for the acting partner (its ADMIN or SALES; the tier is the service's
    /// rule, from the rebate table).
    SubmitRebateClaim,
    /// Accept or reject rebate claims (staff ADMIN or FINANCE).
    ReviewRebateClaims,
    /// Mark a claim's lines confirmed or disputed: a member of the distributor it names.
    MarkRebateClaim { claim: &'a entity::rebate_claim::Model },
    /// Register, change and rotate the acting organisation's webhook endpoints, read their
    /// delivery log and redeliver (a partner's or customer's ADMIN).
    ManageWebhooks,
    /// Send a delivery again: a dead letter of any kind (staff ADMIN), or a webhook delivery
    /// of the acting organisation's endpoint (its ADMIN).
    Redeliver { endpoint_organization_id: Option<Uuid> },
    /// Change a partner's directory profile: its ADMIN, or staff ADMIN.
    EditPartnerProfile { partner_id: Uuid },
    /// Post a call for tenders published at once: a customer's ADMIN. (A visitor posts without
    /// signing in and confirms the e-mail first; anyone else signed in is refused.)
    PostTender,
    /// Express interest in, and respond to, tenders for the acting partner (its ADMIN or SALES).
    AnswerTender,
    /// Pick a tender's winning response: the ADMIN of the customer that posted it.
    AwardTender { tender: &'a entity::tender::Model },
}

/// The subscription a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionTarget {
    New,
    /// An existing subscription: the partner that manages it (None when bought directly) and
    /// whether that partner pays for it.
    Existing {
        managed_by: Option<Uuid>,
        billed_to_partner: bool,
    },
}

/// What a subscription change does to the bill of whoever pays it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BillEffect {
    /// More seats, a higher plan, a subscription going on (resumed, renewing): costs more.
    Raise,
    /// Fewer seats, a lower plan from the renewal: costs less.
    Lower,
    /// Cancelled at the period's end, or not renewing: stops costing.
    Stop,
    /// Billed to the customer from now on instead of the partner.
    HandOver,
}

/// The customer roles a partner hands out under MANAGE_USERS: the customer's ordinary users.
/// A customer's ADMINs are its own: a partner never invites, promotes, demotes or removes one.
pub const PARTNER_MANAGED_CUSTOMER_ROLES: [Role; 2] = [Role::Billing, Role::Member];

/// Requires a signed-in caller.
pub fn signed_in(principal: Option<&Principal>) -> AppResult<&Principal> {
    principal.ok_or_else(|| AppError::Unauthenticated("sign in, or send an API token as Authorization: Bearer".into()))
}

/// Requires a chosen membership (a user with several must name one).
pub fn acting(principal: &Principal) -> AppResult<&MembershipContext> {
    principal.acting.as_ref().ok_or_else(|| {
        AppError::Forbidden(
            "you belong to several organisations: name one with the X-Partnerhub-Organization header".into(),
        )
    })
}

fn is_staff(m: &MembershipContext) -> bool {
    m.organization_kind == OrganizationKind::Vendor
}

pub fn can(principal: &Principal, action: Action<'_>) -> AppResult<()> {
    let allowed = match action {
        // Anyone signed in may hold tokens; a service account may rotate its own.
        Action::CreateApiToken => true,
        Action::CreateOrganization => {
            let m = acting(principal)?;
            is_staff(m) && m.role == Role::Admin
        }
        Action::CreateServiceAccount { organization_id } => {
            let m = acting(principal)?;
            principal.user_kind() == UserKind::Person
                && m.role == Role::Admin
                && (is_staff(m) || m.organization_id() == organization_id)
        }
        Action::ManageMembers { organization_id } => {
            let m = acting(principal)?;
            m.role == Role::Admin && (is_staff(m) || m.organization_id() == organization_id)
        }
        Action::RequestCustomerAccess => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Partner && matches!(m.role, Role::Admin | Role::Sales)
        }
        Action::InvitePartner => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Customer && m.role == Role::Admin
        }
        Action::ManageGrantAsCustomer { grant } => {
            let m = acting(principal)?;
            m.role == Role::Admin && m.organization_id() == grant.customer_id
        }
        Action::ManageGrantAsPartner { grant } => {
            let m = acting(principal)?;
            m.role == Role::Admin && m.organization_id() == grant.partner_id
        }
        Action::SubmitSuccessStory => acting(principal)?.organization_kind == OrganizationKind::Partner,
        Action::ManageCatalog => {
            let m = acting(principal)?;
            is_staff(m) && m.role == Role::Admin
        }
        Action::ManageProgram => {
            let m = acting(principal)?;
            is_staff(m) && m.role == Role::Admin
        }
        Action::ApplyForPartnership => {
            principal.user_kind() == UserKind::Person
                && match principal.acting.as_ref() {
                    None => true,
                    Some(m) if is_staff(m) => false,
                    Some(m) if m.organization_kind == OrganizationKind::Partner => m.role == Role::Admin,
                    Some(_) => true,
                }
        }
        Action::UpdatePartnership => {
            let m = acting(principal)?;
            is_staff(m) && matches!(m.role, Role::Admin | Role::ChannelManager | Role::Finance)
        }
        Action::ClaimWelcomeGift => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Partner && m.role == Role::Admin
        }
        Action::AnswerQuestionnaire { organization_id } => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Partner
                && m.role == Role::Admin
                && m.organization_id() == organization_id
        }
        Action::ManageSubscription { customer_id, rights, whole_account, target, effect } => {
            return manage_subscription(principal, customer_id, rights, whole_account, target, effect);
        }
        Action::AnswerSubscriptionChange { partner_id } => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Partner && m.organization_id() == partner_id
        }
        Action::RequestSubscriptionChange { customer_id } => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Customer
                && m.organization_id() == customer_id
                && m.role == Role::Admin
        }
        Action::ReadBillingReport => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Partner && matches!(m.role, Role::Admin | Role::Billing)
        }
        Action::ManageBilling => {
            let m = acting(principal)?;
            is_staff(m) && matches!(m.role, Role::Admin | Role::Finance)
        }
        Action::RegisterDeal => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Partner && matches!(m.role, Role::Admin | Role::Sales)
        }
        Action::WorkOnDeal { deal } => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Partner
                && m.organization_id() == deal.partner_id
                && (m.role == Role::Admin || (m.role == Role::Sales && deal.created_by_user_id == principal.user_id()))
        }
        Action::ClaimPartnerOfRecord => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Partner && matches!(m.role, Role::Admin | Role::Sales)
        }
        Action::DecidePartnerOfRecord { claim } => {
            let m = acting(principal)?;
            (is_staff(m) && matches!(m.role, Role::Admin | Role::ChannelManager))
                || (m.organization_kind == OrganizationKind::Customer
                    && m.organization_id() == claim.customer_id
                    && m.role == Role::Admin)
        }
        Action::CreateReferralCode => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Partner && m.role == Role::Admin
        }
        Action::SubmitRebateClaim => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Partner && matches!(m.role, Role::Admin | Role::Sales)
        }
        Action::MarkRebateClaim { claim } => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Distributor && m.organization_id() == claim.distributor_id
        }
        Action::ManageWebhooks => {
            let m = acting(principal)?;
            matches!(m.organization_kind, OrganizationKind::Partner | OrganizationKind::Customer)
                && m.role == Role::Admin
        }
        Action::EditPartnerProfile { partner_id } => {
            let m = acting(principal)?;
            m.role == Role::Admin
                && (is_staff(m)
                    || (m.organization_kind == OrganizationKind::Partner && m.organization_id() == partner_id))
        }
        Action::PostTender => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Customer && m.role == Role::Admin
        }
        Action::AnswerTender => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Partner && matches!(m.role, Role::Admin | Role::Sales)
        }
        Action::AwardTender { tender } => {
            let m = acting(principal)?;
            m.organization_kind == OrganizationKind::Customer
                && m.role == Role::Admin
                && tender.author_organization_id == Some(m.organization_id())
        }
        Action::Redeliver { endpoint_organization_id } => {
            let m = acting(principal)?;
            m.role == Role::Admin && (is_staff(m) || endpoint_organization_id == Some(m.organization_id()))
        }
        Action::ManageLedger | Action::RunPayout | Action::ManageRebates | Action::ReviewRebateClaims => {
            let m = acting(principal)?;
            is_staff(m) && matches!(m.role, Role::Admin | Role::Finance)
        }
        Action::ChangePartnerTier
        | Action::ReviewDeals
        | Action::ReviewSuccessStory
        | Action::RecordExamResult
        | Action::ReviewPartners => {
            let m = acting(principal)?;
            is_staff(m) && matches!(m.role, Role::Admin | Role::ChannelManager)
        }
        // Visibility (api_tokens_scope) already limited this to tokens the principal may manage.
        Action::RevokeApiToken { token } => {
            token.user_id == principal.user_id() || acting(principal).is_ok_and(|m| m.role == Role::Admin)
        }
    };
    if allowed { Ok(()) } else { Err(AppError::Forbidden("your role does not allow this".into())) }
}

/// In whose name a principal manages an organisation's members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberAuthority {
    /// The organisation's own ADMIN, or a staff ADMIN.
    Own,
    /// A partner user acting on a customer's behalf under its grant's MANAGE_USERS.
    Partner(Uuid),
}

/// Who may invite, remove or change the members of an organisation: its ADMIN (staff ADMIN for
/// any); for a customer also a partner user whose effective rights there (`delegated`) hold
/// MANAGE_USERS, and then only for users of the roles a partner hands out. `roles` are the roles
/// the change touches: the one invited, the one a member holds, the one given.
pub fn member_authority(
    principal: &Principal,
    organization_id: Uuid,
    organization_kind: OrganizationKind,
    delegated: Rights,
    roles: &[Role],
) -> AppResult<MemberAuthority> {
    let own = can(principal, Action::ManageMembers { organization_id });
    if own.is_ok() {
        return Ok(MemberAuthority::Own);
    }
    let Some(actor) = PartnerActor::of(principal).filter(|_| organization_kind == OrganizationKind::Customer) else {
        return own.map(|()| MemberAuthority::Own);
    };
    if !delegated.contains(Rights::MANAGE_USERS) {
        return own.map(|()| MemberAuthority::Own);
    }
    if !partner_hands_out(roles) {
        return Err(AppError::Forbidden(
            "a partner manages the customer's BILLING and MEMBER users only; its ADMINs are the customer's own".into(),
        ));
    }
    Ok(MemberAuthority::Partner(actor.partner_id))
}

/// Whether a partner may hand out (or take away) these customer roles.
pub fn partner_hands_out(roles: &[Role]) -> bool {
    roles.iter().all(|r| PARTNER_MANAGED_CUSTOMER_ROLES.contains(r))
}

/// Whether a partner's invitation still stands when accepted: the sender's rights on the
/// customer now (`rights`, from `partner_rights_query`) still hold MANAGE_USERS, and the role is
/// one a partner hands out.
pub fn partner_invitation_stands(rights: Rights, role: Role) -> bool {
    rights.contains(Rights::MANAGE_USERS) && partner_hands_out(&[role])
}

/// Whoever pays decides what costs more. The customer's ADMIN changes what it pays for as it
/// likes, and what its partner pays for only downwards (more is asked of the partner). A partner
/// user with MANAGE_PRODUCTS changes what its organisation manages or what the customer bought
/// directly, never another partner's; creating needs the whole account. The partner that pays
/// for a subscription may always stop paying for it (its ADMIN or BILLING), even once the grant
/// has ended.
fn manage_subscription(
    principal: &Principal,
    customer_id: Uuid,
    rights: Rights,
    whole_account: bool,
    target: SubscriptionTarget,
    effect: BillEffect,
) -> AppResult<()> {
    let m = acting(principal)?;
    let denied = || Err(AppError::Forbidden("your role does not allow this".into()));
    match m.organization_kind {
        OrganizationKind::Customer => {
            if m.organization_id() != customer_id || m.role != Role::Admin {
                return denied();
            }
            match (target, effect) {
                (SubscriptionTarget::Existing { billed_to_partner: true, .. }, BillEffect::Raise) => {
                    Err(AppError::Forbidden(
                        "your partner pays for this subscription: ask it for more with requestSubscriptionChange"
                            .into(),
                    ))
                }
                _ => Ok(()),
            }
        }
        OrganizationKind::Partner => {
            let managed_by_us = |managed_by: Option<Uuid>| managed_by.is_none_or(|p| p == m.organization_id());
            let delegated = rights.contains(Rights::MANAGE_PRODUCTS)
                && match target {
                    SubscriptionTarget::New => whole_account,
                    SubscriptionTarget::Existing { managed_by, .. } => managed_by_us(managed_by),
                };
            let payer = matches!(m.role, Role::Admin | Role::Billing)
                && matches!(effect, BillEffect::Stop | BillEffect::HandOver)
                && matches!(target, SubscriptionTarget::Existing { managed_by: Some(p), billed_to_partner: true } if p == m.organization_id());
            if delegated || payer { Ok(()) } else { denied() }
        }
        OrganizationKind::Vendor | OrganizationKind::Distributor => denied(),
    }
}

/// A grant that gives access now: `domain::grants::is_live` in SQL (a property test holds the two
/// together). Qualified by table, so it reads the same inside joins.
pub fn live_grant(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(Expr::col((grant::Entity, grant::Column::Status)).eq(GrantStatus::Active.as_str()))
        .add(Expr::col((grant::Entity, grant::Column::EndsAt)).gt(now))
}

/// A grant PENDING or ACTIVE as of now (`domain::grants::status_at`): a request past its lapse
/// date counts no more than a grant past its end.
pub fn open_grant(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(
            Expr::col((grant::Entity, grant::Column::Status))
                .is_in([GrantStatus::Pending.as_str(), GrantStatus::Active.as_str()]),
        )
        .add(Expr::col((grant::Entity, grant::Column::EndsAt)).gt(now))
}

/// Organisations a principal sees: staff see all; others see the organisations they belong to,
/// and through grants the other side of an active relationship (a partner its granted customers,
/// a customer the partners holding or asking for access).
pub fn organizations_scope(principal: Option<&Principal>, now: DateTime<Utc>) -> Condition {
    let Some(p) = principal else { return Condition::all().add(Expr::val(false)) };
    if p.acting.as_ref().is_some_and(is_staff) {
        return Condition::all();
    }
    let mut sources = vec![own_organizations(p.user_id())];
    if let Some(m) = &p.acting {
        match m.organization_kind {
            OrganizationKind::Partner => sources.push(granted_customers(m, p.user_id(), now)),
            OrganizationKind::Customer => {
                let partners = Query::select()
                    .column(grant::Column::PartnerId)
                    .from(grant::Entity)
                    .and_where(grant::Column::CustomerId.eq(m.organization_id()))
                    .cond_where(open_grant(now))
                    .to_owned();
                sources.push(partners);
            }
            OrganizationKind::Vendor | OrganizationKind::Distributor => {}
        }
    }
    Condition::all().add(organization::Column::Id.in_subquery(union_of(sources)))
}

/// `a UNION b …` as one subquery. Used as `id IN (a UNION b)`, PostgreSQL reads the small sides
/// (a user's memberships, a partner's grants) first and joins the few ids found; written as
/// `id IN (a) OR id IN (b)`, it walked the whole primary key and probed both for each row (50,951
/// rows filtered to return 50 in issue 13's measurement).
pub fn union_of(mut sources: Vec<SelectStatement>) -> SelectStatement {
    let mut first = sources.remove(0);
    for other in sources {
        first.union(sea_orm::sea_query::UnionType::Distinct, other);
    }
    first
}

fn own_organizations(user_id: Uuid) -> SelectStatement {
    Query::select()
        .column(membership::Column::OrganizationId)
        .from(membership::Entity)
        .and_where(membership::Column::UserId.eq(user_id))
        .to_owned()
}

/// Customers a partner user may act for: an active, unexpired grant, and for anyone but a
/// partner admin an assignment under that grant. Expiry is compared with `now`, so a grant
/// gives nothing from the second it ends, whether or not a job has marked it expired.
fn granted_customers(m: &MembershipContext, user_id: Uuid, now: DateTime<Utc>) -> SelectStatement {
    // Qualified, so that it reads the same joined to other tables with the same column names.
    let mut q = Query::select()
        .column((grant::Entity, grant::Column::CustomerId))
        .from(grant::Entity)
        .and_where(Expr::col((grant::Entity, grant::Column::PartnerId)).eq(m.organization_id()))
        .cond_where(live_grant(now))
        .to_owned();
    if needs_assignment(m.role) {
        q.and_where(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(grant_assignment::Entity)
                .and_where(
                    Expr::col((grant_assignment::Entity, grant_assignment::Column::GrantId))
                        .equals((grant::Entity, grant::Column::Id)),
                )
                .and_where(grant_assignment::Column::UserId.eq(user_id))
                .to_owned(),
        ));
    }
    q
}

/// Users a principal sees: themselves and the members of the organisation they act as, and for
/// a partner user who manages a customer's users on its behalf, that customer's; staff all.
/// The same reach as `memberships_scope`, so a member listed is a user that can be read.
pub fn users_scope(principal: Option<&Principal>, now: DateTime<Utc>) -> Condition {
    let Some(p) = principal else { return Condition::all().add(Expr::val(false)) };
    if p.acting.as_ref().is_some_and(is_staff) {
        return Condition::all();
    }
    let mut sources = vec![itself(p.user_id())];
    if let Some(m) = &p.acting {
        sources.extend(memberships_reached(p, m, now, membership::Column::UserId));
    }
    Condition::all().add(user::Column::Id.in_subquery(union_of(sources)))
}

/// `column` of the memberships of the organisation the principal acts as and, for a partner user
/// who manages a customer's users on its behalf, of that customer's.
fn memberships_reached(
    p: &Principal,
    m: &MembershipContext,
    now: DateTime<Utc>,
    column: membership::Column,
) -> Vec<SelectStatement> {
    let mut sources = vec![
        Query::select()
            .column((membership::Entity, column))
            .from(membership::Entity)
            .and_where(Expr::col((membership::Entity, membership::Column::OrganizationId)).eq(m.organization_id()))
            .to_owned(),
    ];
    if let Some(customers) = customers_with_right(p, Rights::MANAGE_USERS, now) {
        sources.push(joined_to_customers(customers, membership::Entity, membership::Column::OrganizationId, column));
    }
    sources
}

/// `column` of the rows of `table` whose `on` is a customer that `customers` (a query over grants)
/// picks, joined from the grants: written as `on IN (customers)`, SQLite scanned the table.
fn joined_to_customers<T, C>(mut customers: SelectStatement, table: T, on: C, column: C) -> SelectStatement
where
    T: sea_orm::sea_query::Iden + Copy + 'static,
    C: sea_orm::sea_query::Iden + 'static,
{
    customers
        .clear_selects()
        .column((table, column))
        .inner_join(table, Expr::col((table, on)).equals((grant::Entity, grant::Column::CustomerId)));
    customers
}

/// `SELECT id FROM users WHERE id = user_id`: the principal as one branch of a union.
fn itself(user_id: Uuid) -> SelectStatement {
    Query::select().column(user::Column::Id).from(user::Entity).and_where(user::Column::Id.eq(user_id)).to_owned()
}

/// The users who are members of the organisations `organizations` picks.
fn members_of(organizations: SimpleExpr) -> SelectStatement {
    Query::select().column(membership::Column::UserId).from(membership::Entity).and_where(organizations).to_owned()
}

/// Memberships a principal sees: their own, and those of the organisation they act as; staff all.
pub fn memberships_scope(principal: Option<&Principal>, now: DateTime<Utc>) -> Condition {
    let Some(p) = principal else { return Condition::all().add(Expr::val(false)) };
    if p.acting.as_ref().is_some_and(is_staff) {
        return Condition::all();
    }
    let mut sources = vec![
        Query::select()
            .column(membership::Column::Id)
            .from(membership::Entity)
            .and_where(membership::Column::UserId.eq(p.user_id()))
            .to_owned(),
    ];
    if let Some(m) = &p.acting {
        sources.extend(memberships_reached(p, m, now, membership::Column::Id));
    }
    Condition::all().add(membership::Column::Id.in_subquery(union_of(sources)))
}

/// Customers on which the acting partner user's effective rights include `right`, as a subquery
/// over the same expression as `viewer_rights_query`.
fn customers_with_right(p: &Principal, right: Rights, now: DateTime<Utc>) -> Option<SelectStatement> {
    let actor = PartnerActor::of(p)?;
    let mut query = rights_base(&actor, now);
    query.and_where(rights_expr(actor.role).bit_and(right.bits()).eq(right.bits()));
    query.column((grant::Entity, grant::Column::CustomerId));
    Some(query)
}

/// API tokens a principal sees (never their secrets): their own, and for an organisation admin
/// the tokens of that organisation's service accounts.
pub fn api_tokens_scope(principal: Option<&Principal>) -> Condition {
    let Some(p) = principal else { return Condition::all().add(Expr::val(false)) };
    let mut sources = vec![itself(p.user_id())];
    if let Some(m) = p.acting.as_ref().filter(|m| m.role == Role::Admin) {
        sources.push(service_accounts_of(m.organization_id()));
    }
    Condition::all().add(api_token::Column::UserId.in_subquery(union_of(sources)))
}

fn service_accounts_of(organization_id: Uuid) -> SelectStatement {
    Query::select()
        .column((membership::Entity, membership::Column::UserId))
        .from(membership::Entity)
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id)).equals((membership::Entity, membership::Column::UserId)),
        )
        .and_where(Expr::col((membership::Entity, membership::Column::OrganizationId)).eq(organization_id))
        .and_where(Expr::col((user::Entity, user::Column::Kind)).eq(UserKind::ServiceAccount))
        .to_owned()
}

/// Invitations a principal sees: those of the organisation it administers (staff admins all),
/// and those its partner sent on behalf of customers where it manages users now.
pub fn invitations_scope(principal: Option<&Principal>, now: DateTime<Utc>) -> Condition {
    use entity::invitation::Column;
    let none = Condition::all().add(Expr::val(false));
    let Some(p) = principal else { return none };
    let Some(m) = p.acting.as_ref() else { return none };
    if is_staff(m) && m.role == Role::Admin {
        return Condition::all();
    }
    let invitations = |which: Condition| {
        Query::select().column(Column::Id).from(entity::invitation::Entity).cond_where(which).to_owned()
    };
    let mut sources = Vec::new();
    if m.role == Role::Admin {
        sources.push(invitations(Condition::all().add(Column::OrganizationId.eq(m.organization_id()))));
    }
    if let Some(customers) = customers_with_right(p, Rights::MANAGE_USERS, now) {
        let mut sent = joined_to_customers(customers, entity::invitation::Entity, Column::OrganizationId, Column::Id);
        sent.and_where(
            Expr::col((entity::invitation::Entity, Column::InvitedByOrganizationId)).eq(m.organization_id()),
        );
        sources.push(sent);
    }
    if sources.is_empty() { none } else { Condition::all().add(Column::Id.in_subquery(union_of(sources))) }
}

/// Grants a principal sees: staff all; a partner's members the partner's grants; a customer's
/// members the grants on the customer.
pub fn grants_scope(principal: Option<&Principal>) -> Condition {
    let none = Condition::all().add(Expr::val(false));
    let Some(m) = principal.and_then(|p| p.acting.as_ref()) else { return none };
    match m.organization_kind {
        OrganizationKind::Vendor => Condition::all(),
        OrganizationKind::Partner => Condition::all().add(grant::Column::PartnerId.eq(m.organization_id())),
        OrganizationKind::Customer => Condition::all().add(grant::Column::CustomerId.eq(m.organization_id())),
        OrganizationKind::Distributor => none,
    }
}

/// A partner user as the rights SQL sees them: the partner, the person, their role there.
#[derive(Clone, Copy, Debug)]
pub struct PartnerActor {
    pub partner_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
}

impl PartnerActor {
    /// The principal, when it acts as a member of a partner.
    pub fn of(p: &Principal) -> Option<PartnerActor> {
        let m = p.acting.as_ref().filter(|m| m.organization_kind == OrganizationKind::Partner)?;
        Some(PartnerActor { partner_id: m.organization_id(), user_id: p.user_id(), role: m.role })
    }
}

/// The SQL that computes, per customer, what the acting partner user may do there: the live
/// grant's rights ∩ the user's assignment (a partner ADMIN needs none) ∩ the role's mask.
/// One row per customer with a live grant; `None` when the principal is not a partner user.
pub fn viewer_rights_query(
    principal: Option<&Principal>,
    customer_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Option<SelectStatement> {
    Some(partner_rights_query(&PartnerActor::of(principal?)?, customer_ids, now))
}

/// The same for any partner user, e.g. the one who sent an invitation, checked again when it
/// is accepted.
pub fn partner_rights_query(actor: &PartnerActor, customer_ids: &[Uuid], now: DateTime<Utc>) -> SelectStatement {
    let mut query = rights_base(actor, now);
    query
        .column((grant::Entity, grant::Column::CustomerId))
        .expr_as(rights_expr(actor.role), sea_orm::sea_query::Alias::new("rights"))
        .and_where(Expr::col((grant::Entity, grant::Column::CustomerId)).is_in(customer_ids.iter().copied()));
    query
}

/// grant rights ∩ assignment (a partner ADMIN needs none) ∩ the role's mask.
fn rights_expr(role: Role) -> Expr {
    let mask = crate::domain::grants::role_mask(role).bits();
    let granted = Expr::col((grant::Entity, grant::Column::Rights));
    if needs_assignment(role) {
        let assigned =
            Func::coalesce([Expr::col((grant_assignment::Entity, grant_assignment::Column::Rights)), Expr::val(0)]);
        granted.bit_and(Expr::expr(assigned)).bit_and(mask)
    } else {
        granted.bit_and(mask)
    }
}

/// The partner's live grants, each with the user's assignment under it (if any).
fn rights_base(actor: &PartnerActor, now: DateTime<Utc>) -> SelectStatement {
    Query::select()
        .from(grant::Entity)
        .left_join(
            grant_assignment::Entity,
            Condition::all()
                .add(
                    Expr::col((grant_assignment::Entity, grant_assignment::Column::GrantId))
                        .equals((grant::Entity, grant::Column::Id)),
                )
                .add(Expr::col((grant_assignment::Entity, grant_assignment::Column::UserId)).eq(actor.user_id)),
        )
        .and_where(Expr::col((grant::Entity, grant::Column::PartnerId)).eq(actor.partner_id))
        .cond_where(live_grant(now))
        .to_owned()
}

/// Whether the principal may learn which customer a grant is on: always, except for the partner
/// while a customer it asked by VAT number or domain has not approved.
pub fn sees_grant_customer(principal: Option<&Principal>, g: &grant::Model) -> bool {
    let partner_side = principal.and_then(|p| p.acting.as_ref()).is_some_and(|m| m.organization_id() == g.partner_id);
    !(g.customer_hidden && partner_side)
}

/// Audit events of `organization_id` a principal may read: staff all of them; a customer's
/// members what was done on their account; a partner's members what their organisation did.
/// Within that, an event is read with the rights of the object it describes (see
/// `audit_events_scope`).
pub fn audit_scope(principal: Option<&Principal>, organization_id: Uuid, now: DateTime<Utc>) -> AppResult<Condition> {
    use entity::audit_event::Column;
    let p = signed_in(principal)?;
    let m = acting(p)?;
    if is_staff(m) {
        return Ok(Condition::any()
            .add(Column::CustomerOrganizationId.eq(organization_id))
            .add(Column::ActingOrganizationId.eq(organization_id)));
    }
    if m.organization_id() != organization_id {
        return Err(AppError::NotFound("Organization"));
    }
    Ok(audit_events_scope(Some(p), now))
}

/// `SELECT id FROM table WHERE scope`: the rows of a table a principal may see, as a subquery.
fn ids_where(
    table: impl sea_orm::sea_query::IntoTableRef,
    id: impl sea_orm::sea_query::IntoColumnRef,
    scope: Condition,
) -> SelectStatement {
    Query::select().column(id).from(table).cond_where(scope).to_owned()
}

/// Every audit event a principal may read. Outside staff, the events of its organisation (done
/// on a customer's account, or done by a partner); an ADMIN reads them all, anyone else what it
/// did itself and the events about objects it may read: a subscription, grant, invoice,
/// invitation or request for more through that object's own scope. So a SALES member does not
/// read invitation e-mails, nor the subscriptions of customers it is not assigned to.
pub fn audit_events_scope(principal: Option<&Principal>, now: DateTime<Utc>) -> Condition {
    use entity::{audit_event::Column, invoice, subscription, subscription_change_request};
    let none = Condition::all().add(Expr::val(false));
    let Some(p) = principal else { return none };
    let Some(m) = p.acting.as_ref() else { return none };
    if is_staff(m) {
        return Condition::all();
    }
    let own = match m.organization_kind {
        OrganizationKind::Customer => Column::CustomerOrganizationId.eq(m.organization_id()),
        _ => Column::ActingOrganizationId.eq(m.organization_id()),
    };
    if m.role == Role::Admin {
        return Condition::all().add(own);
    }
    let about = |target: &str, ids: SelectStatement| {
        Condition::all().add(Column::TargetType.eq(target)).add(Column::TargetId.in_subquery(ids))
    };
    let readable = Condition::any()
        .add(Column::ActorUserId.eq(p.user_id()))
        .add(about(
            "ProductSubscription",
            ids_where(subscription::Entity, subscription::Column::Id, subscriptions_scope(principal, now)),
        ))
        .add(about("Grant", ids_where(grant::Entity, grant::Column::Id, grants_scope(principal))))
        .add(about("Invoice", ids_where(invoice::Entity, invoice::Column::Id, invoices_scope(principal, now))))
        .add(about(
            "Invitation",
            ids_where(entity::invitation::Entity, entity::invitation::Column::Id, invitations_scope(principal, now)),
        ))
        .add(about(
            "SubscriptionChangeRequest",
            ids_where(
                subscription_change_request::Entity,
                subscription_change_request::Column::Id,
                subscription_change_requests_scope(principal, now),
            ),
        ));
    Condition::all().add(own).add(readable)
}

/// Subscriptions a principal sees: staff all; a customer's members their own; a partner user
/// those of customers it may act for, and under a SUBSCRIPTIONS-scoped grant only the listed ones.
pub fn subscriptions_scope(principal: Option<&Principal>, now: DateTime<Utc>) -> Condition {
    use entity::{grant_scope_item, subscription};
    let none = Condition::all().add(Expr::val(false));
    let Some(p) = principal else { return none };
    let Some(m) = p.acting.as_ref() else { return none };
    match m.organization_kind {
        OrganizationKind::Vendor => Condition::all(),
        OrganizationKind::Customer => Condition::all().add(subscription::Column::CustomerId.eq(m.organization_id())),
        OrganizationKind::Distributor => none,
        OrganizationKind::Partner => {
            // Three small sides, each from the partner's own rows: the customers it holds a
            // whole-account grant on, the subscriptions listed under its scoped grants, and what
            // it pays for.
            let mut account = granted_customers(m, p.user_id(), now);
            account.and_where(Expr::col((grant::Entity, grant::Column::Scope)).eq(GrantScope::Account.as_str()));
            let mut sources = vec![joined_to_customers(
                account,
                subscription::Entity,
                subscription::Column::CustomerId,
                subscription::Column::Id,
            )];
            let mut listed = granted_customers(m, p.user_id(), now);
            listed
                .clear_selects()
                .column((subscription::Entity, subscription::Column::Id))
                .inner_join(
                    grant_scope_item::Entity,
                    Expr::col((grant_scope_item::Entity, grant_scope_item::Column::GrantId))
                        .equals((grant::Entity, grant::Column::Id)),
                )
                .inner_join(
                    subscription::Entity,
                    Condition::all()
                        .add(
                            Expr::col((subscription::Entity, subscription::Column::Id))
                                .equals((grant_scope_item::Entity, grant_scope_item::Column::SubscriptionId)),
                        )
                        .add(
                            Expr::col((subscription::Entity, subscription::Column::CustomerId))
                                .equals((grant::Entity, grant::Column::CustomerId)),
                        ),
                );
            sources.push(listed);
            // Whoever pays for a subscription keeps seeing it (read-only, to cancel it or hand
            // its billing over) after the grant that covered it has ended.
            if matches!(m.role, Role::Admin | Role::Billing) {
                sources.push(
                    Query::select()
                        .column((subscription::Entity, subscription::Column::Id))
                        .from(subscription::Entity)
                        .and_where(
                            Expr::col((subscription::Entity, subscription::Column::PartnerId)).eq(m.organization_id()),
                        )
                        .and_where(
                            Expr::col((subscription::Entity, subscription::Column::BilledTo))
                                .eq(BilledTo::Partner.as_str()),
                        )
                        .to_owned(),
                );
            }
            Condition::all().add(subscription::Column::Id.in_subquery(union_of(sources)))
        }
    }
}

/// Requests for more on a subscription: seen with the subscription.
pub fn subscription_change_requests_scope(principal: Option<&Principal>, now: DateTime<Utc>) -> Condition {
    use entity::{subscription, subscription_change_request as request};
    let visible = Query::select()
        .column(subscription::Column::Id)
        .from(subscription::Entity)
        .cond_where(subscriptions_scope(principal, now))
        .to_owned();
    Condition::all().add(request::Column::SubscriptionId.in_subquery(visible))
}

/// Invoices a principal sees: staff all; an organisation's ADMIN and BILLING members those billed
/// to it; a partner user those of customers where a whole-account grant gives them VIEW_BILLING.
pub fn invoices_scope(principal: Option<&Principal>, now: DateTime<Utc>) -> Condition {
    use entity::invoice;
    let none = Condition::all().add(Expr::val(false));
    let Some(p) = principal else { return none };
    let Some(m) = p.acting.as_ref() else { return none };
    if is_staff(m) {
        return Condition::all();
    }
    let mut payers = Vec::new();
    if matches!(m.role, Role::Admin | Role::Billing) {
        payers.push(
            Query::select()
                .column(organization::Column::Id)
                .from(organization::Entity)
                .and_where(organization::Column::Id.eq(m.organization_id()))
                .to_owned(),
        );
    }
    if let Some(mut customers) = customers_with_right(p, Rights::VIEW_BILLING, now) {
        // A grant limited to some subscriptions does not open the customer's whole bill.
        customers.and_where(Expr::col((grant::Entity, grant::Column::Scope)).eq(GrantScope::Account.as_str()));
        payers.push(customers);
    }
    if payers.is_empty() {
        none
    } else {
        Condition::all().add(invoice::Column::BillToOrganizationId.in_subquery(union_of(payers)))
    }
}

/// A partner's internal records (tier history, certifications): for staff and the partner's own
/// members; an SQL constant so it combines with the list's other conditions.
pub fn partner_internals_scope(principal: Option<&Principal>, partner_id: Uuid) -> Condition {
    Condition::all().add(Expr::val(sees_partner_internals(principal, partner_id)))
}

/// Notifications a principal reads: those of the organisation it acts as, addressed to all of it
/// (of the kinds its role reads, see `NotificationKind::audience`) or to the principal, and those
/// addressed to the principal personally.
pub fn notifications_scope(principal: &Principal) -> Condition {
    use entity::notification::Column;
    let notifications = |which: Condition| {
        Query::select().column(Column::Id).from(entity::notification::Entity).cond_where(which).to_owned()
    };
    let personal = Condition::all().add(Column::OrganizationId.is_null()).add(Column::UserId.eq(principal.user_id()));
    let mut sources = vec![notifications(personal)];
    if let Some(m) = principal.acting.as_ref() {
        let kinds: Vec<&str> =
            NotificationKind::read_by_role(m.role).into_iter().map(NotificationKind::as_str).collect();
        sources.push(notifications(
            Condition::all().add(Column::OrganizationId.eq(m.organization_id())).add(
                Condition::any()
                    .add(Column::UserId.eq(principal.user_id()))
                    .add(Condition::all().add(Column::UserId.is_null()).add(Column::Kind.is_in(kinds))),
            ),
        ));
    }
    Condition::all().add(Column::Id.in_subquery(union_of(sources)))
}

/// The boolean form of `partner_internals_scope`, for fields of an object already loaded.
pub fn sees_partner_internals(principal: Option<&Principal>, partner_id: Uuid) -> bool {
    principal.and_then(|p| p.acting.as_ref()).is_some_and(|m| is_staff(m) || m.organization_id() == partner_id)
}

/// Applications: staff see all; anyone else only those they submitted.
pub fn applications_scope(principal: Option<&Principal>) -> Condition {
    match principal {
        Some(p) if p.acting.as_ref().is_some_and(is_staff) => Condition::all(),
        Some(p) => Condition::all().add(entity::application::Column::ApplicantUserId.eq(p.user_id())),
        None => Condition::all().add(Expr::val(false)),
    }
}

/// Domains: seen with their organisation.
pub fn domains_scope(principal: Option<&Principal>, now: DateTime<Utc>) -> Condition {
    let organizations = Query::select()
        .column(organization::Column::Id)
        .from(organization::Entity)
        .cond_where(organizations_scope(principal, now))
        .to_owned();
    Condition::all().add(entity::domain::Column::OrganizationId.in_subquery(organizations))
}

/// Welcome gifts: staff see all; a partner's members those of their own partnerships.
pub fn welcome_gifts_scope(principal: Option<&Principal>) -> Condition {
    use entity::{partnership, welcome_gift};
    match principal.and_then(|p| p.acting.as_ref()) {
        Some(m) if is_staff(m) => Condition::all(),
        Some(m) if m.organization_kind == OrganizationKind::Partner => Condition::all().add(
            welcome_gift::Column::PartnershipId.in_subquery(
                Query::select()
                    .column(partnership::Column::Id)
                    .from(partnership::Entity)
                    .and_where(partnership::Column::OrganizationId.eq(m.organization_id()))
                    .to_owned(),
            ),
        ),
        _ => Condition::all().add(Expr::val(false)),
    }
}

/// The tier review queue is for the staff who confirm tier changes.
pub fn tier_review_queue_scope(principal: Option<&Principal>) -> Condition {
    Condition::all().add(Expr::val(reviews_partners(principal)))
}

/// Staff who confirm tier changes and review questionnaires (ADMIN or CHANNEL_MANAGER).
fn reviews_partners(principal: Option<&Principal>) -> bool {
    principal
        .and_then(|p| p.acting.as_ref())
        .is_some_and(|m| is_staff(m) && matches!(m.role, Role::Admin | Role::ChannelManager))
}

/// Tier proposals, open and decided (the tier history): staff who review partners see all; a
/// partner's members their own.
pub fn tier_proposals_scope(principal: Option<&Principal>) -> Condition {
    use entity::tier_proposal::Column;
    match principal.and_then(|p| p.acting.as_ref()) {
        Some(m) if is_staff(m) => Condition::all().add(Expr::val(reviews_partners(principal))),
        Some(m) if m.organization_kind == OrganizationKind::Partner => {
            Condition::all().add(Column::OrganizationId.eq(m.organization_id()))
        }
        _ => Condition::all().add(Expr::val(false)),
    }
}

/// Questionnaire answers: staff see all; a partner's members their own.
pub fn questionnaire_answers_scope(principal: Option<&Principal>) -> Condition {
    use entity::questionnaire_answer::Column;
    match principal.and_then(|p| p.acting.as_ref()) {
        Some(m) if is_staff(m) => Condition::all(),
        Some(m) if m.organization_kind == OrganizationKind::Partner => {
            Condition::all().add(Column::OrganizationId.eq(m.organization_id()))
        }
        _ => Condition::all().add(Expr::val(false)),
    }
}

/// Success stories: staff see all; a partner's members their own.
pub fn success_stories_scope(principal: Option<&Principal>) -> Condition {
    match principal.and_then(|p| p.acting.as_ref()) {
        Some(m) if is_staff(m) => Condition::all(),
        Some(m) if m.organization_kind == OrganizationKind::Partner => {
            Condition::all().add(entity::success_story::Column::PartnerId.eq(m.organization_id()))
        }
        _ => Condition::all().add(Expr::val(false)),
    }
}

/// Plans and their prices: for everyone signed in (products themselves are public, as
/// programmes show them as welcome gifts).
pub fn catalog_scope(principal: Option<&Principal>) -> Condition {
    Condition::all().add(Expr::val(principal.is_some()))
}

/// Exam results: staff see all; a person their own; a partner's members those of the people who
/// belong to their partner (certifications count for its tier).
pub fn exam_results_scope(principal: Option<&Principal>) -> Condition {
    use entity::exam_result::Column;
    let Some(p) = principal else { return Condition::all().add(Expr::val(false)) };
    let mut people = vec![itself(p.user_id())];
    match p.acting.as_ref() {
        Some(m) if is_staff(m) => return Condition::all(),
        Some(m) if m.organization_kind == OrganizationKind::Partner => {
            people.push(members_of(membership::Column::OrganizationId.eq(m.organization_id())))
        }
        _ => {}
    }
    Condition::all().add(Column::UserId.in_subquery(union_of(people)))
}

/// A partner's tier history: staff and the partner's own members.
pub fn tier_changes_scope(principal: Option<&Principal>) -> Condition {
    use entity::tier_change::Column;
    match principal.and_then(|p| p.acting.as_ref()) {
        Some(m) if is_staff(m) => Condition::all(),
        Some(m) if m.organization_kind == OrganizationKind::Partner => {
            Condition::all().add(Column::OrganizationId.eq(m.organization_id()))
        }
        _ => Condition::all().add(Expr::val(false)),
    }
}

/// Who a grant is assigned to: seen with the grant.
pub fn grant_assignments_scope(principal: Option<&Principal>) -> Condition {
    let grants =
        Query::select().column(grant::Column::Id).from(grant::Entity).cond_where(grants_scope(principal)).to_owned();
    Condition::all().add(entity::grant_assignment::Column::GrantId.in_subquery(grants))
}

/// A subscription's history: seen with the subscription.
pub fn subscription_changes_scope(principal: Option<&Principal>, now: DateTime<Utc>) -> Condition {
    let subscriptions = Query::select()
        .column(entity::subscription::Column::Id)
        .from(entity::subscription::Entity)
        .cond_where(subscriptions_scope(principal, now))
        .to_owned();
    Condition::all().add(entity::subscription_change::Column::SubscriptionId.in_subquery(subscriptions))
}

/// Programmes, tiers and the product catalog are public: the directory, applications and
/// tender posts need them without sign-in.
pub fn programs_scope(_principal: Option<&Principal>) -> Condition {
    Condition::all()
}

/// Approved distributors a principal sees: staff the whole list, taken-off ones included; any
/// other signed-in user the active ones (a partner names one in a claim). Visitors none.
pub fn distributors_scope(principal: Option<&Principal>) -> Condition {
    use entity::distributor_approval;
    let Some(p) = principal else { return Condition::all().add(Expr::val(false)) };
    if p.acting.as_ref().is_some_and(is_staff) {
        return Condition::all();
    }
    Condition::all().add(distributor_approval::Column::Active.eq(true))
}

/// Rebate claims a principal sees: staff all; a partner's members the partner's own; the named
/// distributor's members the claims naming it (read-only, and without amounts:
/// `sees_claim_amounts`). Nobody else: never a rival partner, never another distributor.
pub fn rebate_claims_scope(principal: Option<&Principal>) -> Condition {
    use entity::rebate_claim;
    let none = Condition::all().add(Expr::val(false));
    let Some(m) = principal.and_then(|p| p.acting.as_ref()) else { return none };
    match m.organization_kind {
        OrganizationKind::Vendor => Condition::all(),
        OrganizationKind::Partner => Condition::all().add(rebate_claim::Column::PartnerId.eq(m.organization_id())),
        OrganizationKind::Distributor => {
            Condition::all().add(rebate_claim::Column::DistributorId.eq(m.organization_id()))
        }
        OrganizationKind::Customer => none,
    }
}

/// The tenders a principal reads: staff every published one; a customer its own; a partner the
/// open ones it is entitled to (`tenders_open_to`) and those it already took part in. Never the
/// public, and never an unconfirmed tender to anyone but its author's organisation.
pub fn tenders_scope(principal: Option<&Principal>, now: DateTime<Utc>) -> Condition {
    use entity::{tender, tender_interest, tender_response};
    let none = Condition::all().add(Expr::val(false));
    let Some(m) = principal.and_then(|p| p.acting.as_ref()) else { return none };
    let published = tender::Column::Status.ne(entity::enums::TenderStatus::Unconfirmed);
    match m.organization_kind {
        OrganizationKind::Vendor => Condition::all().add(published),
        OrganizationKind::Customer => {
            Condition::all().add(tender::Column::AuthorOrganizationId.eq(m.organization_id()))
        }
        OrganizationKind::Partner => {
            let partner = m.organization_id();
            let took_part = |table: SelectStatement| Expr::exists(table);
            let interest = Query::select()
                .expr(Expr::val(1))
                .from(tender_interest::Entity)
                .and_where(
                    Expr::col((tender_interest::Entity, tender_interest::Column::TenderId))
                        .equals((tender::Entity, tender::Column::Id)),
                )
                .and_where(Expr::col((tender_interest::Entity, tender_interest::Column::PartnerId)).eq(partner))
                .to_owned();
            let response = Query::select()
                .expr(Expr::val(1))
                .from(tender_response::Entity)
                .and_where(
                    Expr::col((tender_response::Entity, tender_response::Column::TenderId))
                        .equals((tender::Entity, tender::Column::Id)),
                )
                .and_where(Expr::col((tender_response::Entity, tender_response::Column::PartnerId)).eq(partner))
                .to_owned();
            Condition::all().add(published).add(
                Condition::any().add(tenders_open_to(partner, now)).add(took_part(interest)).add(took_part(response)),
            )
        }
        OrganizationKind::Distributor => none,
    }
}

/// The tenders a partner is entitled to now: OPEN before the deadline (the same check as the
/// closing job, so a tender is closed on every request the moment its deadline passes), to a
/// partner with a partnership, whose country is in the tender's region and whose profile lists
/// one of its expertise, for each restriction the author set. Constant subqueries on the
/// partner's side are evaluated once; the tender's tags by their primary key.
pub fn tenders_open_to(partner_id: Uuid, now: DateTime<Utc>) -> Condition {
    use entity::{
        enums::{ProfileTagKind, TenderStatus, TenderTagKind},
        partner_profile_tag, partnership, tender, tender_tag,
    };
    let tags = |kind: TenderTagKind| {
        Query::select()
            .expr(Expr::val(1))
            .from(tender_tag::Entity)
            .and_where(
                Expr::col((tender_tag::Entity, tender_tag::Column::TenderId))
                    .equals((tender::Entity, tender::Column::Id)),
            )
            .and_where(Expr::col((tender_tag::Entity, tender_tag::Column::Kind)).eq(kind.as_str()))
            .to_owned()
    };
    let active = Query::select()
        .expr(Expr::val(1))
        .from(partnership::Entity)
        .and_where(Expr::col((partnership::Entity, partnership::Column::OrganizationId)).eq(partner_id))
        .to_owned();
    let country = Query::select()
        .column(organization::Column::Country)
        .from(organization::Entity)
        .and_where(Expr::col((organization::Entity, organization::Column::Id)).eq(partner_id))
        .to_owned();
    let expertise = Query::select()
        .column(partner_profile_tag::Column::Value)
        .from(partner_profile_tag::Entity)
        .and_where(Expr::col((partner_profile_tag::Entity, partner_profile_tag::Column::OrganizationId)).eq(partner_id))
        .and_where(
            Expr::col((partner_profile_tag::Entity, partner_profile_tag::Column::Kind))
                .eq(ProfileTagKind::Expertise.as_str()),
        )
        .to_owned();
    let in_region = tags(TenderTagKind::Region)
        .and_where(Expr::col((tender_tag::Entity, tender_tag::Column::Value)).in_subquery(country))
        .to_owned();
    let in_expertise = tags(TenderTagKind::Expertise)
        .and_where(Expr::col((tender_tag::Entity, tender_tag::Column::Value)).in_subquery(expertise))
        .to_owned();
    Condition::all()
        .add(tender::Column::Status.eq(TenderStatus::Open))
        .add(tender::Column::Deadline.gt(now))
        .add(Expr::exists(active))
        .add(Condition::any().add(Expr::exists(tags(TenderTagKind::Region)).not()).add(Expr::exists(in_region)))
        .add(Condition::any().add(Expr::exists(tags(TenderTagKind::Expertise)).not()).add(Expr::exists(in_expertise)))
}

/// Whether the principal reads a tender's responses and its award as the author does: the
/// organisation that posted it, or staff. (A partner reads only its own response.)
pub fn reads_tender_as_author(principal: Option<&Principal>, tender: &entity::tender::Model) -> bool {
    principal
        .and_then(|p| p.acting.as_ref())
        .is_some_and(|m| is_staff(m) || tender.author_organization_id == Some(m.organization_id()))
}

/// Whether the principal sees who posted a tender and how to reach them: the author's side, or a
/// partner whose organisation expressed interest (`interested`).
pub fn reads_tender_author(principal: Option<&Principal>, tender: &entity::tender::Model, interested: bool) -> bool {
    let Some(m) = principal.and_then(|p| p.acting.as_ref()) else { return false };
    reads_tender_as_author(principal, tender) || (m.organization_kind == OrganizationKind::Partner && interested)
}

/// Responses to tenders a principal reads: a partner its own, a customer those to its tenders,
/// staff all.
pub fn tender_responses_scope(principal: Option<&Principal>) -> Condition {
    use entity::{tender, tender_response};
    let none = Condition::all().add(Expr::val(false));
    let Some(m) = principal.and_then(|p| p.acting.as_ref()) else { return none };
    match m.organization_kind {
        OrganizationKind::Vendor => Condition::all(),
        OrganizationKind::Partner => Condition::all().add(tender_response::Column::PartnerId.eq(m.organization_id())),
        OrganizationKind::Customer => Condition::all().add(
            tender_response::Column::TenderId.in_subquery(
                Query::select()
                    .column(tender::Column::Id)
                    .from(tender::Entity)
                    .and_where(
                        Expr::col((tender::Entity, tender::Column::AuthorOrganizationId)).eq(m.organization_id()),
                    )
                    .to_owned(),
            ),
        ),
        OrganizationKind::Distributor => none,
    }
}

/// Stored files a principal may read: those of claims it sees.
pub fn stored_files_scope(principal: Option<&Principal>) -> Condition {
    use entity::{rebate_claim, stored_file};
    Condition::all().add(
        stored_file::Column::Id.in_subquery(
            Query::select()
                .column(rebate_claim::Column::FileId)
                .from(rebate_claim::Entity)
                .cond_where(rebate_claims_scope(principal))
                .to_owned(),
        ),
    )
}

/// Webhook endpoints: those of the organisation a partner's or customer's ADMIN acts as.
pub fn webhook_endpoints_scope(principal: Option<&Principal>) -> Condition {
    use entity::webhook_endpoint::Column;
    match principal.and_then(|p| p.acting.as_ref()) {
        Some(m)
            if m.role == Role::Admin
                && matches!(m.organization_kind, OrganizationKind::Partner | OrganizationKind::Customer) =>
        {
            Condition::all().add(Column::OrganizationId.eq(m.organization_id()))
        }
        _ => Condition::all().add(Expr::val(false)),
    }
}

/// Deliveries: a staff ADMIN sees every one (the dead-letter queue); an endpoint's owner sees
/// the webhook deliveries of its endpoints. E-mails to people are nobody else's business.
pub fn deliveries_scope(principal: Option<&Principal>) -> Condition {
    use entity::{delivery, webhook_endpoint};
    match principal.and_then(|p| p.acting.as_ref()) {
        Some(m) if is_staff(m) && m.role == Role::Admin => Condition::all(),
        _ => Condition::all().add(
            delivery::Column::EndpointId.in_subquery(
                Query::select()
                    .column(webhook_endpoint::Column::Id)
                    .from(webhook_endpoint::Entity)
                    .cond_where(webhook_endpoints_scope(principal))
                    .to_owned(),
            ),
        ),
    }
}

/// Whether the principal reads a claim's rebate amounts: staff and the claiming partner, not
/// the distributor.
pub fn sees_claim_amounts(principal: Option<&Principal>, claim: &entity::rebate_claim::Model) -> bool {
    principal.and_then(|p| p.acting.as_ref()).is_some_and(|m| {
        is_staff(m) || (m.organization_kind == OrganizationKind::Partner && m.organization_id() == claim.partner_id)
    })
}

/// Deals a principal sees: staff all; a partner's ADMIN all of the partner's, its SALES users
/// those they registered; the named distributor's members (read-only). Nobody else.
pub fn deals_scope(principal: Option<&Principal>) -> Condition {
    use entity::deal;
    let none = Condition::all().add(Expr::val(false));
    let Some(p) = principal else { return none };
    let Some(m) = p.acting.as_ref() else { return none };
    match m.organization_kind {
        OrganizationKind::Vendor => Condition::all(),
        OrganizationKind::Partner if m.role == Role::Admin => {
            Condition::all().add(deal::Column::PartnerId.eq(m.organization_id()))
        }
        OrganizationKind::Partner if m.role == Role::Sales => Condition::all()
            .add(deal::Column::PartnerId.eq(m.organization_id()))
            .add(deal::Column::CreatedByUserId.eq(p.user_id())),
        OrganizationKind::Distributor => Condition::all().add(deal::Column::DistributorId.eq(m.organization_id())),
        _ => none,
    }
}

/// The partner whose money the principal reads (its ADMIN or BILLING), or every partner's
/// (staff); None for anyone else.
pub enum LedgerReader {
    Staff,
    Partner(Uuid),
}

pub fn ledger_reader(principal: Option<&Principal>) -> Option<LedgerReader> {
    let m = principal?.acting.as_ref()?;
    if is_staff(m) {
        Some(LedgerReader::Staff)
    } else if m.organization_kind == OrganizationKind::Partner && matches!(m.role, Role::Admin | Role::Billing) {
        Some(LedgerReader::Partner(m.organization_id()))
    } else {
        None
    }
}

/// Whether the principal reads this partner's money: staff, or the partner's own ADMIN or BILLING.
pub fn reads_ledger_of(principal: Option<&Principal>, partner_id: Uuid) -> bool {
    match ledger_reader(principal) {
        Some(LedgerReader::Staff) => true,
        Some(LedgerReader::Partner(id)) => id == partner_id,
        None => false,
    }
}

/// Ledger entries (and payout statements, by their `partner_id` column) a principal reads: staff
/// all, a partner's ADMIN and BILLING the partner's own. Nobody else: not its SALES, never
/// another partner, never the customer an entry was earned on.
pub fn ledger_scope(
    principal: Option<&Principal>,
    partner_column: impl sea_orm::sea_query::IntoColumnRef,
) -> Condition {
    match ledger_reader(principal) {
        Some(LedgerReader::Staff) => Condition::all(),
        Some(LedgerReader::Partner(id)) => Condition::all().add(Expr::col(partner_column).eq(id)),
        None => Condition::all().add(Expr::val(false)),
    }
}

/// Partner-of-record claims a principal sees: staff all; a partner's members its own claims;
/// a customer's members the claims on it. A rival partner sees none of them.
pub fn record_claims_scope(principal: Option<&Principal>) -> Condition {
    use entity::partner_of_record_claim as claim;
    let none = Condition::all().add(Expr::val(false));
    let Some(m) = principal.and_then(|p| p.acting.as_ref()) else { return none };
    match m.organization_kind {
        OrganizationKind::Vendor => Condition::all(),
        OrganizationKind::Partner => Condition::all().add(claim::Column::PartnerId.eq(m.organization_id())),
        OrganizationKind::Customer => Condition::all().add(claim::Column::CustomerId.eq(m.organization_id())),
        OrganizationKind::Distributor => none,
    }
}

/// Payout batches a principal sees: staff all; a partner's ADMIN and BILLING those that paid it.
pub fn payout_batches_scope(principal: Option<&Principal>) -> Condition {
    use entity::{payout_batch, payout_statement};
    match ledger_reader(principal) {
        Some(LedgerReader::Staff) => Condition::all(),
        Some(LedgerReader::Partner(id)) => Condition::all().add(
            payout_batch::Column::Id.in_subquery(
                Query::select()
                    .column(payout_statement::Column::BatchId)
                    .from(payout_statement::Entity)
                    .and_where(payout_statement::Column::PartnerId.eq(id))
                    .to_owned(),
            ),
        ),
        None => Condition::all().add(Expr::val(false)),
    }
}

/// Whether the principal reviews deals (staff ADMIN or CHANNEL_MANAGER): their lists are queues.
pub fn can_review_deals(principal: Option<&Principal>) -> bool {
    principal.is_some_and(|p| can(p, Action::ReviewDeals).is_ok())
}

/// Whether the principal reads a deal as its partner or staff (contacts and the discount), not
/// as the distributor.
pub fn sees_deal_details(principal: Option<&Principal>, deal: &entity::deal::Model) -> bool {
    principal.and_then(|p| p.acting.as_ref()).is_some_and(|m| {
        is_staff(m) || (m.organization_kind == OrganizationKind::Partner && m.organization_id() == deal.partner_id)
    })
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    use super::*;
    use crate::principal::AuthMethod;

    fn principal(role: Role) -> Principal {
        let now = Utc::now();
        let user = entity::user::Model {
            id: Uuid::now_v7(),
            kind: UserKind::Person,
            oidc_issuer: None,
            oidc_subject: None,
            email: None,
            email_verified: false,
            display_name: "x".into(),
            created_at: now,
            language: None,
            notifications_read_at: None,
        };
        let m = MembershipContext {
            membership: entity::membership::Model {
                id: Uuid::now_v7(),
                user_id: user.id,
                organization_id: Uuid::now_v7(),
                role,
                created_at: now,
                invited_by_organization_id: None,
                invited_by_user_id: None,
            },
            organization_kind: OrganizationKind::Partner,
            role,
        };
        Principal { user, method: AuthMethod::Session, memberships: vec![m.clone()], acting: Some(m) }
    }

    /// Both backends get real placeholders and every value bound (custom SQL once lost them).
    #[test]
    fn viewer_rights_binds_every_value_on_both_backends() {
        for role in [Role::Admin, Role::Sales] {
            let q = viewer_rights_query(Some(&principal(role)), &[Uuid::now_v7()], Utc::now()).unwrap();
            let (pg, pg_values) = q.build(PostgresQueryBuilder);
            let (lite, lite_values) = q.build(SqliteQueryBuilder);
            assert!(!pg.contains('?'), "{pg}");
            assert!(pg.contains('&') && lite.contains('&'));
            assert_eq!(pg_values.0.len(), lite_values.0.len());
            assert_eq!(pg.matches('$').count(), pg_values.0.len(), "{pg}");
        }
    }
}
