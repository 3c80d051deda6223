use sea_orm_migration::prelude::*;

use crate::{m20261130_000013_exact_money_and_enums::enum_constraint, m20261206_000023_tenders::notification_kinds};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Programme gaps (issue 20): the onboarding questionnaire, the grace period before a downgrade
/// with tier proposals, and the yearly programme fee billed by the billing run.
///
/// Questionnaires are versioned rows (a new version is a new row; answers point at the version
/// they answered, so changing the questionnaire never alters them). Tier proposals replace the
/// nightly review's findings: one row per proposal, kept after its decision, at most one OPEN per
/// partnership (a partial unique index on both databases). The old findings are recomputed by
/// the next review, so they are dropped, not copied. A programme fee is one row per partnership
/// year, billed once (it points at its invoice) and paid with it.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let uuid = |c: &str| ColumnDef::new(Alias::new(c)).uuid().not_null().to_owned();
        let uuid_null = |c: &str| ColumnDef::new(Alias::new(c)).uuid().null().to_owned();
        let short = |c: &str, n: u32| ColumnDef::new(Alias::new(c)).string_len(n).not_null().to_owned();
        let text_null = |c: &str| ColumnDef::new(Alias::new(c)).text().null().to_owned();
        let money = |c: &str| ColumnDef::new(Alias::new(c)).big_integer().not_null().to_owned();
        let json = |c: &str| ColumnDef::new(Alias::new(c)).json_binary().not_null().to_owned();
        let at = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().not_null().to_owned();
        let at_null = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().null().to_owned();
        let fk = |from: &str, column: &str, to: &str| {
            ForeignKey::create()
                .from(Alias::new(from), Alias::new(column))
                .to(Alias::new(to), Alias::new("id"))
                .to_owned()
        };
        let add =
            |table: &str, column: ColumnDef| Table::alter().table(Alias::new(table)).add_column(column).to_owned();

        manager
            .alter_table(add("programs", ColumnDef::new(Alias::new("yearly_fee")).big_integer().null().to_owned()))
            .await?;
        manager
            .alter_table(add(
                "programs",
                ColumnDef::new(Alias::new("downgrade_grace_months")).integer().not_null().default(1).to_owned(),
            ))
            .await?;
        for column in ["grace_started_at", "grace_ends_at", "yearly_fee_due_at"] {
            manager.alter_table(add("partnerships", at_null(column))).await?;
        }
        manager.alter_table(add("partnerships", text_null("grace_missing"))).await?;

        let mut questionnaires = Table::create().table(Alias::new("questionnaires")).to_owned();
        questionnaires
            .col(uuid("id").primary_key())
            .col(uuid("program_id"))
            .col(ColumnDef::new(Alias::new("version")).integer().not_null())
            .col(json("questions"))
            .col(at("published_at"))
            .col(uuid_null("published_by_user_id"))
            .foreign_key(&mut fk("questionnaires", "program_id", "programs"))
            .foreign_key(&mut fk("questionnaires", "published_by_user_id", "users"));
        manager.create_table(questionnaires).await?;

        let mut answers = Table::create().table(Alias::new("questionnaire_answers")).to_owned();
        answers
            .col(uuid("id").primary_key())
            .col(uuid("partnership_id").unique_key().to_owned())
            .col(uuid("organization_id"))
            .col(uuid("questionnaire_id"))
            .col(json("answers"))
            .col(uuid("answered_by_user_id"))
            .col(at("answered_at"))
            .col(at_null("reviewed_at"))
            .col(uuid_null("reviewed_by_user_id"))
            .foreign_key(&mut fk("questionnaire_answers", "partnership_id", "partnerships"))
            .foreign_key(&mut fk("questionnaire_answers", "organization_id", "organizations"))
            .foreign_key(&mut fk("questionnaire_answers", "questionnaire_id", "questionnaires"))
            .foreign_key(&mut fk("questionnaire_answers", "answered_by_user_id", "users"))
            .foreign_key(&mut fk("questionnaire_answers", "reviewed_by_user_id", "users"));
        manager.create_table(answers).await?;

        let mut proposals = Table::create().table(Alias::new("tier_proposals")).to_owned();
        proposals
            .col(uuid("id").primary_key())
            .col(uuid("partnership_id"))
            .col(uuid("organization_id"))
            .col(short("direction", 48))
            .col(short("status", 48))
            .col(uuid("from_tier_id"))
            .col(uuid("to_tier_id"))
            .col(json("missing"))
            .col(at("proposed_at"))
            .col(at_null("decided_at"))
            .col(uuid_null("decided_by_user_id"))
            .col(text_null("reason"))
            .foreign_key(&mut fk("tier_proposals", "partnership_id", "partnerships"))
            .foreign_key(&mut fk("tier_proposals", "organization_id", "organizations"))
            .foreign_key(&mut fk("tier_proposals", "from_tier_id", "tiers"))
            .foreign_key(&mut fk("tier_proposals", "to_tier_id", "tiers"))
            .foreign_key(&mut fk("tier_proposals", "decided_by_user_id", "users"));
        manager.create_table(proposals).await?;
        enum_constraint(manager, "tier_proposals", "direction", &["UPGRADE", "DOWNGRADE"]).await?;
        enum_constraint(manager, "tier_proposals", "status", &["OPEN", "CONFIRMED", "DISMISSED", "WITHDRAWN"]).await?;

        let mut fees = Table::create().table(Alias::new("programme_fees")).to_owned();
        fees.col(uuid("id").primary_key())
            .col(uuid("partnership_id"))
            .col(uuid("organization_id"))
            .col(at("year_start"))
            .col(at("year_end"))
            .col(money("amount"))
            .col(short("currency", 3))
            .col(uuid_null("invoice_id"))
            .col(at_null("due_at"))
            .col(at_null("paid_at"))
            .col(at("created_at"))
            .foreign_key(&mut fk("programme_fees", "partnership_id", "partnerships"))
            .foreign_key(&mut fk("programme_fees", "organization_id", "organizations"))
            .foreign_key(&mut fk("programme_fees", "invoice_id", "invoices"));
        manager.create_table(fees).await?;

        for sql in [
            "CREATE UNIQUE INDEX ux_questionnaires_version ON questionnaires (program_id, version)",
            "CREATE INDEX ix_questionnaire_answers_org ON questionnaire_answers (organization_id, id)",
            "CREATE UNIQUE INDEX ux_tier_proposals_open ON tier_proposals (partnership_id) WHERE status = 'OPEN'",
            "CREATE INDEX ix_tier_proposals_status ON tier_proposals (status, id)",
            "CREATE INDEX ix_tier_proposals_org ON tier_proposals (organization_id, id)",
            "CREATE UNIQUE INDEX ux_programme_fees_year ON programme_fees (partnership_id, year_start)",
            "CREATE INDEX ix_programme_fees_unbilled ON programme_fees (invoice_id, year_start)",
            "DROP TABLE tier_reviews",
        ] {
            db.execute_unprepared(sql).await?;
        }
        // One kind list for charges and invoice lines (the entity shares it); charges never hold
        // a fee.
        for table in ["charges", "invoice_lines"] {
            enum_constraint(manager, table, "kind", &["PERIOD", "PRORATION", "PROGRAMME_FEE"]).await?;
        }
        let kinds: Vec<&str> =
            notification_kinds().into_iter().chain(["TIER_GRACE_STARTED", "TIER_GRACE_RECOVERED"]).collect();
        enum_constraint(manager, "notifications", "kind", &kinds).await?;
        Ok(())
    }
}
