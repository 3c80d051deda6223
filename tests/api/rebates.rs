//! Rebate terms (issue 16, part one): the approved distributor list and the rebate table, each
//! rule played from the abusive side too (a distributor approving itself, a partner writing its
//! own rates, a rate slipped in beside one already in force).

use serde_json::{Value, json};

use crate::helpers::*;

const DISTRIBUTORS: &str = "query($active: Boolean) { approvedDistributors(active: $active, first: 50) { totalCount nodes { id name kind } } }";
const RATES: &str = "query($p: ID!, $at: DateTime) { rebateRates(programId: $p, at: $at) { id productLine amountPerUnit { amount currency } validFrom validTo tier { name } } }";
const APPROVE: &str = "mutation($o: ID!, $a: Boolean!) { setDistributorApproval(input: {organizationId: $o, active: $a, note: \"checked\"}) { active note organization { name } } }";
const CREATE_RATE: &str = "mutation($p: ID!, $t: ID!, $line: String!, $amount: Decimal!, $currency: String!, $from: DateTime!, $to: DateTime) {
    createRebateRate(input: {programId: $p, tierId: $t, productLine: $line, amountPerUnit: {amount: $amount, currency: $currency}, validFrom: $from, validTo: $to}) {
      rate { id productLine amountPerUnit { amount currency } validFrom validTo tier { name } } } }";

fn names(body: &Value) -> Vec<String> {
    body["data"]["approvedDistributors"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect()
}

async fn program_and_tier(app: &TestApp, token: &str, tier: &str) -> (Value, Value) {
    let body = app.gql(Some(token), "{ programs { nodes { id tiers { nodes { id name } } } } }", json!({})).await;
    let program = &body["data"]["programs"]["nodes"][0];
    let tier = program["tiers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == tier)
        .unwrap_or_else(|| panic!("{body}"));
    (program["id"].clone(), tier["id"].clone())
}

fn rates_of(body: &Value) -> Vec<(String, String, String)> {
    body["data"]["rebateRates"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|r| {
            (
                r["tier"]["name"].as_str().unwrap().to_string(),
                r["productLine"].as_str().unwrap().to_string(),
                r["amountPerUnit"]["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_distributor_list_shows_partners_the_active_ones_and_staff_the_whole_list() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (vera, anna, dora) = (world.token("vera.admin@"), world.token("anna@"), world.token("dora@"));
    let staff = app.gql(Some(&vera), DISTRIBUTORS, json!({})).await;
    assert_eq!(names(&staff), ["Danube Distribution GmbH", "Sava Supply d.o.o."], "{staff}");
    assert_eq!(staff["data"]["approvedDistributors"]["totalCount"], 2);
    assert_eq!(names(&app.gql(Some(&vera), DISTRIBUTORS, json!({ "active": false })).await), ["Sava Supply d.o.o."]);
    for token in [&anna, &dora] {
        // A partner picks from the active ones; the withdrawn one is not even named to it.
        assert_eq!(names(&app.gql(Some(token), DISTRIBUTORS, json!({})).await), ["Danube Distribution GmbH"]);
        assert_eq!(names(&app.gql(Some(token), DISTRIBUTORS, json!({ "active": false })).await), Vec::<String>::new());
    }
    assert_eq!(error_code(&app.gql(None, DISTRIBUTORS, json!({})).await), "UNAUTHENTICATED");

    // Taken off the list, Danube disappears for partners at once and stays listed for staff.
    let danube = organization_id(&app, &vera, "Danube Distribution GmbH").await;
    let off = app.gql(Some(&fiona(&world)), APPROVE, json!({ "o": danube, "a": false })).await;
    assert_no_errors(&off);
    assert_eq!(off["data"]["setDistributorApproval"]["active"], false);
    assert_eq!(names(&app.gql(Some(&anna), DISTRIBUTORS, json!({})).await), Vec::<String>::new());
    assert_eq!(names(&app.gql(Some(&vera), DISTRIBUTORS, json!({ "active": false })).await).len(), 2);
}

fn fiona(world: &World) -> String {
    world.token("fiona.finance@")
}

#[tokio::test]
async fn a_distributor_cannot_approve_itself_and_only_distributors_are_listed() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (vera, dora) = (world.token("vera.admin@"), world.token("dora@"));
    let sava = organization_id(&app, &vera, "Sava Supply d.o.o.").await;
    // The withdrawn distributor's neighbour tries to put it back, and itself on the list again.
    let danube = organization_id(&app, &vera, "Danube Distribution GmbH").await;
    assert_eq!(error_code(&app.gql(Some(&dora), APPROVE, json!({ "o": sava, "a": true })).await), "FORBIDDEN");
    assert_eq!(error_code(&app.gql(Some(&dora), APPROVE, json!({ "o": danube, "a": true })).await), "FORBIDDEN");
    assert_eq!(names(&app.gql(Some(&vera), DISTRIBUTORS, json!({ "active": false })).await), ["Sava Supply d.o.o."]);
    // A partner is not a distributor: refused naming the field, and nothing is listed.
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let refused = app.gql(Some(&vera), APPROVE, json!({ "o": alpine, "a": true })).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "organizationId");
    assert_eq!(names(&app.gql(Some(&vera), DISTRIBUTORS, json!({})).await).len(), 2);
}

#[tokio::test]
async fn the_rate_in_force_is_the_one_of_the_invoice_date() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let (program, _) = program_and_tier(&app, &anna, "Gold").await;
    let all = app.gql(Some(&anna), RATES, json!({ "p": program })).await;
    assert_eq!(rates_of(&all).len(), 5, "{all}");
    let start = partnerhub::domain::ledger::Quarter::of(app.ctx.now()).start();
    let at = |t: chrono::DateTime<chrono::Utc>| json!({ "p": program, "at": t.to_rfc3339() });
    let gold_d7 = |body: &Value| {
        rates_of(body).into_iter().filter(|r| r.0 == "Gold" && r.1 == "D7xx").map(|r| r.2).collect::<Vec<_>>()
    };
    let before = app.gql(Some(&anna), RATES, at(start - chrono::TimeDelta::seconds(1))).await;
    assert_eq!(gold_d7(&before), ["12.00"], "{before}");
    let on = app.gql(Some(&anna), RATES, at(start)).await;
    assert_eq!(gold_d7(&on), ["15.00"], "{on}");
    assert_eq!(rates_of(&on).len(), 4, "one rate per tier and line in force: {on}");
    let long_ago = app.gql(Some(&anna), RATES, at(start - chrono::TimeDelta::days(800))).await;
    assert_eq!(rates_of(&long_ago), Vec::<(String, String, String)>::new());
}

#[tokio::test]
async fn a_rate_beside_one_in_force_or_a_bad_amount_is_refused_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let fiona = fiona(&world);
    let (program, gold) = program_and_tier(&app, &fiona, "Gold").await;
    let before = app.gql(Some(&fiona), RATES, json!({ "p": program })).await;
    let start = partnerhub::domain::ledger::Quarter::of(app.ctx.now()).start();
    let vars = |line: &str,
                amount: &str,
                currency: &str,
                from: chrono::DateTime<chrono::Utc>,
                to: Option<chrono::DateTime<chrono::Utc>>| {
        json!({ "p": program, "t": gold, "line": line, "amount": amount, "currency": currency,
                "from": from.to_rfc3339(), "to": to.map(|t| t.to_rfc3339()) })
    };
    let next_year = start + chrono::TimeDelta::days(400);
    // Written differently, the same line: the open 15 EUR rate is in force then.
    let overlap = app.gql(Some(&fiona), CREATE_RATE, vars(" d7XX ", "20", "EUR", next_year, None)).await;
    assert_eq!(error_code(&overlap), "CONFLICT", "{overlap}");
    assert_eq!(overlap["errors"][0]["extensions"]["field"], "validFrom", "{overlap}");
    for (v, field) in [
        (vars("D9xx", "0", "EUR", next_year, None), "amountPerUnit"),
        (vars("D9xx", "-3", "EUR", next_year, None), "amountPerUnit"),
        (vars("D9xx", "3", "USD", next_year, None), "amountPerUnit"),
        (vars("D9xx", "3.00001", "EUR", next_year, None), "amountPerUnit"),
        (vars("  ", "3", "EUR", next_year, None), "productLine"),
        (vars("D9xx", "3", "EUR", next_year, Some(next_year)), "validTo"),
    ] {
        let refused = app.gql(Some(&fiona), CREATE_RATE, v).await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{field}: {refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], field, "{refused}");
    }
    assert_eq!(app.gql(Some(&fiona), RATES, json!({ "p": program })).await, before, "nothing was stored");

    // A new line, and a second period that starts where the first ends, are fine.
    let first = app.gql(Some(&fiona), CREATE_RATE, vars("D9xx", "4.5", "eur", start, Some(next_year))).await;
    assert_no_errors(&first);
    assert_eq!(
        first["data"]["createRebateRate"]["rate"]["amountPerUnit"],
        json!({ "amount": "4.50", "currency": "EUR" })
    );
    assert_no_errors(&app.gql(Some(&fiona), CREATE_RATE, vars("D9xx", "5", "EUR", next_year, None)).await);
    let id = first["data"]["createRebateRate"]["rate"]["id"].clone();
    let node = app
        .gql(
            Some(&world.token("anna@")),
            "query($id: ID!) { node(id: $id) { ... on RebateRate { productLine } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node["data"]["node"]["productLine"], "D9xx", "{node}");
}

/// Two staff entering overlapping rates at the same moment: one is stored, the others are told
/// of the conflict, so an invoice date never has two rates.
#[tokio::test]
async fn overlapping_rates_entered_at_once_store_one() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (vera, fiona) = (world.token("vera.admin@"), fiona(&world));
    let (program, gold) = program_and_tier(&app, &vera, "Gold").await;
    let (app, program, gold) = (&app, &program, &gold);
    let ask = |token: String, amount: &'static str| {
        let vars = json!({ "p": program, "t": gold, "line": "D5xx", "amount": amount, "currency": "EUR",
                           "from": "2026-01-01T00:00:00Z" });
        async move { app.gql(Some(&token), CREATE_RATE, vars).await }
    };
    let answers = futures_util::future::join_all([
        ask(vera.clone(), "3"),
        ask(fiona.clone(), "4"),
        ask(vera.clone(), "5"),
        ask(fiona.clone(), "6"),
    ])
    .await;
    let stored = answers.iter().filter(|a| a["errors"].is_null()).count();
    assert_eq!(stored, 1, "{answers:?}");
    assert!(answers.iter().filter(|a| !a["errors"].is_null()).all(|a| error_code(a) == "CONFLICT"), "{answers:?}");
    let rates = app.gql(Some(&vera), RATES, json!({ "p": program })).await;
    assert_eq!(rates_of(&rates).iter().filter(|r| r.1 == "D5xx").count(), 1, "{rates}");
}

/// Mutations of this issue, with who may run them (targets from the demo).
pub const OPERATIONS: [&str; 2] = ["setDistributorApproval", "createRebateRate"];

#[rustfmt::skip]
const TABLE: &[(&str, [&str; 2])] = &[
    ("vera.admin@", ["OK", "OK"]),
    ("fiona.finance@", ["OK", "OK"]),
    ("carl.channel@", ["FORBIDDEN", "FORBIDDEN"]),
    ("anna@", ["FORBIDDEN", "FORBIDDEN"]),
    ("dora@", ["FORBIDDEN", "FORBIDDEN"]),
    ("erika@", ["FORBIDDEN", "FORBIDDEN"]),
    ("anonymous", ["UNAUTHENTICATED"; 2]),
];

#[tokio::test]
async fn actors_by_rebate_term_operations() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let danube = organization_id(&app, &vera, "Danube Distribution GmbH").await;
    let (program, silver) = program_and_tier(&app, &vera, "Silver").await;
    let mut failures = Vec::new();
    for (i, (actor, expected)) in TABLE.iter().enumerate() {
        let token = (*actor != "anonymous").then(|| world.token(actor));
        // Each actor's rate is its own line, so an allowed one never takes another's period.
        let line = format!("X{i}xx");
        for (op, want) in OPERATIONS.iter().zip(expected) {
            let (doc, vars) = match *op {
                "setDistributorApproval" => (APPROVE, json!({ "o": danube, "a": true })),
                "createRebateRate" => (
                    CREATE_RATE,
                    json!({ "p": program, "t": silver, "line": line, "amount": "2", "currency": "EUR",
                            "from": "2026-01-01T00:00:00Z" }),
                ),
                other => panic!("no document for {other}"),
            };
            let body = app.gql(token.as_deref(), doc, vars).await;
            let got = if body["errors"].is_null() { "OK".to_string() } else { error_code(&body).to_string() };
            if got != *want {
                failures.push(format!("{actor} {op}: want {want}, got {got}: {body}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
