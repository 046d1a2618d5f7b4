//! Onboarding end to end: the Onboarding state machine of `template.yaml`, executed by the
//! local runner against the real handlers, on the WorkSpaces Core emulator (tag policy on)
//! and the embedded DynamoDB engine.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use serde_json::{Value, json};
use stepfunctions_runner::{ExecutionResult, FnInvoker, TaskFailure, TaskInvoker, TaskRequest};
use steward_local::sandbox::{Sandbox, default_onboarding_input, drive};
use steward_shared::model::{StepStatus, TenantStatus};
use steward_shared::store::{PageRequest, StepStore, TenantStore, WorkspaceStore, collect_all};
use steward_tests::flows::{changes_in, demo_tenant, sandbox};
use workspaces_core_emulator::limits::FaultRule;
use workspaces_core_emulator::seed::{CUSTOMER_ACCOUNT, ids};

const MACHINE: &str = "OnboardingStateMachine";

/// The default input with every selection made up front.
fn selected_input(desktops: u32) -> Value {
    let mut input = default_onboarding_input(desktops);
    input["confirmByol"] = json!(true);
    input["selections"] = json!({
        "managementCidr": "10.200.0.0/16",
        "ec2ImageId": ids::AMI_WIN11_ELIGIBLE,
        "directoryId": ids::DIRECTORY_CORP,
    });
    input
}

/// Answers as the customer would, through the partner UI.
fn customer(task: &stepfunctions_runner::PendingTask) -> Option<Value> {
    let offered = |key: &str| -> Vec<Value> {
        task.input["offer"]["options"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|o| o.get("eligible").is_none_or(|e| e == true))
            .map(|o| o.get(key).cloned().unwrap_or(o))
            .collect()
    };
    match task.input["input"].as_str() {
        Some("managementCidr") => Some(json!({"managementCidr": offered("x")[0]})),
        Some("byolConfirmation") => Some(json!({"confirm": true})),
        Some("image") => Some(json!({"ec2ImageId": offered("imageId")[0]})),
        // No directory is registered yet: the customer names its Directory Service one.
        Some("directory") => Some(json!({"directoryId": ids::DIRECTORY_CORP})),
        _ => None,
    }
}

async fn run(sb: &Sandbox, name: &str, input: Value) -> ExecutionResult {
    let wf = sb.runner(MACHINE).expect("the definition loads");
    let exec = wf.runner.start(name, input);
    drive(&exec, customer).await
}

async fn desktops_by_state(sb: &Sandbox) -> BTreeMap<&'static str, usize> {
    let tenant = demo_tenant();
    let records = collect_all(|p| sb.deps.store.list_workspaces(&tenant, p))
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for r in records {
        *out.entry(r.state.as_str()).or_default() += 1;
    }
    out
}

fn succeeded(r: &ExecutionResult) -> &Value {
    match r {
        ExecutionResult::Succeeded { output } => output,
        other => panic!("the execution did not succeed: {other:?}"),
    }
}

#[tokio::test]
async fn byol_path_with_customer_pauses_ends_active_with_dedicated_desktops() {
    let sb = sandbox(false).await;
    let result = run(&sb, "byol", default_onboarding_input(3)).await;
    let out = succeeded(&result);
    assert_eq!(out["status"], "ACTIVE");
    assert_eq!(out["workspaces"], 3);

    let tenant = sb
        .deps
        .store
        .get_tenant(&demo_tenant())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant.status, TenantStatus::Active);
    let steps = sb.deps.store.list_steps(&demo_tenant()).await.unwrap();
    assert_eq!(steps.len(), 12, "every step of the guide is recorded");
    assert!(
        steps.iter().all(|s| s.status == StepStatus::Completed),
        "{steps:#?}"
    );
    assert_eq!(
        desktops_by_state(&sb).await,
        BTreeMap::from([("AVAILABLE", 3)])
    );

    // Every customer selection went through a pause and its event on the partner bus.
    let pauses = sb.control().events_of("Onboarding Awaiting Customer Input");
    let asked: Vec<&str> = pauses
        .iter()
        .filter_map(|e| e.detail["input"].as_str())
        .collect();
    assert_eq!(
        asked,
        ["managementCidr", "byolConfirmation", "image", "directory"]
    );
    assert!(pauses.iter().all(|e| e.detail["taskToken"].is_string()));
    let image_pause = &pauses[2].detail;
    let encrypted = image_pause["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["imageId"] == ids::AMI_ENCRYPTED)
        .expect("the encrypted AMI is offered, marked");
    assert_eq!(encrypted["eligible"], false);
    assert!(
        encrypted["reasons"][0]
            .as_str()
            .unwrap()
            .contains("encrypted")
    );
    assert_eq!(
        sb.control().events_of("Onboarding Step Completed").len(),
        12
    );
    assert_eq!(sb.control().events_of("Onboarding Succeeded").len(), 1);

    // What the service now holds: BYOL on, a DEDICATED directory, tagged desktops.
    let ws = &sb.deps.clients;
    let clients = ws
        .for_tenant(steward_shared::aws::TenantAccess::new(
            &tenant,
            &tenant.regions[0],
        ))
        .await;
    let account = clients
        .workspaces()
        .describe_account()
        .send()
        .await
        .unwrap();
    assert_eq!(
        account.dedicated_tenancy_support().map(|s| s.as_str()),
        Some("ENABLED")
    );
    let dirs = clients
        .workspaces()
        .describe_workspace_directories()
        .send()
        .await
        .unwrap();
    assert_eq!(dirs.directories().len(), 1);
    assert_eq!(
        dirs.directories()[0].tenancy().map(|t| t.as_str()),
        Some("DEDICATED")
    );
    assert_eq!(
        dirs.directories()[0]
            .workspace_creation_properties()
            .and_then(|p| p.custom_security_group_id()),
        Some(ids::SECURITY_GROUP_PARTNER)
    );
    let w = clients
        .workspaces()
        .describe_workspaces()
        .directory_id(ids::DIRECTORY_CORP)
        .send()
        .await
        .unwrap();
    assert_eq!(w.workspaces().len(), 3);
    for d in w.workspaces() {
        assert_eq!(d.user_name(), Some("[UNDEFINED]"));
        assert_eq!(
            d.workspace_properties()
                .and_then(|p| p.running_mode())
                .map(|m| m.as_str()),
            Some("MANUAL")
        );
        let tags = clients
            .workspaces()
            .describe_tags()
            .resource_id(d.workspace_id().unwrap())
            .send()
            .await
            .unwrap();
        assert!(tags.tag_list().iter().any(|t| t.key() == "PartnerManaged"));
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn non_byol_path_uses_shared_tenancy_and_an_existing_bundle() {
    let sb = sandbox(false).await;
    let mut input = default_onboarding_input(2);
    input["byol"] = json!(false);
    input["bundle"] = json!({"bundleId": "wsb-bh8rsxt14"});
    input["selections"] = json!({"directoryId": ids::DIRECTORY_LAB});
    let result = run(&sb, "shared", input).await;
    succeeded(&result);
    let w = changes_in(&sb, CUSTOMER_ACCOUNT);
    assert!(!w.contains_key("WorkSpaces.ModifyAccount"), "{w:?}");
    assert!(!w.contains_key("WorkSpaces.ImportWorkspaceImage"), "{w:?}");
    assert!(!w.contains_key("WorkSpaces.CreateWorkspaceBundle"), "{w:?}");
    assert_eq!(w.get("WorkSpaces.RegisterWorkspaceDirectory"), Some(&1));
    assert_eq!(w.get("WorkSpaces.CreateWorkspaces"), Some(&1));
    let steps = sb.deps.store.list_steps(&demo_tenant()).await.unwrap();
    let skipped: Vec<_> = steps
        .iter()
        .filter(|s| s.status == StepStatus::Skipped)
        .map(|s| s.step.number())
        .collect();
    assert_eq!(skipped, [2, 3, 4, 5, 6, 10]);
    assert!(
        sb.control()
            .events_of("Onboarding Awaiting Customer Input")
            .is_empty()
    );
    let tenant = sb
        .deps
        .store
        .get_tenant(&demo_tenant())
        .await
        .unwrap()
        .unwrap();
    let clients = sb
        .deps
        .clients
        .for_tenant(steward_shared::aws::TenantAccess::new(
            &tenant,
            &tenant.regions[0],
        ))
        .await;
    let dirs = clients
        .workspaces()
        .describe_workspace_directories()
        .send()
        .await
        .unwrap();
    assert_eq!(
        dirs.directories()[0].tenancy().map(|t| t.as_str()),
        Some("SHARED")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_second_execution_makes_no_create_or_modify_call() {
    let sb = sandbox(false).await;
    succeeded(&run(&sb, "first", default_onboarding_input(3)).await);
    let before = changes_in(&sb, CUSTOMER_ACCOUNT);
    // The same tenant again, with no selection in the input: the earlier choices are reused,
    // nothing pauses, nothing is created or modified.
    let second = run(&sb, "second", default_onboarding_input(3)).await;
    succeeded(&second);
    assert_eq!(changes_in(&sb, CUSTOMER_ACCOUNT), before);
    assert_eq!(
        sb.control()
            .events_of("Onboarding Awaiting Customer Input")
            .len(),
        4,
        "only the first execution asked the customer"
    );
    assert_eq!(
        desktops_by_state(&sb).await,
        BTreeMap::from([("AVAILABLE", 3)])
    );
    sb.shutdown().await;
}

/// Kills the execution (a `States.Runtime` error, which no Catch matches) right after the
/// first successful invocation of `state`: the step's effects are made, its result is lost.
struct KillAfter {
    inner: FnInvoker,
    state: String,
    fired: AtomicBool,
}

#[async_trait]
impl TaskInvoker for KillAfter {
    async fn invoke(&self, request: TaskRequest) -> Result<Value, TaskFailure> {
        let state = request.state_name.clone();
        let out = self.inner.invoke(request).await?;
        if state == self.state && !self.fired.swap(true, Ordering::SeqCst) {
            return Err(TaskFailure::new(
                "States.Runtime",
                format!("killed after {state}"),
            ));
        }
        Ok(out)
    }
}

#[tokio::test]
async fn an_execution_killed_after_any_step_converges_when_started_again() {
    let states = [
        "ValidateAccess",
        "CheckByol",
        "OfferCidrRanges",
        "ConfigureByol",
        "PollByol",
        "OfferImages",
        "ImportImage",
        "PollImage",
        "OfferDirectories",
        "RegisterDirectory",
        "PollDirectory",
        "ConfigureCreationProperties",
        "CreateBundle",
        "CreateWorkspaces",
        "PollWorkspaces",
        "Complete",
    ];
    // The reference: one uninterrupted run.
    let reference = sandbox(false).await;
    succeeded(&run(&reference, "reference", selected_input(2)).await);
    let expected = changes_in(&reference, CUSTOMER_ACCOUNT);
    reference.shutdown().await;

    for state in states {
        let sb = sandbox(false).await;
        let killer = Arc::new(KillAfter {
            inner: sb.invoker(),
            state: state.to_owned(),
            fired: AtomicBool::new(false),
        });
        let wf = sb.runner_with(MACHINE, killer.clone()).unwrap();
        let killed = drive(&wf.runner.start("killed", selected_input(2)), customer).await;
        assert!(
            matches!(&killed, ExecutionResult::Failed { error, .. } if error == "States.Runtime"),
            "{state}: {killed:?}"
        );
        assert!(killer.fired.load(Ordering::SeqCst), "{state} never ran");
        let again = run(&sb, "again", selected_input(2)).await;
        succeeded(&again);
        assert_eq!(
            changes_in(&sb, CUSTOMER_ACCOUNT),
            expected,
            "after a kill at {state}"
        );
        assert_eq!(
            desktops_by_state(&sb).await,
            BTreeMap::from([("AVAILABLE", 2)]),
            "after a kill at {state}"
        );
        sb.shutdown().await;
    }
}

fn failed(r: &ExecutionResult) -> (&str, &str) {
    match r {
        ExecutionResult::Failed { error, cause } => (error, cause),
        other => panic!("the execution did not fail: {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_external_id_fails_the_first_step_and_calls_nothing_else() {
    let sb = sandbox(false).await;
    let mut input = selected_input(1);
    input["externalId"] = json!("not-the-customers-external-id");
    let result = run(&sb, "wrong-external-id", input).await;
    let (error, cause) = failed(&result);
    assert_eq!(error, "Steward.AccessDenied", "{cause}");
    let counters = sb.control().counters();
    let customer_calls: u64 = counters
        .get(CUSTOMER_ACCOUNT)
        .map(|ops| ops.values().map(|c| c.calls).sum())
        .unwrap_or(0);
    assert_eq!(customer_calls, 0, "{counters:?}");
    let tenant = sb
        .deps
        .store
        .get_tenant(&demo_tenant())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant.status, TenantStatus::Failed);
    assert_eq!(tenant.last_error.unwrap().name, "Steward.AccessDenied");
    let step = sb
        .deps
        .store
        .get_step(
            &demo_tenant(),
            steward_shared::model::OnboardingStep::ValidateAccess,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(step.status, StepStatus::Failed);
    assert_eq!(sb.control().events_of("Onboarding Failed").len(), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn an_image_import_ending_in_error_fails_with_the_reason_and_leaves_no_image() {
    let sb = sandbox(false).await;
    let mut input = selected_input(1);
    // Eligible as far as EC2 tells (no size limit configured), refused by the import.
    input["selections"]["ec2ImageId"] = json!(ids::AMI_LARGE_ROOT);
    let result = run(&sb, "import-error", input).await;
    let (error, cause) = failed(&result);
    assert_eq!(error, "Steward.OperationFailed");
    assert!(cause.contains("DiskSizeExceeded"), "{cause}");
    let w = changes_in(&sb, CUSTOMER_ACCOUNT);
    assert_eq!(w.get("WorkSpaces.ImportWorkspaceImage"), Some(&1));
    assert_eq!(w.get("WorkSpaces.DeleteWorkspaceImage"), Some(&1));
    assert!(!w.contains_key("WorkSpaces.CreateWorkspaceBundle"));
    let tenant = sb
        .deps
        .store
        .get_tenant(&demo_tenant())
        .await
        .unwrap()
        .unwrap();
    let clients = sb
        .deps
        .clients
        .for_tenant(steward_shared::aws::TenantAccess::new(
            &tenant,
            &tenant.regions[0],
        ))
        .await;
    let images = clients
        .workspaces()
        .describe_workspace_images()
        .send()
        .await
        .unwrap();
    assert!(images.images().is_empty(), "{:?}", images.images());
    assert_eq!(tenant.status, TenantStatus::Failed);
    sb.shutdown().await;
}

#[tokio::test]
async fn an_ineligible_ami_is_refused_with_the_reason_before_any_import() {
    let sb = sandbox(false).await;
    let mut input = selected_input(1);
    input["selections"]["ec2ImageId"] = json!(ids::AMI_ENCRYPTED);
    let result = run(&sb, "ineligible", input).await;
    let (error, cause) = failed(&result);
    assert_eq!(error, "Steward.IneligibleImage");
    assert!(cause.contains("encrypted"), "{cause}");
    assert!(!changes_in(&sb, CUSTOMER_ACCOUNT).contains_key("WorkSpaces.ImportWorkspaceImage"));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_throttling_storm_still_completes() {
    let sb = sandbox(true).await;
    let fault = |v: Value| -> FaultRule { serde_json::from_value(v).expect("a fault rule") };
    sb.control().inject_fault(fault(json!({
        "operation": "WorkSpaces.*",
        "error_code": "ThrottlingException",
        "message": "Rate exceeded",
        "http_status": 400,
        "probability": 0.3
    })));
    sb.control().inject_fault(fault(json!({
        "operation": "WorkSpaces.*",
        "error_code": "InternalFailure",
        "http_status": 500,
        "probability": 0.05
    })));
    let result = run(&sb, "storm", selected_input(2)).await;
    succeeded(&result);
    let refused: u64 = sb.control().counters()[CUSTOMER_ACCOUNT]
        .values()
        .map(|c| c.errors + c.throttled)
        .sum();
    assert!(refused > 0, "the storm refused nothing");
    assert_eq!(
        desktops_by_state(&sb).await,
        BTreeMap::from([("AVAILABLE", 2)])
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn an_unanswered_pause_ends_by_its_timeout_with_a_recorded_reason() {
    let sb = sandbox(false).await;
    let mut input = selected_input(1);
    input["selections"]
        .as_object_mut()
        .unwrap()
        .remove("directoryId");
    input["customerInputTimeoutSeconds"] = json!(3600);
    let wf = sb.runner(MACHINE).unwrap();
    let exec = wf.runner.start("unanswered", input);
    let pause = exec
        .wait_for_task("AwaitDirectory")
        .await
        .expect("the directory pause");
    assert_eq!(pause.input["input"], "directory");
    // The pause handler has recorded the pause and told the partner's backend.
    while sb
        .control()
        .events_of("Onboarding Awaiting Customer Input")
        .is_empty()
    {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Nobody answers; an hour passes.
    wf.clock.advance(chrono::Duration::seconds(3601));
    let result = exec.result().await;
    let (error, cause) = failed(&result);
    assert_eq!(error, "Steward.CustomerInputTimeout", "{cause}");
    assert!(cause.contains("3600 seconds"), "{cause}");
    let step = sb
        .deps
        .store
        .get_step(
            &demo_tenant(),
            steward_shared::model::OnboardingStep::OfferDirectories,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(step.status, StepStatus::Failed);
    assert_eq!(step.error.unwrap().name, "Steward.CustomerInputTimeout");
    let failed_events = sb.control().events_of("Onboarding Failed");
    assert_eq!(failed_events.len(), 1);
    assert_eq!(failed_events[0].detail["step"], "OFFER_DIRECTORIES");
    sb.shutdown().await;
}

#[tokio::test]
async fn registry_records_every_created_desktop_once() {
    let sb = sandbox(false).await;
    succeeded(&run(&sb, "registry", selected_input(30)).await);
    let page = sb
        .deps
        .store
        .list_workspaces(&demo_tenant(), PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 30);
    assert_eq!(
        sb.control()
            .workspace_ids(CUSTOMER_ACCOUNT, "us-east-1")
            .len(),
        30
    );
    // 30 desktops: two CreateWorkspaces calls (25 + 5).
    assert_eq!(
        changes_in(&sb, CUSTOMER_ACCOUNT).get("WorkSpaces.CreateWorkspaces"),
        Some(&2)
    );
    sb.shutdown().await;
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_json(path: std::path::PathBuf) -> Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every event Steward published validates against its outbound schema.
fn assert_outbound_schemas(sb: &Sandbox) {
    let events = sb.control().events();
    assert!(!events.is_empty());
    for e in events {
        let slug = e.detail_type.to_lowercase().replace(' ', "-");
        let schema = read_json(root().join(format!("events/schemas/outbound/{slug}.json")));
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|err| panic!("schema {slug}: {err}"));
        let problems: Vec<String> = validator
            .iter_errors(&e.detail)
            .map(|p| p.to_string())
            .collect();
        assert!(
            problems.is_empty(),
            "{} {}: {problems:?}",
            e.detail_type,
            e.detail
        );
        assert_eq!(e.source, "steward");
        assert_eq!(e.bus, steward_local::sandbox::BUS);
    }
}

#[tokio::test]
async fn published_events_follow_their_schemas() {
    let sb = sandbox(false).await;
    succeeded(&run(&sb, "schemas", default_onboarding_input(1)).await);
    let mut bad = selected_input(1);
    bad["selections"]["ec2ImageId"] = json!(ids::AMI_ENCRYPTED);
    failed(&run(&sb, "schemas-failed", bad).await);
    assert_outbound_schemas(&sb);
    let types: std::collections::BTreeSet<String> = sb
        .control()
        .events()
        .into_iter()
        .map(|e| e.detail_type)
        .collect();
    assert_eq!(types.len(), 4, "{types:?}");
    sb.shutdown().await;
}

#[test]
fn sample_events_parse_into_the_handlers_inputs() {
    use steward_functions::onboarding::request::{
        FailureInput, OnboardingRequest, PauseInput, StepInput,
    };
    let dir = root().join("events/onboarding");
    let input: OnboardingRequest =
        serde_json::from_value(read_json(dir.join("execution-input.json"))).unwrap();
    input.validate().unwrap();
    for name in ["validate-access.json", "step.json", "poll.json"] {
        let s: StepInput = serde_json::from_value(read_json(dir.join(name)))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        s.request
            .validate()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let poll: StepInput = serde_json::from_value(read_json(dir.join("poll.json"))).unwrap();
    assert!(poll.poll);
    let pause: PauseInput = serde_json::from_value(read_json(dir.join("pause.json"))).unwrap();
    assert!(!pause.task_token.is_empty());
    let failure: FailureInput =
        serde_json::from_value(read_json(dir.join("record-failure.json"))).unwrap();
    assert_eq!(
        failure.tenant_id().map(|t| t.to_string()).as_deref(),
        Some("acme-corp")
    );
    // Every route of the onboarding module has its sample folder.
    let routes: Vec<&str> = steward_functions::routes()
        .iter()
        .map(|r| r.name)
        .filter(|n| n.starts_with("onboarding."))
        .collect();
    assert_eq!(routes.len(), 14);
}
