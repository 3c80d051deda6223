//! Background work shared by all nodes. Each change is a conditional UPDATE on the row it
//! changes, so when several nodes run the same job at once, each change happens (and is
//! audited) exactly once: the node whose UPDATE matched does it; the others see 0 rows.
// Jobs work for the whole deployment, not for a principal.
#![allow(clippy::disallowed_methods)]

pub mod grants;
pub mod outbox;
pub mod tiers;

use std::time::Duration;

use crate::service::Ctx;

/// Runs the periodic jobs and the outbox worker until `stop`; the handle ends when all have.
pub fn spawn(ctx: Ctx, mut stop: outbox::Stop) -> tokio::task::JoinHandle<()> {
    let outbox = outbox::spawn(ctx.clone(), stop.clone());
    let periodic = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        // The tier review runs once per UTC day on each node (at start, then after midnight);
        // its writes are idempotent, so nodes running it together agree.
        let mut reviewed_on = None;
        // Billing runs when a period starts (and at start, to catch up); the unique invoice
        // per organisation and period makes a second run on any node a no-op.
        let mut billed = None;
        // Quarter closes and scheduled payouts are keyed (source keys, batch keys): a second
        // run, here or on another node, posts and pays nothing twice.
        let mut closed = None;
        let mut paid_slot = None;
        // The tender digest goes out once per UTC day; one row per partner and day keeps a
        // second run (another node, a restart) from sending it twice.
        let mut digested_on = None;
        loop {
            // A job that runs finishes its work; no new one starts once the process stops.
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
            ran("grant_expiry", grants::run_expiry(&ctx).await, "grant expiry run failed; retrying next minute");
            ran(
                "grant_expiry_warnings",
                grants::warn_expiring(&ctx).await,
                "grant expiry warnings failed; retrying next minute",
            );
            ran(
                "deal_expiry",
                crate::service::deals::run_expiry(&ctx).await,
                "deal expiry run failed; retrying next minute",
            );
            ran(
                "tender_closing",
                crate::service::tenders::run_close(&ctx).await,
                "tender closing failed; retrying next minute",
            );
            ran(
                "subscription_renewals",
                crate::service::subscriptions::run_renewals(&ctx).await,
                "subscription renewals failed; retrying next minute",
            );
            let period = crate::service::billing::Period::of(ctx.now());
            if billed != Some(period) {
                match counted("billing_run", crate::service::billing::run(&ctx, None, period, true, None).await) {
                    Ok(made) => {
                        tracing::info!(period = %period, invoices = made.len(), "billing run done");
                        billed = Some(period);
                    }
                    Err(err) => err.report("billing run failed; retrying next minute"),
                }
            }
            ran(
                "ledger_release",
                crate::service::ledger::post::release_due(&ctx).await,
                "ledger release failed; retrying next minute",
            );
            let quarter = crate::domain::ledger::Quarter::of(ctx.now()).previous();
            if closed != Some(quarter) {
                match counted("quarter_close", crate::service::ledger::post::close_quarter(&ctx, None, quarter).await) {
                    Ok(_) => closed = Some(quarter),
                    Err(err) => err.report("quarter close failed; retrying next minute"),
                }
            }
            let slot = crate::domain::ledger::payout_slot(ctx.now(), 1);
            if paid_slot != Some(slot) {
                match counted("scheduled_payout", crate::service::ledger::payouts::run_scheduled(&ctx).await) {
                    Ok(_) => paid_slot = Some(slot),
                    Err(err) => err.report("scheduled payout failed; retrying next minute"),
                }
            }
            let today = ctx.now().date_naive();
            if digested_on != Some(today) {
                match counted("tender_digest", crate::service::tenders::run_digest(&ctx).await) {
                    Ok(sent) => {
                        tracing::info!(partners = sent, "tender digest sent");
                        digested_on = Some(today);
                    }
                    Err(err) => err.report("tender digest failed; retrying next minute"),
                }
            }
            if reviewed_on != Some(today) {
                match counted("tier_review", tiers::run_review(&ctx).await) {
                    Ok(_) => reviewed_on = Some(today),
                    Err(err) => err.report("tier review failed; retrying next minute"),
                }
            }
        }
    });
    tokio::spawn(async move {
        let _ = tokio::join!(outbox, periodic);
    })
}

/// A job's run, counted in the metrics.
fn counted<T>(job: &'static str, result: crate::error::AppResult<T>) -> crate::error::AppResult<T> {
    crate::metrics::job(job, result.is_ok());
    result
}

/// A job's run, counted, and its failure reported (it runs again next minute).
fn ran<T>(job: &'static str, result: crate::error::AppResult<T>, failed: &str) {
    if let Err(err) = counted(job, result) {
        err.report(failed);
    }
}
