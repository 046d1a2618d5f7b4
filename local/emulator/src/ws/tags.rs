//! CreateTags / DescribeTags / DeleteTags on WorkSpaces resources.

use super::{Ctx, parse_tags, region, region_mut};
use crate::error::{ApiError, ApiResult};
use crate::model::{RegionState, Tags, World};
use crate::protocol::{pat, tag_list};
use serde_json::{Value, json};

fn kind(id: &str) -> &'static str {
    if id.starts_with("ws-") {
        "workspace"
    } else if id.starts_with("wsb-") {
        "workspacebundle"
    } else if id.starts_with("wsi-") {
        "workspaceimage"
    } else if id.starts_with("wsipg-") {
        "workspaceipgroup"
    } else if id.starts_with("wsca-") {
        "connectionalias"
    } else {
        "directory"
    }
}

fn tags_of<'r>(rs: &'r RegionState, id: &str, ctx: &Ctx) -> Option<&'r Tags> {
    match kind(id) {
        "workspace" => rs
            .workspaces
            .get(id)
            .filter(|ws| ws.project(ctx.now, &ctx.timing, false).is_some())
            .map(|w| &w.tags),
        "workspacebundle" => rs.bundles.get(id).map(|b| &b.tags),
        "workspaceimage" => rs.images.get(id).map(|i| &i.tags),
        "directory" => rs
            .directories
            .get(id)
            .filter(|d| d.state(ctx.now).is_some())
            .map(|d| &d.tags),
        _ => None,
    }
}

fn tags_of_mut<'r>(rs: &'r mut RegionState, id: &str) -> Option<&'r mut Tags> {
    match kind(id) {
        "workspace" => rs.workspaces.get_mut(id).map(|w| &mut w.tags),
        "workspacebundle" => rs.bundles.get_mut(id).map(|b| &mut b.tags),
        "workspaceimage" => rs.images.get_mut(id).map(|i| &mut i.tags),
        "directory" => rs.directories.get_mut(id).map(|d| &mut d.tags),
        _ => None,
    }
}

fn resource_id<'a>(input: &crate::protocol::Input<'a>) -> ApiResult<&'a str> {
    Ok(input
        .checked(
            "ResourceId",
            true,
            |s| pat::len(s, 1, 1024),
            "Member must have length greater than or equal to 1",
        )?
        .unwrap_or_default())
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFoundException",
        format!("The resource {id} could not be found."),
    )
    .with_resource(id)
}

pub fn create_tags(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = resource_id(&input)?;
    input.req_list("Tags", 0, usize::MAX)?;
    let tags = parse_tags(&input, "Tags")?;
    let (now, timing) = (ctx.now, ctx.timing);
    let rs = region_mut(w, ctx.caller);
    if id.starts_with("ws-") {
        rs.settle_workspace(id, now, &timing);
    }
    if let Some(p) = &ctx.policy {
        let keys: Vec<&str> = tags.iter().map(|(k, _)| k.as_str()).collect();
        p.check_tag_edit("CreateTags", kind(id), id, &keys, tags_of(rs, id, ctx))?;
    }
    tags_of(rs, id, ctx).ok_or_else(|| not_found(id))?;
    let existing = tags_of_mut(rs, id).ok_or_else(|| not_found(id))?;
    let mut merged = existing.clone();
    for (k, v) in tags {
        match merged.iter_mut().find(|(ek, _)| *ek == k) {
            Some(e) => e.1 = v,
            None => merged.push((k, v)),
        }
    }
    if merged.len() > 50 {
        return Err(ApiError::limit("A resource can have at most 50 tags."));
    }
    *existing = merged;
    Ok(json!({}))
}

pub fn describe_tags(ctx: &Ctx, w: &World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = resource_id(&input)?;
    let rs = region(w, ctx.caller);
    let tags = tags_of(rs, id, ctx).ok_or_else(|| not_found(id))?;
    Ok(json!({"TagList": tag_list(tags)}))
}

pub fn delete_tags(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = resource_id(&input)?;
    let keys = input
        .opt_str_list(
            "TagKeys",
            0,
            usize::MAX,
            |s| !s.is_empty(),
            "Member must have length greater than or equal to 1",
        )?
        .ok_or_else(|| input.err("TagKeys", "Member must not be null"))?;
    let rs = region_mut(w, ctx.caller);
    if let Some(p) = &ctx.policy {
        p.check_tag_edit("DeleteTags", kind(id), id, &keys, tags_of(rs, id, ctx))?;
    }
    tags_of(rs, id, ctx).ok_or_else(|| not_found(id))?;
    let existing = tags_of_mut(rs, id).ok_or_else(|| not_found(id))?;
    existing.retain(|(k, _)| !keys.contains(&k.as_str()));
    Ok(json!({}))
}
