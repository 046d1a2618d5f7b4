//! WorkSpaces: every call Steward makes to the service, for every caller (the power sweeps
//! and partner events, onboarding, lifecycle commands and queries, golden image, offboarding),
//! through one [`WorkspacesGateway`] over the tenant's client.
//!
//! One file per resource, each adding one `impl WorkspacesGateway` block: [`power`] (start,
//! stop, reboot), [`desktops`] (describe, create, rebuild, restore, migrate, modify,
//! terminate, connection status, snapshots), [`images`], [`bundles`], [`directories`],
//! [`account`] (BYOL) and [`tags`]. What they share lives here, once: the mapping of an SDK
//! failure to an [`AwsError`], the reading of a batch call's `FailedRequests` into one
//! [`ItemOutcome`] per id, the reading of the service's times and status strings.
//!
//! Every answer is a typed view of domain types (ids parsed, statuses as enums), never the
//! SDK's shapes and never partner-facing JSON: how a partner sees a bundle or an image is
//! the query function's business (`functions/src/query/`). A listed item whose own id
//! Steward cannot parse is left out of the listing; a status value this version does not
//! know is kept verbatim (`Other`), so nothing the service said is lost on its way out.

pub mod account;
pub mod bundles;
pub mod desktops;
pub mod directories;
pub mod images;
pub mod power;
pub mod tags;

pub use account::{Account, AccountModification, ModificationState, TenancySupport};
pub use bundles::{Bundle, BundleOwner, BundleSpec, BundleState};
pub use desktops::{
    ConnectionState, ConnectionStatus, CreateWorkspacesSpec, Created, Described, DesktopEncryption,
    ListedDesktop, NewWorkspace, Observed, PropertyChanges, Snapshots, Unreadable,
};
pub use directories::{Directory, DirectoryState, DirectoryType, RegisterSpec, Tenancy};
pub use images::{CopyImageSpec, CreateImageSpec, Image, ImageState, ImageTenancy, ImportSpec};
pub use tags::Tag;

use aws_sdk_workspaces::Client;
use aws_sdk_workspaces::types::FailedWorkspaceChangeRequest;

use super::ItemOutcome;
use crate::aws::{AwsError, AwsErrorKind};
use crate::ids::WorkspaceId;
use crate::model::Timestamp;

/// Items per WorkSpaces batch call (DescribeWorkspaces ids, Start, Stop, Reboot, Terminate,
/// CreateWorkspaces, DescribeWorkspaceImages ids).
pub const BATCH: usize = 25;

const SERVICE: &str = "WorkSpaces";

/// The WorkSpaces calls, over one tenant's client (one account, one Region).
pub struct WorkspacesGateway<'a> {
    client: &'a Client,
}

impl<'a> WorkspacesGateway<'a> {
    pub fn new(client: &'a Client) -> Self {
        Self { client }
    }
}

/// The failure of the WorkSpaces call `op`, classified once for every call.
fn call_failed<E, R>(
    op: &'static str,
) -> impl FnOnce(aws_sdk_workspaces::error::SdkError<E, R>) -> AwsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |e| AwsError::from_sdk(SERVICE, op, e)
}

/// A request shape the SDK refused to build (a required member missing): a bug in Steward,
/// reported as an invalid request rather than a panic.
fn unbuildable(op: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> AwsError {
    AwsError::local(SERVICE, op, AwsErrorKind::InvalidRequest, e.to_string(), e)
}

/// An answer the service gave in a shape Steward cannot use (an id that does not parse).
fn odd_answer(op: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> AwsError {
    AwsError::local(SERVICE, op, AwsErrorKind::Other, e.to_string(), e)
}

/// Matches a batch call's FailedRequests back to the ids asked for: every id not failed was
/// accepted (the service lists no successes). One outcome per id, in order.
fn batch_outcomes(
    chunk: &[WorkspaceId],
    failed: &[FailedWorkspaceChangeRequest],
) -> Vec<(WorkspaceId, ItemOutcome)> {
    chunk
        .iter()
        .map(|id| {
            let outcome = failed
                .iter()
                .find(|f| f.workspace_id() == Some(id.as_str()))
                .map_or(ItemOutcome::Accepted, |f| ItemOutcome::Failed {
                    code: f.error_code().unwrap_or("Unknown").to_owned(),
                    message: f.error_message().unwrap_or_default().to_owned(),
                });
            (id.clone(), outcome)
        })
        .collect()
}

/// A time the service reported, in the domain's type (`None` past what it can hold).
fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<Timestamp> {
    t.and_then(|t| Timestamp::from_timestamp(t.secs(), t.subsec_nanos()))
}

use super::service_status;

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<WorkspaceId> {
        (0..n)
            .map(|i| WorkspaceId::parse(format!("ws-{i:08x}")).unwrap())
            .collect()
    }

    #[test]
    fn failures_map_back_to_their_ids_in_order() {
        let chunk = ids(3);
        let failed = [FailedWorkspaceChangeRequest::builder()
            .workspace_id("ws-00000001")
            .error_code("InvalidResourceState")
            .error_message("The WorkSpace is not in a valid state")
            .build()];
        let got = batch_outcomes(&chunk, &failed);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].1, ItemOutcome::Accepted);
        assert!(
            matches!(&got[1].1, ItemOutcome::Failed { code, .. } if code == "InvalidResourceState")
        );
        assert_eq!(got[2].1, ItemOutcome::Accepted);
    }

    #[test]
    fn statuses_keep_values_this_version_does_not_know() {
        assert_eq!(ImageState::from_wire("AVAILABLE"), ImageState::Available);
        let odd = ImageState::from_wire("HIBERNATING");
        assert_eq!(odd, ImageState::Other("HIBERNATING".into()));
        assert_eq!(odd.as_str(), "HIBERNATING");
        assert_eq!(
            serde_json::to_value([ImageState::Error, odd]).unwrap(),
            serde_json::json!(["ERROR", "HIBERNATING"])
        );
    }

    #[test]
    fn service_times_keep_their_fraction() {
        let t = aws_smithy_types::DateTime::from_secs_and_nanos(1_795_000_000, 895_999_000);
        let got = time(Some(&t)).unwrap();
        assert_eq!(got.timestamp(), 1_795_000_000);
        assert_eq!(got.timestamp_subsec_nanos(), 895_999_000);
        assert_eq!(time(None), None);
    }
}
