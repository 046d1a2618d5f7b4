//! Load-time refusals (one per kind of unsupported thing) and loading a
//! definition from a SAM template.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use stepfunctions_runner::{
    ExecutionClock, ExecutionResult, FnInvoker, LoadError, Runner, StateMachine,
    definition_from_sam_template, definition_from_sam_template_file, substitution_keys,
};

fn one(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

fn refuse(def: Value) -> LoadError {
    match StateMachine::from_definition(&def) {
        Ok(_) => panic!("accepted an unsupported definition: {def}"),
        Err(e) => e,
    }
}

#[test]
fn unsupported_state_type() {
    let e = refuse(one(json!({"Type": "Activity", "End": true})));
    assert!(
        matches!(e, LoadError::UnsupportedStateType { ref state, ref state_type } if state == "S" && state_type == "Activity"),
        "{e}"
    );
}

#[test]
fn unsupported_fields_are_named() {
    let e = refuse(one(
        json!({"Type": "Pass", "End": true, "Assign": {"x": 1}}),
    ));
    assert!(
        matches!(e, LoadError::UnsupportedField { ref field, .. } if field == "Assign"),
        "{e}"
    );
    let e = refuse(one(
        json!({"Type": "Task", "Resource": "f", "End": true, "Credentials": {"RoleArn": "x"}}),
    ));
    assert!(
        matches!(e, LoadError::UnsupportedField { ref field, .. } if field == "Credentials"),
        "{e}"
    );
    let e = refuse(one(json!({"Type": "Map", "End": true, "ItemReader": {},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}})));
    assert!(
        matches!(e, LoadError::UnsupportedField { ref field, .. } if field == "ItemReader"),
        "{e}"
    );
    let e = refuse(
        json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Succeed"}}}),
    );
    assert!(
        matches!(e, LoadError::UnsupportedField { ref field, .. } if field == "QueryLanguage"),
        "{e}"
    );
    let e = refuse(one(json!({"Type": "Task", "Resource": "f", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "Backoff": 2}]})));
    assert!(
        matches!(e, LoadError::UnsupportedField { ref field, .. } if field == "Backoff"),
        "{e}"
    );
    let e = refuse(one(
        json!({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": true, "Next": "S"}], "Result": 1}),
    ));
    assert!(
        matches!(e, LoadError::UnsupportedField { ref field, .. } if field == "Result"),
        "{e}"
    );
}

#[test]
fn distributed_map_over_the_input_loads_and_reading_from_s3_does_not() {
    let map = |config: Value, extra: Value| {
        let mut m = json!({"Type": "Map", "End": true, "Label": "Each", "ItemsPath": "$.items",
            "ItemProcessor": {"ProcessorConfig": config,
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
        if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
            m.extend(extra.clone());
        }
        one(m)
    };
    for execution in ["EXPRESS", "STANDARD"] {
        let def = map(
            json!({"Mode": "DISTRIBUTED", "ExecutionType": execution}),
            json!({}),
        );
        StateMachine::from_definition(&def).unwrap();
    }
    for config in [
        json!({"Mode": "DISTRIBUTED"}),
        json!({"Mode": "INLINE", "ExecutionType": "EXPRESS"}),
        json!({"Mode": "DISTRIBUTED", "ExecutionType": "BATCH"}),
        json!({"Mode": "SIDEWAYS"}),
    ] {
        let e = refuse(map(config.clone(), json!({})));
        assert!(
            matches!(e, LoadError::InvalidField { ref field, .. } if field == "ItemProcessor.ProcessorConfig"),
            "{config}: {e}"
        );
    }
    let e = refuse(map(
        json!({"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}),
        json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject"}}),
    ));
    assert!(
        matches!(e, LoadError::UnsupportedField { ref field, .. } if field == "ItemReader"),
        "{e}"
    );
}

#[test]
fn unsupported_path_syntax() {
    let e = refuse(one(
        json!({"Type": "Pass", "End": true, "InputPath": "items[0]"}),
    ));
    assert!(
        matches!(e, LoadError::InvalidPath { ref field, .. } if field == "InputPath"),
        "{e}"
    );
    let e = refuse(one(
        json!({"Type": "Pass", "End": true, "ResultPath": "$.items[0]"}),
    ));
    assert!(
        matches!(e, LoadError::InvalidPath { ref field, .. } if field == "ResultPath"),
        "{e}"
    );
    let e = refuse(one(
        json!({"Type": "Pass", "End": true, "Parameters": {"x.$": "$.a[?(@.b"}}),
    ));
    assert!(
        matches!(e, LoadError::InvalidPath { ref field, .. } if field == "Parameters.x.$"),
        "{e}"
    );
    let e = refuse(one(
        json!({"Type": "Pass", "End": true, "Parameters": {"x.$": "not a path"}}),
    ));
    assert!(matches!(e, LoadError::InvalidPath { .. }), "{e}");
}

#[test]
fn unsupported_intrinsic_function() {
    let e = refuse(one(
        json!({"Type": "Pass", "End": true, "Parameters": {"h.$": "States.Hash($.a, 'SHA-256')"}}),
    ));
    assert!(
        matches!(e, LoadError::UnsupportedIntrinsic { ref function, ref field, .. } if function == "States.Hash" && field == "Parameters.h.$"),
        "{e}"
    );
    let e = refuse(one(
        json!({"Type": "Pass", "End": true, "Parameters": {"h.$": "States.Format('{}', States.Base64Encode($.a))"}}),
    ));
    assert!(
        matches!(e, LoadError::UnsupportedIntrinsic { ref function, .. } if function == "States.Base64Encode"),
        "{e}"
    );
}

#[test]
fn unsupported_comparison_operator() {
    let e = refuse(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "StringContains": "x", "Next": "D"}]},
        "D": {"Type": "Succeed"}}}));
    assert!(
        matches!(e, LoadError::UnsupportedOperator { ref operator, .. } if operator == "StringContains"),
        "{e}"
    );
}

#[test]
fn unsupported_resources() {
    for resource in [
        "arn:aws:states:::dynamodb:putItem",
        "arn:aws:states:::states:startExecution.sync",
        "arn:aws:states:us-east-1:123456789012:activity:approve",
        "${Unresolved}",
    ] {
        let e = refuse(one(
            json!({"Type": "Task", "Resource": resource, "End": true}),
        ));
        assert!(
            matches!(e, LoadError::UnsupportedResource { ref resource, .. } if !resource.is_empty()),
            "{e}"
        );
    }
}

#[test]
fn wait_for_task_token_must_pass_the_token() {
    let e = refuse(one(
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "End": true}),
    ));
    assert!(
        matches!(e, LoadError::InvalidField { ref field, .. } if field == "Parameters"),
        "{e}"
    );
}

#[test]
fn transitions_are_checked_like_step_functions() {
    let e = refuse(one(json!({"Type": "Pass"})));
    assert!(
        matches!(e, LoadError::InvalidTransition { .. }),
        "missing Next/End: {e}"
    );
    let e = refuse(
        json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "Next": "T", "End": true}, "T": {"Type": "Succeed"}}}),
    );
    assert!(
        matches!(e, LoadError::InvalidTransition { .. }),
        "End and Next: {e}"
    );
    let e = refuse(one(json!({"Type": "Pass", "Next": "Nowhere"})));
    assert!(
        matches!(e, LoadError::UnknownTarget { ref target, .. } if target == "Nowhere"),
        "{e}"
    );
    let e = refuse(json!({"StartAt": "Missing", "States": {"S": {"Type": "Succeed"}}}));
    assert!(
        matches!(e, LoadError::UnknownTarget { ref field, .. } if field == "StartAt"),
        "{e}"
    );
    let e = refuse(
        json!({"StartAt": "S", "States": {"S": {"Type": "Succeed"}, "Orphan": {"Type": "Succeed"}}}),
    );
    assert!(
        matches!(e, LoadError::Unreachable { ref state } if state == "Orphan"),
        "{e}"
    );
    let e = refuse(
        json!({"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": "f", "End": true,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}]}}}),
    );
    assert!(
        matches!(e, LoadError::UnknownTarget { ref field, .. } if field == "Catch[0].Next"),
        "{e}"
    );
    let e = refuse(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Outside"}}}},
        "Outside": {"Type": "Succeed"}}}),
    );
    assert!(
        matches!(e, LoadError::UnknownTarget { ref state, .. } if state == "M/ItemProcessor/P"),
        "Map scopes are closed: {e}"
    );
}

#[test]
fn states_all_must_be_alone_and_last() {
    let e = refuse(one(json!({"Type": "Task", "Resource": "f", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["Steward.Throttled"]}]})));
    assert!(
        matches!(e, LoadError::InvalidField { ref field, .. } if field == "Retry[0].ErrorEquals"),
        "{e}"
    );
    let e = refuse(one(json!({"Type": "Task", "Resource": "f", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL", "Steward.Throttled"]}]})));
    assert!(matches!(e, LoadError::InvalidField { .. }), "{e}");
}

#[test]
fn bad_field_values_are_refused() {
    let e = refuse(one(
        json!({"Type": "Task", "Resource": "f", "End": true, "TimeoutSeconds": 10, "HeartbeatSeconds": 10}),
    ));
    assert!(
        matches!(e, LoadError::InvalidField { ref field, .. } if field == "HeartbeatSeconds"),
        "{e}"
    );
    let e = refuse(one(
        json!({"Type": "Task", "Resource": "f", "End": true, "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "PARTIAL"}]}),
    ));
    assert!(matches!(e, LoadError::InvalidField { .. }), "{e}");
    let e = refuse(one(
        json!({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": true}),
    ));
    assert!(matches!(e, LoadError::InvalidField { .. }), "{e}");
    let e = refuse(one(
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Parameters": {"Payload.$": "$"}}),
    ));
    assert!(
        matches!(e, LoadError::InvalidField { ref field, .. } if field == "Parameters"),
        "lambda:invoke needs FunctionName: {e}"
    );
}

const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  ValidateFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
  Onboarding:
    Type: AWS::Serverless::StateMachine
    Properties:
      Type: STANDARD
      DefinitionSubstitutions:
        ValidateFunctionArn: !GetAtt ValidateFunction.Arn
        BusName: !Ref PartnerBus
      Policies:
        - LambdaInvokePolicy:
            FunctionName: !Ref ValidateFunction
      Definition:
        Comment: onboarding, trimmed
        StartAt: Validate
        States:
          Validate:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName: ${ValidateFunctionArn}
              Payload:
                tenant.$: $.tenant
                bus: ${BusName}
            ResultSelector:
              ok.$: $.Payload.ok
            ResultPath: $.validation
            Retry:
              - ErrorEquals: [Steward.Throttled, Steward.Transient]
                IntervalSeconds: 2
                MaxAttempts: 5
            End: true
"#;

#[tokio::test]
async fn runs_a_definition_from_a_sam_template() {
    assert_eq!(
        substitution_keys(TEMPLATE, "Onboarding").ok(),
        Some(vec![
            "ValidateFunctionArn".to_string(),
            "BusName".to_string()
        ])
    );
    let subs = HashMap::from([
        (
            "ValidateFunctionArn".to_string(),
            "validate_access".to_string(),
        ),
        ("BusName".to_string(), "partner-bus".to_string()),
    ]);
    let def = definition_from_sam_template(TEMPLATE, "Onboarding", &subs).expect("template loads");
    assert_eq!(
        def["States"]["Validate"]["Parameters"]["FunctionName"],
        json!("validate_access")
    );
    let invoker = FnInvoker::new().handler("validate_access", |r| async move {
        Ok(json!({"ok": r.input["bus"] == json!("partner-bus") && r.input["tenant"] == json!("t1")}))
    });
    let machine = StateMachine::from_definition(&def).expect("definition loads");
    let clock = Arc::new(ExecutionClock::new(
        "2026-01-01T00:00:00Z".parse().expect("ts"),
    ));
    let runner = Runner::new(machine, clock, Arc::new(invoker));
    let exec = runner.start("t1", json!({"tenant": "t1"}));
    assert_eq!(
        exec.result().await,
        ExecutionResult::Succeeded {
            output: json!({"tenant": "t1", "validation": {"ok": true}})
        }
    );
}

#[test]
fn unresolved_substitutions_and_wrong_resources_are_refused() {
    let subs = HashMap::from([(
        "ValidateFunctionArn".to_string(),
        "validate_access".to_string(),
    )]);
    let e = definition_from_sam_template(TEMPLATE, "Onboarding", &subs).err();
    assert!(
        matches!(e, Some(LoadError::UnresolvedSubstitution { ref name, .. }) if name == "BusName"),
        "{e:?}"
    );
    let e = definition_from_sam_template(TEMPLATE, "ValidateFunction", &subs).err();
    assert!(matches!(e, Some(LoadError::SamTemplate(_))), "{e:?}");
    let e = definition_from_sam_template(TEMPLATE, "Missing", &subs).err();
    assert!(matches!(e, Some(LoadError::SamTemplate(_))), "{e:?}");
    let tagged = "Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      Definition:\n        StartAt: S\n        States:\n          S:\n            Type: Task\n            Resource: !GetAtt F.Arn\n            End: true\n";
    let e = definition_from_sam_template(tagged, "M", &HashMap::new()).err();
    assert!(
        matches!(e, Some(LoadError::SamTemplate(ref m)) if m.contains("GetAtt")),
        "{e:?}"
    );
}

#[test]
fn definition_uri_resolves_against_the_template_file() {
    let template =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/asl/template.yaml");
    let subs = HashMap::from([("DescribeFn".to_string(), "describe_image".to_string())]);
    let def = definition_from_sam_template_file(&template, "FromFile", &subs)
        .expect("DefinitionUri loads");
    assert_eq!(
        def["States"]["Describe"]["Resource"],
        json!("describe_image")
    );
    assert!(StateMachine::from_definition(&def).is_ok());
}
