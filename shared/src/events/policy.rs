//! `Tenant Policy Updated`: a partial power policy, applied field by field so that policy
//! events converge whatever order EventBridge delivers them in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::TenantId;
use crate::model::{GuardHardLimitAction, PolicyStamp, PowerPolicy, Timestamp};
use crate::validate::ValidationError;

/// A partial power policy: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_grace_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_timeout_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_threshold_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_hard_limit_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_hard_limit_action: Option<GuardHardLimitAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_forced_stop_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_opt_out: Option<bool>,
}

impl PolicyChanges {
    /// The policy with these changes applied, checked as a whole.
    pub fn apply(&self, base: &PowerPolicy) -> Result<PowerPolicy, ValidationError> {
        let mut stamps = BTreeMap::new();
        let stamp = PolicyStamp {
            at: Timestamp::MIN_UTC,
            event_id: String::new(),
        };
        self.apply_stamped(base, &mut stamps, &stamp)
    }

    /// Applies, of these changes, those newer than the event that last set each field
    /// (`stamps`, updated for the fields this event sets), and checks the result as a whole.
    /// A field an older event changes after a newer one set it keeps the newer value, so the
    /// policy ends the same whatever order the events arrive in.
    pub fn apply_stamped(
        &self,
        base: &PowerPolicy,
        stamps: &mut BTreeMap<String, PolicyStamp>,
        stamp: &PolicyStamp,
    ) -> Result<PowerPolicy, ValidationError> {
        let mut p = base.clone();
        let mut newer = |field: &str| {
            let newer = stamps.get(field).is_none_or(|s| stamp > s);
            if newer {
                stamps.insert(field.to_owned(), stamp.clone());
            }
            newer
        };
        macro_rules! set {
            ($($f:ident => $name:literal),*) => {$(
                if let Some(v) = self.$f {
                    if newer($name) {
                        p.$f = v;
                    }
                }
            )*};
        }
        set!(
            idle_timeout_minutes => "idleTimeoutMinutes",
            start_grace_minutes => "startGraceMinutes",
            heartbeat_timeout_minutes => "heartbeatTimeoutMinutes",
            guard_threshold_minutes => "guardThresholdMinutes",
            guard_hard_limit_minutes => "guardHardLimitMinutes",
            guard_hard_limit_action => "guardHardLimitAction",
            service_forced_stop_minutes => "serviceForcedStopMinutes",
            dry_run => "dryRun",
            maintenance_opt_out => "maintenanceOptOut"
        );
        p.validate()?;
        Ok(p)
    }

    pub(super) fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The bounds each field has on its own (those that depend on other fields are checked
    /// when the changes are applied to a policy).
    pub(super) fn check_ranges(&self) -> Result<(), ValidationError> {
        let check = |field, v: Option<u32>, min: i64, max: i64| match v {
            Some(v) => crate::validate::range(field, i64::from(v), min, max),
            None => Ok(()),
        };
        check(
            "detail.policy.idleTimeoutMinutes",
            self.idle_timeout_minutes,
            5,
            1440,
        )?;
        check(
            "detail.policy.startGraceMinutes",
            self.start_grace_minutes,
            0,
            240,
        )?;
        check(
            "detail.policy.heartbeatTimeoutMinutes",
            self.heartbeat_timeout_minutes,
            1,
            120,
        )?;
        check(
            "detail.policy.guardThresholdMinutes",
            self.guard_threshold_minutes,
            15,
            i64::from(u32::MAX),
        )?;
        check(
            "detail.policy.guardHardLimitMinutes",
            self.guard_hard_limit_minutes,
            30,
            i64::from(u32::MAX),
        )?;
        check(
            "detail.policy.serviceForcedStopMinutes",
            self.service_forced_stop_minutes,
            60,
            10080,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub policy: PolicyChanges,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn now() -> Timestamp {
        chrono::DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn policy_changes_apply_and_are_checked_whole() {
        let changes = PolicyChanges {
            idle_timeout_minutes: Some(30),
            dry_run: Some(true),
            ..Default::default()
        };
        let p = changes.apply(&PowerPolicy::default()).unwrap();
        assert_eq!(p.idle_timeout_minutes, 30);
        assert!(p.dry_run);
        assert_eq!(
            p.start_grace_minutes,
            PowerPolicy::default().start_grace_minutes
        );
        let bad = PolicyChanges {
            guard_threshold_minutes: Some(48 * 60),
            ..Default::default()
        };
        assert_eq!(
            bad.apply(&PowerPolicy::default()).unwrap_err().field,
            "policy.guard_threshold_minutes"
        );
    }

    #[test]
    fn policy_events_converge_whatever_their_order() {
        let at = |m: i64| PolicyStamp {
            at: now() - Duration::minutes(m),
            event_id: format!("e{m}"),
        };
        let idle = |v: u32| PolicyChanges {
            idle_timeout_minutes: Some(v),
            ..PolicyChanges::default()
        };
        let grace = PolicyChanges {
            start_grace_minutes: Some(30),
            ..PolicyChanges::default()
        };
        // (change, stamp): the newest idle timeout is 45 (10 minutes ago).
        let events = [(idle(90), at(20)), (idle(45), at(10)), (grace, at(15))];
        let orders = [
            [0, 1, 2],
            [1, 0, 2],
            [2, 1, 0],
            [1, 2, 0],
            [0, 2, 1],
            [2, 0, 1],
        ];
        for order in orders {
            let mut policy = PowerPolicy::default();
            let mut stamps = BTreeMap::new();
            for i in order {
                let (c, s) = &events[i];
                policy = c.apply_stamped(&policy, &mut stamps, s).unwrap();
            }
            assert_eq!(policy.idle_timeout_minutes, 45, "order {order:?}");
            assert_eq!(policy.start_grace_minutes, 30, "order {order:?}");
            assert_eq!(stamps["idleTimeoutMinutes"], at(10));
        }
        // Same instant: the event id decides, in either order.
        let same = |id: &str| PolicyStamp {
            at: now(),
            event_id: id.into(),
        };
        for (first, second) in [("a", "b"), ("b", "a")] {
            let mut stamps = BTreeMap::new();
            let v = |id: &str| if id == "a" { 30 } else { 40 };
            let p = idle(v(first))
                .apply_stamped(&PowerPolicy::default(), &mut stamps, &same(first))
                .unwrap();
            let p = idle(v(second))
                .apply_stamped(&p, &mut stamps, &same(second))
                .unwrap();
            assert_eq!(p.idle_timeout_minutes, 40);
        }
    }
}
