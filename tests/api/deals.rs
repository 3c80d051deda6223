//! Deal registration: the review path to a gapless number, what each side sees, rivals told
//! only a date, and one approved deal per customer and product under concurrent approvals.

use serde_json::{Value, json};

use crate::helpers::*;

const REGISTER: &str = "mutation($input: RegisterDealInput!) { registerDeal(input: $input) {
    protectedUntil deal { id number status salesLead { email } specialDiscountPercent customerName } } }";
const APPROVE: &str = "mutation($input: ApproveDealInput!) { approveDeal(input: $input) {
    deal { id number status protectedUntil specialDiscountPercent } } }";
const READ: &str = "query($id: ID) { deal(id: $id) { id number status salesLead { email } engineer { email }
    specialDiscountPercent history { fromStatus toStatus } } }";

struct Setup {
    world: World,
    anna: String,
    sam: String,
    bruno: String,
    dora: String,
    vera: String,
    products: Vec<String>,
    danube: String,
    edelweiss: String,
}

async fn setup(app: &TestApp) -> Setup {
    let world = app.demo().await;
    let vera = world.token("vera.admin");
    let anna = world.token("anna@");
    let products = app.gql(Some(&vera), "{ products(first: 10) { nodes { id } } }", json!({})).await;
    let products: Vec<String> = products["data"]["products"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    assert!(products.len() >= 3, "the demo has three products");
    Setup {
        danube: organization_id(app, &vera, "Danube Distribution GmbH").await,
        edelweiss: organization_id(app, &anna, "Edelweiss Dental").await,
        sam: world.token("sam@"),
        bruno: world.token("bruno@"),
        dora: world.token("dora@"),
        anna,
        vera,
        products,
        world,
    }
}

fn input(s: &Setup, customer: Value, products: &[&str], submit: bool) -> Value {
    let mut input = json!({
        "products": products.iter().map(|p| json!({ "productId": p, "quantity": 20 })).collect::<Vec<_>>(),
        "estimatedValue": { "amount": "24000.00", "currency": "EUR" },
        "expectedCloseDate": "2099-03-31",
        "salesLead": { "name": "Anna Alpine", "email": "anna@alpinevoice.example", "phone": "+43 1 234567" },
        "engineer": { "name": "Eric Engineer", "email": "eric@alpinevoice.example" },
        "competitors": ["Contoso"],
        "distributorId": s.danube,
        "submit": submit,
    });
    for (k, v) in customer.as_object().unwrap() {
        input[k] = v.clone();
    }
    input
}

fn prospect(vat: &str) -> Value {
    json!({ "prospect": { "name": "Zephyr Zahnkliniken", "country": "DE", "vatNumber": vat } })
}

async fn register(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(Some(token), REGISTER, json!({ "input": input })).await
}

#[tokio::test]
async fn a_deal_is_reviewed_to_a_number_and_each_side_sees_its_share() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let p = &s.products;
    // The demo's approved Edelweiss deal holds products 0 and 2; this one is for product 1.
    let body = register(&app, &s.anna, input(&s, json!({ "customerId": s.edelweiss }), &[&p[1]], false)).await;
    assert_no_errors(&body);
    let deal = &body["data"]["registerDeal"]["deal"];
    let id = deal["id"].as_str().unwrap().to_string();
    assert_eq!(deal["status"], "DRAFT");
    assert_eq!(deal["customerName"], "Edelweiss Dental");

    // A fourth product is another deal; a closing date in the past is refused; nothing stored.
    let four =
        register(&app, &s.anna, input(&s, json!({ "customerId": s.edelweiss }), &[&p[0], &p[1], &p[2], &p[0]], true))
            .await;
    assert_eq!(error_code(&four), "BAD_USER_INPUT");
    assert_eq!(four["errors"][0]["extensions"]["field"], "products");
    assert!(four["errors"][0]["message"].as_str().unwrap().contains("another deal"), "{four}");
    let mut past = input(&s, json!({ "customerId": s.edelweiss }), &[&p[0]], true);
    past["expectedCloseDate"] = json!("2001-01-01");
    let past = register(&app, &s.anna, past).await;
    assert_eq!(past["errors"][0]["extensions"]["field"], "expectedCloseDate");
    // A customer of another partner is not one Baltic may register.
    let foreign = register(&app, &s.bruno, input(&s, json!({ "customerId": s.edelweiss }), &[&p[0]], true)).await;
    assert_eq!(foreign["errors"][0]["extensions"]["field"], "customerId");

    // Staff cannot approve a draft; the partner cannot approve at all.
    let approve = |token: &str, extra: Value| {
        let mut input = json!({ "dealId": id });
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        let token = token.to_string();
        let app = &app;
        async move { app.gql(Some(&token), APPROVE, json!({ "input": input })).await }
    };
    assert_eq!(error_code(&approve(&s.vera, json!({})).await), "CONFLICT");
    let submit = "mutation($id: ID!) { submitDeal(input: { dealId: $id }) { protectedUntil deal { status } } }";
    let submitted = app.gql(Some(&s.anna), submit, json!({ "id": id })).await;
    assert_eq!(submitted["data"]["submitDeal"]["deal"]["status"], "SUBMITTED", "{submitted}");
    assert_eq!(error_code(&approve(&s.anna, json!({})).await), "FORBIDDEN");
    assert_eq!(error_code(&app.gql(Some(&s.anna), submit, json!({ "id": id })).await), "CONFLICT");

    // Staff ask about the value only: the partner may change that and nothing else.
    let ask = "mutation($id: ID!) { requestDealAction(input: { dealId: $id, fields: [\"estimatedValue\"],
        question: \"Is the value per year?\" }) { deal { status editableFields staffQuestion } } }";
    let asked = app.gql(Some(&s.vera), ask, json!({ "id": id })).await;
    assert_eq!(asked["data"]["requestDealAction"]["deal"]["status"], "ACTION_REQUIRED", "{asked}");
    let update =
        "mutation($input: UpdateDealInput!) { updateDeal(input: $input) { deal { estimatedValue { amount } } } }";
    let outside = app.gql(Some(&s.anna), update, json!({ "input": { "dealId": id, "nextSteps": "demo" } })).await;
    assert_eq!(error_code(&outside), "FORBIDDEN", "{outside}");
    let value = json!({ "input": { "dealId": id, "estimatedValue": { "amount": "30000", "currency": "EUR" } } });
    assert_no_errors(&app.gql(Some(&s.anna), update, value).await);
    let resubmitted = app.gql(Some(&s.anna), submit, json!({ "id": id })).await;
    assert_eq!(resubmitted["data"]["submitDeal"]["deal"]["status"], "IN_REVIEW", "{resubmitted}");

    // The discount is capped by the programme (15%).
    let over = approve(&s.vera, json!({ "specialDiscountPercent": "20" })).await;
    assert_eq!(over["errors"][0]["extensions"]["field"], "specialDiscountPercent", "{over}");
    let approved = approve(&s.vera, json!({ "specialDiscountPercent": "10" })).await;
    assert_no_errors(&approved);
    let approved = &approved["data"]["approveDeal"]["deal"];
    let number = approved["number"].as_str().unwrap().to_string();
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(number.starts_with(&format!("DR-{year}-")) && number.len() == 14, "{number}");
    assert_eq!(approved["status"], "APPROVED");

    // The partner's ADMIN reads everything; its SALES user, who did not register it, nothing.
    let read = |token: &str| {
        let token = token.to_string();
        let app = &app;
        let id = id.clone();
        async move { app.gql(Some(&token), READ, json!({ "id": id })).await }
    };
    let own = read(&s.anna).await;
    assert_eq!(own["data"]["deal"]["salesLead"]["email"], "anna@alpinevoice.example");
    assert_eq!(own["data"]["deal"]["specialDiscountPercent"], "10");
    let steps: Vec<&str> =
        own["data"]["deal"]["history"].as_array().unwrap().iter().map(|h| h["toStatus"].as_str().unwrap()).collect();
    assert_eq!(steps, ["DRAFT", "SUBMITTED", "ACTION_REQUIRED", "IN_REVIEW", "APPROVED"]);
    assert!(read(&s.sam).await["data"]["deal"].is_null());
    // The distributor reads the deal, without contacts or the discount.
    let distributor = read(&s.dora).await;
    assert_eq!(distributor["data"]["deal"]["number"], number.as_str(), "{distributor}");
    assert!(distributor["data"]["deal"]["salesLead"].is_null());
    assert!(distributor["data"]["deal"]["engineer"].is_null());
    assert!(distributor["data"]["deal"]["specialDiscountPercent"].is_null());
    // A rival partner: as if it did not exist, by id and by number.
    assert!(read(&s.bruno).await["data"]["deal"].is_null());
    let by_number =
        app.gql(Some(&s.bruno), "query($n: String) { deal(number: $n) { id } }", json!({ "n": number })).await;
    assert!(by_number["data"]["deal"].is_null(), "{by_number}");
    let listed = app.gql(Some(&s.bruno), "{ deals { nodes { id partner { name } } } }", json!({})).await;
    let partners: Vec<&Value> =
        listed["data"]["deals"]["nodes"].as_array().unwrap().iter().map(|n| &n["partner"]["name"]).collect();
    assert!(!partners.is_empty() && partners.iter().all(|p| *p == "Baltic Cloud SIA"), "only its own: {listed}");
}

#[tokio::test]
async fn a_rival_learns_only_until_when_the_customer_is_protected() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let p = &s.products;
    let first = register(&app, &s.anna, input(&s, prospect("DE 123-456.789"), &[&p[0]], true)).await;
    let first_id = first["data"]["registerDeal"]["deal"]["id"].as_str().unwrap().to_string();
    // Staff see the later registration beside it.
    let rival = register(&app, &s.bruno, input(&s, prospect("de123456789"), &[&p[0], &p[2]], true)).await;
    assert_no_errors(&rival);
    assert!(rival["data"]["registerDeal"]["protectedUntil"].is_null(), "nothing approved yet");
    let rival_id = rival["data"]["registerDeal"]["deal"]["id"].as_str().unwrap().to_string();
    let conflicts = "query($id: ID) { deal(id: $id) { conflicts { id } } }";
    let seen = app.gql(Some(&s.vera), conflicts, json!({ "id": first_id })).await;
    assert_eq!(seen["data"]["deal"]["conflicts"][0]["id"], rival_id.as_str(), "{seen}");
    let partner_view = app.gql(Some(&s.anna), conflicts, json!({ "id": first_id })).await;
    assert_eq!(partner_view["data"]["deal"]["conflicts"], json!([]), "partners never see rivals");

    // Approving one rejects the other with CONFLICT.
    assert_no_errors(&app.gql(Some(&s.vera), APPROVE, json!({ "input": { "dealId": first_id } })).await);
    let lost = app
        .gql(Some(&s.bruno), "query($id: ID) { deal(id: $id) { status rejectionCode } }", json!({ "id": rival_id }))
        .await;
    assert_eq!(lost["data"]["deal"]["status"], "REJECTED");
    assert_eq!(lost["data"]["deal"]["rejectionCode"], "CONFLICT");

    // A later submission is accepted and told the date, and nothing about who.
    let mut own = input(&s, prospect("DE123456789"), &[&p[0]], true);
    own["salesLead"] = json!({ "name": "Bruno Baltic", "email": "bruno@balticcloud.example" });
    own["engineer"] = Value::Null;
    let later = register(&app, &s.bruno, own).await;
    assert_no_errors(&later);
    assert_eq!(later["data"]["registerDeal"]["deal"]["status"], "SUBMITTED");
    assert!(later["data"]["registerDeal"]["protectedUntil"].is_string(), "{later}");
    let text = later.to_string();
    assert!(!text.contains("Alpine") && !text.contains("anna"), "the holder stays unnamed: {text}");
    // No conflict without a shared product, nor within the same partner.
    let other_product = register(&app, &s.bruno, input(&s, prospect("DE123456789"), &[&p[1]], true)).await;
    assert!(other_product["data"]["registerDeal"]["protectedUntil"].is_null());
    let same_partner = register(&app, &s.anna, input(&s, prospect("DE123456789"), &[&p[0]], true)).await;
    assert!(same_partner["data"]["registerDeal"]["protectedUntil"].is_null());
    // Staff see the one live rival: not the rejected one, not the other product's, not Anna's own.
    let later_id = later["data"]["registerDeal"]["deal"]["id"].clone();
    let seen = app.gql(Some(&s.vera), conflicts, json!({ "id": first_id })).await;
    assert_eq!(seen["data"]["deal"]["conflicts"], json!([{ "id": later_id }]), "{seen}");
}

#[tokio::test]
async fn concurrent_approvals_number_without_gaps_and_rivals_cannot_both_win() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let node = app.second_node().await;
    let p = &s.products;
    let mut ids = Vec::new();
    for i in 0..100 {
        let vat = format!("DE{:09}", 100_000_000 + i);
        let body = register(&app, &s.anna, input(&s, prospect(&vat), &[&p[0]], true)).await;
        ids.push(body["data"]["registerDeal"]["deal"]["id"].as_str().unwrap().to_string());
    }
    let approvals = ids.iter().enumerate().map(|(i, id)| {
        let target = if i % 2 == 0 { &app } else { &node };
        let token = s.vera.clone();
        async move { target.gql(Some(&token), APPROVE, json!({ "input": { "dealId": id } })).await }
    });
    let results = futures_util::future::join_all(approvals).await;
    let mut numbers: Vec<String> = results
        .iter()
        .map(|r| r["data"]["approveDeal"]["deal"]["number"].as_str().unwrap_or_else(|| panic!("{r}")).to_string())
        .collect();
    numbers.sort();
    // After the demo's approvals, a hundred more numbers, each once, one after the other.
    let sequence: Vec<i64> = numbers.iter().map(|n| n[n.len() - 6..].parse().unwrap()).collect();
    let expected: Vec<i64> = (sequence[0]..sequence[0] + 100).collect();
    assert_eq!(sequence, expected, "100 approvals, 100 numbers, no gap: {numbers:?}");

    // Two rivals for one customer and product, approved at once on two nodes: one wins.
    let a = register(&app, &s.anna, input(&s, prospect("FR12345678901"), &[&p[1]], true)).await;
    let b = register(&app, &s.bruno, input(&s, prospect("fr 123 456 789 01"), &[&p[1]], true)).await;
    let (a, b) = (a["data"]["registerDeal"]["deal"]["id"].clone(), b["data"]["registerDeal"]["deal"]["id"].clone());
    let (ra, rb) = futures_util::join!(
        app.gql(Some(&s.vera), APPROVE, json!({ "input": { "dealId": a } })),
        node.gql(Some(&s.vera), APPROVE, json!({ "input": { "dealId": b } })),
    );
    let won = [&ra, &rb].iter().filter(|r| r.get("errors").is_none()).count();
    assert_eq!(won, 1, "exactly one wins: {ra} {rb}");
    let loser = if ra.get("errors").is_some() { &ra } else { &rb };
    assert_eq!(error_code(loser), "CONFLICT", "{loser}");
}

/// Deal operations of the authorization table, by schema field name.
pub const OPERATIONS: [&str; 9] = [
    "registerDeal",
    "updateDeal",
    "submitDeal",
    "startDealReview",
    "requestDealAction",
    "approveDeal",
    "rejectDeal",
    "extendDeal",
    "closeDeal",
];

/// (actor, outcome per operation in OPERATIONS order). Targets are Alpine's deals, registered by
/// Anna (its ADMIN), each in the status its operation needs, so that only the actor decides.
#[rustfmt::skip]
const TABLE: &[(&str, [&str; 9])] = &[
    ("vera.admin@", ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "OK", "OK", "OK", "OK", "FORBIDDEN"]),
    ("carl.channel@", ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "OK", "OK", "OK", "OK", "FORBIDDEN"]),
    ("fiona.finance@", ["FORBIDDEN"; 9]),
    ("anna@", ["OK", "OK", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK"]),
    // SALES: registers its own, and does not see Anna's.
    ("sam@", ["OK", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]),
    // Another partner: the deals do not exist for it.
    ("bruno@", ["OK", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]),
    // The named distributor reads them, and may do nothing.
    ("dora@", ["FORBIDDEN"; 9]),
    // The customer the deal is about does not see it.
    ("erika@", ["FORBIDDEN", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]),
    ("anonymous", ["UNAUTHENTICATED"; 9]),
];

#[tokio::test]
async fn actors_by_deal_operations() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let token_of = |actor: &str| (actor != "anonymous").then(|| s.world.token(actor));
    let mut serial = 0;
    let mut failures = Vec::new();
    for (actor, expected) in TABLE {
        for (op, want) in OPERATIONS.iter().zip(expected) {
            serial += 1;
            let vat = format!("DE{:09}", 500_000_000 + serial);
            // The target: a draft for the partner's operations, submitted for staff's, approved
            // for extending and closing.
            let registered = register(&app, &s.anna, input(&s, prospect(&vat), &[&s.products[0]], false)).await;
            let id = registered["data"]["registerDeal"]["deal"]["id"].as_str().unwrap().to_string();
            let staff_op = matches!(*op, "startDealReview" | "requestDealAction" | "approveDeal" | "rejectDeal");
            let approved_op = matches!(*op, "extendDeal" | "closeDeal");
            if staff_op || approved_op {
                let submit = "mutation($id: ID!) { submitDeal(input: { dealId: $id }) { deal { id } } }";
                assert_no_errors(&app.gql(Some(&s.anna), submit, json!({ "id": id })).await);
            }
            if approved_op {
                assert_no_errors(&app.gql(Some(&s.vera), APPROVE, json!({ "input": { "dealId": id } })).await);
            }
            let (document, variables) = match *op {
                "registerDeal" => {
                    let customer = prospect(&format!("DE{:09}", 700_000_000 + serial));
                    (REGISTER.to_string(), json!({ "input": input(&s, customer, &[&s.products[1]], true) }))
                }
                "updateDeal" => (
                    "mutation($id: ID!) { updateDeal(input: { dealId: $id, nextSteps: \"call\" }) { deal { id } } }".into(),
                    json!({ "id": id }),
                ),
                "requestDealAction" => (
                    "mutation($id: ID!) { requestDealAction(input: { dealId: $id, fields: [\"nextSteps\"], question: \"When?\" }) { deal { id } } }".into(),
                    json!({ "id": id }),
                ),
                "rejectDeal" => (
                    "mutation($id: ID!) { rejectDeal(input: { dealId: $id, code: NOT_QUALIFIED }) { deal { id } } }".into(),
                    json!({ "id": id }),
                ),
                "extendDeal" => (
                    "mutation($id: ID!) { extendDeal(input: { dealId: $id, days: 30 }) { deal { id } } }".into(),
                    json!({ "id": id }),
                ),
                "closeDeal" => (
                    "mutation($id: ID!) { closeDeal(input: { dealId: $id, won: true }) { deal { id } } }".into(),
                    json!({ "id": id }),
                ),
                other => (format!("mutation($id: ID!) {{ {other}(input: {{ dealId: $id }}) {{ deal {{ id }} }} }}"), json!({ "id": id })),
            };
            let body = app.gql(token_of(actor).as_deref(), &document, variables).await;
            let got = if body.get("errors").is_none() { "OK" } else { error_code(&body) };
            if got != *want {
                failures.push(format!("{actor} {op}: expected {want}, got {got}: {body}"));
            }
        }
    }
    // The SALES user who registered a deal works on it like its ADMIN.
    let own = register(&app, &s.sam, input(&s, prospect("DE999000111"), &[&s.products[0]], false)).await;
    let own = own["data"]["registerDeal"]["deal"]["id"].clone();
    let submit = "mutation($id: ID!) { submitDeal(input: { dealId: $id }) { deal { status } } }";
    let submitted = app.gql(Some(&s.sam), submit, json!({ "id": own })).await;
    assert_eq!(submitted["data"]["submitDeal"]["deal"]["status"], "SUBMITTED", "{submitted}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn staff_filter_the_queue_and_a_verified_domain_names_the_customer() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let count = |filter: &str| {
        let query =
            format!("{{ deals(filter: {filter}) {{ totalCount nodes {{ partner {{ name }} customerName }} }} }}");
        let vera = s.vera.clone();
        let app = &app;
        async move {
            let body = app.gql(Some(&vera), &query, json!({})).await;
            assert_no_errors(&body);
            body["data"]["deals"].clone()
        }
    };
    // The demo's contested pair waits in the conflict queue, and nothing else does.
    let queue = count("{ conflicting: true }").await;
    let names: Vec<&str> =
        queue["nodes"].as_array().unwrap().iter().map(|n| n["customerName"].as_str().unwrap()).collect();
    assert_eq!(queue["totalCount"], 2, "{queue}");
    assert!(names.iter().all(|n| n.starts_with("Zephyr")), "{queue}");
    assert_eq!(count("{ search: \"zephyr\" }").await["totalCount"], 2);
    assert_eq!(count("{ search: \"edelweiss\" }").await["totalCount"], 1);
    // Fjord's deal was approved for ten days only.
    let expiring = count("{ expiringWithinDays: 14 }").await;
    assert_eq!(expiring["nodes"][0]["customerName"], "Fjord Freight AS", "{expiring}");
    assert_eq!(expiring["totalCount"], 1);
    let by_product = count(&format!("{{ productId: \"{}\", status: APPROVED }}", s.products[2])).await;
    assert_eq!(by_product["totalCount"], 1, "Edelweiss's deal has product 2: {by_product}");
    let bad = app.gql(Some(&s.vera), "{ deals(filter: { expiringWithinDays: 900 }) { totalCount } }", json!({})).await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "expiringWithinDays");

    // Edelweiss proves its domain: a prospect registration naming that domain, in other case,
    // meets Alpine's approved deal for the same product.
    let edelweiss = partnerhub::ids::decode_as(partnerhub::ids::NodeType::Organization, &s.edelweiss).unwrap();
    entity::domain::Entity::update_many()
        .col_expr(entity::domain::Column::VerifiedAt, sea_orm::sea_query::Expr::value(Some(chrono::Utc::now())))
        .filter(entity::domain::Column::OrganizationId.eq(edelweiss))
        .filter(entity::domain::Column::Name.eq("edelweiss-dental.example"))
        .exec(&app.ctx.db)
        .await
        .unwrap();
    let mut by_domain = input(
        &s,
        json!({ "prospect": { "name": "Edelweiss", "country": "CH", "domain": "Edelweiss-Dental.example" } }),
        &[&s.products[2]],
        true,
    );
    by_domain["salesLead"] = json!({ "name": "Bruno Baltic", "email": "bruno@balticcloud.example" });
    let told = register(&app, &s.bruno, by_domain).await;
    assert!(told["data"]["registerDeal"]["protectedUntil"].is_string(), "{told}");
}

#[tokio::test]
async fn the_special_discount_is_billed_while_protected_and_the_end_is_told_then_written() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let lines_of = |period: String| {
        let anna = s.anna.clone();
        let app = &app;
        async move {
            let body = app
                .gql(
                    Some(&anna),
                    "{ invoices(first: 100) { nodes { period billToName lines { customerName description discountPercent } } } }",
                    json!({}),
                )
                .await;
            assert_no_errors(&body);
            body["data"]["invoices"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["billToName"] == "Alpine Voice AG" && i["period"] == period.as_str())
                .flat_map(|i| i["lines"].as_array().unwrap().clone())
                .filter(|l| l["customerName"] == "Edelweiss Dental")
                .collect::<Vec<Value>>()
        }
    };
    // The demo approved Alpine's Edelweiss deal with 10% before this month's run: on top of
    // Alpine's tier discount, and the line names the deal.
    let now = app.ctx.now().format("%Y-%m").to_string();
    let lines = lines_of(now).await;
    assert!(!lines.is_empty());
    for line in &lines {
        let description = line["description"].as_str().unwrap();
        assert!(description.contains("special discount 10%") && description.contains("deal DR-"), "{line}");
    }

    // A prospect becomes a customer: Anna creates it with the VAT number her approved deal
    // named, and the deal is the new organisation's from then on.
    let mut zephyr = input(&s, prospect("DE 777 888 999"), &[&s.products[0]], true);
    zephyr["idempotencyKey"] = json!("zephyr-prospect");
    let zephyr = register(&app, &s.anna, zephyr).await;
    let zephyr = zephyr["data"]["registerDeal"]["deal"]["id"].clone();
    assert_no_errors(
        &app.gql(Some(&s.vera), APPROVE, json!({ "input": { "dealId": zephyr, "specialDiscountPercent": "5" } })).await,
    );
    let create = "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }";
    let created = app
        .gql(Some(&s.anna), create, json!({ "i": { "name": "Zephyr Zahnkliniken GmbH", "country": "DE", "vatNumber": "DE777888999", "adminEmail": "it@zephyr.example" } }))
        .await;
    assert_no_errors(&created);
    let adopted = app
        .gql(
            Some(&s.anna),
            "query($id: ID) { deal(id: $id) { customer { name } customerName } }",
            json!({ "id": zephyr }),
        )
        .await;
    assert_eq!(adopted["data"]["deal"]["customer"]["name"], "Zephyr Zahnkliniken GmbH", "{adopted}");

    // Thirteen days before the end the partner is told, once; Fjord's ten-day deal expires.
    app.clock.advance(chrono::TimeDelta::days(77));
    let run = partnerhub::service::deals::run_expiry(&app.ctx).await.unwrap();
    assert_eq!((run.expired, run.noticed), (1, 2), "Edelweiss's and Zephyr's deals: {run:?}");
    let again = partnerhub::service::deals::run_expiry(&app.ctx).await.unwrap();
    assert_eq!((again.expired, again.noticed), (0, 0), "told once");
    let told = app.gql(Some(&s.anna), "{ viewer { notifications(first: 50) { nodes { kind } } } }", json!({})).await;
    assert!(told.to_string().contains("DEAL_EXPIRING"), "{told}");

    // Past the end: shown EXPIRED at once, written by the job, and billed without the discount.
    app.clock.advance(chrono::TimeDelta::days(20));
    let expired = app.gql(Some(&s.anna), "{ deals(filter: { status: EXPIRED }) { totalCount } }", json!({})).await;
    assert_eq!(
        expired["data"]["deals"]["totalCount"], 4,
        "the demo's Donau, Fjord's, Edelweiss's, Zephyr's: {expired}"
    );
    assert_eq!(partnerhub::service::deals::run_expiry(&app.ctx).await.unwrap().expired, 2);
    while partnerhub::service::subscriptions::run_renewals(&app.ctx).await.unwrap() > 0 {}
    let later = app.ctx.now().format("%Y-%m").to_string();
    let run = "mutation($p: String!) { runBilling(input: {period: $p}) { invoices { id } } }";
    assert_no_errors(&app.gql(Some(&s.world.token("fiona.finance@")), run, json!({ "p": later })).await);
    let lines = lines_of(later).await;
    // An expired rival protects nothing: the demo's Donau deal ran out.
    let mut donau = input(&s, prospect("ATU99887766"), &[&s.products[1]], true);
    donau["salesLead"] = json!({ "name": "Bruno Baltic", "email": "bruno@balticcloud.example" });
    let donau = register(&app, &s.bruno, donau).await;
    assert!(donau["data"]["registerDeal"]["protectedUntil"].is_null(), "{donau}");
    let periods: Vec<&Value> = lines.iter().filter(|l| l["description"].as_str().unwrap().contains("seats")).collect();
    assert!(!periods.is_empty(), "Edelweiss's renewal is billed to Alpine: {lines:?}");
    assert!(lines.iter().all(|l| !l["description"].as_str().unwrap().contains("special discount")), "{lines:?}");
}

#[tokio::test]
async fn the_same_organisation_conflicts_a_retry_is_one_deal_and_partners_read_newest_first() {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    // Celtic gets access to Edelweiss too, so both partners may register deals for it.
    let id = |gid: &str| partnerhub::ids::decode_as(partnerhub::ids::NodeType::Organization, gid).unwrap();
    let vera = &s.vera;
    let celtic = organization_id(&app, vera, "Celtic Comms Ltd").await;
    let db = &app.ctx.db;
    let org =
        |gid: String| async move { entity::organization::Entity::find_by_id(id(&gid)).one(db).await.unwrap().unwrap() };
    let (celtic, edelweiss) = (org(celtic).await, org(s.edelweiss.clone()).await);
    let (active, all) = (entity::enums::GrantStatus::Active, partnerhub::domain::Rights::ALL);
    partnerhub::demo::grant(&app.ctx, &celtic, &edelweiss, active, all).await.unwrap();
    let cara = s.world.token("cara@");
    let mut same_org = input(&s, json!({ "customerId": s.edelweiss }), &[&s.products[0]], true);
    same_org["salesLead"] = json!({ "name": "Cara Celtic", "email": "cara@celticcomms.example" });
    same_org["engineer"] = Value::Null;
    same_org["idempotencyKey"] = json!("edelweiss-q1");
    let told = register(&app, &cara, same_org.clone()).await;
    assert!(told["data"]["registerDeal"]["protectedUntil"].is_string(), "Alpine's approved Edelweiss deal: {told}");
    assert!(!told.to_string().contains("Alpine"), "{told}");
    // A retry with the key is the same deal; the key with other input is refused.
    let again = register(&app, &cara, same_org.clone()).await;
    assert_eq!(again["data"]["registerDeal"]["deal"]["id"], told["data"]["registerDeal"]["deal"]["id"]);
    same_org["estimatedValue"] = json!({ "amount": "1", "currency": "EUR" });
    assert_eq!(error_code(&register(&app, &cara, same_org).await), "CONFLICT");
    // Partners read their deals newest first, staff's queue oldest first.
    let list = "{ deals(first: 3) { nodes { id createdAt } pageInfo { hasNextPage } } }";
    let partner = app.gql(Some(&s.anna), list, json!({})).await;
    let times: Vec<&str> = partner["data"]["deals"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["createdAt"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {partner}");
    assert_eq!(partner["data"]["deals"]["pageInfo"]["hasNextPage"], true);
    let queue = app.gql(Some(vera), list, json!({})).await;
    let times: Vec<&str> =
        queue["data"]["deals"]["nodes"].as_array().unwrap().iter().map(|n| n["createdAt"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first: {queue}");
}
