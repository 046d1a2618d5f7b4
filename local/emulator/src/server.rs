//! HTTP front door: dispatches by protocol and renders each protocol's
//! success and error shapes.

use super::error::ApiError;
use super::identity::{self, Caller, Principal};
use super::model::Timing;
use super::policy::TagPolicy;
use super::protocol::parse_form;
use super::{Shared, control, directory_service, ec2, iam, service_quotas, sts, ws};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

pub fn router(shared: Arc<Shared>) -> Router {
    control::routes().fallback(aws).with_state(shared)
}

/// The service a request is for, which fixes its protocol: awsJson1_1 (WorkSpaces,
/// Directory Service), awsQuery (STS) or ec2Query (EC2).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Proto {
    Ws,
    Ds,
    Quotas,
    Sts,
    Iam,
    Ec2,
}

impl Proto {
    fn is_json(self) -> bool {
        matches!(self, Proto::Ws | Proto::Ds | Proto::Quotas)
    }
}

fn respond(proto: Proto, status: u16, body: String, request_id: &str) -> Response {
    let ct = if proto.is_json() {
        "application/x-amz-json-1.1"
    } else {
        "text/xml"
    };
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        body,
    )
        .into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-amzn-RequestId", v);
    }
    r
}

fn render_error(proto: Proto, e: &ApiError, request_id: &str) -> Response {
    let body = match proto {
        Proto::Ws | Proto::Ds | Proto::Quotas => {
            let mut m = serde_json::Map::new();
            m.insert("__type".into(), e.code.clone().into());
            m.insert("message".into(), e.message.clone().into());
            if let Some(id) = &e.resource_id {
                m.insert("ResourceId".into(), id.clone().into());
            }
            if let Some(r) = &e.reason {
                m.insert("reason".into(), r.clone().into());
            }
            serde_json::Value::Object(m).to_string()
        }
        Proto::Sts => crate::protocol::query_error(sts::NS, e, request_id),
        Proto::Iam => crate::protocol::query_error(iam::NS, e, request_id),
        Proto::Ec2 => ec2::error_xml(e, request_id),
    };
    respond(proto, e.status, body, request_id)
}

/// UUID-shaped request ids from a process-wide counter (no syscall per request).
fn next_request_id() -> String {
    use std::sync::LazyLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: LazyLock<u32> = LazyLock::new(|| uuid::Uuid::new_v4().as_u64_pair().0 as u32);
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        *PREFIX,
        (n >> 48) & 0xffff,
        (n >> 36) & 0xfff,
        (n >> 24) & 0xfff,
        n & 0xff_ffff_ffff
    )
}

/// Everything that is not `/_emulator/…`: an AWS API call.
async fn aws(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let request_id = next_request_id();
    let (response, latency) = handle(&s, &headers, &body, &request_id);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    response
}

/// What a request asks for: its protocol, its operation and (query protocols) its form.
struct Call {
    proto: Proto,
    op: String,
    form: Option<HashMap<String, String>>,
}

impl Proto {
    /// The service name counters and fault rules use (`Service.Operation`).
    fn service(self) -> &'static str {
        match self {
            Proto::Ws => "WorkSpaces",
            Proto::Ds => "DirectoryService",
            Proto::Quotas => "ServiceQuotas",
            Proto::Sts => "STS",
            Proto::Iam => "IAM",
            Proto::Ec2 => "EC2",
        }
    }
}

/// One AWS call, in the order the service would judge it: which service and operation,
/// who is calling, the rate limit, injected faults, then the operation. Returns the
/// response and the latency to add before sending it.
fn handle(s: &Shared, headers: &HeaderMap, body: &[u8], request_id: &str) -> (Response, u64) {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let scope = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(identity::parse_authorization);
    if target == Some(super::eventbridge::TARGET) {
        return (put_events(s, scope.as_ref(), body, request_id), 0);
    }
    let call = match recognise(target, scope.as_ref(), body) {
        Ok(call) => call,
        Err((proto, e)) => return (render_error(proto, &e, request_id), 0),
    };
    let proto = call.proto;
    let op_name = format!("{}.{}", proto.service(), call.op);
    let opts = s.options.read().clone();
    let now = s.clock.now_ms();

    let (caller, policy) = match authenticate(s, scope.as_ref(), &opts, now, proto) {
        Ok(x) => x,
        Err(e) => {
            s.counters
                .lock()
                .record("unauthenticated", &op_name, false, false);
            return (render_error(proto, &e, request_id), opts.latency_ms);
        }
    };

    if proto == Proto::Ws
        && !s.limiter.lock().try_acquire(
            &caller.account,
            &caller.region,
            &opts.rate_limit,
            s.clock.now_ms(),
        )
    {
        s.counters
            .lock()
            .record(&caller.account, &op_name, false, true);
        return (
            render_error(proto, &ApiError::throttled(), request_id),
            opts.latency_ms,
        );
    }
    let hit = s.faults.lock().check(&op_name, &caller.account);
    let latency = opts.latency_ms + hit.latency_ms;
    if let Some(e) = hit.error {
        s.counters
            .lock()
            .record(&caller.account, &op_name, false, false);
        return (render_error(proto, &e, request_id), latency);
    }

    let run = Run {
        caller: &caller,
        now,
        opts: &opts,
        policy,
        resource_error: hit.resource_error.clone(),
        request_id,
    };
    let result = run_call(s, &run, call, body);
    s.counters
        .lock()
        .record(&caller.account, &op_name, result.is_ok(), false);
    let response = match result {
        Ok(body) => respond(proto, 200, body, request_id),
        Err(e) => render_error(proto, &e, request_id),
    };
    (response, latency)
}

/// What a call needs to run once it is admitted.
struct Run<'a> {
    caller: &'a Caller,
    now: super::service_clock::Millis,
    opts: &'a super::options::Options,
    policy: Option<TagPolicy>,
    resource_error: Option<(String, String)>,
    request_id: &'a str,
}

/// Runs the operation of an admitted call; the output is the response body.
fn run_call(s: &Shared, r: &Run, call: Call, body: &[u8]) -> Result<String, ApiError> {
    let form = call.form.unwrap_or_default();
    match call.proto {
        Proto::Ws => {
            let ctx = ws::Ctx {
                caller: r.caller,
                now: r.now,
                opts: r.opts,
                timing: Timing::from_options(r.opts),
                tokens: &s.tokens,
                policy: r.policy.clone(),
                resource_error: r.resource_error.clone(),
            };
            json_body(body).and_then(|v| ws::dispatch(&call.op, &ctx, &s.world, &v))
        }
        Proto::Ds => json_body(body)
            .and_then(|v| {
                directory_service::describe_directories(
                    r.caller,
                    &s.world.read(),
                    r.opts,
                    &s.tokens,
                    &v,
                )
            })
            .map(|v| v.to_string()),
        Proto::Quotas => json_body(body)
            .and_then(|v| service_quotas::get_service_quota(r.caller, &s.world.read(), r.opts, &v))
            .map(|v| v.to_string()),
        Proto::Sts => {
            let out = if call.op == "AssumeRole" {
                sts::assume_role(r.caller, &mut s.world.write(), &form, r.now)
            } else {
                Ok(sts::get_caller_identity(r.caller))
            };
            out.map(|x| crate::protocol::query_success(sts::NS, &call.op, &x, r.request_id))
        }
        Proto::Iam => iam::get_role(r.caller, &s.world.read(), &form)
            .map(|x| crate::protocol::query_success(iam::NS, &call.op, &x, r.request_id)),
        Proto::Ec2 => {
            let w = s.world.read();
            let out = if call.op == "DescribeSubnets" {
                ec2::describe_subnets(r.caller, &w, &form, &s.tokens, r.opts)
            } else {
                ec2::describe_images(r.caller, &w, &form, &s.tokens, r.opts)
            };
            out.map(|x| ec2::wrap_success(&call.op, &x, r.request_id))
        }
    }
}

/// The awsJson1_1 services an `X-Amz-Target` prefix names, with the operations served.
const JSON_SERVICES: &[(&str, Proto, &[&str])] = &[
    (
        directory_service::TARGET_PREFIX,
        Proto::Ds,
        directory_service::OPERATIONS,
    ),
    (
        service_quotas::TARGET_PREFIX,
        Proto::Quotas,
        service_quotas::OPERATIONS,
    ),
];

/// The service and operation: an awsJson1_1 `X-Amz-Target` (WorkSpaces, Directory Service,
/// Service Quotas),
/// or a query protocol's form `Action` (STS, IAM or EC2). An unknown one is refused in that
/// service's error shape.
fn recognise(
    target: Option<&str>,
    scope: Option<&identity::SigV4Scope>,
    body: &[u8],
) -> Result<Call, (Proto, ApiError)> {
    if let Some(t) = target {
        let unknown = || {
            let e = ApiError::new(
                "UnknownOperationException",
                format!("Unknown operation {t}"),
            );
            (Proto::Ws, e)
        };
        if let Some(op) = t.strip_prefix("WorkspacesService.") {
            if !ws::is_known(op) {
                return Err(unknown());
            }
            return Ok(Call {
                proto: Proto::Ws,
                op: op.to_string(),
                form: None,
            });
        }
        return JSON_SERVICES
            .iter()
            .find_map(|(prefix, proto, ops)| {
                t.strip_prefix(prefix)
                    .filter(|op| ops.contains(op))
                    .map(|op| Call {
                        proto: *proto,
                        op: op.to_string(),
                        form: None,
                    })
            })
            .ok_or_else(unknown);
    }
    let form = parse_form(body);
    let action = form.get("Action").cloned().unwrap_or_default();
    let proto = match action.as_str() {
        "AssumeRole" | "GetCallerIdentity" => Proto::Sts,
        "GetRole" => Proto::Iam,
        "DescribeImages" | "DescribeSubnets" => Proto::Ec2,
        _ => {
            let proto = match scope.map(|sc| sc.service.as_str()) {
                Some("sts") => Proto::Sts,
                Some("iam") => Proto::Iam,
                _ => Proto::Ec2,
            };
            let e = ApiError::new(
                "InvalidAction",
                format!("The action {action} is not valid for this web service."),
            );
            return Err((proto, e));
        }
    };
    Ok(Call {
        proto,
        op: action,
        form: Some(form),
    })
}

/// Who is calling (GetCallerIdentity works for any valid credentials), and the tag policy
/// its role carries. An unknown key is named the way each service names it.
fn authenticate(
    s: &Shared,
    scope: Option<&identity::SigV4Scope>,
    opts: &super::options::Options,
    now: super::service_clock::Millis,
    proto: Proto,
) -> Result<(Caller, Option<TagPolicy>), ApiError> {
    let resolved = {
        let w = s.world.read();
        identity::resolve(
            &w,
            scope,
            now,
            opts.enforce_credential_expiry,
            opts.expired_token_status,
        )
        .map(|c| {
            let policy = policy_for(&w, &c, opts.tag_policy);
            (c, policy)
        })
    };
    resolved.map_err(|mut e| {
        // Each service names an unknown key its own way.
        if e.code == "UnrecognizedClientException" {
            e.code = match proto {
                Proto::Ws | Proto::Ds | Proto::Quotas => e.code,
                Proto::Sts | Proto::Iam => "InvalidClientTokenId".into(),
                Proto::Ec2 => "AuthFailure".into(),
            };
        }
        e
    })
}

/// An awsJson1_1 request's body (empty = null).
fn json_body(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice::<serde_json::Value>(body).map_err(|e| {
        ApiError::new(
            "SerializationException",
            format!("Could not parse the request body: {e}"),
        )
    })
}

/// EventBridge PutEvents: kept for the control API; counted under the caller's account.
fn put_events(
    s: &Shared,
    scope: Option<&identity::SigV4Scope>,
    body: &[u8],
    request_id: &str,
) -> Response {
    let opts = s.options.read().clone();
    let account = {
        let w = s.world.read();
        identity::resolve(
            &w,
            scope,
            s.clock.now_ms(),
            opts.enforce_credential_expiry,
            opts.expired_token_status,
        )
        .map(|c| c.account)
    };
    let account = match account {
        Ok(a) => a,
        Err(e) => {
            s.counters
                .lock()
                .record("unauthenticated", "EventBridge.PutEvents", false, false);
            return render_error(Proto::Ws, &e, request_id);
        }
    };
    let result = super::eventbridge::put_events(body, s.clock.now());
    s.counters
        .lock()
        .record(&account, "EventBridge.PutEvents", result.is_ok(), false);
    match result {
        Ok((body, captured)) => {
            s.events.lock().extend(captured);
            respond(Proto::Ws, 200, body, request_id)
        }
        Err(e) => render_error(Proto::Ws, &e, request_id),
    }
}

fn policy_for(w: &super::model::World, c: &Caller, enabled: bool) -> Option<TagPolicy> {
    if !enabled {
        return None;
    }
    let role_name = match &c.principal {
        Principal::AssumedRole { role_name, .. } => role_name,
        Principal::IamUser { policy_role, .. } => policy_role,
        Principal::Partner => return None,
    };
    let role = w.accounts.get(&c.account)?.roles.get(role_name)?;
    let (key, value) = role.partner_tag.clone()?;
    Some(TagPolicy {
        key,
        value,
        allowed_request_keys: role.allowed_request_tag_keys.clone(),
        caller_arn: c.arn(),
        account: c.account.clone(),
        region: c.region.clone(),
        allow_tag_management: role.allow_tag_management,
    })
}
