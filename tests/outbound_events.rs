//! The events Steward publishes about power and lifecycle: every detail type in
//! `outbound_types::ALL` (power) and `outbound_types_lifecycle::ALL` (lifecycle commands) has
//! a JSON Schema in `events/schemas/outbound/` and a sample envelope in `events/outbound/`,
//! nothing else is there, the samples fit, the schemas are strict, and what the code emits
//! fits them.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use steward_functions::lifecycle::commands::outbound_types_lifecycle;
use steward_functions::onboarding::detail_types as onboarding_types;
use steward_functions::power::observations::completion;
use steward_functions::record::{Action, ActionName, outbound_types};
use steward_shared::ids::{OpaqueId, TenantId, WorkspaceId};
use steward_shared::model::{Actor, AuditOutcome, StewardAction, StewardCall, WorkspaceState};
use steward_shared::reconcile::{CallOutcome, Settled};

/// The one schema that allows keys beyond the common ones (its own are not specified yet).
const OPEN_SCHEMA: &str = outbound_types::TENANT_MAINTENANCE_MODE_APPLIED;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn slug(detail_type: &str) -> String {
    detail_type.to_lowercase().replace(' ', "-")
}

fn read_json(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn all() -> Vec<&'static str> {
    outbound_types::ALL
        .iter()
        .chain(outbound_types_lifecycle::ALL)
        .copied()
        .collect()
}

fn schema(detail_type: &str) -> Value {
    read_json(root().join(format!(
        "events/schemas/outbound/{}.json",
        slug(detail_type)
    )))
}

fn validator(detail_type: &str) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema(detail_type))
        .unwrap_or_else(|e| panic!("schema of {detail_type}: {e}"))
}

fn sample(detail_type: &str) -> Value {
    read_json(root().join(format!("events/outbound/{}.json", slug(detail_type))))
}

/// The validation errors of `detail` against `detail_type`'s schema.
fn problems(detail_type: &str, detail: &Value) -> Vec<String> {
    validator(detail_type)
        .iter_errors(detail)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn file_stems(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".json")
                .unwrap_or_else(|| panic!("{dir}/{name} is not a .json file"))
                .to_owned()
        })
        .collect()
}

/// The string constants of `pub mod <module> {` in `file` (the source text), so a constant
/// added without being listed in `ALL` is noticed.
fn constants_in_source(file: &str, module: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let start = text
        .find(&format!("pub mod {module} {{"))
        .unwrap_or_else(|| panic!("{file}: no module {module}"));
    let body = &text[start..];
    let end = body.find("\n}").unwrap();
    let re = regex::Regex::new(r#"pub const [A-Z_]+: &str = "([^"]+)";"#).unwrap();
    re.captures_iter(&body[..end])
        .map(|c| c[1].to_owned())
        .collect()
}

#[test]
fn the_all_lists_name_every_constant_once() {
    for (file, module, list) in [
        (
            "functions/src/record/mod.rs",
            "outbound_types",
            outbound_types::ALL,
        ),
        (
            "functions/src/lifecycle/commands/mod.rs",
            "outbound_types_lifecycle",
            outbound_types_lifecycle::ALL,
        ),
    ] {
        let listed: BTreeSet<String> = list.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(listed.len(), list.len(), "{module}::ALL has a duplicate");
        assert_eq!(
            listed,
            constants_in_source(file, module),
            "{module}::ALL lists every constant of the module"
        );
    }
}

#[test]
fn every_detail_type_has_a_schema_and_a_sample_that_fits_it() {
    for dt in all() {
        let s = schema(dt);
        assert_eq!(s["title"], dt, "{dt}: schema title");
        assert_eq!(
            s["$id"],
            format!("https://steward.dev/schemas/outbound/{}.json", slug(dt)),
            "{dt}: schema $id"
        );
        assert_eq!(
            s["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{dt}: draft"
        );
        assert_eq!(
            s["additionalProperties"],
            json!(dt == OPEN_SCHEMA),
            "{dt}: only {OPEN_SCHEMA} allows additional properties"
        );
        let required: Vec<&str> = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(required.contains(&"tenantId"), "{dt}: tenantId required");
        if dt.starts_with("Desktop ") || dt.starts_with("Lifecycle Operation ") {
            assert!(
                required.contains(&"workspaceId"),
                "{dt}: workspaceId required"
            );
        }
        if dt == outbound_types::DESKTOP_ASSIGNMENT_FAILED {
            // A request that could not be met has no desktop.
            assert_eq!(
                s["properties"]["workspaceId"]["type"], "null",
                "{dt}: no desktop was assigned"
            );
        } else if dt.starts_with("Desktop ") {
            assert_eq!(
                s["properties"]["workspaceId"]["type"], "string",
                "{dt}: a desktop event names its desktop"
            );
        }
        if dt.starts_with("Lifecycle Operation ") {
            // An image copy has no desktop; every other operation names one.
            assert_eq!(
                s["properties"]["workspaceId"]["type"],
                json!(["string", "null"]),
                "{dt}: an operation names its desktop, or null for an image copy"
            );
        }

        let event = sample(dt);
        let keys: BTreeSet<&str> = event
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from([
                "version",
                "id",
                "detail-type",
                "source",
                "account",
                "time",
                "region",
                "resources",
                "detail"
            ]),
            "{dt}: the sample is a whole EventBridge envelope"
        );
        assert_eq!(event["detail-type"], dt, "{dt}: sample detail-type");
        assert_eq!(event["source"], "steward", "{dt}: sample source");
        let p = problems(dt, &event["detail"]);
        assert!(p.is_empty(), "{dt}: the sample fits its schema: {p:?}");
        // `resources`: the desktop (power), the items' resources (lifecycle commands).
        let detail = &event["detail"];
        let expected = if let Some(items) = detail["items"].as_array() {
            items.iter().map(|i| i["resource"].clone()).collect()
        } else {
            detail["workspaceId"]
                .as_str()
                .map(|w| vec![json!(w)])
                .unwrap_or_default()
        };
        assert_eq!(
            event["resources"],
            Value::Array(expected),
            "{dt}: resources"
        );
        let time = |v: &Value| DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
        assert!(
            time(&event["time"]) >= time(&detail["at"]),
            "{dt}: published after it was recorded"
        );
    }
}

#[test]
fn nothing_is_left_over() {
    let ours: BTreeSet<String> = all().into_iter().map(slug).collect();
    assert_eq!(ours.len(), all().len(), "two detail types share a slug");
    assert_eq!(
        file_stems("events/outbound"),
        ours,
        "events/outbound/ holds one sample per detail type, no other file"
    );
    let onboarding: BTreeSet<String> = [
        onboarding_types::STEP_COMPLETED,
        onboarding_types::AWAITING_CUSTOMER,
        onboarding_types::SUCCEEDED,
        onboarding_types::FAILED,
    ]
    .into_iter()
    .map(slug)
    .collect();
    let orphans: Vec<String> = file_stems("events/schemas/outbound")
        .into_iter()
        .filter(|s| !ours.contains(s) && !onboarding.contains(s))
        .collect();
    assert!(
        orphans.is_empty(),
        "schemas in events/schemas/outbound/ for no detail type: {orphans:?}"
    );
}

#[test]
fn every_schema_refuses_an_unknown_key_and_a_missing_tenant() {
    for dt in all() {
        let detail = sample(dt)["detail"].clone();
        let mut extra = detail.clone();
        extra["isAdmin"] = json!(true);
        if dt == OPEN_SCHEMA {
            assert!(
                problems(dt, &extra).is_empty(),
                "{dt}: allows keys beyond the common ones"
            );
        } else {
            assert!(
                !problems(dt, &extra).is_empty(),
                "{dt}: refuses an unknown key"
            );
        }
        let mut missing = detail.clone();
        missing.as_object_mut().unwrap().remove("tenantId");
        assert!(
            !problems(dt, &missing).is_empty(),
            "{dt}: refuses a detail without tenantId"
        );
        let mut nested = detail.clone();
        nested["outcome"]["isAdmin"] = json!(true);
        assert!(
            !problems(dt, &nested).is_empty(),
            "{dt}: refuses an unknown key in outcome"
        );
    }
}

#[test]
fn completion_fields_come_all_together_on_a_failed_power_action() {
    let dt = outbound_types::DESKTOP_POWER_FAILED;
    let mut detail = sample(dt)["detail"].clone();
    assert!(problems(dt, &detail).is_empty());
    detail["operation"] = json!("start");
    assert!(
        !problems(dt, &detail).is_empty(),
        "{dt}: one completion field alone is refused"
    );
}

fn t(minutes: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T08:00:00Z")
        .unwrap()
        .to_utc()
        + Duration::minutes(minutes)
}

/// The outbound detail of a settled call, as the sweeps and the fresh description build it.
fn settled_detail(
    action: StewardAction,
    outcome: CallOutcome,
    event_id: Option<&str>,
) -> (&'static str, Value) {
    let tenant = TenantId::parse("acme").unwrap();
    let ws = WorkspaceId::parse("ws-abcd1234").unwrap();
    let settled = Settled {
        call: StewardCall::new(action, t(0), event_id.map(str::to_owned)),
        outcome,
        earliest: t(3),
        observed_at: t(5),
    };
    let c = completion(&settled).expect("reported");
    let a = Action {
        tenant: &tenant,
        workspace: Some(&ws),
        actor: Actor::IdleSweep,
        action: c.action,
        reason: c.reason,
        outcome: c.outcome,
        detail_type: c.detail_type,
        at: t(5),
        details: Some(c.details),
    };
    (c.detail_type, a.outbound_detail())
}

#[test]
fn what_the_code_emits_fits_the_schemas() {
    // The case the brief names: a Start that completed is `Desktop Available`.
    let (dt, detail) = settled_detail(
        StewardAction::Start,
        CallOutcome::Completed {
            state: WorkspaceState::Available,
        },
        Some("0b5c2d7e-1f4a-4c1e-9d3b-5a6c7e8f9012"),
    );
    assert_eq!(dt, outbound_types::DESKTOP_AVAILABLE);
    assert_eq!(detail["tookAtMostSeconds"], 300);
    assert_eq!(detail["uncertaintySeconds"], 120);
    let p = problems(dt, &detail);
    assert!(p.is_empty(), "{dt}: {p:?}\n{detail:#}");
    // The keys of the sample are exactly those of the code's detail.
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&detail), keys(&sample(dt)["detail"]));

    // Every other completion.
    let ok = |state| CallOutcome::Completed { state };
    let cases = [
        (
            StewardAction::Stop,
            ok(WorkspaceState::Stopped),
            None,
            outbound_types::DESKTOP_STOPPED,
        ),
        (
            StewardAction::Start,
            CallOutcome::Failed {
                state: WorkspaceState::Stopped,
            },
            Some("evt-1"),
            outbound_types::DESKTOP_POWER_FAILED,
        ),
        (
            StewardAction::Stop,
            CallOutcome::TimedOut {
                state: WorkspaceState::Available,
            },
            None,
            outbound_types::DESKTOP_POWER_FAILED,
        ),
        (
            StewardAction::Rebuild,
            ok(WorkspaceState::Available),
            Some("evt-2"),
            outbound_types::LIFECYCLE_OPERATION_COMPLETED,
        ),
        (
            StewardAction::ToAdminMaintenance,
            ok(WorkspaceState::AdminMaintenance),
            Some("evt-3"),
            outbound_types::LIFECYCLE_OPERATION_COMPLETED,
        ),
        (
            StewardAction::Restore,
            CallOutcome::Failed {
                state: WorkspaceState::Error,
            },
            Some("evt-4"),
            outbound_types::LIFECYCLE_OPERATION_FAILED,
        ),
        (
            StewardAction::Migrate,
            CallOutcome::TimedOut {
                state: WorkspaceState::Pending,
            },
            Some("evt-5"),
            outbound_types::LIFECYCLE_OPERATION_FAILED,
        ),
    ];
    for (action, outcome, event_id, expected) in cases {
        let (dt, detail) = settled_detail(action, outcome, event_id);
        assert_eq!(dt, expected, "{action:?} {outcome:?}");
        let p = problems(dt, &detail);
        assert!(p.is_empty(), "{dt}: {p:?}\n{detail:#}");
    }

    // Actions without details: a desktop one and a tenant one (workspaceId null).
    let tenant = TenantId::parse("acme").unwrap();
    let ws = WorkspaceId::parse("ws-abcd1234").unwrap();
    let by_request = Actor::PartnerEvent {
        event_id: OpaqueId::parse("0b5c2d7e-1f4a-4c1e-9d3b-5a6c7e8f9012").unwrap(),
    };
    let plain = [
        Action {
            tenant: &tenant,
            workspace: Some(&ws),
            actor: by_request.clone(),
            action: ActionName::Start,
            reason: "start requested (desktop STOPPED)".into(),
            outcome: AuditOutcome::Succeeded,
            detail_type: outbound_types::DESKTOP_STARTING,
            at: t(0),
            details: None,
        },
        Action {
            tenant: &tenant,
            workspace: None,
            actor: by_request,
            action: ActionName::PolicyUpdate,
            reason: "policy changed: {\"dryRun\":true}".into(),
            outcome: AuditOutcome::Succeeded,
            detail_type: outbound_types::TENANT_POLICY_CHANGED,
            at: t(0),
            details: None,
        },
    ];
    for a in &plain {
        let detail = a.outbound_detail();
        let p = problems(a.detail_type, &detail);
        assert!(p.is_empty(), "{}: {p:?}\n{detail:#}", a.detail_type);
        assert_eq!(keys(&detail), keys(&sample(a.detail_type)["detail"]));
    }
}
