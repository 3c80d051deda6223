//! Customer domains: claimed with a token, proven by the DNS TXT record
//! `partnerhub-verification=<token>` looked up through a configurable resolver.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use entity::domain;
use hickory_resolver::{
    Resolver,
    config::{NameServerConfig, ResolverConfig},
    net::runtime::TokioRuntimeProvider,
    proto::rr::RData,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, organizations};
use crate::{
    db,
    domain::{OrganizationKind, validate},
    error::{AppError, AppResult},
    policy,
    principal::Principal,
    secrets as token,
};

pub const TXT_PREFIX: &str = "partnerhub-verification=";

pub async fn insert(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<domain::Model> {
    let secret = token::generate();
    Ok(domain::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        name: Set(name.into()),
        // Public by design (it goes into DNS); 32 hex characters are plenty to be unguessable.
        token: Set(secret.hash[..32].to_string()),
        verified_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// Adds a domain to an organisation the principal administers (or, for a customer, manages
/// users of on its behalf).
pub async fn add(
    ctx: &Ctx,
    principal: Option<&Principal>,
    organization_id: Uuid,
    name: &str,
) -> AppResult<domain::Model> {
    let principal = policy::signed_in(principal)?;
    let org = organizations::find_visible(ctx, Some(principal), organization_id).await?;
    super::invitations::member_authority(ctx, principal, &org, &[]).await?;
    let name = field("domain", validate::domain(name))?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let created = insert(&txn, org.id, &name, now).await?;
    let event = audit::Event {
        action: "domain.added",
        target_type: "Domain",
        target_id: Some(created.id),
        customer_id: (org.kind == OrganizationKind::Customer).then_some(org.id),
        before: None,
        after: Some(json!({ "name": created.name })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Looks the TXT record up now; marks the domain verified when it carries the token.
pub async fn verify(
    ctx: &Ctx,
    resolver: Option<SocketAddr>,
    principal: Option<&Principal>,
    id: Uuid,
) -> AppResult<domain::Model> {
    let principal = policy::signed_in(principal)?;
    let found = domain::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AppError::NotFound("Domain"))?;
    let org = organizations::find_visible(ctx, Some(principal), found.organization_id)
        .await
        .map_err(|_| AppError::NotFound("Domain"))?;
    super::invitations::member_authority(ctx, principal, &org, &[]).await?;
    if found.verified_at.is_some() {
        return Ok(found);
    }
    let expected = format!("{TXT_PREFIX}{}", found.token);
    let records = txt_records(resolver, &found.name).await?;
    if !records.iter().any(|r| r == &expected) {
        return Err(AppError::bad_input("domain", format!("no TXT record {expected:?} found at {} yet", found.name)));
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let mut active: domain::ActiveModel = found.clone().into();
    active.verified_at = Set(Some(now));
    let verified = active.update(&txn).await?;
    let event = audit::Event {
        action: "domain.verified",
        target_type: "Domain",
        target_id: Some(verified.id),
        customer_id: (org.kind == OrganizationKind::Customer).then_some(org.id),
        before: None,
        after: Some(json!({ "name": verified.name })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    txn.commit().await?;
    Ok(verified)
}

async fn txt_records(resolver: Option<SocketAddr>, name: &str) -> AppResult<Vec<String>> {
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, "DNS lookup failed");
        AppError::bad_input("domain", "the DNS lookup failed; try again later")
    };
    let resolver = match resolver {
        Some(addr) => {
            let mut server = NameServerConfig::udp(addr.ip());
            for connection in &mut server.connections {
                connection.port = addr.port();
            }
            Resolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![server]),
                TokioRuntimeProvider::default(),
            )
            .build()
        }
        None => Resolver::builder_tokio().and_then(|b| b.build()),
    }
    .map_err(|e| unavailable(&e))?;
    let fqdn = format!("{name}.");
    match resolver.txt_lookup(fqdn).await {
        Ok(lookup) => Ok(lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::TXT(txt) => {
                    Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part).into_owned()).collect())
                }
                _ => None,
            })
            .collect()),
        Err(err) if err.is_no_records_found() => Ok(Vec::new()),
        Err(err) => Err(unavailable(&err)),
    }
}
