//! The batch power calls — StartWorkspaces, StopWorkspaces, RebootWorkspaces,
//! RebuildWorkspaces, TerminateWorkspaces: each item is checked and moved on its own, and
//! refusals are listed in `FailedRequests` in request order (HTTP 200), as the service does.

use serde_json::{Value, json};

use super::{current, new_ip, outcome};
use crate::error::ApiResult;
use crate::model::{Phase, RegionState, Step, Workspace, World, WsState};
use crate::protocol::{Obj, pat};
use crate::ws::{Ctx, region_mut};

/// One `FailedRequests` item.
fn fail_item(id: Option<&str>, code: &str, msg: String) -> Value {
    Obj::new()
        .s("WorkspaceId", id)
        .s("ErrorCode", Some(code))
        .s("ErrorMessage", Some(msg))
        .build()
}

/// A batch call: its operation (for the tag policy), the member listing its items, how
/// many it takes, and whether an item without a WorkspaceId refuses the call.
struct BatchSpec {
    op: &'static str,
    list_key: &'static str,
    max: usize,
    id_required: bool,
}

/// Runs a batch call: validates, checks the tag policy for every item first,
/// then applies `act` per item, collecting FailedRequests in request order.
fn batch(
    ctx: &Ctx,
    w: &mut World,
    body: &Value,
    spec: BatchSpec,
    act: impl Fn(&Ctx, &mut RegionState, &str) -> Result<(), (String, String)>,
) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let list = input.req_list(spec.list_key, 1, spec.max)?;
    let items = input.items(spec.list_key, list)?;
    let mut ids = Vec::with_capacity(items.len());
    for item in &items {
        ids.push(item.checked(
            "WorkspaceId",
            spec.id_required,
            pat::workspace_id,
            "Member must satisfy regular expression pattern: ^ws-[0-9a-z]{8,63}$",
        )?);
    }
    let now = ctx.now;
    let timing = ctx.timing;
    let rs = region_mut(w, ctx.caller);
    for id in ids.iter().flatten() {
        rs.settle_workspace(id, now, &timing);
        ctx.resource_policy(
            spec.op,
            "workspace",
            id,
            rs.workspaces.get(*id).map(|ws| &ws.tags),
        )?;
    }
    let mut failed = Vec::new();
    for id in ids {
        let Some(id) = id else {
            failed.push(fail_item(
                None,
                "InvalidParameterValues",
                "WorkspaceId is required.".into(),
            ));
            continue;
        };
        if !rs.settle_workspace(id, now, &timing) {
            failed.push(fail_item(
                Some(id),
                "ResourceNotFound",
                format!("The WorkSpace {id} could not be found."),
            ));
            continue;
        }
        if let Err((code, msg)) = act(ctx, rs, id) {
            failed.push(fail_item(Some(id), &code, msg));
        }
    }
    Ok(json!({"FailedRequests": failed}))
}

/// InvalidResourceState, naming the state shown and the states the operation needs.
fn state_err(ws: &Workspace, allowed: &[WsState]) -> (String, String) {
    (
        "InvalidResourceState".into(),
        format!(
            "The WorkSpace {} is in state {}; this operation needs one of [{}].",
            ws.id,
            ws.state.as_str(),
            allowed
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// A power transition: from one of the `allowed` states (as shown now), through `via` for
/// `seconds`, to `to` (or ERROR under a `resource_error` fault).
struct Transition<'a> {
    allowed: &'a [WsState],
    via: WsState,
    seconds: f64,
    to: WsState,
}

/// Starts `t` on workspace `id` once `check` passes and its shown state is allowed.
fn transition(
    ctx: &Ctx,
    rs: &mut RegionState,
    id: &str,
    t: Transition,
    check: impl Fn(&Workspace) -> Result<(), (String, String)>,
) -> Result<(), (String, String)> {
    let Transition {
        allowed,
        via,
        seconds,
        to,
    } = t;
    let shown = current(rs, id, ctx);
    let ws = rs.workspaces.get_mut(id).ok_or_else(|| {
        (
            "ResourceNotFound".to_string(),
            format!("The WorkSpace {id} could not be found."),
        )
    })?;
    check(ws)?;
    if shown.is_none_or(|s| !allowed.contains(&s)) {
        let mut shown_ws = ws.clone();
        shown_ws.state = shown.unwrap_or(ws.state);
        return Err(state_err(&shown_ws, allowed));
    }
    ws.begin(ctx.now, via, ctx.dur(seconds), outcome(ctx, to));
    ws.error = ctx.resource_error.clone();
    Ok(())
}

/// Start and stop apply to AUTO_STOP and MANUAL desktops only.
fn power_mode(ws: &Workspace) -> Result<(), (String, String)> {
    if ws.props.running_mode == "ALWAYS_ON" {
        return Err((
            "InvalidRunningMode".into(),
            format!(
                "The WorkSpace {} is ALWAYS_ON; only AUTO_STOP and MANUAL WorkSpaces can be started or stopped.",
                ws.id
            ),
        ));
    }
    Ok(())
}

pub fn start(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let spec = BatchSpec {
        op: "StartWorkspaces",
        list_key: "StartWorkspaceRequests",
        max: 25,
        id_required: false,
    };
    batch(ctx, w, body, spec, |ctx, rs, id| {
        transition(
            ctx,
            rs,
            id,
            Transition {
                allowed: &[WsState::Stopped],
                via: WsState::Starting,
                seconds: ctx.opts.durations.start,
                to: WsState::Available,
            },
            power_mode,
        )
    })
}

pub fn stop(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let spec = BatchSpec {
        op: "StopWorkspaces",
        list_key: "StopWorkspaceRequests",
        max: 25,
        id_required: false,
    };
    batch(ctx, w, body, spec, |ctx, rs, id| {
        let allowed = [
            WsState::Available,
            WsState::Impaired,
            WsState::Unhealthy,
            WsState::Error,
        ];
        transition(
            ctx,
            rs,
            id,
            Transition {
                allowed: &allowed,
                via: WsState::Stopping,
                seconds: ctx.opts.durations.stop,
                to: WsState::Stopped,
            },
            power_mode,
        )
    })
}

pub fn reboot(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let spec = BatchSpec {
        op: "RebootWorkspaces",
        list_key: "RebootWorkspaceRequests",
        max: 25,
        id_required: true,
    };
    batch(ctx, w, body, spec, |ctx, rs, id| {
        // REBOOTING is accepted only when stuck for more than 20 minutes.
        let stuck = rs
            .workspaces
            .get(id)
            .is_some_and(|ws| ws.state == WsState::Rebooting && ctx.now - ws.since > 20 * 60_000);
        let allowed: &[WsState] = if stuck {
            &[WsState::Rebooting]
        } else {
            &[WsState::Available, WsState::Unhealthy]
        };
        transition(
            ctx,
            rs,
            id,
            Transition {
                allowed,
                via: WsState::Rebooting,
                seconds: ctx.opts.durations.reboot,
                to: WsState::Available,
            },
            |_| Ok(()),
        )
    })
}

pub fn rebuild(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let spec = BatchSpec {
        op: "RebuildWorkspaces",
        list_key: "RebuildWorkspaceRequests",
        max: 1,
        id_required: true,
    };
    batch(ctx, w, body, spec, |ctx, rs, id| {
        let allowed = [
            WsState::Available,
            WsState::Error,
            WsState::Unhealthy,
            WsState::Stopped,
            WsState::Rebooting,
        ];
        transition(
            ctx,
            rs,
            id,
            Transition {
                allowed: &allowed,
                via: WsState::Rebuilding,
                seconds: ctx.opts.durations.rebuild,
                to: WsState::Available,
            },
            |_| Ok(()),
        )?;
        if let Some(ws) = rs.workspaces.get_mut(id) {
            ws.ip = new_ip();
        }
        Ok(())
    })
}

pub fn terminate(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let spec = BatchSpec {
        op: "TerminateWorkspaces",
        list_key: "TerminateWorkspaceRequests",
        max: 25,
        id_required: true,
    };
    batch(ctx, w, body, spec, |ctx, rs, id| {
        let shown = current(rs, id, ctx);
        let Some(ws) = rs.workspaces.get_mut(id) else {
            return Err((
                "ResourceNotFound".into(),
                format!("The WorkSpace {id} could not be found."),
            ));
        };
        match shown {
            Some(WsState::Suspended) => Err((
                "InvalidResourceState".into(),
                format!(
                    "The WorkSpace {id} is SUSPENDED for image creation and cannot be terminated."
                ),
            )),
            Some(WsState::Terminating) | Some(WsState::Terminated) => Ok(()),
            _ => {
                let t1 = ctx.now + ctx.dur(ctx.opts.durations.terminate).max(1);
                let t2 = t1 + ctx.dur(ctx.opts.durations.terminated_visible).max(1);
                ws.state = WsState::Terminating;
                ws.since = ctx.now;
                ws.steps = vec![
                    Step {
                        at: t1,
                        to: Phase::To(WsState::Terminated),
                    },
                    Step {
                        at: t2,
                        to: Phase::Gone,
                    },
                ];
                Ok(())
            }
        }
    })
}
