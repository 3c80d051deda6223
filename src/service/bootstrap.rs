//! How a real deployment gets its first user: the vendor organisation and its first ADMIN.

use entity::{organization, user};
use serde_json::json;

use super::{Ctx, audit, field, optional_field, organizations, people, tokens};
use crate::{
    db,
    domain::{OrganizationKind, Role, UserKind, validate},
    error::{AppError, AppResult},
};

pub struct Bootstrapped {
    pub organization: organization::Model,
    pub admin: user::Model,
    pub token: String,
}

/// Refused once a vendor exists. The admin has no SSO identity yet: it is linked when they first
/// sign in through an invitation to their verified e-mail address.
pub async fn bootstrap(
    ctx: &Ctx,
    vendor_name: &str,
    admin_email: &str,
    country: Option<&str>,
) -> AppResult<Bootstrapped> {
    let name = field("vendorName", validate::name(vendor_name, 200))?;
    let email = field("adminEmail", validate::email(admin_email))?;
    let country = optional_field("country", country, validate::country)?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    if organizations::vendor_exists(&txn).await? {
        return Err(AppError::Conflict("this deployment already has a vendor; bootstrap runs only once".into()));
    }
    let organization = people::insert_organization(
        &txn,
        OrganizationKind::Vendor,
        people::OrganizationFields { name, country, ..Default::default() },
        now,
    )
    .await?;
    let display_name = email.split('@').next().unwrap_or(&email).to_string();
    let admin = people::insert_user(
        &txn,
        people::NewUser {
            kind: UserKind::Person,
            display_name: &display_name,
            email: Some(&email),
            email_verified: false,
        },
        now,
    )
    .await?;
    people::insert_membership(&txn, admin.id, organization.id, Role::Admin, people::Invited::default(), now).await?;
    let (_, token) = tokens::issue(&txn, admin.id, "bootstrap".into(), None, now).await?;
    audit::record(
        &txn,
        None,
        audit::Event {
            action: "deployment.bootstrapped",
            target_type: "Organization",
            target_id: Some(organization.id),
            customer_id: None,
            before: None,
            after: Some(json!({ "vendor": organization.name, "adminEmail": email })),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Bootstrapped { organization, admin, token })
}
