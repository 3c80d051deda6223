//! Typed settings: defaults, then an optional TOML file, then `PARTNERHUB_*` variables.
//! Validated once at start; secrets are never printed.
//!
//! Every setting is declared once, in `settings!` below: its variable, its file key (the name
//! without the prefix, lower-case) and its help text all come from that one line, and the
//! readers take a [`Setting`], not a string, so a setting cannot be read without being listed in
//! `--help` and checked against the README.

use std::{collections::HashMap, net::SocketAddr, path::PathBuf};

use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// One setting: the environment variable, and what `--help` says of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub help: &'static str,
}

impl Setting {
    /// The key in the TOML file: the variable without `PARTNERHUB_`, lower-case.
    pub fn file_key(&self) -> String {
        self.name.trim_start_matches("PARTNERHUB_").to_ascii_lowercase()
    }

    /// The value in the process environment; for the few settings read outside [`Settings`]
    /// (SQL tracing, which the test harness sets too).
    pub fn from_process(&self) -> Option<String> {
        std::env::var(self.name).ok().filter(|v| !v.is_empty())
    }
}

macro_rules! settings {
    ($($id:ident = $name:literal : $help:expr;)*) => {
        $(pub const $id: Setting = Setting { name: $name, help: $help };)*
        /// Every setting, in the order `--help` and the README list them.
        pub const ALL: &[Setting] = &[$($id),*];
    };
}

/// The settings, one line each.
pub mod vars {
    use super::Setting;

    settings! {
        CONFIG = "PARTNERHUB_CONFIG": "optional TOML file with the settings below (keys without the prefix, lower-case)";
        ENV = "PARTNERHUB_ENV": "`development` or `production` (default): production turns off field suggestions";
        LISTEN = "PARTNERHUB_LISTEN": "address to listen on (default 127.0.0.1:8080)";
        DATABASE_URL = "PARTNERHUB_DATABASE_URL": "sqlite://path?mode=rwc or postgres://user:pass@host/db (default sqlite://./partnerhub.db?mode=rwc)";
        DATABASE_MAX_CONNECTIONS = "PARTNERHUB_DATABASE_MAX_CONNECTIONS": "connection pool size (default 10)";
        DATABASE_STATEMENT_CACHE = "PARTNERHUB_DATABASE_STATEMENT_CACHE": "prepared statements each pooled connection keeps for reuse; 0 prepares every statement anew (default 100)";
        DATABASE_ACQUIRE_TIMEOUT_MS = "PARTNERHUB_DATABASE_ACQUIRE_TIMEOUT_MS": "longest a request waits for a pooled connection before INTERNAL with its request id, in milliseconds (default 3000)";
        STATEMENT_TIMEOUT = "PARTNERHUB_STATEMENT_TIMEOUT": "PostgreSQL's statement_timeout on every connection: a slow statement is cancelled and its connection returned (default 25s)";
        REQUEST_TIMEOUT = "PARTNERHUB_REQUEST_TIMEOUT": "longest a request may run before it is answered 504 TIMEOUT with its request id (default 30s)";
        SHUTDOWN_GRACE = "PARTNERHUB_SHUTDOWN_GRACE": "on SIGTERM or Ctrl-C, how long requests in flight may finish before the process exits (default 20s)";
        METRICS_LISTEN = "PARTNERHUB_METRICS_LISTEN": "address of the Prometheus endpoint /metrics, e.g. 127.0.0.1:9464; never served on the public address (default off)";
        LOG_FORMAT = "PARTNERHUB_LOG_FORMAT": "`text` (default) or `json`";
        LOG = "PARTNERHUB_LOG": "log filter, tracing-subscriber syntax (default info)";
        OTLP_ENDPOINT = "PARTNERHUB_OTLP_ENDPOINT": "OpenTelemetry collector to export traces to over OTLP/HTTP (protobuf), e.g. http://127.0.0.1:4318; spans are POSTed to its /v1/traces with the request id (default off)";
        TRACE_SQL = "PARTNERHUB_TRACE_SQL": "any value logs every SQL statement at debug level, target partnerhub::sql (default off)";
        PUBLIC_URL = "PARTNERHUB_PUBLIC_URL": "the server's external origin, e.g. https://partners.example.com (default http://<listen>)";
        CORS_ORIGINS = "PARTNERHUB_CORS_ORIGINS": "origins of browser dashboards allowed to call the API, comma-separated, e.g. http://localhost:3000; no wildcard (default none)";
        GRAPHQL_MAX_DEPTH = "PARTNERHUB_GRAPHQL_MAX_DEPTH": "deepest query accepted (default 15)";
        GRAPHQL_MAX_COMPLEXITY = "PARTNERHUB_GRAPHQL_MAX_COMPLEXITY": "most complex query accepted; a list field costs its page size times what is selected of each item (default 10000)";
        GRAPHQL_MAX_BATCH = "PARTNERHUB_GRAPHQL_MAX_BATCH": "largest batch of operations in one request; 0 refuses batches (default 0)";
        GRAPHQL_MAX_VARIABLES = "PARTNERHUB_GRAPHQL_MAX_VARIABLES": "most variables one operation may send (default 256)";
        GRAPHQL_MAX_ERRORS = "PARTNERHUB_GRAPHQL_MAX_ERRORS": "most errors listed in one response (default 20)";
        INTROSPECTION = "PARTNERHUB_INTROSPECTION": "`on` (default) or `off`: when off, __schema and __type are refused with GRAPHQL_VALIDATION_FAILED and GraphiQL is not served";
        PERSISTED_QUERIES = "PARTNERHUB_PERSISTED_QUERIES": "how many automatic persisted queries the server remembers; 0 turns them off (default 1000)";
        TRUSTED_DOCUMENTS = "PARTNERHUB_TRUSTED_DOCUMENTS": "a JSON manifest {\"<id>\": \"<document>\"} (Relay's persisted output): only those operations run (default off)";
        DATALOADER_DELAY_US = "PARTNERHUB_DATALOADER_DELAY_US": "microseconds a DataLoader waits to gather the keys of a list's items into one statement (default 200)";
        TOKEN_MAX_LIFETIME = "PARTNERHUB_TOKEN_MAX_LIFETIME": "the longest an API token may be created for: 730d, 12h or seconds (default 730d)";
        AUTH_FAILURES_PER_MINUTE = "PARTNERHUB_AUTH_FAILURES_PER_MINUTE": "failed authentications per client address and per token prefix before RATE_LIMITED (default 10)";
        SIGN_INS_PER_MINUTE = "PARTNERHUB_SIGN_INS_PER_MINUTE": "SSO sign-in attempts per client address before RATE_LIMITED (default 20)";
        TENDER_POSTS_PER_HOUR = "PARTNERHUB_TENDER_POSTS_PER_HOUR": "calls for tenders posted per client address and per author e-mail per hour before RATE_LIMITED (default 5)";
        SESSION_LIFETIME = "PARTNERHUB_SESSION_LIFETIME": "absolute lifetime of a sign-in session: 12h, 90m or seconds (default 12h)";
        FILES = "PARTNERHUB_FILES": "where invoice files are kept: a directory, or s3://<bucket> for several nodes (credentials and region from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION) (default ./partnerhub-files)";
        S3_ENDPOINT = "PARTNERHUB_S3_ENDPOINT": "endpoint of an S3-compatible server for s3:// files, e.g. http://127.0.0.1:9000 (default AWS)";
        DNS_RESOLVER = "PARTNERHUB_DNS_RESOLVER": "DNS server (ip:port) asked for domain-verification TXT records and webhook hosts (default the system's resolver)";
        SMTP_URL = "PARTNERHUB_SMTP_URL": "SMTP server for e-mail: smtps://user:pass@host:465 (TLS), smtp://user:pass@host:587?tls=required (STARTTLS), smtp://host:port (plain, loopback only); unset prints e-mails to the log instead (default unset)";
        MAIL_FROM = "PARTNERHUB_MAIL_FROM": "sender of e-mails (default partnerhub <no-reply@localhost>)";
        OUTBOX_POLL_MS = "PARTNERHUB_OUTBOX_POLL_MS": "how often each node looks for notifications to deliver, in milliseconds (default 1000)";
        DELIVERY_MAX_ATTEMPTS = "PARTNERHUB_DELIVERY_MAX_ATTEMPTS": "tries of one e-mail or webhook before it becomes a dead letter (default 8)";
        DELIVERY_RETRY_BASE = "PARTNERHUB_DELIVERY_RETRY_BASE": "wait after a first failed try; it doubles per try up to 6h, with ±20% jitter (default 30s)";
        DELIVERY_LEASE = "PARTNERHUB_DELIVERY_LEASE": "how long a node holds a delivery it is trying; after that another node may try it (default 60s)";
        WEBHOOK_TIMEOUT = "PARTNERHUB_WEBHOOK_TIMEOUT": "longest wait for a webhook receiver's answer (default 5s)";
        WEBHOOK_ALLOW_LOOPBACK = "PARTNERHUB_WEBHOOK_ALLOW_LOOPBACK": "`on` lets webhooks reach this host (127.0.0.1, ::1), over http too, for development and tests; private and link-local addresses stay refused (default off)";
        WEBHOOK_SECRET_OVERLAP = "PARTNERHUB_WEBHOOK_SECRET_OVERLAP": "how long a rotated webhook secret still signs beside the new one (default 24h)";
        OIDC_ISSUER = "PARTNERHUB_OIDC_<NAME>_ISSUER": "issuer URL of OpenID provider <NAME> (its key in /auth/login?provider=, lower-cased)";
        OIDC_CLIENT_ID = "PARTNERHUB_OIDC_<NAME>_CLIENT_ID": "client id registered at that provider";
        OIDC_CLIENT_SECRET = "PARTNERHUB_OIDC_<NAME>_CLIENT_SECRET": "client secret registered at that provider";
        OIDC_SCOPES = "PARTNERHUB_OIDC_<NAME>_SCOPES": "scopes to ask for besides openid (default \"email profile\")";
        OIDC_DISPLAY_NAME = "PARTNERHUB_OIDC_<NAME>_DISPLAY_NAME": "name shown on the sign-in choice (default <name>)";
    }
}

pub use vars::ALL as VARIABLES;

#[derive(Clone, Debug)]
pub struct Settings {
    pub environment: Environment,
    pub listen: SocketAddr,
    pub database_url: String,
    pub database_max_connections: u32,
    pub database_statement_cache: usize,
    pub log_format: LogFormat,
    pub log_filter: String,
    /// Base URL of an OTLP/HTTP collector; traces go to `<base>/v1/traces`.
    pub otlp_endpoint: Option<String>,
    pub graphql: GraphqlSettings,
    /// The server's external address (scheme, host, port; no trailing slash). OIDC redirects
    /// come back to `<public_url>/auth/callback`; cookie requests must come from this origin.
    pub public_url: String,
    /// Origins (scheme://host[:port]) whose pages may call the API from a browser, with a token
    /// or with the session cookie.
    pub cors_origins: Vec<String>,
    pub session_lifetime: chrono::TimeDelta,
    pub oidc_providers: Vec<OidcProviderSettings>,
    /// DNS server for domain verification (`ip:port`); the system's resolver when absent.
    pub dns_resolver: Option<std::net::SocketAddr>,
    /// The longest an API token may be created for.
    pub token_max_lifetime: chrono::TimeDelta,
    pub rate_limits: RateLimitSettings,
    /// Where uploaded files are kept.
    pub files: crate::files::Location,
    pub delivery: DeliverySettings,
    pub operations: OperationSettings,
}

/// Bounds on time and resources that keep a node answering under load and faults.
#[derive(Clone, Copy, Debug)]
pub struct OperationSettings {
    /// Longest wait for a pooled connection.
    pub acquire_timeout: std::time::Duration,
    /// PostgreSQL's `statement_timeout` per connection.
    pub statement_timeout: std::time::Duration,
    /// Longest a request runs.
    pub request_timeout: std::time::Duration,
    /// How long requests in flight may finish after SIGTERM.
    pub shutdown_grace: std::time::Duration,
    /// Where `/metrics` is served; off when absent.
    pub metrics_listen: Option<SocketAddr>,
}

/// How notifications leave: SMTP, the worker's schedule, webhook limits.
#[derive(Clone)]
pub struct DeliverySettings {
    /// None: e-mails are printed to the log (development, the demo).
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub poll: std::time::Duration,
    pub schedule: crate::domain::delivery::Schedule,
    pub lease: chrono::TimeDelta,
    pub webhook_timeout: std::time::Duration,
    pub webhook_allow_loopback: bool,
    pub webhook_secret_overlap: chrono::TimeDelta,
}

/// The SMTP URL carries a password: never printed.
impl std::fmt::Debug for DeliverySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliverySettings")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("mail_from", &self.mail_from)
            .field("poll", &self.poll)
            .field("schedule", &self.schedule)
            .field("lease", &self.lease)
            .field("webhook_timeout", &self.webhook_timeout)
            .field("webhook_allow_loopback", &self.webhook_allow_loopback)
            .finish_non_exhaustive()
    }
}

/// Failed authentication and sign-in attempts allowed per client address (and per token
/// prefix) per minute, and tenders posted per client address and per e-mail per hour, before
/// `RATE_LIMITED`.
#[derive(Clone, Copy, Debug)]
pub struct RateLimitSettings {
    pub auth_failures_per_minute: u32,
    pub sign_ins_per_minute: u32,
    pub tender_posts_per_hour: u32,
}

/// One OpenID Connect provider; `key` is what `/auth/login?provider=` names.
#[derive(Clone, Deserialize)]
pub struct OidcProviderSettings {
    #[serde(skip)]
    pub key: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    #[serde(default)]
    pub scopes: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

impl OidcProviderSettings {
    pub fn scope_list(&self) -> Vec<String> {
        let scopes = self.scopes.as_deref().unwrap_or("openid email profile");
        scopes.split([' ', ',']).filter(|s| !s.is_empty() && *s != "openid").map(str::to_string).collect()
    }

    pub fn label(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.key)
    }
}

/// The client secret stays out of logs and panics.
impl std::fmt::Debug for OidcProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProviderSettings")
            .field("key", &self.key)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct GraphqlSettings {
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Largest batch accepted; 0 (the default) refuses batched requests.
    pub max_batch: usize,
    pub max_body_bytes: usize,
    /// Most variables one operation may send.
    pub max_variables: usize,
    /// Most errors one response lists; the rest are summed up in a last one.
    pub max_errors: usize,
    /// How long a DataLoader waits for sibling resolvers to add their keys before it runs its
    /// batch: long enough that a list's items share one statement, short enough not to slow a
    /// request by much per nesting level.
    pub dataloader_delay: std::time::Duration,
    /// Whether `__schema` and `__type` are answered. The schema is public (it is committed), so
    /// the default is on.
    pub introspection: bool,
    /// How many automatic persisted queries are remembered (least recently used go first);
    /// 0 turns the protocol off.
    pub persisted_queries: usize,
    /// The trusted documents manifest, when only its operations may run.
    pub trusted_documents: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the settings file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("setting {name} is invalid: {message}")]
    Invalid { name: &'static str, message: String },
}

/// Where values come from: a variable wins over the file's key of the same setting.
struct Source<'a> {
    vars: &'a HashMap<String, String>,
    file: toml::Table,
}

impl Source<'_> {
    fn get(&self, setting: Setting) -> Option<String> {
        if let Some(value) = self.vars.get(setting.name).filter(|v| !v.is_empty()) {
            return Some(value.clone());
        }
        match self.file.get(&setting.file_key())? {
            toml::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    fn parsed<T>(
        &self,
        setting: Setting,
        default: T,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        match self.get(setting) {
            Some(text) => parse(text.trim())
                .ok_or_else(|| ConfigError::Invalid { name: setting.name, message: format!("{text:?} is not {what}") }),
            None => Ok(default),
        }
    }

    fn number(&self, setting: Setting, default: usize) -> Result<usize, ConfigError> {
        self.parsed(setting, default, "a whole number", |t| t.parse().ok())
    }

    fn duration(&self, setting: Setting, default: chrono::TimeDelta) -> Result<chrono::TimeDelta, ConfigError> {
        self.parsed(setting, default, "a duration such as 730d, 12h, 90m or 3600", parse_duration)
    }

    fn choice<T: for<'de> Deserialize<'de>>(&self, setting: Setting, default: T) -> Result<T, ConfigError> {
        match self.get(setting) {
            Some(v) => parse_enum(setting.name, &v),
            None => Ok(default),
        }
    }

    fn rate(&self, setting: Setting, default: usize) -> Result<u32, ConfigError> {
        u32::try_from(self.number(setting, default)?)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ConfigError::Invalid { name: setting.name, message: "must be 1 or more".into() })
    }
}

impl Settings {
    /// Reads the process environment (and the file it names).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        use vars::*;
        let (file, oidc_file) = match vars.get(CONFIG.name).filter(|v| !v.is_empty()) {
            Some(path) => read_file(PathBuf::from(path))?,
            None => Default::default(),
        };
        let source = Source { vars, file };

        let environment = source.choice(ENV, Environment::Production)?;
        let listen = source.parsed(
            LISTEN,
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            "an address such as 127.0.0.1:8080",
            |t| t.parse().ok(),
        )?;
        let database_url = source.get(DATABASE_URL).unwrap_or_else(|| "sqlite://./partnerhub.db?mode=rwc".into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: DATABASE_URL.name,
                message: "must start with sqlite: or postgres://".into(),
            });
        }
        let log_format = source.choice(LOG_FORMAT, LogFormat::Text)?;
        let log_filter = source.get(LOG).unwrap_or_else(|| "info".into());
        let otlp_endpoint = match source.get(OTLP_ENDPOINT).filter(|v| !v.trim().is_empty()) {
            // A collector is often a bare host name (`otel-collector`) or an address.
            Some(text) => match url::Url::parse(text.trim()) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    Some(text.trim().trim_end_matches('/').to_string())
                }
                _ => {
                    return Err(ConfigError::Invalid {
                        name: OTLP_ENDPOINT.name,
                        message: format!("{text:?} is not an http:// or https:// URL"),
                    });
                }
            },
            None => None,
        };
        let database_max_connections = source.number(DATABASE_MAX_CONNECTIONS, 10)?;
        if database_max_connections == 0 || database_max_connections > 1000 {
            return Err(ConfigError::Invalid {
                name: DATABASE_MAX_CONNECTIONS.name,
                message: "must be 1 to 1000".into(),
            });
        }
        let database_statement_cache = source.number(DATABASE_STATEMENT_CACHE, 100)?;
        let trusted_documents = source.get(TRUSTED_DOCUMENTS).map(PathBuf::from);
        let graphql = GraphqlSettings {
            max_depth: source.number(GRAPHQL_MAX_DEPTH, 15)?,
            max_complexity: source.number(GRAPHQL_MAX_COMPLEXITY, 10_000)?,
            max_batch: source.number(GRAPHQL_MAX_BATCH, 0)?,
            max_body_bytes: 1024 * 1024,
            max_variables: source.number(GRAPHQL_MAX_VARIABLES, 256)?,
            max_errors: source.number(GRAPHQL_MAX_ERRORS, 20)?,
            dataloader_delay: std::time::Duration::from_micros(source.number(DATALOADER_DELAY_US, 200)? as u64),
            introspection: source.parsed(INTROSPECTION, true, "on or off", parse_switch)?,
            persisted_queries: source.number(PERSISTED_QUERIES, 1000)?,
            trusted_documents,
        };
        for (setting, value) in [
            (GRAPHQL_MAX_DEPTH, graphql.max_depth),
            (GRAPHQL_MAX_COMPLEXITY, graphql.max_complexity),
            (GRAPHQL_MAX_ERRORS, graphql.max_errors),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid { name: setting.name, message: "limits must be positive".into() });
            }
        }
        let public_url = source.get(PUBLIC_URL).unwrap_or_else(|| format!("http://{listen}"));
        let public_url = public_url.trim_end_matches('/').to_string();
        if origin_of(&public_url).is_none() {
            return Err(ConfigError::Invalid {
                name: PUBLIC_URL.name,
                message: "must be an origin such as https://partners.example.com, without a path".into(),
            });
        }
        let cors_origins = match source.get(CORS_ORIGINS) {
            Some(list) => cors_origins(&list)?,
            None => Vec::new(),
        };
        let session_lifetime = source.duration(SESSION_LIFETIME, chrono::TimeDelta::hours(12))?;
        let oidc_providers = oidc_providers(vars, oidc_file)?;
        let dns_resolver =
            source.parsed(DNS_RESOLVER, None, "an address such as 127.0.0.1:53", |t| t.parse().ok().map(Some))?;
        let token_max_lifetime = source.duration(TOKEN_MAX_LIFETIME, chrono::TimeDelta::days(730))?;
        let rate_limits = RateLimitSettings {
            auth_failures_per_minute: source.rate(AUTH_FAILURES_PER_MINUTE, 10)?,
            sign_ins_per_minute: source.rate(SIGN_INS_PER_MINUTE, 20)?,
            tender_posts_per_hour: source.rate(TENDER_POSTS_PER_HOUR, 5)?,
        };
        let files = crate::files::Location::parse(
            &source.get(FILES).unwrap_or_else(|| "./partnerhub-files".into()),
            source.get(S3_ENDPOINT),
        )
        .map_err(|message| ConfigError::Invalid { name: FILES.name, message })?;
        let std_duration = |d: chrono::TimeDelta| std::time::Duration::from_millis(d.num_milliseconds().max(1) as u64);
        let max_attempts =
            u32::try_from(source.number(DELIVERY_MAX_ATTEMPTS, 8)?).ok().filter(|n| (1..=50).contains(n)).ok_or_else(
                || ConfigError::Invalid { name: DELIVERY_MAX_ATTEMPTS.name, message: "must be 1 to 50".into() },
            )?;
        let delivery = DeliverySettings {
            smtp_url: source.get(SMTP_URL),
            mail_from: source.get(MAIL_FROM).unwrap_or_else(|| "partnerhub <no-reply@localhost>".into()),
            poll: std::time::Duration::from_millis(source.number(OUTBOX_POLL_MS, 1000)?.max(10) as u64),
            schedule: crate::domain::delivery::Schedule {
                base: source.duration(DELIVERY_RETRY_BASE, chrono::TimeDelta::seconds(30))?,
                max_attempts,
                ..Default::default()
            },
            lease: source.duration(DELIVERY_LEASE, chrono::TimeDelta::seconds(60))?,
            webhook_timeout: std_duration(source.duration(WEBHOOK_TIMEOUT, chrono::TimeDelta::seconds(5))?),
            webhook_allow_loopback: source.parsed(WEBHOOK_ALLOW_LOOPBACK, false, "on or off", parse_switch)?,
            webhook_secret_overlap: source.duration(WEBHOOK_SECRET_OVERLAP, chrono::TimeDelta::hours(24))?,
        };
        if let Err(message) = crate::delivery::mail::Mailer::check_settings(&delivery) {
            return Err(ConfigError::Invalid { name: SMTP_URL.name, message });
        }
        let positive = |setting: Setting, d: chrono::TimeDelta| {
            d.to_std()
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or(ConfigError::Invalid { name: setting.name, message: "must be more than 0".into() })
        };
        let operations = OperationSettings {
            acquire_timeout: std::time::Duration::from_millis(
                source.number(DATABASE_ACQUIRE_TIMEOUT_MS, 3000)?.clamp(1, 600_000) as u64,
            ),
            statement_timeout: positive(
                STATEMENT_TIMEOUT,
                source.duration(STATEMENT_TIMEOUT, chrono::TimeDelta::seconds(25))?,
            )?,
            request_timeout: positive(
                REQUEST_TIMEOUT,
                source.duration(REQUEST_TIMEOUT, chrono::TimeDelta::seconds(30))?,
            )?,
            shutdown_grace: positive(SHUTDOWN_GRACE, source.duration(SHUTDOWN_GRACE, chrono::TimeDelta::seconds(20))?)?,
            metrics_listen: source
                .parsed(METRICS_LISTEN, None, "an address such as 127.0.0.1:9464", |t| t.parse().ok().map(Some))?,
        };
        Ok(Settings {
            operations,
            delivery,
            files,
            environment,
            listen,
            database_url,
            database_max_connections: database_max_connections as u32,
            database_statement_cache,
            log_format,
            log_filter,
            otlp_endpoint,
            graphql,
            public_url,
            cors_origins,
            session_lifetime,
            oidc_providers,
            dns_resolver,
            token_max_lifetime,
            rate_limits,
        })
    }

    pub fn is_development(&self) -> bool {
        self.environment == Environment::Development
    }
}

/// `on`/`off` and their usual spellings.
fn parse_switch(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Some(true),
        "off" | "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// `scheme://host[:port]` when `url` is exactly an http(s) origin, lower-cased.
pub fn origin_of(url: &str) -> Option<String> {
    let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    (!host.is_empty() && !host.contains(['/', '?', '#', ' ', '*'])).then(|| url.to_ascii_lowercase())
}

/// The CORS list: explicit origins only. `*` is refused because the API answers with
/// credentials (tokens and the session cookie), and a wildcard would hand them to any site.
fn cors_origins(list: &str) -> Result<Vec<String>, ConfigError> {
    let mut origins = Vec::new();
    for item in list.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()) {
        let origin = origin_of(item.trim_end_matches('/')).ok_or_else(|| ConfigError::Invalid {
            name: vars::CORS_ORIGINS.name,
            message: format!("{item:?} is not an origin such as https://dashboard.example.com (no wildcard, no path)"),
        })?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

/// `730d`, `12h`, `90m`, `30s` or a number of seconds; positive.
fn parse_duration(text: &str) -> Option<chrono::TimeDelta> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last()? {
        (i, 'd') => (&text[..i], 86_400),
        (i, 'h') => (&text[..i], 3600),
        (i, 'm') => (&text[..i], 60),
        (i, 's') => (&text[..i], 1),
        _ => (text, 1),
    };
    let n: i64 = number.trim().parse().ok().filter(|n| *n > 0)?;
    chrono::TimeDelta::try_seconds(n.checked_mul(unit)?)
}

/// Providers from the file's `[oidc.<name>]` tables, then from `PARTNERHUB_OIDC_<NAME>_*`
/// variables, which replace a file entry of the same name field by field.
fn oidc_providers(
    vars: &HashMap<String, String>,
    from_file: HashMap<String, OidcProviderSettings>,
) -> Result<Vec<OidcProviderSettings>, ConfigError> {
    let mut providers: std::collections::BTreeMap<String, OidcProviderSettings> = from_file
        .into_iter()
        .map(|(k, mut p)| {
            (k.to_ascii_lowercase(), {
                p.key = k.to_ascii_lowercase();
                p
            })
        })
        .collect();
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("PARTNERHUB_OIDC_") else { continue };
        let Some((key, field)) = ["_CLIENT_SECRET", "_CLIENT_ID", "_ISSUER", "_SCOPES", "_DISPLAY_NAME"]
            .iter()
            .find_map(|suffix| rest.strip_suffix(suffix).map(|k| (k.to_ascii_lowercase(), *suffix)))
        else {
            continue;
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(ConfigError::Invalid {
                name: "PARTNERHUB_OIDC_<NAME>_*",
                message: format!("{name} has no usable provider name"),
            });
        }
        let entry = providers.entry(key.clone()).or_insert_with(|| OidcProviderSettings {
            key: key.clone(),
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            scopes: None,
            display_name: None,
        });
        match field {
            "_ISSUER" => entry.issuer = value.clone(),
            "_CLIENT_ID" => entry.client_id = value.clone(),
            "_CLIENT_SECRET" => entry.client_secret = value.clone(),
            "_SCOPES" => entry.scopes = Some(value.clone()),
            _ => entry.display_name = Some(value.clone()),
        }
    }
    for p in providers.values() {
        if p.issuer.is_empty() || p.client_id.is_empty() || p.client_secret.is_empty() {
            return Err(ConfigError::Invalid {
                name: "PARTNERHUB_OIDC_<NAME>_*",
                message: format!("provider {:?} needs an issuer, a client id and a client secret", p.key),
            });
        }
        if !(p.issuer.starts_with("https://") || p.issuer.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                name: "PARTNERHUB_OIDC_<NAME>_ISSUER",
                message: format!("provider {:?}: the issuer must be a URL", p.key),
            });
        }
    }
    Ok(providers.into_values().collect())
}

/// The file's settings, and its `[oidc.<name>]` tables apart. A key that names no setting is
/// refused, as a misspelt one would otherwise be ignored.
type FileParts = (toml::Table, HashMap<String, OidcProviderSettings>);

fn read_file(path: PathBuf) -> Result<FileParts, ConfigError> {
    let text =
        std::fs::read_to_string(&path).map_err(|e| ConfigError::File { path: path.clone(), message: e.to_string() })?;
    let mut table: toml::Table =
        toml::from_str(&text).map_err(|e| ConfigError::File { path: path.clone(), message: e.to_string() })?;
    let oidc = match table.remove("oidc") {
        Some(value) => value
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::File { path: path.clone(), message: e.to_string() })?,
        None => HashMap::new(),
    };
    let known: Vec<String> = VARIABLES.iter().filter(|s| !s.name.contains('<')).map(Setting::file_key).collect();
    if let Some(unknown) = table.keys().find(|k| !known.contains(k)) {
        return Err(ConfigError::File { path, message: format!("unknown setting `{unknown}`") });
    }
    Ok((table, oidc))
}

fn parse_enum<T: for<'de> Deserialize<'de>>(name: &'static str, value: &str) -> Result<T, ConfigError> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(value))
        .map_err(|_| ConfigError::Invalid { name, message: format!("{value:?} is not an accepted value") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_are_safe() {
        let s = Settings::from_vars(&vars(&[])).unwrap();
        assert_eq!(s.environment, Environment::Production);
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert!(s.database_url.starts_with("sqlite:"));
        assert_eq!(s.graphql.max_batch, 0);
    }

    #[test]
    fn variables_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "env = \"development\"\nlisten = \"127.0.0.1:9999\"\n").unwrap();
        let s = Settings::from_vars(&vars(&[
            ("PARTNERHUB_CONFIG", path.to_str().unwrap()),
            ("PARTNERHUB_LISTEN", "127.0.0.1:7000"),
        ]))
        .unwrap();
        assert_eq!(s.environment, Environment::Development);
        assert_eq!(s.listen.to_string(), "127.0.0.1:7000");
    }

    #[test]
    fn providers_come_from_the_file_and_variables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[oidc.corp]\nissuer = \"https://login.corp.example\"\nclient_id = \"a\"\nclient_secret = \"s\"\n",
        )
        .unwrap();
        let s = Settings::from_vars(&vars(&[
            ("PARTNERHUB_CONFIG", path.to_str().unwrap()),
            ("PARTNERHUB_OIDC_GOOGLE_ISSUER", "https://accounts.google.com"),
            ("PARTNERHUB_OIDC_GOOGLE_CLIENT_ID", "g"),
            ("PARTNERHUB_OIDC_GOOGLE_CLIENT_SECRET", "s3cr3t-google"),
            ("PARTNERHUB_OIDC_GOOGLE_DISPLAY_NAME", "Google"),
            ("PARTNERHUB_OIDC_CORP_SCOPES", "email"),
        ]))
        .unwrap();
        let keys: Vec<_> = s.oidc_providers.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["corp", "google"]);
        assert_eq!(s.oidc_providers[0].scope_list(), ["email"]);
        assert_eq!(s.oidc_providers[1].label(), "Google");
        assert!(!format!("{:?}", s.oidc_providers[1]).contains("s3cr3t"));
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_OIDC_X_ISSUER", "https://x.example")])).unwrap_err();
        assert!(err.to_string().contains("client id"));
    }

    #[test]
    fn durations_and_public_url() {
        assert_eq!(parse_duration("12h"), Some(chrono::TimeDelta::hours(12)));
        assert_eq!(parse_duration("90m"), Some(chrono::TimeDelta::minutes(90)));
        assert_eq!(parse_duration("3600"), Some(chrono::TimeDelta::hours(1)));
        assert_eq!(parse_duration("-1h"), None);
        assert_eq!(parse_duration("soon"), None);
        let s = Settings::from_vars(&vars(&[("PARTNERHUB_PUBLIC_URL", "https://partners.example.com/")])).unwrap();
        assert_eq!(s.public_url, "https://partners.example.com");
        assert!(Settings::from_vars(&vars(&[("PARTNERHUB_PUBLIC_URL", "https://x.example/app")])).is_err());
        assert_eq!(Settings::from_vars(&vars(&[])).unwrap().public_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn the_file_takes_every_setting_and_refuses_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "graphql_max_depth = 9\nintrospection = \"off\"\ncors_origins = \"http://localhost:3000\"\n",
        )
        .unwrap();
        let s = Settings::from_vars(&vars(&[("PARTNERHUB_CONFIG", path.to_str().unwrap())])).unwrap();
        assert_eq!(s.graphql.max_depth, 9);
        assert!(!s.graphql.introspection);
        assert_eq!(s.cors_origins, ["http://localhost:3000"]);
        std::fs::write(&path, "graphql_max_dept = 9\n").unwrap();
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_CONFIG", path.to_str().unwrap())])).unwrap_err();
        assert!(err.to_string().contains("graphql_max_dept"), "{err}");
    }

    #[test]
    fn cors_origins_are_explicit() {
        let s = Settings::from_vars(&vars(&[(
            "PARTNERHUB_CORS_ORIGINS",
            "http://localhost:3000, https://Dash.example.com/",
        )]))
        .unwrap();
        assert_eq!(s.cors_origins, ["http://localhost:3000", "https://dash.example.com"]);
        for bad in ["*", "https://*.example.com", "dash.example.com", "https://dash.example.com/app"] {
            let err = Settings::from_vars(&vars(&[("PARTNERHUB_CORS_ORIGINS", bad)])).unwrap_err();
            assert!(err.to_string().contains("PARTNERHUB_CORS_ORIGINS"), "{bad}: {err}");
        }
    }

    /// Every `PARTNERHUB_*` name the program reads is a declared setting, so `--help` and the
    /// README cannot miss one again (as they once missed PARTNERHUB_DNS_RESOLVER).
    #[test]
    fn every_variable_read_is_a_declared_setting_and_in_the_readme() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut files = vec![std::path::PathBuf::from(root)];
        let mut names = std::collections::BTreeSet::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices("PARTNERHUB_") {
                let name: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_' || c.is_ascii_digit())
                    .collect();
                names.insert(name);
            }
        }
        let declared: Vec<&str> = VARIABLES.iter().map(|s| s.name).collect();
        for name in &names {
            let known = declared.contains(&name.as_str())
                || name == "PARTNERHUB_"
                || (name.starts_with("PARTNERHUB_OIDC_") && declared.iter().any(|d| d.starts_with("PARTNERHUB_OIDC_")));
            assert!(known, "{name} is read but not declared in config::vars");
        }
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        for setting in VARIABLES {
            assert!(
                readme.contains(&format!("`{}`", setting.name)),
                "the README's settings table lacks {}",
                setting.name
            );
        }
    }

    #[test]
    fn bad_values_are_named() {
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_LISTEN", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("PARTNERHUB_LISTEN"));
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_ENV", "staging")])).unwrap_err();
        assert!(err.to_string().contains("PARTNERHUB_ENV"));
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_OTLP_ENDPOINT", "collector:4318")])).unwrap_err();
        assert!(err.to_string().contains("PARTNERHUB_OTLP_ENDPOINT"));
        let ok = Settings::from_vars(&vars(&[("PARTNERHUB_OTLP_ENDPOINT", "http://otel-collector:4318/")])).unwrap();
        assert_eq!(ok.otlp_endpoint.as_deref(), Some("http://otel-collector:4318"));
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_DATABASE_URL", "mysql://x")])).unwrap_err();
        assert!(err.to_string().contains("PARTNERHUB_DATABASE_URL"));
    }
}
