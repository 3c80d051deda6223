//! The authorization table: every actor × every mutation -> allowed or the refusal's code.
//! A mutation added to the schema without rows here fails `every_mutation_has_rows`.

use serde_json::{Value, json};

use crate::helpers::*;

/// Operations of the table, by schema field name.
const OPERATIONS: &[&str] = &[
    "createOrganization",
    "createServiceAccount",
    "createServiceAccountInAlpine",
    "createApiToken",
    "revokeApiToken",
    "inviteMember",
    "acceptInvitation",
    "resendInvitation",
    "cancelInvitation",
    "removeMember",
    "createCustomer",
    "addDomain",
    "verifyDomain",
    "changePartnerTier",
    "submitSuccessStory",
    "reviewSuccessStory",
    "createCourse",
    "recordExamResult",
];

/// (actor e-mail prefix or "anonymous", expected outcome per operation, in OPERATIONS order).
/// The grant operations have their own table, by grant state, in delegation.rs.
/// Targets: the actor's own organisation, Alpine, a token of Anna's, a bogus invitation token, an
/// invitation to Alpine, and a service account's membership in Alpine.
#[rustfmt::skip]
const TABLE: &[(&str, [&str; 18])] = &[
    ("vera.admin@", ["OK", "OK", "OK", "OK", "NOT_FOUND", "OK", "NOT_FOUND", "OK", "OK", "OK", "FORBIDDEN", "OK", "BAD_USER_INPUT", "OK", "FORBIDDEN", "OK", "OK", "OK"]),
    ("carl.channel@", ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "NOT_FOUND", "FORBIDDEN", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "FORBIDDEN", "OK", "FORBIDDEN", "OK"]),
    ("fiona.finance@", ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "NOT_FOUND", "FORBIDDEN", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    ("anna@", ["FORBIDDEN", "OK", "OK", "OK", "OK", "OK", "NOT_FOUND", "OK", "OK", "OK", "OK", "OK", "BAD_USER_INPUT", "FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    ("sam@", ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "NOT_FOUND", "FORBIDDEN", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    ("bruno@", ["FORBIDDEN", "OK", "NOT_FOUND", "OK", "NOT_FOUND", "OK", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "OK", "OK", "NOT_FOUND", "FORBIDDEN", "OK", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN"]),
    // Edelweiss has an active grant with Alpine, so it sees Alpine but may not act on it.
    ("erika@", ["FORBIDDEN", "OK", "FORBIDDEN", "OK", "NOT_FOUND", "OK", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN"]),
    // Hanse has no relationship with Alpine: Alpine does not exist for it.
    ("hans@", ["FORBIDDEN", "OK", "NOT_FOUND", "OK", "NOT_FOUND", "OK", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN", "OK", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN"]),
    ("dora@", ["FORBIDDEN", "OK", "NOT_FOUND", "OK", "NOT_FOUND", "OK", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN", "OK", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN"]),
    ("anonymous", ["UNAUTHENTICATED"; 18]),
];

fn outcome(body: &Value) -> String {
    match body.get("errors") {
        None => "OK".into(),
        Some(_) => error_code(body).to_string(),
    }
}

#[tokio::test]
async fn actors_by_operations() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let anna = world.token("anna@");
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let celtic = organization_id(&app, &vera, "Celtic Comms Ltd").await;
    let sam_id = app.gql(Some(&world.token("sam@")), "{ viewer { user { id } } }", json!({})).await["data"]["viewer"]["user"]["id"].clone();

    let mut failures = Vec::new();
    for (row, (actor, expected)) in TABLE.iter().enumerate() {
        let token = (*actor != "anonymous").then(|| world.token(actor));
        let own_org =
            match &token {
                Some(t) => app.gql(Some(t), "{ viewer { actingAs { organization { id } } } }", json!({})).await["data"]
                    ["viewer"]["actingAs"]["organization"]["id"]
                    .as_str()
                    .map(str::to_string),
                None => Some(alpine.clone()),
            };
        let added = app
            .gql(
                Some(&anna),
                "mutation($i: AddDomainInput!) { addDomain(input: $i) { domain { id } } }",
                json!({ "i": { "organizationId": alpine, "domain": format!("alpine{row}.example") } }),
            )
            .await;
        let alpine_domain = added["data"]["addDomain"]["domain"]["id"].clone();
        let story = app
            .gql(
                Some(&anna),
                "mutation($i: SubmitSuccessStoryInput!) { submitSuccessStory(input: $i) { story { id } } }",
                json!({ "i": { "customerName": "Edelweiss", "title": "Story", "summary": "Told.", "products": ["D785"], "publishable": false } }),
            )
            .await;
        let story_id = story["data"]["submitSuccessStory"]["story"]["id"].clone();
        // A tier Celtic is not at now, so that an allowed change is a change.
        let celtic_now = app
            .gql(Some(&vera), "query($id: ID!) { node(id: $id) { ... on Organization { tier { id } program { tiers { nodes { id } } } } } }", json!({ "id": celtic }))
            .await;
        let current = celtic_now["data"]["node"]["tier"]["id"].clone();
        let next_tier = celtic_now["data"]["node"]["program"]["tiers"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].clone())
            .find(|id| *id != current)
            .unwrap();
        let victim = app
            .gql(Some(&anna), "mutation { createApiToken(input: {name: \"victim\"}) { apiToken { id } } }", json!({}))
            .await;
        let victim_id = victim["data"]["createApiToken"]["apiToken"]["id"].clone();
        // Fresh targets for every actor, so one row's success cannot change the next row.
        let invited = app
            .gql(
                Some(&anna),
                "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { invitation { id } } }",
                json!({ "i": { "organizationId": alpine, "email": format!("guest.{}@example.test", actor.trim_end_matches('@')), "role": "SALES" } }),
            )
            .await;
        let invitation_id = invited["data"]["inviteMember"]["invitation"]["id"].clone();
        app.gql(
            Some(&anna),
            "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { token } }",
            json!({ "i": { "organizationId": alpine, "name": "target", "role": "SALES" } }),
        )
        .await;
        let members = app
            .gql(
                Some(&anna),
                "query($id: ID!) { node(id: $id) { ... on Organization { members(last: 1) { nodes { id } } } } }",
                json!({ "id": alpine }),
            )
            .await;
        let target_membership = members["data"]["node"]["members"]["nodes"][0]["id"].clone();
        for (i, operation) in OPERATIONS.iter().enumerate() {
            let (query, variables) = match *operation {
                "createOrganization" => (
                    "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { organization { id } } }",
                    json!({ "i": { "kind": "CUSTOMER", "name": format!("by {actor}"), "country": "FR" } }),
                ),
                "createServiceAccount" => (
                    "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { token } }",
                    json!({ "i": { "organizationId": own_org, "name": "integration", "role": "ADMIN" } }),
                ),
                "createServiceAccountInAlpine" => (
                    "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { token } }",
                    json!({ "i": { "organizationId": alpine, "name": "integration", "role": "ADMIN" } }),
                ),
                "createApiToken" => ("mutation { createApiToken(input: {name: \"mine\"}) { token } }", json!({})),
                "revokeApiToken" => (
                    "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { status } } }",
                    json!({ "id": victim_id }),
                ),
                "inviteMember" => (
                    "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }",
                    json!({ "i": { "organizationId": own_org, "email": format!("new.{}@example.test", actor.trim_end_matches('@')), "role": "ADMIN" } }),
                ),
                "acceptInvitation" => {
                    ("mutation { acceptInvitation(input: {token: \"phk_bogus\"}) { membership { id } } }", json!({}))
                }
                "resendInvitation" => (
                    "mutation($id: ID!) { resendInvitation(input: {id: $id}) { token } }",
                    json!({ "id": invitation_id }),
                ),
                "cancelInvitation" => (
                    "mutation($id: ID!) { cancelInvitation(input: {id: $id}) { invitation { status } } }",
                    json!({ "id": invitation_id }),
                ),
                "removeMember" => (
                    "mutation($id: ID!) { removeMember(input: {membershipId: $id}) { removedMembershipId } }",
                    json!({ "id": target_membership }),
                ),
                "createCustomer" => (
                    "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }",
                    json!({ "i": { "name": format!("Client of {actor}"), "country": "FR", "adminEmail": "boss@client.example",
                                   "vatNumber": format!("FR{}", 10_000_000 + row) } }),
                ),
                "addDomain" => (
                    "mutation($i: AddDomainInput!) { addDomain(input: $i) { domain { id } } }",
                    json!({ "i": { "organizationId": own_org, "domain": format!("d{row}.example") } }),
                ),
                "verifyDomain" => (
                    "mutation($id: ID!) { verifyDomain(input: {id: $id}) { domain { verified } } }",
                    json!({ "id": alpine_domain }),
                ),
                "changePartnerTier" => (
                    "mutation($i: ChangePartnerTierInput!) { changePartnerTier(input: $i) { partner { id } } }",
                    json!({ "i": { "partnerId": celtic, "tierId": next_tier, "reason": "table row" } }),
                ),
                "submitSuccessStory" => (
                    "mutation($i: SubmitSuccessStoryInput!) { submitSuccessStory(input: $i) { story { id } } }",
                    json!({ "i": { "customerName": "A clinic", "title": "Phones in every room", "summary": "It works.", "products": ["D785"], "publishable": true } }),
                ),
                "reviewSuccessStory" => (
                    "mutation($i: ReviewSuccessStoryInput!) { reviewSuccessStory(input: $i) { story { status } } }",
                    json!({ "i": { "id": story_id, "accept": true } }),
                ),
                "createCourse" => (
                    "mutation($i: CreateCourseInput!) { createCourse(input: $i) { course { code } } }",
                    json!({ "i": { "code": format!("C{row}"), "title": "A course", "kind": "ONLINE", "fee": { "amount": "0", "currency": "EUR" } } }),
                ),
                "recordExamResult" => (
                    "mutation($i: RecordExamResultInput!) { recordExamResult(input: $i) { examResult { certificateNumber } } }",
                    json!({ "i": { "userId": sam_id, "courseCode": "BASIC", "passedAt": "2026-01-01T00:00:00Z", "certificateNumber": format!("B-{row}") } }),
                ),
                other => panic!("no request for {other}"),
            };
            let got = outcome(&app.gql(token.as_deref(), query, variables).await);
            if got != expected[i] {
                failures.push(format!("{actor} {operation}: expected {}, got {got}", expected[i]));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_mutation_has_rows() {
    let sdl = partnerhub::graphql::sdl();
    // Parsed, not read line by line: arguments with descriptions span several lines.
    let doc = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
    let fields: Vec<String> = doc
        .definitions
        .into_iter()
        .filter_map(|d| match d {
            async_graphql::parser::types::TypeSystemDefinition::Type(t) if t.node.name.node == "Mutation" => {
                match t.node.kind {
                    async_graphql::parser::types::TypeKind::Object(o) => {
                        Some(o.fields.into_iter().map(|f| f.node.name.node.to_string()).collect::<Vec<_>>())
                    }
                    _ => None,
                }
            }
            _ => None,
        })
        .flatten()
        .collect();
    assert!(fields.len() > 40, "the walker found the mutations: {fields:?}");
    let mut missing = Vec::new();
    for name in &fields {
        let name = name.as_str();
        if !(OPERATIONS
            .iter()
            .chain(crate::delegation::OPERATIONS.iter())
            .chain(crate::onboarding::OPERATIONS.iter())
            .chain(crate::billing::OPERATIONS.iter())
            .chain(crate::who_pays::OPERATIONS.iter())
            .chain(crate::cross_party::OPERATIONS.iter())
            .chain(crate::deals::OPERATIONS.iter())
            .chain(crate::ledger::OPERATIONS.iter())
            .chain(crate::rebates::OPERATIONS.iter())
            .chain(crate::rebate_claims::OPERATIONS.iter())
            .chain(crate::notifications::OPERATIONS.iter())
            .chain(crate::dashboard::OPERATIONS.iter())
            .chain(crate::directory::OPERATIONS.iter())
            .chain(crate::tenders::OPERATIONS.iter())
            .chain(crate::programme_rules::OPERATIONS.iter())
            .any(|op| *op == name))
        {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "mutations without rows in an authorization table: {missing:?}");
}
