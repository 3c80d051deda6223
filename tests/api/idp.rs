//! The test identity providers (tests/idp/idp.mjs), started once per test process and stopped
//! when it exits (the script ends when its stdin closes).

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Mutex, OnceLock},
};

use partnerhub::config::OidcProviderSettings;
use serde_json::Value;

/// Where the provider sends people back to: the public URL the test apps are configured with.
/// Nothing listens there; the tests follow the redirect to the app themselves.
pub const PUBLIC_URL: &str = "http://partnerhub.test";
pub const SECURE_PUBLIC_URL: &str = "https://partnerhub.test";

pub struct Idp {
    pub alpha: String,
    pub beta: String,
    pub forge: String,
    _child: Mutex<Child>,
}

static IDP: OnceLock<Idp> = OnceLock::new();

pub fn idp() -> &'static Idp {
    IDP.get_or_init(start)
}

fn start() -> Idp {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/idp");
    if !dir.join("node_modules/oidc-provider").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("npm is needed to install the test identity provider");
        assert!(status.success(), "npm ci in tests/idp failed");
    }
    let mut child = Command::new("node")
        .arg("idp.mjs")
        .arg(format!("{PUBLIC_URL}/auth/callback"))
        .arg(format!("{SECURE_PUBLIC_URL}/auth/callback"))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node is needed to run the test identity provider");
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    stdout.read_line(&mut line).expect("idp output");
    // Keep reading, so that the script never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let urls: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("idp did not start: {line:?}"));
    let url = |k: &str| urls[k].as_str().expect("issuer").to_string();
    Idp { alpha: url("alpha"), beta: url("beta"), forge: url("forge"), _child: Mutex::new(child) }
}

impl Idp {
    pub fn providers(&self) -> Vec<OidcProviderSettings> {
        [("alpha", &self.alpha, "Alpha Corp"), ("beta", &self.beta, "Beta Cloud"), ("forge", &self.forge, "Forge")]
            .into_iter()
            .map(|(key, issuer, name)| OidcProviderSettings {
                key: key.into(),
                issuer: issuer.clone(),
                client_id: "partnerhub".into(),
                client_secret: "partnerhub-secret".into(),
                scopes: Some("email profile".into()),
                display_name: Some(name.into()),
            })
            .collect()
    }
}
