//! Customer domains, proven by a TXT record served by a real DNS server (Debian's dnsmasq,
//! started here on a free loopback port).

use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::helpers::*;

struct Dnsmasq(Child);

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn dnsmasq_binary() -> Option<&'static str> {
    ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"].into_iter().find(|p| std::path::Path::new(p).exists())
}

/// Serves exactly these TXT records on `port`.
async fn dnsmasq(port: u16, records: &[(&str, &str)]) -> Dnsmasq {
    let args: Vec<String> = records.iter().map(|(name, text)| format!("--txt-record={name},{text}")).collect();
    start_dnsmasq(port, &args).await
}

/// A DNS server on loopback answering as the given dnsmasq options say (`--address=/name/ip`).
pub struct Dns {
    pub addr: std::net::SocketAddr,
    _server: Dnsmasq,
}

pub async fn dnsmasq_with(options: &[&str]) -> Dns {
    assert!(dnsmasq_binary().is_some(), "dnsmasq is needed: install Debian's dnsmasq-base (scripts/test does)");
    let options: Vec<String> = options.iter().map(|o| o.to_string()).collect();
    // A port found free can be taken before dnsmasq binds it (many tests run at once): retry.
    for _ in 0..3 {
        let port = free_udp_port();
        if let Some(server) = try_start_dnsmasq(port, &options).await {
            return Dns { addr: format!("127.0.0.1:{port}").parse().unwrap(), _server: server };
        }
    }
    panic!("dnsmasq did not start");
}

async fn start_dnsmasq(port: u16, options: &[String]) -> Dnsmasq {
    try_start_dnsmasq(port, options).await.expect("dnsmasq did not start")
}

async fn try_start_dnsmasq(port: u16, options: &[String]) -> Option<Dnsmasq> {
    let binary = dnsmasq_binary().expect("dnsmasq");
    let mut command = Command::new(binary);
    command.args([
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        "--pid-file=",
        "--bind-interfaces",
    ]);
    command.args(["--listen-address=127.0.0.1", &format!("--port={port}")]);
    if nix_is_root() {
        command.arg("--user=nobody");
    }
    command.args(options);
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start dnsmasq");
    // Ready when it answers: poll with a deadline, no fixed sleep. Gone at once: the port was taken.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if child.try_wait().ok().flatten().is_some() {
            return None;
        }
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.set_read_timeout(Some(std::time::Duration::from_millis(100))).unwrap();
        // A minimal query for ". NS".
        let query = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1];
        if probe.send_to(&query, ("127.0.0.1", port)).is_ok() && probe.recv_from(&mut [0u8; 512]).is_ok() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Some(Dnsmasq(child))
}

/// dnsmasq started by root drops to an unprivileged user; by anyone else it stays as that user.
fn nix_is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn a_domain_is_verified_by_its_txt_record_and_then_guards_against_duplicates() {
    // A missing tool fails the test: a check that cannot run has not passed.
    assert!(
        dnsmasq_binary().is_some(),
        "dnsmasq is needed for domain verification tests: install Debian's dnsmasq-base (scripts/test does)"
    );
    let port = free_udp_port();
    let app = TestApp::spawn_with(|s| s.dns_resolver = Some(format!("127.0.0.1:{port}").parse().unwrap())).await;
    let world = app.demo().await;
    let anna = world.token("anna@");
    let created = app
        .gql(
            Some(&anna),
            "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id primaryDomain { id name verified verificationRecord } } } }",
            json!({ "i": { "name": "Rhone Wines", "country": "CH", "adminEmail": "a@rhone.example", "domain": "Rhone-Wines.example" } }),
        )
        .await;
    assert_no_errors(&created);
    let domain: Value = created["data"]["createCustomer"]["customer"]["primaryDomain"].clone();
    assert_eq!(domain["name"], "rhone-wines.example");
    assert_eq!(domain["verified"], false);
    let record = domain["verificationRecord"].as_str().unwrap().to_string();
    assert!(record.starts_with("partnerhub-verification="));
    let verify = "mutation($id: ID!) { verifyDomain(input: {id: $id}) { domain { verified } } }";

    // Published elsewhere, or with another token: not verified.
    let dns =
        dnsmasq(port, &[("rhone-wines.example", "partnerhub-verification=someone-else"), ("other.example", &record)])
            .await;
    let refused = app.gql(Some(&anna), verify, json!({ "id": domain["id"] })).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("no TXT record"));
    drop(dns);

    let _dns = dnsmasq(port, &[("rhone-wines.example", "v=spf1 -all"), ("rhone-wines.example", &record)]).await;
    let verified = app.gql(Some(&anna), verify, json!({ "id": domain["id"] })).await;
    assert_no_errors(&verified);
    assert_eq!(verified["data"]["verifyDomain"]["domain"]["verified"], true);

    // The proven domain now identifies the company for every partner.
    let dup = app
        .gql(
            Some(&world.token("bruno@")),
            "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }",
            json!({ "i": { "name": "Rhone", "country": "CH", "adminEmail": "b@rhone.example", "domain": "rhone-wines.example" } }),
        )
        .await;
    assert_eq!(error_code(&dup), "CONFLICT");
    assert_eq!(dup["errors"][0]["extensions"]["field"], "domain", "it exists, but who it is stays unsaid: {dup}");
    assert!(!dup.to_string().contains("Rhone Wines"));

    // Another partner cannot even reach the domain.
    let other = app.gql(Some(&world.token("bruno@")), verify, json!({ "id": domain["id"] })).await;
    assert_eq!(error_code(&other), "NOT_FOUND");
}
