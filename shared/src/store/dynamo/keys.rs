//! The key of every item kind, as [`crate::store::schema`] lays them out, and the conversion
//! of records to items and back. Every key string Steward writes is built here, in one
//! place, so that no kind's key is spelt two ways.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::SecondsFormat;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ids::{OpaqueId, PoolId, TenantId, UserId, WorkspaceId};
use crate::model::{
    AuditRecord, CalendarRecord, Month, OnboardingStep, PlanRecord, PoolRecord, StartTimes,
    StepRecord, Tenant, Timestamp, WorkspaceRecord, scope_name,
};
use crate::plans::CalendarName;
use crate::store::schema::{GSI1_PK, GSI1_SK, PK, SK};
use crate::store::{RecordKind, Result, StoreError};

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) const TENANT_SK: &str = "TENANT";
pub(super) const TENANTS_PARTITION: &str = "TENANTS";
pub(super) const WS_PREFIX: &str = "WS#";
pub(super) const STEP_PREFIX: &str = "STEP#";
pub(super) const AUDIT_PREFIX: &str = "AUDIT#";
pub(super) const USAGE_PREFIX: &str = "USAGE#";
const EVENT_PREFIX: &str = "EVENT#";
pub(super) const POOL_PREFIX: &str = "POOL#";
pub(super) const USER_PREFIX: &str = "USER#";
pub(super) const PLAN_PREFIX: &str = "PLAN#";
pub(super) const CALENDAR_PREFIX: &str = "CAL#";
pub(super) const PLAN_USAGE_PREFIX: &str = "PLANUSE#";
const START_TIMES_SK: &str = "STARTS";

/// Records whose writes are guarded by a version.
pub(super) trait Versioned {
    fn version(&self) -> u64;
    fn set_version(&mut self, v: u64);
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn version(&self) -> u64 { self.version }
            fn set_version(&mut self, v: u64) { self.version = v; }
        }
    )*};
}
versioned!(
    Tenant,
    WorkspaceRecord,
    StepRecord,
    PoolRecord,
    PlanRecord,
    CalendarRecord,
    StartTimes
);

/// Key attributes of one item.
pub(super) struct Keys {
    pub(super) pk: String,
    pub(super) sk: String,
    pub(super) gsi1: Option<(String, String)>,
}

impl Keys {
    pub(super) fn key(&self) -> Item {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }

    pub(super) fn describe(&self) -> String {
        format!("{}/{}", self.pk, self.sk)
    }
}

pub(super) fn tenant_pk(t: &TenantId) -> String {
    format!("TENANT#{t}")
}

pub(super) fn tenant_keys(t: &TenantId) -> Keys {
    Keys {
        pk: tenant_pk(t),
        sk: TENANT_SK.into(),
        gsi1: Some((TENANTS_PARTITION.into(), t.to_string())),
    }
}

pub(super) fn sweep_partition(t: &TenantId) -> String {
    format!("SWEEP#{t}")
}

/// A desktop record's keys, with its place in the sparse sweep index when it has one.
pub(super) fn workspace_keys(ws: &WorkspaceRecord) -> Keys {
    Keys {
        pk: tenant_pk(&ws.tenant_id),
        sk: format!("{WS_PREFIX}{}", ws.workspace_id),
        gsi1: ws
            .needs_sweep()
            .then(|| (sweep_partition(&ws.tenant_id), ws.workspace_id.to_string())),
    }
}

/// A desktop record's table key, to read or delete it (no index attributes).
pub(super) fn workspace_key(tenant: &TenantId, id: &WorkspaceId) -> Keys {
    Keys {
        pk: tenant_pk(tenant),
        sk: format!("{WS_PREFIX}{id}"),
        gsi1: None,
    }
}

fn step_sk(step: OnboardingStep) -> String {
    let name = serde_json::to_value(step)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("{STEP_PREFIX}{:02}#{name}", step.number())
}

pub(super) fn step_keys(tenant: &TenantId, step: OnboardingStep) -> Keys {
    Keys {
        pk: tenant_pk(tenant),
        sk: step_sk(step),
        gsi1: None,
    }
}

pub(super) fn timestamp_key(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(super) fn audit_keys(record: &AuditRecord) -> Keys {
    Keys {
        pk: tenant_pk(&record.tenant_id),
        sk: format!(
            "{AUDIT_PREFIX}{}#{}",
            timestamp_key(record.at),
            record.audit_id
        ),
        gsi1: None,
    }
}

pub(super) fn usage_keys(tenant: &TenantId, workspace: &WorkspaceId, month: &Month) -> Keys {
    Keys {
        pk: tenant_pk(tenant),
        sk: format!("{USAGE_PREFIX}{}#{workspace}", month.as_str()),
        gsi1: None,
    }
}

pub(super) fn event_keys(tenant: &TenantId, event_id: &OpaqueId) -> Keys {
    Keys {
        pk: tenant_pk(tenant),
        sk: format!("{EVENT_PREFIX}{event_id}"),
        gsi1: None,
    }
}

pub(super) fn pool_keys(tenant: &TenantId, pool: &PoolId) -> Keys {
    Keys {
        pk: tenant_pk(tenant),
        sk: format!("{POOL_PREFIX}{pool}"),
        gsi1: None,
    }
}

pub(super) fn user_keys(tenant: &TenantId, user: &UserId) -> Keys {
    Keys {
        pk: tenant_pk(tenant),
        sk: format!("{USER_PREFIX}{user}"),
        gsi1: None,
    }
}

/// A group's plan: `PLAN#<pool>` or `PLAN#TENANT` ([`scope_name`]).
pub(super) fn plan_keys(tenant: &TenantId, pool: Option<&PoolId>) -> Keys {
    Keys {
        pk: tenant_pk(tenant),
        sk: format!("{PLAN_PREFIX}{}", scope_name(pool)),
        gsi1: None,
    }
}

pub(super) fn calendar_keys(tenant: &TenantId, name: &CalendarName) -> Keys {
    Keys {
        pk: tenant_pk(tenant),
        sk: format!("{CALENDAR_PREFIX}{name}"),
        gsi1: None,
    }
}

pub(super) fn start_times_keys(tenant: &TenantId) -> Keys {
    Keys {
        pk: tenant_pk(tenant),
        sk: START_TIMES_SK.into(),
        gsi1: None,
    }
}

pub(super) fn plan_usage_keys(tenant: &TenantId, scope: &str, month: &Month) -> Keys {
    Keys {
        pk: tenant_pk(tenant),
        sk: format!("{PLAN_USAGE_PREFIX}{}#{scope}", month.as_str()),
        gsi1: None,
    }
}

pub(super) fn to_item<T: Serialize>(kind: RecordKind, keys: &Keys, record: &T) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(record).map_err(|source| StoreError::Corrupt {
        kind,
        key: keys.describe(),
        source,
    })?;
    item.insert(PK.into(), AttributeValue::S(keys.pk.clone()));
    item.insert(SK.into(), AttributeValue::S(keys.sk.clone()));
    if let Some((gpk, gsk)) = &keys.gsi1 {
        item.insert(GSI1_PK.into(), AttributeValue::S(gpk.clone()));
        item.insert(GSI1_SK.into(), AttributeValue::S(gsk.clone()));
    }
    Ok(item)
}

pub(super) fn from_item<T: DeserializeOwned>(kind: RecordKind, item: Item) -> Result<T> {
    let key = match (item.get(PK), item.get(SK)) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => format!("{pk}/{sk}"),
        _ => "<no key>".into(),
    };
    serde_dynamo::from_item(item).map_err(|source| StoreError::Corrupt { kind, key, source })
}

pub(super) fn string_attr(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_keys_sort_in_guide_order() {
        let keys: Vec<String> = OnboardingStep::ALL.iter().map(|s| step_sk(*s)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(
            step_sk(OnboardingStep::ValidateAccess),
            "STEP#01#VALIDATE_ACCESS"
        );
        assert_eq!(step_sk(OnboardingStep::Complete), "STEP#12#COMPLETE");
    }

    #[test]
    fn timestamp_keys_are_fixed_width_and_sort() {
        let a = chrono::DateTime::parse_from_rfc3339("2026-11-21T09:00:00Z")
            .unwrap()
            .to_utc();
        let b = a + chrono::Duration::microseconds(1);
        assert_eq!(timestamp_key(a), "2026-11-21T09:00:00.000000Z");
        assert!(timestamp_key(a) < timestamp_key(b));
        assert_eq!(timestamp_key(a).len(), timestamp_key(b).len());
    }
}
