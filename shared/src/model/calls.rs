//! What Steward asked the service to do to a desktop, and how long it waits to see it done:
//! the one place that knows which states each call passes through and ends in, which is
//! what tells Steward's own transitions from drift during reconciliation.

use serde::{Deserialize, Serialize};

use super::{Timestamp, WorkspaceState};

/// A call Steward made on a desktop whose effect the service shows later (StartWorkspaces,
/// StopWorkspaces, RebuildWorkspaces, …), remembered until reconciliation sees it end.
///
/// While it is pending, every state on its way ([`StewardAction::passes_through`]) and its
/// end states are Steward's doing, never drift; the observation that shows an end state
/// settles it and is what the partner's completion event reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StewardCall {
    pub action: StewardAction,
    /// When the service accepted the call.
    pub at: Timestamp,
    /// The partner event (a request or a lifecycle command) that asked for it; none when a
    /// sweep decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// When reconciliation saw it end (an end state, another resting state, or no end within
    /// [`StewardCall::PATIENCE_MINUTES`]). `None` while it is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<Timestamp>,
}

impl StewardCall {
    /// How long a call may stay pending: past this it no longer explains what is observed.
    /// The slowest documented operation (a restore or rebuild) takes well under an hour.
    pub const PATIENCE_MINUTES: i64 = 6 * 60;

    /// A call just accepted at `at`.
    pub fn new(action: StewardAction, at: Timestamp, event_id: Option<String>) -> Self {
        Self {
            action,
            at,
            event_id,
            settled_at: None,
        }
    }

    /// Pending at `now`: not settled and within its patience.
    pub fn pending_at(&self, now: Timestamp) -> bool {
        self.settled_at.is_none()
            && now - self.at <= chrono::Duration::minutes(Self::PATIENCE_MINUTES)
    }
}

/// What Steward asked the service to do to a desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StewardAction {
    /// CreateWorkspaces (provisioning).
    Create,
    Start,
    Stop,
    Reboot,
    Rebuild,
    Restore,
    /// ModifyWorkspaceProperties (compute type, volumes, running mode).
    ModifyProperties,
    /// ModifyWorkspaceState to ADMIN_MAINTENANCE.
    ToAdminMaintenance,
    /// ModifyWorkspaceState to AVAILABLE.
    ToAvailable,
    /// MigrateWorkspace: the new desktop, created from the old one.
    Migrate,
    /// MigrateWorkspace: the old desktop, which the service terminates.
    MigrateSource,
    Terminate,
}

impl StewardAction {
    /// The lower-case name used in audit records and events (`rebuild`, `modify_properties`).
    pub fn as_str(self) -> &'static str {
        use StewardAction::*;
        match self {
            Create => "create",
            Start => "start",
            Stop => "stop",
            Reboot => "reboot",
            Rebuild => "rebuild",
            Restore => "restore",
            ModifyProperties => "modify_properties",
            ToAdminMaintenance => "to_admin_maintenance",
            ToAvailable => "to_available",
            Migrate => "migrate",
            MigrateSource => "migrate_source",
            Terminate => "terminate",
        }
    }

    /// The states the service shows while it works on the call.
    pub fn passes_through(self) -> &'static [WorkspaceState] {
        use StewardAction::*;
        use WorkspaceState as S;
        match self {
            Create | Migrate => &[S::Pending],
            Start => &[S::Starting],
            Stop => &[S::Stopping],
            Reboot => &[S::Rebooting],
            Rebuild => &[S::Rebuilding],
            Restore => &[S::Restoring],
            ModifyProperties => &[S::Updating],
            ToAdminMaintenance | ToAvailable => &[],
            MigrateSource | Terminate => &[S::Terminating],
        }
    }

    /// The states in which the call has done what it was asked.
    pub fn ends_in(self) -> &'static [WorkspaceState] {
        use StewardAction::*;
        use WorkspaceState as S;
        match self {
            Create | Migrate | Start | Reboot | Rebuild | Restore | ToAvailable => &[S::Available],
            Stop => &[S::Stopped],
            ModifyProperties => &[S::Available, S::Stopped],
            ToAdminMaintenance => &[S::AdminMaintenance],
            MigrateSource | Terminate => &[S::Terminated],
        }
    }

    /// Whether `state` is this call's doing: on its way or one of its ends.
    pub fn explains(self, state: WorkspaceState) -> bool {
        self.passes_through().contains(&state) || self.ends_in().contains(&state)
    }

    /// Lifecycle operations get `Lifecycle Operation Completed` / `Failed` events; starts
    /// and stops have their own (`Desktop Available`, `Desktop Stopped`); the old desktop
    /// of a migration ends silently (the new one reports the migration).
    pub fn is_lifecycle_operation(self) -> bool {
        !matches!(
            self,
            StewardAction::Start | StewardAction::Stop | StewardAction::MigrateSource
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_call_explains_its_own_states_only() {
        use StewardAction as A;
        use WorkspaceState as S;
        assert!(A::Start.explains(S::Starting) && A::Start.explains(S::Available));
        assert!(!A::Start.explains(S::Stopped) && !A::Start.explains(S::Maintenance));
        assert!(A::Stop.explains(S::Stopping) && A::Stop.explains(S::Stopped));
        assert!(!A::Stop.explains(S::Available));
        assert!(A::Rebuild.explains(S::Rebuilding) && A::Rebuild.ends_in().contains(&S::Available));
        assert!(A::Terminate.explains(S::Terminating) && A::Terminate.explains(S::Terminated));
        assert!(A::ModifyProperties.ends_in().contains(&S::Stopped));
        for a in [A::Start, A::Stop, A::MigrateSource] {
            assert!(!a.is_lifecycle_operation(), "{a:?}");
        }
        assert!(A::Restore.is_lifecycle_operation());
        // Every end is a resting state: a call always settles.
        for a in [
            A::Create,
            A::Start,
            A::Stop,
            A::Reboot,
            A::Rebuild,
            A::Restore,
            A::ModifyProperties,
            A::ToAdminMaintenance,
            A::ToAvailable,
            A::Migrate,
            A::MigrateSource,
            A::Terminate,
        ] {
            assert!(a.ends_in().iter().all(|s| s.is_resting()), "{a:?}");
            assert!(a.passes_through().iter().all(|s| !s.is_resting()), "{a:?}");
        }
    }
}
