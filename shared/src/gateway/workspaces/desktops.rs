//! Desktops: describe (by id or by directory), create, rebuild, restore, migrate, modify
//! properties and state, terminate, and the two reads partners query (connection status,
//! snapshots). Power calls (start, stop, reboot) are in [`super::power`].

use aws_sdk_workspaces::types as ws;

use super::{
    BATCH, WorkspacesGateway, batch_outcomes, call_failed, odd_answer, service_status, time,
    unbuildable,
};
use crate::aws::AwsError;
use crate::gateway::ItemOutcome;
use crate::ids::{BundleId, DirectoryId, WorkspaceId};
use crate::lifecycle::TargetState;
use crate::model::{PartnerTag, RunningMode, Timestamp, VolumeEncryptionRequest, WorkspaceState};

/// A desktop as the service reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub workspace_id: WorkspaceId,
    pub state: WorkspaceState,
    pub running_mode: Option<RunningMode>,
    pub directory_id: Option<DirectoryId>,
    pub bundle_id: Option<BundleId>,
    pub workspace_name: Option<String>,
    pub user_name: Option<String>,
    pub computer_name: Option<String>,
    pub ip_address: Option<String>,
    pub compute_type: Option<String>,
    pub root_volume_gib: Option<i32>,
    pub user_volume_gib: Option<i32>,
    /// The service's error code for a desktop that failed (creation, rebuild…).
    pub error_code: Option<String>,
    /// Volume encryption as the service reports it; `None` when it reports neither flag
    /// nor a key (an unencrypted desktop, as the service omits false flags).
    pub encryption: Option<DesktopEncryption>,
}

/// A desktop's `RootVolumeEncryptionEnabled`, `UserVolumeEncryptionEnabled` and
/// `VolumeEncryptionKey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopEncryption {
    pub root: bool,
    pub user: bool,
    /// The KMS key (alias or ARN) as the service wrote it.
    pub key: Option<String>,
}

impl DesktopEncryption {
    fn of(w: &ws::Workspace) -> Option<Self> {
        let e = Self {
            root: w.root_volume_encryption_enabled().unwrap_or(false),
            user: w.user_volume_encryption_enabled().unwrap_or(false),
            key: w.volume_encryption_key().map(str::to_owned),
        };
        (e.root || e.user || e.key.is_some()).then_some(e)
    }
}

/// A desktop the service returned in a shape Steward cannot read (an id that does not
/// parse, a state this version does not know): left alone, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The id as the service wrote it.
    pub workspace_id: String,
    pub reason: String,
}

/// The result of describing a set of desktops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Described {
    pub found: Vec<Observed>,
    /// Asked for and not returned: terminated (TERMINATED shows only briefly).
    pub absent: Vec<WorkspaceId>,
    /// Returned in a shape Steward cannot read: left alone this time.
    pub unreadable: Vec<Unreadable>,
}

fn enum_from_wire<T: serde::de::DeserializeOwned>(wire: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(wire.to_owned())).ok()
}

/// Reads an SDK workspace into the domain, or says why it cannot.
fn observe(w: &ws::Workspace) -> Result<Observed, Unreadable> {
    let raw_id = w.workspace_id().unwrap_or_default();
    let unreadable = |reason: String| Unreadable {
        workspace_id: raw_id.to_owned(),
        reason,
    };
    let workspace_id = WorkspaceId::parse(raw_id).map_err(|e| unreadable(e.to_string()))?;
    let state_wire = w.state().map(|s| s.as_str()).unwrap_or_default();
    let state = enum_from_wire::<WorkspaceState>(state_wire)
        .ok_or_else(|| unreadable(format!("unknown state {state_wire:?}")))?;
    let p = w.workspace_properties();
    Ok(Observed {
        workspace_id,
        state,
        running_mode: p
            .and_then(|p| p.running_mode())
            .and_then(|m| enum_from_wire::<RunningMode>(m.as_str())),
        directory_id: w.directory_id().and_then(|d| DirectoryId::parse(d).ok()),
        bundle_id: w.bundle_id().and_then(|b| BundleId::parse(b).ok()),
        workspace_name: w.workspace_name().map(str::to_owned),
        user_name: w.user_name().map(str::to_owned),
        computer_name: w.computer_name().map(str::to_owned),
        ip_address: w.ip_address().map(str::to_owned),
        compute_type: p
            .and_then(|p| p.compute_type_name())
            .map(|c| c.as_str().to_owned()),
        root_volume_gib: p.and_then(|p| p.root_volume_size_gib()),
        user_volume_gib: p.and_then(|p| p.user_volume_size_gib()),
        error_code: w.error_code().map(str::to_owned),
        encryption: DesktopEncryption::of(w),
    })
}

/// A desktop as a listing (or CreateWorkspaces) returned it: the names it goes by, to match
/// against the desktops wanted, beside Steward's reading of it (which may have failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedDesktop {
    workspace_name: Option<String>,
    user_name: Option<String>,
    reading: Result<Observed, Unreadable>,
}

impl ListedDesktop {
    fn of(w: &ws::Workspace) -> Self {
        Self {
            workspace_name: w.workspace_name().map(str::to_owned),
            user_name: w.user_name().map(str::to_owned),
            reading: observe(w),
        }
    }

    /// The id as the service wrote it.
    pub fn workspace_id(&self) -> &str {
        match &self.reading {
            Ok(o) => o.workspace_id.as_str(),
            Err(u) => &u.workspace_id,
        }
    }

    pub fn workspace_name(&self) -> Option<&str> {
        self.workspace_name.as_deref()
    }

    pub fn user_name(&self) -> Option<&str> {
        self.user_name.as_deref()
    }

    /// Steward's reading of the desktop.
    pub fn reading(&self) -> Result<&Observed, &Unreadable> {
        self.reading.as_ref()
    }
}

/// One desktop to create: `user_name` `[UNDEFINED]` with a `workspace_name` for a
/// user-decoupled one.
pub struct NewWorkspace {
    pub user_name: String,
    pub workspace_name: Option<String>,
}

/// What CreateWorkspaces makes: at most [`BATCH`] desktops (one call) in `directory` from
/// `bundle`, MANUAL, each with the partner tag and the tenant's volume encryption.
pub struct CreateWorkspacesSpec<'a> {
    pub directory: &'a DirectoryId,
    pub bundle: &'a BundleId,
    pub tag: &'a PartnerTag,
    pub desktops: &'a [NewWorkspace],
    /// Both volumes encrypted (with the key, or the AWS managed one), or neither flag sent.
    pub encryption: VolumeEncryptionRequest,
}

/// A desktop request with `encryption`'s members set: both flags (and the key when one is
/// given), or none of them.
fn encrypted(
    request: ws::builders::WorkspaceRequestBuilder,
    encryption: &VolumeEncryptionRequest,
) -> ws::builders::WorkspaceRequestBuilder {
    match encryption {
        VolumeEncryptionRequest::Encrypted { key } => request
            .root_volume_encryption_enabled(true)
            .user_volume_encryption_enabled(true)
            .set_volume_encryption_key(key.as_ref().map(|k| k.as_str().to_owned())),
        VolumeEncryptionRequest::Unencrypted => request,
    }
}

/// The outcome of one item of CreateWorkspaces.
#[derive(Debug, Clone)]
pub enum Created {
    Pending(Box<ListedDesktop>),
    Failed { code: String, message: String },
}

/// The properties ModifyWorkspaceProperties may change (each optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyChanges {
    pub compute_type: Option<String>,
    pub root_volume_gib: Option<i32>,
    pub user_volume_gib: Option<i32>,
    pub running_mode: Option<RunningMode>,
}

service_status!(
    /// Whether a user is connected to a desktop.
    ConnectionState {
        Connected = "CONNECTED",
        Disconnected = "DISCONNECTED",
        Unknown = "UNKNOWN",
    }
);

/// DescribeWorkspacesConnectionStatus of one desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionStatus {
    pub workspace_id: WorkspaceId,
    pub state: Option<ConnectionState>,
    pub checked_at: Option<Timestamp>,
    pub last_user_connection_at: Option<Timestamp>,
}

/// DescribeWorkspaceSnapshots of one desktop: when each snapshot was taken (`None` where
/// the service gives no time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshots {
    pub rebuild: Vec<Option<Timestamp>>,
    pub restore: Vec<Option<Timestamp>>,
}

impl WorkspacesGateway<'_> {
    /// DescribeWorkspaces for `ids`, 25 per call.
    pub async fn describe(&self, ids: &[WorkspaceId]) -> Result<Described, AwsError> {
        let mut out = Described::default();
        for chunk in ids.chunks(BATCH) {
            let mut seen = std::collections::HashSet::new();
            let mut token = None;
            loop {
                let resp = self
                    .client
                    .describe_workspaces()
                    .set_workspace_ids(Some(chunk.iter().map(|i| i.to_string()).collect()))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(call_failed("DescribeWorkspaces"))?;
                for w in resp.workspaces() {
                    if let Some(id) = w.workspace_id() {
                        seen.insert(id.to_owned());
                    }
                    match observe(w) {
                        Ok(o) => out.found.push(o),
                        Err(bad) => out.unreadable.push(bad),
                    }
                }
                token = resp.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            out.absent.extend(
                chunk
                    .iter()
                    .filter(|id| !seen.contains(id.as_str()))
                    .cloned(),
            );
        }
        Ok(out)
    }

    /// Every desktop in `directory` (DescribeWorkspaces by directory).
    pub async fn desktops_in_directory(
        &self,
        directory: &DirectoryId,
    ) -> Result<Vec<ListedDesktop>, AwsError> {
        self.listed(Some(directory)).await
    }

    /// Every desktop of the account in the Region (DescribeWorkspaces without a filter).
    pub async fn all_desktops(&self) -> Result<Vec<ListedDesktop>, AwsError> {
        self.listed(None).await
    }

    /// DescribeWorkspaces, in `directory` or in the whole Region, every page.
    async fn listed(
        &self,
        directory: Option<&DirectoryId>,
    ) -> Result<Vec<ListedDesktop>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_workspaces()
                .set_directory_id(directory.map(|d| d.as_str().to_owned()))
                .set_next_token(token)
                .send()
                .await
                .map_err(call_failed("DescribeWorkspaces"))?;
            out.extend(page.workspaces().iter().map(ListedDesktop::of));
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// CreateWorkspaces (one call). One outcome per desktop asked for, in order.
    pub async fn create_workspaces(
        &self,
        spec: CreateWorkspacesSpec<'_>,
    ) -> Result<Vec<Created>, AwsError> {
        const OP: &str = "CreateWorkspaces";
        let mut requests = Vec::with_capacity(spec.desktops.len());
        for item in spec.desktops {
            let request = ws::WorkspaceRequest::builder()
                .directory_id(spec.directory.as_str())
                .bundle_id(spec.bundle.as_str())
                .user_name(&item.user_name)
                .set_workspace_name(item.workspace_name.clone())
                .workspace_properties(
                    ws::WorkspaceProperties::builder()
                        .running_mode(ws::RunningMode::Manual)
                        .build(),
                )
                .tags(super::tags::partner_tag(spec.tag, OP)?);
            requests.push(
                encrypted(request, &spec.encryption)
                    .build()
                    .map_err(|e| unbuildable(OP, e))?,
            );
        }
        let out = self
            .client
            .create_workspaces()
            .set_workspaces(Some(requests))
            .send()
            .await
            .map_err(call_failed(OP))?;
        // Match results to items by user name and workspace name: neither list promises order.
        let mut results = Vec::with_capacity(spec.desktops.len());
        for item in spec.desktops {
            let same = |user: Option<&str>, name: Option<&str>| {
                user == Some(item.user_name.as_str())
                    && (item.workspace_name.is_none() || name == item.workspace_name.as_deref())
            };
            let pending = out
                .pending_requests()
                .iter()
                .find(|w| same(w.user_name(), w.workspace_name()));
            let failed = out.failed_requests().iter().find(|f| {
                f.workspace_request()
                    .is_some_and(|r| same(Some(r.user_name()), r.workspace_name()))
            });
            results.push(match (pending, failed) {
                (Some(w), _) => Created::Pending(Box::new(ListedDesktop::of(w))),
                (None, Some(f)) => Created::Failed {
                    code: f.error_code().unwrap_or("Unknown").to_owned(),
                    message: f.error_message().unwrap_or_default().to_owned(),
                },
                (None, None) => Created::Failed {
                    code: "NotReported".into(),
                    message: "the service reported neither a pending nor a failed request".into(),
                },
            });
        }
        Ok(results)
    }

    /// RebuildWorkspaces for exactly one desktop (the service takes one per call).
    pub async fn rebuild(&self, id: &WorkspaceId) -> Result<ItemOutcome, AwsError> {
        const OP: &str = "RebuildWorkspaces";
        let req = ws::RebuildRequest::builder()
            .workspace_id(id.as_str())
            .build()
            .map_err(|e| unbuildable(OP, e))?;
        let resp = self
            .client
            .rebuild_workspaces()
            .rebuild_workspace_requests(req)
            .send()
            .await
            .map_err(call_failed(OP))?;
        Ok(
            batch_outcomes(std::slice::from_ref(id), resp.failed_requests())
                .into_iter()
                .next()
                .map_or(ItemOutcome::Accepted, |(_, o)| o),
        )
    }

    /// RestoreWorkspace (a single desktop; failures are errors, not FailedRequests).
    pub async fn restore(&self, id: &WorkspaceId) -> Result<(), AwsError> {
        self.client
            .restore_workspace()
            .workspace_id(id.as_str())
            .send()
            .await
            .map_err(call_failed("RestoreWorkspace"))?;
        Ok(())
    }

    /// MigrateWorkspace to `bundle`; the new desktop's id.
    pub async fn migrate(
        &self,
        id: &WorkspaceId,
        bundle: &BundleId,
    ) -> Result<WorkspaceId, AwsError> {
        const OP: &str = "MigrateWorkspace";
        let resp = self
            .client
            .migrate_workspace()
            .source_workspace_id(id.as_str())
            .bundle_id(bundle.as_str())
            .send()
            .await
            .map_err(call_failed(OP))?;
        WorkspaceId::parse(resp.target_workspace_id().unwrap_or_default())
            .map_err(|e| odd_answer(OP, e))
    }

    pub async fn modify_properties(
        &self,
        id: &WorkspaceId,
        changes: &PropertyChanges,
    ) -> Result<(), AwsError> {
        let mut p = ws::WorkspaceProperties::builder()
            .set_root_volume_size_gib(changes.root_volume_gib)
            .set_user_volume_size_gib(changes.user_volume_gib)
            .set_compute_type_name(changes.compute_type.as_deref().map(ws::Compute::from));
        if let Some(mode) = changes.running_mode {
            p = p.running_mode(match mode {
                RunningMode::Manual => ws::RunningMode::Manual,
                RunningMode::AlwaysOn => ws::RunningMode::AlwaysOn,
                RunningMode::AutoStop => ws::RunningMode::AutoStop,
            });
        }
        self.client
            .modify_workspace_properties()
            .workspace_id(id.as_str())
            .workspace_properties(p.build())
            .send()
            .await
            .map_err(call_failed("ModifyWorkspaceProperties"))?;
        Ok(())
    }

    /// ModifyWorkspaceState to AVAILABLE or ADMIN_MAINTENANCE.
    pub async fn modify_state(&self, id: &WorkspaceId, to: TargetState) -> Result<(), AwsError> {
        let target = match to {
            TargetState::AdminMaintenance => ws::TargetWorkspaceState::AdminMaintenance,
            TargetState::Available => ws::TargetWorkspaceState::Available,
        };
        self.client
            .modify_workspace_state()
            .workspace_id(id.as_str())
            .workspace_state(target)
            .send()
            .await
            .map_err(call_failed("ModifyWorkspaceState"))?;
        Ok(())
    }

    /// TerminateWorkspaces, 25 per call; one outcome per id, in order. Permanent.
    pub async fn terminate(
        &self,
        ids: &[WorkspaceId],
    ) -> Result<Vec<(WorkspaceId, ItemOutcome)>, AwsError> {
        const OP: &str = "TerminateWorkspaces";
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let mut reqs = Vec::with_capacity(chunk.len());
            for id in chunk {
                reqs.push(
                    ws::TerminateRequest::builder()
                        .workspace_id(id.as_str())
                        .build()
                        .map_err(|e| unbuildable(OP, e))?,
                );
            }
            let resp = self
                .client
                .terminate_workspaces()
                .set_terminate_workspace_requests(Some(reqs))
                .send()
                .await
                .map_err(call_failed(OP))?;
            out.extend(batch_outcomes(chunk, resp.failed_requests()));
        }
        Ok(out)
    }

    /// DescribeWorkspacesConnectionStatus for `ids`, 25 per call.
    pub async fn connection_status(
        &self,
        ids: &[WorkspaceId],
    ) -> Result<Vec<ConnectionStatus>, AwsError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(BATCH) {
            let mut token = None;
            loop {
                let resp = self
                    .client
                    .describe_workspaces_connection_status()
                    .set_workspace_ids(Some(chunk.iter().map(|i| i.to_string()).collect()))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(call_failed("DescribeWorkspacesConnectionStatus"))?;
                out.extend(resp.workspaces_connection_status().iter().filter_map(|s| {
                    Some(ConnectionStatus {
                        workspace_id: WorkspaceId::parse(s.workspace_id()?).ok()?,
                        state: s
                            .connection_state()
                            .map(|c| ConnectionState::from_wire(c.as_str())),
                        checked_at: time(s.connection_state_check_timestamp()),
                        last_user_connection_at: time(s.last_known_user_connection_timestamp()),
                    })
                }));
                token = resp.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// DescribeWorkspaceSnapshots of one desktop: its rebuild and restore snapshots.
    pub async fn snapshots(&self, id: &WorkspaceId) -> Result<Snapshots, AwsError> {
        let resp = self
            .client
            .describe_workspace_snapshots()
            .workspace_id(id.as_str())
            .send()
            .await
            .map_err(call_failed("DescribeWorkspaceSnapshots"))?;
        let times = |s: &[ws::Snapshot]| s.iter().map(|s| time(s.snapshot_time())).collect();
        Ok(Snapshots {
            rebuild: times(resp.rebuild_snapshots()),
            restore: times(resp.restore_snapshots()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_workspaces::types::WorkspaceProperties;

    #[test]
    fn observing_reads_states_and_refuses_unknown_ones() {
        let w = ws::Workspace::builder()
            .workspace_id("ws-00000001")
            .state("ADMIN_MAINTENANCE".into())
            .directory_id("d-1234567890")
            .workspace_properties(
                WorkspaceProperties::builder()
                    .running_mode("MANUAL".into())
                    .build(),
            )
            .build();
        let o = observe(&w).unwrap();
        assert_eq!(o.state, WorkspaceState::AdminMaintenance);
        assert_eq!(o.running_mode, Some(RunningMode::Manual));
        let odd = ws::Workspace::builder()
            .workspace_id("ws-00000002")
            .state("HIBERNATING".into())
            .workspace_name("lab-2")
            .build();
        let bad = observe(&odd).unwrap_err();
        assert_eq!(bad.workspace_id, "ws-00000002");
        assert!(bad.reason.contains("HIBERNATING"));
        let listed = ListedDesktop::of(&odd);
        assert_eq!(listed.workspace_id(), "ws-00000002");
        assert_eq!(listed.workspace_name(), Some("lab-2"));
        assert!(listed.reading().is_err());
    }
}
