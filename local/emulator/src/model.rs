//! The emulator's state: accounts, roles, sessions and, per account and
//! region, the EC2 / Directory Service / WorkSpaces resources.
//!
//! Transitions are stored as absolute virtual times and projected lazily
//! (see [`Workspace::project`]), so reads never need a write lock.

use super::options::Options;
use super::service_clock::Millis;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const PARTNER_ACCOUNT: &str = "111122223333";
/// The WorkSpaces quota Service Quotas reports when a seed says nothing: high enough that
/// no test or benchmark notices it.
pub const DEFAULT_SERVICE_QUOTA: f64 = 10_000.0;

pub type Tags = Vec<(String, String)>;

#[derive(Debug, Default)]
pub struct World {
    pub accounts: BTreeMap<String, Account>,
    /// Access key id → session issued by AssumeRole.
    pub sessions: HashMap<String, Session>,
    /// Access key id → long-term IAM user key of a customer account.
    pub access_keys: HashMap<String, super::access_keys::AccessKey>,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    /// Allow-listed for WorkSpaces Core (MANUAL running mode, user-decoupled
    /// WorkSpaces, `_BYOP` ingestion).
    pub byop_enabled: bool,
    /// Allow-listed by AWS for BYOL (ModifyAccount / ListAvailableManagementCidrRanges).
    pub byol_eligible: bool,
    /// Whether the `workspaces_DefaultRole` IAM role exists.
    pub has_default_role: bool,
    /// When the account's IAM roles were created (IAM GetRole's `CreateDate`).
    pub iam_created_ms: Millis,
    /// WorkSpaces per account and Region that CreateWorkspaces allows.
    pub workspace_quota: usize,
    /// The WorkSpaces quota Service Quotas reports (not enforced).
    pub service_quota_value: f64,
    /// Service Quotas' GetServiceQuota is denied in this account.
    pub quota_read_denied: bool,
    pub roles: BTreeMap<String, Role>,
    pub regions: BTreeMap<String, RegionState>,
}

impl Account {
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_string(),
            byop_enabled: false,
            byol_eligible: false,
            has_default_role: true,
            iam_created_ms: 0,
            workspace_quota: 1000,
            service_quota_value: DEFAULT_SERVICE_QUOTA,
            quota_read_denied: false,
            roles: BTreeMap::new(),
            regions: BTreeMap::new(),
        }
    }
    pub fn region_mut(&mut self, region: &str) -> &mut RegionState {
        self.regions.entry(region.to_string()).or_default()
    }
}

#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub role_id: String,
    /// Accounts named as principals in the trust policy.
    pub trusted_accounts: Vec<String>,
    /// The trust policy's `sts:ExternalId` condition, if any.
    pub external_id: Option<String>,
    pub max_session_seconds: u32,
    /// The partner tag of the customer's tag-based policy; `None` = no tag policy.
    pub partner_tag: Option<(String, String)>,
    /// `aws:TagKeys` allowed in creation requests (the guide allows only the partner key).
    pub allowed_request_tag_keys: Vec<String>,
    /// The customer role template's `AllowTagManagement` parameter: whether the role grants
    /// CreateTags / DeleteTags at all (default false, as the guide asks).
    pub allow_tag_management: bool,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub access_key_id: String,
    pub account: String,
    pub role_name: String,
    pub role_id: String,
    pub session_name: String,
    pub expires_ms: Millis,
}

#[derive(Debug, Clone)]
pub struct AccountModification {
    pub state_pending_until: Millis,
    pub cidr: Option<String>,
    pub start_ms: Millis,
    pub fails: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Ami {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub owner_alias: Option<String>,
    pub public: bool,
    pub state: String,
    pub virtualization_type: String,
    pub hypervisor: String,
    pub architecture: String,
    pub platform_windows: bool,
    pub platform_details: String,
    pub usage_operation: String,
    pub ena_support: bool,
    pub root_device_name: String,
    pub volume_type: String,
    pub volume_size: u32,
    pub encrypted: bool,
    pub snapshot_id: String,
    pub creation_ms: Millis,
    pub boot_mode: String,
    pub tags: Tags,
}

pub use super::directory_service::{DsDirectory, DsSize, DsStage, DsType};

#[derive(Debug, Clone)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    /// The Availability Zone's name (`us-east-1a`).
    pub az: String,
    /// The zone's id (`use1-az6`), the same zone in every account (see `ec2::zone_id`).
    pub az_id: String,
    pub cidr: String,
}

#[derive(Debug, Clone)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Default)]
pub struct CreationProperties {
    pub enable_internet_access: Option<bool>,
    pub default_ou: Option<String>,
    pub custom_security_group_id: Option<String>,
    pub user_enabled_as_local_administrator: Option<bool>,
    pub enable_maintenance_mode: Option<bool>,
    pub instance_iam_role_arn: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WsDirectory {
    pub id: String,
    pub ds: DsDirectory,
    pub subnet_ids: Vec<String>,
    pub tenancy: String,
    pub self_service: bool,
    pub registration_code: String,
    pub iam_role_id: String,
    pub workspace_security_group_id: String,
    pub registered_at: Millis,
    /// `Some(t)`: DEREGISTERING since t, gone after `gone_at`.
    pub deregistering: Option<(Millis, Millis)>,
    pub creation: CreationProperties,
    pub tags: Tags,
    pub name: Option<String>,
    pub description: Option<String>,
    pub user_identity_type: String,
    pub workspace_type: String,
}

impl WsDirectory {
    /// `None` = gone.
    pub fn state(&self, now: Millis) -> Option<&'static str> {
        match self.deregistering {
            Some((_, gone)) if now >= gone => None,
            Some(_) => Some("DEREGISTERING"),
            None if now >= self.registered_at => Some("REGISTERED"),
            None => Some("REGISTERING"),
        }
    }
    pub fn maintenance_enabled(&self) -> bool {
        self.creation.enable_maintenance_mode.unwrap_or(true)
    }
}

#[derive(Debug, Clone)]
pub struct WsImage {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub os_type: String,
    pub required_tenancy: String,
    pub owner: String,
    pub created_ms: Millis,
    pub ready_at: Millis,
    /// Outcome once `ready_at` passes: `None` = AVAILABLE.
    pub failure: Option<ImageFailure>,
    pub tags: Tags,
    pub shared_with: BTreeSet<String>,
    pub source_ami: Option<String>,
    pub ingestion: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ImageFailure {
    pub code: String,
    pub message: String,
    pub details: Vec<(String, String)>,
}

impl WsImage {
    pub fn state(&self, now: Millis) -> &'static str {
        if now < self.ready_at {
            "PENDING"
        } else if self.failure.is_some() {
            "ERROR"
        } else {
            "AVAILABLE"
        }
    }
}

#[derive(Debug, Clone)]
pub struct WsBundle {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub image_id: String,
    pub root_capacity: Option<String>,
    pub user_capacity: String,
    pub compute: String,
    pub created_ms: Millis,
    pub updated_ms: Millis,
    pub tags: Tags,
}

/// A point in a workspace's scheduled future.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    To(WsState),
    Gone,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub at: Millis,
    pub to: Phase,
}

macro_rules! ws_states {
    ($($v:ident => $s:literal),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(clippy::upper_case_acronyms)]
        pub enum WsState { $($v),* }
        impl WsState {
            pub fn as_str(self) -> &'static str { match self { $(WsState::$v => $s),* } }
            pub fn parse(s: &str) -> Option<Self> { match s { $($s => Some(WsState::$v),)* _ => None } }
        }
    };
}

ws_states! {
    Pending => "PENDING", Available => "AVAILABLE", Impaired => "IMPAIRED", Unhealthy => "UNHEALTHY",
    Rebooting => "REBOOTING", Starting => "STARTING", Rebuilding => "REBUILDING", Restoring => "RESTORING",
    Maintenance => "MAINTENANCE", AdminMaintenance => "ADMIN_MAINTENANCE", Terminating => "TERMINATING",
    Terminated => "TERMINATED", Suspended => "SUSPENDED", Updating => "UPDATING", Stopping => "STOPPING",
    Stopped => "STOPPED", Error => "ERROR",
}

#[derive(Debug, Clone)]
pub struct WsProps {
    pub running_mode: String,
    pub auto_stop_timeout: Option<i64>,
    pub root_gib: i64,
    pub user_gib: i64,
    pub compute: String,
    pub protocols: Vec<String>,
    pub os: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: String,
    pub directory_id: String,
    pub user_name: String,
    pub workspace_name: Option<String>,
    pub bundle_id: String,
    pub subnet_id: String,
    pub ip: String,
    pub computer_name: String,
    pub state: WsState,
    pub since: Millis,
    pub steps: Vec<Step>,
    /// Error fields shown once the workspace reaches ERROR.
    pub error: Option<(String, String)>,
    pub props: WsProps,
    pub tags: Tags,
    pub volume_encryption_key: Option<String>,
    pub user_volume_encryption: Option<bool>,
    pub root_volume_encryption: Option<bool>,
    pub created_ms: Millis,
    /// (resource, until): `ModificationStates` shown while now < until.
    pub modifications: Vec<(String, Millis)>,
    pub last_connected_ms: Option<Millis>,
}

/// What a workspace looks like at a given instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    pub state: WsState,
    pub since: Millis,
    consumed: usize,
    auto_stopped: Option<Millis>,
}

/// Timing knobs the projection needs, taken from [`Options`] once per request.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub manual_autostop_ms: Option<Millis>,
    pub stop_ms: Millis,
    pub maintenance: Option<super::options::MaintenanceOptions>,
}

impl Timing {
    pub fn from_options(o: &Options) -> Self {
        Self {
            manual_autostop_ms: o
                .manual_autostop_hours
                .filter(|h| *h > 0.0)
                .map(|h| o.durations.ms(h * 3600.0)),
            stop_ms: o.durations.ms(o.durations.stop),
            maintenance: o.maintenance.enabled.then_some(o.maintenance),
        }
    }
}

impl Workspace {
    /// The state at `now`, or `None` when the workspace is gone.
    /// `maintenance_on` says whether the directory lets maintenance happen.
    pub fn project(&self, now: Millis, t: &Timing, maintenance_on: bool) -> Option<Projection> {
        let mut p = Projection {
            state: self.state,
            since: self.since,
            consumed: 0,
            auto_stopped: None,
        };
        for step in &self.steps {
            if step.at > now {
                break;
            }
            p.consumed += 1;
            match step.to {
                Phase::Gone => return None,
                Phase::To(s) => {
                    p.state = s;
                    p.since = step.at;
                }
            }
        }
        if p.consumed == self.steps.len()
            && p.state == WsState::Available
            && self.props.running_mode == "MANUAL"
            && let Some(limit) = t.manual_autostop_ms
        {
            let at = p.since + limit;
            if at <= now {
                p.auto_stopped = Some(at);
                p.state = WsState::Stopping;
                p.since = at;
                if at + t.stop_ms <= now {
                    p.state = WsState::Stopped;
                    p.since = at + t.stop_ms;
                }
            }
        }
        if let Some(m) = t.maintenance
            && maintenance_on
            && p.state == WsState::Stopped
            && (self.props.running_mode == "AUTO_STOP"
                || (self.props.running_mode == "MANUAL" && m.applies_to_manual))
            && m.in_window(now)
        {
            p.state = WsState::Maintenance;
        }
        Some(p)
    }

    /// Folds the elapsed part of the schedule into the stored state, so that
    /// a mutation starts from the present. Returns false when gone.
    pub fn settle(&mut self, now: Millis, t: &Timing) -> bool {
        let Some(p) = self.project(now, t, false) else {
            return false;
        };
        self.steps.drain(..p.consumed);
        if let Some(at) = p.auto_stopped {
            self.state = WsState::Stopping;
            self.since = at;
            self.steps = vec![Step {
                at: at + t.stop_ms,
                to: Phase::To(WsState::Stopped),
            }];
            return self.settle(now, t);
        }
        self.state = p.state;
        self.since = p.since;
        if self.state != WsState::Error && self.steps.is_empty() {
            self.error = None;
        }
        true
    }

    /// Starts a transition: `via` now, then `to` after `duration`.
    pub fn begin(&mut self, now: Millis, via: WsState, duration: Millis, to: Phase) {
        self.state = via;
        self.since = now;
        self.steps = vec![Step {
            at: now + duration.max(1),
            to,
        }];
    }

    pub fn has_tag(&self, key: &str, value: &str) -> bool {
        has_tag(&self.tags, key, value)
    }
}

pub fn has_tag(tags: &Tags, key: &str, value: &str) -> bool {
    tags.iter().any(|(k, v)| k == key && v == value)
}

#[derive(Debug, Clone, Default)]
pub struct RegionState {
    pub byol_enabled_at: Option<Millis>,
    pub byol_cidr: Option<String>,
    pub modifications: Vec<AccountModification>,
    pub amis: BTreeMap<String, Ami>,
    pub ds_directories: BTreeMap<String, DsDirectory>,
    pub subnets: BTreeMap<String, Subnet>,
    pub security_groups: BTreeMap<String, SecurityGroup>,
    pub directories: BTreeMap<String, WsDirectory>,
    pub images: BTreeMap<String, WsImage>,
    pub bundles: BTreeMap<String, WsBundle>,
    pub workspaces: BTreeMap<String, Workspace>,
    pub by_directory: HashMap<String, BTreeSet<String>>,
    pub by_bundle: HashMap<String, BTreeSet<String>>,
    pub by_name: HashMap<String, String>,
    pub by_user: HashMap<(String, String), String>,
}

impl RegionState {
    pub fn byol_enabled(&self, now: Millis) -> bool {
        self.byol_enabled_at.is_some_and(|t| now >= t)
    }

    pub fn insert_workspace(&mut self, ws: Workspace) {
        self.by_directory
            .entry(ws.directory_id.clone())
            .or_default()
            .insert(ws.id.clone());
        self.by_bundle
            .entry(ws.bundle_id.clone())
            .or_default()
            .insert(ws.id.clone());
        if let Some(name) = &ws.workspace_name {
            self.by_name.insert(name.clone(), ws.id.clone());
        }
        if ws.user_name != "[UNDEFINED]" {
            self.by_user.insert(
                (ws.directory_id.clone(), ws.user_name.to_lowercase()),
                ws.id.clone(),
            );
        }
        self.workspaces.insert(ws.id.clone(), ws);
    }

    pub fn remove_workspace(&mut self, id: &str) {
        if let Some(ws) = self.workspaces.remove(id) {
            if let Some(s) = self.by_directory.get_mut(&ws.directory_id) {
                s.remove(id);
            }
            if let Some(s) = self.by_bundle.get_mut(&ws.bundle_id) {
                s.remove(id);
            }
            if let Some(name) = &ws.workspace_name
                && self.by_name.get(name).is_some_and(|v| v == id)
            {
                self.by_name.remove(name);
            }
            let key = (ws.directory_id.clone(), ws.user_name.to_lowercase());
            if self.by_user.get(&key).is_some_and(|v| v == id) {
                self.by_user.remove(&key);
            }
        }
    }

    /// Settles one workspace; removes it when gone. Returns whether it still exists.
    pub fn settle_workspace(&mut self, id: &str, now: Millis, t: &Timing) -> bool {
        let alive = match self.workspaces.get_mut(id) {
            Some(ws) => ws.settle(now, t),
            None => return false,
        };
        if !alive {
            self.remove_workspace(id);
        }
        alive
    }

    pub fn maintenance_on(&self, directory_id: &str) -> bool {
        self.directories
            .get(directory_id)
            .is_none_or(|d| d.maintenance_enabled())
    }

    /// Drops directories whose deregistration finished.
    pub fn settle_directories(&mut self, now: Millis) {
        self.directories.retain(|_, d| d.state(now).is_some());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(mode: &str) -> Workspace {
        Workspace {
            id: "ws-abcdefgh1".into(),
            directory_id: "d-1234567890".into(),
            user_name: "u".into(),
            workspace_name: None,
            bundle_id: "wsb-123456789".into(),
            subnet_id: "subnet-1".into(),
            ip: "10.0.0.1".into(),
            computer_name: "A".into(),
            state: WsState::Available,
            since: 0,
            steps: vec![],
            error: None,
            props: WsProps {
                running_mode: mode.into(),
                auto_stop_timeout: None,
                root_gib: 80,
                user_gib: 50,
                compute: "STANDARD".into(),
                protocols: vec![],
                os: None,
            },
            tags: vec![],
            volume_encryption_key: None,
            user_volume_encryption: None,
            root_volume_encryption: None,
            created_ms: 0,
            modifications: vec![],
            last_connected_ms: None,
        }
    }

    fn timing() -> Timing {
        Timing {
            manual_autostop_ms: Some(48 * 3_600_000),
            stop_ms: 60_000,
            maintenance: None,
        }
    }

    #[test]
    fn manual_workspace_is_stopped_after_48_hours_available() {
        let w = ws("MANUAL");
        let t = timing();
        let h = 3_600_000;
        assert_eq!(
            w.project(48 * h - 1, &t, true).unwrap().state,
            WsState::Available
        );
        assert_eq!(
            w.project(48 * h, &t, true).unwrap().state,
            WsState::Stopping
        );
        assert_eq!(
            w.project(48 * h + 60_000, &t, true).unwrap().state,
            WsState::Stopped
        );
        let always_on = ws("ALWAYS_ON");
        assert_eq!(
            always_on.project(100 * h, &t, true).unwrap().state,
            WsState::Available
        );
    }

    #[test]
    fn settle_applies_steps_and_gone_removes() {
        let mut w = ws("MANUAL");
        let t = timing();
        w.begin(0, WsState::Terminating, 10, Phase::To(WsState::Terminated));
        w.steps.push(Step {
            at: 20,
            to: Phase::Gone,
        });
        assert!(w.settle(15, &t));
        assert_eq!(w.state, WsState::Terminated);
        assert!(!w.settle(20, &t));
    }

    #[test]
    fn settle_folds_the_automatic_stop() {
        let mut w = ws("MANUAL");
        let t = timing();
        assert!(w.settle(49 * 3_600_000, &t));
        assert_eq!(w.state, WsState::Stopped);
        assert!(w.steps.is_empty());
    }
}
