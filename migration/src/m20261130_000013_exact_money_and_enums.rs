use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Money, prices, quantities and rates stored as decimal text become 64-bit integers of
/// ten-thousandths (scale 4), exact and summable in SQL on both databases: 12.5 is 125000.
/// Amounts with more than four decimals were never accepted; the conversion refuses any it
/// meets rather than round it. Statuses, kinds and roles get a constraint that refuses any text
/// outside their enum: CHECK on PostgreSQL, triggers on SQLite (which cannot add a CHECK to an
/// existing table without rebuilding it, and tables referenced by foreign keys cannot be
/// rebuilt while the keys are enforced).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, nullable) in DECIMALS {
            to_fixed(manager, table, column, *nullable).await?;
        }
        for (table, column, values) in ENUMS {
            enum_constraint(manager, table, column, values).await?;
        }
        Ok(())
    }
}

/// Every decimal column: (table, column, nullable).
pub const DECIMALS: &[(&str, &str, bool)] = &[
    ("courses", "fee_amount", false),
    ("programs", "min_yearly_amount", true),
    ("partnerships", "committed_yearly_volume", true),
    ("tax_rates", "rate", false),
    ("plans", "unit_price", false),
    ("volume_bands", "unit_price", false),
    ("invoices", "tax_rate", false),
    ("invoices", "subtotal", false),
    ("invoices", "discount_total", false),
    ("invoices", "tax_total", false),
    ("invoices", "total", false),
    ("invoice_lines", "quantity", false),
    ("invoice_lines", "unit_price", false),
    ("invoice_lines", "gross", false),
    ("invoice_lines", "discount_percent", false),
    ("invoice_lines", "discount", false),
    ("invoice_lines", "net", false),
    ("invoice_lines", "tax", false),
    ("invoice_lines", "total", false),
    ("invoice_lines", "retail_net", false),
    ("payments", "amount", false),
];

/// The values of every enum column as of this migration; a later value needs a later migration
/// (a test compares these constraints with the entity enums).
pub const ENUMS: &[(&str, &str, &[&str])] = &[
    ("organizations", "kind", &["VENDOR", "PARTNER", "CUSTOMER", "DISTRIBUTOR"]),
    ("users", "kind", &["PERSON", "SERVICE_ACCOUNT"]),
    ("memberships", "role", ROLES),
    ("invitations", "role", ROLES),
    ("grants", "status", &["PENDING", "ACTIVE", "EXPIRED", "REVOKED", "ENDED", "DECLINED"]),
    ("grants", "scope", &["ACCOUNT", "SUBSCRIPTIONS"]),
    ("grants", "requested_by", &["PARTNER", "CUSTOMER"]),
    ("subscriptions", "status", &["ACTIVE", "CANCELLED"]),
    ("subscriptions", "billed_to", &["PARTNER", "CUSTOMER"]),
    (
        "subscription_changes",
        "kind",
        &[
            "CREATED",
            "SEATS_CHANGED",
            "UPGRADED",
            "DOWNGRADE_SCHEDULED",
            "CANCEL_SCHEDULED",
            "CANCEL_UNDONE",
            "AUTO_RENEW_SET",
            "RENEWED",
            "ENDED",
            "BILLING_HANDED_OVER",
        ],
    ),
    ("subscription_change_requests", "status", &["PENDING", "APPROVED", "DECLINED", "WITHDRAWN"]),
    ("charges", "kind", &["PERIOD", "PRORATION"]),
    ("invoices", "status", &["DRAFT", "ISSUED", "PAID", "VOID"]),
    ("invoice_lines", "kind", &["PERIOD", "PRORATION"]),
    ("plans", "billing_period", &["MONTHLY", "YEARLY"]),
    ("success_stories", "status", &["SUBMITTED", "ACCEPTED", "REJECTED"]),
    ("applications", "status", &["SUBMITTED", "APPROVED", "REJECTED"]),
    ("programs", "kind", &["RESELLER", "REFERRAL"]),
    ("courses", "kind", &["ONLINE", "CERTIFYING"]),
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
        ],
    ),
];

const ROLES: &[&str] = &["ADMIN", "CHANNEL_MANAGER", "FINANCE", "SALES", "TECHNICAL", "BILLING", "MEMBER"];

/// Ten-thousandths in an i64 from decimal text, exactly, or an error naming the value.
fn parse_fixed(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction = fraction.trim_end_matches('0');
    let valid = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !valid(whole) || !valid(fraction) || fraction.len() > 4 {
        return Err(format!("{text:?} is not a decimal with at most four places"));
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| format!("{text:?} is too large"))? };
    let fraction: i64 = format!("{fraction:0<4}").parse().map_err(|_| format!("{text:?}"))?;
    let value =
        whole.checked_mul(10_000).and_then(|w| w.checked_add(fraction)).ok_or(format!("{text:?} is too large"))?;
    Ok(if negative { -value } else { value })
}

async fn to_fixed(manager: &SchemaManager<'_>, table: &str, column: &str, nullable: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let staged = format!("{column}_fixed");
    let null = if nullable { "NULL" } else { "NOT NULL DEFAULT 0" };
    db.execute_unprepared(&format!("ALTER TABLE {table} ADD COLUMN {staged} BIGINT {null}")).await?;
    match backend {
        // NUMERIC is exact: refuse a value with more than four places, then convert in one
        // statement (the cast to BIGINT fails on overflow).
        DbBackend::Postgres => {
            let scaled = format!("({column}::numeric * 10000)");
            let inexact = db
                .query_one_raw(Statement::from_string(
                    backend,
                    format!(
                        "SELECT COUNT(*) AS n FROM {table} WHERE {column} IS NOT NULL AND {scaled} <> trunc({scaled})"
                    ),
                ))
                .await?
                .map(|r| r.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or(0);
            if inexact > 0 {
                return Err(DbErr::Migration(format!("{table}.{column}: {inexact} values have more than four places")));
            }
            db.execute_unprepared(&format!(
                "UPDATE {table} SET {staged} = {scaled}::bigint WHERE {column} IS NOT NULL"
            ))
            .await?;
        }
        // SQLite has no exact decimal type: each value is converted in Rust, so that none goes
        // through a float.
        _ => {
            let rows = db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT rowid AS k, {column} AS v FROM {table} WHERE {column} IS NOT NULL"),
                ))
                .await?;
            for row in rows {
                let key: i64 = row.try_get("", "k")?;
                let text: String = row.try_get("", "v")?;
                let fixed = parse_fixed(&text).map_err(|e| DbErr::Migration(format!("{table}.{column}: {e}")))?;
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!("UPDATE {table} SET {staged} = ? WHERE rowid = ?"),
                    [fixed.into(), key.into()],
                ))
                .await?;
            }
        }
    }
    db.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN {column}")).await?;
    db.execute_unprepared(&format!("ALTER TABLE {table} RENAME COLUMN {staged} TO {column}")).await?;
    if backend == DbBackend::Postgres && !nullable {
        db.execute_unprepared(&format!("ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")).await?;
    }
    Ok(())
}

fn quoted(values: &[&str]) -> String {
    values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ")
}

pub(crate) async fn enum_constraint(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
    values: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let name = format!("ck_{table}_{column}");
    let allowed = quoted(values);
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")).await?;
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} IN ({allowed}))"
            ))
            .await?;
        }
        _ => {
            let bad = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} NOT IN ({allowed})"),
                ))
                .await?
                .map(|r| r.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or(0);
            if bad > 0 {
                return Err(DbErr::Migration(format!("{table}.{column} holds {bad} values outside {allowed}")));
            }
            for (event, when) in [("INSERT", "INSERT"), ("UPDATE", &*format!("UPDATE OF {column}"))] {
                let trigger = format!("{name}_{}", event.to_lowercase());
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {trigger}")).await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {trigger} BEFORE {when} ON {table} \
                     WHEN NEW.{column} NOT IN ({allowed}) \
                     BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
                ))
                .await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_converts_exactly_or_not_at_all() {
        assert_eq!(parse_fixed("12.5"), Ok(125_000));
        assert_eq!(parse_fixed("0.0125"), Ok(125));
        assert_eq!(parse_fixed("-4.13"), Ok(-41_300));
        assert_eq!(parse_fixed("89.00"), Ok(890_000));
        assert_eq!(parse_fixed("25.5000"), Ok(255_000));
        assert_eq!(parse_fixed("7"), Ok(70_000));
        assert!(parse_fixed("0.00001").is_err(), "five places would be rounded");
        assert!(parse_fixed("1e3").is_err());
        assert!(parse_fixed("99999999999999999").is_err(), "overflow is refused");
        assert!(parse_fixed("").is_err());
    }
}
