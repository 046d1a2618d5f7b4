//! Steward's domain model: tenants and their power policy, the desktops Steward tracks,
//! onboarding step records, audit records and usage-hour records.
//!
//! Everything here is plain data with pure checks; the store persists it as is.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{
    AccountId, BundleId, DirectoryId, ExternalId, ImageId, OpaqueId, RegionName, RoleArn, TenantId,
    WorkspaceId,
};
use crate::validate::{self, Problem, ValidationError};

pub type Timestamp = DateTime<Utc>;

/// Minutes in the service's forced stop of a MANUAL desktop left AVAILABLE (48 h).
/// Unconfirmed by any AWS source ([U] in the reference): tenants may set their own value.
pub const DEFAULT_SERVICE_FORCED_STOP_MINUTES: u32 = 48 * 60;

/// The tag every resource Steward creates carries, and the only resources it will touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerTag {
    pub key: String,
    pub value: String,
}

impl PartnerTag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Result<Self, ValidationError> {
        let tag = Self {
            key: key.into(),
            value: value.into(),
        };
        tag.validate()?;
        Ok(tag)
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        validate::tag("partner_tag", &self.key, &self.value)
    }
}

impl Default for PartnerTag {
    fn default() -> Self {
        Self {
            key: "PartnerManaged".into(),
            value: "true".into(),
        }
    }
}

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
    /// When the service itself stops a MANUAL desktop left AVAILABLE ([U]: 48 h assumed).
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TenantStatus {
    Onboarding,
    Active,
    Failed,
    Offboarding,
    Offboarded,
}

/// A failure kept on a record: the stable error name and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRecord {
    pub name: String,
    pub message: String,
}

/// What a partner supplies to register a customer account.
#[derive(Debug, Clone, Deserialize)]
pub struct NewTenant {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub regions: Vec<RegionName>,
    pub role_arn: RoleArn,
    pub external_id: ExternalId,
    #[serde(default)]
    pub partner_tag: PartnerTag,
    #[serde(default)]
    pub policy: PowerPolicy,
}

/// A customer account Steward manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub regions: Vec<RegionName>,
    pub role_arn: RoleArn,
    pub external_id: ExternalId,
    pub partner_tag: PartnerTag,
    pub policy: PowerPolicy,
    /// Per policy field (camelCase name), the policy event that last set it: a change older
    /// than this is superseded, so policy events converge whatever their arrival order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policy_stamps: BTreeMap<String, PolicyStamp>,
    pub status: TenantStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<ErrorRecord>,
    /// The shape of the sweep index this tenant's desktop records were last written in
    /// ([`SWEEP_INDEX_VERSION`]). A tenant recorded by an earlier Steward may have desktop
    /// records outside today's index (STOPPED ones were left out): its next sweep re-indexes
    /// them once.
    #[serde(default)]
    pub sweep_index: u32,
    /// Image operations Steward started whose end the sweeps have not seen yet (at most
    /// [`PendingImage::KEPT`], oldest dropped first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_images: Vec<PendingImage>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version: 1 on creation, +1 on every write.
    #[serde(default)]
    pub version: u64,
}

/// The sweep index's present shape: every MANUAL desktop but the TERMINATED
/// ([`WorkspaceRecord::needs_sweep`]). 0 (records without the field) was "MANUAL and not
/// STOPPED, TERMINATING or TERMINATED".
pub const SWEEP_INDEX_VERSION: u32 = 1;

/// An image operation (CreateWorkspaceImage, CopyWorkspaceImage) the service accepted and
/// finishes later: the sweeps describe the image until it is AVAILABLE or ERROR and report
/// the end (`Lifecycle Operation Completed` / `Failed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingImage {
    pub image_id: ImageId,
    pub region: RegionName,
    pub operation: ImageOperation,
    /// The lifecycle command's event id.
    pub event_id: String,
    pub requested_at: Timestamp,
    /// The desktop an image was created from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<WorkspaceId>,
}

impl PendingImage {
    /// How many a tenant keeps: a partner creating images faster than the service finishes
    /// them loses the oldest completions, never the tenant record's size limit.
    pub const KEPT: usize = 100;
    /// How long an image may stay pending before it is reported failed: the service's
    /// slowest image operation (an import) takes a few hours.
    pub const PATIENCE_MINUTES: i64 = 24 * 60;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImageOperation {
    Create,
    Copy,
}

impl ImageOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageOperation::Create => "image_create",
            ImageOperation::Copy => "image_copy",
        }
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

impl Tenant {
    /// Checks a registration as a whole and makes the tenant record (status ONBOARDING).
    pub fn register(new: NewTenant, now: Timestamp) -> Result<Self, ValidationError> {
        if new.role_arn.account() != &new.account_id {
            return Err(ValidationError::new(
                "role_arn",
                Problem::Inconsistent("the role must live in the tenant's account".into()),
            ));
        }
        if new.regions.is_empty() {
            return Err(ValidationError::new("regions", Problem::Missing));
        }
        validate::max_items("regions", new.regions.len(), 10)?;
        let mut seen = std::collections::HashSet::new();
        if !new.regions.iter().all(|r| seen.insert(r)) {
            return Err(ValidationError::new(
                "regions",
                Problem::Inconsistent("a region is listed twice".into()),
            ));
        }
        new.partner_tag.validate()?;
        new.policy.validate()?;
        Ok(Self {
            tenant_id: new.tenant_id,
            account_id: new.account_id,
            regions: new.regions,
            role_arn: new.role_arn,
            external_id: new.external_id,
            partner_tag: new.partner_tag,
            policy: new.policy,
            policy_stamps: BTreeMap::new(),
            status: TenantStatus::Onboarding,
            last_error: None,
            sweep_index: SWEEP_INDEX_VERSION,
            pending_images: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 0,
        })
    }
}

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
    /// A start request's keep-alive: no idle stop before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<Timestamp>,
    /// When the guard last warned about this AVAILABLE period (so it warns once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_warned_at: Option<Timestamp>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub version: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl WorkspaceRecord {
    /// A newly tracked desktop, as last seen in `state` at `now`; nothing else known yet.
    pub fn new(
        tenant_id: TenantId,
        workspace_id: WorkspaceId,
        region: RegionName,
        directory_id: DirectoryId,
        running_mode: RunningMode,
        state: WorkspaceState,
        now: Timestamp,
    ) -> Self {
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
            guard_warned_at: None,
            created_at: now,
            version: 0,
        }
    }

    /// Whether the sweeps must read this record (it is then in the sparse sweep index).
    pub fn needs_sweep(&self) -> bool {
        self.running_mode == RunningMode::Manual && self.state.is_power_relevant()
    }
}

/// The partner steps of the guide's "Infrastructure setup" chapter, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OnboardingStep {
    ValidateAccess,
    CheckByol,
    OfferCidrRanges,
    ConfigureByol,
    OfferImages,
    ImportImage,
    OfferDirectories,
    RegisterDirectory,
    ConfigureCreationProperties,
    CreateBundle,
    CreateWorkspaces,
    Complete,
}

impl OnboardingStep {
    pub const ALL: [OnboardingStep; 12] = [
        Self::ValidateAccess,
        Self::CheckByol,
        Self::OfferCidrRanges,
        Self::ConfigureByol,
        Self::OfferImages,
        Self::ImportImage,
        Self::OfferDirectories,
        Self::RegisterDirectory,
        Self::ConfigureCreationProperties,
        Self::CreateBundle,
        Self::CreateWorkspaces,
        Self::Complete,
    ];

    /// 1-based position in the guide's order.
    pub fn number(self) -> usize {
        Self::ALL
            .iter()
            .position(|s| *s == self)
            .map_or(0, |i| i + 1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StepStatus {
    InProgress,
    AwaitingCustomer,
    Completed,
    Skipped,
    Failed,
}

/// The outcome of one onboarding step for one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub tenant_id: TenantId,
    pub step: OnboardingStep,
    pub status: StepStatus,
    pub attempts: u32,
    /// What the step produced (ids, options offered); kept for re-runs and the partner UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorRecord>,
    /// The Step Functions task token of a customer pause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_token: Option<String>,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub version: u64,
}

/// Who or what caused an audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Actor {
    IdleSweep,
    GuardSweep,
    PartnerEvent { event_id: OpaqueId },
    Onboarding { execution: String },
    Operator { name: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuditOutcome {
    Succeeded,
    /// Dry run: the action was decided and recorded, nothing was called.
    DryRun,
    Failed {
        error: ErrorRecord,
    },
}

/// One action Steward took (or, in dry run, would have taken).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub tenant_id: TenantId,
    pub audit_id: uuid::Uuid,
    pub at: Timestamp,
    pub actor: Actor,
    /// What was done: `StartWorkspaces`, `StopWorkspaces`, `GuardWarning`, …
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<WorkspaceId>,
    pub reason: String,
    pub outcome: AuditOutcome,
}

/// A calendar month, `YYYY-MM`, the unit of the usage ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month(String);

impl Month {
    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        validate::month("month", &value)?;
        Ok(Self(value))
    }

    pub fn of(t: Timestamp) -> Self {
        Self(format!("{:04}-{:02}", t.year(), t.month()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Month {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Month> for String {
    fn from(value: Month) -> String {
        value.0
    }
}

/// Time a desktop spent AVAILABLE in one month. `uncertainty_seconds` bounds the error of
/// periods Steward observed rather than caused (at most one sweep interval each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    pub tenant_id: TenantId,
    pub workspace_id: WorkspaceId,
    pub month: Month,
    pub available_seconds: u64,
    pub uncertainty_seconds: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_tenant() -> NewTenant {
        serde_json::from_value(serde_json::json!({
            "tenant_id": "acme",
            "account_id": "123456789012",
            "regions": ["us-east-1"],
            "role_arn": "arn:aws:iam::123456789012:role/StewardPartnerAccess",
            "external_id": "steward-demo-external-id",
        }))
        .unwrap()
    }

    #[test]
    fn registration_defaults_and_checks() {
        let t = Tenant::register(new_tenant(), Utc::now()).unwrap();
        assert_eq!(t.status, TenantStatus::Onboarding);
        assert_eq!(t.partner_tag, PartnerTag::default());
        assert_eq!(t.policy, PowerPolicy::default());

        let mut n = new_tenant();
        n.account_id = AccountId::parse("210987654321").unwrap();
        let e = Tenant::register(n, Utc::now()).unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.problem.code()),
            ("role_arn", "Inconsistent")
        );

        let mut n = new_tenant();
        n.regions.clear();
        let e = Tenant::register(n, Utc::now()).unwrap_err();
        assert_eq!((e.field.as_ref(), e.problem.code()), ("regions", "Missing"));

        let mut n = new_tenant();
        n.regions.push(n.regions[0].clone());
        let e = Tenant::register(n, Utc::now()).unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.problem.code()),
            ("regions", "Inconsistent")
        );

        let mut n = new_tenant();
        n.partner_tag.key = "aws:managed".into();
        let e = Tenant::register(n, Utc::now()).unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.problem.code()),
            ("partner_tag", "Reserved")
        );
    }

    #[test]
    fn bad_registration_fields_are_named_on_deserialise() {
        let mut v = serde_json::to_value(serde_json::json!({
            "tenant_id": "acme",
            "account_id": "123456789012",
            "regions": ["us-east-1"],
            "role_arn": "arn:aws:iam::123456789012:role/StewardPartnerAccess",
            "external_id": "x",
        }))
        .unwrap();
        let e = serde_json::from_value::<NewTenant>(v.clone()).unwrap_err();
        assert!(e.to_string().contains("invalid external_id"), "{e}");
        v["external_id"] = "steward-demo-external-id".into();
        v["regions"] = serde_json::json!(["US-EAST-1"]);
        let e = serde_json::from_value::<NewTenant>(v).unwrap_err();
        assert!(e.to_string().contains("invalid region"), "{e}");
    }

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

    #[test]
    fn sweep_membership() {
        let now = Utc::now();
        let mut w = WorkspaceRecord::new(
            TenantId::parse("acme").unwrap(),
            WorkspaceId::parse("ws-abcd1234").unwrap(),
            RegionName::parse("us-east-1").unwrap(),
            DirectoryId::parse("d-1234567890").unwrap(),
            RunningMode::Manual,
            WorkspaceState::Available,
            now,
        );
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
        let w = WorkspaceRecord::new(
            TenantId::parse("acme").unwrap(),
            WorkspaceId::parse("ws-abcd1234").unwrap(),
            RegionName::parse("us-east-1").unwrap(),
            DirectoryId::parse("d-1234567890").unwrap(),
            RunningMode::Manual,
            WorkspaceState::Stopping,
            now,
        );
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

    #[test]
    fn steps_are_numbered_in_guide_order() {
        assert_eq!(OnboardingStep::ValidateAccess.number(), 1);
        assert_eq!(OnboardingStep::Complete.number(), 12);
        let json = serde_json::to_string(&OnboardingStep::ConfigureCreationProperties).unwrap();
        assert_eq!(json, "\"CONFIGURE_CREATION_PROPERTIES\"");
    }

    #[test]
    fn months() {
        let t = DateTime::parse_from_rfc3339("2026-02-28T23:59:59Z")
            .unwrap()
            .to_utc();
        assert_eq!(Month::of(t).as_str(), "2026-02");
        assert_eq!(
            Month::parse("2026-13").unwrap_err().problem.code(),
            "PatternMismatch"
        );
        assert_eq!(
            WorkspaceState::AdminMaintenance.as_str(),
            "ADMIN_MAINTENANCE"
        );
        let s: WorkspaceState = serde_json::from_str("\"ADMIN_MAINTENANCE\"").unwrap();
        assert_eq!(s, WorkspaceState::AdminMaintenance);
    }
}
