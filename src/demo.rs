//! `partnerhub demo`: a fresh database with a vendor, its staff, partners at different tiers,
//! customers, grants between them, and one API token per demo user.
//!
//! Organisations, programmes, tiers, courses, exam results, stories, applications and tokens go
//! through the same services as the API; people, grants and subscriptions are written directly.
// The demo seeds a fresh database as the system, not as a principal.
#![allow(clippy::disallowed_methods)]

use crate::principal::Principal;
use chrono::TimeDelta;
use entity::{grant, grant_assignment, grant_scope_item, organization, user};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    domain::{
        BilledTo, BillingPeriod, CourseKind, GrantScope, GrantSide, GrantStatus, OrganizationKind, ProgramKind, Rights,
        Role, UserKind,
        tiers::{Benefits, CertificationRequirement, Requirements},
    },
    error::AppResult,
    service::identity,
    service::{
        Ctx, applications, billing, bootstrap, catalog, change_requests, courses, domains, invitations, organizations,
        people, programs, stories, subscriptions, tokens,
    },
};

/// One demo user and the token that signs them in.
pub struct DemoUser {
    pub display_name: String,
    pub email: String,
    pub organization: String,
    pub role: String,
    pub token: String,
}

pub struct Demo {
    pub users: Vec<DemoUser>,
    /// A pending invitation (to Alpine, as SALES) and its token, to try `acceptInvitation`
    /// after signing in through SSO as that address.
    pub invitation: (String, String),
    /// partner, customer, status, rights, scope
    pub grants: Vec<(String, String, String, Vec<&'static str>, String)>,
    /// What a duplicate rebate claim was told (Baltic claiming Alpine's invoice again).
    pub duplicate_refusal: String,
    /// The private key of the visitor's confirmed tender (its page lists the responses).
    pub tender_manage_key: String,
    /// A partner in its grace period: its name, tier and the day the grace period ends.
    pub grace: Option<(String, String, String)>,
    /// Alpine's (Gold) invoice carrying the yearly programme fee: its number and total.
    pub fee_invoice: Option<(String, String)>,
}

struct Seeder<'a> {
    ctx: &'a Ctx,
    users: Vec<DemoUser>,
}

impl Seeder<'_> {
    async fn person(
        &mut self,
        org: &organization::Model,
        name: &str,
        email: &str,
        role: Role,
    ) -> AppResult<user::Model> {
        let now = self.ctx.now();
        let person = people::insert_user(
            &self.ctx.db,
            people::NewUser { kind: UserKind::Person, display_name: name, email: Some(email), email_verified: true },
            now,
        )
        .await?;
        self.member(&person, org, role).await?;
        let (_, token) = tokens::issue(&self.ctx.db, person.id, "demo".into(), None, now).await?;
        self.users.push(DemoUser {
            display_name: name.into(),
            email: email.into(),
            organization: org.name.clone(),
            role: role.as_str().into(),
            token,
        });
        Ok(person)
    }

    async fn member(&self, person: &user::Model, org: &organization::Model, role: Role) -> AppResult<()> {
        people::insert_membership(&self.ctx.db, person.id, org.id, role, people::Invited::default(), self.ctx.now())
            .await?;
        Ok(())
    }
}

/// An active (or other-status) whole-account grant, written directly: the demo's and the
/// tests' shortcut past the request and answer.
pub async fn grant(
    ctx: &Ctx,
    partner: &organization::Model,
    customer: &organization::Model,
    status: GrantStatus,
    rights: Rights,
) -> AppResult<grant::Model> {
    let now = ctx.now();
    Ok(grant::ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(partner.id),
        customer_id: Set(customer.id),
        status: Set(status),
        rights: Set(rights.bits()),
        scope: Set(GrantScope::Account),
        requested_by: Set(GrantSide::Partner),
        starts_at: Set(now),
        ends_at: Set(now + TimeDelta::days(365)),
        auto_extend: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        duration_days: Set(365),
        message: Set(None),
        requested_by_user_id: Set(None),
        auto_extended_at: Set(None),
        expiry_warned_at: Set(None),
        customer_hidden: Set(false),
    }
    .insert(&ctx.db)
    .await?)
}

pub async fn seed(ctx: &Ctx) -> AppResult<Demo> {
    let now = ctx.now();
    let boot = bootstrap::bootstrap(ctx, "Northwind Telecom", "vera.admin@northwind.example", Some("DE")).await?;
    let mut seeder = Seeder { ctx, users: Vec::new() };
    seeder.users.push(DemoUser {
        display_name: boot.admin.display_name.clone(),
        email: "vera.admin@northwind.example".into(),
        organization: boot.organization.name.clone(),
        role: Role::Admin.as_str().into(),
        token: boot.token.clone(),
    });
    let vendor = boot.organization;
    seeder.person(&vendor, "Carl Channel", "carl.channel@northwind.example", Role::ChannelManager).await?;
    seeder.person(&vendor, "Fiona Finance", "fiona.finance@northwind.example", Role::Finance).await?;

    let staff = identity::authenticate_token(&ctx.db, &boot.token, None, now).await?;
    let create =
        |kind, name: &str, country: &str, domain: Option<&str>, vat: Option<&str>| organizations::NewOrganization {
            referral_code: None,
            kind: Some(kind),
            name: name.into(),
            country: country.into(),
            domain: domain.map(Into::into),
            vat_number: vat.map(Into::into),
            website: domain.map(|d| format!("https://www.{d}")),
            registration_number: None,
        };

    let (program, _) = programs::create_program(
        ctx,
        Some(&staff),
        programs::NewProgram {
            name: "Northwind Reseller Programme".into(),
            kind: ProgramKind::Reseller,
            currency: "EUR".into(),
            terms: "Northwind reseller terms, 2026 edition: resell Northwind products under your own contracts.".into(),
            exclusivity_group: Some("northwind-partners".into()),
            min_yearly_amount: Some((Decimal::new(1800, 0), "EUR".into())),
            requires_registration_number: true,
            requires_website: true,
            deal_protection_days: Some(90),
            deal_max_discount_percent: Some(Decimal::new(15, 0)),
            payouts: programs::PayoutTerms {
                min_payout: Some((Decimal::new(20, 0), "EUR".into())),
                ..Default::default()
            },
            directory_lists_all: false,
            yearly_fee: None,
            downgrade_grace_months: None,
        },
    )
    .await?;
    // A second version: applicants must accept version 2, the first stays on record.
    programs::publish_terms(
        ctx,
        Some(&staff),
        program.id,
        "Northwind reseller terms, 2026 edition, revision 2: adds the welcome gift and yearly reviews.",
    )
    .await?;
    let (referral, _) = programs::create_program(
        ctx,
        Some(&staff),
        programs::NewProgram {
            name: "Northwind Referral Programme".into(),
            kind: ProgramKind::Referral,
            currency: "EUR".into(),
            terms: "Northwind referral terms: recommend Northwind and earn a commission on each closed deal.".into(),
            exclusivity_group: Some("northwind-partners".into()),
            min_yearly_amount: None,
            requires_registration_number: false,
            requires_website: false,
            deal_protection_days: None,
            deal_max_discount_percent: None,
            payouts: programs::PayoutTerms {
                reversal_window_days: Some(14),
                payout_interval_months: Some(1),
                ..Default::default()
            },
            directory_lists_all: false,
            yearly_fee: None,
            downgrade_grace_months: None,
        },
    )
    .await?;
    // The catalog comes before the tiers (they name their welcome gifts from it), after the
    // programmes (plans are priced in a programme's currency).
    let mut products = Vec::new();
    let mut plans = Vec::new();
    let eur = |cents: i64| Decimal::new(cents, 2);
    for (sku, name, line, offers) in [
        (
            "D785",
            "D785 Desk Phone",
            "D7xx",
            vec![
                ("D785-M", "D785, monthly", 1, eur(890), vec![(25, eur(790)), (100, eur(690))]),
                ("D785-PLUS-M", "D785 with premium support, monthly", 2, eur(1190), vec![(25, eur(1050))]),
            ],
        ),
        (
            "D385",
            "D385 Desk Phone",
            "D3xx",
            vec![
                ("D385-M", "D385, monthly", 1, eur(490), vec![(25, eur(440))]),
                ("D385-PLUS-M", "D385 with premium support, monthly", 2, eur(690), vec![]),
            ],
        ),
        (
            "CPBX",
            "Cloud PBX",
            "CLOUD",
            vec![
                ("CPBX-STD-M", "Cloud PBX Standard, monthly", 1, eur(550), vec![(25, eur(490)), (100, eur(420))]),
                ("CPBX-PRO-M", "Cloud PBX Pro, monthly", 2, eur(750), vec![(25, eur(690))]),
            ],
        ),
    ] {
        let new = catalog::NewProduct { sku: sku.into(), name: name.into(), product_line: line.into() };
        let product = catalog::create_product(ctx, Some(&staff), new).await?;
        let mut own = Vec::new();
        for (code, plan_name, rank, price, bands) in offers {
            let new = catalog::NewPlan {
                product_id: product.id,
                code: code.into(),
                name: plan_name.into(),
                billing_period: BillingPeriod::Monthly,
                unit_price: price,
                currency: "EUR".into(),
                rank,
                bands: bands
                    .into_iter()
                    .map(|(min_seats, unit_price)| catalog::Band { min_seats, unit_price, currency: "EUR".into() })
                    .collect(),
            };
            own.push(catalog::create_plan(ctx, Some(&staff), new).await?);
        }
        plans.push(own);
        products.push(product);
    }

    let referrer = programs::create_tier(
        ctx,
        Some(&staff),
        referral.id,
        programs::TierFields {
            name: Some("Referrer".into()),
            rank: Some(1),
            requirements: None,
            volume_currency: None,
            benefits: None,
        },
    )
    .await?;
    let certified = |exams, distinct_people| CertificationRequirement {
        exams,
        distinct_people,
        within_months_of_joining: Some(12),
    };
    let ladder = [
        (
            1,
            "Registered",
            Requirements::default(),
            Benefits { discount_percent: Decimal::new(5, 0), ..Default::default() },
        ),
        (
            2,
            "Silver",
            Requirements {
                basic_training: true,
                certifications: Some(certified(1, 1)),
                yearly_purchase_volume: Some(Decimal::new(10_000, 0)),
                success_stories: Some(1),
                yearly_fee: false,
            },
            Benefits {
                discount_percent: Decimal::new(15, 0),
                rebate_eligible: true,
                directory_listing: true,
                welcome_gift_products: vec![products[1].id],
                ..Default::default()
            },
        ),
        (
            3,
            "Gold",
            Requirements {
                basic_training: true,
                certifications: Some(certified(3, 2)),
                yearly_purchase_volume: Some(Decimal::new(50_000, 0)),
                success_stories: Some(2),
                yearly_fee: true,
            },
            Benefits {
                discount_percent: Decimal::new(25, 0),
                rebate_eligible: true,
                directory_listing: true,
                dedicated_channel_manager: true,
                event_invitations: true,
                welcome_gift_products: vec![products[0].id, products[1].id],
            },
        ),
    ];
    let mut tiers = Vec::new();
    for (rank, name, requirements, benefits) in ladder {
        let fields = programs::TierFields {
            name: Some(name.into()),
            rank: Some(rank),
            requirements: Some(requirements),
            volume_currency: Some("EUR".into()),
            benefits: Some(benefits),
        };
        tiers.push(programs::create_tier(ctx, Some(&staff), program.id, fields).await?);
    }
    for (code, title, kind, fee) in [
        ("BASIC", "Northwind basics (online)", CourseKind::Online, Decimal::ZERO),
        ("NW-CERT", "Northwind Certified Engineer", CourseKind::Certifying, Decimal::new(299, 0)),
    ] {
        let course = courses::NewCourse { code: code.into(), title: title.into(), kind, fee, currency: "EUR".into() };
        courses::create(ctx, Some(&staff), course).await?;
    }

    let mut partners = Vec::new();
    for (name, country, domain, vat, tier_index) in [
        ("Alpine Voice AG", "CH", "alpinevoice.example", "CHE123456789", 2),
        ("Baltic Cloud SIA", "LV", "balticcloud.example", "LV40003123456", 1),
        ("Celtic Comms Ltd", "IE", "celticcomms.example", "IE1234567T", 0),
    ] {
        let org = organizations::create(
            ctx,
            Some(&staff),
            create(OrganizationKind::Partner, name, country, Some(domain), Some(vat)),
            None,
        )
        .await?;
        if let Some(t) = tiers.get(tier_index) {
            programs::change_partner_tier(ctx, Some(&staff), org.id, t.id, Some("founding partner")).await?;
        }
        partners.push(org);
    }
    let [alpine, baltic, celtic] = [&partners[0], &partners[1], &partners[2]];
    seeder.person(alpine, "Anna Alpine", "anna@alpinevoice.example", Role::Admin).await?;
    let sam = seeder.person(alpine, "Sam Sales", "sam@alpinevoice.example", Role::Sales).await?;
    seeder.person(baltic, "Bruno Baltic", "bruno@balticcloud.example", Role::Admin).await?;
    seeder.person(celtic, "Cara Celtic", "cara@celticcomms.example", Role::Admin).await?;
    // A consultant working for two partners: requests pick one with X-Partnerhub-Organization.
    let consultant = seeder.person(alpine, "Chris Consultant", "chris@consulting.example", Role::Technical).await?;
    seeder.member(&consultant, baltic, Role::Technical).await?;
    if let Some(last) = seeder.users.last_mut() {
        last.organization = format!("{} + {}", alpine.name, baltic.name);
    }

    let distributor = organizations::create(
        ctx,
        Some(&staff),
        create(
            OrganizationKind::Distributor,
            "Danube Distribution GmbH",
            "AT",
            Some("danube-distribution.example"),
            None,
        ),
        None,
    )
    .await?;
    seeder.person(&distributor, "Dora Distributor", "dora@danube-distribution.example", Role::Admin).await?;

    let mut customers = Vec::new();
    for (name, country, domain, person, email) in [
        ("Edelweiss Dental", "CH", "edelweiss-dental.example", "Erika Edelweiss", "erika@edelweiss-dental.example"),
        ("Fjord Freight AS", "NO", "fjordfreight.example", "Finn Fjord", "finn@fjordfreight.example"),
        ("Garda Hotels Srl", "IT", "gardahotels.example", "Giulia Garda", "giulia@gardahotels.example"),
        ("Hanse Logistik GmbH", "DE", "hanse-logistik.example", "Hans Hanse", "hans@hanse-logistik.example"),
        ("Iberia Clinics SL", "ES", "iberiaclinics.example", "Ines Iberia", "ines@iberiaclinics.example"),
    ] {
        let org = organizations::create(
            ctx,
            Some(&staff),
            create(OrganizationKind::Customer, name, country, Some(domain), None),
            None,
        )
        .await?;
        seeder.person(&org, person, email, Role::Admin).await?;
        customers.push(org);
    }

    let plan = [
        (alpine, 0, GrantStatus::Active, Rights::ALL),
        (alpine, 1, GrantStatus::Active, Rights::MANAGE_PRODUCTS.union(Rights::VIEW_BILLING)),
        (alpine, 2, GrantStatus::Pending, Rights::MANAGE_PRODUCTS),
        (baltic, 2, GrantStatus::Active, Rights::VIEW_BILLING),
        (baltic, 3, GrantStatus::Active, Rights::ALL),
        (celtic, 4, GrantStatus::Active, Rights::MANAGE_PRODUCTS.union(Rights::VIEW_BILLING)),
    ];
    let mut grants = Vec::new();
    let mut made = Vec::new();
    for (partner, customer, status, rights) in plan {
        let customer = &customers[customer];
        made.push(grant(ctx, partner, customer, status, rights).await?);
        grants.push((
            partner.name.clone(),
            customer.name.clone(),
            status.as_str().to_string(),
            rights.names(),
            "whole account".into(),
        ));
    }
    let edelweiss = &made[0];

    // Two subscriptions per customer, each bought by whoever manages the account: Alpine
    // re-bills Edelweiss (billed to the partner) but lets Fjord pay Northwind directly; Garda
    // buys its own; Baltic re-bills Hanse; Celtic manages Iberia's, billed to Iberia.
    let mut pbx_of_garda = None;
    for (i, customer) in customers.iter().enumerate() {
        let (buyer, billed_to) = match i {
            0 => ("anna@alpinevoice.example", BilledTo::Partner),
            1 => ("anna@alpinevoice.example", BilledTo::Customer),
            2 => ("giulia@gardahotels.example", BilledTo::Customer),
            3 => ("bruno@balticcloud.example", BilledTo::Partner),
            _ => ("cara@celticcomms.example", BilledTo::Customer),
        };
        let token = seeder.users.iter().find(|u| u.email == buyer).map(|u| u.token.clone()).unwrap_or_default();
        let buyer = identity::authenticate_token(&ctx.db, &token, None, now).await?;
        for (product, seats) in [(i % 2, 10 * (i as i32 + 1)), (2, 5)] {
            let new = subscriptions::NewSubscription {
                customer_id: customer.id,
                plan_id: plans[product][0].id,
                seats,
                billed_to,
                idempotency_key: &format!("demo-{i}-{product}"),
            };
            let row = subscriptions::create(ctx, Some(&buyer), new).await?;
            if i == 2 && products[product].sku == "CPBX" {
                pbx_of_garda = Some(row.id);
            }
        }
    }
    // Baltic may only look at the bills of Garda's Cloud PBX: a subscription-scoped grant.
    if let (Some(scoped), Some(subscription_id)) = (made.get(3), pbx_of_garda) {
        grant::ActiveModel { id: Set(scoped.id), scope: Set(GrantScope::Subscriptions), ..Default::default() }
            .update(&ctx.db)
            .await?;
        grant_scope_item::ActiveModel {
            id: Set(Uuid::now_v7()),
            grant_id: Set(scoped.id),
            subscription_id: Set(subscription_id),
        }
        .insert(&ctx.db)
        .await?;
        if let Some(row) = grants.get_mut(3) {
            row.4 = "Cloud PBX subscription only".into();
        }
    }

    // Each customer has claimed its domain; proving it is a DNS TXT record away.
    for customer in &customers {
        if let Some(domain) = &customer.domain {
            domains::insert(&ctx.db, customer.id, domain, now).await?;
        }
    }
    // Sam (SALES) acts only for Edelweiss, and only on its products.
    grant_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        grant_id: Set(edelweiss.id),
        user_id: Set(sam.id),
        rights: Set(Rights::MANAGE_PRODUCTS.bits()),
        created_at: Set(now),
    }
    .insert(&ctx.db)
    .await?;

    let anna = seeder.users.iter().find(|u| u.email.starts_with("anna@")).map(|u| u.token.clone()).unwrap_or_default();
    let anna = identity::authenticate_token(&ctx.db, &anna, None, now).await?;
    let email = "new.hire@alpinevoice.example";
    let (_, invitation_token) = invitations::invite(ctx, Some(&anna), alpine.id, email, Role::Sales).await?;

    // What the tiers count. Alpine meets Gold; Baltic is Silver and short of Gold; Celtic now
    // meets Silver, so the tier review lists it for staff.
    let day = |days_ago: i64| (now - TimeDelta::days(days_ago)).format("%Y-%m-%d").to_string();
    let mut csv = String::from("email,courseCode,passedAt,certificateNumber,expiresAt\n");
    for (i, (email, course, days_ago)) in [
        ("anna@alpinevoice.example", "BASIC", 60),
        ("anna@alpinevoice.example", "NW-CERT", 50),
        ("sam@alpinevoice.example", "NW-CERT", 40),
        ("chris@consulting.example", "NW-CERT", 30),
        ("bruno@balticcloud.example", "BASIC", 20),
        ("bruno@balticcloud.example", "NW-CERT", 15),
        ("cara@celticcomms.example", "BASIC", 10),
        ("cara@celticcomms.example", "NW-CERT", 5),
    ]
    .into_iter()
    .enumerate()
    {
        let expires = (now + TimeDelta::days(730)).format("%Y-%m-%d");
        csv.push_str(&format!("{email},{course},{},{course}-{:04},{expires}\n", day(days_ago), i + 1));
    }
    courses::import(ctx, Some(&staff), &csv).await?;
    let principal_of =
        |email: &str| seeder.users.iter().find(|u| u.email == email).map(|u| u.token.clone()).unwrap_or_default();
    for (admin, customers_named, committed) in [
        ("anna@alpinevoice.example", &["Edelweiss Dental", "Fjord Freight AS"][..], 60_000),
        ("bruno@balticcloud.example", &["Hanse Logistik GmbH"][..], 12_000),
        ("cara@celticcomms.example", &["Iberia Clinics SL"][..], 10_000),
    ] {
        let partner = identity::authenticate_token(&ctx.db, &principal_of(admin), None, now).await?;
        for customer in customers_named {
            let story = stories::NewStory {
                customer_name: (*customer).into(),
                title: format!("{customer} moved to Northwind Cloud PBX"),
                summary: "Desk phones in every office and one cloud PBX, rolled out in a week.".into(),
                products: vec!["D785".into(), "CPBX".into()],
                publishable: true,
            };
            let submitted = stories::submit(ctx, Some(&partner), story).await?;
            stories::review(ctx, Some(&staff), submitted.id, true, None).await?;
        }
        let Some(org) = partner.acting.as_ref().map(|m| m.organization_id()) else { continue };
        // Baltic and Celtic paid this year's fee before billing took it over (recorded by hand,
        // so the run skips their year); Alpine's is billed below.
        let paid_until = (!admin.starts_with("anna@")).then(|| fee_year_paid(now));
        let committed = Some((Decimal::new(committed, 0), "EUR".to_string()));
        programs::update_partnership(ctx, Some(&staff), org, program.id, committed, paid_until).await?;
    }
    // A story still waiting for review.
    let bruno = identity::authenticate_token(&ctx.db, &principal_of("bruno@balticcloud.example"), None, now).await?;
    let waiting = stories::NewStory {
        customer_name: "Garda Hotels Srl".into(),
        title: "Garda Hotels: one number for every hotel".into(),
        summary: "Twelve hotels on one cloud PBX with D385 phones at the front desks.".into(),
        products: vec!["D385".into(), "CPBX".into()],
        publishable: false,
    };
    stories::submit(ctx, Some(&bruno), waiting).await?;

    // Someone who signed in and applied: staff find the application in their queue.
    let applicant = people::insert_user(
        &ctx.db,
        people::NewUser {
            kind: UserKind::Person,
            display_name: "Paula Prospect",
            email: Some("paula@prospect-telecom.example"),
            email_verified: true,
        },
        now,
    )
    .await?;
    let (_, applicant_token) = tokens::issue(&ctx.db, applicant.id, "demo".into(), None, now).await?;
    seeder.users.push(DemoUser {
        display_name: applicant.display_name.clone(),
        email: "paula@prospect-telecom.example".into(),
        organization: "(none yet: applied to the reseller programme)".into(),
        role: "-".into(),
        token: applicant_token.clone(),
    });
    let paula = identity::authenticate_token(&ctx.db, &applicant_token, None, now).await?;
    let application = applications::NewApplication {
        program_id: program.id,
        company: applications::Company {
            name: "Prospect Telecom BV".into(),
            registration_number: Some("KVK-12345678".into()),
            vat_number: Some("NL123456789B01".into()),
            website: Some("https://www.prospect-telecom.example".into()),
            country: "NL".into(),
            address: "Keizersgracht 1, 1015 CJ Amsterdam".into(),
        },
        primary_expertise: "Unified communications for hotels".into(),
        experience: "Eight years installing IP telephony for 40 hotel groups.".into(),
        plan: "Sell Northwind desk phones and Cloud PBX to our hotel customers from Q1.".into(),
        accepted_terms_version: 2,
    };
    applications::apply(ctx, Some(&paula), application).await?;

    // The onboarding questionnaire, answered by Celtic (still editable: staff have not reviewed
    // it), before the review proposes Celtic's first tier above Registered.
    seed_questionnaire(ctx, &seeder.users, &staff, program.id).await?;

    // Deals before the bills: Alpine's approved Edelweiss deal discounts this month's lines.
    seed_deals(ctx, &seeder.users, &staff, &customers, &distributor, &products).await?;

    // Commission rules and partners of record before the bills are paid: Fjord's payment below
    // earns Alpine its commission.
    seed_partners_of_record(ctx, &seeder.users, &staff, &tiers, &customers, &partners).await?;

    // An affiliate of the referral programme, and a customer that came through its code.
    let lumo = seed_affiliate(ctx, &mut seeder, &staff, &referrer, &plans).await?;

    // The reseller programme's yearly fee: this month's run bills each partner's year (Alpine's
    // Gold fee invoice among them), with its country's VAT.
    programs::update_program_rules(ctx, Some(&staff), program.id, Some((Decimal::new(1560, 0), "EUR".into())), None)
        .await?;
    // This month's bills, issued; Fjord has paid its own already, and so has Lumo.
    let invoices = billing::run(ctx, Some(&staff), billing::Period::of(now), true, None).await?;
    if let Some(lumo) = invoices.iter().find(|inv| inv.bill_to_organization_id == lumo.id) {
        let payment = billing::NewPayment {
            invoice_id: lumo.id,
            amount: lumo.total.to_decimal(),
            currency: "EUR".into(),
            received_at: ctx.now(),
            reference: Some("SEPA 2026-LU-001".into()),
            idempotency_key: None,
        };
        billing::record_payment(ctx, Some(&staff), payment).await?;
    }
    if let Some(fjord) = invoices.iter().find(|inv| Some(inv.bill_to_organization_id) == customers.get(1).map(|c| c.id))
    {
        let total = fjord.total.to_decimal();
        let reference = Some("SEPA 2026-FJ-001".to_string());
        let payment = billing::NewPayment {
            invoice_id: fjord.id,
            amount: total,
            currency: "EUR".into(),
            // After Alpine became Fjord's partner of record: the payment earns its commission.
            received_at: ctx.now(),
            reference,
            idempotency_key: None,
        };
        billing::record_payment(ctx, Some(&staff), payment).await?;
    }

    // Rules between the two sides of a grant. Baltic manages Hanse's ordinary users: it brought
    // Mia in, and Hans sees that in his member list (and may remove all Baltic brought in at
    // once). Erika asks Alpine, who pays for Edelweiss's desk phones, for more seats.
    let erika_token = seeder.users.iter().find(|u| u.email.starts_with("erika@")).map(|u| u.token.clone());
    let erika = identity::authenticate_token(&ctx.db, &erika_token.unwrap_or_default(), None, now).await?;
    let hanse = customers.get(3).cloned();
    if let Some(hanse) = hanse {
        let (_, mia_invitation) =
            invitations::invite(ctx, Some(&bruno), hanse.id, "mia@hanse-logistik.example", Role::Member).await?;
        let mia = people::insert_user(
            &ctx.db,
            people::NewUser {
                kind: UserKind::Person,
                display_name: "Mia Hanse",
                email: Some("mia@hanse-logistik.example"),
                email_verified: true,
            },
            now,
        )
        .await?;
        let (_, mia_token) = tokens::issue(&ctx.db, mia.id, "demo".into(), None, now).await?;
        let mia_principal = identity::authenticate_token(&ctx.db, &mia_token, None, now).await?;
        invitations::accept(ctx, Some(&mia_principal), &mia_invitation).await?;
        seeder.users.push(DemoUser {
            display_name: "Mia Hanse".into(),
            email: "mia@hanse-logistik.example".into(),
            organization: format!("{} (brought in by {})", hanse.name, baltic.name),
            role: Role::Member.as_str().into(),
            token: mia_token,
        });
    }
    let partner_billed = entity::subscription::Entity::find()
        .filter(entity::subscription::Column::CustomerId.eq(edelweiss.customer_id))
        .filter(entity::subscription::Column::BilledTo.eq(BilledTo::Partner))
        .one(&ctx.db)
        .await?;
    if let Some(phones) = partner_billed {
        let ask = change_requests::Ask {
            subscription_id: phones.id,
            seats: Some(phones.seats + 5),
            plan_id: None,
            message: Some("Five more phones for the new practice in Lucerne.".into()),
        };
        change_requests::request(ctx, Some(&erika), ask).await?;
    }

    seed_ledger_history(ctx, &staff, &tiers, &partners).await?;
    seed_rebate_terms(ctx, &staff, &tiers, &distributor).await?;
    let duplicate_refusal = seed_rebate_claims(ctx, &seeder.users, &products, &distributor).await?;
    seed_directory(ctx, &mut seeder, &staff, &tiers, &partners, create).await?;
    let tender_manage_key = seed_tenders(ctx, &seeder.users).await?;
    // The tier review, once everything is in place (the fee billed above counts as paid for 30
    // days): it proposes Celtic's Silver, and starts the grace periods of the directory's
    // founding partners, placed above what they meet (their tiers stay until the end date).
    crate::jobs::tiers::run_review(ctx).await?;
    let grace = entity::partnership::Entity::find()
        .filter(entity::partnership::Column::GraceEndsAt.is_not_null())
        .find_also_related(entity::tier::Entity)
        .all(&ctx.db)
        .await?;
    let grace = match grace.into_iter().next() {
        Some((p, t)) => organization::Entity::find_by_id(p.organization_id).one(&ctx.db).await?.map(|o| {
            let ends = p.grace_ends_at.map(|at| at.format("%Y-%m-%d").to_string()).unwrap_or_default();
            (o.name, t.map(|t| t.name).unwrap_or_default(), ends)
        }),
        None => None,
    };
    let alpine_id = partners.first().map(|p| p.id);
    let fee = entity::programme_fee::Entity::find()
        .filter(entity::programme_fee::Column::OrganizationId.eq(alpine_id))
        .one(&ctx.db)
        .await?;
    let fee_invoice = match fee.and_then(|f| f.invoice_id) {
        Some(id) => entity::invoice::Entity::find_by_id(id)
            .one(&ctx.db)
            .await?
            .map(|inv| (inv.number, format!("{} {}", inv.total.to_decimal(), inv.currency))),
        None => None,
    };

    Ok(Demo {
        grace,
        fee_invoice,
        users: seeder.users,
        invitation: (email.into(), invitation_token),
        grants,
        duplicate_refusal,
        tender_manage_key,
    })
}

/// The tender board: Edelweiss's call for Swiss partners with healthcare expertise (Alpine showed
/// interest and responded), Hanse's open call it awarded to Nordlicht over Baltic, and a visitor's
/// call for Austria and Germany, confirmed through the e-mailed link as a visitor would.
async fn seed_tenders(ctx: &Ctx, users: &[DemoUser]) -> AppResult<String> {
    use crate::service::tenders::{self, Awarder, NewTender, Posted, Response};
    let now = ctx.now();
    let as_user = |prefix: &str| {
        let token = users.iter().find(|u| u.email.starts_with(prefix)).map(|u| u.token.clone()).unwrap_or_default();
        async move { identity::authenticate_token(&ctx.db, &token, None, now).await }
    };
    let (erika, hans, anna, bruno, nordlicht) = (
        as_user("erika@").await?,
        as_user("hans@").await?,
        as_user("anna@").await?,
        as_user("bruno@").await?,
        as_user("admin@nordlicht-telecom").await?,
    );
    let call =
        |title: &str, description: &str, budget: (i64, i64), currency: &str, region: &[&str], days: i64| NewTender {
            title: title.into(),
            description: description.into(),
            budget_min: Decimal::new(budget.0, 0),
            budget_max: Decimal::new(budget.1, 0),
            currency: currency.into(),
            region: region.iter().map(|s| s.to_string()).collect(),
            product_lines: vec!["Desk phones".into(), "Cloud PBX".into()],
            expertise: Vec::new(),
            deadline: now + TimeDelta::days(days),
            contact_name: String::new(),
            contact_email: String::new(),
        };
    let published = |posted: Posted| match posted {
        Posted::Published(t) => Ok(*t),
        Posted::AwaitingConfirmation { .. } => Err(crate::error::AppError::internal("a customer's tender waits")),
    };
    let lucerne = published(
        tenders::post(
            ctx,
            Some(&erika),
            None,
            NewTender {
                expertise: vec!["Healthcare".into()],
                contact_name: "Erika Edelweiss".into(),
                contact_email: "erika@edelweiss-dental.example".into(),
                ..call(
                    "Phones and a cloud PBX for our new practice in Lucerne",
                    "Twelve desk phones, a reception console and a cloud PBX shared with our Zurich practice, \
                     installed by March, with a support contract for three years.",
                    (8_000, 15_000),
                    "CHF",
                    &["CH"],
                    21,
                )
            },
        )
        .await?,
    )?;
    tenders::respond(
        ctx,
        Some(&anna),
        Response {
            tender_id: lucerne.id,
            proposal: "Alpine installs and runs it from our Zurich service desk; the practice shares the PBX.".into(),
            price: Decimal::new(12_400, 0),
            currency: "CHF".into(),
            idempotency_key: "demo-lucerne".into(),
        },
    )
    .await?;
    let warehouses = published(
        tenders::post(
            ctx,
            Some(&hans),
            None,
            NewTender {
                contact_name: "Hans Hanse".into(),
                contact_email: "hans@hanse-logistik.example".into(),
                ..call(
                    "Voice for three warehouses",
                    "DECT handsets on the floor and desk phones in the offices of our Hamburg, Bremen and Riga \
                     warehouses, on one cloud PBX.",
                    (20_000, 40_000),
                    "EUR",
                    &[],
                    14,
                )
            },
        )
        .await?,
    )?;
    let mut winner = None;
    for (partner, key, price, text) in [
        (&bruno, "demo-warehouses-baltic", 31_000, "Baltic runs Riga and connects the German sites over Teams."),
        (&nordlicht, "demo-warehouses-nordlicht", 28_500, "Nordlicht has DECT on the quay in Hamburg already."),
    ] {
        let r = tenders::respond(
            ctx,
            Some(partner),
            Response {
                tender_id: warehouses.id,
                proposal: text.into(),
                price: Decimal::new(price, 0),
                currency: "EUR".into(),
                idempotency_key: key.into(),
            },
        )
        .await?;
        winner = Some(r.id);
    }
    if let Some(winner) = winner {
        tenders::award(ctx, Awarder::Principal(&hans), winner).await?;
    }
    tenders::post(
        ctx,
        None,
        None,
        NewTender {
            contact_name: "Vroni Visitor".into(),
            contact_email: "vroni@bakery.example".into(),
            ..call(
                "Phones for a bakery chain in Vienna and Munich",
                "Nine shops and a bakehouse: one number per shop, calls to the bakehouse free, \
                 a phone at every till.",
                (5_000, 12_000),
                "EUR",
                &["AT", "DE"],
                30,
            )
        },
    )
    .await?;
    // The visitor follows the link the outbox e-mails: its token is in the queued message.
    let mail = entity::notification::Entity::find()
        .filter(entity::notification::Column::RecipientEmail.eq("vroni@bakery.example"))
        .one(&ctx.db)
        .await?;
    let token = mail.and_then(|m| m.payload["token"].as_str().map(str::to_string)).unwrap_or_default();
    Ok(tenders::confirm(ctx, &token).await?.manage_key)
}

/// The approved distributor list (Danube on it, Sava Supply taken off) and the rebate table:
/// per unit of desk phone bought, Silver 6 EUR (D3xx) and 9 EUR (D7xx); Gold 8 and 12 EUR, raised
/// to 15 EUR for D7xx from this quarter, so a claim's invoice date decides its rate.
/// The public directory: profiles for Alpine (Gold), Baltic (Silver) and Celtic (Registered, so
/// not listed although it opted in), and ten more partners across Europe at Silver and Gold, with
/// coordinates and published stories; Vltava (Gold) did not opt in. Nordlicht's accepted story
/// about Matterhorn Bank was not published: the directory never names that customer.
// Coordinates are degrees, not money.
#[allow(clippy::disallowed_types)]
async fn seed_directory(
    ctx: &Ctx,
    seeder: &mut Seeder<'_>,
    staff: &Principal,
    tiers: &[entity::tier::Model],
    partners: &[organization::Model],
    create: impl Fn(OrganizationKind, &str, &str, Option<&str>, Option<&str>) -> organizations::NewOrganization,
) -> AppResult<()> {
    use crate::service::directory::{ProfileInput, update_profile};
    let now = ctx.now();
    let (silver, gold) = (&tiers[1], &tiers[2]);
    let list = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    #[allow(clippy::type_complexity)]
    let profile = |description: &str,
                   city: &str,
                   (lat, lon): (f64, f64),
                   languages: &[&str],
                   expertise: &[&str],
                   lines: &[&str]| ProfileInput {
        description: Some(description.into()),
        city: Some(city.into()),
        coordinates: Some(Some((lat, lon))),
        languages: list(languages),
        expertise: list(expertise),
        product_lines: list(lines),
        opted_in: Some(true),
        ..Default::default()
    };
    let founding = [
        (
            &partners[0],
            profile(
                "Cloud PBX and desk phones for clinics and practices across Switzerland, with our own 24/7 service desk.",
                "Zurich",
                (47.3769, 8.5417),
                &["de", "fr", "en"],
                &["Healthcare", "SIP trunking", "Migration"],
                &["Cloud PBX", "Desk phones"],
            ),
        ),
        (
            &partners[1],
            profile(
                "Hosted contact centres and Microsoft Teams integration for the Baltics.",
                "Riga",
                (56.9496, 24.1052),
                &["lv", "en", "ru"],
                &["Contact centre", "Teams integration"],
                &["Cloud PBX"],
            ),
        ),
        (
            &partners[2],
            profile(
                "Small-office phone systems in Ireland.",
                "Dublin",
                (53.3498, -6.2603),
                &["en"],
                &["Small office"],
                &["Desk phones"],
            ),
        ),
    ];
    for (partner, input) in founding {
        update_profile(ctx, Some(staff), partner.id, input).await?;
    }
    let more: [(&str, &str, &str, &str, &entity::tier::Model, ProfileInput); 10] = [
        (
            "Nordlicht Telecom GmbH",
            "DE",
            "nordlicht-telecom.example",
            "DE123456789",
            gold,
            profile(
                "Voice over IP for ports and logistics in northern Germany; SIP trunks and DECT on the quay.",
                "Hamburg",
                (53.5511, 9.9937),
                &["de", "en"],
                &["SIP trunking", "Logistics"],
                &["Cloud PBX", "DECT"],
            ),
        ),
        (
            "Donau Netzwerk GmbH",
            "AT",
            "donau-netzwerk.example",
            "ATU12345678",
            silver,
            profile(
                "Networks and phone systems for Viennese offices.",
                "Vienna",
                (48.2082, 16.3738),
                &["de", "en"],
                &["Networking"],
                &["Desk phones"],
            ),
        ),
        (
            "Wiener Cloudwerk KG",
            "AT",
            "wiener-cloudwerk.example",
            "ATU87654321",
            gold,
            profile(
                "Cloud telephony for hotels and the public sector in Austria.",
                "Vienna",
                (48.1986, 16.3695),
                &["de"],
                &["Hospitality", "Public sector"],
                &["Cloud PBX"],
            ),
        ),
        (
            "Rhein Unified Comms GmbH",
            "DE",
            "rhein-uc.example",
            "DE987654321",
            silver,
            profile(
                "Unified communications for the Rhineland's manufacturers.",
                "Cologne",
                (50.9375, 6.9603),
                &["de", "en"],
                &["Manufacturing", "SIP trunking"],
                &["Cloud PBX", "Desk phones"],
            ),
        ),
        (
            "Seine Téléphonie SAS",
            "FR",
            "seine-telephonie.example",
            "FR12345678901",
            gold,
            profile(
                "Téléphonie d'entreprise et centres de contact à Paris.",
                "Paris",
                (48.8566, 2.3522),
                &["fr", "en"],
                &["Contact centre"],
                &["Cloud PBX"],
            ),
        ),
        (
            "Vistula Systems sp. z o.o.",
            "PL",
            "vistula-systems.example",
            "PL1234567890",
            silver,
            profile(
                "Phone systems and headsets for Polish offices and call centres.",
                "Warsaw",
                (52.2297, 21.0122),
                &["pl"],
                &["Contact centre"],
                &["Headsets", "Desk phones"],
            ),
        ),
        (
            "Tajo Comunicaciones SL",
            "ES",
            "tajo-comunicaciones.example",
            "ESB12345678",
            silver,
            profile(
                "Comunicaciones unificadas para pymes en Madrid.",
                "Madrid",
                (40.4168, -3.7038),
                &["es", "en"],
                &["Small office"],
                &["Cloud PBX"],
            ),
        ),
        (
            "Fjell Nett AS",
            "NO",
            "fjell-nett.example",
            "NO123456789",
            gold,
            profile(
                "Telephony for Norway's offshore and energy sites.",
                "Oslo",
                (59.9139, 10.7522),
                &["no", "en"],
                &["Energy", "DECT"],
                &["DECT", "Desk phones"],
            ),
        ),
        (
            "Adriatic Voice d.o.o.",
            "HR",
            "adriatic-voice.example",
            "HR12345678901",
            silver,
            profile(
                "Hotel phone systems along the Adriatic coast.",
                "Zagreb",
                (45.8150, 15.9819),
                &["hr", "en", "de"],
                &["Hospitality"],
                &["Desk phones"],
            ),
        ),
        (
            "Lusitania Contact Lda",
            "PT",
            "lusitania-contact.example",
            "PT123456789",
            silver,
            profile(
                "Contact centres for Portuguese retailers.",
                "Lisbon",
                (38.7223, -9.1393),
                &["pt", "en"],
                &["Contact centre", "Retail"],
                &["Cloud PBX", "Headsets"],
            ),
        ),
    ];
    let mut added = Vec::new();
    for (name, country, domain, vat, tier, input) in more {
        let org = organizations::create(
            ctx,
            Some(staff),
            create(OrganizationKind::Partner, name, country, Some(domain), Some(vat)),
            None,
        )
        .await?;
        programs::change_partner_tier(ctx, Some(staff), org.id, tier.id, Some("founding partner")).await?;
        // Migrated partners: this year's fee was paid before they moved here.
        programs::update_partnership(ctx, Some(staff), org.id, tier.program_id, None, Some(fee_year_paid(now))).await?;
        let admin = domain.split('.').next().unwrap_or(domain);
        seeder.person(&org, &format!("{name} admin"), &format!("admin@{admin}.example"), Role::Admin).await?;
        update_profile(ctx, Some(staff), org.id, input).await?;
        added.push(org);
    }
    // Vltava: a Gold partner that did not opt in.
    let vltava = organizations::create(
        ctx,
        Some(staff),
        create(
            OrganizationKind::Partner,
            "Vltava Integrace s.r.o.",
            "CZ",
            Some("vltava-integrace.example"),
            Some("CZ12345678"),
        ),
        None,
    )
    .await?;
    programs::change_partner_tier(ctx, Some(staff), vltava.id, gold.id, Some("founding partner")).await?;
    programs::update_partnership(ctx, Some(staff), vltava.id, gold.program_id, None, Some(fee_year_paid(now))).await?;
    let hidden = ProfileInput {
        opted_in: Some(false),
        ..profile("Integration in Prague.", "Prague", (50.0755, 14.4378), &["cs"], &["Networking"], &["Desk phones"])
    };
    update_profile(ctx, Some(staff), vltava.id, hidden).await?;

    // Stories: published ones on four of the new partners, and one Nordlicht may not publish.
    for (i, (customer, publishable)) in [
        ("Hafen Reederei AG", true),
        ("Matterhorn Bank AG", false),
        ("Hotel Sacher-Nord", true),
        ("Rheinwerk Stahl", true),
        ("Galeries Seine", true),
    ]
    .into_iter()
    .enumerate()
    {
        let partner = if i < 2 { &added[0] } else { &added[i] };
        let admin =
            seeder.users.iter().find(|u| u.organization == partner.name).map(|u| u.token.clone()).unwrap_or_default();
        let principal = identity::authenticate_token(&ctx.db, &admin, None, now).await?;
        let story = stories::NewStory {
            customer_name: customer.into(),
            title: format!("{customer} on Northwind Cloud PBX"),
            summary: "Every site on one cloud PBX, moved over a weekend without a missed call.".into(),
            products: vec!["CPBX".into()],
            publishable,
        };
        let submitted = stories::submit(ctx, Some(&principal), story).await?;
        stories::review(ctx, Some(staff), submitted.id, true, None).await?;
    }
    Ok(())
}

async fn seed_rebate_terms(
    ctx: &Ctx,
    staff: &Principal,
    tiers: &[entity::tier::Model],
    danube: &organization::Model,
) -> AppResult<()> {
    use crate::service::rebates;
    let now = ctx.now();
    rebates::set_distributor(ctx, Some(staff), danube.id, true, Some("contract 2026".into())).await?;
    let sava = organizations::create(
        ctx,
        Some(staff),
        organizations::NewOrganization {
            referral_code: None,
            kind: Some(OrganizationKind::Distributor),
            name: "Sava Supply d.o.o.".into(),
            country: "SI".into(),
            domain: Some("sava-supply.example".into()),
            vat_number: None,
            website: Some("https://www.sava-supply.example".into()),
            registration_number: None,
        },
        None,
    )
    .await?;
    rebates::set_distributor(ctx, Some(staff), sava.id, false, Some("contract ended".into())).await?;
    let year_ago = now - chrono::Months::new(12);
    let this_quarter = crate::domain::ledger::Quarter::of(now).start();
    let (Some(silver), Some(gold)) = (tiers.get(1), tiers.get(2)) else { return Ok(()) };
    for (tier, line, amount, from, to) in [
        (silver, "D3xx", 6, year_ago, None),
        (silver, "D7xx", 9, year_ago, None),
        (gold, "D3xx", 8, year_ago, None),
        (gold, "D7xx", 12, year_ago, Some(this_quarter)),
        (gold, "D7xx", 15, this_quarter, None),
    ] {
        let rate = rebates::NewRate {
            program_id: tier.program_id,
            tier_id: tier.id,
            product_line: line.into(),
            amount_per_unit: (Decimal::from(amount), "EUR".into()),
            valid_from: from,
            valid_to: to,
        };
        rebates::create_rate(ctx, Some(staff), rate).await?;
    }
    Ok(())
}

/// A minimal PDF (one page, one line of text): a real file for the demo's invoices.
pub fn invoice_pdf(text: &str) -> Vec<u8> {
    let text: String =
        text.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').filter(|c| !"()\\".contains(*c)).collect();
    let stream = format!("BT /F1 14 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// An upload as the HTTP layer hands it over: a temporary file with the bytes.
pub fn upload(name: &str, bytes: &[u8]) -> AppResult<crate::service::rebate_claims::Invoice> {
    use std::io::{Seek, Write};
    let mut file = tempfile::tempfile().map_err(|e| crate::error::AppError::internal(format!("demo file: {e}")))?;
    file.write_all(bytes)
        .and_then(|_| file.rewind())
        .map_err(|e| crate::error::AppError::internal(format!("demo file: {e}")))?;
    Ok(crate::service::rebate_claims::Invoice { name: name.into(), file })
}

/// Rebate claims in each status, with their invoice files: Alpine's accepted one (priced at last
/// quarter's Gold rate), Sam's open one that Danube confirmed, Baltic's rejected one (200 units
/// claimed, 20 invoiced); then Baltic tries Alpine's invoice again, its number written
/// differently, and is refused without learning whose claim it was. Returns that refusal.
async fn seed_rebate_claims(
    ctx: &Ctx,
    users: &[DemoUser],
    products: &[entity::product::Model],
    danube: &organization::Model,
) -> AppResult<String> {
    use crate::service::rebate_claims::{self, Decision, NewClaim};
    let now = ctx.now();
    let as_user = |prefix: &str| {
        let token = principal_of_user(users, prefix).to_string();
        async move { identity::authenticate_token(&ctx.db, &token, None, now).await }
    };
    let (anna, sam, bruno) = (as_user("anna@").await?, as_user("sam@").await?, as_user("bruno@").await?);
    let (fiona, dora) = (as_user("fiona.finance@").await?, as_user("dora@").await?);
    let (Some(d7), Some(d3)) = (products.first(), products.get(1)) else { return Ok(String::new()) };
    let last_quarter = crate::domain::ledger::Quarter::of(now).previous().start().date_naive() + chrono::Days::new(20);
    let claim = |number: &str, date: chrono::NaiveDate, lines: Vec<(Uuid, i32)>, key: &str| -> AppResult<NewClaim> {
        Ok(NewClaim {
            program_id: None,
            distributor_id: danube.id,
            invoice_number: number.into(),
            invoice_date: date,
            lines,
            invoice: upload(
                &format!("{number}.pdf"),
                &invoice_pdf(&format!("Danube Distribution GmbH - invoice {number}")),
            )?,
            idempotency_key: Some(key.into()),
        })
    };
    let accepted = rebate_claims::submit(
        ctx,
        Some(&anna),
        claim("DD-2026-0412", last_quarter, vec![(d7.id, 20), (d3.id, 10)], "demo-claim-1")?,
    )
    .await?;
    rebate_claims::decide(ctx, Some(&fiona), accepted.id, Decision::Accept).await?;
    let open = rebate_claims::submit(
        ctx,
        Some(&sam),
        claim("DD-2026-0533", now.date_naive() - chrono::Days::new(5), vec![(d7.id, 8)], "demo-claim-2")?,
    )
    .await?;
    let lines = entity::rebate_claim_line::Entity::find()
        .filter(entity::rebate_claim_line::Column::ClaimId.eq(open.id))
        .all(&ctx.db)
        .await?;
    let marks = lines.iter().map(|l| (l.id, crate::domain::LineMark::Confirmed)).collect();
    rebate_claims::mark(ctx, Some(&dora), open.id, marks, Some("Matches our delivery note LS-7731.".into())).await?;
    let rejected = rebate_claims::submit(
        ctx,
        Some(&bruno),
        claim("DD-2026-0498", now.date_naive() - chrono::Days::new(12), vec![(d3.id, 200)], "demo-claim-3")?,
    )
    .await?;
    let reason = Decision::Reject {
        code: crate::domain::ClaimRejection::QuantityMismatch,
        text: Some("The invoice shows 20 units, not 200.".into()),
    };
    rebate_claims::decide(ctx, Some(&fiona), rejected.id, reason).await?;
    let again = claim("dd 2026 0412", last_quarter, vec![(d3.id, 5)], "demo-claim-4")?;
    Ok(match rebate_claims::submit(ctx, Some(&bruno), again).await {
        Err(refused) => refused.public_message(),
        Ok(_) => String::new(),
    })
}

/// Tisza Referrals, an affiliate (Referrer tier, 10% of what referred customers pay); its code
/// brought in Lumo Opticians, which buys a Cloud PBX itself. Returns Lumo.
async fn seed_affiliate(
    ctx: &Ctx,
    seeder: &mut Seeder<'_>,
    staff: &Principal,
    referrer: &entity::tier::Model,
    plans: &[Vec<entity::plan::Model>],
) -> AppResult<organization::Model> {
    use crate::service::ledger::{post, referrals};
    let now = ctx.now();
    let org = |kind, name: &str, country: &str, domain: &str, code: Option<String>| organizations::NewOrganization {
        kind: Some(kind),
        name: name.into(),
        country: country.into(),
        domain: Some(domain.into()),
        vat_number: None,
        registration_number: None,
        website: Some(format!("https://www.{domain}")),
        referral_code: code,
    };
    let tisza = organizations::create(
        ctx,
        Some(staff),
        org(OrganizationKind::Partner, "Tisza Referrals Kft", "HU", "tiszareferrals.example", None),
        None,
    )
    .await?;
    programs::change_partner_tier(ctx, Some(staff), tisza.id, referrer.id, Some("first affiliate")).await?;
    seeder.person(&tisza, "Tamas Tisza", "tamas@tiszareferrals.example", Role::Admin).await?;
    let rule = post::NewRule {
        program_id: referrer.program_id,
        tier_id: Some(referrer.id),
        product_line: None,
        percent: Decimal::from(10),
        accelerated_percent: None,
        quarterly_target: None,
        valid_from: crate::domain::ledger::Quarter::of(now).previous().start(),
        valid_to: None,
    };
    post::create_rule(ctx, Some(staff), rule).await?;
    let tamas = identity::authenticate_token(&ctx.db, principal_of_user(&seeder.users, "tamas@"), None, now).await?;
    let code = referrals::create_code(ctx, Some(&tamas), None).await?;
    let lumo = organizations::create(
        ctx,
        Some(staff),
        org(OrganizationKind::Customer, "Lumo Opticians Oy", "FI", "lumo-opticians.example", Some(code.code)),
        None,
    )
    .await?;
    seeder.person(&lumo, "Lotta Lumo", "lotta@lumo-opticians.example", Role::Admin).await?;
    let lotta = identity::authenticate_token(&ctx.db, principal_of_user(&seeder.users, "lotta@"), None, now).await?;
    if let Some(pbx) = plans.get(2).and_then(|p| p.first()) {
        let new = subscriptions::NewSubscription {
            customer_id: lumo.id,
            plan_id: pbx.id,
            seats: 8,
            billed_to: BilledTo::Customer,
            idempotency_key: "demo-lumo-pbx",
        };
        subscriptions::create(ctx, Some(&lotta), new).await?;
    }
    Ok(lumo)
}

/// Five questions, one of each kind, with help in English and German; Cara (Celtic's ADMIN)
/// answers them.
async fn seed_questionnaire(ctx: &Ctx, users: &[DemoUser], staff: &Principal, program_id: Uuid) -> AppResult<()> {
    use crate::domain::questionnaire::{Answer, Question, QuestionKind};
    let question = |key: &str, kind, label: &str, required, options: &[&str], en: &str, de: &str| Question {
        key: key.into(),
        kind,
        label: label.into(),
        required,
        options: options.iter().map(|o| o.to_string()).collect(),
        help: [("en".to_string(), en.to_string()), ("de".to_string(), de.to_string())].into_iter().collect(),
    };
    let questions = vec![
        question(
            "segment",
            QuestionKind::SingleChoice,
            "Which customers do you mostly serve?",
            true,
            &["Small businesses", "Mid-market", "Enterprise", "Public sector"],
            "Pick the segment most of your revenue comes from.",
            "Wählen Sie das Segment, aus dem der Großteil Ihres Umsatzes stammt.",
        ),
        question(
            "products",
            QuestionKind::MultipleChoice,
            "Which Northwind product lines will you sell?",
            true,
            &["Desk phones", "Cloud PBX", "Headsets"],
            "Pick every line you plan to offer in the first year.",
            "Wählen Sie alle Linien, die Sie im ersten Jahr anbieten wollen.",
        ),
        question(
            "plan",
            QuestionKind::FreeText,
            "How will you win your first ten customers?",
            true,
            &[],
            "A few sentences are enough.",
            "Ein paar Sätze genügen.",
        ),
        question(
            "technicians",
            QuestionKind::Number,
            "How many certified technicians do you employ?",
            false,
            &[],
            "Count people, not certificates.",
            "Zählen Sie Personen, nicht Zertifikate.",
        ),
        question(
            "demo_room",
            QuestionKind::YesNo,
            "Do you run a demo room customers can visit?",
            false,
            &[],
            "A showroom or a meeting room with our phones installed.",
            "Ein Showroom oder Besprechungsraum mit unseren Telefonen.",
        ),
    ];
    crate::service::questionnaires::publish(ctx, Some(staff), program_id, questions).await?;
    let cara = identity::authenticate_token(&ctx.db, principal_of_user(users, "cara@"), None, ctx.now()).await?;
    let answers = vec![
        Answer { key: "segment".into(), choices: vec!["Mid-market".into()], ..Default::default() },
        Answer {
            key: "products".into(),
            choices: vec!["Desk phones".into(), "Cloud PBX".into()],
            ..Default::default()
        },
        Answer {
            key: "plan".into(),
            text: Some("Our existing Dublin IT-support customers first, then the hotel groups we wire.".into()),
            ..Default::default()
        },
        Answer { key: "technicians".into(), number: Some(Decimal::new(4, 0)), ..Default::default() },
    ];
    crate::service::questionnaires::answer(ctx, Some(&cara), program_id, answers).await?;
    Ok(())
}

/// A partnership year's fee recorded as paid by hand: a year and a day from now, past the end of
/// the year that starts now.
fn fee_year_paid(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    now + TimeDelta::days(366)
}

fn principal_of_user<'a>(users: &'a [DemoUser], prefix: &str) -> &'a str {
    users.iter().find(|u| u.email.starts_with(prefix)).map(|u| u.token.as_str()).unwrap_or_default()
}

/// Commission rules per tier (Gold and Silver 20%, raised to 30% in a quarter whose target was
/// met; Registered 5%), and partners of record: Alpine for Edelweiss and Fjord, confirmed by
/// their ADMINs; Celtic for Iberia; Baltic's claim on Garda waits for Giulia's answer.
async fn seed_partners_of_record(
    ctx: &Ctx,
    users: &[DemoUser],
    staff: &Principal,
    tiers: &[entity::tier::Model],
    customers: &[organization::Model],
    partners: &[organization::Model],
) -> AppResult<()> {
    use crate::service::ledger::{post, records};
    let now = ctx.now();
    let quarter_start = crate::domain::ledger::Quarter::of(now).previous().start();
    for (tier, percent, accelerator) in
        [(tiers.get(2), 20, Some((2_000, 30))), (tiers.get(1), 20, Some((500, 30))), (tiers.first(), 5, None)]
    {
        let Some(tier) = tier else { continue };
        let rule = post::NewRule {
            program_id: tier.program_id,
            tier_id: Some(tier.id),
            product_line: None,
            percent: Decimal::from(percent),
            accelerated_percent: accelerator.map(|(_, a)| Decimal::from(a)),
            quarterly_target: accelerator.map(|(t, _)| (Decimal::from(t), "EUR".to_string())),
            valid_from: quarter_start,
            valid_to: None,
        };
        post::create_rule(ctx, Some(staff), rule).await?;
    }
    let as_user = |prefix: &str| {
        let token = principal_of_user(users, prefix).to_string();
        async move { identity::authenticate_token(&ctx.db, &token, None, now).await }
    };
    let (anna, bruno, cara) = (as_user("anna@").await?, as_user("bruno@").await?, as_user("cara@").await?);
    let plan = [
        (&anna, 0, "erika@", "We designed and run Edelweiss's phone system."),
        (&anna, 1, "finn@", "We advise Fjord on its Cloud PBX roll-out."),
        (&cara, 4, "ines@", "We advise Iberia's clinics."),
    ];
    for (partner, customer, admin, note) in plan {
        let Some(customer) = customers.get(customer) else { continue };
        let claim = records::claim(ctx, Some(partner), customer.id, None, Some(note.into())).await?;
        let admin = as_user(admin).await?;
        records::decide(ctx, Some(&admin), claim.id, true).await?;
    }
    if let Some(garda) = customers.get(2) {
        records::claim(ctx, Some(&bruno), garda.id, None, Some("We set up Garda's reception phones.".into())).await?;
    }
    let _ = partners;
    Ok(())
}

/// Last quarter, before the demo's day: Baltic's and Celtic's commission as imported from the
/// programme's previous system (entries like any other, earned last quarter and released), then
/// the real quarter close (Baltic reached its 500 EUR target: a 30% adjustment) and a real
/// payout batch (Baltic paid; Celtic's 12.50 EUR held under the 20 EUR minimum; Alpine's new
/// commission still in its reversal window).
async fn seed_ledger_history(
    ctx: &Ctx,
    staff: &Principal,
    tiers: &[entity::tier::Model],
    partners: &[organization::Model],
) -> AppResult<()> {
    use crate::{
        domain::{EntryKind, EntrySource, EntryState, ledger::Quarter},
        service::ledger::{payouts, post},
    };
    let now = ctx.now();
    let last = Quarter::of(now).previous();
    let rules = post::rules(&ctx.db, Some(staff), tiers.first().map(|t| t.program_id).unwrap_or_default()).await?;
    let history = [
        (1, 1, "Garda Hotels Srl", Decimal::new(40_000, 2)),
        (1, 1, "Hanse Logistik GmbH", Decimal::new(25_000, 2)),
        (2, 0, "Iberia Clinics SL", Decimal::new(25_000, 2)),
    ];
    for (i, (partner, tier, customer, base)) in history.into_iter().enumerate() {
        let (Some(partner), Some(tier)) = (partners.get(partner), tiers.get(tier)) else { continue };
        let Some(rule) = rules.iter().find(|r| r.tier_id == Some(tier.id)) else { continue };
        let percent = rule.percent.to_decimal();
        let earned_at = last.start() + TimeDelta::days(20 + 10 * i as i64);
        let entry = post::NewEntry {
            partner_id: partner.id,
            kind: EntryKind::Commission,
            amount: crate::domain::ledger::commission(base, percent, "EUR"),
            currency: "EUR".into(),
            source_type: EntrySource::InvoiceLine,
            source_id: None,
            source_key: format!("demo-history:{last}:{i}"),
            customer_id: None,
            invoice_line_id: None,
            rule_id: Some(rule.id),
            rate: Some(percent),
            base: Some(base),
            reverses_entry_id: None,
            quarter: last,
            description: format!(
                "{}% commission on {base} EUR paid by {customer} ({last}, imported)",
                percent.normalize()
            ),
            earned_at,
            state: EntryState::Approved,
            hold_reason: None,
            release_at: None,
            batch_id: None,
            reason: None,
        };
        post::post(&ctx.db, entry, now).await?;
    }
    post::close_quarter(ctx, Some(staff), last).await?;
    payouts::run(ctx, Some(staff), &format!("demo-{last}"), "EUR").await?;
    Ok(())
}

/// Deals in every review status: a pair in conflict waiting for staff, an approved deal with a
/// special discount, one whose protection ends within 14 days, won, lost, rejected, a draft and
/// one waiting for the partner's answer. Danube Distribution reads them all, without contacts.
async fn seed_deals(
    ctx: &Ctx,
    users: &[DemoUser],
    staff: &crate::principal::Principal,
    customers: &[organization::Model],
    distributor: &organization::Model,
    products: &[entity::product::Model],
) -> AppResult<()> {
    use crate::domain::{DealLostReason, DealRejectionCode};
    use crate::service::deals::{self, Contact, NewDeal, Prospect, Review};
    let now = ctx.now();
    let who = |email: &str| users.iter().find(|u| u.email == email).map(|u| u.token.clone()).unwrap_or_default();
    let anna = identity::authenticate_token(&ctx.db, &who("anna@alpinevoice.example"), None, now).await?;
    let sam = identity::authenticate_token(&ctx.db, &who("sam@alpinevoice.example"), None, now).await?;
    let bruno = identity::authenticate_token(&ctx.db, &who("bruno@balticcloud.example"), None, now).await?;
    let cara = identity::authenticate_token(&ctx.db, &who("cara@celticcomms.example"), None, now).await?;
    let product = |i: usize| products.get(i).map(|p| p.id).unwrap_or_default();
    let deal = |customer: Option<Uuid>,
                prospect: Option<(&str, &str, &str)>,
                items: Vec<(usize, i32)>,
                value: i64,
                lead: (&str, &str)| NewDeal {
        customer_id: customer,
        prospect: prospect.map(|(name, domain, vat)| Prospect {
            name: name.into(),
            country: "DE".into(),
            domain: Some(domain.into()),
            vat_number: Some(vat.into()),
        }),
        products: items.into_iter().map(|(i, q)| (product(i), q)).collect(),
        estimated_value: (Decimal::new(value, 0), "EUR".into()),
        expected_close_date: (now + TimeDelta::days(60)).date_naive(),
        sales_lead: Contact { name: lead.0.into(), email: lead.1.into(), phone: Some("+43 1 555 0100".into()) },
        engineer: None,
        competitors: vec!["Contoso Voice".into()],
        distributor_id: distributor.id,
        next_steps: Some("Pilot with 20 phones in January.".into()),
        opportunity_exists: false,
        submit: true,
        idempotency_key: None,
    };
    let anna_lead = ("Anna Alpine", "anna@alpinevoice.example");
    let edelweiss = customers.first().map(|c| c.id);
    // Approved, with the programme's protection and a 10% special discount.
    let approved =
        deals::register(ctx, Some(&anna), deal(edelweiss, None, vec![(0, 40), (2, 40)], 36_000, anna_lead)).await?;
    let approve = |days: Option<i32>, discount: Option<i64>| Review::Approve {
        protection_days: days,
        special_discount_percent: discount.map(|d| Decimal::new(d, 0)),
    };
    deals::review(ctx, Some(staff), approved.deal.id, approve(None, Some(10))).await?;
    // Approved for ten days only: its protection ends within 14 days.
    let fjord = customers.get(1).map(|c| c.id);
    let ending = deals::register(ctx, Some(&anna), deal(fjord, None, vec![(1, 12)], 9_500, anna_lead)).await?;
    deals::review(ctx, Some(staff), ending.deal.id, approve(Some(10), None)).await?;
    // The pair in conflict: the same prospect by VAT number, written differently, one product shared.
    let contested = ("Zephyr Zahnkliniken GmbH", "zephyr-zahn.example", "DE 811 234 567");
    deals::register(ctx, Some(&anna), deal(None, Some(contested), vec![(0, 25)], 18_000, anna_lead)).await?;
    let bruno_lead = ("Bruno Baltic", "bruno@balticcloud.example");
    let contested_too = ("Zephyr Zahnkliniken", "zephyr-zahn.example", "de811234567");
    deals::register(ctx, Some(&bruno), deal(None, Some(contested_too), vec![(0, 30), (1, 5)], 21_000, bruno_lead))
        .await?;
    // Won and lost.
    let won = ("Rhein Reha Zentrum", "rhein-reha.example", "DE 300 000 001");
    let won = deals::register(ctx, Some(&anna), deal(None, Some(won), vec![(2, 60)], 42_000, anna_lead)).await?;
    deals::review(ctx, Some(staff), won.deal.id, approve(None, None)).await?;
    deals::close(ctx, Some(&anna), won.deal.id, true, None).await?;
    let lost = ("Mosel Mobility", "mosel-mobility.example", "DE 300 000 002");
    let lost = deals::register(ctx, Some(&anna), deal(None, Some(lost), vec![(1, 8)], 6_000, anna_lead)).await?;
    deals::review(ctx, Some(staff), lost.deal.id, approve(None, None)).await?;
    deals::close(ctx, Some(&anna), lost.deal.id, false, Some(DealLostReason::Competitor)).await?;
    // One whose protection ran out last month: approved 91 days ago in effect, then expired by
    // the job, history and all.
    let old = ("Donau Dental", "donau-dental.example", "AT U99887766");
    let old = deals::register(ctx, Some(&anna), deal(None, Some(old), vec![(1, 6)], 4_800, anna_lead)).await?;
    deals::review(ctx, Some(staff), old.deal.id, approve(Some(1), None)).await?;
    entity::deal::Entity::update_many()
        .col_expr(entity::deal::Column::ProtectedUntil, sea_orm::sea_query::Expr::value(now - TimeDelta::days(1)))
        .filter(entity::deal::Column::Id.eq(old.deal.id))
        .exec(&ctx.db)
        .await?;
    deals::run_expiry(ctx).await?;
    // Celtic: one waiting for its answer to staff's question, one rejected.
    let cara_lead = ("Cara Celtic", "cara@celticcomms.example");
    let iberia = customers.get(4).map(|c| c.id);
    let asked = deals::register(ctx, Some(&cara), deal(iberia, None, vec![(0, 15)], 12_000, cara_lead)).await?;
    deals::review(ctx, Some(staff), asked.deal.id, Review::Start).await?;
    let question = Review::Ask {
        fields: vec!["estimatedValue".into(), "expectedCloseDate".into()],
        question: "Is the value for the first year only, and is March realistic?".into(),
    };
    deals::review(ctx, Some(staff), asked.deal.id, question).await?;
    let rejected = ("Liffey Legal", "liffey-legal.example", "IE 1234567T");
    let rejected = deals::register(ctx, Some(&cara), deal(None, Some(rejected), vec![(2, 3)], 900, cara_lead)).await?;
    let reason = Review::Reject {
        code: DealRejectionCode::NotQualified,
        text: Some("Three seats are below the programme's deal threshold.".into()),
    };
    deals::review(ctx, Some(staff), rejected.deal.id, reason).await?;
    // Sam keeps a draft of his own (Anna, his ADMIN, sees it; other SALES users would not).
    let mut draft = deal(
        None,
        Some(("Salzach Steuerberatung", "salzach-stb.example", "ATU12345678")),
        vec![(0, 10)],
        7_000,
        ("Sam Sales", "sam@alpinevoice.example"),
    );
    draft.submit = false;
    deals::register(ctx, Some(&sam), draft).await?;
    Ok(())
}
