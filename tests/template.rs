//! `template.yaml` declares the table the store expects: the same keys, index, TTL and
//! attribute types that `schema::create_table` creates for tests and the sandbox.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::KeyType;
use serde_yaml::Value;
use steward_shared::store::schema::{GSI1, GSI1_KEYS, KEY_ATTRIBUTES, TABLE_KEYS, TTL_ATTRIBUTE};

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml is readable");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

fn table_properties(t: &Value) -> &Value {
    let resources = t["Resources"].as_mapping().expect("Resources");
    let tables: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        .collect();
    assert_eq!(tables.len(), 1, "Steward has exactly one table");
    &tables[0]["Properties"]
}

fn pairs(keys: &Value) -> Vec<(String, String)> {
    keys.as_sequence()
        .expect("a key schema list")
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap_or_default().to_owned(),
                k["KeyType"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn owned(keys: &[(&str, KeyType)]) -> Vec<(String, String)> {
    keys.iter()
        .map(|(a, b)| (a.to_string(), b.as_str().to_string()))
        .collect()
}

#[test]
fn the_template_declares_the_stores_table() {
    let t = template();
    let p = table_properties(&t);
    assert_eq!(p["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(pairs(&p["KeySchema"]), owned(&TABLE_KEYS));

    let attrs: BTreeSet<(String, String)> = p["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
        .iter()
        .map(|a| {
            (
                a["AttributeName"].as_str().unwrap_or_default().to_owned(),
                a["AttributeType"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = KEY_ATTRIBUTES
        .iter()
        .map(|a| (a.to_string(), "S".to_string()))
        .collect();
    assert_eq!(attrs, expected);

    let gsis = p["GlobalSecondaryIndexes"].as_sequence().expect("indexes");
    assert_eq!(gsis.len(), 1);
    assert_eq!(gsis[0]["IndexName"].as_str(), Some(GSI1));
    assert_eq!(pairs(&gsis[0]["KeySchema"]), owned(&GSI1_KEYS));
    assert_eq!(
        gsis[0]["Projection"]["ProjectionType"].as_str(),
        Some("ALL")
    );

    assert_eq!(
        p["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(TTL_ATTRIBUTE)
    );
    assert_eq!(
        p["TimeToLiveSpecification"]["Enabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(p["SSESpecification"]["SSEEnabled"].as_bool(), Some(true));
}

/// The table `create_table` makes on a real engine is the one the template declares.
#[tokio::test]
async fn created_tables_match_the_template() {
    let t = template();
    let p = table_properties(&t);
    let s = steward_tests::dynoxide().await;
    let d = s
        .store
        .client()
        .describe_table()
        .table_name(s.store.table())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys: Vec<(String, String)> = d
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_owned(),
                k.key_type().as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(keys, pairs(&p["KeySchema"]));
    let gsi = &d.global_secondary_indexes()[0];
    let gsi_keys: Vec<(String, String)> = gsi
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_owned(),
                k.key_type().as_str().to_owned(),
            )
        })
        .collect();
    let declared = &p["GlobalSecondaryIndexes"][0];
    assert_eq!(gsi.index_name(), declared["IndexName"].as_str());
    assert_eq!(gsi_keys, pairs(&declared["KeySchema"]));
    assert_eq!(
        d.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str()),
        p["BillingMode"].as_str()
    );
}

/// `!Ref name`?
fn is_ref(v: &Value, name: &str) -> bool {
    match v {
        Value::Tagged(t) => {
            t.tag.to_string().trim_start_matches('!') == "Ref" && t.value.as_str() == Some(name)
        }
        _ => false,
    }
}

fn resources_of<'a>(t: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(k, r)| (k.as_str().unwrap_or_default().to_owned(), r))
        .collect()
}

#[test]
fn every_alarm_notifies_the_topic_and_every_log_group_keeps_the_stacks_retention() {
    let t = template();
    let alarms = resources_of(&t, "AWS::CloudWatch::Alarm");
    assert!(alarms.len() >= 7, "{} alarms", alarms.len());
    for (name, a) in &alarms {
        let actions = a["Properties"]["AlarmActions"].as_sequence();
        assert!(
            actions.is_some_and(|acts| acts.iter().any(|x| is_ref(x, "AlarmTopic"))),
            "{name} notifies nobody"
        );
    }
    for (name, g) in resources_of(&t, "AWS::Logs::LogGroup") {
        assert!(
            is_ref(&g["Properties"]["RetentionInDays"], "LogRetentionDays"),
            "{name} does not keep the LogRetentionDays retention"
        );
    }
}

#[test]
fn every_state_machine_logs_and_traces() {
    let t = template();
    let machines = resources_of(&t, "AWS::Serverless::StateMachine");
    assert!(machines.len() >= 2);
    for (name, m) in machines {
        let p = &m["Properties"];
        assert_eq!(
            p["Tracing"]["Enabled"].as_bool(),
            Some(true),
            "{name}: no X-Ray"
        );
        assert!(
            p["Logging"]["Destinations"]
                .as_sequence()
                .is_some_and(|d| !d.is_empty()),
            "{name}: no log destination"
        );
    }
}

/// 10,000 tenants: the sweep fans out through a Distributed Map (an Inline Map runs at most
/// 40 iterations at once), in a STANDARD machine whose role may start its own children.
#[test]
fn the_sweep_fans_out_through_a_distributed_map() {
    let t = template();
    let p = &t["Resources"]["PowerSweepStateMachine"]["Properties"];
    assert_eq!(p["Type"].as_str(), Some("STANDARD"));
    let states = &p["Definition"]["States"];
    let map = &states["SweepPage"];
    assert_eq!(map["Type"].as_str(), Some("Map"));
    let config = &map["ItemProcessor"]["ProcessorConfig"];
    assert_eq!(config["Mode"].as_str(), Some("DISTRIBUTED"));
    assert_eq!(config["ExecutionType"].as_str(), Some("EXPRESS"));
    let concurrency = map["MaxConcurrency"].as_u64().expect("MaxConcurrency");
    assert!(concurrency > 40, "{concurrency}");
    // The child executions are of this machine: its role must be allowed to start them.
    let name = match &p["Name"] {
        Value::Tagged(s) => s.value.as_str().unwrap_or_default().to_owned(),
        v => v.as_str().unwrap_or_default().to_owned(),
    };
    assert!(name.ends_with("-power-sweep"), "{name}");
    let policies = serde_yaml::to_string(&p["Policies"]).unwrap_or_default();
    assert!(
        policies.contains("states:StartExecution")
            && policies.contains(&format!(":stateMachine:{name}")),
        "{policies}"
    );
}

#[test]
fn the_dashboard_body_is_json_and_shows_the_handler_and_sweep_metrics() {
    let t = template();
    let (_, dash) = resources_of(&t, "AWS::CloudWatch::Dashboard")
        .into_iter()
        .next()
        .expect("a dashboard");
    // `!Sub string` or `!Sub [string, {variables}]`.
    let body = match &dash["Properties"]["DashboardBody"] {
        Value::Tagged(s) => match &s.value {
            Value::Sequence(parts) => parts.first().and_then(Value::as_str),
            v => v.as_str(),
        }
        .unwrap_or_default()
        .to_owned(),
        v => v.as_str().unwrap_or_default().to_owned(),
    };
    // ${…} substitutions stand in for names (inside strings) and numbers (the intervals);
    // with a digit in their place, what is left must be JSON.
    let re = regex::Regex::new(r"\$\{[^}]+\}").expect("pattern");
    let json: serde_json::Value =
        serde_json::from_str(&re.replace_all(&body, "0")).expect("the dashboard body is JSON");
    let text = json.to_string();
    for metric in [
        "HandlerFailed",
        "SweepDurationSeconds",
        "TenantSweepFailed",
        "ApproximateNumberOfMessagesVisible",
        "ExecutionsFailed",
        "Throttles",
    ] {
        assert!(text.contains(metric), "the dashboard has no {metric} panel");
    }
}

/// The template's parameters with their defaults, as `!Sub` / `!Ref` see them.
fn parameter_defaults(t: &Value) -> std::collections::BTreeMap<String, String> {
    t["Parameters"]
        .as_mapping()
        .expect("Parameters")
        .iter()
        .filter_map(|(k, p)| {
            let default = match &p["Default"] {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return None,
            };
            Some((k.as_str()?.to_owned(), default))
        })
        .collect()
}

/// A scalar of the template with `params` given: a literal, `!Ref P`, `!Sub "…${P}…"` or
/// `!FindInMap [Map, !Ref P | literal, Key]`. Panics on anything else.
fn resolve(t: &Value, v: &Value, params: &std::collections::BTreeMap<String, String>) -> String {
    let scalar = |v: &Value| match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    if let Some(s) = scalar(v) {
        return s;
    }
    let Value::Tagged(tagged) = v else {
        panic!("cannot resolve {v:?}");
    };
    match tagged.tag.to_string().trim_start_matches('!') {
        "Ref" => {
            let name = tagged.value.as_str().expect("!Ref names a parameter");
            params
                .get(name)
                .unwrap_or_else(|| panic!("!Ref {name}: no such parameter"))
                .clone()
        }
        "Sub" => {
            let text = tagged.value.as_str().expect("a !Sub string");
            let re = regex::Regex::new(r"\$\{([^}]+)\}").expect("pattern");
            re.replace_all(text, |c: &regex::Captures| {
                params
                    .get(&c[1])
                    .unwrap_or_else(|| panic!("${{{}}}: no such parameter", &c[1]))
                    .clone()
            })
            .into_owned()
        }
        "FindInMap" => {
            let args = tagged
                .value
                .as_sequence()
                .expect("!FindInMap [map, key, key]");
            let map = args[0].as_str().expect("map name");
            let top = resolve(t, &args[1], params);
            let second = resolve(t, &args[2], params);
            let found = &t["Mappings"][map][top.as_str()][second.as_str()];
            scalar(found).unwrap_or_else(|| panic!("!FindInMap [{map}, {top}, {second}]: no value"))
        }
        other => panic!("cannot resolve !{other}"),
    }
}

/// The minutes of `rate(N minutes)`.
fn rate_minutes(expr: &str) -> u64 {
    let re = regex::Regex::new(r"^rate\((\d+) minutes\)$").expect("pattern");
    let c = re
        .captures(expr)
        .unwrap_or_else(|| panic!("{expr} is not rate(N minutes) with N > 1"));
    let n: u64 = c[1].parse().expect("minutes");
    assert!(n > 1, "{expr}: rate(1 minute) takes the singular");
    n
}

/// Each schedule of the sweep machine tells the report its own interval, and its overrun
/// alarm's Period is that interval: with the defaults and with every allowed value of the
/// interval parameters (the alarm periods come from a mapping a row could be missing from).
#[test]
fn each_sweep_schedule_reports_against_its_own_interval() {
    let t = template();
    let defaults = parameter_defaults(&t);
    let machine = &t["Resources"]["PowerSweepStateMachine"]["Properties"];
    let events = machine["Events"]
        .as_mapping()
        .expect("the sweep machine's Events");
    let alarms = resources_of(&t, "AWS::CloudWatch::Alarm");
    let mut kinds = BTreeSet::new();
    for (name, event) in events {
        let name = name.as_str().unwrap_or_default();
        if event["Type"].as_str() != Some("Schedule") {
            continue;
        }
        let p = &event["Properties"];
        // The parameters the schedule's rate depends on, each tried at every allowed value.
        let mut variations = vec![defaults.clone()];
        for (param, spec) in t["Parameters"].as_mapping().expect("Parameters") {
            let param = param.as_str().unwrap_or_default();
            if !serde_yaml::to_string(&p["Schedule"])
                .unwrap_or_default()
                .contains(param)
            {
                continue;
            }
            let allowed = spec["AllowedValues"]
                .as_sequence()
                .unwrap_or_else(|| panic!("{param} has no AllowedValues"));
            for v in allowed {
                let mut params = defaults.clone();
                params.insert(param.to_owned(), resolve(&t, v, &defaults));
                variations.push(params);
            }
        }
        for params in &variations {
            let minutes = rate_minutes(&resolve(&t, &p["Schedule"], params));
            let input: serde_json::Value = serde_json::from_str(&resolve(&t, &p["Input"], params))
                .unwrap_or_else(|e| panic!("{name}: the Input is not JSON: {e}"));
            assert_eq!(
                input["interval_minutes"].as_u64(),
                Some(minutes),
                "{name}: the input's interval_minutes is not the schedule's rate ({params:?})"
            );
            let kind = input["kind"].as_str().expect("the input names its kind");
            kinds.insert(kind.to_owned());
            let overrun: Vec<&(String, &Value)> = alarms
                .iter()
                .filter(|(_, a)| {
                    let a = &a["Properties"];
                    a["MetricName"].as_str() == Some("SweepOverrun")
                        && a["Dimensions"].as_sequence().is_some_and(|d| {
                            d.iter().any(|d| {
                                d["Name"].as_str() == Some("Sweep")
                                    && d["Value"].as_str() == Some(kind)
                            })
                        })
                })
                .collect();
            assert_eq!(overrun.len(), 1, "{name}: one overrun alarm for {kind}");
            let (alarm, a) = overrun[0];
            let period: u64 = resolve(&t, &a["Properties"]["Period"], params)
                .parse()
                .unwrap_or_else(|e| panic!("{alarm}: Period: {e}"));
            assert_eq!(
                period,
                minutes * 60,
                "{alarm}: Period is not {name}'s interval ({params:?})"
            );
        }
    }
    assert_eq!(
        kinds,
        BTreeSet::from(["GUARD".to_owned(), "IDLE".to_owned()]),
        "a schedule for each sweep"
    );

    // The interval travels from the input to the report, through every page.
    let states = &machine["Definition"]["States"];
    for state in ["Init", "NextPage"] {
        assert_eq!(
            states[state]["Parameters"]["interval_minutes.$"].as_str(),
            Some("$.interval_minutes"),
            "{state} drops the interval"
        );
    }
    assert_eq!(
        states["Report"]["Parameters"]["Payload"]["interval_minutes.$"].as_str(),
        Some("$.interval_minutes"),
        "the report is not given the schedule's interval"
    );

    // The tenant sweep's interval (the most an observed transition can be off by) is the
    // idle sweep's, the more frequent one; start and stop requests reconcile with it too.
    let idle = rate_minutes(&resolve(
        &t,
        &events["IdleSchedule"]["Properties"]["Schedule"],
        &defaults,
    ));
    for function in ["PowerSweepTenantFunction", "PowerPartnerEventsFunction"] {
        let env = &t["Resources"][function]["Properties"]["Environment"]["Variables"];
        assert_eq!(
            resolve(&t, &env["STEWARD_SWEEP_INTERVAL_MINUTES"], &defaults),
            idle.to_string(),
            "{function}"
        );
        assert!(
            is_ref(&env["STEWARD_SWEEP_INTERVAL_MINUTES"], "IdleSweepMinutes"),
            "{function}"
        );
    }
}

/// The sweep machine of `template.yaml`, run on the local Step Functions runner with stub
/// handlers (two pages of no tenants): each schedule's input reaches the report with its
/// own interval; an execution started by hand without one reaches it with null (the
/// report's default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_machine_hands_each_schedules_interval_to_the_report() {
    use std::sync::Arc;
    use stepfunctions_runner::{
        ExecutionClock, ExecutionResult, FnInvoker, Runner, StateMachine, TaskRequest,
        definition_from_sam_template_file,
    };

    let t = template();
    let defaults = parameter_defaults(&t);
    let subs = [
        ("ListTenantsFunctionArn", "list"),
        ("SweepTenantFunctionArn", "sweep"),
        ("SweepReportFunctionArn", "report"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"));
    let def = definition_from_sam_template_file(path, "PowerSweepStateMachine", &subs).unwrap();
    let events = &t["Resources"]["PowerSweepStateMachine"]["Properties"]["Events"];
    let mut cases: Vec<(serde_json::Value, Option<u64>)> = Vec::new();
    for schedule in ["IdleSchedule", "GuardSchedule"] {
        let p = &events[schedule]["Properties"];
        let input = serde_json::from_str(&resolve(&t, &p["Input"], &defaults)).unwrap();
        let minutes = rate_minutes(&resolve(&t, &p["Schedule"], &defaults));
        cases.push((input, Some(minutes)));
    }
    cases.push((serde_json::json!({"kind": "GUARD"}), None));
    for (n, (input, minutes)) in cases.into_iter().enumerate() {
        let invoker = FnInvoker::new()
            .handler("list", |r: TaskRequest| async move {
                let first = r.input["cursor"].is_null();
                Ok(serde_json::json!({
                    "kind": r.input["kind"],
                    "tenants": [],
                    "cursor": if first { serde_json::json!("page-2") } else { serde_json::Value::Null },
                    "has_more": first,
                    "started_at": "2026-11-21T10:00:00Z",
                }))
            })
            .handler("report", |r: TaskRequest| async move { Ok(r.input) });
        let invoker = Arc::new(invoker);
        let machine = StateMachine::from_definition(&def).unwrap();
        let runner = Runner::new(
            machine,
            Arc::new(ExecutionClock::new(chrono::Utc::now())),
            invoker.clone(),
        );
        let exec = runner.start(&format!("sweep-{n}"), input.clone());
        let output = match exec.result().await {
            ExecutionResult::Succeeded { output } => output,
            other => panic!("{input}: {other:?}"),
        };
        assert_eq!(invoker.calls_to("list"), 2, "{input}: two pages");
        assert_eq!(output["kind"], input["kind"]);
        assert_eq!(
            output["interval_minutes"].as_u64(),
            minutes,
            "{input}: {output}"
        );
        assert!(minutes.is_some() || output["interval_minutes"].is_null());
    }
}

/// Every function's `Handler` names a route of the binary; the route names sample events
/// in `events/`, which exist and parse into its input type; and every sample under the
/// handlers' folders belongs to some route.
#[test]
fn every_function_has_sample_events_that_parse_into_its_input() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let t = template();
    let functions = resources_of(&t, "AWS::Serverless::Function");
    assert!(functions.len() >= 19, "{} functions", functions.len());
    let mut claimed = BTreeSet::new();
    for (name, f) in &functions {
        let handler = f["Properties"]["Handler"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no Handler"));
        let route = steward_functions::route(handler)
            .unwrap_or_else(|e| panic!("{name}: Handler {handler}: {e}"));
        assert!(
            !route.samples.is_empty(),
            "{name} ({handler}) has no sample event"
        );
        for sample in route.samples {
            let text = std::fs::read_to_string(root.join(sample))
                .unwrap_or_else(|e| panic!("{name}: {sample}: {e}"));
            let event: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name}: {sample} is not JSON: {e}"));
            if let Err(e) = (route.input)(event) {
                panic!("{name}: {sample} does not parse into {handler}'s input: {e}");
            }
            claimed.insert(sample.to_string());
        }
    }
    // A sample nobody reads has drifted from its handler.
    for dir in ["events/onboarding", "events/power", "events/partner-events"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("sample folder") {
            let file = entry.expect("entry").file_name();
            let path = format!("{dir}/{}", file.to_string_lossy());
            // The state machine's input, not a function's.
            if path.ends_with("execution-input.json") {
                continue;
            }
            assert!(claimed.contains(&path), "{path} belongs to no handler");
        }
    }
}

#[test]
fn a_sample_of_the_wrong_shape_is_refused_by_the_input_check() {
    let route = steward_functions::route("power.sweep_tenant").expect("route");
    let err = (route.input)(serde_json::json!({"tenant_id": "acme"})).unwrap_err();
    assert_eq!(err.name(), "Steward.ValidationError");
    let route = steward_functions::route("power.partner_events").expect("route");
    let err = (route.input)(serde_json::json!({"detail-type": "Session Started"})).unwrap_err();
    assert_eq!(err.name(), "Steward.EventRejected");
}

/// The README's architecture picture (its first screen) shows every state machine of the template
/// and every family of its functions, so it cannot drift from what is deployed.
#[test]
fn the_readme_architecture_shows_every_state_machine_and_function_family() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let start = readme
        .find("## Architecture")
        .expect("the architecture section");
    let block = &readme[start..];
    let block = &block[..block.find("\n```\n").expect("the diagram's end")];
    let t = template();
    let resources = t["Resources"].as_mapping().expect("Resources");
    // `PowerSweepStateMachine` → "Power sweep state machine".
    let label = |name: &str| {
        let mut words = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_uppercase() && i > 0 {
                words.push(' ');
            }
            words.push(if i == 0 { c } else { c.to_ascii_lowercase() });
        }
        words
    };
    let mut machines = 0;
    for (name, r) in resources {
        let name = name.as_str().unwrap_or_default();
        if r["Type"].as_str() == Some("AWS::Serverless::StateMachine") {
            machines += 1;
            let shown = label(name.trim_end_matches("StateMachine"));
            assert!(
                block.contains(&format!("{shown} state machine")),
                "{name} is not in the README's architecture picture"
            );
        }
    }
    assert_eq!(machines, 4);
    // Function families by resource-name prefix, and what the picture calls them.
    let families = [
        ("Onboarding", "Onboarding step λs"),
        ("PowerPartnerEvents", "Partner events λ"),
        ("PowerSweepTenant", "sweep tenant"),
        ("Lifecycle", "Lifecycle commands λ"),
        ("Query", "Query λ"),
        ("Offboard", "Offboarding λs"),
        ("Golden", "Golden image λs"),
    ];
    for (name, r) in resources {
        let name = name.as_str().unwrap_or_default();
        if r["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let family = families
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix))
            .or_else(|| name.starts_with("Power").then_some(&families[2]));
        let (_, shown) = family.unwrap_or_else(|| panic!("{name}: a function of no family"));
        assert!(
            block.contains(shown),
            "{name}: '{shown}' is not in the picture"
        );
    }
}
