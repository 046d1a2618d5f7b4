//! The demo: the main job of the sandbox. It starts the sandbox (the emulator with its
//! default customer, the embedded DynamoDB engine, the handlers and the runner), onboards
//! the default customer with the Onboarding state machine of `template.yaml`, answering the
//! image selection through the callback path as a partner UI would, and reports a timeline
//! (or one JSON object with `--json`). Each timeline line is also told to the options'
//! [`Narrator`] when it happens (`crate::narrator`), with what the demo waits for meanwhile.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use steward_shared::ids::TenantId;
use steward_shared::model::{StepStatus, TenantStatus};
use steward_shared::store::{
    DynamoStore, PageRequest, StepStore, TenantStore, WorkspaceStore, collect_all,
};

use crate::demo_onboarding::tell_onboarding_events;
use crate::narrator::{Event, Narrator};
use crate::sandbox::{Sandbox, SandboxError, SandboxOptions, default_onboarding_input, drive};
use parking_lot::Mutex;
use stepfunctions_runner::ExecutionResult;
use workspaces_core_emulator::Options;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error("store: {0}")]
    Store(#[from] steward_shared::store::StoreError),
    #[error("onboarding did not succeed: {0}")]
    Onboarding(String),
    #[error("the simulated day: {0}")]
    Day(#[from] crate::day::DayError),
    #[error("the pools scenario: {0}")]
    Pools(#[from] crate::demo_pools::PoolsError),
    #[error("the schedule scenario: {0}")]
    Schedule(#[from] crate::demo_schedule::ScheduleError),
}

#[derive(Debug, Serialize)]
pub struct TenantSummary {
    pub id: String,
    pub onboarding: TenantStatus,
    pub steps: Vec<StepSummary>,
    /// Desktops Steward tracks, counted by their last observed state.
    pub workspaces: BTreeMap<String, usize>,
}

#[derive(Debug, Serialize)]
pub struct StepSummary {
    pub step: String,
    pub status: StepStatus,
}

pub use steward_functions::power::PowerAction;

/// What `demo --json` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    pub tenants: Vec<TenantSummary>,
    pub power_actions: Vec<PowerAction>,
    /// The pools scenario's pools at its end (name, size, free, assigned); absent from the
    /// other scenarios.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pools: Option<Vec<crate::demo_pools::PoolSummary>>,
    /// The pools scenario's assignment requests, in order (user, pool, workspaceId or null,
    /// outcome); absent from the other scenarios.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignments: Option<Vec<crate::demo_pools::Assignment>>,
    /// The schedule scenario's `plans` and `opening_minute`; absent from the other scenarios.
    #[serde(flatten)]
    pub schedule: Option<crate::demo_schedule::ScheduleReport>,
    /// AWS calls the sandbox served, per `Service.Operation` (all accounts), refused and
    /// throttled ones included.
    pub api_calls: BTreeMap<String, u64>,
    /// Of those, the calls answered with an error (throttling included), per operation;
    /// operations with none are left out.
    pub api_errors: BTreeMap<String, u64>,
    pub timeline: Vec<Event>,
}

/// What the demo does after onboarding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scenario {
    /// A simulated day of power governance.
    #[default]
    Day,
    /// Every lifecycle operation of the guide (`crate::demo_lifecycle`), then offboarding.
    Lifecycle,
    /// Pools, users and release plans (`crate::demo_pools`).
    Pools,
    /// A power control plan over two simulated days, one a holiday (`crate::demo_schedule`).
    Schedule,
}

pub struct DemoOptions {
    /// What to do after onboarding.
    pub scenario: Scenario,
    /// Keep the embedded engine's tables in this SQLite file instead of memory.
    pub state_file: Option<String>,
    pub table: String,
    /// Desktops to create for the default customer.
    pub desktops: u32,
    /// Told each timeline line when it happens, and what the demo is doing (silent by
    /// default; the report is the same either way).
    pub narrator: Narrator,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            scenario: Scenario::Day,
            state_file: None,
            table: "steward".into(),
            desktops: 5,
            narrator: Narrator::default(),
        }
    }
}

pub async fn run(opts: DemoOptions) -> Result<Report, DemoError> {
    let sb = Sandbox::start(SandboxOptions {
        table: opts.table.clone(),
        state_file: opts.state_file.clone(),
        emulator: Options::default(),
        // The schedule scenario's days are fixed dates.
        start_time: (opts.scenario == Scenario::Schedule).then(crate::demo_schedule::start_time),
    })
    .await?;
    let watching = opts.narrator.watch(sb.control());
    let report = match opts.scenario {
        Scenario::Day => demo_on(&sb, opts.desktops, &opts.narrator).await,
        Scenario::Lifecycle => lifecycle_on(&sb, opts.desktops, &opts.narrator).await,
        Scenario::Pools => pools_on(&sb, opts.desktops, &opts.narrator).await,
        Scenario::Schedule => schedule_on(&sb, opts.desktops, &opts.narrator).await,
    };
    drop(watching);
    opts.narrator.finish();
    sb.shutdown().await;
    report
}

/// Adds `event` to the timeline and tells it now.
pub(crate) fn tell(timeline: &mut Vec<Event>, narrator: &Narrator, event: Event) {
    narrator.line(&event);
    timeline.push(event);
}

async fn demo_on(sb: &Sandbox, desktops: u32, narrator: &Narrator) -> Result<Report, DemoError> {
    // The simulated day plays five desktops' parts.
    let mut timeline = onboard(sb, desktops.max(5), false, narrator).await?;
    let tenant =
        TenantId::parse("demo-customer").map_err(|e| DemoError::Onboarding(e.to_string()))?;
    let onboarded_events = sb.control().events().len();
    tell(
        &mut timeline,
        narrator,
        Event {
            at: sb.control().now(),
            what: "a simulated day of sessions, idle stops, a console start, a leased start and the 48-hour guard"
                .into(),
        },
    );
    // The day tells each power action as it is taken.
    let power_actions =
        crate::day::simulate_day_narrated(&sb.deps, sb.control(), &tenant, narrator).await?;
    timeline.extend(power_actions.iter().map(crate::day::power_event));
    let day_events = sb.control().events().len() - onboarded_events;
    tell(
        &mut timeline,
        narrator,
        Event {
            at: sb.control().now(),
            what: format!("{day_events} power events published on the partner bus during the day"),
        },
    );
    report(
        sb,
        narrator,
        Ending {
            timeline,
            power_actions,
            pools: None,
            assignments: None,
            schedule: None,
        },
    )
    .await
}

async fn lifecycle_on(
    sb: &Sandbox,
    desktops: u32,
    narrator: &Narrator,
) -> Result<Report, DemoError> {
    // The scenario edits tags: this customer deployed its role with AllowTagManagement=true
    // (the template's default is false) and says so in the onboarding request.
    sb.control().update_account(
        workspaces_core_emulator::seed::CUSTOMER_ACCOUNT,
        &workspaces_core_emulator::switches::AccountSwitches {
            allow_tag_management: Some(true),
            ..Default::default()
        },
    );
    let mut timeline = onboard(sb, desktops.max(5), true, narrator).await?;
    let tenant =
        TenantId::parse("demo-customer").map_err(|e| DemoError::Onboarding(e.to_string()))?;
    timeline.extend(crate::demo_lifecycle::run(sb, &tenant, narrator).await);
    report(
        sb,
        narrator,
        Ending {
            timeline,
            power_actions: Vec::new(),
            pools: None,
            assignments: None,
            schedule: None,
        },
    )
    .await
}

async fn pools_on(sb: &Sandbox, desktops: u32, narrator: &Narrator) -> Result<Report, DemoError> {
    let mut timeline = onboard(sb, desktops, false, narrator).await?;
    let tenant =
        TenantId::parse("demo-customer").map_err(|e| DemoError::Onboarding(e.to_string()))?;
    let run = crate::demo_pools::run(sb, &tenant, narrator).await?;
    timeline.extend(run.timeline);
    report(
        sb,
        narrator,
        Ending {
            timeline,
            power_actions: run.power_actions,
            pools: Some(run.pools),
            assignments: Some(run.assignments),
            schedule: None,
        },
    )
    .await
}

async fn schedule_on(
    sb: &Sandbox,
    desktops: u32,
    narrator: &Narrator,
) -> Result<Report, DemoError> {
    let mut timeline = onboard(sb, desktops, false, narrator).await?;
    let tenant =
        TenantId::parse("demo-customer").map_err(|e| DemoError::Onboarding(e.to_string()))?;
    let run = crate::demo_schedule::run(sb, &tenant, narrator).await?;
    timeline.extend(run.timeline);
    report(
        sb,
        narrator,
        Ending {
            timeline,
            power_actions: run.power_actions,
            pools: None,
            assignments: Some(run.assignments),
            schedule: Some(run.report),
        },
    )
    .await
}

/// What a scenario ends with, before the summary from the table.
struct Ending {
    timeline: Vec<Event>,
    power_actions: Vec<PowerAction>,
    pools: Option<Vec<crate::demo_pools::PoolSummary>>,
    assignments: Option<Vec<crate::demo_pools::Assignment>>,
    schedule: Option<crate::demo_schedule::ScheduleReport>,
}

/// Every scenario's end: the summary (tenants, steps and desktops) from the table, the calls
/// the sandbox served, and the timeline in time order.
async fn report(sb: &Sandbox, narrator: &Narrator, end: Ending) -> Result<Report, DemoError> {
    narrator.doing(
        "the summary: tenants, steps and desktops from the table",
        None,
    );
    let mut timeline = end.timeline;
    timeline.sort_by_key(|e| e.at);
    Ok(Report {
        tenants: summarise(&sb.deps.store).await?,
        power_actions: end.power_actions,
        pools: end.pools,
        assignments: end.assignments,
        schedule: end.schedule,
        api_calls: api_calls(sb),
        api_errors: api_errors(sb),
        timeline,
    })
}

/// Onboards the default customer: CIDR and BYOL confirmation are given up front; the AMI
/// and the directory are chosen through their pauses, from the offers, as a partner UI
/// would.
async fn onboard(
    sb: &Sandbox,
    desktops: u32,
    allow_tag_management: bool,
    narrator: &Narrator,
) -> Result<Vec<Event>, DemoError> {
    let mut input = default_onboarding_input(desktops);
    input["confirmByol"] = json!(true);
    input["allowTagManagement"] = json!(allow_tag_management);
    input["selections"] = json!({"managementCidr": "10.200.0.0/16"});
    let wf = sb.runner("OnboardingStateMachine")?;
    let mut timeline = Vec::new();
    tell(
        &mut timeline,
        narrator,
        Event {
            at: sb.control().now(),
            what: format!(
                "onboarding execution started for demo-customer (account {}), {desktops} desktops",
                workspaces_core_emulator::seed::CUSTOMER_ACCOUNT
            ),
        },
    );
    let exec = wf.runner.start("demo-onboarding", input);
    narrator.running("onboarding", &exec);
    // The partner UI's answers, read by the telling of the pause's event.
    let answers = Mutex::new(Vec::new());
    let answered = drive(&exec, |task| {
        // The first option the offer marks usable: an eligible AMI, a usable directory.
        let pause = task.input["input"].as_str().unwrap_or_default();
        let (flag, id_field, answer_field) = match pause {
            "directory" => ("usable", "directoryId", "directoryId"),
            _ => ("eligible", "imageId", "ec2ImageId"),
        };
        let choice = task.input["offer"]["options"]
            .as_array()?
            .iter()
            .find(|o| o[flag] == true)?
            .get(id_field)?
            .clone();
        answers.lock().push(format!(
            "partner UI answered the {pause} pause: {} (SendTaskSuccess)",
            choice.as_str().unwrap_or_default()
        ));
        Some(json!({ answer_field: choice }))
    });
    let told = tell_onboarding_events(sb, &exec, &answers, narrator);
    let (result, told) = tokio::join!(answered, told);
    narrator.idle();
    timeline.extend(told);
    let output = match result {
        ExecutionResult::Succeeded { output } => output,
        ExecutionResult::Failed { error, cause } => {
            return Err(DemoError::Onboarding(format!("{error}: {cause}")));
        }
        other => return Err(DemoError::Onboarding(format!("{other:?}"))),
    };
    tell(
        &mut timeline,
        narrator,
        Event {
            at: sb.control().now(),
            what: format!(
                "execution output: {}",
                serde_json::to_string(&output).unwrap_or_default()
            ),
        },
    );
    Ok(timeline)
}

fn api_errors(sb: &Sandbox) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for ops in sb.control().counters().values() {
        for (op, count) in ops.iter().filter(|(_, c)| c.errors > 0) {
            *out.entry(op.clone()).or_insert(0) += count.errors;
        }
    }
    out
}

fn api_calls(sb: &Sandbox) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for ops in sb.control().counters().values() {
        for (op, count) in ops {
            *out.entry(op.clone()).or_insert(0) += count.calls;
        }
    }
    out
}

async fn summarise(store: &DynamoStore) -> Result<Vec<TenantSummary>, DemoError> {
    let tenants = collect_all(|p| store.list_tenants(p)).await?;
    let mut out = Vec::new();
    for t in tenants {
        let steps = store
            .list_steps(&t.tenant_id)
            .await?
            .into_iter()
            .map(|s| StepSummary {
                step: steward_functions::onboarding::step_name(s.step),
                status: s.status,
            })
            .collect();
        out.push(TenantSummary {
            id: t.tenant_id.to_string(),
            onboarding: t.status,
            steps,
            workspaces: count_workspaces(store, &t.tenant_id).await?,
        });
    }
    Ok(out)
}

async fn count_workspaces(
    store: &DynamoStore,
    tenant: &TenantId,
) -> Result<BTreeMap<String, usize>, DemoError> {
    let mut counts = BTreeMap::new();
    let all = collect_all(|p| {
        store.list_workspaces(
            tenant,
            PageRequest {
                limit: Some(100),
                ..p
            },
        )
    })
    .await?;
    for w in all {
        *counts.entry(w.state.as_str().to_owned()).or_insert(0) += 1;
    }
    Ok(counts)
}

/// The first line of the human-readable report (printed before the live lines).
pub const HEADER: &str = "Steward sandbox demo (times are the emulator's virtual clock)\n\n";

/// The human-readable form of a report: [`HEADER`], the timeline, [`render_summary`].
pub fn render(report: &Report) -> String {
    let mut out = String::from(HEADER);
    for e in &report.timeline {
        out.push_str(&e.rendered());
    }
    out.push('\n');
    out.push_str(&render_summary(report));
    out
}

/// The report's summary: each tenant with its steps and desktops, and the API calls served.
pub fn render_summary(report: &Report) -> String {
    let mut out = String::new();
    for t in &report.tenants {
        out.push_str(&format!(
            "tenant {}: {:?}; steps: {}; desktops: {}\n",
            t.id,
            t.onboarding,
            t.steps
                .iter()
                .map(|s| format!("{} {:?}", s.step, s.status))
                .collect::<Vec<_>>()
                .join(", "),
            t.workspaces
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.push_str(&format!(
        "\nAPI calls served: {}\n",
        report
            .api_calls
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::narrator::Style;
    use std::sync::Arc;

    /// A writer whose bytes the test reads afterwards.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_demo_onboards_the_default_customer() {
        let told = Captured::default();
        let report = run(DemoOptions {
            desktops: 5,
            narrator: Narrator::new(Box::new(told.clone()), Style::Lines),
            ..DemoOptions::default()
        })
        .await
        .unwrap();
        assert_eq!(report.tenants.len(), 1);
        let t = &report.tenants[0];
        assert_eq!(t.id, "demo-customer");
        assert_eq!(t.onboarding, TenantStatus::Active);
        assert_eq!(t.steps.len(), 12);
        assert_eq!(t.workspaces.values().sum::<usize>(), 5);
        let actions: Vec<&str> = report
            .power_actions
            .iter()
            .map(|a| a.action.as_str())
            .collect();
        assert!(actions.contains(&"stop"), "{actions:?}");
        assert!(actions.contains(&"guard_warning"), "{actions:?}");
        // Completions, and drift only for the console's start.
        assert!(actions.contains(&"available"), "{actions:?}");
        assert!(actions.contains(&"stopped"), "{actions:?}");
        assert_eq!(
            actions.iter().filter(|a| **a == "drift").count(),
            1,
            "{actions:?}"
        );
        // Counted as served, throttled attempts included (the rate limit is on).
        assert!(report.api_calls.get("WorkSpaces.CreateWorkspaces") >= Some(&1));
        assert!(report.api_calls.get("WorkSpaces.ImportWorkspaceImage") >= Some(&1));
        assert!(report.api_calls.get("EventBridge.PutEvents") >= Some(&14));
        let lines: Vec<&str> = report.timeline.iter().map(|e| e.what.as_str()).collect();
        assert!(
            lines
                .iter()
                .any(|l| l.contains("partner UI answered the image pause")),
            "{lines:#?}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert!(json["tenants"][0]["workspaces"].is_object());
        assert!(json["power_actions"].is_array());
        assert!(json["api_calls"].is_object());
        assert!(json["api_errors"].is_object());
        // Errors are a part of the calls, operation by operation.
        for (op, errors) in &report.api_errors {
            assert!(report.api_calls.get(op) >= Some(errors), "{op}");
        }
        assert!(render(&report).contains("tenant demo-customer: Active"));
        // Told as it happened: every timeline line, once, in plain lines, and what it
        // waited for in between.
        let told = String::from_utf8(told.0.lock().clone()).unwrap();
        let waiting_lines = told
            .lines()
            .filter(|l| l.starts_with(&format!("{:18}waiting: ", "")))
            .count();
        assert!(
            told.contains(&format!("{:18}waiting: onboarding: ", "")),
            "{told}"
        );
        for e in &report.timeline {
            assert_eq!(told.matches(&e.rendered()).count(), 1, "{}", e.what);
        }
        assert_eq!(
            told.lines().count(),
            waiting_lines
                + report
                    .timeline
                    .iter()
                    .map(|e| e.rendered().lines().count())
                    .sum::<usize>(),
            "{told}"
        );
        assert!(!told.contains(['\r', '\x1b']), "{told}");
    }
}
