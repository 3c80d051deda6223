//! `partnerhub backup` and `partnerhub restore` (issue 19): a backup taken while the server
//! writes restores into a database that passes SQLite's integrity checks and the application's
//! invariants, and holds every write acknowledged before the backup began. A damaged backup is
//! refused and changes nothing.

use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use entity::api_token;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::*;

const CREATE: &str =
    "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { apiToken { id name } } }";

fn cli(args: &[&str], database_url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_partnerhub"))
        .args(args)
        .env("PARTNERHUB_DATABASE_URL", database_url)
        .env("PARTNERHUB_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_backup_under_write_load_restores_into_a_sound_database() {
    let app = TestApp::spawn_sqlite().await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let dir = tempfile::tempdir().unwrap();

    // Writers keep creating tokens while the backup runs; each acknowledged name is kept.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (client, url, stop) = (app.client.clone(), app.url("/graphql"), stop.clone());
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let name = format!("load {n}");
                let body: serde_json::Value = client
                    .post(&url)
                    .bearer_auth(&anna)
                    .json(&json!({ "query": CREATE, "variables": { "input": { "name": name } } }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert!(body.get("errors").is_none(), "a write failed under the backup: {body}");
                acknowledged.push((name, std::time::Instant::now()));
            }
            acknowledged
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let backup = dir.path().join("partnerhub.backup.db");
    let started = std::time::Instant::now();
    let url = app.database_url.clone();
    let backup_arg = backup.to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking(move || cli(&["backup", "--to", &backup_arg], &url)).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    let acknowledged = writer.await.unwrap();
    let before: Vec<_> = acknowledged.iter().filter(|(_, at)| *at < started).map(|(name, _)| name.clone()).collect();
    assert!(before.len() >= 3, "the load ran before the backup: {}", before.len());
    assert!(acknowledged.len() > before.len(), "and during it");

    // A backup never overwrites.
    let again = cli(&["backup", "--to", backup.to_str().unwrap()], &app.database_url);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));

    // Restored into a fresh file: sound, and every write acknowledged before the backup is there.
    let restored = dir.path().join("restored.db");
    let restored_url = format!("sqlite://{}", restored.display());
    let out = cli(&["restore", "--from", backup.to_str().unwrap()], &restored_url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("passes"), "{}", String::from_utf8_lossy(&out.stdout));
    let db = Database::connect(format!("{restored_url}?mode=ro")).await.unwrap();
    assert_eq!(partnerhub::backup::verify(&db).await.unwrap(), Vec::<String>::new());
    let names: Vec<String> = api_token::Entity::find()
        .filter(api_token::Column::Name.starts_with("load "))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    for name in &before {
        assert!(names.contains(name), "{name} was acknowledged before the backup and is missing");
    }
    // The restored database serves: the demo's users sign in to it.
    drop(db);
    let mut settings = test_settings(format!("{restored_url}?mode=rwc"));
    settings.listen = "127.0.0.1:0".parse().unwrap();
    let second = partnerhub::Application::build(settings, Arc::new(partnerhub::clock::SystemClock)).await.unwrap();
    let viewer = partnerhub::service::identity::authenticate_token(
        &second.state.ctx.db,
        &world.token("erika@"),
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(viewer.user.email.as_deref(), Some("erika@edelweiss-dental.example"));
}

#[tokio::test]
async fn a_damaged_backup_is_refused_and_the_database_is_left_alone() {
    let app = TestApp::spawn_sqlite().await;
    app.demo().await;
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("b.db");
    let out = cli(&["backup", "--to", backup.to_str().unwrap()], &app.database_url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // A page in the middle overwritten.
    let mut bytes = std::fs::read(&backup).unwrap();
    let middle = bytes.len() / 2 / 4096 * 4096;
    for b in &mut bytes[middle..middle + 4096] {
        *b = 0x5a;
    }
    let damaged = dir.path().join("damaged.db");
    std::fs::write(&damaged, &bytes).unwrap();
    let target = dir.path().join("target.db");
    std::fs::write(&target, b"the old database").unwrap();
    let url = format!("sqlite://{}", target.display());
    let refused = cli(&["restore", "--from", damaged.to_str().unwrap(), "--replace"], &url);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("not sound") || said.contains("malformed"), "{said}");
    assert_eq!(std::fs::read(&target).unwrap(), b"the old database", "left alone");
    // Without --replace an existing database is never overwritten, even by a sound backup.
    let kept = cli(&["restore", "--from", backup.to_str().unwrap()], &url);
    assert!(!kept.status.success());
    assert!(String::from_utf8_lossy(&kept.stderr).contains("--replace"));
    // PostgreSQL is pg_dump's.
    let pg = cli(&["backup", "--to", dir.path().join("pg.db").to_str().unwrap()], "postgres://u@127.0.0.1:1/x");
    assert!(!pg.status.success());
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_dump"));
}
