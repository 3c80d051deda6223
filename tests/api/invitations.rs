//! Invitations: an admin invites by e-mail; only the same, verified address accepts, once, within
//! 7 days; admins resend and cancel; removed members lose access on their next request.

use chrono::TimeDelta;
use serde_json::{Value, json};

use crate::{browser, helpers::*};

const INVITE: &str =
    "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token invitation { id email role status } } }";
const ACCEPT: &str =
    "mutation($t: String!) { acceptInvitation(input: {token: $t}) { membership { id role organization { name } } } }";

struct Setup {
    app: TestApp,
    anna: String,
    alpine: String,
}

async fn setup() -> Setup {
    let app = browser::sso_app().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let alpine = organization_id(&app, &anna, "Alpine Voice AG").await;
    Setup { app, anna, alpine }
}

async fn invite(s: &Setup, email: &str, role: &str) -> Value {
    s.app.gql(Some(&s.anna), INVITE, json!({ "i": { "organizationId": s.alpine, "email": email, "role": role } })).await
}

fn token_of(body: &Value) -> String {
    body["data"]["inviteMember"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_string()
}

#[tokio::test]
async fn the_invited_verified_address_joins_with_the_role() {
    let s = setup().await;
    let body = invite(&s, "bob@example.test", "SALES").await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["inviteMember"]["invitation"]["status"], "PENDING");
    let token = token_of(&body);

    let bob = browser::sign_in(&s.app, "alpha", "bob").await;
    let (_, joined) = browser::gql(&s.app, &bob, ACCEPT, json!({ "t": token })).await;
    assert_no_errors(&joined);
    assert_eq!(joined["data"]["acceptInvitation"]["membership"]["role"], "SALES");
    let (_, me) = browser::gql(&s.app, &bob, "{ viewer { actingAs { role organization { name } } } }", json!({})).await;
    assert_eq!(me["data"]["viewer"]["actingAs"]["organization"]["name"], "Alpine Voice AG");

    // Used once only.
    let (_, again) = browser::gql(&s.app, &bob, ACCEPT, json!({ "t": token })).await;
    assert_eq!(error_code(&again), "CONFLICT");

    let list = s
        .app
        .gql(Some(&s.anna), "query($id: ID!) { node(id: $id) { ... on Organization { invitations { nodes { email status } } members { totalCount } } } }", json!({ "id": s.alpine }))
        .await;
    let bobs: Vec<_> = list["data"]["node"]["invitations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["email"] == "bob@example.test")
        .map(|n| n["status"].as_str().unwrap())
        .collect();
    assert_eq!(bobs, ["ACCEPTED"]);
    assert_eq!(list["data"]["node"]["members"]["totalCount"], 4, "Anna, Sam, Chris and Bob");
}

#[tokio::test]
async fn another_or_unverified_address_cannot_accept() {
    let s = setup().await;
    let token = token_of(&invite(&s, "bob@example.test", "SALES").await);
    let carol = browser::sign_in(&s.app, "alpha", "carol").await;
    let (_, refused) = browser::gql(&s.app, &carol, ACCEPT, json!({ "t": token })).await;
    assert_eq!(error_code(&refused), "FORBIDDEN");

    let token = token_of(&invite(&s, "unverified.dan@example.test", "SALES").await);
    let dan = browser::sign_in(&s.app, "alpha", "unverified.dan@example.test").await;
    let (_, refused) = browser::gql(&s.app, &dan, ACCEPT, json!({ "t": token })).await;
    assert_eq!(error_code(&refused), "FORBIDDEN");

    let (_, unknown) = browser::gql(&s.app, &carol, ACCEPT, json!({ "t": "phk_nothing" })).await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
}

#[tokio::test]
async fn expired_cancelled_and_resent_invitations() {
    let s = setup().await;
    let bob = browser::sign_in(&s.app, "alpha", "bob").await;

    let expired = token_of(&invite(&s, "bob@example.test", "SALES").await);
    s.app.clock.advance(TimeDelta::days(7) + TimeDelta::seconds(1));
    let bob = {
        // The session is 12 hours old by now: sign in again.
        let _ = bob;
        browser::sign_in(&s.app, "alpha", "bob").await
    };
    let (_, refused) = browser::gql(&s.app, &bob, ACCEPT, json!({ "t": expired })).await;
    assert_eq!(error_code(&refused), "CONFLICT");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("expired"));

    // An expired invitation no longer blocks a new one.
    let body = invite(&s, "bob@example.test", "TECHNICAL").await;
    let id = body["data"]["inviteMember"]["invitation"]["id"].as_str().unwrap().to_string();
    let old = token_of(&body);
    let resent = s
        .app
        .gql(Some(&s.anna), "mutation($id: ID!) { resendInvitation(input: {id: $id}) { token } }", json!({ "id": id }))
        .await;
    let new = resent["data"]["resendInvitation"]["token"].as_str().unwrap().to_string();
    let (_, stale) = browser::gql(&s.app, &bob, ACCEPT, json!({ "t": old })).await;
    assert_eq!(error_code(&stale), "NOT_FOUND");

    let cancelled = s
        .app
        .gql(
            Some(&s.anna),
            "mutation($id: ID!) { cancelInvitation(input: {id: $id}) { invitation { status } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(cancelled["data"]["cancelInvitation"]["invitation"]["status"], "CANCELLED");
    let (_, refused) = browser::gql(&s.app, &bob, ACCEPT, json!({ "t": new })).await;
    assert_eq!(error_code(&refused), "CONFLICT");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("cancelled"));
}

#[tokio::test]
async fn invitation_input_and_duplicates_are_checked() {
    let s = setup().await;
    let body = invite(&s, "not an address", "SALES").await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "email");
    let body = invite(&s, "x@example.test", "FINANCE").await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "role");
    assert_no_errors(&invite(&s, "x@example.test", "SALES").await);
    assert_eq!(error_code(&invite(&s, "x@example.test", "SALES").await), "CONFLICT");
    assert_eq!(error_code(&invite(&s, "sam@alpinevoice.example", "SALES").await), "CONFLICT", "already a member");
}

#[tokio::test]
async fn a_removed_member_loses_access_on_the_next_request() {
    let s = setup().await;
    let token = token_of(&invite(&s, "bob@example.test", "ADMIN").await);
    let bob = browser::sign_in(&s.app, "alpha", "bob").await;
    let (_, joined) = browser::gql(&s.app, &bob, ACCEPT, json!({ "t": token })).await;
    let membership = joined["data"]["acceptInvitation"]["membership"]["id"].as_str().unwrap().to_string();
    let (_, before) = browser::gql(&s.app, &bob, "{ organizations { totalCount } }", json!({})).await;
    assert_eq!(before["data"]["organizations"]["totalCount"], 3);

    let removed = s
        .app
        .gql(
            Some(&s.anna),
            "mutation($id: ID!) { removeMember(input: {membershipId: $id}) { removedMembershipId } }",
            json!({ "id": membership }),
        )
        .await;
    assert_no_errors(&removed);
    let (_, after) =
        browser::gql(&s.app, &bob, "{ viewer { actingAs { id } } organizations { totalCount } }", json!({})).await;
    assert!(after["data"]["viewer"]["actingAs"].is_null());
    assert_eq!(after["data"]["organizations"]["totalCount"], 0);

    // Anna is now the only ADMIN and cannot be removed.
    let members = s.app.gql(Some(&s.anna), "{ viewer { actingAs { id } } }", json!({})).await;
    let anna_membership = members["data"]["viewer"]["actingAs"]["id"].clone();
    let last = s
        .app
        .gql(
            Some(&s.anna),
            "mutation($id: ID!) { removeMember(input: {membershipId: $id}) { removedMembershipId } }",
            json!({ "id": anna_membership }),
        )
        .await;
    assert_eq!(error_code(&last), "CONFLICT");
}

/// The e-mailed link: the page shows the invitation; signed in as the invited address, its form
/// accepts it; a form posted from another site is refused.
#[tokio::test]
async fn the_e_mailed_link_opens_a_page_whose_form_accepts_the_invitation() {
    let s = setup().await;
    let token = token_of(&invite(&s, "bob@example.test", "SALES").await);
    let link = format!("/invitations/accept?token={token}");
    let page = s.app.client.get(s.app.url(&link)).send().await.unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Anna Alpine invites") && html.contains("bob@example.test"), "{html}");
    assert!(html.contains("/auth/login?provider=alpha"), "sign-in links come back here: {html}");
    assert!(!html.contains("<form"), "no form before sign-in");

    let bob = browser::sign_in(&s.app, "alpha", "bob").await;
    let signed = s.app.client.get(s.app.url(&link)).header("cookie", &bob).send().await.unwrap();
    let html = signed.text().await.unwrap();
    assert!(html.contains("<form method=\"post\" action=\"/invitations/accept\">"), "{html}");
    let post = |origin: &'static str| {
        s.app
            .client
            .post(s.app.url("/invitations/accept"))
            .header("cookie", &bob)
            .header("origin", origin)
            .form(&[("token", token.as_str())])
            .send()
    };
    let foreign = post("https://evil.example").await.unwrap();
    assert_eq!(foreign.status(), reqwest::StatusCode::FORBIDDEN);
    let accepted = post(crate::idp::PUBLIC_URL).await.unwrap();
    assert_eq!(accepted.status(), reqwest::StatusCode::OK);
    let html = accepted.text().await.unwrap();
    assert!(html.contains("You are now a member of <strong>Alpine Voice AG</strong> as sales"), "{html}");
    let again = post(crate::idp::PUBLIC_URL).await.unwrap();
    assert_eq!(again.status(), reqwest::StatusCode::CONFLICT);
}
