//! Statements per request do not grow with the number of items: the schema is walked for every
//! list field, each is queried with everything its items show (scalars, related objects, lists
//! under them), once for one item and once for all of them, and the two must cost the same
//! number of SQL statements. A list field the walker finds without a row here fails the test;
//! the few whose cost must grow are listed with the reason.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::parser::{
    parse_schema,
    types::{BaseType, TypeKind, TypeSystemDefinition},
};
use chrono::{Datelike, TimeDelta};
use serde_json::{Value, json};

use crate::helpers::*;

/// Each list is compared at one item and at all of at least this many.
const MIN_ITEMS: i64 = 6;

/// Items of different shapes may reach a loader at different depths (a plan loaded for one item
/// directly, for another through its pending downgrade), so the batches per request depend on
/// the mix, up to a couple of statements, never on the number of items: one statement per item
/// would add at least `MIN_ITEMS - 1`.
const SLACK: u64 = 2;

/// A field of the schema, with what the walker needs of it.
#[derive(Clone, Debug)]
struct Field {
    name: String,
    /// The named type under any list and non-null wrappers.
    ty: String,
    list: bool,
    /// Arguments without a default that the schema requires.
    required_args: bool,
}

struct Schema {
    objects: BTreeMap<String, Vec<Field>>,
    /// Types with fields (objects and interfaces) and their kind.
    interfaces: BTreeSet<String>,
}

fn schema() -> Schema {
    let doc = parse_schema(partnerhub::graphql::sdl()).expect("the SDL parses");
    let mut objects = BTreeMap::new();
    let mut interfaces = BTreeSet::new();
    for definition in doc.definitions {
        let TypeSystemDefinition::Type(t) = definition else { continue };
        let t = t.node;
        let fields = match &t.kind {
            TypeKind::Object(o) => &o.fields,
            TypeKind::Interface(i) => {
                interfaces.insert(t.name.node.to_string());
                &i.fields
            }
            _ => continue,
        };
        let fields = fields
            .iter()
            .map(|f| {
                let f = &f.node;
                let mut ty = &f.ty.node;
                let mut list = false;
                while let BaseType::List(inner) = &ty.base {
                    list = true;
                    ty = inner;
                }
                let BaseType::Named(name) = &ty.base else { unreachable!() };
                Field {
                    name: f.name.node.to_string(),
                    ty: name.to_string(),
                    list,
                    required_args: f
                        .arguments
                        .iter()
                        .any(|a| !a.node.ty.node.nullable && a.node.default_value.is_none()),
                }
            })
            .collect();
        objects.insert(t.name.node.to_string(), fields);
    }
    Schema { objects, interfaces }
}

impl Schema {
    fn has_fields(&self, ty: &str) -> bool {
        self.objects.contains_key(ty)
    }

    fn is_connection(&self, ty: &str) -> bool {
        ty.ends_with("Connection") && self.has_fields(ty)
    }

    /// The node type of a connection.
    fn node_of(&self, connection: &str) -> String {
        self.objects[connection].iter().find(|f| f.name == "nodes").map(|f| f.ty.clone()).unwrap_or_default()
    }

    /// Everything an item of `ty` shows, `depth` levels of objects deep: every field without
    /// required arguments; a connection under it pages three items.
    fn selection(&self, ty: &str, depth: usize) -> String {
        if self.interfaces.contains(ty) {
            return "__typename".into();
        }
        let mut out = vec!["__typename".to_string()];
        for f in &self.objects[ty] {
            if f.required_args {
                continue;
            }
            if !self.has_fields(&f.ty) {
                out.push(f.name.clone());
            } else if depth == 0 {
                continue;
            } else if self.is_connection(&f.ty) {
                let node = self.node_of(&f.ty);
                out.push(format!("{}(first: 3) {{ nodes {{ {} }} }}", f.name, self.selection(&node, depth - 1)));
            } else {
                out.push(format!("{} {{ {} }}", f.name, self.selection(&f.ty, depth - 1)));
            }
        }
        out.join(" ")
    }
}

/// List fields whose items cost nothing more: lists of values computed in memory from what was
/// already read, or results of mutations.
const EXEMPT: &[(&str, &str)] = &[
    (
        "Query.directory",
        "public and keyed by tier, relevance and name: tests/api/directory.rs holds every page to 5 statements",
    ),
    (
        "DirectoryEntry.stories",
        "through the directory's loader: tests/api/directory.rs pages with stories at 5 statements",
    ),
    ("BillingReportRow.amounts", "computed from the report's one summing statement"),
    ("TierEvaluation.tiers", "computed in memory from the evaluation's batch"),
    ("TierEvaluation.missingForNext", "computed in memory from the evaluation's batch"),
    ("TierCheck.requirements", "computed in memory from the evaluation's batch"),
    ("Questionnaire.questions", "a JSON column of the questionnaire's row (at most 50)"),
    ("Question.helpTranslations", "a JSON column of the questionnaire's row"),
    ("QuestionnaireAnswers.answers", "a JSON column of the answers' row (one per question)"),
    ("TierBenefits.welcomeGiftProducts", "a tier's gift list; resolved through the products loader"),
    ("ImportExamResultsPayload.examResults", "a mutation's result"),
    ("RunBillingPayload.invoices", "a mutation's result"),
    ("Invoice.lines", "an invoice's own lines through a loader; checked inside the invoice lists"),
    ("Invoice.payments", "an invoice's own payments through a loader; checked inside the invoice lists"),
    ("Plan.volumeBands", "a plan's bands through a loader; checked inside the product list"),
    ("Product.plans", "a product's plans through a loader; checked inside the product list"),
    ("Deal.products", "a deal's products through a loader; checked inside the deals list"),
    ("Tender.responses", "first pages of every tender in one statement; checked inside the tenders list"),
    ("LedgerEntry.history", "an entry's states through a loader; checked inside the ledger list"),
    ("Query.partnerBalances", "summed in SQL: a fixed number of statements per partner"),
    ("LedgerBalance.holds", "computed from the balance's summing statements"),
    ("PartnerEarnings.holds", "computed from the balance's summing statements"),
    ("CloseQuarterPayload.adjustments", "a mutation's result"),
    ("MarkLedgerEntryPayload.entries", "a mutation's result"),
    ("Query.commissionRules", "one programme's rules, one statement"),
    ("Query.rebateRates", "one programme's rebate table, one statement"),
    ("RebateClaim.lines", "a claim's lines through a loader; checked inside the claims list"),
    ("PayoutBatch.statements", "a batch's statements through a loader; checked inside the batch list"),
    ("Deal.history", "a deal's history through a loader; checked inside the deals list"),
    ("Deal.conflicts", "a deal's rivals through a loader; checked inside the deals list"),
    ("Delivery.attemptLog", "a delivery's tries through a loader; checked inside the deliveries list"),
    ("PartnerDashboard.dealsLast30Days", "from the dashboard's one counting statement (tests/api/dashboard.rs)"),
    ("PartnerDashboard.rebateClaimsLast30Days", "from the dashboard's one counting statement (tests/api/dashboard.rs)"),
    ("Query.staffQueues", "four queue heads from one statement"),
];

/// Connections nested under an item that page on their own, one statement per parent item. The
/// customer list's subscriptions are the one a dashboard needs; the performance issue batches
/// these.
const GROWS: &[(&str, &str)] = &[
    ("Organization.certifications", "paged per organisation"),
    ("Organization.grants", "paged per organisation"),
    ("Organization.invitations", "paged per organisation"),
    ("Organization.invoices", "paged per organisation"),
    ("Organization.members", "paged per organisation"),
    ("Organization.partnerships", "paged per organisation"),
    ("Organization.subscriptions", "paged per organisation"),
    ("Organization.tierHistory", "paged per organisation"),
    ("Organization.tierProposals", "paged per organisation"),
    ("Program.termsVersions", "paged per programme"),
    ("Program.tiers", "paged per programme"),
    ("Grant.assignments", "paged per grant"),
    ("Grant.history", "paged per grant"),
    ("Grant.subscriptions", "paged per grant"),
    ("ProductSubscription.changeRequests", "paged per subscription"),
    ("ProductSubscription.history", "paged per subscription"),
    ("Viewer.apiTokens", "paged per viewer"),
    ("Viewer.memberships", "paged per viewer"),
    ("Viewer.notifications", "paged per viewer"),
    ("Partnership.tierEvaluation", "evaluated per batch of partnerships"),
];

/// How each list field is reached: (field, actor, the query around `LIST`, its variables by
/// name of a demo object).
const PATHS: &[(&str, &str, &str)] = &[
    ("Query.applications", "vera.admin@", "{ LIST }"),
    ("Query.auditEvents", "vera.admin@", "query($alpine: ID!) { LIST }"),
    ("Query.courses", "vera.admin@", "{ LIST }"),
    ("Query.customers", "vera.admin@", "{ LIST }"),
    ("Query.deals", "vera.admin@", "{ LIST }"),
    ("Query.partnerOfRecordClaims", "vera.admin@", "{ LIST }"),
    ("Query.approvedDistributors", "vera.admin@", "{ LIST }"),
    ("Query.rebateClaims", "vera.admin@", "{ LIST }"),
    ("Query.webhookEndpoints", "anna@", "{ LIST }"),
    ("Query.deliveries", "vera.admin@", "{ LIST }"),
    ("Query.payoutBatches", "vera.admin@", "{ LIST }"),
    ("Query.referralCodes", "vera.admin@", "{ LIST }"),
    ("Query.referralAttributions", "vera.admin@", "{ LIST }"),
    ("Query.partnerLedger", "anna@", "{ LIST }"),
    ("Query.invoices", "vera.admin@", "{ LIST }"),
    ("Query.organizations", "vera.admin@", "{ LIST }"),
    ("Query.partnerBillingReport", "anna@", "query($period: String!) { LIST }"),
    ("Query.products", "vera.admin@", "{ LIST }"),
    ("Query.programs", "vera.admin@", "{ LIST }"),
    ("Query.renewalsDue", "anna@", "{ LIST }"),
    ("Query.subscriptionChangeRequests", "anna@", "{ LIST }"),
    ("Query.successStories", "vera.admin@", "{ LIST }"),
    ("Query.tenders", "vera.admin@", "{ LIST }"),
    ("Query.tierReviewQueue", "vera.admin@", "{ LIST }"),
    ("Query.welcomeGifts", "vera.admin@", "{ LIST }"),
    ("Viewer.apiTokens", "anna@", "{ viewer { LIST } }"),
    ("Viewer.memberships", "chris@", "{ viewer { LIST } }"),
    ("Viewer.notifications", "anna@", "{ viewer { LIST } }"),
    (
        "Organization.certifications",
        "vera.admin@",
        "query($alpine: ID!) { node(id: $alpine) { ... on Organization { LIST } } }",
    ),
    (
        "Organization.grants",
        "vera.admin@",
        "query($alpine: ID!) { node(id: $alpine) { ... on Organization { LIST } } }",
    ),
    (
        "Organization.invitations",
        "vera.admin@",
        "query($alpine: ID!) { node(id: $alpine) { ... on Organization { LIST } } }",
    ),
    (
        "Organization.invoices",
        "vera.admin@",
        "query($alpine: ID!) { node(id: $alpine) { ... on Organization { LIST } } }",
    ),
    (
        "Organization.members",
        "vera.admin@",
        "query($alpine: ID!) { node(id: $alpine) { ... on Organization { LIST } } }",
    ),
    (
        "Organization.partnerships",
        "vera.admin@",
        "query($alpine: ID!) { node(id: $alpine) { ... on Organization { LIST } } }",
    ),
    (
        "Organization.subscriptions",
        "vera.admin@",
        "query($edelweiss: ID!) { node(id: $edelweiss) { ... on Organization { LIST } } }",
    ),
    (
        "Organization.tierHistory",
        "vera.admin@",
        "query($alpine: ID!) { node(id: $alpine) { ... on Organization { LIST } } }",
    ),
    (
        "Organization.tierProposals",
        "vera.admin@",
        "query($alpine: ID!) { node(id: $alpine) { ... on Organization { LIST } } }",
    ),
    ("Program.termsVersions", "vera.admin@", "query($program: ID!) { node(id: $program) { ... on Program { LIST } } }"),
    ("Program.tiers", "vera.admin@", "query($program: ID!) { node(id: $program) { ... on Program { LIST } } }"),
    ("Grant.assignments", "vera.admin@", "query($grant: ID!) { node(id: $grant) { ... on Grant { LIST } } }"),
    ("Grant.history", "vera.admin@", "query($grant: ID!) { node(id: $grant) { ... on Grant { LIST } } }"),
    ("Grant.subscriptions", "vera.admin@", "query($scoped: ID!) { node(id: $scoped) { ... on Grant { LIST } } }"),
    (
        "ProductSubscription.changeRequests",
        "vera.admin@",
        "query($phones: ID!) { node(id: $phones) { ... on ProductSubscription { LIST } } }",
    ),
    (
        "ProductSubscription.history",
        "vera.admin@",
        "query($phones: ID!) { node(id: $phones) { ... on ProductSubscription { LIST } } }",
    ),
];

fn arguments(field: &str) -> &'static str {
    match field {
        "Query.auditEvents" => "organizationId: $alpine, ",
        "Query.partnerBillingReport" => "period: $period, ",
        "Query.renewalsDue" => "withinDays: 40, ",
        // Items of one kind, so that the first shows every branch the others do.
        "Query.organizations" => "filter: {kind: PARTNER}, ",
        "Query.applications" => "status: APPROVED, ",
        _ => "",
    }
}

async fn gid_of(app: &TestApp, token: &str, query: &str, path: &[&str]) -> String {
    let body = app.gql(Some(token), query, json!({})).await;
    let mut v = &body;
    for p in path {
        v = match p.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[*p],
        };
    }
    v.as_str().unwrap_or_else(|| panic!("{path:?} in {body}")).to_string()
}

/// Gives every list of the demo at least `MIN_ITEMS` items, through the API where a mutation
/// makes them and directly where a job or a rare path does.
async fn thicken(app: &TestApp, world: &World) -> serde_json::Map<String, Value> {
    use entity::{membership, partnership, tier_proposal, welcome_gift};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    let (anna, vera, erika) = (world.token("anna@"), world.token("vera.admin@"), world.token("erika@"));
    let alpine = organization_id(app, &vera, "Alpine Voice AG").await;
    let edelweiss = organization_id(app, &vera, "Edelweiss Dental").await;
    let db = &app.ctx.db;
    let ok = |body: Value| {
        assert_no_errors(&body);
        body
    };
    let gql = |token: &str, query: &str, variables: Value| {
        let token = token.to_string();
        let query = query.to_string();
        async move { ok(app.gql(Some(&token), &query, variables).await) }
    };
    let id_of = |body: &Value, path: &[&str]| {
        let mut v = body;
        for p in path {
            v = &v[*p];
        }
        v.as_str().unwrap_or_else(|| panic!("{path:?} in {body}")).to_string()
    };
    let program = gid_of(app, &vera, "{ programs { nodes { id } } }", &["data", "programs", "nodes", "0", "id"]).await;
    let product = gid_of(app, &vera, "{ products { nodes { id } } }", &["data", "products", "nodes", "0", "id"]).await;
    let plans = app.gql(Some(&anna), "{ products { nodes { sku plans { id } } } }", json!({})).await;
    let plan = plans["data"]["products"]["nodes"][0]["plans"][0]["id"].clone();
    // Catalog and programmes.
    for i in 0..4 {
        gql(
            &vera,
            "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }",
            json!({ "i": { "sku": format!("EXTRA-{i}"), "name": format!("Extra {i}"), "productLine": "EXTRA" } }),
        )
        .await;
        gql(&vera, "mutation($i: CreateCourseInput!) { createCourse(input: $i) { course { code } } }", json!({ "i": { "code": format!("EXTRA-{i}"), "title": format!("Extra {i}"), "kind": "CERTIFYING", "fee": { "amount": "10", "currency": "EUR" } } })).await;
        let extra = gql(&vera, "mutation($i: CreateProgramInput!) { createProgram(input: $i) { program { id } } }", json!({ "i": { "name": format!("Extra Programme {i}"), "kind": "RESELLER", "currency": "EUR", "terms": "Terms." } })).await;
        gql(&vera, "mutation($i: CreateTierInput!) { createTier(input: $i) { tier { id } } }", json!({ "i": { "programId": extra["data"]["createProgram"]["program"]["id"], "name": "Member", "rank": 1 } })).await;
        gql(&anna, "mutation($i: SubmitSuccessStoryInput!) { submitSuccessStory(input: $i) { story { id } } }", json!({ "i": { "customerName": format!("Story Customer {i}"), "title": "A story", "summary": "It went well.", "products": ["D785"], "publishable": true } })).await;
        gql(&vera, "mutation($p: ID!, $t: String!) { publishProgramTerms(input: {programId: $p, text: $t}) { terms { version } } }", json!({ "p": program, "t": format!("Revision {}", i + 3) })).await;
        gql(&vera, "mutation($i: CreateTierInput!) { createTier(input: $i) { tier { id } } }", json!({ "i": { "programId": program, "name": format!("Platinum {i}"), "rank": 10 + i, "benefits": { "welcomeGiftProductIds": [product] } } })).await;
    }
    // Applicants, three of them approved: more applications and more partners.
    for i in 0..6 {
        let user = partnerhub::service::people::insert_user(
            db,
            partnerhub::service::people::NewUser {
                kind: partnerhub::domain::UserKind::Person,
                display_name: "Applicant",
                email: Some(&format!("applicant{i}@apply.example")),
                email_verified: true,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let (_, token) =
            partnerhub::service::tokens::issue(db, user.id, "t".into(), None, chrono::Utc::now()).await.unwrap();
        let applied = gql(&token, "mutation($i: ApplyForPartnershipInput!) { applyForPartnership(input: $i) { application { id } } }", json!({ "i": {
            "programId": program, "company": { "name": format!("Applicant {i} Ltd"), "registrationNumber": format!("REG-{i}"), "vatNumber": format!("ATU1234567{i}"),
            "website": format!("https://applicant{i}.example"), "country": "AT", "address": "Ring 1, Wien" },
            "primaryExpertise": "Phones", "experience": "Years.", "plan": "Sell.", "acceptedTermsVersion": 6 } })).await;
        {
            gql(
                &vera,
                "mutation($id: ID!) { approveApplication(input: {id: $id}) { partner { id } } }",
                json!({ "id": id_of(&applied, &["data", "applyForPartnership", "application", "id"]) }),
            )
            .await;
        }
    }
    // Alpine: tokens, invitations, members (assigned to Edelweiss), exams, tier changes.
    let grants = gql(
        &erika,
        "query($id: ID!) { node(id: $id) { ... on Organization { grants { nodes { id partner { name } } } } } }",
        json!({ "id": edelweiss }),
    )
    .await;
    let grant = grants["data"]["node"]["grants"]["nodes"][0]["id"].as_str().unwrap().to_string();
    let people = gql(
        &vera,
        "query($id: ID!) { node(id: $id) { ... on Organization { members { nodes { user { id } } } } } }",
        json!({ "id": alpine }),
    )
    .await;
    let person = people["data"]["node"]["members"]["nodes"][0]["user"]["id"].clone();
    let tiers = gql(
        &vera,
        "query($id: ID!) { node(id: $id) { ... on Program { tiers(first: 3) { nodes { id } } } } }",
        json!({ "id": program }),
    )
    .await;
    // Alpine moves through the tiers below: from the entry tier that needs the questionnaire.
    gql(
        &anna,
        "mutation($i: AnswerQuestionnaireInput!) { answerQuestionnaire(input: $i) { answers { id } } }",
        json!({ "i": { "programId": program, "answers": [
            { "key": "segment", "choices": ["Enterprise"] }, { "key": "products", "choices": ["Headsets"] },
            { "key": "plan", "text": "More of the same." } ] } }),
    )
    .await;
    for i in 0..5 {
        gql(
            &anna,
            "mutation($n: String!) { createApiToken(input: {name: $n}) { token } }",
            json!({ "n": format!("t{i}") }),
        )
        .await;
        gql(&anna, "mutation($o: ID!, $e: String!) { inviteMember(input: {organizationId: $o, email: $e, role: BILLING}) { token } }", json!({ "o": alpine, "e": format!("hire{i}@alpinevoice.example") })).await;
        let account = gql(
            &anna,
            "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { serviceAccount { id } } }",
            json!({ "i": { "organizationId": alpine, "name": format!("robot {i}"), "role": "SALES" } }),
        )
        .await;
        let user = partnerhub::ids::encode(
            partnerhub::ids::NodeType::User,
            partnerhub::ids::decode(&id_of(&account, &["data", "createServiceAccount", "serviceAccount", "id"]))
                .unwrap()
                .1,
        );
        gql(&anna, "mutation($g: ID!, $u: ID!) { assignGrantMember(input: {grantId: $g, userId: $u, rights: [MANAGE_PRODUCTS]}) { grant { id } } }", json!({ "g": grant, "u": user })).await;
        gql(&vera, "mutation($i: RecordExamResultInput!) { recordExamResult(input: $i) { examResult { certificateNumber } } }", json!({ "i": { "userId": person, "courseCode": "NW-CERT", "passedAt": "2026-01-01T00:00:00Z", "certificateNumber": format!("EXTRA-{i}") } })).await;
        let tier = tiers["data"]["node"]["tiers"]["nodes"][i % 3]["id"].clone();
        gql(&vera, "mutation($p: ID!, $t: ID!) { changePartnerTier(input: {partnerId: $p, tierId: $t, reason: \"review\"}) { change { changedAt } } }", json!({ "p": alpine, "t": tier })).await;
        let end = (chrono::Utc::now() + TimeDelta::days(300 - 10 * i as i64)).to_rfc3339();
        gql(
            &erika,
            "mutation($id: ID!, $e: DateTime!) { updateGrant(input: {id: $id, expiresAt: $e}) { grant { id } } }",
            json!({ "id": grant, "e": end }),
        )
        .await;
    }
    // Six partner-billed customers of Alpine, billed next month: a report of six rows.
    let month = |k: u32| {
        (chrono::Utc::now().date_naive().with_day(1).unwrap() + chrono::Months::new(k)).format("%Y-%m").to_string()
    };
    for i in 0..6 {
        let made = gql(&anna, "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }", json!({ "i": { "name": format!("Report Customer {i}"), "country": "CH", "adminEmail": format!("r{i}@report.example") } })).await;
        let customer = made["data"]["createCustomer"]["customer"]["id"].clone();
        gql(&anna, "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }", json!({ "i": { "customerId": customer, "planId": plan, "seats": 3, "billedTo": "PARTNER", "idempotencyKey": format!("report-{i}") } })).await;
    }
    gql(
        &vera,
        "mutation($p: String!) { runBilling(input: {period: $p}) { invoices { id } } }",
        json!({ "p": month(1) }),
    )
    .await;
    // Edelweiss: four more subscriptions Alpine pays for, each billed in a month of its own
    // (Alpine's invoices), each with a request for more (the partner's queue).
    for k in 2..6 {
        let sub = gql(&anna, "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }", json!({ "i": { "customerId": edelweiss, "planId": plan, "seats": 2, "billedTo": "PARTNER", "idempotencyKey": format!("edelweiss-{k}") } })).await;
        let sub = id_of(&sub, &["data", "createSubscription", "subscription", "id"]);
        gql(&erika, "mutation($id: ID!) { requestSubscriptionChange(input: {subscriptionId: $id, seats: 9}) { request { id } } }", json!({ "id": sub })).await;
        gql(
            &vera,
            "mutation($p: String!) { runBilling(input: {period: $p}) { invoices { id } } }",
            json!({ "p": month(k) }),
        )
        .await;
    }
    // Edelweiss's phones: requests withdrawn and asked again, seats changed: two histories.
    let subs = gql(
        &erika,
        "query($id: ID!) { customer(id: $id) { subscriptions { nodes { id product { sku } } } } }",
        json!({ "id": edelweiss }),
    )
    .await;
    let phones = subs["data"]["customer"]["subscriptions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["product"]["sku"] == "D785")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 0..5 {
        let pending = gql(&erika, "query($id: ID!) { node(id: $id) { ... on ProductSubscription { changeRequests(first: 100) { nodes { id status } } } } }", json!({ "id": phones })).await;
        if let Some(open) = pending["data"]["node"]["changeRequests"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["status"] == "PENDING")
        {
            gql(
                &erika,
                "mutation($id: ID!) { withdrawSubscriptionChange(input: {id: $id}) { request { id } } }",
                json!({ "id": open["id"] }),
            )
            .await;
        }
        gql(&erika, "mutation($id: ID!, $n: Int!) { requestSubscriptionChange(input: {subscriptionId: $id, seats: $n}) { request { id } } }", json!({ "id": phones, "n": 40 + i })).await;
        gql(
            &anna,
            "mutation($id: ID!, $n: Int!) { changeSeats(input: {id: $id, seats: $n}) { subscription { id } } }",
            json!({ "id": phones, "n": 11 + i }),
        )
        .await;
    }
    // Baltic's scoped grant on Garda: Garda's own new subscriptions listed in it.
    let garda = organization_id(app, &vera, "Garda Hotels Srl").await;
    let giulia = world.token("giulia@");
    for i in 0..5 {
        gql(&giulia, "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription { id } } }", json!({ "i": { "customerId": garda, "planId": plan, "seats": 1, "billedTo": "CUSTOMER", "idempotencyKey": format!("garda-{i}") } })).await;
    }
    let garda_id = partnerhub::ids::decode(&garda).unwrap().1;
    let scoped = entity::grant::Entity::find()
        .filter(entity::grant::Column::CustomerId.eq(garda_id))
        .filter(entity::grant::Column::Scope.eq(partnerhub::domain::GrantScope::Subscriptions))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    for s in entity::subscription::Entity::find()
        .filter(entity::subscription::Column::CustomerId.eq(garda_id))
        .all(db)
        .await
        .unwrap()
    {
        let _ = entity::grant_scope_item::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            grant_id: Set(scoped.id),
            subscription_id: Set(s.id),
        }
        .insert(db)
        .await;
    }
    // Alpine in four more programmes, Chris in four more partners, a review finding and a gift
    // for every partnership: arranged directly, as the jobs and claims that make them are
    // tested elsewhere.
    let alpine_id = partnerhub::ids::decode(&alpine).unwrap().1;
    let first = partnership::Entity::find()
        .filter(partnership::Column::OrganizationId.eq(alpine_id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    for other in
        entity::program::Entity::find().filter(entity::program::Column::Id.ne(first.program_id)).all(db).await.unwrap()
    {
        let Some(tier) =
            entity::tier::Entity::find().filter(entity::tier::Column::ProgramId.eq(other.id)).one(db).await.unwrap()
        else {
            continue;
        };
        let mut more: partnership::ActiveModel = first.clone().into();
        more.id = Set(uuid::Uuid::now_v7());
        more.program_id = Set(other.id);
        more.tier_id = Set(tier.id);
        more.insert(db).await.unwrap();
    }
    let chris =
        gid_of(app, &world.token("chris@"), "{ viewer { user { id } } }", &["data", "viewer", "user", "id"]).await;
    let chris = partnerhub::ids::decode(&chris).unwrap().1;
    for org in entity::organization::Entity::find()
        .filter(entity::organization::Column::Kind.eq(partnerhub::domain::OrganizationKind::Partner))
        .all(db)
        .await
        .unwrap()
    {
        let _ = membership::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            user_id: Set(chris),
            organization_id: Set(org.id),
            role: Set(partnerhub::domain::Role::Technical),
            created_at: Set(chrono::Utc::now()),
            invited_by_organization_id: Set(None),
            invited_by_user_id: Set(None),
        }
        .insert(db)
        .await;
    }
    let product_row = entity::product::Entity::find().one(db).await.unwrap().unwrap();
    let anna_user = gid_of(app, &anna, "{ viewer { user { id } } }", &["data", "viewer", "user", "id"]).await;
    let anna_user = partnerhub::ids::decode(&anna_user).unwrap().1;
    let gold = entity::tier::Entity::find()
        .filter(entity::tier::Column::ProgramId.eq(first.program_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .max_by_key(|t| t.rank)
        .unwrap();
    tier_proposal::Entity::delete_many().exec(db).await.unwrap();
    for p in partnership::Entity::find().all(db).await.unwrap() {
        // One shape for all: the highest tier, with its gifts, from and to.
        tier_proposal::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            partnership_id: Set(p.id),
            organization_id: Set(p.organization_id),
            direction: Set(entity::enums::ProposalDirection::Upgrade),
            status: Set(entity::enums::ProposalStatus::Open),
            from_tier_id: Set(gold.id),
            to_tier_id: Set(gold.id),
            missing: Set(json!([])),
            proposed_at: Set(chrono::Utc::now()),
            decided_at: Set(None),
            decided_by_user_id: Set(None),
            reason: Set(None),
        }
        .insert(db)
        .await
        .unwrap();
        let _ = welcome_gift::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            partnership_id: Set(p.id),
            product_id: Set(product_row.id),
            shipping_address: Set("Bahnhofstrasse 1, Zürich".into()),
            claimed_by_user_id: Set(anna_user),
            claimed_at: Set(chrono::Utc::now()),
            shipped_at: Set(None),
            shipped_by_user_id: Set(None),
        }
        .insert(db)
        .await;
    }
    // The ledger: Alpine claims each product of Edelweiss (more claims), Fiona runs five more
    // payout batches, and Alpine's ledger gets entries in several states, posted directly (the
    // postings that make them are tested in ledger.rs).
    let products = app.gql(Some(&anna), "{ products { nodes { id } } }", json!({})).await;
    let claim =
        "mutation($c: ID!, $p: ID!) { claimPartnerOfRecord(input: {customerId: $c, productId: $p}) { claim { id } } }";
    for p in products["data"]["products"]["nodes"].as_array().unwrap() {
        gql(&anna, claim, json!({ "c": edelweiss, "p": p["id"] })).await;
    }
    let fiona = world.token("fiona.finance@");
    for i in 0..5 {
        let run =
            "mutation($k: String!) { runPayout(input: {idempotencyKey: $k, currency: \"EUR\"}) { batch { id } } }";
        gql(&fiona, run, json!({ "k": format!("thick-{i}") })).await;
    }
    {
        use partnerhub::{
            domain::{EntryKind, EntrySource, EntryState, ledger::Quarter},
            ids::{NodeType, decode_as},
            service::ledger::post,
        };
        let (partner, customer) = (
            decode_as(NodeType::Organization, &alpine).unwrap(),
            decode_as(NodeType::Organization, &edelweiss).unwrap(),
        );
        let now = app.ctx.now();
        for (i, state) in
            [EntryState::Pending, EntryState::Approved, EntryState::Approved, EntryState::Pending, EntryState::Approved]
                .into_iter()
                .enumerate()
        {
            let entry = post::NewEntry {
                partner_id: partner,
                kind: EntryKind::Commission,
                amount: rust_decimal::Decimal::new(1000 + i as i64, 2),
                currency: "EUR".into(),
                source_type: EntrySource::InvoiceLine,
                source_id: None,
                source_key: format!("thick:{i}"),
                customer_id: Some(customer),
                invoice_line_id: None,
                rule_id: None,
                rate: Some(rust_decimal::Decimal::from(20)),
                base: Some(rust_decimal::Decimal::new(5000 + 5 * i as i64, 2)),
                reverses_entry_id: None,
                quarter: Quarter::of(now),
                description: format!("thick {i}"),
                earned_at: now,
                state,
                hold_reason: (state == EntryState::Pending).then(|| "reversal window until tomorrow".to_string()),
                release_at: (state == EntryState::Pending).then(|| now + chrono::TimeDelta::days(1)),
                batch_id: None,
                reason: None,
            };
            post::post(db, entry, now).await.unwrap();
        }
    }
    // Affiliates: five more customers through Tisza's code, and codes for other organisations
    // written directly (only an affiliate's ADMIN gets one through the API).
    let tamas = world.token("tamas@");
    let code = gql(&tamas, "mutation { createReferralCode(input: {}) { referralCode { code } } }", json!({})).await;
    let code = code["data"]["createReferralCode"]["referralCode"]["code"].as_str().unwrap().to_string();
    let create = "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { organization { id } } }";
    for i in 0..5 {
        let input =
            json!({ "kind": "CUSTOMER", "name": format!("Referred {i} Oy"), "country": "FI", "referralCode": code });
        gql(&vera, create, json!({ "i": input })).await;
    }
    // More distributors on the approved list.
    let approve = "mutation($o: ID!) { setDistributorApproval(input: {organizationId: $o, active: true}) { active } }";
    for i in 0..5 {
        let input = json!({ "kind": "DISTRIBUTOR", "name": format!("Extra Distribution {i}"), "country": "AT" });
        let made = gql(&vera, create, json!({ "i": input })).await;
        gql(&vera, approve, json!({ "o": made["data"]["createOrganization"]["organization"]["id"] })).await;
    }
    {
        let first = entity::referral_code::Entity::find().one(db).await.unwrap().unwrap();
        let others = entity::organization::Entity::find()
            .filter(entity::organization::Column::Id.ne(first.partner_id))
            .all(db)
            .await
            .unwrap();
        for (i, org) in others.iter().take(5).enumerate() {
            entity::referral_code::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                partner_id: Set(org.id),
                program_id: Set(first.program_id),
                code: Set(format!("NW-THICK{i}")),
                created_by_user_id: Set(first.created_by_user_id),
                created_at: Set(chrono::Utc::now()),
            }
            .insert(db)
            .await
            .unwrap();
        }
    }
    // Rebate claims: four more of Alpine's, two of them marked by Danube (six and more in all).
    {
        use crate::rebate_claims::{ids, input, png, submit};
        let ids = ids(app, world).await;
        let (dora, day) = (world.token("dora@"), chrono::Utc::now().date_naive());
        for i in 0..4 {
            let vars =
                input(&ids.danube, &format!("THICK-{i}"), day, &[(&ids.d7, 1 + i), (&ids.d3, 1)], &format!("k{i}"));
            let (_, made) = submit(app, Some(&anna), vars, png(&format!("thick{i}")), "t.png").await;
            let made = ok(made);
            if i % 2 == 0 {
                let claim = &made["data"]["submitRebateClaim"]["claim"];
                let lines: Vec<Value> = claim["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| json!({ "lineId": l["id"], "mark": "CONFIRMED" }))
                    .collect();
                gql(&dora, "mutation($id: ID!, $l: [RebateLineMarkInput!]!) { markRebateClaimLines(input: {claimId: $id, lines: $l, note: \"ok\"}) { claim { id } } }", json!({ "id": claim["id"], "l": lines })).await;
            }
        }
    }
    // Tenders: four more of Edelweiss's, each with Alpine's response and interest.
    for i in 0..4 {
        let posted = gql(
            &erika,
            "mutation($i: PostTenderInput!) { postTender(input: $i) { tender { id } } }",
            json!({ "i": {
            "title": format!("Extra tender {i}"), "description": "Desk phones for another practice, installed and run.",
            "budget": { "min": "1000", "max": "2000", "currency": "CHF" }, "region": ["CH"],
            "deadline": (app.ctx.now() + chrono::TimeDelta::days(30)).to_rfc3339(),
            "contactName": "Erika", "contactEmail": "erika@edelweiss-dental.example" } }),
        )
        .await;
        let id = id_of(&posted, &["data", "postTender", "tender", "id"]);
        gql(
            &anna,
            "mutation($i: RespondToTenderInput!) { respondToTender(input: $i) { id } }",
            json!({ "i": {
            "tenderId": id, "proposal": "We do it.", "price": { "amount": "1500", "currency": "CHF" },
            "idempotencyKey": format!("extra-{i}") } }),
        )
        .await;
    }
    // Webhook endpoints of Alpine (written directly: registration checks URLs on the network),
    // and the demo's notifications delivered: e-mails and one webhook message per endpoint.
    {
        let alpine_id = partnerhub::ids::decode(&alpine).unwrap().1;
        let anna_id = entity::user::Entity::find()
            .filter(entity::user::Column::Email.eq("anna@alpinevoice.example"))
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .id;
        for i in 0..6 {
            entity::webhook_endpoint::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                organization_id: Set(alpine_id),
                url: Set(format!("https://hooks.example/{i}")),
                kinds: Set(json!(["TIER_CHANGED"])),
                description: Set(format!("endpoint {i}")),
                enabled: Set(true),
                disabled_at: Set(None),
                disabled_reason: Set(None),
                created_by_user_id: Set(anna_id),
                created_at: Set(chrono::Utc::now()),
                updated_at: Set(chrono::Utc::now()),
            }
            .insert(db)
            .await
            .unwrap();
        }
        partnerhub::jobs::outbox::run_once(&app.ctx).await.unwrap();
    }
    let mut variables = serde_json::Map::new();
    variables.insert("alpine".into(), json!(alpine));
    variables.insert("edelweiss".into(), json!(edelweiss));
    variables.insert("program".into(), json!(program));
    variables.insert("grant".into(), json!(grant));
    variables.insert("scoped".into(), json!(partnerhub::ids::encode(partnerhub::ids::NodeType::Grant, scoped.id)));
    variables.insert("phones".into(), json!(phones));
    variables.insert("period".into(), json!(month(1)));
    variables
}

#[tokio::test]
async fn every_list_costs_the_same_for_one_item_and_for_all() {
    let schema = schema();
    // Every list field of every type the walker finds has a row, an exemption, or a reason to grow.
    let mut fields = Vec::new();
    for (ty, own) in &schema.objects {
        if ty == "Mutation" || ty.ends_with("Connection") || ty.ends_with("Edge") {
            continue;
        }
        for f in own {
            let objects = schema.has_fields(&f.ty) && (f.list || schema.is_connection(&f.ty));
            if objects {
                fields.push(format!("{ty}.{}", f.name));
            }
        }
    }
    let known: BTreeSet<&str> =
        PATHS.iter().map(|p| p.0).chain(EXEMPT.iter().map(|e| e.0)).chain(["Query.nodes"]).collect();
    let missing: Vec<&String> = fields.iter().filter(|f| !known.contains(f.as_str())).collect();
    assert!(missing.is_empty(), "list fields without a row in tests/api/statements.rs: {missing:?}");

    // The queries select everything of a hundred items; the complexity limit is not under test.
    let app = TestApp::spawn_counting(|s| {
        s.graphql.max_complexity = usize::MAX;
        s.rate_limits.tender_posts_per_hour = 100;
    })
    .await;
    let world = app.demo().await;
    let variables = thicken(&app, &world).await;
    let grows: BTreeSet<&str> = GROWS.iter().map(|g| g.0).collect();
    let mut failures = Vec::new();
    for (field, actor, template) in PATHS {
        let (ty, name) = field.split_once('.').unwrap();
        let connection = schema.objects[ty].iter().find(|f| f.name == name).unwrap().ty.clone();
        let node = schema.node_of(&connection);
        // Nested connections that page per item would grow: they are left out here, each one
        // being checked on its own row.
        let selection = schema.selection(&node, 2);
        let selection = strip_growing(&schema, &node, &selection, &grows);
        let token = world.token(actor);
        // All items: the fewest of three runs, since a busy machine can split a batch (more
        // statements, never fewer), which is scheduling, not the number of items.
        let all = format!(
            "{name}({}first: 100) {{ totalCount edges {{ cursor }} nodes {{ {selection} }} }}",
            arguments(field)
        );
        let mut for_all = u64::MAX;
        let mut body = Value::Null;
        for _ in 0..3 {
            let (count, answer) = app
                .count_statements(app.gql(
                    Some(&token),
                    &template.replace("LIST", &all),
                    Value::Object(variables.clone()),
                ))
                .await;
            if answer.get("errors").is_some() {
                failures.push(format!("{field}: {}", answer["errors"]));
            }
            for_all = for_all.min(count);
            body = answer;
        }
        let size = find_total(&body).unwrap_or(0);
        // One item: each of the first items on its own page, the most statements any one costs.
        // Items differ in what they show (a grant with an assignment, a tier with gifts), and
        // which comes first is not fixed (UUIDs of one millisecond sort at random).
        let cursors: Vec<String> = find_key(&body, "edges")
            .unwrap_or_default()
            .iter()
            .take(12)
            .map(|e| e["cursor"].as_str().unwrap().to_string())
            .collect();
        let mut for_one = 0;
        for i in 0..cursors.len() {
            let after = if i == 0 { String::new() } else { format!("after: \"{}\", ", cursors[i - 1]) };
            let one = format!("{name}({}{after}first: 1) {{ totalCount nodes {{ {selection} }} }}", arguments(field));
            let (count, answer) = app
                .count_statements(app.gql(
                    Some(&token),
                    &template.replace("LIST", &one),
                    Value::Object(variables.clone()),
                ))
                .await;
            if answer.get("errors").is_some() {
                failures.push(format!("{field}: {}", answer["errors"]));
            }
            for_one = for_one.max(count);
        }
        let (counts, sizes) = ([for_one, for_all], [1, size]);
        eprintln!("{field}: {} items, {} statements for one, {} for all", sizes[1], counts[0], counts[1]);
        if sizes[1] < MIN_ITEMS {
            failures.push(format!("{field}: only {} item(s) to compare; thicken the world", sizes[1]));
        } else if counts[1] > counts[0] + SLACK {
            failures.push(format!("{field}: {} statements for one item, {} for {}", counts[0], counts[1], sizes[1]));
        }
    }
    // node(id:) for many ids: one statement per kind, not per id.
    let ids: Vec<String> = {
        let body = app
            .gql(
                Some(&world.token("vera.admin@")),
                "{ organizations(first: 20, filter: {kind: PARTNER}) { nodes { id } } }",
                json!({}),
            )
            .await;
        body["data"]["organizations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_string())
            .collect()
    };
    let by_ids = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Organization { id name kind tier { name } primaryDomain { name } } } }";
    let (one, _) = app.read_statements(Some(&world.token("vera.admin@")), by_ids, json!({ "ids": &ids[..1] })).await;
    let (all, _) = app.read_statements(Some(&world.token("vera.admin@")), by_ids, json!({ "ids": ids })).await;
    if one != all {
        failures.push(format!("Query.nodes: {one} statements for one id, {all} for {}", ids.len()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Drops from a selection the nested connections listed in GROWS (checked on their own rows).
fn strip_growing(schema: &Schema, node: &str, selection: &str, grows: &BTreeSet<&str>) -> String {
    let mut out = selection.to_string();
    let mut types = vec![node.to_string()];
    let mut seen = BTreeSet::new();
    while let Some(ty) = types.pop() {
        if !seen.insert(ty.clone()) || !schema.objects.contains_key(&ty) {
            continue;
        }
        for f in &schema.objects[&ty] {
            if grows.contains(format!("{ty}.{}", f.name).as_str()) {
                out = remove_field(&out, &f.name);
            }
            if schema.has_fields(&f.ty) {
                types.push(if schema.is_connection(&f.ty) { schema.node_of(&f.ty) } else { f.ty.clone() });
            }
        }
    }
    out
}

/// Removes every `name(...) { ... }` or `name { ... }` selection of that field name.
fn remove_field(selection: &str, name: &str) -> String {
    let mut out = String::new();
    let mut rest = selection;
    while let Some(at) = find_word(rest, name) {
        out.push_str(&rest[..at]);
        let mut tail = &rest[at + name.len()..];
        if tail.starts_with('(') {
            tail = &tail[tail.find(')').map_or(tail.len(), |i| i + 1)..];
        }
        let trimmed = tail.trim_start();
        if let Some(body) = trimmed.strip_prefix('{') {
            let mut depth = 1;
            let mut end = 0;
            for (i, c) in body.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            tail = &body[end..];
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Where `name` stands as a whole field name in a selection.
fn find_word(text: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(name) {
        let at = from + i;
        let before = text[..at].chars().last();
        let after = text[at + name.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if edge(before) && edge(after) {
            return Some(at);
        }
        from = at + name.len();
    }
    None
}

fn find_total(body: &Value) -> Option<i64> {
    match body {
        Value::Object(map) => {
            if let Some(n) = map.get("totalCount").and_then(Value::as_i64) {
                return Some(n);
            }
            map.values().find_map(find_total)
        }
        Value::Array(items) => items.iter().find_map(find_total),
        _ => None,
    }
}

#[tokio::test]
#[ignore]
async fn debug_which_field_grows() {
    let schema = schema();
    let app = TestApp::spawn_counting(|s| s.graphql.max_complexity = usize::MAX).await;
    let world = app.demo().await;
    let variables = thicken(&app, &world).await;
    let want: Vec<String> = std::env::var("ROWS").unwrap_or_default().split(',').map(str::to_string).collect();
    for (field, actor, template) in PATHS {
        if !want.iter().any(|w| w == field) {
            continue;
        }
        let (ty, name) = field.split_once('.').unwrap();
        let connection = schema.objects[ty].iter().find(|f| f.name == name).unwrap().ty.clone();
        let node = schema.node_of(&connection);
        let token = world.token(actor);
        if std::env::var_os("WHOLE").is_some() {
            let grows: BTreeSet<&str> = GROWS.iter().map(|g| g.0).collect();
            let selection = strip_growing(&schema, &node, &schema.selection(&node, 2), &grows);
            for size in [1, 100] {
                eprintln!("===== {field} first: {size}");
                let list =
                    format!("{name}({}first: {size}) {{ totalCount nodes {{ {selection} }} }}", arguments(field));
                app.gql(Some(&token), &template.replace("LIST", &list), Value::Object(variables.clone())).await;
            }
            continue;
        }
        for f in &schema.objects[&node] {
            if f.required_args {
                continue;
            }
            let sel = if !schema.has_fields(&f.ty) {
                f.name.clone()
            } else if schema.is_connection(&f.ty) {
                format!("{}(first: 3) {{ nodes {{ {} }} }}", f.name, schema.selection(&schema.node_of(&f.ty), 1))
            } else {
                format!("{} {{ {} }}", f.name, schema.selection(&f.ty, 1))
            };
            let grows: BTreeSet<&str> = GROWS.iter().map(|g| g.0).collect();
            let sel = strip_growing(&schema, &node, &sel, &grows);
            if sel.trim().is_empty() {
                continue;
            }
            let mut counts = vec![];
            for size in [1, 100] {
                let list = format!("{name}({}first: {size}) {{ totalCount nodes {{ {sel} }} }}", arguments(field));
                let query = template.replace("LIST", &list);
                let (count, _) = app.read_statements(Some(&token), &query, Value::Object(variables.clone())).await;
                counts.push(count);
            }
            if counts[0] != counts[1] {
                println!("{field} -> {}: {:?}", f.name, counts);
            }
        }
    }
}

/// Relay normalises by `id`: every object a list returns has one, and `node(id:)` fetches it
/// again for the same caller, except the computed report rows, whose IDs are stable instead.
#[tokio::test]
async fn every_listed_object_has_an_id_and_node_fetches_it_again() {
    let schema = schema();
    let app = TestApp::spawn_with(|s| s.graphql.max_complexity = usize::MAX).await;
    let world = app.demo().await;
    let variables = thicken(&app, &world).await;
    let not_nodes = ["BillingReportRow"];
    let mut checked = BTreeSet::new();
    for (field, actor, template) in PATHS {
        let (ty, name) = field.split_once('.').unwrap();
        let connection = schema.objects[ty].iter().find(|f| f.name == name).unwrap().ty.clone();
        let node = schema.node_of(&connection);
        assert!(schema.objects[&node].iter().any(|f| f.name == "id"), "{node} (from {field}) has no id");
        let list = format!("{name}({}first: 2) {{ nodes {{ __typename id }} }}", arguments(field));
        let token = world.token(actor);
        let body = app.gql(Some(&token), &template.replace("LIST", &list), Value::Object(variables.clone())).await;
        assert_no_errors(&body);
        let items = find_nodes(&body).unwrap_or_else(|| panic!("{field}: {body}"));
        assert!(!items.is_empty(), "{field} lists nothing to refetch");
        let again = app.gql(Some(&token), &template.replace("LIST", &list), Value::Object(variables.clone())).await;
        assert_eq!(find_nodes(&again), Some(items.clone()), "{field}: IDs are stable");
        for item in items {
            let id = item["id"].as_str().unwrap();
            let typename = item["__typename"].as_str().unwrap();
            let fetched =
                app.gql(Some(&token), "query($id: ID!) { node(id: $id) { __typename id } }", json!({ "id": id })).await;
            assert_no_errors(&fetched);
            if not_nodes.contains(&typename) {
                assert_eq!(fetched["data"]["node"], Value::Null, "{typename} is not a Node");
            } else {
                assert_eq!(fetched["data"]["node"], item, "{field}: node(id:) of a {typename} as {actor}");
            }
            checked.insert(typename.to_string());
        }
    }
    for must in [
        "Course",
        "ExamResult",
        "BillingReportRow",
        "GrantAssignment",
        "ProgramTerms",
        "SubscriptionChange",
        "TierChange",
    ] {
        assert!(checked.contains(must), "no list returned a {must}: {checked:?}");
    }
}

fn find_nodes(value: &Value) -> Option<Vec<Value>> {
    find_key(value, "nodes")
}

/// The first array under `key`, however deep.
fn find_key(value: &Value, key: &str) -> Option<Vec<Value>> {
    match value {
        Value::Object(map) => match map.get(key) {
            Some(Value::Array(items)) => Some(items.clone()),
            _ => map.values().find_map(|v| find_key(v, key)),
        },
        Value::Array(items) => items.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}
