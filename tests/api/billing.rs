//! The catalog, managed subscriptions and billing, driven over HTTP as a client would.

use serde_json::{Value, json};

use crate::helpers::*;

const INVOICE: &str = "number status period currency taxRate reverseCharge subtotal { amount } discountTotal { amount } taxTotal { amount } total { amount } amountDue { amount } billToName lines { position kind quantity unitPrice { amount } gross { amount } discountPercent discount { amount } net { amount } tax { amount } total { amount } customerName }";

fn period_now() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

async fn invoices_of(app: &TestApp, token: &str) -> Vec<Value> {
    let body =
        app.gql(Some(token), &format!("{{ invoices(first: 100) {{ nodes {{ id {INVOICE} }} }} }}"), json!({})).await;
    assert_no_errors(&body);
    body["data"]["invoices"]["nodes"].as_array().unwrap().clone()
}

async fn plan_ids(app: &TestApp, token: &str, sku: &str) -> Vec<String> {
    let body = app.gql(Some(token), "{ products { nodes { sku plans { id code } } } }", json!({})).await;
    assert_no_errors(&body);
    body["data"]["products"]["nodes"].as_array().unwrap().iter().find(|p| p["sku"] == sku).unwrap()["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

fn amounts(line: &Value) -> Vec<String> {
    ["gross", "discount", "net", "tax", "total"]
        .iter()
        .map(|k| line[k]["amount"].as_str().unwrap().to_string())
        .collect()
}

/// Golden: Baltic re-bills Hanse (billed to the partner: the Silver discount on top of the D385
/// volume band, reverse charge from Germany to Latvia), and Celtic manages Iberia's billed to
/// Iberia (list price with the D785 volume band, Spanish VAT with a midpoint to round).
#[tokio::test]
async fn golden_partner_billed_and_customer_billed_months() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let baltic = invoices_of(&app, &world.token("bruno@")).await;
    let own: Vec<&Value> = baltic.iter().filter(|i| i["billToName"] == "Baltic Cloud SIA").collect();
    assert_eq!(own.len(), 1, "{baltic:?}");
    let inv = own[0];
    let year = &period_now()[..4];
    assert_eq!(inv["number"], format!("INV-{year}-000002"));
    assert_eq!(inv["status"], "ISSUED");
    assert_eq!(inv["reverseCharge"], true);
    assert_eq!(inv["taxRate"], "0");
    assert_eq!(
        [&inv["subtotal"], &inv["discountTotal"], &inv["taxTotal"], &inv["total"]]
            .map(|m| m["amount"].as_str().unwrap()),
        ["203.50", "30.53", "0.00", "172.97"]
    );
    let lines = inv["lines"].as_array().unwrap();
    assert_eq!(lines[0]["quantity"], "40");
    assert_eq!(lines[0]["unitPrice"]["amount"], "4.40", "the 25-seat band");
    assert_eq!(lines[0]["discountPercent"], "15");
    assert_eq!(amounts(&lines[0]), ["176.00", "26.40", "149.60", "0.00", "149.60"]);
    assert_eq!(amounts(&lines[1]), ["27.50", "4.13", "23.37", "0.00", "23.37"], "4.125 rounds half-up");
    assert_eq!(lines[0]["customerName"], "Hanse Logistik GmbH");

    let iberia = invoices_of(&app, &world.token("ines@")).await;
    assert_eq!(iberia.len(), 1);
    let inv = &iberia[0];
    assert_eq!(inv["number"], format!("INV-{year}-000005"));
    assert_eq!(inv["taxRate"], "21");
    assert_eq!(inv["reverseCharge"], false, "a customer without a VAT number pays Spanish VAT");
    assert_eq!(
        [&inv["subtotal"], &inv["discountTotal"], &inv["taxTotal"], &inv["total"]]
            .map(|m| m["amount"].as_str().unwrap()),
        ["422.50", "0.00", "88.73", "511.23"],
        "88.725 rounds half-up"
    );
    let lines = inv["lines"].as_array().unwrap();
    assert_eq!(lines[0]["unitPrice"]["amount"], "7.90", "50 seats: the 25-seat band at list price");
    assert_eq!(amounts(&lines[0]), ["395.00", "0.00", "395.00", "82.95", "477.95"]);
    assert_eq!(amounts(&lines[1]), ["27.50", "0.00", "27.50", "5.78", "33.28"], "line taxes add up to the total tax");

    // Alpine's is Swiss VAT (8.1%) with the Gold discount (25%) and its approved Edelweiss deal's
    // 10%: 89.00 and 27.50 less 35% are 57.85 + 17.87 (9.625 rounds half-up); with the yearly
    // programme fee of 1560.00 the net is 1635.72, plus 132.49 VAT (126.36 of it on the fee).
    // Fjord paid its own.
    let alpine = invoices_of(&app, &world.token("anna@")).await;
    let alpine_own = alpine.iter().find(|i| i["billToName"] == "Alpine Voice AG").unwrap();
    assert_eq!(alpine_own["total"]["amount"], "1768.21");
    let fee = alpine_own["lines"].as_array().unwrap().last().unwrap();
    assert_eq!(amounts(fee), ["1560.00", "0.00", "1560.00", "126.36", "1686.36"], "no discount on the fee");
    let fjord = alpine.iter().find(|i| i["billToName"] == "Fjord Freight AS").unwrap();
    assert_eq!((fjord["status"].as_str(), fjord["amountDue"]["amount"].as_str()), (Some("PAID"), Some("0.00")));
    assert!(alpine.iter().all(|i| i["billToName"] != "Edelweiss Dental"), "Edelweiss is billed through Alpine");
}

const SUB: &str = "id seats status billedTo autoRenew cancelAtPeriodEnd renewsAt currentPeriodStart plan { code } pendingPlan { code }";

async fn subscriptions_of(app: &TestApp, token: &str, customer: &str) -> Vec<Value> {
    let body = app
        .gql(
            Some(token),
            &format!(
                "query($id: ID!) {{ customer(id: $id) {{ subscriptions {{ nodes {{ {SUB} product {{ sku }} }} }} }} }}"
            ),
            json!({ "id": customer }),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["customer"]["subscriptions"]["nodes"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_partner_upgrades_now_prorated_and_downgrades_at_renewal() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, vera) = (world.token("anna@"), world.token("vera.admin@"));
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let subs = subscriptions_of(&app, &anna, &edelweiss).await;
    let pbx = subs.iter().find(|s| s["product"]["sku"] == "CPBX").unwrap().clone();
    let phones = subs.iter().find(|s| s["product"]["sku"] == "D785").unwrap().clone();
    assert_eq!(pbx["billedTo"], "PARTNER");
    let start: chrono::DateTime<chrono::Utc> = pbx["currentPeriodStart"].as_str().unwrap().parse().unwrap();
    let end: chrono::DateTime<chrono::Utc> = pbx["renewsAt"].as_str().unwrap().parse().unwrap();
    let total_days = (end.date_naive() - start.date_naive()).num_days();

    app.clock.advance(chrono::TimeDelta::days(10));
    let pbx_plans = plan_ids(&app, &anna, "CPBX").await;
    let change = "mutation($i: ChangePlanInput!) { changePlan(input: $i) { subscription { plan { code } pendingPlan { code } } } }";
    let up = app.gql(Some(&anna), change, json!({ "i": { "id": pbx["id"], "planId": pbx_plans[1] } })).await;
    assert_no_errors(&up);
    assert_eq!(up["data"]["changePlan"]["subscription"]["plan"]["code"], "CPBX-PRO-M", "an upgrade applies now");
    let same = app.gql(Some(&anna), change, json!({ "i": { "id": pbx["id"], "planId": pbx_plans[1] } })).await;
    assert_eq!(error_code(&same), "CONFLICT");
    let other_product =
        app.gql(Some(&anna), change, json!({ "i": { "id": phones["id"], "planId": pbx_plans[0] } })).await;
    assert_eq!(other_product["errors"][0]["extensions"]["field"], "planId");
    let down = app.gql(Some(&anna), change, json!({ "i": { "id": pbx["id"], "planId": pbx_plans[0] } })).await;
    assert_no_errors(&down);
    assert_eq!(down["data"]["changePlan"]["subscription"]["plan"]["code"], "CPBX-PRO-M", "a downgrade waits");
    assert_eq!(down["data"]["changePlan"]["subscription"]["pendingPlan"]["code"], "CPBX-STD-M");

    // Sam (SALES, assigned with MANAGE_PRODUCTS) adds seats; Erika, the customer, turns off
    // renewal; turning it back on would bill Alpine again, so that is Alpine's decision.
    let seats = "mutation($i: ChangeSeatsInput!) { changeSeats(input: $i) { subscription { seats } } }";
    let more = app.gql(Some(&world.token("sam@")), seats, json!({ "i": { "id": phones["id"], "seats": 12 } })).await;
    assert_no_errors(&more);
    for (bad, field) in [(0, "seats"), (100_001, "seats")] {
        let body = app.gql(Some(&anna), seats, json!({ "i": { "id": phones["id"], "seats": bad } })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    let erika = world.token("erika@");
    let renew = "mutation($id: ID!, $on: Boolean!) { setAutoRenew(input: {id: $id, autoRenew: $on}) { subscription { autoRenew } } }";
    assert_no_errors(&app.gql(Some(&erika), renew, json!({ "id": phones["id"], "on": false })).await);
    assert_eq!(error_code(&app.gql(Some(&erika), renew, json!({ "id": phones["id"], "on": false })).await), "CONFLICT");
    assert_eq!(error_code(&app.gql(Some(&erika), renew, json!({ "id": phones["id"], "on": true })).await), "FORBIDDEN");
    assert_no_errors(&app.gql(Some(&anna), renew, json!({ "id": phones["id"], "on": true })).await);
    let cancel =
        "mutation($id: ID!) { cancelSubscription(input: {id: $id}) { subscription { cancelAtPeriodEnd status } } }";
    let resume = "mutation($id: ID!) { resumeSubscription(input: {id: $id}) { subscription { cancelAtPeriodEnd } } }";
    assert_eq!(error_code(&app.gql(Some(&anna), resume, json!({ "id": phones["id"] })).await), "CONFLICT");
    let cancelled = app.gql(Some(&anna), cancel, json!({ "id": phones["id"] })).await;
    assert_eq!(
        cancelled["data"]["cancelSubscription"]["subscription"],
        json!({ "cancelAtPeriodEnd": true, "status": "ACTIVE" })
    );
    assert_no_errors(&app.gql(Some(&anna), resume, json!({ "id": phones["id"] })).await);
    // Another partner does not see it at all.
    let bruno = app.gql(Some(&world.token("bruno@")), cancel, json!({ "id": phones["id"] })).await;
    assert_eq!(error_code(&bruno), "NOT_FOUND");

    let history = app
        .gql(
            Some(&anna),
            "query($id: ID!) { node(id: $id) { ... on ProductSubscription { history { nodes { kind actorName } } } } }",
            json!({ "id": phones["id"] }),
        )
        .await;
    let kinds: Vec<&str> = history["data"]["node"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["CREATED", "SEATS_CHANGED", "AUTO_RENEW_SET", "AUTO_RENEW_SET", "CANCEL_SCHEDULED", "CANCEL_UNDONE"]
    );
    assert_eq!(history["data"]["node"]["history"]["nodes"][1]["actorName"], "Sam Sales");

    // Renewals due within 30 days, across Alpine's customers.
    let due = app
        .gql(Some(&anna), "{ renewalsDue(withinDays: 30) { totalCount nodes { customer { name } } } }", json!({}))
        .await;
    assert_eq!(due["data"]["renewalsDue"]["totalCount"], 4, "two each for Edelweiss and Fjord: {due}");

    // This month was billed already: the changes wait for next month's run.
    let run = "mutation($p: String!) { runBilling(input: {period: $p}) { invoices { id number } } }";
    let fiona = world.token("fiona.finance@");
    let again = app.gql(Some(&fiona), run, json!({ "p": period_now() })).await;
    assert_eq!(again["data"]["runBilling"]["invoices"], json!([]), "no second invoice for a period");
    // Past the period's end the renewal applies the downgrade and charges the new period.
    app.clock.advance(chrono::TimeDelta::days(total_days));
    let renewed = partnerhub::service::subscriptions::run_renewals(&app.ctx).await.unwrap();
    assert_eq!(renewed, 11, "every demo subscription renews once");
    assert_eq!(partnerhub::service::subscriptions::run_renewals(&app.ctx).await.unwrap(), 0, "once");
    let after = subscriptions_of(&app, &anna, &edelweiss).await;
    let pbx_now = after.iter().find(|s| s["id"] == pbx["id"]).unwrap();
    assert_eq!(pbx_now["plan"]["code"], "CPBX-STD-M");
    assert!(pbx_now["pendingPlan"].is_null());

    // The clock now stands in the month after next: one invoice has the changes and the renewal.
    let later = app.ctx.now().format("%Y-%m").to_string();
    let next = app.gql(Some(&fiona), run, json!({ "p": later })).await;
    assert_no_errors(&next);
    let alpine = invoices_of(&app, &anna).await;
    let invoice = alpine.iter().find(|i| i["billToName"] == "Alpine Voice AG" && i["period"] == later).unwrap();
    let lines = invoice["lines"].as_array().unwrap();
    let kinds: Vec<&str> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["PRORATION", "PRORATION", "PERIOD", "PERIOD"], "{invoice}");
    // The upgrade: (7.50 − 5.50) × 5 seats for the days left, less the Gold discount.
    let left = total_days - 10;
    let upgrade = rust_decimal::Decimal::from(10 * left) / rust_decimal::Decimal::from(total_days);
    let upgrade = upgrade.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    assert_eq!(lines[0]["unitPrice"]["amount"], upgrade.to_string());
    // The seats: 2 more D785 seats at 8.90 for the same days.
    let seats = rust_decimal::Decimal::new(1780, 2) * rust_decimal::Decimal::from(left)
        / rust_decimal::Decimal::from(total_days);
    let seats = seats.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    assert_eq!(lines[1]["unitPrice"]["amount"], seats.to_string());
    assert_eq!(lines[2]["quantity"], "12", "the new seats for the new period");
}

#[tokio::test]
async fn a_subscription_scoped_grant_manages_only_its_subscription() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, giulia, vera) = (world.token("anna@"), world.token("giulia@"), world.token("vera.admin@"));
    let garda = organization_id(&app, &vera, "Garda Hotels Srl").await;
    let subs = subscriptions_of(&app, &giulia, &garda).await;
    let phones = subs.iter().find(|s| s["product"]["sku"] == "D785").unwrap()["id"].clone();
    let pbx = subs.iter().find(|s| s["product"]["sku"] == "CPBX").unwrap()["id"].clone();
    let pending = app
        .gql(
            Some(&giulia),
            "{ viewer { actingAs { organization { grants(filter: {status: PENDING}) { nodes { id } } } } } }",
            json!({}),
        )
        .await;
    let grant = pending["data"]["viewer"]["actingAs"]["organization"]["grants"]["nodes"][0]["id"].clone();
    let approved = app
        .gql(
            Some(&giulia),
            "mutation($i: ApproveGrantInput!) { approveGrant(input: $i) { grant { status scope } } }",
            json!({ "i": { "id": grant, "scope": { "kind": "SUBSCRIPTIONS", "subscriptionIds": [phones] } } }),
        )
        .await;
    assert_no_errors(&approved);
    let seats = "mutation($id: ID!) { changeSeats(input: {id: $id, seats: 33}) { subscription { seats } } }";
    assert_no_errors(&app.gql(Some(&anna), seats, json!({ "id": phones })).await);
    assert_eq!(error_code(&app.gql(Some(&anna), seats, json!({ "id": pbx })).await), "NOT_FOUND");
    let plans = plan_ids(&app, &anna, "CPBX").await;
    let create = app
        .gql(Some(&anna), "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }", json!({ "i": { "customerId": garda, "planId": plans[0], "seats": 1, "billedTo": "PARTNER", "idempotencyKey": "k" } }))
        .await;
    assert_eq!(error_code(&create), "FORBIDDEN", "creating needs the whole account");
    let listed = subscriptions_of(&app, &anna, &garda).await;
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn creating_a_subscription_is_idempotent() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, vera) = (world.token("anna@"), world.token("vera.admin@"));
    let fjord = organization_id(&app, &vera, "Fjord Freight AS").await;
    let plans = plan_ids(&app, &anna, "D785").await;
    let create = "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id seats billedTo } } }";
    let input = json!({ "customerId": fjord, "planId": plans[0], "seats": 3, "billedTo": "PARTNER", "idempotencyKey": "order-77" });
    let (a, b) = tokio::join!(
        app.gql(Some(&anna), create, json!({ "i": input.clone() })),
        app.gql(Some(&anna), create, json!({ "i": input.clone() }))
    );
    assert_no_errors(&a);
    assert_no_errors(&b);
    assert_eq!(
        a["data"]["createSubscription"]["subscription"]["id"],
        b["data"]["createSubscription"]["subscription"]["id"]
    );
    let retry = app.gql(Some(&anna), create, json!({ "i": input.clone() })).await;
    assert_eq!(retry["data"]["createSubscription"], a["data"]["createSubscription"]);
    assert_eq!(subscriptions_of(&app, &anna, &fjord).await.len(), 3, "two from the demo and one");
    let mut changed = input.clone();
    changed["seats"] = json!(4);
    assert_eq!(error_code(&app.gql(Some(&anna), create, json!({ "i": changed })).await), "CONFLICT");
    for (field, bad) in [("seats", json!(0)), ("planId", json!("bm9wZQ"))] {
        let mut wrong = input.clone();
        wrong[field] = bad;
        wrong["idempotencyKey"] = json!(format!("bad-{field}"));
        let body = app.gql(Some(&anna), create, json!({ "i": wrong })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // A customer pays its own; it cannot bill a partner.
    let erika = app
        .gql(Some(&world.token("erika@")), create, json!({ "i": { "customerId": organization_id(&app, &vera, "Edelweiss Dental").await, "planId": plans[0], "seats": 1, "billedTo": "PARTNER", "idempotencyKey": "e" } }))
        .await;
    assert_eq!(erika["errors"][0]["extensions"]["field"], "billedTo");
}

#[tokio::test]
async fn invoices_are_issued_paid_or_voided_and_never_renumbered() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (fiona, carl) = (world.token("fiona.finance@"), world.token("carl.channel@"));
    let all = invoices_of(&app, &fiona).await;
    assert_eq!(all.len(), 6);
    let mut numbers: Vec<&str> = all.iter().map(|i| i["number"].as_str().unwrap()).collect();
    numbers.sort();
    let year = &period_now()[..4];
    assert_eq!(numbers, (1..=6).map(|n| format!("INV-{year}-{n:06}")).collect::<Vec<_>>());
    let run = "mutation($p: String!) { runBilling(input: {period: $p}) { invoices { id } } }";
    assert_eq!(error_code(&app.gql(Some(&carl), run, json!({ "p": period_now() })).await), "FORBIDDEN");
    assert_eq!(
        app.gql(Some(&fiona), run, json!({ "p": "2026-13" })).await["errors"][0]["extensions"]["field"],
        "period"
    );

    let iberia = all.iter().find(|i| i["billToName"] == "Iberia Clinics SL").unwrap();
    let pay = "mutation($i: RecordPaymentInput!) { recordPayment(input: $i) { invoice { status amountDue { amount } payments { amount { amount } reference } } } }";
    // A retried payment with its key is recorded once; the same key for another amount conflicts.
    let keyed = |amount: &str| json!({ "i": { "invoiceId": iberia["id"], "amount": { "amount": amount, "currency": "EUR" }, "receivedAt": "2026-01-01T00:00:00Z", "idempotencyKey": "bank-77" } });
    let (a, b) = tokio::join!(app.gql(Some(&fiona), pay, keyed("1.00")), app.gql(Some(&fiona), pay, keyed("1.00")));
    assert_no_errors(&a);
    assert_no_errors(&b);
    let retried = app.gql(Some(&fiona), pay, keyed("1.00")).await;
    assert_eq!(retried["data"]["recordPayment"]["invoice"]["payments"].as_array().unwrap().len(), 1, "{retried}");
    assert_eq!(retried["data"]["recordPayment"]["invoice"]["amountDue"]["amount"], "510.23");
    assert_eq!(error_code(&app.gql(Some(&fiona), pay, keyed("2.00")).await), "CONFLICT");
    let payment = |amount: &str, currency: &str| json!({ "i": { "invoiceId": iberia["id"], "amount": { "amount": amount, "currency": currency }, "receivedAt": "2026-01-02T00:00:00Z", "reference": "SEPA" } });
    assert_eq!(
        app.gql(Some(&fiona), pay, payment("600.00", "EUR")).await["errors"][0]["extensions"]["field"],
        "amount",
        "more than due"
    );
    assert_eq!(app.gql(Some(&fiona), pay, payment("10.00", "CHF")).await["errors"][0]["extensions"]["field"], "amount");
    assert_eq!(
        app.gql(Some(&fiona), pay, payment("10.005", "EUR")).await["errors"][0]["extensions"]["field"],
        "amount"
    );
    let part = app.gql(Some(&fiona), pay, payment("500.00", "EUR")).await;
    assert_no_errors(&part);
    assert_eq!(part["data"]["recordPayment"]["invoice"]["status"], "ISSUED");
    assert_eq!(part["data"]["recordPayment"]["invoice"]["amountDue"]["amount"], "10.23");
    let rest = app.gql(Some(&fiona), pay, payment("10.23", "EUR")).await;
    assert_eq!(rest["data"]["recordPayment"]["invoice"]["status"], "PAID");
    let void = "mutation($i: VoidInvoiceInput!) { voidInvoice(input: $i) { invoice { number status voidReason amountDue { amount } } } }";
    assert_eq!(
        error_code(&app.gql(Some(&fiona), void, json!({ "i": { "id": iberia["id"], "reason": "late" } })).await),
        "CONFLICT",
        "a paid invoice stays"
    );
    let garda = all.iter().find(|i| i["billToName"] == "Garda Hotels Srl").unwrap();
    assert_eq!(
        app.gql(Some(&fiona), void, json!({ "i": { "id": garda["id"], "reason": " " } })).await["errors"][0]["extensions"]
            ["field"],
        "reason"
    );
    let voided = app.gql(Some(&fiona), void, json!({ "i": { "id": garda["id"], "reason": "wrong seats" } })).await;
    assert_eq!(voided["data"]["voidInvoice"]["invoice"]["status"], "VOID");
    assert_eq!(voided["data"]["voidInvoice"]["invoice"]["number"], garda["number"], "it keeps its number");
    assert_eq!(voided["data"]["voidInvoice"]["invoice"]["amountDue"]["amount"], "0.00");
    assert_eq!(invoices_of(&app, &fiona).await.len(), 6, "never deleted");
    // The customer sees its invoices; its notification came with the issue.
    let giulia = invoices_of(&app, &world.token("giulia@")).await;
    assert_eq!((giulia.len(), giulia[0]["status"].as_str()), (1, Some("VOID")));
    let inbox = app
        .gql(Some(&world.token("ines@")), "{ viewer { notifications { nodes { kind payload } } } }", json!({}))
        .await;
    assert!(
        inbox["data"]["viewer"]["notifications"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "INVOICE_ISSUED")
    );

    // Drafts: a run that does not issue, then issue.
    let erika = world.token("erika@");
    let edelweiss = organization_id(&app, &world.token("vera.admin@"), "Edelweiss Dental").await;
    let plans = plan_ids(&app, &erika, "D385").await;
    let created = app
        .gql(Some(&erika), "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }", json!({ "i": { "customerId": edelweiss, "planId": plans[0], "seats": 2, "billedTo": "CUSTOMER", "idempotencyKey": "own" } }))
        .await;
    assert_no_errors(&created);
    let draft = app
        .gql(
            Some(&fiona),
            "mutation($p: String!) { runBilling(input: {period: $p, issue: false}) { invoices { id status number } } }",
            json!({ "p": period_now() }),
        )
        .await;
    let made = &draft["data"]["runBilling"]["invoices"][0];
    assert_eq!(
        (made["status"].as_str(), made["number"].as_str()),
        (Some("DRAFT"), Some(format!("INV-{year}-000007").as_str()))
    );
    assert_eq!(invoices_of(&app, &erika).await.len(), 1, "the customer's ADMIN sees its draft too");
    let issue = "mutation($id: ID!) { issueInvoice(input: {id: $id}) { invoice { status issuedAt } } }";
    assert_eq!(
        app.gql(Some(&fiona), issue, json!({ "id": made["id"] })).await["data"]["issueInvoice"]["invoice"]["status"],
        "ISSUED"
    );
    assert_eq!(error_code(&app.gql(Some(&fiona), issue, json!({ "id": made["id"] })).await), "CONFLICT");
}

#[tokio::test]
async fn fifty_parallel_billings_on_two_nodes_number_without_gaps() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let second = app.second_node().await;
    let anna = world.token("anna@");
    let plans = plan_ids(&app, &anna, "D385").await;
    for i in 0..50 {
        let customer = app
            .gql(Some(&anna), "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }", json!({ "i": { "name": format!("Parallel {i}"), "country": "FR", "adminEmail": format!("boss{i}@parallel.example") } }))
            .await;
        let id = customer["data"]["createCustomer"]["customer"]["id"].clone();
        let sub = app
            .gql(Some(&anna), "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }", json!({ "i": { "customerId": id, "planId": plans[0], "seats": 1 + i, "billedTo": "CUSTOMER", "idempotencyKey": format!("p{i}") } }))
            .await;
        assert_no_errors(&sub);
    }
    let fiona = world.token("fiona.finance@");
    let run = "mutation($p: String!) { runBilling(input: {period: $p}) { invoices { number } } }";
    let calls = (0..50).map(|i| {
        let node = if i % 2 == 0 { &app } else { &second };
        node.gql(Some(&fiona), run, json!({ "p": period_now() }))
    });
    let results = futures_util::future::join_all(calls).await;
    let mut numbers: Vec<String> = Vec::new();
    for body in &results {
        assert_no_errors(body);
        numbers.extend(
            body["data"]["runBilling"]["invoices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["number"].as_str().unwrap().to_string()),
        );
    }
    numbers.sort();
    let year = &period_now()[..4];
    assert_eq!(numbers, (7..=56).map(|n| format!("INV-{year}-{n:06}")).collect::<Vec<_>>(), "unique and gapless");
    let listed = invoices_of(&app, &fiona).await;
    assert_eq!(listed.len(), 56, "one invoice per customer and period");
}

#[tokio::test]
async fn partners_see_their_margin_and_their_programme_minimum() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let report = "query($p: String!) { partnerBillingReport(period: $p) { totalCount nodes { customerName amounts { retail { amount currency } cost { amount } margin { amount } } } } }";
    let alpine = app.gql(Some(&world.token("anna@")), report, json!({ "p": period_now() })).await;
    assert_no_errors(&alpine);
    assert_eq!(
        alpine["data"]["partnerBillingReport"],
        json!({ "totalCount": 1, "nodes": [{ "customerName": "Edelweiss Dental", "amounts": [{ "retail": { "amount": "116.50", "currency": "EUR" }, "cost": { "amount": "75.72" }, "margin": { "amount": "40.78" } }] }] })
    );
    let baltic = app.gql(Some(&world.token("bruno@")), report, json!({ "p": period_now() })).await;
    assert_eq!(baltic["data"]["partnerBillingReport"]["nodes"][0]["amounts"][0]["margin"]["amount"], "30.53");
    for who in ["erika@", "sam@"] {
        let refused = app.gql(Some(&world.token(who)), report, json!({ "p": period_now() })).await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{who}");
    }
    // Another month has nothing.
    let empty = app.gql(Some(&world.token("anna@")), report, json!({ "p": "2020-01" })).await;
    assert_eq!(empty["data"]["partnerBillingReport"]["totalCount"], 0);

    let minimum = "{ viewer { actingAs { organization { partnerships { nodes { programMinimum { minimum { amount } managedYearlyAmount { amount } met } } } } } } }";
    let body = app.gql(Some(&world.token("anna@")), minimum, json!({})).await;
    let m = &body["data"]["viewer"]["actingAs"]["organization"]["partnerships"]["nodes"][0]["programMinimum"];
    assert_eq!(
        m,
        &json!({ "minimum": { "amount": "1800" }, "managedYearlyAmount": { "amount": "2904.00" }, "met": true })
    );
    // A partner placed without customers is below it.
    let vera = world.token("vera.admin@");
    let created = app
        .gql(
            Some(&vera),
            "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { organization { id } } }",
            json!({ "i": { "kind": "PARTNER", "name": "Newcomer Ltd", "country": "GB" } }),
        )
        .await;
    let id = created["data"]["createOrganization"]["organization"]["id"].clone();
    let tiers = app.gql(None, "{ programs(first: 1) { nodes { tiers { nodes { id } } } } }", json!({})).await;
    let registered = tiers["data"]["programs"]["nodes"][0]["tiers"]["nodes"][0]["id"].clone();
    app.gql(
        Some(&vera),
        "mutation($i: ChangePartnerTierInput!) { changePartnerTier(input: $i) { partner { id } } }",
        json!({ "i": { "partnerId": id, "tierId": registered } }),
    )
    .await;
    let staff = app.gql(Some(&vera), "query($id: ID!) { node(id: $id) { ... on Organization { partnerships { nodes { programMinimum { managedYearlyAmount { amount } met } } } } } }", json!({ "id": id })).await;
    assert_eq!(
        staff["data"]["node"]["partnerships"]["nodes"][0]["programMinimum"],
        json!({ "managedYearlyAmount": { "amount": "0.00" }, "met": false })
    );
}

#[tokio::test]
async fn invoices_export_as_csv_under_the_same_policy() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, vera) = (world.token("anna@"), world.token("vera.admin@"));
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let fjord = organization_id(&app, &vera, "Fjord Freight AS").await;
    let get = |token: Option<String>, query: String| {
        let mut request = app.client.get(app.url(&format!("/exports/invoices.csv?{query}")));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send()
    };
    let p = period_now();
    let ok = get(Some(anna.clone()), format!("organization={alpine}&from={p}&to={p}")).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(header(ok.headers(), "content-type").starts_with("text/csv"));
    let text = ok.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().take(3).collect::<Vec<_>>(), ["invoice_number", "status", "period"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "one row per line (the third is the yearly programme fee)");
    assert!(rows[2].iter().any(|cell| cell.starts_with("Yearly programme fee")), "{text}");
    assert_eq!(&rows[0][10], "Edelweiss Dental");
    assert!(rows[0][11].contains(", "), "a description with commas survives quoting");
    assert!(text.contains("\"D785, monthly (D785-M), 10 seats"), "RFC 4180 quoting: {text}");
    // Gold's 25% and the demo deal's 10%.
    assert_eq!([&rows[0][14], &rows[0][15], &rows[0][16]], ["89.00", "31.15", "57.85"]);
    assert!(text.contains("\r\n"));
    // Alpine has VIEW_BILLING on Fjord: Fjord's bills too.
    let fjord_csv =
        get(Some(anna.clone()), format!("organization={fjord}&from={p}&to={p}")).await.unwrap().text().await.unwrap();
    assert_eq!(fjord_csv.lines().count(), 3);
    // Sam has no billing right on Edelweiss, Bruno does not see Alpine, nobody without a token.
    let sam = get(Some(world.token("sam@")), format!("organization={fjord}&from={p}&to={p}")).await.unwrap();
    assert_eq!(sam.status(), 404);
    let bruno = get(Some(world.token("bruno@")), format!("organization={alpine}&from={p}&to={p}")).await.unwrap();
    assert_eq!(bruno.status(), 404);
    let anonymous = get(None, format!("organization={alpine}&from={p}&to={p}")).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let bad = get(Some(anna.clone()), format!("organization={alpine}&from=2026-1&to={p}")).await.unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["field"], "from");
}

#[tokio::test]
async fn listing_100_subscriptions_and_their_invoices_costs_a_constant_number_of_statements() {
    let app = TestApp::spawn_counting(|_| {}).await;
    let world = app.demo().await;
    let (erika, vera) = (world.token("erika@"), world.token("vera.admin@"));
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let plans = plan_ids(&app, &erika, "D385").await;
    for i in 0..100 {
        let sub = app
            .gql(Some(&erika), "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }", json!({ "i": { "customerId": edelweiss, "planId": plans[i % 2], "seats": 1 + i, "billedTo": "CUSTOMER", "idempotencyKey": format!("s{i}") } }))
            .await;
        assert_no_errors(&sub);
    }
    let query = "query($id: ID!, $n: Int) { customer(id: $id) { subscriptions(first: $n) { nodes { seats renewsAt billedTo plan { code unitPrice { amount } volumeBands { minSeats } } pendingPlan { code } product { sku plans { code } } customer { name } managingPartnerName } } } }";
    app.gql(Some(&erika), query, json!({ "id": edelweiss, "n": 1 })).await;
    let (five, body) = app.read_statements(Some(&erika), query, json!({ "id": edelweiss, "n": 5 })).await;
    assert_no_errors(&body);
    let (hundred, body) = app.read_statements(Some(&erika), query, json!({ "id": edelweiss, "n": 100 })).await;
    assert_eq!(body["data"]["customer"]["subscriptions"]["nodes"].as_array().unwrap().len(), 100);
    assert_eq!(five, hundred, "statements for 5 and for 100 subscriptions");
    assert!(hundred <= 14, "{hundred}");

    let fiona = world.token("fiona.finance@");
    let invoices = "query($n: Int) { invoices(first: $n) { nodes { number billTo { name } total { amount } amountDue { amount } lines { net { amount } customerName subscription { seats } } payments { amount { amount } } } } }";
    app.gql(Some(&fiona), invoices, json!({ "n": 1 })).await;
    let (one, _) = app.read_statements(Some(&fiona), invoices, json!({ "n": 1 })).await;
    let (all, body) = app.read_statements(Some(&fiona), invoices, json!({ "n": 100 })).await;
    assert_no_errors(&body);
    assert_eq!(one, all, "statements for 1 and for every invoice");
}

/// Staff operations of billing and the catalog (the subscription operations are in the
/// delegation table).
pub const OPERATIONS: &[&str] = &[
    "createProduct",
    "setProductActive",
    "createPlan",
    "setVolumeBands",
    "runBilling",
    "issueInvoice",
    "voidInvoice",
    "recordPayment",
];

#[rustfmt::skip]
const TABLE: &[(&str, [&str; 8])] = &[
    ("vera.admin@",    ["OK", "OK", "OK", "OK", "OK", "CONFLICT", "OK", "OK"]),
    ("carl.channel@",  ["FORBIDDEN"; 8]),
    ("fiona.finance@", ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "CONFLICT", "OK", "OK"]),
    ("anna@",          ["FORBIDDEN"; 8]),
    ("erika@",         ["FORBIDDEN"; 8]),
    ("anonymous",      ["UNAUTHENTICATED"; 8]),
];

#[tokio::test]
async fn catalog_and_billing_actors_by_operations() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let product = app.gql(Some(&vera), "{ products(first: 1) { nodes { id plans { id } } } }", json!({})).await;
    let product_id = product["data"]["products"]["nodes"][0]["id"].clone();
    let plan_id = product["data"]["products"]["nodes"][0]["plans"][0]["id"].clone();
    let invoices = invoices_of(&app, &vera).await;
    let mut failures = Vec::new();
    for (row, (actor, expected)) in TABLE.iter().enumerate() {
        let token = (*actor != "anonymous").then(|| world.token(actor));
        for (i, operation) in OPERATIONS.iter().enumerate() {
            // Demo invoices by id: Alpine, Baltic, Fjord (paid), Garda, Iberia; the rows that may
            // void or pay get unpaid ones of their own.
            let target = &invoices[row % invoices.len()];
            let void_target = &invoices[if row == 2 { 3 } else { 1 }];
            let pay_target = &invoices[if row == 2 { 4 } else { 0 }];
            let (query, variables) = match *operation {
                "createProduct" => (
                    "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }",
                    json!({ "i": { "sku": format!("X{row}"), "name": "X", "productLine": "X" } }),
                ),
                "setProductActive" => (
                    "mutation($id: ID!) { setProductActive(input: {id: $id, active: true}) { product { active } } }",
                    json!({ "id": product_id }),
                ),
                "createPlan" => (
                    "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id } } }",
                    json!({ "i": { "productId": product_id, "code": format!("P{row}"), "name": "P", "billingPeriod": "YEARLY", "unitPrice": { "amount": "99", "currency": "EUR" }, "rank": 5 } }),
                ),
                "setVolumeBands" => (
                    "mutation($id: ID!) { setVolumeBands(input: {planId: $id, volumeBands: [{minSeats: 25, unitPrice: {amount: \"7.90\", currency: \"EUR\"}}, {minSeats: 100, unitPrice: {amount: \"6.90\", currency: \"EUR\"}}]}) { plan { id } } }",
                    json!({ "id": plan_id }),
                ),
                "runBilling" => (
                    "mutation($p: String!) { runBilling(input: {period: $p}) { invoices { id } } }",
                    json!({ "p": period_now() }),
                ),
                "issueInvoice" => (
                    "mutation($id: ID!) { issueInvoice(input: {id: $id}) { invoice { id } } }",
                    json!({ "id": target["id"] }),
                ),
                "voidInvoice" => (
                    "mutation($id: ID!) { voidInvoice(input: {id: $id, reason: \"test\"}) { invoice { id } } }",
                    json!({ "id": void_target["id"] }),
                ),
                "recordPayment" => (
                    "mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: {amount: \"0.01\", currency: \"EUR\"}, receivedAt: \"2026-01-01T00:00:00Z\"}) { invoice { id } } }",
                    json!({ "id": pay_target["id"] }),
                ),
                other => panic!("no request for {other}"),
            };
            let body = app.gql(token.as_deref(), query, variables).await;
            let got = if body.get("errors").is_some() { error_code(&body).to_string() } else { "OK".into() };
            if got != expected[i] {
                failures.push(format!("{actor} {operation}: expected {}, got {got}: {body}", expected[i]));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_customer_list_shows_plans_licences_renewal_and_super_admin() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let list = "{ customers { nodes { name superAdmin { displayName email } subscriptionSummary { plans licences nextRenewalAt } } } }";
    let body = app.gql(Some(&world.token("anna@")), list, json!({})).await;
    assert_no_errors(&body);
    let edelweiss = body["data"]["customers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Edelweiss Dental")
        .unwrap()
        .clone();
    assert_eq!(
        edelweiss["superAdmin"],
        json!({ "displayName": "Erika Edelweiss", "email": "erika@edelweiss-dental.example" })
    );
    assert_eq!(edelweiss["subscriptionSummary"]["plans"], json!(["CPBX-STD-M", "D785-M"]));
    assert_eq!(edelweiss["subscriptionSummary"]["licences"], 15);
    assert!(edelweiss["subscriptionSummary"]["nextRenewalAt"].is_string());
    // Baltic's grant on Garda covers the Cloud PBX only: so does the summary.
    let baltic = app.gql(Some(&world.token("bruno@")), list, json!({})).await;
    let garda = baltic["data"]["customers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Garda Hotels Srl")
        .unwrap()
        .clone();
    assert_eq!(garda["subscriptionSummary"]["plans"], json!(["CPBX-STD-M"]));
    assert_eq!(garda["subscriptionSummary"]["licences"], 5);
}

#[tokio::test]
async fn the_catalog_is_for_everyone_signed_in() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let products = "{ products { nodes { sku plans { code unitPrice { amount } } } } }";
    assert_eq!(error_code(&app.gql(None, products, json!({})).await), "UNAUTHENTICATED");
    let signed_in = app.gql(Some(&world.token("finn@")), products, json!({})).await;
    assert_eq!(signed_in["data"]["products"]["nodes"][0]["plans"][0]["code"], "D785-M");
    // The public programme pages show gift products, but not their prices.
    let public = app
        .gql(None, "{ programs(first: 1) { nodes { tiers { nodes { benefits { welcomeGiftProducts { sku plans { code } } } } } } } }", json!({}))
        .await;
    assert_no_errors(&public);
    let gold = &public["data"]["programs"]["nodes"][0]["tiers"]["nodes"][2]["benefits"]["welcomeGiftProducts"][0];
    assert_eq!(gold["sku"], "D785");
    assert_eq!(gold["plans"], json!([]));
    let plan_id = plan_ids(&app, &world.token("finn@"), "D785").await[0].clone();
    let anonymous = app.gql(None, "query($id: ID!) { node(id: $id) { id } }", json!({ "id": plan_id })).await;
    assert!(anonymous["data"]["node"].is_null());
}

#[tokio::test]
async fn a_change_on_the_periods_last_day_owes_nothing_for_it() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let edelweiss = organization_id(&app, &world.token("vera.admin@"), "Edelweiss Dental").await;
    let phones =
        subscriptions_of(&app, &anna, &edelweiss).await.into_iter().find(|s| s["product"]["sku"] == "D785").unwrap();
    let start: chrono::DateTime<chrono::Utc> = phones["currentPeriodStart"].as_str().unwrap().parse().unwrap();
    let end: chrono::DateTime<chrono::Utc> = phones["renewsAt"].as_str().unwrap().parse().unwrap();
    app.clock.advance(end - start);
    let changed = app
        .gql(
            Some(&anna),
            "mutation($id: ID!) { changeSeats(input: {id: $id, seats: 20}) { subscription { seats } } }",
            json!({ "id": phones["id"] }),
        )
        .await;
    assert_no_errors(&changed);
    let id = partnerhub::ids::decode(phones["id"].as_str().unwrap()).unwrap().1;
    let charges = entity::charge::Entity::find()
        .filter(entity::charge::Column::SubscriptionId.eq(id))
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(charges.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>(), ["PERIOD"], "no zero proration line");
}

#[tokio::test]
async fn the_catalog_refuses_bad_plans_and_off_sale_products() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let product = "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id sku } } }";
    let made = app
        .gql(Some(&vera), product, json!({ "i": { "sku": "t54", "name": "T54 Headset", "productLine": "Audio" } }))
        .await;
    assert_no_errors(&made);
    assert_eq!(made["data"]["createProduct"]["product"]["sku"], "T54");
    let again =
        app.gql(Some(&vera), product, json!({ "i": { "sku": "T54", "name": "Again", "productLine": "Audio" } })).await;
    assert_eq!(error_code(&again), "CONFLICT");
    assert_eq!(
        app.gql(Some(&vera), product, json!({ "i": { "sku": " ", "name": "X", "productLine": "X" } })).await["errors"]
            [0]["extensions"]["field"],
        "sku"
    );
    let id = made["data"]["createProduct"]["product"]["id"].clone();
    let plan = "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id code unitPrice { amount currency } volumeBands { minSeats unitPrice { amount } } } } }";
    let good = json!({ "productId": id, "code": "t54-m", "name": "T54 monthly", "billingPeriod": "MONTHLY", "unitPrice": { "amount": "2.5", "currency": "eur" }, "rank": 1, "volumeBands": [{ "minSeats": 50, "unitPrice": { "amount": "2", "currency": "EUR" } }, { "minSeats": 10, "unitPrice": { "amount": "2.25", "currency": "EUR" } }] });
    for (path, bad, field) in [
        ("unitPrice", json!({ "amount": "-1", "currency": "EUR" }), "unitPrice"),
        ("unitPrice", json!({ "amount": "1", "currency": "euro" }), "unitPrice"),
        ("rank", json!(-1), "rank"),
        ("code", json!(""), "code"),
        ("volumeBands", json!([{ "minSeats": 1, "unitPrice": { "amount": "2", "currency": "EUR" } }]), "volumeBands"),
        (
            "volumeBands",
            json!([{ "minSeats": 10, "unitPrice": { "amount": "2", "currency": "EUR" } }, { "minSeats": 10, "unitPrice": { "amount": "1", "currency": "EUR" } }]),
            "volumeBands",
        ),
        ("volumeBands", json!([{ "minSeats": 10, "unitPrice": { "amount": "-2", "currency": "EUR" } }]), "volumeBands"),
    ] {
        let mut input = good.clone();
        input[path] = bad;
        let body = app.gql(Some(&vera), plan, json!({ "i": input })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{path}: {body}");
    }
    let mut unknown = good.clone();
    unknown["productId"] = json!("UHJvZHVjdDowMDAwMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDA");
    assert_eq!(error_code(&app.gql(Some(&vera), plan, json!({ "i": unknown })).await), "NOT_FOUND");
    let created = app.gql(Some(&vera), plan, json!({ "i": good.clone() })).await;
    assert_no_errors(&created);
    let p = &created["data"]["createPlan"]["plan"];
    assert_eq!((p["code"].as_str(), &p["unitPrice"]), (Some("T54-M"), &json!({ "amount": "2.50", "currency": "EUR" })));
    assert_eq!(
        p["volumeBands"],
        json!([{ "minSeats": 10, "unitPrice": { "amount": "2.25" } }, { "minSeats": 50, "unitPrice": { "amount": "2.00" } }])
    );
    assert_eq!(error_code(&app.gql(Some(&vera), plan, json!({ "i": good })).await), "CONFLICT", "codes are unique");

    // Off sale: nobody subscribes to it any more.
    let off = app
        .gql(
            Some(&vera),
            "mutation($id: ID!) { setProductActive(input: {id: $id, active: false}) { product { active } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(off["data"]["setProductActive"]["product"]["active"], false);
    let erika = world.token("erika@");
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let subscribe = app
        .gql(Some(&erika), "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }", json!({ "i": { "customerId": edelweiss, "planId": p["id"], "seats": 1, "billedTo": "CUSTOMER", "idempotencyKey": "t54" } }))
        .await;
    assert_eq!(subscribe["errors"][0]["extensions"]["field"], "planId", "{subscribe}");
}

#[tokio::test]
async fn a_cancelled_subscription_ends_at_its_renewal_and_then_refuses_changes() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let fjord = organization_id(&app, &world.token("vera.admin@"), "Fjord Freight AS").await;
    let subs = subscriptions_of(&app, &anna, &fjord).await;
    let phones = subs.iter().find(|s| s["product"]["sku"] == "D385").unwrap().clone();
    let cancel = "mutation($id: ID!) { cancelSubscription(input: {id: $id}) { subscription { cancelAtPeriodEnd } } }";
    assert_no_errors(&app.gql(Some(&anna), cancel, json!({ "id": phones["id"] })).await);
    assert_eq!(error_code(&app.gql(Some(&anna), cancel, json!({ "id": phones["id"] })).await), "CONFLICT");
    let start: chrono::DateTime<chrono::Utc> = phones["currentPeriodStart"].as_str().unwrap().parse().unwrap();
    let end: chrono::DateTime<chrono::Utc> = phones["renewsAt"].as_str().unwrap().parse().unwrap();
    app.clock.advance(end - start + chrono::TimeDelta::hours(1));
    partnerhub::service::subscriptions::run_renewals(&app.ctx).await.unwrap();
    let after = subscriptions_of(&app, &anna, &fjord).await;
    let ended = after.iter().find(|s| s["id"] == phones["id"]).unwrap();
    assert_eq!(ended["status"], "CANCELLED");
    assert_eq!(ended["renewsAt"], phones["renewsAt"], "no new period");
    let other = after.iter().find(|s| s["id"] != phones["id"]).unwrap();
    assert_eq!(other["status"], "ACTIVE", "the other one renewed");
    assert_ne!(other["renewsAt"], phones["renewsAt"]);
    for mutation in [
        "mutation($id: ID!) { changeSeats(input: {id: $id, seats: 3}) { subscription { id } } }",
        "mutation($id: ID!) { resumeSubscription(input: {id: $id}) { subscription { id } } }",
        "mutation($id: ID!) { setAutoRenew(input: {id: $id, autoRenew: false}) { subscription { id } } }",
    ] {
        assert_eq!(
            error_code(&app.gql(Some(&anna), mutation, json!({ "id": phones["id"] })).await),
            "CONFLICT",
            "{mutation}"
        );
    }
}
