//! The footing under money and rules, on whichever database the suite runs: sums computed in SQL
//! equal the Rust sums to the last unit, the database refuses a status outside its enum, and the
//! SQL form of each grant rule agrees with its Rust function on random grants and clocks.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{enums::GrantStatus, fixed::Fixed, grant, invoice, payment};
use partnerhub::{domain::grants, policy};
use proptest::{prelude::*, test_runner::TestRunner};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::helpers::*;

/// Runs `cases` random cases of `strategy` against `check`, on the current Tokio runtime.
pub(crate) fn run<S: Strategy>(cases: u32, strategy: S, check: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(ProptestConfig { cases, ..ProptestConfig::default() });
    if let Err(failure) = runner.run(&strategy, check) {
        panic!("{failure}");
    }
}

pub(crate) fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sums_in_sql_equal_the_rust_sum_to_the_last_unit() {
    let app = TestApp::spawn().await;
    app.demo().await;
    let db = app.ctx.db.clone();
    let template = invoice::Entity::find().one(&db).await.unwrap().unwrap();
    let case = std::sync::atomic::AtomicU32::new(0);
    // Amounts up to ±100 million in ten-thousandths: realistic, and thirty of them never overflow.
    let amounts = prop::collection::vec(-1_000_000_000_000_i64..1_000_000_000_000, 1..30);
    run(24, amounts, |amounts| {
        block_on(async {
            let n = case.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let id = Uuid::now_v7();
            let mut copy: invoice::ActiveModel = template.clone().into();
            copy.id = Set(id);
            copy.number = Set(format!("SUM-{n}"));
            copy.period = Set(format!("{:04}-01", 9000 + n));
            copy.insert(&db).await.unwrap();
            for amount in &amounts {
                payment::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    invoice_id: Set(id),
                    amount: Set(Fixed(*amount)),
                    currency: Set(template.currency.clone()),
                    received_at: Set(Utc::now()),
                    reference: Set(None),
                    recorded_by_user_id: Set(None),
                    created_at: Set(Utc::now()),
                }
                .insert(&db)
                .await
                .unwrap();
            }
            let in_sql = partnerhub::service::billing::paid(&db, &[id]).await.unwrap()[&id];
            let in_rust: Decimal = amounts.iter().map(|a| Fixed(*a).to_decimal()).sum();
            prop_assert_eq!(in_sql, in_rust);
            Ok(())
        })
    });

    // An overflowing sum is an error on both backends, never a wrapped number.
    let id = Uuid::now_v7();
    let mut copy: invoice::ActiveModel = template.clone().into();
    copy.id = Set(id);
    copy.number = Set("SUM-OVERFLOW".into());
    copy.period = Set("8999-01".into());
    copy.insert(&db).await.unwrap();
    for _ in 0..2 {
        payment::ActiveModel {
            id: Set(Uuid::now_v7()),
            invoice_id: Set(id),
            amount: Set(Fixed(i64::MAX - 1)),
            currency: Set(template.currency.clone()),
            received_at: Set(Utc::now()),
            reference: Set(None),
            recorded_by_user_id: Set(None),
            created_at: Set(Utc::now()),
        }
        .insert(&db)
        .await
        .unwrap();
    }
    assert!(partnerhub::service::billing::paid(&db, &[id]).await.is_err());
}

/// The database itself refuses a status outside its enum, and its constraints list exactly the
/// values of the Rust enums (a value added to an enum without a migration fails here).
#[tokio::test]
async fn the_database_knows_every_enum_and_refuses_other_values() {
    let app = TestApp::spawn().await;
    app.demo().await;
    let db = &app.ctx.db;
    let backend = db.get_database_backend();
    for (table, column, values) in entity::enums::columns() {
        let sql = match backend {
            sea_orm::DbBackend::Postgres => format!(
                "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'ck_{table}_{column}'"
            ),
            _ => format!(
                "SELECT sql AS def FROM sqlite_master WHERE type = 'trigger' AND name = 'ck_{table}_{column}_insert'"
            ),
        };
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(backend, sql))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no constraint on {table}.{column}"));
        let definition: String = row.try_get("", "def").unwrap();
        let mut constrained: Vec<String> = definition
            .split('\'')
            .skip(1)
            .step_by(2)
            .filter(|v| v.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .map(str::to_string)
            .collect();
        constrained.sort();
        constrained.dedup();
        let mut wanted: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        wanted.sort();
        assert_eq!(constrained, wanted, "{table}.{column}: {definition}");
    }
    let refused = db
        .execute_unprepared("UPDATE grants SET status = 'SUSPENDED' WHERE id IN (SELECT id FROM grants LIMIT 1)")
        .await;
    assert!(refused.is_err(), "a status outside the enum is refused by the database");
    let refused = db.execute_unprepared("UPDATE organizations SET kind = 'RESELLER'").await;
    assert!(refused.is_err());
}

/// `policy::live_grant` and `policy::open_grant` select exactly the grants that
/// `domain::grants::is_live` and `status_at` call live and open, for random grants and clocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_rules_in_sql_agree_with_rust() {
    let app = TestApp::spawn().await;
    app.demo().await;
    let db = app.ctx.db.clone();
    let pair = grant::Entity::find().one(&db).await.unwrap().unwrap();
    let base: DateTime<Utc> = "2026-06-01T12:00:00Z".parse().unwrap();
    let statuses = prop::sample::select(GrantStatus::ALL.to_vec());
    let grants = prop::collection::vec((statuses, -3_000_i64..3_000), 1..25);
    run(24, (grants, -3_000_i64..3_000), |(made, clock)| {
        block_on(async {
            grant::Entity::delete_many().filter(grant::Column::Message.eq("rule test")).exec(&db).await.unwrap();
            let mut expected_live = Vec::new();
            let mut expected_open = Vec::new();
            let now = base + TimeDelta::minutes(clock);
            for (status, minutes) in &made {
                let ends_at = base + TimeDelta::minutes(*minutes);
                let mut row: grant::ActiveModel = pair.clone().into();
                let id = Uuid::now_v7();
                row.id = Set(id);
                row.status = Set(*status);
                row.ends_at = Set(ends_at);
                row.message = Set(Some("rule test".into()));
                row.insert(&db).await.unwrap();
                if grants::is_live(*status, ends_at, now) {
                    expected_live.push(id);
                }
                if matches!(grants::status_at(*status, ends_at, now), GrantStatus::Pending | GrantStatus::Active) {
                    expected_open.push(id);
                }
            }
            let select = |condition: sea_orm::Condition| {
                let db = &db;
                async move {
                    let mut ids: Vec<Uuid> = grant::Entity::find()
                        .select_only()
                        .column(grant::Column::Id)
                        .filter(grant::Column::Message.eq("rule test"))
                        .filter(condition)
                        .into_tuple()
                        .all(db)
                        .await
                        .unwrap();
                    ids.sort();
                    ids
                }
            };
            expected_live.sort();
            expected_open.sort();
            prop_assert_eq!(select(policy::live_grant(now)).await, expected_live);
            prop_assert_eq!(select(policy::open_grant(now)).await, expected_open);
            Ok(())
        })
    });
    // The rows the test made are gone again, so nothing else in this database saw them.
    grant::Entity::delete_many().filter(grant::Column::Message.eq("rule test")).exec(&db).await.unwrap();
}
