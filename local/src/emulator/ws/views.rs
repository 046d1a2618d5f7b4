//! Output shapes (exact member names of the WorkSpaces model).

use crate::emulator::clock::Millis;
use crate::emulator::model::{Projection, Workspace, WsBundle, WsDirectory, WsImage, WsState};
use crate::emulator::protocol::Obj;
use serde_json::{Value, json};

pub fn workspace(ws: &Workspace, p: &Projection, now: Millis) -> Value {
    let props = Obj::new()
        .s("RunningMode", Some(ws.props.running_mode.as_str()))
        .i(
            "RunningModeAutoStopTimeoutInMinutes",
            ws.props.auto_stop_timeout,
        )
        .i("RootVolumeSizeGib", Some(ws.props.root_gib))
        .i("UserVolumeSizeGib", Some(ws.props.user_gib))
        .s("ComputeTypeName", Some(ws.props.compute.as_str()))
        .v(
            "Protocols",
            (!ws.props.protocols.is_empty()).then(|| json!(ws.props.protocols)),
        )
        .s("OperatingSystemName", ws.props.os.as_deref())
        .build();
    let mods: Vec<Value> = ws
        .modifications
        .iter()
        .filter(|(_, until)| *until > now)
        .map(|(r, _)| json!({"Resource": r, "State": "UPDATE_IN_PROGRESS"}))
        .collect();
    let err = if p.state == WsState::Error {
        ws.error.as_ref()
    } else {
        None
    };
    Obj::new()
        .s("WorkspaceId", Some(ws.id.as_str()))
        .s("DirectoryId", Some(ws.directory_id.as_str()))
        .s("UserName", Some(ws.user_name.as_str()))
        .s(
            "IpAddress",
            (p.state != WsState::Pending).then_some(ws.ip.as_str()),
        )
        .s("State", Some(p.state.as_str()))
        .s("BundleId", Some(ws.bundle_id.as_str()))
        .s("SubnetId", Some(ws.subnet_id.as_str()))
        .s("ErrorMessage", err.map(|e| e.1.as_str()))
        .s("ErrorCode", err.map(|e| e.0.as_str()))
        .s(
            "ComputerName",
            (p.state != WsState::Pending).then_some(ws.computer_name.as_str()),
        )
        .s("VolumeEncryptionKey", ws.volume_encryption_key.as_deref())
        .b("UserVolumeEncryptionEnabled", ws.user_volume_encryption)
        .b("RootVolumeEncryptionEnabled", ws.root_volume_encryption)
        .s("WorkspaceName", ws.workspace_name.as_deref())
        .v("WorkspaceProperties", Some(props))
        .v(
            "ModificationStates",
            (!mods.is_empty()).then_some(Value::Array(mods)),
        )
        .build()
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
        .s("DirectoryType", Some(d.ds.directory_type.as_str()))
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
