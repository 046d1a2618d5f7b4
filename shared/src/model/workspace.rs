//! A desktop as Steward tracks it: the service's states and running modes, the sessions a
//! partner backend reports on it, and the record the store keeps (with the call Steward
//! last made on it, see [`super::calls`]).

use serde::{Deserialize, Serialize};

use super::{StewardCall, Timestamp};
use crate::ids::{
    BundleId, DirectoryId, OpaqueId, PoolId, RegionName, TenantId, UserId, WorkspaceId,
};
use crate::pools::{PoolDesktop, Releasing};

/// The service's running modes. Steward's desktops are MANUAL (WorkSpaces Core).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunningMode {
    Manual,
    AlwaysOn,
    AutoStop,
}

/// The service's WorkSpace states (reference §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkspaceState {
    Pending,
    Available,
    Impaired,
    Unhealthy,
    Rebooting,
    Starting,
    Rebuilding,
    Restoring,
    Maintenance,
    AdminMaintenance,
    Terminating,
    Terminated,
    Suspended,
    Updating,
    Stopping,
    Stopped,
    Error,
}

impl WorkspaceState {
    /// The wire name (`ADMIN_MAINTENANCE`, …).
    pub fn as_str(self) -> &'static str {
        use WorkspaceState::*;
        match self {
            Pending => "PENDING",
            Available => "AVAILABLE",
            Impaired => "IMPAIRED",
            Unhealthy => "UNHEALTHY",
            Rebooting => "REBOOTING",
            Starting => "STARTING",
            Rebuilding => "REBUILDING",
            Restoring => "RESTORING",
            Maintenance => "MAINTENANCE",
            AdminMaintenance => "ADMIN_MAINTENANCE",
            Terminating => "TERMINATING",
            Terminated => "TERMINATED",
            Suspended => "SUSPENDED",
            Updating => "UPDATING",
            Stopping => "STOPPING",
            Stopped => "STOPPED",
            Error => "ERROR",
        }
    }

    /// Whether the power sweeps must look at a MANUAL desktop in this state: every state
    /// but TERMINATED. A STOPPED desktop can be started from the console, the CLI or the
    /// user's client at any time, and only a fresh DescribeWorkspaces tells.
    pub fn is_power_relevant(self) -> bool {
        self != WorkspaceState::Terminated
    }

    /// Whether a desktop in this state is running for the usage ledger: AVAILABLE, or still
    /// up while rebooting or reported impaired or unhealthy. An AVAILABLE period stays open
    /// through these.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            WorkspaceState::Available
                | WorkspaceState::Rebooting
                | WorkspaceState::Impaired
                | WorkspaceState::Unhealthy
        )
    }

    /// A state the service leaves a desktop in until someone acts: where a call that has not
    /// reached its end by then has failed.
    pub fn is_resting(self) -> bool {
        matches!(
            self,
            WorkspaceState::Available
                | WorkspaceState::Stopped
                | WorkspaceState::Error
                | WorkspaceState::Impaired
                | WorkspaceState::Unhealthy
                | WorkspaceState::Suspended
                | WorkspaceState::AdminMaintenance
                | WorkspaceState::Terminated
        )
    }
}

/// How Steward knows when a desktop became AVAILABLE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AvailableSinceSource {
    /// Steward started it (or created it) and saw it come up.
    Steward,
    /// Steward first saw it AVAILABLE while reconciling: the true time may be earlier,
    /// by at most one sweep interval.
    Observed,
}

/// Who asked for a desktop's keep-alive (`lease_until`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LeaseSource {
    /// `Desktop Start Requested` with `leaseMinutes`.
    StartRequest,
    /// `Desktop Keep Running {until}`.
    KeepRunning,
}

/// A user session a partner backend reported on a desktop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub session_id: OpaqueId,
    pub started_at: Timestamp,
    pub last_heartbeat_at: Timestamp,
}

/// A session that ended, remembered for a while so that its late-arriving start or heartbeat
/// (EventBridge delivers in no particular order) does not bring it back to life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedSession {
    pub session_id: OpaqueId,
    pub ended_at: Timestamp,
}

/// A desktop as Steward tracks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceRecord {
    pub tenant_id: TenantId,
    pub workspace_id: WorkspaceId,
    pub region: RegionName,
    pub directory_id: DirectoryId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<BundleId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    pub running_mode: RunningMode,
    /// The last state the service reported, and when Steward saw it.
    pub state: WorkspaceState,
    pub state_observed_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_since: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_since_source: Option<AvailableSinceSource>,
    /// How much later than `available_since` the desktop may really have come up (0 when
    /// Steward caused it; up to one sweep interval when observed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub available_since_uncertainty_seconds: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<Session>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ended_sessions: Vec<EndedSession>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity_at: Option<Timestamp>,
    /// When the newest start or stop request acted upon was made (older ones are superseded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_power_request_at: Option<Timestamp>,
    /// The last call Steward made on it that the service accepted (start, stop, rebuild…),
    /// pending until reconciliation sees it end. Records written before this field had its
    /// present meaning name it `last_power_call`.
    #[serde(
        default,
        alias = "last_power_call",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_call: Option<StewardCall>,
    /// A keep-alive: no idle stop, and no drain, before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<Timestamp>,
    /// Who asked for the keep-alive, while its end is still to be recorded: a start
    /// request's lease or a `Desktop Keep Running` override (the sweep records their end
    /// once and clears this). An assignment's short lease has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_source: Option<LeaseSource>,
    /// When a window's end warned this desktop's live session (so it warns once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_warned_at: Option<Timestamp>,
    /// When the guard last warned about this AVAILABLE period (so it warns once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_warned_at: Option<Timestamp>,
    /// Its place in a pool, for a desktop a pool created (who holds it, its release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<PoolSeat>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub version: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A pool desktop's place in its pool: who holds it and since when, the request that
/// assigned it (a redelivery of that request answers nothing new), its release under way,
/// and since when it has been free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSeat {
    pub pool_id: PoolId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_event: Option<OpaqueId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub releasing: Option<Releasing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_since: Option<Timestamp>,
}

impl PoolSeat {
    /// A new desktop of `pool`, free from `at` (once it is up).
    pub fn new(pool_id: PoolId, at: Timestamp) -> Self {
        Self {
            pool_id,
            assigned_to: None,
            assigned_at: None,
            assignment_event: None,
            releasing: None,
            free_since: Some(at),
        }
    }
}

/// What Steward knows of a desktop when it starts tracking it: whose it is, where, its
/// running mode, and the state it was seen in `at`.
#[derive(Debug, Clone)]
pub struct FirstSeen {
    pub tenant_id: TenantId,
    pub workspace_id: WorkspaceId,
    pub region: RegionName,
    pub directory_id: DirectoryId,
    pub running_mode: RunningMode,
    pub state: WorkspaceState,
    pub at: Timestamp,
}

#[cfg(test)]
impl FirstSeen {
    /// The desktop the crate's unit tests use: acme's MANUAL `ws-abcd1234` in us-east-1.
    pub(crate) fn sample(state: WorkspaceState, at: Timestamp) -> Self {
        Self {
            tenant_id: TenantId::parse("acme").expect("a tenant id"),
            workspace_id: WorkspaceId::parse("ws-abcd1234").expect("a workspace id"),
            region: RegionName::parse("us-east-1").expect("a Region"),
            directory_id: DirectoryId::parse("d-1234567890").expect("a directory id"),
            running_mode: RunningMode::Manual,
            state,
            at,
        }
    }
}

impl WorkspaceRecord {
    /// A newly tracked desktop, as first seen; nothing else known yet.
    pub fn new(seen: FirstSeen) -> Self {
        let FirstSeen {
            tenant_id,
            workspace_id,
            region,
            directory_id,
            running_mode,
            state,
            at: now,
        } = seen;
        Self {
            tenant_id,
            workspace_id,
            region,
            directory_id,
            bundle_id: None,
            workspace_name: None,
            user_name: None,
            running_mode,
            state,
            state_observed_at: now,
            available_since: None,
            available_since_source: None,
            available_since_uncertainty_seconds: 0,
            sessions: Vec::new(),
            ended_sessions: Vec::new(),
            last_activity_at: None,
            last_power_request_at: None,
            last_call: None,
            lease_until: None,
            lease_source: None,
            drain_warned_at: None,
            guard_warned_at: None,
            pool: None,
            created_at: now,
            version: 0,
        }
    }

    /// The desktop as the pool decisions see it (`None`: not a pool desktop).
    pub fn pool_desktop(&self) -> Option<PoolDesktop> {
        let seat = self.pool.as_ref()?;
        Some(PoolDesktop {
            workspace_id: self.workspace_id.clone(),
            state: self.state,
            assigned_to: seat.assigned_to.clone(),
            releasing: seat.releasing.clone(),
            free_since: seat.free_since,
        })
    }

    /// Whether the sweeps must read this record (it is then in the sparse sweep index).
    pub fn needs_sweep(&self) -> bool {
        self.running_mode == RunningMode::Manual && self.state.is_power_relevant()
    }
}

#[cfg(test)]
mod tests {
    use super::super::StewardAction;
    use super::*;
    use chrono::Utc;

    #[test]
    fn sweep_membership() {
        let now = Utc::now();
        let mut w = WorkspaceRecord::new(FirstSeen::sample(WorkspaceState::Available, now));
        assert!(w.needs_sweep());
        w.state = WorkspaceState::Starting;
        assert!(w.needs_sweep());
        // Every state but TERMINATED: a STOPPED desktop may be started outside Steward.
        for s in [
            WorkspaceState::Stopped,
            WorkspaceState::Maintenance,
            WorkspaceState::Error,
            WorkspaceState::Updating,
            WorkspaceState::Terminating,
        ] {
            w.state = s;
            assert!(w.needs_sweep(), "{s:?}");
        }
        w.state = WorkspaceState::Terminated;
        assert!(!w.needs_sweep());
        w.state = WorkspaceState::Available;
        w.running_mode = RunningMode::AlwaysOn;
        assert!(!w.needs_sweep());
    }

    #[test]
    fn records_of_the_earlier_shape_keep_their_last_call() {
        let now = Utc::now();
        let w = WorkspaceRecord::new(FirstSeen::sample(WorkspaceState::Stopping, now));
        let mut v = serde_json::to_value(&w).unwrap();
        v["last_power_call"] = serde_json::json!({"action": "STOP", "at": now});
        let back: WorkspaceRecord = serde_json::from_value(v).unwrap();
        let call = back
            .last_call
            .clone()
            .expect("the earlier field name is read");
        assert_eq!(call.action, StewardAction::Stop);
        assert!(call.pending_at(now));
        assert!(
            !call.pending_at(now + chrono::Duration::minutes(StewardCall::PATIENCE_MINUTES + 1))
        );
        let again = serde_json::to_value(&back).unwrap();
        assert!(again.get("last_power_call").is_none());
        assert_eq!(again["last_call"]["action"], "STOP");
    }
}
