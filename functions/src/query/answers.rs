//! The query answers' shapes: the WorkSpaces gateway's typed views as partners see them.
//!
//! Every key is camelCase, and every value the service reported is written as the service's
//! own API writes it (statuses by their wire names, times in its RFC 3339 form, absent values
//! as null). The gateway returns domain types and no JSON; this is the one place that decides
//! what a partner sees of a desktop, bundle, image, directory or the account.

use serde::{Serialize, Serializer};
use steward_shared::gateway::workspaces::{
    Account, AccountModification, Bundle, BundleOwner, BundleState, ConnectionState,
    ConnectionStatus, Directory, DirectoryState, Image, ImageState, ImageTenancy,
    ModificationState, Observed, Snapshots, Tenancy, TenancySupport,
};
use steward_shared::ids::{BundleId, DirectoryId, ImageId, RegionName, WorkspaceId};
use steward_shared::model::{
    Actor, AuditOutcome, AuditRecord, RunningMode, Timestamp, WorkspaceRecord, WorkspaceState,
};

/// A time the service reported, written as the WorkSpaces API writes it (RFC 3339 in UTC,
/// microseconds with trailing zeros trimmed); null when absent or outside years 1–9999.
#[derive(Debug, Clone, Copy)]
pub(super) struct ServiceTime(Option<Timestamp>);

impl Serialize for ServiceTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use chrono::Datelike;
        let Some(t) = self.0.filter(|t| (1..=9999).contains(&t.year())) else {
            return s.serialize_none();
        };
        let mut out = t.format("%Y-%m-%dT%H:%M:%S").to_string();
        let micros = t.timestamp_subsec_micros();
        if micros > 0 {
            out.push_str(format!(".{micros:06}").trim_end_matches('0'));
        }
        out.push('Z');
        s.serialize_str(&out)
    }
}

/// A listed resource and whether it carries the partner tag.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Tagged<T> {
    #[serde(flatten)]
    pub(super) item: T,
    pub(super) partner_tagged: bool,
}

/// One registered desktop: Steward's view beside the service's (null when the service did
/// not describe it).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DesktopAnswer<'a> {
    pub(super) workspace_id: &'a WorkspaceId,
    pub(super) steward: StewardDesktop<'a>,
    pub(super) service: Option<ServiceDesktop<'a>>,
    pub(super) connection: Option<DesktopConnection<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StewardDesktop<'a> {
    state: WorkspaceState,
    state_observed_at: Timestamp,
    running_mode: RunningMode,
    region: &'a RegionName,
    directory_id: &'a DirectoryId,
    bundle_id: Option<&'a BundleId>,
    user_name: Option<&'a str>,
    available_since: Option<Timestamp>,
    live_sessions: usize,
    last_activity_at: Option<Timestamp>,
    lease_until: Option<Timestamp>,
}

impl<'a> From<&'a WorkspaceRecord> for StewardDesktop<'a> {
    fn from(r: &'a WorkspaceRecord) -> Self {
        Self {
            state: r.state,
            state_observed_at: r.state_observed_at,
            running_mode: r.running_mode,
            region: &r.region,
            directory_id: &r.directory_id,
            bundle_id: r.bundle_id.as_ref(),
            user_name: r.user_name.as_deref(),
            available_since: r.available_since,
            live_sessions: r.sessions.len(),
            last_activity_at: r.last_activity_at,
            lease_until: r.lease_until,
        }
    }
}

/// DescribeWorkspaces' view of a desktop.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ServiceDesktop<'a> {
    workspace_id: &'a WorkspaceId,
    state: WorkspaceState,
    bundle_id: Option<&'a BundleId>,
    directory_id: Option<&'a DirectoryId>,
    user_name: Option<&'a str>,
    computer_name: Option<&'a str>,
    ip_address: Option<&'a str>,
    running_mode: Option<RunningMode>,
    compute_type_name: Option<&'a str>,
    root_volume_size_gib: Option<i32>,
    user_volume_size_gib: Option<i32>,
    error_code: Option<&'a str>,
}

impl<'a> From<&'a Observed> for ServiceDesktop<'a> {
    fn from(o: &'a Observed) -> Self {
        Self {
            workspace_id: &o.workspace_id,
            state: o.state,
            bundle_id: o.bundle_id.as_ref(),
            directory_id: o.directory_id.as_ref(),
            user_name: o.user_name.as_deref(),
            computer_name: o.computer_name.as_deref(),
            ip_address: o.ip_address.as_deref(),
            running_mode: o.running_mode,
            compute_type_name: o.compute_type.as_deref(),
            root_volume_size_gib: o.root_volume_gib,
            user_volume_size_gib: o.user_volume_gib,
            error_code: o.error_code.as_deref(),
        }
    }
}

/// DescribeWorkspacesConnectionStatus' view of a desktop.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DesktopConnection<'a> {
    workspace_id: &'a WorkspaceId,
    connection_state: Option<&'a ConnectionState>,
    connection_state_check_timestamp: ServiceTime,
    last_known_user_connection_timestamp: ServiceTime,
}

impl<'a> From<&'a ConnectionStatus> for DesktopConnection<'a> {
    fn from(s: &'a ConnectionStatus) -> Self {
        Self {
            workspace_id: &s.workspace_id,
            connection_state: s.state.as_ref(),
            connection_state_check_timestamp: ServiceTime(s.checked_at),
            last_known_user_connection_timestamp: ServiceTime(s.last_user_connection_at),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BundleAnswer<'a> {
    bundle_id: &'a BundleId,
    name: Option<&'a str>,
    description: Option<&'a str>,
    image_id: Option<&'a ImageId>,
    owner: Option<&'a BundleOwner>,
    compute_type_name: Option<&'a str>,
    root_volume_size_gib: Option<&'a str>,
    user_volume_size_gib: Option<&'a str>,
    state: Option<&'a BundleState>,
    last_updated_time: ServiceTime,
}

impl<'a> From<&'a Bundle> for BundleAnswer<'a> {
    fn from(b: &'a Bundle) -> Self {
        Self {
            bundle_id: &b.bundle_id,
            name: b.name.as_deref(),
            description: b.description.as_deref(),
            image_id: b.image_id.as_ref(),
            owner: b.owner.as_ref(),
            compute_type_name: b.compute_type.as_deref(),
            root_volume_size_gib: b.root_volume_gib.as_deref(),
            user_volume_size_gib: b.user_volume_gib.as_deref(),
            state: b.state.as_ref(),
            last_updated_time: ServiceTime(b.last_updated),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ImageAnswer<'a> {
    image_id: &'a ImageId,
    name: Option<&'a str>,
    description: Option<&'a str>,
    state: Option<&'a ImageState>,
    required_tenancy: Option<&'a ImageTenancy>,
    owner_account_id: Option<&'a str>,
    created: ServiceTime,
    error_code: Option<&'a str>,
}

impl<'a> From<&'a Image> for ImageAnswer<'a> {
    fn from(i: &'a Image) -> Self {
        Self {
            image_id: &i.image_id,
            name: i.name.as_deref(),
            description: i.description.as_deref(),
            state: i.state.as_ref(),
            required_tenancy: i.required_tenancy.as_ref(),
            owner_account_id: i.owner_account_id.as_deref(),
            created: ServiceTime(i.created),
            error_code: i.error_code.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DirectoryAnswer<'a> {
    directory_id: &'a DirectoryId,
    directory_name: Option<&'a str>,
    state: Option<&'a DirectoryState>,
    tenancy: Option<&'a Tenancy>,
    subnet_ids: &'a [String],
    workspace_security_group_id: Option<&'a str>,
    enable_maintenance_mode: Option<bool>,
    custom_security_group_id: Option<&'a str>,
}

impl<'a> From<&'a Directory> for DirectoryAnswer<'a> {
    fn from(d: &'a Directory) -> Self {
        Self {
            directory_id: &d.directory_id,
            directory_name: d.name.as_deref(),
            state: d.state.as_ref(),
            tenancy: d.tenancy.as_ref(),
            subnet_ids: &d.subnet_ids,
            workspace_security_group_id: d.workspace_security_group_id.as_deref(),
            enable_maintenance_mode: d.creation.enable_maintenance_mode,
            custom_security_group_id: d.creation.custom_security_group_id.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SnapshotsAnswer<'a> {
    workspace_id: &'a WorkspaceId,
    rebuild_snapshots: Vec<ServiceTime>,
    restore_snapshots: Vec<ServiceTime>,
}

impl<'a> SnapshotsAnswer<'a> {
    pub(super) fn of(workspace_id: &'a WorkspaceId, s: &Snapshots) -> Self {
        let times = |t: &[Option<Timestamp>]| t.iter().copied().map(ServiceTime).collect();
        Self {
            workspace_id,
            rebuild_snapshots: times(&s.rebuild),
            restore_snapshots: times(&s.restore),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AccountAnswer<'a> {
    dedicated_tenancy_support: Option<&'a TenancySupport>,
    dedicated_tenancy_management_cidr_range: Option<&'a str>,
    modifications: Vec<ModificationAnswer<'a>>,
}

impl<'a> From<&'a Account> for AccountAnswer<'a> {
    fn from(a: &'a Account) -> Self {
        Self {
            dedicated_tenancy_support: a.dedicated_tenancy_support.as_ref(),
            dedicated_tenancy_management_cidr_range: a.management_cidr.as_deref(),
            modifications: a
                .modifications
                .iter()
                .map(ModificationAnswer::from)
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ModificationAnswer<'a> {
    modification_state: Option<&'a ModificationState>,
    dedicated_tenancy_support: Option<&'a TenancySupport>,
    dedicated_tenancy_management_cidr_range: Option<&'a str>,
    start_time: ServiceTime,
    error_code: Option<&'a str>,
    error_message: Option<&'a str>,
}

impl<'a> From<&'a AccountModification> for ModificationAnswer<'a> {
    fn from(m: &'a AccountModification) -> Self {
        Self {
            modification_state: m.state.as_ref(),
            dedicated_tenancy_support: m.dedicated_tenancy_support.as_ref(),
            dedicated_tenancy_management_cidr_range: m.management_cidr.as_deref(),
            start_time: ServiceTime(m.started_at),
            error_code: m.error_code.as_deref(),
            error_message: m.error_message.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn at(rfc3339: &str) -> ServiceTime {
        ServiceTime(Some(
            chrono::DateTime::parse_from_rfc3339(rfc3339)
                .unwrap()
                .to_utc(),
        ))
    }

    #[test]
    fn service_times_are_written_as_the_service_writes_them() {
        let json = |t: ServiceTime| serde_json::to_value(t).unwrap();
        assert_eq!(json(at("2026-11-28T05:56:22Z")), "2026-11-28T05:56:22Z");
        assert_eq!(
            json(at("2026-11-28T05:56:22.895999Z")),
            "2026-11-28T05:56:22.895999Z"
        );
        assert_eq!(
            json(at("2026-11-28T05:56:22.520Z")),
            "2026-11-28T05:56:22.52Z"
        );
        // Sub-microsecond digits are dropped, as the SDK drops them.
        assert_eq!(
            json(at("2026-11-28T05:56:22.000000999Z")),
            "2026-11-28T05:56:22Z"
        );
        assert_eq!(json(ServiceTime(None)), Value::Null);
    }

    #[test]
    fn unknown_statuses_pass_through_verbatim() {
        let d = Directory {
            directory_id: DirectoryId::parse("d-1234567890").unwrap(),
            name: None,
            alias: None,
            directory_type: None,
            state: Some(DirectoryState::from_wire("SOMETHING_NEW")),
            tenancy: Some(Tenancy::Dedicated),
            subnet_ids: Vec::new(),
            workspace_security_group_id: None,
            creation: Default::default(),
        };
        assert_eq!(
            serde_json::to_value(DirectoryAnswer::from(&d)).unwrap(),
            json!({
                "directoryId": "d-1234567890",
                "directoryName": null,
                "state": "SOMETHING_NEW",
                "tenancy": "DEDICATED",
                "subnetIds": [],
                "workspaceSecurityGroupId": null,
                "enableMaintenanceMode": null,
                "customSecurityGroupId": null,
            })
        );
    }
}

/// One audit record as the partner reads it: camelCase, like every other answer (the table
/// keeps its own field names).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AuditAnswer<'a> {
    tenant_id: &'a steward_shared::ids::TenantId,
    audit_id: &'a uuid::Uuid,
    at: &'a Timestamp,
    actor: &'a Actor,
    action: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    workspace_id: Option<&'a WorkspaceId>,
    reason: &'a str,
    outcome: &'a AuditOutcome,
}

impl<'a> From<&'a AuditRecord> for AuditAnswer<'a> {
    fn from(r: &'a AuditRecord) -> Self {
        Self {
            tenant_id: &r.tenant_id,
            audit_id: &r.audit_id,
            at: &r.at,
            actor: &r.actor,
            action: &r.action,
            workspace_id: r.workspace_id.as_ref(),
            reason: &r.reason,
            outcome: &r.outcome,
        }
    }
}
