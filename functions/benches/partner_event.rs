//! CPU per partner event, excluding I/O: what `power.partner_events` computes between
//! reading the desktop's record and its one conditional write — parsing and validating the
//! envelope, the order-tolerant reduction, and encoding the record to write as the store
//! does (a DynamoDB item, through serde_dynamo). The record
//! carries 4 open and the maximum of 32 remembered ended sessions (the worst case).
//!
//! Target (issue 5): ≤ 1 ms per event.

use std::collections::HashMap;
use std::hint::black_box;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use steward_shared::events::{PartnerEvent, PartnerEventKind};
use steward_shared::ids::{DirectoryId, OpaqueId, RegionName, TenantId, WorkspaceId};
use steward_shared::model::{FirstSeen, RunningMode, WorkspaceRecord, WorkspaceState};
use steward_shared::power::{SessionChange, apply_session};

fn record(now: chrono::DateTime<Utc>) -> Option<WorkspaceRecord> {
    let mut r = WorkspaceRecord::new(FirstSeen {
        tenant_id: TenantId::parse("acme").ok()?,
        workspace_id: WorkspaceId::parse("ws-abcd1234").ok()?,
        region: RegionName::parse("us-east-1").ok()?,
        directory_id: DirectoryId::parse("d-1234567890").ok()?,
        running_mode: RunningMode::Manual,
        state: WorkspaceState::Available,
        at: now,
    });
    for i in 0..36 {
        let sid = OpaqueId::parse(format!("old-{i}")).ok()?;
        let at = now - Duration::minutes(200 - i);
        apply_session(&mut r, SessionChange::Started, &sid, at);
        if i < 32 {
            apply_session(
                &mut r,
                SessionChange::Ended,
                &sid,
                at + Duration::minutes(1),
            );
        }
    }
    Some(r)
}

fn bench(c: &mut Criterion) {
    let now = Utc::now();
    let Some(base) = record(now) else {
        panic!("bench fixture ids are valid");
    };
    let event = json!({
        "version": "0", "id": "6f1c2a4e-bench", "detail-type": "Session Heartbeat",
        "source": "steward.partner", "account": "111122223333", "time": now,
        "region": "us-east-1", "resources": [],
        "detail": {"tenantId": "acme", "workspaceId": "ws-abcd1234",
                   "sessionId": "old-33", "occurredAt": now}
    });
    c.bench_function("partner_event_cpu_excluding_io", |b| {
        b.iter(|| {
            let parsed = PartnerEvent::parse(black_box(&event), "steward.partner", now);
            let mut r = base.clone();
            if let Ok(PartnerEvent {
                kind: PartnerEventKind::SessionHeartbeat(d),
                ..
            }) = &parsed
            {
                apply_session(
                    &mut r,
                    SessionChange::Heartbeat,
                    &d.session_id,
                    d.occurred_at,
                );
            }
            let item: Result<HashMap<String, AttributeValue>, _> = serde_dynamo::to_item(&r);
            black_box(item.map(|i| i.len()))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
