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
    assert_eq!(own["data"]["node"]["tierHistory"]["nodes"][0]["to"]["name"], "Silver");
    let inbox = app
        .gql(Some(&world.token("anna@")), "{ viewer { notifications { nodes { kind payload } } } }", json!({}))
        .await;
    let tier_changed: Vec<&Value> = inbox["data"]["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "TIER_CHANGED")
        .collect();
    assert_eq!(tier_changed.len(), 1);
    assert_eq!(tier_changed[0]["payload"]["reason"], "no certified engineer this year");
    // Another partner sees none of Celtic's history.
    let other = app
        .gql(Some(&world.token("bruno@")), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": celtic }))
        .await;
    assert!(other["data"]["node"].is_null());
}
