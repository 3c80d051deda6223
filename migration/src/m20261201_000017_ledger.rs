use sea_orm_migration::prelude::*;

use crate::m20261130_000013_exact_money_and_enums::enum_constraint;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Commissions, partner of record, the append-only partner ledger and payouts (issue 15).
///
/// Entries are never updated: each state an entry passes through is a row of
/// `ledger_entry_states`, numbered per entry (`seq`). Two unique keys make the database the judge
/// of every race: (entry, seq) lets only one of two concurrent transitions of an entry win, and
/// (entry, state) lets an entry be PAID once, whichever batch or node tries. `source_key` makes
/// every posting idempotent. At most one payout batch per currency runs at a time
/// (`running_currency` is unique and cleared when the batch completes).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let columns = [
            "ALTER TABLE programs ADD COLUMN reversal_window_days INTEGER NOT NULL DEFAULT 7",
            "ALTER TABLE programs ADD COLUMN min_payout BIGINT NULL",
            "ALTER TABLE programs ADD COLUMN payout_interval_months INTEGER NOT NULL DEFAULT 3",
            "ALTER TABLE invoices ADD COLUMN refunded_at TIMESTAMP WITH TIME ZONE NULL",
            "ALTER TABLE invoices ADD COLUMN refund_reason TEXT NULL",
        ];
        for sql in columns {
            db.execute_unprepared(sql).await?;
        }
        let uuid = |c: &str| ColumnDef::new(Alias::new(c)).uuid().not_null().to_owned();
        let uuid_null = |c: &str| ColumnDef::new(Alias::new(c)).uuid().null().to_owned();
        let money = |c: &str| ColumnDef::new(Alias::new(c)).big_integer().not_null().to_owned();
        let money_null = |c: &str| ColumnDef::new(Alias::new(c)).big_integer().null().to_owned();
        let text = |c: &str| ColumnDef::new(Alias::new(c)).string().not_null().to_owned();
        let text_null = |c: &str| ColumnDef::new(Alias::new(c)).text().null().to_owned();
        let status = |c: &str| ColumnDef::new(Alias::new(c)).string_len(48).not_null().to_owned();
        let at = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().not_null().to_owned();
        let at_null = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().null().to_owned();
        let fk = |table: &str, column: &str, to: &str| {
            ForeignKey::create()
                .from(Alias::new(table), Alias::new(column))
                .to(Alias::new(to), Alias::new("id"))
                .to_owned()
        };
        let table = |name: &str| Table::create().table(Alias::new(name)).to_owned();

        let mut rules = table("commission_rules");
        rules
            .col(uuid("id").primary_key())
            .col(uuid("program_id"))
            .col(uuid_null("tier_id"))
            .col(ColumnDef::new(Alias::new("product_line")).string().null())
            .col(money("percent"))
            .col(money_null("accelerated_percent"))
            .col(money_null("quarterly_target"))
            .col(ColumnDef::new(Alias::new("currency")).string_len(3).not_null())
            .col(at("valid_from"))
            .col(at_null("valid_to"))
            .col(at("created_at"))
            .foreign_key(&mut fk("commission_rules", "program_id", "programs"))
            .foreign_key(&mut fk("commission_rules", "tier_id", "tiers"));
        manager.create_table(rules).await?;

        let mut claims = table("partner_of_record_claims");
        claims
            .col(uuid("id").primary_key())
            .col(uuid("partner_id"))
            .col(uuid("customer_id"))
            .col(uuid_null("product_id"))
            // The product's id, or `*` for all of the customer's products: a unique key needs a value.
            .col(text("product_key"))
            .col(status("status"))
            .col(uuid("claimed_by_user_id"))
            .col(uuid_null("decided_by_user_id"))
            .col(ColumnDef::new(Alias::new("staff_verified")).boolean().not_null().default(false))
            .col(text_null("note"))
            .col(at("claimed_at"))
            .col(at_null("decided_at"))
            .col(at_null("ended_at"))
            .col(text_null("end_reason"))
            .foreign_key(&mut fk("partner_of_record_claims", "partner_id", "organizations"))
            .foreign_key(&mut fk("partner_of_record_claims", "customer_id", "organizations"))
            .foreign_key(&mut fk("partner_of_record_claims", "product_id", "products"));
        manager.create_table(claims).await?;

        let mut entries = table("ledger_entries");
        entries
            .col(uuid("id").primary_key())
            .col(uuid("partner_id"))
            .col(status("kind"))
            .col(money("amount"))
            .col(ColumnDef::new(Alias::new("currency")).string_len(3).not_null())
            .col(status("source_type"))
            .col(uuid_null("source_id"))
            .col(ColumnDef::new(Alias::new("source_key")).string().not_null().unique_key())
            .col(uuid_null("customer_id"))
            .col(uuid_null("invoice_line_id"))
            .col(uuid_null("rule_id"))
            .col(money_null("rate"))
            .col(money_null("base"))
            .col(uuid_null("reverses_entry_id"))
            .col(ColumnDef::new(Alias::new("quarter")).string_len(7).not_null())
            .col(ColumnDef::new(Alias::new("description")).text().not_null())
            .col(at("earned_at"))
            .col(at("created_at"))
            .foreign_key(&mut fk("ledger_entries", "partner_id", "organizations"))
            .foreign_key(&mut fk("ledger_entries", "rule_id", "commission_rules"))
            .foreign_key(&mut fk("ledger_entries", "reverses_entry_id", "ledger_entries"));
        manager.create_table(entries).await?;

        let mut states = table("ledger_entry_states");
        states
            .col(uuid("id").primary_key())
            .col(uuid("entry_id"))
            .col(uuid("partner_id"))
            .col(ColumnDef::new(Alias::new("seq")).integer().not_null())
            .col(status("state"))
            .col(text_null("hold_reason"))
            .col(at_null("release_at"))
            .col(uuid_null("batch_id"))
            .col(text_null("reason"))
            .col(uuid_null("actor_user_id"))
            .col(at("created_at"))
            .foreign_key(&mut fk("ledger_entry_states", "entry_id", "ledger_entries"));
        manager.create_table(states).await?;

        let mut batches = table("payout_batches");
        batches
            .col(uuid("id").primary_key())
            .col(ColumnDef::new(Alias::new("number")).string().not_null().unique_key())
            .col(ColumnDef::new(Alias::new("currency")).string_len(3).not_null())
            .col(ColumnDef::new(Alias::new("running_currency")).string_len(3).null().unique_key())
            .col(ColumnDef::new(Alias::new("idempotency_key")).string().not_null().unique_key())
            .col(status("status"))
            .col(uuid_null("created_by_user_id"))
            .col(at("created_at"))
            .col(at_null("completed_at"));
        manager.create_table(batches).await?;

        let mut counters = table("payout_counters");
        counters
            .col(ColumnDef::new(Alias::new("year")).integer().not_null().primary_key())
            .col(ColumnDef::new(Alias::new("last_number")).integer().not_null());
        manager.create_table(counters).await?;

        let mut statements = table("payout_statements");
        statements
            .col(uuid("id").primary_key())
            .col(uuid("batch_id"))
            .col(uuid("partner_id"))
            .col(money("amount"))
            .col(ColumnDef::new(Alias::new("currency")).string_len(3).not_null())
            .col(ColumnDef::new(Alias::new("entries")).integer().not_null())
            .col(at("created_at"))
            .foreign_key(&mut fk("payout_statements", "batch_id", "payout_batches"))
            .foreign_key(&mut fk("payout_statements", "partner_id", "organizations"));
        manager.create_table(statements).await?;

        let indexes = [
            "CREATE INDEX ix_commission_rules_program ON commission_rules (program_id)",
            "CREATE INDEX ix_por_partner ON partner_of_record_claims (partner_id, id)",
            "CREATE INDEX ix_por_customer ON partner_of_record_claims (customer_id, id)",
            // One confirmed partner of record per customer and product (or all products) at a time,
            // and one open claim of a partner for the same.
            "CREATE UNIQUE INDEX ux_por_confirmed ON partner_of_record_claims (customer_id, product_key) \
             WHERE status = 'CONFIRMED'",
            "CREATE UNIQUE INDEX ux_por_open ON partner_of_record_claims (partner_id, customer_id, product_key) \
             WHERE status = 'CLAIMED'",
            "CREATE INDEX ix_ledger_entries_partner ON ledger_entries (partner_id, id)",
            "CREATE INDEX ix_ledger_entries_line ON ledger_entries (invoice_line_id)",
            "CREATE INDEX ix_ledger_entries_customer ON ledger_entries (customer_id)",
            "CREATE INDEX ix_ledger_entries_reverses ON ledger_entries (reverses_entry_id)",
            "CREATE UNIQUE INDEX ux_ledger_states_seq ON ledger_entry_states (entry_id, seq)",
            "CREATE UNIQUE INDEX ux_ledger_states_once ON ledger_entry_states (entry_id, state)",
            "CREATE INDEX ix_ledger_states_partner ON ledger_entry_states (partner_id, state)",
            "CREATE INDEX ix_ledger_states_batch ON ledger_entry_states (batch_id)",
            "CREATE UNIQUE INDEX ux_payout_statements ON payout_statements (batch_id, partner_id)",
            "CREATE INDEX ix_payout_statements_partner ON payout_statements (partner_id, id)",
        ];
        for sql in indexes {
            db.execute_unprepared(sql).await?;
        }
        for (table, column, values) in ENUMS {
            enum_constraint(manager, table, column, values).await?;
        }
        Ok(())
    }
}

const ENTRY_STATES: &[&str] = &["PENDING", "APPROVED", "PAID", "REVERSED", "DUPLICATE", "FRAUD"];

/// The enum columns of the ledger tables, and the ones this issue extends, as of this migration.
const ENUMS: &[(&str, &str, &[&str])] = &[
    ("invoices", "status", &["DRAFT", "ISSUED", "PAID", "VOID", "REFUNDED"]),
    ("partner_of_record_claims", "status", &["CLAIMED", "CONFIRMED", "DENIED", "ENDED", "WITHDRAWN"]),
    ("ledger_entries", "kind", &["COMMISSION", "REBATE", "ADJUSTMENT", "REVERSAL", "PAYOUT"]),
    ("ledger_entries", "source_type", &["INVOICE_LINE", "CLAIM", "QUARTER_CLOSE", "PAYOUT_BATCH", "LEDGER_ENTRY"]),
    ("ledger_entry_states", "state", ENTRY_STATES),
    ("payout_batches", "status", &["RUNNING", "COMPLETED"]),
    (
        "notifications",
        "kind",
        &[
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
        ],
    ),
];
