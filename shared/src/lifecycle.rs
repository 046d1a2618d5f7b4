//! Lifecycle commands as partner events: the catalog (detail types and their typed details,
//! published as JSON Schemas in `events/schemas/lifecycle/`) and the pure precondition checks
//! each command makes before Steward calls the service.
//!
//! The envelope rules are the partner catalog's ([`crate::events`]): the partner event
//! source, strict details (unknown fields refused), `occurredAt` at most
//! [`crate::events::MAX_CLOCK_SKEW`] ahead, and every refusal a named [`Rejection`].
//! Every lifecycle detail type starts with [`DETAIL_TYPE_PREFIX`], which is how the
//! template routes them to the lifecycle function and the rest to the power function.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::events::{MAX_CLOCK_SKEW, Rejection};
use crate::ids::{
    AccountId, BundleId, DirectoryId, ImageId, OpaqueId, RegionName, TenantId, WorkspaceId,
};
use crate::model::{PartnerTag, RunningMode, Timestamp, WorkspaceState};
use crate::validate::{self, Problem, ValidationError};

/// Every lifecycle detail type starts with this.
pub const DETAIL_TYPE_PREFIX: &str = "Lifecycle ";

/// The `detail-type` of each lifecycle command.
pub mod detail_types {
    pub const REBOOT: &str = "Lifecycle Reboot Requested";
    pub const REBUILD: &str = "Lifecycle Rebuild Requested";
    pub const RESTORE: &str = "Lifecycle Restore Requested";
    pub const MIGRATE: &str = "Lifecycle Migrate Requested";
    pub const MODIFY_PROPERTIES: &str = "Lifecycle Properties Change Requested";
    pub const MODIFY_STATE: &str = "Lifecycle State Change Requested";
    pub const TERMINATE: &str = "Lifecycle Terminate Requested";
    pub const PROVISION: &str = "Lifecycle Provision Requested";
    pub const CREATE_IMAGE: &str = "Lifecycle Image Create Requested";
    pub const COPY_IMAGE: &str = "Lifecycle Image Copy Requested";
    pub const DELETE_IMAGE: &str = "Lifecycle Image Delete Requested";
    pub const IMAGE_PERMISSION: &str = "Lifecycle Image Permission Update Requested";
    pub const UPDATE_BUNDLE: &str = "Lifecycle Bundle Update Requested";
    pub const DELETE_BUNDLE: &str = "Lifecycle Bundle Delete Requested";
    pub const DEREGISTER_DIRECTORY: &str = "Lifecycle Directory Deregister Requested";
    pub const CREATION_PROPERTIES: &str = "Lifecycle Creation Properties Update Requested";
    pub const TAGS: &str = "Lifecycle Tags Update Requested";

    pub const ALL: [&str; 17] = [
        REBOOT,
        REBUILD,
        RESTORE,
        MIGRATE,
        MODIFY_PROPERTIES,
        MODIFY_STATE,
        TERMINATE,
        PROVISION,
        CREATE_IMAGE,
        COPY_IMAGE,
        DELETE_IMAGE,
        IMAGE_PERMISSION,
        UPDATE_BUNDLE,
        DELETE_BUNDLE,
        DEREGISTER_DIRECTORY,
        CREATION_PROPERTIES,
        TAGS,
    ];
}

/// The value a terminate or deregister command's `confirm` field must hold.
pub const CONFIRM_TERMINATE: &str = "TERMINATE";
pub const CONFIRM_DEREGISTER: &str = "DEREGISTER";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DesktopsDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    /// 1–25 desktops.
    pub workspace_ids: Vec<WorkspaceId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DesktopDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub workspace_id: WorkspaceId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MigrateDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub workspace_id: WorkspaceId,
    pub bundle_id: BundleId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropertiesDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub workspace_id: WorkspaceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_type_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_volume_size_gib: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_volume_size_gib: Option<u32>,
    /// A string so that AUTO_STOP is refused by name rather than as a malformed detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_mode: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetState {
    Available,
    AdminMaintenance,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub workspace_id: WorkspaceId,
    pub target_state: TargetState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TerminateDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub workspace_ids: Vec<WorkspaceId>,
    /// Must be [`CONFIRM_TERMINATE`]: termination destroys user data.
    #[serde(default)]
    pub confirm: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewDesktop {
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProvisionDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub directory_id: DirectoryId,
    pub bundle_id: BundleId,
    /// 1–25 desktops (one CreateWorkspaces call).
    pub desktops: Vec<NewDesktop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateImageDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CopyImageDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub image_id: ImageId,
    pub source_region: RegionName,
    /// One of the tenant's Regions.
    pub target_region: RegionName,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub image_id: ImageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImagePermissionDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub image_id: ImageId,
    pub shared_account_id: AccountId,
    /// true shares, false unshares.
    pub allow_copy_image: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateBundleDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub bundle_id: BundleId,
    pub image_id: ImageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub bundle_id: BundleId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub directory_id: DirectoryId,
    /// Must be [`CONFIRM_DEREGISTER`].
    #[serde(default)]
    pub confirm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreationPropertiesDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub directory_id: DirectoryId,
    /// Opt the directory out of (false) or back into (true) the maintenance window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_maintenance_mode: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_security_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagsDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    /// A desktop (`ws-`), image (`wsi-`), bundle (`wsb-`) or directory (`d-`).
    pub resource_id: String,
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    #[serde(default)]
    pub remove: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionName>,
}

/// What a lifecycle command asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Reboot(DesktopsDetail),
    Rebuild(DesktopDetail),
    Restore(DesktopDetail),
    Migrate(MigrateDetail),
    ModifyProperties(PropertiesDetail),
    ModifyState(StateDetail),
    Terminate(TerminateDetail),
    Provision(ProvisionDetail),
    CreateImage(CreateImageDetail),
    CopyImage(CopyImageDetail),
    DeleteImage(ImageDetail),
    UpdateImagePermission(ImagePermissionDetail),
    UpdateBundle(UpdateBundleDetail),
    DeleteBundle(BundleDetail),
    DeregisterDirectory(DirectoryDetail),
    UpdateCreationProperties(CreationPropertiesDetail),
    UpdateTags(TagsDetail),
}

/// A checked lifecycle command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleEvent {
    pub event_id: OpaqueId,
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub command: Command,
}

impl Command {
    /// The command's short name (audit `action`, outbound events, the handler's answer).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Reboot(_) => "reboot",
            Command::Rebuild(_) => "rebuild",
            Command::Restore(_) => "restore",
            Command::Migrate(_) => "migrate",
            Command::ModifyProperties(_) => "modify_properties",
            Command::ModifyState(_) => "modify_state",
            Command::Terminate(_) => "terminate",
            Command::Provision(_) => "provision",
            Command::CreateImage(_) => "create_image",
            Command::CopyImage(_) => "copy_image",
            Command::DeleteImage(_) => "delete_image",
            Command::UpdateImagePermission(_) => "update_image_permission",
            Command::UpdateBundle(_) => "update_bundle",
            Command::DeleteBundle(_) => "delete_bundle",
            Command::DeregisterDirectory(_) => "deregister_directory",
            Command::UpdateCreationProperties(_) => "update_creation_properties",
            Command::UpdateTags(_) => "update_tags",
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    source: String,
    detail: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Common {
    tenant_id: TenantId,
    occurred_at: Timestamp,
}

fn detail<T: DeserializeOwned>(value: &Value) -> Result<T, Rejection> {
    if !value.is_object() {
        return Err(Rejection::MalformedDetail(
            "detail must be a JSON object".into(),
        ));
    }
    serde_json::from_value(value.clone())
        .map_err(|e| Rejection::MalformedDetail(crate::redact::serde_message(&e.to_string())))
}

fn count(field: &'static str, n: usize, max: usize) -> Result<(), ValidationError> {
    if n == 0 {
        return Err(ValidationError::new(field, Problem::Missing));
    }
    validate::max_items(field, n, max)
}

impl LifecycleEvent {
    /// Whether an EventBridge event's detail type is a lifecycle command's.
    pub fn is_lifecycle(event: &Value) -> bool {
        event
            .get("detail-type")
            .and_then(Value::as_str)
            .is_some_and(|d| d.starts_with(DETAIL_TYPE_PREFIX))
    }

    /// Parses and checks a lifecycle command from a partner backend.
    pub fn parse(event: &Value, partner_source: &str, now: Timestamp) -> Result<Self, Rejection> {
        let env: Envelope = serde_json::from_value(event.clone()).map_err(|e| {
            Rejection::MalformedEnvelope(crate::redact::serde_message(&e.to_string()))
        })?;
        let event_id = OpaqueId::parse_at("id", env.id)?;
        if env.source != partner_source {
            return Err(Rejection::UnknownSource(crate::redact::described(
                &env.source,
            )));
        }
        use detail_types::*;
        let d = &env.detail;
        let command = match env.detail_type.as_str() {
            REBOOT => {
                let c: DesktopsDetail = detail(d)?;
                count("detail.workspaceIds", c.workspace_ids.len(), 25)?;
                Command::Reboot(c)
            }
            REBUILD => Command::Rebuild(detail(d)?),
            RESTORE => Command::Restore(detail(d)?),
            MIGRATE => Command::Migrate(detail(d)?),
            MODIFY_PROPERTIES => {
                let c: PropertiesDetail = detail(d)?;
                check_properties(&c)?;
                Command::ModifyProperties(c)
            }
            MODIFY_STATE => Command::ModifyState(detail(d)?),
            TERMINATE => {
                let c: TerminateDetail = detail(d)?;
                count("detail.workspaceIds", c.workspace_ids.len(), 25)?;
                check_confirmation(TERMINATE, c.confirm.as_deref(), CONFIRM_TERMINATE)?;
                Command::Terminate(c)
            }
            PROVISION => {
                let c: ProvisionDetail = detail(d)?;
                count("detail.desktops", c.desktops.len(), 25)?;
                for n in &c.desktops {
                    validate::user_name("detail.desktops.userName", &n.user_name)?;
                    if let Some(w) = &n.workspace_name {
                        validate::workspace_name("detail.desktops.workspaceName", w)?;
                    }
                }
                Command::Provision(c)
            }
            CREATE_IMAGE => {
                let c: CreateImageDetail = detail(d)?;
                validate::image_or_bundle_name("detail.name", &c.name)?;
                validate::description("detail.description", &c.description, 256)?;
                Command::CreateImage(c)
            }
            COPY_IMAGE => {
                let c: CopyImageDetail = detail(d)?;
                validate::image_or_bundle_name("detail.name", &c.name)?;
                if let Some(desc) = &c.description {
                    validate::description("detail.description", desc, 256)?;
                }
                Command::CopyImage(c)
            }
            DELETE_IMAGE => Command::DeleteImage(detail(d)?),
            IMAGE_PERMISSION => Command::UpdateImagePermission(detail(d)?),
            UPDATE_BUNDLE => Command::UpdateBundle(detail(d)?),
            DELETE_BUNDLE => Command::DeleteBundle(detail(d)?),
            DEREGISTER_DIRECTORY => {
                let c: DirectoryDetail = detail(d)?;
                check_confirmation(
                    DEREGISTER_DIRECTORY,
                    c.confirm.as_deref(),
                    CONFIRM_DEREGISTER,
                )?;
                Command::DeregisterDirectory(c)
            }
            CREATION_PROPERTIES => {
                let c: CreationPropertiesDetail = detail(d)?;
                if c.enable_maintenance_mode.is_none() && c.custom_security_group_id.is_none() {
                    return Err(ValidationError::new("detail", Problem::Missing).into());
                }
                if let Some(sg) = &c.custom_security_group_id {
                    validate::security_group_id("detail.customSecurityGroupId", sg)?;
                }
                Command::UpdateCreationProperties(c)
            }
            TAGS => {
                let c: TagsDetail = detail(d)?;
                if c.set.is_empty() && c.remove.is_empty() {
                    return Err(ValidationError::new("detail.set", Problem::Missing).into());
                }
                validate::length("detail.resourceId", &c.resource_id, 3, 128)?;
                for (k, v) in &c.set {
                    validate::tag("detail.set", k, v)?;
                }
                for k in &c.remove {
                    validate::length("detail.remove", k, 1, 127)?;
                }
                validate::max_items("detail.set", c.set.len(), 49)?;
                Command::UpdateTags(c)
            }
            other => {
                return Err(Rejection::UnknownDetailType(crate::redact::described(
                    other,
                )));
            }
        };
        let common: Common = detail(d)?;
        let ahead = common.occurred_at - now;
        if ahead > MAX_CLOCK_SKEW {
            return Err(Rejection::FromTheFuture(ahead.num_minutes()));
        }
        Ok(Self {
            event_id,
            tenant_id: common.tenant_id,
            occurred_at: common.occurred_at,
            command,
        })
    }
}

/// An irreversible command must carry its confirmation word.
pub fn check_confirmation(
    command: &str,
    given: Option<&str>,
    expected: &str,
) -> Result<(), Rejection> {
    if given == Some(expected) {
        Ok(())
    } else {
        Err(Rejection::ConfirmationRequired(format!(
            "{command} (detail.confirm = {expected:?})"
        )))
    }
}

/// The running mode a BYOP desktop may be switched to: ALWAYS_ON or MANUAL; AUTO_STOP is
/// refused by name.
pub fn byop_running_mode(wire: &str) -> Result<RunningMode, Rejection> {
    match wire {
        "MANUAL" => Ok(RunningMode::Manual),
        "ALWAYS_ON" => Ok(RunningMode::AlwaysOn),
        "AUTO_STOP" => Err(Rejection::RunningModeNotAllowed(wire.to_owned())),
        _ => Err(ValidationError::new(
            "detail.runningMode",
            Problem::NotOneOf {
                allowed: &["ALWAYS_ON", "MANUAL"],
            },
        )
        .into()),
    }
}

fn check_properties(c: &PropertiesDetail) -> Result<(), Rejection> {
    if c.compute_type_name.is_none()
        && c.root_volume_size_gib.is_none()
        && c.user_volume_size_gib.is_none()
        && c.running_mode.is_none()
    {
        return Err(ValidationError::new("detail", Problem::Missing).into());
    }
    if let Some(m) = &c.running_mode {
        byop_running_mode(m)?;
    }
    if let Some(ct) = &c.compute_type_name {
        validate::one_of("detail.computeTypeName", ct, COMPUTE_TYPES)?;
    }
    if let Some(g) = c.root_volume_size_gib {
        validate::range("detail.rootVolumeSizeGib", i64::from(g), 80, 2000)?;
    }
    if let Some(g) = c.user_volume_size_gib {
        validate::range("detail.userVolumeSizeGib", i64::from(g), 10, 2000)?;
    }
    Ok(())
}

/// Compute types ModifyWorkspaceProperties takes (the SDK's `Compute` enum).
pub const COMPUTE_TYPES: &[&str] = &[
    "VALUE",
    "STANDARD",
    "PERFORMANCE",
    "POWER",
    "GRAPHICS",
    "POWERPRO",
    "GENERALPURPOSE_4XLARGE",
    "GENERALPURPOSE_8XLARGE",
    "GRAPHICSPRO",
    "GRAPHICS_G4DN",
    "GRAPHICSPRO_G4DN",
];

/// The desktop operations whose accepted source states the service documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesktopOp {
    Reboot,
    Rebuild,
    Restore,
    Migrate,
    ModifyProperties,
    ToAdminMaintenance,
    ToAvailable,
    /// CreateWorkspaceImage's source: AVAILABLE is assumed ([U] in the reference).
    CreateImage,
    Terminate,
}

impl DesktopOp {
    pub fn operation(self) -> &'static str {
        match self {
            DesktopOp::Reboot => "RebootWorkspaces",
            DesktopOp::Rebuild => "RebuildWorkspaces",
            DesktopOp::Restore => "RestoreWorkspace",
            DesktopOp::Migrate => "MigrateWorkspace",
            DesktopOp::ModifyProperties => "ModifyWorkspaceProperties",
            DesktopOp::ToAdminMaintenance | DesktopOp::ToAvailable => "ModifyWorkspaceState",
            DesktopOp::CreateImage => "CreateWorkspaceImage",
            DesktopOp::Terminate => "TerminateWorkspaces",
        }
    }
}

/// Minutes a desktop must have been REBOOTING before a reboot is accepted again.
pub const REBOOT_STUCK_MINUTES: i64 = 20;

/// Whether the service accepts `op` on a desktop in `state` (reference §6: the states each
/// operation accepts). `minutes_in_state` is how long Steward has seen it in that state.
pub fn check_state(
    op: DesktopOp,
    workspace: &WorkspaceId,
    state: WorkspaceState,
    minutes_in_state: i64,
) -> Result<(), Rejection> {
    use WorkspaceState::*;
    let ok = match op {
        DesktopOp::Reboot => {
            matches!(state, Available | Unhealthy)
                || (state == Rebooting && minutes_in_state >= REBOOT_STUCK_MINUTES)
        }
        DesktopOp::Rebuild => matches!(state, Available | Error | Unhealthy | Stopped | Rebooting),
        DesktopOp::Restore => matches!(state, Available | Error | Unhealthy | Stopped),
        DesktopOp::Migrate => matches!(state, Available | Stopped | Error),
        DesktopOp::ModifyProperties => matches!(state, Available | Stopped),
        DesktopOp::ToAdminMaintenance => state == Available,
        DesktopOp::ToAvailable => state == AdminMaintenance,
        DesktopOp::CreateImage => state == Available,
        DesktopOp::Terminate => !matches!(state, Suspended | Terminating | Terminated),
    };
    if ok {
        Ok(())
    } else {
        Err(Rejection::InvalidState {
            operation: op.operation().to_owned(),
            resource: workspace.to_string(),
            state: state.as_str().to_owned(),
        })
    }
}

/// A tag change never removes or alters the partner tag, and never sets a reserved key.
pub fn check_tag_changes(
    partner: &PartnerTag,
    set: &BTreeMap<String, String>,
    remove: &[String],
) -> Result<(), Rejection> {
    let touches = |k: &str| k.eq_ignore_ascii_case(&partner.key);
    if set.keys().any(|k| touches(k)) || remove.iter().any(|k| touches(k)) {
        return Err(Rejection::PartnerTagProtected(partner.key.clone()));
    }
    Ok(())
}

/// The Region a command applies to: the one named (which must be one of the tenant's) or
/// the tenant's first.
pub fn region_of(
    named: Option<&RegionName>,
    tenant_regions: &[RegionName],
) -> Result<RegionName, Rejection> {
    match named {
        Some(r) if tenant_regions.contains(r) => Ok(r.clone()),
        Some(r) => Err(Rejection::ResourceNotOwned(format!("Region {r}"))),
        None => tenant_regions
            .first()
            .cloned()
            .ok_or_else(|| Rejection::ResourceNotOwned("a Region".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SOURCE: &str = "steward.partner";

    fn now() -> Timestamp {
        chrono::DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn envelope(detail_type: &str, mut detail: Value) -> Value {
        detail["tenantId"] = json!("acme");
        detail["occurredAt"] = json!("2026-11-21T09:59:00Z");
        json!({"version": "0", "id": "ev-1", "detail-type": detail_type, "source": SOURCE,
            "account": "111122223333", "time": "2026-11-21T10:00:00Z", "region": "us-east-1",
            "resources": [], "detail": detail})
    }

    fn reason(dt: &str, d: Value) -> &'static str {
        LifecycleEvent::parse(&envelope(dt, d), SOURCE, now())
            .unwrap_err()
            .reason()
    }

    #[test]
    fn commands_parse_and_are_named() {
        let e = LifecycleEvent::parse(
            &envelope(
                detail_types::REBOOT,
                json!({"workspaceIds": ["ws-abcd1234"]}),
            ),
            SOURCE,
            now(),
        )
        .unwrap();
        assert_eq!(e.command.name(), "reboot");
        assert_eq!(e.tenant_id.as_str(), "acme");
        assert!(LifecycleEvent::is_lifecycle(&envelope(
            detail_types::TAGS,
            json!({})
        )));
        let t = envelope(
            detail_types::TERMINATE,
            json!({"workspaceIds": ["ws-abcd1234"], "confirm": "TERMINATE"}),
        );
        assert!(matches!(
            LifecycleEvent::parse(&t, SOURCE, now()).unwrap().command,
            Command::Terminate(_)
        ));
    }

    #[test]
    fn refusals_are_named() {
        assert_eq!(
            reason(
                detail_types::TERMINATE,
                json!({"workspaceIds": ["ws-abcd1234"]})
            ),
            "ConfirmationRequired"
        );
        assert_eq!(
            reason(
                detail_types::TERMINATE,
                json!({"workspaceIds": ["ws-abcd1234"], "confirm": "yes"})
            ),
            "ConfirmationRequired"
        );
        assert_eq!(
            reason(
                detail_types::MODIFY_PROPERTIES,
                json!({"workspaceId": "ws-abcd1234", "runningMode": "AUTO_STOP"})
            ),
            "RunningModeNotAllowed"
        );
        assert_eq!(
            reason(
                detail_types::MODIFY_PROPERTIES,
                json!({"workspaceId": "ws-abcd1234"})
            ),
            "InvalidField"
        );
        assert_eq!(
            reason(detail_types::REBOOT, json!({"workspaceIds": []})),
            "InvalidField"
        );
        let many: Vec<String> = (0..26).map(|i| format!("ws-{i:08x}")).collect();
        assert_eq!(
            reason(detail_types::REBOOT, json!({ "workspaceIds": many })),
            "InvalidField"
        );
        assert_eq!(
            reason(
                detail_types::REBUILD,
                json!({"workspaceIds": ["ws-abcd1234"]})
            ),
            "MalformedDetail"
        );
        assert_eq!(
            reason("Lifecycle Explode Requested", json!({})),
            "UnknownDetailType"
        );
        assert_eq!(
            reason(
                detail_types::DEREGISTER_DIRECTORY,
                json!({"directoryId": "d-1234567890"})
            ),
            "ConfirmationRequired"
        );
    }

    #[test]
    fn accepted_states_follow_the_reference() {
        let ws = WorkspaceId::parse("ws-abcd1234").unwrap();
        use WorkspaceState::*;
        assert!(check_state(DesktopOp::Reboot, &ws, Available, 0).is_ok());
        assert!(check_state(DesktopOp::Reboot, &ws, Rebooting, 5).is_err());
        assert!(check_state(DesktopOp::Reboot, &ws, Rebooting, 25).is_ok());
        assert!(check_state(DesktopOp::Reboot, &ws, Stopped, 0).is_err());
        assert!(check_state(DesktopOp::Rebuild, &ws, Stopped, 0).is_ok());
        assert!(check_state(DesktopOp::Restore, &ws, Rebooting, 0).is_err());
        assert!(check_state(DesktopOp::Migrate, &ws, AdminMaintenance, 0).is_err());
        assert!(check_state(DesktopOp::ModifyProperties, &ws, Stopped, 0).is_ok());
        assert!(check_state(DesktopOp::ToAdminMaintenance, &ws, Stopped, 0).is_err());
        assert!(check_state(DesktopOp::ToAvailable, &ws, AdminMaintenance, 0).is_ok());
        assert!(check_state(DesktopOp::Terminate, &ws, Suspended, 0).is_err());
        assert!(check_state(DesktopOp::Terminate, &ws, Error, 0).is_ok());
        let r = check_state(DesktopOp::Restore, &ws, Pending, 0).unwrap_err();
        assert_eq!(r.reason(), "InvalidState");
        assert!(r.to_string().contains("RestoreWorkspace"), "{r}");
    }

    #[test]
    fn running_modes_and_tags_and_regions() {
        assert_eq!(byop_running_mode("MANUAL").unwrap(), RunningMode::Manual);
        assert_eq!(
            byop_running_mode("ALWAYS_ON").unwrap(),
            RunningMode::AlwaysOn
        );
        assert_eq!(
            byop_running_mode("AUTO_STOP").unwrap_err().reason(),
            "RunningModeNotAllowed"
        );
        assert_eq!(
            byop_running_mode("SOMETIMES").unwrap_err().reason(),
            "InvalidField"
        );
        let p = PartnerTag::default();
        let mut set = BTreeMap::new();
        set.insert("CostCenter".to_owned(), "42".to_owned());
        assert!(check_tag_changes(&p, &set, &["Owner".to_owned()]).is_ok());
        assert_eq!(
            check_tag_changes(&p, &BTreeMap::new(), &["partnermanaged".to_owned()])
                .unwrap_err()
                .reason(),
            "PartnerTagProtected"
        );
        set.insert(p.key.clone(), "false".into());
        assert!(check_tag_changes(&p, &set, &[]).is_err());
        let regions = vec![RegionName::parse("us-east-1").unwrap()];
        assert_eq!(region_of(None, &regions).unwrap().as_str(), "us-east-1");
        let other = RegionName::parse("eu-west-1").unwrap();
        assert_eq!(
            region_of(Some(&other), &regions).unwrap_err().reason(),
            "ResourceNotOwned"
        );
    }
}
