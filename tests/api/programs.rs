//! Programmes and tiers: public to read; staff move partners between tiers, with history.

use serde_json::{Value, json};

use crate::helpers::*;

const CHANGE: &str = "mutation($i: ChangePartnerTierInput!) { changePartnerTier(input: $i) { partner { tier { name } } change { reason changedByName from { name } to { name } } } }";

async fn tiers(app: &TestApp) -> Vec<(String, String)> {
    let body = app.gql(None, "{ programs { nodes { name tiers { nodes { id name rank } } } } }", json!({})).await;
    assert_no_errors(&body);
    body["data"]["programs"]["nodes"][0]["tiers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t["id"].as_str().unwrap().to_string()))
        .collect()
}

fn tier<'a>(all: &'a [(String, String)], name: &str) -> &'a str {
    &all.iter().find(|(n, _)| n == name).unwrap().1
}

#[tokio::test]
async fn staff_move_partners_between_tiers_with_history_and_notification() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let all = tiers(&app).await;
    assert_eq!(
        all.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["Registered", "Silver", "Gold"],
        "public, in order"
    );
    let celtic = organization_id(&app, &vera, "Celtic Comms Ltd").await;
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;

    let up =
        app.gql(Some(&vera), CHANGE, json!({ "i": { "partnerId": celtic, "tierId": tier(&all, "Silver") } })).await;
    assert_no_errors(&up);
    assert_eq!(up["data"]["changePartnerTier"]["partner"]["tier"]["name"], "Silver");
    assert_eq!(up["data"]["changePartnerTier"]["change"]["from"]["name"], "Registered");

    let same =
        app.gql(Some(&vera), CHANGE, json!({ "i": { "partnerId": celtic, "tierId": tier(&all, "Silver") } })).await;
    assert_eq!(error_code(&same), "CONFLICT");
    let down =
        app.gql(Some(&vera), CHANGE, json!({ "i": { "partnerId": alpine, "tierId": tier(&all, "Silver") } })).await;
    assert_eq!(down["errors"][0]["extensions"]["field"], "reason");
    let down = app
        .gql(Some(&world.token("carl.channel@")), CHANGE, json!({ "i": { "partnerId": alpine, "tierId": tier(&all, "Silver"), "reason": "no certified engineer this year" } }))
        .await;
    assert_no_errors(&down);
    assert_eq!(down["data"]["changePartnerTier"]["change"]["changedByName"], "Carl Channel");

    let history = "query($id: ID!) { node(id: $id) { ... on Organization { tierHistory { nodes { reason from { name } to { name } } } } } }";
    let own = app.gql(Some(&world.token("cara@")), history, json!({ "id": celtic })).await;
    let changes = own["data"]["node"]["tierHistory"]["nodes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "the demo's placement, then this change: {own}");
    assert_eq!(changes[0]["to"]["name"], "Registered");
    assert!(changes[0]["from"].is_null());
    assert_eq!(changes[1]["to"]["name"], "Silver");
    let inbox = app
        .gql(Some(&world.token("anna@")), "{ viewer { notifications { nodes { kind payload } } } }", json!({}))
        .await;
    let tier_changed: Vec<&Value> = inbox["data"]["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "TIER_CHANGED")
        .collect();
    assert_eq!(tier_changed.len(), 2, "the demo's placement, then the downgrade");
    assert_eq!(tier_changed[1]["payload"]["reason"], "no certified engineer this year");
    assert_eq!(tier_changed[1]["payload"]["from"], "Gold");
    // Another partner sees none of Celtic's history.
    let other = app
        .gql(Some(&world.token("bruno@")), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": celtic }))
        .await;
    assert!(other["data"]["node"].is_null());
}

const SUBMIT: &str = "mutation($i: SubmitSuccessStoryInput!) { submitSuccessStory(input: $i) { story { id status } } }";
const REVIEW: &str =
    "mutation($i: ReviewSuccessStoryInput!) { reviewSuccessStory(input: $i) { story { status reviewReason } } }";

fn story(title: &str) -> Value {
    json!({ "customerName": "Edelweiss Dental", "title": title, "summary": "Forty phones in six practices.", "products": ["D785", "Cloud PBX"], "publishable": true })
}

#[tokio::test]
async fn partners_submit_success_stories_and_staff_review_them() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let carl = world.token("carl.channel@");

    for (field, bad) in [
        (
            "title",
            json!({ "customerName": "X", "title": " ", "summary": "s", "products": ["D785"], "publishable": false }),
        ),
        (
            "customerName",
            json!({ "customerName": "", "title": "t", "summary": "s", "products": ["D785"], "publishable": false }),
        ),
        (
            "summary",
            json!({ "customerName": "X", "title": "t", "summary": "", "products": ["D785"], "publishable": false }),
        ),
        (
            "products",
            json!({ "customerName": "X", "title": "t", "summary": "s", "products": [], "publishable": false }),
        ),
    ] {
        let body = app.gql(Some(&anna), SUBMIT, json!({ "i": bad })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }

    let first = app.gql(Some(&anna), SUBMIT, json!({ "i": story("Phones in every practice") })).await;
    let second = app.gql(Some(&anna), SUBMIT, json!({ "i": story("A second clinic") })).await;
    let first_id = first["data"]["submitSuccessStory"]["story"]["id"].clone();
    let second_id = second["data"]["submitSuccessStory"]["story"]["id"].clone();

    let queue = app
        .gql(
            Some(&carl),
            "{ successStories(status: SUBMITTED) { totalCount nodes { title partner { name } } } }",
            json!({}),
        )
        .await;
    // The demo's story from Baltic waits too; oldest first.
    assert_eq!(queue["data"]["successStories"]["totalCount"], 3);
    let titles: Vec<&str> = queue["data"]["successStories"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles[1..], ["Phones in every practice", "A second clinic"], "oldest first");
    let others = app
        .gql(Some(&world.token("bruno@")), "{ successStories { totalCount nodes { partner { name } } } }", json!({}))
        .await;
    let partners = others["data"]["successStories"]["nodes"].as_array().unwrap();
    assert!(
        !partners.is_empty() && partners.iter().all(|n| n["partner"]["name"] == "Baltic Cloud SIA"),
        "a partner sees only its own: {others}"
    );

    let accepted = app.gql(Some(&carl), REVIEW, json!({ "i": { "id": first_id, "accept": true } })).await;
    assert_eq!(accepted["data"]["reviewSuccessStory"]["story"]["status"], "ACCEPTED");
    let twice = app
        .gql(Some(&carl), REVIEW, json!({ "i": { "id": first_id, "accept": false, "reason": "changed my mind" } }))
        .await;
    assert_eq!(error_code(&twice), "CONFLICT");
    let no_reason = app.gql(Some(&carl), REVIEW, json!({ "i": { "id": second_id, "accept": false } })).await;
    assert_eq!(no_reason["errors"][0]["extensions"]["field"], "reason");
    let rejected = app
        .gql(
            Some(&carl),
            REVIEW,
            json!({ "i": { "id": second_id, "accept": false, "reason": "the customer did not agree" } }),
        )
        .await;
    assert_eq!(rejected["data"]["reviewSuccessStory"]["story"]["reviewReason"], "the customer did not agree");

    let inbox = app.gql(Some(&anna), "{ viewer { notifications { nodes { kind payload } } } }", json!({})).await;
    let reviewed: Vec<_> = inbox["data"]["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "SUCCESS_STORY_REVIEWED")
        .map(|n| n["payload"]["status"].as_str().unwrap().to_string())
        .collect();
    // The demo accepted two of Alpine's stories before.
    assert_eq!(reviewed, ["ACCEPTED", "ACCEPTED", "ACCEPTED", "REJECTED"]);
}

const COURSE: &str =
    "mutation($i: CreateCourseInput!) { createCourse(input: $i) { course { code kind fee { amount currency } } } }";
const EXAM: &str = "mutation($i: RecordExamResultInput!) { recordExamResult(input: $i) { examResult { personName certificateNumber course { code } } } }";

#[tokio::test]
async fn staff_keep_courses_and_record_exams_of_partner_people() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let created = app
        .gql(Some(&vera), COURSE, json!({ "i": { "code": "cert-d7", "title": "D7xx Certified Engineer", "kind": "CERTIFYING", "fee": { "amount": "299.00", "currency": "eur" } } }))
        .await;
    assert_no_errors(&created);
    assert_eq!(created["data"]["createCourse"]["course"]["fee"], json!({ "amount": "299", "currency": "EUR" }));
    assert_eq!(created["data"]["createCourse"]["course"]["code"], "CERT-D7");
    for (field, bad) in [
        ("kind", json!({ "code": "X1", "title": "t", "kind": "VIDEO", "fee": { "amount": "1", "currency": "EUR" } })),
        ("fee", json!({ "code": "X2", "title": "t", "kind": "ONLINE", "fee": { "amount": "-1", "currency": "EUR" } })),
        ("fee", json!({ "code": "X3", "title": "t", "kind": "ONLINE", "fee": { "amount": "1", "currency": "euro" } })),
    ] {
        assert_eq!(app.gql(Some(&vera), COURSE, json!({ "i": bad })).await["errors"][0]["extensions"]["field"], field);
    }
    let again = app.gql(Some(&vera), COURSE, json!({ "i": { "code": "CERT-D7", "title": "again", "kind": "ONLINE", "fee": { "amount": "0", "currency": "EUR" } } })).await;
    assert_eq!(error_code(&again), "CONFLICT");

    let user_id = |token: String| {
        let app = &app;
        async move {
            let me = app.gql(Some(&token), "{ viewer { user { id } } }", json!({})).await;
            me["data"]["viewer"]["user"]["id"].as_str().unwrap().to_string()
        }
    };
    let sam = user_id(world.token("sam@")).await;
    let erika = user_id(world.token("erika@")).await;
    let exam = |user: &str, certificate: &str, passed: &str, expires: Option<&str>, course: &str| json!({ "i": { "userId": user, "courseCode": course, "passedAt": passed, "certificateNumber": certificate, "expiresAt": expires } });
    let recorded = app
        .gql(
            Some(&world.token("carl.channel@")),
            EXAM,
            exam(&sam, "C-1", "2026-06-01T00:00:00Z", Some("2028-06-01T00:00:00Z"), "cert-d7"),
        )
        .await;
    assert_no_errors(&recorded);
    assert_eq!(recorded["data"]["recordExamResult"]["examResult"]["personName"], "Sam Sales");
    let duplicate = app.gql(Some(&vera), EXAM, exam(&sam, "C-1", "2026-06-01T00:00:00Z", None, "CERT-D7")).await;
    assert_eq!(error_code(&duplicate), "CONFLICT");
    for (field, body) in [
        ("passedAt", exam(&sam, "C-2", "2099-01-01T00:00:00Z", None, "CERT-D7")),
        ("expiresAt", exam(&sam, "C-3", "2026-06-01T00:00:00Z", Some("2026-01-01T00:00:00Z"), "CERT-D7")),
        ("courseCode", exam(&sam, "C-4", "2026-06-01T00:00:00Z", None, "NOPE")),
    ] {
        assert_eq!(app.gql(Some(&vera), EXAM, body).await["errors"][0]["extensions"]["field"], field);
    }
    // Certificates belong to partners' people.
    let customer_person =
        app.gql(Some(&vera), EXAM, exam(&erika, "C-5", "2026-06-01T00:00:00Z", None, "CERT-D7")).await;
    assert_eq!(error_code(&customer_person), "NOT_FOUND");

    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let certs = "query($id: ID!) { node(id: $id) { ... on Organization { certifications { totalCount nodes { certificateNumber } } } } }";
    let own = app.gql(Some(&world.token("anna@")), certs, json!({ "id": alpine })).await;
    // The demo's four exams of Alpine's people, and this one.
    assert_eq!(own["data"]["node"]["certifications"]["totalCount"], 5);
    // Edelweiss sees Alpine (a grant) but not its people's certificates.
    let customer = app.gql(Some(&world.token("erika@")), certs, json!({ "id": alpine })).await;
    assert_eq!(customer["data"]["node"]["certifications"]["totalCount"], 0);
    let public = app.gql(None, "{ courses { nodes { code } } }", json!({})).await;
    let codes: Vec<&str> =
        public["data"]["courses"]["nodes"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["BASIC", "NW-CERT", "CERT-D7"]);
}
