//! Lifecycle: partner commands (reboot, rebuild, restore, migrate, modify, terminate,
//! provision, images, bundles, directories, tags) as partner events.
//!
//! - [`commands`]: `lifecycle.commands`, one command from the partner bus: parsed against
//!   the catalog ([`steward_shared::lifecycle`]), idempotent by event id, its preconditions
//!   checked (ownership and partner tag, tenant active, the states the service accepts),
//!   one audit record and one outbound event with the result; a refusal is recorded and
//!   fails the invocation with `Steward.EventRejected`. One file per command family
//!   under `commands/`.
//! - [`offboarding`]: the `OffboardingStateMachine`'s tasks (`lifecycle.offboard_*`).
//! - [`golden`]: the `GoldenImageStateMachine`'s tasks (`lifecycle.golden_*`).

pub mod commands;
pub mod golden;
pub mod offboarding;

use futures::FutureExt;
use steward_shared::Error;
use steward_shared::aws::{TenantAccess, TenantClients};
use steward_shared::error::names;
use steward_shared::model::Tenant;

use crate::deps::Deps;
use crate::input::parses;
use crate::routes::Route;

/// The lifecycle handlers.
pub fn routes() -> Vec<Route> {
    vec![
        Route {
            name: "lifecycle.commands",
            run: |event, deps| commands::handler(event, deps).boxed(),
            input: commands::parses,
            samples: &[
                "events/lifecycle/lifecycle-bundle-delete-requested.json",
                "events/lifecycle/lifecycle-bundle-update-requested.json",
                "events/lifecycle/lifecycle-creation-properties-update-requested.json",
                "events/lifecycle/lifecycle-directory-deregister-requested.json",
                "events/lifecycle/lifecycle-image-copy-requested.json",
                "events/lifecycle/lifecycle-image-create-requested.json",
                "events/lifecycle/lifecycle-image-delete-requested.json",
                "events/lifecycle/lifecycle-image-permission-update-requested.json",
                "events/lifecycle/lifecycle-migrate-requested.json",
                "events/lifecycle/lifecycle-properties-change-requested.json",
                "events/lifecycle/lifecycle-provision-requested.json",
                "events/lifecycle/lifecycle-reboot-requested.json",
                "events/lifecycle/lifecycle-rebuild-requested.json",
                "events/lifecycle/lifecycle-restore-requested.json",
                "events/lifecycle/lifecycle-state-change-requested.json",
                "events/lifecycle/lifecycle-tags-update-requested.json",
                "events/lifecycle/lifecycle-terminate-requested.json",
            ],
        },
        Route {
            name: "lifecycle.offboard_start",
            run: |event, deps| offboarding::start(event, deps).boxed(),
            input: parses::<offboarding::OffboardInput>,
            samples: &["events/offboarding/request.json"],
        },
        Route {
            name: "lifecycle.offboard_terminate",
            run: |event, deps| offboarding::terminate(event, deps).boxed(),
            input: parses::<offboarding::OffboardInput>,
            samples: &["events/offboarding/request.json"],
        },
        Route {
            name: "lifecycle.offboard_delete",
            run: |event, deps| offboarding::delete_resources(event, deps).boxed(),
            input: parses::<offboarding::OffboardInput>,
            samples: &["events/offboarding/request.json"],
        },
        Route {
            name: "lifecycle.offboard_directories",
            run: |event, deps| offboarding::deregister_directories(event, deps).boxed(),
            input: parses::<offboarding::OffboardInput>,
            samples: &["events/offboarding/request.json"],
        },
        Route {
            name: "lifecycle.offboard_complete",
            run: |event, deps| offboarding::complete(event, deps).boxed(),
            input: parses::<offboarding::OffboardInput>,
            samples: &["events/offboarding/request.json"],
        },
        Route {
            name: "lifecycle.golden_create_image",
            run: |event, deps| golden::create_image(event, deps).boxed(),
            input: parses::<golden::GoldenInput>,
            samples: &["events/golden-image/request.json"],
        },
        Route {
            name: "lifecycle.golden_image_status",
            run: |event, deps| golden::image_status(event, deps).boxed(),
            input: parses::<golden::WithImage>,
            samples: &["events/golden-image/image-status.json"],
        },
        Route {
            name: "lifecycle.golden_update_bundle",
            run: |event, deps| golden::update_bundle(event, deps).boxed(),
            input: parses::<golden::WithImage>,
            samples: &["events/golden-image/image-status.json"],
        },
        Route {
            name: "lifecycle.golden_rollout_wave",
            run: |event, deps| golden::rollout_wave(event, deps).boxed(),
            input: parses::<golden::WaveInput>,
            samples: &["events/golden-image/rollout-wave.json"],
        },
    ]
}

/// The tenant's clients in its home Region (its first), for the golden image workflow,
/// which makes its image there (and copies it to the other Regions when asked).
/// Offboarding acts in every Region.
async fn home_clients(deps: &Deps, t: &Tenant) -> Result<TenantClients, Error> {
    let region = t.regions.first().ok_or_else(|| {
        Error::refused(
            names::TENANT_STATE,
            format!("tenant {} has no Region", t.tenant_id),
        )
    })?;
    Ok(deps.clients.for_tenant(TenantAccess::new(t, region)).await)
}
