//! The reads of workspaces: DescribeWorkspaces (the hot path: it serialises its own page),
//! DescribeWorkspacesConnectionStatus and DescribeWorkspaceSnapshots.

use std::collections::BTreeSet;
use std::ops::Bound;

use serde_json::{Value, json};

use super::single_id;
use crate::error::{ApiError, ApiResult};
use crate::model::{RegionState, World, WsState};
use crate::protocol::{Input, Obj, pat};
use crate::service_clock::Millis;
use crate::ws::{Ctx, region, views};

pub fn describe_workspaces(ctx: &Ctx, w: &World, body: &Value) -> ApiResult<String> {
    let input = ctx.input(body)?;
    let q = parse_query(ctx, &input)?;
    let pos = ctx.page_position(&input, &q.scope)?;
    let (out, next) = page(ctx, region(w, ctx.caller), &q, pos);
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Page<'a> {
        workspaces: Vec<views::WorkspaceOut<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_token: Option<String>,
    }
    let page = Page {
        workspaces: out,
        next_token: next.map(|p| ctx.tokens.issue(&q.scope, &p)),
    };
    serde_json::to_string(&page)
        .map_err(|e| ApiError::new("InternalServerException", e.to_string()).with_status(500))
}

/// A DescribeWorkspaces call's one filter (`WorkspaceIds`, `DirectoryId` with an optional
/// `UserName`, `BundleId` or `WorkspaceName`; none lists the account's), its page size, and
/// the scope its page tokens are bound to.
struct Query<'a> {
    ids: Option<Vec<&'a str>>,
    dir: Option<&'a str>,
    user: Option<&'a str>,
    bundle: Option<&'a str>,
    name: Option<&'a str>,
    limit: usize,
    scope: String,
}

fn parse_query<'a>(ctx: &Ctx, input: &Input<'a>) -> ApiResult<Query<'a>> {
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
    Ok(Query {
        ids,
        dir,
        user,
        bundle,
        name,
        limit,
        scope,
    })
}

/// Walks the filter's workspaces from the page position and returns the page and, when
/// more follow, the position of the next page (an index into `WorkspaceIds`, or the last id
/// shown). Workspaces that are gone are skipped.
fn page<'w>(
    ctx: &Ctx,
    rs: &'w RegionState,
    q: &Query,
    pos: Option<String>,
) -> (Vec<views::WorkspaceOut<'w>>, Option<String>) {
    let Query {
        ids,
        dir,
        user,
        bundle,
        name,
        limit,
        ..
    } = q;
    let (dir, user, bundle, name, limit) = (*dir, *user, *bundle, *name, *limit);
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
    (out, next)
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
    let size = crate::paging::page_size(None, ctx.opts.default_page_size, 25);
    // Workspaces that exist now: the named ones in the request's order (paged by index),
    // or all of them in id order (paged after the last id shown).
    let alive = |id: &str| {
        rs.workspaces.get(id).and_then(|ws| {
            ws.project(ctx.now, &ctx.timing, rs.maintenance_on(&ws.directory_id))
                .map(|p| (ws, p))
        })
    };
    let (page, next): (Vec<&str>, Option<String>) = match &ids {
        Some(ids) => {
            let found: Vec<&str> = ids
                .iter()
                .copied()
                .filter(|id| alive(id).is_some())
                .collect();
            let (page, next) = crate::paging::from_index(&found, pos.as_deref(), size);
            (page.to_vec(), next)
        }
        None => {
            let lower = pos.clone().map_or(Bound::Unbounded, Bound::Excluded);
            let all = rs
                .workspaces
                .range::<String, _>((lower, Bound::Unbounded))
                .map(|(k, _)| k)
                .filter(|id| alive(id).is_some());
            let (page, next) = crate::paging::after_key(all, |s: &String| s.as_str(), None, size);
            (page.into_iter().map(String::as_str).collect(), next)
        }
    };
    let out: Vec<Value> = page
        .into_iter()
        .filter_map(|id| alive(id).map(|(ws, p)| (id, ws, p)))
        .map(|(id, ws, p)| {
            let state = if p.state == WsState::Available {
                "DISCONNECTED"
            } else {
                "UNKNOWN"
            };
            Obj::new()
                .s("WorkspaceId", Some(id))
                .s("ConnectionState", Some(state))
                .ts("ConnectionStateCheckTimestamp", Some(ctx.now))
                .ts("LastKnownUserConnectionTimestamp", ws.last_connected_ms)
                .build()
        })
        .collect();
    Ok(Obj::new()
        .v("WorkspacesConnectionStatus", Some(Value::Array(out)))
        .s("NextToken", next.map(|p| ctx.tokens.issue(&scope, &p)))
        .build())
}
