//! The partner catalog: session reports, start and stop requests, policy updates, and the
//! pools catalog (`super::pools`), parsed into a [`PartnerEvent`] for the partner-events
//! function.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::envelope::{Received, detail, not_ahead};
use super::plans::{CalendarDetail, KeepRunningDetail, PlanDetail, PoolOverrideDetail};
use super::pools::{
    AssignmentRequestDetail, PoolDetail, PoolRef, ReleaseRequestDetail, UserRef, UsersLoadedDetail,
};
use super::{MAX_LEASE_MINUTES, PolicyDetail, Rejection, detail_types};
use crate::ids::{OpaqueId, TenantId, WorkspaceId};
use crate::model::Timestamp;
use crate::validate::{Problem, ValidationError};

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

/// What a partner event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartnerEventKind {
    SessionStarted(SessionDetail),
    SessionHeartbeat(SessionDetail),
    SessionEnded(SessionDetail),
    StartRequested(StartRequestDetail),
    StopRequested(StopRequestDetail),
    PolicyUpdated(PolicyDetail),
    PoolCreated(PoolDetail),
    PoolUpdated(PoolDetail),
    PoolDeleted(PoolRef),
    UsersLoaded(UsersLoadedDetail),
    UserRemoved(UserRef),
    AssignmentRequested(AssignmentRequestDetail),
    ReleaseRequested(ReleaseRequestDetail),
    PlanUpdated(PlanDetail),
    CalendarLoaded(CalendarDetail),
    KeepRunning(KeepRunningDetail),
    PoolOverride(PoolOverrideDetail),
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
            PartnerEventKind::PoolCreated(d) | PartnerEventKind::PoolUpdated(d) => &d.tenant_id,
            PartnerEventKind::PoolDeleted(d) => &d.tenant_id,
            PartnerEventKind::UsersLoaded(d) => &d.tenant_id,
            PartnerEventKind::UserRemoved(d) => &d.tenant_id,
            PartnerEventKind::AssignmentRequested(d) => &d.tenant_id,
            PartnerEventKind::ReleaseRequested(d) => &d.tenant_id,
            PartnerEventKind::PlanUpdated(d) => &d.tenant_id,
            PartnerEventKind::CalendarLoaded(d) => &d.tenant_id,
            PartnerEventKind::KeepRunning(d) => &d.tenant_id,
            PartnerEventKind::PoolOverride(d) => &d.tenant_id,
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
            PartnerEventKind::ReleaseRequested(d) => Some(&d.workspace_id),
            PartnerEventKind::KeepRunning(d) => Some(&d.workspace_id),
            PartnerEventKind::PlanUpdated(_)
            | PartnerEventKind::CalendarLoaded(_)
            | PartnerEventKind::PoolOverride(_)
            | PartnerEventKind::PolicyUpdated(_)
            | PartnerEventKind::PoolCreated(_)
            | PartnerEventKind::PoolUpdated(_)
            | PartnerEventKind::PoolDeleted(_)
            | PartnerEventKind::UsersLoaded(_)
            | PartnerEventKind::UserRemoved(_)
            | PartnerEventKind::AssignmentRequested(_) => None,
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
            PartnerEventKind::PoolCreated(d) | PartnerEventKind::PoolUpdated(d) => d.occurred_at,
            PartnerEventKind::PoolDeleted(d) => d.occurred_at,
            PartnerEventKind::UsersLoaded(d) => d.occurred_at,
            PartnerEventKind::UserRemoved(d) => d.occurred_at,
            PartnerEventKind::AssignmentRequested(d) => d.occurred_at,
            PartnerEventKind::ReleaseRequested(d) => d.occurred_at,
            PartnerEventKind::PlanUpdated(d) => d.occurred_at,
            PartnerEventKind::CalendarLoaded(d) => d.occurred_at,
            PartnerEventKind::KeepRunning(d) => d.occurred_at,
            PartnerEventKind::PoolOverride(d) => d.occurred_at,
        }
    }

    /// Parses and checks an EventBridge event from a partner backend.
    pub fn parse(event: &Value, partner_source: &str, now: Timestamp) -> Result<Self, Rejection> {
        let env = Received::parse(event, partner_source)?;
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
            POOL_CREATED | POOL_UPDATED => {
                let d: PoolDetail = detail(&env.detail)?;
                let creating = env.detail_type == POOL_CREATED;
                d.check(creating)?;
                if creating {
                    PartnerEventKind::PoolCreated(d)
                } else {
                    PartnerEventKind::PoolUpdated(d)
                }
            }
            POOL_DELETED => PartnerEventKind::PoolDeleted(detail(&env.detail)?),
            USERS_LOADED => {
                let d: UsersLoadedDetail = detail(&env.detail)?;
                d.check()?;
                PartnerEventKind::UsersLoaded(d)
            }
            USER_REMOVED => PartnerEventKind::UserRemoved(detail(&env.detail)?),
            DESKTOP_ASSIGNMENT_REQUESTED => {
                PartnerEventKind::AssignmentRequested(detail(&env.detail)?)
            }
            DESKTOP_RELEASE_REQUESTED => PartnerEventKind::ReleaseRequested(detail(&env.detail)?),
            POWER_PLAN_UPDATED => {
                let d: PlanDetail = detail(&env.detail)?;
                if env.detail.get("plan").is_none() {
                    return Err(ValidationError::new("detail.plan", Problem::Missing).into());
                }
                if let Some(plan) = &d.plan {
                    plan.check()?;
                }
                PartnerEventKind::PlanUpdated(d)
            }
            HOLIDAY_CALENDAR_LOADED => {
                let d: CalendarDetail = detail(&env.detail)?;
                d.dates()?;
                PartnerEventKind::CalendarLoaded(d)
            }
            DESKTOP_KEEP_RUNNING => {
                let d: KeepRunningDetail = detail(&env.detail)?;
                d.check()?;
                PartnerEventKind::KeepRunning(d)
            }
            POOL_OVERRIDE => {
                let d: PoolOverrideDetail = detail(&env.detail)?;
                d.check()?;
                PartnerEventKind::PoolOverride(d)
            }
            _ => return Err(env.unknown_detail_type()),
        };
        let event = Self {
            event_id: env.event_id,
            kind,
        };
        not_ahead(event.occurred_at(), now)?;
        Ok(event)
    }
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
}
