//! Configuration, read once from the environment at start.
//!
//! Endpoints are not configured here: aws-config reads the standard `AWS_ENDPOINT_URL` and
//! `AWS_ENDPOINT_URL_<SERVICE>` variables, which is how tests and the sandbox reach local
//! servers with no code change.

use std::time::Duration;

/// A missing or malformed environment variable.
/// The `source` partner backends put on their events unless `STEWARD_PARTNER_EVENT_SOURCE`
/// names another.
pub const DEFAULT_PARTNER_EVENT_SOURCE: &str = "steward.partner";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is required")]
    Missing { name: &'static str },
    #[error("environment variable {name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

/// Settings of the per-tenant AWS access layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSettings {
    /// Lifetime asked of STS for each tenant session (900–3600 s).
    pub session_duration: Duration,
    /// Cached credentials are replaced within this long before they expire, at a jittered
    /// point so that concurrent functions do not all refresh at once (10–600 s, always
    /// shorter than the shortest session).
    pub refresh_buffer: Duration,
    /// Attempts per AWS call, the first included (adaptive retry: throttling backs off).
    pub max_attempts: u32,
    /// Back-off base for retries.
    pub initial_backoff: Duration,
    /// How long an access-key tenant's key pair, once read from its Secrets Manager secret,
    /// is used before the secret is read again (`STEWARD_SECRET_CACHE_SECONDS`, 0–3600,
    /// default 300). Long enough that a sweep reads each secret once, short enough that a
    /// rotated key is picked up within minutes; 0 reads the secret for every session.
    pub secret_cache: Duration,
}

impl Default for AccessSettings {
    fn default() -> Self {
        Self {
            session_duration: Duration::from_secs(900),
            refresh_buffer: Duration::from_secs(120),
            max_attempts: 8,
            initial_backoff: Duration::from_millis(500),
            secret_cache: Duration::from_secs(300),
        }
    }
}

/// Everything a Steward function reads from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The single DynamoDB table (`STEWARD_TABLE_NAME`).
    pub table_name: String,
    /// The partner event bus Steward publishes to and reads from (`STEWARD_EVENT_BUS_NAME`).
    pub event_bus_name: String,
    /// `source` of the events Steward publishes (`STEWARD_EVENT_SOURCE`, default `steward`).
    pub event_source: String,
    /// `source` partner backends use for their events (`STEWARD_PARTNER_EVENT_SOURCE`,
    /// default `steward.partner`).
    pub partner_event_source: String,
    /// How long an event id is remembered for de-duplication (`STEWARD_DEDUPE_TTL_HOURS`,
    /// default 72: longer than EventBridge's 24 h retry window).
    pub dedupe_ttl: Duration,
    pub access: AccessSettings,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process env.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing { name });
        let number = |name: &'static str, default: u64, min: u64, max: u64| match get(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ConfigError::Invalid {
                    name,
                    why: format!("expected a whole number from {min} to {max}"),
                }),
            },
        };
        let defaults = AccessSettings::default();
        let access = AccessSettings {
            session_duration: Duration::from_secs(number(
                "STEWARD_ASSUME_ROLE_SECONDS",
                defaults.session_duration.as_secs(),
                900,
                3600,
            )?),
            refresh_buffer: Duration::from_secs(number(
                "STEWARD_CREDENTIALS_REFRESH_BUFFER_SECONDS",
                defaults.refresh_buffer.as_secs(),
                10,
                600,
            )?),
            max_attempts: number("STEWARD_MAX_ATTEMPTS", defaults.max_attempts.into(), 1, 20)?
                as u32,
            initial_backoff: Duration::from_millis(number(
                "STEWARD_INITIAL_BACKOFF_MS",
                defaults.initial_backoff.as_millis() as u64,
                10,
                10_000,
            )?),
            secret_cache: Duration::from_secs(number(
                "STEWARD_SECRET_CACHE_SECONDS",
                defaults.secret_cache.as_secs(),
                0,
                3600,
            )?),
        };
        Ok(Self {
            table_name: required("STEWARD_TABLE_NAME")?,
            event_bus_name: required("STEWARD_EVENT_BUS_NAME")?,
            event_source: get("STEWARD_EVENT_SOURCE").unwrap_or_else(|| "steward".into()),
            partner_event_source: get("STEWARD_PARTNER_EVENT_SOURCE")
                .unwrap_or_else(|| DEFAULT_PARTNER_EVENT_SOURCE.into()),
            dedupe_ttl: Duration::from_secs(
                number("STEWARD_DEDUPE_TTL_HOURS", 72, 25, 24 * 30)? * 3600,
            ),
            access,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    const BASE: [(&str, &str); 2] = [
        ("STEWARD_TABLE_NAME", "steward"),
        ("STEWARD_EVENT_BUS_NAME", "steward-partner"),
    ];

    #[test]
    fn defaults() {
        let c = load(&BASE).unwrap();
        assert_eq!(c.table_name, "steward");
        assert_eq!(c.event_source, "steward");
        assert_eq!(c.partner_event_source, "steward.partner");
        assert_eq!(c.dedupe_ttl, Duration::from_secs(72 * 3600));
        assert_eq!(c.access, AccessSettings::default());
        assert_eq!(c.access.secret_cache, Duration::from_secs(300));
        let mut vars = BASE.to_vec();
        vars.push(("STEWARD_SECRET_CACHE_SECONDS", "0"));
        assert_eq!(load(&vars).unwrap().access.secret_cache, Duration::ZERO);
    }

    #[test]
    fn required_and_invalid_variables_are_named() {
        assert_eq!(
            load(&[("STEWARD_EVENT_BUS_NAME", "b")]),
            Err(ConfigError::Missing {
                name: "STEWARD_TABLE_NAME"
            })
        );
        assert_eq!(
            load(&[("STEWARD_TABLE_NAME", " "), ("STEWARD_EVENT_BUS_NAME", "b")]),
            Err(ConfigError::Missing {
                name: "STEWARD_TABLE_NAME"
            })
        );
        let mut vars = BASE.to_vec();
        vars.push(("STEWARD_ASSUME_ROLE_SECONDS", "60"));
        let e = load(&vars).unwrap_err();
        assert!(matches!(
            e,
            ConfigError::Invalid {
                name: "STEWARD_ASSUME_ROLE_SECONDS",
                ..
            }
        ));
        let mut vars = BASE.to_vec();
        vars.push(("STEWARD_MAX_ATTEMPTS", "many"));
        assert!(
            load(&vars)
                .unwrap_err()
                .to_string()
                .contains("STEWARD_MAX_ATTEMPTS")
        );
        let mut vars = BASE.to_vec();
        vars.push(("STEWARD_CREDENTIALS_REFRESH_BUFFER_SECONDS", "601"));
        assert!(load(&vars).is_err());
        let mut vars = BASE.to_vec();
        vars.push(("STEWARD_DEDUPE_TTL_HOURS", "1"));
        assert!(load(&vars).is_err());
        let mut vars = BASE.to_vec();
        vars.push(("STEWARD_SECRET_CACHE_SECONDS", "3601"));
        assert_eq!(
            load(&vars),
            Err(ConfigError::Invalid {
                name: "STEWARD_SECRET_CACHE_SECONDS",
                why: "expected a whole number from 0 to 3600".into()
            })
        );
    }
}
