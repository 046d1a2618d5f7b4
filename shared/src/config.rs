//! Configuration, read once from the environment at start.
//!
//! Endpoints are not configured here: aws-config reads the standard `AWS_ENDPOINT_URL` and
//! `AWS_ENDPOINT_URL_<SERVICE>` variables, which is how tests and the sandbox reach local
//! servers with no code change.

use std::collections::BTreeMap;
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

/// The Service Quotas code of the WorkSpaces-per-account quota [U: unconfirmed against
/// AWS; set `STEWARD_WORKSPACES_QUOTA_CODE` when AWS's differs].
pub const DEFAULT_WORKSPACES_QUOTA_CODE: &str = "L-34278094";

/// The Availability Zone ids WorkSpaces Personal supports, per Region, from AWS's
/// documented table ("Availability Zones for WorkSpaces Personal") [U: copied by hand, and
/// AWS adds zones; override with `STEWARD_WORKSPACES_SUPPORTED_AZ_IDS`].
const DOCUMENTED_AZ_IDS: &[(&str, &[&str])] = &[
    ("us-east-1", &["use1-az2", "use1-az4", "use1-az6"]),
    ("us-west-2", &["usw2-az1", "usw2-az2", "usw2-az3"]),
    ("ap-south-1", &["aps1-az1", "aps1-az2", "aps1-az3"]),
    ("ap-northeast-2", &["apne2-az1", "apne2-az3"]),
    ("ap-southeast-1", &["apse1-az1", "apse1-az2"]),
    ("ap-southeast-2", &["apse2-az1", "apse2-az3"]),
    ("ap-northeast-1", &["apne1-az1", "apne1-az4"]),
    ("ca-central-1", &["cac1-az1", "cac1-az2"]),
    ("eu-central-1", &["euc1-az2", "euc1-az3"]),
    ("eu-west-1", &["euw1-az1", "euw1-az2", "euw1-az3"]),
];

/// Region → the Availability Zone *ids* (`use1-az2`, the same zone in every account, unlike
/// names such as `us-east-1a`) where WorkSpaces can place desktops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedZones(BTreeMap<String, Vec<String>>);

impl Default for SupportedZones {
    fn default() -> Self {
        Self(
            DOCUMENTED_AZ_IDS
                .iter()
                .map(|(r, ids)| (r.to_string(), ids.iter().map(|i| i.to_string()).collect()))
                .collect(),
        )
    }
}

impl SupportedZones {
    /// Reads a JSON object `{"<region>": ["<az id>", …], …}` (it replaces the defaults).
    pub fn from_json(raw: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|_| "expected a JSON object".to_owned())?;
        let serde_json::Value::Object(regions) = value else {
            return Err("expected a JSON object of Region to a list of AZ ids".into());
        };
        let mut out = BTreeMap::new();
        for (region, ids) in regions {
            let ids = match ids {
                serde_json::Value::Array(ids) => ids
                    .into_iter()
                    .map(|i| match i {
                        serde_json::Value::String(s) if !s.trim().is_empty() => {
                            Ok(s.trim().to_owned())
                        }
                        _ => Err("every Region's AZ ids must be non-empty strings".to_owned()),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => return Err("every Region's AZ ids must be a list".into()),
            };
            out.insert(region, ids);
        }
        Ok(Self(out))
    }

    /// The zone ids listed for `region`, if the Region is listed (`None`: Steward cannot
    /// tell, and the pre-flight says so rather than refusing).
    pub fn region(&self, region: &str) -> Option<&[String]> {
        self.0.get(region).map(Vec::as_slice)
    }
}

/// What onboarding's pre-flight checks against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightSettings {
    /// The Service Quotas code of the WorkSpaces count quota (service code `workspaces`)
    /// (`STEWARD_WORKSPACES_QUOTA_CODE`, default [`DEFAULT_WORKSPACES_QUOTA_CODE`] [U]).
    pub workspaces_quota_code: String,
    /// The zones WorkSpaces supports per Region (`STEWARD_WORKSPACES_SUPPORTED_AZ_IDS`, a
    /// JSON object Region → list of AZ ids that replaces the documented table [U]; a Region
    /// not listed is "unknown").
    pub supported_az_ids: SupportedZones,
}

impl Default for PreflightSettings {
    fn default() -> Self {
        Self {
            workspaces_quota_code: DEFAULT_WORKSPACES_QUOTA_CODE.into(),
            supported_az_ids: SupportedZones::default(),
        }
    }
}

/// A Service Quotas code: `L-` and 8 letters or digits.
fn quota_code(raw: &str) -> bool {
    raw.len() == 10 && raw.starts_with("L-") && raw[2..].chars().all(|c| c.is_ascii_alphanumeric())
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
    pub preflight: PreflightSettings,
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
        let preflight = PreflightSettings {
            workspaces_quota_code: match get("STEWARD_WORKSPACES_QUOTA_CODE") {
                None => DEFAULT_WORKSPACES_QUOTA_CODE.into(),
                Some(raw) if quota_code(raw.trim()) => raw.trim().to_owned(),
                Some(_) => {
                    return Err(ConfigError::Invalid {
                        name: "STEWARD_WORKSPACES_QUOTA_CODE",
                        why: "expected a Service Quotas code, L- and 8 letters or digits".into(),
                    });
                }
            },
            supported_az_ids: match get("STEWARD_WORKSPACES_SUPPORTED_AZ_IDS") {
                None => SupportedZones::default(),
                Some(raw) => {
                    SupportedZones::from_json(&raw).map_err(|why| ConfigError::Invalid {
                        name: "STEWARD_WORKSPACES_SUPPORTED_AZ_IDS",
                        why,
                    })?
                }
            },
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
            preflight,
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

    /// Whether the table lists `az` for `region` (`None`: the Region is not in it).
    fn supports(z: &SupportedZones, region: &str, az: &str) -> Option<bool> {
        z.region(region).map(|ids| ids.iter().any(|i| i == az))
    }

    #[test]
    fn preflight_defaults_and_overrides() {
        let c = load(&BASE).unwrap();
        assert_eq!(c.preflight, PreflightSettings::default());
        assert_eq!(c.preflight.workspaces_quota_code, "L-34278094");
        let z = &c.preflight.supported_az_ids;
        assert_eq!(
            z.region("us-east-1").unwrap(),
            ["use1-az2", "use1-az4", "use1-az6"]
        );
        assert_eq!(supports(z, "us-east-1", "use1-az4"), Some(true));
        assert_eq!(supports(z, "us-east-1", "use1-az1"), Some(false));
        assert_eq!(supports(z, "us-west-2", "usw2-az3"), Some(true));
        assert_eq!(supports(z, "us-west-2", "usw2-az4"), Some(false));
        assert_eq!(supports(z, "mx-central-1", "mxc1-az1"), None);

        let mut vars = BASE.to_vec();
        vars.push(("STEWARD_WORKSPACES_QUOTA_CODE", "L-ABCD1234"));
        vars.push((
            "STEWARD_WORKSPACES_SUPPORTED_AZ_IDS",
            r#"{"eu-west-3": ["euw3-az1"], "us-east-1": []}"#,
        ));
        let p = load(&vars).unwrap().preflight;
        assert_eq!(p.workspaces_quota_code, "L-ABCD1234");
        // The variable replaces the table: us-west-2 is unknown now.
        let z = &p.supported_az_ids;
        assert_eq!(supports(z, "eu-west-3", "euw3-az1"), Some(true));
        assert_eq!(supports(z, "us-east-1", "use1-az2"), Some(false));
        assert_eq!(supports(z, "us-west-2", "usw2-az1"), None);
    }

    #[test]
    fn malformed_preflight_settings_are_named() {
        let with = |name: &'static str, value: &'static str| {
            let mut vars = BASE.to_vec();
            vars.push((name, value));
            load(&vars).unwrap_err()
        };
        assert_eq!(
            with("STEWARD_WORKSPACES_QUOTA_CODE", "workspaces"),
            ConfigError::Invalid {
                name: "STEWARD_WORKSPACES_QUOTA_CODE",
                why: "expected a Service Quotas code, L- and 8 letters or digits".into()
            }
        );
        let bad = [
            (
                r#"["use1-az2"]"#,
                "expected a JSON object of Region to a list of AZ ids",
            ),
            ("{not json", "expected a JSON object"),
            (
                r#"{"us-east-1": "use1-az2"}"#,
                "every Region's AZ ids must be a list",
            ),
            (
                r#"{"us-east-1": ["use1-az2", 4]}"#,
                "every Region's AZ ids must be non-empty strings",
            ),
        ];
        for (raw, why) in bad {
            let mut vars = BASE.to_vec();
            vars.push(("STEWARD_WORKSPACES_SUPPORTED_AZ_IDS", raw));
            assert_eq!(
                load(&vars).unwrap_err(),
                ConfigError::Invalid {
                    name: "STEWARD_WORKSPACES_SUPPORTED_AZ_IDS",
                    why: why.into()
                },
                "{raw}"
            );
        }
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
