//! Rules between the two sides of a grant, each played from the abusive side: the guest who
//! would seize the house (a partner making itself ADMIN of its customer), and the one who does
//! not pay raising the bill (a customer raising what its partner pays for).

use serde_json::{Value, json};

use crate::{browser, helpers::*};

const INVITE: &str = "mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token invitation { id role status invitedByPartnerId } } }";
const ACCEPT: &str = "mutation($t: String!) { acceptInvitation(input: {token: $t}) { membership { id role } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeGrant(input: {id: $id}) { grant { status } } }";
const MEMBERS: &str = "query($id: ID!) { node(id: $id) { ... on Organization {
    members(first: 50) { nodes { id role user { email } invitedByName broughtInBy { partnerId partnerName } } }
    invitations(first: 50) { nodes { email status invitedByPartnerId } } } } }";

fn at<'a>(body: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(body, |v, p| match p.parse::<usize>() {
        Ok(i) => &v[i],
        Err(_) => &v[*p],
    })
}

fn text(body: &Value, path: &[&str]) -> String {
    at(body, path).as_str().unwrap_or_else(|| panic!("no {path:?} in {body}")).to_string()
}

/// The live grant `partner` holds on `customer`, as the customer's admin sees it.
async fn grant_of(app: &TestApp, customer_admin: &str, customer: &str, partner_name: &str) -> String {
    let body = app
        .gql(
            Some(customer_admin),
            "query($id: ID!) { node(id: $id) { ... on Organization { grants(first: 50) { nodes { id status partner { name } } } } } }",
            json!({ "id": customer }),
        )
        .await;
    at(&body, &["data", "node", "grants", "nodes"])
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["partner"]["name"] == partner_name && g["status"] == "ACTIVE")
        .unwrap_or_else(|| panic!("no active grant of {partner_name}: {body}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The issue's reproduction, step by step: Anna (Alpine's ADMIN, a grant on Edelweiss with
/// MANAGE_USERS) tries to make her shadow address ADMIN of Edelweiss and keep it after the
/// customer revokes her. Every step that made the takeover work is refused now.
#[tokio::test]
async fn a_partner_cannot_seize_its_customers_account() {
    let app = browser::sso_app().await;
    let world = app.demo().await;
    let (anna, erika, vera) = (world.token("anna@"), world.token("erika@"), world.token("vera.admin@"));
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let invite =
        |role: &str, email: &str| json!({ "i": { "organizationId": edelweiss, "email": email, "role": role } });

    // 1. The ADMIN invitation is refused outright, naming the rule.
    let admin = app.gql(Some(&anna), INVITE, invite("ADMIN", "anna.shadow@alpinevoice.example")).await;
    assert_eq!(error_code(&admin), "FORBIDDEN", "{admin}");
    assert!(text(&admin, &["errors", "0", "message"]).contains("BILLING and MEMBER"));
    // An ordinary user is fine, and marked as the partner's.
    let member = app.gql(Some(&anna), INVITE, invite("MEMBER", "anna.shadow@alpinevoice.example")).await;
    assert_no_errors(&member);
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    assert_eq!(at(&member, &["data", "inviteMember", "invitation", "invitedByPartnerId"]), &json!(alpine));
    let token = text(&member, &["data", "inviteMember", "token"]);

    // 2. Erika revokes Alpine's grant: the partner's pending invitation dies with it, audited.
    let grant = grant_of(&app, &erika, &edelweiss, "Alpine Voice AG").await;
    assert_no_errors(&app.gql(Some(&erika), REVOKE, json!({ "id": grant })).await);
    let listed = app.gql(Some(&erika), MEMBERS, json!({ "id": edelweiss })).await;
    let shadow = at(&listed, &["data", "node", "invitations", "nodes"])
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "anna.shadow@alpinevoice.example")
        .cloned()
        .unwrap();
    assert_eq!(shadow["status"], "CANCELLED", "{listed}");
    let audit = app
        .gql(Some(&erika), "query($id: ID!) { auditEvents(organizationId: $id, filter: {action: \"invitation.cancelled\"}) { nodes { after } } }", json!({ "id": edelweiss }))
        .await;
    assert!(text(&audit, &["data", "auditEvents", "nodes", "0", "after", "reason"]).contains("ended"), "{audit}");

    // 3. The address signs in through SSO and tries to accept: refused.
    let shadow_session = browser::sign_in(&app, "alpha", "anna.shadow@alpinevoice.example").await;
    let (_, accepted) = browser::gql(&app, &shadow_session, ACCEPT, json!({ "t": token })).await;
    assert_eq!(error_code(&accepted), "CONFLICT", "{accepted}");
    let (_, me) = browser::gql(
        &app,
        &shadow_session,
        "{ viewer { memberships { nodes { organization { name } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(at(&me, &["data", "viewer", "memberships", "nodes"]), &json!([]), "no way into Edelweiss: {me}");

    // 4. Erika is still Edelweiss's ADMIN, and nobody else is.
    let listed = app.gql(Some(&erika), MEMBERS, json!({ "id": edelweiss })).await;
    let admins: Vec<&str> = at(&listed, &["data", "node", "members", "nodes"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "ADMIN")
        .map(|m| m["user"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(admins, ["erika@edelweiss-dental.example"]);
}

/// An invitation sent under a live grant is checked again when accepted: the sender must still
/// hold MANAGE_USERS there. Narrowing the grant cancels it; so does the sender losing the right.
#[tokio::test]
async fn a_partners_invitation_is_checked_again_when_accepted() {
    let app = browser::sso_app().await;
    let world = app.demo().await;
    let (anna, bruno, hans, vera) =
        (world.token("anna@"), world.token("bruno@"), world.token("hans@"), world.token("vera.admin@"));
    let hanse = organization_id(&app, &vera, "Hanse Logistik GmbH").await;
    let baltic = organization_id(&app, &vera, "Baltic Cloud SIA").await;
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let invite = |role: &str, email: &str| json!({ "i": { "organizationId": hanse, "email": email, "role": role } });

    // Chris, a TECHNICAL employee of Baltic, gets MANAGE_USERS on Hanse through an assignment.
    let chris = world.token("chris@");
    let chris_id =
        app.gql(Some(&chris), "{ viewer { user { id } } }", json!({})).await["data"]["viewer"]["user"]["id"].clone();
    let grant = grant_of(&app, &hans, &hanse, "Baltic Cloud SIA").await;
    let assigned = app
        .gql(Some(&bruno), "mutation($g: ID!, $u: ID!) { assignGrantMember(input: {grantId: $g, userId: $u, rights: [MANAGE_USERS]}) { grant { id } } }", json!({ "g": grant, "u": chris_id }))
        .await;
    assert_no_errors(&assigned);
    // His role's mask allows MANAGE_USERS; it still never reaches an ADMIN.
    let as_chris = app.request(Some(&chris)).acting_as(&baltic);
    let refused = as_chris.send(INVITE, invite("ADMIN", "chris.shadow@example.test")).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    let sent = as_chris.send(INVITE, invite("BILLING", "kai@example.test")).await;
    assert_no_errors(&sent);
    let token = text(&sent, &["data", "inviteMember", "token"]);

    // Bruno takes the assignment away before Kai accepts: the invitation no longer stands.
    let unassigned = app
        .gql(
            Some(&bruno),
            "mutation($g: ID!, $u: ID!) { unassignGrantMember(input: {grantId: $g, userId: $u}) { grant { id } } }",
            json!({ "g": grant, "u": chris_id }),
        )
        .await;
    assert_no_errors(&unassigned);
    let kai = browser::sign_in(&app, "alpha", "kai").await;
    let (_, accepted) = browser::gql(&app, &kai, ACCEPT, json!({ "t": token })).await;
    assert_eq!(error_code(&accepted), "CONFLICT", "{accepted}");
    let (_, again) = browser::gql(&app, &kai, ACCEPT, json!({ "t": token })).await;
    assert_eq!(error_code(&again), "CONFLICT", "it was cancelled for good: {again}");

    // Bruno's own invitation, then Hans narrows the grant to VIEW_BILLING: it is cancelled.
    let sent = app.gql(Some(&bruno), INVITE, invite("MEMBER", "lea@example.test")).await;
    let token = text(&sent, &["data", "inviteMember", "token"]);
    let narrowed = app
        .gql(
            Some(&hans),
            "mutation($id: ID!) { updateGrant(input: {id: $id, rights: [VIEW_BILLING]}) { grant { rights } } }",
            json!({ "id": grant }),
        )
        .await;
    assert_no_errors(&narrowed);
    let lea = browser::sign_in(&app, "alpha", "lea").await;
    let (_, accepted) = browser::gql(&app, &lea, ACCEPT, json!({ "t": token })).await;
    assert_eq!(error_code(&accepted), "CONFLICT", "{accepted}");

    // Alpine, with no grant on Hanse at all, does not even see it.
    let stranger = app.request(Some(&anna)).acting_as(&alpine).send(INVITE, invite("MEMBER", "x@example.test")).await;
    assert_eq!(error_code(&stranger), "NOT_FOUND");
}

/// Bruno (Baltic, MANAGE_USERS on Hanse) manages Hanse's ordinary users and never its ADMIN:
/// he cannot remove Hans, change his role, or promote anyone. Hans sees who Baltic brought in
/// and removes them all in one step.
#[tokio::test]
async fn a_partner_manages_ordinary_users_and_the_customer_removes_them_in_one_step() {
    let app = browser::sso_app().await;
    let world = app.demo().await;
    let (bruno, hans, vera) = (world.token("bruno@"), world.token("hans@"), world.token("vera.admin@"));
    let hanse = organization_id(&app, &vera, "Hanse Logistik GmbH").await;
    let baltic = organization_id(&app, &vera, "Baltic Cloud SIA").await;
    let invite = |role: &str, email: &str| json!({ "i": { "organizationId": hanse, "email": email, "role": role } });

    let mut joined = Vec::new();
    for (login, role) in [("noah", "MEMBER"), ("ben", "BILLING")] {
        let sent = app.gql(Some(&bruno), INVITE, invite(role, &format!("{login}@example.test"))).await;
        assert_no_errors(&sent);
        let session = browser::sign_in(&app, "alpha", login).await;
        let (_, accepted) =
            browser::gql(&app, &session, ACCEPT, json!({ "t": text(&sent, &["data", "inviteMember", "token"]) })).await;
        assert_no_errors(&accepted);
        joined.push(text(&accepted, &["data", "acceptInvitation", "membership", "id"]));
    }
    // A partner reading the customer's members sees their users (it manages them).
    let read = app
        .gql(
            Some(&bruno),
            "query($id: ID!) { customer(id: $id) { name members(first: 20) { nodes { role user { displayName } } } } }",
            json!({ "id": hanse }),
        )
        .await;
    assert_no_errors(&read);
    // Hans, Mia (whom the demo's Baltic brought in), Noah and Ben.
    assert_eq!(at(&read, &["data", "customer", "members", "nodes"]).as_array().unwrap().len(), 4, "{read}");

    // Between BILLING and MEMBER, fine.
    let role = "mutation($id: ID!, $r: Role!) { changeMemberRole(input: {membershipId: $id, role: $r}) { membership { role } } }";
    assert_no_errors(&app.gql(Some(&bruno), role, json!({ "id": joined[0], "r": "BILLING" })).await);
    // Never to or from ADMIN.
    let promote = app.gql(Some(&bruno), role, json!({ "id": joined[0], "r": "ADMIN" })).await;
    assert_eq!(error_code(&promote), "FORBIDDEN", "{promote}");
    let listed = app.gql(Some(&hans), MEMBERS, json!({ "id": hanse })).await;
    let members = at(&listed, &["data", "node", "members", "nodes"]).as_array().unwrap().clone();
    let hans_membership = members.iter().find(|m| m["role"] == "ADMIN").unwrap()["id"].as_str().unwrap().to_string();
    let demote = app.gql(Some(&bruno), role, json!({ "id": hans_membership, "r": "MEMBER" })).await;
    assert_eq!(error_code(&demote), "FORBIDDEN", "{demote}");
    let remove = "mutation($id: ID!) { removeMember(input: {membershipId: $id}) { removedMembershipId } }";
    let removed = app.gql(Some(&bruno), remove, json!({ "id": hans_membership })).await;
    assert_eq!(error_code(&removed), "FORBIDDEN", "the customer's ADMIN stays: {removed}");

    // Hans sees who Baltic brought in, and by whom.
    let brought: Vec<&Value> = members.iter().filter(|m| !m["broughtInBy"].is_null()).collect();
    assert_eq!(brought.len(), 3, "{listed}");
    for m in &brought {
        assert_eq!(m["broughtInBy"], json!({ "partnerId": baltic, "partnerName": "Baltic Cloud SIA" }));
        assert_eq!(m["invitedByName"], "Bruno Baltic");
    }
    // Baltic cannot use the one-step removal on the customer's behalf; Hans can.
    let one_step = "mutation($o: ID!, $p: ID!) { removePartnerInvitedMembers(input: {organizationId: $o, partnerId: $p}) { removedMembershipIds } }";
    let by_partner = app.gql(Some(&bruno), one_step, json!({ "o": hanse, "p": baltic })).await;
    assert_eq!(error_code(&by_partner), "FORBIDDEN", "{by_partner}");
    let pending = app.gql(Some(&bruno), INVITE, invite("MEMBER", "late@example.test")).await;
    assert_no_errors(&pending);
    let done = app.gql(Some(&hans), one_step, json!({ "o": hanse, "p": baltic })).await;
    assert_no_errors(&done);
    let gone: Vec<String> = at(&done, &["data", "removePartnerInvitedMembers", "removedMembershipIds"])
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(gone.len(), 3, "Mia, Noah and Ben: {done}");
    assert!(joined.iter().all(|j| gone.contains(j)));
    let listed = app.gql(Some(&hans), MEMBERS, json!({ "id": hanse })).await;
    assert_eq!(at(&listed, &["data", "node", "members", "nodes"]).as_array().unwrap().len(), 1, "only Hans: {listed}");
    let late = at(&listed, &["data", "node", "invitations", "nodes"])
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "late@example.test")
        .cloned()
        .unwrap();
    assert_eq!(late["status"], "CANCELLED", "the partner's open invitations went too");
}

/// The new cross-party operations, actor by actor: who manages a customer's members in its
/// name, and who answers a customer's request for more.
pub const OPERATIONS: [&str; 8] = [
    "inviteCustomerMember",
    "inviteCustomerAdmin",
    "changeMemberRole",
    "changeMemberRoleOfAdmin",
    "removePartnerInvitedMembers",
    "approveSubscriptionChange",
    "declineSubscriptionChange",
    "withdrawSubscriptionChange",
];

/// Targets: Edelweiss (Alpine holds a grant with every right; Sam is assigned MANAGE_PRODUCTS),
/// a MEMBER of Edelweiss, Erika (its only ADMIN), a request of Erika's for more D785 seats.
#[rustfmt::skip]
const TABLE: &[(&str, [&str; 8])] = &[
    ("vera.admin@",  ["OK", "OK", "OK", "CONFLICT", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    ("anna@",        ["OK", "FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "OK", "OK", "FORBIDDEN"]),
    ("sam@",         ["FORBIDDEN", "FORBIDDEN", "NOT_FOUND", "NOT_FOUND", "FORBIDDEN", "OK", "OK", "FORBIDDEN"]),
    ("technician",   ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]),
    ("bruno@",       ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]),
    ("erika@",       ["OK", "OK", "OK", "CONFLICT", "OK", "FORBIDDEN", "FORBIDDEN", "OK"]),
    ("reader",       ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
    ("dora@",        ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]),
    ("anonymous",    ["UNAUTHENTICATED"; 8]),
];

#[tokio::test]
async fn cross_party_actors_by_operations() {
    use entity::{membership, subscription, subscription_change_request as request};
    use partnerhub::ids::{self, NodeType};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

    let app = TestApp::spawn().await;
    let world = app.demo().await;
    let (anna, erika, vera) = (world.token("anna@"), world.token("erika@"), world.token("vera.admin@"));
    let edelweiss = organization_id(&app, &vera, "Edelweiss Dental").await;
    let alpine = organization_id(&app, &vera, "Alpine Voice AG").await;
    let account = |token: String, org: String, name: &'static str, role: &'static str| {
        let app = &app;
        async move {
            let body = app
                .gql(Some(&token), "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { token serviceAccount { id } } }", json!({ "i": { "organizationId": org, "name": name, "role": role } }))
                .await;
            (
                text(&body, &["data", "createServiceAccount", "token"]),
                text(&body, &["data", "createServiceAccount", "serviceAccount", "id"]),
            )
        }
    };
    let (reader, reader_user) = account(erika.clone(), edelweiss.clone(), "reader", "MEMBER").await;
    let (technician, _) = account(anna.clone(), alpine.clone(), "technician", "TECHNICAL").await;
    let reader_user = ids::decode(&reader_user).unwrap().1;
    let customer = ids::decode(&edelweiss).unwrap().1;
    let members = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(customer))
        .all(&app.ctx.db)
        .await
        .unwrap();
    let reader_membership = members.iter().find(|m| m.user_id == reader_user).unwrap().id;
    let erika_membership = members.iter().find(|m| m.role == partnerhub::domain::Role::Admin).unwrap().id;
    let phones = subscription::Entity::find()
        .filter(subscription::Column::CustomerId.eq(customer))
        .filter(subscription::Column::BilledTo.eq("PARTNER"))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    let phones_gid = ids::encode(NodeType::ProductSubscription, phones.id);

    let mut failures = Vec::new();
    for (row, (actor, expected)) in TABLE.iter().enumerate() {
        let token = match *actor {
            "anonymous" => None,
            "reader" => Some(reader.clone()),
            "technician" => Some(technician.clone()),
            prefix => Some(world.token(prefix)),
        };
        for (i, operation) in OPERATIONS.iter().enumerate() {
            // Each cell starts from the same state.
            membership::Entity::update_many()
                .col_expr(membership::Column::Role, Expr::value("MEMBER"))
                .filter(membership::Column::Id.eq(reader_membership))
                .exec(&app.ctx.db)
                .await
                .unwrap();
            subscription::Entity::update_many()
                .col_expr(subscription::Column::Seats, Expr::value(10))
                .filter(subscription::Column::Id.eq(phones.id))
                .exec(&app.ctx.db)
                .await
                .unwrap();
            request::Entity::delete_many().exec(&app.ctx.db).await.unwrap();
            let asked = app
                .gql(Some(&erika), "mutation($id: ID!) { requestSubscriptionChange(input: {subscriptionId: $id, seats: 12}) { request { id } } }", json!({ "id": phones_gid }))
                .await;
            let request_id = text(&asked, &["data", "requestSubscriptionChange", "request", "id"]);
            let email = format!("cell-{row}-{i}@example.test");
            let (query, variables) = match *operation {
                "inviteCustomerMember" | "inviteCustomerAdmin" => (
                    INVITE,
                    json!({ "i": { "organizationId": edelweiss, "email": email, "role": if *operation == "inviteCustomerAdmin" { "ADMIN" } else { "MEMBER" } } }),
                ),
                "changeMemberRole" | "changeMemberRoleOfAdmin" => (
                    "mutation($id: ID!, $r: Role!) { changeMemberRole(input: {membershipId: $id, role: $r}) { membership { role } } }",
                    if *operation == "changeMemberRole" {
                        json!({ "id": ids::encode(NodeType::Membership, reader_membership), "r": "BILLING" })
                    } else {
                        json!({ "id": ids::encode(NodeType::Membership, erika_membership), "r": "MEMBER" })
                    },
                ),
                "removePartnerInvitedMembers" => (
                    "mutation($o: ID!, $p: ID!) { removePartnerInvitedMembers(input: {organizationId: $o, partnerId: $p}) { removedMembershipIds } }",
                    json!({ "o": edelweiss, "p": alpine }),
                ),
                verb => (
                    match verb {
                        "approveSubscriptionChange" => {
                            "mutation($id: ID!) { approveSubscriptionChange(input: {id: $id}) { request { status } } }"
                        }
                        "declineSubscriptionChange" => {
                            "mutation($id: ID!) { declineSubscriptionChange(input: {id: $id}) { request { status } } }"
                        }
                        _ => {
                            "mutation($id: ID!) { withdrawSubscriptionChange(input: {id: $id}) { request { status } } }"
                        }
                    },
                    json!({ "id": request_id }),
                ),
            };
            let body = app.gql(token.as_deref(), query, variables).await;
            let got = if body.get("errors").is_some() { error_code(&body).to_string() } else { "OK".to_string() };
            if got != expected[i] {
                failures.push(format!("{actor} {operation}: expected {}, got {got} {body}", expected[i]));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Invitations a partner sent before this rule existed are the partner's too: checked again
/// when accepted. A customer's founding invitation (sent as the partner created it) is not;
/// a service account already outside every organisation loses its tokens.
#[tokio::test]
async fn the_migration_marks_open_partner_invitations_and_orphaned_tokens() {
    use migration::MigratorTrait;
    use sea_orm::{ConnectionTrait, Database, DbBackend, EntityTrait, Statement};
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(fresh_database(&dir).await).await.unwrap();
    migration::Migrator::up(&db, Some(11)).await.unwrap();
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
    let id = uuid::Uuid::now_v7;
    let (partner, customer, anna, robot) = (id(), id(), id(), id());
    let (takeover, founding, token) = (id(), id(), id());
    let created = chrono::Utc::now() - chrono::TimeDelta::days(3);
    let later = created + chrono::TimeDelta::days(1);
    let expires = chrono::Utc::now() + chrono::TimeDelta::days(5);
    let invitation = "INSERT INTO invitations (id, organization_id, email, role, token_hash, invited_by_user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    for (text, values) in [
        (
            "INSERT INTO organizations (id, kind, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            vec![partner.into(), "PARTNER".into(), "Old partner".into(), created.into(), created.into()],
        ),
        (
            "INSERT INTO organizations (id, kind, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            vec![customer.into(), "CUSTOMER".into(), "Old customer".into(), created.into(), created.into()],
        ),
        (
            "INSERT INTO users (id, kind, email, email_verified, display_name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            vec![anna.into(), "PERSON".into(), "anna@old.example".into(), true.into(), "Anna".into(), created.into()],
        ),
        (
            "INSERT INTO users (id, kind, email_verified, display_name, created_at) VALUES (?, ?, ?, ?, ?)",
            vec![robot.into(), "SERVICE_ACCOUNT".into(), false.into(), "robot".into(), created.into()],
        ),
        (
            "INSERT INTO memberships (id, user_id, organization_id, role, created_at) VALUES (?, ?, ?, ?, ?)",
            vec![id().into(), anna.into(), partner.into(), "ADMIN".into(), created.into()],
        ),
        (
            invitation,
            vec![
                founding.into(),
                customer.into(),
                "boss@old.example".into(),
                "ADMIN".into(),
                "h1".into(),
                anna.into(),
                created.into(),
                expires.into(),
            ],
        ),
        (
            invitation,
            vec![
                takeover.into(),
                customer.into(),
                "shadow@old.example".into(),
                "ADMIN".into(),
                "h2".into(),
                anna.into(),
                later.into(),
                expires.into(),
            ],
        ),
        (
            "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            vec![token.into(), robot.into(), "old".into(), "phk_old".into(), "h3".into(), created.into()],
        ),
    ] {
        db.execute_raw(Statement::from_sql_and_values(backend, sql(text), values)).await.unwrap();
    }
    migration::Migrator::up(&db, None).await.unwrap();
    let by = |invitation: uuid::Uuid| {
        let db = &db;
        async move {
            entity::invitation::Entity::find_by_id(invitation)
                .one(db)
                .await
                .unwrap()
                .unwrap()
                .invited_by_organization_id
        }
    };
    assert_eq!(by(takeover).await, Some(partner), "checked again when accepted, and refused as ADMIN");
    assert_eq!(by(founding).await, None, "the customer's first ADMIN, invited as it was created");
    let revoked = entity::api_token::Entity::find_by_id(token).one(&db).await.unwrap().unwrap().revoked_at;
    assert!(revoked.is_some());
}
