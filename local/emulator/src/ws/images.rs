//! WorkSpaces images: import (BYOL/BYOP), copy, create from a WorkSpace,
//! delete, describe and sharing.

use super::{Ctx, parse_tags, region, region_mut, views};
use crate::error::{ApiError, ApiResult};
use crate::model::{ImageFailure, Phase, World, WsImage, WsState};
use crate::protocol::{Input, Obj, pat, random_hex};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const INGESTION: &[&str] = &[
    "BYOL_REGULAR",
    "BYOL_GRAPHICS",
    "BYOL_GRAPHICSPRO",
    "BYOL_GRAPHICS_G4DN",
    "BYOL_REGULAR_WSP",
    "BYOL_GRAPHICS_G4DN_WSP",
    "BYOL_REGULAR_BYOP",
    "BYOL_GRAPHICS_G4DN_BYOP",
];

/// Largest root volume accepted for import [U: emulator choice].
pub const MAX_IMPORT_ROOT_GIB: u32 = 100;

fn name<'a>(input: &Input<'a>, key: &str) -> ApiResult<&'a str> {
    Ok(input.checked(key, true, pat::image_or_bundle_name, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_./()\\\\-]+$ and length 1-64")?.unwrap_or_default())
}

fn description<'a>(input: &Input<'a>, key: &str, required: bool) -> ApiResult<Option<&'a str>> {
    input.checked(
        key,
        required,
        |s| pat::len(s, 1, 256) && pat::description(s),
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_./() -]+$ and length 1-256",
    )
}

fn image_id<'a>(input: &Input<'a>, key: &str) -> ApiResult<&'a str> {
    Ok(input
        .checked(
            key,
            true,
            pat::image_id,
            "Member must satisfy regular expression pattern: wsi-[0-9a-z]{9,63}$",
        )?
        .unwrap_or_default())
}

fn check_new(rs: &crate::model::RegionState, name: &str, quota: usize) -> ApiResult<()> {
    if rs.images.values().any(|i| i.name == name) {
        return Err(ApiError::exists(format!(
            "An image named {name} already exists."
        )));
    }
    if rs.images.len() >= quota {
        return Err(ApiError::limit(format!(
            "The image quota ({quota}) has been reached."
        )));
    }
    Ok(())
}

fn injected(ctx: &Ctx) -> Option<ImageFailure> {
    ctx.resource_error.as_ref().map(|(c, m)| ImageFailure {
        code: c.clone(),
        message: m.clone(),
        details: vec![("UnknownError".into(), m.clone())],
    })
}

pub fn import_image(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let ami_id = input
        .checked(
            "Ec2ImageId",
            true,
            pat::ec2_image_id,
            "Member must satisfy regular expression pattern: ^ami\\-([a-f0-9]{8}|[a-f0-9]{17})$",
        )?
        .unwrap_or_default();
    let ingestion = input
        .enum_val("IngestionProcess", true, INGESTION)?
        .unwrap_or_default();
    let image_name = name(&input, "ImageName")?;
    let desc = description(&input, "ImageDescription", true)?;
    let tags = parse_tags(&input, "Tags")?;
    let apps = input.opt_str_list(
        "Applications",
        1,
        5,
        |s| ["Microsoft_Office_2016", "Microsoft_Office_2019"].contains(&s),
        "Member must satisfy enum value set: [Microsoft_Office_2016, Microsoft_Office_2019]",
    )?;
    if apps.is_some_and(|a| a.len() > 1) {
        return Err(ApiError::invalid(
            "Only one application can be included in the image.",
        ));
    }
    ctx.request_policy("ImportWorkspaceImage", "workspaceimage", &tags)?;
    let byop = w
        .accounts
        .get(ctx.account())
        .is_some_and(|a| a.byop_enabled);
    if ingestion.ends_with("_BYOP") && !byop {
        return Err(ApiError::new(
            &ctx.opts.byop_not_enabled_error_code,
            "The account is not enabled for bring-your-own-protocol (BYOP) ingestion.",
        ));
    }
    let now = ctx.now;
    let account = ctx.account().to_string();
    let quota = ctx.opts.image_quota;
    let rs = region_mut(w, ctx.caller);
    let ami = rs
        .amis
        .get(ami_id)
        .filter(|a| a.owner == account)
        .ok_or_else(|| ApiError::not_found("EC2 image", ami_id))?
        .clone();
    if ami.state != "available" {
        return Err(ApiError::invalid(format!(
            "The EC2 image {ami_id} is in state {}; it must be available.",
            ami.state
        )));
    }
    check_new(rs, image_name, quota)?;
    let mut details = Vec::new();
    if !rs.byol_enabled(now) {
        details.push((
            "WorkspacesBYOLAccountNotFound".to_string(),
            "The account is not enabled for BYOL in this Region.".to_string(),
        ));
    }
    if ami.encrypted {
        details.push((
            "UnknownError".to_string(),
            "The AMI has encrypted volumes; encrypted AMIs cannot be imported.".to_string(),
        ));
    }
    if ami.virtualization_type != "hvm" {
        details.push((
            "OSNotSupported".to_string(),
            format!(
                "{} virtualization is not supported; the AMI must use HVM.",
                ami.virtualization_type
            ),
        ));
    }
    if ami.volume_size > MAX_IMPORT_ROOT_GIB {
        details.push((
            "DiskSizeExceeded".to_string(),
            format!(
                "The root volume is {} GiB; at most {MAX_IMPORT_ROOT_GIB} GiB is supported.",
                ami.volume_size
            ),
        ));
    }
    let failure = injected(ctx).or_else(|| {
        (!details.is_empty()).then(|| ImageFailure {
            code: "ImageIngestionFailed".into(),
            message: "The image failed validation; see ErrorDetails.".into(),
            details,
        })
    });
    let img = WsImage {
        id: format!("wsi-{}", random_hex(9)),
        name: image_name.into(),
        description: desc.map(String::from),
        os_type: "WINDOWS".into(),
        required_tenancy: "DEDICATED".into(),
        owner: account,
        created_ms: now,
        ready_at: now + ctx.dur(ctx.opts.durations.image_import).max(1),
        failure,
        tags,
        shared_with: BTreeSet::new(),
        source_ami: Some(ami_id.into()),
        ingestion: Some(ingestion.into()),
    };
    let id = img.id.clone();
    rs.images.insert(id.clone(), img);
    Ok(json!({"ImageId": id}))
}

pub fn describe_images(ctx: &Ctx, w: &World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let ids = input.opt_str_list(
        "ImageIds",
        1,
        25,
        pat::image_id,
        "Member must satisfy regular expression pattern: wsi-[0-9a-z]{9,63}$",
    )?;
    let image_type = input.enum_val("ImageType", false, &["OWNED", "SHARED"])?;
    let max = crate::paging::page_size(
        input.opt_int_range("MaxResults", 1, 25)?,
        ctx.opts.default_page_size,
        25,
    );
    let scope = format!(
        "DescribeWorkspaceImages|{}|{}|{max}",
        ids.as_ref().map(|v| v.join(",")).unwrap_or_default(),
        image_type.unwrap_or_default()
    );
    let pos = ctx.page_position(&input, &scope)?;
    let mut all: Vec<&WsImage> = Vec::new();
    if image_type != Some("SHARED") {
        all.extend(region(w, ctx.caller).images.values());
    }
    if image_type != Some("OWNED") {
        for (acct, a) in &w.accounts {
            if acct == ctx.account() {
                continue;
            }
            if let Some(rs) = a.regions.get(&ctx.caller.region) {
                all.extend(
                    rs.images
                        .values()
                        .filter(|i| i.shared_with.contains(ctx.account())),
                );
            }
        }
    }
    if let Some(ids) = &ids {
        all.retain(|i| ids.contains(&i.id.as_str()));
    }
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let start = match &pos {
        Some(p) => all
            .iter()
            .position(|i| i.id.as_str() > p.as_str())
            .unwrap_or(all.len()),
        None => 0,
    };
    let page: Vec<&WsImage> = all.iter().skip(start).take(max).copied().collect();
    let next = (start + max < all.len())
        .then(|| page.last().map(|i| ctx.tokens.issue(&scope, &i.id)))
        .flatten();
    let views: Vec<Value> = page.iter().map(|i| views::image(i, ctx.now)).collect();
    Ok(Obj::new()
        .v("Images", Some(Value::Array(views)))
        .s("NextToken", next)
        .build())
}

pub fn copy_image(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let image_name = name(&input, "Name")?;
    let desc = description(&input, "Description", false)?;
    let source_id = image_id(&input, "SourceImageId")?;
    let source_region = input
        .checked(
            "SourceRegion",
            true,
            pat::region,
            "Member must satisfy regular expression pattern: ^[-0-9a-z]{1,31}$",
        )?
        .unwrap_or_default();
    let tags = parse_tags(&input, "Tags")?;
    ctx.request_policy("CopyWorkspaceImage", "workspaceimage", &tags)?;
    let me = ctx.account().to_string();
    let source = w
        .accounts
        .values()
        .filter_map(|a| {
            a.regions
                .get(source_region)
                .and_then(|rs| rs.images.get(source_id))
        })
        .find(|i| i.owner == me || i.shared_with.contains(&me))
        .cloned()
        .ok_or_else(|| ApiError::not_found("image", source_id))?;
    if source.state(ctx.now) != "AVAILABLE" {
        return Err(ApiError::unavailable(
            format!("The image {source_id} is not available."),
            source_id,
        ));
    }
    let quota = ctx.opts.image_quota;
    let rs = region_mut(w, ctx.caller);
    check_new(rs, image_name, quota)?;
    let img = WsImage {
        id: format!("wsi-{}", random_hex(9)),
        name: image_name.into(),
        description: desc.map(String::from).or(source.description.clone()),
        os_type: source.os_type.clone(),
        required_tenancy: source.required_tenancy.clone(),
        owner: me,
        created_ms: ctx.now,
        ready_at: ctx.now + ctx.dur(ctx.opts.durations.image_copy).max(1),
        failure: injected(ctx),
        tags,
        shared_with: BTreeSet::new(),
        source_ami: source.source_ami.clone(),
        ingestion: source.ingestion.clone(),
    };
    let id = img.id.clone();
    rs.images.insert(id.clone(), img);
    Ok(json!({"ImageId": id}))
}

pub fn create_image(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let image_name = name(&input, "Name")?;
    let desc = description(&input, "Description", true)?;
    let ws_id = input
        .checked(
            "WorkspaceId",
            true,
            pat::workspace_id,
            "Member must satisfy regular expression pattern: ^ws-[0-9a-z]{8,63}$",
        )?
        .unwrap_or_default();
    let tags = parse_tags(&input, "Tags")?;
    ctx.request_policy("CreateWorkspaceImage", "workspaceimage", &tags)?;
    let (now, timing, quota) = (ctx.now, ctx.timing, ctx.opts.image_quota);
    let account = ctx.account().to_string();
    let rs = region_mut(w, ctx.caller);
    let alive = rs.settle_workspace(ws_id, now, &timing);
    ctx.resource_policy(
        "CreateWorkspaceImage",
        "workspace",
        ws_id,
        rs.workspaces.get(ws_id).map(|w| &w.tags),
    )?;
    if !alive {
        return Err(ApiError::not_found("WorkSpace", ws_id));
    }
    check_new(rs, image_name, quota)?;
    let tenancy = rs
        .workspaces
        .get(ws_id)
        .and_then(|ws| rs.bundles.get(&ws.bundle_id))
        .and_then(|b| rs.images.get(&b.image_id))
        .map_or("DEFAULT".to_string(), |i| i.required_tenancy.clone());
    let ws = rs
        .workspaces
        .get_mut(ws_id)
        .ok_or_else(|| ApiError::not_found("WorkSpace", ws_id))?;
    if ws.state != WsState::Available {
        return Err(ApiError::bad_state(format!(
            "The WorkSpace {ws_id} is in state {}; it must be AVAILABLE.",
            ws.state.as_str()
        )));
    }
    let dur = ctx.dur(ctx.opts.durations.image_create).max(1);
    ws.begin(now, WsState::Suspended, dur, Phase::To(WsState::Available));
    let img = WsImage {
        id: format!("wsi-{}", random_hex(9)),
        name: image_name.into(),
        description: desc.map(String::from),
        os_type: "WINDOWS".into(),
        required_tenancy: tenancy,
        owner: account,
        created_ms: now,
        ready_at: now + dur,
        failure: injected(ctx),
        tags,
        shared_with: BTreeSet::new(),
        source_ami: None,
        ingestion: None,
    };
    let view = views::image(&img, now);
    rs.images.insert(img.id.clone(), img);
    let mut out = view;
    if let Value::Object(m) = &mut out {
        m.remove("ErrorDetails");
    }
    Ok(out)
}

pub fn delete_image(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = image_id(&input, "ImageId")?;
    let rs = region_mut(w, ctx.caller);
    ctx.resource_policy(
        "DeleteWorkspaceImage",
        "workspaceimage",
        id,
        rs.images.get(id).map(|i| &i.tags),
    )?;
    let img = rs
        .images
        .get(id)
        .ok_or_else(|| ApiError::not_found("image", id))?;
    if img.state(ctx.now) == "PENDING" {
        return Err(ApiError::bad_state(format!(
            "The image {id} is still PENDING."
        )));
    }
    if let Some(b) = rs.bundles.values().find(|b| b.image_id == id) {
        return Err(ApiError::associated(format!(
            "The image {id} is used by bundle {}; delete the bundle first.",
            b.id
        )));
    }
    if !img.shared_with.is_empty() {
        return Err(ApiError::associated(format!(
            "The image {id} is shared; remove the sharing first."
        )));
    }
    rs.images.remove(id);
    Ok(json!({}))
}

pub fn describe_permissions(ctx: &Ctx, w: &World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = image_id(&input, "ImageId")?;
    let max = crate::paging::page_size(
        input.opt_int_range("MaxResults", 1, 25)?,
        ctx.opts.default_page_size,
        25,
    );
    let scope = format!("DescribeWorkspaceImagePermissions|{id}|{max}");
    let pos = ctx.page_position(&input, &scope)?;
    let rs = region(w, ctx.caller);
    ctx.resource_policy(
        "DescribeWorkspaceImagePermissions",
        "workspaceimage",
        id,
        rs.images.get(id).map(|i| &i.tags),
    )?;
    let img = rs
        .images
        .get(id)
        .ok_or_else(|| ApiError::not_found("image", id))?;
    let all: Vec<&String> = img
        .shared_with
        .iter()
        .filter(|a| pos.as_ref().is_none_or(|p| a.as_str() > p.as_str()))
        .collect();
    let page: Vec<Value> = all
        .iter()
        .take(max)
        .map(|a| json!({"SharedAccountId": a}))
        .collect();
    let next = (all.len() > max).then(|| ctx.tokens.issue(&scope, all[max - 1]));
    Ok(Obj::new()
        .s("ImageId", Some(id))
        .v("ImagePermissions", Some(Value::Array(page)))
        .s("NextToken", next)
        .build())
}

pub fn update_permission(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = image_id(&input, "ImageId")?;
    let allow = input
        .opt_bool("AllowCopyImage")?
        .ok_or_else(|| input.err("AllowCopyImage", "Member must not be null"))?;
    let account = input
        .checked(
            "SharedAccountId",
            true,
            pat::aws_account,
            "Member must satisfy regular expression pattern: ^\\d{12}$",
        )?
        .unwrap_or_default();
    if account == ctx.account() {
        return Err(ApiError::invalid(
            "An image cannot be shared with its owner account.",
        ));
    }
    let now = ctx.now;
    let rs = region_mut(w, ctx.caller);
    ctx.resource_policy(
        "UpdateWorkspaceImagePermission",
        "workspaceimage",
        id,
        rs.images.get(id).map(|i| &i.tags),
    )?;
    let img = rs
        .images
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("image", id))?;
    if img.state(now) != "AVAILABLE" {
        return Err(ApiError::unavailable(
            format!("The image {id} is not available."),
            id,
        ));
    }
    if allow {
        img.shared_with.insert(account.to_string());
    } else {
        img.shared_with.remove(account);
    }
    Ok(json!({}))
}
