//! Commissions, partner of record, the append-only ledger and exactly-once payouts: each rule
//! played from the abusive side too (the rival reading another's money, the partner confirming
//! its own claim, a payout run twice at once).

use serde_json::{Value, json};

use crate::helpers::*;

const LEDGER: &str = "{ viewer { actingAs { organization { id } } } ledger: partnerLedger(first: 100) { totalCount nodes { id kind
    amount { amount } state holdReason releaseAt quarter rate base { amount } reverses history { state } } }
    balances: partnerBalances { currency pending { amount } approvedUnpaid { amount } paid { amount } writtenOff { amount }
    paidOut { amount } holds { reason amount { amount } } }
    earnings: partnerEarnings { quarter commissions { amount } target { amount } rateReached approvedUnpaid { amount } held { amount } } }";

fn org(body: &Value) -> Value {
    let mut o = body["data"].clone();
    o["id"] = body["data"]["viewer"]["actingAs"]["organization"]["id"].clone();
    o
}

async fn ledger(app: &TestApp, token: &str) -> Value {
    let body = app.gql(Some(token), LEDGER, json!({})).await;
    assert_no_errors(&body);
    org(&body)
}

fn entries<'a>(o: &'a Value, kind: &str) -> Vec<&'a Value> {
    o["ledger"]["nodes"].as_array().unwrap().iter().filter(|e| e["kind"] == kind).collect()
}

fn eur(o: &Value, bucket: &str) -> String {
    o["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["currency"] == "EUR")
        .map_or("0.00".into(), |b| b[bucket]["amount"].as_str().unwrap().to_string())
}

async fn fjord_invoice(app: &TestApp, fiona: &str) -> Value {
    let body = app.gql(Some(fiona), "{ invoices(first: 100) { nodes { id status billToName } } }", json!({})).await;
    body["data"]["invoices"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["billToName"] == "Fjord Freight AS")
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_paid_invoice_earns_its_partner_of_record_held_for_the_window_and_a_refund_reverses_it() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, fiona) = (world.token("anna@"), world.token("fiona.finance@"));
    let alpine = ledger(&app, &anna).await;
    let commissions = entries(&alpine, "COMMISSION");
    assert!(!commissions.is_empty(), "Fjord's paid invoice earned Alpine commission: {alpine}");
    for c in &commissions {
        assert_eq!(c["state"], "PENDING");
        assert_eq!(c["rate"], "20", "Alpine is Gold: 20%");
        assert!(c["holdReason"].as_str().unwrap().starts_with("reversal window until "), "{c}");
        assert!(c["releaseAt"].is_string());
    }
    let pending = eur(&alpine, "pending");
    assert_ne!(pending, "0.00");
    assert_eq!(alpine["earnings"]["commissions"]["amount"], pending.as_str(), "this quarter's commission: {alpine}");
    assert_eq!(alpine["earnings"]["held"]["amount"], pending.as_str());

    // Refunded: each commission is reversed by an entry of the opposite amount; the pair is
    // written off and nothing stays owed. The ledger only grew.
    let invoice = fjord_invoice(&app, &fiona).await;
    let refund = "mutation($i: VoidInvoiceInput!) { refundInvoice(input: $i) { invoice { status } } }";
    let refunded =
        app.gql(Some(&fiona), refund, json!({ "i": { "id": invoice["id"], "reason": "returned goods" } })).await;
    assert_eq!(refunded["data"]["refundInvoice"]["invoice"]["status"], "REFUNDED", "{refunded}");
    assert_eq!(
        error_code(&app.gql(Some(&fiona), refund, json!({ "i": { "id": invoice["id"], "reason": "again" } })).await),
        "CONFLICT"
    );
    assert_eq!(
        error_code(&app.gql(Some(&anna), refund, json!({ "i": { "id": invoice["id"], "reason": "x" } })).await),
        "FORBIDDEN"
    );
    let after = ledger(&app, &anna).await;
    let reversals = entries(&after, "REVERSAL");
    assert_eq!(reversals.len(), commissions.len());
    for r in &reversals {
        assert_eq!(r["state"], "REVERSED");
        assert!(r["amount"]["amount"].as_str().unwrap().starts_with('-'));
    }
    assert!(entries(&after, "COMMISSION").iter().all(|c| c["state"] == "REVERSED"));
    assert!(
        entries(&after, "COMMISSION").iter().all(|c| c["history"].as_array().unwrap().len() == 2),
        "PENDING then REVERSED, as rows"
    );
    assert_eq!(eur(&after, "pending"), "0.00");
    assert_eq!(eur(&after, "writtenOff"), "0.00", "a reversed pair nets to zero");
}

#[tokio::test]
async fn a_cancellation_inside_the_window_reverses_and_after_it_does_not() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let fjord = organization_id(&app, &world.token("vera.admin@"), "Fjord Freight AS").await;
    let subs = app
        .gql(
            Some(&anna),
            "query($id: ID!) { customer(id: $id) { subscriptions { nodes { id } } } }",
            json!({ "id": fjord }),
        )
        .await;
    let ids: Vec<Value> = subs["data"]["customer"]["subscriptions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(ids.len(), 2, "{subs}");
    let cancel = "mutation($id: ID!) { cancelSubscription(input: {id: $id}) { subscription { id } } }";
    let before = entries(&ledger(&app, &anna).await, "COMMISSION").len();
    // Inside the 7-day window: the commission held for the cancelled subscription is reversed.
    app.clock.advance(chrono::TimeDelta::days(3));
    assert_no_errors(&app.gql(Some(&anna), cancel, json!({ "id": ids[0] })).await);
    let inside = ledger(&app, &anna).await;
    assert_eq!(entries(&inside, "REVERSAL").len(), 1, "one line, one reversal: {inside}");
    // After the window: released to APPROVED by the job, and a cancellation reverses nothing.
    app.clock.advance(chrono::TimeDelta::days(5));
    let released = partnerhub::service::ledger::post::release_due(&app.ctx).await.unwrap();
    assert_eq!(released, before - 1);
    assert_no_errors(&app.gql(Some(&anna), cancel, json!({ "id": ids[1] })).await);
    let after = ledger(&app, &anna).await;
    assert_eq!(entries(&after, "REVERSAL").len(), 1, "{after}");
    assert!(entries(&after, "COMMISSION").iter().filter(|c| c["state"] == "APPROVED").count() == before - 1);
    // Released, what is left waits only for the minimum payout (5.50 of 20 EUR), never the window.
    let holds = after["balances"][0]["holds"].as_array().unwrap();
    assert!(holds.iter().all(|h| h["reason"].as_str().unwrap().starts_with("minimum payout of 20 EUR")), "{after}");
}

#[tokio::test]
async fn only_the_customer_confirms_a_claim_and_a_rival_sees_neither_claims_nor_money() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, bruno, giulia, sam, erika) = (
        world.token("anna@"),
        world.token("bruno@"),
        world.token("giulia@"),
        world.token("sam@"),
        world.token("erika@"),
    );
    let claims = "{ partnerOfRecordClaims { nodes { id status partner { name } customer { name } } } }";
    let garda_claim = app.gql(Some(&giulia), claims, json!({})).await;
    let pending = garda_claim["data"]["partnerOfRecordClaims"]["nodes"][0].clone();
    assert_eq!(pending["status"], "CLAIMED", "{garda_claim}");
    assert_eq!(pending["partner"]["name"], "Baltic Cloud SIA");
    let decide = "mutation($id: ID!, $c: Boolean!) { decidePartnerOfRecord(input: {claimId: $id, confirm: $c}) { claim { status staffVerified } } }";
    // The partner cannot confirm its own claim; a rival cannot even find it; Erika is not Garda.
    assert_eq!(
        error_code(&app.gql(Some(&bruno), decide, json!({ "id": pending["id"], "c": true })).await),
        "FORBIDDEN"
    );
    assert_eq!(error_code(&app.gql(Some(&anna), decide, json!({ "id": pending["id"], "c": true })).await), "NOT_FOUND");
    assert_eq!(
        error_code(&app.gql(Some(&erika), decide, json!({ "id": pending["id"], "c": true })).await),
        "NOT_FOUND"
    );
    let confirmed = app.gql(Some(&giulia), decide, json!({ "id": pending["id"], "c": true })).await;
    assert_eq!(
        confirmed["data"]["decidePartnerOfRecord"]["claim"],
        json!({ "status": "CONFIRMED", "staffVerified": false })
    );
    assert_eq!(
        error_code(&app.gql(Some(&giulia), decide, json!({ "id": pending["id"], "c": false })).await),
        "CONFLICT"
    );
    // Alpine sees only its own claims; Bruno none of Alpine's.
    let alpine_claims = app.gql(Some(&anna), claims, json!({})).await;
    assert!(
        alpine_claims["data"]["partnerOfRecordClaims"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["partner"]["name"] == "Alpine Voice AG")
    );
    let baltic = app.gql(Some(&bruno), claims, json!({})).await;
    assert!(
        baltic["data"]["partnerOfRecordClaims"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["partner"]["name"] == "Baltic Cloud SIA"),
        "{baltic}"
    );
    // A rival reading Alpine's money through node(id:) gets nothing; Alpine's SALES neither.
    let alpine = ledger(&app, &anna).await;
    let entry_id = alpine["ledger"]["nodes"][0]["id"].clone();
    let node = "query($id: ID!) { node(id: $id) { id } }";
    assert!(app.gql(Some(&bruno), node, json!({ "id": entry_id })).await["data"]["node"].is_null());
    assert!(app.gql(Some(&sam), node, json!({ "id": entry_id })).await["data"]["node"].is_null());
    assert!(!app.gql(Some(&anna), node, json!({ "id": entry_id })).await["data"]["node"].is_null());
    let read_other = "query($id: ID!) { partnerLedger(partnerId: $id) { totalCount } partnerBalances(partnerId: $id) { currency } partnerEarnings(partnerId: $id) { quarter } }";
    let peek = app.gql(Some(&bruno), read_other, json!({ "id": alpine["id"] })).await;
    assert_eq!(
        peek["data"],
        json!({ "partnerLedger": { "totalCount": 0 }, "partnerBalances": [], "partnerEarnings": null }),
        "{peek}"
    );
    let sam_view = ledger(&app, &sam).await;
    assert_eq!(sam_view["ledger"]["totalCount"], 0);
    assert!(sam_view["earnings"].is_null());
    // A partner claims only customers it works with.
    let hanse = organization_id(&app, &world.token("vera.admin@"), "Hanse Logistik GmbH").await;
    let claim = "mutation($id: ID!) { claimPartnerOfRecord(input: {customerId: $id}) { claim { id } } }";
    let refused = app.gql(Some(&anna), claim, json!({ "id": hanse })).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "customerId", "{refused}");
    // A new confirmed claim ends the previous partner of record, and it is told.
    let edelweiss = organization_id(&app, &anna, "Edelweiss Dental").await;
    let again = app.gql(Some(&anna), claim, json!({ "id": edelweiss })).await;
    assert_eq!(error_code(&again), "CONFLICT", "Alpine already is Edelweiss's partner of record: {again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payouts_pay_every_approved_entry_exactly_once_under_concurrency_and_retries() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (fiona, vera, anna, cara) =
        (world.token("fiona.finance@"), world.token("vera.admin@"), world.token("anna@"), world.token("cara@"));
    // Alpine's commission is released once the window is over.
    app.clock.advance(chrono::TimeDelta::days(8));
    partnerhub::service::ledger::post::release_due(&app.ctx).await.unwrap();
    let owed = eur(&ledger(&app, &anna).await, "approvedUnpaid");
    assert_ne!(owed, "0.00");
    let run = "mutation($k: String!) { runPayout(input: {idempotencyKey: $k, currency: \"EUR\"}) { partnersPaid batch { number status statements { partner { name } amount { amount } } } } }";
    let second = app.second_node().await;
    let (a, b, c) = tokio::join!(
        app.gql(Some(&fiona), run, json!({ "k": "wave-a" })),
        second.gql(Some(&vera), run, json!({ "k": "wave-b" })),
        app.gql(Some(&fiona), run, json!({ "k": "wave-a" })),
    );
    for body in [&a, &b, &c] {
        assert_no_errors(body);
        assert_eq!(body["data"]["runPayout"]["batch"]["status"], "COMPLETED");
    }
    let paid: i64 = [&a, &b, &c].iter().map(|x| x["data"]["runPayout"]["partnersPaid"].as_i64().unwrap()).sum();
    assert_eq!(paid, 1, "Alpine paid once, whoever ran it: {a} {b} {c}");
    let retry = app.gql(Some(&fiona), run, json!({ "k": "wave-a" })).await;
    assert_eq!(retry["data"]["runPayout"]["partnersPaid"], 0);
    assert_eq!(retry["data"]["runPayout"]["batch"]["number"], a["data"]["runPayout"]["batch"]["number"]);
    let alpine = ledger(&app, &anna).await;
    assert_eq!(eur(&alpine, "approvedUnpaid"), "0.00");
    assert_eq!(eur(&alpine, "paid"), owed);
    assert_eq!(eur(&alpine, "paidOut"), format!("-{owed}"));
    assert_eq!(entries(&alpine, "PAYOUT").len(), 1, "one payout entry: {alpine}");
    // Celtic stays under the minimum: held with that reason.
    let celtic = ledger(&app, &cara).await;
    let holds = celtic["balances"][0]["holds"].as_array().unwrap();
    assert!(
        holds.iter().any(|h| h["reason"].as_str().unwrap().starts_with("minimum payout of 20 EUR not reached")),
        "{celtic}"
    );
    // Only staff ADMIN or FINANCE pay out.
    assert_eq!(error_code(&app.gql(Some(&world.token("carl.channel@")), run, json!({ "k": "x" })).await), "FORBIDDEN");
    assert_eq!(error_code(&app.gql(Some(&anna), run, json!({ "k": "x" })).await), "FORBIDDEN");
    // The statement as CSV: Alpine reads its own rows, the batch it was not in is 404 to it.
    // Whichever call's batch paid Alpine (the racers may answer with an earlier or later one),
    // Alpine lists exactly that one.
    let mine = app
        .gql(Some(&anna), "{ payoutBatches { nodes { number statements { amount { amount } } } } }", json!({}))
        .await;
    let mine = mine["data"]["payoutBatches"]["nodes"].as_array().unwrap().clone();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["statements"][0]["amount"]["amount"], owed.as_str());
    let number = mine[0]["number"].as_str().unwrap().to_string();
    let csv =
        app.client.get(app.url(&format!("/exports/payouts/{number}.csv"))).bearer_auth(&anna).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("batch,partner,entry,kind"), "{text}");
    assert!(text.lines().skip(1).all(|l| l.contains("Alpine Voice AG")), "{text}");
    let other = app.client.get(app.url("/exports/payouts/PO-2026-000001.csv")).bearer_auth(&anna).send().await.unwrap();
    assert_eq!(other.status(), 404, "Baltic's batch is not Alpine's to read");
    let bruno_csv = app
        .client
        .get(app.url(&format!("/exports/payouts/{number}.csv")))
        .bearer_auth(world.token("bruno@"))
        .send()
        .await
        .unwrap();
    assert_eq!(bruno_csv.status(), 404);
}

#[tokio::test]
async fn the_quarter_close_posts_the_accelerator_once_and_only_when_the_target_was_met() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (bruno, cara, fiona) = (world.token("bruno@"), world.token("cara@"), world.token("fiona.finance@"));
    let baltic = ledger(&app, &bruno).await;
    let adjustments = entries(&baltic, "ADJUSTMENT");
    assert_eq!(adjustments.len(), 1, "{baltic}");
    assert_eq!(adjustments[0]["amount"]["amount"], "65.00", "30% of 650 is 195: 65 on top of 130");
    assert_eq!(adjustments[0]["rate"], "30");
    let celtic = ledger(&app, &cara).await;
    assert!(entries(&celtic, "ADJUSTMENT").is_empty(), "Celtic's rule has no accelerator");
    let last = partnerhub::domain::ledger::Quarter::of(app.ctx.now()).previous().to_string();
    let close = "mutation($q: String!) { closeQuarter(input: {quarter: $q}) { adjustments { id } } }";
    let again = app.gql(Some(&fiona), close, json!({ "q": last })).await;
    assert_eq!(again["data"]["closeQuarter"]["adjustments"], json!([]), "posted once: {again}");
    let this = partnerhub::domain::ledger::Quarter::of(app.ctx.now()).to_string();
    assert_eq!(app.gql(Some(&fiona), close, json!({ "q": this })).await["errors"][0]["extensions"]["field"], "quarter");
    assert_eq!(error_code(&app.gql(Some(&bruno), close, json!({ "q": last })).await), "FORBIDDEN");
}

/// Mutations of this issue, with who may run them (targets from the demo).
pub const OPERATIONS: [&str; 9] = [
    "createCommissionRule",
    "claimPartnerOfRecord",
    "decidePartnerOfRecord",
    "endPartnerOfRecord",
    "markLedgerEntry",
    "closeQuarter",
    "runPayout",
    "refundInvoice",
    "createReferralCode",
];

#[rustfmt::skip]
const TABLE: &[(&str, [&str; 9])] = &[
    ("vera.admin@", ["OK", "FORBIDDEN", "OK", "OK", "OK", "OK", "OK", "OK", "FORBIDDEN"]),
    ("carl.channel@", ["FORBIDDEN", "FORBIDDEN", "OK", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    ("fiona.finance@", ["OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "OK", "OK", "OK", "FORBIDDEN"]),
    // Baltic's ADMIN claims a customer it works with; its own claim it cannot decide; Alpine's
    // claim on Fjord does not exist for it.
    ("bruno@", ["FORBIDDEN", "OK", "FORBIDDEN", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    // Garda's ADMIN answers the claim on Garda, and sees no other.
    ("giulia@", ["FORBIDDEN", "FORBIDDEN", "OK", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    // A rival partner: Hanse is not its customer, the claims are not its to find.
    ("cara@", ["FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    // The affiliate: its code, and nothing of the resellers' customers.
    ("tamas@", ["FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK"]),
    ("anonymous", ["UNAUTHENTICATED"; 9]),
];

#[tokio::test]
async fn actors_by_ledger_operations() {
    let mut failures = Vec::new();
    for (actor, expected) in TABLE {
        // A world per actor; its operations run in an order where none takes another's target.
        let app = TestApp::spawn().await;
        let world = app.demo().await;
        let vera = world.token("vera.admin@");
        let token = (*actor != "anonymous").then(|| world.token(actor));
        let program = app.gql(Some(&vera), "{ programs { nodes { id } } }", json!({})).await["data"]["programs"]["nodes"][0]["id"].clone();
        let hanse = organization_id(&app, &vera, "Hanse Logistik GmbH").await;
        let claims = app
            .gql(Some(&vera), "{ partnerOfRecordClaims { nodes { id status customer { name } } } }", json!({}))
            .await;
        let claim_of = |customer: &str, status: &str| {
            claims["data"]["partnerOfRecordClaims"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["customer"]["name"] == customer && c["status"] == status)
                .unwrap()["id"]
                .clone()
        };
        let celtic = organization_id(&app, &vera, "Celtic Comms Ltd").await;
        let entry = app
            .gql(
                Some(&vera),
                "query($id: ID!) { partnerLedger(partnerId: $id, first: 1) { nodes { id } } }",
                json!({ "id": celtic }),
            )
            .await["data"]["partnerLedger"]["nodes"][0]["id"]
            .clone();
        let fjord_invoice = fjord_invoice(&app, &vera).await["id"].clone();
        let last = partnerhub::domain::ledger::Quarter::of(app.ctx.now()).previous().to_string();
        for (op, want) in OPERATIONS.iter().zip(expected) {
            let (doc, vars) = match *op {
                "createCommissionRule" => (
                    "mutation($p: ID!) { createCommissionRule(input: {programId: $p, percent: \"10\", validFrom: \"2026-01-01T00:00:00Z\"}) { rule { id } } }",
                    json!({ "p": program }),
                ),
                "claimPartnerOfRecord" => (
                    "mutation($c: ID!) { claimPartnerOfRecord(input: {customerId: $c}) { claim { id } } }",
                    json!({ "c": hanse }),
                ),
                "decidePartnerOfRecord" => (
                    "mutation($c: ID!) { decidePartnerOfRecord(input: {claimId: $c, confirm: true}) { claim { id } } }",
                    json!({ "c": claim_of("Garda Hotels Srl", "CLAIMED") }),
                ),
                "endPartnerOfRecord" => (
                    "mutation($c: ID!) { endPartnerOfRecord(input: {claimId: $c, reason: \"audit\"}) { claim { id } } }",
                    json!({ "c": claim_of("Fjord Freight AS", "CONFIRMED") }),
                ),
                "markLedgerEntry" => (
                    "mutation($e: ID!) { markLedgerEntry(input: {entryId: $e, mark: DUPLICATE, reason: \"twice\"}) { entries { id } } }",
                    json!({ "e": entry }),
                ),
                "closeQuarter" => (
                    "mutation($q: String!) { closeQuarter(input: {quarter: $q}) { adjustments { id } } }",
                    json!({ "q": last }),
                ),
                "runPayout" => (
                    "mutation { runPayout(input: {idempotencyKey: \"t\", currency: \"EUR\"}) { batch { id } } }",
                    json!({}),
                ),
                "refundInvoice" => (
                    "mutation($i: ID!) { refundInvoice(input: {id: $i, reason: \"r\"}) { invoice { id } } }",
                    json!({ "i": fjord_invoice }),
                ),
                _ => ("mutation { createReferralCode(input: {}) { referralCode { code } } }", json!({})),
            };
            let body = app.gql(token.as_deref(), doc, vars).await;
            let got = if body["errors"].is_null() { "OK".to_string() } else { error_code(&body).to_string() };
            if got != *want {
                failures.push(format!("{actor} {op}: expected {want}, got {got}: {body}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_new_partner_of_record_ends_the_previous_and_both_are_told() {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, cara, erika, vera) =
        (world.token("anna@"), world.token("cara@"), world.token("erika@"), world.token("vera.admin@"));
    // Celtic gets access to Edelweiss too, and claims to advise it.
    let db = &app.ctx.db;
    let id = |gid: &str| partnerhub::ids::decode_as(partnerhub::ids::NodeType::Organization, gid).unwrap();
    let celtic_id = organization_id(&app, &vera, "Celtic Comms Ltd").await;
    let edelweiss_id = organization_id(&app, &vera, "Edelweiss Dental").await;
    let celtic = entity::organization::Entity::find_by_id(id(&celtic_id)).one(db).await.unwrap().unwrap();
    let edelweiss = entity::organization::Entity::find_by_id(id(&edelweiss_id)).one(db).await.unwrap().unwrap();
    let (active, all) = (entity::enums::GrantStatus::Active, partnerhub::domain::Rights::ALL);
    partnerhub::demo::grant(&app.ctx, &celtic, &edelweiss, active, all).await.unwrap();
    let claim = "mutation($c: ID!) { claimPartnerOfRecord(input: {customerId: $c, note: \"we took over\"}) { claim { id status } } }";
    let made = app.gql(Some(&cara), claim, json!({ "c": edelweiss_id })).await;
    assert_eq!(made["data"]["claimPartnerOfRecord"]["claim"]["status"], "CLAIMED", "{made}");
    let told = "{ viewer { notifications(first: 50) { nodes { kind payload } } } }";
    let erika_told = app.gql(Some(&erika), told, json!({})).await;
    assert!(erika_told.to_string().contains("PARTNER_OF_RECORD_CLAIMED"), "{erika_told}");
    let decide =
        "mutation($id: ID!) { decidePartnerOfRecord(input: {claimId: $id, confirm: true}) { claim { status } } }";
    let claim_id = made["data"]["claimPartnerOfRecord"]["claim"]["id"].clone();
    assert_no_errors(&app.gql(Some(&erika), decide, json!({ "id": claim_id })).await);
    // Alpine's claim on Edelweiss ended, with the reason; both partners were told.
    let alpine_claims = app
        .gql(
            Some(&anna),
            "{ partnerOfRecordClaims(status: ENDED) { nodes { customer { name } endReason } } }",
            json!({}),
        )
        .await;
    let ended = &alpine_claims["data"]["partnerOfRecordClaims"]["nodes"];
    assert_eq!(ended[0]["customer"]["name"], "Edelweiss Dental", "{alpine_claims}");
    assert_eq!(ended[0]["endReason"], "replaced by Celtic Comms Ltd");
    let anna_told = app.gql(Some(&anna), told, json!({})).await;
    assert!(anna_told.to_string().contains("PARTNER_OF_RECORD_ENDED"), "{anna_told}");
    let cara_told = app.gql(Some(&cara), told, json!({})).await;
    assert!(cara_told.to_string().contains("PARTNER_OF_RECORD_DECIDED"), "{cara_told}");
    // Staff override: Vera ends Celtic's; it earns nothing from now on.
    let end = "mutation($id: ID!) { endPartnerOfRecord(input: {claimId: $id, reason: \"customer asked\"}) { claim { status endReason } } }";
    let over = app.gql(Some(&vera), end, json!({ "id": claim_id })).await;
    assert_eq!(
        over["data"]["endPartnerOfRecord"]["claim"],
        json!({ "status": "ENDED", "endReason": "customer asked" })
    );
    assert_eq!(error_code(&app.gql(Some(&erika), end, json!({ "id": claim_id })).await), "FORBIDDEN");
}

#[tokio::test]
async fn an_affiliate_code_attributes_a_new_customer_whose_payments_earn_the_affiliate_and_no_one_else_reads_it() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (tamas, vera, anna, lotta) =
        (world.token("tamas@"), world.token("vera.admin@"), world.token("anna@"), world.token("lotta@"));
    // The demo: Lumo came through Tisza's code and paid; Tisza earned 10% of it, held for the
    // referral programme's 14-day window.
    let tisza = ledger(&app, &tamas).await;
    let commissions = entries(&tisza, "COMMISSION");
    assert_eq!(commissions.len(), 1, "{tisza}");
    assert_eq!(commissions[0]["rate"], "10");
    assert_eq!(commissions[0]["state"], "PENDING");
    assert_eq!(commissions[0]["amount"]["amount"], "4.40", "10% of 8 seats at 5.50: {tisza}");

    // One code per affiliate and programme: asking again answers the same.
    let doc = "mutation { createReferralCode(input: {}) { referralCode { code link program { name } } } }";
    let first = app.gql(Some(&tamas), doc, json!({})).await;
    assert_no_errors(&first);
    let code = first["data"]["createReferralCode"]["referralCode"]["code"].as_str().unwrap().to_string();
    assert_eq!(app.gql(Some(&tamas), doc, json!({})).await["data"]["createReferralCode"]["referralCode"]["code"], code);
    let link = first["data"]["createReferralCode"]["referralCode"]["link"].as_str().unwrap();
    assert!(link.ends_with(&format!("/?ref={code}")), "{link}");
    assert_eq!(first["data"]["createReferralCode"]["referralCode"]["program"]["name"], "Northwind Referral Programme");
    // A reseller is no affiliate; staff and customers have no code either.
    for token in [&anna, &vera, &lotta] {
        assert_eq!(error_code(&app.gql(Some(token), doc, json!({})).await), "FORBIDDEN");
    }
    // The link's page names the affiliate and the code; an unknown code says so.
    let page = app.client.get(app.url(&format!("/?ref={}", code.to_lowercase()))).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("You were referred by Tisza Referrals Kft") && page.contains(&code), "{page}");
    let unknown = app.client.get(app.url("/?ref=NW-NOPE")).send().await.unwrap().text().await.unwrap();
    assert!(unknown.contains("is not known") && !unknown.contains("Tisza"), "{unknown}");

    // Staff open a customer account with the code (as the visitor gave it): attributed to Tisza
    // for the programme's 12 months.
    let create =
        "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { organization { id name } } }";
    let nova = json!({ "kind": "CUSTOMER", "name": "Nova Optics Oy", "country": "FI", "referralCode": format!(" {} ", code.to_lowercase()) });
    assert_no_errors(&app.gql(Some(&vera), create, json!({ "i": nova })).await);
    let doc = "{ referralAttributions { totalCount nodes { organizationName attributedAt endsAt partner { name } } } }";
    let seen = app.gql(Some(&tamas), doc, json!({})).await;
    let names: Vec<&str> = seen["data"]["referralAttributions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["organizationName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Lumo Opticians Oy", "Nova Optics Oy"], "{seen}");
    let nova_row = &seen["data"]["referralAttributions"]["nodes"][1];
    let (from, to) = (nova_row["attributedAt"].as_str().unwrap(), nova_row["endsAt"].as_str().unwrap());
    let year_later = chrono::DateTime::parse_from_rfc3339(from).unwrap() + chrono::Months::new(12);
    assert_eq!(chrono::DateTime::parse_from_rfc3339(to).unwrap(), year_later);

    // Bad codes: the field is named and nothing was created. A partner is never attributed (the
    // affiliate itself included): a partner referred earns nobody anything.
    let count = "{ organizations(first: 100) { totalCount } }";
    let before = app.gql(Some(&vera), count, json!({})).await["data"]["organizations"]["totalCount"].clone();
    for (kind, name, code) in [
        ("CUSTOMER", "Orion Optics Oy", "NW-NOPE".to_string()),
        ("PARTNER", "Pegasus Referrals Oy", code.clone()),
        ("DISTRIBUTOR", "Quasar Distribution Oy", code.clone()),
    ] {
        let input = json!({ "kind": kind, "name": name, "country": "FI", "referralCode": code });
        let refused = app.gql(Some(&vera), create, json!({ "i": input })).await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{kind}: {refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], "referralCode", "{refused}");
    }
    assert_eq!(app.gql(Some(&vera), count, json!({})).await["data"]["organizations"]["totalCount"], before);

    // The rival reseller, the referred customer and the anonymous visitor see no code and no
    // attribution; staff see them all.
    let codes = "{ referralCodes { totalCount } referralAttributions { totalCount } }";
    for token in [&anna, &lotta] {
        let body = app.gql(Some(token), codes, json!({})).await;
        assert_eq!(body["data"]["referralCodes"]["totalCount"], 0, "{body}");
        assert_eq!(body["data"]["referralAttributions"]["totalCount"], 0, "{body}");
    }
    assert_eq!(error_code(&app.gql(None, codes, json!({})).await), "UNAUTHENTICATED");
    let staff = app.gql(Some(&vera), codes, json!({})).await;
    assert_eq!(staff["data"]["referralAttributions"]["totalCount"], 2, "{staff}");
}

/// An affiliate's first code asked for several times at once (a double click, two tabs): one
/// code, every request answered with it, none refused.
#[tokio::test]
async fn a_first_referral_code_asked_for_at_once_is_one_code() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (vera, tamas) = (world.token("vera.admin@"), world.token("tamas@"));
    let program = app
        .gql(
            Some(&vera),
            "mutation { createProgram(input: {name: \"Second Referral\", kind: REFERRAL, currency: \"EUR\", terms: \"Terms.\"}) { program { id } } }",
            json!({}),
        )
        .await;
    let program = program["data"]["createProgram"]["program"]["id"].clone();
    let tier = app
        .gql(
            Some(&vera),
            "mutation($p: ID!) { createTier(input: {programId: $p, name: \"Referrer\", rank: 1}) { tier { id } } }",
            json!({ "p": program }),
        )
        .await;
    let tier = tier["data"]["createTier"]["tier"]["id"].clone();
    let tisza = organization_id(&app, &vera, "Tisza Referrals Kft").await;
    let placed = app
        .gql(
            Some(&vera),
            "mutation($o: ID!, $t: ID!) { changePartnerTier(input: {partnerId: $o, tierId: $t, reason: \"second programme\"}) { change { id } } }",
            json!({ "o": tisza, "t": tier }),
        )
        .await;
    assert_no_errors(&placed);
    let doc = "mutation($p: ID!) { createReferralCode(input: {programId: $p}) { referralCode { code } } }";
    let ask = || app.gql(Some(&tamas), doc, json!({ "p": program }));
    let answers = futures_util::future::join_all((0..8).map(|_| ask())).await;
    let codes: Vec<&Value> = answers.iter().map(|a| &a["data"]["createReferralCode"]["referralCode"]["code"]).collect();
    assert!(codes.iter().all(|c| c.is_string()), "{answers:?}");
    assert!(codes.iter().all(|c| *c == codes[0]), "one code for all: {codes:?}");
}
