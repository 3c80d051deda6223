//! Typed settings: defaults, then an optional TOML file, then `PARTNERHUB_*` variables.
//! Validated once at start; secrets are never printed.

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

#[derive(Clone, Debug)]
pub struct Settings {
    pub environment: Environment,
    pub listen: SocketAddr,
    pub database_url: String,
    pub database_max_connections: u32,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub graphql: GraphqlSettings,
    /// The server's external address (scheme, host, port; no trailing slash). OIDC redirects
    /// come back to `<public_url>/auth/callback`; cookie requests must come from this origin.
    pub public_url: String,
    pub session_lifetime: chrono::TimeDelta,
    pub oidc_providers: Vec<OidcProviderSettings>,
    /// DNS server for domain verification (`ip:port`); the system's resolver when absent.
    pub dns_resolver: Option<std::net::SocketAddr>,
    /// The longest an API token may be created for.
    pub token_max_lifetime: chrono::TimeDelta,
    pub rate_limits: RateLimitSettings,
}

/// Failed authentication and sign-in attempts allowed per client address (and per token
/// prefix), per minute, before `RATE_LIMITED`.
#[derive(Clone, Copy, Debug)]
pub struct RateLimitSettings {
    pub auth_failures_per_minute: u32,
    pub sign_ins_per_minute: u32,
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
}

/// The TOML file's shape: every key optional, named like the variable without `PARTNERHUB_`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    env: Option<Environment>,
    listen: Option<String>,
    database_url: Option<String>,
    database_max_connections: Option<u32>,
    log_format: Option<LogFormat>,
    log: Option<String>,
    graphql_max_depth: Option<usize>,
    graphql_max_complexity: Option<usize>,
    graphql_max_batch: Option<usize>,
    public_url: Option<String>,
    session_lifetime: Option<String>,
    #[serde(default)]
    oidc: HashMap<String, OidcProviderSettings>,
    dns_resolver: Option<String>,
    token_max_lifetime: Option<String>,
    auth_failures_per_minute: Option<u32>,
    sign_ins_per_minute: Option<u32>,
    graphql_max_variables: Option<usize>,
    graphql_max_errors: Option<usize>,
    dataloader_delay_us: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the settings file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("setting {name} is invalid: {message}")]
    Invalid { name: &'static str, message: String },
}

/// Every variable the application reads, with its meaning; the README lists the same.
pub const VARIABLES: &[(&str, &str)] = &[
    ("PARTNERHUB_CONFIG", "optional TOML file with the settings below (keys without the prefix, lower-case)"),
    (
        "PARTNERHUB_ENV",
        "`development` or `production` (default): production turns off GraphiQL, introspection and field suggestions",
    ),
    ("PARTNERHUB_LISTEN", "address to listen on (default 127.0.0.1:8080)"),
    (
        "PARTNERHUB_DATABASE_URL",
        "sqlite://path?mode=rwc or postgres://user:pass@host/db (default sqlite://./partnerhub.db?mode=rwc)",
    ),
    ("PARTNERHUB_DATABASE_MAX_CONNECTIONS", "connection pool size (default 10)"),
    ("PARTNERHUB_LOG_FORMAT", "`text` (default) or `json`"),
    ("PARTNERHUB_LOG", "log filter, tracing-subscriber syntax (default info)"),
    ("PARTNERHUB_GRAPHQL_MAX_DEPTH", "deepest query accepted (default 15)"),
    (
        "PARTNERHUB_GRAPHQL_MAX_COMPLEXITY",
        "most complex query accepted; a list field costs its page size times what is selected of each item (default 10000)",
    ),
    ("PARTNERHUB_GRAPHQL_MAX_BATCH", "largest batch of operations in one request; 0 refuses batches (default 0)"),
    ("PARTNERHUB_GRAPHQL_MAX_VARIABLES", "most variables one operation may send (default 256)"),
    ("PARTNERHUB_GRAPHQL_MAX_ERRORS", "most errors listed in one response (default 20)"),
    (
        "PARTNERHUB_DATALOADER_DELAY_US",
        "microseconds a DataLoader waits to gather the keys of a list's items into one statement (default 200)",
    ),
    (
        "PARTNERHUB_TOKEN_MAX_LIFETIME",
        "the longest an API token may be created for: 730d, 12h or seconds (default 730d)",
    ),
    (
        "PARTNERHUB_AUTH_FAILURES_PER_MINUTE",
        "failed authentications per client address and per token prefix before RATE_LIMITED (default 10)",
    ),
    ("PARTNERHUB_SIGN_INS_PER_MINUTE", "SSO sign-in attempts per client address before RATE_LIMITED (default 20)"),
    ("PARTNERHUB_PUBLIC_URL", "the server's external URL, e.g. https://partners.example.com (default http://<listen>)"),
    ("PARTNERHUB_SESSION_LIFETIME", "absolute lifetime of a sign-in session: 12h, 90m or seconds (default 12h)"),
    (
        "PARTNERHUB_OIDC_<NAME>_ISSUER",
        "issuer URL of OpenID provider <NAME> (its key in /auth/login?provider=, lower-cased)",
    ),
    ("PARTNERHUB_OIDC_<NAME>_CLIENT_ID", "client id registered at that provider"),
    ("PARTNERHUB_OIDC_<NAME>_CLIENT_SECRET", "client secret registered at that provider"),
    ("PARTNERHUB_OIDC_<NAME>_SCOPES", "scopes to ask for besides openid (default \"email profile\")"),
    ("PARTNERHUB_OIDC_<NAME>_DISPLAY_NAME", "name shown on the sign-in choice (default <name>)"),
];

impl Settings {
    /// Reads the process environment (and the file it names).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let file = match vars.get("PARTNERHUB_CONFIG") {
            Some(path) => read_file(PathBuf::from(path))?,
            None => FileSettings::default(),
        };
        let var = |name: &str| vars.get(name).filter(|v| !v.is_empty()).cloned();

        let environment = match var("PARTNERHUB_ENV") {
            Some(v) => parse_enum("PARTNERHUB_ENV", &v)?,
            None => file.env.unwrap_or(Environment::Production),
        };
        let listen_text = var("PARTNERHUB_LISTEN").or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_text.parse().map_err(|_| ConfigError::Invalid {
            name: "PARTNERHUB_LISTEN",
            message: format!("{listen_text:?} is not an address such as 127.0.0.1:8080"),
        })?;
        let database_url = var("PARTNERHUB_DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| "sqlite://./partnerhub.db?mode=rwc".into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: "PARTNERHUB_DATABASE_URL",
                message: "must start with sqlite: or postgres://".into(),
            });
        }
        let log_format = match var("PARTNERHUB_LOG_FORMAT") {
            Some(v) => parse_enum("PARTNERHUB_LOG_FORMAT", &v)?,
            None => file.log_format.unwrap_or(LogFormat::Text),
        };
        let log_filter = var("PARTNERHUB_LOG").or(file.log).unwrap_or_else(|| "info".into());
        let number = |name: &'static str, from_file: Option<usize>, default: usize| -> Result<usize, ConfigError> {
            match var(name) {
                Some(v) => v
                    .parse()
                    .map_err(|_| ConfigError::Invalid { name, message: format!("{v:?} is not a whole number") }),
                None => Ok(from_file.unwrap_or(default)),
            }
        };
        let database_max_connections =
            number("PARTNERHUB_DATABASE_MAX_CONNECTIONS", file.database_max_connections.map(|n| n as usize), 10)?;
        if database_max_connections == 0 || database_max_connections > 1000 {
            return Err(ConfigError::Invalid {
                name: "PARTNERHUB_DATABASE_MAX_CONNECTIONS",
                message: "must be 1 to 1000".into(),
            });
        }
        let graphql = GraphqlSettings {
            max_depth: number("PARTNERHUB_GRAPHQL_MAX_DEPTH", file.graphql_max_depth, 15)?,
            max_complexity: number("PARTNERHUB_GRAPHQL_MAX_COMPLEXITY", file.graphql_max_complexity, 10_000)?,
            max_batch: number("PARTNERHUB_GRAPHQL_MAX_BATCH", file.graphql_max_batch, 0)?,
            max_body_bytes: 1024 * 1024,
            max_variables: number("PARTNERHUB_GRAPHQL_MAX_VARIABLES", file.graphql_max_variables, 256)?,
            max_errors: number("PARTNERHUB_GRAPHQL_MAX_ERRORS", file.graphql_max_errors, 20)?,
            dataloader_delay: std::time::Duration::from_micros(number(
                "PARTNERHUB_DATALOADER_DELAY_US",
                file.dataloader_delay_us,
                200,
            )? as u64),
        };
        if graphql.max_depth == 0 || graphql.max_complexity == 0 || graphql.max_errors == 0 {
            return Err(ConfigError::Invalid {
                name: "PARTNERHUB_GRAPHQL_MAX_DEPTH",
                message: "limits must be positive".into(),
            });
        }
        let public_url = var("PARTNERHUB_PUBLIC_URL").or(file.public_url).unwrap_or_else(|| format!("http://{listen}"));
        let public_url = public_url.trim_end_matches('/').to_string();
        let host = public_url.strip_prefix("https://").or_else(|| public_url.strip_prefix("http://"));
        if host.is_none_or(|h| h.is_empty() || h.contains('/')) {
            return Err(ConfigError::Invalid {
                name: "PARTNERHUB_PUBLIC_URL",
                message: "must be an origin such as https://partners.example.com, without a path".into(),
            });
        }
        let session_lifetime = match var("PARTNERHUB_SESSION_LIFETIME").or(file.session_lifetime) {
            Some(text) => parse_duration(&text).ok_or_else(|| ConfigError::Invalid {
                name: "PARTNERHUB_SESSION_LIFETIME",
                message: format!("{text:?} is not a duration such as 12h, 90m or 3600"),
            })?,
            None => chrono::TimeDelta::hours(12),
        };
        let oidc_providers = oidc_providers(vars, file.oidc)?;
        let dns_resolver = match var("PARTNERHUB_DNS_RESOLVER").or(file.dns_resolver) {
            Some(text) => Some(text.parse().map_err(|_| ConfigError::Invalid {
                name: "PARTNERHUB_DNS_RESOLVER",
                message: format!("{text:?} is not an address such as 127.0.0.1:53"),
            })?),
            None => None,
        };
        let token_max_lifetime = match var("PARTNERHUB_TOKEN_MAX_LIFETIME").or(file.token_max_lifetime) {
            Some(text) => parse_duration(&text).ok_or_else(|| ConfigError::Invalid {
                name: "PARTNERHUB_TOKEN_MAX_LIFETIME",
                message: format!("{text:?} is not a duration such as 730d, 12h or 3600"),
            })?,
            None => chrono::TimeDelta::days(730),
        };
        let per_minute = |name: &'static str, from_file: Option<u32>, default: usize| -> Result<u32, ConfigError> {
            let n = number(name, from_file.map(|n| n as usize), default)?;
            u32::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::Invalid { name, message: "must be 1 or more".into() })
        };
        let rate_limits = RateLimitSettings {
            auth_failures_per_minute: per_minute(
                "PARTNERHUB_AUTH_FAILURES_PER_MINUTE",
                file.auth_failures_per_minute,
                10,
            )?,
            sign_ins_per_minute: per_minute("PARTNERHUB_SIGN_INS_PER_MINUTE", file.sign_ins_per_minute, 20)?,
        };
        Ok(Settings {
            environment,
            listen,
            database_url,
            database_max_connections: database_max_connections as u32,
            log_format,
            log_filter,
            graphql,
            public_url,
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

fn read_file(path: PathBuf) -> Result<FileSettings, ConfigError> {
    let text =
        std::fs::read_to_string(&path).map_err(|e| ConfigError::File { path: path.clone(), message: e.to_string() })?;
    toml::from_str(&text).map_err(|e| ConfigError::File { path, message: e.to_string() })
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
    fn bad_values_are_named() {
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_LISTEN", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("PARTNERHUB_LISTEN"));
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_ENV", "staging")])).unwrap_err();
        assert!(err.to_string().contains("PARTNERHUB_ENV"));
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_DATABASE_URL", "mysql://x")])).unwrap_err();
        assert!(err.to_string().contains("PARTNERHUB_DATABASE_URL"));
    }
}
