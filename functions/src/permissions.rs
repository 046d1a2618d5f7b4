//! What each handler calls, as IAM actions: the one table the template's roles and the
//! customer role are checked against (`tests/permissions.rs`). Add a route's entry when
//! the route starts calling something new; the test fails for a route without one.
//!
//! The table is data (`ROWS`), one row per route or group of routes alike: its
//! customer-account actions, and how it uses Steward's own table and bus, from which the
//! partner-side actions follow (PutEvents for a route that publishes, AssumeRole for one
//! that reaches a customer account), so a row cannot forget them.

/// Table reads and writes every handler that records state makes.
const STORE: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
];
const PUBLISH: &str = "events:PutEvents";
const ASSUME: &str = "sts:AssumeRole";
/// An access-key tenant's key pair, read from Secrets Manager in the partner account.
const READ_SECRET: &str = "secretsmanager:GetSecretValue";

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

/// How a route uses Steward's table.
#[derive(Clone, Copy)]
enum Table {
    /// Not at all.
    Unused,
    /// Reads only (GetItem, Query).
    Reads,
    /// Reads and writes ([`STORE`]).
    Records,
    /// Reads and writes, and deletes records (of desktops the service no longer returns).
    RecordsAndDeletes,
}

impl Table {
    fn actions(self) -> Vec<&'static str> {
        match self {
            Table::Unused => Vec::new(),
            Table::Reads => vec!["dynamodb:GetItem", "dynamodb:Query"],
            Table::Records => STORE.to_vec(),
            Table::RecordsAndDeletes => [STORE, &["dynamodb:DeleteItem"]].concat(),
        }
    }
}

/// How a route reaches the customer account.
#[derive(Clone, Copy)]
enum Customer {
    /// Not at all: no role assumed.
    Untouched,
    /// It assumes the customer role and calls these actions there (none: assuming the role
    /// is the whole check).
    Calls(&'static [&'static str]),
}

/// One row of the table: routes and what they need.
struct Row {
    routes: &'static [&'static str],
    table: Table,
    /// Whether the route publishes outbound events (PutEvents).
    publishes: bool,
    customer: Customer,
}

impl Row {
    /// The common case: records, publishes, and calls `actions` in the customer account.
    const fn calls(routes: &'static [&'static str], actions: &'static [&'static str]) -> Self {
        Row {
            routes,
            table: Table::Records,
            publishes: true,
            customer: Customer::Calls(actions),
        }
    }

    /// Records and publishes, and never reaches a customer account.
    const fn partner_only(routes: &'static [&'static str]) -> Self {
        Row {
            routes,
            table: Table::Records,
            publishes: true,
            customer: Customer::Untouched,
        }
    }

    fn needs(&self) -> Needs {
        let mut partner = self.table.actions();
        if self.publishes {
            partner.push(PUBLISH);
        }
        let customer = match self.customer {
            Customer::Untouched => Vec::new(),
            Customer::Calls(actions) => {
                partner.push(ASSUME);
                partner.push(READ_SECRET);
                actions.to_vec()
            }
        };
        Needs { partner, customer }
    }
}

/// The table: route names → what they need. Partner-side actions follow from how a row
/// uses the table, whether it publishes, and whether it reaches a customer account.
const ROWS: &[Row] = &[
    // GetCallerIdentity needs no permission; the rest is the pre-flight's reads.
    Row::calls(
        &["onboarding.validate_access"],
        &[
            "iam:GetRole",
            "servicequotas:GetServiceQuota",
            "workspaces:DescribeWorkspaces",
            "ec2:DescribeSubnets",
        ],
    ),
    Row::calls(
        &["onboarding.check_byol"],
        &[
            "workspaces:DescribeAccount",
            "workspaces:DescribeAccountModifications",
        ],
    ),
    Row::calls(
        &["onboarding.offer_cidr_ranges"],
        &["workspaces:ListAvailableManagementCidrRanges"],
    ),
    Row::calls(
        &["onboarding.configure_byol"],
        &[
            "workspaces:DescribeAccount",
            "workspaces:DescribeAccountModifications",
            "workspaces:ListAvailableManagementCidrRanges",
            "workspaces:ModifyAccount",
        ],
    ),
    Row::calls(&["onboarding.offer_images"], &["ec2:DescribeImages"]),
    Row::calls(
        &["onboarding.import_image"],
        &[
            "workspaces:DescribeWorkspaceImages",
            "workspaces:ImportWorkspaceImage",
            "workspaces:DeleteWorkspaceImage",
        ],
    ),
    Row::calls(
        &["onboarding.offer_directories"],
        &[
            "ds:DescribeDirectories",
            "workspaces:DescribeWorkspaceDirectories",
            "ec2:DescribeSubnets",
        ],
    ),
    Row::calls(
        &["onboarding.register_directory"],
        &[
            "workspaces:DescribeWorkspaceDirectories",
            "workspaces:DescribeTags",
            "workspaces:RegisterWorkspaceDirectory",
        ],
    ),
    Row::calls(
        &["onboarding.configure_creation_properties"],
        &[
            "workspaces:DescribeWorkspaceDirectories",
            "workspaces:ModifyWorkspaceCreationProperties",
        ],
    ),
    Row::calls(
        &["onboarding.create_bundle"],
        &[
            "workspaces:DescribeWorkspaceBundles",
            "workspaces:CreateWorkspaceBundle",
        ],
    ),
    Row::calls(
        &["onboarding.create_workspaces"],
        &[
            "workspaces:DescribeWorkspaces",
            "workspaces:DescribeTags",
            "workspaces:CreateWorkspaces",
        ],
    ),
    Row::partner_only(&[
        "onboarding.complete",
        "onboarding.pause",
        "onboarding.record_failure",
    ]),
    // Requests describe the desktop first; a changed maintenance opt-out is applied to the
    // tenant's tagged directories.
    // Pools (`crate::pools`): a pool's bundle and directory are checked, desktops are created,
    // started for an assignment, rebuilt or restored by a release plan and terminated
    // (their records deleted) when the pool shrinks or is deleted.
    Row {
        routes: &["power.partner_events"],
        table: Table::RecordsAndDeletes,
        publishes: true,
        customer: Customer::Calls(&[
            "workspaces:DescribeWorkspaces",
            "workspaces:StartWorkspaces",
            "workspaces:StopWorkspaces",
            "workspaces:DescribeWorkspaceDirectories",
            "workspaces:DescribeTags",
            "workspaces:ModifyWorkspaceCreationProperties",
            "workspaces:DescribeWorkspaceBundles",
            "workspaces:CreateWorkspaces",
            "workspaces:RebuildWorkspaces",
            "workspaces:RestoreWorkspace",
            "workspaces:TerminateWorkspaces",
        ]),
    },
    Row {
        routes: &["power.sweep_tenant"],
        table: Table::RecordsAndDeletes,
        publishes: true,
        // The idle sweep's pool upkeep creates, rebuilds, restores and terminates; its power
        // plans start desktops (pre-warm, warm capacity).
        customer: Customer::Calls(&[
            "workspaces:DescribeWorkspaces",
            "workspaces:StartWorkspaces",
            "workspaces:StopWorkspaces",
            "workspaces:CreateWorkspaces",
            "workspaces:RebuildWorkspaces",
            "workspaces:RestoreWorkspace",
            "workspaces:TerminateWorkspaces",
        ]),
    },
    Row {
        routes: &["power.list_tenants", "power.usage"],
        table: Table::Reads,
        publishes: false,
        customer: Customer::Untouched,
    },
    // Writes its metric as an EMF log line: no AWS call.
    Row {
        routes: &["power.sweep_report"],
        table: Table::Unused,
        publishes: false,
        customer: Customer::Untouched,
    },
    Row::calls(&["lifecycle.commands"], LIFECYCLE_COMMANDS),
    // Read-only: the table and the customer account's Describe calls.
    Row {
        routes: &["query"],
        table: Table::Reads,
        publishes: false,
        customer: Customer::Calls(&[
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
        ]),
    },
    Row::partner_only(&["lifecycle.offboard_start", "lifecycle.offboard_complete"]),
    Row {
        routes: &["lifecycle.offboard_terminate"],
        table: Table::RecordsAndDeletes,
        publishes: true,
        customer: Customer::Calls(&[
            "workspaces:DescribeWorkspaces",
            "workspaces:TerminateWorkspaces",
        ]),
    },
    Row::calls(
        &["lifecycle.offboard_delete"],
        &[
            "workspaces:DescribeWorkspaceBundles",
            "workspaces:DescribeWorkspaceImages",
            "workspaces:DescribeWorkspaceImagePermissions",
            "workspaces:DescribeTags",
            "workspaces:UpdateWorkspaceImagePermission",
            "workspaces:DeleteWorkspaceBundle",
            "workspaces:DeleteWorkspaceImage",
        ],
    ),
    Row::calls(
        &["lifecycle.offboard_directories"],
        &[
            "workspaces:DescribeWorkspaceDirectories",
            "workspaces:DescribeTags",
            "workspaces:DeregisterWorkspaceDirectory",
        ],
    ),
    Row::calls(
        &["lifecycle.golden_create_image"],
        &[
            "workspaces:DescribeTags",
            "workspaces:DescribeWorkspaceImages",
            "workspaces:DescribeWorkspaces",
            "workspaces:CreateWorkspaceImage",
        ],
    ),
    Row::calls(
        &["lifecycle.golden_image_status"],
        &["workspaces:DescribeWorkspaceImages"],
    ),
    Row::calls(
        &["lifecycle.golden_update_bundle"],
        &[
            "workspaces:DescribeWorkspaceBundles",
            "workspaces:UpdateWorkspaceBundle",
            "workspaces:CreateWorkspaceBundle",
            "workspaces:DescribeWorkspaceImages",
            "workspaces:DescribeTags",
            "workspaces:CopyWorkspaceImage",
        ],
    ),
    Row::calls(
        &["lifecycle.golden_rollout_wave"],
        &[
            "workspaces:RebuildWorkspaces",
            "workspaces:MigrateWorkspace",
        ],
    ),
];

/// What `route` needs, from `ROWS`; `None` for a route the table does not know.
pub fn needs_of(route: &str) -> Option<Needs> {
    ROWS.iter()
        .find(|row| row.routes.contains(&route))
        .map(Row::needs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_an_entry() {
        for r in crate::routes::routes() {
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
        // Access-key tenants: the same routes read the key pair's secret instead.
        assert!(c.partner.contains(&"secretsmanager:GetSecretValue"));
        assert!(!p.partner.contains(&"secretsmanager:GetSecretValue"));
    }
}
