//! Where handlers get "now" from: the system clock in Lambda, a virtual one in the sandbox.
//!
//! Policies take `now` as an argument; only handlers ask a [`Clock`], once per decision,
//! so that the local sandbox can move time forward (the emulator's 48-hour stop, idle
//! timeouts) without sleeping.

use std::sync::Arc;

use crate::model::Timestamp;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The real time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
}

impl<F> Clock for F
where
    F: Fn() -> Timestamp + Send + Sync,
{
    fn now(&self) -> Timestamp {
        self()
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closures_are_clocks() {
        let fixed = chrono::DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap();
        let clock: SharedClock = Arc::new(move || fixed);
        assert_eq!(clock.now(), fixed);
        let before = chrono::Utc::now();
        assert!(system().now() >= before);
    }
}
