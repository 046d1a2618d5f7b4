//! WorkSpace lifecycle operations.

use super::{Ctx, parse_tags, region, region_mut, views};
use crate::error::{ApiError, ApiResult};
use crate::model::{Phase, RegionState, Step, Workspace, World, WsProps, WsState};
use crate::protocol::{Input, Obj, pat, random_hex, random_upper};
use crate::service_clock::Millis;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::ops::Bound;

const RUNNING_MODES: &[&str] = &["AUTO_STOP", "ALWAYS_ON", "MANUAL"];
const PROTOCOLS: &[&str] = &["PCOIP", "WSP"];
pub const COMPUTES: &[&str] = &[
    "VALUE",
    "STANDARD",
    "PERFORMANCE",
    "POWER",
    "GRAPHICS",
    "POWERPRO",
    "GENERALPURPOSE_4XLARGE",
    "GENERALPURPOSE_8XLARGE",
    "GRAPHICSPRO",
    "GRAPHICS_G4DN",
    "GRAPHICSPRO_G4DN",
    "GRAPHICS_G6_XLARGE",
    "GRAPHICS_G6_2XLARGE",
    "GRAPHICS_G6_4XLARGE",
    "GRAPHICS_G6_8XLARGE",
    "GRAPHICS_G6_16XLARGE",
    "GRAPHICS_GR6_4XLARGE",
    "GRAPHICS_GR6_8XLARGE",
    "GRAPHICS_G6F_LARGE",
    "GRAPHICS_G6F_XLARGE",
    "GRAPHICS_G6F_2XLARGE",
    "GRAPHICS_G6F_4XLARGE",
    "GRAPHICS_GR6F_4XLARGE",
];
const OS_NAMES: &[&str] = &[
    "AMAZON_LINUX_2",
    "UBUNTU_18_04",
    "UBUNTU_20_04",
    "UBUNTU_22_04",
    "UNKNOWN",
    "WINDOWS_10",
    "WINDOWS_11",
    "WINDOWS_7",
    "WINDOWS_SERVER_2016",
    "WINDOWS_SERVER_2019",
    "WINDOWS_SERVER_2022",
    "WINDOWS_SERVER_2025",
    "RHEL_8",
    "ROCKY_8",
];

/// Parsed `WorkspaceProperties` (all optional).
#[derive(Default)]
struct PropsIn {
    running_mode: Option<String>,
    timeout: Option<i64>,
    root: Option<i64>,
    user: Option<i64>,
    compute: Option<String>,
    protocols: Option<Vec<String>>,
    os: Option<String>,
}

fn parse_props(p: &Input) -> ApiResult<PropsIn> {
    let protocols = p
        .opt_str_list(
            "Protocols",
            0,
            2,
            |s| PROTOCOLS.contains(&s),
            "Member must satisfy enum value set: [PCOIP, WSP]",
        )?
        .map(|v| v.into_iter().map(String::from).collect());
    if let Some(ga) = p.opt_obj("GlobalAccelerator")? {
        ga.enum_val("Mode", true, &["ENABLED_AUTO", "DISABLED", "INHERITED"])?;
        ga.enum_val("PreferredProtocol", false, &["TCP", "NONE", "INHERITED"])?;
    }
    Ok(PropsIn {
        running_mode: p
            .enum_val("RunningMode", false, RUNNING_MODES)?
            .map(String::from),
        timeout: p.opt_int("RunningModeAutoStopTimeoutInMinutes")?,
        root: p.opt_int("RootVolumeSizeGib")?,
        user: p.opt_int("UserVolumeSizeGib")?,
        compute: p
            .enum_val("ComputeTypeName", false, COMPUTES)?
            .map(String::from),
        protocols,
        os: p
            .enum_val("OperatingSystemName", false, OS_NAMES)?
            .map(String::from),
    })
}

fn fail_item(id: Option<&str>, code: &str, msg: String) -> Value {
    Obj::new()
        .s("WorkspaceId", id)
        .s("ErrorCode", Some(code))
        .s("ErrorMessage", Some(msg))
        .build()
}

fn new_ip() -> String {
    let h = random_hex(4);
    let a = u8::from_str_radix(&h[..2], 16).unwrap_or(1);
    let b = u8::from_str_radix(&h[2..], 16).unwrap_or(1).max(4);
    format!("10.0.{}.{}", a, b.min(254))
}

// ---------------------------------------------------------------- create

pub fn create_workspaces(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let list = input.req_list("Workspaces", 1, 25)?;
    let items = input.items("Workspaces", list)?;
    struct Req<'a> {
        raw: &'a Value,
        dir: &'a str,
        user: &'a str,
        bundle: &'a str,
        name: Option<&'a str>,
        props: PropsIn,
        tags: Vec<(String, String)>,
        key: Option<&'a str>,
        user_enc: Option<bool>,
        root_enc: Option<bool>,
    }
    let mut reqs = Vec::with_capacity(items.len());
    for (item, raw) in items.iter().zip(list.iter()) {
        let props = match item.opt_obj("WorkspaceProperties")? {
            Some(p) => parse_props(&p)?,
            None => PropsIn::default(),
        };
        reqs.push(Req {
            raw,
            dir: item.checked("DirectoryId", true, pat::directory_id, "Member must satisfy regular expression pattern: ^(d-[0-9a-f]{8,63}$)|(wsd-[0-9a-z]{8,63}$)")?.unwrap_or_default(),
            user: item.checked("UserName", true, |s| pat::len(s, 1, 63), "Member must have length between 1 and 63")?.unwrap_or_default(),
            bundle: item.checked("BundleId", true, pat::bundle_id, "Member must satisfy regular expression pattern: ^wsb-[0-9a-z]{8,63}$")?.unwrap_or_default(),
            name: item.checked("WorkspaceName", false, pat::workspace_name, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_()][a-zA-Z0-9_.()-]{1,63}$")?,
            props,
            tags: parse_tags(item, "Tags")?,
            key: item.opt_str("VolumeEncryptionKey")?,
            user_enc: item.opt_bool("UserVolumeEncryptionEnabled")?,
            root_enc: item.opt_bool("RootVolumeEncryptionEnabled")?,
        });
        item.opt_str("Ipv6Address")?;
    }
    for r in &reqs {
        ctx.request_policy("CreateWorkspaces", "workspace", &r.tags)?;
    }
    let (core, quota) = w
        .accounts
        .get(ctx.account())
        .map_or((false, 1000), |a| (a.byop_enabled, a.workspace_quota));
    let now = ctx.now;
    let timing = ctx.timing;
    let rs = region_mut(w, ctx.caller);
    if rs.workspaces.len() + reqs.len() > quota {
        return Err(ApiError::limit(format!(
            "The number of WorkSpaces would exceed the quota of {quota} for this account and Region."
        )));
    }
    rs.settle_directories(now);
    let mut failed = Vec::new();
    let mut pending = Vec::new();
    for r in reqs {
        let fail = |code: &str, msg: String| json!({"WorkspaceRequest": r.raw, "ErrorCode": code, "ErrorMessage": msg});
        let Some(dir) = rs.directories.get(r.dir).cloned() else {
            failed.push(fail(
                "ResourceNotFound.Directory",
                "The specified directory could not be found in the specified region.".into(),
            ));
            continue;
        };
        if dir.state(now) != Some("REGISTERED") {
            failed.push(fail(
                "InvalidResourceState.Directory",
                format!("The directory {} is not registered.", r.dir),
            ));
            continue;
        }
        let Some(bundle) = rs
            .bundles
            .get(r.bundle)
            .cloned()
            .or_else(|| super::bundles::amazon_bundle(r.bundle))
        else {
            failed.push(fail(
                "ResourceNotFound.Bundle",
                format!("The specified bundle {} could not be found.", r.bundle),
            ));
            continue;
        };
        let image = rs.images.get(&bundle.image_id).cloned();
        let image = image.as_ref();
        if image.is_some_and(|i| i.state(now) != "AVAILABLE") {
            failed.push(fail(
                "InvalidResourceState.Image",
                format!("The image of bundle {} is not available.", r.bundle),
            ));
            continue;
        }
        if image.is_some_and(|i| i.required_tenancy == "DEDICATED") && dir.tenancy != "DEDICATED" {
            failed.push(fail(
                "UnsupportedTenancy",
                "BYOL bundles need a directory registered with DEDICATED tenancy.".into(),
            ));
            continue;
        }
        let mode = r
            .props
            .running_mode
            .clone()
            .unwrap_or_else(|| ctx.opts.default_running_mode.clone());
        if mode == "MANUAL" && !core {
            failed.push(fail(
                "OperationNotSupported.RunningMode",
                "MANUAL running mode is available only to WorkSpaces Core accounts.".into(),
            ));
            continue;
        }
        match (mode.as_str(), r.props.timeout) {
            ("ALWAYS_ON", Some(_)) => {
                failed.push(fail("AutoStopTimeoutIsNotApplicableForAnAlwaysOnWorkspace", "RunningModeAutoStopTimeoutInMinutes is not applicable for an ALWAYS_ON WorkSpace.".into()));
                continue;
            }
            ("MANUAL", Some(_)) => {
                failed.push(fail(
                    "AutoStopTimeoutIsNotDefaultForManualWorkspace",
                    "RunningModeAutoStopTimeoutInMinutes is not applicable for a MANUAL WorkSpace."
                        .into(),
                ));
                continue;
            }
            ("AUTO_STOP", Some(t)) if t <= 0 || t % 60 != 0 => {
                failed.push(fail(
                    "InvalidParameterValues",
                    "RunningModeAutoStopTimeoutInMinutes must be a multiple of 60.".into(),
                ));
                continue;
            }
            _ => {}
        }
        let undefined = r.user == "[UNDEFINED]";
        if undefined && (r.name.is_none() || !core) {
            failed.push(fail(
                "InvalidParameterValues",
                "A user-decoupled WorkSpace needs a WorkspaceName and a WorkSpaces Core account."
                    .into(),
            ));
            continue;
        }
        if !undefined && r.name.is_some() {
            failed.push(fail("InvalidParameterValues", "WorkspaceName is only applicable to user-decoupled WorkSpaces (UserName [UNDEFINED]).".into()));
            continue;
        }
        if let Some(n) = r.name
            && let Some(other) = rs.by_name.get(n).cloned()
            && rs.settle_workspace(&other, now, &timing)
        {
            failed.push(fail(
                "ResourceExists.WorkspaceName",
                format!("A WorkSpace named {n} already exists."),
            ));
            continue;
        }
        if !undefined
            && let Some(other) = rs
                .by_user
                .get(&(r.dir.to_string(), r.user.to_lowercase()))
                .cloned()
            && rs.settle_workspace(&other, now, &timing)
        {
            failed.push(fail(
                "ResourceExists.User",
                format!(
                    "The user {} already has a WorkSpace in directory {}.",
                    r.user, r.dir
                ),
            ));
            continue;
        }
        let subnet = dir
            .subnet_ids
            .get(rs.workspaces.len() % dir.subnet_ids.len().max(1))
            .cloned()
            .unwrap_or_default();
        let byop = image
            .and_then(|i| i.ingestion.as_deref())
            .is_some_and(|p| p.ends_with("_BYOP"));
        let wsp = image
            .and_then(|i| i.ingestion.as_deref())
            .is_some_and(|p| p.ends_with("_WSP"));
        let protocols = r.props.protocols.clone().unwrap_or_else(|| {
            if byop {
                vec![]
            } else if wsp {
                vec!["WSP".into()]
            } else {
                vec!["PCOIP".into()]
            }
        });
        let mut id = format!("ws-{}", random_hex(9));
        while rs.workspaces.contains_key(&id) {
            id = format!("ws-{}", random_hex(10));
        }
        let mut ws = Workspace {
            id,
            directory_id: r.dir.to_string(),
            user_name: r.user.to_string(),
            workspace_name: r.name.map(String::from),
            bundle_id: r.bundle.to_string(),
            subnet_id: subnet,
            ip: new_ip(),
            computer_name: format!("WSAMZN-{}", random_upper(8)),
            state: WsState::Pending,
            since: now,
            steps: vec![],
            error: None,
            props: WsProps {
                running_mode: mode,
                auto_stop_timeout: r.props.timeout.or(None),
                root_gib: r.props.root.unwrap_or_else(|| {
                    bundle
                        .root_capacity
                        .as_deref()
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(80)
                }),
                user_gib: r
                    .props
                    .user
                    .unwrap_or_else(|| bundle.user_capacity.parse().unwrap_or(50)),
                compute: r
                    .props
                    .compute
                    .clone()
                    .unwrap_or_else(|| bundle.compute.clone()),
                protocols,
                os: r.props.os.clone(),
            },
            tags: r.tags.clone(),
            volume_encryption_key: r.key.map(String::from),
            user_volume_encryption: r.user_enc,
            root_volume_encryption: r.root_enc,
            created_ms: now,
            modifications: vec![],
            last_connected_ms: None,
        };
        if ws.props.running_mode == "AUTO_STOP" && ws.props.auto_stop_timeout.is_none() {
            ws.props.auto_stop_timeout = Some(60);
        }
        ws.begin(
            now,
            WsState::Pending,
            ctx.dur(ctx.opts.durations.create),
            outcome(ctx, WsState::Available),
        );
        if let Some(e) = &ctx.resource_error {
            ws.error = Some(e.clone());
        }
        let p = ws.project(now, &timing, true);
        if let Some(p) = p {
            pending.push(views::workspace(&ws, &p, now));
        }
        rs.insert_workspace(ws);
    }
    Ok(json!({"FailedRequests": failed, "PendingRequests": pending}))
}

/// The final phase of a transition: `to`, or ERROR under a resource_error fault.
fn outcome(ctx: &Ctx, to: WsState) -> Phase {
    if ctx.resource_error.is_some() {
        Phase::To(WsState::Error)
    } else {
        Phase::To(to)
    }
}

// ---------------------------------------------------------------- describe

pub fn describe_workspaces(ctx: &Ctx, w: &World, body: &Value) -> ApiResult<String> {
    let input = ctx.input(body)?;
    let ids = input.opt_str_list(
        "WorkspaceIds",
        1,
        25,
        pat::workspace_id,
        "Member must satisfy regular expression pattern: ^ws-[0-9a-z]{8,63}$",
    )?;
    let dir = input.checked("DirectoryId", false, pat::directory_id, "Member must satisfy regular expression pattern: ^(d-[0-9a-f]{8,63}$)|(wsd-[0-9a-z]{8,63}$)")?;
    let user = input.checked(
        "UserName",
        false,
        |s| pat::len(s, 1, 63),
        "Member must have length between 1 and 63",
    )?;
    let bundle = input.checked(
        "BundleId",
        false,
        pat::bundle_id,
        "Member must satisfy regular expression pattern: ^wsb-[0-9a-z]{8,63}$",
    )?;
    let name = input.checked(
        "WorkspaceName",
        false,
        pat::workspace_name,
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_()][a-zA-Z0-9_.()-]{1,63}$",
    )?;
    let limit = input
        .opt_int_range("Limit", 1, 25)?
        .map_or(ctx.opts.default_page_size, |l| l as usize)
        .clamp(1, 25);
    let selectors = [
        ids.is_some(),
        dir.is_some(),
        bundle.is_some(),
        name.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if selectors > 1 {
        return Err(ApiError::invalid(
            "You can specify only one filter: WorkspaceIds, DirectoryId, BundleId or WorkspaceName.",
        ));
    }
    if user.is_some() && dir.is_none() {
        return Err(ApiError::invalid(
            "UserName can be used only together with DirectoryId.",
        ));
    }
    let scope = format!(
        "DescribeWorkspaces|{}|{}|{}|{}|{}|{}",
        ids.as_ref().map(|v| v.join(",")).unwrap_or_default(),
        dir.unwrap_or_default(),
        user.unwrap_or_default(),
        bundle.unwrap_or_default(),
        name.unwrap_or_default(),
        limit
    );
    let pos = ctx.page_position(&input, &scope)?;
    let rs = region(w, ctx.caller);
    let now = ctx.now;
    let mut out: Vec<views::WorkspaceOut> = Vec::with_capacity(limit);
    let mut next = None;
    let visit = |id: &str, out: &mut Vec<_>| -> bool {
        // true = page full and one more exists
        let Some(ws) = rs.workspaces.get(id) else {
            return false;
        };
        let Some(p) = ws.project(now, &ctx.timing, rs.maintenance_on(&ws.directory_id)) else {
            return false;
        };
        if out.len() == limit {
            return true;
        }
        out.push(views::workspace_out(ws, &p, now));
        false
    };
    let mut last: Option<String> = None;
    if let Some(ids) = &ids {
        let start = pos
            .as_deref()
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(0);
        for (i, id) in ids.iter().enumerate().skip(start) {
            if visit(id, &mut out) {
                next = Some(i.to_string());
                break;
            }
        }
    } else if let Some(n) = name {
        if let Some(id) = rs.by_name.get(n) {
            visit(id, &mut out);
        }
    } else if let (Some(d), Some(u)) = (dir, user) {
        if let Some(id) = rs.by_user.get(&(d.to_string(), u.to_lowercase())) {
            visit(id, &mut out);
        }
    } else {
        let set: Option<&BTreeSet<String>> = match (dir, bundle) {
            (Some(d), _) => rs.by_directory.get(d),
            (_, Some(b)) => rs.by_bundle.get(b),
            _ => None,
        };
        let lower = match &pos {
            Some(p) => Bound::Excluded(p.clone()),
            None => Bound::Unbounded,
        };
        let iter: Box<dyn Iterator<Item = &String>> = match (set, dir.is_some() || bundle.is_some())
        {
            (Some(s), _) => Box::new(s.range::<String, _>((lower, Bound::Unbounded))),
            (None, true) => Box::new(std::iter::empty()),
            (None, false) => Box::new(
                rs.workspaces
                    .range::<String, _>((lower, Bound::Unbounded))
                    .map(|(k, _)| k),
            ),
        };
        for id in iter {
            if visit(id, &mut out) {
                next = last.clone();
                break;
            }
            last = Some(id.clone());
        }
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Page<'a> {
        workspaces: Vec<views::WorkspaceOut<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_token: Option<String>,
    }
    let page = Page {
        workspaces: out,
        next_token: next.map(|p| ctx.tokens.issue(&scope, &p)),
    };
    serde_json::to_string(&page)
        .map_err(|e| ApiError::new("InternalServerException", e.to_string()).with_status(500))
}

// ---------------------------------------------------------------- batch power calls

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

fn current(rs: &RegionState, id: &str, ctx: &Ctx) -> Option<WsState> {
    let ws = rs.workspaces.get(id)?;
    ws.project(ctx.now, &ctx.timing, rs.maintenance_on(&ws.directory_id))
        .map(|p| p.state)
}

#[allow(clippy::too_many_arguments)]
fn transition(
    ctx: &Ctx,
    rs: &mut RegionState,
    id: &str,
    allowed: &[WsState],
    via: WsState,
    secs: f64,
    to: WsState,
    check: impl Fn(&Workspace) -> Result<(), (String, String)>,
) -> Result<(), (String, String)> {
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
    ws.begin(ctx.now, via, ctx.dur(secs), outcome(ctx, to));
    ws.error = ctx.resource_error.clone();
    Ok(())
}

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
            &[WsState::Stopped],
            WsState::Starting,
            ctx.opts.durations.start,
            WsState::Available,
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
            &allowed,
            WsState::Stopping,
            ctx.opts.durations.stop,
            WsState::Stopped,
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
            allowed,
            WsState::Rebooting,
            ctx.opts.durations.reboot,
            WsState::Available,
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
            &allowed,
            WsState::Rebuilding,
            ctx.opts.durations.rebuild,
            WsState::Available,
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

// ---------------------------------------------------------------- single-workspace calls

fn single_id<'a>(input: &Input<'a>, key: &str) -> ApiResult<&'a str> {
    Ok(input
        .checked(
            key,
            true,
            pat::workspace_id,
            "Member must satisfy regular expression pattern: ^ws-[0-9a-z]{8,63}$",
        )?
        .unwrap_or_default())
}

/// Settles and returns the workspace, checking the tag policy.
fn target<'r>(
    ctx: &Ctx,
    rs: &'r mut RegionState,
    op: &str,
    id: &str,
) -> ApiResult<&'r mut Workspace> {
    let alive = rs.settle_workspace(id, ctx.now, &ctx.timing);
    ctx.resource_policy(
        op,
        "workspace",
        id,
        rs.workspaces.get(id).map(|ws| &ws.tags),
    )?;
    if !alive {
        return Err(ApiError::not_found("WorkSpace", id));
    }
    rs.workspaces
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("WorkSpace", id))
}

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
        .or_else(|| super::bundles::amazon_bundle(bundle_id));
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

pub fn describe_snapshots(ctx: &Ctx, w: &World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = single_id(&input, "WorkspaceId")?;
    let rs = region(w, ctx.caller);
    let ws = rs.workspaces.get(id);
    ctx.resource_policy(
        "DescribeWorkspaceSnapshots",
        "workspace",
        id,
        ws.map(|ws| &ws.tags),
    )?;
    let ws = ws
        .filter(|ws| ws.project(ctx.now, &ctx.timing, false).is_some())
        .ok_or_else(|| ApiError::not_found("WorkSpace", id))?;
    // Snapshots: one when the WorkSpace first became available, then every 12 hours.
    let first: Millis = ws.created_ms + ctx.dur(ctx.opts.durations.create);
    let snaps: Vec<Value> = if ctx.now >= first {
        let n = (ctx.now - first) / (12 * 3_600_000);
        vec![
            json!({"SnapshotTime": crate::service_clock::epoch_seconds(first + n * 12 * 3_600_000)}),
        ]
    } else {
        vec![]
    };
    Ok(json!({"RebuildSnapshots": snaps, "RestoreSnapshots": snaps}))
}

pub fn connection_status(ctx: &Ctx, w: &World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let ids = input.opt_str_list(
        "WorkspaceIds",
        1,
        25,
        pat::workspace_id,
        "Member must satisfy regular expression pattern: ^ws-[0-9a-z]{8,63}$",
    )?;
    let scope = format!(
        "DescribeWorkspacesConnectionStatus|{}",
        ids.as_ref().map(|v| v.join(",")).unwrap_or_default()
    );
    let pos = ctx.page_position(&input, &scope)?;
    let rs = region(w, ctx.caller);
    let candidates: Box<dyn Iterator<Item = &String>> = match &ids {
        Some(ids) => Box::new(
            ids.iter()
                .filter_map(|id| rs.workspaces.get_key_value(*id).map(|(k, _)| k)),
        ),
        None => {
            let lower = pos.clone().map_or(Bound::Unbounded, Bound::Excluded);
            Box::new(
                rs.workspaces
                    .range::<String, _>((lower, Bound::Unbounded))
                    .map(|(k, _)| k),
            )
        }
    };
    let mut out = Vec::new();
    let mut next = None;
    let mut last: Option<&String> = None;
    for id in candidates {
        let Some(ws) = rs.workspaces.get(id) else {
            continue;
        };
        let Some(p) = ws.project(ctx.now, &ctx.timing, rs.maintenance_on(&ws.directory_id)) else {
            continue;
        };
        if out.len() == 25 {
            next = last.cloned();
            break;
        }
        last = Some(id);
        let state = if p.state == WsState::Available {
            "DISCONNECTED"
        } else {
            "UNKNOWN"
        };
        out.push(
            Obj::new()
                .s("WorkspaceId", Some(id.as_str()))
                .s("ConnectionState", Some(state))
                .ts("ConnectionStateCheckTimestamp", Some(ctx.now))
                .ts("LastKnownUserConnectionTimestamp", ws.last_connected_ms)
                .build(),
        );
    }
    Ok(Obj::new()
        .v("WorkspacesConnectionStatus", Some(Value::Array(out)))
        .s("NextToken", next.map(|p| ctx.tokens.issue(&scope, &p)))
        .build())
}
