//! WorkSpaces (awsJson1_1) operations.

mod account;
mod bundles;
mod directories;
mod images;
mod tags;
mod views;
mod workspaces;

use super::error::{ApiError, ApiResult};
use super::identity::Caller;
use super::model::{RegionState, Tags, Timing, World};
use super::options::Options;
use super::policy::TagPolicy;
use super::protocol::{Input, PageTokens, pat};
use super::service_clock::Millis;
use parking_lot::RwLock;
use serde_json::Value;
use std::sync::LazyLock;

/// The 35 operations this emulator serves.
pub const OPERATIONS: &[&str] = &[
    "CreateTags",
    "DescribeTags",
    "DeleteTags",
    "DescribeAccount",
    "DescribeAccountModifications",
    "ModifyAccount",
    "ListAvailableManagementCidrRanges",
    "ImportWorkspaceImage",
    "DescribeWorkspaceImages",
    "CopyWorkspaceImage",
    "CreateWorkspaceImage",
    "DeleteWorkspaceImage",
    "DescribeWorkspaceImagePermissions",
    "UpdateWorkspaceImagePermission",
    "DescribeWorkspaceDirectories",
    "RegisterWorkspaceDirectory",
    "DeregisterWorkspaceDirectory",
    "ModifyWorkspaceCreationProperties",
    "CreateWorkspaceBundle",
    "DescribeWorkspaceBundles",
    "UpdateWorkspaceBundle",
    "DeleteWorkspaceBundle",
    "CreateWorkspaces",
    "DescribeWorkspaces",
    "DescribeWorkspaceSnapshots",
    "MigrateWorkspace",
    "ModifyWorkspaceProperties",
    "ModifyWorkspaceState",
    "RebootWorkspaces",
    "RebuildWorkspaces",
    "RestoreWorkspace",
    "StartWorkspaces",
    "StopWorkspaces",
    "TerminateWorkspaces",
    "DescribeWorkspacesConnectionStatus",
];

/// Everything an operation needs besides the world.
pub struct Ctx<'a> {
    pub caller: &'a Caller,
    pub now: Millis,
    pub opts: &'a Options,
    pub timing: Timing,
    pub tokens: &'a PageTokens,
    pub policy: Option<TagPolicy>,
    /// Set by a `resource_error` fault: what this call starts ends in ERROR.
    pub resource_error: Option<(String, String)>,
}

impl Ctx<'_> {
    pub fn input<'v>(&'v self, v: &'v Value) -> ApiResult<Input<'v>> {
        Input::new(v, &self.opts.validation_error_code)
    }

    pub fn account(&self) -> &str {
        &self.caller.account
    }

    pub fn dur(&self, seconds: f64) -> Millis {
        self.opts.durations.ms(seconds)
    }

    pub fn resource_policy(
        &self,
        op: &str,
        kind: &str,
        id: &str,
        tags: Option<&Tags>,
    ) -> ApiResult<()> {
        match &self.policy {
            Some(p) => p.check_resource(op, kind, id, tags),
            None => Ok(()),
        }
    }

    pub fn request_policy(&self, op: &str, kind: &str, tags: &Tags) -> ApiResult<()> {
        match &self.policy {
            Some(p) => p.check_request_tags(op, kind, tags),
            None => Ok(()),
        }
    }

    /// Parses an optional page token issued for `scope`.
    pub fn page_position(&self, input: &Input, scope: &str) -> ApiResult<Option<String>> {
        match input.opt_str("NextToken")? {
            None => Ok(None),
            Some(t) if !pat::len(t, 1, 2048) => {
                Err(input.err("NextToken", "Member must have length between 1 and 2048"))
            }
            Some(t) => self
                .tokens
                .open(scope, t)
                .map(Some)
                .ok_or_else(|| ApiError::invalid("The specified NextToken is not valid.")),
        }
    }
}

static EMPTY_REGION: LazyLock<RegionState> = LazyLock::new(RegionState::default);

pub fn region<'w>(w: &'w World, c: &Caller) -> &'w RegionState {
    w.accounts
        .get(&c.account)
        .and_then(|a| a.regions.get(&c.region))
        .unwrap_or(&EMPTY_REGION)
}

pub fn region_mut<'w>(w: &'w mut World, c: &Caller) -> &'w mut RegionState {
    w.accounts
        .entry(c.account.clone())
        .or_insert_with(|| super::model::Account::new(&c.account))
        .region_mut(&c.region)
}

/// Parses a `Tags` member (list of `{Key, Value}`).
pub fn parse_tags(input: &Input, key: &str) -> ApiResult<Tags> {
    let Some(list) = input.opt_list(key, 0, usize::MAX)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(list.len());
    for item in input.items(key, list)? {
        let k = item
            .checked(
                "Key",
                true,
                |s| pat::len(s, 1, 127),
                "Member must have length between 1 and 127",
            )?
            .unwrap_or_default();
        let v = item
            .checked(
                "Value",
                false,
                |s| pat::len(s, 0, 255),
                "Member must have length between 0 and 255",
            )?
            .unwrap_or_default();
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::invalid(
                "Tag keys starting with aws: are reserved.",
            ));
        }
        out.push((k.to_string(), v.to_string()));
    }
    if out.len() > 50 {
        return Err(ApiError::limit("A resource can have at most 50 tags."));
    }
    Ok(out)
}

enum Access {
    /// A read that serializes its own output (the DescribeWorkspaces hot path).
    ReadRaw(fn(&Ctx, &World, &Value) -> ApiResult<String>),
    Read(fn(&Ctx, &World, &Value) -> ApiResult<Value>),
    Write(fn(&Ctx, &mut World, &Value) -> ApiResult<Value>),
}

fn lookup(op: &str) -> Option<Access> {
    use Access::*;
    Some(match op {
        "CreateTags" => Write(tags::create_tags),
        "DescribeTags" => Read(tags::describe_tags),
        "DeleteTags" => Write(tags::delete_tags),
        "DescribeAccount" => Read(account::describe_account),
        "DescribeAccountModifications" => Read(account::describe_account_modifications),
        "ModifyAccount" => Write(account::modify_account),
        "ListAvailableManagementCidrRanges" => Read(account::list_cidr_ranges),
        "ImportWorkspaceImage" => Write(images::import_image),
        "DescribeWorkspaceImages" => Read(images::describe_images),
        "CopyWorkspaceImage" => Write(images::copy_image),
        "CreateWorkspaceImage" => Write(images::create_image),
        "DeleteWorkspaceImage" => Write(images::delete_image),
        "DescribeWorkspaceImagePermissions" => Read(images::describe_permissions),
        "UpdateWorkspaceImagePermission" => Write(images::update_permission),
        "DescribeWorkspaceDirectories" => Read(directories::describe_directories),
        "RegisterWorkspaceDirectory" => Write(directories::register_directory),
        "DeregisterWorkspaceDirectory" => Write(directories::deregister_directory),
        "ModifyWorkspaceCreationProperties" => Write(directories::modify_creation_properties),
        "CreateWorkspaceBundle" => Write(bundles::create_bundle),
        "DescribeWorkspaceBundles" => Read(bundles::describe_bundles),
        "UpdateWorkspaceBundle" => Write(bundles::update_bundle),
        "DeleteWorkspaceBundle" => Write(bundles::delete_bundle),
        "CreateWorkspaces" => Write(workspaces::create_workspaces),
        "DescribeWorkspaces" => ReadRaw(workspaces::describe_workspaces),
        "DescribeWorkspaceSnapshots" => Read(workspaces::describe_snapshots),
        "MigrateWorkspace" => Write(workspaces::migrate_workspace),
        "ModifyWorkspaceProperties" => Write(workspaces::modify_properties),
        "ModifyWorkspaceState" => Write(workspaces::modify_state),
        "RebootWorkspaces" => Write(workspaces::reboot),
        "RebuildWorkspaces" => Write(workspaces::rebuild),
        "RestoreWorkspace" => Write(workspaces::restore),
        "StartWorkspaces" => Write(workspaces::start),
        "StopWorkspaces" => Write(workspaces::stop),
        "TerminateWorkspaces" => Write(workspaces::terminate),
        "DescribeWorkspacesConnectionStatus" => Read(workspaces::connection_status),
        _ => return None,
    })
}

pub fn is_known(op: &str) -> bool {
    lookup(op).is_some()
}

/// Runs one operation; the output is the JSON response body.
pub fn dispatch(op: &str, ctx: &Ctx, world: &RwLock<World>, body: &Value) -> ApiResult<String> {
    match lookup(op) {
        Some(Access::ReadRaw(f)) => f(ctx, &world.read(), body),
        Some(Access::Read(f)) => f(ctx, &world.read(), body).map(|v| v.to_string()),
        Some(Access::Write(f)) => f(ctx, &mut world.write(), body).map(|v| v.to_string()),
        None => Err(ApiError::new(
            "UnknownOperationException",
            format!("The operation {op} is not supported by this emulator."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_operation_dispatches() {
        assert_eq!(OPERATIONS.len(), 35);
        for op in OPERATIONS {
            assert!(is_known(op), "{op}");
        }
        assert!(!is_known("CreateWorkspacePool"));
    }
}
