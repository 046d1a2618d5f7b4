//! The tenant's maintenance opt-out, applied to its directories.
//!
//! Onboarding sets `EnableMaintenanceMode = !maintenance_opt_out` on the directory it
//! registers (step 9). When a `Tenant Policy Updated` event changes the opt-out, [`apply`]
//! brings every partner-tagged directory of every tenant Region to the new value:
//! DescribeWorkspaceDirectories (all pages), DescribeTags on each directory (the listing does
//! not return tags; Steward tags the directories it registers), then
//! ModifyWorkspaceCreationProperties with only `EnableMaintenanceMode` on those that differ.
//!
//! Each directory's outcome is one action (audit record + `Tenant Maintenance Mode Applied`
//! event, action `maintenance_mode`): set, already set, or refused. A directory's failure
//! does not stop the others; a Region that cannot be listed is one failed action; no
//! directory at all is one action saying so, so the partner knows nothing was applied.

use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::aws::{AwsError, TenantAccess};
use steward_shared::error::names;
use steward_shared::gateway::workspaces::{Directory, DirectoryState, WorkspacesGateway};
use steward_shared::ids::RegionName;
use steward_shared::model::{Actor, AuditOutcome, Tenant, Timestamp};
use steward_shared::onboarding::CreationProperties;

use crate::deps::Deps;
use crate::record::{Action, ActionName, PowerAction, failed, outbound_types as ot, record_all};

/// The action name of the audit records and events, as they carry it.
pub const ACTION: &str = ActionName::MaintenanceMode.as_str();

/// How many directories of one Region are examined. The listing follows its tokens up to
/// this; a Region with more (far above the service's default quota) gets a failed action
/// saying the rest were not examined.
pub const MAX_DIRECTORIES: usize = 1000;

/// One outcome, before it is recorded.
struct Outcome {
    reason: String,
    outcome: AuditOutcome,
    details: Value,
}

fn aws_failed(e: &AwsError) -> AuditOutcome {
    failed(e.kind.name(), e.to_string())
}

/// Applies `EnableMaintenanceMode = !opt_out` to the tenant's partner-tagged directories in
/// each of its Regions and records one action per directory (or per Region that could not be
/// listed, or one saying none was found). Errors only when the actions cannot be recorded;
/// every failure to apply is an action.
pub async fn apply(
    deps: &Deps,
    tenant: &Tenant,
    opt_out: bool,
    actor: &Actor,
    now: Timestamp,
) -> Result<Vec<PowerAction>, Error> {
    let want = !opt_out;
    let mut outcomes = Vec::new();
    let mut found = 0usize;
    let mut listed: Vec<&RegionName> = Vec::new();
    for region in &tenant.regions {
        let clients = deps
            .clients
            .for_tenant(TenantAccess::new(tenant, region))
            .await;
        let gateway = WorkspacesGateway::new(clients.workspaces());
        let (directories, more) = match gateway.directories_up_to(MAX_DIRECTORIES).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(tenant = %tenant.tenant_id, %region, error = %e, "could not list directories to apply the maintenance opt-out");
                outcomes.push(Outcome {
                    reason: format!(
                        "EnableMaintenanceMode {want} not applied in {region}: the directories could not be listed ({})",
                        e.code.as_deref().unwrap_or(e.kind.name())
                    ),
                    outcome: aws_failed(&e),
                    details: details(None, region, want, false),
                });
                continue;
            }
        };
        listed.push(region);
        for d in directories.iter().filter(|d| live(d)) {
            match gateway
                .carries_partner_tag(d.directory_id.as_str(), &tenant.partner_tag)
                .await
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    // Whose it is cannot be told: reported rather than skipped silently.
                    found += 1;
                    outcomes.push(Outcome {
                        reason: format!(
                            "directory {} ({region}): EnableMaintenanceMode {want} not applied: its tags could not be read ({})",
                            d.directory_id,
                            e.code.as_deref().unwrap_or(e.kind.name())
                        ),
                        outcome: aws_failed(&e),
                        details: details(Some(d.directory_id.as_str()), region, want, false),
                    });
                    continue;
                }
            }
            found += 1;
            outcomes.push(directory(&gateway, region, d, want).await);
        }
        if more {
            outcomes.push(Outcome {
                reason: format!(
                    "more than {MAX_DIRECTORIES} directories are registered in {region}: those beyond were not examined"
                ),
                outcome: failed(
                    names::LIMIT_EXCEEDED,
                    format!("more than {MAX_DIRECTORIES} directories"),
                ),
                details: details(None, region, want, false),
            });
        }
    }
    if found == 0 && !listed.is_empty() {
        let regions: Vec<String> = listed.iter().map(ToString::to_string).collect();
        outcomes.push(Outcome {
            reason: format!(
                "no partner-tagged WorkSpaces directory is registered in {}: EnableMaintenanceMode {want} applied nowhere",
                regions.join(", ")
            ),
            outcome: AuditOutcome::Succeeded,
            // `region` as in the other actions when one Region was searched; all of them in
            // `regions`.
            details: json!({
                "directoryId": null,
                "region": (regions.len() == 1).then(|| regions[0].clone()),
                "regions": regions,
                "enableMaintenanceMode": want,
                "modified": false,
            }),
        });
    }
    let actions: Vec<Action<'_>> = outcomes
        .into_iter()
        .map(|o| Action {
            tenant: &tenant.tenant_id,
            workspace: None,
            actor: actor.clone(),
            action: ActionName::MaintenanceMode,
            reason: o.reason,
            outcome: o.outcome,
            detail_type: ot::TENANT_MAINTENANCE_MODE_APPLIED,
            at: now,
            details: Some(o.details),
        })
        .collect();
    record_all(deps, &actions).await?;
    Ok(actions.iter().map(Action::report).collect())
}

/// A directory that is not on its way out (a deregistering one keeps nothing).
fn live(d: &Directory) -> bool {
    !matches!(
        d.state,
        Some(DirectoryState::Deregistering | DirectoryState::Deregistered)
    )
}

fn details(directory: Option<&str>, region: &RegionName, want: bool, modified: bool) -> Value {
    json!({
        "directoryId": directory,
        "region": region,
        "enableMaintenanceMode": want,
        "modified": modified,
    })
}

/// Brings one directory to `want`, changing that property only (as onboarding's step 9).
async fn directory(
    gateway: &WorkspacesGateway<'_>,
    region: &RegionName,
    d: &Directory,
    want: bool,
) -> Outcome {
    let id = &d.directory_id;
    let target = CreationProperties {
        enable_maintenance_mode: Some(want),
        ..CreationProperties::default()
    };
    let change = target.missing_from(&d.creation);
    if change.is_empty() {
        return Outcome {
            reason: format!("directory {id} ({region}): EnableMaintenanceMode already {want}"),
            outcome: AuditOutcome::Succeeded,
            details: details(Some(id.as_str()), region, want, false),
        };
    }
    match gateway.modify_creation_properties(id, &change).await {
        Ok(()) => Outcome {
            reason: format!("directory {id} ({region}): EnableMaintenanceMode set to {want}"),
            outcome: AuditOutcome::Succeeded,
            details: details(Some(id.as_str()), region, want, true),
        },
        Err(e) => Outcome {
            reason: format!(
                "directory {id} ({region}): ModifyWorkspaceCreationProperties refused EnableMaintenanceMode {want} ({})",
                e.code.as_deref().unwrap_or(e.kind.name())
            ),
            outcome: aws_failed(&e),
            details: details(Some(id.as_str()), region, want, false),
        },
    }
}
