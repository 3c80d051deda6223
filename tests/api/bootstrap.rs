//! `partnerhub bootstrap`: first vendor and admin on an empty database, refused afterwards.

use std::process::Command;

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn bootstrap_prints_a_working_admin_token_once() {
    // The command and the server share one database.
    let app = TestApp::spawn().await;
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_partnerhub"))
            .args([
                "bootstrap",
                "--vendor-name",
                "Acme Phones",
                "--admin-email",
                "root@acme.example",
                "--country",
                "DE",
            ])
            .env("PARTNERHUB_DATABASE_URL", &app.database_url)
            .env("PARTNERHUB_LOG", "warn")
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let stdout = String::from_utf8(first.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_string();
    let body = app
        .gql(Some(&token), "{ viewer { user { email } actingAs { role organization { name kind } } } }", json!({}))
        .await;
    assert_eq!(body["data"]["viewer"]["actingAs"]["role"], "ADMIN");
    assert_eq!(body["data"]["viewer"]["actingAs"]["organization"]["kind"], "VENDOR");
    assert_eq!(body["data"]["viewer"]["user"]["email"], "root@acme.example");

    let second = run();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("already has a vendor"));
}
