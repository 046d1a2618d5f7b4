//! Step 11, desktops: create the desktops the request asks for, register them in the
//! table, and follow them until every one is AVAILABLE.

use std::collections::BTreeMap;

use serde_json::Value;
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::gateway::workspaces::{
    CreateWorkspacesSpec, Created, ListedDesktop, NewWorkspace, Observed,
};
use steward_shared::ids::{BundleId, DirectoryId, WorkspaceId};
use steward_shared::model::{
    FirstSeen, OnboardingStep as S, RunningMode, StepStatus, Timestamp, WorkspaceRecord,
    WorkspaceState,
};
use steward_shared::reconcile::{Observation, reconcile};
use steward_shared::store::{StoreError, WorkspaceStore};

use super::Ctx;
use super::directory::selected_directory;
use crate::deps::Deps;
use crate::onboarding::request::{Desired, DesktopsStatus, UNDEFINED_USER, WorkspacesResult};
use crate::record::ActionName;

/// Creates the desktops that do not exist yet (MANUAL, tagged, 25 per call), registers every
/// one of them in the table, then (with `poll`) follows them to AVAILABLE. Returns a
/// [`WorkspacesResult`] whose `status` is `AVAILABLE` once all are.
pub async fn create_workspaces(event: Value, deps: &Deps) -> Result<Value, Error> {
    let ctx = Ctx::load(event, deps).await?;
    if !ctx.input.poll {
        ctx.start(S::CreateWorkspaces).await?;
    }
    ctx.run(S::CreateWorkspaces, create_or_follow(&ctx)).await
}

async fn create_or_follow(ctx: &Ctx<'_>) -> Result<Value, Error> {
    let dir = selected_directory(ctx)?;
    let bundle = ctx
        .input
        .results
        .create_bundle
        .as_ref()
        .map(|b| b.bundle_id.clone())
        .ok_or_else(|| Error::refused(names::INVALID_STATE, "no bundle to deploy"))?;
    if ctx.input.poll {
        return poll_workspaces(ctx).await;
    }
    let desired = ctx.input.request.workspaces.desired(&ctx.tenant.tenant_id);
    let existing = ctx.ws().desktops_in_directory(&dir).await?;
    let mut ids = Vec::new();
    let mut missing = Vec::new();
    for d in &desired {
        match existing.iter().find(|w| is_desired(w, d)) {
            Some(w) => ids.push(adopt_workspace(ctx, &dir, w).await?),
            None => missing.push(new_workspace(d)),
        }
    }
    let creation = create_missing(ctx, &dir, &bundle, &missing).await?;
    let created = creation.ids.len();
    ids.extend(creation.ids);
    if !creation.failures.is_empty() {
        return Err(Error::refused(
            names::OPERATION_FAILED,
            format!(
                "{} of {} desktops could not be created ({created} created and registered): {}",
                creation.failures.len(),
                desired.len(),
                creation.failures.join("; ")
            ),
        ));
    }
    let out = WorkspacesResult {
        status: DesktopsStatus::Pending,
        workspace_ids: ids.iter().map(|i| i.to_string()).collect(),
        created,
        states: Default::default(),
        encrypted: 0,
    };
    ctx.pending(S::CreateWorkspaces, &out).await
}

/// The desktop in the directory is the one `d` asks for (by name, or by user).
fn is_desired(w: &ListedDesktop, d: &Desired) -> bool {
    match d {
        Desired::Decoupled { workspace_name } => {
            w.workspace_name() == Some(workspace_name.as_str())
        }
        Desired::Assigned { user_name } => w.user_name() == Some(user_name.as_str()),
    }
}

/// What CreateWorkspaces is asked for a desktop that does not exist yet.
fn new_workspace(d: &Desired) -> NewWorkspace {
    match d {
        Desired::Decoupled { workspace_name } => NewWorkspace {
            user_name: UNDEFINED_USER.into(),
            workspace_name: Some(workspace_name.clone()),
        },
        Desired::Assigned { user_name } => NewWorkspace {
            user_name: user_name.clone(),
            workspace_name: None,
        },
    }
}

/// What creating the missing desktops did: the ones created (and registered), and the
/// refusals, one `label: code: message` each.
struct Creation {
    ids: Vec<WorkspaceId>,
    failures: Vec<String>,
}

/// Creates `missing` in batches; every desktop the service accepted is registered and
/// audited before a refusal of another one fails the step.
async fn create_missing(
    ctx: &Ctx<'_>,
    dir: &DirectoryId,
    bundle: &BundleId,
    missing: &[NewWorkspace],
) -> Result<Creation, Error> {
    let mut creation = Creation {
        ids: Vec::new(),
        failures: Vec::new(),
    };
    for chunk in missing.chunks(steward_shared::gateway::workspaces::BATCH) {
        let outcomes = ctx
            .ws()
            .create_workspaces(CreateWorkspacesSpec {
                directory: dir,
                bundle,
                tag: &ctx.tenant.partner_tag,
                desktops: chunk,
                encryption: ctx.tenant.encryption.request(),
            })
            .await?;
        for (item, outcome) in chunk.iter().zip(outcomes) {
            let label = item
                .workspace_name
                .clone()
                .unwrap_or_else(|| item.user_name.clone());
            match outcome {
                Created::Pending(w) => {
                    let id = register_workspace(ctx, dir, &w).await?;
                    ctx.audit(
                        ActionName::CreateWorkspaces,
                        format!("create {id} ({label}) on {bundle}"),
                    )
                    .await?;
                    creation.ids.push(id);
                }
                Created::Failed { code, message } => {
                    creation
                        .failures
                        .push(format!("{label}: {code}: {message}"));
                }
            }
        }
    }
    Ok(creation)
}

/// A desktop found in the directory under a name this execution wants: Steward's own if it
/// is in the registry or carries the partner tag; anything else is refused, never adopted.
async fn adopt_workspace(
    ctx: &Ctx<'_>,
    dir: &DirectoryId,
    w: &ListedDesktop,
) -> Result<WorkspaceId, Error> {
    let raw = w.workspace_id();
    let id = WorkspaceId::parse(raw)?;
    if ctx
        .deps
        .store
        .get_workspace(&ctx.tenant.tenant_id, &id)
        .await?
        .is_some()
    {
        return Ok(id);
    }
    if !ctx
        .ws()
        .carries_partner_tag(raw, &ctx.tenant.partner_tag)
        .await?
    {
        return Err(Error::refused(
            names::NOT_OWNED,
            format!(
                "{id} ({}) already exists in {dir} without the partner tag: Steward will not manage it",
                w.workspace_name().or(w.user_name()).unwrap_or_default()
            ),
        ));
    }
    register_workspace(ctx, dir, w).await
}

/// Puts a desktop Steward created into the registry (if it is not there yet).
async fn register_workspace(
    ctx: &Ctx<'_>,
    dir: &DirectoryId,
    w: &ListedDesktop,
) -> Result<WorkspaceId, Error> {
    let seen = w.reading().cloned().map_err(|u| {
        Error::refused(
            names::OPERATION_FAILED,
            format!(
                "the service described {} in a way Steward cannot read: {}",
                u.workspace_id, u.reason
            ),
        )
    })?;
    let mut record = WorkspaceRecord::new(FirstSeen {
        tenant_id: ctx.tenant.tenant_id.clone(),
        workspace_id: seen.workspace_id.clone(),
        region: ctx.input.request.region.clone(),
        directory_id: dir.clone(),
        running_mode: seen.running_mode.unwrap_or(RunningMode::Manual),
        state: seen.state,
        at: ctx.deps.now(),
    });
    record.bundle_id = seen.bundle_id;
    record.workspace_name = seen.workspace_name;
    record.user_name = seen.user_name.filter(|u| u != UNDEFINED_USER);
    match ctx.deps.store.create_workspace(&record).await {
        Ok(_) | Err(StoreError::AlreadyExists { .. }) => Ok(seen.workspace_id),
        Err(e) => Err(e.into()),
    }
}

/// Reads the desktops' states, brings their records in line, and says whether all are up.
async fn poll_workspaces(ctx: &Ctx<'_>) -> Result<Value, Error> {
    let previous = ctx
        .input
        .results
        .create_workspaces
        .as_ref()
        .ok_or_else(|| Error::refused(names::INVALID_STATE, "nothing was created to wait for"))?;
    let ids = previous
        .workspace_ids
        .iter()
        .map(|i| WorkspaceId::parse(i.as_str()))
        .collect::<Result<Vec<_>, _>>()?;
    let described = ctx.ws().describe(&ids).await?;
    let now = ctx.deps.now();
    let mut states = BTreeMap::<String, usize>::new();
    let mut failed = Vec::new();
    for seen in &described.found {
        *states.entry(seen.state.as_str().to_owned()).or_default() += 1;
        if matches!(
            seen.state,
            WorkspaceState::Error | WorkspaceState::Unhealthy
        ) {
            failed.push(format!("{} is {}", seen.workspace_id, seen.state.as_str()));
        }
        bring_record_in_line(ctx, seen, now).await?;
    }
    for id in &described.absent {
        failed.push(format!("{id} is gone"));
    }
    for u in &described.unreadable {
        failed.push(format!("{}: {}", u.workspace_id, u.reason));
    }
    if !failed.is_empty() {
        return Err(Error::refused(
            names::OPERATION_FAILED,
            format!("desktops failed to come up: {}", failed.join("; ")),
        ));
    }
    let all_up = !described.found.is_empty()
        && described
            .found
            .iter()
            .all(|seen| seen.state == WorkspaceState::Available);
    let out = WorkspacesResult {
        status: if all_up {
            DesktopsStatus::Available
        } else {
            DesktopsStatus::Pending
        },
        workspace_ids: previous.workspace_ids.clone(),
        created: previous.created,
        states,
        encrypted: described
            .found
            .iter()
            .filter(|seen| seen.encryption.as_ref().is_some_and(|e| e.root && e.user))
            .count(),
    };
    if all_up {
        ctx.done(S::CreateWorkspaces, StepStatus::Completed, &out)
            .await
    } else {
        ctx.pending(S::CreateWorkspaces, &out).await
    }
}

/// Reconciles a registered desktop's record with the state the service reports.
async fn bring_record_in_line(ctx: &Ctx<'_>, seen: &Observed, now: Timestamp) -> Result<(), Error> {
    let Some(record) = ctx
        .deps
        .store
        .get_workspace(&ctx.tenant.tenant_id, &seen.workspace_id)
        .await?
    else {
        return Ok(());
    };
    let r = reconcile(
        &record,
        Observation::Seen {
            state: seen.state,
            running_mode: seen.running_mode.unwrap_or(record.running_mode),
        },
        &ctx.tenant.policy,
        now,
        chrono::Duration::minutes(5),
    );
    if r.record != record {
        match ctx.deps.store.update_workspace(&r.record).await {
            // Someone else (a sweep) wrote it since: their view is as fresh.
            Ok(_) | Err(StoreError::VersionConflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
