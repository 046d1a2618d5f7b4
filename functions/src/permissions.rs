//! What each handler calls, as IAM actions: the one table the template's roles and the
//! customer role are checked against (`tests/permissions.rs`). Add a route's entry when
//! the route starts calling something new; the test fails for a route without one.

/// Table reads and writes every handler that records state makes.
const STORE: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
];
const PUBLISH: &str = "events:PutEvents";
const ASSUME: &str = "sts:AssumeRole";

/// What `lifecycle.commands` calls in a customer account.
const LIFECYCLE_COMMANDS: &[&str] = &[
    "workspaces:DescribeWorkspaces",
    "workspaces:DescribeTags",
    "workspaces:RebootWorkspaces",
    "workspaces:RebuildWorkspaces",
    "workspaces:RestoreWorkspace",
    "workspaces:MigrateWorkspace",
    "workspaces:ModifyWorkspaceProperties",
    "workspaces:ModifyWorkspaceState",
    "workspaces:TerminateWorkspaces",
    "workspaces:CreateWorkspaces",
    "workspaces:CreateWorkspaceImage",
    "workspaces:CopyWorkspaceImage",
    "workspaces:DeleteWorkspaceImage",
    "workspaces:UpdateWorkspaceImagePermission",
    "workspaces:UpdateWorkspaceBundle",
    "workspaces:DeleteWorkspaceBundle",
    "workspaces:DeregisterWorkspaceDirectory",
    "workspaces:ModifyWorkspaceCreationProperties",
    "workspaces:CreateTags",
    "workspaces:DeleteTags",
];

/// The IAM actions one route needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    /// In the partner account, on the function's own role.
    pub partner: Vec<&'static str>,
    /// In the customer account, on the role from `customer-role.yaml`.
    pub customer: Vec<&'static str>,
}

fn needs(customer: &[&'static str]) -> Needs {
    let mut partner: Vec<&'static str> = STORE.to_vec();
    partner.push(PUBLISH);
    if !customer.is_empty() {
        partner.push(ASSUME);
    }
    Needs {
        partner,
        customer: customer.to_vec(),
    }
}

/// The table: route name → the customer-account actions it calls (partner-side actions
/// follow from them). `None` for a route the table does not know.
pub fn needs_of(route: &str) -> Option<Needs> {
    let customer: &[&'static str] = match route {
        // GetCallerIdentity needs no permission; assuming the role is the check.
        "onboarding.validate_access" => {
            return Some(Needs {
                partner: [STORE, &[PUBLISH, ASSUME]].concat(),
                customer: Vec::new(),
            });
        }
        "onboarding.check_byol" => &[
            "workspaces:DescribeAccount",
            "workspaces:DescribeAccountModifications",
        ],
        "onboarding.offer_cidr_ranges" => &["workspaces:ListAvailableManagementCidrRanges"],
        "onboarding.configure_byol" => &[
            "workspaces:DescribeAccount",
            "workspaces:DescribeAccountModifications",
            "workspaces:ListAvailableManagementCidrRanges",
            "workspaces:ModifyAccount",
        ],
        "onboarding.offer_images" => &["ec2:DescribeImages"],
        "onboarding.import_image" => &[
            "workspaces:DescribeWorkspaceImages",
            "workspaces:ImportWorkspaceImage",
            "workspaces:DeleteWorkspaceImage",
        ],
        "onboarding.offer_directories" => &["workspaces:DescribeWorkspaceDirectories"],
        "onboarding.register_directory" => &[
            "workspaces:DescribeWorkspaceDirectories",
            "workspaces:DescribeTags",
            "workspaces:RegisterWorkspaceDirectory",
        ],
        "onboarding.configure_creation_properties" => &[
            "workspaces:DescribeWorkspaceDirectories",
            "workspaces:ModifyWorkspaceCreationProperties",
        ],
        "onboarding.create_bundle" => &[
            "workspaces:DescribeWorkspaceBundles",
            "workspaces:CreateWorkspaceBundle",
        ],
        "onboarding.create_workspaces" => &[
            "workspaces:DescribeWorkspaces",
            "workspaces:DescribeTags",
            "workspaces:CreateWorkspaces",
        ],
        "onboarding.complete" | "onboarding.pause" | "onboarding.record_failure" => {
            return Some(Needs {
                partner: [STORE, &[PUBLISH]].concat(),
                customer: Vec::new(),
            });
        }
        "power.partner_events" => {
            return Some(Needs {
                partner: [STORE, &[PUBLISH, ASSUME]].concat(),
                // Requests describe the desktop first; a changed maintenance opt-out is applied
                // to the tenant's tagged directories.
                customer: vec![
                    "workspaces:DescribeWorkspaces",
                    "workspaces:StartWorkspaces",
                    "workspaces:StopWorkspaces",
                    "workspaces:DescribeWorkspaceDirectories",
                    "workspaces:DescribeTags",
                    "workspaces:ModifyWorkspaceCreationProperties",
                ],
            });
        }
        "power.sweep_tenant" => {
            return Some(Needs {
                partner: [STORE, &["dynamodb:DeleteItem", PUBLISH, ASSUME]].concat(),
                customer: vec!["workspaces:DescribeWorkspaces", "workspaces:StopWorkspaces"],
            });
        }
        "power.list_tenants" | "power.usage" => {
            return Some(Needs {
                partner: vec!["dynamodb:GetItem", "dynamodb:Query"],
                customer: Vec::new(),
            });
        }
        // Writes its metric as an EMF log line: no AWS call.
        "power.sweep_report" => {
            return Some(Needs {
                partner: Vec::new(),
                customer: Vec::new(),
            });
        }
        "lifecycle.commands" => {
            return Some(Needs {
                partner: [STORE, &[PUBLISH, ASSUME]].concat(),
                customer: LIFECYCLE_COMMANDS.to_vec(),
            });
        }
        // Read-only: the table and the customer account's Describe calls.
        "query" => {
            return Some(Needs {
                partner: vec!["dynamodb:GetItem", "dynamodb:Query", ASSUME],
                customer: vec![
                    "workspaces:DescribeWorkspaces",
                    "workspaces:DescribeWorkspacesConnectionStatus",
                    "workspaces:DescribeWorkspaceBundles",
                    "workspaces:DescribeWorkspaceImages",
                    "workspaces:DescribeWorkspaceImagePermissions",
                    "workspaces:DescribeWorkspaceSnapshots",
                    "workspaces:DescribeWorkspaceDirectories",
                    "workspaces:DescribeTags",
                    "workspaces:DescribeAccount",
                    "workspaces:DescribeAccountModifications",
                ],
            });
        }
        "lifecycle.offboard_start" | "lifecycle.offboard_complete" => {
            return Some(Needs {
                partner: [STORE, &[PUBLISH]].concat(),
                customer: Vec::new(),
            });
        }
        "lifecycle.offboard_terminate" => {
            return Some(Needs {
                partner: [STORE, &["dynamodb:DeleteItem", PUBLISH, ASSUME]].concat(),
                customer: vec![
                    "workspaces:DescribeWorkspaces",
                    "workspaces:TerminateWorkspaces",
                ],
            });
        }
        "lifecycle.offboard_delete" => &[
            "workspaces:DescribeWorkspaceBundles",
            "workspaces:DescribeWorkspaceImages",
            "workspaces:DescribeWorkspaceImagePermissions",
            "workspaces:DescribeTags",
            "workspaces:UpdateWorkspaceImagePermission",
            "workspaces:DeleteWorkspaceBundle",
            "workspaces:DeleteWorkspaceImage",
        ],
        "lifecycle.offboard_directories" => &[
            "workspaces:DescribeWorkspaceDirectories",
            "workspaces:DescribeTags",
            "workspaces:DeregisterWorkspaceDirectory",
        ],
        "lifecycle.golden_create_image" => &[
            "workspaces:DescribeTags",
            "workspaces:DescribeWorkspaceImages",
            "workspaces:DescribeWorkspaces",
            "workspaces:CreateWorkspaceImage",
        ],
        "lifecycle.golden_image_status" => &["workspaces:DescribeWorkspaceImages"],
        "lifecycle.golden_update_bundle" => &[
            "workspaces:DescribeWorkspaceBundles",
            "workspaces:UpdateWorkspaceBundle",
            "workspaces:CreateWorkspaceBundle",
        ],
        "lifecycle.golden_rollout_wave" => &[
            "workspaces:RebuildWorkspaces",
            "workspaces:MigrateWorkspace",
        ],
        _ => return None,
    };
    Some(needs(customer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_an_entry() {
        for r in crate::routes() {
            assert!(
                needs_of(r.name).is_some(),
                "{} has no permissions entry",
                r.name
            );
        }
        assert!(needs_of("no.such").is_none());
    }

    #[test]
    fn only_routes_that_reach_customers_may_assume_roles() {
        let p = needs_of("onboarding.pause").unwrap();
        assert!(!p.partner.contains(&"sts:AssumeRole"));
        let c = needs_of("onboarding.create_workspaces").unwrap();
        assert!(c.partner.contains(&"sts:AssumeRole"));
    }
}
