//! The lifecycle catalog: each command's detail type, its typed detail (published as a
//! JSON Schema in `events/schemas/lifecycle/`), and the [`Command`] it becomes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{
    AccountId, BundleId, DirectoryId, ImageId, OpaqueId, RegionName, TenantId, WorkspaceId,
};
use crate::model::{Timestamp, VolumeEncryption};

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
    /// The new desktops' volume encryption; unset: the tenant's (recorded at onboarding).
    /// Turning it off takes `enabled: false` and `allowUnencrypted: true` together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<VolumeEncryption>,
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
