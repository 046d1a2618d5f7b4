//! WorkSpace operations, one room per family: [`create`] (CreateWorkspaces), [`describe`]
//! (DescribeWorkspaces, DescribeWorkspacesConnectionStatus, DescribeWorkspaceSnapshots),
//! [`power`] (the batch calls: Start, Stop, Reboot, Rebuild, TerminateWorkspaces),
//! [`state`] (RestoreWorkspace, ModifyWorkspaceState), [`properties`]
//! (ModifyWorkspaceProperties) and [`migrate`] (MigrateWorkspace). This module holds what
//! they share: the service's enumerations, the parsed `WorkspaceProperties`, and how one
//! workspace is found and shown.

mod create;
mod describe;
mod encryption;
mod migrate;
mod power;
mod properties;
mod state;

pub use create::create_workspaces;
pub use describe::{connection_status, describe_snapshots, describe_workspaces};
pub use migrate::migrate_workspace;
pub use power::{reboot, rebuild, start, stop, terminate};
pub use properties::modify_properties;
pub use state::{modify_state, restore};

use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::model::{Phase, RegionState, Workspace, WsState};
use crate::protocol::{Input, pat, random_hex};

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

/// A random private IP address (`10.0.x.y`).
fn new_ip() -> String {
    let h = random_hex(4);
    let a = u8::from_str_radix(&h[..2], 16).unwrap_or(1);
    let b = u8::from_str_radix(&h[2..], 16).unwrap_or(1).max(4);
    format!("10.0.{}.{}", a, b.min(254))
}

/// The final phase of a transition: `to`, or ERROR under a resource_error fault.
fn outcome(ctx: &Ctx, to: WsState) -> Phase {
    if ctx.resource_error.is_some() {
        Phase::To(WsState::Error)
    } else {
        Phase::To(to)
    }
}

/// The state a workspace shows right now (`None` = gone or unknown).
fn current(rs: &RegionState, id: &str, ctx: &Ctx) -> Option<WsState> {
    let ws = rs.workspaces.get(id)?;
    ws.project(ctx.now, &ctx.timing, rs.maintenance_on(&ws.directory_id))
        .map(|p| p.state)
}

/// The one workspace id a single-workspace call names under `key` (required).
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
