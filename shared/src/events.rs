//! The partner event catalog: what partner backends send Steward through EventBridge, parsed
//! and checked into typed events, or refused with a named [`Rejection`].
//!
//! Every event is an EventBridge envelope whose `source` is the partner event source and whose
//! `detail-type` names the event. Details are strict: unknown fields are refused, so a partner
//! bug surfaces as a named rejection rather than a silently ignored field. JSON Schemas of the
//! same catalog are published in `events/schemas/`; a test keeps the two in agreement.

use std::collections::BTreeMap;

use chrono::Duration;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{OpaqueId, TenantId, WorkspaceId};
use crate::model::{GuardHardLimitAction, PolicyStamp, PowerPolicy, Timestamp};
use crate::validate::{Problem, ValidationError};

/// The `detail-type` of each partner event.
pub mod detail_types {
    pub const SESSION_STARTED: &str = "Session Started";
    pub const SESSION_HEARTBEAT: &str = "Session Heartbeat";
    pub const SESSION_ENDED: &str = "Session Ended";
    pub const DESKTOP_START_REQUESTED: &str = "Desktop Start Requested";
    pub const DESKTOP_STOP_REQUESTED: &str = "Desktop Stop Requested";
    pub const TENANT_POLICY_UPDATED: &str = "Tenant Policy Updated";

    pub const ALL: [&str; 6] = [
        SESSION_STARTED,
        SESSION_HEARTBEAT,
        SESSION_ENDED,
        DESKTOP_START_REQUESTED,
        DESKTOP_STOP_REQUESTED,
        TENANT_POLICY_UPDATED,
    ];
}

/// How far in the future an event's `occurredAt` may lie (clock skew between systems).
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);
/// The longest keep-alive lease a start request may ask for (the service stops a MANUAL
/// desktop after 48 h AVAILABLE anyway).
pub const MAX_LEASE_MINUTES: u32 = 48 * 60;

/// Why an event was refused. `reason()` is the stable name kept with the event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    #[error("not an EventBridge event: {0}")]
    MalformedEnvelope(String),
    /// The source, described (never quoted: see [`crate::redact`]).
    #[error("the event source ({0}) is not the partner event source")]
    UnknownSource(String),
    /// The detail-type, described.
    #[error("the detail-type ({0}) is not one Steward handles")]
    UnknownDetailType(String),
    #[error("malformed detail: {0}")]
    MalformedDetail(String),
    #[error(transparent)]
    InvalidField(#[from] ValidationError),
    #[error("occurredAt is {0} minutes in the future")]
    FromTheFuture(i64),
    #[error("tenant {0} is not registered")]
    UnknownTenant(String),
    #[error("tenant {0} is not active")]
    TenantNotActive(String),
    #[error("desktop {workspace} is not one of tenant {tenant}'s desktops")]
    NotOwned { tenant: String, workspace: String },
    #[error("the request is {age_minutes} minutes old, older than {max_minutes}: not acted upon")]
    Stale { age_minutes: i64, max_minutes: i64 },
    /// A lifecycle command on a resource in a state the service does not accept for it.
    #[error("{operation} does not accept {resource} in state {state}")]
    InvalidState {
        operation: String,
        resource: String,
        state: String,
    },
    /// An irreversible lifecycle command without its explicit confirmation field.
    #[error("{0} needs its explicit confirmation")]
    ConfirmationRequired(String),
    /// A running mode BYOP desktops cannot use (AUTO_STOP): only ALWAYS_ON or MANUAL.
    #[error("running mode {0} is not allowed for BYOP desktops (ALWAYS_ON or MANUAL only)")]
    RunningModeNotAllowed(String),
    /// A tag change that would remove or alter the partner tag.
    #[error("the partner tag {0:?} is never removed or altered")]
    PartnerTagProtected(String),
    /// An image, bundle or directory without the partner tag (or a region not the tenant's).
    #[error("{0} is not one of the tenant's resources")]
    ResourceNotOwned(String),
}

impl Rejection {
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::MalformedEnvelope(_) => "MalformedEnvelope",
            Rejection::UnknownSource(_) => "UnknownSource",
            Rejection::UnknownDetailType(_) => "UnknownDetailType",
            Rejection::MalformedDetail(_) => "MalformedDetail",
            Rejection::InvalidField(_) => "InvalidField",
            Rejection::FromTheFuture(_) => "FromTheFuture",
            Rejection::UnknownTenant(_) => "UnknownTenant",
            Rejection::TenantNotActive(_) => "TenantNotActive",
            Rejection::NotOwned { .. } => "NotOwned",
            Rejection::Stale { .. } => "Stale",
            Rejection::InvalidState { .. } => "InvalidState",
            Rejection::ConfirmationRequired(_) => "ConfirmationRequired",
            Rejection::RunningModeNotAllowed(_) => "RunningModeNotAllowed",
            Rejection::PartnerTagProtected(_) => "PartnerTagProtected",
            Rejection::ResourceNotOwned(_) => "ResourceNotOwned",
        }
    }
}

/// The EventBridge envelope, as a Lambda target receives it. Its `time` (when EventBridge
/// received the event) is not used: ordering follows the detail's `occurredAt`.
#[derive(Debug, Clone, Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    source: String,
    detail: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionDetail {
    pub tenant_id: TenantId,
    pub workspace_id: WorkspaceId,
    pub session_id: OpaqueId,
    pub occurred_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRequestDetail {
    pub tenant_id: TenantId,
    pub workspace_id: WorkspaceId,
    pub occurred_at: Timestamp,
    /// Keep the desktop running at least this long, even with nobody connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StopRequestDetail {
    pub tenant_id: TenantId,
    pub workspace_id: WorkspaceId,
    pub occurred_at: Timestamp,
    /// Free text kept in the audit record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A partial power policy: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_grace_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_timeout_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_threshold_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_hard_limit_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_hard_limit_action: Option<GuardHardLimitAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_forced_stop_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_opt_out: Option<bool>,
}

impl PolicyChanges {
    /// The policy with these changes applied, checked as a whole.
    pub fn apply(&self, base: &PowerPolicy) -> Result<PowerPolicy, ValidationError> {
        let mut stamps = BTreeMap::new();
        let stamp = PolicyStamp {
            at: Timestamp::MIN_UTC,
            event_id: String::new(),
        };
        self.apply_stamped(base, &mut stamps, &stamp)
    }

    /// Applies, of these changes, those newer than the event that last set each field
    /// (`stamps`, updated for the fields this event sets), and checks the result as a whole.
    /// A field an older event changes after a newer one set it keeps the newer value, so the
    /// policy ends the same whatever order the events arrive in.
    pub fn apply_stamped(
        &self,
        base: &PowerPolicy,
        stamps: &mut BTreeMap<String, PolicyStamp>,
        stamp: &PolicyStamp,
    ) -> Result<PowerPolicy, ValidationError> {
        let mut p = base.clone();
        let mut newer = |field: &str| {
            let newer = stamps.get(field).is_none_or(|s| stamp > s);
            if newer {
                stamps.insert(field.to_owned(), stamp.clone());
            }
            newer
        };
        macro_rules! set {
            ($($f:ident => $name:literal),*) => {$(
                if let Some(v) = self.$f {
                    if newer($name) {
                        p.$f = v;
                    }
                }
            )*};
        }
        set!(
            idle_timeout_minutes => "idleTimeoutMinutes",
            start_grace_minutes => "startGraceMinutes",
            heartbeat_timeout_minutes => "heartbeatTimeoutMinutes",
            guard_threshold_minutes => "guardThresholdMinutes",
            guard_hard_limit_minutes => "guardHardLimitMinutes",
            guard_hard_limit_action => "guardHardLimitAction",
            service_forced_stop_minutes => "serviceForcedStopMinutes",
            dry_run => "dryRun",
            maintenance_opt_out => "maintenanceOptOut"
        );
        p.validate()?;
        Ok(p)
    }

    fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The bounds each field has on its own (those that depend on other fields are checked
    /// when the changes are applied to a policy).
    fn check_ranges(&self) -> Result<(), ValidationError> {
        let check = |field, v: Option<u32>, min: i64, max: i64| match v {
            Some(v) => crate::validate::range(field, i64::from(v), min, max),
            None => Ok(()),
        };
        check(
            "detail.policy.idleTimeoutMinutes",
            self.idle_timeout_minutes,
            5,
            1440,
        )?;
        check(
            "detail.policy.startGraceMinutes",
            self.start_grace_minutes,
            0,
            240,
        )?;
        check(
            "detail.policy.heartbeatTimeoutMinutes",
            self.heartbeat_timeout_minutes,
            1,
            120,
        )?;
        check(
            "detail.policy.guardThresholdMinutes",
            self.guard_threshold_minutes,
            15,
            i64::from(u32::MAX),
        )?;
        check(
            "detail.policy.guardHardLimitMinutes",
            self.guard_hard_limit_minutes,
            30,
            i64::from(u32::MAX),
        )?;
        check(
            "detail.policy.serviceForcedStopMinutes",
            self.service_forced_stop_minutes,
            60,
            10080,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyDetail {
    pub tenant_id: TenantId,
    pub occurred_at: Timestamp,
    pub policy: PolicyChanges,
}

/// What a partner event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartnerEventKind {
    SessionStarted(SessionDetail),
    SessionHeartbeat(SessionDetail),
    SessionEnded(SessionDetail),
    StartRequested(StartRequestDetail),
    StopRequested(StopRequestDetail),
    PolicyUpdated(PolicyDetail),
}

/// A checked partner event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerEvent {
    /// EventBridge's event id: the de-duplication key.
    pub event_id: OpaqueId,
    pub kind: PartnerEventKind,
}

impl PartnerEvent {
    pub fn tenant_id(&self) -> &TenantId {
        match &self.kind {
            PartnerEventKind::SessionStarted(d)
            | PartnerEventKind::SessionHeartbeat(d)
            | PartnerEventKind::SessionEnded(d) => &d.tenant_id,
            PartnerEventKind::StartRequested(d) => &d.tenant_id,
            PartnerEventKind::StopRequested(d) => &d.tenant_id,
            PartnerEventKind::PolicyUpdated(d) => &d.tenant_id,
        }
    }

    /// The desktop the event is about, if any.
    pub fn workspace_id(&self) -> Option<&WorkspaceId> {
        match &self.kind {
            PartnerEventKind::SessionStarted(d)
            | PartnerEventKind::SessionHeartbeat(d)
            | PartnerEventKind::SessionEnded(d) => Some(&d.workspace_id),
            PartnerEventKind::StartRequested(d) => Some(&d.workspace_id),
            PartnerEventKind::StopRequested(d) => Some(&d.workspace_id),
            PartnerEventKind::PolicyUpdated(_) => None,
        }
    }

    pub fn occurred_at(&self) -> Timestamp {
        match &self.kind {
            PartnerEventKind::SessionStarted(d)
            | PartnerEventKind::SessionHeartbeat(d)
            | PartnerEventKind::SessionEnded(d) => d.occurred_at,
            PartnerEventKind::StartRequested(d) => d.occurred_at,
            PartnerEventKind::StopRequested(d) => d.occurred_at,
            PartnerEventKind::PolicyUpdated(d) => d.occurred_at,
        }
    }

    /// Parses and checks an EventBridge event from a partner backend.
    pub fn parse(event: &Value, partner_source: &str, now: Timestamp) -> Result<Self, Rejection> {
        let env: Envelope = serde_json::from_value(event.clone()).map_err(|e| {
            Rejection::MalformedEnvelope(crate::redact::serde_message(&e.to_string()))
        })?;
        let event_id = OpaqueId::parse_at("id", env.id)?;
        if env.source != partner_source {
            return Err(Rejection::UnknownSource(crate::redact::described(
                &env.source,
            )));
        }
        use detail_types::*;
        let kind = match env.detail_type.as_str() {
            SESSION_STARTED => PartnerEventKind::SessionStarted(detail(&env.detail)?),
            SESSION_HEARTBEAT => PartnerEventKind::SessionHeartbeat(detail(&env.detail)?),
            SESSION_ENDED => PartnerEventKind::SessionEnded(detail(&env.detail)?),
            DESKTOP_START_REQUESTED => {
                let d: StartRequestDetail = detail(&env.detail)?;
                if let Some(m) = d.lease_minutes {
                    crate::validate::range(
                        "detail.leaseMinutes",
                        i64::from(m),
                        1,
                        i64::from(MAX_LEASE_MINUTES),
                    )?;
                }
                PartnerEventKind::StartRequested(d)
            }
            DESKTOP_STOP_REQUESTED => {
                let d: StopRequestDetail = detail(&env.detail)?;
                if let Some(r) = &d.reason {
                    crate::validate::length("detail.reason", r, 1, 256)?;
                }
                PartnerEventKind::StopRequested(d)
            }
            TENANT_POLICY_UPDATED => {
                let d: PolicyDetail = detail(&env.detail)?;
                if d.policy.is_empty() {
                    return Err(ValidationError::new("detail.policy", Problem::Missing).into());
                }
                d.policy.check_ranges()?;
                PartnerEventKind::PolicyUpdated(d)
            }
            other => {
                return Err(Rejection::UnknownDetailType(crate::redact::described(
                    other,
                )));
            }
        };
        let event = Self { event_id, kind };
        let ahead = event.occurred_at() - now;
        if ahead > MAX_CLOCK_SKEW {
            return Err(Rejection::FromTheFuture(ahead.num_minutes()));
        }
        Ok(event)
    }
}

/// Deserialises a detail; a field that fails its check keeps its name (`detail.<field>`).
fn detail<T: DeserializeOwned>(value: &Value) -> Result<T, Rejection> {
    if !value.is_object() {
        return Err(Rejection::MalformedDetail(
            "detail must be a JSON object".into(),
        ));
    }
    serde_json::from_value(value.clone())
        .map_err(|e| Rejection::MalformedDetail(crate::redact::serde_message(&e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SOURCE: &str = "steward.partner";

    fn now() -> Timestamp {
        chrono::DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn envelope(detail_type: &str, detail: Value) -> Value {
        json!({
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": detail_type,
            "source": SOURCE,
            "account": "111122223333",
            "time": "2026-11-21T10:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        })
    }

    fn session() -> Value {
        json!({
            "tenantId": "acme",
            "workspaceId": "ws-abcd1234",
            "sessionId": "sess-1",
            "occurredAt": "2026-11-21T09:59:00Z",
        })
    }

    fn reason(v: Value) -> &'static str {
        PartnerEvent::parse(&v, SOURCE, now()).unwrap_err().reason()
    }

    #[test]
    fn every_kind_parses() {
        let e =
            PartnerEvent::parse(&envelope("Session Started", session()), SOURCE, now()).unwrap();
        assert!(matches!(e.kind, PartnerEventKind::SessionStarted(_)));
        assert_eq!(e.tenant_id().as_str(), "acme");
        assert_eq!(e.workspace_id().unwrap().as_str(), "ws-abcd1234");
        assert_eq!(e.event_id.as_str(), "6a7e8feb-b491-4cf7-a9f1-bf3703467718");
        for dt in ["Session Heartbeat", "Session Ended"] {
            assert!(PartnerEvent::parse(&envelope(dt, session()), SOURCE, now()).is_ok());
        }
        let start = json!({"tenantId": "acme", "workspaceId": "ws-abcd1234",
            "occurredAt": "2026-11-21T09:59:00Z", "leaseMinutes": 120});
        let e = PartnerEvent::parse(&envelope("Desktop Start Requested", start), SOURCE, now())
            .unwrap();
        assert!(matches!(
            e.kind,
            PartnerEventKind::StartRequested(StartRequestDetail {
                lease_minutes: Some(120),
                ..
            })
        ));
        let stop = json!({"tenantId": "acme", "workspaceId": "ws-abcd1234",
            "occurredAt": "2026-11-21T09:59:00Z", "reason": "user logged off"});
        assert!(
            PartnerEvent::parse(&envelope("Desktop Stop Requested", stop), SOURCE, now()).is_ok()
        );
        let policy = json!({"tenantId": "acme", "occurredAt": "2026-11-21T09:59:00Z",
            "policy": {"idleTimeoutMinutes": 30, "dryRun": true}});
        let e =
            PartnerEvent::parse(&envelope("Tenant Policy Updated", policy), SOURCE, now()).unwrap();
        assert_eq!(e.workspace_id(), None);
    }

    #[test]
    fn rejections_are_named() {
        assert_eq!(reason(json!("nope")), "MalformedEnvelope");
        assert_eq!(reason(json!({"id": "x"})), "MalformedEnvelope");
        let mut v = envelope("Session Started", session());
        v["source"] = "someone.else".into();
        assert_eq!(reason(v), "UnknownSource");
        assert_eq!(
            reason(envelope("Session Exploded", session())),
            "UnknownDetailType"
        );
        assert_eq!(
            reason(envelope("Session Started", json!([1, 2]))),
            "MalformedDetail"
        );
        let mut d = session();
        d["extra"] = "field".into();
        assert_eq!(reason(envelope("Session Started", d)), "MalformedDetail");
        let mut d = session();
        d["workspaceId"] = "ws-NOPE".into();
        let r = PartnerEvent::parse(&envelope("Session Started", d), SOURCE, now()).unwrap_err();
        assert_eq!(r.reason(), "MalformedDetail");
        assert!(r.to_string().contains("invalid workspace_id"), "{r}");
        let mut d = session();
        d["occurredAt"] = "2026-11-21T11:00:00Z".into();
        assert_eq!(reason(envelope("Session Started", d)), "FromTheFuture");
        let mut v = envelope("Session Started", session());
        v["id"] = "has spaces in it".into();
        assert_eq!(reason(v), "InvalidField");
        let start = json!({"tenantId": "acme", "workspaceId": "ws-abcd1234",
            "occurredAt": "2026-11-21T09:59:00Z", "leaseMinutes": 100000});
        assert_eq!(
            reason(envelope("Desktop Start Requested", start)),
            "InvalidField"
        );
        let policy =
            json!({"tenantId": "acme", "occurredAt": "2026-11-21T09:59:00Z", "policy": {}});
        assert_eq!(
            reason(envelope("Tenant Policy Updated", policy)),
            "InvalidField"
        );
    }

    #[test]
    fn policy_changes_apply_and_are_checked_whole() {
        let changes = PolicyChanges {
            idle_timeout_minutes: Some(30),
            dry_run: Some(true),
            ..Default::default()
        };
        let p = changes.apply(&PowerPolicy::default()).unwrap();
        assert_eq!(p.idle_timeout_minutes, 30);
        assert!(p.dry_run);
        assert_eq!(
            p.start_grace_minutes,
            PowerPolicy::default().start_grace_minutes
        );
        let bad = PolicyChanges {
            guard_threshold_minutes: Some(48 * 60),
            ..Default::default()
        };
        assert_eq!(
            bad.apply(&PowerPolicy::default()).unwrap_err().field,
            "policy.guard_threshold_minutes"
        );
    }

    #[test]
    fn policy_events_converge_whatever_their_order() {
        let at = |m: i64| PolicyStamp {
            at: now() - Duration::minutes(m),
            event_id: format!("e{m}"),
        };
        let idle = |v: u32| PolicyChanges {
            idle_timeout_minutes: Some(v),
            ..PolicyChanges::default()
        };
        let grace = PolicyChanges {
            start_grace_minutes: Some(30),
            ..PolicyChanges::default()
        };
        // (change, stamp): the newest idle timeout is 45 (10 minutes ago).
        let events = [(idle(90), at(20)), (idle(45), at(10)), (grace, at(15))];
        let orders = [
            [0, 1, 2],
            [1, 0, 2],
            [2, 1, 0],
            [1, 2, 0],
            [0, 2, 1],
            [2, 0, 1],
        ];
        for order in orders {
            let mut policy = PowerPolicy::default();
            let mut stamps = BTreeMap::new();
            for i in order {
                let (c, s) = &events[i];
                policy = c.apply_stamped(&policy, &mut stamps, s).unwrap();
            }
            assert_eq!(policy.idle_timeout_minutes, 45, "order {order:?}");
            assert_eq!(policy.start_grace_minutes, 30, "order {order:?}");
            assert_eq!(stamps["idleTimeoutMinutes"], at(10));
        }
        // Same instant: the event id decides, in either order.
        let same = |id: &str| PolicyStamp {
            at: now(),
            event_id: id.into(),
        };
        for (first, second) in [("a", "b"), ("b", "a")] {
            let mut stamps = BTreeMap::new();
            let v = |id: &str| if id == "a" { 30 } else { 40 };
            let p = idle(v(first))
                .apply_stamped(&PowerPolicy::default(), &mut stamps, &same(first))
                .unwrap();
            let p = idle(v(second))
                .apply_stamped(&p, &mut stamps, &same(second))
                .unwrap();
            assert_eq!(p.idle_timeout_minutes, 40);
        }
    }
}
