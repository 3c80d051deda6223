//! Rebate claims (issue 16, part two), as a client sends them: GraphQL multipart requests with
//! the invoice file. Each rule is played from the abusive side too: an executable renamed
//! `.pdf`, an upload that never ends, a rival re-filing another partner's invoice with its
//! number written differently, a Registered partner, a distributor reaching for amounts, a
//! partner downloading another's invoice.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const SUBMIT: &str = "mutation($input: SubmitRebateClaimInput!) { submitRebateClaim(input: $input) { claim {
    id status invoiceNumber amount { amount currency } tier { name }
    lines { id productLine quantity amountPerUnit { amount } amount { amount } }
    invoiceFile { url contentType sizeBytes sha256 fileName } } } }";
const CLAIMS: &str =
    "query($status: RebateClaimStatus) { rebateClaims(filter: {status: $status}, first: 50) { totalCount nodes {
    id status invoiceNumber amount { amount } partner { name } distributorNote
    lines { id quantity amount { amount } distributorMark } invoiceFile { url } } } }";
const ACCEPT: &str =
    "mutation($id: ID!) { acceptRebateClaim(input: {claimId: $id}) { claim { status acceptedAt amount { amount } } } }";
const REJECT: &str = "mutation($id: ID!, $reason: RebateRejectionReason!, $text: String) {
    rejectRebateClaim(input: {claimId: $id, reason: $reason, text: $text}) { claim { status rejectionReason rejectionText } } }";
const MARK: &str = "mutation($id: ID!, $lines: [RebateLineMarkInput!]!, $note: String) {
    markRebateClaimLines(input: {claimId: $id, lines: $lines, note: $note}) { claim { distributorNote lines { distributorMark } } } }";

/// What a claim names, from the demo.
pub struct Ids {
    pub danube: String,
    pub sava: String,
    pub d7: String,
    pub d3: String,
    pub cloud: String,
}

pub async fn ids(app: &TestApp, world: &World) -> Ids {
    let vera = world.token("vera.admin@");
    let body = app.gql(Some(&vera), "{ products(first: 10) { nodes { id sku } } }", json!({})).await;
    let product = |sku: &str| {
        body["data"]["products"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .find(|p| p["sku"] == sku)
            .unwrap_or_else(|| panic!("no {sku}: {body}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    Ids {
        danube: organization_id(app, &vera, "Danube Distribution GmbH").await,
        sava: organization_id(app, &vera, "Sava Supply d.o.o.").await,
        d7: product("D785"),
        d3: product("D385"),
        cloud: product("CPBX"),
    }
}

/// A PNG's signature followed by `tag`: a distinct file per tag.
pub fn png(tag: &str) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(tag.as_bytes());
    bytes
}

pub fn pdf(tag: &str) -> Vec<u8> {
    partnerhub::demo::invoice_pdf(tag)
}

/// The claim's input without its file.
pub fn input(distributor: &str, number: &str, date: chrono::NaiveDate, lines: &[(&str, i32)], key: &str) -> Value {
    json!({
        "distributorId": distributor, "invoiceNumber": number, "invoiceDate": date.to_string(),
        "lines": lines.iter().map(|(p, q)| json!({ "productId": p, "quantity": q })).collect::<Vec<_>>(),
        "file": null, "idempotencyKey": key,
    })
}

/// Sends `submitRebateClaim` as a GraphQL multipart request (operations, map, file).
pub async fn submit(
    app: &TestApp,
    token: Option<&str>,
    input: Value,
    file: Vec<u8>,
    name: &str,
) -> (StatusCode, Value) {
    let operations = json!({ "query": SUBMIT, "variables": { "input": input } });
    let part = reqwest::multipart::Part::bytes(file).file_name(name.to_string()).mime_str("application/pdf").unwrap();
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.input.file"] }).to_string())
        .part("0", part);
    let mut request = app.client.post(app.url("/graphql")).multipart(form);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn claim(body: &Value) -> &Value {
    let claim = &body["data"]["submitRebateClaim"]["claim"];
    assert!(claim.is_object(), "{body}");
    claim
}

fn today(app: &TestApp) -> chrono::NaiveDate {
    app.ctx.now().date_naive()
}

fn field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn an_invoice_is_judged_by_its_content_not_its_name() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, fiona) = (world.token("anna@"), world.token("fiona.finance@"));
    let ids = ids(&app, &world).await;
    let before = app.gql(Some(&fiona), CLAIMS, json!({})).await["data"]["rebateClaims"]["totalCount"].clone();
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.extend_from_slice(&[0u8; 200]);
    let mut zip = b"PK\x03\x04\x14\x00\x00\x00".to_vec();
    zip.extend_from_slice(b"word/document.xml");
    for (i, (bytes, what)) in
        [(elf, "an ELF"), (zip, "a ZIP"), (b"%PD".to_vec(), "three bytes"), (Vec::new(), "nothing")]
            .into_iter()
            .enumerate()
    {
        let key = format!("bad-{i}");
        let vars = input(&ids.danube, &format!("BAD-{i}"), today(&app), &[(&ids.d7, 1)], &key);
        let (_, refused) = submit(&app, Some(&anna), vars, bytes, "invoice.pdf").await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{what}: {refused}");
        assert_eq!(field(&refused), "file", "{what}: {refused}");
    }
    let after = app.gql(Some(&fiona), CLAIMS, json!({})).await;
    assert_eq!(after["data"]["rebateClaims"]["totalCount"], before, "nothing was stored: {after}");

    // A PNG named .pdf and declared application/pdf is taken, as the PNG it is.
    let vars = input(&ids.danube, "PNG-1", today(&app), &[(&ids.d7, 2)], "png-1");
    let (status, taken) = submit(&app, Some(&anna), vars, png("scan"), "invoice.pdf").await;
    assert_eq!(status, StatusCode::OK);
    let file = &claim(&taken)["invoiceFile"];
    assert_eq!(file["contentType"], "image/png", "{taken}");
    assert_eq!(file["fileName"], "invoice.pdf");
    assert_eq!(file["sizeBytes"], 12);
    // The download is the same bytes, with the judged type, as an attachment.
    let url = app.url(file["url"].as_str().unwrap());
    let got = app.client.get(&url).bearer_auth(&fiona).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(header(got.headers(), "content-type"), "image/png");
    assert_eq!(header(got.headers(), "x-content-type-options"), "nosniff");
    assert!(header(got.headers(), "content-disposition").starts_with("attachment; filename=\"invoice-PNG-1.png\""));
    assert_eq!(got.bytes().await.unwrap().as_ref(), png("scan").as_slice());
}

/// An upload past the limit is refused while it streams in: the server answers 413 and stops
/// reading, so the client manages to send only a little more than the limit of a body twenty
/// times larger, and the server never holds it.
#[tokio::test]
async fn an_upload_over_the_limit_is_cut_while_it_streams_in() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let ids = ids(&app, &world).await;
    const LIMIT: usize = 10 * 1024 * 1024;

    // Exactly at the limit: taken. One byte over: refused, naming the file.
    let mut at_limit = pdf("big");
    at_limit.resize(LIMIT, b' ');
    let vars = input(&ids.danube, "BIG-1", today(&app), &[(&ids.d7, 1)], "big-1");
    let (status, taken) = submit(&app, Some(&anna), vars, at_limit.clone(), "big.pdf").await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert_eq!(claim(&taken)["invoiceFile"]["sizeBytes"], LIMIT);
    at_limit.push(b' ');
    let vars = input(&ids.danube, "BIG-2", today(&app), &[(&ids.d7, 1)], "big-2");
    let (status, refused) = submit(&app, Some(&anna), vars, at_limit, "big.pdf").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{refused}");
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    assert_eq!(field(&refused), "file");

    // 200 MiB announced and sent slowly, by hand: the answer comes long before the end.
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let boundary = "xxBOUNDARYxx";
    let vars = input(&ids.danube, "BIG-3", today(&app), &[(&ids.d7, 1)], "big-3");
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"huge.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n",
        json!({ "query": SUBMIT, "variables": { "input": vars } }),
        json!({ "0": ["variables.input.file"] }),
    );
    let total: usize = 200 * 1024 * 1024;
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {anna}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n{head}",
        head.len() + total
    );
    let (mut reader, mut writer) = socket.split();
    let chunk = vec![b'A'; 64 * 1024];
    let mut sent = 0usize;
    let mut answer = Vec::new();
    writer.write_all(request.as_bytes()).await.unwrap();
    let send = async {
        while sent < total {
            if writer.write_all(&chunk).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
    };
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
    };
    tokio::select! {
        () = read => {},
        () = async { send.await; std::future::pending::<()>().await } => {},
        () = tokio::time::sleep(std::time::Duration::from_secs(60)) => panic!("no answer within 60 s"),
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"field\":\"file\""), "{answer}");
    // The limit plus what the sockets' buffers hold: far from the 200 MiB announced.
    assert!(sent < LIMIT + 24 * 1024 * 1024, "the server read on: {sent} bytes were sent");
    let claims = app.gql(Some(&anna), CLAIMS, json!({})).await;
    let numbers: Vec<&str> = claims["data"]["rebateClaims"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["invoiceNumber"].as_str().unwrap())
        .collect();
    assert!(numbers.contains(&"BIG-1") && !numbers.contains(&"BIG-2") && !numbers.contains(&"BIG-3"), "{claims}");
}

#[tokio::test]
async fn duplicates_are_refused_across_partners_and_only_the_owner_learns_which_claim() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, sam, bruno) = (world.token("anna@"), world.token("sam@"), world.token("bruno@"));
    let ids = ids(&app, &world).await;
    let day = today(&app) - chrono::Days::new(3);
    let (_, first) = submit(
        &app,
        Some(&anna),
        input(&ids.danube, "INV-2026/0042", day, &[(&ids.d7, 5), (&ids.d3, 2)], "a"),
        png("one"),
        "a.png",
    )
    .await;
    let first_id = claim(&first)["id"].as_str().unwrap().to_string();

    // The same file: refused for Alpine's own SALES user (naming the claim) and for Baltic (not).
    let (_, own) =
        submit(&app, Some(&sam), input(&ids.danube, "OTHER-1", day, &[(&ids.d7, 1)], "b"), png("one"), "again.png")
            .await;
    assert_eq!(error_code(&own), "CONFLICT", "{own}");
    assert_eq!(field(&own), "file");
    assert!(own["errors"][0]["message"].as_str().unwrap().contains(&first_id), "{own}");
    let (_, rival) =
        submit(&app, Some(&bruno), input(&ids.danube, "OTHER-2", day, &[(&ids.d7, 1)], "c"), png("one"), "x.png").await;
    assert_eq!(error_code(&rival), "CONFLICT", "{rival}");
    assert_eq!(field(&rival), "file");
    let message = rival["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains(&first_id) && !message.contains("Alpine"), "a rival learns only the reason: {rival}");

    // The same invoice number, written differently, with the same distributor.
    for (i, number) in ["inv 2026 0042", "INV-2026-0042", " Inv/2026/0042 "].iter().enumerate() {
        let (_, refused) = submit(
            &app,
            Some(&bruno),
            input(&ids.danube, number, day, &[(&ids.d3, 9)], &format!("n{i}")),
            png(&format!("n{i}")),
            "n.png",
        )
        .await;
        assert_eq!(error_code(&refused), "CONFLICT", "{number}: {refused}");
        assert_eq!(field(&refused), "invoiceNumber", "{refused}");
    }
    // Identical lines on the same date and distributor, in another order, under another number.
    let (_, lines) = submit(
        &app,
        Some(&bruno),
        input(&ids.danube, "ZZ-1", day, &[(&ids.d3, 2), (&ids.d7, 5)], "l"),
        png("l"),
        "l.png",
    )
    .await;
    assert_eq!(error_code(&lines), "CONFLICT", "{lines}");
    assert_eq!(field(&lines), "lines", "{lines}");
    // Another date with those lines is another purchase.
    let (status, other_day) = submit(
        &app,
        Some(&bruno),
        input(&ids.danube, "ZZ-2", day - chrono::Days::new(1), &[(&ids.d3, 2), (&ids.d7, 5)], "m"),
        png("m"),
        "m.png",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{other_day}");
    assert!(other_day["errors"].is_null(), "{other_day}");

    // Two partners racing with one invoice: one claim stands.
    let race = |token: String, key: &'static str| {
        let vars = input(&ids.danube, "RACE-7", day, &[(&ids.d7, 3)], key);
        let app = &app;
        async move { submit(app, Some(&token), vars, png(key), "r.png").await.1 }
    };
    let answers = futures_util::future::join_all([race(anna.clone(), "r1"), race(bruno.clone(), "r2")]).await;
    assert_eq!(answers.iter().filter(|a| a["errors"].is_null()).count(), 1, "{answers:?}");
    assert!(answers.iter().any(|a| error_code(a) == "CONFLICT"), "{answers:?}");

    // A rejected claim no longer blocks: the corrected claim on that invoice is taken.
    let fiona = world.token("fiona.finance@");
    let text = "the invoice shows 4 units";
    let rejected =
        app.gql(Some(&fiona), REJECT, json!({ "id": first_id, "reason": "QUANTITY_MISMATCH", "text": text })).await;
    assert_eq!(rejected["data"]["rejectRebateClaim"]["claim"]["status"], "REJECTED", "{rejected}");
    let (status, corrected) = submit(
        &app,
        Some(&anna),
        input(&ids.danube, "INV-2026/0042", day, &[(&ids.d7, 4)], "fixed"),
        png("one"),
        "a.png",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(corrected["errors"].is_null(), "{corrected}");
}

#[tokio::test]
async fn only_silver_and_gold_claim_and_the_rate_is_the_tier_and_date_s() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, bruno, cara, dora, erika) = (
        world.token("anna@"),
        world.token("bruno@"),
        world.token("cara@"),
        world.token("dora@"),
        world.token("erika@"),
    );
    let ids = ids(&app, &world).await;
    let day = today(&app);
    // Celtic is Registered: refused, and told which tiers may claim.
    let (_, registered) =
        submit(&app, Some(&cara), input(&ids.danube, "C-1", day, &[(&ids.d7, 1)], "c1"), png("c1"), "c.png").await;
    assert_eq!(error_code(&registered), "FORBIDDEN", "{registered}");
    assert!(registered["errors"][0]["message"].as_str().unwrap().contains("Silver or Gold"), "{registered}");
    for token in [&dora, &erika] {
        let (_, refused) =
            submit(&app, Some(token), input(&ids.danube, "X-1", day, &[(&ids.d7, 1)], "x1"), png("x1"), "x.png").await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    }
    let (status, anonymous) =
        submit(&app, None, input(&ids.danube, "A-1", day, &[(&ids.d7, 1)], "a1"), png("a1"), "a.png").await;
    assert_eq!((status, error_code(&anonymous)), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"), "{anonymous}");

    // Bad input names its field, and stores nothing.
    let future = day + chrono::Days::new(1);
    for (vars, want) in [
        (input(&ids.sava, "S-1", day, &[(&ids.d7, 1)], "s1"), "distributorId"),
        (input(&ids.danube, " -- ", day, &[(&ids.d7, 1)], "s2"), "invoiceNumber"),
        (input(&ids.danube, "S-3", future, &[(&ids.d7, 1)], "s3"), "invoiceDate"),
        (input(&ids.danube, "S-4", day, &[(&ids.d7, 0)], "s4"), "lines"),
        (input(&ids.danube, "S-5", day, &[], "s5"), "lines"),
        (input(&ids.danube, "S-6", day, &[(&ids.cloud, 1)], "s6"), "lines"),
    ] {
        let (_, refused) = submit(&app, Some(&anna), vars, png(want), "s.png").await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{want}: {refused}");
        assert_eq!(field(&refused), want, "{refused}");
    }

    // Gold's D7xx rate rose from 12 to 15 EUR at this quarter's start; Silver's is 9.
    let start = partnerhub::domain::ledger::Quarter::of(app.ctx.now()).start().date_naive();
    let eve = start - chrono::Days::new(1);
    let priced = |token: String, number: &'static str, date: chrono::NaiveDate, d3: i32| {
        let vars = input(&ids.danube, number, date, &[(&ids.d7, 10), (&ids.d3, d3)], number);
        let app = &app;
        async move {
            let (_, body) = submit(app, Some(&token), vars, png(number), "p.png").await;
            let c = claim(&body);
            (c["amount"]["amount"].as_str().unwrap().to_string(), c["tier"]["name"].as_str().unwrap().to_string())
        }
    };
    assert_eq!(priced(anna.clone(), "G-EVE", eve, 1).await, ("128.00".into(), "Gold".into()));
    assert_eq!(priced(anna.clone(), "G-DAY", start, 1).await, ("158.00".into(), "Gold".into()));
    assert_eq!(priced(bruno.clone(), "S-DAY", start, 2).await, ("102.00".into(), "Silver".into()));
    // Frozen: a new rate does not change a claim already made.
    let claims = app.gql(Some(&anna), CLAIMS, json!({})).await;
    let g_day = claims["data"]["rebateClaims"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["invoiceNumber"] == "G-DAY")
        .cloned();
    assert_eq!(g_day.unwrap()["lines"][0]["amount"]["amount"], "150.00", "{claims}");
}

#[tokio::test]
async fn accepted_then_rejected_leaves_the_balance_where_it_was() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, fiona, carl) = (world.token("anna@"), world.token("fiona.finance@"), world.token("carl.channel@"));
    let ids = ids(&app, &world).await;
    const BALANCE: &str = "{ partnerBalances { currency approvedUnpaid { amount } pending { amount } } rebateSummary { accepted { amount } unpaid { amount } paid { amount } claimsAccepted claimsOpen } }";
    let before = app.gql(Some(&anna), BALANCE, json!({})).await;
    let (_, body) = submit(
        &app,
        Some(&anna),
        input(&ids.danube, "ACC-1", today(&app), &[(&ids.d7, 4)], "acc"),
        png("acc"),
        "a.png",
    )
    .await;
    let id = claim(&body)["id"].as_str().unwrap().to_string();
    assert_eq!(claim(&body)["amount"]["amount"], "60.00");
    // A CHANNEL_MANAGER does not decide rebates; the partner cannot accept its own claim.
    for token in [&carl, &anna] {
        assert_eq!(error_code(&app.gql(Some(token), ACCEPT, json!({ "id": id })).await), "FORBIDDEN");
    }
    let accepted = app.gql(Some(&fiona), ACCEPT, json!({ "id": id })).await;
    assert_eq!(accepted["data"]["acceptRebateClaim"]["claim"]["status"], "ACCEPTED", "{accepted}");
    assert_eq!(error_code(&app.gql(Some(&fiona), ACCEPT, json!({ "id": id })).await), "CONFLICT");
    let during = app.gql(Some(&anna), BALANCE, json!({})).await;
    let owed = |b: &Value| -> rust_decimal::Decimal {
        b["data"]["partnerBalances"][0]["approvedUnpaid"]["amount"].as_str().unwrap().parse().unwrap()
    };
    assert_eq!(owed(&during) - owed(&before), rust_decimal::Decimal::from(60), "{during}");
    let summary = |b: &Value| b["data"]["rebateSummary"].clone();
    let unpaid = |b: &Value| -> rust_decimal::Decimal {
        b["data"]["rebateSummary"]["unpaid"]["amount"].as_str().unwrap().parse().unwrap()
    };
    assert_eq!(unpaid(&during) - unpaid(&before), rust_decimal::Decimal::from(60), "{during}");
    assert_eq!(summary(&during)["claimsOpen"], summary(&before)["claimsOpen"], "{during}");
    // OTHER needs words; then the rejection reverses the rebate.
    let wordless = app.gql(Some(&fiona), REJECT, json!({ "id": id, "reason": "OTHER" })).await;
    assert_eq!((error_code(&wordless), field(&wordless)), ("BAD_USER_INPUT", "text"), "{wordless}");
    let rejected = app
        .gql(Some(&fiona), REJECT, json!({ "id": id, "reason": "UNUSUAL_ACTIVITY", "text": "four invoices in a day" }))
        .await;
    assert_eq!(rejected["data"]["rejectRebateClaim"]["claim"]["rejectionReason"], "UNUSUAL_ACTIVITY", "{rejected}");
    let after = app.gql(Some(&anna), BALANCE, json!({})).await;
    assert_eq!(after["data"]["partnerBalances"], before["data"]["partnerBalances"], "{after}");
    assert_eq!(summary(&after), summary(&before), "{after}");
    let ledger = app
        .gql(
            Some(&anna),
            "{ partnerLedger(filter: {kind: REVERSAL}) { nodes { amount { amount } state description } } }",
            json!({}),
        )
        .await;
    let reversal = &ledger["data"]["partnerLedger"]["nodes"][0];
    assert_eq!(reversal["amount"]["amount"], "-60.00", "{ledger}");
    assert_eq!(reversal["state"], "REVERSED");
    // The partner heard of both decisions.
    let notes =
        app.gql(Some(&anna), "{ viewer { notifications(last: 50) { nodes { kind payload } } } }", json!({})).await;
    let decided = notes["data"]["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{notes}"))
        .iter()
        .filter(|n| n["kind"] == "REBATE_CLAIM_DECIDED" && n["payload"]["claimId"] == id)
        .count();
    assert_eq!(decided, 2, "{notes}");
}

#[tokio::test]
async fn the_distributor_reads_its_claims_without_amounts_and_marks_the_lines() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, bruno, dora, fiona, erika) = (
        world.token("anna@"),
        world.token("bruno@"),
        world.token("dora@"),
        world.token("fiona.finance@"),
        world.token("erika@"),
    );
    let ids = ids(&app, &world).await;
    let (_, body) = submit(
        &app,
        Some(&anna),
        input(&ids.danube, "MK-1", today(&app), &[(&ids.d7, 4), (&ids.d3, 1)], "mk"),
        pdf("mk"),
        "m.pdf",
    )
    .await;
    let c = claim(&body).clone();
    let id = c["id"].as_str().unwrap();
    let seen = app.gql(Some(&dora), CLAIMS, json!({})).await;
    let mine =
        seen["data"]["rebateClaims"]["nodes"].as_array().unwrap().iter().find(|n| n["id"] == id).cloned().unwrap();
    assert_eq!(mine["amount"], Value::Null, "{seen}");
    assert!(mine["lines"].as_array().unwrap().iter().all(|l| l["amount"].is_null()), "{seen}");
    // A rival partner and a customer see none of it; the rival cannot download the invoice.
    for token in [&bruno, &erika] {
        let node = app.gql(Some(token), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
        assert_eq!(node["data"]["node"], Value::Null, "{node}");
    }
    let url = app.url(c["invoiceFile"]["url"].as_str().unwrap());
    for (token, want) in [
        (Some(&anna), 200),
        (Some(&dora), 200),
        (Some(&fiona), 200),
        (Some(&bruno), 404),
        (Some(&erika), 404),
        (None, 401),
    ] {
        let mut get = app.client.get(&url);
        if let Some(token) = token {
            get = get.bearer_auth(token);
        }
        assert_eq!(get.send().await.unwrap().status().as_u16(), want, "{token:?}");
    }
    let lines: Vec<Value> = c["lines"].as_array().unwrap().iter().map(|l| l["id"].clone()).collect();
    let marks = json!([{ "lineId": lines[0], "mark": "CONFIRMED" }, { "lineId": lines[1], "mark": "DISPUTED" }]);
    // Only the named distributor marks; the partner cannot confirm its own claim.
    for token in [&anna, &fiona] {
        let refused = app.gql(Some(token), MARK, json!({ "id": id, "lines": marks, "note": "ok" })).await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    }
    let foreign = app
        .gql(
            Some(&dora),
            MARK,
            json!({ "id": id, "lines": [{ "lineId": uuid::Uuid::now_v7().to_string(), "mark": "CONFIRMED" }] }),
        )
        .await;
    assert_eq!((error_code(&foreign), field(&foreign)), ("BAD_USER_INPUT", "lines"), "{foreign}");
    let marked =
        app.gql(Some(&dora), MARK, json!({ "id": id, "lines": marks, "note": "D385 was not delivered" })).await;
    assert_eq!(
        marked["data"]["markRebateClaimLines"]["claim"]["lines"],
        json!([{ "distributorMark": "CONFIRMED" }, { "distributorMark": "DISPUTED" }]),
        "{marked}"
    );
    let queue = app.gql(Some(&fiona), CLAIMS, json!({ "status": "OPEN" })).await;
    let nodes = queue["data"]["rebateClaims"]["nodes"].as_array().unwrap();
    let staff_view = nodes.iter().find(|n| n["id"] == id).unwrap();
    assert_eq!(staff_view["distributorNote"], "D385 was not delivered");
    assert_eq!(staff_view["amount"]["amount"], "68.00");
    // The queue is oldest first: the demo's open claim before this one.
    assert_eq!(nodes.last().unwrap()["id"], id, "{queue}");
    assert!(nodes.len() >= 2);
}

/// Mutations of this second part, with who may run them.
pub const OPERATIONS: [&str; 4] =
    ["submitRebateClaim", "acceptRebateClaim", "rejectRebateClaim", "markRebateClaimLines"];

/// Per actor: submit, read (the claim by `node`), accept, reject, mark, download.
#[rustfmt::skip]
const TABLE: &[(&str, [&str; 6])] = &[
    ("vera.admin@",    ["FORBIDDEN", "OK",   "OK",        "OK",        "FORBIDDEN", "200"]),
    ("fiona.finance@", ["FORBIDDEN", "OK",   "OK",        "OK",        "FORBIDDEN", "200"]),
    ("carl.channel@",  ["FORBIDDEN", "OK",   "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "200"]),
    ("anna@",          ["OK",        "OK",   "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "200"]),
    ("sam@",           ["OK",        "OK",   "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "200"]),
    ("bruno@",         ["OK",        "NONE", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "404"]),
    ("cara@",          ["FORBIDDEN", "NONE", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "404"]),
    ("dora@",          ["FORBIDDEN", "OK",   "FORBIDDEN", "FORBIDDEN", "OK",        "200"]),
    ("erika@",         ["FORBIDDEN", "NONE", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "404"]),
    ("anonymous",      ["UNAUTHENTICATED", "NONE", "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "401"]),
];

async fn actors_by_claim_operations(app: &TestApp) {
    let world = app.demo().await;
    let ids = ids(app, &world).await;
    let anna = world.token("anna@");
    let mut failures = Vec::new();
    for (i, (actor, expected)) in TABLE.iter().enumerate() {
        let token = (*actor != "anonymous").then(|| world.token(actor));
        let token = token.as_deref();
        // A fresh claim of Alpine's per actor, so each decision starts from OPEN.
        let key = format!("t{i}");
        let (_, made) = submit(
            app,
            Some(&anna),
            input(&ids.danube, &format!("T-{i}"), today(app), &[(&ids.d7, 1 + i as i32)], &key),
            png(&key),
            "t.png",
        )
        .await;
        let target = claim(&made).clone();
        let id = target["id"].as_str().unwrap().to_string();
        let line = target["lines"][0]["id"].clone();
        let mut got = Vec::new();
        let (_, submitted) = submit(
            app,
            token,
            input(&ids.danube, &format!("OWN-{i}"), today(app), &[(&ids.d3, 200 + i as i32)], &format!("own{i}")),
            png(&format!("own{i}")),
            "o.png",
        )
        .await;
        got.push(outcome(&submitted));
        let read = app.gql(token, "query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
        got.push(if read["errors"].is_null() && read["data"]["node"].is_null() {
            "NONE".into()
        } else {
            outcome(&read)
        });
        got.push(outcome(&app.gql(token, ACCEPT, json!({ "id": id })).await));
        let (_, again) = submit(
            app,
            Some(&anna),
            input(&ids.danube, &format!("R-{i}"), today(app), &[(&ids.d3, 100 + i as i32)], &format!("r{i}")),
            png(&format!("r{i}")),
            "r.png",
        )
        .await;
        let open = claim(&again)["id"].clone();
        got.push(outcome(&app.gql(token, REJECT, json!({ "id": open, "reason": "DUPLICATE" })).await));
        let marks = json!([{ "lineId": line, "mark": "CONFIRMED" }]);
        got.push(outcome(&app.gql(token, MARK, json!({ "id": id, "lines": marks })).await));
        let mut download = app.client.get(app.url(target["invoiceFile"]["url"].as_str().unwrap()));
        if let Some(token) = token {
            download = download.bearer_auth(token);
        }
        let response = download.send().await.unwrap();
        let status = response.status().as_u16();
        if status == 200 {
            assert_eq!(response.bytes().await.unwrap().as_ref(), png(&key).as_slice(), "{actor} downloads the bytes");
        }
        got.push(status.to_string());
        for ((op, want), got) in
            ["submit", "read", "accept", "reject", "mark", "download"].iter().zip(expected).zip(got)
        {
            if got != *want {
                failures.push(format!("{actor} {op}: want {want}, got {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn outcome(body: &Value) -> String {
    if body["errors"].is_null() { "OK".into() } else { error_code(body).to_string() }
}

#[tokio::test]
async fn actors_by_rebate_claim_operations_on_the_local_store() {
    actors_by_claim_operations(&TestApp::spawn().await).await;
}

#[tokio::test]
async fn actors_by_rebate_claim_operations_on_an_s3_store() {
    actors_by_claim_operations(&TestApp::spawn_with(s3_files).await).await;
}

/// Two nodes sharing a bucket: a file uploaded through one downloads through the other.
#[tokio::test]
async fn nodes_on_one_bucket_serve_each_other_s_files() {
    let app = TestApp::spawn_with(s3_files).await;
    let world = app.demo().await;
    let (anna, fiona) = (world.token("anna@"), world.token("fiona.finance@"));
    let ids = ids(&app, &world).await;
    let tag = format!("s3-{}", uuid::Uuid::now_v7());
    let (_, body) =
        submit(&app, Some(&anna), input(&ids.danube, "S3-1", today(&app), &[(&ids.d7, 1)], "s3"), pdf(&tag), "s3.pdf")
            .await;
    let url = claim(&body)["invoiceFile"]["url"].as_str().unwrap().to_string();
    let other = app.second_node().await;
    let got = other.client.get(other.url(&url)).bearer_auth(&fiona).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(header(got.headers(), "content-type"), "application/pdf");
    assert_eq!(got.bytes().await.unwrap().as_ref(), pdf(&tag).as_slice());
}

/// An accepted rebate is owed, and the next payout batch pays it: the dashboard moves it from
/// unpaid to paid, and a claim rejected after that is taken back from the next payout.
#[tokio::test]
async fn an_accepted_rebate_is_paid_in_the_next_payout() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, fiona) = (world.token("anna@"), world.token("fiona.finance@"));
    let ids = ids(&app, &world).await;
    const SUMMARY: &str = "{ rebateSummary { accepted { amount } paid { amount } unpaid { amount } claimsAccepted } }";
    let (_, body) = submit(
        &app,
        Some(&anna),
        input(&ids.danube, "PAY-1", today(&app), &[(&ids.d3, 5)], "pay"),
        png("pay"),
        "p.png",
    )
    .await;
    let id = claim(&body)["id"].as_str().unwrap().to_string();
    assert_no_errors(&app.gql(Some(&fiona), ACCEPT, json!({ "id": id })).await);
    let before = app.gql(Some(&anna), SUMMARY, json!({})).await;
    // The demo's accepted 320 EUR and these 40.
    assert_eq!(
        before["data"]["rebateSummary"],
        json!({ "accepted": { "amount": "360.00" }, "paid": { "amount": "0.00" }, "unpaid": { "amount": "360.00" }, "claimsAccepted": 2 })
    );
    let run = "mutation { runPayout(input: {idempotencyKey: \"rebates\", currency: \"EUR\"}) { batch { statements { partner { name } amount { amount } } } } }";
    let paid = app.gql(Some(&fiona), run, json!({})).await;
    assert_no_errors(&paid);
    let after = app.gql(Some(&anna), SUMMARY, json!({})).await;
    assert_eq!(
        after["data"]["rebateSummary"],
        json!({ "accepted": { "amount": "360.00" }, "paid": { "amount": "360.00" }, "unpaid": { "amount": "0.00" }, "claimsAccepted": 2 }),
        "{paid}"
    );
    // Rejected once paid: the reversal is owed back, in the ledger as approved.
    assert_no_errors(&app.gql(Some(&fiona), REJECT, json!({ "id": id, "reason": "DUPLICATE" })).await);
    let ledger = app
        .gql(
            Some(&anna),
            "{ partnerLedger(filter: {kind: REVERSAL}) { nodes { amount { amount } state } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        ledger["data"]["partnerLedger"]["nodes"][0],
        json!({ "amount": { "amount": "-40.00" }, "state": "APPROVED" })
    );
}

/// A client that sends its claim twice at once (a double click, a retry on a slow line) gets one
/// claim, the same one, from both.
#[tokio::test]
async fn the_same_claim_sent_twice_at_once_is_one_claim() {
    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let ids = ids(&app, &world).await;
    let send = || {
        let vars = input(&ids.danube, "TWICE-1", today(&app), &[(&ids.d7, 2)], "twice");
        let (app, anna) = (&app, &anna);
        async move { submit(app, Some(anna), vars, png("twice"), "t.png").await.1 }
    };
    let answers = futures_util::future::join_all([send(), send(), send()]).await;
    let claim_ids: Vec<&Value> = answers.iter().map(|a| &claim(a)["id"]).collect();
    assert!(claim_ids.iter().all(|id| *id == claim_ids[0]), "{answers:?}");
    let claims = app.gql(Some(&anna), CLAIMS, json!({})).await;
    let twice = claims["data"]["rebateClaims"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["invoiceNumber"] == "TWICE-1")
        .count();
    assert_eq!(twice, 1, "{claims}");
    // The key is optional: without one, a claim is taken once, and sent again it is a duplicate.
    let mut keyless = input(&ids.danube, "KEYLESS-1", today(&app), &[(&ids.d3, 3)], "unused");
    keyless["idempotencyKey"] = Value::Null;
    let (_, first) = submit(&app, Some(&anna), keyless.clone(), png("keyless"), "k.png").await;
    assert_eq!(claim(&first)["status"], "OPEN");
    let (_, again) = submit(&app, Some(&anna), keyless, png("keyless"), "k.png").await;
    assert_eq!(error_code(&again), "CONFLICT", "{again}");
}
