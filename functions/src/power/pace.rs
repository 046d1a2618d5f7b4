//! A client-side token bucket per tenant and Region, matching the service's WorkSpaces API
//! rate (2 calls/s steady, bursts of 5: reference §rate, whose scope — per account, Region,
//! operation or caller — is [U]). Pacing calls ourselves keeps a sweep from provoking
//! throttling, whose SDK back-off was measured to add 2–8 s per burst.
//!
//! Configured by `STEWARD_WORKSPACES_RATE_PER_SECOND` (default 2) and
//! `STEWARD_WORKSPACES_BURST` (default 5); a rate of 0 turns pacing off.

use std::time::Duration;

use tokio::sync::Mutex;
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

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// One bucket (one tenant, one Region). Real time, as the service's is.
pub struct Pacer {
    config: PaceConfig,
    bucket: Mutex<Bucket>,
}

impl Pacer {
    pub fn new(config: PaceConfig) -> Self {
        Self {
            config,
            bucket: Mutex::new(Bucket {
                tokens: config.burst,
                at: Instant::now(),
            }),
        }
    }

    /// Waits until a call may be made, and takes its token.
    pub async fn acquire(&self) {
        if self.config.rate_per_second <= 0.0 {
            return;
        }
        let mut b = self.bucket.lock().await;
        let now = Instant::now();
        let refill = now.duration_since(b.at).as_secs_f64() * self.config.rate_per_second;
        b.tokens = (b.tokens + refill).min(self.config.burst);
        b.at = now;
        if b.tokens < 1.0 {
            let wait = (1.0 - b.tokens) / self.config.rate_per_second;
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
            b.at = Instant::now();
            b.tokens = 0.0;
        } else {
            b.tokens -= 1.0;
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
            p.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_millis(10));
        for _ in 0..4 {
            p.acquire().await;
        }
        // Four more calls at 2/s after the burst: two seconds (real time, loaded machine).
        let took = start.elapsed().as_secs_f64();
        assert!((1.9..3.0).contains(&took), "{took}");
    }
}
