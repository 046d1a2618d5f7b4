//! `demo --scenario lifecycle`: after onboarding, every lifecycle operation of the guide on
//! the onboarded customer: the queries, power requests, each lifecycle command as a partner
//! event, the golden image workflow (image, bundle, rollout) and offboarding. Each step adds
//! a line to the timeline; a refused step is shown with its error and the demo goes on.
//! Each line is told to the [`Narrator`] when it is added, and each step as it starts (or
//! the state machine's execution, for the golden image and offboarding).

use serde_json::{Value, json};
use steward_functions::dispatch;
use steward_shared::aws::TenantAccess;
use steward_shared::gateway::workspaces::{BundleSpec, WorkspacesGateway};
use steward_shared::ids::{BundleId, DirectoryId, ImageId, RegionName, TenantId};
use steward_shared::model::Tenant;
use steward_shared::store::{PageRequest, TenantStore, WorkspaceStore, collect_all};

use crate::narrator::{Event, Narrator};
use crate::sandbox::{Sandbox, drive};
use stepfunctions_runner::ExecutionResult;

struct Script<'a> {
    sb: &'a Sandbox,
    tenant: TenantId,
    timeline: Vec<Event>,
    n: usize,
    narrator: &'a Narrator,
}

impl Script<'_> {
    fn line(&mut self, what: String) {
        let event = Event {
            at: self.sb.control().now(),
            what,
        };
        self.narrator.line(&event);
        self.timeline.push(event);
    }

    fn doing(&self, what: String) {
        self.narrator.doing(format!("lifecycle: {what}"), None);
    }

    fn settle(&self, minutes: f64) {
        if let Err(e) = self.sb.control().advance_seconds(minutes * 60.0) {
            tracing::warn!(error = %e, "clock not moved");
        }
    }

    async fn query(&mut self, mut req: Value) -> Value {
        req["tenantId"] = json!(self.tenant);
        let name = req["query"].as_str().unwrap_or_default().to_owned();
        self.doing(format!("the {name} query"));
        match dispatch("query", req, &self.sb.deps).await {
            Ok(v) => {
                self.line(format!("query {name:<17} answered"));
                v
            }
            Err(e) => {
                self.line(format!("query {name:<17} refused: {}: {e}", e.name()));
                Value::Null
            }
        }
    }

    async fn event(&mut self, detail_type: &str, mut detail: Value, route: &str) -> Value {
        self.n += 1;
        detail["tenantId"] = json!(self.tenant);
        detail["occurredAt"] = json!(self.sb.control().now());
        let event = json!({
            "version": "0", "id": format!("demo-lifecycle-{}", self.n),
            "detail-type": detail_type, "source": "steward.partner",
            "account": "111122223333", "time": self.sb.control().now(),
            "region": "us-east-1", "resources": [], "detail": detail,
        });
        self.doing(format!("the {detail_type} event"));
        match dispatch(route, event, &self.sb.deps).await {
            Ok(v) => {
                let result = v["result"].as_str().unwrap_or_default();
                let created = v["created"]
                    .as_array()
                    .filter(|c| !c.is_empty())
                    .map(|c| format!(" created {c:?}"))
                    .unwrap_or_default();
                self.line(format!("{detail_type}: {result}{created}"));
                v
            }
            Err(e) => {
                self.line(format!("{detail_type}: refused: {}: {e}", e.name()));
                Value::Null
            }
        }
    }

    async fn command(&mut self, detail_type: &str, detail: Value) -> Value {
        self.event(detail_type, detail, "lifecycle.commands").await
    }

    async fn machine(&mut self, id: &str, name: &str, input: Value) -> Value {
        let wf = match self.sb.runner(id) {
            Ok(wf) => wf,
            Err(e) => {
                self.line(format!("{id}: not loaded: {e}"));
                return Value::Null;
            }
        };
        let exec = wf.runner.start(name, input);
        self.narrator.running(&format!("lifecycle: {id}"), &exec);
        match drive(&exec, |_| None).await {
            ExecutionResult::Succeeded { output } => {
                self.line(format!("{id} execution {name} succeeded"));
                output
            }
            other => {
                self.line(format!("{id} execution {name}: {other:?}"));
                Value::Null
            }
        }
    }
}

/// What the scenario works on: the onboarded tenant, its desktops (sorted by id; at least
/// five), a bundle and the directory they use, and its region.
struct Scene {
    t: Tenant,
    desks: Vec<String>,
    bundle: BundleId,
    directory: DirectoryId,
    region: RegionName,
}

impl Scene {
    /// The registered tenant and its desktops; `None` (with a timeline line saying why)
    /// when the scenario cannot run.
    async fn load(s: &mut Script<'_>) -> Option<Scene> {
        let sb = s.sb;
        let Ok(Some(t)) = sb.deps.store.get_tenant(&s.tenant).await else {
            s.line("lifecycle: the tenant is not registered".into());
            return None;
        };
        let tid = t.tenant_id.clone();
        let records = collect_all(|p: PageRequest| sb.deps.store.list_workspaces(&tid, p))
            .await
            .unwrap_or_default();
        let mut desks: Vec<String> = records.iter().map(|r| r.workspace_id.to_string()).collect();
        desks.sort();
        let Some(bundle) = records.iter().find_map(|r| r.bundle_id.clone()) else {
            s.line("lifecycle: no registered desktop with a bundle".into());
            return None;
        };
        let directory = records[0].directory_id.clone();
        if desks.len() < 5 {
            s.line("lifecycle: the scenario needs 5 desktops".into());
            return None;
        }
        let region = t.regions[0].clone();
        Some(Scene {
            t,
            desks,
            bundle,
            directory,
            region,
        })
    }
}

/// Runs the lifecycle scenario on the onboarded `tenant`; the timeline lines it adds (each
/// also told to `narrator` when it is added).
pub async fn run(sb: &Sandbox, tenant: &TenantId, narrator: &Narrator) -> Vec<Event> {
    let mut s = Script {
        sb,
        tenant: tenant.clone(),
        timeline: Vec::new(),
        n: 0,
        narrator,
    };
    let Some(scene) = Scene::load(&mut s).await else {
        return s.timeline;
    };
    let Scene {
        desks,
        bundle,
        directory,
        ..
    } = &scene;
    s.line(format!(
        "lifecycle scenario on {tenant}: desktops {desks:?}, bundle {bundle}, directory {directory}"
    ));
    queries(&mut s, &scene).await;
    power_requests(&mut s, &scene).await;
    desktop_commands(&mut s, &scene).await;
    let golden_image = golden_image(&mut s, &scene).await;
    image_and_bundle_commands(&mut s, &scene, &golden_image).await;
    s.query(json!({"query": "usage", "month": steward_shared::model::Month::of(sb.control().now()).as_str()}))
        .await;
    let now = sb.control().now();
    s.query(json!({"query": "audit", "from": now - chrono::Duration::days(3), "to": now + chrono::Duration::days(1), "limit": 20}))
        .await;

    // Offboarding: desktops, bundles, images and the directory.
    s.machine(
        "OffboardingStateMachine",
        "demo-offboarding",
        json!({"tenantId": tenant, "confirm": "OFFBOARD"}),
    )
    .await;
    narrator.idle();
    s.timeline
}

/// Queries (synchronous, the query function).
async fn queries(s: &mut Script<'_>, scene: &Scene) {
    let desks = &scene.desks;
    s.query(json!({"query": "desktops"})).await;
    s.query(json!({"query": "bundles"})).await;
    let images = s.query(json!({"query": "images"})).await;
    let imported = images["images"]
        .as_array()
        .and_then(|i| i.iter().find(|i| i["partnerTagged"] == true))
        .and_then(|i| i["imageId"].as_str())
        .unwrap_or_default()
        .to_owned();
    s.query(json!({"query": "imagePermissions", "imageId": imported}))
        .await;
    s.query(json!({"query": "snapshots", "workspaceId": desks[0]}))
        .await;
    s.query(json!({"query": "directories"})).await;
    s.query(json!({"query": "tags", "resourceId": desks[0]}))
        .await;
    s.query(json!({"query": "account"})).await;
}

/// Power: a stop and a start request, with the guard sweep that sees the stop.
async fn power_requests(s: &mut Script<'_>, scene: &Scene) {
    let (sb, t, desks) = (s.sb, &scene.t, &scene.desks);
    s.event(
        "Desktop Stop Requested",
        json!({"workspaceId": desks[4], "reason": "lifecycle demo"}),
        "power.partner_events",
    )
    .await;
    s.settle(10.0);
    s.doing("the guard sweep".into());
    // The guard sweep sees it STOPPED (Steward's view follows what the service reports).
    steward_functions::power::fanout::sweep_one(
        &sb.deps,
        t,
        steward_functions::power::SweepKind::Guard,
        &steward_functions::power::sweep::SweepOptions::default(),
    )
    .await;
    s.line("guard sweep reconciled the registry".into());
    s.event(
        "Desktop Start Requested",
        json!({"workspaceId": desks[4]}),
        "power.partner_events",
    )
    .await;
    s.settle(10.0);
}

/// Lifecycle commands on desktops: tags, reboot, state, properties, restore, rebuild, and
/// the directory's creation properties.
async fn desktop_commands(s: &mut Script<'_>, scene: &Scene) {
    let (desks, directory) = (&scene.desks, &scene.directory);
    use steward_shared::lifecycle::detail_types as dt;
    s.command(
        dt::TAGS,
        json!({"resourceId": desks[0], "set": {"CostCenter": "42", "Team": "vdi"}}),
    )
    .await;
    s.command(
        dt::TAGS,
        json!({"resourceId": desks[0], "remove": ["Team"]}),
    )
    .await;
    s.command(dt::REBOOT, json!({"workspaceIds": [desks[1]]}))
        .await;
    s.command(
        dt::MODIFY_STATE,
        json!({"workspaceId": desks[2], "targetState": "ADMIN_MAINTENANCE"}),
    )
    .await;
    s.settle(5.0);
    s.command(
        dt::MODIFY_STATE,
        json!({"workspaceId": desks[2], "targetState": "AVAILABLE"}),
    )
    .await;
    s.command(
        dt::MODIFY_PROPERTIES,
        json!({"workspaceId": desks[3], "userVolumeSizeGib": 100}),
    )
    .await;
    s.command(
        dt::MODIFY_PROPERTIES,
        json!({"workspaceId": desks[3], "runningMode": "AUTO_STOP"}),
    )
    .await;
    s.settle(30.0);
    s.command(dt::RESTORE, json!({"workspaceId": desks[3]}))
        .await;
    s.command(dt::REBUILD, json!({"workspaceId": desks[2]}))
        .await;
    s.command(
        dt::CREATION_PROPERTIES,
        json!({"directoryId": directory, "enableMaintenanceMode": false}),
    )
    .await;
    s.settle(90.0);
}

/// The golden image workflow: image from desktop 0, bundle updated, rollout by rebuild.
/// Its image id (empty if it failed).
async fn golden_image(s: &mut Script<'_>, scene: &Scene) -> String {
    let tenant = s.tenant.clone();
    let (desks, bundle) = (&scene.desks, &scene.bundle);
    let golden = s
        .machine(
            "GoldenImageStateMachine",
            "demo-golden",
            json!({
                "tenantId": tenant, "workspaceId": desks[0],
                "imageName": "demo-golden-1", "imageDescription": "Demo golden image",
                "bundleId": bundle, "rollout": "rebuild", "waveSize": 2, "failureThreshold": 1,
            }),
        )
        .await;
    let golden_image = golden["image"]["imageId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    s.settle(90.0);
    golden_image
}

/// Images: share, copy, and a second bundle to migrate a desktop to; then provision,
/// terminate and delete the copy.
async fn image_and_bundle_commands(s: &mut Script<'_>, scene: &Scene, golden_image: &str) {
    use steward_shared::lifecycle::detail_types as dt;
    let sb = s.sb;
    let Scene {
        t,
        desks,
        bundle,
        directory,
        region,
    } = scene;
    s.command(
        dt::IMAGE_PERMISSION,
        json!({"imageId": golden_image, "sharedAccountId": "210987654321", "allowCopyImage": true}),
    )
    .await;
    let copy = s
        .command(
            dt::COPY_IMAGE,
            json!({"imageId": golden_image, "sourceRegion": region, "targetRegion": region,
                   "name": "demo-golden-1-copy"}),
        )
        .await;
    s.doing("the partner creates a bundle to migrate to".into());
    let bundle2 = match ImageId::parse(golden_image) {
        Ok(image) => {
            let c = sb
                .deps
                .clients
                .for_tenant(TenantAccess::new(t, region))
                .await;
            WorkspacesGateway::new(c.workspaces())
                .create_bundle(BundleSpec {
                    name: "demo-bundle-performance",
                    description: "Demo bundle to migrate to",
                    image_id: &image,
                    compute_type: "PERFORMANCE",
                    root_gib: 80,
                    user_gib: 50,
                    tag: &t.partner_tag,
                })
                .await
                .map(|b| b.to_string())
                .unwrap_or_default()
        }
        Err(_) => String::new(),
    };
    s.line(format!("partner created bundle {bundle2} to migrate to"));
    s.settle(60.0);
    s.command(
        dt::MIGRATE,
        json!({"workspaceId": desks[1], "bundleId": bundle2}),
    )
    .await;
    s.command(
        dt::PROVISION,
        json!({"directoryId": directory, "bundleId": bundle,
               "desktops": [{"userName": "demo-new-user"}]}),
    )
    .await;
    s.command(
        dt::TERMINATE,
        json!({"workspaceIds": [desks[4]], "confirm": "TERMINATE"}),
    )
    .await;
    s.settle(60.0);
    if let Some(copy) = copy["created"][0].as_str() {
        s.command(dt::DELETE_IMAGE, json!({"imageId": copy})).await;
    }
}
