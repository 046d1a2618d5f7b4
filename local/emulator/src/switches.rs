//! Per-account switches a test flips on an account already seeded (the control API's
//! `PATCH /_emulator/accounts/{account_id}`, [`crate::Control::update_account`]): each one
//! makes one of a partner's pre-flight checks fail or pass without re-seeding the account.
//! A member left out keeps its value.

use crate::model::{Account, World};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AccountSwitches {
    /// Whether `workspaces_DefaultRole` exists (IAM GetRole, RegisterWorkspaceDirectory).
    pub has_default_role: Option<bool>,
    /// Allow-listed for WorkSpaces Core / BYOP (`_BYOP` ingestion, MANUAL mode).
    pub byop_enabled: Option<bool>,
    /// Allow-listed for BYOL (ModifyAccount, ListAvailableManagementCidrRanges).
    pub byol_eligible: Option<bool>,
    /// WorkSpaces per Region that CreateWorkspaces allows.
    pub workspace_quota: Option<usize>,
    /// The WorkSpaces quota Service Quotas reports (not enforced).
    pub service_quota_value: Option<f64>,
    /// GetServiceQuota answers AccessDeniedException.
    pub quota_read_denied: Option<bool>,
    /// `AllowTagManagement` of every customer role of the account.
    pub allow_tag_management: Option<bool>,
}

impl AccountSwitches {
    /// Applies the switches to `account` in `w`; false when there is no such account.
    pub fn apply(&self, w: &mut World, account: &str) -> bool {
        let Some(a) = w.accounts.get_mut(account) else {
            return false;
        };
        self.apply_to(a);
        true
    }

    fn apply_to(&self, a: &mut Account) {
        fn set<T: Clone>(slot: &mut T, v: &Option<T>) {
            if let Some(v) = v {
                *slot = v.clone();
            }
        }
        set(&mut a.has_default_role, &self.has_default_role);
        set(&mut a.byop_enabled, &self.byop_enabled);
        set(&mut a.byol_eligible, &self.byol_eligible);
        set(&mut a.workspace_quota, &self.workspace_quota);
        set(&mut a.service_quota_value, &self.service_quota_value);
        set(&mut a.quota_read_denied, &self.quota_read_denied);
        if let Some(allow) = self.allow_tag_management {
            for r in a.roles.values_mut() {
                r.allow_tag_management = allow;
            }
        }
    }

    /// What the switches of `account` are now (every member set).
    pub fn of(w: &World, account: &str) -> Option<Self> {
        let a = w.accounts.get(account)?;
        Some(Self {
            has_default_role: Some(a.has_default_role),
            byop_enabled: Some(a.byop_enabled),
            byol_eligible: Some(a.byol_eligible),
            workspace_quota: Some(a.workspace_quota),
            service_quota_value: Some(a.service_quota_value),
            quota_read_denied: Some(a.quota_read_denied),
            allow_tag_management: Some(a.roles.values().any(|r| r.allow_tag_management)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_members_given_change() {
        let mut w = World::default();
        crate::seed::seed_default(&mut w, 0);
        let s = AccountSwitches {
            has_default_role: Some(false),
            allow_tag_management: Some(true),
            ..Default::default()
        };
        assert!(s.apply(&mut w, "123456789012"));
        assert!(!s.apply(&mut w, "999999999999"));
        let now = AccountSwitches::of(&w, "123456789012").unwrap();
        assert_eq!(now.has_default_role, Some(false));
        assert_eq!(now.allow_tag_management, Some(true));
        assert_eq!(now.byop_enabled, Some(true));
        assert_eq!(now.quota_read_denied, Some(false));
    }
}
