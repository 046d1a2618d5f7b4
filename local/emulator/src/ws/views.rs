//! Output shapes (exact member names of the WorkSpaces model).

use crate::model::{Projection, Workspace, WsBundle, WsDirectory, WsImage, WsState};
use crate::protocol::Obj;
use crate::service_clock::Millis;
use serde::Serialize;
use serde_json::{Value, json};

/// The `Workspace` shape, serialized straight from borrowed state (the
/// DescribeWorkspaces hot path never builds a `serde_json::Value`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WorkspaceOut<'a> {
    workspace_id: &'a str,
    directory_id: &'a str,
    user_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_address: Option<&'a str>,
    state: &'static str,
    bundle_id: &'a str,
    subnet_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    computer_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    volume_encryption_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_volume_encryption_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_volume_encryption_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    workspace_name: Option<&'a str>,
    workspace_properties: PropsOut<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    modification_states: Vec<ModOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PropsOut<'a> {
    running_mode: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    running_mode_auto_stop_timeout_in_minutes: Option<i64>,
    root_volume_size_gib: i64,
    user_volume_size_gib: i64,
    compute_type_name: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    protocols: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    operating_system_name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ModOut<'a> {
    resource: &'a str,
    state: &'static str,
}

pub fn workspace_out<'a>(ws: &'a Workspace, p: &Projection, now: Millis) -> WorkspaceOut<'a> {
    let err = if p.state == WsState::Error {
        ws.error.as_ref()
    } else {
        None
    };
    let shown = p.state != WsState::Pending;
    WorkspaceOut {
        workspace_id: &ws.id,
        directory_id: &ws.directory_id,
        user_name: &ws.user_name,
        ip_address: shown.then_some(ws.ip.as_str()),
        state: p.state.as_str(),
        bundle_id: &ws.bundle_id,
        subnet_id: &ws.subnet_id,
        error_message: err.map(|e| e.1.as_str()),
        error_code: err.map(|e| e.0.as_str()),
        computer_name: shown.then_some(ws.computer_name.as_str()),
        volume_encryption_key: ws.volume_encryption_key.as_deref(),
        user_volume_encryption_enabled: Some(ws.user_volume_encryption.unwrap_or(false)),
        root_volume_encryption_enabled: Some(ws.root_volume_encryption.unwrap_or(false)),
        workspace_name: ws.workspace_name.as_deref(),
        workspace_properties: PropsOut {
            running_mode: &ws.props.running_mode,
            running_mode_auto_stop_timeout_in_minutes: ws.props.auto_stop_timeout,
            root_volume_size_gib: ws.props.root_gib,
            user_volume_size_gib: ws.props.user_gib,
            compute_type_name: &ws.props.compute,
            protocols: &ws.props.protocols,
            operating_system_name: ws.props.os.as_deref(),
        },
        modification_states: ws
            .modifications
            .iter()
            .filter(|(_, until)| *until > now)
            .map(|(r, _)| ModOut {
                resource: r,
                state: "UPDATE_IN_PROGRESS",
            })
            .collect(),
    }
}

pub fn workspace(ws: &Workspace, p: &Projection, now: Millis) -> Value {
    serde_json::to_value(workspace_out(ws, p, now)).unwrap_or(Value::Null)
}

pub fn image(img: &WsImage, now: Millis) -> Value {
    let state = img.state(now);
    let failed = (state == "ERROR").then_some(img.failure.as_ref()).flatten();
    Obj::new()
        .s("ImageId", Some(img.id.as_str()))
        .s("Name", Some(img.name.as_str()))
        .s("Description", img.description.as_deref())
        .v("OperatingSystem", Some(json!({"Type": img.os_type})))
        .s("State", Some(state))
        .s("RequiredTenancy", Some(img.required_tenancy.as_str()))
        .s("ErrorCode", failed.map(|f| f.code.as_str()))
        .s("ErrorMessage", failed.map(|f| f.message.as_str()))
        .ts("Created", Some(img.created_ms))
        .s("OwnerAccountId", Some(img.owner.as_str()))
        .v(
            "ErrorDetails",
            failed.map(|f| {
                Value::Array(
                    f.details
                        .iter()
                        .map(|(c, m)| json!({"ErrorCode": c, "ErrorMessage": m}))
                        .collect(),
                )
            }),
        )
        .build()
}

pub fn bundle(b: &WsBundle) -> Value {
    Obj::new()
        .s("BundleId", Some(b.id.as_str()))
        .s("Name", Some(b.name.as_str()))
        .s("Owner", Some(b.owner.as_str()))
        .s("Description", Some(b.description.as_str()))
        .s("ImageId", Some(b.image_id.as_str()))
        .v(
            "RootStorage",
            b.root_capacity.as_ref().map(|c| json!({"Capacity": c})),
        )
        .v("UserStorage", Some(json!({"Capacity": b.user_capacity})))
        .v("ComputeType", Some(json!({"Name": b.compute})))
        .ts("LastUpdatedTime", Some(b.updated_ms))
        .ts("CreationTime", Some(b.created_ms))
        .s("State", Some("AVAILABLE"))
        .s("BundleType", Some("REGULAR"))
        .build()
}

pub fn directory(d: &WsDirectory, state: &str) -> Value {
    let c = &d.creation;
    let creation = Obj::new()
        .b(
            "EnableInternetAccess",
            Some(c.enable_internet_access.unwrap_or(false)),
        )
        .s("DefaultOu", c.default_ou.as_deref())
        .s(
            "CustomSecurityGroupId",
            c.custom_security_group_id.as_deref(),
        )
        .b(
            "UserEnabledAsLocalAdministrator",
            Some(c.user_enabled_as_local_administrator.unwrap_or(true)),
        )
        .b("EnableMaintenanceMode", Some(d.maintenance_enabled()))
        .s("InstanceIamRoleArn", c.instance_iam_role_arn.as_deref())
        .build();
    let ss = if d.self_service {
        "ENABLED"
    } else {
        "DISABLED"
    };
    Obj::new()
        .s("DirectoryId", Some(d.id.as_str()))
        .s("Alias", Some(d.ds.alias.as_str()))
        .s("DirectoryName", Some(d.ds.name.as_str()))
        .s("RegistrationCode", Some(d.registration_code.as_str()))
        .v("SubnetIds", Some(json!(d.subnet_ids)))
        .v("DnsIpAddresses", Some(json!(d.ds.dns_ips)))
        .s("CustomerUserName", Some(d.ds.customer_user_name.as_str()))
        .s("IamRoleId", Some(d.iam_role_id.as_str()))
        .s("DirectoryType", Some(d.ds.directory_type.workspaces_name()))
        .s("WorkspaceSecurityGroupId", Some(d.workspace_security_group_id.as_str()))
        .s("State", Some(state))
        .v("WorkspaceCreationProperties", Some(creation))
        .v("ipGroupIds", Some(json!([])))
        .v(
            "WorkspaceAccessProperties",
            Some(json!({
                "DeviceTypeWindows": "ALLOW", "DeviceTypeOsx": "ALLOW", "DeviceTypeWeb": "DENY",
                "DeviceTypeIos": "ALLOW", "DeviceTypeAndroid": "ALLOW", "DeviceTypeChromeOs": "ALLOW",
                "DeviceTypeZeroClient": "ALLOW", "DeviceTypeLinux": "DENY"
            })),
        )
        .s("Tenancy", Some(d.tenancy.as_str()))
        .v(
            "SelfservicePermissions",
            Some(json!({
                "RestartWorkspace": ss, "IncreaseVolumeSize": ss, "ChangeComputeType": ss,
                "SwitchRunningMode": ss, "RebuildWorkspace": ss
            })),
        )
        .s("WorkspaceDirectoryName", d.name.as_deref())
        .s("WorkspaceDirectoryDescription", d.description.as_deref())
        .s("UserIdentityType", Some(d.user_identity_type.as_str()))
        .s("WorkspaceType", Some(d.workspace_type.as_str()))
        .build()
}
