//! Webhook POSTs that cannot be turned against our own network. Host names are resolved by our
//! resolver, which drops every address that is not public, and the connection goes to the
//! addresses it kept: a name that resolved to a public address when the endpoint was registered
//! and to 10.0.0.1 now (DNS rebinding) gets no connection. No redirects are followed, the wait is
//! short, and only the first bytes of an answer are read.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use hickory_resolver::{
    Resolver,
    config::{NameServerConfig, ResolverConfig},
    net::runtime::TokioRuntimeProvider,
};

use crate::{config::DeliverySettings, domain::delivery::reachable};

/// How much of a receiver's answer is kept in the delivery log.
pub const RESPONSE_CAP: usize = 2048;

/// What one POST got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// Why it failed, in words, when it did.
    pub error: Option<String>,
}

impl Answer {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

pub struct WebhookClient {
    client: reqwest::Client,
    guard: Arc<Guard>,
    require_https: bool,
}

/// The address rule, shared by the URL check and the resolver reqwest connects through.
struct Guard {
    allow_loopback: bool,
    dns: Option<SocketAddr>,
}

impl Guard {
    async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let found: Vec<IpAddr> = match self.dns {
            Some(server) => {
                let mut config = NameServerConfig::udp(server.ip());
                for connection in &mut config.connections {
                    connection.port = server.port();
                }
                let resolver = Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![config]),
                    TokioRuntimeProvider::default(),
                )
                .build()
                .map_err(|e| e.to_string())?;
                let lookup =
                    resolver.lookup_ip(format!("{host}.")).await.map_err(|_| format!("{host} does not resolve"))?;
                lookup.iter().collect()
            }
            None => tokio::net::lookup_host((host, 0))
                .await
                .map_err(|_| format!("{host} does not resolve"))?
                .map(|a| a.ip())
                .collect(),
        };
        self.allowed(host, found)
    }

    fn allowed(&self, host: &str, found: Vec<IpAddr>) -> Result<Vec<IpAddr>, String> {
        if found.is_empty() {
            return Err(format!("{host} does not resolve"));
        }
        // Every address must be public: a name that also points inside is refused as a whole.
        if let Some(bad) = found.iter().find(|ip| !reachable(**ip, self.allow_loopback)) {
            return Err(format!("{host} resolves to {bad}, a private, loopback or reserved address"));
        }
        Ok(found)
    }
}

impl reqwest::dns::Resolve for Guard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = Guard { allow_loopback: self.allow_loopback, dns: self.dns };
        Box::pin(async move {
            let ips = guard
                .resolve(name.as_str())
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            let addrs: reqwest::dns::Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

impl WebhookClient {
    /// `require_https`: plain http only in development (and to loopback where it is allowed).
    pub fn new(settings: &DeliverySettings, dns: Option<SocketAddr>, require_https: bool) -> Result<Self, String> {
        let guard = Arc::new(Guard { allow_loopback: settings.webhook_allow_loopback, dns });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.webhook_timeout)
            .connect_timeout(settings.webhook_timeout.min(Duration::from_secs(3)))
            .user_agent("partnerhub-webhooks/1")
            .no_proxy()
            .dns_resolver(guard.clone())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(WebhookClient { client, guard, require_https })
    }

    /// Whether `url` may receive webhooks: https (http only in development, or to loopback when
    /// allowed), no credentials, and a host whose every address is public.
    pub async fn check(&self, url: &str) -> Result<url::Url, String> {
        let parsed = url::Url::parse(url.trim())
            .map_err(|_| "must be an absolute URL such as https://example.com/hooks".to_string())?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("must not carry a user name or password; the signature authenticates us".into());
        }
        let plain = match parsed.scheme() {
            "https" => false,
            "http" => true,
            _ => return Err("must be an https URL".into()),
        };
        if plain && self.require_https && !self.guard.allow_loopback {
            return Err("must use https".into());
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err("must name a host".into()),
        };
        let ips = match host.parse::<IpAddr>() {
            Ok(ip) => self.guard.allowed(&host, vec![ip])?,
            Err(_) => self.guard.resolve(&host).await?,
        };
        // Plain http in production only to this host, where loopback is allowed.
        if plain && self.require_https && !ips.iter().all(IpAddr::is_loopback) {
            return Err("must use https".into());
        }
        Ok(parsed)
    }

    /// POSTs `body` with `headers`; checks the URL again first (its DNS may have changed).
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Answer {
        let url = match self.check(url).await {
            Ok(url) => url,
            Err(error) => return Answer { status: None, error: Some(error) },
        };
        let mut request = self.client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Answer { status: None, error: Some(describe(&e)) },
        };
        let status = response.status().as_u16();
        // Read a little of the answer, so the connection closes cleanly, and no more.
        let mut read = 0usize;
        while read < RESPONSE_CAP {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        let error = match status {
            200..=299 => None,
            300..=399 => Some(format!("answered {status}; redirects are not followed")),
            _ => Some(format!("answered {status}")),
        };
        Answer { status: Some(status), error }
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = if e.is_timeout() {
        "no answer in time".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    // The resolver's refusal is the reason people need to see.
    let mut source = e.source();
    while let Some(inner) = source {
        let message = inner.to_string();
        if message.contains("resolves to") || message.contains("does not resolve") {
            text = message;
            break;
        }
        source = inner.source();
    }
    text
}
