//! Golden image workflow: the `GoldenImageStateMachine`'s tasks
//! (`statemachines/golden_image.asl.yaml`).
//!
//! CreateWorkspaceImage from a reference desktop → poll until AVAILABLE → UpdateWorkspaceBundle
//! (or a new bundle) → an optional rollout in waves: each wave rebuilds (same bundle) or
//! migrates (new bundle) at most `waveSize` of the tenant's desktops on the bundle, skipping
//! those with a live session until they are free, and the execution halts with
//! `Steward.RolloutHalted` once more than `failureThreshold` desktops failed.
//!
//! The rollout's progress (`done`, `failed`) travels in the execution's state; each wave
//! re-reads the registry and the desktops' sessions.
//!
//! The image is made in the tenant's home Region (its first). With `copyToOtherRegions`,
//! the bundle step first copies the AVAILABLE image to each of the tenant's other Regions
//! ([`copy`]); the bundle update and the rollout stay in the home Region (each Region has
//! its own bundles: a partner updates those with the copies, once AVAILABLE).

mod copy;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use steward_shared::Error;
use steward_shared::aws::TenantClients;
use steward_shared::error::names;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::{
    BundleSpec, CreateImageSpec, ImageState, WorkspacesGateway,
};
use steward_shared::ids::{BundleId, ImageId, TenantId, WorkspaceId};
use steward_shared::lifecycle::{DesktopOp, check_state};
use steward_shared::model::{
    Actor, AuditOutcome, StewardAction, StewardCall, Tenant, TenantStatus, Timestamp,
    WorkspaceRecord, WorkspaceState,
};
use steward_shared::power::has_live_session;
use steward_shared::store::{PageRequest, TenantStore, WorkspaceStore, collect_all};

use crate::deps::Deps;
use crate::input::parse_input;
use crate::record::{Action, ActionName, failed, record_all};

pub const IMAGE_READY: &str = "Golden Image Ready";
pub const ROLLOUT_PROGRESS: &str = "Golden Image Rollout Wave";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewBundle {
    pub name: String,
    #[serde(default = "standard")]
    pub compute_type: String,
    #[serde(default = "root_gib")]
    pub root_volume_size_gib: u32,
    #[serde(default = "user_gib")]
    pub user_volume_size_gib: u32,
}

fn standard() -> String {
    "STANDARD".into()
}
fn root_gib() -> u32 {
    80
}
fn user_gib() -> u32 {
    50
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RolloutAction {
    None,
    Rebuild,
    Migrate,
}

impl RolloutAction {
    /// The word the audit trail uses, as the input spells it.
    fn verb(self) -> &'static str {
        match self {
            RolloutAction::None => "none",
            RolloutAction::Rebuild => "rebuild",
            RolloutAction::Migrate => "migrate",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoldenInput {
    pub tenant_id: TenantId,
    /// The reference desktop (registered, AVAILABLE).
    pub workspace_id: WorkspaceId,
    pub image_name: String,
    pub image_description: String,
    /// The bundle whose desktops are rolled out; updated to the image unless `newBundle`.
    pub bundle_id: BundleId,
    #[serde(default)]
    pub new_bundle: Option<NewBundle>,
    #[serde(default = "no_rollout")]
    pub rollout: RolloutAction,
    /// Desktops per wave (1–25, default 5).
    #[serde(default)]
    pub wave_size: Option<usize>,
    /// Failed desktops tolerated before the rollout halts (default 0).
    #[serde(default)]
    pub failure_threshold: Option<usize>,
    /// Copy the image to each of the tenant's other Regions once it is AVAILABLE
    /// (CopyWorkspaceImage; default false).
    #[serde(default)]
    pub copy_to_other_regions: bool,
}

fn no_rollout() -> RolloutAction {
    RolloutAction::None
}

async fn tenant(deps: &Deps, id: &TenantId) -> Result<Tenant, Error> {
    let t = deps.store.get_tenant(id).await?.ok_or_else(|| {
        Error::refused(names::NOT_FOUND, format!("tenant {id} is not registered"))
    })?;
    if t.status != TenantStatus::Active {
        return Err(Error::refused(
            names::TENANT_STATE,
            format!("tenant {id} is not ACTIVE"),
        ));
    }
    Ok(t)
}

async fn owned(c: &TenantClients, t: &Tenant, id: &str) -> Result<(), Error> {
    if WorkspacesGateway::new(c.workspaces())
        .carries_partner_tag(id, &t.partner_tag)
        .await?
    {
        Ok(())
    } else {
        Err(Error::refused(
            names::NOT_OWNED,
            format!("{id} does not carry the partner tag"),
        ))
    }
}

/// One step of the workflow as its audit record and outbound event tell it.
struct Step<'a> {
    workspace: Option<&'a WorkspaceId>,
    /// The audit record's action: `golden_create_image`, `golden_update_bundle`,
    /// `golden_rollout`.
    action: ActionName,
    reason: String,
    outcome: AuditOutcome,
    detail_type: &'a str,
}

/// The step's audit record and outbound event, by the `golden-image` operator.
async fn audit(deps: &Deps, t: &Tenant, step: Step<'_>) -> Result<(), Error> {
    let a = Action {
        tenant: &t.tenant_id,
        workspace: step.workspace,
        actor: Actor::Operator {
            name: "golden-image".into(),
        },
        action: step.action,
        reason: step.reason,
        outcome: step.outcome,
        detail_type: step.detail_type,
        at: deps.now(),
        details: None,
    };
    record_all(deps, std::slice::from_ref(&a)).await?;
    Ok(())
}

/// `lifecycle.golden_create_image`: the image from the reference desktop (once: an image of
/// that name carrying the partner tag is reused).
pub async fn create_image(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: GoldenInput = parse_input(event)?;
    steward_shared::validate::image_or_bundle_name("imageName", &input.image_name)?;
    steward_shared::validate::description("imageDescription", &input.image_description, 256)?;
    if input.rollout == RolloutAction::Migrate && input.new_bundle.is_none() {
        return Err(Error::refused(
            names::VALIDATION,
            "invalid input at `rollout`: migrate needs newBundle (a bundle to migrate to)",
        ));
    }
    let t = tenant(deps, &input.tenant_id).await?;
    let c = super::home_clients(deps, &t).await?;
    owned(&c, &t, input.bundle_id.as_str()).await?;
    let gateway = WorkspacesGateway::new(c.workspaces());
    for i in gateway.images().await? {
        if i.name.as_deref() == Some(input.image_name.as_str()) {
            owned(&c, &t, i.image_id.as_str()).await?;
            return Ok(json!({"imageId": i.image_id}));
        }
    }
    let rec = deps
        .store
        .get_workspace(&t.tenant_id, &input.workspace_id)
        .await?
        .ok_or_else(|| {
            Error::refused(
                names::NOT_OWNED,
                format!("{} is not in Steward's registry", input.workspace_id),
            )
        })?;
    let described = gateway
        .describe(std::slice::from_ref(&rec.workspace_id))
        .await?;
    let state = described
        .found
        .first()
        .map_or(WorkspaceState::Terminated, |o| o.state);
    check_state(DesktopOp::CreateImage, &rec.workspace_id, state, 0)
        .map_err(|r| Error::refused(names::INVALID_STATE, r.to_string()))?;
    let id = gateway
        .create_image(CreateImageSpec {
            workspace: &rec.workspace_id,
            name: &input.image_name,
            description: &input.image_description,
            tag: &t.partner_tag,
        })
        .await?;
    let step = Step {
        workspace: Some(&rec.workspace_id),
        action: ActionName::GoldenCreateImage,
        reason: format!(
            "image {id} ({}) from the reference desktop",
            input.image_name
        ),
        outcome: AuditOutcome::Succeeded,
        detail_type: IMAGE_READY,
    };
    audit(deps, &t, step).await?;
    Ok(json!({"imageId": id}))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WithImage {
    request: GoldenInput,
    image: ImageRef,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageRef {
    image_id: ImageId,
}

/// `lifecycle.golden_image_status`: the image's state (`AVAILABLE`, `PENDING`, `ERROR`).
pub async fn image_status(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: WithImage = parse_input(event)?;
    let t = tenant(deps, &input.request.tenant_id).await?;
    let c = super::home_clients(deps, &t).await?;
    // An image the service no longer returns (or gives no state) has failed.
    let state = WorkspacesGateway::new(c.workspaces())
        .image(&input.image.image_id)
        .await?
        .and_then(|i| i.state)
        .unwrap_or(ImageState::Error);
    Ok(json!({"state": state}))
}

/// `lifecycle.golden_update_bundle`: the image copied to the tenant's other Regions when
/// the input asks (`copies`), then the bundle now on the image (updated, or created).
pub async fn update_bundle(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: WithImage = parse_input(event)?;
    let r = &input.request;
    let t = tenant(deps, &r.tenant_id).await?;
    let c = super::home_clients(deps, &t).await?;
    let image = &input.image.image_id;
    let copies = match (r.copy_to_other_regions, t.regions.first()) {
        (true, Some(home)) => copy::to_other_regions(deps, &t, r, image, home).await?,
        _ => Vec::new(),
    };
    let gateway = WorkspacesGateway::new(c.workspaces());
    let target = match &r.new_bundle {
        None => {
            gateway.update_bundle(&r.bundle_id, image).await?;
            r.bundle_id.clone()
        }
        Some(nb) => match gateway.bundle_named(&nb.name).await? {
            Some(existing) => existing.bundle_id,
            None => {
                gateway
                    .create_bundle(BundleSpec {
                        name: &nb.name,
                        description: &format!("golden image {}", r.image_name),
                        image_id: image,
                        compute_type: &nb.compute_type,
                        root_gib: nb.root_volume_size_gib,
                        user_gib: nb.user_volume_size_gib,
                        tag: &t.partner_tag,
                    })
                    .await?
            }
        },
    };
    let step = Step {
        workspace: None,
        action: ActionName::GoldenUpdateBundle,
        reason: format!("bundle {target} on image {image}"),
        outcome: AuditOutcome::Succeeded,
        detail_type: IMAGE_READY,
    };
    audit(deps, &t, step).await?;
    Ok(json!({"bundleId": target, "copies": copies}))
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    #[serde(default)]
    pub done: Vec<String>,
    #[serde(default)]
    pub failed: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WaveInput {
    request: GoldenInput,
    bundle: BundleRef,
    #[serde(default)]
    rollout: Option<Progress>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BundleRef {
    bundle_id: BundleId,
}

/// `lifecycle.golden_rollout_wave`: one wave. Answers the progress so far and `pending`
/// (desktops still to do, busy ones included); fails with `Steward.RolloutHalted` past the
/// failure threshold.
pub async fn rollout_wave(event: Value, deps: &Deps) -> Result<Value, Error> {
    let input: WaveInput = parse_input(event)?;
    let r = &input.request;
    let mut progress = input.rollout.unwrap_or_default();
    let t = tenant(deps, &r.tenant_id).await?;
    let threshold = r.failure_threshold.unwrap_or(0);
    let wave = r.wave_size.unwrap_or(5).clamp(1, 25);
    let now = deps.now();
    let (busy, free) = candidates(deps, &t, r, &progress, now).await?;
    let c = super::home_clients(deps, &t).await?;
    let rollout = Rollout {
        deps,
        tenant: &t,
        gateway: WorkspacesGateway::new(c.workspaces()),
        action: r.rollout,
        bundle: &input.bundle.bundle_id,
        now,
    };
    let mut this_wave = Vec::new();
    for w in free.iter().take(wave) {
        let Some(outcome) = rollout.call(w).await else {
            break;
        };
        rollout.settle(w, outcome, &mut progress).await?;
        this_wave.push(w.workspace_id.to_string());
    }
    if progress.failed.len() > threshold {
        return Err(Error::refused(
            names::ROLLOUT_HALTED,
            format!(
                "{} desktop(s) failed, more than the threshold {threshold}: {:?}",
                progress.failed.len(),
                progress.failed
            ),
        ));
    }
    let pending = busy.len() + free.len().saturating_sub(this_wave.len());
    let busy_ids: Vec<String> = busy.iter().map(|w| w.workspace_id.to_string()).collect();
    Ok(json!({
        "done": progress.done,
        "failed": progress.failed,
        "wave": this_wave,
        "busy": busy_ids,
        "pending": if r.rollout == RolloutAction::None { 0 } else { pending },
    }))
}

/// The desktops on the bundle still to roll out (neither done nor failed; the reference
/// desktop only when it migrates), split into those with a live session and the free ones.
async fn candidates(
    deps: &Deps,
    t: &Tenant,
    r: &GoldenInput,
    progress: &Progress,
    now: Timestamp,
) -> Result<(Vec<WorkspaceRecord>, Vec<WorkspaceRecord>), Error> {
    let tid = t.tenant_id.clone();
    let candidates: Vec<_> = collect_all(|p: PageRequest| deps.store.list_workspaces(&tid, p))
        .await?
        .into_iter()
        .filter(|w| w.bundle_id.as_ref() == Some(&r.bundle_id))
        .filter(|w| w.workspace_id != r.workspace_id || r.rollout == RolloutAction::Migrate)
        .filter(|w| {
            let id = w.workspace_id.to_string();
            !progress.done.contains(&id) && !progress.failed.contains(&id)
        })
        .collect();
    Ok(candidates
        .into_iter()
        .partition(|w| has_live_session(w, &t.policy, now)))
}

/// One wave's desktops being rolled out.
struct Rollout<'a> {
    deps: &'a Deps,
    tenant: &'a Tenant,
    gateway: WorkspacesGateway<'a>,
    action: RolloutAction,
    /// The bundle a migration moves to.
    bundle: &'a BundleId,
    now: Timestamp,
}

impl Rollout<'_> {
    /// Rebuilds or migrates the desktop; `None` when the rollout does neither.
    async fn call(&self, w: &WorkspaceRecord) -> Option<ItemOutcome> {
        let outcome = match self.action {
            RolloutAction::None => return None,
            RolloutAction::Rebuild => self.gateway.rebuild(&w.workspace_id).await,
            RolloutAction::Migrate => self
                .gateway
                .migrate(&w.workspace_id, self.bundle)
                .await
                .map(|_| ItemOutcome::Accepted),
        };
        Some(outcome.unwrap_or_else(|e| ItemOutcome::Failed {
            code: e.kind.name().to_owned(),
            message: e.to_string(),
        }))
    }

    /// The registry follows an accepted call (the call pending, so the sweeps attribute
    /// what follows to the rollout, not to drift), the progress counts the desktop, and
    /// one audit record and event tell it.
    async fn settle(
        &self,
        w: &WorkspaceRecord,
        outcome: ItemOutcome,
        progress: &mut Progress,
    ) -> Result<(), Error> {
        let id = w.workspace_id.to_string();
        match &outcome {
            ItemOutcome::Accepted => {
                let mut rec = w.clone();
                let (state, action) = if self.action == RolloutAction::Rebuild {
                    (WorkspaceState::Rebuilding, StewardAction::Rebuild)
                } else {
                    (WorkspaceState::Terminating, StewardAction::MigrateSource)
                };
                rec.state = state;
                rec.state_observed_at = self.now;
                rec.last_call = Some(StewardCall::new(action, self.now, None));
                if let Err(e) = self.deps.store.update_workspace(&rec).await {
                    tracing::warn!(workspace = %id, error = %e, "registry not updated");
                }
                progress.done.push(id);
            }
            ItemOutcome::Failed { code, .. } => {
                tracing::warn!(workspace = %id, %code, "rollout failed for a desktop");
                progress.failed.push(id);
            }
        }
        let outcome = match outcome {
            ItemOutcome::Accepted => AuditOutcome::Succeeded,
            ItemOutcome::Failed { code, message } => failed(&code, message),
        };
        let step = Step {
            workspace: Some(&w.workspace_id),
            action: ActionName::GoldenRollout,
            reason: format!("{} to the golden image", self.action.verb()),
            outcome,
            detail_type: ROLLOUT_PROGRESS,
        };
        audit(self.deps, self.tenant, step).await
    }
}
