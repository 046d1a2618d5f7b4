//! Lambda's API (restJson1) for the template's functions: `Invoke` (`RequestResponse`,
//! `Event`, `DryRun`), `ListFunctions` and `GetFunction`, the shapes and error headers
//! as the service sends them (`x-amzn-ErrorType`, `X-Amz-Function-Error: Unhandled` with the
//! function's `errorType`/`errorMessage` as the payload).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ServeState;
use super::functions::Served;

const API_VERSION_PREFIX: &str = "/2015-03-31/functions";

/// The routes, under Lambda's API version path.
pub fn routes() -> axum::Router<ServeState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(&format!("{API_VERSION_PREFIX}/"), get(list_functions))
        .route(API_VERSION_PREFIX, get(list_functions))
        .route(&format!("{API_VERSION_PREFIX}/{{name}}"), get(get_function))
        .route(
            &format!("{API_VERSION_PREFIX}/{{name}}/invocations"),
            post(invoke),
        )
}

/// An error as Lambda's restJson1 protocol sends it.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut r = (
        status,
        json!({"Type": "User", "message": message}).to_string(),
    )
        .into_response();
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(code) {
        h.insert("x-amzn-ErrorType", v);
    }
    r
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

impl InvocationType {
    fn from_headers(h: &HeaderMap) -> Option<Self> {
        match h.get("x-amz-invocation-type").map(|v| v.to_str()) {
            None => Some(Self::RequestResponse),
            Some(Ok("RequestResponse")) => Some(Self::RequestResponse),
            Some(Ok("Event")) => Some(Self::Event),
            Some(Ok("DryRun")) => Some(Self::DryRun),
            Some(_) => None,
        }
    }
}

fn not_found(name: &str) -> Response {
    // Names the function only when it is a plain name (never echoes arbitrary input).
    let plain = name.len() <= 140
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:.$".contains(c));
    let message = if plain {
        format!("Function not found: {name}")
    } else {
        "Function not found".to_owned()
    };
    error(StatusCode::NOT_FOUND, "ResourceNotFoundException", &message)
}

async fn invoke(
    State(state): State<ServeState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(served) = state.functions.find(&name) else {
        return not_found(&name);
    };
    let Some(kind) = InvocationType::from_headers(&headers) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun",
        );
    };
    let event: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    "Could not parse request body into json: the payload is not a JSON document",
                );
            }
        }
    };
    match kind {
        InvocationType::DryRun => StatusCode::NO_CONTENT.into_response(),
        InvocationType::Event => {
            state.functions.invoke_async(served, event);
            StatusCode::ACCEPTED.into_response()
        }
        InvocationType::RequestResponse => {
            let (payload, failed) = match state.functions.invoke(&served, event).await {
                Ok(v) => (v, false),
                Err(e) => (e.payload(), true),
            };
            let mut r = json_response(StatusCode::OK, payload.to_string());
            let h = r.headers_mut();
            h.insert(
                "x-amz-executed-version",
                HeaderValue::from_static("$LATEST"),
            );
            if failed {
                h.insert(
                    "x-amz-function-error",
                    HeaderValue::from_static("Unhandled"),
                );
            }
            r
        }
    }
}

/// A function's configuration as `ListFunctions` and `GetFunction` give it.
fn configuration(served: &Served) -> Value {
    let f = &served.function;
    json!({
        "FunctionName": f.name,
        "FunctionArn": f.arn,
        "Runtime": "provided.al2023",
        "Handler": f.handler,
        "Description": f.description,
        "Timeout": f.timeout_seconds,
        "MemorySize": f.memory_mb,
        "Version": "$LATEST",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "State": "Active",
        "Environment": {"Variables": f.environment},
    })
}

async fn list_functions(State(state): State<ServeState>) -> Response {
    let functions: Vec<Value> = state
        .functions
        .all()
        .iter()
        .map(|s| configuration(s))
        .collect();
    json_response(StatusCode::OK, json!({"Functions": functions}).to_string())
}

async fn get_function(State(state): State<ServeState>, Path(name): Path<String>) -> Response {
    match state.functions.find(&name) {
        Some(served) => json_response(
            StatusCode::OK,
            json!({"Configuration": configuration(&served)}).to_string(),
        ),
        None => not_found(&name),
    }
}
