//! The emulated service's clock: real time plus an offset that only ever grows.
//!
//! It is the time the emulated AWS services live in (transitions, credential expiry, the
//! maintenance window), so it belongs to the emulator and is driven through its control API
//! (`/_emulator/clock/advance`, [`crate::Control::advance_seconds`]); the emulator depends on
//! no other clock, which keeps it usable on its own. It runs at real speed between
//! advances, as a service would, and never goes back: a transition already folded into the
//! state cannot be undone. A host that runs workflows on a virtual clock of its own (Steward's
//! sandbox) moves this one along with it through the control handle.
//!
//! Every state transition in the emulator is stored as an absolute service time and
//! evaluated lazily against [`ServiceClock::now_ms`], so advancing the clock by 48 hours
//! costs nothing, whatever the number of workspaces.

use chrono::{DateTime, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, the emulator's internal time unit.
pub type Millis = i64;

#[derive(Debug)]
pub struct ServiceClock {
    offset_ms: AtomicI64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClockError {
    #[error("the virtual clock cannot go backwards (now {now}, asked for {asked})")]
    Backwards { now: String, asked: String },
    #[error("advance must be between 0 and ten years, in seconds")]
    BadAdvance,
}

fn real_now_ms() -> Millis {
    Utc::now().timestamp_millis()
}

impl ServiceClock {
    /// A clock starting at `start` (or real now) and running at real speed.
    pub fn new(start: Option<DateTime<Utc>>) -> Self {
        let offset = start.map_or(0, |s| s.timestamp_millis() - real_now_ms());
        Self {
            offset_ms: AtomicI64::new(offset),
        }
    }

    pub fn now_ms(&self) -> Millis {
        real_now_ms().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    pub fn now(&self) -> DateTime<Utc> {
        to_datetime(self.now_ms())
    }

    /// Moves the clock forward by `seconds` (fractions allowed).
    pub fn advance(&self, seconds: f64) -> Result<DateTime<Utc>, ClockError> {
        if !seconds.is_finite() || !(0.0..=super::options::MAX_DURATION_SECONDS).contains(&seconds)
        {
            return Err(ClockError::BadAdvance);
        }
        self.offset_ms
            .fetch_add((seconds * 1000.0).round() as i64, Ordering::Relaxed);
        Ok(self.now())
    }

    /// Jumps to an absolute time, which must not be in the virtual past:
    /// lazily computed transitions cannot be undone.
    pub fn set(&self, to: DateTime<Utc>) -> Result<DateTime<Utc>, ClockError> {
        let now = self.now_ms();
        let target = to.timestamp_millis();
        if target - now > (super::options::MAX_DURATION_SECONDS * 1000.0) as Millis {
            return Err(ClockError::BadAdvance);
        }
        if target < now {
            return Err(ClockError::Backwards {
                now: to_datetime(now).to_rfc3339(),
                asked: to.to_rfc3339(),
            });
        }
        self.offset_ms.fetch_add(target - now, Ordering::Relaxed);
        Ok(self.now())
    }
}

pub fn to_datetime(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Epoch seconds as the awsJson1_1 protocol writes timestamps.
pub fn epoch_seconds(ms: Millis) -> f64 {
    ms as f64 / 1000.0
}

/// ISO-8601 UTC as the query protocols write timestamps.
pub fn iso8601(ms: Millis) -> String {
    to_datetime(ms).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn iso8601_millis(ms: Millis) -> String {
    to_datetime(ms).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_forward_and_set_refuses_the_past() {
        let start = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        let clock = ServiceClock::new(Some(start));
        let before = clock.now_ms();
        assert!(before >= start.timestamp_millis());
        let after = clock.advance(3600.0).unwrap().timestamp_millis();
        assert!(after - before >= 3_600_000);
        assert!(clock.set(start).is_err());
        assert_eq!(clock.advance(-1.0), Err(ClockError::BadAdvance));
        assert_eq!(
            clock.advance(1e20),
            Err(ClockError::BadAdvance),
            "no overflow"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(epoch_seconds(1500), 1.5);
    }
}
