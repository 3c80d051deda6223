//! Rebate claims (issue 16, part two): a Silver or Gold partner proves purchases from an approved
//! distributor with the invoice file; the rebate is priced from the rates in force on the invoice
//! date and frozen; duplicates are refused at submission across all partners; staff accept (a
//! REBATE ledger entry) or reject (its reversal, when it was accepted); the distributor marks the
//! lines it confirms or disputes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use entity::{
    distributor_approval, ledger_entry, partnership, product, program, rebate_claim, rebate_claim_line, rebate_rate,
    stored_file, tier,
};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, SqlErr,
    sea_query::{Alias, Expr, ExprTrait, Func, Query},
};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    db,
    domain::{
        ClaimRejection, ClaimStatus, EntryKind, EntrySource, EntryState, LineMark,
        ledger::Quarter,
        notifications::NotificationKind,
        rebates::{self, InvoiceFile, Validity},
    },
    error::{AppError, AppResult},
    ids::{self, NodeType},
    policy::{self, Action},
    principal::Principal,
    service::{Ctx, audit, exact, idempotency, ledger, notifications},
};

/// Claims the principal sees (`policy::rebate_claims_scope`).
pub fn visible(principal: Option<&Principal>) -> Select<rebate_claim::Entity> {
    rebate_claim::Entity::find().filter(policy::rebate_claims_scope(principal))
}

/// What a claims list may be narrowed to.
#[derive(Default)]
pub struct Filter {
    pub status: Option<ClaimStatus>,
    pub partner_id: Option<Uuid>,
    pub distributor_id: Option<Uuid>,
}

pub fn filtered(principal: Option<&Principal>, filter: &Filter) -> Select<rebate_claim::Entity> {
    let mut select = visible(principal);
    if let Some(status) = filter.status {
        select = select.filter(rebate_claim::Column::Status.eq(status));
    }
    if let Some(id) = filter.partner_id {
        select = select.filter(rebate_claim::Column::PartnerId.eq(id));
    }
    if let Some(id) = filter.distributor_id {
        select = select.filter(rebate_claim::Column::DistributorId.eq(id));
    }
    select
}

/// The largest upload any programme accepts: the limit a multipart request is cut at while it
/// streams in. Each programme's own limit is checked again on the claim.
pub async fn upload_limit(db: &impl ConnectionTrait) -> AppResult<u64> {
    let largest: Option<Option<i64>> = program::Entity::find()
        .select_only()
        .expr(Func::max(Expr::col(program::Column::RebateFileMaxBytes)))
        .into_tuple()
        .one(db)
        .await?;
    let bytes = largest.flatten().unwrap_or(rebates::DEFAULT_FILE_MAX_BYTES);
    Ok(u64::try_from(bytes).unwrap_or(0))
}

/// The uploaded invoice: the name it came with (display only) and its temporary file.
pub struct Invoice {
    pub name: String,
    pub file: std::fs::File,
}

pub struct NewClaim {
    pub program_id: Option<Uuid>,
    pub distributor_id: Uuid,
    pub invoice_number: String,
    pub invoice_date: NaiveDate,
    /// Products and quantities.
    pub lines: Vec<(Uuid, i32)>,
    pub invoice: Invoice,
    pub idempotency_key: Option<String>,
}

/// What the file is, by its content: its kind, hash and size. Read in parts from the temporary
/// file, stopping at the programme's limit; the file is rewound for storing.
struct Examined {
    kind: InvoiceFile,
    sha256: String,
    size: i64,
    file: std::fs::File,
}

async fn examine(file: std::fs::File, max_bytes: i64) -> AppResult<Examined> {
    let examined = tokio::task::spawn_blocking(move || -> AppResult<Examined> {
        use std::io::{Read, Seek};
        let mut file = file;
        file.rewind().map_err(|e| AppError::internal(format!("upload: {e}")))?;
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(InvoiceFile::SNIFF_LEN);
        let mut size: i64 = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf).map_err(|e| AppError::internal(format!("upload: {e}")))?;
            if n == 0 {
                break;
            }
            if head.len() < InvoiceFile::SNIFF_LEN {
                let take = (InvoiceFile::SNIFF_LEN - head.len()).min(n);
                head.extend_from_slice(&buf[..take]);
            }
            size += n as i64;
            if size > max_bytes {
                return Err(too_large(max_bytes));
            }
            hasher.update(&buf[..n]);
        }
        if size == 0 {
            return Err(AppError::bad_input("file", "is empty"));
        }
        let kind = InvoiceFile::sniff(&head)
            .ok_or_else(|| AppError::bad_input("file", "must be a PDF, JPEG or PNG (judged by its content)"))?;
        file.rewind().map_err(|e| AppError::internal(format!("upload: {e}")))?;
        Ok(Examined { kind, sha256: hex::encode(hasher.finalize()), size, file })
    })
    .await
    .map_err(|e| AppError::internal(format!("upload: {e}")))??;
    Ok(examined)
}

pub fn too_large(max_bytes: i64) -> AppError {
    AppError::bad_input("file", format!("is larger than the programme's limit of {}", human_bytes(max_bytes)))
}

fn human_bytes(bytes: i64) -> String {
    if bytes % (1024 * 1024) == 0 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes % 1024 == 0 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// The partner's place in the programme it claims in: the one named, else the first of its
/// programmes with a rebate table.
async fn place(
    db: &impl ConnectionTrait,
    partner_id: Uuid,
    program_id: Option<Uuid>,
) -> AppResult<(partnership::Model, program::Model)> {
    let places = ledger::places_of(db, partner_id).await?.0;
    let with_rates: Vec<Uuid> = rebate_rate::Entity::find()
        .select_only()
        .column(rebate_rate::Column::ProgramId)
        .distinct()
        .filter(rebate_rate::Column::ProgramId.is_in(places.iter().map(|(p, _)| p.program_id)))
        .into_tuple()
        .all(db)
        .await?;
    let chosen = match program_id {
        Some(id) => places.into_iter().find(|(p, _)| p.program_id == id),
        None => {
            let mut places = places;
            let at = places.iter().position(|(p, _)| with_rates.contains(&p.program_id)).unwrap_or(0);
            (!places.is_empty()).then(|| places.swap_remove(at))
        }
    };
    chosen.ok_or_else(|| AppError::bad_input("programId", "your organisation is not a partner in that programme"))
}

/// The tiers of a programme whose partners may claim: those with rates in its rebate table.
async fn claiming_tiers(db: &impl ConnectionTrait, program_id: Uuid) -> AppResult<Vec<tier::Model>> {
    let with_rates = Query::select()
        .column(rebate_rate::Column::TierId)
        .from(rebate_rate::Entity)
        .and_where(rebate_rate::Column::ProgramId.eq(program_id))
        .to_owned();
    Ok(tier::Entity::find()
        .filter(tier::Column::Id.in_subquery(with_rates))
        .order_by_asc(tier::Column::Rank)
        .all(db)
        .await?)
}

fn names_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The earlier claim that makes this one a duplicate, and which rule it broke.
async fn earlier(
    db: &impl ConnectionTrait,
    distributor_id: Uuid,
    invoice_key: &str,
    invoice_date: NaiveDate,
    lines_key: &str,
    sha256: &str,
) -> AppResult<Option<(rebate_claim::Model, &'static str)>> {
    let same_file = Query::select()
        .column(stored_file::Column::Id)
        .from(stored_file::Entity)
        .and_where(stored_file::Column::Sha256.eq(sha256))
        .to_owned();
    let found = rebate_claim::Entity::find()
        .filter(rebate_claim::Column::Status.ne(ClaimStatus::Rejected))
        .filter(
            Condition::any()
                .add(
                    Condition::all().add(rebate_claim::Column::DistributorId.eq(distributor_id)).add(
                        Condition::any().add(rebate_claim::Column::InvoiceKey.eq(invoice_key)).add(
                            Condition::all()
                                .add(rebate_claim::Column::InvoiceDate.eq(invoice_date))
                                .add(rebate_claim::Column::LinesKey.eq(lines_key)),
                        ),
                    ),
                )
                .add(rebate_claim::Column::FileId.in_subquery(same_file)),
        )
        .order_by_asc(rebate_claim::Column::Id)
        .one(db)
        .await?;
    Ok(found.map(|c| {
        let why = if c.distributor_id == distributor_id && c.invoice_key == invoice_key {
            "invoiceNumber"
        } else if c.distributor_id == distributor_id && c.invoice_date == invoice_date && c.lines_key == lines_key {
            "lines"
        } else {
            "file"
        };
        (c, why)
    }))
}

/// The refusal of a duplicate: it names the earlier claim only to the partner that filed it.
fn duplicate(field: &'static str, earlier: Option<&rebate_claim::Model>, partner_id: Uuid) -> AppError {
    let reason = match field {
        "invoiceNumber" => "this distributor's invoice number was already claimed",
        "lines" => "a claim with the same distributor, invoice date, products and quantities exists",
        _ => "this invoice file was already submitted",
    };
    let message = match earlier {
        Some(c) if c.partner_id == partner_id => format!(
            "{reason}: your claim {} of {} ({})",
            ids::encode(NodeType::RebateClaim, c.id),
            c.created_at.date_naive(),
            c.status
        ),
        _ => reason.to_string(),
    };
    AppError::ConflictOn { field, message }
}

/// A unique index of the claims refused an insert: a concurrent duplicate won the race.
fn duplicate_from_index(err: &sea_orm::DbErr) -> Option<&'static str> {
    let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() else { return None };
    if detail.contains("ux_rebate_claims_invoice") || detail.contains("rebate_claims.invoice_key") {
        Some("invoiceNumber")
    } else if detail.contains("ux_rebate_claims_lines") || detail.contains("rebate_claims.lines_key") {
        Some("lines")
    } else if detail.contains("ux_rebate_claims_file") || detail.contains("rebate_claims.file_id") {
        Some("file")
    } else {
        None
    }
}

/// Submits a claim. The file is judged and hashed before anything is stored; a duplicate is
/// refused before the file is kept; a retry with the same idempotency key gets the first claim.
#[tracing::instrument(skip_all)]
pub async fn submit(ctx: &Ctx, principal: Option<&Principal>, new: NewClaim) -> AppResult<rebate_claim::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::SubmitRebateClaim)?;
    let partner_id = policy::acting(principal)?.organization_id();
    let now = ctx.now();
    let number = new.invoice_number.trim().to_string();
    let invoice_key = rebates::invoice_number_key(&number);
    if invoice_key.is_empty() || number.chars().count() > 64 {
        return Err(AppError::bad_input("invoiceNumber", "must be 1 to 64 characters with letters or digits"));
    }
    if new.invoice_date > now.date_naive() {
        return Err(AppError::bad_input("invoiceDate", "must not be in the future"));
    }
    if new.lines.is_empty() || new.lines.len() > 50 {
        return Err(AppError::bad_input("lines", "must hold 1 to 50 products"));
    }
    if new.lines.iter().any(|(_, q)| !(1..=1_000_000).contains(q)) {
        return Err(AppError::bad_input("lines", "quantities must be 1 to 1000000"));
    }
    let file_name: String = new.invoice.name.chars().filter(|c| !c.is_control()).take(200).collect();
    let (place, program) = place(&ctx.db, partner_id, new.program_id).await?;
    let examined = examine(new.invoice.file, program.rebate_file_max_bytes).await?;

    // The tier: only one with rates in the table may claim, and the message says which do.
    let tiers = claiming_tiers(&ctx.db, program.id).await?;
    if !tiers.iter().any(|t| t.id == place.tier_id) {
        let names: Vec<String> = tiers.iter().map(|t| t.name.clone()).collect();
        let message = if names.is_empty() {
            "this programme has no rebate table yet".to_string()
        } else {
            format!("rebate claims are open to partners of the {} tier", names_list(&names))
        };
        return Err(AppError::Forbidden(message));
    }
    let approved = distributor_approval::Entity::find_by_id(new.distributor_id)
        .filter(distributor_approval::Column::Active.eq(true))
        .one(&ctx.db)
        .await?;
    if approved.is_none() {
        return Err(AppError::bad_input("distributorId", "is not on the approved distributor list"));
    }

    // Price each line at the rate in force on the invoice date, for the partner's tier.
    let product_ids: Vec<Uuid> = new.lines.iter().map(|(p, _)| *p).collect();
    let products: HashMap<Uuid, product::Model> = product::Entity::find()
        .filter(product::Column::Id.is_in(product_ids.clone()))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    if let Some((missing, _)) = new.lines.iter().find(|(p, _)| !products.contains_key(p)) {
        return Err(AppError::bad_input("lines", format!("no product {}", ids::encode(NodeType::Product, *missing))));
    }
    let day = Utc.from_utc_datetime(&new.invoice_date.and_time(chrono::NaiveTime::MIN));
    let in_force: Vec<rebate_rate::Model> = rebate_rate::Entity::find()
        .filter(rebate_rate::Column::TierId.eq(place.tier_id))
        .filter(rebate_rate::Column::Currency.eq(program.currency.as_str()))
        .filter(rebate_rate::Column::ValidFrom.lte(day))
        .all(&ctx.db)
        .await?
        .into_iter()
        .filter(|r| Validity { from: r.valid_from, to: r.valid_to }.covers(day))
        .collect();
    let rate_of = |line: &str| in_force.iter().find(|r| rebates::product_line_key(&r.product_line) == line);
    let priced: Vec<(String, i64)> =
        new.lines.iter().map(|(p, q)| (products[p].product_line.clone(), i64::from(*q))).collect();
    let total = rebates::rebate_total(&priced, |line| rate_of(line).map(|r| r.amount_per_unit.to_decimal()))
        .map_err(|message| AppError::bad_input("lines", message))?;
    let keyed: Vec<(String, i64)> = new.lines.iter().map(|(p, q)| (p.to_string(), i64::from(*q))).collect();
    let lines_key = rebates::lines_key(&keyed);

    let canonical = json!({
        "program": program.id, "distributor": new.distributor_id, "number": invoice_key,
        "date": new.invoice_date, "lines": lines_key, "file": examined.sha256,
    });
    let key = new
        .idempotency_key
        .as_deref()
        .map(|k| idempotency::Key::new(principal.user_id(), "submitRebateClaim", k, &canonical))
        .transpose()?;
    if let Some(key) = &key
        && let Some(id) = idempotency::previous(&ctx.db, key).await?
    {
        return find(&ctx.db, Some(principal), id).await;
    }
    if let Some((claim, field)) =
        earlier(&ctx.db, new.distributor_id, &invoice_key, new.invoice_date, &lines_key, &examined.sha256).await?
    {
        // The earlier claim may be this very request's, sent twice at once: it committed its key
        // with the claim, so the key tells.
        if let Some(key) = &key
            && let Some(id) = idempotency::previous(&ctx.db, key).await?
        {
            return find(&ctx.db, Some(principal), id).await;
        }
        return Err(duplicate(field, Some(&claim), partner_id));
    }
    // Content-addressed, so storing before the transaction is safe: a claim that then fails
    // leaves bytes that the next upload of the same file reuses.
    ctx.files.put(&examined.sha256, examined.file).await?;

    let recorded: AppResult<rebate_claim::Model> = async {
        let txn = db::begin_write(&ctx.db).await?;
        let file_id = match stored_file::Entity::find()
            .filter(stored_file::Column::Sha256.eq(examined.sha256.as_str()))
            .one(&txn)
            .await?
        {
            Some(f) => f.id,
            None => {
                let row = stored_file::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    sha256: Set(examined.sha256.clone()),
                    content_type: Set(examined.kind.content_type().to_string()),
                    size_bytes: Set(examined.size),
                    uploaded_by_user_id: Set(principal.user_id()),
                    created_at: Set(now),
                };
                stored_file::Entity::insert(row.clone())
                    .on_conflict_do_nothing_on([stored_file::Column::Sha256])
                    .exec_without_returning(&txn)
                    .await?;
                stored_file::Entity::find()
                    .filter(stored_file::Column::Sha256.eq(examined.sha256.as_str()))
                    .one(&txn)
                    .await?
                    .ok_or_else(|| AppError::internal("a stored file vanished"))?
                    .id
            }
        };
        let id = Uuid::now_v7();
        let claim = rebate_claim::ActiveModel {
            id: Set(id),
            partner_id: Set(partner_id),
            program_id: Set(program.id),
            tier_id: Set(place.tier_id),
            distributor_id: Set(new.distributor_id),
            submitted_by_user_id: Set(principal.user_id()),
            invoice_number: Set(number),
            invoice_key: Set(invoice_key),
            invoice_date: Set(new.invoice_date),
            lines_key: Set(lines_key),
            file_id: Set(file_id),
            file_name: Set(file_name),
            amount: Set(exact(total)?),
            currency: Set(program.currency.clone()),
            status: Set(ClaimStatus::Open),
            rejection_code: Set(None),
            rejection_text: Set(None),
            reviewed_by_user_id: Set(None),
            reviewed_at: Set(None),
            accepted_at: Set(None),
            distributor_note: Set(None),
            distributor_marked_by_user_id: Set(None),
            distributor_marked_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let created = match claim.insert(&txn).await {
            Ok(c) => c,
            Err(err) => {
                drop(txn);
                return Err(match duplicate_from_index(&err) {
                    Some(field) => duplicate(field, None, partner_id),
                    None => err.into(),
                });
            }
        };
        for (position, ((product_id, quantity), (line, _))) in new.lines.iter().zip(&priced).enumerate() {
            let rate = rate_of(&rebates::product_line_key(line))
                .ok_or_else(|| AppError::internal("a priced rate vanished"))?;
            let per_unit = rate.amount_per_unit.to_decimal();
            rebate_claim_line::ActiveModel {
                id: Set(Uuid::now_v7()),
                claim_id: Set(id),
                position: Set(position as i32 + 1),
                product_id: Set(*product_id),
                product_line: Set(line.clone()),
                quantity: Set(*quantity),
                rate_id: Set(rate.id),
                amount_per_unit: Set(rate.amount_per_unit),
                amount: Set(exact(per_unit * Decimal::from(*quantity))?),
                distributor_mark: Set(None),
            }
            .insert(&txn)
            .await?;
        }
        let event = audit::Event {
            action: "rebate_claim.submitted",
            target_type: "RebateClaim",
            target_id: Some(id),
            customer_id: None,
            before: None,
            after: Some(json!({
                "distributor": created.distributor_id, "invoiceNumber": created.invoice_number,
                "amount": created.amount, "currency": created.currency, "file": examined.sha256,
            })),
        };
        audit::record(&txn, Some(principal), event, now).await?;
        if let Some(key) = &key {
            idempotency::remember(&txn, key, id, now).await?;
        }
        txn.commit().await.map_err(|err| match duplicate_from_index(&err) {
            Some(field) => duplicate(field, None, partner_id),
            None => err.into(),
        })?;
        Ok(created)
    }
    .await;
    match recorded {
        Ok(created) => Ok(created),
        // The same request sent twice at once: the one that lost the race answers with the
        // winner's claim, as a later retry would.
        Err(err) => {
            let Some(key) = &key else { return Err(err) };
            match idempotency::previous(&ctx.db, key).await.ok().flatten() {
                Some(id) => find(&ctx.db, Some(principal), id).await,
                None => Err(err),
            }
        }
    }
}

pub async fn find(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    id: Uuid,
) -> AppResult<rebate_claim::Model> {
    visible(principal).filter(rebate_claim::Column::Id.eq(id)).one(db).await?.ok_or(AppError::NotFound("RebateClaim"))
}

/// A staff decision on a claim.
pub enum Decision {
    Accept,
    Reject { code: ClaimRejection, text: Option<String> },
}

/// Accepts an open claim (its rebate goes to the ledger, owed), or rejects an open or accepted
/// one (an accepted one's rebate is reversed). The status changes only from the one read, so
/// two reviewers at once cannot both decide.
#[tracing::instrument(skip_all, fields(claim = %id))]
pub async fn decide(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    decision: Decision,
) -> AppResult<rebate_claim::Model> {
    let principal = policy::signed_in(principal)?;
    let text = match &decision {
        Decision::Reject { code, text } => {
            let text = text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
            if *code == ClaimRejection::Other && text.is_none() {
                return Err(AppError::bad_input("text", "say why when the reason is OTHER"));
            }
            if text.as_ref().is_some_and(|t| t.chars().count() > 2000) {
                return Err(AppError::bad_input("text", "must be at most 2000 characters"));
            }
            text
        }
        Decision::Accept => None,
    };
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    // A claim the caller cannot see is NOT_FOUND; only a visible one answers FORBIDDEN.
    let claim = find(&txn, Some(principal), id).await?;
    policy::can(principal, Action::ReviewRebateClaims)?;
    let to = match (&decision, claim.status) {
        (Decision::Accept, ClaimStatus::Open) => ClaimStatus::Accepted,
        (Decision::Reject { .. }, ClaimStatus::Open | ClaimStatus::Accepted) => ClaimStatus::Rejected,
        (Decision::Accept, status) => {
            return Err(AppError::Conflict(format!("only an OPEN claim can be accepted; this one is {status}")));
        }
        (Decision::Reject { .. }, status) => {
            return Err(AppError::Conflict(format!("this claim is already {status}")));
        }
    };
    let mut change = rebate_claim::ActiveModel {
        status: Set(to),
        reviewed_by_user_id: Set(Some(principal.user_id())),
        reviewed_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    };
    if let Decision::Reject { code, .. } = &decision {
        change.rejection_code = Set(Some(*code));
        change.rejection_text = Set(text.clone());
    } else {
        change.accepted_at = Set(Some(now));
    }
    let updated = rebate_claim::Entity::update_many()
        .set(change)
        .filter(rebate_claim::Column::Id.eq(claim.id))
        .filter(rebate_claim::Column::Status.eq(claim.status))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::Conflict("another reviewer decided this claim at the same time".into()));
    }
    let source_key = format!("rebate-claim:{}", claim.id);
    let mut reversed = false;
    match to {
        ClaimStatus::Accepted => {
            let entry = ledger::post::NewEntry {
                partner_id: claim.partner_id,
                kind: EntryKind::Rebate,
                amount: claim.amount.to_decimal(),
                currency: claim.currency.clone(),
                source_type: EntrySource::Claim,
                source_id: Some(claim.id),
                source_key,
                customer_id: None,
                invoice_line_id: None,
                rule_id: None,
                rate: None,
                base: None,
                reverses_entry_id: None,
                quarter: Quarter::of(now),
                description: format!("rebate on invoice {} of {}", claim.invoice_number, claim.invoice_date),
                earned_at: now,
                state: EntryState::Approved,
                hold_reason: None,
                release_at: None,
                batch_id: None,
                reason: None,
            };
            ledger::post::post(&txn, entry, now).await?;
        }
        _ if claim.status == ClaimStatus::Accepted => {
            let entry = ledger_entry::Entity::find()
                .filter(ledger_entry::Column::SourceKey.eq(source_key.as_str()))
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::internal("an accepted claim has no ledger entry"))?;
            let states = ledger::current_states(&txn, &[entry.id]).await?;
            let current = states.get(&entry.id).ok_or_else(|| AppError::internal("a ledger entry has no state"))?;
            let why = format!("rebate claim rejected after acceptance ({})", rejection_code(&decision));
            reversed = ledger::post::reverse(&txn, &entry, current, &why, now).await?;
        }
        _ => {}
    }
    let decided = find(&txn, Some(principal), id).await?;
    let event = audit::Event {
        action: if to == ClaimStatus::Accepted { "rebate_claim.accepted" } else { "rebate_claim.rejected" },
        target_type: "RebateClaim",
        target_id: Some(claim.id),
        customer_id: None,
        before: Some(json!({ "status": claim.status.as_str() })),
        after: Some(json!({
            "status": to.as_str(), "reason": decided.rejection_code.map(|c| c.as_str()), "text": text,
            "reversed": reversed,
        })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    let payload = json!({
        "claimId": ids::encode(NodeType::RebateClaim, claim.id),
        "invoiceNumber": claim.invoice_number,
        "status": to.as_str(),
        "reason": decided.rejection_code.map(|c| c.as_str()),
        "reasonText": text,
    });
    notifications::enqueue(&txn, NotificationKind::RebateClaimDecided, claim.partner_id, None, payload, now).await?;
    txn.commit().await?;
    Ok(decided)
}

fn rejection_code(decision: &Decision) -> &'static str {
    match decision {
        Decision::Reject { code, .. } => code.as_str(),
        Decision::Accept => "",
    }
}

/// The distributor's mark on a claim's lines: confirmed or disputed, with a note for staff.
/// Lines not named keep their mark; the claim's decision is staff's alone.
#[tracing::instrument(skip_all, fields(claim = %id))]
pub async fn mark(
    ctx: &Ctx,
    principal: Option<&Principal>,
    id: Uuid,
    marks: Vec<(Uuid, LineMark)>,
    note: Option<String>,
) -> AppResult<rebate_claim::Model> {
    let principal = policy::signed_in(principal)?;
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::bad_input("note", "must be at most 2000 characters"));
    }
    if marks.is_empty() {
        return Err(AppError::bad_input("lines", "mark at least one line"));
    }
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let claim = find(&txn, Some(principal), id).await?;
    policy::can(principal, Action::MarkRebateClaim { claim: &claim })?;
    if claim.status == ClaimStatus::Rejected {
        return Err(AppError::Conflict("this claim was rejected; there is nothing left to confirm".into()));
    }
    let lines =
        rebate_claim_line::Entity::find().filter(rebate_claim_line::Column::ClaimId.eq(claim.id)).all(&txn).await?;
    for (line_id, mark) in &marks {
        if !lines.iter().any(|l| l.id == *line_id) {
            return Err(AppError::bad_input("lines", "name lines of this claim"));
        }
        rebate_claim_line::Entity::update_many()
            .set(rebate_claim_line::ActiveModel { distributor_mark: Set(Some(*mark)), ..Default::default() })
            .filter(rebate_claim_line::Column::Id.eq(*line_id))
            .exec(&txn)
            .await?;
    }
    rebate_claim::Entity::update_many()
        .set(rebate_claim::ActiveModel {
            distributor_note: Set(note.clone()),
            distributor_marked_by_user_id: Set(Some(principal.user_id())),
            distributor_marked_at: Set(Some(now)),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(rebate_claim::Column::Id.eq(claim.id))
        .exec(&txn)
        .await?;
    let event = audit::Event {
        action: "rebate_claim.marked",
        target_type: "RebateClaim",
        target_id: Some(claim.id),
        customer_id: None,
        before: None,
        after: Some(json!({
            "lines": marks.iter().map(|(l, m)| json!({ "line": l, "mark": m.as_str() })).collect::<Vec<_>>(),
            "note": note,
        })),
    };
    audit::record(&txn, Some(principal), event, now).await?;
    let marked = find(&txn, Some(principal), id).await?;
    txn.commit().await?;
    Ok(marked)
}

/// A file the principal may download: one attached to a claim it sees.
pub async fn file_for(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    file_id: Uuid,
) -> AppResult<(stored_file::Model, rebate_claim::Model)> {
    let claim = visible(principal)
        .filter(rebate_claim::Column::FileId.eq(file_id))
        .order_by_asc(rebate_claim::Column::Id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("File"))?;
    let file = stored_file::Entity::find_by_id(file_id)
        .filter(policy::stored_files_scope(principal))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("File"))?;
    Ok((file, claim))
}

/// The dashboard's rebate figures for a partner, in one currency.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub currency: String,
    /// Rebates of claims accepted in the last 3 months (reversed ones excluded).
    pub accepted: Decimal,
    pub paid: Decimal,
    pub unpaid: Decimal,
    pub claims_accepted: i64,
    pub claims_open: i64,
}

/// One partner's summed row for its rebate summary: a ledger state's sum of recent REBATE
/// entries (`ledger::recent_rebates`), or a claim status's count.
#[derive(Clone, Debug)]
pub struct SummaryRow {
    pub from_claims: bool,
    pub currency: String,
    pub state: String,
    pub amount: Option<i64>,
    pub entries: i64,
}

/// The summary in the claims' currency (the programme's, frozen on each claim); none for a
/// partner that never claimed.
pub fn summary_from(rows: Vec<SummaryRow>) -> Option<Summary> {
    let currency = rows.iter().find(|r| r.from_claims).or_else(|| rows.first()).map(|r| r.currency.clone())?;
    let mut summary = Summary { currency: currency.clone(), ..Default::default() };
    for row in rows.iter().filter(|r| r.currency == currency) {
        if row.from_claims {
            if ClaimStatus::parse(&row.state) == Some(ClaimStatus::Open) {
                summary.claims_open += row.entries;
            }
            continue;
        }
        let amount = entity::fixed::Fixed(row.amount.unwrap_or_default()).to_decimal();
        match EntryState::parse(&row.state) {
            Some(EntryState::Paid) => summary.paid += amount,
            Some(EntryState::Pending | EntryState::Approved) => summary.unpaid += amount,
            _ => continue,
        }
        summary.accepted += amount;
        summary.claims_accepted += row.entries;
    }
    Some(summary)
}

/// Accepted in the last 3 months, paid and unpaid, from the ledger (a REBATE entry is posted
/// on acceptance); and the open claims. Per partner the principal reads the ledger of (its
/// ADMIN and BILLING, staff) that has claimed at all; one statement for any number of partners:
/// the ledger's sums and the claims' counts side by side.
pub async fn summaries(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    partner_ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, Summary>> {
    use entity::ledger_entry_state;
    use sea_orm::sea_query::UnionType;
    let readable: Vec<Uuid> =
        partner_ids.iter().copied().filter(|id| policy::reads_ledger_of(principal, *id)).collect();
    if readable.is_empty() {
        return Ok(HashMap::new());
    }
    #[derive(sea_orm::FromQueryResult)]
    struct Row {
        source: String,
        partner_id: Uuid,
        currency: String,
        state: String,
        amount: Option<i64>,
        entries: i64,
    }
    let (e, s) = (ledger_entry::Entity, ledger_entry_state::Entity);
    let since = now - chrono::Months::new(3);
    let mut query = Query::select()
        .expr_as(Expr::val("ledger"), Alias::new("source"))
        .expr_as(Expr::col((e, ledger_entry::Column::PartnerId)), Alias::new("partner_id"))
        .expr_as(Expr::col((e, ledger_entry::Column::Currency)), Alias::new("currency"))
        .expr_as(Expr::col((s, ledger_entry_state::Column::State)), Alias::new("state"))
        .expr_as(db::sum_fixed((e, ledger_entry::Column::Amount)), Alias::new("amount"))
        .expr_as(Func::count(Expr::col((e, ledger_entry::Column::Id))), Alias::new("entries"))
        .from(e)
        .inner_join(s, Expr::col((s, ledger_entry_state::Column::EntryId)).equals((e, ledger_entry::Column::Id)))
        .and_where(Expr::col((e, ledger_entry::Column::PartnerId)).is_in(readable.clone()))
        .and_where(Expr::col((e, ledger_entry::Column::Kind)).eq(EntryKind::Rebate.as_str()))
        .and_where(Expr::col((e, ledger_entry::Column::EarnedAt)).gte(since))
        .cond_where(policy::ledger_scope(principal, (e, ledger_entry::Column::PartnerId)))
        .cond_where(ledger::latest_state())
        .group_by_col((e, ledger_entry::Column::PartnerId))
        .group_by_col((e, ledger_entry::Column::Currency))
        .group_by_col((s, ledger_entry_state::Column::State))
        .to_owned();
    let claims = Query::select()
        .expr_as(Expr::val("claims"), Alias::new("source"))
        .expr_as(Expr::col(rebate_claim::Column::PartnerId), Alias::new("partner_id"))
        .expr_as(Expr::col(rebate_claim::Column::Currency), Alias::new("currency"))
        .expr_as(Expr::col(rebate_claim::Column::Status), Alias::new("state"))
        .expr_as(Expr::cust("CAST(0 AS BIGINT)"), Alias::new("amount"))
        .expr_as(Func::count(Expr::col(rebate_claim::Column::Id)), Alias::new("entries"))
        .from(rebate_claim::Entity)
        .and_where(Expr::col(rebate_claim::Column::PartnerId).is_in(readable.clone()))
        .cond_where(policy::rebate_claims_scope(principal))
        .group_by_col(rebate_claim::Column::PartnerId)
        .group_by_col(rebate_claim::Column::Currency)
        .group_by_col(rebate_claim::Column::Status)
        .to_owned();
    query.union(UnionType::All, claims);
    let rows =
        <Row as sea_orm::FromQueryResult>::find_by_statement(db.get_database_backend().build(&query)).all(db).await?;
    let mut out = HashMap::new();
    for partner in readable {
        let mine = rows.iter().filter(|r| r.partner_id == partner).map(|r| SummaryRow {
            from_claims: r.source == "claims",
            currency: r.currency.clone(),
            state: r.state.clone(),
            amount: r.amount,
            entries: r.entries,
        });
        if let Some(summary) = summary_from(mine.collect()) {
            out.insert(partner, summary);
        }
    }
    Ok(out)
}
