//! The pools catalog: pools, users and desktop assignment, as partner events.
//!
//! - `Pool Created` / `Pool Updated` ([`PoolDetail`]): a pool's configuration; Created
//!   needs every required setting, Updated only the ones it changes. A pool's bundle,
//!   directory and Region never change (a new pool is made instead).
//! - `Pool Deleted` ([`PoolRef`]).
//! - `Users Loaded` ([`UsersLoadedDetail`]): up to [`MAX_USERS_PER_EVENT`] users, each an
//!   id, an optional display name and the pools the user may use; thousands of users come
//!   in several events. Unknown fields are refused, so nothing else about a user (no
//!   password, no PII beyond the id and the name) can reach the table.
//! - `User Removed` ([`UserRef`]).
//! - `Desktop Assignment Requested` ([`AssignmentRequestDetail`]) and `Desktop Release
//!   Requested` ([`ReleaseRequestDetail`]).

use serde::{Deserialize, Serialize};

use crate::ids::{BundleId, DirectoryId, PoolId, RegionName, TenantId, UserId, WorkspaceId};
use crate::model::Timestamp;
use crate::pools::protocol::StreamingProtocol;
use crate::pools::{AssignmentPolicy, ReleaseAction, ReleasePlan};
use crate::validate::{self, Problem, ValidationError};

/// Users one `Users Loaded` event may carry (EventBridge's 256 KB entry holds about 1,000
/// users with long names; 500 leaves room).
pub const MAX_USERS_PER_EVENT: usize = 500;
/// The largest pool.
pub const MAX_POOL_SIZE: u32 = 1000;
/// Pools one user may use.
pub const MAX_POOLS_PER_USER: usize = 20;
/// The longest release delay and cool-down: a day.
pub const MAX_DELAY_MINUTES: u32 = 24 * 60;
/// What a pool grows by when the partner does not say.
pub const DEFAULT_GROW_BY: u32 = 10;
/// How long a free desktop above `minSize` stays, when the partner does not say.
pub const DEFAULT_COOLDOWN_MINUTES: u32 = 30;

/// A pool's settings as `Pool Created` and `Pool Updated` carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolDetail {
    pub tenant_id: TenantId,
    pub pool_id: PoolId,
    pub occurred_at: Timestamp,
    /// The tenant's first Region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_id: Option<DirectoryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<BundleId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<StreamingProtocol>,
    /// The partner vouches for the protocol of a bundle Steward did not create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_unverified_protocol: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grow_by: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<AssignmentPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_plan: Option<ReleasePlan>,
}

impl PoolDetail {
    /// The checks that need no record: ranges, and for `Pool Created` every required field.
    pub fn check(&self, creating: bool) -> Result<(), ValidationError> {
        if creating {
            let required: [(&'static str, bool); 7] = [
                ("detail.directoryId", self.directory_id.is_some()),
                ("detail.bundleId", self.bundle_id.is_some()),
                ("detail.protocol", self.protocol.is_some()),
                ("detail.minSize", self.min_size.is_some()),
                ("detail.maxSize", self.max_size.is_some()),
                ("detail.assignment", self.assignment.is_some()),
                ("detail.releasePlan", self.release_plan.is_some()),
            ];
            if let Some((field, _)) = required.iter().find(|(_, present)| !present) {
                return Err(ValidationError::new(*field, Problem::Missing));
            }
        } else if self.is_empty() {
            return Err(ValidationError::new("detail", Problem::Missing));
        }
        let n = |v: Option<u32>| v.map(i64::from);
        let ranges = [
            ("detail.minSize", n(self.min_size), 0, MAX_POOL_SIZE),
            ("detail.maxSize", n(self.max_size), 1, MAX_POOL_SIZE),
            ("detail.growBy", n(self.grow_by), 1, 100),
            (
                "detail.cooldownMinutes",
                n(self.cooldown_minutes),
                0,
                MAX_DELAY_MINUTES,
            ),
            (
                "detail.releasePlan.delayMinutes",
                n(self.release_plan.map(|p| p.delay_minutes)),
                0,
                MAX_DELAY_MINUTES,
            ),
        ];
        for (field, value, min, max) in ranges {
            if let Some(v) = value {
                validate::range(field, v, i64::from(min), i64::from(max))?;
            }
        }
        Ok(())
    }

    /// Whether an update names nothing to change.
    fn is_empty(&self) -> bool {
        self.region.is_none()
            && self.directory_id.is_none()
            && self.bundle_id.is_none()
            && self.protocol.is_none()
            && self.allow_unverified_protocol.is_none()
            && self.min_size.is_none()
            && self.max_size.is_none()
            && self.grow_by.is_none()
            && self.cooldown_minutes.is_none()
            && self.assignment.is_none()
            && self.release_plan.is_none()
    }
}

/// The checks on a pool's whole configuration (after an update is applied to it).
pub fn check_pool_shape(
    min_size: u32,
    max_size: u32,
    assignment: AssignmentPolicy,
    release: ReleasePlan,
) -> Result<(), ValidationError> {
    if min_size > max_size {
        return Err(ValidationError::new(
            "detail.minSize",
            Problem::Inconsistent("minSize is larger than maxSize".into()),
        ));
    }
    let keeps = release.action == ReleaseAction::Keep;
    match (assignment, keeps) {
        (AssignmentPolicy::Dedicated, false) => Err(ValidationError::new(
            "detail.releasePlan.action",
            Problem::Inconsistent("a DEDICATED pool keeps its desktops: KEEP only".into()),
        )),
        (AssignmentPolicy::Floating, true) => Err(ValidationError::new(
            "detail.releasePlan.action",
            Problem::Inconsistent(
                "a FLOATING pool returns its desktops: RETURN, RESTORE or REBUILD".into(),
            ),
        )),
        _ => Ok(()),
    }
}

/// `Pool Deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolRef {
    pub tenant_id: TenantId,
    pub pool_id: PoolId,
    pub occurred_at: Timestamp,
}

/// One user of `Users Loaded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadedUser {
    pub user_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The user's policy: the pools the user may be given a desktop from.
    pub pools: Vec<PoolId>,
}

/// `Users Loaded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsersLoadedDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub users: Vec<LoadedUser>,
}

impl UsersLoadedDetail {
    pub fn check(&self) -> Result<(), ValidationError> {
        validate::count("detail.users", self.users.len(), 1, MAX_USERS_PER_EVENT)?;
        let mut seen = std::collections::HashSet::new();
        for u in &self.users {
            if !seen.insert(&u.user_id) {
                return Err(ValidationError::new(
                    "detail.users",
                    Problem::Inconsistent("a user id appears twice".into()),
                ));
            }
            if let Some(n) = &u.display_name {
                validate::length("detail.users.displayName", n, 1, 256)?;
            }
            validate::count("detail.users.pools", u.pools.len(), 1, MAX_POOLS_PER_USER)?;
        }
        Ok(())
    }
}

/// `User Removed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserRef {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub occurred_at: Timestamp,
}

/// `Desktop Assignment Requested`: the user wants a desktop of the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignmentRequestDetail {
    pub tenant_id: TenantId,
    pub pool_id: PoolId,
    pub user_id: UserId,
    pub occurred_at: Timestamp,
}

/// `Desktop Release Requested`: the user is done with the desktop (as a `Session Ended`
/// with no session left would say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseRequestDetail {
    pub tenant_id: TenantId,
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub occurred_at: Timestamp,
}
