//! Bundles.

use super::workspaces::COMPUTES;
use super::{Ctx, parse_tags, region, region_mut, views};
use crate::error::{ApiError, ApiResult};
use crate::model::{World, WsBundle};
use crate::protocol::{Obj, pat, random_hex};
use serde_json::{Value, json};

/// Public bundles owned by AMAZON, the same in every account and region.
pub fn amazon_bundles() -> Vec<WsBundle> {
    [
        (
            "wsb-bh8rsxt14",
            "Standard with Windows 10 (Server 2022 based)",
            "STANDARD",
            "80",
            "50",
        ),
        (
            "wsb-8vbljg4r6",
            "Performance with Windows 10 (Server 2022 based)",
            "PERFORMANCE",
            "80",
            "100",
        ),
    ]
    .into_iter()
    .map(|(id, name, compute, root, user)| WsBundle {
        id: id.into(),
        name: name.into(),
        description: name.into(),
        owner: "AMAZON".into(),
        image_id: "wsi-amazon0001".into(),
        root_capacity: Some(root.into()),
        user_capacity: user.into(),
        compute: compute.into(),
        created_ms: 1_600_000_000_000,
        updated_ms: 1_600_000_000_000,
        tags: vec![],
    })
    .collect()
}

pub fn amazon_bundle(id: &str) -> Option<WsBundle> {
    amazon_bundles().into_iter().find(|b| b.id == id)
}

fn capacity(
    input: &crate::protocol::Input,
    key: &str,
    required: bool,
) -> ApiResult<Option<String>> {
    let obj = if required {
        Some(input.req_obj(key)?)
    } else {
        input.opt_obj(key)?
    };
    let Some(obj) = obj else { return Ok(None) };
    let c = obj.checked(
        "Capacity",
        true,
        |s| pat::len(s, 1, 16) && s.parse::<u32>().is_ok_and(|n| n > 0),
        "Member must be a positive number of GiB",
    )?;
    Ok(c.map(String::from))
}

pub fn create_bundle(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let name = input.checked("BundleName", true, pat::image_or_bundle_name, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_./()\\\\-]+$ and length 1-64")?.unwrap_or_default();
    let description = input.checked("BundleDescription", true, |s| pat::len(s, 1, 255) && pat::description(s), "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_./() -]+$ and length 1-255")?.unwrap_or_default();
    let image_id = input
        .checked(
            "ImageId",
            true,
            pat::image_id,
            "Member must satisfy regular expression pattern: wsi-[0-9a-z]{9,63}$",
        )?
        .unwrap_or_default();
    let compute = input
        .req_obj("ComputeType")?
        .enum_val("Name", true, COMPUTES)?
        .unwrap_or_default()
        .to_string();
    let user = capacity(&input, "UserStorage", true)?.unwrap_or_default();
    let root = capacity(&input, "RootStorage", false)?;
    let tags = parse_tags(&input, "Tags")?;
    ctx.request_policy("CreateWorkspaceBundle", "workspacebundle", &tags)?;
    let quota = ctx.opts.bundle_quota;
    let now = ctx.now;
    let account = ctx.account().to_string();
    let rs = region_mut(w, ctx.caller);
    let image = rs
        .images
        .get(image_id)
        .ok_or_else(|| ApiError::not_found("image", image_id))?;
    if image.state(now) != "AVAILABLE" {
        return Err(ApiError::unavailable(
            format!("The image {image_id} is not available."),
            image_id,
        ));
    }
    if rs.bundles.values().any(|b| b.name == name) {
        return Err(ApiError::exists(format!(
            "A bundle named {name} already exists."
        )));
    }
    if rs.bundles.len() >= quota {
        return Err(ApiError::limit(format!(
            "The bundle quota ({quota}) has been reached."
        )));
    }
    let b = WsBundle {
        id: format!("wsb-{}", random_hex(9)),
        name: name.into(),
        description: description.into(),
        owner: account,
        image_id: image_id.into(),
        root_capacity: root,
        user_capacity: user,
        compute,
        created_ms: now,
        updated_ms: now,
        tags,
    };
    let view = views::bundle(&b);
    rs.bundles.insert(b.id.clone(), b);
    Ok(json!({"WorkspaceBundle": view}))
}

pub fn describe_bundles(ctx: &Ctx, w: &World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let ids = input.opt_str_list(
        "BundleIds",
        1,
        25,
        pat::bundle_id,
        "Member must satisfy regular expression pattern: ^wsb-[0-9a-z]{8,63}$",
    )?;
    let owner = input.opt_str("Owner")?;
    if ids.is_some() && owner.is_some() {
        return Err(ApiError::invalid("BundleIds and Owner cannot be combined."));
    }
    let scope = format!(
        "DescribeWorkspaceBundles|{}|{}",
        ids.as_ref().map(|v| v.join(",")).unwrap_or_default(),
        owner.unwrap_or_default()
    );
    let pos = ctx.page_position(&input, &scope)?;
    let rs = region(w, ctx.caller);
    let mut amazon = amazon_bundles();
    amazon.sort_by(|a, b| a.id.cmp(&b.id));
    let size = crate::paging::page_size(None, ctx.opts.default_page_size, 25);
    // The ids a request names keep its order (pages by index); listings go in id order
    // (pages after the last id shown).
    let (page, next): (Vec<&WsBundle>, Option<String>) = match (&ids, owner) {
        (Some(ids), _) => {
            let found: Vec<&WsBundle> = ids
                .iter()
                .filter_map(|id| {
                    rs.bundles
                        .get(*id)
                        .or_else(|| amazon.iter().find(|b| b.id == *id))
                })
                .collect();
            let (page, next) = crate::paging::from_index(&found, pos.as_deref(), size);
            (page.to_vec(), next)
        }
        (None, Some("AMAZON")) => {
            crate::paging::after_key(amazon.iter(), |b| &b.id, pos.as_deref(), size)
        }
        (None, Some(o)) if o != ctx.account() => (vec![], None),
        (None, _) => crate::paging::after_key(rs.bundles.values(), |b| &b.id, pos.as_deref(), size),
    };
    let page: Vec<Value> = page.iter().map(|b| views::bundle(b)).collect();
    let next = next.map(|p| ctx.tokens.issue(&scope, &p));
    Ok(Obj::new()
        .v("Bundles", Some(Value::Array(page)))
        .s("NextToken", next)
        .build())
}

fn bundle_target<'r>(
    ctx: &Ctx,
    op: &str,
    rs: &'r mut crate::model::RegionState,
    id: Option<&str>,
) -> ApiResult<&'r mut WsBundle> {
    let Some(id) = id else {
        return Err(ApiError::invalid("BundleId is required."));
    };
    if amazon_bundle(id).is_some() {
        ctx.resource_policy(op, "workspacebundle", id, None)?;
        return Err(ApiError::unsupported(
            "AMAZON-owned bundles cannot be changed.",
        ));
    }
    ctx.resource_policy(
        op,
        "workspacebundle",
        id,
        rs.bundles.get(id).map(|b| &b.tags),
    )?;
    rs.bundles
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("bundle", id))
}

pub fn update_bundle(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = input.checked(
        "BundleId",
        false,
        pat::bundle_id,
        "Member must satisfy regular expression pattern: ^wsb-[0-9a-z]{8,63}$",
    )?;
    let image_id = input.checked(
        "ImageId",
        false,
        pat::image_id,
        "Member must satisfy regular expression pattern: wsi-[0-9a-z]{9,63}$",
    )?;
    let now = ctx.now;
    let rs = region_mut(w, ctx.caller);
    let image_state = image_id.map(|i| rs.images.get(i).map(|img| img.state(now)));
    let b = bundle_target(ctx, "UpdateWorkspaceBundle", rs, id)?;
    let Some(image_id) = image_id else {
        return Err(ApiError::invalid("ImageId is required."));
    };
    match image_state.flatten() {
        None => Err(ApiError::not_found("image", image_id)),
        Some(s) if s != "AVAILABLE" => Err(ApiError::unavailable(
            format!("The image {image_id} is not available."),
            image_id,
        )),
        Some(_) => {
            b.image_id = image_id.to_string();
            b.updated_ms = now;
            Ok(json!({}))
        }
    }
}

pub fn delete_bundle(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = input.checked(
        "BundleId",
        false,
        pat::bundle_id,
        "Member must satisfy regular expression pattern: ^wsb-[0-9a-z]{8,63}$",
    )?;
    let (now, timing) = (ctx.now, ctx.timing);
    let rs = region_mut(w, ctx.caller);
    let bid = bundle_target(ctx, "DeleteWorkspaceBundle", rs, id)?
        .id
        .clone();
    let users: Vec<String> = rs
        .by_bundle
        .get(&bid)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    let in_use = users
        .iter()
        .filter(|ws| rs.settle_workspace(ws, now, &timing))
        .count();
    if in_use > 0 {
        return Err(ApiError::associated(format!(
            "The bundle {bid} is used by {in_use} WorkSpaces."
        )));
    }
    rs.bundles.remove(&bid);
    Ok(json!({}))
}
