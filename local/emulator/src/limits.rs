//! Rate limiting, fault injection and call counters.

use super::error::ApiError;
use super::options::RateLimitOptions;
use super::service_clock::Millis;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Millis,
}

/// Token buckets per (account, region), refilled on the service clock: real time plus
/// every advance. A test that moves the clock five minutes has let five minutes of calls'
/// worth of tokens back in, as the service would have; compressing a day of calls into
/// seconds does not throttle calls the service would have spread over that day.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: HashMap<(String, String), Bucket>,
}

impl RateLimiter {
    /// Takes one token at service time `now` (milliseconds); false = throttle.
    pub fn try_acquire(
        &mut self,
        account: &str,
        region: &str,
        o: &RateLimitOptions,
        now: Millis,
    ) -> bool {
        if !o.enabled {
            return true;
        }
        let b = self
            .buckets
            .entry((account.to_string(), region.to_string()))
            .or_insert(Bucket {
                tokens: o.capacity,
                last: now,
            });
        let elapsed = (now - b.last).max(0) as f64 / 1000.0;
        b.tokens = (b.tokens + elapsed * o.refill_per_second).min(o.capacity);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn reset(&mut self) {
        self.buckets.clear();
    }
}

/// What an injected fault does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "snake_case")]
pub enum FaultEffect {
    /// Answer the call with `error_code` / `message` / `http_status`.
    #[default]
    Error,
    /// Let the call succeed, but the workspaces / images it starts end in ERROR
    /// (CreateWorkspaces, Start/Reboot/Rebuild/Restore, ImportWorkspaceImage, ...).
    ResourceError,
    /// Only add `latency_ms`.
    Latency,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    #[serde(default)]
    pub id: String,
    /// `Service.Operation` (`WorkSpaces.StopWorkspaces`), `Service.*`, or `*`.
    #[serde(default = "star")]
    pub operation: String,
    /// Only calls made in this account (None = any).
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub effect: FaultEffect,
    #[serde(default = "default_code")]
    pub error_code: String,
    #[serde(default = "default_message")]
    pub message: String,
    #[serde(default = "default_status")]
    pub http_status: u16,
    /// Chance per matching call (default 1).
    #[serde(default)]
    pub probability: Option<f64>,
    /// Fire this many times, then retire (None = until cleared).
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub latency_ms: Option<u64>,
    #[serde(default)]
    pub fired: u64,
}

fn star() -> String {
    "*".into()
}
fn default_code() -> String {
    "InternalServerException".into()
}
fn default_message() -> String {
    "Injected fault".into()
}
fn default_status() -> u16 {
    500
}

impl FaultRule {
    fn matches(&self, op: &str, account: &str) -> bool {
        let op_ok = self.operation == "*"
            || self.operation == op
            || self
                .operation
                .strip_suffix(".*")
                .is_some_and(|svc| op.split('.').next() == Some(svc));
        op_ok && self.account.as_deref().is_none_or(|a| a == account)
    }
}

/// The outcome of the fault check for one call.
#[derive(Debug, Default, PartialEq)]
pub struct FaultHit {
    pub error: Option<ApiError>,
    pub resource_error: Option<(String, String)>,
    pub latency_ms: u64,
}

#[derive(Debug, Default)]
pub struct Faults {
    pub rules: Vec<FaultRule>,
    next_id: u64,
    rng: u64,
}

impl Faults {
    pub fn add(&mut self, mut rule: FaultRule) -> String {
        self.next_id += 1;
        if rule.id.is_empty() {
            rule.id = format!("fault-{}", self.next_id);
        }
        let id = rule.id.clone();
        self.rules.push(rule);
        id
    }

    fn random(&mut self) -> f64 {
        if self.rng == 0 {
            self.rng = uuid::Uuid::new_v4().as_u64_pair().0 | 1;
        }
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn check(&mut self, op: &str, account: &str) -> FaultHit {
        let mut hit = FaultHit::default();
        let mut i = 0;
        while i < self.rules.len() {
            if self.rules[i].matches(op, account) {
                let p = self.rules[i].probability.unwrap_or(1.0);
                if p >= 1.0 || self.random() < p {
                    let r = &mut self.rules[i];
                    r.fired += 1;
                    hit.latency_ms += r.latency_ms.unwrap_or(0);
                    match r.effect {
                        FaultEffect::Error if hit.error.is_none() => {
                            hit.error = Some(
                                ApiError::new(&r.error_code, r.message.clone())
                                    .with_status(r.http_status),
                            )
                        }
                        FaultEffect::ResourceError if hit.resource_error.is_none() => {
                            hit.resource_error = Some((r.error_code.clone(), r.message.clone()))
                        }
                        _ => {}
                    }
                    if r.count.is_some_and(|c| r.fired >= c) {
                        self.rules.remove(i);
                        continue;
                    }
                }
            }
            i += 1;
        }
        hit
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Count {
    pub calls: u64,
    pub errors: u64,
    pub throttled: u64,
}

/// Calls per account and `Service.Operation`.
#[derive(Debug, Default)]
pub struct Counters {
    pub by_account: BTreeMap<String, BTreeMap<String, Count>>,
}

impl Counters {
    pub fn record(&mut self, account: &str, op: &str, ok: bool, throttled: bool) {
        // Look up before allocating: the keys exist after the first call.
        if !self.by_account.contains_key(account) {
            self.by_account.insert(account.to_string(), BTreeMap::new());
        }
        let Some(ops) = self.by_account.get_mut(account) else {
            return;
        };
        if !ops.contains_key(op) {
            ops.insert(op.to_string(), Count::default());
        }
        let Some(c) = ops.get_mut(op) else { return };
        c.calls += 1;
        if !ok {
            c.errors += 1;
        }
        if throttled {
            c.throttled += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_of_five_then_refills_two_per_second() {
        let mut l = RateLimiter::default();
        let o = RateLimitOptions::default();
        let t0: Millis = 1_795_000_000_000;
        for _ in 0..5 {
            assert!(l.try_acquire("a", "r", &o, t0));
        }
        assert!(!l.try_acquire("a", "r", &o, t0));
        assert!(l.try_acquire("b", "r", &o, t0), "buckets are per account");
        let t1 = t0 + 500;
        assert!(l.try_acquire("a", "r", &o, t1));
        assert!(!l.try_acquire("a", "r", &o, t1));
        // An advance of the service clock refills the bucket (to its capacity, no more).
        let t2 = t1 + 5 * 60 * 1000;
        for _ in 0..5 {
            assert!(l.try_acquire("a", "r", &o, t2));
        }
        assert!(!l.try_acquire("a", "r", &o, t2));
    }

    #[test]
    fn counted_fault_retires_and_matches_by_service() {
        let mut f = Faults::default();
        f.add(FaultRule {
            id: String::new(),
            operation: "WorkSpaces.*".into(),
            account: Some("123456789012".into()),
            effect: FaultEffect::Error,
            error_code: "InternalServerException".into(),
            message: "boom".into(),
            http_status: 500,
            probability: None,
            count: Some(1),
            latency_ms: None,
            fired: 0,
        });
        assert!(f.check("STS.AssumeRole", "123456789012").error.is_none());
        assert!(
            f.check("WorkSpaces.StopWorkspaces", "999999999999")
                .error
                .is_none()
        );
        assert!(
            f.check("WorkSpaces.StopWorkspaces", "123456789012")
                .error
                .is_some()
        );
        assert!(
            f.check("WorkSpaces.StopWorkspaces", "123456789012")
                .error
                .is_none()
        );
    }
}
