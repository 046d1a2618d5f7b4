//! Onboarding: one handler per step of the guide's "Infrastructure setup" chapter, chained
//! by the Onboarding state machine in `template.yaml`.
//!
//! Every step is idempotent: before it creates or modifies anything it looks for what an
//! earlier (possibly interrupted) execution left behind, by the names Steward gives what it
//! creates and by what the service reports. Each records its outcome on its step record and
//! publishes an event on the partner bus; customer selections are `.waitForTaskToken` pauses
//! ([`pause`]) unless the execution input already carries them.
//!
//! [`request`] holds what the handlers are sent (the execution input, and what the steps
//! hand each other); `steps` holds the handlers, one file per family, with the order of the
//! twelve steps and the four pauses in its module doc. This file names the routes and the
//! events.

pub mod request;
mod steps;

use steward_shared::model::OnboardingStep;

use crate::routes::Route;
use request::{FailureInput, PauseInput, StepInput};

pub use steps::{
    check_byol, complete, configure_byol, configure_creation_properties, create_bundle,
    create_workspaces, import_image, offer_cidr_ranges, offer_directories, offer_images, pause,
    record_failure, register_directory, validate_access,
};

/// Detail types of the events onboarding publishes (schemas in `events/schemas/outbound/`).
pub mod detail_types {
    pub const STEP_COMPLETED: &str = "Onboarding Step Completed";
    pub const AWAITING_CUSTOMER: &str = "Onboarding Awaiting Customer Input";
    pub const SUCCEEDED: &str = "Onboarding Succeeded";
    pub const FAILED: &str = "Onboarding Failed";
}

macro_rules! route {
    ($name:literal, $f:path, $input:ty, $samples:expr) => {
        Route {
            name: $name,
            run: |event, deps| Box::pin($f(event, deps)),
            input: crate::input::parses::<$input>,
            samples: $samples,
        }
    };
    // A step: its input is the execution's StepInput (first run, or a polling round).
    ($name:literal, $f:path) => {
        route!($name, $f, StepInput, STEP_SAMPLES)
    };
}

const STEP_SAMPLES: &[&str] = &["events/onboarding/step.json", "events/onboarding/poll.json"];

/// The onboarding handlers, named as the functions' `Handler` in `template.yaml`.
pub fn routes() -> Vec<Route> {
    vec![
        route!(
            "onboarding.validate_access",
            validate_access,
            StepInput,
            &["events/onboarding/validate-access.json"]
        ),
        route!("onboarding.check_byol", check_byol),
        route!("onboarding.offer_cidr_ranges", offer_cidr_ranges),
        route!("onboarding.configure_byol", configure_byol),
        route!("onboarding.offer_images", offer_images),
        route!("onboarding.import_image", import_image),
        route!("onboarding.offer_directories", offer_directories),
        route!("onboarding.register_directory", register_directory),
        route!(
            "onboarding.configure_creation_properties",
            configure_creation_properties
        ),
        route!("onboarding.create_bundle", create_bundle),
        route!("onboarding.create_workspaces", create_workspaces),
        route!("onboarding.complete", complete),
        route!(
            "onboarding.pause",
            pause,
            PauseInput,
            &["events/onboarding/pause.json"]
        ),
        route!(
            "onboarding.record_failure",
            record_failure,
            FailureInput,
            &["events/onboarding/record-failure.json"]
        ),
    ]
}

/// The wire name of a step (`CREATE_WORKSPACES`), as events and records carry it.
pub fn step_name(step: OnboardingStep) -> String {
    serde_json::to_value(step)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
