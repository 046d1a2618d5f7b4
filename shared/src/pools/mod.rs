//! Pools: Steward's own model of a named set of a tenant's MANUAL,
//! user-decoupled WorkSpaces Core desktops sharing a bundle, a directory and a Region, and
//! the decisions made on it, as pure functions tested without I/O. (Not the WorkSpaces Pools
//! API, a different, session-based product AWS ends on 2027-12-31.)
//!
//! - [`assign`]: which desktop a user gets — the one they hold, the one they left within its
//!   release delay, or a free one (AVAILABLE before STOPPED) — or why none.
//! - [`resize`]: how many desktops to create (bounded by `maxSize`, in CreateWorkspaces calls
//!   of 25) and which free ones to terminate after the cool-down (never assigned, never
//!   releasing, never below `minSize`).
//! - [`release`]: what a release plan does when a session ends, and when the desktop is free
//!   again — never before its plan has finished.
//! - [`protocol`]: the pool's protocol plan, checked against what Steward knows of the
//!   bundle's image.
//!
//! The handlers that gather their input and carry them out are in `functions/src/pools/`;
//! the records are [`crate::model::PoolRecord`] and [`crate::model::UserRecord`], and a
//! pool desktop's place is its record's [`crate::model::PoolSeat`].

pub mod assign;
pub mod protocol;
pub mod release;
pub mod resize;

use serde::{Deserialize, Serialize};

use crate::ids::{UserId, WorkspaceId};
use crate::model::{Timestamp, WorkspaceState};

/// How users get desktops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssignmentPolicy {
    /// A user keeps the same desktop until removed (persistent).
    Dedicated,
    /// Any free desktop of the pool, returned on release.
    Floating,
}

/// What happens to a desktop its user released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReleaseAction {
    /// Nothing: the user keeps it (dedicated pools).
    Keep,
    /// Back to the pool as it is (the idle rule stops it).
    Return,
    /// RestoreWorkspace to the last snapshot, then back to the pool.
    Restore,
    /// RebuildWorkspaces, then back to the pool.
    Rebuild,
}

/// A pool's release plan: the action, after a delay within which a reconnecting user gets
/// the same desktop back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleasePlan {
    pub action: ReleaseAction,
    #[serde(default)]
    pub delay_minutes: u32,
}

/// Where a desktop is in its release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Releasing {
    /// Waiting out the delay; `user` may still reconnect until `due_at`.
    Delayed { user: UserId, due_at: Timestamp },
    /// The action was started (RestoreWorkspace / RebuildWorkspaces); free once the desktop
    /// is AVAILABLE or STOPPED again after `started_at`.
    Acting { started_at: Timestamp },
}

/// One desktop of a pool as the decisions see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolDesktop {
    pub workspace_id: WorkspaceId,
    pub state: WorkspaceState,
    pub assigned_to: Option<UserId>,
    pub releasing: Option<Releasing>,
    /// Since when it has been free (unassigned, not releasing); `None` while it is not.
    pub free_since: Option<Timestamp>,
}

impl PoolDesktop {
    /// Free: nobody holds it, no release is under way, and the service has it up or
    /// stopped (a desktop that is still being created, failing or going away is not).
    pub fn is_free(&self) -> bool {
        self.assigned_to.is_none()
            && self.releasing.is_none()
            && matches!(
                self.state,
                WorkspaceState::Available | WorkspaceState::Stopped
            )
    }

    /// On its way into the pool (created, not yet up).
    pub fn is_coming(&self) -> bool {
        self.assigned_to.is_none()
            && self.releasing.is_none()
            && matches!(
                self.state,
                WorkspaceState::Pending | WorkspaceState::Starting
            )
    }
}

/// A pool's size bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolSize {
    pub min_size: u32,
    pub max_size: u32,
    /// How long a free desktop above `minSize` stays before it is terminated.
    pub cooldown_minutes: u32,
}

#[cfg(test)]
pub(crate) mod sample {
    use super::*;
    use chrono::DateTime;

    pub fn t(minutes: i64) -> Timestamp {
        DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
            .unwrap()
            .to_utc()
            + chrono::Duration::minutes(minutes)
    }

    pub fn user(u: &str) -> UserId {
        UserId::parse(u).unwrap()
    }

    pub fn desk(n: u32, state: WorkspaceState) -> PoolDesktop {
        PoolDesktop {
            workspace_id: WorkspaceId::parse(format!("ws-{n:08}")).unwrap(),
            state,
            assigned_to: None,
            releasing: None,
            free_since: Some(t(0)),
        }
    }

    pub fn held(n: u32, by: &str) -> PoolDesktop {
        PoolDesktop {
            assigned_to: Some(user(by)),
            free_since: None,
            ..desk(n, WorkspaceState::Available)
        }
    }
}
