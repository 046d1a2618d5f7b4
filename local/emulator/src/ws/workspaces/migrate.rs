//! MigrateWorkspace: a new workspace on the target bundle, PENDING for `durations.migrate`;
//! the source is kept until then, and terminated after.

use serde_json::{Value, json};

use super::{current, new_ip, single_id, target};
use crate::error::{ApiError, ApiResult};
use crate::model::{Phase, Step, World, WsState};
use crate::protocol::{pat, random_hex, random_upper};
use crate::ws::{Ctx, region_mut};

pub fn migrate_workspace(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = single_id(&input, "SourceWorkspaceId")?;
    let bundle_id = input
        .checked(
            "BundleId",
            true,
            pat::bundle_id,
            "Member must satisfy regular expression pattern: ^wsb-[0-9a-z]{8,63}$",
        )?
        .unwrap_or_default();
    let now = ctx.now;
    let rs = region_mut(w, ctx.caller);
    let shown = current(rs, id, ctx);
    let bundle = rs
        .bundles
        .get(bundle_id)
        .cloned()
        .or_else(|| crate::ws::bundles::amazon_bundle(bundle_id));
    ctx.resource_policy(
        "MigrateWorkspace",
        "workspacebundle",
        bundle_id,
        bundle
            .as_ref()
            .map(|b| &b.tags)
            .filter(|_| bundle.as_ref().is_some_and(|b| b.owner != "AMAZON")),
    )?;
    let ws = target(ctx, rs, "MigrateWorkspace", id)?;
    let Some(bundle) = bundle else {
        return Err(ApiError::not_found("bundle", bundle_id));
    };
    let state = shown.unwrap_or(ws.state);
    if ws.steps.iter().any(|s| s.to == Phase::Gone) && state != WsState::Terminating {
        return Err(ApiError::new(
            "OperationInProgressException",
            format!("The WorkSpace {id} is already being migrated."),
        ));
    }
    if !matches!(
        state,
        WsState::Available | WsState::Stopped | WsState::Error
    ) {
        return Err(ApiError::unsupported(format!(
            "The WorkSpace {id} cannot be migrated in state {}.",
            state.as_str()
        )));
    }
    if ws.bundle_id == bundle_id {
        return Err(ApiError::invalid(
            "The target bundle must differ from the WorkSpace's current bundle.",
        ));
    }
    let mut new = ws.clone();
    let done = now + ctx.dur(ctx.opts.durations.migrate).max(1);
    // The source is kept until the migration finishes, then terminated.
    let t1 = done + ctx.dur(ctx.opts.durations.terminate).max(1);
    let t2 = t1 + ctx.dur(ctx.opts.durations.terminated_visible).max(1);
    ws.steps = vec![
        Step {
            at: done,
            to: Phase::To(WsState::Terminating),
        },
        Step {
            at: t1,
            to: Phase::To(WsState::Terminated),
        },
        Step {
            at: t2,
            to: Phase::Gone,
        },
    ];
    new.id = format!("ws-{}", random_hex(9));
    new.bundle_id = bundle_id.to_string();
    new.ip = new_ip();
    new.computer_name = format!("WSAMZN-{}", random_upper(8));
    new.created_ms = now;
    new.modifications.clear();
    new.props.compute = bundle.compute.clone();
    if let Some(r) = bundle.root_capacity.as_deref().and_then(|c| c.parse().ok()) {
        new.props.root_gib = r;
    }
    new.begin(
        now,
        WsState::Pending,
        done - now,
        Phase::To(WsState::Available),
    );
    let new_id = new.id.clone();
    rs.insert_workspace(new);
    Ok(json!({"SourceWorkspaceId": id, "TargetWorkspaceId": new_id}))
}
