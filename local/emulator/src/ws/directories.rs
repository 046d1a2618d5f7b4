//! Directory registration and creation properties.

use super::{Ctx, parse_tags, region, region_mut, views};
use crate::error::{ApiError, ApiResult};
use crate::model::{CreationProperties, World, WsDirectory};
use crate::protocol::{Obj, pat, random_hex, random_upper};
use serde_json::{Value, json};

const DIR_PATTERN: &str =
    "Member must satisfy regular expression pattern: ^(d-[0-9a-f]{8,63}$)|(wsd-[0-9a-z]{8,63}$)";

pub fn describe_directories(ctx: &Ctx, w: &World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let ids = input.opt_str_list("DirectoryIds", 1, 25, pat::directory_id, DIR_PATTERN)?;
    let names = input.opt_str_list(
        "WorkspaceDirectoryNames",
        1,
        25,
        |s| pat::len(s, 1, 64),
        "Member must have length between 1 and 64",
    )?;
    let limit = crate::paging::page_size(
        input.opt_int_range("Limit", 1, 25)?,
        ctx.opts.default_page_size,
        25,
    );
    let mut filters: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(list) = input.opt_list("Filters", 1, 25)? {
        for f in input.items("Filters", list)? {
            let name = f
                .enum_val("Name", true, &["USER_IDENTITY_TYPE", "WORKSPACE_TYPE"])?
                .unwrap_or_default();
            let values = f
                .opt_str_list(
                    "Values",
                    1,
                    25,
                    |s| pat::len(s, 0, 64),
                    "Member must have length less than or equal to 64",
                )?
                .ok_or_else(|| f.err("Values", "Member must not be null"))?;
            filters.push((
                name.to_string(),
                values.into_iter().map(String::from).collect(),
            ));
        }
    }
    let scope = format!(
        "DescribeWorkspaceDirectories|{}|{}|{limit}|{:?}",
        ids.as_ref().map(|v| v.join(",")).unwrap_or_default(),
        names.as_ref().map(|v| v.join(",")).unwrap_or_default(),
        filters
    );
    let pos = ctx.page_position(&input, &scope)?;
    let rs = region(w, ctx.caller);
    let matching: Vec<(&WsDirectory, &str)> = rs
        .directories
        .values()
        .filter_map(|d| d.state(ctx.now).map(|s| (d, s)))
        .filter(|(d, _)| ids.as_ref().is_none_or(|ids| ids.contains(&d.id.as_str())))
        .filter(|(d, _)| {
            names
                .as_ref()
                .is_none_or(|n| d.name.as_deref().is_some_and(|x| n.contains(&x)))
        })
        .filter(|(d, _)| {
            filters.iter().all(|(name, values)| {
                let v = if name == "USER_IDENTITY_TYPE" {
                    &d.user_identity_type
                } else {
                    &d.workspace_type
                };
                values.iter().any(|x| x == v)
            })
        })
        .filter(|(d, _)| pos.as_ref().is_none_or(|p| d.id.as_str() > p.as_str()))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .take(limit)
        .map(|(d, s)| views::directory(d, s))
        .collect();
    let next =
        (matching.len() > limit).then(|| ctx.tokens.issue(&scope, &matching[limit - 1].0.id));
    Ok(Obj::new()
        .v("Directories", Some(Value::Array(page)))
        .s("NextToken", next)
        .build())
}

// Long: about 140 lines, on purpose: the service's checks of a registration in its own order
// (input, policy, role, directory state, quota, tenancy, subnets), then the record.
pub fn register_directory(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let dir_id = input.checked("DirectoryId", false, pat::directory_id, DIR_PATTERN)?;
    let subnets = input.opt_str_list(
        "SubnetIds",
        0,
        2,
        pat::subnet_id,
        "Member must satisfy regular expression pattern: ^(subnet-([0-9a-f]{8}|[0-9a-f]{17}))$",
    )?;
    let self_service = input.opt_bool("EnableSelfService")?;
    let tenancy = input
        .enum_val("Tenancy", false, &["DEDICATED", "SHARED"])?
        .unwrap_or("SHARED");
    let tags = parse_tags(&input, "Tags")?;
    let name = input.checked(
        "WorkspaceDirectoryName",
        false,
        |s| pat::len(s, 1, 64),
        "Member must have length between 1 and 64",
    )?;
    let description = input.checked(
        "WorkspaceDirectoryDescription",
        false,
        |s| pat::len(s, 1, 255),
        "Member must have length between 1 and 255",
    )?;
    let identity = input.enum_val(
        "UserIdentityType",
        false,
        &[
            "CUSTOMER_MANAGED",
            "AWS_DIRECTORY_SERVICE",
            "AWS_IAM_IDENTITY_CENTER",
        ],
    )?;
    let wtype = input
        .enum_val("WorkspaceType", false, &["PERSONAL", "POOLS"])?
        .unwrap_or("PERSONAL");
    input.checked(
        "IdcInstanceArn",
        false,
        pat::arn,
        "Member must satisfy the ARN pattern",
    )?;
    if let Some(ad) = input.opt_obj("ActiveDirectoryConfig")? {
        ad.req_str("DomainName")?;
        ad.req_str("ServiceAccountSecretArn")?;
    }
    ctx.request_policy("RegisterWorkspaceDirectory", "directory", &tags)?;
    let Some(dir_id) = dir_id else {
        return Err(ApiError::invalid(
            "DirectoryId is required to register an AWS Directory Service directory.",
        ));
    };
    if dir_id.starts_with("wsd-")
        || wtype == "POOLS"
        || identity.is_some_and(|i| i != "AWS_DIRECTORY_SERVICE")
    {
        return Err(ApiError::unsupported(
            "The emulator registers only AWS Directory Service directories (d-…) for PERSONAL WorkSpaces.",
        ));
    }
    let account = ctx.caller.account.clone();
    let has_role = w.accounts.get(&account).is_none_or(|a| a.has_default_role);
    if !has_role {
        return Err(ApiError::new(
            "WorkspacesDefaultRoleNotFoundException",
            "The IAM role workspaces_DefaultRole was not found in the account.",
        ));
    }
    let now = ctx.now;
    let quota = ctx.opts.directory_quota;
    let rs = region_mut(w, ctx.caller);
    rs.settle_directories(now);
    let ds = rs
        .ds_directories
        .get(dir_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("directory", dir_id))?;
    if !ds.active() {
        return Err(ApiError::bad_state(format!(
            "The directory {dir_id} is not Active in AWS Directory Service."
        )));
    }
    if let Some(existing) = rs.directories.get(dir_id) {
        return Err(match existing.state(now) {
            Some("DEREGISTERING") => {
                ApiError::bad_state(format!("The directory {dir_id} is being deregistered."))
            }
            _ => ApiError::exists(format!("The directory {dir_id} is already registered.")),
        });
    }
    if rs.directories.len() >= quota {
        return Err(ApiError::limit(format!(
            "The registered directory quota ({quota}) has been reached."
        )));
    }
    if tenancy == "DEDICATED" && !rs.byol_enabled(now) {
        return Err(ApiError::invalid(
            "DEDICATED tenancy requires an account enabled for BYOL.",
        ));
    }
    let subnet_ids: Vec<String> = match subnets {
        Some(s) if !s.is_empty() => s.into_iter().map(String::from).collect(),
        _ => ds.subnet_ids.clone(),
    };
    check_zones(rs, &subnet_ids, &ctx.opts.unsupported_az_ids)?;
    let d = WsDirectory {
        id: dir_id.to_string(),
        subnet_ids,
        tenancy: tenancy.to_string(),
        self_service: self_service.unwrap_or(false),
        registration_code: format!("SLiad+{}", random_upper(6)),
        iam_role_id: format!("arn:aws:iam::{account}:role/workspaces_DefaultRole"),
        workspace_security_group_id: format!("sg-{}", random_hex(17)),
        registered_at: now + ctx.dur(ctx.opts.durations.directory_register).max(1),
        deregistering: None,
        creation: CreationProperties::default(),
        tags,
        name: name.map(String::from),
        description: description.map(String::from),
        user_identity_type: "AWS_DIRECTORY_SERVICE".into(),
        workspace_type: wtype.into(),
        ds,
    };
    rs.directories.insert(d.id.clone(), d);
    Ok(json!({"DirectoryId": dir_id, "State": "REGISTERING"}))
}

/// The subnets a directory is registered with: each must exist, two of them, in two
/// different Availability Zones, none of them a zone the `unsupported_az_ids` option lists.
fn check_zones(
    rs: &crate::model::RegionState,
    subnet_ids: &[String],
    unsupported: &[String],
) -> ApiResult<()> {
    let mut zones = Vec::with_capacity(subnet_ids.len());
    for id in subnet_ids {
        let sn = rs
            .subnets
            .get(id)
            .ok_or_else(|| ApiError::invalid("A subnet in SubnetIds does not exist."))?;
        if unsupported.contains(&sn.az_id) {
            return Err(ApiError::unsupported(format!(
                "A subnet is in Availability Zone {} ({}), which WorkSpaces does not support.",
                sn.az_id, sn.az
            )));
        }
        zones.push(sn.az_id.as_str());
    }
    if zones.len() != 2 || zones[0] == zones[1] {
        return Err(ApiError::unsupported(
            "Two subnets in different supported Availability Zones are required.",
        ));
    }
    Ok(())
}

pub fn deregister_directory(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = input
        .checked("DirectoryId", true, pat::directory_id, DIR_PATTERN)?
        .unwrap_or_default();
    let (now, timing) = (ctx.now, ctx.timing);
    let rs = region_mut(w, ctx.caller);
    rs.settle_directories(now);
    ctx.resource_policy(
        "DeregisterWorkspaceDirectory",
        "directory",
        id,
        rs.directories.get(id).map(|d| &d.tags),
    )?;
    let state = rs
        .directories
        .get(id)
        .and_then(|d| d.state(now))
        .ok_or_else(|| ApiError::not_found("directory", id))?;
    if state != "REGISTERED" {
        return Err(ApiError::bad_state(format!(
            "The directory {id} is {state}."
        )));
    }
    let members: Vec<String> = rs
        .by_directory
        .get(id)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    let alive = members
        .iter()
        .filter(|ws| rs.settle_workspace(ws, now, &timing))
        .count();
    if alive > 0 {
        return Err(ApiError::unsupported(format!(
            "The directory {id} still has {alive} WorkSpaces."
        )));
    }
    let gone = now + ctx.dur(ctx.opts.durations.directory_deregister).max(1);
    if let Some(d) = rs.directories.get_mut(id) {
        d.deregistering = Some((now, gone));
    }
    Ok(json!({}))
}

pub fn modify_creation_properties(ctx: &Ctx, w: &mut World, body: &Value) -> ApiResult<Value> {
    let input = ctx.input(body)?;
    let id = input
        .checked("ResourceId", true, pat::directory_id, DIR_PATTERN)?
        .unwrap_or_default();
    let p = input.req_obj("WorkspaceCreationProperties")?;
    let internet = p.opt_bool("EnableInternetAccess")?;
    let ou = p.checked(
        "DefaultOu",
        false,
        pat::default_ou,
        "DefaultOu must be a distinguished name OU=...,DC=...,DC=...",
    )?;
    let sg = p.checked(
        "CustomSecurityGroupId",
        false,
        pat::security_group_id,
        "Member must satisfy regular expression pattern: ^(sg-([0-9a-f]{8}|[0-9a-f]{17}))$",
    )?;
    let admin = p.opt_bool("UserEnabledAsLocalAdministrator")?;
    let maint = p.opt_bool("EnableMaintenanceMode")?;
    let role = p.checked(
        "InstanceIamRoleArn",
        false,
        pat::arn,
        "Member must satisfy the ARN pattern",
    )?;
    let now = ctx.now;
    let rs = region_mut(w, ctx.caller);
    rs.settle_directories(now);
    ctx.resource_policy(
        "ModifyWorkspaceCreationProperties",
        "directory",
        id,
        rs.directories.get(id).map(|d| &d.tags),
    )?;
    if let Some(sg) = sg
        && !rs.security_groups.contains_key(sg)
    {
        return Err(ApiError::invalid(format!(
            "The security group {sg} does not exist."
        )));
    }
    let d = rs
        .directories
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("directory", id))?;
    if d.state(now) != Some("REGISTERED") {
        return Err(ApiError::unsupported(format!(
            "The directory {id} is not REGISTERED."
        )));
    }
    let c = &mut d.creation;
    if internet.is_some() {
        c.enable_internet_access = internet;
    }
    if let Some(ou) = ou {
        c.default_ou = Some(ou.into());
    }
    if let Some(sg) = sg {
        c.custom_security_group_id = Some(sg.into());
    }
    if admin.is_some() {
        c.user_enabled_as_local_administrator = admin;
    }
    if maint.is_some() {
        c.enable_maintenance_mode = maint;
    }
    if let Some(r) = role {
        c.instance_iam_role_arn = Some(r.into());
    }
    Ok(json!({}))
}
