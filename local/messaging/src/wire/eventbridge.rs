//! EventBridge's operations on awsJson1_1. Timestamps are epoch seconds (numbers), as the
//! protocol carries them.

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{events_error, events_fault};
use super::{BodyError, EVENTS_JSON, WireResponse, page, parse};
use crate::events::{
    BusInfo, Entry, EntryResult, EventBridge, EventsError, RuleInfo, RuleSpec, RuleState,
    TargetSpec,
};
use crate::pattern::EventPattern;

type Answer = Result<Value, WireResponse>;

fn body_error(e: BodyError) -> WireResponse {
    match e {
        BodyError::NotJson => events_fault("SerializationException", &e.message()),
        BodyError::Field(_) => events_fault("ValidationException", &e.message()),
    }
}

fn read<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, WireResponse> {
    parse(body).map_err(body_error)
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, WireResponse> {
    value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| {
        events_fault(
            "ValidationException",
            &format!("Parameter {field} is required."),
        )
    })
}

fn fail(e: EventsError) -> WireResponse {
    events_error(&e)
}

pub(super) fn handle(bridge: &EventBridge, op: &str, body: &[u8]) -> WireResponse {
    let answer = match op {
        "PutEvents" => put_events(bridge, body),
        "PutRule" => put_rule(bridge, body),
        "DescribeRule" => describe_rule(bridge, body),
        "ListRules" => list_rules(bridge, body),
        "DeleteRule" => delete_rule(bridge, body),
        "PutTargets" => put_targets(bridge, body),
        "RemoveTargets" => remove_targets(bridge, body),
        "ListTargetsByRule" => list_targets(bridge, body),
        "CreateEventBus" => create_bus(bridge, body),
        "DescribeEventBus" => describe_bus(bridge, body),
        "ListEventBuses" => list_buses(bridge, body),
        "DeleteEventBus" => delete_bus(bridge, body),
        "TestEventPattern" => test_event_pattern(body),
        _ => Err(events_fault(
            "UnknownOperationException",
            "The operation is not served locally.",
        )),
    };
    match answer {
        Ok(value) => WireResponse::ok(EVENTS_JSON, value),
        Err(error) => error,
    }
}

fn epoch(time: &DateTime<Utc>) -> f64 {
    time.timestamp_millis() as f64 / 1000.0
}

/// A timestamp field: epoch seconds (the SDKs' form) or RFC 3339 text.
fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(n) => {
            let millis = (n.as_f64()? * 1000.0).round();
            if !millis.is_finite() || millis.abs() > 1e15 {
                return None;
            }
            Utc.timestamp_millis_opt(millis as i64).single()
        }
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireEntry {
    source: Option<String>,
    detail_type: Option<String>,
    detail: Option<String>,
    resources: Option<Vec<String>>,
    time: Option<Value>,
    event_bus_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutEventsRequest {
    entries: Option<Vec<WireEntry>>,
}

fn put_events(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: PutEventsRequest = read(body)?;
    let entries = request.entries.unwrap_or_default();
    if entries.is_empty() || entries.len() > 10 {
        return Err(events_fault(
            "ValidationException",
            "Parameter Entries must hold 1 to 10 entries.",
        ));
    }
    let mut converted = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let time = match &entry.time {
            Some(value) => Some(timestamp(value).ok_or_else(|| {
                events_fault(
                    "ValidationException",
                    &format!("Parameter Entries[{index}].Time is not a valid timestamp."),
                )
            })?),
            None => None,
        };
        converted.push(Entry {
            source: entry.source,
            detail_type: entry.detail_type,
            detail: entry.detail,
            resources: entry.resources.unwrap_or_default(),
            time,
            bus: entry.event_bus_name,
        });
    }
    let results = bridge.put_events(converted);
    let failed = results
        .iter()
        .filter(|r| matches!(r, EntryResult::Failed { .. }))
        .count();
    let entries: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            EntryResult::Accepted { event_id } => json!({"EventId": event_id}),
            EntryResult::Failed { code, message } => {
                json!({"ErrorCode": code, "ErrorMessage": message})
            }
        })
        .collect();
    Ok(json!({"FailedEntryCount": failed, "Entries": entries}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRuleRequest {
    name: Option<String>,
    event_bus_name: Option<String>,
    event_pattern: Option<String>,
    schedule_expression: Option<String>,
    state: Option<RuleState>,
    description: Option<String>,
}

fn bus_or_default(bus: &Option<String>) -> &str {
    bus.as_deref().unwrap_or("default")
}

fn put_rule(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: PutRuleRequest = read(body)?;
    let name = required(&request.name, "Name")?;
    if request.schedule_expression.is_some() {
        return Err(events_fault(
            "ValidationException",
            "Parameter ScheduleExpression is not served locally: schedules come from the template.",
        ));
    }
    let text = request.event_pattern.as_deref().ok_or_else(|| {
        events_fault(
            "ValidationException",
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        )
    })?;
    let pattern: Value = serde_json::from_str(text).map_err(|_| {
        fail(EventsError::InvalidEventPattern(
            crate::pattern::PatternError::NotJson,
        ))
    })?;
    let arn = bridge
        .put_rule(RuleSpec {
            name: name.to_owned(),
            bus: bus_or_default(&request.event_bus_name).to_owned(),
            pattern,
            state: request.state.unwrap_or_default(),
            description: request.description,
        })
        .map_err(fail)?;
    Ok(json!({"RuleArn": arn}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RuleRequest {
    name: Option<String>,
    event_bus_name: Option<String>,
    #[serde(default)]
    force: bool,
}

fn rule_json(rule: &RuleInfo) -> Value {
    let mut out = json!({
        "Name": rule.name,
        "Arn": rule.arn,
        "EventPattern": rule.pattern,
        "State": rule.state,
        "EventBusName": rule.bus,
    });
    if let Some(d) = &rule.description {
        out["Description"] = json!(d);
    }
    out
}

fn describe_rule(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: RuleRequest = read(body)?;
    let name = required(&request.name, "Name")?;
    let rule = bridge
        .describe_rule(bus_or_default(&request.event_bus_name), name)
        .map_err(fail)?;
    let mut out = rule_json(&rule);
    out["CreatedBy"] = json!(rule.arn.split(':').nth(4).unwrap_or_default());
    Ok(out)
}

fn delete_rule(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: RuleRequest = read(body)?;
    let name = required(&request.name, "Name")?;
    bridge
        .delete_rule(bus_or_default(&request.event_bus_name), name, request.force)
        .map_err(fail)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    name_prefix: Option<String>,
    event_bus_name: Option<String>,
    rule: Option<String>,
    next_token: Option<String>,
    limit: Option<u32>,
}

fn paged<T>(
    items: Vec<T>,
    request: &ListRequest,
) -> Result<(Vec<T>, Option<String>), WireResponse> {
    if request.limit.is_some_and(|l| !(1..=100).contains(&l)) {
        return Err(events_fault(
            "ValidationException",
            "Parameter Limit must be between 1 and 100.",
        ));
    }
    page(
        items,
        request.next_token.as_deref(),
        request.limit.map(|l| l as usize),
    )
    .ok_or_else(|| events_fault("ValidationException", "Parameter NextToken is not valid."))
}

fn with_token(mut out: Value, token: Option<String>) -> Value {
    if let Some(token) = token {
        out["NextToken"] = json!(token);
    }
    out
}

fn list_rules(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: ListRequest = read(body)?;
    let rules = bridge
        .list_rules(
            bus_or_default(&request.event_bus_name),
            request.name_prefix.as_deref(),
        )
        .map_err(fail)?;
    let (rules, token) = paged(rules, &request)?;
    let rules: Vec<Value> = rules.iter().map(rule_json).collect();
    Ok(with_token(json!({"Rules": rules}), token))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireTarget {
    id: Option<String>,
    arn: Option<String>,
    input: Option<String>,
    input_path: Option<String>,
    input_transformer: Option<Value>,
    dead_letter_config: Option<DeadLetterConfig>,
    retry_policy: Option<RetryPolicy>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeadLetterConfig {
    arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RetryPolicy {
    maximum_retry_attempts: Option<u32>,
    maximum_event_age_in_seconds: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutTargetsRequest {
    rule: Option<String>,
    event_bus_name: Option<String>,
    targets: Option<Vec<WireTarget>>,
}

fn target_spec(target: WireTarget) -> Result<TargetSpec, WireResponse> {
    if target.input_transformer.is_some() {
        return Err(events_fault(
            "ValidationException",
            "Parameter InputTransformer is not served locally.",
        ));
    }
    let retry = target.retry_policy;
    Ok(TargetSpec {
        id: required(&target.id, "Targets.Id")?.to_owned(),
        arn: required(&target.arn, "Targets.Arn")?.to_owned(),
        input: target.input,
        input_path: target.input_path,
        dead_letter_arn: target.dead_letter_config.and_then(|d| d.arn),
        max_retries: retry.as_ref().and_then(|r| r.maximum_retry_attempts),
        max_event_age_seconds: retry.as_ref().and_then(|r| r.maximum_event_age_in_seconds),
    })
}

fn put_targets(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: PutTargetsRequest = read(body)?;
    let rule = required(&request.rule, "Rule")?;
    let targets = request.targets.unwrap_or_default();
    if targets.is_empty() || targets.len() > 10 {
        return Err(events_fault(
            "ValidationException",
            "Parameter Targets must hold 1 to 10 targets.",
        ));
    }
    let specs = targets
        .into_iter()
        .map(target_spec)
        .collect::<Result<Vec<_>, _>>()?;
    bridge
        .put_targets(bus_or_default(&request.event_bus_name), rule, specs)
        .map_err(fail)?;
    Ok(json!({"FailedEntryCount": 0, "FailedEntries": []}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RemoveTargetsRequest {
    rule: Option<String>,
    event_bus_name: Option<String>,
    ids: Option<Vec<String>>,
}

fn remove_targets(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: RemoveTargetsRequest = read(body)?;
    let rule = required(&request.rule, "Rule")?;
    let ids = request.ids.unwrap_or_default();
    if ids.is_empty() || ids.len() > 100 {
        return Err(events_fault(
            "ValidationException",
            "Parameter Ids must hold 1 to 100 ids.",
        ));
    }
    // EventBridge answers success for Ids the rule does not have.
    bridge
        .remove_targets(bus_or_default(&request.event_bus_name), rule, &ids)
        .map_err(fail)?;
    Ok(json!({"FailedEntryCount": 0, "FailedEntries": []}))
}

fn target_json(target: &TargetSpec) -> Value {
    let mut out = json!({"Id": target.id, "Arn": target.arn});
    if let Some(input) = &target.input {
        out["Input"] = json!(input);
    }
    if let Some(path) = &target.input_path {
        out["InputPath"] = json!(path);
    }
    if let Some(dlq) = &target.dead_letter_arn {
        out["DeadLetterConfig"] = json!({"Arn": dlq});
    }
    if target.max_retries.is_some() || target.max_event_age_seconds.is_some() {
        let mut policy = json!({});
        if let Some(r) = target.max_retries {
            policy["MaximumRetryAttempts"] = json!(r);
        }
        if let Some(a) = target.max_event_age_seconds {
            policy["MaximumEventAgeInSeconds"] = json!(a);
        }
        out["RetryPolicy"] = policy;
    }
    out
}

fn list_targets(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: ListRequest = read(body)?;
    let rule = required(&request.rule, "Rule")?;
    let targets = bridge
        .list_targets(bus_or_default(&request.event_bus_name), rule)
        .map_err(fail)?;
    let (targets, token) = paged(targets, &request)?;
    let targets: Vec<Value> = targets.iter().map(target_json).collect();
    Ok(with_token(json!({"Targets": targets}), token))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BusRequest {
    name: Option<String>,
    description: Option<String>,
}

fn bus_json(bus: &BusInfo) -> Value {
    let mut out = json!({
        "Name": bus.name,
        "Arn": bus.arn,
        "CreationTime": epoch(&bus.created),
        "LastModifiedTime": epoch(&bus.created),
    });
    if let Some(d) = &bus.description {
        out["Description"] = json!(d);
    }
    out
}

fn create_bus(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: BusRequest = read(body)?;
    let name = required(&request.name, "Name")?;
    let arn = bridge
        .create_bus(name, request.description.clone())
        .map_err(fail)?;
    let mut out = json!({"EventBusArn": arn});
    if let Some(d) = request.description {
        out["Description"] = json!(d);
    }
    Ok(out)
}

fn describe_bus(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: BusRequest = read(body)?;
    let bus = bridge
        .describe_bus(request.name.as_deref().unwrap_or("default"))
        .map_err(fail)?;
    Ok(bus_json(&bus))
}

fn list_buses(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: ListRequest = read(body)?;
    let buses = bridge.list_buses(request.name_prefix.as_deref());
    let (buses, token) = paged(buses, &request)?;
    let buses: Vec<Value> = buses.iter().map(bus_json).collect();
    Ok(with_token(json!({"EventBuses": buses}), token))
}

fn delete_bus(bridge: &EventBridge, body: &[u8]) -> Answer {
    let request: BusRequest = read(body)?;
    let name = required(&request.name, "Name")?;
    bridge.delete_bus(name).map_err(fail)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TestRequest {
    event_pattern: Option<String>,
    event: Option<String>,
}

/// The envelope fields EventBridge requires of TestEventPattern's event.
const EVENT_FIELDS: [&str; 6] = ["id", "account", "source", "time", "region", "detail-type"];

fn test_event_pattern(body: &[u8]) -> Answer {
    let request: TestRequest = read(body)?;
    let pattern = EventPattern::parse_str(required(&request.event_pattern, "EventPattern")?)
        .map_err(|e| fail(EventsError::InvalidEventPattern(e)))?;
    let event: Value = serde_json::from_str(required(&request.event, "Event")?)
        .ok()
        .filter(|e: &Value| EVENT_FIELDS.iter().all(|f| e.get(f).is_some()))
        .ok_or_else(|| {
            events_fault(
                "ValidationException",
                "Parameter Event is not valid: a JSON object with id, account, source, time, region and detail-type.",
            )
        })?;
    Ok(json!({"Result": pattern.matches(&event)}))
}
