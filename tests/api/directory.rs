//! The public partner directory (issue 18): who is listed, the search's order and filters, what a
//! visitor may read, who may edit a profile, and the pages visitors use.

use serde_json::{Value, json};

use crate::helpers::*;

pub const OPERATIONS: [&str; 1] = ["updatePartnerProfile"];

const ENTRY: &str = "name slug profilePath description logoUrl website city country coordinates { lat lon }
    languages expertise productLines tier { name rank } certifiedPeople distanceKm
    stories(first: 3) { nodes { title summary customerName } }";

fn search_query() -> String {
    format!(
        "query($q: String, $f: DirectoryFilter, $first: Int, $after: String) {{
            directory(query: $q, filter: $f, first: $first, after: $after) {{
                edges {{ cursor node {{ {ENTRY} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
}

async fn search(app: &TestApp, token: Option<&str>, q: Option<&str>, filter: Value) -> Vec<Value> {
    let body = app.gql(token, &search_query(), json!({ "q": q, "f": filter, "first": 50 })).await;
    assert_no_errors(&body);
    body["data"]["directory"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

fn names(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|e| e["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn visitors_find_listed_partners_only_and_read_public_fields_only() {
    let app = TestApp::spawn().await;
    app.demo().await;
    let all = search(&app, None, None, json!(null)).await;
    let listed = names(&all);
    assert_eq!(listed.len(), 12, "a dozen listed partners: {listed:?}");
    // Celtic is at Registered (no listing); Vltava opted out.
    for hidden in ["Celtic Comms Ltd", "Vltava Integrace s.r.o."] {
        assert!(!listed.iter().any(|n| n == hidden), "{hidden} is listed: {listed:?}");
    }
    // Tier first: every Gold before every Silver.
    let ranks: Vec<i64> = all.iter().map(|e| e["tier"]["rank"].as_i64().unwrap()).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");
    // Public fields only: no e-mail anywhere, and a story's customer only with its consent
    // (Nordlicht's accepted story about Matterhorn Bank was not published).
    let text = serde_json::to_string(&all).unwrap();
    assert!(!text.contains('@'), "an e-mail in the directory: {text}");
    assert!(!text.contains("Matterhorn"), "an unpublished story's customer: {text}");
    let alpine = all.iter().find(|e| e["name"] == "Alpine Voice AG").unwrap();
    assert_eq!(alpine["tier"]["name"], "Gold");
    assert!(alpine["certifiedPeople"].as_i64().unwrap() >= 1, "{alpine}");
    assert!(!alpine["stories"]["nodes"].as_array().unwrap().is_empty(), "{alpine}");
    let schema = app.gql(None, "{ __type(name: \"DirectoryEntry\") { fields { name } } }", json!({})).await;
    let fields = schema["data"]["__type"]["fields"].to_string().to_lowercase();
    for private in ["email", "revenue", "customers", "members", "vat"] {
        assert!(!fields.contains(private), "DirectoryEntry exposes {private}: {fields}");
    }

    // The same through the profile's slug; an unlisted partner has none to show.
    let one = app
        .gql(None, "query($s: String!) { directoryEntry(slug: $s) { name } }", json!({ "s": "alpine-voice-ag" }))
        .await;
    assert_eq!(one["data"]["directoryEntry"]["name"], "Alpine Voice AG");
    let hidden = app
        .gql(None, "query($s: String!) { directoryEntry(slug: $s) { name } }", json!({ "s": "celtic-comms-ltd" }))
        .await;
    assert!(hidden["data"]["directoryEntry"].is_null(), "{hidden}");
}

#[tokio::test]
async fn a_name_match_ranks_above_a_description_match_and_gold_above_silver() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let found = search(&app, None, Some("voice"), json!(null)).await;
    let order = names(&found);
    let at = |name: &str| order.iter().position(|n| n == name).unwrap_or_else(|| panic!("{name} not in {order:?}"));
    // Both Gold: Alpine has "voice" in its name, Nordlicht only in its description.
    assert!(at("Alpine Voice AG") < at("Nordlicht Telecom GmbH"), "{order:?}");
    // Adriatic Voice has it in its name too, but is Silver.
    assert!(at("Nordlicht Telecom GmbH") < at("Adriatic Voice d.o.o."), "{order:?}");
    assert!(found.iter().all(|e| e["name"] != "Baltic Cloud SIA"), "{order:?}");

    // Equal text at Gold and at Silver: Gold first.
    let vera = world.token("vera.admin@");
    for partner in ["Seine Téléphonie SAS", "Tajo Comunicaciones SL"] {
        let id = organization_id(&app, &vera, partner).await;
        let body = app
            .gql(
                Some(&vera),
                "mutation($i: UpdatePartnerProfileInput!) { updatePartnerProfile(input: $i) { listed } }",
                json!({ "i": { "partnerId": id, "description": "Zebracall contact centres.", "city": "", "expertise": [], "productLines": [] } }),
            )
            .await;
        assert_eq!(body["data"]["updatePartnerProfile"]["listed"], true, "{body}");
    }
    let zebra = names(&search(&app, None, Some("zebracall"), json!(null)).await);
    assert_eq!(zebra, ["Seine Téléphonie SAS", "Tajo Comunicaciones SL"]);
    // Prefixes match; words that are not words do nothing harmful.
    assert_eq!(names(&search(&app, None, Some("zebra"), json!(null)).await).len(), 2);
    assert!(search(&app, None, Some("\" OR * ( NEAR"), json!(null)).await.len() <= 12);
}

#[tokio::test]
async fn filters_narrow_the_directory_and_near_orders_by_distance() {
    let app = TestApp::spawn().await;
    app.demo().await;
    let german = search(&app, None, None, json!({ "country": "de" })).await;
    assert!(!german.is_empty() && german.iter().all(|e| e["country"] == "DE"), "{german:?}");
    let sip = search(&app, None, None, json!({ "expertise": "SIP TRUNKING" })).await;
    assert!(!sip.is_empty(), "expertise matches case-insensitively");
    assert!(sip.iter().all(|e| {
        e["expertise"].as_array().unwrap().iter().any(|x| x.as_str().unwrap().eq_ignore_ascii_case("sip trunking"))
    }));
    let polish = search(&app, None, None, json!({ "language": "pl" })).await;
    assert_eq!(names(&polish), ["Vistula Systems sp. z o.o."]);
    let pbx = search(&app, None, None, json!({ "productLine": "Cloud PBX" })).await;
    assert!(pbx.len() >= 2);

    let tiers =
        app.gql(None, "{ programs(first: 10) { nodes { name tiers { nodes { id name } } } } }", json!({})).await;
    let gold = tiers["data"]["programs"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["tiers"]["nodes"].as_array().cloned().unwrap_or_default())
        .find(|t| t["name"] == "Gold")
        .unwrap()["id"]
        .clone();
    let golds = search(&app, None, None, json!({ "tier": gold })).await;
    assert!(golds.len() >= 3 && golds.iter().all(|e| e["tier"]["name"] == "Gold"), "{golds:?}");

    // 100 km around Vienna: the two Viennese partners, nearest first, with their distance.
    let vienna = json!({ "near": { "lat": 48.2082, "lon": 16.3738, "km": 100.0 } });
    let near = search(&app, None, None, vienna).await;
    assert_eq!(names(&near), ["Donau Netzwerk GmbH", "Wiener Cloudwerk KG"]);
    let km: Vec<_> = near.iter().map(|e| e["distanceKm"].as_f64().unwrap()).collect();
    assert!(km[0] <= km[1] && km[1] < 5.0, "{km:?}");
    // 700 km reaches Zurich (about 593 km) but not Paris.
    let wide =
        names(&search(&app, None, None, json!({ "near": { "lat": 48.2082, "lon": 16.3738, "km": 700.0 } })).await);
    assert!(wide.contains(&"Alpine Voice AG".to_string()) && !wide.contains(&"Seine Téléphonie SAS".to_string()));

    let bad = app.gql(None, &search_query(), json!({ "f": { "near": { "lat": 91.0, "lon": 0.0, "km": 5.0 } } })).await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "filter.near.lat");
    let cursor = app.gql(None, &search_query(), json!({ "after": "not-a-cursor" })).await;
    assert_eq!(cursor["errors"][0]["extensions"]["field"], "after");
}

#[tokio::test]
async fn pages_of_the_directory_follow_each_other_at_a_fixed_cost() {
    let app = TestApp::spawn_counting(|_| {}).await;
    app.demo().await;
    let all = names(&search(&app, None, None, json!(null)).await);
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let (n, body) = app.read_statements(None, &search_query(), json!({ "first": 5, "after": after })).await;
        assert_no_errors(&body);
        // The search, the profiles, and the badges, certifications and stories of the page.
        assert!(n <= 5, "a directory page costs {n} statements");
        let page = &body["data"]["directory"];
        seen.extend(page["edges"].as_array().unwrap().iter().map(|e| e["node"]["name"].as_str().unwrap().to_string()));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, all, "pages follow each other without gap or repeat");
}

#[tokio::test]
async fn only_the_partner_s_admin_or_staff_edit_a_profile_and_bad_input_keeps_it() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let vera = world.token("vera.admin@");
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let update = "mutation($i: UpdatePartnerProfileInput!) { updatePartnerProfile(input: $i) { listed profile { description optedIn } } }";
    // (actor, outcome) on Alpine's profile: the guest does not redecorate the house.
    let table: &[(&str, &str)] = &[
        ("anna@", "ok"),
        ("vera.admin@", "ok"),
        ("sam@", "FORBIDDEN"),
        ("bruno@", "FORBIDDEN"),
        ("erika@", "FORBIDDEN"),
        ("dora@", "FORBIDDEN"),
        ("anonymous", "UNAUTHENTICATED"),
    ];
    for (actor, expected) in table {
        let token = (*actor != "anonymous").then(|| world.token(actor));
        let body = app
            .gql(
                token.as_deref(),
                update,
                json!({ "i": { "partnerId": alpine, "description": format!("Edited by {actor}") } }),
            )
            .await;
        if *expected == "ok" {
            assert_no_errors(&body);
        } else {
            assert_eq!(error_code(&body), *expected, "{actor}: {body}");
        }
    }
    assert_eq!(alpine_entry(&app).await["data"]["directoryEntry"]["description"], "Edited by vera.admin@");

    let anna = world.token("anna@");
    for (input, field) in [
        (json!({ "logoUrl": "http://alpinevoice.example/logo.png" }), "logoUrl"),
        (json!({ "website": "javascript:alert(1)" }), "website"),
        (json!({ "coordinates": { "lat": 12.0, "lon": 181.0 } }), "coordinates.lon"),
        (json!({ "languages": ["german"] }), "languages"),
        (json!({ "description": "x".repeat(2001) }), "description"),
        (json!({ "country": "XX" }), "country"),
    ] {
        let body = app.gql(Some(&anna), update, json!({ "i": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let kept = alpine_entry(&app).await;
    assert_eq!(kept["data"]["directoryEntry"]["description"], "Edited by vera.admin@", "bad input lost nothing");

    // Markup is stored as text and escaped on the page.
    let body =
        app.gql(Some(&anna), update, json!({ "i": { "description": "<script>alert(1)</script> & friends" } })).await;
    assert_no_errors(&body);
    let page = reqwest::get(format!("{}/partners/alpine-voice-ag", app.base)).await.unwrap().text().await.unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;") && page.contains("&amp; friends"), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");

    // Opting out takes the partner out of the directory at once.
    let out = app.gql(Some(&anna), update, json!({ "i": { "optedIn": false } })).await;
    assert_eq!(out["data"]["updatePartnerProfile"]["listed"], false, "{out}");
    assert!(alpine_entry(&app).await["data"]["directoryEntry"].is_null());
}

#[tokio::test]
async fn the_pages_search_show_profiles_and_explain_what_went_wrong() {
    let app = TestApp::spawn().await;
    app.demo().await;
    let client = reqwest::Client::new();
    let response = client.get(format!("{}/partners?q=voice", app.base)).send().await.unwrap();
    assert_eq!(response.status(), OK);
    let csp = header(response.headers(), "content-security-policy").to_string();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(html.contains("<label for=\"q\">") && html.contains("value=\"voice\""), "the form keeps the text");
    assert!(html.contains("Alpine Voice AG") && html.contains("class=\"badge tier-gold\""), "{html}");
    assert!(!html.contains("<script"), "no script on a public page");

    let page = client.get(format!("{}/partners/alpine-voice-ag", app.base)).send().await.unwrap();
    assert_eq!(page.status(), OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>Alpine Voice AG") && html.contains("Success stories"), "{html}");

    let missing = client.get(format!("{}/partners/celtic-comms-ltd", app.base)).send().await.unwrap();
    assert_eq!(missing.status(), 404, "an unlisted partner has no page");
    assert!(missing.text().await.unwrap().contains("No listed partner has this address."));

    // A filter edited in the address is said in words, with what the visitor typed kept.
    let bad = client.get(format!("{}/partners?q=cloud&tier=bogus", app.base)).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let html = bad.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("value=\"cloud\""), "{html}");

    let css = client.get(format!("{}/assets/site.css", app.base)).send().await.unwrap();
    assert_eq!(header(css.headers(), "content-type"), "text/css; charset=utf-8");
}

async fn alpine_entry(app: &TestApp) -> Value {
    app.gql(None, "{ directoryEntry(slug: \"alpine-voice-ag\") { description logoUrl } }", json!({})).await
}
