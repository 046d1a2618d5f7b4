//! Behaviour knobs, including every item the reference marks [U].
//! All of them can be changed at run time through `PUT /_emulator/options`.

use super::service_clock::Millis;
use chrono::{Datelike, Duration, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    pub rate_limit: RateLimitOptions,
    pub durations: Durations,
    /// A MANUAL workspace AVAILABLE this long is stopped by the emulator [U]. `null` = never.
    pub manual_autostop_hours: Option<f64>,
    pub maintenance: MaintenanceOptions,
    /// Enforce the customer roles' tag-based policy.
    pub tag_policy: bool,
    /// Reject emulator-issued credentials after their Expiration (virtual clock).
    pub enforce_credential_expiry: bool,
    /// Added to every request (real milliseconds).
    pub latency_ms: u64,
    /// RunningMode when CreateWorkspaces omits it [U].
    pub default_running_mode: String,
    /// Error code for schema violations (pattern, length, range) [U].
    pub validation_error_code: String,
    /// Images per account and region (the documented quota is 40).
    pub image_quota: usize,
    /// Custom bundles per account and region (documented: 50).
    pub bundle_quota: usize,
    /// Registered directories per account and region (documented: 50).
    pub directory_quota: usize,
    /// Page size when DescribeWorkspaces has no Limit [U].
    pub default_page_size: usize,
    /// ExpiredTokenException answers with this HTTP status [U].
    pub expired_token_status: u16,
    /// The Service Quotas code of the WorkSpaces-per-account quota [U: AWS's real code is
    /// unconfirmed; this default is a placeholder of the right shape].
    pub workspaces_quota_code: String,
    /// Availability Zone ids WorkSpaces does not support: RegisterWorkspaceDirectory refuses
    /// a subnet in one (OperationNotSupportedException) [U: the real list is AWS's, per
    /// Region]. Default: the `c` zone of each common Region (`use1-az3` in us-east-1), where
    /// the seeded `subnet-0a1b2c3d4e5f60003` is.
    pub unsupported_az_ids: Vec<String>,
    /// The key a WorkSpace's volumes are encrypted with when CreateWorkspaces enables
    /// encryption without a `VolumeEncryptionKey`: the AWS managed key [U: how
    /// DescribeWorkspaces names it].
    pub default_volume_encryption_key: String,
    /// The error ImportWorkspaceImage answers for a `_BYOP` ingestion process in an account
    /// not allow-listed for BYOP (`byop_enabled: false`) [U: how AWS refuses it; the ws
    /// model's ImportWorkspaceImage errors allow OperationNotSupportedException (the
    /// default) or AccessDeniedException].
    pub byop_not_enabled_error_code: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            rate_limit: RateLimitOptions::default(),
            durations: Durations::default(),
            manual_autostop_hours: Some(48.0),
            maintenance: MaintenanceOptions::default(),
            tag_policy: true,
            enforce_credential_expiry: true,
            latency_ms: 0,
            default_running_mode: "ALWAYS_ON".into(),
            validation_error_code: "InvalidParameterValuesException".into(),
            image_quota: 40,
            bundle_quota: 50,
            directory_quota: 50,
            default_page_size: 25,
            expired_token_status: 400,
            workspaces_quota_code: "L-34278094".into(),
            unsupported_az_ids: super::zones::default_unsupported(),
            default_volume_encryption_key: "alias/aws/workspaces".into(),
            byop_not_enabled_error_code: "OperationNotSupportedException".into(),
        }
    }
}

/// Token bucket per account and region, refilled on **real** time: the SDKs'
/// retry back-off sleeps in real time, while the virtual clock only moves
/// when told to, so a virtual-time bucket would never recover on its own.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitOptions {
    pub enabled: bool,
    pub capacity: f64,
    pub refill_per_second: f64,
}

impl Default for RateLimitOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            capacity: 5.0,
            refill_per_second: 2.0,
        }
    }
}

/// Longest accepted duration or clock step: ten years.
pub const MAX_DURATION_SECONDS: f64 = 10.0 * 365.0 * 86_400.0;

/// Transition durations in virtual seconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Durations {
    pub create: f64,
    pub start: f64,
    pub stop: f64,
    pub reboot: f64,
    pub rebuild: f64,
    pub restore: f64,
    pub update: f64,
    pub migrate: f64,
    pub terminate: f64,
    /// How long TERMINATED stays visible before the workspace disappears.
    pub terminated_visible: f64,
    pub image_create: f64,
    pub image_import: f64,
    pub image_copy: f64,
    pub directory_register: f64,
    pub directory_deregister: f64,
    pub account_modification: f64,
}

impl Default for Durations {
    fn default() -> Self {
        Self {
            create: 1200.0,
            start: 120.0,
            stop: 90.0,
            reboot: 120.0,
            rebuild: 1800.0,
            restore: 1800.0,
            update: 600.0,
            migrate: 3600.0,
            terminate: 300.0,
            terminated_visible: 60.0,
            image_create: 2700.0,
            image_import: 5400.0,
            image_copy: 1800.0,
            directory_register: 120.0,
            directory_deregister: 120.0,
            account_modification: 7200.0,
        }
    }
}

impl Durations {
    /// Seconds to milliseconds, clamped to [0, 10 years] so that no
    /// configured value can overflow a timestamp.
    pub fn ms(&self, seconds: f64) -> Millis {
        if seconds.is_nan() {
            return 0;
        }
        (seconds.clamp(0.0, MAX_DURATION_SECONDS) * 1000.0) as Millis
    }
}

/// The monthly maintenance window [D-AG]: third Monday of the month,
/// `start_hour_utc` for `duration_hours`, STOPPED AUTO_STOP (and optionally
/// MANUAL [U]) workspaces of directories with EnableMaintenanceMode show
/// MAINTENANCE. Region time zones are not modelled: the window is in UTC.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MaintenanceOptions {
    pub enabled: bool,
    pub applies_to_manual: bool,
    pub start_hour_utc: u32,
    pub duration_hours: u32,
}

impl Default for MaintenanceOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            applies_to_manual: true,
            start_hour_utc: 0,
            duration_hours: 5,
        }
    }
}

impl MaintenanceOptions {
    pub fn in_window(&self, now: Millis) -> bool {
        let t = super::service_clock::to_datetime(now);
        let Some(first) = Utc
            .with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
            .single()
        else {
            return false;
        };
        let to_monday = (7 + Weekday::Mon.num_days_from_monday() as i64
            - first.weekday().num_days_from_monday() as i64)
            % 7;
        let start = first
            + Duration::days(to_monday + 14)
            + Duration::hours(self.start_hour_utc.min(23) as i64);
        let end = start + Duration::hours(self.duration_hours as i64);
        t >= start && t < end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn third_monday_window() {
        let m = MaintenanceOptions::default();
        // November 2026: Mondays are 2, 9, 16 → third Monday is the 16th.
        let at = |d, h| {
            Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0)
                .unwrap()
                .timestamp_millis()
        };
        assert!(m.in_window(at(16, 1)));
        assert!(!m.in_window(at(16, 6)));
        assert!(!m.in_window(at(9, 1)));
    }

    #[test]
    fn durations_are_clamped() {
        let d = Durations::default();
        assert_eq!(d.ms(-5.0), 0);
        assert_eq!(d.ms(f64::NAN), 0);
        assert_eq!(d.ms(1e300), (MAX_DURATION_SECONDS * 1000.0) as Millis);
    }

    #[test]
    fn options_accept_partial_json() {
        let o: Options = serde_json::from_str(r#"{"manual_autostop_hours": null}"#).unwrap();
        assert_eq!(o.manual_autostop_hours, None);
        assert!(o.tag_policy);
        assert!(serde_json::from_str::<Options>(r#"{"nope": 1}"#).is_err());
    }
}
