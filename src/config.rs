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
}

#[derive(Clone, Debug)]
pub struct GraphqlSettings {
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Largest batch accepted; 0 (the default) refuses batched requests.
    pub max_batch: usize,
    pub max_body_bytes: usize,
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
    ("PARTNERHUB_GRAPHQL_MAX_COMPLEXITY", "most complex query accepted (default 2000)"),
    ("PARTNERHUB_GRAPHQL_MAX_BATCH", "largest batch of operations in one request; 0 refuses batches (default 0)"),
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
            max_complexity: number("PARTNERHUB_GRAPHQL_MAX_COMPLEXITY", file.graphql_max_complexity, 2000)?,
            max_batch: number("PARTNERHUB_GRAPHQL_MAX_BATCH", file.graphql_max_batch, 0)?,
            max_body_bytes: 1024 * 1024,
        };
        if graphql.max_depth == 0 || graphql.max_complexity == 0 {
            return Err(ConfigError::Invalid {
                name: "PARTNERHUB_GRAPHQL_MAX_DEPTH",
                message: "limits must be positive".into(),
            });
        }
        Ok(Settings {
            environment,
            listen,
            database_url,
            database_max_connections: database_max_connections as u32,
            log_format,
            log_filter,
            graphql,
        })
    }

    pub fn is_development(&self) -> bool {
        self.environment == Environment::Development
    }
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
    fn bad_values_are_named() {
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_LISTEN", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("PARTNERHUB_LISTEN"));
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_ENV", "staging")])).unwrap_err();
        assert!(err.to_string().contains("PARTNERHUB_ENV"));
        let err = Settings::from_vars(&vars(&[("PARTNERHUB_DATABASE_URL", "mysql://x")])).unwrap_err();
        assert!(err.to_string().contains("PARTNERHUB_DATABASE_URL"));
    }
}
