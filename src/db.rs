//! Database connection: pool settings per backend, the statement counter, write transactions.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use migration::MigratorTrait;
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// Counts every SQL statement the application runs, so tests can bound statements per request.
#[derive(Clone, Debug, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// `statement_cache` is how many prepared statements each connection keeps: a statement's text
/// seen again (the same query, an `IN` list of the same length) skips parsing and planning.
pub async fn connect(
    url: &str,
    max_connections: u32,
    statement_cache: usize,
) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    connect_with(url, max_connections, statement_cache, Limits::default()).await
}

/// How long a caller waits for a connection, and how long PostgreSQL lets one statement run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { acquire_timeout: Duration::from_secs(10), statement_timeout: Duration::from_secs(300) }
    }
}

/// `connect` with the server's bounds: a full pool answers after `acquire_timeout` instead of
/// queueing requests without end, and a statement that outlives `statement_timeout` is cancelled
/// by PostgreSQL, which frees its connection.
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    statement_cache: usize,
    limits: Limits,
) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let mut options = ConnectOptions::new(url);
    let statement_timeout = format!("{}", limits.statement_timeout.as_millis().max(1));
    options
        .max_connections(max_connections)
        .min_connections(0)
        .acquire_timeout(limits.acquire_timeout)
        // sqlx pings a pooled connection before every use by default: one more round trip for
        // every statement (about a fifth of the server's CPU on the customer list). Only a
        // connection idle long enough to have been dropped by the server is checked first.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        // WAL lets readers run beside the one writer; the busy timeout makes a second writer wait
        // instead of failing, and foreign keys are off by default in SQLite.
        .map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
                .statement_cache_capacity(statement_cache)
        })
        .map_sqlx_postgres_opts(move |o| {
            o.statement_cache_capacity(statement_cache).options([("statement_timeout", statement_timeout.as_str())])
        });
    let mut db = Database::connect(options).await?;
    let counter = StatementCounter::default();
    let inner = counter.0.clone();
    // PARTNERHUB_TRACE_SQL=1 logs every statement (at debug level, target partnerhub::sql): the
    // first thing to look at when a statement count in a test changes.
    let trace = crate::config::vars::TRACE_SQL.from_process().is_some();
    db.set_metric_callback(move |info| {
        inner.fetch_add(1, Ordering::SeqCst);
        crate::metrics::statement_ran();
        if trace {
            tracing::debug!(target: "partnerhub::sql", elapsed_us = info.elapsed.as_micros() as u64, "{}", info.statement);
        }
    });
    Ok((db, counter))
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await
}

/// `CAST(SUM(column) AS BIGINT)`: the exact sum of a `Fixed` column, read back as an i64 on both
/// backends (PostgreSQL sums BIGINT into NUMERIC; the cast fails on overflow, as SQLite's sum does).
pub fn sum_fixed(column: impl sea_orm::sea_query::IntoColumnRef) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Alias, Expr, Func};
    Expr::expr(Func::cast_as(Func::sum(Expr::col(column)), Alias::new("BIGINT")))
}

/// Starts a transaction that will write. On SQLite it takes the write lock at BEGIN (IMMEDIATE),
/// so a read-then-write transaction cannot fail half-way when another writer commits first.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
        }
        _ => db.begin().await,
    }
}
