//! What the steps hand each other through the execution's state, and the inputs of the
//! handlers that are not steps.
//!
//! Every step receives a [`StepInput`]: the normalised request, the customer's `answers` so
//! far and the `results` earlier steps returned (the state machine keeps each at
//! `$.results.<step>`). The outcome fields the state machine's Choice states match on —
//! [`ByolRoute`], [`ByolProgress`], [`ImageStatus`], [`DirectoryStatus`], [`DesktopsStatus`] —
//! are enums here, serialised as the exact strings `statemachines/onboarding.asl.yaml`
//! compares with. A customer pause receives a [`PauseInput`], the failure recorder a
//! [`FailureInput`].

use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_shared::Error;
use steward_shared::error::names;
use steward_shared::gateway::workspaces::{ImageState, Tenancy};
use steward_shared::ids::{BundleId, DirectoryId, Ec2ImageId, ImageId, TenantId};

use super::execution::{DEFAULT_CUSTOMER_INPUT_TIMEOUT_SECONDS, OnboardingRequest};

/// The customer's answers, as the partner's backend sent them with SendTaskSuccess.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answers {
    #[serde(default)]
    pub management_cidr: Option<Value>,
    #[serde(default)]
    pub byol_confirmation: Option<Value>,
    #[serde(default)]
    pub image: Option<Value>,
    #[serde(default)]
    pub directory: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CidrAnswer {
    management_cidr: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConfirmAnswer {
    confirm: bool,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ImageAnswer {
    ec2_image_id: Ec2ImageId,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DirectoryAnswer {
    directory_id: DirectoryId,
}

fn answer<T: serde::de::DeserializeOwned>(what: &str, v: &Value) -> Result<T, Error> {
    serde_json::from_value(v.clone()).map_err(|e| {
        Error::refused(
            names::INVALID_SELECTION,
            format!(
                "the customer's {what} answer is not usable: {}",
                steward_shared::redact::serde_message(&e.to_string())
            ),
        )
    })
}

impl Answers {
    pub fn management_cidr(&self) -> Result<Option<String>, Error> {
        self.management_cidr
            .as_ref()
            .map(|v| answer::<CidrAnswer>("management CIDR", v).map(|a| a.management_cidr))
            .transpose()
    }
    pub fn byol_confirmed(&self) -> Result<Option<bool>, Error> {
        self.byol_confirmation
            .as_ref()
            .map(|v| answer::<ConfirmAnswer>("BYOL confirmation", v).map(|a| a.confirm))
            .transpose()
    }
    pub fn ec2_image_id(&self) -> Result<Option<Ec2ImageId>, Error> {
        self.image
            .as_ref()
            .map(|v| answer::<ImageAnswer>("image", v).map(|a| a.ec2_image_id))
            .transpose()
    }
    pub fn directory_id(&self) -> Result<Option<DirectoryId>, Error> {
        self.directory
            .as_ref()
            .map(|v| answer::<DirectoryAnswer>("directory", v).map(|a| a.directory_id))
            .transpose()
    }
}

/// What earlier steps of this execution produced (`$.results`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Results {
    #[serde(default)]
    pub offer_cidr_ranges: Option<Offer>,
    #[serde(default)]
    pub offer_images: Option<Offer>,
    #[serde(default)]
    pub import_image: Option<ImportResult>,
    #[serde(default)]
    pub offer_directories: Option<Offer>,
    #[serde(default)]
    pub register_directory: Option<DirectoryResult>,
    #[serde(default)]
    pub create_bundle: Option<BundleResult>,
    #[serde(default)]
    pub create_workspaces: Option<WorkspacesResult>,
}

/// What an offer step returns: the options (also kept on its step record) and, when the
/// choice is already made (in the input, or by an earlier execution), the selection.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub options: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<String>,
    /// More options exist than were kept.
    #[serde(default)]
    pub truncated: bool,
}

/// Where the state machine goes after the BYOL check (`$.results.checkByol.route`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ByolRoute {
    /// BYOL was not requested: the BYOL and image steps are skipped.
    Skip,
    /// BYOL is already enabled on the account.
    Configured,
    /// A modification enabling it is under way: follow it.
    Pending,
    /// Offer the customer the free management ranges.
    Offer,
}

/// How far enabling BYOL got (`$.results.configureByol.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ByolProgress {
    Done,
    Pending,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportResult {
    pub image_id: ImageId,
    pub ec2_image_id: Ec2ImageId,
    /// The image's state as the service reports it, `PENDING` until the import was accepted
    /// (`$.results.importImage.status`).
    pub status: ImageState,
}

/// How far the directory's registration got (`$.results.registerDirectory.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DirectoryStatus {
    Registering,
    Registered,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryResult {
    pub directory_id: DirectoryId,
    pub tenancy: Tenancy,
    pub status: DirectoryStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleResult {
    pub bundle_id: BundleId,
    pub created: bool,
}

/// Whether every desktop is up (`$.results.createWorkspaces.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DesktopsStatus {
    Pending,
    Available,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspacesResult {
    pub status: DesktopsStatus,
    pub workspace_ids: Vec<String>,
    #[serde(default)]
    pub created: usize,
    /// How many desktops are in each state, by the service's name of the state.
    #[serde(default)]
    pub states: std::collections::BTreeMap<String, usize>,
    /// How many of them the service reports with encrypted root and user volumes.
    #[serde(default)]
    pub encrypted: usize,
}

/// The event every step handler receives.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepInput {
    /// The execution's name (audit records name it as the actor).
    #[serde(default)]
    pub execution: String,
    pub request: OnboardingRequest,
    #[serde(default)]
    pub results: Results,
    #[serde(default)]
    pub answers: Answers,
    /// Set on the polling invocations of a step with an asynchronous operation.
    #[serde(default)]
    pub poll: bool,
}

/// The event of a customer pause (`.waitForTaskToken`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PauseInput {
    #[serde(default)]
    pub execution: String,
    pub request: OnboardingRequest,
    /// Which selection is asked for.
    pub input: PauseKind,
    pub task_token: String,
    /// The options offered, when the pause has any (the confirmation has none).
    #[serde(default)]
    pub offer: Option<Offer>,
    /// The answers so far (the confirmation shows the range the customer picked).
    #[serde(default)]
    pub answers: Answers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PauseKind {
    ManagementCidr,
    ByolConfirmation,
    Image,
    Directory,
}

/// The event of the failure recorder (a Catch's `$.error` next to the request). The request
/// is read loosely: the failure may be that the execution input itself was unusable.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureInput {
    #[serde(default)]
    pub execution: String,
    #[serde(default)]
    pub request: Value,
    pub error: CaughtError,
}

impl FailureInput {
    /// The tenant the execution was for, if the input named a valid one.
    pub fn tenant_id(&self) -> Option<TenantId> {
        self.request
            .get("tenantId")
            .and_then(Value::as_str)
            .and_then(|t| TenantId::parse(t).ok())
    }

    pub fn customer_input_timeout_seconds(&self) -> u64 {
        self.request
            .get("customerInputTimeoutSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_CUSTOMER_INPUT_TIMEOUT_SECONDS)
    }
}

/// What Step Functions puts at a Catch's ResultPath.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CaughtError {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

/// The error name Step Functions gives a state (here: a customer pause) that ran out of time.
const STATES_TIMEOUT: &str = "States.Timeout";

impl CaughtError {
    /// A state ran out of time (for onboarding: the customer did not answer a pause).
    pub fn is_timeout(&self) -> bool {
        self.error == STATES_TIMEOUT
    }

    /// The message of the Cause: a Lambda error's Cause is a JSON document (`errorMessage`,
    /// `errorType`), other Causes are kept as they are.
    pub fn cause_message(&self) -> String {
        serde_json::from_str::<Value>(&self.cause)
            .ok()
            .and_then(|v| {
                v.get("errorMessage")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| self.cause.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_read_strictly() {
        let a: Answers = serde_json::from_value(json!({
            "managementCidr": {"managementCidr": "10.200.0.0/16"},
            "image": {"ec2ImageId": "not-an-ami"},
            "byolConfirmation": {"confirm": true, "extra": 1}
        }))
        .unwrap();
        assert_eq!(
            a.management_cidr().unwrap().as_deref(),
            Some("10.200.0.0/16")
        );
        assert_eq!(
            a.ec2_image_id().err().map(|e| e.name()),
            Some("Steward.InvalidSelection")
        );
        assert!(a.byol_confirmed().is_err());
        assert_eq!(a.directory_id().unwrap(), None);
    }

    /// The Choice states of `statemachines/onboarding.asl.yaml` compare with these strings.
    #[test]
    fn outcomes_serialise_as_the_state_machine_compares_them() {
        let names = |v: Vec<Value>| -> Vec<String> {
            v.into_iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(
            names(vec![
                json!(ByolRoute::Skip),
                json!(ByolRoute::Configured),
                json!(ByolRoute::Pending),
                json!(ByolRoute::Offer),
                json!(ByolProgress::Done),
                json!(ByolProgress::Pending),
                json!(ImageState::Available),
                json!(ImageState::Pending),
                json!(ImageState::Error),
                json!(DirectoryStatus::Registered),
                json!(DirectoryStatus::Registering),
                json!(DesktopsStatus::Available),
                json!(DesktopsStatus::Pending),
                json!(Tenancy::Dedicated),
                json!(Tenancy::Shared),
            ]),
            [
                "SKIP",
                "CONFIGURED",
                "PENDING",
                "OFFER",
                "DONE",
                "PENDING",
                "AVAILABLE",
                "PENDING",
                "ERROR",
                "REGISTERED",
                "REGISTERING",
                "AVAILABLE",
                "PENDING",
                "DEDICATED",
                "SHARED",
            ]
        );
        assert_eq!(Tenancy::Dedicated.to_string(), "DEDICATED");
    }

    #[test]
    fn an_image_state_steward_does_not_know_is_kept_as_reported() {
        assert_eq!(ImageState::from_wire("AVAILABLE"), ImageState::Available);
        let other = ImageState::from_wire("UPDATING");
        assert_eq!(json!(other), json!("UPDATING"));
        let back: ImageState = serde_json::from_value(json!("UPDATING")).unwrap();
        assert_eq!(back, other);
        let known: ImageState = serde_json::from_value(json!("ERROR")).unwrap();
        assert_eq!(known, ImageState::Error);
    }
}
