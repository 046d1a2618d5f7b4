//! A tenant's power policy: the bounds within which the sweeps and the partner-events
//! function stop, warn about and keep desktops, and the stamps that let policy events
//! arriving in any order converge. Kept apart from the tenant record because the power
//! decisions read only this.

use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::validate::{self, ValidationError};

/// Minutes in the service's forced stop of a MANUAL desktop left AVAILABLE (48 h).
/// Unconfirmed by any AWS source (\[U\] in the reference): tenants may set their own value.
pub const DEFAULT_SERVICE_FORCED_STOP_MINUTES: u32 = 48 * 60;

/// What the guard does to a desktop that still has a live session at the hard limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GuardHardLimitAction {
    /// Stop it: a controlled stop the partner was warned of beats the service's forced one.
    #[default]
    Stop,
    /// Only warn again; the service's own forced stop will end the session.
    WarnOnly,
}

/// A tenant's power policy. Defaults are conservative; every field is bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PowerPolicy {
    /// A desktop with no live session for this long is stopped by the idle sweep.
    pub idle_timeout_minutes: u32,
    /// After a start, a desktop is left alone this long even if nobody connects.
    pub start_grace_minutes: u32,
    /// A session with no heartbeat for this long counts as ended.
    pub heartbeat_timeout_minutes: u32,
    /// AVAILABLE this long: the guard stops an idle desktop, warns about a busy one.
    pub guard_threshold_minutes: u32,
    /// AVAILABLE this long: the guard applies `guard_hard_limit_action` to a busy desktop.
    pub guard_hard_limit_minutes: u32,
    pub guard_hard_limit_action: GuardHardLimitAction,
    /// When the service itself stops a MANUAL desktop left AVAILABLE (\[U\]: 48 h assumed).
    pub service_forced_stop_minutes: u32,
    /// Record what would be done, call nothing.
    pub dry_run: bool,
    /// Opt the tenant's directories out of the monthly maintenance window.
    pub maintenance_opt_out: bool,
}

impl Default for PowerPolicy {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: 60,
            start_grace_minutes: 15,
            heartbeat_timeout_minutes: 10,
            guard_threshold_minutes: 46 * 60,
            guard_hard_limit_minutes: 47 * 60 + 30,
            guard_hard_limit_action: GuardHardLimitAction::Stop,
            service_forced_stop_minutes: DEFAULT_SERVICE_FORCED_STOP_MINUTES,
            dry_run: false,
            maintenance_opt_out: false,
        }
    }
}

impl PowerPolicy {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let r = |field, v: u32, min: i64, max: i64| validate::range(field, i64::from(v), min, max);
        r(
            "policy.idle_timeout_minutes",
            self.idle_timeout_minutes,
            5,
            24 * 60,
        )?;
        r(
            "policy.start_grace_minutes",
            self.start_grace_minutes,
            0,
            4 * 60,
        )?;
        r(
            "policy.heartbeat_timeout_minutes",
            self.heartbeat_timeout_minutes,
            1,
            120,
        )?;
        r(
            "policy.service_forced_stop_minutes",
            self.service_forced_stop_minutes,
            60,
            7 * 24 * 60,
        )?;
        let forced = i64::from(self.service_forced_stop_minutes);
        r(
            "policy.guard_hard_limit_minutes",
            self.guard_hard_limit_minutes,
            30,
            forced - 1,
        )?;
        r(
            "policy.guard_threshold_minutes",
            self.guard_threshold_minutes,
            15,
            i64::from(self.guard_hard_limit_minutes),
        )?;
        Ok(())
    }
}

/// When and by which event a policy field was set; ordered by time, then event id (so two
/// events of the same instant also converge).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyStamp {
    pub at: Timestamp,
    pub event_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_bounds() {
        assert!(PowerPolicy::default().validate().is_ok());
        let field = |p: PowerPolicy| p.validate().unwrap_err().field.into_owned();
        let p = PowerPolicy {
            idle_timeout_minutes: 1,
            ..Default::default()
        };
        assert_eq!(field(p), "policy.idle_timeout_minutes");
        let p = PowerPolicy {
            guard_hard_limit_minutes: DEFAULT_SERVICE_FORCED_STOP_MINUTES,
            ..Default::default()
        };
        assert_eq!(field(p), "policy.guard_hard_limit_minutes");
        let p = PowerPolicy {
            guard_threshold_minutes: 47 * 60 + 45,
            ..Default::default()
        };
        assert_eq!(field(p), "policy.guard_threshold_minutes");
        let p = PowerPolicy {
            heartbeat_timeout_minutes: 0,
            ..Default::default()
        };
        assert_eq!(field(p), "policy.heartbeat_timeout_minutes");
        // A tenant whose service stops at 24 h may guard below that.
        let p = PowerPolicy {
            service_forced_stop_minutes: 24 * 60,
            guard_hard_limit_minutes: 23 * 60,
            guard_threshold_minutes: 22 * 60,
            ..Default::default()
        };
        assert!(p.validate().is_ok());
        // Partial policies fill the rest with defaults.
        let p: PowerPolicy = serde_json::from_str(r#"{"idle_timeout_minutes": 30}"#).unwrap();
        assert_eq!(p.idle_timeout_minutes, 30);
        assert_eq!(
            p.start_grace_minutes,
            PowerPolicy::default().start_grace_minutes
        );
    }
}
