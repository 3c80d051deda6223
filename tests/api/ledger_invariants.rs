//! The ledger's invariants under random histories and a killed process: the money in the
//! entries always equals pending + approved + paid (to the cent, per currency, as summed in SQL),
//! and no entry is paid twice, whoever runs the payouts and whenever a node dies.

use chrono::{TimeDelta, Utc};
use entity::{enums::OrganizationKind, ledger_entry, ledger_entry_state, organization, payout_batch, payout_statement};
use partnerhub::{
    domain::{EntryKind, EntrySource, EntryState, ledger::Quarter},
    service::ledger::{self, payouts, post},
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    footing::{block_on, run},
    helpers::*,
};

async fn partner(app: &TestApp, name: &str) -> Uuid {
    let now = Utc::now();
    organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(OrganizationKind::Partner),
        name: Set(name.into()),
        country: Set(Some("DE".into())),
        domain: Set(None),
        vat_number: Set(None),
        registration_number: Set(None),
        website: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.ctx.db)
    .await
    .unwrap()
    .id
}

fn earning(
    partner: Uuid,
    key: &str,
    cents: i64,
    currency: &str,
    held: bool,
    rule: Option<Uuid>,
    now: chrono::DateTime<Utc>,
) -> post::NewEntry {
    post::NewEntry {
        partner_id: partner,
        kind: EntryKind::Commission,
        amount: Decimal::new(cents, 2),
        currency: currency.into(),
        source_type: EntrySource::InvoiceLine,
        source_id: None,
        source_key: key.into(),
        customer_id: None,
        invoice_line_id: None,
        rule_id: rule,
        rate: Some(Decimal::from(20)),
        base: Some(Decimal::new(cents * 5, 2)),
        reverses_entry_id: None,
        quarter: Quarter::of(now),
        description: format!("test earning {key}"),
        earned_at: now,
        state: if held { EntryState::Pending } else { EntryState::Approved },
        hold_reason: held.then(|| "reversal window until tomorrow".into()),
        release_at: held.then(|| now + TimeDelta::days(1)),
        batch_id: None,
        reason: None,
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Earn this many cents in EUR (or CHF), held for the window or not.
    Earn(i64, bool, bool),
    /// Reverse the n-th entry posted so far (modulo their number).
    Reverse(usize),
    /// A day passes and the job releases what is due.
    Release,
    /// A payout in EUR or CHF (a retry of an earlier key sometimes).
    Payout(bool, u8),
    /// The quarter ends and is closed (sometimes closed again): the accelerator is posted once.
    CloseQuarter,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1i64..500_000, any::<bool>(), any::<bool>()).prop_map(|(c, h, chf)| Op::Earn(c, h, chf)),
        2 => (0usize..1000).prop_map(Op::Reverse),
        1 => Just(Op::Release),
        1 => (any::<bool>(), 0u8..3).prop_map(|(chf, k)| Op::Payout(chf, k)),
        1 => Just(Op::CloseQuarter),
    ]
}

/// Random histories of earnings, reversals (refunds and cancellations), releases, quarter closes
/// and payouts: the
/// balances summed in SQL equal a model kept beside them, the entries' sum equals pending +
/// approved + paid per currency, and no entry is in two batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balances_always_add_up_and_nothing_is_paid_twice() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let staff = partnerhub::service::identity::authenticate_token(
        &app.ctx.db,
        &world.token("vera.admin@"),
        None,
        app.ctx.now(),
    )
    .await
    .unwrap();
    // EUR earnings count towards the Silver rule's quarterly target (500 EUR of base: 30% instead
    // of 20%), as the demo's rules say.
    let silver = entity::commission_rule::Entity::find()
        .all(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.quarterly_target.map(|t| t.to_decimal()) == Some(Decimal::from(500)))
        .expect("the demo's Silver rule");
    let case = std::sync::atomic::AtomicU32::new(0);
    let accelerated = std::sync::atomic::AtomicU32::new(0);
    run(16, prop::collection::vec(op(), 1..25), |ops| {
        block_on(async {
            let n = case.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let p = partner(&app, &format!("Random Partner {n}")).await;
            let db = &app.ctx.db;
            // The model: (pending, approved, paid) per currency, from what each step did.
            let mut model: std::collections::BTreeMap<&str, [Decimal; 3]> = Default::default();
            let mut posted: Vec<ledger_entry::Model> = Vec::new();
            // Per quarter, the EUR base and commission under the accelerated rule.
            let mut quarters: std::collections::BTreeMap<String, (Decimal, Decimal)> = Default::default();
            for (i, op) in ops.iter().enumerate() {
                let now = app.ctx.now();
                match op {
                    Op::Earn(cents, held, chf) => {
                        let cur = if *chf { "CHF" } else { "EUR" };
                        let rule = (!chf).then_some(silver.id);
                        let e =
                            post::post(db, earning(p, &format!("prop:{n}:{i}"), *cents, cur, *held, rule, now), now)
                                .await
                                .unwrap()
                                .unwrap();
                        model.entry(cur).or_default()[usize::from(!held)] += Decimal::new(*cents, 2);
                        if rule.is_some() {
                            let q = quarters.entry(Quarter::of(now).to_string()).or_default();
                            q.0 += Decimal::new(cents * 5, 2);
                            q.1 += Decimal::new(*cents, 2);
                        }
                        posted.push(e);
                    }
                    Op::Reverse(k) if !posted.is_empty() => {
                        let e = posted[k % posted.len()].clone();
                        let current = ledger::current_states(db, &[e.id]).await.unwrap().remove(&e.id).unwrap();
                        let cur = if e.currency == "CHF" { "CHF" } else { "EUR" };
                        let amount = e.amount.to_decimal();
                        if post::reverse(db, &e, &current, "test", now).await.unwrap() {
                            // The reversal counts in the quarter it is posted in.
                            if e.rule_id.is_some() {
                                let q = quarters.entry(Quarter::of(now).to_string()).or_default();
                                q.0 -= e.base.map(|b| b.to_decimal()).unwrap_or_default();
                                q.1 -= amount;
                            }
                            let m = model.entry(cur).or_default();
                            match current.state {
                                // The pair cancels: the original leaves its bucket.
                                EntryState::Pending => m[0] -= amount,
                                EntryState::Approved => m[1] -= amount,
                                // Paid: the reversal is owed back, approved.
                                _ => m[1] -= amount,
                            }
                        }
                    }
                    Op::Reverse(_) => {}
                    Op::Release => {
                        app.clock.advance(TimeDelta::days(2));
                        let before = ledger::balances(db, Some(&staff), p).await.unwrap();
                        post::release_due(&app.ctx).await.unwrap();
                        for (cur, m) in model.iter_mut() {
                            let pending = before.0.get(*cur).map(|b| b.pending).unwrap_or_default();
                            m[1] += pending;
                            m[0] -= pending;
                        }
                    }
                    Op::CloseQuarter => {
                        // Into the next quarter (once in a while again: the same quarter closes twice).
                        if Quarter::of(now) == Quarter::of(now - TimeDelta::days(3)) {
                            app.clock.advance(Quarter::of(now).end() - now + TimeDelta::hours(1));
                        }
                        let closing = Quarter::of(app.ctx.now()).previous();
                        let made = post::close_quarter(&app.ctx, Some(&staff), closing).await.unwrap();
                        let ours: Vec<&ledger_entry::Model> = made.iter().filter(|e| e.partner_id == p).collect();
                        let (base, paid) = quarters.get(&closing.to_string()).copied().unwrap_or_default();
                        let expected = partnerhub::domain::ledger::accelerator_adjustment(
                            base,
                            paid,
                            Some(Decimal::from(500)),
                            Some(Decimal::from(30)),
                            "EUR",
                        );
                        let got = ours.first().map(|e| e.amount.to_decimal());
                        // Posted by the first close only: a second close of the quarter adds nothing.
                        if let Some(q) = quarters.get_mut(&closing.to_string()) {
                            *q = Default::default();
                        }
                        prop_assert!(ours.len() <= 1);
                        prop_assert_eq!(got, expected, "{} {:?}", closing, ops);
                        if let Some(adjustment) = got {
                            prop_assert_eq!(ours[0].kind, EntryKind::Adjustment);
                            model.entry("EUR").or_default()[1] += adjustment;
                            accelerated.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                    Op::Payout(chf, k) => {
                        let cur = if *chf { "CHF" } else { "EUR" };
                        // Other partners of the demo are paid too; this partner's share is what counts.
                        let approved = ledger::balances(db, Some(&staff), p)
                            .await
                            .unwrap()
                            .0
                            .get(cur)
                            .map(|b| b.approved)
                            .unwrap_or_default();
                        let key = format!("prop:{n}:{cur}:{k}");
                        match payouts::run(&app.ctx, Some(&staff), &key, cur).await {
                            Ok(_) => {}
                            Err(partnerhub::error::AppError::BadInput { .. }) => continue,
                            Err(other) => panic!("{other:?}"),
                        }
                        let after = ledger::balances(db, Some(&staff), p)
                            .await
                            .unwrap()
                            .0
                            .get(cur)
                            .map(|b| b.approved)
                            .unwrap_or_default();
                        // Paid when positive (no minimum for this partner); what was paid moved over.
                        let m = model.entry(cur).or_default();
                        m[1] -= approved - after;
                        m[2] += approved - after;
                        prop_assert!(
                            after == Decimal::ZERO || approved <= Decimal::ZERO || after == approved,
                            "a retried key pays nothing new, a new one pays all"
                        );
                    }
                }
            }
            let sql = ledger::balances(db, Some(&staff), p).await.unwrap();
            for (cur, m) in &model {
                let b = sql.0.get(*cur).cloned().unwrap_or_default();
                prop_assert_eq!([b.pending, b.approved, b.paid], *m, "{} {:?}", cur, ops);
                let entries = ledger_entry::Entity::find()
                    .filter(ledger_entry::Column::PartnerId.eq(p))
                    .filter(ledger_entry::Column::Currency.eq(*cur))
                    .all(db)
                    .await
                    .unwrap();
                let earned: Decimal =
                    entries.iter().filter(|e| e.kind != EntryKind::Payout).map(|e| e.amount.to_decimal()).sum();
                prop_assert_eq!(earned, b.pending + b.approved + b.paid + b.written_off);
                prop_assert_eq!(b.written_off, Decimal::ZERO, "reversed pairs net to zero");
                prop_assert_eq!(b.paid_out, -b.paid, "what was paid left in payout entries");
            }
            let paid_twice = ledger_entry_state::Entity::find()
                .filter(ledger_entry_state::Column::PartnerId.eq(p))
                .filter(ledger_entry_state::Column::State.eq(EntryState::Paid))
                .all(db)
                .await
                .unwrap();
            let mut ids: Vec<Uuid> = paid_twice.iter().map(|s| s.entry_id).collect();
            let total = ids.len();
            ids.sort();
            ids.dedup();
            prop_assert_eq!(ids.len(), total, "an entry in two batches");
            Ok(())
        })
    });
    // Sixteen histories of up to 24 steps reach a target somewhere (a miss is ~1 in 10^8).
    assert!(accelerated.into_inner() > 0, "no history closed a quarter whose target was met");
}

/// A child process killed and reaped however the test ends.
struct Node(std::process::Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A node killed (SIGKILL) while its payout job pays a batch: the batch stays RUNNING with some
/// partners paid; the job run again completes it, and every approved entry is paid exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_killed_half_way_is_completed_by_the_next_run_paying_each_entry_once() {
    let app = TestApp::spawn().await;
    app.demo().await;
    let db = &app.ctx.db;
    let now = app.ctx.now();
    // Many partners owed: a batch long enough to be killed in the middle.
    let owed = 400;
    let mut partners = Vec::new();
    for i in 0..owed {
        let p = partner(&app, &format!("Owed Partner {i:03}")).await;
        post::post(db, earning(p, &format!("kill:{i}"), 1_000 + i, "EUR", false, None, now), now).await.unwrap();
        partners.push(p);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut node = Node(
        std::process::Command::new(env!("CARGO_BIN_EXE_partnerhub"))
            .arg("serve")
            .env("PARTNERHUB_DATABASE_URL", &app.database_url)
            .env("PARTNERHUB_LISTEN", format!("127.0.0.1:{port}"))
            .env("PARTNERHUB_LOG", "warn")
            .spawn()
            .unwrap(),
    );
    // The node's jobs start the scheduled payout at once; kill it once some partners are paid.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let paid_when_killed = loop {
        let paid = payout_statement::Entity::find().count(db).await.unwrap();
        if paid >= 20 {
            node.0.kill().unwrap();
            node.0.wait().unwrap();
            break payout_statement::Entity::find().count(db).await.unwrap();
        }
        assert!(std::time::Instant::now() < deadline, "the node's payout job never started");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let running =
        payout_batch::Entity::find().filter(payout_batch::Column::RunningCurrency.eq("EUR")).one(db).await.unwrap();
    let running = running.expect("killed in the middle: the batch is still RUNNING");
    assert!(paid_when_killed < u64::try_from(owed).unwrap(), "killed before the end: {paid_when_killed} paid");
    // The job runs again (here, in another process): it completes the batch and makes no second.
    payouts::run_scheduled(&app.ctx).await.unwrap();
    let batch = payout_batch::Entity::find_by_id(running.id).one(db).await.unwrap().unwrap();
    assert_eq!(batch.status, entity::enums::PayoutStatus::Completed);
    let batches = payout_batch::Entity::find()
        .filter(payout_batch::Column::IdempotencyKey.starts_with("schedule:"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(batches, 1);
    for p in partners {
        let statements =
            payout_statement::Entity::find().filter(payout_statement::Column::PartnerId.eq(p)).count(db).await.unwrap();
        assert_eq!(statements, 1, "each partner paid once");
        let states = ledger_entry_state::Entity::find()
            .filter(ledger_entry_state::Column::PartnerId.eq(p))
            .filter(ledger_entry_state::Column::State.eq(EntryState::Paid))
            .all(db)
            .await
            .unwrap();
        // Its earning, and its payout entry.
        assert_eq!(states.len(), 2);
        assert!(states.iter().all(|s| s.batch_id == Some(batch.id)));
    }
}

/// The ledger list and the dashboard figures cost the same number of statements for a partner
/// with 5 entries and one with 500.
#[tokio::test]
async fn the_ledger_and_the_dashboard_cost_the_same_for_5_and_500_entries() {
    let app = TestApp::spawn_counting(|s| s.graphql.max_complexity = usize::MAX).await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let db = &app.ctx.db;
    let now = app.ctx.now();
    let (few, many) = (partner(&app, "Few Entries").await, partner(&app, "Many Entries").await);
    // Both in the reseller programme's top tier, so the dashboard has a target to show.
    let tier = entity::tier::Entity::find().all(db).await.unwrap().into_iter().max_by_key(|t| t.rank).unwrap();
    for p in [few, many] {
        entity::partnership::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(p),
            program_id: Set(tier.program_id),
            tier_id: Set(tier.id),
            joined_at: Set(now),
            committed_yearly_volume: Set(None),
            yearly_fee_paid_until: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            grace_started_at: Set(None),
            grace_ends_at: Set(None),
            grace_missing: Set(None),
            yearly_fee_due_at: Set(None),
        }
        .insert(db)
        .await
        .unwrap();
    }
    for (p, n) in [(few, 5), (many, 500)] {
        for i in 0..n {
            post::post(db, earning(p, &format!("count:{p}:{i}"), 100 + i, "EUR", i % 3 == 0, None, now), now)
                .await
                .unwrap();
        }
    }
    let query = "query($p: ID!) { partnerLedger(partnerId: $p, first: 100) { totalCount nodes { id kind amount { amount } state holdReason releaseAt history { state at } } }
        partnerBalances(partnerId: $p) { currency pending { amount } approvedUnpaid { amount } holds { reason amount { amount } } }
        partnerEarnings(partnerId: $p) { quarter commissions { amount } held { amount } nextPayoutAt } }";
    let mut counts = Vec::new();
    for p in [few, many] {
        let id = partnerhub::ids::encode(partnerhub::ids::NodeType::Organization, p);
        let (count, body) = app.read_statements(Some(&vera), query, serde_json::json!({ "p": id })).await;
        assert_no_errors(&body);
        assert_eq!(body["data"]["partnerEarnings"]["quarter"], Quarter::of(now).to_string(), "{body}");
        counts.push(count);
    }
    assert_eq!(counts[0], counts[1], "5 entries: {} statements, 500: {}", counts[0], counts[1]);
}
