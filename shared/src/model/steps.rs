//! Onboarding step records: the guide's partner steps in order, and the outcome of each for
//! a tenant, kept so that a re-run resumes where it stopped and the partner UI can show it.

use serde::{Deserialize, Serialize};

use super::{ErrorRecord, Timestamp};
use crate::ids::TenantId;

/// The partner steps of the guide's "Infrastructure setup" chapter, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OnboardingStep {
    ValidateAccess,
    CheckByol,
    OfferCidrRanges,
    ConfigureByol,
    OfferImages,
    ImportImage,
    OfferDirectories,
    RegisterDirectory,
    ConfigureCreationProperties,
    CreateBundle,
    CreateWorkspaces,
    Complete,
}

impl OnboardingStep {
    pub const ALL: [OnboardingStep; 12] = [
        Self::ValidateAccess,
        Self::CheckByol,
        Self::OfferCidrRanges,
        Self::ConfigureByol,
        Self::OfferImages,
        Self::ImportImage,
        Self::OfferDirectories,
        Self::RegisterDirectory,
        Self::ConfigureCreationProperties,
        Self::CreateBundle,
        Self::CreateWorkspaces,
        Self::Complete,
    ];

    /// 1-based position in the guide's order.
    pub fn number(self) -> usize {
        Self::ALL
            .iter()
            .position(|s| *s == self)
            .map_or(0, |i| i + 1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StepStatus {
    InProgress,
    AwaitingCustomer,
    Completed,
    Skipped,
    Failed,
}

/// The outcome of one onboarding step for one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub tenant_id: TenantId,
    pub step: OnboardingStep,
    pub status: StepStatus,
    pub attempts: u32,
    /// What the step produced (ids, options offered); kept for re-runs and the partner UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorRecord>,
    /// The Step Functions task token of a customer pause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_token: Option<String>,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub version: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_in_guide_order() {
        assert_eq!(OnboardingStep::ValidateAccess.number(), 1);
        assert_eq!(OnboardingStep::Complete.number(), 12);
        let json = serde_json::to_string(&OnboardingStep::ConfigureCreationProperties).unwrap();
        assert_eq!(json, "\"CONFIGURE_CREATION_PROPERTIES\"");
    }
}
