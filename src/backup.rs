//! Backups of the embedded database and the checks a restored database must pass (issue 19).
//!
//! `partnerhub backup --to FILE` copies a SQLite database while the server writes: `VACUUM INTO`
//! reads one consistent snapshot inside a read transaction (WAL lets the writers go on) and
//! writes a compact copy. `partnerhub restore --from FILE` checks the copy first, then puts it in
//! place of the (stopped) server's file. PostgreSQL is backed up with `pg_dump` (README).
//!
//! `verify` is what "the restored database is sound" means: SQLite's own integrity and foreign
//! key checks, and the invariants the application keeps, as SQL: numbers without gaps or
//! doubles, no ledger entry paid twice, one live grant per partner and customer.

// The checks read the whole database as its operator, not as a principal.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// Why a backup or restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
    #[error("the backup is not sound: {}", .0.join("; "))]
    Unsound(Vec<String>),
}

/// The file of a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> Result<PathBuf, BackupError> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).ok_or_else(|| {
        BackupError::Refused(format!("{url} is not a SQLite database: back PostgreSQL up with pg_dump"))
    })?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(BackupError::Refused("an in-memory database has nothing to back up".into()));
    }
    Ok(PathBuf::from(path))
}

/// Writes a consistent copy of the live database to `to` (which must not exist yet).
pub async fn backup(db: &DatabaseConnection, to: &Path) -> Result<u64, BackupError> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(BackupError::Refused(
            "PostgreSQL is backed up with pg_dump --format=custom and restored with pg_restore (README, Operating partnerhub)"
                .into(),
        ));
    }
    if to.exists() {
        return Err(BackupError::Refused(format!("{} exists; a backup never overwrites a file", to.display())));
    }
    let target = to.to_str().ok_or_else(|| BackupError::Refused("the backup path is not UTF-8".into()))?;
    // One statement: SQLite reads a single snapshot for it, whatever the writers do meanwhile.
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [target.into()])).await?;
    let size = std::fs::metadata(to).map_err(|source| BackupError::File { path: to.into(), source })?.len();
    Ok(size)
}

/// Checks `from`, then copies it to `database` (a SQLite file that must not be in use). The copy
/// lands under a temporary name and is renamed into place, so a failed restore leaves nothing
/// half-written; the old file's WAL and shared-memory files go with it.
pub async fn restore(from: &Path, database: &Path, replace: bool) -> Result<Vec<String>, BackupError> {
    if database.exists() && !replace {
        return Err(BackupError::Refused(format!(
            "{} exists; stop the server and pass --replace to put the backup in its place",
            database.display()
        )));
    }
    let checked = open(from).await?;
    let findings = verify(&checked).await?;
    checked.close().await?;
    if !findings.is_empty() {
        return Err(BackupError::Unsound(findings));
    }
    let staging = database.with_extension("restoring");
    std::fs::copy(from, &staging).map_err(|source| BackupError::File { path: staging.clone(), source })?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", database.display()));
        if side.exists() {
            std::fs::remove_file(&side).map_err(|source| BackupError::File { path: side.clone(), source })?;
        }
    }
    std::fs::rename(&staging, database).map_err(|source| BackupError::File { path: database.into(), source })?;
    let restored = open(database).await?;
    let findings = verify(&restored).await?;
    restored.close().await?;
    Ok(findings)
}

async fn open(path: &Path) -> Result<DatabaseConnection, BackupError> {
    if !path.exists() {
        return Err(BackupError::Refused(format!("{} does not exist", path.display())));
    }
    let url = format!("sqlite://{}?mode=ro", path.display());
    Ok(sea_orm::Database::connect(url).await?)
}

/// What is wrong with a database, as sentences; empty when it is sound.
pub async fn verify(db: &impl ConnectionTrait) -> Result<Vec<String>, BackupError> {
    let backend = db.get_database_backend();
    let mut findings = Vec::new();
    let rows = |sql: &str| db.query_all_raw(Statement::from_string(backend, sql.to_string()));
    if backend == DbBackend::Sqlite {
        let integrity = rows("PRAGMA integrity_check").await?;
        let verdicts: Vec<String> = integrity.iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()).collect();
        if verdicts != ["ok"] {
            findings.push(format!("integrity_check: {}", verdicts.join(", ")));
        }
        let dangling = rows("PRAGMA foreign_key_check").await?;
        if !dangling.is_empty() {
            findings.push(format!("{} rows point at rows that do not exist (foreign_key_check)", dangling.len()));
        }
    }
    use crate::domain::{EntryState, GrantStatus};
    let paid = format!(
        "SELECT s.entry_id FROM ledger_entry_states s WHERE s.state = '{}' GROUP BY s.entry_id HAVING COUNT(*) > 1",
        EntryState::Paid.as_str()
    );
    let live = format!(
        "SELECT g.partner_id FROM grants g WHERE g.status IN ('{}', '{}') \
         GROUP BY g.partner_id, g.customer_id HAVING COUNT(*) > 1",
        GrantStatus::Pending.as_str(),
        GrantStatus::Active.as_str()
    );
    // (what the query finds, what it means): each query returns the offending keys.
    let invariants: [(&str, &str); 8] = [
        (
            "SELECT i.year FROM invoices i GROUP BY i.year \
             HAVING COUNT(*) <> COUNT(DISTINCT i.number) \
                 OR COUNT(*) <> (SELECT c.last_number FROM invoice_counters c WHERE c.year = i.year)",
            "invoice numbers of a year are doubled or have a gap",
        ),
        (
            "SELECT c.year FROM invoice_counters c \
             WHERE c.last_number > (SELECT COUNT(*) FROM invoices i WHERE i.year = c.year)",
            "an invoice number was given out and its invoice is missing",
        ),
        (
            "SELECT d.number FROM deals d WHERE d.number IS NOT NULL GROUP BY d.number HAVING COUNT(*) > 1",
            "a deal registration number is doubled",
        ),
        (
            "SELECT b.number FROM payout_batches b GROUP BY b.number HAVING COUNT(*) > 1",
            "a payout batch number is doubled",
        ),
        (
            "SELECT c.year FROM deal_counters c WHERE c.last_number <> (SELECT COUNT(*) FROM deals d \
             WHERE d.number IS NOT NULL AND CAST(SUBSTR(d.number, 4, 4) AS INTEGER) = c.year)",
            "deal registration numbers of a year have a gap",
        ),
        (
            "SELECT c.year FROM payout_counters c WHERE c.last_number <> (SELECT COUNT(*) FROM payout_batches b \
             WHERE CAST(SUBSTR(b.number, 4, 4) AS INTEGER) = c.year)",
            "payout batch numbers of a year have a gap",
        ),
        (&paid, "a ledger entry was paid twice"),
        (&live, "a partner holds two live grants on one customer"),
    ];
    for (sql, meaning) in invariants {
        let found = rows(sql).await?;
        if !found.is_empty() {
            findings.push(format!("{meaning} ({} cases)", found.len()));
        }
    }
    Ok(findings)
}
