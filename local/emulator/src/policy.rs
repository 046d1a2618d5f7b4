//! The partner guide's tag-based customer policy, enforced for callers using
//! a customer role that carries a partner tag:
//! * creation calls must carry `key=value` in the request, with no tag key
//!   outside the role's allowed keys (`aws:RequestTag` + `aws:TagKeys`);
//! * modify / power / terminate calls only on resources carrying the tag
//!   (`aws:ResourceTag`); a resource that does not exist has no tags, so the
//!   condition fails as IAM's would;
//! * CreateTags / DeleteTags are denied outright unless the role was created with the
//!   template's `AllowTagManagement` (the guide: "You should not have permission to modify or
//!   delete tags on a resource"); with it, they may never name the partner tag key, and only
//!   touch resources carrying the tag.

use super::error::{ApiError, ApiResult};
use super::model::{Tags, has_tag};

/// Creation calls: allowed only with `key=value` in the request and no other tag key
/// (`aws:RequestTag/<key>` + `ForAllValues:StringEquals aws:TagKeys`).
pub const REQUEST_TAG_ACTIONS: &[&str] = &[
    "CreateWorkspaces",
    "CreateWorkspaceBundle",
    "CreateWorkspaceImage",
    "CopyWorkspaceImage",
    "ImportWorkspaceImage",
    "RegisterWorkspaceDirectory",
];

/// Modify / power / terminate calls: allowed only on resources carrying the tag
/// (`aws:ResourceTag/<key>`). CreateWorkspaceImage is in both lists: its source
/// WorkSpace must carry the tag and the new image must be created with it.
pub const RESOURCE_TAG_ACTIONS: &[&str] = &[
    "RebootWorkspaces",
    "RebuildWorkspaces",
    "RestoreWorkspace",
    "StartWorkspaces",
    "StopWorkspaces",
    "TerminateWorkspaces",
    "ModifyWorkspaceProperties",
    "ModifyWorkspaceState",
    "DescribeWorkspaceSnapshots",
    "MigrateWorkspace",
    "CreateWorkspaceImage",
    "UpdateWorkspaceBundle",
    "DeleteWorkspaceBundle",
    "DeleteWorkspaceImage",
    "DescribeWorkspaceImagePermissions",
    "UpdateWorkspaceImagePermission",
    "DeregisterWorkspaceDirectory",
    "ModifyWorkspaceCreationProperties",
];

/// Tag edits: only on resources carrying the tag, never naming the partner key.
pub const TAG_EDIT_ACTIONS: &[&str] = &["CreateTags", "DeleteTags"];

/// Calls with no resource type, which a tag cannot limit (the reference's §8):
/// the emulator does not restrict them; the customer role must still grant them.
pub const UNRESTRICTED_ACTIONS: &[&str] = &[
    "DescribeWorkspaces",
    "DescribeWorkspaceBundles",
    "DescribeWorkspaceDirectories",
    "DescribeWorkspaceImages",
    "DescribeTags",
    "DescribeWorkspacesConnectionStatus",
    "DescribeAccount",
    "DescribeAccountModifications",
    "ModifyAccount",
    "ListAvailableManagementCidrRanges",
];

/// The lists above are the policy: an operation checked under a kind of condition
/// its list does not name is a bug in the emulator, caught by any test reaching it.
fn listed(list: &[&str], op: &str, kind: &str) {
    debug_assert!(
        list.contains(&op),
        "emulator tag policy: {op} is checked as {kind} but is not in that list (policy.rs)"
    );
}

#[derive(Debug, Clone, PartialEq)]
pub struct TagPolicy {
    pub key: String,
    pub value: String,
    pub allowed_request_keys: Vec<String>,
    pub caller_arn: String,
    pub account: String,
    pub region: String,
    /// The role's `AllowTagManagement`: without it, no tag edit is allowed.
    pub allow_tag_management: bool,
}

impl TagPolicy {
    fn deny(&self, op: &str, resource: &str, why: &str) -> ApiError {
        ApiError::access_denied(format!(
            "User: {} is not authorized to perform: workspaces:{op} on resource: {resource} because {why}",
            self.caller_arn
        ))
    }

    pub fn arn(&self, kind: &str, id: &str) -> String {
        format!(
            "arn:aws:workspaces:{}:{}:{kind}/{id}",
            self.region, self.account
        )
    }

    /// `aws:RequestTag/<key> = <value>` and `ForAllValues:StringEquals aws:TagKeys`.
    pub fn check_request_tags(&self, op: &str, kind: &str, tags: &Tags) -> ApiResult<()> {
        listed(REQUEST_TAG_ACTIONS, op, "aws:RequestTag");
        let resource = self.arn(kind, "*");
        if !has_tag(tags, &self.key, &self.value) {
            return Err(self.deny(
                op,
                &resource,
                &format!(
                    "the request does not carry the tag {}={}",
                    self.key, self.value
                ),
            ));
        }
        if let Some((k, _)) = tags
            .iter()
            .find(|(k, _)| !self.allowed_request_keys.iter().any(|a| a == k))
        {
            return Err(self.deny(op, &resource, &format!("the tag key {k} is not allowed")));
        }
        Ok(())
    }

    /// `aws:ResourceTag/<key> = <value>`; `tags` is `None` for a missing resource.
    pub fn check_resource(
        &self,
        op: &str,
        kind: &str,
        id: &str,
        tags: Option<&Tags>,
    ) -> ApiResult<()> {
        listed(RESOURCE_TAG_ACTIONS, op, "aws:ResourceTag");
        self.tagged(op, kind, id, tags)
    }

    fn tagged(&self, op: &str, kind: &str, id: &str, tags: Option<&Tags>) -> ApiResult<()> {
        match tags {
            Some(t) if has_tag(t, &self.key, &self.value) => Ok(()),
            _ => Err(self.deny(
                op,
                &self.arn(kind, id),
                &format!(
                    "the resource does not carry the tag {}={}",
                    self.key, self.value
                ),
            )),
        }
    }

    pub fn check_tag_edit(
        &self,
        op: &str,
        kind: &str,
        id: &str,
        keys: &[&str],
        tags: Option<&Tags>,
    ) -> ApiResult<()> {
        listed(TAG_EDIT_ACTIONS, op, "a tag edit");
        if !self.allow_tag_management {
            return Err(self.deny(
                op,
                &self.arn(kind, id),
                "the role does not allow tag management (AllowTagManagement is false)",
            ));
        }
        if keys.iter().any(|k| *k == self.key) {
            return Err(self.deny(
                op,
                &self.arn(kind, id),
                &format!("the partner tag key {} may not be changed", self.key),
            ));
        }
        self.tagged(op, kind, id, tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> TagPolicy {
        TagPolicy {
            key: "PartnerManaged".into(),
            value: "true".into(),
            allowed_request_keys: vec!["PartnerManaged".into()],
            caller_arn: "arn:aws:sts::123456789012:assumed-role/R/s".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            allow_tag_management: true,
        }
    }

    #[test]
    fn request_tags_need_the_partner_tag_and_nothing_else() {
        let ok = vec![("PartnerManaged".to_string(), "true".to_string())];
        assert!(
            p().check_request_tags("CreateWorkspaces", "workspace", &ok)
                .is_ok()
        );
        assert!(
            p().check_request_tags("CreateWorkspaces", "workspace", &vec![])
                .is_err()
        );
        let extra = vec![ok[0].clone(), ("Team".into(), "x".into())];
        assert!(
            p().check_request_tags("CreateWorkspaces", "workspace", &extra)
                .is_err()
        );
        let wrong = vec![("PartnerManaged".to_string(), "false".to_string())];
        assert!(
            p().check_request_tags("CreateWorkspaces", "workspace", &wrong)
                .is_err()
        );
    }

    #[test]
    fn resources_and_tag_edits() {
        let tagged = vec![("PartnerManaged".to_string(), "true".to_string())];
        assert!(
            p().check_resource("StopWorkspaces", "workspace", "ws-1", Some(&tagged))
                .is_ok()
        );
        let e = p()
            .check_resource("StopWorkspaces", "workspace", "ws-1", Some(&vec![]))
            .unwrap_err();
        assert_eq!(e.code, "AccessDeniedException");
        assert!(
            p().check_resource("StopWorkspaces", "workspace", "ws-1", None)
                .is_err()
        );
        assert!(
            p().check_tag_edit("CreateTags", "workspace", "ws-1", &["Team"], Some(&tagged))
                .is_ok()
        );
        assert!(
            p().check_tag_edit(
                "DeleteTags",
                "workspace",
                "ws-1",
                &["PartnerManaged"],
                Some(&tagged)
            )
            .is_err()
        );
        let closed = TagPolicy {
            allow_tag_management: false,
            ..p()
        };
        let e = closed
            .check_tag_edit("CreateTags", "workspace", "ws-1", &["Team"], Some(&tagged))
            .unwrap_err();
        assert_eq!(
            e.message,
            "User: arn:aws:sts::123456789012:assumed-role/R/s is not authorized to perform: workspaces:CreateTags on resource: arn:aws:workspaces:us-east-1:123456789012:workspace/ws-1 because the role does not allow tag management (AllowTagManagement is false)"
        );
    }
}
