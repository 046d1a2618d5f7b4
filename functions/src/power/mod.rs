//! Power governance: partner events, the idle-stop sweep and the 48-hour guard.

use crate::Route;

/// The power handlers.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
