//! Programme gaps (issue 20): the versioned onboarding questionnaire, the grace period before a
//! downgrade with tier proposals, and the yearly programme fee billed and paid.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

pub const OPERATIONS: [&str; 5] = [
    "publishQuestionnaire",
    "answerQuestionnaire",
    "reviewQuestionnaireAnswers",
    "decideTierProposal",
    "updateProgramRules",
];

const PLACE: &str = "query($id: ID!) { node(id: $id) { ... on Organization { name partnerships { nodes {
    id joinedAt tier { name } yearlyFeePaidUntil yearlyFeeDueAt
    tierEvaluation { graceStartedAt graceEndsAt graceMissing tiers { tier { name } requirements { kind current met } } }
    questionnaireAnswers { id editable reviewedAt questionnaire { version } answers { key text choices number yes } }
} } } } }";
const PUBLISH: &str = "mutation($i: PublishQuestionnaireInput!) { publishQuestionnaire(input: $i) {
    questionnaire { id version questions { key kind required options help helpTranslations { language text } } } } }";
const ANSWER: &str = "mutation($i: AnswerQuestionnaireInput!) { answerQuestionnaire(input: $i) {
    answers { id editable questionnaire { version } answers { key text choices number yes } } } }";
const REVIEW: &str =
    "mutation($id: ID!) { reviewQuestionnaireAnswers(input: {id: $id}) { answers { editable reviewedAt } } }";
const QUEUE: &str = "{ tierReviewQueue { totalCount nodes { id direction status partner { name } fromTier { name }
    toTier { name } missing questionnaireAnswers { answers { key } } } } }";
const DECIDE: &str = "mutation($i: DecideTierProposalInput!) { decideTierProposal(input: $i) {
    proposal { status reason decidedByName direction toTier { name } } } }";

async fn reseller(app: &TestApp) -> String {
    let body = app.gql(None, "{ programs { nodes { id name } } }", json!({})).await;
    body["data"]["programs"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str().unwrap().starts_with("Northwind Reseller"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `answerQuestionnaire` on the programme's current questionnaire, as `token`.
async fn answer(app: &TestApp, token: &str, program: &str, answers: Value) -> Value {
    app.gql(Some(token), ANSWER, json!({ "i": { "programId": program, "answers": answers } })).await
}

/// The organisation's (first) partnership, as `token` reads it.
async fn place(app: &TestApp, token: &str, org: &str) -> Value {
    let body = app.gql(Some(token), PLACE, json!({ "id": org })).await;
    assert_no_errors(&body);
    body["data"]["node"]["partnerships"]["nodes"][0].clone()
}

fn requirement<'a>(place: &'a Value, tier: &str, kind: &str) -> Option<&'a Value> {
    place["tierEvaluation"]["tiers"].as_array().unwrap().iter().find(|t| t["tier"]["name"] == tier)?["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
}

async fn queue_of(app: &TestApp, token: &str, partner: &str) -> Vec<Value> {
    let body = app.gql(Some(token), QUEUE, json!({})).await;
    assert_no_errors(&body);
    body["data"]["tierReviewQueue"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["partner"]["name"] == partner)
        .cloned()
        .collect()
}

fn v2_questions() -> Value {
    json!([
        { "key": "segment", "kind": "SINGLE_CHOICE", "label": "Main segment?", "required": true,
          "options": ["SMB", "Enterprise"], "help": [{ "language": "en", "text": "Most revenue." }, { "language": "de", "text": "Größter Umsatz." }] },
        { "key": "staff", "kind": "NUMBER", "label": "How many staff?", "required": true },
        { "key": "demo_room", "kind": "YES_NO", "label": "A demo room?" }
    ])
}

#[tokio::test]
async fn the_questionnaire_is_versioned_answered_by_the_admin_and_locked_by_review() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (vera, carl, cara) = (world.token("vera.admin@"), world.token("carl.channel@"), world.token("cara@"));
    let program = reseller(&app).await;
    let celtic = organization_id(&app, &vera, "Celtic Comms Ltd").await;

    // The demo's version 1, answered by Cara and still editable.
    let before = place(&app, &cara, &celtic).await;
    let answers = &before["questionnaireAnswers"];
    assert_eq!(answers["questionnaire"]["version"], 1, "{before}");
    assert_eq!(answers["editable"], true);
    assert_eq!(answers["answers"][0]["choices"], json!(["Mid-market"]));
    // Staff see the answers in the tier review queue, on Celtic's upgrade proposal.
    let proposals = queue_of(&app, &carl, "Celtic Comms Ltd").await;
    assert_eq!(proposals.len(), 1);
    assert_eq!(proposals[0]["direction"], "UPGRADE");
    assert_eq!(proposals[0]["questionnaireAnswers"]["answers"].as_array().unwrap().len(), 4);

    // Version 2 leaves the stored answers as they were.
    let bad = app
        .gql(
            Some(&vera),
            PUBLISH,
            json!({ "i": { "programId": program, "questions": [
        { "key": "a", "kind": "SINGLE_CHOICE", "label": "Only one option?", "options": ["x"] } ] } }),
        )
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "questions[0].options");
    let published =
        app.gql(Some(&vera), PUBLISH, json!({ "i": { "programId": program, "questions": v2_questions() } })).await;
    assert_no_errors(&published);
    assert_eq!(published["data"]["publishQuestionnaire"]["questionnaire"]["version"], 2);
    let after = place(&app, &cara, &celtic).await;
    assert_eq!(after["questionnaireAnswers"], before["questionnaireAnswers"], "a new version never alters answers");

    // Help text in the reader's language.
    let current =
        "query($id: ID!) { node(id: $id) { ... on Program { questionnaire { version questions { key help } } } } }";
    let english = app.gql(Some(&cara), current, json!({ "id": program })).await;
    assert_eq!(english["data"]["node"]["questionnaire"]["questions"][0]["help"], "Most revenue.");
    let german =
        app.gql(Some(&cara), "mutation { setPreferredLanguage(input: {language: DE}) { language } }", json!({})).await;
    assert_no_errors(&german);
    let german = app.gql(Some(&cara), current, json!({ "id": program })).await;
    assert_eq!(german["data"]["node"]["questionnaire"]["questions"][0]["help"], "Größter Umsatz.");

    // Bad answers name their field and change nothing; a good edit answers version 2.
    let missing = answer(
        &app,
        &cara,
        &program,
        json!([
        { "key": "segment", "choices": ["SMB"] } ]),
    )
    .await;
    assert_eq!(missing["errors"][0]["extensions"]["field"], "answers.staff", "{missing}");
    let wrong_kind = answer(
        &app,
        &cara,
        &program,
        json!([
        { "key": "segment", "choices": ["SMB"] }, { "key": "staff", "text": "twelve" } ]),
    )
    .await;
    assert_eq!(wrong_kind["errors"][0]["extensions"]["field"], "answers[1].number", "{wrong_kind}");
    assert_eq!(place(&app, &cara, &celtic).await["questionnaireAnswers"], before["questionnaireAnswers"]);
    let edited = answer(&app, &cara, &program, json!([
        { "key": "demo_room", "yes": true }, { "key": "segment", "choices": ["Enterprise"] }, { "key": "staff", "number": "12" } ])).await;
    assert_no_errors(&edited);
    let saved = &edited["data"]["answerQuestionnaire"]["answers"];
    assert_eq!(saved["questionnaire"]["version"], 2);
    assert_eq!(saved["answers"][1]["number"], "12", "in the questions' order");

    // Abusive sides: the rival partner cannot read or review Celtic's answers, a SALES member
    // and a customer cannot answer, and the partner cannot review its own.
    let id = saved["id"].as_str().unwrap().to_string();
    let peek =
        app.gql(Some(&world.token("anna@")), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
    assert!(peek["data"]["node"].is_null(), "{peek}");
    assert_eq!(error_code(&app.gql(Some(&world.token("anna@")), REVIEW, json!({ "id": id })).await), "NOT_FOUND");
    assert_eq!(error_code(&app.gql(Some(&cara), REVIEW, json!({ "id": id })).await), "FORBIDDEN");
    let sam =
        app.gql(Some(&world.token("sam@")), ANSWER, json!({ "i": { "programId": program, "answers": [] } })).await;
    assert_eq!(error_code(&sam), "FORBIDDEN");
    let erika =
        app.gql(Some(&world.token("erika@")), ANSWER, json!({ "i": { "programId": program, "answers": [] } })).await;
    assert_eq!(error_code(&erika), "FORBIDDEN");

    // Staff review: from then on the answers stay as they are.
    let reviewed = app.gql(Some(&carl), REVIEW, json!({ "id": id })).await;
    assert_no_errors(&reviewed);
    assert_eq!(reviewed["data"]["reviewQuestionnaireAnswers"]["answers"]["editable"], false);
    let late = answer(
        &app,
        &cara,
        &program,
        json!([
        { "key": "segment", "choices": ["SMB"] }, { "key": "staff", "number": "3" } ]),
    )
    .await;
    assert_eq!(error_code(&late), "CONFLICT");
}

#[tokio::test]
async fn a_new_partner_answers_before_its_first_tier_above_entry_and_staff_see_it_in_the_application() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (vera, carl) = (world.token("vera.admin@"), world.token("carl.channel@"));
    let program = reseller(&app).await;
    let apps =
        app.gql(Some(&carl), "{ applications(status: SUBMITTED) { nodes { id companyName } } }", json!({})).await;
    let prospect = apps["data"]["applications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["companyName"] == "Prospect Telecom BV")
        .unwrap()["id"]
        .clone();
    let approved = app
        .gql(
            Some(&carl),
            "mutation($id: ID!) { approveApplication(input: {id: $id}) { partner { id } } }",
            json!({ "id": prospect }),
        )
        .await;
    assert_no_errors(&approved);
    let partner = approved["data"]["approveApplication"]["partner"]["id"].as_str().unwrap().to_string();
    let paula = world.token("paula@");

    // At the entry tier, every higher tier lists the questionnaire, unanswered.
    let fresh = place(&app, &paula, &partner).await;
    assert_eq!(requirement(&fresh, "Silver", "QUESTIONNAIRE").unwrap()["met"], false, "{fresh}");
    assert!(requirement(&fresh, "Registered", "QUESTIONNAIRE").is_none());
    // Staff cannot place it above the entry tier before it answers.
    let tiers = app
        .gql(
            None,
            "query($id: ID!) { node(id: $id) { ... on Program { tiers { nodes { id name } } } } }",
            json!({ "id": program }),
        )
        .await;
    let silver = tiers["data"]["node"]["tiers"]["nodes"][1]["id"].clone();
    let change = "mutation($i: ChangePartnerTierInput!) { changePartnerTier(input: $i) { partner { tier { name } } } }";
    let early = app.gql(Some(&carl), change, json!({ "i": { "partnerId": partner, "tierId": silver } })).await;
    assert_eq!(early["errors"][0]["extensions"]["field"], "tierId", "{early}");

    let answered = answer(
        &app,
        &paula,
        &program,
        json!([
        { "key": "segment", "choices": ["Enterprise"] }, { "key": "products", "choices": ["Cloud PBX"] },
        { "key": "plan", "text": "Hotel groups in the Netherlands." } ]),
    )
    .await;
    assert_no_errors(&answered);
    let now = place(&app, &paula, &partner).await;
    assert_eq!(requirement(&now, "Silver", "QUESTIONNAIRE").unwrap()["met"], true);
    // Staff see the answers on the application.
    let seen = app
        .gql(Some(&vera), "{ applications(status: APPROVED) { nodes { companyName questionnaireAnswers { answers { key text } } } } }", json!({}))
        .await;
    let row = seen["data"]["applications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["companyName"] == "Prospect Telecom BV")
        .unwrap()
        .clone();
    assert_eq!(row["questionnaireAnswers"]["answers"][2]["text"], "Hotel groups in the Netherlands.", "{row}");
    // The first move above entry counts as the answers' review.
    let placed = app.gql(Some(&carl), change, json!({ "i": { "partnerId": partner, "tierId": silver } })).await;
    assert_no_errors(&placed);
    assert_eq!(place(&app, &paula, &partner).await["questionnaireAnswers"]["editable"], false);
    // Above entry the questionnaire is no longer listed.
    assert!(requirement(&place(&app, &paula, &partner).await, "Gold", "QUESTIONNAIRE").is_none());
}

fn at(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_downgrade_waits_for_the_grace_period_and_recovery_closes_it() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (vera, carl, bruno, anna) =
        (world.token("vera.admin@"), world.token("carl.channel@"), world.token("bruno@"), world.token("anna@"));
    let baltic = organization_id(&app, &vera, "Baltic Cloud SIA").await;
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    // Everyone has paid its fee for long enough: only the stories run out below.
    let program = reseller(&app).await;
    for org in [&baltic, &alpine] {
        let paid = app
            .gql(Some(&vera), "mutation($i: UpdatePartnershipInput!) { updatePartnership(input: $i) { partnership { id } } }",
                json!({ "i": { "partnerId": org, "programId": program, "yearlyFeePaidUntil": "2099-01-01T00:00:00Z" } }))
            .await;
        assert_no_errors(&paid);
    }
    // Thirteen months on, the accepted stories no longer count: Baltic (Silver) and Alpine
    // (Gold) stop meeting their tiers and enter their grace periods; the tiers stay.
    app.clock.advance(TimeDelta::days(400));
    partnerhub::jobs::tiers::run_review(&app.ctx).await.unwrap();
    let started = place(&app, &bruno, &baltic).await;
    assert_eq!(started["tier"]["name"], "Silver");
    let ends = at(&started["tierEvaluation"]["graceEndsAt"]);
    let start = at(&started["tierEvaluation"]["graceStartedAt"]);
    assert_eq!(
        ends,
        (start + chrono::Months::new(1)).date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc(),
        "one month, to the day"
    );
    assert!(started["tierEvaluation"]["graceMissing"][0].as_str().unwrap().starts_with("SuccessStories"), "{started}");
    assert!(notification_kinds(&app, &bruno).await.contains(&"TIER_GRACE_STARTED".to_string()));
    let staff_told = notification_kinds(&app, &carl).await.iter().filter(|k| *k == "TIER_GRACE_STARTED").count();
    assert!(staff_told >= 2, "the channel team hears of Baltic and Alpine");
    assert!(queue_of(&app, &carl, "Baltic Cloud SIA").await.is_empty(), "no downgrade during the grace period");

    // Alpine recovers within the grace period: two new stories, accepted.
    for title in ["Hotel Bellevue", "Clinic Rigi"] {
        let story = app
            .gql(Some(&anna), "mutation($i: SubmitSuccessStoryInput!) { submitSuccessStory(input: $i) { story { id } } }",
                json!({ "i": { "customerName": title, "title": title, "summary": "Forty desk phones.", "products": ["D7"], "publishable": false } }))
            .await;
        assert_no_errors(&story);
        let accepted = app
            .gql(
                Some(&carl),
                "mutation($id: ID!) { reviewSuccessStory(input: {id: $id, accept: true}) { story { status } } }",
                json!({ "id": story["data"]["submitSuccessStory"]["story"]["id"] }),
            )
            .await;
        assert_no_errors(&accepted);
    }

    // The day before the grace period ends: still nothing for Baltic; Alpine's grace closes.
    let now = app.ctx.now();
    app.clock.advance(ends - now - TimeDelta::hours(12));
    partnerhub::jobs::tiers::run_review(&app.ctx).await.unwrap();
    assert!(queue_of(&app, &carl, "Baltic Cloud SIA").await.is_empty(), "the day before it ends");
    let recovered = place(&app, &anna, &alpine).await;
    assert!(recovered["tierEvaluation"]["graceEndsAt"].is_null(), "{recovered}");
    assert_eq!(recovered["tier"]["name"], "Gold");
    assert!(notification_kinds(&app, &anna).await.contains(&"TIER_GRACE_RECOVERED".to_string()));
    assert!(queue_of(&app, &carl, "Alpine Voice AG").await.is_empty(), "recovery proposes nothing");

    // The day it ends: one downgrade proposal, to the highest tier Baltic meets; a second run
    // adds none.
    app.clock.advance(TimeDelta::hours(13));
    partnerhub::jobs::tiers::run_review(&app.ctx).await.unwrap();
    partnerhub::jobs::tiers::run_review(&app.ctx).await.unwrap();
    let proposals = queue_of(&app, &carl, "Baltic Cloud SIA").await;
    assert_eq!(proposals.len(), 1, "{proposals:?}");
    let proposal = &proposals[0];
    assert_eq!(
        (proposal["direction"].as_str(), proposal["toTier"]["name"].as_str()),
        (Some("DOWNGRADE"), Some("Registered"))
    );
    assert_eq!(place(&app, &bruno, &baltic).await["tier"]["name"], "Silver", "staff decide, not the job");

    // The partner cannot decide its own downgrade away; staff need a reason.
    let id = proposal["id"].clone();
    let own = app.gql(Some(&bruno), DECIDE, json!({ "i": { "id": id, "confirm": false, "reason": "no" } })).await;
    assert_eq!(error_code(&own), "FORBIDDEN");
    let rival = app.gql(Some(&anna), DECIDE, json!({ "i": { "id": id, "confirm": false, "reason": "no" } })).await;
    assert_eq!(error_code(&rival), "NOT_FOUND");
    let bare = app.gql(Some(&carl), DECIDE, json!({ "i": { "id": id, "confirm": true } })).await;
    assert_eq!(bare["errors"][0]["extensions"]["field"], "reason");
    let confirmed = app
        .gql(
            Some(&carl),
            DECIDE,
            json!({ "i": { "id": id, "confirm": true, "reason": "No accepted story in 12 months." } }),
        )
        .await;
    assert_no_errors(&confirmed);
    assert_eq!(confirmed["data"]["decideTierProposal"]["proposal"]["status"], "CONFIRMED");
    let after = place(&app, &bruno, &baltic).await;
    assert_eq!(after["tier"]["name"], "Registered");
    assert!(after["tierEvaluation"]["graceEndsAt"].is_null());
    assert_eq!(
        error_code(
            &app.gql(Some(&carl), DECIDE, json!({ "i": { "id": id, "confirm": true, "reason": "again" } })).await
        ),
        "CONFLICT"
    );

    // The history keeps the proposal and its decision, for the partner too, and the change.
    let history = app
        .gql(Some(&bruno), "query($id: ID!) { node(id: $id) { ... on Organization { tierProposals { nodes { direction status reason } }
            tierHistory { nodes { to { name } reason } } } } }", json!({ "id": baltic }))
        .await;
    assert_no_errors(&history);
    let proposals = history["data"]["node"]["tierProposals"]["nodes"].as_array().unwrap();
    assert!(
        proposals.iter().any(|p| p["status"] == "CONFIRMED" && p["reason"] == "No accepted story in 12 months."),
        "{history}"
    );
    let changes = history["data"]["node"]["tierHistory"]["nodes"].as_array().unwrap();
    assert_eq!(changes.last().unwrap()["to"]["name"], "Registered");
    let peek = app
        .gql(
            Some(&anna),
            "query($id: ID!) { node(id: $id) { ... on Organization { tierProposals { totalCount } } } }",
            json!({ "id": baltic }),
        )
        .await;
    assert!(peek["data"]["node"].is_null() || peek["data"]["node"]["tierProposals"]["totalCount"] == 0, "{peek}");
}

#[tokio::test]
async fn the_yearly_fee_is_invoiced_with_vat_and_its_payment_counts_until_the_next_year() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (vera, fiona, anna, bruno) =
        (world.token("vera.admin@"), world.token("fiona.finance@"), world.token("anna@"), world.token("bruno@"));
    // The fee invoice is billed to Alpine, the demo's Gold partner.
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let baltic = organization_id(&app, &vera, "Baltic Cloud SIA").await;
    let invoices = "{ invoices(first: 100) { nodes { id number status billToName taxRate total { amount }
        lines { kind description unitPrice { amount currency } net { amount } tax { amount } total { amount } } } } }";
    let body = app.gql(Some(&anna), invoices, json!({})).await;
    assert_no_errors(&body);
    let invoice = body["data"]["invoices"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["lines"].as_array().unwrap().iter().any(|l| l["kind"] == "PROGRAMME_FEE"))
        .cloned()
        .expect("Alpine's invoice carries its fee");
    let fee = invoice["lines"].as_array().unwrap().iter().find(|l| l["kind"] == "PROGRAMME_FEE").unwrap().clone();
    assert_eq!(fee["unitPrice"], json!({ "amount": "1560.00", "currency": "EUR" }), "{fee}");
    assert_eq!(fee["net"]["amount"], "1560.00");
    let [net, tax, total] = [&fee["net"], &fee["tax"], &fee["total"]]
        .map(|m| m["amount"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap());
    assert_eq!(net + tax, total);
    let rate: rust_decimal::Decimal = invoice["taxRate"].as_str().unwrap().parse().unwrap();
    // The invoice's tax is spread over its lines to the cent: the fee's share is its rate's.
    let expected = net * rate / rust_decimal::Decimal::ONE_HUNDRED;
    assert!(
        (tax - expected).abs() <= rust_decimal::Decimal::new(1, 2),
        "the partner's country rate: {tax} for {expected}"
    );

    // Issued, not yet paid: due now, counted as paid for 30 days; Gold still met.
    let due = place(&app, &anna, &alpine).await;
    assert!(due["yearlyFeeDueAt"].is_string(), "{due}");
    let requirement_now = requirement(&due, "Gold", "YEARLY_FEE").unwrap().clone();
    assert_eq!(requirement_now["met"], true);
    assert!(requirement_now["current"].as_str().unwrap().starts_with("due since"), "{requirement_now}");

    // A second run for the period bills no fee twice.
    let period = partnerhub::service::billing::Period::of(app.ctx.now());
    partnerhub::service::billing::run(&app.ctx, None, period, true, None).await.unwrap();
    let again = app.gql(Some(&anna), invoices, json!({})).await;
    let fees = again["data"]["invoices"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["lines"].as_array().unwrap().clone())
        .filter(|l| l["kind"] == "PROGRAMME_FEE")
        .count();
    assert_eq!(fees, 1);

    // Baltic paid this year's fee by hand before billing took it over: its year is not billed.
    let baltic_invoices = app.gql(Some(&bruno), invoices, json!({})).await;
    assert_no_errors(&baltic_invoices);
    let baltic_fees = baltic_invoices["data"]["invoices"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["lines"].as_array().unwrap().clone())
        .filter(|l| l["kind"] == "PROGRAMME_FEE")
        .count();
    assert_eq!(baltic_fees, 0);
    assert!(place(&app, &bruno, &baltic).await["yearlyFeeDueAt"].is_null());

    // Unpaid 31 days after it fell due: Gold is no longer met and the review starts Alpine's
    // grace period; the tier stays.
    app.clock.advance(TimeDelta::days(31));
    partnerhub::jobs::tiers::run_review(&app.ctx).await.unwrap();
    let overdue = place(&app, &anna, &alpine).await;
    assert_eq!(requirement(&overdue, "Gold", "YEARLY_FEE").unwrap()["met"], false, "{overdue}");
    let missing: Vec<&str> =
        overdue["tierEvaluation"]["graceMissing"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    assert!(missing.iter().any(|m| m.starts_with("YearlyFee: overdue since")), "{overdue}");
    assert_eq!(overdue["tier"]["name"], "Gold", "the tier stays in the grace period");
    assert!(overdue["tierEvaluation"]["graceEndsAt"].is_string());

    // Paid: the fee counts until the partnership year's end, nothing is due, and the next
    // review closes the grace period.
    let pay = "mutation($i: RecordPaymentInput!) { recordPayment(input: $i) { invoice { status } } }";
    let paid = app
        .gql(Some(&fiona), pay, json!({ "i": { "invoiceId": invoice["id"], "amount": { "amount": invoice["total"]["amount"], "currency": "EUR" }, "receivedAt": app.ctx.now().to_rfc3339() } }))
        .await;
    assert_no_errors(&paid);
    assert_eq!(paid["data"]["recordPayment"]["invoice"]["status"], "PAID");
    let settled = place(&app, &anna, &alpine).await;
    assert!(settled["yearlyFeeDueAt"].is_null());
    let joined = at(&settled["joinedAt"]);
    let until = at(&settled["yearlyFeePaidUntil"]);
    assert_eq!(
        until,
        joined.checked_add_months(chrono::Months::new(12)).unwrap(),
        "a partnership year from the joining day"
    );
    assert_eq!(requirement(&settled, "Gold", "YEARLY_FEE").unwrap()["current"], "yes");
    partnerhub::jobs::tiers::run_review(&app.ctx).await.unwrap();
    assert!(place(&app, &anna, &alpine).await["tierEvaluation"]["graceEndsAt"].is_null());
    assert!(notification_kinds(&app, &anna).await.contains(&"TIER_GRACE_RECOVERED".to_string()));

    // The partnership year renews: that month's run bills the next year's fee, due from the
    // renewal; the paid year still counts until it ends.
    let renewal = until + TimeDelta::hours(1);
    app.clock.advance(renewal - app.ctx.now());
    let period = partnerhub::service::billing::Period::of(app.ctx.now());
    partnerhub::service::billing::run(&app.ctx, None, period, true, None).await.unwrap();
    let renewed = app.gql(Some(&anna), invoices, json!({})).await;
    let fee_lines: Vec<Value> = renewed["data"]["invoices"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["lines"].as_array().unwrap().clone())
        .filter(|l| l["kind"] == "PROGRAMME_FEE")
        .collect();
    assert_eq!(fee_lines.len(), 2, "{fee_lines:?}");
    let next_year = format!("{} to {}", until.format("%Y-%m-%d"), (until + chrono::Months::new(12)).format("%Y-%m-%d"));
    assert!(fee_lines.iter().any(|l| l["description"].as_str().unwrap().ends_with(&next_year)), "{fee_lines:?}");
    let billed_again = place(&app, &anna, &alpine).await;
    // Billed an hour after the renewal: due from the invoice's issue, the later of the two.
    let due = at(&billed_again["yearlyFeeDueAt"]);
    assert!(due >= renewal && due <= app.ctx.now(), "{due} for a renewal at {until}");
    assert_eq!(at(&billed_again["yearlyFeePaidUntil"]), until);
    assert_eq!(requirement(&billed_again, "Gold", "YEARLY_FEE").unwrap()["met"], true, "30 days to pay it");
}

#[tokio::test]
async fn actors_by_programme_rule_operations() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let program = reseller(&app).await;
    let celtic = organization_id(&app, &vera, "Celtic Comms Ltd").await;
    let answers_id = place(&app, &vera, &celtic).await["questionnaireAnswers"]["id"].as_str().unwrap().to_string();
    let proposal = queue_of(&app, &vera, "Celtic Comms Ltd").await[0]["id"].as_str().unwrap().to_string();
    // (actor, expected per OPERATIONS). Each row targets the same objects; a success by an
    // earlier row that changes state is undone by the order: dismissals and reviews come last.
    #[rustfmt::skip]
    let table: &[(&str, [&str; 5])] = &[
        ("anonymous", ["UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED"]),
        ("erika@", ["FORBIDDEN", "FORBIDDEN", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN"]),
        ("anna@", ["FORBIDDEN", "OK", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN"]),
        ("sam@", ["FORBIDDEN", "FORBIDDEN", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN"]),
        ("cara@", ["FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
        ("dora@", ["FORBIDDEN", "FORBIDDEN", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN"]),
        ("fiona.finance@", ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "NOT_FOUND", "FORBIDDEN"]),
        ("carl.channel@", ["FORBIDDEN", "FORBIDDEN", "OK", "OK", "FORBIDDEN"]),
        ("vera.admin@", ["OK", "FORBIDDEN", "CONFLICT", "CONFLICT", "OK"]),
    ];
    let mut failures = Vec::new();
    for (actor, expected) in table {
        let token = (*actor != "anonymous").then(|| world.token(actor));
        for (op, want) in OPERATIONS.iter().zip(expected) {
            let (document, variables) = match *op {
                "publishQuestionnaire" => {
                    (PUBLISH, json!({ "i": { "programId": program, "questions": v2_questions() } }))
                }
                "answerQuestionnaire" => (
                    ANSWER,
                    json!({ "i": { "programId": program, "answers": [
                        { "key": "segment", "choices": ["Enterprise"] }, { "key": "products", "choices": ["Headsets"] },
                        { "key": "plan", "text": "More of the same." } ] } }),
                ),
                "reviewQuestionnaireAnswers" => (REVIEW, json!({ "id": answers_id })),
                "decideTierProposal" => {
                    (DECIDE, json!({ "i": { "id": proposal, "confirm": false, "reason": "Not this quarter." } }))
                }
                "updateProgramRules" => (
                    "mutation($i: UpdateProgramRulesInput!) { updateProgramRules(input: $i) { program { yearlyFee { amount } downgradeGraceMonths } } }",
                    json!({ "i": { "programId": program, "yearlyFee": { "amount": "1560", "currency": "EUR" }, "downgradeGraceMonths": 2 } }),
                ),
                other => panic!("no target for {other}"),
            };
            let body = app.gql(token.as_deref(), document, variables).await;
            let got = if body.get("errors").is_some() { error_code(&body).to_string() } else { "OK".into() };
            if got != *want {
                failures.push(format!("{actor} {op}: want {want}, got {got} ({body})"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Two nodes running the daily review at the same moment: each grace period starts (and is
/// announced) once, and each partnership keeps at most one open proposal.
#[tokio::test]
async fn two_nodes_reviewing_at_once_start_each_grace_period_once_and_keep_one_open_proposal() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn().await;
    let _world = app.demo().await;
    let other = app.second_node().await;
    for node in [&app, &other] {
        node.clock.advance(TimeDelta::days(400));
    }
    for _ in 0..2 {
        let (a, b) = tokio::join!(
            partnerhub::jobs::tiers::run_review(&app.ctx),
            partnerhub::jobs::tiers::run_review(&other.ctx)
        );
        a.unwrap();
        b.unwrap();
        let now = app.ctx.now();
        for node in [&app, &other] {
            node.clock.advance(now - node.ctx.now() + TimeDelta::days(40));
        }
    }
    let count = |sql: &str| {
        let db = &app.ctx.db;
        let statement = Statement::from_string(db.get_database_backend(), sql.to_string());
        async move { db.query_one_raw(statement).await.unwrap().unwrap().try_get::<i64>("", "n").unwrap() }
    };
    let doubled = count(
        "SELECT COUNT(*) AS n FROM (SELECT partnership_id FROM tier_proposals WHERE status = 'OPEN' \
         GROUP BY partnership_id HAVING COUNT(*) > 1) AS d",
    )
    .await;
    assert_eq!(doubled, 0);
    let open = count("SELECT COUNT(*) AS n FROM tier_proposals WHERE status = 'OPEN'").await;
    assert!(open >= 11, "the founding partners' downgrades are proposed: {open}");
    let in_grace = count("SELECT COUNT(*) AS n FROM partnerships WHERE grace_started_at IS NOT NULL").await;
    // One notice to the partner and one to the vendor per grace period, however many nodes ran.
    let notices = count("SELECT COUNT(*) AS n FROM notifications WHERE kind = 'TIER_GRACE_STARTED'").await;
    assert_eq!(notices, 2 * in_grace, "{notices} notices for {in_grace} grace periods");
}
