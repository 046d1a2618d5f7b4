//! `demo --scenario pools`: after onboarding, Steward's pools, users and release plans on
//! the onboarded customer, driven as a partner backend drives them — partner events through
//! `power.partner_events` ([`process`]) and the idle sweep, on the emulator's clock.
//!
//! The scenario, step by step (each step a timeline line, told when it happens):
//!
//! 1. two pools on the onboarded bundle and directory: `call-centre` (FLOATING, 4..6
//!    desktops, grows by 2, REBUILD 15 minutes after a release) and `engineering`
//!    (DEDICATED, 2..4, KEEP); each grows to its minimum at once, and the clock moves past
//!    the service's creation time so the idle sweep sees the desktops AVAILABLE;
//! 2. users: seven call-centre agents and two engineers (`Users Loaded`);
//! 3. the agents ask for a desktop one after another: four get the AVAILABLE ones, the
//!    fifth makes the pool grow by two to its maximum (the desktops still PENDING are
//!    assigned at once), the sixth gets the other new one, the seventh is refused
//!    `POOL_EXHAUSTED`;
//! 4. an engineer works a session on the dedicated desktop, ends it (KEEP: nothing is
//!    released) and asks again: the same desktop;
//! 5. two agents end their sessions: their desktops are released for the plan's delay,
//!    within which the seventh agent is still refused and the first agent, reconnecting,
//!    gets the same desktop back;
//! 6. the clock moves past the delay: the idle sweep rebuilds the second agent's desktop
//!    (RebuildWorkspaces) and, once the service has rebuilt it, returns it to the pool; the
//!    seventh agent gets it.
//!
//! Why the pools vouch for their protocol: the pool's protocol plan must match the bundle's,
//! which Steward knows only for bundles whose protocol it recorded on the tenant
//! (`Tenant::bundle_protocols`). When the onboarding has not recorded the onboarded bundle's,
//! the pools are sent with `allowUnverifiedProtocol` (the partner vouching for BYOP, the
//! protocol of the image the onboarding imported), and the timeline says so.
//!
//! The report: [`PoolsRun::pools`] (each pool's size, free and assigned desktops, read from
//! the table at the end), [`PoolsRun::assignments`] (each request: the user, the desktop or
//! none, the outcome as the partner bus answered it) and every action the handlers and the
//! sweeps reported (assignments, releases, rebuilds, returns, growths, stops) for the demo's
//! `power_actions`.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};
pub use steward_functions::pools::AssignmentFailure;
use steward_functions::power::PowerAction;
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::{TenantOutcome, sweep_one};
use steward_functions::power::partner_events::{Processed, process};
use steward_functions::power::sweep::SweepOptions;
use steward_functions::record::outbound_types as ot;
use steward_shared::ids::{PoolId, TenantId};
use steward_shared::model::{Tenant, WorkspaceRecord};
use steward_shared::pools::protocol::StreamingProtocol;
use steward_shared::store::{PageRequest, PoolStore, TenantStore, WorkspaceStore, collect_all};

use crate::day::power_event;
use crate::narrator::{Event, Narrator};
use crate::sandbox::Sandbox;

/// The floating pool.
pub const FLOATING: &str = "call-centre";
/// The dedicated pool.
pub const DEDICATED: &str = "engineering";
/// Minutes the floating pool's REBUILD waits after a release.
pub const RELEASE_DELAY_MINUTES: u32 = 15;

/// Why the scenario could not go on.
#[derive(Debug, thiserror::Error)]
pub enum PoolsError {
    #[error("tenant {0} is not registered")]
    UnknownTenant(String),
    #[error("tenant {0} has no registered desktop with a bundle to build the pools on")]
    NoBundle(String),
    #[error("the {step} event was refused: {error}")]
    Refused { step: String, error: String },
    #[error("the emulator's clock: {0}")]
    Clock(String),
    #[error("store: {0}")]
    Store(#[from] steward_shared::store::StoreError),
    #[error("a scenario name is not a valid id: {0}")]
    Name(String),
}

/// What an assignment request came to, as the partner bus answered it. Serialized as
/// `assigned`, `assigned again` (the user held the desktop already), `failed: <FAILURE>`, or
/// `unanswered` (no answer on the bus: a bug the demo's test would show).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentOutcome {
    Assigned,
    AssignedAgain,
    Failed(AssignmentFailure),
    Unanswered,
}

impl fmt::Display for AssignmentOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssignmentOutcome::Assigned => f.write_str("assigned"),
            AssignmentOutcome::AssignedAgain => f.write_str("assigned again"),
            AssignmentOutcome::Failed(why) => write!(f, "failed: {}", why.as_str()),
            AssignmentOutcome::Unanswered => f.write_str("unanswered"),
        }
    }
}

impl Serialize for AssignmentOutcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One assignment request of the scenario and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub user: String,
    pub pool: String,
    /// The desktop assigned; `None` when the request failed.
    pub workspace_id: Option<String>,
    pub outcome: AssignmentOutcome,
}

/// A pool at the end of the scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolSummary {
    pub name: String,
    /// Desktops created for the pool and not terminated.
    pub size: u32,
    /// Nobody's, no release under way, and up or stopped.
    pub free: usize,
    pub assigned: usize,
}

/// What the scenario adds to the demo's report.
#[derive(Debug, Default)]
pub struct PoolsRun {
    pub timeline: Vec<Event>,
    pub power_actions: Vec<PowerAction>,
    pub pools: Vec<PoolSummary>,
    pub assignments: Vec<Assignment>,
}

/// The partner backend: sends the events, runs the sweeps, keeps the timeline, the actions
/// and the answers.
struct Partner<'a> {
    sb: &'a Sandbox,
    tenant: TenantId,
    narrator: &'a Narrator,
    n: usize,
    /// Bus events already looked at for answers.
    bus_seen: usize,
    run: PoolsRun,
}

impl Partner<'_> {
    fn line(&mut self, what: String) {
        let event = Event {
            at: self.sb.control().now(),
            what,
        };
        self.narrator.line(&event);
        self.run.timeline.push(event);
    }

    fn doing(&self, what: &str) {
        self.narrator.doing(format!("pools: {what}"), None);
    }

    /// Keeps the actions, telling each one now.
    fn took(&mut self, actions: Vec<PowerAction>) {
        for a in actions {
            let event = power_event(&a);
            self.narrator.line(&event);
            self.run.timeline.push(event);
            self.run.power_actions.push(a);
        }
    }

    /// Moves the clock, silently.
    fn advance_minutes(&self, minutes: f64) -> Result<(), PoolsError> {
        self.sb
            .control()
            .advance_seconds(minutes * 60.0)
            .map(|_| ())
            .map_err(|e| PoolsError::Clock(e.to_string()))
    }

    /// Moves the clock and says so.
    fn later(&mut self, minutes: f64) -> Result<(), PoolsError> {
        self.advance_minutes(minutes)?;
        self.line(format!("{minutes} minutes later"));
        Ok(())
    }

    /// Sends one partner event (its tenant and time filled in) and tells what it did.
    async fn send(&mut self, detail_type: &str, detail: Value) -> Result<String, PoolsError> {
        let (id, p) = self.deliver(detail_type, detail).await?;
        self.told(detail_type, &p);
        Ok(id)
    }

    /// Delivers one partner event (its tenant and time filled in): its id and the answer;
    /// a refusal is told, and ends the scenario.
    async fn deliver(
        &mut self,
        detail_type: &str,
        mut detail: Value,
    ) -> Result<(String, Processed), PoolsError> {
        self.n += 1;
        let id = format!("demo-pools-{}", self.n);
        let now = self.sb.control().now();
        detail["tenantId"] = json!(self.tenant);
        detail["occurredAt"] = json!(now);
        let event = json!({
            "version": "0", "id": id, "detail-type": detail_type,
            "source": self.sb.deps.config.partner_event_source,
            "account": "111122223333", "time": now, "region": "us-east-1",
            "resources": [], "detail": detail,
        });
        self.doing(&format!("the {detail_type} event"));
        match process(&event, &self.sb.deps).await {
            Ok(p) => Ok((id, p)),
            Err(e) => {
                let error = format!("{}: {e}", e.name());
                self.line(format!("{detail_type}: refused: {error}"));
                Err(PoolsError::Refused {
                    step: detail_type.to_owned(),
                    error,
                })
            }
        }
    }

    fn told(&mut self, detail_type: &str, p: &Processed) {
        let result = serde_json::to_value(p.result)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        self.line(format!(
            "{detail_type}: {result} ({} conditional writes)",
            p.writes
        ));
        self.took(p.actions.clone());
    }

    /// One idle sweep of the tenant (reconciliation, then the pools' upkeep).
    async fn idle_sweep(&mut self) -> Result<(), PoolsError> {
        self.doing("the idle sweep");
        let tenant = self.current_tenant().await?;
        match sweep_one(
            &self.sb.deps,
            &tenant,
            SweepKind::Idle,
            &SweepOptions::default(),
        )
        .await
        {
            TenantOutcome::Swept(s) => {
                let upkeep = s.pool_upkeep.clone().unwrap_or_default();
                self.line(format!(
                    "idle sweep: {} desktops reconciled; pools' upkeep: {} pools, {} release steps, {} created, {} terminated",
                    s.looked_at, upkeep.pools, upkeep.advanced, upkeep.created, upkeep.terminated
                ));
                self.took(s.actions);
            }
            TenantOutcome::Failed { error, message, .. } => {
                self.line(format!("idle sweep failed: {error}: {message}"));
            }
        }
        Ok(())
    }

    async fn current_tenant(&self) -> Result<Tenant, PoolsError> {
        self.sb
            .deps
            .store
            .get_tenant(&self.tenant)
            .await?
            .ok_or_else(|| PoolsError::UnknownTenant(self.tenant.to_string()))
    }

    /// Bus events published since the last look.
    fn new_bus_events(&mut self) -> Vec<workspaces_core_emulator::eventbridge::CapturedEvent> {
        let events = self.sb.control().events();
        let fresh = events.get(self.bus_seen..).unwrap_or_default().to_vec();
        self.bus_seen = events.len();
        fresh
    }

    /// `user` asks for a desktop of `pool`; the answer is read from the partner bus as a
    /// partner would (`Desktop Assigned` / `Desktop Assignment Failed` naming the request).
    async fn request(&mut self, user: &str, pool: &str) -> Result<Assignment, PoolsError> {
        self.new_bus_events();
        let (id, processed) = self
            .deliver(
                "Desktop Assignment Requested",
                json!({"poolId": pool, "userId": user}),
            )
            .await?;
        let mut answer = Assignment {
            user: user.to_owned(),
            pool: pool.to_owned(),
            workspace_id: None,
            outcome: AssignmentOutcome::Unanswered,
        };
        for e in self.new_bus_events() {
            let d = &e.detail;
            match e.detail_type.as_str() {
                ot::POOL_RESIZED => self.line(format!(
                    "pool {} grew to make room: {} desktops created in {} CreateWorkspaces call(s), {} now",
                    d["poolId"].as_str().unwrap_or_default(),
                    d["created"],
                    d["calls"],
                    d["desktops"]
                )),
                ot::DESKTOP_ASSIGNED if d["requestId"] == id.as_str() => {
                    answer.workspace_id = d["workspaceId"].as_str().map(str::to_owned);
                    answer.outcome = if d["again"] == true {
                        AssignmentOutcome::AssignedAgain
                    } else {
                        AssignmentOutcome::Assigned
                    };
                }
                ot::DESKTOP_ASSIGNMENT_FAILED if d["requestId"] == id.as_str() => {
                    if let Ok(why) = serde_json::from_value(d["failure"].clone()) {
                        answer.outcome = AssignmentOutcome::Failed(why);
                    }
                }
                _ => {}
            }
        }
        self.took(processed.actions);
        self.line(format!(
            "{user} asked for a desktop of {pool}: {}{} ({} conditional writes)",
            answer.outcome,
            answer
                .workspace_id
                .as_deref()
                .map(|w| format!(" {w}"))
                .unwrap_or_default(),
            processed.writes
        ));
        self.run.assignments.push(answer.clone());
        Ok(answer)
    }

    /// A session on `workspace` starts, lasts `minutes`, and ends.
    async fn session(
        &mut self,
        workspace: &str,
        session: &str,
        minutes: f64,
    ) -> Result<(), PoolsError> {
        let detail = json!({"workspaceId": workspace, "sessionId": session});
        self.send("Session Started", detail.clone()).await?;
        self.later(minutes)?;
        self.send("Session Ended", detail).await?;
        Ok(())
    }
}

/// Runs the pools scenario on the onboarded `tenant` (see the module docs).
pub async fn run(
    sb: &Sandbox,
    tenant: &TenantId,
    narrator: &Narrator,
) -> Result<PoolsRun, PoolsError> {
    let mut p = Partner {
        sb,
        tenant: tenant.clone(),
        narrator,
        n: 0,
        bus_seen: 0,
        run: PoolsRun::default(),
    };
    create_pools(&mut p).await?;
    p.later(21.0)?;
    p.idle_sweep().await?;
    load_users(&mut p).await?;
    let held = rush(&mut p).await?;
    dedicated(&mut p).await?;
    release_and_reconnect(&mut p, &held).await?;
    rebuild_and_return(&mut p).await?;
    narrator.doing("pools: the pools' status from the table", None);
    p.run.pools = summarise(sb, tenant).await?;
    for s in p.run.pools.clone() {
        p.line(format!(
            "pool {}: {} desktops, {} free, {} assigned",
            s.name, s.size, s.free, s.assigned
        ));
    }
    narrator.idle();
    Ok(p.run)
}

/// Step 1: the two pools, on the bundle and directory of the onboarded desktops.
async fn create_pools(p: &mut Partner<'_>) -> Result<(), PoolsError> {
    let t = p.current_tenant().await?;
    let records = records_of(p.sb, &t.tenant_id).await?;
    let Some(bundle) = records.iter().find_map(|r| r.bundle_id.clone()) else {
        return Err(PoolsError::NoBundle(t.tenant_id.to_string()));
    };
    let directory = records
        .iter()
        .find(|r| r.bundle_id.as_ref() == Some(&bundle))
        .map(|r| r.directory_id.clone());
    let recorded = t.bundle_protocols.get(&bundle).copied();
    let protocol = recorded.unwrap_or(StreamingProtocol::Byop);
    p.line(format!(
        "pools scenario on {}: bundle {bundle}, directory {}, Region {}",
        t.tenant_id,
        directory
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        t.regions
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    ));
    let vouch = recorded.is_none();
    if vouch {
        p.line(format!(
            "the onboarding did not record bundle {bundle}'s protocol on the tenant: the pools vouch for {} (allowUnverifiedProtocol: true)",
            protocol.as_str()
        ));
    } else {
        p.line(format!(
            "the tenant records bundle {bundle} as {}: the pools' protocol plan is verified",
            protocol.as_str()
        ));
    }
    let base = |pool: &str| {
        let mut d = json!({
            "poolId": pool, "directoryId": directory, "bundleId": bundle,
            "protocol": protocol.as_str(),
        });
        if vouch {
            d["allowUnverifiedProtocol"] = json!(true);
        }
        d
    };
    let mut floating = base(FLOATING);
    for (k, v) in [
        ("minSize", json!(4)),
        ("maxSize", json!(6)),
        ("growBy", json!(2)),
        ("assignment", json!("FLOATING")),
        (
            "releasePlan",
            json!({"action": "REBUILD", "delayMinutes": RELEASE_DELAY_MINUTES}),
        ),
    ] {
        floating[k] = v;
    }
    p.send("Pool Created", floating).await?;
    let mut dedicated = base(DEDICATED);
    for (k, v) in [
        ("minSize", json!(2)),
        ("maxSize", json!(4)),
        ("growBy", json!(1)),
        ("assignment", json!("DEDICATED")),
        ("releasePlan", json!({"action": "KEEP"})),
    ] {
        dedicated[k] = v;
    }
    p.send("Pool Created", dedicated).await?;
    p.line("the service creates the pools' desktops (20 minutes in the emulator)".into());
    Ok(())
}

/// The call-centre's agents (`agent-1` … `agent-7`) and the engineers.
pub fn agent(n: usize) -> String {
    format!("agent-{n}")
}

/// Step 2: the users and their pools.
async fn load_users(p: &mut Partner<'_>) -> Result<(), PoolsError> {
    let mut users: Vec<Value> = (1..=7)
        .map(|n| json!({"userId": agent(n), "displayName": format!("Agent {n}"), "pools": [FLOATING]}))
        .collect();
    users.push(json!({"userId": "dev-1", "displayName": "Engineer 1", "pools": [DEDICATED]}));
    users.push(json!({"userId": "dev-2", "displayName": "Engineer 2", "pools": [DEDICATED]}));
    p.send("Users Loaded", json!({"users": users})).await?;
    Ok(())
}

/// Step 3: seven agents for a pool of four that may grow to six. Returns the desktops the
/// first two agents got.
async fn rush(p: &mut Partner<'_>) -> Result<Vec<String>, PoolsError> {
    let mut held = Vec::new();
    for n in 1..=7 {
        let a = p.request(&agent(n), FLOATING).await?;
        if n <= 2
            && let Some(ws) = a.workspace_id
        {
            held.push(ws);
        }
        p.advance_minutes(0.5)?;
    }
    Ok(held)
}

/// Step 4: a dedicated desktop, a session on it, and the same desktop again.
async fn dedicated(p: &mut Partner<'_>) -> Result<(), PoolsError> {
    let first = p.request("dev-1", DEDICATED).await?;
    if let Some(ws) = first.workspace_id {
        p.session(&ws, "dev-1-morning", 45.0).await?;
        p.line("KEEP: the desktop stays dev-1's after the session".into());
        p.later(5.0)?;
        p.request("dev-1", DEDICATED).await?;
    }
    Ok(())
}

/// Step 5: two agents end their sessions; within the delay the seventh agent is still
/// refused and the first one gets the same desktop back.
async fn release_and_reconnect(p: &mut Partner<'_>, held: &[String]) -> Result<(), PoolsError> {
    for (n, ws) in held.iter().enumerate() {
        let detail = json!({"workspaceId": ws, "sessionId": format!("{}-shift", agent(n + 1))});
        p.send("Session Started", detail).await?;
    }
    p.later(30.0)?;
    for (n, ws) in held.iter().enumerate() {
        let detail = json!({"workspaceId": ws, "sessionId": format!("{}-shift", agent(n + 1))});
        p.send("Session Ended", detail).await?;
    }
    p.line(format!(
        "within the {RELEASE_DELAY_MINUTES}-minute delay the released desktops wait for their users"
    ));
    p.later(5.0)?;
    p.request(&agent(7), FLOATING).await?;
    p.request(&agent(1), FLOATING).await?;
    Ok(())
}

/// Step 6: past the delay, the sweep rebuilds; once rebuilt, the desktop returns and the
/// seventh agent gets it.
async fn rebuild_and_return(p: &mut Partner<'_>) -> Result<(), PoolsError> {
    p.later(f64::from(RELEASE_DELAY_MINUTES) - 4.0)?;
    p.idle_sweep().await?;
    p.request(&agent(7), FLOATING).await?;
    p.line("the service rebuilds the desktop (30 minutes in the emulator)".into());
    p.later(31.0)?;
    p.idle_sweep().await?;
    p.request(&agent(7), FLOATING).await?;
    Ok(())
}

async fn records_of(sb: &Sandbox, tenant: &TenantId) -> Result<Vec<WorkspaceRecord>, PoolsError> {
    let mut all =
        collect_all(|page: PageRequest| sb.deps.store.list_workspaces(tenant, page)).await?;
    all.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
    Ok(all)
}

/// Each pool of the scenario: its size from the pool record, free and assigned from its
/// desktops' records.
async fn summarise(sb: &Sandbox, tenant: &TenantId) -> Result<Vec<PoolSummary>, PoolsError> {
    let records = records_of(sb, tenant).await?;
    let mut out = Vec::new();
    for name in [FLOATING, DEDICATED] {
        let id = PoolId::parse(name).map_err(|e| PoolsError::Name(e.to_string()))?;
        let size = sb
            .deps
            .store
            .get_pool(tenant, &id)
            .await?
            .map_or(0, |pool| pool.desktops);
        let desks: Vec<_> = records
            .iter()
            .filter(|r| r.pool.as_ref().is_some_and(|s| s.pool_id == id))
            .filter_map(WorkspaceRecord::pool_desktop)
            .collect();
        out.push(PoolSummary {
            name: name.to_owned(),
            size,
            free: desks.iter().filter(|d| d.is_free()).count(),
            assigned: desks.iter().filter(|d| d.assigned_to.is_some()).count(),
        });
    }
    Ok(out)
}
