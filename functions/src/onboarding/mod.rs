//! Onboarding: one handler per step of the guide's "Infrastructure setup" chapter.

use crate::Route;

/// The onboarding handlers.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
