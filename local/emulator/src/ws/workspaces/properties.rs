//! ModifyWorkspaceProperties: volume sizes (grow only), compute type, protocols (each shown
//! in `ModificationStates` while UPDATING for `durations.update`), running mode and its
//! auto-stop timeout, operating system name.

use serde_json::{Value, json};

use super::{PropsIn, current, parse_props, single_id, target};
use crate::error::{ApiError, ApiResult};
use crate::model::{Phase, World, WsState};
use crate::ws::{Ctx, region_mut};

pub fn modify_properties(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = single_id(&input, "WorkspaceId")?;
    let props = match input.opt_obj("WorkspaceProperties")? {
        Some(p) => parse_props(&p)?,
        None => PropsIn::default(),
    };
    input.enum_val(
        "DataReplication",
        false,
        &["NO_REPLICATION", "PRIMARY_AS_SOURCE"],
    )?;
    let core = w
        .accounts
        .get(ctx.account())
        .is_some_and(|a| a.byop_enabled);
    let rs = region_mut(w, ctx.caller);
    let shown = current(rs, id, ctx);
    let ws = target(ctx, rs, "ModifyWorkspaceProperties", id)?;
    let now = ctx.now;
    if ws.modifications.iter().any(|(_, until)| *until > now) {
        return Err(ApiError::new(
            "OperationInProgressException",
            format!("The properties of WorkSpace {id} are being modified. Retry later."),
        ));
    }
    let state = shown.unwrap_or(ws.state);
    if !matches!(state, WsState::Available | WsState::Stopped) {
        return Err(ApiError::bad_state(format!(
            "The WorkSpace {id} is in state {}; it must be AVAILABLE or STOPPED.",
            state.as_str()
        )));
    }
    let volumes = props.root.is_some() || props.user.is_some();
    if volumes && props.compute.is_some() {
        return Err(ApiError::invalid(
            "Volume sizes and compute type cannot be changed in the same request.",
        ));
    }
    for (new, old, what) in [
        (props.root, ws.props.root_gib, "RootVolumeSizeGib"),
        (props.user, ws.props.user_gib, "UserVolumeSizeGib"),
    ] {
        if let Some(n) = new
            && (n < old || n > 2000)
        {
            return Err(ApiError::invalid(format!(
                "{what} can only grow, up to 2000 GiB (currently {old})."
            )));
        }
    }
    let mode = props
        .running_mode
        .clone()
        .unwrap_or_else(|| ws.props.running_mode.clone());
    if mode == "MANUAL" && !core {
        return Err(ApiError::new(
            "UnsupportedWorkspaceConfigurationException",
            "MANUAL running mode is available only to WorkSpaces Core accounts.",
        ));
    }
    if props.timeout.is_some() && mode != "AUTO_STOP" {
        return Err(ApiError::invalid(
            "RunningModeAutoStopTimeoutInMinutes applies only to AUTO_STOP WorkSpaces.",
        ));
    }
    if let Some(t) = props.timeout
        && (t <= 0 || t % 60 != 0)
    {
        return Err(ApiError::invalid(
            "RunningModeAutoStopTimeoutInMinutes must be a multiple of 60.",
        ));
    }
    let mut mods = Vec::new();
    let until = now + ctx.dur(ctx.opts.durations.update);
    if let Some(r) = props.root {
        ws.props.root_gib = r;
        mods.push(("ROOT_VOLUME".to_string(), until));
    }
    if let Some(u) = props.user {
        ws.props.user_gib = u;
        mods.push(("USER_VOLUME".to_string(), until));
    }
    if let Some(c) = props.compute {
        ws.props.compute = c;
        mods.push(("COMPUTE_TYPE".to_string(), until));
    }
    if let Some(p) = props.protocols {
        ws.props.protocols = p;
        mods.push(("PROTOCOL".to_string(), until));
    }
    if let Some(os) = props.os {
        ws.props.os = Some(os);
    }
    if props.running_mode.is_some() {
        ws.props.running_mode = mode;
        ws.props.auto_stop_timeout = if ws.props.running_mode == "AUTO_STOP" {
            props.timeout.or(ws.props.auto_stop_timeout).or(Some(60))
        } else {
            None
        };
        // A mode change restarts the AVAILABLE clock used by the forced stop.
        if ws.state == WsState::Available {
            ws.since = now;
        }
    } else if props.timeout.is_some() {
        ws.props.auto_stop_timeout = props.timeout;
    }
    if !mods.is_empty() {
        let back = state;
        ws.begin(now, WsState::Updating, until - now, Phase::To(back));
        ws.modifications = mods;
    }
    Ok(json!({}))
}
