//! A client-side token bucket per tenant and Region, matching the service's WorkSpaces API
//! rate (2 calls/s steady, bursts of 5: reference §rate, whose scope — per account, Region,
//! operation or caller — is \[U\]). Pacing calls ourselves keeps a sweep from provoking
//! throttling, whose SDK back-off was measured to add 2–8 s per burst.
//!
//! The service counts a call when it arrives, which is some time after we send it (the
//! first call of a tenant also waits for its role session). The pacer therefore dates each
//! call at the latest moment it can have arrived — when its answer came back ([`Permit`]
//! is dropped) — and lets the next call go at the earliest moment the service's bucket is
//! sure to hold a token (the generic cell rate algorithm, which is the token bucket's
//! schedule: emission interval 1/rate, tolerance (burst − 1)/rate).
//!
//! Configured by `STEWARD_WORKSPACES_RATE_PER_SECOND` (default 2) and
//! `STEWARD_WORKSPACES_BURST` (default 5); a rate of 0 turns pacing off.

use std::time::Duration;

use std::sync::Mutex;
use tokio::time::Instant;

/// The service's documented default rate.
pub const DEFAULT_RATE_PER_SECOND: f64 = 2.0;
pub const DEFAULT_BURST: f64 = 5.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaceConfig {
    pub rate_per_second: f64,
    pub burst: f64,
}

impl Default for PaceConfig {
    fn default() -> Self {
        Self {
            rate_per_second: DEFAULT_RATE_PER_SECOND,
            burst: DEFAULT_BURST,
        }
    }
}

impl PaceConfig {
    /// Reads the two variables; a value that is not a finite number ≥ 0 is refused by name.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let read = |name: &str, default: f64| -> Result<f64, String> {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(raw) => match raw.trim().parse::<f64>() {
                    Ok(v) if v.is_finite() && (0.0..=1000.0).contains(&v) => Ok(v),
                    _ => Err(format!("{name} must be a number from 0 to 1000")),
                },
            }
        };
        Ok(Self {
            rate_per_second: read(
                "STEWARD_WORKSPACES_RATE_PER_SECOND",
                DEFAULT_RATE_PER_SECOND,
            )?,
            burst: read("STEWARD_WORKSPACES_BURST", DEFAULT_BURST)?.max(1.0),
        })
    }

    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|n| std::env::var(n).ok())
    }
}

/// The bucket's schedule: the theoretical arrival time of the next call, were calls sent
/// back to back at the steady rate.
struct Schedule {
    tat: Instant,
}

/// One tenant's (one Region's) bucket. Real time, as the service's is.
pub struct Pacer {
    config: PaceConfig,
    schedule: Mutex<Schedule>,
}

/// The right to make one call. Keep it until the call has answered: dropping it dates the
/// call at its latest possible arrival.
pub struct Permit<'p> {
    pacer: Option<&'p Pacer>,
    /// The schedule before this call.
    tat_before: Instant,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let Some(pacer) = self.pacer else {
            return;
        };
        let interval = pacer.interval();
        let mut s = pacer.schedule.lock().unwrap_or_else(|p| p.into_inner());
        let arrived_by = Instant::now().max(self.tat_before) + interval;
        s.tat = s.tat.max(arrived_by);
    }
}

impl Pacer {
    pub fn new(config: PaceConfig) -> Self {
        Self {
            config,
            schedule: Mutex::new(Schedule {
                tat: Instant::now(),
            }),
        }
    }

    fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.config.rate_per_second)
    }

    /// Waits until a call may be made, and reserves its place in the schedule.
    pub async fn acquire(&self) -> Permit<'_> {
        if self.config.rate_per_second <= 0.0 {
            return Permit {
                pacer: None,
                tat_before: Instant::now(),
            };
        }
        let interval = self.interval();
        let tolerance = Duration::from_secs_f64(
            (self.config.burst - 1.0).max(0.0) / self.config.rate_per_second,
        );
        loop {
            let wait = {
                let mut s = self.schedule.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let earliest = s.tat.checked_sub(tolerance).unwrap_or(now);
                if now >= earliest {
                    let tat_before = s.tat.max(now);
                    s.tat = tat_before + interval;
                    return Permit {
                        pacer: Some(self),
                        tat_before,
                    };
                }
                earliest - now
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_and_refuses() {
        let c = PaceConfig::from_lookup(|_| None).unwrap();
        assert_eq!(c, PaceConfig::default());
        let c = PaceConfig::from_lookup(|n| {
            (n == "STEWARD_WORKSPACES_RATE_PER_SECOND").then(|| "0".to_owned())
        })
        .unwrap();
        assert_eq!(c.rate_per_second, 0.0);
        let e = PaceConfig::from_lookup(|_| Some("fast".into())).unwrap_err();
        assert!(e.contains("STEWARD_WORKSPACES_RATE_PER_SECOND"), "{e}");
    }

    #[tokio::test]
    async fn bursts_then_paces() {
        let p = Pacer::new(PaceConfig::default());
        let start = Instant::now();
        for _ in 0..5 {
            let _call = p.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_millis(10));
        for _ in 0..4 {
            let _call = p.acquire().await;
        }
        // Four more calls at 2/s after the burst: two seconds (real time, loaded machine).
        let took = start.elapsed().as_secs_f64();
        assert!((1.9..3.0).contains(&took), "{took}");
    }

    #[tokio::test]
    async fn a_slow_answer_dates_its_call_late() {
        // The first call answers after 300 ms (its role session, a slow network): the
        // service may have counted it only then, so the sixth call goes at 0.3 + 0.5 s,
        // not at 0.5 s.
        let p = Pacer::new(PaceConfig::default());
        let start = Instant::now();
        {
            let _call = p.acquire().await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        for _ in 0..4 {
            let _call = p.acquire().await;
        }
        let burst_done = start.elapsed().as_secs_f64();
        assert!(burst_done < 0.45, "{burst_done}");
        let _sixth = p.acquire().await;
        let took = start.elapsed().as_secs_f64();
        assert!((0.79..1.3).contains(&took), "{took}");
    }

    #[tokio::test]
    async fn pacing_off_never_waits() {
        let p = Pacer::new(PaceConfig {
            rate_per_second: 0.0,
            burst: 1.0,
        });
        let start = Instant::now();
        for _ in 0..100 {
            let _call = p.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_millis(50));
    }
}
