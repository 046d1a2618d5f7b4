//! The names of the actions Steward records: the `action` of every audit record and of the
//! outbound events that share it.
//!
//! One enum for the whole audit trail, so a reader finds every action in one place and code
//! branches on variants, never on strings. The names on the wire are those the trail has
//! always carried, and must not change (the audit records in the table and the partners'
//! consumers read them): power's and lifecycle's are snake_case, onboarding's are the
//! WorkSpaces operation the step called. [`ActionName::as_str`] gives the same names as serde
//! (a unit test holds them together).

use serde::{Deserialize, Serialize};
use steward_shared::lifecycle::Command;

/// What an audit record says Steward did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionName {
    // Power: partner requests, sweeps, reconciliation.
    /// StartWorkspaces for a start request (or its failure).
    Start,
    /// A start request for a desktop already running or on its way: only its lease grew.
    ExtendLease,
    /// StopWorkspaces for a stop request or an idle stop (or its failure).
    Stop,
    /// The guard's stop of a desktop with a live session, before the service's forced stop.
    HardLimitStop,
    /// Dry run: the stop a sweep would have made.
    WouldStop,
    /// The guard's warning about a desktop AVAILABLE for long with a live session.
    GuardWarning,
    /// A change Steward did not cause, seen by reconciliation.
    Drift,
    /// A start Steward made reached AVAILABLE.
    Available,
    /// A stop Steward made reached STOPPED.
    Stopped,
    /// A lifecycle operation (rebuild, image creation, …) reached its end.
    OperationCompleted,
    /// A lifecycle operation came to rest elsewhere, or reached no end in time.
    OperationFailed,
    /// A `Tenant Policy Updated` event changed the tenant's policy.
    PolicyUpdate,
    /// A partner event refused (kept under the tenant or the rejections tenant).
    Reject,
    /// A tenant's sweep that could not complete.
    Sweep,
    /// The maintenance opt-out applied to one directory (or why it was not).
    MaintenanceMode,

    // Onboarding: the create and modify calls a step made on the customer's account.
    #[serde(rename = "ModifyAccount")]
    ModifyAccount,
    #[serde(rename = "ImportWorkspaceImage")]
    ImportWorkspaceImage,
    #[serde(rename = "DeleteWorkspaceImage")]
    DeleteWorkspaceImage,
    #[serde(rename = "RegisterWorkspaceDirectory")]
    RegisterWorkspaceDirectory,
    #[serde(rename = "ModifyWorkspaceCreationProperties")]
    ModifyWorkspaceCreationProperties,
    #[serde(rename = "CreateWorkspaceBundle")]
    CreateWorkspaceBundle,
    #[serde(rename = "CreateWorkspaces")]
    CreateWorkspaces,

    // Lifecycle commands from the partner bus, named as the command ([`Command::name`]).
    Reboot,
    Rebuild,
    Restore,
    Migrate,
    ModifyProperties,
    ModifyState,
    Terminate,
    Provision,
    CreateImage,
    CopyImage,
    DeleteImage,
    UpdateImagePermission,
    UpdateBundle,
    DeleteBundle,
    DeregisterDirectory,
    UpdateCreationProperties,
    UpdateTags,

    // The golden image workflow.
    GoldenCreateImage,
    GoldenUpdateBundle,
    GoldenRollout,

    // Pools, users and assignment.
    /// A pool was created or its configuration changed.
    PoolConfigured,
    /// A pool was deleted (its desktops terminated).
    PoolDeleted,
    /// A pool grew (CreateWorkspaces) or could not.
    PoolGrow,
    /// A pool shrank after the cool-down (TerminateWorkspaces).
    PoolShrink,
    /// A `Users Loaded` event applied.
    UsersLoaded,
    /// A `User Removed` event applied.
    UserRemoved,
    /// A desktop was assigned to a user (or answered again).
    Assign,
    /// An assignment request that could not be met.
    AssignmentFailed,
    /// A user released a desktop: its release plan began.
    Release,
    /// A released desktop's plan finished: it is free in its pool again.
    Returned,

    // Power control plans.
    /// A group's power plan was set or removed.
    PlanUpdated,
    /// A holiday calendar was loaded.
    CalendarLoaded,
    /// A desktop is kept running until a time (`Desktop Keep Running`).
    KeepRunning,
    /// A group's warm capacity is overridden until a time (`Pool Override`).
    PoolOverride,
    /// An override (or a start request's lease) ran out.
    OverrideEnded,
    /// A desktop started before a window opens.
    Prewarm,
    /// A desktop started to keep a window's warm capacity.
    Buffer,
    /// A desktop stopped at a window's end.
    Drain,
    /// A live session warned of its window's end.
    DrainWarning,
    /// A window that a holiday or a closure kept shut.
    Holiday,
    /// A month's plan report.
    PlanReport,

    // Offboarding.
    OffboardStart,
    OffboardTerminate,
    OffboardDelete,
    OffboardDeregister,
    Offboarded,
}

impl ActionName {
    /// The name as the audit record and the outbound event carry it.
    pub const fn as_str(self) -> &'static str {
        use ActionName as A;
        match self {
            A::Start => "start",
            A::ExtendLease => "extend_lease",
            A::Stop => "stop",
            A::HardLimitStop => "hard_limit_stop",
            A::WouldStop => "would_stop",
            A::GuardWarning => "guard_warning",
            A::Drift => "drift",
            A::Available => "available",
            A::Stopped => "stopped",
            A::OperationCompleted => "operation_completed",
            A::OperationFailed => "operation_failed",
            A::PolicyUpdate => "policy_update",
            A::Reject => "reject",
            A::Sweep => "sweep",
            A::MaintenanceMode => "maintenance_mode",
            A::ModifyAccount => "ModifyAccount",
            A::ImportWorkspaceImage => "ImportWorkspaceImage",
            A::DeleteWorkspaceImage => "DeleteWorkspaceImage",
            A::RegisterWorkspaceDirectory => "RegisterWorkspaceDirectory",
            A::ModifyWorkspaceCreationProperties => "ModifyWorkspaceCreationProperties",
            A::CreateWorkspaceBundle => "CreateWorkspaceBundle",
            A::CreateWorkspaces => "CreateWorkspaces",
            A::Reboot => "reboot",
            A::Rebuild => "rebuild",
            A::Restore => "restore",
            A::Migrate => "migrate",
            A::ModifyProperties => "modify_properties",
            A::ModifyState => "modify_state",
            A::Terminate => "terminate",
            A::Provision => "provision",
            A::CreateImage => "create_image",
            A::CopyImage => "copy_image",
            A::DeleteImage => "delete_image",
            A::UpdateImagePermission => "update_image_permission",
            A::UpdateBundle => "update_bundle",
            A::DeleteBundle => "delete_bundle",
            A::DeregisterDirectory => "deregister_directory",
            A::UpdateCreationProperties => "update_creation_properties",
            A::UpdateTags => "update_tags",
            A::GoldenCreateImage => "golden_create_image",
            A::GoldenUpdateBundle => "golden_update_bundle",
            A::GoldenRollout => "golden_rollout",
            A::PoolConfigured => "pool_configured",
            A::PoolDeleted => "pool_deleted",
            A::PoolGrow => "pool_grow",
            A::PoolShrink => "pool_shrink",
            A::UsersLoaded => "users_loaded",
            A::UserRemoved => "user_removed",
            A::Assign => "assign",
            A::AssignmentFailed => "assignment_failed",
            A::Release => "release",
            A::Returned => "returned",
            A::PlanUpdated => "plan_updated",
            A::CalendarLoaded => "calendar_loaded",
            A::KeepRunning => "keep_running",
            A::PoolOverride => "pool_override",
            A::OverrideEnded => "override_ended",
            A::Prewarm => "prewarm",
            A::Buffer => "buffer",
            A::Drain => "drain",
            A::DrainWarning => "drain_warning",
            A::Holiday => "holiday",
            A::PlanReport => "plan_report",
            A::OffboardStart => "offboard_start",
            A::OffboardTerminate => "offboard_terminate",
            A::OffboardDelete => "offboard_delete",
            A::OffboardDeregister => "offboard_deregister",
            A::Offboarded => "offboarded",
        }
    }

    /// The action a lifecycle command records (the name [`Command::name`] gives it).
    pub fn of_command(command: &Command) -> Self {
        use ActionName as A;
        match command {
            Command::Reboot(_) => A::Reboot,
            Command::Rebuild(_) => A::Rebuild,
            Command::Restore(_) => A::Restore,
            Command::Migrate(_) => A::Migrate,
            Command::ModifyProperties(_) => A::ModifyProperties,
            Command::ModifyState(_) => A::ModifyState,
            Command::Terminate(_) => A::Terminate,
            Command::Provision(_) => A::Provision,
            Command::CreateImage(_) => A::CreateImage,
            Command::CopyImage(_) => A::CopyImage,
            Command::DeleteImage(_) => A::DeleteImage,
            Command::UpdateImagePermission(_) => A::UpdateImagePermission,
            Command::UpdateBundle(_) => A::UpdateBundle,
            Command::DeleteBundle(_) => A::DeleteBundle,
            Command::DeregisterDirectory(_) => A::DeregisterDirectory,
            Command::UpdateCreationProperties(_) => A::UpdateCreationProperties,
            Command::UpdateTags(_) => A::UpdateTags,
        }
    }
}

impl std::fmt::Display for ActionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActionName as A;

    /// Every variant; the match below fails to compile when one is added and not listed.
    const ALL: &[ActionName] = &[
        A::Start,
        A::ExtendLease,
        A::Stop,
        A::HardLimitStop,
        A::WouldStop,
        A::GuardWarning,
        A::Drift,
        A::Available,
        A::Stopped,
        A::OperationCompleted,
        A::OperationFailed,
        A::PolicyUpdate,
        A::Reject,
        A::Sweep,
        A::MaintenanceMode,
        A::ModifyAccount,
        A::ImportWorkspaceImage,
        A::DeleteWorkspaceImage,
        A::RegisterWorkspaceDirectory,
        A::ModifyWorkspaceCreationProperties,
        A::CreateWorkspaceBundle,
        A::CreateWorkspaces,
        A::Reboot,
        A::Rebuild,
        A::Restore,
        A::Migrate,
        A::ModifyProperties,
        A::ModifyState,
        A::Terminate,
        A::Provision,
        A::CreateImage,
        A::CopyImage,
        A::DeleteImage,
        A::UpdateImagePermission,
        A::UpdateBundle,
        A::DeleteBundle,
        A::DeregisterDirectory,
        A::UpdateCreationProperties,
        A::UpdateTags,
        A::GoldenCreateImage,
        A::GoldenUpdateBundle,
        A::GoldenRollout,
        A::PoolConfigured,
        A::PoolDeleted,
        A::PoolGrow,
        A::PoolShrink,
        A::UsersLoaded,
        A::UserRemoved,
        A::Assign,
        A::AssignmentFailed,
        A::Release,
        A::Returned,
        A::PlanUpdated,
        A::CalendarLoaded,
        A::KeepRunning,
        A::PoolOverride,
        A::OverrideEnded,
        A::Prewarm,
        A::Buffer,
        A::Drain,
        A::DrainWarning,
        A::Holiday,
        A::PlanReport,
        A::OffboardStart,
        A::OffboardTerminate,
        A::OffboardDelete,
        A::OffboardDeregister,
        A::Offboarded,
    ];

    fn listed(a: ActionName) -> bool {
        match a {
            A::Start
            | A::ExtendLease
            | A::Stop
            | A::HardLimitStop
            | A::WouldStop
            | A::GuardWarning
            | A::Drift
            | A::Available
            | A::Stopped
            | A::OperationCompleted
            | A::OperationFailed
            | A::PolicyUpdate
            | A::Reject
            | A::Sweep
            | A::MaintenanceMode
            | A::ModifyAccount
            | A::ImportWorkspaceImage
            | A::DeleteWorkspaceImage
            | A::RegisterWorkspaceDirectory
            | A::ModifyWorkspaceCreationProperties
            | A::CreateWorkspaceBundle
            | A::CreateWorkspaces
            | A::Reboot
            | A::Rebuild
            | A::Restore
            | A::Migrate
            | A::ModifyProperties
            | A::ModifyState
            | A::Terminate
            | A::Provision
            | A::CreateImage
            | A::CopyImage
            | A::DeleteImage
            | A::UpdateImagePermission
            | A::UpdateBundle
            | A::DeleteBundle
            | A::DeregisterDirectory
            | A::UpdateCreationProperties
            | A::UpdateTags
            | A::GoldenCreateImage
            | A::GoldenUpdateBundle
            | A::GoldenRollout
            | A::PoolConfigured
            | A::PoolDeleted
            | A::PoolGrow
            | A::PoolShrink
            | A::UsersLoaded
            | A::UserRemoved
            | A::Assign
            | A::AssignmentFailed
            | A::Release
            | A::Returned
            | A::PlanUpdated
            | A::CalendarLoaded
            | A::KeepRunning
            | A::PoolOverride
            | A::OverrideEnded
            | A::Prewarm
            | A::Buffer
            | A::Drain
            | A::DrainWarning
            | A::Holiday
            | A::PlanReport
            | A::OffboardStart
            | A::OffboardTerminate
            | A::OffboardDelete
            | A::OffboardDeregister
            | A::Offboarded => ALL.contains(&a),
        }
    }

    #[test]
    fn serde_and_as_str_give_the_names_the_trail_has_always_carried() {
        for &a in ALL {
            assert!(listed(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str(), "{a:?}");
            let back: ActionName = serde_json::from_value(a.as_str().into()).unwrap();
            assert_eq!(back, a);
        }
        let mut names: Vec<&str> = ALL.iter().map(|a| a.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "two actions share a name");
        // The names partners and the table already hold, spelled out.
        assert_eq!(A::ExtendLease.as_str(), "extend_lease");
        assert_eq!(A::HardLimitStop.as_str(), "hard_limit_stop");
        assert_eq!(
            A::ModifyWorkspaceCreationProperties.as_str(),
            "ModifyWorkspaceCreationProperties"
        );
        assert_eq!(A::UpdateImagePermission.as_str(), "update_image_permission");
    }
}
