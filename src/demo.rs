//! `partnerhub demo`: a fresh database with a vendor, its staff, partners at different tiers,
//! customers, grants between them, and one API token per demo user.
//!
//! Organisations and tokens go through the same services as the API; programmes, tiers, people
//! and grants are written directly until their own capabilities exist.

use chrono::TimeDelta;
use entity::{grant, grant_assignment, grant_scope_item, organization, product, program, subscription, tier, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use uuid::Uuid;

use crate::{
    auth,
    domain::{OrganizationKind, Rights, Role, UserKind},
    error::AppResult,
    service::{Ctx, bootstrap, domains, invitations, organizations, people, tokens},
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
        people::insert_membership(&self.ctx.db, person.id, org.id, role, self.ctx.now()).await?;
        Ok(())
    }
}

async fn place(
    db: &impl ConnectionTrait,
    org: &organization::Model,
    program: &program::Model,
    tier: &tier::Model,
) -> AppResult<()> {
    organization::ActiveModel {
        id: Set(org.id),
        program_id: Set(Some(program.id)),
        tier_id: Set(Some(tier.id)),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

async fn grant(
    ctx: &Ctx,
    partner: &organization::Model,
    customer: &organization::Model,
    status: &str,
    rights: Rights,
) -> AppResult<grant::Model> {
    let now = ctx.now();
    Ok(grant::ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(partner.id),
        customer_id: Set(customer.id),
        status: Set(status.into()),
        rights: Set(rights.bits()),
        scope: Set("ACCOUNT".into()),
        requested_by: Set("PARTNER".into()),
        starts_at: Set(now),
        ends_at: Set(now + TimeDelta::days(365)),
        auto_extend: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        duration_days: Set(365),
        message: Set(None),
        requested_by_user_id: Set(None),
        auto_extended_at: Set(None),
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
        role: "ADMIN".into(),
        token: boot.token.clone(),
    });
    let vendor = boot.organization;
    seeder.person(&vendor, "Carl Channel", "carl.channel@northwind.example", Role::ChannelManager).await?;
    seeder.person(&vendor, "Fiona Finance", "fiona.finance@northwind.example", Role::Finance).await?;

    let staff = auth::authenticate_token(&ctx.db, &boot.token, None, now).await?;
    let create =
        |kind, name: &str, country: &str, domain: Option<&str>, vat: Option<&str>| organizations::NewOrganization {
            kind: Some(kind),
            name: name.into(),
            country: country.into(),
            domain: domain.map(Into::into),
            vat_number: vat.map(Into::into),
            website: domain.map(|d| format!("https://www.{d}")),
            registration_number: None,
        };

    let program = program::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set("Northwind Reseller Programme".into()),
        kind: Set("RESELLER".into()),
        currency: Set("EUR".into()),
        created_at: Set(now),
    }
    .insert(&ctx.db)
    .await?;
    let mut tiers = Vec::new();
    for (rank, name) in [(1, "Registered"), (2, "Silver"), (3, "Gold")] {
        tiers.push(
            tier::ActiveModel {
                id: Set(Uuid::now_v7()),
                program_id: Set(program.id),
                name: Set(name.into()),
                rank: Set(rank),
                created_at: Set(now),
            }
            .insert(&ctx.db)
            .await?,
        );
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
            place(&ctx.db, &org, &program, t).await?;
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
        (alpine, 0, "ACTIVE", Rights::ALL),
        (alpine, 1, "ACTIVE", Rights::MANAGE_PRODUCTS.union(Rights::VIEW_BILLING)),
        (alpine, 2, "PENDING", Rights::MANAGE_PRODUCTS),
        (baltic, 2, "ACTIVE", Rights::VIEW_BILLING),
        (baltic, 3, "ACTIVE", Rights::ALL),
        (celtic, 4, "ACTIVE", Rights::MANAGE_PRODUCTS.union(Rights::VIEW_BILLING)),
    ];
    let mut grants = Vec::new();
    let mut made = Vec::new();
    for (partner, customer, status, rights) in plan {
        let customer = &customers[customer];
        made.push(grant(ctx, partner, customer, status, rights).await?);
        grants.push((
            partner.name.clone(),
            customer.name.clone(),
            status.to_string(),
            rights.names(),
            "whole account".into(),
        ));
    }
    let edelweiss = &made[0];

    // A small catalog and two subscriptions per customer (plans and billing come with the catalog).
    let mut products = Vec::new();
    for (sku, name, line) in
        [("D785", "D785 Desk Phone", "D7xx"), ("D385", "D385 Desk Phone", "D3xx"), ("CPBX", "Cloud PBX", "CLOUD")]
    {
        products.push(
            product::ActiveModel {
                id: Set(Uuid::now_v7()),
                sku: Set(sku.into()),
                name: Set(name.into()),
                product_line: Set(line.into()),
                active: Set(true),
                created_at: Set(now),
            }
            .insert(&ctx.db)
            .await?,
        );
    }
    let mut pbx_of_garda = None;
    for (i, customer) in customers.iter().enumerate() {
        for (product, seats) in [(&products[i % 2], 10 * (i as i32 + 1)), (&products[2], 5)] {
            let row = subscription::ActiveModel {
                id: Set(Uuid::now_v7()),
                customer_id: Set(customer.id),
                product_id: Set(product.id),
                seats: Set(seats),
                status: Set("ACTIVE".into()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&ctx.db)
            .await?;
            if i == 2 && product.sku == "CPBX" {
                pbx_of_garda = Some(row.id);
            }
        }
    }
    // Baltic may only look at the bills of Garda's Cloud PBX: a subscription-scoped grant.
    if let (Some(scoped), Some(subscription_id)) = (made.get(3), pbx_of_garda) {
        grant::ActiveModel { id: Set(scoped.id), scope: Set("SUBSCRIPTIONS".into()), ..Default::default() }
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
    let anna = auth::authenticate_token(&ctx.db, &anna, None, now).await?;
    let email = "new.hire@alpinevoice.example";
    let (_, invitation_token) = invitations::invite(ctx, Some(&anna), alpine.id, email, Role::Sales).await?;

    Ok(Demo { users: seeder.users, invitation: (email.into(), invitation_token), grants })
}
