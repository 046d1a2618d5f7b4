//! CreateWorkspaces. Every request is validated first (a malformed one refuses the whole
//! call), the tag policy is checked for all of them, and the account's quota for their sum;
//! then each request goes through the service's checks in order — its `VolumeEncryptionKey`'s
//! form ([`encryption`]), its directory, bundle and image ([`resolve`]), its running mode
//! ([`running_mode`]), its user or name ([`check_identity`]) — and is either created, PENDING
//! until `durations.create`, or listed in `FailedRequests` with the first check it failed.

use serde_json::{Value, json};

use super::{PropsIn, encryption, new_ip, outcome, parse_props};
use crate::error::{ApiError, ApiResult};
use crate::model::{
    RegionState, Workspace, World, WsBundle, WsDirectory, WsImage, WsProps, WsState,
};
use crate::protocol::{Input, pat, random_hex, random_upper};
use crate::ws::{Ctx, parse_tags, region_mut, views};

/// One validated item of `Workspaces`.
struct CreateRequest<'a> {
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

/// Why a request is refused: the `ErrorCode` and `ErrorMessage` of its `FailedRequests` item.
type Refusal = (&'static str, String);

/// What a request resolved to once it passed every check.
struct Admitted {
    dir: WsDirectory,
    bundle: WsBundle,
    image: Option<WsImage>,
    running_mode: String,
}

pub fn create_workspaces(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let list = input.req_list("Workspaces", 1, 25)?;
    let reqs = parse_requests(&input, list)?;
    for r in &reqs {
        ctx.request_policy("CreateWorkspaces", "workspace", &r.tags)?;
    }
    let (core, quota) = w
        .accounts
        .get(ctx.account())
        .map_or((false, 1000), |a| (a.byop_enabled, a.workspace_quota));
    let now = ctx.now;
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
        let admitted = match admit(ctx, rs, &r, core) {
            Ok(a) => a,
            Err((code, msg)) => {
                failed.push(
                    json!({"WorkspaceRequest": r.raw, "ErrorCode": code, "ErrorMessage": msg}),
                );
                continue;
            }
        };
        let ws = new_workspace(ctx, rs, &r, admitted);
        if let Some(p) = ws.project(now, &ctx.timing, true) {
            pending.push(views::workspace(&ws, &p, now));
        }
        rs.insert_workspace(ws);
    }
    Ok(json!({"FailedRequests": failed, "PendingRequests": pending}))
}

/// Validates every item of `Workspaces` (any invalid member refuses the whole call).
fn parse_requests<'a>(input: &Input<'a>, list: &'a [Value]) -> ApiResult<Vec<CreateRequest<'a>>> {
    let items = input.items("Workspaces", list)?;
    let mut reqs = Vec::with_capacity(items.len());
    for (item, raw) in items.iter().zip(list.iter()) {
        let props = match item.opt_obj("WorkspaceProperties")? {
            Some(p) => parse_props(&p)?,
            None => PropsIn::default(),
        };
        reqs.push(CreateRequest {
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
    Ok(reqs)
}

/// The service's checks of one request, in its order; the first that fails refuses it.
fn admit(
    ctx: &Ctx,
    rs: &mut RegionState,
    r: &CreateRequest,
    core: bool,
) -> Result<Admitted, Refusal> {
    if r.key.is_some_and(|k| !encryption::key_ok(k)) {
        return Err((
            "InvalidParameterValuesException",
            encryption::BAD_KEY.into(),
        ));
    }
    let (dir, bundle, image) = resolve(ctx, rs, r)?;
    let running_mode = running_mode(ctx, r, core)?;
    check_identity(ctx, rs, r, core)?;
    Ok(Admitted {
        dir,
        bundle,
        image,
        running_mode,
    })
}

/// The directory (registered), the bundle (the account's or AMAZON's) and its image
/// (available; DEDICATED tenancy needs a DEDICATED directory).
fn resolve(
    ctx: &Ctx,
    rs: &RegionState,
    r: &CreateRequest,
) -> Result<(WsDirectory, WsBundle, Option<WsImage>), Refusal> {
    let Some(dir) = rs.directories.get(r.dir).cloned() else {
        return Err((
            "ResourceNotFound.Directory",
            "The specified directory could not be found in the specified region.".into(),
        ));
    };
    if dir.state(ctx.now) != Some("REGISTERED") {
        return Err((
            "InvalidResourceState.Directory",
            format!("The directory {} is not registered.", r.dir),
        ));
    }
    let Some(bundle) = rs
        .bundles
        .get(r.bundle)
        .cloned()
        .or_else(|| crate::ws::bundles::amazon_bundle(r.bundle))
    else {
        return Err((
            "ResourceNotFound.Bundle",
            format!("The specified bundle {} could not be found.", r.bundle),
        ));
    };
    let image = rs.images.get(&bundle.image_id).cloned();
    if image
        .as_ref()
        .is_some_and(|i| i.state(ctx.now) != "AVAILABLE")
    {
        return Err((
            "InvalidResourceState.Image",
            format!("The image of bundle {} is not available.", r.bundle),
        ));
    }
    if image
        .as_ref()
        .is_some_and(|i| i.required_tenancy == "DEDICATED")
        && dir.tenancy != "DEDICATED"
    {
        return Err((
            "UnsupportedTenancy",
            "BYOL bundles need a directory registered with DEDICATED tenancy.".into(),
        ));
    }
    Ok((dir, bundle, image))
}

/// The running mode (the request's, or the `default_running_mode` option): MANUAL only on
/// WorkSpaces Core accounts, an auto-stop timeout only for AUTO_STOP and in whole hours.
fn running_mode(ctx: &Ctx, r: &CreateRequest, core: bool) -> Result<String, Refusal> {
    let mode = r
        .props
        .running_mode
        .clone()
        .unwrap_or_else(|| ctx.opts.default_running_mode.clone());
    if mode == "MANUAL" && !core {
        return Err((
            "OperationNotSupported.RunningMode",
            "MANUAL running mode is available only to WorkSpaces Core accounts.".into(),
        ));
    }
    match (mode.as_str(), r.props.timeout) {
        ("ALWAYS_ON", Some(_)) => Err((
            "AutoStopTimeoutIsNotApplicableForAnAlwaysOnWorkspace",
            "RunningModeAutoStopTimeoutInMinutes is not applicable for an ALWAYS_ON WorkSpace."
                .into(),
        )),
        ("MANUAL", Some(_)) => Err((
            "AutoStopTimeoutIsNotDefaultForManualWorkspace",
            "RunningModeAutoStopTimeoutInMinutes is not applicable for a MANUAL WorkSpace.".into(),
        )),
        ("AUTO_STOP", Some(t)) if t <= 0 || t % 60 != 0 => Err((
            "InvalidParameterValues",
            "RunningModeAutoStopTimeoutInMinutes must be a multiple of 60.".into(),
        )),
        _ => Ok(mode),
    }
}

/// A user-decoupled desktop (`[UNDEFINED]` user) needs a name and a Core account, and only
/// it may have a name; the name, or the user in the directory, must be free.
fn check_identity(
    ctx: &Ctx,
    rs: &mut RegionState,
    r: &CreateRequest,
    core: bool,
) -> Result<(), Refusal> {
    let (now, timing) = (ctx.now, ctx.timing);
    let undefined = r.user == "[UNDEFINED]";
    if undefined && (r.name.is_none() || !core) {
        return Err((
            "InvalidParameterValues",
            "A user-decoupled WorkSpace needs a WorkspaceName and a WorkSpaces Core account."
                .into(),
        ));
    }
    if !undefined && r.name.is_some() {
        return Err((
            "InvalidParameterValues",
            "WorkspaceName is only applicable to user-decoupled WorkSpaces (UserName [UNDEFINED])."
                .into(),
        ));
    }
    if let Some(n) = r.name
        && let Some(other) = rs.by_name.get(n).cloned()
        && rs.settle_workspace(&other, now, &timing)
    {
        return Err((
            "ResourceExists.WorkspaceName",
            format!("A WorkSpace named {n} already exists."),
        ));
    }
    if !undefined
        && let Some(other) = rs
            .by_user
            .get(&(r.dir.to_string(), r.user.to_lowercase()))
            .cloned()
        && rs.settle_workspace(&other, now, &timing)
    {
        return Err((
            "ResourceExists.User",
            format!(
                "The user {} already has a WorkSpace in directory {}.",
                r.user, r.dir
            ),
        ));
    }
    Ok(())
}

/// The new workspace, PENDING until `durations.create` (then AVAILABLE, or ERROR under a
/// `resource_error` fault): a subnet of its directory in turn, the protocol its image's
/// ingestion implies, volumes and compute from the bundle unless the request sets them.
fn new_workspace(ctx: &Ctx, rs: &RegionState, r: &CreateRequest, a: Admitted) -> Workspace {
    let now = ctx.now;
    let subnet = a
        .dir
        .subnet_ids
        .get(rs.workspaces.len() % a.dir.subnet_ids.len().max(1))
        .cloned()
        .unwrap_or_default();
    let ingestion = a.image.as_ref().and_then(|i| i.ingestion.as_deref());
    let byop = ingestion.is_some_and(|p| p.ends_with("_BYOP"));
    let wsp = ingestion.is_some_and(|p| p.ends_with("_WSP"));
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
    let bundle = &a.bundle;
    let (key, root_enc, user_enc) = encryption::settings(
        r.key,
        r.root_enc,
        r.user_enc,
        &ctx.opts.default_volume_encryption_key,
    );
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
            running_mode: a.running_mode,
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
        volume_encryption_key: key,
        user_volume_encryption: Some(user_enc),
        root_volume_encryption: Some(root_enc),
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
    ws
}
