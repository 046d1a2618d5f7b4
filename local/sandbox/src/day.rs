//! A simulated day of power governance for the demo, on the emulator's virtual clock.
//!
//! Given an onboarded, ACTIVE tenant with at least five AVAILABLE desktops (A, B, C, D, E:
//! its registry's first five by id), [`simulate_day`] plays, through the real handlers:
//!
//! | virtual time | what happens |
//! |---|---|
//! | 0:00 | the tenant's policy: idle timeout 60 min, guard threshold 8 h, hard limit 10 h (a `Tenant Policy Updated` event); a first sweep dates every desktop |
//! | 0:05 | sessions start on A, B and D; heartbeats every 5 min while they last; a stop request for E (`Desktop Stopping`; the next sweep sees it STOPPED: `Desktop Stopped`) |
//! | 0:20 | the customer starts E from the console (a WorkSpaces API call Steward does not make): the next sweep finds it, records drift and counts its hours |
//! | 0:30 / 1:00 | the sessions on B and D end |
//! | every 5 min to 3:00, then every 30 min | idle sweep: C (never used) is stopped at 1:00, E (idle since the console start) at about 1:20, B at 1:30 |
//! | 1:40 | the tenant lengthens its idle timeout to 12 h (D, idle since 1:00, is kept) |
//! | 2:00 | a start request with a 3 h lease for C: StartWorkspaces (`Desktop Starting`); the next sweep sees it AVAILABLE (`Desktop Available`, never drift); the lease keeps it running |
//! | every 30 min | guard sweep; at 8:00 A (live session) gets one warning and D (idle, no lease) is stopped by the guard, long before 48 h |
//! | 8:30 | A's session ends |
//!
//! The emulator's clock is the one the handlers read (`deps` must be built with it).
//! [`simulate_day_narrated`] tells each power action to a [`Narrator`] as it is taken, and
//! which hour of the day it is playing.

use serde_json::{Value, json};
use steward_functions::Deps;
use steward_functions::power::PowerAction;
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::{TenantOutcome, sweep_one};
use steward_functions::power::partner_events::process;
use steward_functions::power::sweep::SweepOptions;
use steward_shared::aws::TenantAccess;
use steward_shared::gateway::ItemOutcome;
use steward_shared::gateway::workspaces::WorkspacesGateway;
use steward_shared::ids::TenantId;
use steward_shared::model::{Tenant, TenantStatus, Timestamp, WorkspaceRecord};
use steward_shared::store::{PageRequest, TenantStore, WorkspaceStore, collect_all};

use workspaces_core_emulator::Control;

use crate::narrator::{Event, Narrator};

/// A power action as a line of the demo's timeline.
pub fn power_event(a: &PowerAction) -> Event {
    Event {
        at: a.time,
        what: format!("power {:<14} {}  {}", a.action, a.workspace, a.reason),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DayError {
    #[error("tenant {0} is not registered")]
    UnknownTenant(String),
    #[error("tenant {0} is not ACTIVE")]
    NotActive(String),
    #[error("tenant {tenant} has {found} desktops in the registry; the day needs 5")]
    TooFewDesktops { tenant: String, found: usize },
    #[error("the emulator's clock: {0}")]
    Clock(String),
    #[error("the console's call: {0}")]
    Console(String),
    #[error(transparent)]
    Steward(#[from] steward_shared::Error),
}

impl From<steward_shared::store::StoreError> for DayError {
    fn from(e: steward_shared::store::StoreError) -> Self {
        DayError::Steward(e.into())
    }
}

struct Day<'a> {
    deps: &'a Deps,
    emu: &'a Control,
    tenant: TenantId,
    seq: u64,
    actions: Vec<PowerAction>,
    narrator: &'a Narrator,
}

impl Day<'_> {
    fn now(&self) -> Timestamp {
        self.emu.now()
    }

    /// Keeps the actions, telling each one now.
    fn took(&mut self, actions: Vec<PowerAction>) {
        for a in &actions {
            self.narrator.line(&power_event(a));
        }
        self.actions.extend(actions);
    }

    fn advance_minutes(&self, m: f64) -> Result<(), DayError> {
        self.emu
            .advance_seconds(m * 60.0)
            .map(|_| ())
            .map_err(|e| DayError::Clock(e.to_string()))
    }

    async fn send(&mut self, detail_type: &str, mut detail: Value) -> Result<(), DayError> {
        self.seq += 1;
        detail["tenantId"] = json!(self.tenant);
        detail["occurredAt"] = json!(self.now());
        let event = json!({
            "version": "0",
            "id": format!("day-{}-{}", self.tenant, self.seq),
            "detail-type": detail_type,
            "source": self.deps.config.partner_event_source,
            "time": self.now(),
            "detail": detail,
        });
        let p = process(&event, self.deps).await?;
        self.took(p.actions);
        Ok(())
    }

    async fn session(
        &mut self,
        kind: &str,
        ws: &WorkspaceRecord,
        sid: &str,
    ) -> Result<(), DayError> {
        self.send(
            kind,
            json!({"workspaceId": ws.workspace_id, "sessionId": sid}),
        )
        .await
    }

    /// The customer starts a desktop from the console: a WorkSpaces API call with the
    /// customer's role that no Steward handler sees.
    async fn console_start(&self, tenant: &Tenant, ws: &WorkspaceRecord) -> Result<(), DayError> {
        let clients = self
            .deps
            .clients
            .for_tenant(TenantAccess::new(tenant, &ws.region))
            .await;
        let out = WorkspacesGateway::new(clients.workspaces())
            .start(std::slice::from_ref(&ws.workspace_id))
            .await
            .map_err(steward_shared::Error::from)?;
        match out.into_iter().next().map(|(_, o)| o) {
            Some(ItemOutcome::Accepted) => Ok(()),
            other => Err(DayError::Console(format!(
                "StartWorkspaces of {}: {other:?}",
                ws.workspace_id
            ))),
        }
    }

    async fn sweep(&mut self, kind: SweepKind) -> Result<(), DayError> {
        let tenant = self
            .deps
            .store
            .get_tenant(&self.tenant)
            .await?
            .ok_or_else(|| DayError::UnknownTenant(self.tenant.to_string()))?;
        let options = SweepOptions::default();
        match sweep_one(self.deps, &tenant, kind, &options).await {
            TenantOutcome::Swept(s) => self.took(s.actions),
            TenantOutcome::Failed { error, message, .. } => {
                let failed = PowerAction {
                    workspace: self.tenant.to_string(),
                    action: "sweep_failed".into(),
                    reason: format!("{error}: {message}"),
                    time: self.now(),
                };
                self.took(vec![failed]);
            }
        }
        Ok(())
    }
}

/// Plays the day and returns every power action, oldest first. See the module docs.
pub async fn simulate_day(
    deps: &Deps,
    emu: &Control,
    tenant: &TenantId,
) -> Result<Vec<PowerAction>, DayError> {
    simulate_day_narrated(deps, emu, tenant, &Narrator::default()).await
}

/// [`simulate_day`], telling `narrator` each power action as it is taken and the hour of
/// the day it plays.
pub async fn simulate_day_narrated(
    deps: &Deps,
    emu: &Control,
    tenant: &TenantId,
    narrator: &Narrator,
) -> Result<Vec<PowerAction>, DayError> {
    let t = deps
        .store
        .get_tenant(tenant)
        .await?
        .ok_or_else(|| DayError::UnknownTenant(tenant.to_string()))?;
    if t.status != TenantStatus::Active {
        return Err(DayError::NotActive(tenant.to_string()));
    }
    let mut desktops = collect_all(|p: PageRequest| deps.store.list_workspaces(tenant, p)).await?;
    desktops.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
    if desktops.len() < 5 {
        return Err(DayError::TooFewDesktops {
            tenant: tenant.to_string(),
            found: desktops.len(),
        });
    }
    let (a, b, c, d, e) = (
        desktops[0].clone(),
        desktops[1].clone(),
        desktops[2].clone(),
        desktops[3].clone(),
        desktops[4].clone(),
    );
    let mut day = Day {
        deps,
        emu,
        tenant: tenant.clone(),
        seq: 0,
        actions: Vec::new(),
        narrator,
    };
    narrator.doing(
        "the simulated day, hour 1 of 9",
        Some("its first sweep".into()),
    );
    day.send(
        "Tenant Policy Updated",
        json!({"policy": {"idleTimeoutMinutes": 60, "startGraceMinutes": 15,
            "heartbeatTimeoutMinutes": 10, "guardThresholdMinutes": 480,
            "guardHardLimitMinutes": 600, "guardHardLimitAction": "STOP"}}),
    )
    .await?;
    // Date every desktop (first sight) before anything else.
    day.sweep(SweepKind::Idle).await?;
    day.advance_minutes(5.0)?;
    day.session("Session Started", &a, "a-morning").await?;
    day.session("Session Started", &b, "b-morning").await?;
    day.session("Session Started", &d, "d-morning").await?;
    day.send(
        "Desktop Stop Requested",
        json!({"workspaceId": e.workspace_id, "reason": "the user signed off for the day"}),
    )
    .await?;

    let mut minute = 5;
    while minute < 8 * 60 + 30 {
        day.advance_minutes(5.0)?;
        minute += 5;
        narrator.doing(
            format!("the simulated day, hour {} of 9", minute / 60 + 1),
            Some(format!("{}:{:02} into it", minute / 60, minute % 60)),
        );
        day.session("Session Heartbeat", &a, "a-morning").await?;
        match minute {
            m if m < 30 => {
                day.session("Session Heartbeat", &b, "b-morning").await?;
                day.session("Session Heartbeat", &d, "d-morning").await?;
                if m == 20 {
                    day.console_start(&t, &e).await?;
                }
            }
            30 => {
                day.session("Session Ended", &b, "b-morning").await?;
                day.session("Session Heartbeat", &d, "d-morning").await?;
            }
            m if m < 60 => day.session("Session Heartbeat", &d, "d-morning").await?,
            60 => day.session("Session Ended", &d, "d-morning").await?,
            100 => {
                day.send(
                    "Tenant Policy Updated",
                    json!({"policy": {"idleTimeoutMinutes": 720}}),
                )
                .await?
            }
            120 => {
                day.send(
                    "Desktop Start Requested",
                    json!({"workspaceId": c.workspace_id, "leaseMinutes": 180}),
                )
                .await?
            }
            _ => {}
        }
        if minute <= 180 || minute % 30 == 0 {
            day.sweep(SweepKind::Idle).await?;
        }
        if minute % 30 == 0 {
            day.sweep(SweepKind::Guard).await?;
        }
    }
    day.session("Session Ended", &a, "a-morning").await?;
    narrator.idle();
    let mut actions = day.actions;
    actions.sort_by_key(|x| x.time);
    Ok(actions)
}
