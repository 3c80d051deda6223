use sea_orm_migration::prelude::*;

use crate::m20261130_000013_exact_money_and_enums::enum_constraint;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rebate claims, part two (issue 16): claims with their lines and invoice files.
///
/// A file is stored once by its SHA-256 (`stored_files.sha256` is unique); the bytes live in the
/// object store under that hash. Duplicates are the database's to judge: three partial unique
/// indexes over the claims that still count (every status but REJECTED) refuse the same
/// distributor and invoice number, the same distributor, date and lines, and the same file,
/// whichever partner or node submits them, and however close together.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE programs ADD COLUMN rebate_file_max_bytes BIGINT NOT NULL DEFAULT 10485760")
            .await?;
        let uuid = |c: &str| ColumnDef::new(Alias::new(c)).uuid().not_null().to_owned();
        let uuid_null = |c: &str| ColumnDef::new(Alias::new(c)).uuid().null().to_owned();
        let money = |c: &str| ColumnDef::new(Alias::new(c)).big_integer().not_null().to_owned();
        let text = |c: &str| ColumnDef::new(Alias::new(c)).string().not_null().to_owned();
        let text_null = |c: &str| ColumnDef::new(Alias::new(c)).text().null().to_owned();
        let status = |c: &str| ColumnDef::new(Alias::new(c)).string_len(48).not_null().to_owned();
        let status_null = |c: &str| ColumnDef::new(Alias::new(c)).string_len(48).null().to_owned();
        let at = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().not_null().to_owned();
        let at_null = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().null().to_owned();
        let fk = |table: &str, column: &str, to: &str| {
            ForeignKey::create()
                .from(Alias::new(table), Alias::new(column))
                .to(Alias::new(to), Alias::new("id"))
                .to_owned()
        };
        let table = |name: &str| Table::create().table(Alias::new(name)).to_owned();

        let mut files = table("stored_files");
        files
            .col(uuid("id").primary_key())
            .col(ColumnDef::new(Alias::new("sha256")).string_len(64).not_null())
            .col(text("content_type"))
            .col(ColumnDef::new(Alias::new("size_bytes")).big_integer().not_null())
            .col(uuid("uploaded_by_user_id"))
            .col(at("created_at"))
            .foreign_key(&mut fk("stored_files", "uploaded_by_user_id", "users"));
        manager.create_table(files).await?;

        let mut claims = table("rebate_claims");
        claims
            .col(uuid("id").primary_key())
            .col(uuid("partner_id"))
            .col(uuid("program_id"))
            .col(uuid("tier_id"))
            .col(uuid("distributor_id"))
            .col(uuid("submitted_by_user_id"))
            .col(text("invoice_number"))
            .col(text("invoice_key"))
            .col(ColumnDef::new(Alias::new("invoice_date")).date().not_null())
            .col(ColumnDef::new(Alias::new("lines_key")).text().not_null())
            .col(uuid("file_id"))
            .col(text("file_name"))
            .col(money("amount"))
            .col(ColumnDef::new(Alias::new("currency")).string_len(3).not_null())
            .col(status("status"))
            .col(status_null("rejection_code"))
            .col(text_null("rejection_text"))
            .col(uuid_null("reviewed_by_user_id"))
            .col(at_null("reviewed_at"))
            .col(at_null("accepted_at"))
            .col(text_null("distributor_note"))
            .col(uuid_null("distributor_marked_by_user_id"))
            .col(at_null("distributor_marked_at"))
            .col(at("created_at"))
            .col(at("updated_at"))
            .foreign_key(&mut fk("rebate_claims", "partner_id", "organizations"))
            .foreign_key(&mut fk("rebate_claims", "program_id", "programs"))
            .foreign_key(&mut fk("rebate_claims", "tier_id", "tiers"))
            .foreign_key(&mut fk("rebate_claims", "distributor_id", "organizations"))
            .foreign_key(&mut fk("rebate_claims", "submitted_by_user_id", "users"))
            .foreign_key(&mut fk("rebate_claims", "file_id", "stored_files"));
        manager.create_table(claims).await?;

        let mut lines = table("rebate_claim_lines");
        lines
            .col(uuid("id").primary_key())
            .col(uuid("claim_id"))
            .col(ColumnDef::new(Alias::new("position")).integer().not_null())
            .col(uuid("product_id"))
            .col(text("product_line"))
            .col(ColumnDef::new(Alias::new("quantity")).integer().not_null())
            .col(uuid("rate_id"))
            .col(money("amount_per_unit"))
            .col(money("amount"))
            .col(status_null("distributor_mark"))
            .foreign_key(&mut fk("rebate_claim_lines", "claim_id", "rebate_claims"))
            .foreign_key(&mut fk("rebate_claim_lines", "product_id", "products"))
            .foreign_key(&mut fk("rebate_claim_lines", "rate_id", "rebate_rates"));
        manager.create_table(lines).await?;

        for sql in [
            "CREATE UNIQUE INDEX ux_stored_files_sha256 ON stored_files (sha256)",
            "CREATE UNIQUE INDEX ux_rebate_claims_invoice ON rebate_claims (distributor_id, invoice_key) \
             WHERE status <> 'REJECTED'",
            "CREATE UNIQUE INDEX ux_rebate_claims_lines ON rebate_claims (distributor_id, invoice_date, lines_key) \
             WHERE status <> 'REJECTED'",
            "CREATE UNIQUE INDEX ux_rebate_claims_file ON rebate_claims (file_id) WHERE status <> 'REJECTED'",
            "CREATE INDEX ix_rebate_claims_partner ON rebate_claims (partner_id, id)",
            "CREATE INDEX ix_rebate_claims_distributor ON rebate_claims (distributor_id, id)",
            "CREATE INDEX ix_rebate_claims_status ON rebate_claims (status, id)",
            "CREATE UNIQUE INDEX ux_rebate_claim_lines ON rebate_claim_lines (claim_id, position)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        for (table, column, values) in ENUMS {
            enum_constraint(manager, table, column, values).await?;
        }
        Ok(())
    }
}

/// The enum columns of the claim tables, and the notification kinds this issue adds.
const ENUMS: &[(&str, &str, &[&str])] = &[
    ("rebate_claims", "status", &["OPEN", "ACCEPTED", "REJECTED"]),
    (
        "rebate_claims",
        "rejection_code",
        &[
            "QUANTITY_MISMATCH",
            "DUPLICATE",
            "DISTRIBUTOR_NOT_APPROVED",
            "PARTNER_STATUS_CHANGED",
            "UNUSUAL_ACTIVITY",
            "OTHER",
        ],
    ),
    ("rebate_claim_lines", "distributor_mark", &["CONFIRMED", "DISPUTED"]),
    ("notifications", "kind", NOTIFICATION_KINDS),
];

/// The notification kinds as of this migration; later ones extend the list.
pub(crate) const NOTIFICATION_KINDS: &[&str] = &[
    "GRANT_REQUESTED",
    "GRANT_OFFERED",
    "GRANT_APPROVED",
    "GRANT_ACCEPTED",
    "GRANT_DECLINED",
    "GRANT_CHANGED",
    "GRANT_REVOKED",
    "GRANT_ENDED",
    "GRANT_EXPIRED",
    "GRANT_EXTENDED",
    "APPLICATION_APPROVED",
    "APPLICATION_REJECTED",
    "TIER_CHANGED",
    "SUCCESS_STORY_REVIEWED",
    "WELCOME_GIFT_SHIPPED",
    "INVOICE_ISSUED",
    "SUBSCRIPTION_BILLING_HANDED_OVER",
    "PARTNER_BILLED_SUBSCRIPTIONS_STOPPING",
    "SUBSCRIPTION_CHANGE_REQUESTED",
    "SUBSCRIPTION_CHANGE_DECIDED",
    "DEAL_STATUS_CHANGED",
    "DEAL_EXPIRING",
    "PARTNER_OF_RECORD_CLAIMED",
    "PARTNER_OF_RECORD_DECIDED",
    "PARTNER_OF_RECORD_ENDED",
    "PAYOUT_MADE",
    "REBATE_CLAIM_DECIDED",
];
