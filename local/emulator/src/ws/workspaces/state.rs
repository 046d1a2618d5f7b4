//! Single-workspace state changes: RestoreWorkspace (RESTORING, then AVAILABLE) and
//! ModifyWorkspaceState (AVAILABLE ⇄ ADMIN_MAINTENANCE, at once).

use serde_json::{Value, json};

use super::{current, outcome, single_id, target};
use crate::error::{ApiError, ApiResult};
use crate::model::{World, WsState};
use crate::ws::{Ctx, region_mut};

pub fn restore(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = single_id(&input, "WorkspaceId")?;
    let rs = region_mut(w, ctx.caller);
    let shown = current(rs, id, ctx);
    let ws = target(ctx, rs, "RestoreWorkspace", id)?;
    let allowed = [
        WsState::Available,
        WsState::Error,
        WsState::Unhealthy,
        WsState::Stopped,
    ];
    let state = shown.unwrap_or(ws.state);
    if !allowed.contains(&state) {
        return Err(ApiError::unsupported(format!(
            "The WorkSpace {id} cannot be restored in state {}.",
            state.as_str()
        )));
    }
    ws.begin(
        ctx.now,
        WsState::Restoring,
        ctx.dur(ctx.opts.durations.restore),
        outcome(ctx, WsState::Available),
    );
    ws.error = ctx.resource_error.clone();
    Ok(json!({}))
}

pub fn modify_state(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = single_id(&input, "WorkspaceId")?;
    let to = input
        .enum_val("WorkspaceState", true, &["AVAILABLE", "ADMIN_MAINTENANCE"])?
        .unwrap_or_default();
    let rs = region_mut(w, ctx.caller);
    let shown = current(rs, id, ctx);
    let ws = target(ctx, rs, "ModifyWorkspaceState", id)?;
    let state = shown.unwrap_or(ws.state);
    let target_state = if to == "AVAILABLE" {
        WsState::Available
    } else {
        WsState::AdminMaintenance
    };
    if state == target_state {
        return Ok(json!({}));
    }
    if !matches!(state, WsState::Available | WsState::AdminMaintenance) {
        return Err(ApiError::bad_state(format!(
            "The WorkSpace {id} is in state {}; only AVAILABLE and ADMIN_MAINTENANCE WorkSpaces can change state.",
            state.as_str()
        )));
    }
    ws.state = target_state;
    ws.since = ctx.now;
    ws.steps.clear();
    Ok(json!({}))
}
