//! `steward-local serve` as a partner backend meets it: only the public AWS APIs — the Rust
//! SDK clients of EventBridge, Step Functions, Lambda and SQS pointed at the one endpoint —
//! plus the emulator's control API to move the clock. No handler is called directly.
//!
//! - [`a_partner_backend_runs_the_whole_flow_through_the_aws_apis`]: subscribe a queue to
//!   Steward's outbound events, onboard a customer answering every pause from the queue,
//!   start a desktop and hear it is available, query desktops through Lambda, and advance
//!   a day to hear the idle sweep stop a desktop and the guard warn about a busy one.
//! - [`each_template_rule_routes_exactly_its_detail_types`]: every rule of `template.yaml`,
//!   through `PutEvents`; a malformed partner event ends in the template's DLQ with its
//!   reason.
//! - [`unknown_operations_are_named_by_each_protocol`]: every service's unknown operation, a
//!   missing function, a payload that is not JSON, a clock told nonsense: named errors.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use serde_json::{Value, json};
use steward_local::sandbox::default_onboarding_input;
use steward_local::serve::{self, ServeHandle, ServeOptions};
use workspaces_core_emulator::seed::ids;

const BUS: &str = "steward-partner";

struct Partner {
    events: aws_sdk_eventbridge::Client,
    sfn: aws_sdk_sfn::Client,
    lambda: aws_sdk_lambda::Client,
    sqs: aws_sdk_sqs::Client,
    endpoint: String,
}

async fn sdk_config(endpoint: &str) -> SdkConfig {
    steward_shared::aws::sdk_defaults()
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIDPARTNERBACKEND",
            "partner-secret",
            None,
            None,
            "test",
        ))
        .load()
        .await
}

async fn start() -> (ServeHandle, Partner) {
    let handle = serve::start(ServeOptions {
        start_time: Some("2026-11-23T07:00:00Z".parse().expect("a time")),
        ..ServeOptions::default()
    })
    .await
    .expect("serve starts");
    let endpoint = handle.endpoint_url();
    let config = sdk_config(&endpoint).await;
    let partner = Partner {
        events: aws_sdk_eventbridge::Client::new(&config),
        sfn: aws_sdk_sfn::Client::new(&config),
        lambda: aws_sdk_lambda::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
        endpoint,
    };
    (handle, partner)
}

impl Partner {
    /// A queue subscribed to every event Steward publishes (source `steward`), as a partner
    /// subscribes one to the deployed bus.
    async fn subscribe(&self, name: &str) -> String {
        let url = self
            .sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("CreateQueue")
            .queue_url
            .expect("a queue URL");
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("GetQueueAttributes");
        let arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .expect("the queue's ARN")
            .clone();
        self.events
            .put_rule()
            .name(name)
            .event_bus_name(BUS)
            .event_pattern(json!({"source": ["steward"]}).to_string())
            .send()
            .await
            .expect("PutRule");
        let put = self
            .events
            .put_targets()
            .rule(name)
            .event_bus_name(BUS)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("inbox")
                    .arn(arn)
                    .build()
                    .expect("a target"),
            )
            .send()
            .await
            .expect("PutTargets");
        assert_eq!(put.failed_entry_count(), 0);
        url
    }

    /// Receives (and deletes) what the queue holds now: waits up to 1 s for the first.
    async fn drain(&self, url: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(if out.is_empty() { 1 } else { 0 })
                .send()
                .await
                .expect("ReceiveMessage");
            let messages = got.messages();
            if messages.is_empty() {
                return out;
            }
            for m in messages {
                out.push(serde_json::from_str(m.body().unwrap_or("null")).expect("a JSON body"));
                self.sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
        }
    }

    /// Receives until an event of `detail_type` arrives (at most `limit`), returning all.
    async fn until(&self, url: &str, detail_type: &str, limit: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut all = Vec::new();
        while tokio::time::Instant::now() < deadline {
            all.extend(self.drain(url).await);
            if all.iter().any(|e| e["detail-type"] == detail_type) {
                return all;
            }
        }
        panic!(
            "no {detail_type} within {limit:?}; got {:?}",
            all.iter().map(|e| &e["detail-type"]).collect::<Vec<_>>()
        );
    }

    async fn put(&self, detail_type: &str, detail: Value) {
        let out = self
            .events
            .put_events()
            .entries(
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .event_bus_name(BUS)
                    .source("steward.partner")
                    .detail_type(detail_type)
                    .detail(detail.to_string())
                    .build(),
            )
            .send()
            .await
            .expect("PutEvents");
        assert_eq!(out.failed_entry_count(), 0, "{detail_type} accepted");
    }

    async fn query(&self, query: Value) -> Value {
        let out = self
            .lambda
            .invoke()
            .function_name("QueryFunction")
            .payload(aws_sdk_lambda::primitives::Blob::new(query.to_string()))
            .send()
            .await
            .expect("Invoke");
        assert_eq!(out.status_code(), 200);
        assert_eq!(out.function_error(), None, "the query succeeded");
        serde_json::from_slice(out.payload().expect("a payload").as_ref()).expect("JSON")
    }

    /// The emulator's control API: moves the clock, running the schedules on the way.
    async fn advance(&self, minutes: u64) -> Value {
        control_post(
            &self.endpoint,
            "/_emulator/clock/advance",
            &json!({"minutes": minutes}),
        )
        .await
    }
}

/// One HTTP/1.1 request; the answer's status code and body.
async fn raw(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    let (head, rest) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, rest.to_owned())
}

/// A POST with a JSON body to the control API (plain JSON, not an AWS API).
async fn control_post(endpoint: &str, path: &str, body: &Value) -> Value {
    let (status, answer) = raw(
        endpoint,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    serde_json::from_str(&answer).expect("a JSON answer")
}

fn of_type<'a>(events: &'a [Value], detail_type: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["detail-type"] == detail_type)
        .collect()
}

/// The customer's answer to a pause, as a partner UI would give it from the event.
fn answer(detail: &Value) -> Value {
    let options: Vec<Value> = detail["options"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|o| o.get("eligible").is_none_or(|e| e == true))
        .collect();
    match detail["input"].as_str() {
        Some("managementCidr") => json!({"managementCidr": options[0]}),
        Some("byolConfirmation") => json!({"confirm": true}),
        Some("image") => json!({"ec2ImageId": options[0]["imageId"]}),
        // No directory is registered with WorkSpaces yet: the customer names its own.
        Some("directory") => json!({"directoryId": ids::DIRECTORY_CORP}),
        other => panic!("an unknown pause {other:?}"),
    }
}

fn now(handle: &ServeHandle) -> String {
    handle.control().now().to_rfc3339()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partner_backend_runs_the_whole_flow_through_the_aws_apis() {
    let (handle, p) = start().await;
    let inbox = p.subscribe("partner-inbox").await;

    // Onboarding: the machine by name, started with the customer's input; every pause is
    // answered from the queue with SendTaskSuccess.
    let machines = p
        .sfn
        .list_state_machines()
        .send()
        .await
        .expect("ListStateMachines");
    let onboarding = machines
        .state_machines()
        .iter()
        .find(|m| m.name() == "OnboardingStateMachine")
        .expect("the onboarding machine")
        .state_machine_arn()
        .to_owned();
    assert_eq!(machines.state_machines().len(), 4);
    let started = p
        .sfn
        .start_execution()
        .state_machine_arn(&onboarding)
        .name("demo-customer-onboarding")
        .input(default_onboarding_input(2).to_string())
        .send()
        .await
        .expect("StartExecution");
    let execution = started.execution_arn().to_owned();
    let mut pauses = Vec::new();
    let mut heard = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "onboarding ends in time"
        );
        for event in p.drain(&inbox).await {
            if event["detail-type"] == "Onboarding Awaiting Customer Input" {
                let detail = &event["detail"];
                pauses.push(detail["input"].as_str().unwrap_or_default().to_owned());
                p.sfn
                    .send_task_success()
                    .task_token(detail["taskToken"].as_str().expect("a task token"))
                    .output(answer(detail).to_string())
                    .send()
                    .await
                    .expect("SendTaskSuccess");
            }
            heard.push(event);
        }
        let described = p
            .sfn
            .describe_execution()
            .execution_arn(&execution)
            .send()
            .await
            .expect("DescribeExecution");
        match described.status() {
            aws_sdk_sfn::types::ExecutionStatus::Running => continue,
            aws_sdk_sfn::types::ExecutionStatus::Succeeded => break,
            other => panic!("onboarding ended {other:?}: {:?}", described.cause()),
        }
    }
    assert_eq!(
        pauses,
        ["managementCidr", "byolConfirmation", "image", "directory"]
    );
    if of_type(&heard, "Onboarding Succeeded").is_empty() {
        heard.extend(
            p.until(&inbox, "Onboarding Succeeded", Duration::from_secs(10))
                .await,
        );
    }
    assert_eq!(of_type(&heard, "Onboarding Succeeded").len(), 1);

    // The desktops, through the query function (Lambda Invoke, RequestResponse).
    let desktops = p
        .query(json!({"query": "desktops", "tenantId": "demo-customer"}))
        .await;
    let list = desktops["desktops"]
        .as_array()
        .expect("a desktops list")
        .clone();
    assert_eq!(list.len(), 2, "{desktops}");
    let ids: Vec<String> = list
        .iter()
        .map(|d| d["workspaceId"].as_str().expect("an id").to_owned())
        .collect();
    let (busy, idle) = (&ids[0], &ids[1]);

    // Stop the one, hear it stopped; start it, hear it available.
    p.put(
        "Desktop Stop Requested",
        json!({"tenantId": "demo-customer", "workspaceId": busy, "occurredAt": now(&handle)}),
    )
    .await;
    p.until(&inbox, "Desktop Stopping", Duration::from_secs(10))
        .await;
    p.advance(10).await;
    p.until(&inbox, "Desktop Stopped", Duration::from_secs(10))
        .await;
    p.put(
        "Desktop Start Requested",
        json!({"tenantId": "demo-customer", "workspaceId": busy, "occurredAt": now(&handle)}),
    )
    .await;
    p.until(&inbox, "Desktop Starting", Duration::from_secs(10))
        .await;
    p.advance(10).await;
    let available = p
        .until(&inbox, "Desktop Available", Duration::from_secs(10))
        .await;
    assert_eq!(
        of_type(&available, "Desktop Available")[0]["detail"]["workspaceId"],
        *busy
    );
    let desktops = p
        .query(json!({"query": "desktops", "tenantId": "demo-customer"}))
        .await;
    // The service's view and Steward's record of each desktop.
    let states: BTreeMap<String, (Value, Value)> = desktops["desktops"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| {
            let id = d["workspaceId"].as_str().unwrap_or_default().to_owned();
            (
                id,
                (d["service"]["state"].clone(), d["steward"]["state"].clone()),
            )
        })
        .collect();
    assert_eq!(
        states[busy],
        (json!("AVAILABLE"), json!("AVAILABLE")),
        "{desktops}"
    );

    // A day: the busy desktop keeps a live session (a heartbeat every hour); the guard
    // warns about it past the threshold the partner set (10 hours); the other desktop has
    // no session and the idle sweep stops it.
    p.put(
        "Tenant Policy Updated",
        json!({"tenantId": "demo-customer", "occurredAt": now(&handle),
               "policy": {"guardThresholdMinutes": 600, "heartbeatTimeoutMinutes": 120}}),
    )
    .await;
    p.put(
        "Session Started",
        json!({"tenantId": "demo-customer", "workspaceId": busy, "sessionId": "sess-1",
               "occurredAt": now(&handle)}),
    )
    .await;
    let mut day = Vec::new();
    let total = |clock: &Value| {
        clock["scheduled_executions_total"]
            .as_u64()
            .expect("a count")
    };
    let before = total(&p.advance(0).await);
    let mut stepped = 0;
    let mut after = before;
    for _ in 0..24 {
        let clock = p.advance(60).await;
        stepped += clock["scheduled_executions_started"]
            .as_u64()
            .expect("a count");
        after = total(&clock);
        p.put(
            "Session Heartbeat",
            json!({"tenantId": "demo-customer", "workspaceId": busy, "sessionId": "sess-1",
                   "occurredAt": now(&handle)}),
        )
        .await;
        day.extend(p.drain(&inbox).await);
    }
    // 12 idle sweeps (every 5 minutes) and 4 guard sweeps (every 15) an hour: 384 in the 24
    // hours advanced, and at most one more of each in the real seconds the loop took (the
    // virtual clock runs on between advances, and sweeps that come due then start late).
    let fired = after - before;
    assert!((384..=386).contains(&fired), "{fired} sweeps");
    assert!(
        stepped <= fired && stepped >= fired - 2,
        "{stepped} of {fired} stepped"
    );
    let stops: Vec<&Value> = of_type(&day, "Desktop Stopping")
        .into_iter()
        .filter(|e| e["detail"]["actor"]["kind"] == "IDLE_SWEEP")
        .collect();
    assert_eq!(stops.len(), 1, "one idle stop");
    assert_eq!(stops[0]["detail"]["workspaceId"], *idle);
    let warnings = of_type(&day, "Desktop Guard Warning");
    assert!(!warnings.is_empty(), "the guard warned");
    assert!(warnings.iter().all(|w| w["detail"]["workspaceId"] == *busy));
    assert!(
        of_type(&day, "Desktop Stopping")
            .iter()
            .all(|e| e["detail"]["workspaceId"] != *busy),
        "the busy desktop kept running"
    );
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_template_rule_routes_exactly_its_detail_types() {
    let (handle, p) = start().await;
    let rules = p
        .events
        .list_rules()
        .event_bus_name(BUS)
        .send()
        .await
        .expect("ListRules");
    let mut names: Vec<&str> = rules.rules().iter().filter_map(|r| r.name()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "LifecycleCommandsFunctionLifecycleCommands",
            "PowerPartnerEventsFunctionPartnerEvents"
        ]
    );
    // Every partner and lifecycle detail-type of the catalog (its sample envelopes),
    // look-alikes, and Steward's own events (source `steward`), which no template rule takes.
    let catalog = |folder: &str| -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/").to_owned() + folder;
        let mut types: Vec<String> = std::fs::read_dir(&dir)
            .expect("a sample folder")
            .map(|f| {
                let text = std::fs::read_to_string(f.expect("a file").path()).expect("a sample");
                let sample: Value = serde_json::from_str(&text).expect("a JSON sample");
                sample["detail-type"]
                    .as_str()
                    .expect("a detail-type")
                    .to_owned()
            })
            .collect();
        types.sort();
        types.dedup();
        types
    };
    let (partner, lifecycle) = (catalog("partner-events"), catalog("lifecycle"));
    assert_eq!((partner.len(), lifecycle.len()), (17, 17));
    let mut expected: Vec<(&str, &str, Option<&str>)> = Vec::new();
    for t in partner
        .iter()
        .map(String::as_str)
        .chain(["LifecycleReboot Requested", "lifecycle Reboot Requested"])
    {
        expected.push(("steward.partner", t, Some("PowerPartnerEventsFunction")));
    }
    for t in lifecycle.iter().map(String::as_str).chain(["Lifecycle "]) {
        expected.push(("steward.partner", t, Some("LifecycleCommandsFunction")));
    }
    for t in [
        "Desktop Available",
        "Lifecycle Command Succeeded",
        "Session Started",
    ] {
        expected.push(("steward", t, None));
        expected.push(("steward.partner.other", t, None));
    }
    for (source, detail_type, _) in &expected {
        let out = p
            .events
            .put_events()
            .entries(
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .event_bus_name(BUS)
                    .source(*source)
                    .detail_type(*detail_type)
                    .detail(json!({"probe": true}).to_string())
                    .build(),
            )
            .send()
            .await
            .expect("PutEvents");
        assert_eq!(out.failed_entry_count(), 0);
    }
    let mut want: Vec<(Option<String>, String)> = expected
        .iter()
        .filter_map(|(_, t, f)| f.map(|f| (Some((*t).to_owned()), f.to_owned())))
        .collect();
    want.sort();
    // EventBridge hands each event to Lambda on its own task: wait until all arrived (and a
    // moment more, so that an extra delivery would be seen), then compare as sets.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while handle.state().functions.async_invocations().len() < want.len()
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut got: Vec<(Option<String>, String)> = handle
        .state()
        .functions
        .async_invocations()
        .iter()
        .map(|a| (a.detail_type.clone(), a.function.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got, want,
        "each event reached exactly the function its rule names, once"
    );

    // Those probes are malformed partner events: each ends in the template's DLQ after
    // the function's two retries, with the function's error (the reason) beside it.
    let dlq = p
        .sqs
        .get_queue_url()
        .queue_name("PowerPartnerEventsDLQ")
        .send()
        .await
        .expect("GetQueueUrl")
        .queue_url
        .expect("a URL");
    let mut records = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while records.len() < want.len() && tokio::time::Instant::now() < deadline {
        records.extend(p.drain(&dlq).await);
    }
    assert_eq!(records.len(), want.len());
    for r in &records {
        assert_eq!(r["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(r["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(r["responsePayload"]["errorType"], "Steward.EventRejected");
        let message = r["responsePayload"]["errorMessage"]
            .as_str()
            .unwrap_or_default();
        assert!(
            ["MalformedDetail", "UnknownDetailType"]
                .iter()
                .any(|reason| message.starts_with(reason)),
            "the reason is named: {message}"
        );
        assert_eq!(r["requestPayload"]["detail"], json!({"probe": true}));
    }
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_operations_are_named_by_each_protocol() {
    let (handle, p) = start().await;
    let json = |t: &'static str| {
        [
            ("X-Amz-Target", t),
            ("Content-Type", "application/x-amz-json-1.1"),
        ]
    };
    for (target, code) in [
        ("AWSEvents.Frobnicate", "UnknownOperationException"),
        (
            "AmazonSQS.Frobnicate",
            "com.amazonaws.sqs#UnknownOperationException",
        ),
        ("AWSStepFunctions.Frobnicate", "UnknownOperationException"),
        (
            "DynamoDB_20120810.Frobnicate",
            "com.amazon.coral.service#UnknownOperationException",
        ),
        ("WorkspacesService.Frobnicate", "UnknownOperationException"),
    ] {
        let (status, body) = raw(&p.endpoint, "POST", "/", &json(target), "{}").await;
        let body: Value = serde_json::from_str(&body).expect("a JSON error");
        assert_eq!(
            (status, body["__type"].as_str()),
            (400, Some(code)),
            "{target}"
        );
    }
    // Lambda (restJson1): an API it does not serve, a function that does not exist, a
    // payload that is not JSON.
    let (status, _) = raw(&p.endpoint, "GET", "/2016-08-19/account-settings/", &[], "").await;
    assert_eq!(status, 404);
    let (status, body) = raw(
        &p.endpoint,
        "POST",
        "/2015-03-31/functions/NoSuchFunction/invocations",
        &[],
        "{}",
    )
    .await;
    assert_eq!(
        (status, body.contains("Function not found")),
        (404, true),
        "{body}"
    );
    let (status, body) = raw(
        &p.endpoint,
        "POST",
        "/2015-03-31/functions/QueryFunction/invocations",
        &[],
        "{not json",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    // The clock refuses nonsense by field, and never moves back.
    let (status, body) = raw(
        &p.endpoint,
        "POST",
        "/_emulator/clock/advance",
        &[],
        r#"{"hours": "x"}"#,
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (400, r#"{"error":"hours must be a non-negative number"}"#)
    );
    let (status, _) = raw(
        &p.endpoint,
        "POST",
        "/_emulator/clock/set",
        &[],
        r#"{"time": "2020-01-01T00:00:00Z"}"#,
    )
    .await;
    assert_eq!(status, 400);
    handle.shutdown().await;
}
