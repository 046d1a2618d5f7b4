//! Every function's role allows what its handler calls, and no more cross-account reach:
//! checked from `template.yaml` and `customer-role.yaml` against the one table in code
//! (`steward_functions::permissions`).

use std::collections::BTreeSet;

use serde_yaml::Value;
use steward_functions::permissions::needs_of;

fn load(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `!Ref X` / `!GetAtt X.Y` → X.
fn referenced(v: &Value) -> Option<&str> {
    match v {
        Value::Tagged(t) if t.tag == "!Ref" || t.tag == "Ref" => t.value.as_str(),
        Value::Mapping(m) => m.get("Ref").and_then(Value::as_str),
        _ => None,
    }
}

/// A policy document, written as YAML or as a `!Sub` JSON string.
fn document(doc: &Value) -> Value {
    match doc {
        Value::Tagged(t) if t.tag == "!Sub" || t.tag == "Sub" => {
            let text = t
                .value
                .as_str()
                .expect("a !Sub policy document is a string");
            let json: serde_json::Value =
                serde_json::from_str(text).expect("the !Sub policy document is JSON");
            serde_yaml::to_value(json).expect("JSON is YAML")
        }
        other => other.clone(),
    }
}

fn actions_of_statements(statements: &Value, effect: &str, out: &mut BTreeSet<String>) {
    let list: Vec<&Value> = match statements {
        Value::Sequence(s) => s.iter().collect(),
        other => vec![other],
    };
    for st in list {
        if st["Effect"].as_str() != Some(effect) {
            continue;
        }
        match &st["Action"] {
            Value::String(a) => {
                out.insert(a.clone());
            }
            Value::Sequence(actions) => {
                out.extend(actions.iter().filter_map(|a| a.as_str().map(str::to_owned)));
            }
            _ => {}
        }
    }
}

/// The actions SAM's policy templates that the template uses grant.
fn sam_template_actions(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "LambdaInvokePolicy" => &["lambda:InvokeFunction"],
        "EventBridgePutEventsPolicy" => &["events:PutEvents"],
        "SQSSendMessagePolicy" => &["sqs:SendMessage"],
        "SQSPollerPolicy" => &[
            "sqs:ChangeMessageVisibility",
            "sqs:ChangeMessageVisibilityBatch",
            "sqs:DeleteMessage",
            "sqs:DeleteMessageBatch",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
        ],
        "StepFunctionsExecutionPolicy" => &["states:StartExecution"],
        "CloudWatchPutMetricPolicy" => &["cloudwatch:PutMetricData"],
        "DynamoDBCrudPolicy" => &[
            "dynamodb:GetItem",
            "dynamodb:DeleteItem",
            "dynamodb:PutItem",
            "dynamodb:Scan",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:BatchGetItem",
            "dynamodb:DescribeTable",
            "dynamodb:ConditionCheckItem",
        ],
        "DynamoDBReadPolicy" => &[
            "dynamodb:GetItem",
            "dynamodb:Scan",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:DescribeTable",
        ],
        _ => return None,
    })
}

/// Every action a function's role is granted, from its `Policies`.
fn granted(template: &Value, function: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let policies = function["Properties"]["Policies"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    for p in &policies {
        if let Some(name) = referenced(p) {
            let res = &template["Resources"][name];
            assert_eq!(
                res["Type"].as_str(),
                Some("AWS::IAM::ManagedPolicy"),
                "{name} is not a managed policy of the template"
            );
            actions_of_statements(
                &res["Properties"]["PolicyDocument"]["Statement"],
                "Allow",
                &mut out,
            );
        } else if let Some(m) = p.as_mapping() {
            for (k, _) in m {
                let key = k.as_str().unwrap_or_default();
                if key == "Statement" {
                    actions_of_statements(&p["Statement"], "Allow", &mut out);
                } else {
                    let actions = sam_template_actions(key).unwrap_or_else(|| {
                        panic!("policy template {key} is not known to this test")
                    });
                    out.extend(actions.iter().map(|a| a.to_string()));
                }
            }
        }
    }
    out
}

fn allows(granted: &BTreeSet<String>, action: &str) -> bool {
    granted.iter().any(|g| {
        g == action
            || g.strip_suffix('*')
                .is_some_and(|prefix| action.starts_with(prefix))
    })
}

#[test]
fn every_function_role_allows_what_its_handler_calls_and_reaches_customers_only_if_it_must() {
    let template = load("template.yaml");
    let customer_role = load("customer-role.yaml");
    let mut customer_granted = BTreeSet::new();
    for (_, res) in customer_role["Resources"].as_mapping().unwrap() {
        for p in res["Properties"]["Policies"]
            .as_sequence()
            .cloned()
            .unwrap_or_default()
        {
            let doc = document(&p["PolicyDocument"]);
            actions_of_statements(&doc["Statement"], "Allow", &mut customer_granted);
        }
        if matches!(
            res["Type"].as_str(),
            Some("AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy" | "AWS::IAM::RolePolicy")
        ) {
            let doc = document(&res["Properties"]["PolicyDocument"]);
            actions_of_statements(&doc["Statement"], "Allow", &mut customer_granted);
        }
    }
    assert!(
        !customer_granted.is_empty(),
        "customer-role.yaml grants nothing"
    );

    let mut checked = 0;
    for (id, res) in template["Resources"].as_mapping().unwrap() {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = id.as_str().unwrap();
        let handler = res["Properties"]["Handler"]
            .as_str()
            .unwrap_or_else(|| panic!("{id} has no Handler"));
        let needs = needs_of(handler)
            .unwrap_or_else(|| panic!("{id}: handler {handler} is not in the permissions table"));
        let have = granted(&template, res);
        for action in &needs.partner {
            assert!(
                allows(&have, action),
                "{id} ({handler}) lacks {action}: has {have:?}"
            );
        }
        assert_eq!(
            allows(&have, "sts:AssumeRole"),
            needs.partner.contains(&"sts:AssumeRole"),
            "{id} ({handler}): sts:AssumeRole only for handlers that reach customers"
        );
        for action in &needs.customer {
            assert!(
                allows(&customer_granted, action),
                "customer-role.yaml does not allow {action}, which {handler} calls"
            );
        }
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} functions found");
}
