//! The one endpoint's front door: each request goes to the service its protocol names, as
//! the AWS SDKs and the CLI address them.
//!
//! | Request | Service |
//! |---|---|
//! | `X-Amz-Target: AWSEvents.*` (awsJson1_1) | EventBridge (`eventbridge-sqs-local`) |
//! | `X-Amz-Target: AmazonSQS.*` (awsJson1_0) | SQS (`eventbridge-sqs-local`) |
//! | `X-Amz-Target: AWSStepFunctions.*` (awsJson1_0) | Step Functions (`stepfunctions-runner`'s API) |
//! | `/2015-03-31/functions/...` (restJson1) | Lambda ([`super::lambda_api`]) |
//! | `X-Amz-Target: DynamoDB_20120810.*` | the embedded DynamoDB (forwarded) |
//! | `POST /_emulator/clock/advance`, `/_emulator/clock/set` | the clock, with the schedules ([`super::schedules`]) |
//! | anything else (WorkSpaces, STS, EC2, the rest of `/_emulator/`) | the WorkSpaces Core emulator (forwarded) |
//!
//! The emulator and DynamoDB keep their own loopback ports; forwarding keeps both
//! unchanged and standalone. Neither checks signatures, so forwarding a signed request
//! as it is works.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use super::ServeState;

pub type ProxyClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

pub fn proxy_client() -> ProxyClient {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

pub fn router(state: ServeState) -> axum::Router {
    use axum::routing::post;
    axum::Router::new()
        .route("/_emulator/clock/advance", post(advance))
        .route("/_emulator/clock/set", post(set_clock))
        .merge(super::lambda_api::routes())
        .fallback(by_protocol)
        .with_state(state)
}

/// The awsJson protocols' error shape, for requests no service takes.
fn json_error(content_type: &'static str, code: &str, message: &str) -> Response {
    let mut r = (
        StatusCode::BAD_REQUEST,
        json!({"__type": code, "message": message}).to_string(),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn by_protocol(
    State(state): State<ServeState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if target.starts_with("AWSEvents.") || target.starts_with("AmazonSQS.") {
        return wire(state.messaging.handle(&target, &body).await);
    }
    if let Some(op) = target.strip_prefix("AWSStepFunctions.") {
        let r = state.sfn.handle(op, &body).await;
        return plain(r.status, r.content_type, r.body);
    }
    if target.starts_with("DynamoDB_20120810.") {
        let answer = forward(&state, &state.dynamo_url, method, &uri, &headers, body).await;
        // dynoxide answers an operation it does not know with a bare 404; DynamoDB's shape:
        if answer.status() == StatusCode::NOT_FOUND {
            return json_error(
                "application/x-amz-json-1.0",
                "com.amazon.coral.service#UnknownOperationException",
                "the operation is not one this DynamoDB endpoint serves",
            );
        }
        return answer;
    }
    // The REST APIs put a version date first in the path; of those only Lambda's
    // `/2015-03-31/functions` routes are served (above).
    if target.is_empty() && uri.path().starts_with("/20") {
        return super::lambda_api::error(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            "the operation is not one this endpoint serves",
        );
    }
    forward(&state, &state.emulator_url, method, &uri, &headers, body).await
}

fn plain(status: u16, content_type: &str, body: String) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn wire(w: eventbridge_sqs_local::WireResponse) -> Response {
    let mut r = plain(w.status, w.content_type, w.body);
    for (name, value) in w.headers {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            r.headers_mut().insert(n, v);
        }
    }
    r
}

/// Sends the request on to a local server and its answer back, unchanged.
pub async fn forward(
    state: &ServeState,
    base: &str,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"));
    for (name, value) in headers {
        if name != header::HOST {
            request = request.header(name, value);
        }
    }
    let Ok(request) = request.body(Full::new(body)) else {
        return json_error(
            "application/json",
            "InternalFailure",
            "the request could not be forwarded",
        );
    };
    match state.proxy.request(request).await {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            match body.collect().await {
                Ok(collected) => Response::from_parts(parts, Body::from(collected.to_bytes())),
                Err(_) => json_error(
                    "application/json",
                    "ServiceUnavailable",
                    "a local service closed its answer early",
                ),
            }
        }
        Err(_) => json_error(
            "application/json",
            "ServiceUnavailable",
            "a local service did not answer",
        ),
    }
}

/// The clock as the emulator's control API shows it (its casing), with the executions the
/// schedules started on the way.
async fn clock_answer(state: &ServeState, started: usize) -> Response {
    let now = state.control.now();
    Json(json!({
        "now": now.to_rfc3339(),
        "epoch_seconds": now.timestamp_millis() as f64 / 1000.0,
        "scheduled_executions_started": started,
        "scheduled_executions_total": state.schedules.fired(),
    }))
    .into_response()
}

fn clock_error(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

/// `{"seconds"|"minutes"|"hours": n}` (the emulator's control API), stepping the schedules.
async fn advance(State(state): State<ServeState>, body: Bytes) -> Response {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) else {
        return clock_error("the body must be a JSON object");
    };
    let mut seconds = 0.0;
    for (key, unit) in [("seconds", 1.0), ("minutes", 60.0), ("hours", 3600.0)] {
        match fields.get(key) {
            None => {}
            Some(v) => match v.as_f64() {
                Some(n) if n >= 0.0 && n.is_finite() => seconds += n * unit,
                _ => return clock_error(&format!("{key} must be a non-negative number")),
            },
        }
    }
    if fields
        .keys()
        .any(|k| !["seconds", "minutes", "hours"].contains(&k.as_str()))
    {
        return clock_error("unknown field: use seconds, minutes or hours");
    }
    if seconds > 366.0 * 86_400.0 {
        return clock_error("at most 366 days at a time");
    }
    let to = state.control.now() + chrono::Duration::milliseconds((seconds * 1000.0) as i64);
    let started = state.schedules.advance_to(to).await;
    clock_answer(&state, started).await
}

/// `{"time": RFC 3339}`: forward only (the emulator refuses to go back).
async fn set_clock(State(state): State<ServeState>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SetClock {
        time: chrono::DateTime<chrono::Utc>,
    }
    let Ok(set) = serde_json::from_slice::<SetClock>(&body) else {
        return clock_error("the body must be {\"time\": an RFC 3339 time}");
    };
    if set.time < state.control.now() {
        return clock_error("the clock only moves forward");
    }
    let started = state.schedules.advance_to(set.time).await;
    clock_answer(&state, started).await
}
