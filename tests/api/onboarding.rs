//! Programme administration, applications and their queue, tier evaluation on real facts, the
//! exam import, the welcome gift and the tier review queue.

use serde_json::{Value, json};

use crate::helpers::*;

const APPLY: &str = "mutation($i: ApplyForPartnershipInput!) { applyForPartnership(input: $i) { application { id status dueAt submittedAt } } }";

async fn programs(app: &TestApp) -> Value {
    let body = app
        .gql(
            None,
            "{ programs { nodes { id name exclusivityGroup currentTerms { version } entryConditions { registrationNumberRequired websiteRequired minimumYearlyAmount { amount currency } } tiers { nodes { id name } } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["programs"]["nodes"].clone()
}

fn program_id(all: &Value, name_starts: &str) -> String {
    all.as_array().unwrap().iter().find(|p| p["name"].as_str().unwrap().starts_with(name_starts)).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn valid_application(program: &str) -> Value {
    json!({
        "programId": program,
        "company": {
            "name": "Hanse Telecom Services GmbH",
            "registrationNumber": "HRB 123456",
            "vatNumber": "DE 811 569 869",
            "website": "https://www.hanse-telecom.example",
            "country": "de",
            "address": "Speicherstadt 1, 20457 Hamburg"
        },
        "primaryExpertise": "Telephony for logistics",
        "experience": "Ten years of Northwind installations in warehouses.",
        "plan": "Resell desk phones and Cloud PBX to northern German logistics firms.",
        "acceptedTermsVersion": 2
    })
}

/// Sets `path` (dot-separated) in a JSON object.
fn with(mut value: Value, path: &str, new: Value) -> Value {
    let mut target = &mut value;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        target = &mut target[*part];
    }
    match new {
        Value::Null => {
            target.as_object_mut().unwrap().remove(parts[parts.len() - 1]);
        }
        other => target[parts[parts.len() - 1]] = other,
    }
    value
}

#[tokio::test]
async fn each_bad_field_of_an_application_is_named_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let hans = world.token("hans@");
    let reseller = program_id(&programs(&app).await, "Northwind Reseller");
    let base = valid_application(&reseller);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("acceptedTermsVersion", json!(1), "acceptedTermsVersion"),
        ("acceptedTermsVersion", json!(3), "acceptedTermsVersion"),
        ("company.name", json!("  "), "company.name"),
        ("company.registrationNumber", Value::Null, "company.registrationNumber"),
        ("company.registrationNumber", json!("x"), "company.registrationNumber"),
        ("company.vatNumber", json!("123"), "company.vatNumber"),
        ("company.website", Value::Null, "company.website"),
        ("company.website", json!("hanse telecom"), "company.website"),
        ("company.website", json!("ftp://hanse.example"), "company.website"),
        ("company.country", json!("ZZ"), "company.country"),
        ("company.address", json!(""), "company.address"),
        ("primaryExpertise", json!(""), "primaryExpertise"),
        ("experience", json!(" "), "experience"),
        ("plan", json!(""), "plan"),
    ];
    for (path, value, field) in cases {
        let input = with(base.clone(), path, value.clone());
        let body = app.gql(Some(&hans), APPLY, json!({ "i": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{path} = {value}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{path} = {value}: {body}");
    }
    let mine = app.gql(Some(&hans), "{ applications { totalCount } }", json!({})).await;
    assert_eq!(mine["data"]["applications"]["totalCount"], 0, "no refused application was stored");
    // The referral programme asks for neither registration number nor website.
    let referral = program_id(&programs(&app).await, "Northwind Referral");
    let light = with(
        with(valid_application(&referral), "company.registrationNumber", Value::Null),
        "company.website",
        Value::Null,
    );
    let light = with(light, "acceptedTermsVersion", json!(1));
    let body = app.gql(Some(&hans), APPLY, json!({ "i": light })).await;
    assert_no_errors(&body);
}

#[tokio::test]
async fn exclusive_programmes_refuse_a_partner_of_the_other() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let all = programs(&app).await;
    assert_eq!(all[0]["exclusivityGroup"], all[1]["exclusivityGroup"]);
    let referral = program_id(&all, "Northwind Referral");
    let input = with(valid_application(&referral), "acceptedTermsVersion", json!(1));
    // Anna's Alpine is a reseller partner.
    let body = app.gql(Some(&world.token("anna@")), APPLY, json!({ "i": input.clone() })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "programId");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("Northwind Reseller Programme"));
    // So is a "new" company with Alpine's VAT number.
    let disguised = with(input, "company.vatNumber", json!("CHE123456789"));
    let body = app.gql(Some(&world.token("hans@")), APPLY, json!({ "i": disguised })).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "programId", "{body}");
    // Applying again to its own programme is a conflict, not a second partnership.
    let reseller = program_id(&all, "Northwind Reseller");
    let again = app.gql(Some(&world.token("anna@")), APPLY, json!({ "i": valid_application(&reseller) })).await;
    assert_eq!(error_code(&again), "CONFLICT", "{again}");
}

const QUEUE: &str = "query($s: ApplicationStatus) { applications(status: $s, first: 100) { totalCount nodes { id companyName status dueAt submittedAt overdue applicantName program { name } organization { name } } } }";

#[tokio::test]
async fn staff_approve_and_reject_applications_and_applicants_follow_theirs() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (hans, carl, vera) = (world.token("hans@"), world.token("carl.channel@"), world.token("vera.admin@"));
    let reseller = program_id(&programs(&app).await, "Northwind Reseller");
    let applied = app.gql(Some(&hans), APPLY, json!({ "i": valid_application(&reseller) })).await;
    assert_no_errors(&applied);
    let application = &applied["data"]["applyForPartnership"]["application"];
    assert_eq!(application["status"], "SUBMITTED");
    let submitted: chrono::DateTime<chrono::Utc> = application["submittedAt"].as_str().unwrap().parse().unwrap();
    let due: chrono::DateTime<chrono::Utc> = application["dueAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(due - submitted, chrono::TimeDelta::days(7));
    let id = application["id"].as_str().unwrap().to_string();
    let twice = app.gql(Some(&hans), APPLY, json!({ "i": valid_application(&reseller) })).await;
    assert_eq!(error_code(&twice), "CONFLICT", "one pending application per programme");

    // Staff see Paula's (the demo's, older) first, then Hans's; eight days on, both are overdue.
    app.clock.advance(chrono::TimeDelta::days(8));
    let queue = app.gql(Some(&carl), QUEUE, json!({ "s": "SUBMITTED" })).await;
    assert_no_errors(&queue);
    let nodes = queue["data"]["applications"]["nodes"].as_array().unwrap().clone();
    assert_eq!(
        nodes.iter().map(|n| n["applicantName"].as_str().unwrap()).collect::<Vec<_>>(),
        ["Paula Prospect", "Hans Hanse"]
    );
    assert!(nodes.iter().all(|n| n["overdue"] == true));
    // Applicants see only their own; another partner sees none.
    let own = app.gql(Some(&hans), QUEUE, json!({})).await;
    assert_eq!(own["data"]["applications"]["totalCount"], 1);
    let other = app.gql(Some(&world.token("bruno@")), QUEUE, json!({})).await;
    assert_eq!(other["data"]["applications"]["totalCount"], 0);
    let peek =
        app.gql(Some(&world.token("bruno@")), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
    assert!(peek["data"]["node"].is_null());

    let approve = "mutation($id: ID!) { approveApplication(input: {id: $id}) { application { status organization { name } } partner { id name kind tier { name } program { name } } } }";
    let approved = app.gql(Some(&carl), approve, json!({ "id": id })).await;
    assert_no_errors(&approved);
    let partner = &approved["data"]["approveApplication"]["partner"];
    assert_eq!(partner["kind"], "PARTNER");
    assert_eq!(partner["tier"]["name"], "Registered", "the entry tier");
    assert_eq!(approved["data"]["approveApplication"]["application"]["status"], "APPROVED");
    let again = app.gql(Some(&vera), approve, json!({ "id": id })).await;
    assert_eq!(error_code(&again), "CONFLICT");

    // Hans is now ADMIN of the new partner and finds the welcome there.
    let partner_id = partner["id"].as_str().unwrap().to_string();
    let inbox = app
        .request(Some(&hans))
        .acting_as(&partner_id)
        .send("{ viewer { actingAs { role } notifications { nodes { kind payload } } } }", json!({}))
        .await;
    assert_no_errors(&inbox);
    assert_eq!(inbox["data"]["viewer"]["actingAs"]["role"], "ADMIN");
    let kinds: Vec<&Value> = inbox["data"]["viewer"]["notifications"]["nodes"].as_array().unwrap().iter().collect();
    assert!(
        kinds.iter().any(|n| n["kind"] == "APPLICATION_APPROVED" && n["payload"]["tier"] == "Registered"),
        "{inbox}"
    );
    let history = app
        .request(Some(&hans))
        .acting_as(&partner_id)
        .send("query($id: ID!) { node(id: $id) { ... on Organization { tierHistory { nodes { reason to { name } } } } } }", json!({ "id": partner_id }))
        .await;
    assert_eq!(history["data"]["node"]["tierHistory"]["nodes"][0]["reason"], "application approved");

    // Paula's is rejected, with a reason she can read.
    let paula_app = nodes[0]["id"].as_str().unwrap();
    let reject =
        "mutation($i: RejectApplicationInput!) { rejectApplication(input: $i) { application { status reason } } }";
    let no_reason = app.gql(Some(&carl), reject, json!({ "i": { "id": paula_app, "reason": " " } })).await;
    assert_eq!(no_reason["errors"][0]["extensions"]["field"], "reason");
    let rejected =
        app.gql(Some(&carl), reject, json!({ "i": { "id": paula_app, "reason": "No hotel references yet." } })).await;
    assert_no_errors(&rejected);
    let paula = app.gql(Some(&world.token("paula@")), QUEUE, json!({})).await;
    assert_eq!(paula["data"]["applications"]["nodes"][0]["status"], "REJECTED");
    // She belongs to no organisation; the decision reaches her personally.
    let inbox = app
        .gql(Some(&world.token("paula@")), "{ viewer { notifications { nodes { kind payload } } } }", json!({}))
        .await;
    assert_no_errors(&inbox);
    assert_eq!(inbox["data"]["viewer"]["notifications"]["nodes"][0]["kind"], "APPLICATION_REJECTED");
    assert_eq!(inbox["data"]["viewer"]["notifications"]["nodes"][0]["payload"]["reason"], "No hotel references yet.");
    // Nobody else reads it.
    let hans_inbox = app.gql(Some(&hans), "{ viewer { notifications { nodes { kind } } } }", json!({})).await;
    assert!(
        hans_inbox["data"]["viewer"]["notifications"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["kind"] != "APPLICATION_REJECTED")
    );
    let left = app.gql(Some(&carl), QUEUE, json!({ "s": "SUBMITTED" })).await;
    assert_eq!(left["data"]["applications"]["totalCount"], 0);
}

const EVALUATION: &str = "{ viewer { actingAs { organization { name tierEvaluation { currentTier { name } highestMetTier { name } nextTier { name } missingForNext { kind target current met } tiers { tier { name } met requirements { kind target current met } } } } } } }";

fn evaluation(body: &Value) -> &Value {
    &body["data"]["viewer"]["actingAs"]["organization"]["tierEvaluation"]
}

#[tokio::test]
async fn tier_evaluation_reads_exams_stories_commitments_and_fees() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let bruno = world.token("bruno@");
    let body = app.gql(Some(&bruno), EVALUATION, json!({})).await;
    assert_no_errors(&body);
    let e = evaluation(&body);
    assert_eq!(e["currentTier"]["name"], "Silver");
    assert_eq!(e["highestMetTier"]["name"], "Silver");
    assert_eq!(e["nextTier"]["name"], "Gold");
    let missing: Vec<&str> =
        e["missingForNext"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    // This month's run billed Baltic's yearly fee: due, it counts as paid for 30 days.
    assert_eq!(missing, ["CERTIFICATIONS", "YEARLY_PURCHASE_VOLUME", "SUCCESS_STORIES"]);
    // Chris works for Alpine and Baltic: his exam counts for both.
    assert_eq!(e["missingForNext"][0]["current"], "2 exams by 2 people");
    assert_eq!(e["missingForNext"][1]["current"], "12000");
    assert_eq!(e["missingForNext"][2]["current"], "1");
    let gold = &e["tiers"][2];
    assert_eq!(gold["met"], false);
    assert_eq!(
        gold["requirements"][0],
        json!({ "kind": "BASIC_TRAINING", "target": "passed", "current": "yes", "met": true })
    );

    let alpine = app.gql(Some(&world.token("anna@")), EVALUATION, json!({})).await;
    assert_eq!(evaluation(&alpine)["highestMetTier"]["name"], "Gold");
    assert!(evaluation(&alpine)["nextTier"].is_null());
    assert_eq!(evaluation(&alpine)["missingForNext"], json!([]));

    // A second accepted story closes that gap; the story must be accepted to count.
    let submit = "mutation($i: SubmitSuccessStoryInput!) { submitSuccessStory(input: $i) { story { id } } }";
    let story = app
        .gql(Some(&bruno), submit, json!({ "i": { "customerName": "Fjord Freight", "title": "Ships call home", "summary": "Cloud PBX at sea.", "products": ["CPBX"], "publishable": false } }))
        .await;
    let story_id = story["data"]["submitSuccessStory"]["story"]["id"].clone();
    let body = app.gql(Some(&bruno), EVALUATION, json!({})).await;
    assert_eq!(evaluation(&body)["missingForNext"][2]["current"], "1", "submitted is not accepted");
    let review = app
        .gql(
            Some(&world.token("carl.channel@")),
            "mutation($id: ID!) { reviewSuccessStory(input: {id: $id, accept: true}) { story { status } } }",
            json!({ "id": story_id }),
        )
        .await;
    assert_no_errors(&review);
    let body = app.gql(Some(&bruno), EVALUATION, json!({})).await;
    let missing: Vec<&str> =
        evaluation(&body)["missingForNext"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert!(!missing.contains(&"SUCCESS_STORIES"), "{body}");
    // Thirteen months on, none of the stories counts any more, and Silver is lost.
    app.clock.advance(chrono::TimeDelta::days(400));
    let later = app.gql(Some(&bruno), EVALUATION, json!({})).await;
    assert_eq!(evaluation(&later)["highestMetTier"]["name"], "Registered");

    // Another partner sees no evaluation of Baltic.
    let baltic = organization_id(&app, &world.token("vera.admin@"), "Baltic Cloud SIA").await;
    let peek = app
        .gql(
            Some(&world.token("erika@")),
            "query($id: ID!) { node(id: $id) { ... on Organization { tierEvaluation { currentTier { name } } } } }",
            json!({ "id": baltic }),
        )
        .await;
    assert!(peek["data"]["node"].is_null() || peek["data"]["node"]["tierEvaluation"].is_null(), "{peek}");
}

#[tokio::test]
async fn staff_update_commitments_and_the_nightly_review_lists_mismatches() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (carl, fiona, vera) = (world.token("carl.channel@"), world.token("fiona.finance@"), world.token("vera.admin@"));
    let queue = "{ tierReviewQueue { totalCount nodes { partnership { tier { name } } direction fromTier { name } toTier { name } } } }";
    let body = app.gql(Some(&carl), queue, json!({})).await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["tierReviewQueue"]["totalCount"], 1, "{body}");
    assert_eq!(body["data"]["tierReviewQueue"]["nodes"][0]["fromTier"]["name"], "Registered");
    assert_eq!(body["data"]["tierReviewQueue"]["nodes"][0]["toTier"]["name"], "Silver");
    assert_eq!(body["data"]["tierReviewQueue"]["nodes"][0]["direction"], "UPGRADE");
    let partner_view = app.gql(Some(&world.token("cara@")), queue, json!({})).await;
    assert_eq!(partner_view["data"]["tierReviewQueue"]["totalCount"], 0, "staff only");

    // Finance records Baltic's fee and a bigger commitment; a wrong currency is refused.
    let all = programs(&app).await;
    let reseller = program_id(&all, "Northwind Reseller");
    let baltic = organization_id(&app, &vera, "Baltic Cloud SIA").await;
    let update = "mutation($i: UpdatePartnershipInput!) { updatePartnership(input: $i) { partnership { committedYearlyVolume { amount currency } yearlyFeePaidUntil } } }";
    let wrong = app
        .gql(Some(&fiona), update, json!({ "i": { "partnerId": baltic, "programId": reseller, "committedYearlyVolume": { "amount": "60000", "currency": "CHF" } } }))
        .await;
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "committedYearlyVolume.currency");
    let paid = app
        .gql(Some(&fiona), update, json!({ "i": { "partnerId": baltic, "programId": reseller, "committedYearlyVolume": { "amount": "60000.00", "currency": "EUR" }, "yearlyFeePaidUntil": "2099-01-01T00:00:00Z" } }))
        .await;
    assert_no_errors(&paid);
    assert_eq!(paid["data"]["updatePartnership"]["partnership"]["committedYearlyVolume"]["amount"], "60000");
    let e = app.gql(Some(&world.token("bruno@")), EVALUATION, json!({})).await;
    let missing: Vec<&str> =
        evaluation(&e)["missingForNext"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(missing, ["CERTIFICATIONS", "SUCCESS_STORIES"]);

    // Confirming Celtic's Silver settles its finding; the job finds nothing new.
    let celtic = organization_id(&app, &vera, "Celtic Comms Ltd").await;
    let silver = all[0]["tiers"]["nodes"][1]["id"].clone();
    let change = app
        .gql(
            Some(&carl),
            "mutation($i: ChangePartnerTierInput!) { changePartnerTier(input: $i) { partner { tier { name } } } }",
            json!({ "i": { "partnerId": celtic, "tierId": silver } }),
        )
        .await;
    assert_no_errors(&change);
    assert_eq!(app.gql(Some(&carl), queue, json!({})).await["data"]["tierReviewQueue"]["totalCount"], 0);
    // The directory's founding partners, whom staff placed at Silver and Gold above what they
    // meet, are in their grace periods (the demo's last review started them): none is proposed
    // for a downgrade yet.
    let run = partnerhub::jobs::tiers::run_review(&app.ctx).await.unwrap();
    let founding = run.in_grace;
    assert_eq!(founding, 11);
    assert_eq!(run.proposed, 0);
    assert_eq!(app.gql(Some(&carl), queue, json!({})).await["data"]["tierReviewQueue"]["totalCount"], 0);
    // 400 days on, every accepted story is older than 12 months: Alpine, Baltic and Celtic enter
    // their grace periods too, and the founding partners' have ended: each gets one downgrade
    // proposal, whatever the number of runs.
    app.clock.advance(chrono::TimeDelta::days(400));
    let run = partnerhub::jobs::tiers::run_review(&app.ctx).await.unwrap();
    assert!(run.in_grace >= founding + 3, "{run:?}");
    assert!(run.proposed >= founding, "{run:?}");
    let again = partnerhub::jobs::tiers::run_review(&app.ctx).await.unwrap();
    assert_eq!(again, run, "idempotent");
    let listed = app.gql(Some(&carl), queue, json!({})).await;
    assert_eq!(listed["data"]["tierReviewQueue"]["totalCount"], run.proposed as i64, "{listed}");
    assert!(
        listed["data"]["tierReviewQueue"]["nodes"].as_array().unwrap().iter().all(|n| n["direction"] == "DOWNGRADE")
    );
}

const IMPORT: &str = "mutation($csv: String!) { importExamResults(input: {csv: $csv}) { imported examResults { certificateNumber personName course { code } } } }";

async fn certification_count(app: &TestApp, token: &str) -> i64 {
    let body = app
        .gql(Some(token), "{ viewer { actingAs { organization { certifications { totalCount } } } } }", json!({}))
        .await;
    body["data"]["viewer"]["actingAs"]["organization"]["certifications"]["totalCount"].as_i64().unwrap()
}

#[tokio::test]
async fn exam_import_is_all_or_nothing_and_names_the_bad_row() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let carl = world.token("carl.channel@");
    let cara = world.token("cara@");
    let before = certification_count(&app, &cara).await;
    let bad_rows = [
        ("cara@celticcomms.example,NW-CERT,2026-13-01,X-1,\n", "passedAt"),
        ("nobody@celticcomms.example,NW-CERT,2026-01-01,X-1,\n", "email"),
        ("cara@celticcomms.example,NOPE,2026-01-01,X-1,\n", "courseCode"),
        ("cara@celticcomms.example,NW-CERT,2026-01-01,X-1,2025-01-01\n", "expiresAt"),
        ("cara@celticcomms.example,NW-CERT,2026-01-01,NW-CERT-0008,\n", "already recorded"),
        ("erika@edelweiss-dental.example,NW-CERT,2026-01-01,X-1,\n", "email"),
    ];
    for (bad, expect) in bad_rows {
        let csv = format!(
            "email,courseCode,passedAt,certificateNumber,expiresAt\ncara@celticcomms.example,NW-CERT,2026-02-01,\"C-1, renewed\",\ncara@celticcomms.example,BASIC,2026-02-02T10:00:00Z,C-2,\n{bad}"
        );
        let body = app.gql(Some(&carl), IMPORT, json!({ "csv": csv })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "csv");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with("row 4: "), "{message}");
        assert!(message.contains(expect), "{message}");
        assert_eq!(certification_count(&app, &cara).await, before, "nothing half-written");
    }
    let missing_column =
        app.gql(Some(&carl), IMPORT, json!({ "csv": "email,courseCode\ncara@celticcomms.example,BASIC\n" })).await;
    assert!(missing_column["errors"][0]["message"].as_str().unwrap().starts_with("row 1: "));

    let good = "email,courseCode,passedAt,certificateNumber\ncara@celticcomms.example,NW-CERT,2026-02-01,\"C-1, renewed\"\ncara@celticcomms.example,BASIC,2026-02-02T10:00:00Z,C-2\n";
    let body = app.gql(Some(&carl), IMPORT, json!({ "csv": good })).await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["importExamResults"]["imported"], 2);
    assert_eq!(body["data"]["importExamResults"]["examResults"][0]["certificateNumber"], "C-1, renewed");
    assert_eq!(body["data"]["importExamResults"]["examResults"][0]["personName"], "Cara Celtic");
    assert_eq!(certification_count(&app, &cara).await, before + 2);
}

const CLAIM: &str = "mutation($i: ClaimWelcomeGiftInput!) { claimWelcomeGift(input: $i) { welcomeGift { id product { sku } shippedAt } } }";

async fn gift_products(app: &TestApp) -> (String, String) {
    let body = app
        .gql(
            None,
            "{ programs(first: 1) { nodes { tiers { nodes { name benefits { welcomeGiftProducts { id sku } } } } } } }",
            json!({}),
        )
        .await;
    assert_no_errors(&body);
    let gold = &body["data"]["programs"]["nodes"][0]["tiers"]["nodes"][2]["benefits"]["welcomeGiftProducts"];
    let id_of = |sku: &str| {
        gold.as_array().unwrap().iter().find(|p| p["sku"] == sku).unwrap()["id"].as_str().unwrap().to_string()
    };
    (id_of("D785"), id_of("D385"))
}

#[tokio::test]
async fn the_welcome_gift_is_claimed_once_even_concurrently_and_staff_ship_it() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (d785, d385) = gift_products(&app).await;
    let address = "Bahnhofstrasse 1, 8001 Zürich";

    let sales = app
        .gql(Some(&world.token("sam@")), CLAIM, json!({ "i": { "productId": d785, "shippingAddress": address } }))
        .await;
    assert_eq!(error_code(&sales), "FORBIDDEN", "SALES cannot claim");
    let registered = app
        .gql(Some(&world.token("cara@")), CLAIM, json!({ "i": { "productId": d385, "shippingAddress": address } }))
        .await;
    assert_eq!(error_code(&registered), "CONFLICT", "Registered has no gift: {registered}");
    let bruno = world.token("bruno@");
    let not_listed =
        app.gql(Some(&bruno), CLAIM, json!({ "i": { "productId": d785, "shippingAddress": address } })).await;
    assert_eq!(not_listed["errors"][0]["extensions"]["field"], "productId", "Silver's list is the D385 only");
    let short = app.gql(Some(&bruno), CLAIM, json!({ "i": { "productId": d385, "shippingAddress": "Riga" } })).await;
    assert_eq!(short["errors"][0]["extensions"]["field"], "shippingAddress");

    // Two claims at once: one gift.
    let input = json!({ "i": { "productId": d385, "shippingAddress": "Brivibas iela 1, Riga LV-1010" } });
    let (a, b) = tokio::join!(app.gql(Some(&bruno), CLAIM, input.clone()), app.gql(Some(&bruno), CLAIM, input.clone()));
    let mut outcomes = [error_code(&a).to_string(), error_code(&b).to_string()];
    outcomes.sort();
    assert_eq!(outcomes, ["", "CONFLICT"], "{a} {b}");
    let third = app.gql(Some(&bruno), CLAIM, input).await;
    assert_eq!(error_code(&third), "CONFLICT");

    let anna = world.token("anna@");
    let claimed = app.gql(Some(&anna), CLAIM, json!({ "i": { "productId": d785, "shippingAddress": address } })).await;
    assert_no_errors(&claimed);
    let gift = claimed["data"]["claimWelcomeGift"]["welcomeGift"]["id"].as_str().unwrap().to_string();

    let carl = world.token("carl.channel@");
    let pending = app.gql(Some(&carl), "{ welcomeGifts(shipped: false) { totalCount } }", json!({})).await;
    assert_eq!(pending["data"]["welcomeGifts"]["totalCount"], 2);
    let own = app.gql(Some(&anna), "{ welcomeGifts { totalCount nodes { product { sku } } } }", json!({})).await;
    assert_eq!(own["data"]["welcomeGifts"]["totalCount"], 1, "a partner sees its own");
    let ship = "mutation($id: ID!) { markWelcomeGiftShipped(input: {id: $id}) { welcomeGift { shippedAt } } }";
    let shipped = app.gql(Some(&carl), ship, json!({ "id": gift })).await;
    assert_no_errors(&shipped);
    assert!(shipped["data"]["markWelcomeGiftShipped"]["welcomeGift"]["shippedAt"].is_string());
    assert_eq!(error_code(&app.gql(Some(&carl), ship, json!({ "id": gift })).await), "CONFLICT");
    let inbox = app.gql(Some(&anna), "{ viewer { notifications { nodes { kind } } } }", json!({})).await;
    assert!(
        inbox["data"]["viewer"]["notifications"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "WELCOME_GIFT_SHIPPED")
    );
    let partnership = app
        .gql(Some(&anna), "{ viewer { actingAs { organization { partnerships { nodes { tier { name } welcomeGift { product { sku } shippedAt } } } } } } }", json!({}))
        .await;
    assert_eq!(
        partnership["data"]["viewer"]["actingAs"]["organization"]["partnerships"]["nodes"][0]["welcomeGift"]["product"]
            ["sku"],
        "D785"
    );
}

#[tokio::test]
async fn staff_administer_programmes_terms_and_tiers() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let create = "mutation($i: CreateProgramInput!) { createProgram(input: $i) { program { id name kind currency exclusivityGroup currentTerms { version text } entryConditions { minimumYearlyAmount { amount currency } websiteRequired } } } }";
    let input = json!({ "name": "Northwind Swiss Resellers", "kind": "RESELLER", "currency": "chf", "terms": "Version one.", "minimumYearlyAmount": { "amount": "2000", "currency": "CHF" }, "websiteRequired": true });
    let carl = app.gql(Some(&world.token("carl.channel@")), create, json!({ "i": input.clone() })).await;
    assert_eq!(error_code(&carl), "FORBIDDEN");
    for (path, bad, field) in [
        ("kind", json!("AFFILIATE"), "kind"),
        ("currency", json!("euro"), "currency"),
        ("terms", json!(" "), "terms"),
        ("minimumYearlyAmount", json!({ "amount": "-1", "currency": "CHF" }), "minimumYearlyAmount"),
        ("minimumYearlyAmount", json!({ "amount": "2000", "currency": "EUR" }), "minimumYearlyAmount.currency"),
    ] {
        let body = app.gql(Some(&vera), create, json!({ "i": with(input.clone(), path, bad) })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{path}: {body}");
    }
    let created = app.gql(Some(&vera), create, json!({ "i": input })).await;
    assert_no_errors(&created);
    let program = &created["data"]["createProgram"]["program"];
    assert_eq!(program["currency"], "CHF");
    assert_eq!(program["entryConditions"]["minimumYearlyAmount"], json!({ "amount": "2000", "currency": "CHF" }));
    assert_eq!(program["currentTerms"]["version"], 1);
    let id = program["id"].as_str().unwrap().to_string();

    let publish = "mutation($i: PublishProgramTermsInput!) { publishProgramTerms(input: $i) { terms { version } program { currentTerms { version text } termsVersions { totalCount nodes { version } } } } }";
    let empty = app.gql(Some(&vera), publish, json!({ "i": { "programId": id, "text": "  " } })).await;
    assert_eq!(empty["errors"][0]["extensions"]["field"], "text", "named as the input names it");
    let staff = app
        .gql(Some(&world.token("carl.channel@")), publish, json!({ "i": { "programId": id, "text": "Mine." } }))
        .await;
    assert_eq!(error_code(&staff), "FORBIDDEN");
    let published = app.gql(Some(&vera), publish, json!({ "i": { "programId": id, "text": "Version two." } })).await;
    assert_no_errors(&published);
    let p = &published["data"]["publishProgramTerms"]["program"];
    assert_eq!(p["currentTerms"], json!({ "version": 2, "text": "Version two." }));
    assert_eq!(p["termsVersions"]["totalCount"], 2, "older versions are kept");

    let tier = "mutation($i: CreateTierInput!) { createTier(input: $i) { tier { id name rank requirements { basicTraining certifications { exams distinctPeople withinMonthsOfJoining } yearlyPurchaseVolume { amount currency } successStories yearlyFee } benefits { discountPercent rebateEligible directoryListing welcomeGiftProducts { sku } } } } }";
    let (d785, _) = gift_products(&app).await;
    let gold = json!({ "programId": id, "name": "Gold", "rank": 3,
        "requirements": { "basicTraining": true, "certifications": { "exams": 3, "distinctPeople": 2, "withinMonthsOfJoining": 6 }, "yearlyPurchaseVolume": { "amount": "50000", "currency": "CHF" }, "successStories": 2 },
        "benefits": { "discountPercent": "25.5", "rebateEligible": true, "welcomeGiftProductIds": [d785] } });
    let made = app.gql(Some(&vera), tier, json!({ "i": gold.clone() })).await;
    assert_no_errors(&made);
    let t = &made["data"]["createTier"]["tier"];
    assert_eq!(
        t["requirements"]["certifications"],
        json!({ "exams": 3, "distinctPeople": 2, "withinMonthsOfJoining": 6 })
    );
    assert_eq!(t["requirements"]["yearlyPurchaseVolume"], json!({ "amount": "50000", "currency": "CHF" }));
    assert_eq!(t["benefits"]["discountPercent"], "25.5");
    assert_eq!(t["benefits"]["welcomeGiftProducts"], json!([{ "sku": "D785" }]));
    let same_rank = app.gql(Some(&vera), tier, json!({ "i": with(gold.clone(), "name", json!("Platinum")) })).await;
    assert_eq!(error_code(&same_rank), "CONFLICT");
    let greedy = with(with(gold.clone(), "rank", json!(4)), "benefits.discountPercent", json!("40"));
    assert_eq!(
        app.gql(Some(&vera), tier, json!({ "i": greedy })).await["errors"][0]["extensions"]["field"],
        "benefits"
    );
    let francs = with(with(gold.clone(), "rank", json!(6)), "requirements.yearlyPurchaseVolume.currency", json!("EUR"));
    assert_eq!(
        app.gql(Some(&vera), tier, json!({ "i": francs })).await["errors"][0]["extensions"]["field"],
        "requirements.yearlyPurchaseVolume.currency",
        "the volume is in the programme's currency"
    );
    let odd = with(with(gold, "rank", json!(5)), "requirements.certifications.distinctPeople", json!(4));
    assert_eq!(
        app.gql(Some(&vera), tier, json!({ "i": odd })).await["errors"][0]["extensions"]["field"],
        "requirements"
    );

    let update = "mutation($i: UpdateTierInput!) { updateTier(input: $i) { tier { name requirements { successStories basicTraining } benefits { discountPercent } } } }";
    let updated = app
        .gql(
            Some(&vera),
            update,
            json!({ "i": { "id": t["id"], "name": "Gold+", "requirements": { "successStories": 3 } } }),
        )
        .await;
    assert_no_errors(&updated);
    assert_eq!(
        updated["data"]["updateTier"]["tier"]["requirements"],
        json!({ "successStories": 3, "basicTraining": false })
    );
    assert_eq!(updated["data"]["updateTier"]["tier"]["benefits"]["discountPercent"], "25.5", "benefits untouched");
}

#[tokio::test]
async fn the_application_queue_costs_the_same_for_5_and_100() {
    use partnerhub::service::applications;
    let app = TestApp::spawn_counting(|_| {}).await;
    let world = app.demo().await;
    let carl = world.token("carl.channel@");
    let reseller = program_id(&programs(&app).await, "Northwind Reseller");
    let program = partnerhub::ids::decode_as(partnerhub::ids::NodeType::Program, &reseller).unwrap();
    // 100 applicants, each through the service as a signed-in person.
    for i in 0..100 {
        let now = app.ctx.now();
        let person = partnerhub::service::people::insert_user(
            &app.ctx.db,
            partnerhub::service::people::NewUser {
                kind: partnerhub::domain::UserKind::Person,
                display_name: &format!("Applicant {i}"),
                email: Some(&format!("applicant{i}@example.test")),
                email_verified: true,
            },
            now,
        )
        .await
        .unwrap();
        let (_, token) =
            partnerhub::service::tokens::issue(&app.ctx.db, person.id, "t".into(), None, now).await.unwrap();
        let principal =
            partnerhub::service::identity::authenticate_token(&app.ctx.db, &token, None, now).await.unwrap();
        let new = applications::NewApplication {
            program_id: program,
            company: applications::Company {
                name: format!("Company {i}"),
                registration_number: Some(format!("REG-{i:04}")),
                vat_number: None,
                website: Some(format!("https://company{i}.example")),
                country: "FR".into(),
                address: "1 rue de la Paix, Paris".into(),
            },
            primary_expertise: "Phones".into(),
            experience: "Some.".into(),
            plan: "Sell.".into(),
            accepted_terms_version: 2,
        };
        applications::apply(&app.ctx, Some(&principal), new).await.unwrap();
    }
    let page = "query($n: Int) { applications(first: $n) { totalCount nodes { companyName dueAt overdue applicantName program { name currentTerms { version } } organization { name } } } }";
    app.gql(Some(&carl), page, json!({ "n": 1 })).await; // records the token's last use
    let (five, body) = app.read_statements(Some(&carl), page, json!({ "n": 5 })).await;
    assert_no_errors(&body);
    let (hundred, body) = app.read_statements(Some(&carl), page, json!({ "n": 100 })).await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["applications"]["nodes"].as_array().unwrap().len(), 100);
    assert_eq!(body["data"]["applications"]["totalCount"], 101);
    assert_eq!(five, hundred, "statements for 5 and for 100 applications");
    assert!(hundred <= 10, "{hundred} statements");
}

/// Operations of the programme table, by schema field name (see authorization.rs).
pub const OPERATIONS: &[&str] = &[
    "createProgram",
    "publishProgramTerms",
    "createTier",
    "updateTier",
    "applyForPartnership",
    "approveApplication",
    "rejectApplication",
    "updatePartnership",
    "importExamResults",
    "claimWelcomeGift",
    "markWelcomeGiftShipped",
];

/// Actor × operation. Targets: the demo's reseller programme and its Gold tier, a fresh
/// application by Hans per row, Baltic's partnership, a one-row exam CSV, Gold's D785 gift,
/// and a gift Anna claimed for the row. Anna applying as Alpine's ADMIN meets the exclusivity
/// rule (BAD_USER_INPUT) only after the policy let her through; Sam (SALES) does not get that far.
#[rustfmt::skip]
const TABLE: &[(&str, [&str; 11])] = &[
    ("vera.admin@",    ["OK", "OK", "OK", "OK", "FORBIDDEN", "OK", "OK", "OK", "OK", "FORBIDDEN", "OK"]),
    ("carl.channel@",  ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "OK", "OK", "OK", "FORBIDDEN", "OK"]),
    ("fiona.finance@", ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    ("anna@",          ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "CONFLICT", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "FORBIDDEN"]),
    ("sam@",           ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    ("bruno@",         ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "CONFLICT", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "BAD_USER_INPUT", "FORBIDDEN"]),
    ("erika@",         ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    ("paula@",         ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "CONFLICT", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    ("anonymous",      ["UNAUTHENTICATED"; 11]),
];

#[tokio::test]
async fn programme_actors_by_operations() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let all = programs(&app).await;
    let reseller = program_id(&all, "Northwind Reseller");
    let gold = all[0]["tiers"]["nodes"][2]["id"].as_str().unwrap().to_string();
    let baltic = organization_id(&app, &vera, "Baltic Cloud SIA").await;
    let (d785, _) = gift_products(&app).await;
    let referral = program_id(&all, "Northwind Referral");
    let hans = world.token("hans@");
    let hans_global =
        app.gql(Some(&hans), "{ viewer { user { id } } }", json!({})).await["data"]["viewer"]["user"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let hans_id = partnerhub::ids::decode_as(partnerhub::ids::NodeType::User, &hans_global).unwrap();
    let mut failures = Vec::new();
    for (row, (actor, expected)) in TABLE.iter().enumerate() {
        let token = (*actor != "anonymous").then(|| world.token(actor));
        // Fresh targets per row: Hans's applications to decide, no gift claimed yet.
        {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            entity::application::Entity::delete_many()
                .filter(entity::application::Column::ApplicantUserId.eq(hans_id))
                .filter(entity::application::Column::Status.eq("SUBMITTED"))
                .exec(&app.ctx.db)
                .await
                .unwrap();
            entity::welcome_gift::Entity::delete_many().exec(&app.ctx.db).await.unwrap();
        }
        let current = programs(&app).await[0]["currentTerms"]["version"].clone();
        let mut mine = valid_application(&reseller);
        mine["acceptedTermsVersion"] = current.clone();
        mine["company"]["registrationNumber"] = json!(format!("HRB {}", 1000 + row));
        mine["company"]["vatNumber"] = json!(format!("DE{}", 100_000_000 + row));
        let applied = app.gql(Some(&hans), APPLY, json!({ "i": mine })).await;
        assert_no_errors(&applied);
        let application = applied["data"]["applyForPartnership"]["application"]["id"].clone();
        let mut to_reject = valid_application(&referral);
        to_reject["acceptedTermsVersion"] = json!(1);
        to_reject["company"]["registrationNumber"] = json!(format!("HRB {}", 2000 + row));
        to_reject["company"]["vatNumber"] = json!(format!("DE{}", 200_000_000 + row));
        let second = app.gql(Some(&hans), APPLY, json!({ "i": to_reject })).await;
        assert_no_errors(&second);
        let rejectable = second["data"]["applyForPartnership"]["application"]["id"].clone();
        for (i, operation) in OPERATIONS.iter().enumerate() {
            let (query, variables) = match *operation {
                "createProgram" => (
                    "mutation($i: CreateProgramInput!) { createProgram(input: $i) { program { id } } }",
                    json!({ "i": { "name": format!("Programme {row}"), "kind": "REFERRAL", "currency": "EUR", "terms": "Terms." } }),
                ),
                "publishProgramTerms" => (
                    "mutation($i: PublishProgramTermsInput!) { publishProgramTerms(input: $i) { terms { version } } }",
                    json!({ "i": { "programId": reseller, "text": format!("Terms, revision {row}.") } }),
                ),
                "createTier" => (
                    "mutation($i: CreateTierInput!) { createTier(input: $i) { tier { id } } }",
                    json!({ "i": { "programId": reseller, "name": format!("Tier {row}"), "rank": 10 + row } }),
                ),
                "updateTier" => (
                    "mutation($i: UpdateTierInput!) { updateTier(input: $i) { tier { id } } }",
                    json!({ "i": { "id": gold, "name": "Gold" } }),
                ),
                "applyForPartnership" => {
                    // Whatever terms version is current after publishProgramTerms ran.
                    let current = programs(&app).await[0]["currentTerms"]["version"].clone();
                    let mut input = valid_application(&reseller);
                    input["acceptedTermsVersion"] = current;
                    input["company"]["registrationNumber"] = json!(format!("HRB {}", 3000 + row));
                    input["company"]["vatNumber"] = json!(format!("DE{}", 300_000_000 + row));
                    (APPLY, json!({ "i": input }))
                }
                "approveApplication" => (
                    "mutation($id: ID!) { approveApplication(input: {id: $id}) { application { status } } }",
                    json!({ "id": application }),
                ),
                "rejectApplication" => (
                    "mutation($id: ID!) { rejectApplication(input: {id: $id, reason: \"Not now.\"}) { application { status } } }",
                    json!({ "id": rejectable }),
                ),
                "updatePartnership" => (
                    "mutation($i: UpdatePartnershipInput!) { updatePartnership(input: $i) { partnership { joinedAt } } }",
                    json!({ "i": { "partnerId": baltic, "programId": reseller, "committedYearlyVolume": { "amount": "15000", "currency": "EUR" } } }),
                ),
                "importExamResults" => (
                    IMPORT,
                    json!({ "csv": format!("email,courseCode,passedAt,certificateNumber\nbruno@balticcloud.example,BASIC,2026-03-01,ROW-{row}\n") }),
                ),
                "claimWelcomeGift" => {
                    (CLAIM, json!({ "i": { "productId": d785, "shippingAddress": "Somewhere street 1, Town" } }))
                }
                "markWelcomeGiftShipped" => {
                    // Anna's gift, claimed now unless this row's actor was Anna.
                    let anna = world.token("anna@");
                    let claimed = app
                        .gql(
                            Some(&anna),
                            CLAIM,
                            json!({ "i": { "productId": d785, "shippingAddress": "Bahnhofstrasse 1, Zürich" } }),
                        )
                        .await;
                    let gift = match claimed["data"]["claimWelcomeGift"]["welcomeGift"]["id"].clone() {
                        Value::Null => app.gql(Some(&anna), "{ welcomeGifts { nodes { id } } }", json!({})).await["data"]
                            ["welcomeGifts"]["nodes"][0]["id"]
                            .clone(),
                        id => id,
                    };
                    (
                        "mutation($id: ID!) { markWelcomeGiftShipped(input: {id: $id}) { welcomeGift { shippedAt } } }",
                        json!({ "id": gift }),
                    )
                }
                other => panic!("no request for {other}"),
            };
            let body = app.gql(token.as_deref(), query, variables).await;
            let got = match body.get("errors") {
                None => "OK".to_string(),
                Some(_) => error_code(&body).to_string(),
            };
            if got != expected[i] {
                failures.push(format!("{actor} {operation}: expected {}, got {got}: {body}", expected[i]));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A database from before partnerships existed keeps each partner's programme and tier, and
/// its notifications.
#[tokio::test]
async fn the_partnerships_migration_keeps_placed_partners() {
    use migration::MigratorTrait;
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(fresh_database(&dir).await).await.unwrap();
    migration::Migrator::up(&db, Some(8)).await.unwrap();
    let backend = db.get_database_backend();
    let sql = |text: &str| match backend {
        DbBackend::Postgres => {
            let mut n = 0;
            text.chars()
                .map(|c| {
                    if c == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        c.to_string()
                    }
                })
                .collect::<String>()
        }
        _ => text.to_string(),
    };
    let (program, tier, org) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let now = chrono::Utc::now();
    for (text, values) in [
        (
            "INSERT INTO programs (id, name, kind, currency, created_at) VALUES (?, ?, ?, ?, ?)",
            vec![program.into(), "Old programme".into(), "RESELLER".into(), "EUR".into(), now.into()],
        ),
        (
            "INSERT INTO tiers (id, program_id, name, rank, created_at) VALUES (?, ?, ?, ?, ?)",
            vec![tier.into(), program.into(), "Gold".into(), 3.into(), now.into()],
        ),
        (
            "INSERT INTO organizations (id, kind, name, program_id, tier_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                org.into(),
                "PARTNER".into(),
                "Old partner".into(),
                program.into(),
                tier.into(),
                now.into(),
                now.into(),
            ],
        ),
        (
            "INSERT INTO notifications (id, kind, organization_id, user_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                uuid::Uuid::now_v7().into(),
                "TIER_CHANGED".into(),
                org.into(),
                Option::<uuid::Uuid>::None.into(),
                serde_json::json!({ "to": "Gold" }).into(),
                now.into(),
            ],
        ),
    ] {
        db.execute_raw(Statement::from_sql_and_values(backend, sql(text), values)).await.unwrap();
    }
    migration::Migrator::up(&db, None).await.unwrap();
    use sea_orm::EntityTrait;
    let placed = entity::partnership::Entity::find().all(&db).await.unwrap();
    assert_eq!(placed.len(), 1);
    assert_eq!((placed[0].organization_id, placed[0].program_id, placed[0].tier_id), (org, program, tier));
    // Notifications survive the rebuild that lets a person without an organisation get some.
    let kept = entity::notification::Entity::find().all(&db).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].organization_id, kept[0].payload["to"].as_str()), (Some(org), Some("Gold")));
    let migrated = entity::program::Entity::find_by_id(program).one(&db).await.unwrap().unwrap();
    assert_eq!(migrated.exclusivity_group, None);
    assert!(!migrated.requires_website);
}
