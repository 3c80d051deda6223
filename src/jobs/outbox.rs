//! The outbox worker, run by every node.
//!
//! 1. **Dispatch**: a notification not yet dispatched becomes one delivery per e-mail recipient
//!    (the members of its organisation who read its kind, or the one person or address it names)
//!    and per webhook endpoint of the organisation that wants its kind. The notification is
//!    marked by a conditional update in the same transaction, and the unique (notification,
//!    channel, target) index makes a second expansion a no-op.
//! 2. **Delivery**: due deliveries are claimed with a lease, by one UPDATE over a
//!    `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL (on SQLite writers are serialised, so
//!    the same conditional update is enough). Each try is recorded; a failure is retried on the
//!    schedule (exponential, jittered) until the last try makes it a dead letter. A node that dies
//!    holding a lease loses it when the lease ends: the delivery goes out again, carrying the same
//!    outbox id for receivers to recognise.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    delivery, delivery_attempt, membership, notification, organization, user, webhook_endpoint, webhook_secret,
};
use rand::RngExt;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, LockBehavior, LockType, Query},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    db,
    delivery::mail::Rendered,
    domain::{
        DeliveryChannel, DeliveryStatus, Language, UserKind,
        delivery::{language_for, sign},
        notifications::{Audiences, NotificationKind},
    },
    error::{AppError, AppResult},
    ids::{self, NodeType},
    service::Ctx,
};

const BATCH: u64 = 50;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub dispatched: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub dead: usize,
}

/// Dispatches what is new, then tries what is due, until nothing is left for now.
pub async fn run_once(ctx: &Ctx) -> AppResult<Pass> {
    run_until(ctx, None).await
}

/// `run_once`, stopping between deliveries once `stop` says so: the deliveries this pass leased
/// and did not try are released at once, for another node (or the next start) to send, instead
/// of waiting out their lease.
async fn run_until(ctx: &Ctx, stop: Option<&Stop>) -> AppResult<Pass> {
    let stopping = || stop.is_some_and(|s| *s.borrow());
    let mut pass = Pass::default();
    loop {
        let dispatched = dispatch(ctx).await?;
        pass.dispatched += dispatched;
        let claimed = claim(ctx).await?;
        let tried = claimed.len();
        let mut left = claimed.into_iter();
        for d in left.by_ref() {
            match deliver(ctx, d).await? {
                Some(DeliveryStatus::Delivered) => pass.delivered += 1,
                Some(DeliveryStatus::Pending) => pass.retrying += 1,
                Some(DeliveryStatus::Dead) => pass.dead += 1,
                None => {}
            }
            if stopping() {
                break;
            }
        }
        let untried: Vec<delivery::Model> = left.collect();
        if !untried.is_empty() {
            release(ctx, &untried).await?;
        }
        if dispatched == 0 && tried == 0 || stopping() {
            return Ok(pass);
        }
    }
}

/// Gives leased deliveries back (only while this pass still holds them).
async fn release(ctx: &Ctx, leased: &[delivery::Model]) -> AppResult<()> {
    for d in leased {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::LeaseUntil, Expr::value(None::<DateTime<Utc>>))
            .col_expr(delivery::Column::LeaseOwner, Expr::value(None::<Uuid>))
            .filter(delivery::Column::Id.eq(d.id))
            .filter(delivery::Column::LeaseOwner.eq(d.lease_owner))
            .exec(&ctx.db)
            .await?;
    }
    tracing::info!(released = leased.len(), "stopping: released the deliveries not yet tried");
    Ok(())
}

/// Turns undispatched notifications into deliveries; returns how many this node dispatched.
pub async fn dispatch(ctx: &Ctx) -> AppResult<usize> {
    let now = ctx.now();
    let fresh = notification::Entity::find()
        .filter(notification::Column::DispatchedAt.is_null())
        .order_by_asc(notification::Column::Id)
        .limit(BATCH)
        .all(&ctx.db)
        .await?;
    let mut done = 0;
    for n in fresh {
        let targets = targets_of(&ctx.db, &n).await?;
        let txn = db::begin_write(&ctx.db).await?;
        let claimed = notification::Entity::update_many()
            .col_expr(notification::Column::DispatchedAt, Expr::value(now))
            .filter(notification::Column::Id.eq(n.id))
            .filter(notification::Column::DispatchedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 0 {
            txn.rollback().await?;
            continue;
        }
        let rows: Vec<delivery::ActiveModel> = targets
            .into_iter()
            .map(|t| delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                notification_id: Set(n.id),
                channel: Set(t.channel),
                target: Set(t.target),
                endpoint_id: Set(t.endpoint_id),
                user_id: Set(t.user_id),
                language: Set(t.language),
                status: Set(DeliveryStatus::Pending),
                attempts: Set(0),
                next_attempt_at: Set(now),
                lease_until: Set(None),
                lease_owner: Set(None),
                last_attempt_at: Set(None),
                last_response_code: Set(None),
                last_error: Set(None),
                delivered_at: Set(None),
                created_at: Set(now),
            })
            .collect();
        if !rows.is_empty() {
            delivery::Entity::insert_many(rows)
                .on_conflict_do_nothing_on([
                    delivery::Column::NotificationId,
                    delivery::Column::Channel,
                    delivery::Column::Target,
                ])
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        // On SQLite (one process) this node's subscribers hear of it here, once it is surely
        // committed; on PostgreSQL the NOTIFY sent with the notification told every node.
        if ctx.db.get_database_backend() != sea_orm::DbBackend::Postgres {
            ctx.events.publish(crate::events::Event::Notification(n.id));
        }
        done += 1;
    }
    Ok(done)
}

struct Target {
    channel: DeliveryChannel,
    target: String,
    endpoint_id: Option<Uuid>,
    user_id: Option<Uuid>,
    language: Language,
}

/// Who receives a notification: the same people who see it in their list, and the endpoints
/// of its organisation that want its kind.
async fn targets_of(db: &impl ConnectionTrait, n: &notification::Model) -> AppResult<Vec<Target>> {
    let mut targets = Vec::new();
    if let Some(email) = &n.recipient_email {
        let language =
            n.payload.get("language").and_then(Value::as_str).and_then(Language::parse).unwrap_or(Language::En);
        targets.push(Target {
            channel: DeliveryChannel::Email,
            target: email.clone(),
            endpoint_id: None,
            user_id: None,
            language,
        });
        return Ok(targets);
    }
    let country = match n.organization_id {
        Some(id) => organization::Entity::find_by_id(id).one(db).await?.and_then(|o| o.country),
        None => None,
    };
    let people: Vec<user::Model> = match (n.organization_id, n.user_id) {
        (_, Some(user_id)) => user::Entity::find_by_id(user_id).one(db).await?.into_iter().collect(),
        (Some(org), None) => {
            let members = membership::Entity::find()
                .filter(membership::Column::OrganizationId.eq(org))
                .all(db)
                .await?
                .into_iter()
                .filter(|m| n.kind.read_by(m.role))
                .map(|m| m.user_id)
                .collect::<HashSet<_>>();
            if members.is_empty() {
                Vec::new()
            } else {
                user::Entity::find()
                    .filter(user::Column::Id.is_in(members))
                    .order_by_asc(user::Column::Id)
                    .all(db)
                    .await?
            }
        }
        (None, None) => Vec::new(),
    };
    for person in people {
        let Some(email) = person.email.clone().filter(|_| person.kind == UserKind::Person) else { continue };
        targets.push(Target {
            channel: DeliveryChannel::Email,
            target: email,
            endpoint_id: None,
            user_id: Some(person.id),
            language: language_for(person.language, country.as_deref()),
        });
    }
    if let (Some(org), None) = (n.organization_id, n.user_id) {
        let endpoints = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::OrganizationId.eq(org))
            .filter(webhook_endpoint::Column::Enabled.eq(true))
            .all(db)
            .await?;
        for e in endpoints.into_iter().filter(|e| wants(e, n.kind)) {
            targets.push(Target {
                channel: DeliveryChannel::Webhook,
                target: e.id.to_string(),
                endpoint_id: Some(e.id),
                user_id: None,
                language: Language::En,
            });
        }
    }
    Ok(targets)
}

/// An endpoint with no kinds listed wants every kind.
pub fn wants(endpoint: &webhook_endpoint::Model, kind: NotificationKind) -> bool {
    match endpoint.kinds.as_array() {
        Some(kinds) if !kinds.is_empty() => kinds.iter().any(|k| k.as_str() == Some(kind.as_str())),
        _ => true,
    }
}

/// Leases up to a batch of due deliveries to this pass.
pub async fn claim(ctx: &Ctx) -> AppResult<Vec<delivery::Model>> {
    let now = ctx.now();
    let owner = Uuid::now_v7();
    let due = Condition::all()
        .add(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .add(delivery::Column::NextAttemptAt.lte(now))
        .add(Condition::any().add(delivery::Column::LeaseUntil.is_null()).add(delivery::Column::LeaseUntil.lt(now)));
    let mut pick = Query::select();
    pick.column(delivery::Column::Id)
        .from(delivery::Entity)
        .cond_where(due.clone())
        .order_by(delivery::Column::NextAttemptAt, sea_orm::Order::Asc)
        .limit(BATCH)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    let claimed = delivery::Entity::update_many()
        .col_expr(delivery::Column::LeaseUntil, Expr::value(now + ctx.delivery.settings.lease))
        .col_expr(delivery::Column::LeaseOwner, Expr::value(owner))
        .filter(delivery::Column::Id.in_subquery(pick))
        .filter(due)
        .exec_with_returning(&ctx.db)
        .await?;
    Ok(claimed)
}

/// Tries one leased delivery and records the try; returns the status it is left in, or `None`
/// when the lease was lost meanwhile (another node owns the delivery now).
async fn deliver(ctx: &Ctx, d: delivery::Model) -> AppResult<Option<DeliveryStatus>> {
    let Some(n) = notification::Entity::find_by_id(d.notification_id).one(&ctx.db).await? else {
        return Err(AppError::internal(format!("delivery {} without its notification", d.id)));
    };
    let started = std::time::Instant::now();
    let attempted_at = ctx.now();
    let (response_code, error) = match d.channel {
        DeliveryChannel::Email => (None, send_email(ctx, &d, &n).await.err()),
        DeliveryChannel::Webhook => send_webhook(ctx, &d, &n).await?,
    };
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let attempts = d.attempts + 1;
    let retry = if error.is_some() {
        let jitter = rand::rng().random_range(0..=1000);
        ctx.delivery.settings.schedule.retry_after(attempts.unsigned_abs(), jitter)
    } else {
        None
    };
    let status = match (&error, retry) {
        (None, _) => DeliveryStatus::Delivered,
        (Some(_), Some(_)) => DeliveryStatus::Pending,
        (Some(_), None) => DeliveryStatus::Dead,
    };
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let recorded = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status.as_str()))
        .col_expr(delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(delivery::Column::LastAttemptAt, Expr::value(attempted_at))
        .col_expr(delivery::Column::LastResponseCode, Expr::value(response_code))
        .col_expr(delivery::Column::LastError, Expr::value(error.clone()))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(retry.map_or(now, |wait| now + wait)))
        .col_expr(delivery::Column::DeliveredAt, Expr::value((status == DeliveryStatus::Delivered).then_some(now)))
        .col_expr(delivery::Column::LeaseUntil, Expr::value(None::<DateTime<Utc>>))
        .col_expr(delivery::Column::LeaseOwner, Expr::value(None::<Uuid>))
        .filter(delivery::Column::Id.eq(d.id))
        .filter(delivery::Column::LeaseOwner.eq(d.lease_owner))
        .exec(&txn)
        .await?;
    if recorded.rows_affected == 0 {
        txn.rollback().await?;
        tracing::warn!(delivery = %d.id, "lease lost while delivering; the other node records it");
        return Ok(None);
    }
    delivery_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(d.id),
        number: Set(attempts),
        attempted_at: Set(attempted_at),
        succeeded: Set(error.is_none()),
        response_code: Set(response_code),
        error: Set(error.clone()),
        duration_ms: Set(duration_ms),
    }
    .insert(&txn)
    .await?;
    if status != DeliveryStatus::Pending {
        settle(&txn, &n, now).await?;
    }
    if status == DeliveryStatus::Dead
        && let Some(endpoint_id) = d.endpoint_id
    {
        crate::service::webhooks::disable_failing(&txn, endpoint_id, error.as_deref().unwrap_or("failed"), now).await?;
    }
    txn.commit().await?;
    match &error {
        Some(e) => {
            tracing::info!(delivery = %d.id, channel = %d.channel, attempts, status = %status, error = %e, "delivery failed")
        }
        None => tracing::debug!(delivery = %d.id, channel = %d.channel, "delivered"),
    }
    Ok(Some(status))
}

/// When none of a notification's deliveries waits any more: marks it delivered, and drops the
/// token of a mail with a link (an invitation, a tender's confirmation or key) from the stored
/// payload: the e-mail was its only way out.
async fn settle(txn: &impl ConnectionTrait, n: &notification::Model, now: DateTime<Utc>) -> AppResult<()> {
    let waiting = delivery::Entity::find()
        .filter(delivery::Column::NotificationId.eq(n.id))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .count(txn)
        .await?;
    if waiting > 0 {
        return Ok(());
    }
    let mut update = notification::Entity::update_many()
        .col_expr(notification::Column::DeliveredAt, Expr::value(now))
        .filter(notification::Column::Id.eq(n.id))
        .filter(notification::Column::DeliveredAt.is_null());
    if action_link(n.kind).is_some() {
        let mut payload = n.payload.clone();
        if let Some(object) = payload.as_object_mut() {
            object.remove("token");
        }
        update = update.col_expr(notification::Column::Payload, Expr::value(payload));
    }
    update.exec(txn).await?;
    Ok(())
}

async fn send_email(ctx: &Ctx, d: &delivery::Model, n: &notification::Model) -> Result<(), String> {
    let vars = email_vars(ctx, d, n).await.map_err(|e| e.public_message())?;
    let mail: Rendered = ctx.delivery.templates.render(n.kind, d.language, &vars)?;
    ctx.delivery.mailer.send(&d.target, &n.id.to_string(), &mail).await
}

/// What the templates see: the payload, the names of the organisations it mentions (a
/// `fooId` naming an organisation adds `fooName`), the recipient and links.
async fn email_vars(ctx: &Ctx, d: &delivery::Model, n: &notification::Model) -> AppResult<Value> {
    let mut vars = n.payload.as_object().cloned().unwrap_or_default();
    let mut organizations: BTreeMap<String, Uuid> = vars
        .iter()
        .filter_map(|(key, value)| {
            let prefix = key.strip_suffix("Id")?;
            let (kind, id) = ids::decode(value.as_str()?)?;
            (kind == NodeType::Organization).then(|| (format!("{prefix}Name"), id))
        })
        .collect();
    if let Some(org) = n.organization_id {
        organizations.insert("organization".into(), org);
    }
    let wanted: Vec<Uuid> = organizations.values().copied().collect();
    let names: HashMap<Uuid, String> = if wanted.is_empty() {
        HashMap::new()
    } else {
        organization::Entity::find()
            .filter(organization::Column::Id.is_in(wanted))
            .all(&ctx.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect()
    };
    for (key, id) in organizations {
        if let Some(name) = names.get(&id) {
            vars.entry(key).or_insert_with(|| json!(name));
        }
    }
    let recipient = match d.user_id {
        Some(id) => user::Entity::find_by_id(id).one(&ctx.db).await?.map(|u| u.display_name),
        None => None,
    };
    vars.insert("recipient_name".into(), json!(recipient.unwrap_or_else(|| d.target.clone())));
    vars.insert("message_id".into(), json!(n.id.to_string()));
    vars.insert("link".into(), json!(format!("{}/", ctx.delivery.public_url)));
    if let Some((path, label)) = action_link(n.kind)
        && let Some(token) = n.payload.get("token").and_then(Value::as_str)
    {
        let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        vars.insert("accept_link".into(), json!(format!("{}{path}{token}", ctx.delivery.public_url)));
        vars.insert("action".into(), json!(label));
    }
    Ok(Value::Object(vars))
}

/// The page a mail's button opens with the payload's token, and the layout text of the button.
fn action_link(kind: NotificationKind) -> Option<(&'static str, &'static str)> {
    match kind {
        NotificationKind::Invitation => Some(("/invitations/accept?token=", "accept")),
        NotificationKind::TenderConfirmation => Some(("/tenders/confirm?token=", "confirm")),
        NotificationKind::TenderPublished => Some(("/tenders/manage?key=", "manage")),
        _ => None,
    }
}

/// The body a webhook receives: the kind, when it happened, and the notification's payload.
pub fn webhook_body(n: &notification::Model) -> Vec<u8> {
    let body = json!({
        "type": n.kind.as_str(),
        "timestamp": n.created_at,
        "data": {
            "notificationId": ids::encode(NodeType::Notification, n.id),
            "organizationId": n.organization_id.map(|o| ids::encode(NodeType::Organization, o)),
            "payload": n.payload,
        },
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

async fn send_webhook(
    ctx: &Ctx,
    d: &delivery::Model,
    n: &notification::Model,
) -> AppResult<(Option<i32>, Option<String>)> {
    let Some(endpoint) = d.endpoint_id else { return Ok((None, Some("no endpoint".into()))) };
    let Some(endpoint) = webhook_endpoint::Entity::find_by_id(endpoint).one(&ctx.db).await? else {
        return Ok((None, Some("the endpoint was deleted".into())));
    };
    if !endpoint.enabled {
        return Ok((None, Some("the endpoint is disabled".into())));
    }
    let now = ctx.now();
    let secrets = webhook_secret::Entity::find()
        .filter(webhook_secret::Column::EndpointId.eq(endpoint.id))
        .filter(
            Condition::any()
                .add(webhook_secret::Column::ExpiresAt.is_null())
                .add(webhook_secret::Column::ExpiresAt.gt(now)),
        )
        .order_by_desc(webhook_secret::Column::Id)
        .all(&ctx.db)
        .await?;
    let body = webhook_body(n);
    let id = format!("msg_{}", n.id.simple());
    // The receiver checks the timestamp against its own clock (replay window): the real time,
    // not the application clock that tests move.
    let timestamp = Utc::now().timestamp();
    let signatures = secrets
        .iter()
        .map(|s| sign(&s.secret, &id, timestamp, &body))
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::internal)?;
    let headers =
        [("webhook-id", id), ("webhook-timestamp", timestamp.to_string()), ("webhook-signature", signatures.join(" "))];
    let answer = ctx.delivery.webhooks.post(&endpoint.url, &headers, body).await;
    Ok((answer.status.map(i32::from), if answer.succeeded() { None } else { answer.error }))
}

/// How far behind the outbox is, for /metrics.
pub struct Lag {
    /// Since the oldest notification not yet expanded into deliveries was written.
    pub undispatched: std::time::Duration,
    /// Pending deliveries due now.
    pub due: u64,
    /// Since the oldest of them fell due.
    pub delivery: std::time::Duration,
}

pub async fn lag(ctx: &Ctx) -> AppResult<Lag> {
    let now = ctx.now();
    let seconds = |at: Option<DateTime<Utc>>| at.and_then(|at| (now - at).to_std().ok()).unwrap_or_default();
    let oldest = notification::Entity::find()
        .filter(notification::Column::DispatchedAt.is_null())
        .order_by_asc(notification::Column::Id)
        .one(&ctx.db)
        .await?;
    let due = delivery::Entity::find()
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(delivery::Column::NextAttemptAt.lte(now));
    let count = due.clone().count(&ctx.db).await?;
    let first = due.order_by_asc(delivery::Column::NextAttemptAt).one(&ctx.db).await?;
    Ok(Lag {
        undispatched: seconds(oldest.map(|n| n.created_at)),
        due: count,
        delivery: seconds(first.map(|d| d.next_attempt_at)),
    })
}

/// Whether the process is stopping (SIGTERM): jobs finish what they hold and return.
pub type Stop = tokio::sync::watch::Receiver<bool>;

/// Runs passes until `stop`: every node, every `poll`.
pub fn spawn(ctx: Ctx, mut stop: Stop) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !*stop.borrow() {
            let ran = run_until(&ctx, Some(&stop)).await;
            crate::metrics::job("outbox", ran.is_ok());
            if let Err(err) = ran {
                err.report("outbox pass failed; retrying");
            }
            tokio::select! {
                () = tokio::time::sleep(ctx.delivery.settings.poll) => {}
                _ = stop.changed() => {}
            }
        }
    })
}
