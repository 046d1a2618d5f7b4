//! The control API: JSON over HTTP under `/_emulator/`.

use super::limits::FaultRule;
use super::options::Options;
use super::seed::{AccountSeed, BulkSeed};
use super::switches::AccountSwitches;
use super::{Control, SeedKind, Shared};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

type S = State<Arc<Shared>>;

fn ctl(s: &Arc<Shared>) -> Control {
    Control { shared: s.clone() }
}

fn bad(msg: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": msg.into()}))).into_response()
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/_emulator/health",
            get(|| async { Json(json!({"ok": true})) }),
        )
        .route("/_emulator/clock", get(clock))
        .route("/_emulator/clock/advance", post(advance))
        .route("/_emulator/clock/set", post(set_clock))
        .route("/_emulator/options", get(get_options).put(put_options))
        .route("/_emulator/rate-limit", get(get_rate).put(put_rate))
        .route(
            "/_emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_emulator/faults/{id}", delete(clear_fault))
        .route("/_emulator/counters", get(counters).delete(reset_counters))
        .route("/_emulator/seed", post(seed))
        .route("/_emulator/seed/default", post(seed_default))
        .route("/_emulator/seed/bulk", post(bulk))
        .route(
            "/_emulator/accounts/{account_id}",
            get(get_account).patch(patch_account),
        )
        .route("/_emulator/access-keys", post(create_access_key))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/state", get(state))
}

fn clock_json(c: &Control) -> Value {
    let now = c.now();
    json!({"now": now.to_rfc3339(), "epoch_seconds": now.timestamp_millis() as f64 / 1000.0})
}

async fn clock(State(s): S) -> Json<Value> {
    Json(clock_json(&ctl(&s)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    #[serde(default)]
    seconds: f64,
    #[serde(default)]
    minutes: f64,
    #[serde(default)]
    hours: f64,
}

async fn advance(State(s): S, Json(a): Json<Advance>) -> Response {
    let c = ctl(&s);
    match c.advance_seconds(a.seconds + a.minutes * 60.0 + a.hours * 3600.0) {
        Ok(_) => Json(clock_json(&c)).into_response(),
        Err(e) => bad(e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClock {
    time: chrono::DateTime<chrono::Utc>,
}

async fn set_clock(State(s): S, Json(t): Json<SetClock>) -> Response {
    let c = ctl(&s);
    match c.set_time(t.time) {
        Ok(_) => Json(clock_json(&c)).into_response(),
        Err(e) => bad(e.to_string()),
    }
}

/// JSON merge: `patch` members replace those of `base`, objects recursively.
fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                match b.get_mut(&k) {
                    Some(slot) if v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, p) => *b = p,
    }
}

fn patched_options(c: &Control, patch: Value) -> Result<Options, String> {
    let mut current = serde_json::to_value(c.options()).map_err(|e| e.to_string())?;
    merge(&mut current, patch);
    serde_json::from_value(current).map_err(|e| e.to_string())
}

async fn get_options(State(s): S) -> Json<Options> {
    Json(ctl(&s).options())
}

async fn put_options(State(s): S, Json(patch): Json<Value>) -> Response {
    let c = ctl(&s);
    match patched_options(&c, patch) {
        Ok(o) => {
            c.set_options(o.clone());
            Json(o).into_response()
        }
        Err(e) => bad(e),
    }
}

async fn get_rate(State(s): S) -> Json<Value> {
    Json(json!(ctl(&s).options().rate_limit))
}

async fn put_rate(State(s): S, Json(patch): Json<Value>) -> Response {
    let c = ctl(&s);
    match patched_options(&c, json!({"rate_limit": patch})) {
        Ok(o) => {
            c.set_options(o.clone());
            c.set_rate_limit(o.rate_limit.enabled);
            Json(json!(o.rate_limit)).into_response()
        }
        Err(e) => bad(e),
    }
}

async fn list_faults(State(s): S) -> Json<Value> {
    Json(json!({"faults": ctl(&s).faults()}))
}

async fn add_fault(State(s): S, Json(rule): Json<FaultRule>) -> Response {
    if rule.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return bad("probability must be between 0 and 1");
    }
    let id = ctl(&s).inject_fault(rule);
    (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
}

async fn clear_faults(State(s): S) -> StatusCode {
    ctl(&s).clear_faults();
    StatusCode::NO_CONTENT
}

async fn clear_fault(State(s): S, Path(id): Path<String>) -> StatusCode {
    if ctl(&s).clear_fault(&id) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn counters(State(s): S) -> Json<Value> {
    Json(json!({"accounts": ctl(&s).counters()}))
}

async fn reset_counters(State(s): S) -> StatusCode {
    ctl(&s).reset_counters();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedBody {
    accounts: Vec<AccountSeed>,
}

async fn seed(State(s): S, Json(b): Json<SeedBody>) -> Response {
    if let Some(p) = b.accounts.iter().find_map(AccountSeed::problem) {
        return bad(p);
    }
    let c = ctl(&s);
    for a in &b.accounts {
        c.seed_account(a);
    }
    Json(json!({"seeded": b.accounts.iter().map(|a| &a.account_id).collect::<Vec<_>>()}))
        .into_response()
}

async fn get_account(State(s): S, Path(account): Path<String>) -> Response {
    match ctl(&s).account_switches(&account) {
        Some(sw) => Json(sw).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn patch_account(
    State(s): S,
    Path(account): Path<String>,
    Json(sw): Json<AccountSwitches>,
) -> Response {
    let c = ctl(&s);
    if !c.update_account(&account, &sw) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match c.account_switches(&account) {
        Some(now) => Json(now).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccessKey {
    account_id: String,
    #[serde(default)]
    user_name: Option<String>,
}

async fn create_access_key(State(s): S, Json(b): Json<NewAccessKey>) -> Response {
    match ctl(&s).create_access_key(&b.account_id, b.user_name.as_deref()) {
        Some(k) => (StatusCode::CREATED, Json(k)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn seed_default(State(s): S) -> Json<Value> {
    ctl(&s).seed_default();
    Json(json!({"seeded": "default"}))
}

async fn bulk(State(s): S, Json(b): Json<BulkSeed>) -> Response {
    if b.accounts.saturating_mul(b.workspaces_per_account) > 2_000_000 {
        return bad("at most 2,000,000 workspaces per bulk seed");
    }
    if b.first_account_id.saturating_add(b.accounts as u64) > 999_999_999_999 {
        return bad("account ids must stay 12 digits");
    }
    Json(json!({"accounts": ctl(&s).bulk_seed(&b)})).into_response()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    #[serde(default)]
    seed: Option<String>,
}

async fn reset(State(s): S, body: Option<Json<ResetBody>>) -> Response {
    let kind = match body.and_then(|b| b.0.seed).as_deref() {
        None | Some("default") => SeedKind::Default,
        Some("none") => SeedKind::None,
        Some(other) => return bad(format!("unknown seed {other}; use default or none")),
    };
    ctl(&s).reset(kind);
    Json(json!({"reset": true})).into_response()
}

async fn state(State(s): S) -> Json<Value> {
    let now = s.clock.now_ms();
    let w = s.world.read();
    let accounts: serde_json::Map<String, Value> = w
        .accounts
        .iter()
        .map(|(id, a)| {
            let regions: serde_json::Map<String, Value> = a
                .regions
                .iter()
                .map(|(r, rs)| {
                    (
                        r.clone(),
                        json!({
                            "workspaces": rs.workspaces.len(),
                            "directories": rs.directories.values().filter(|d| d.state(now).is_some()).count(),
                            "images": rs.images.len(),
                            "bundles": rs.bundles.len(),
                            "amis": rs.amis.keys().collect::<Vec<_>>(),
                            "unregistered_directories": rs.ds_directories.keys().filter(|d| !rs.directories.contains_key(*d)).collect::<Vec<_>>(),
                            "security_groups": rs.security_groups.keys().collect::<Vec<_>>(),
                            "byol_enabled": rs.byol_enabled(now),
                        }),
                    )
                })
                .collect();
            (
                id.clone(),
                json!({
                    "byop_enabled": a.byop_enabled,
                    "roles": a.roles.values().map(|r| json!({
                        "arn": format!("arn:aws:iam::{id}:role/{}", r.name),
                        "trusted_accounts": r.trusted_accounts,
                        "has_external_id": r.external_id.is_some(),
                        "partner_tag": r.partner_tag,
                    })).collect::<Vec<_>>(),
                    "regions": regions,
                }),
            )
        })
        .collect();
    Json(
        json!({"now": super::service_clock::iso8601(now), "sessions": w.sessions.len(), "accounts": accounts}),
    )
}
