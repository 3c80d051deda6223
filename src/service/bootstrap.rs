//! How a real deployment gets its first user: the vendor organisation and its first ADMIN.

use entity::{membership, organization, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, optional_field, organizations, tokens};
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
    let organization = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(OrganizationKind::Vendor.as_str().into()),
        name: Set(name),
        country: Set(country),
        domain: Set(None),
        vat_number: Set(None),
        registration_number: Set(None),
        website: Set(None),
        program_id: Set(None),
        tier_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let display_name = email.split('@').next().unwrap_or(&email).to_string();
    let admin = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(UserKind::Person.as_str().into()),
        oidc_issuer: Set(None),
        oidc_subject: Set(None),
        email: Set(Some(email.clone())),
        email_verified: Set(false),
        display_name: Set(display_name),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(admin.id),
        organization_id: Set(organization.id),
        role: Set(Role::Admin.as_str().into()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
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
