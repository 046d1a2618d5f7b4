//! `demo --scenario schedule`: a power control plan at work over two simulated days, one of
//! them a holiday, on the onboarded customer — partner events through
//! `power.partner_events` ([`process`]) and the idle sweep every five virtual minutes around
//! each moment that matters, on the emulator's clock.
//!
//! Why these dates: Tuesday 2026-12-01 and Wednesday 2026-12-02 are an ordinary week in
//! winter time, so Berlin is UTC+1 on both and every local time below is the UTC time plus
//! one hour. The sandbox's clock starts on Monday 2026-11-30 at 15:00 UTC ([`start_time`]),
//! so the onboarding (about four virtual hours) ends after Monday's window closed: the pool
//! is created on a closed evening and its desktops are stopped by the idle rule overnight,
//! and Tuesday morning starts from a pool of STOPPED desktops, as a real Tuesday would.
//!
//! The scenario (times in Berlin; each step a timeline line, told when it happens). The
//! sweep runs every five minutes around each moment that matters, 30 seconds after the
//! mark (`SWEEP_OFFSET_SECONDS`), and not in the quiet hours between, so that two days take
//! seconds of real time:
//!
//! 1. Monday 23:00: the pool `call-centre` (FLOATING, 6..6 desktops, RETURN 15 minutes after
//!    a release), the holiday calendar `de-be` loaded from an iCalendar document whose one
//!    holiday is Wednesday, the pool's plan (Europe/Berlin, MON–FRI 07:00–19:00,
//!    `bufferCount` 3, the calendar, a 30-minute drain grace) and four agents. The desktops
//!    come up, and the idle rule stops them: the window is closed.
//! 2. Tuesday 06:30–07:00: with no start measured yet, the pre-warm lead is the default
//!    start time (10 minutes) plus one sweep interval: the sweep of 06:45 starts three
//!    desktops (`prewarm`), AVAILABLE two minutes later. The pool's desktops are read from
//!    the service at 07:00 ([`OpeningMinute`]).
//! 3. 08:00 two agents take desktops; the next sweep refills the buffer (`buffer` × 2);
//!    10:00 a third agent, and one more `buffer` start.
//! 4. 18:48 two agents end their sessions (their desktops wait out the release delay);
//!    after 19:00, when the window has closed, the sweep stops the desktops that were up in
//!    it (`drain`) and warns the third agent's live session (`drain_warning`); after 19:30,
//!    the grace over, that desktop is stopped too (`drain`). The agent leaves; the pool gets
//!    its desktops back.
//! 5. Wednesday 06:30–07:10: the sweep records the window the holiday keeps shut
//!    (`holiday`, once) and starts nothing; an agent asking at 09:00 is refused
//!    `POOL_CLOSED`.
//!
//! Live sessions are heartbeated before every sweep, as a partner's agent would every few
//! minutes (a session not heard from for ten minutes is over for the idle rule and the
//! drain).
//!
//! The report: [`ScheduleReport::plans`] (each plan's next window, UTC and local, from the
//! pure functions of `steward_shared::plans` at the end), [`ScheduleReport::opening_minute`]
//! (the pool's desktops in the service at 07:00 on each day), the assignment requests and
//! every action the handlers and the sweeps reported, for the demo's `power_actions`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};
use steward_functions::power::PowerAction;
use steward_functions::power::SweepKind;
use steward_functions::power::fanout::{TenantOutcome, sweep_one};
use steward_functions::power::partner_events::{Processed, process};
use steward_functions::power::sweep::SweepOptions;
use steward_functions::record::outbound_types as ot;
use steward_shared::ids::{PoolId, TenantId};
use steward_shared::model::{Tenant, Timestamp, WorkspaceRecord};
use steward_shared::plans::ZoneName;
use steward_shared::pools::protocol::StreamingProtocol;
use steward_shared::store::{PageRequest, TenantStore, WorkspaceStore, collect_all};

use crate::day::power_event;
use crate::demo_pools::{Assignment, AssignmentOutcome};
use crate::narrator::{Event, Narrator};
use crate::sandbox::Sandbox;

mod report;
use report::plans;
pub use report::{
    OpeningMinute, PlanSummary, ScheduleError, ScheduleReport, ScheduleRun, ZonedTime,
};

/// The scenario's pool.
pub const POOL: &str = "call-centre";
/// The plan's zone.
pub const ZONE: &str = "Europe/Berlin";
/// The holiday calendar the plan names.
pub const CALENDAR: &str = "de-be";
/// Desktops of the pool (its minimum and maximum).
pub const POOL_SIZE: u32 = 6;
/// The plan's warm capacity.
pub const BUFFER_COUNT: u32 = 3;
/// The plan's drain grace (minutes).
pub const GRACE_MINUTES: u32 = 30;
/// Minutes a released desktop waits for its user before it returns to the pool.
pub const RELEASE_DELAY_MINUTES: u32 = 15;
/// The users (`agent-1` … `agent-4`).
const AGENTS: usize = 4;
/// The sweep runs this long after each five-minute mark, as a scheduled rule's invocation
/// lands a little after its minute. It also keeps every decision clear of the milliseconds
/// the scenario's own steps take: a window's edge, a grace's end or a pre-warm lead (whose
/// measured part is whole seconds, 299 or 300 here) falls on a mark, never within a few
/// milliseconds of a sweep.
const SWEEP_OFFSET_SECONDS: i64 = 30;

/// The iCalendar document of the calendar: one all-day event, Wednesday 2026-12-02.
const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Steward//schedule demo//EN\r\n\
BEGIN:VEVENT\r\nUID:works-holiday-2026-12-02@steward.example\r\nDTSTAMP:20261101T000000Z\r\n\
DTSTART;VALUE=DATE:20261202\r\nSUMMARY:Works holiday\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/// `y-m-d h:m` UTC (the scenario's fixed instants; all valid).
fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap_or_default()
}

/// Where the sandbox's clock starts: Monday 2026-11-30 15:00 UTC (16:00 in Berlin).
pub fn start_time() -> DateTime<Utc> {
    utc(2026, 11, 30, 15, 0)
}

/// The two simulated days (Tuesday, then the Wednesday holiday), as UTC midnights.
fn tuesday() -> Timestamp {
    utc(2026, 12, 1, 0, 0)
}
fn wednesday() -> Timestamp {
    utc(2026, 12, 2, 0, 0)
}

/// `day` plus `h:m` (UTC).
fn on(day: Timestamp, h: i64, m: i64) -> Timestamp {
    day + Duration::hours(h) + Duration::minutes(m)
}

/// The partner backend: sends the events, heartbeats the live sessions, runs the sweeps,
/// keeps the timeline, the actions and the answers.
struct Driver<'a> {
    sb: &'a Sandbox,
    tenant: TenantId,
    narrator: &'a Narrator,
    n: usize,
    /// Bus events already looked at for answers.
    bus_seen: usize,
    /// Live sessions: (workspace, session).
    sessions: Vec<(String, String)>,
    run: ScheduleRun,
}

impl Driver<'_> {
    fn line(&mut self, what: String) {
        let event = Event {
            at: self.sb.control().now(),
            what,
        };
        self.narrator.line(&event);
        self.run.timeline.push(event);
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

    /// Moves the clock to `t`. The clock also runs on in real time, so a step at the time
    /// the clock just passed (by milliseconds) happens now; a step a minute late is a bug
    /// in the scenario's order, refused.
    fn at(&self, t: Timestamp) -> Result<(), ScheduleError> {
        let now = self.sb.control().now();
        if t <= now {
            if now - t > Duration::minutes(1) {
                return Err(ScheduleError::Clock(format!(
                    "a step due at {t} comes after {now}"
                )));
            }
            return Ok(());
        }
        self.sb
            .control()
            .set_time(t)
            .map(|_| ())
            .map_err(|e| ScheduleError::Clock(e.to_string()))
    }

    /// Delivers one partner event (its tenant and time filled in): its id and the answer;
    /// a refusal is told, and ends the scenario.
    async fn deliver(
        &mut self,
        detail_type: &str,
        mut detail: Value,
    ) -> Result<(String, Processed), ScheduleError> {
        self.n += 1;
        let id = format!("demo-schedule-{}", self.n);
        let now = self.sb.control().now();
        detail["tenantId"] = json!(self.tenant);
        detail["occurredAt"] = json!(now);
        let event = json!({
            "version": "0", "id": id, "detail-type": detail_type,
            "source": self.sb.deps.config.partner_event_source,
            "account": "111122223333", "time": now, "region": "us-east-1",
            "resources": [], "detail": detail,
        });
        self.narrator
            .doing(format!("schedule: the {detail_type} event"), None);
        match process(&event, &self.sb.deps).await {
            Ok(p) => Ok((id, p)),
            Err(e) => {
                let error = format!("{}: {e}", e.name());
                self.line(format!("{detail_type}: refused: {error}"));
                Err(ScheduleError::Refused {
                    step: detail_type.to_owned(),
                    error,
                })
            }
        }
    }

    /// Sends one partner event and tells what it did.
    async fn send(&mut self, detail_type: &str, detail: Value) -> Result<(), ScheduleError> {
        let (_, p) = self.deliver(detail_type, detail).await?;
        let result = serde_json::to_value(p.result)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        self.line(format!(
            "{detail_type}: {result} ({} conditional writes)",
            p.writes
        ));
        self.took(p.actions);
        Ok(())
    }

    async fn current_tenant(&self) -> Result<Tenant, ScheduleError> {
        self.sb
            .deps
            .store
            .get_tenant(&self.tenant)
            .await?
            .ok_or_else(|| ScheduleError::UnknownTenant(self.tenant.to_string()))
    }

    /// One tick of the schedule at the five-minute mark `mark`: the live sessions'
    /// heartbeats, then the idle sweep, [`SWEEP_OFFSET_SECONDS`] after the mark.
    async fn tick(&mut self, mark: Timestamp) -> Result<(), ScheduleError> {
        self.at(mark + Duration::seconds(SWEEP_OFFSET_SECONDS))?;
        for (ws, session) in self.sessions.clone() {
            let detail = json!({"workspaceId": ws, "sessionId": session});
            self.deliver("Session Heartbeat", detail).await?;
        }
        self.narrator.doing("schedule: the idle sweep", None);
        let tenant = self.current_tenant().await?;
        let options = SweepOptions::default();
        match sweep_one(&self.sb.deps, &tenant, SweepKind::Idle, &options).await {
            TenantOutcome::Swept(s) => {
                if s.started + s.stopped + s.warned > 0 {
                    self.line(format!(
                        "idle sweep: {} desktops reconciled, {} started, {} stopped, {} sessions warned",
                        s.looked_at, s.started, s.stopped, s.warned
                    ));
                }
                self.took(s.actions);
            }
            TenantOutcome::Failed { error, message, .. } => {
                self.line(format!("idle sweep failed: {error}: {message}"));
            }
        }
        Ok(())
    }

    /// Ticks every five minutes from `from` to `to`, both included.
    async fn ticks(&mut self, from: Timestamp, to: Timestamp) -> Result<(), ScheduleError> {
        let mut t = from;
        while t <= to {
            self.tick(t).await?;
            t += Duration::minutes(5);
        }
        Ok(())
    }

    /// Bus events published since the last look.
    fn new_bus_events(&mut self) -> Vec<workspaces_core_emulator::eventbridge::CapturedEvent> {
        let events = self.sb.control().events();
        let fresh = events.get(self.bus_seen..).unwrap_or_default().to_vec();
        self.bus_seen = events.len();
        fresh
    }

    /// `user` asks for a desktop of the pool; the answer is read from the partner bus
    /// (`Desktop Assigned` / `Desktop Assignment Failed` naming the request).
    async fn request(&mut self, user: &str) -> Result<Assignment, ScheduleError> {
        self.new_bus_events();
        let (id, processed) = self
            .deliver(
                "Desktop Assignment Requested",
                json!({"poolId": POOL, "userId": user}),
            )
            .await?;
        let mut answer = Assignment {
            user: user.to_owned(),
            pool: POOL.to_owned(),
            workspace_id: None,
            outcome: AssignmentOutcome::Unanswered,
        };
        for e in self.new_bus_events() {
            let d = &e.detail;
            if d["requestId"] != id.as_str() {
                continue;
            }
            match e.detail_type.as_str() {
                ot::DESKTOP_ASSIGNED => {
                    answer.workspace_id = d["workspaceId"].as_str().map(str::to_owned);
                    answer.outcome = AssignmentOutcome::Assigned;
                }
                ot::DESKTOP_ASSIGNMENT_FAILED => {
                    if let Ok(why) = serde_json::from_value(d["failure"].clone()) {
                        answer.outcome = AssignmentOutcome::Failed(why);
                    }
                }
                _ => {}
            }
        }
        self.took(processed.actions);
        self.line(format!(
            "{user} asked for a desktop of {POOL}: {}{}",
            answer.outcome,
            answer
                .workspace_id
                .as_deref()
                .map(|w| format!(" {w}"))
                .unwrap_or_default(),
        ));
        self.run.assignments.push(answer.clone());
        Ok(answer)
    }

    /// `user` takes a desktop and starts working on it (the session is heartbeated).
    async fn arrive(&mut self, user: &str) -> Result<(), ScheduleError> {
        let a = self.request(user).await?;
        if let Some(ws) = a.workspace_id {
            let session = format!("{user}-shift");
            let detail = json!({"workspaceId": ws, "sessionId": session});
            self.send("Session Started", detail).await?;
            self.sessions.push((ws, session));
        }
        Ok(())
    }

    /// `user`'s session ends (the desktop is released for the pool's delay).
    async fn leave(&mut self, user: &str) -> Result<(), ScheduleError> {
        let session = format!("{user}-shift");
        let Some(i) = self.sessions.iter().position(|(_, s)| *s == session) else {
            return Ok(());
        };
        let (ws, session) = self.sessions.remove(i);
        let detail = json!({"workspaceId": ws, "sessionId": session});
        self.send("Session Ended", detail).await
    }

    /// The pool's desktops in the service now, told and kept as `opening_minute`.
    async fn opening_minute(&mut self, day: &str) -> Result<(), ScheduleError> {
        let tenant = self.current_tenant().await?;
        let region = tenant
            .regions
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        let pool = PoolId::parse(POOL).map_err(|e| ScheduleError::Name(e.to_string()))?;
        let mut states = BTreeMap::new();
        for r in records_of(self.sb, &self.tenant).await? {
            if r.pool.as_ref().is_some_and(|s| s.pool_id == pool) {
                let id = r.workspace_id.to_string();
                let state = self
                    .sb
                    .control()
                    .workspace_state(tenant.account_id.as_str(), &region, &id)
                    .unwrap_or_else(|| "UNKNOWN".into());
                states.insert(id, state);
            }
        }
        let zone = zone()?;
        let at = ZonedTime::of(&zone, self.sb.control().now());
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for s in states.values() {
            *counts.entry(s.as_str()).or_insert(0) += 1;
        }
        self.line(format!(
            "{day} 07:00 in {ZONE}: pool {POOL} in the service: {}",
            counts
                .iter()
                .map(|(s, n)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        self.run.report.opening_minute.push(OpeningMinute {
            pool: POOL.to_owned(),
            at,
            states,
        });
        Ok(())
    }
}

fn zone() -> Result<ZoneName, ScheduleError> {
    ZoneName::parse(ZONE).map_err(|e| ScheduleError::Name(e.to_string()))
}

/// Runs the schedule scenario on the onboarded `tenant` (see the module docs).
pub async fn run(
    sb: &Sandbox,
    tenant: &TenantId,
    narrator: &Narrator,
) -> Result<ScheduleRun, ScheduleError> {
    let mut d = Driver {
        sb,
        tenant: tenant.clone(),
        narrator,
        n: 0,
        bus_seen: 0,
        sessions: Vec::new(),
        run: ScheduleRun::default(),
    };
    monday(&mut d).await?;
    tuesday_morning(&mut d).await?;
    tuesday_evening(&mut d).await?;
    holiday(&mut d).await?;
    narrator.doing("schedule: the plans' next windows", None);
    d.run.report.plans = plans(sb, tenant).await?;
    for p in d.run.report.plans.clone() {
        let show = |z: &Option<ZonedTime>| {
            z.as_ref().map_or_else(
                || "never".to_owned(),
                |z| format!("{} ({})", z.local, z.utc),
            )
        };
        d.line(format!(
            "plan of {} ({}): next window opens {}, closes {}",
            p.pool,
            p.zone,
            show(&p.next_open),
            show(&p.next_close)
        ));
    }
    narrator.idle();
    Ok(d.run)
}

/// Step 1, Monday evening: the pool, the calendar, the plan and the users; the desktops
/// come up and the idle rule stops them overnight.
async fn monday(d: &mut Driver<'_>) -> Result<(), ScheduleError> {
    d.at(utc(2026, 11, 30, 22, 0))?;
    create_pool(d).await?;
    d.send(
        "Holiday Calendar Loaded",
        json!({"name": CALENDAR, "ics": ICS}),
    )
    .await?;
    let plan = json!({
        "zone": ZONE,
        "windows": [{"days": ["MON", "TUE", "WED", "THU", "FRI"], "open": "07:00", "close": "19:00"}],
        "calendars": [CALENDAR],
        "bufferCount": BUFFER_COUNT,
        "drain": {"graceMinutes": GRACE_MINUTES},
    });
    d.send("Power Plan Updated", json!({"poolId": POOL, "plan": plan}))
        .await?;
    let users: Vec<Value> = (1..=AGENTS)
        .map(|n| json!({"userId": agent(n), "displayName": format!("Agent {n}"), "pools": [POOL]}))
        .collect();
    d.send("Users Loaded", json!({"users": users})).await?;
    d.line("the service creates the pool's desktops (20 minutes in the emulator)".into());
    d.tick(utc(2026, 11, 30, 22, 21)).await?;
    d.line("the window is closed: the idle rule stops the pool's desktops after an hour".into());
    d.tick(utc(2026, 11, 30, 23, 30)).await?;
    d.tick(utc(2026, 11, 30, 23, 35)).await?;
    Ok(())
}

/// The pool, on the bundle and directory of the onboarded desktops.
async fn create_pool(d: &mut Driver<'_>) -> Result<(), ScheduleError> {
    let t = d.current_tenant().await?;
    let records = records_of(d.sb, &t.tenant_id).await?;
    let Some(bundle) = records.iter().find_map(|r| r.bundle_id.clone()) else {
        return Err(ScheduleError::NoBundle(t.tenant_id.to_string()));
    };
    let directory = records
        .iter()
        .find(|r| r.bundle_id.as_ref() == Some(&bundle))
        .map(|r| r.directory_id.clone());
    let recorded = t.bundle_protocols.get(&bundle).copied();
    let protocol = recorded.unwrap_or(StreamingProtocol::Byop);
    let mut pool = json!({
        "poolId": POOL, "directoryId": directory, "bundleId": bundle,
        "protocol": protocol.as_str(), "minSize": POOL_SIZE, "maxSize": POOL_SIZE,
        "growBy": 1, "assignment": "FLOATING",
        "releasePlan": {"action": "RETURN", "delayMinutes": RELEASE_DELAY_MINUTES},
    });
    if recorded.is_none() {
        // The partner vouches for the protocol of the image the onboarding imported.
        pool["allowUnverifiedProtocol"] = json!(true);
    }
    d.send("Pool Created", pool).await
}

/// The agents (`agent-1` … `agent-4`).
pub fn agent(n: usize) -> String {
    format!("agent-{n}")
}

/// Steps 2 and 3, Tuesday until 11:00 in Berlin: the pre-warm, the opening minute, the
/// buffer refilled as agents take desktops.
async fn tuesday_morning(d: &mut Driver<'_>) -> Result<(), ScheduleError> {
    let day = tuesday();
    d.at(on(day, 5, 30))?;
    d.line("Tuesday: the sweep every five minutes before the 07:00 opening in Berlin".into());
    d.ticks(on(day, 5, 30), on(day, 5, 55)).await?;
    d.at(on(day, 6, 0))?;
    d.opening_minute("Tuesday").await?;
    d.tick(on(day, 6, 0)).await?;
    d.at(on(day, 7, 0))?;
    d.arrive(&agent(1)).await?;
    d.arrive(&agent(2)).await?;
    d.ticks(on(day, 7, 5), on(day, 7, 10)).await?;
    d.at(on(day, 9, 0))?;
    d.arrive(&agent(3)).await?;
    d.ticks(on(day, 9, 5), on(day, 9, 10)).await?;
    Ok(())
}

/// Step 4, Tuesday evening: two agents leave before the close, the third works past it.
async fn tuesday_evening(d: &mut Driver<'_>) -> Result<(), ScheduleError> {
    let day = tuesday();
    d.at(on(day, 17, 48))?;
    d.leave(&agent(1)).await?;
    d.leave(&agent(2)).await?;
    d.ticks(on(day, 17, 50), on(day, 18, 30)).await?;
    d.at(on(day, 18, 33))?;
    d.leave(&agent(3)).await?;
    d.ticks(on(day, 18, 35), on(day, 18, 50)).await?;
    Ok(())
}

/// Step 5, the Wednesday holiday: the window stays shut, nothing starts, assignments are
/// refused.
async fn holiday(d: &mut Driver<'_>) -> Result<(), ScheduleError> {
    let day = wednesday();
    d.at(on(day, 5, 30))?;
    d.line(format!(
        "Wednesday {}: a holiday in calendar {CALENDAR}; the sweep every five minutes before 07:00",
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default()
    ));
    d.ticks(on(day, 5, 30), on(day, 5, 55)).await?;
    d.at(on(day, 6, 0))?;
    d.opening_minute("Wednesday").await?;
    d.ticks(on(day, 6, 0), on(day, 6, 10)).await?;
    d.at(on(day, 8, 0))?;
    d.request(&agent(4)).await?;
    d.tick(on(day, 18, 0)).await?;
    d.at(on(day, 19, 0))?;
    Ok(())
}

async fn records_of(
    sb: &Sandbox,
    tenant: &TenantId,
) -> Result<Vec<WorkspaceRecord>, ScheduleError> {
    let mut all =
        collect_all(|page: PageRequest| sb.deps.store.list_workspaces(tenant, page)).await?;
    all.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
    Ok(all)
}
