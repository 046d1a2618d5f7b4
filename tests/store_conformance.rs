//! The store's conformance suite. Every case runs against two independent DynamoDB engines —
//! dynoxide in process and moto's server over HTTP — through the real aws-sdk-dynamodb
//! client, and must behave the same on both.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use steward_shared::ids::{DirectoryId, OpaqueId, RegionName, TenantId, WorkspaceId};
use steward_shared::model::{
    Actor, AuditOutcome, AuditRecord, FirstSeen, Month, NewTenant, OnboardingStep, RunningMode,
    StepRecord, StepStatus, Tenant, TenantStatus, WorkspaceRecord, WorkspaceState,
};
use steward_shared::store::schema::TTL_ATTRIBUTE;
use steward_shared::store::{
    AuditStore, Claim, DedupeStore, PageRequest, StepStore, StoreError, TenantStore, UsageDelta,
    UsageStore, WorkspaceStore, collect_all,
};
use steward_tests::TestStore;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T09:00:00Z")
        .unwrap()
        .to_utc()
}

fn tenant(id: &str) -> Tenant {
    let new: NewTenant = serde_json::from_value(serde_json::json!({
        "tenant_id": id,
        "account_id": "123456789012",
        "regions": ["us-east-1"],
        "role_arn": "arn:aws:iam::123456789012:role/StewardPartnerAccess",
        "external_id": "steward-demo-external-id",
    }))
    .unwrap();
    Tenant::register(new, t0()).unwrap()
}

fn workspace(tenant: &str, n: u32, mode: RunningMode, state: WorkspaceState) -> WorkspaceRecord {
    WorkspaceRecord {
        workspace_name: Some(format!("desktop{n}")),
        user_name: Some("[UNDEFINED]".into()),
        available_since: (state == WorkspaceState::Available).then(t0),
        ..WorkspaceRecord::new(FirstSeen {
            tenant_id: TenantId::parse(tenant).unwrap(),
            workspace_id: WorkspaceId::parse(format!("ws-{n:08x}")).unwrap(),
            region: RegionName::parse("us-east-1").unwrap(),
            directory_id: DirectoryId::parse("d-1234567890").unwrap(),
            running_mode: mode,
            state,
            at: t0(),
        })
    }
}

fn is<T: std::fmt::Debug>(r: Result<T, StoreError>, name: &str) {
    match r {
        Err(e) => assert_eq!(e.name(), name, "{e:?}"),
        Ok(v) => panic!("expected {name}, got Ok({v:?})"),
    }
}

async fn tenant_lifecycle_and_versions(s: TestStore) {
    let st = &s.store;
    let t = tenant("acme");
    let stored = st.create_tenant(&t).await.unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(
        st.get_tenant(&t.tenant_id).await.unwrap(),
        Some(stored.clone())
    );
    is(st.create_tenant(&t).await, "Steward.AlreadyExists");

    let mut active = stored.clone();
    active.status = TenantStatus::Active;
    let v2 = st.update_tenant(&active).await.unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(
        st.get_tenant(&t.tenant_id).await.unwrap().unwrap().status,
        TenantStatus::Active
    );

    // A writer holding the version-1 copy lost the race: it must re-read.
    let stale = st.update_tenant(&stored).await;
    assert!(
        matches!(stale, Err(StoreError::VersionConflict { expected: 1, .. })),
        "{stale:?}"
    );
    is(
        st.update_tenant(&tenant("nobody")).await,
        "Steward.NotFound",
    );
    assert_eq!(
        st.get_tenant(&TenantId::parse("nobody").unwrap())
            .await
            .unwrap(),
        None
    );
    // The ExternalId round-trips (it is needed to assume the role) but never prints.
    let got = st.get_tenant(&t.tenant_id).await.unwrap().unwrap();
    let steward_shared::model::Connection::AssumeRole { external_id, .. } = &got.connection else {
        panic!("a role tenant read back as {}", got.connection.kind());
    };
    assert_eq!(external_id.expose(), "steward-demo-external-id");
    assert!(!format!("{got:?}").contains("steward-demo-external-id"));
    assert_eq!(got, v2);

    // An access-key tenant (and its encryption and tag settings) round-trips too.
    let new: NewTenant = serde_json::from_value(serde_json::json!({
        "tenant_id": "selfmanaged",
        "account_id": "123456789012",
        "regions": ["us-east-1", "eu-central-1"],
        "credentials_secret_arn":
            "arn:aws:secretsmanager:us-east-1:999988887777:secret:steward/selfmanaged-AbCdEf",
        "encryption": {"volumeEncryptionKey": "alias/selfmanaged-desktops"},
        "tag_management": true,
    }))
    .unwrap();
    let keyed = st
        .create_tenant(&Tenant::register(new, t0()).unwrap())
        .await
        .unwrap();
    let back = st.get_tenant(&keyed.tenant_id).await.unwrap().unwrap();
    assert_eq!(back, keyed);
    assert_eq!(back.connection.kind(), "ACCESS_KEY");
    assert!(back.tag_management);
}

async fn concurrent_writers_exactly_one_wins(s: TestStore) {
    let st = &s.store;
    let base = st.create_tenant(&tenant("race")).await.unwrap();
    for round in 0..5u64 {
        let current = st.get_tenant(&base.tenant_id).await.unwrap().unwrap();
        let mut a = current.clone();
        a.policy.idle_timeout_minutes = 30;
        let mut b = current.clone();
        b.policy.idle_timeout_minutes = 90;
        let (ra, rb) = tokio::join!(st.update_tenant(&a), st.update_tenant(&b));
        let wins = [ra.is_ok(), rb.is_ok()].iter().filter(|w| **w).count();
        assert_eq!(wins, 1, "round {round}: {ra:?} / {rb:?}");
        let loser = if ra.is_ok() { rb } else { ra };
        is(loser, "Steward.Conflict");
        let after = st.get_tenant(&base.tenant_id).await.unwrap().unwrap();
        assert_eq!(after.version, current.version + 1);
    }
}

async fn tenants_list_in_pages(s: TestStore) {
    let st = &s.store;
    let mut ids = BTreeSet::new();
    for n in 0..23 {
        let id = format!("tenant-{n:03}");
        st.create_tenant(&tenant(&id)).await.unwrap();
        ids.insert(id);
    }
    let mut pages = 0;
    let mut req = PageRequest::first(5);
    let mut seen = Vec::new();
    loop {
        let page = st.list_tenants(req.clone()).await.unwrap();
        assert!(page.items.len() <= 5);
        seen.extend(page.items.into_iter().map(|t| t.tenant_id.to_string()));
        pages += 1;
        match page.next {
            Some(next) => req.after = Some(next),
            None => break,
        }
    }
    assert!((5..=6).contains(&pages), "{pages} pages");
    assert_eq!(seen.len(), 23, "no duplicates, none missing");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), ids);
    is(
        st.list_tenants(PageRequest {
            limit: Some(5),
            after: Some("NOT A TENANT".into()),
        })
        .await,
        "Steward.ValidationError",
    );
}

async fn workspaces_and_the_sparse_sweep_index(s: TestStore) {
    let st = &s.store;
    let states = [
        WorkspaceState::Available,
        WorkspaceState::Stopped,
        WorkspaceState::Starting,
        WorkspaceState::Pending,
        WorkspaceState::Terminated,
    ];
    let mut expected_sweep = BTreeSet::new();
    for n in 0..230u32 {
        let mode = if n % 7 == 0 {
            RunningMode::AlwaysOn
        } else {
            RunningMode::Manual
        };
        let w = workspace("acme", n, mode, states[n as usize % states.len()]);
        if w.needs_sweep() {
            expected_sweep.insert(w.workspace_id.to_string());
        }
        assert_eq!(st.create_workspace(&w).await.unwrap().version, 1);
    }
    // Another tenant's desktops never show up in acme's listings.
    st.create_workspace(&workspace(
        "globex",
        1,
        RunningMode::Manual,
        WorkspaceState::Available,
    ))
    .await
    .unwrap();
    let acme = TenantId::parse("acme").unwrap();

    let all = collect_all(|p| {
        st.list_workspaces(
            &acme,
            PageRequest {
                limit: Some(25),
                ..p
            },
        )
    })
    .await
    .unwrap();
    assert_eq!(all.len(), 230);
    assert!(all.iter().all(|w| w.tenant_id == acme));

    let sweep = collect_all(|p| {
        st.list_sweep_workspaces(
            &acme,
            PageRequest {
                limit: Some(25),
                ..p
            },
        )
    })
    .await
    .unwrap();
    let got: BTreeSet<String> = sweep.iter().map(|w| w.workspace_id.to_string()).collect();
    assert_eq!(
        got, expected_sweep,
        "the sweep reads exactly the MANUAL ones that are not TERMINATED"
    );
    assert!(sweep.iter().all(|w| w.running_mode == RunningMode::Manual));

    // A STOPPED desktop stays in the index (it may be started outside Steward); a
    // TERMINATED one leaves it; one seen again (STARTING) is back.
    // ws-00000002 is MANUAL and STARTING: in the index.
    let id = WorkspaceId::parse("ws-00000002").unwrap();
    let mut w = st.get_workspace(&acme, &id).await.unwrap().unwrap();
    assert!(got.contains(id.as_str()));
    let sweep_ids = |v: Vec<WorkspaceRecord>| {
        v.into_iter()
            .map(|w| w.workspace_id.to_string())
            .collect::<BTreeSet<_>>()
    };
    w.state = WorkspaceState::Stopped;
    let w = st.update_workspace(&w).await.unwrap();
    let after = collect_all(|p| st.list_sweep_workspaces(&acme, p))
        .await
        .unwrap();
    assert!(sweep_ids(after).contains(id.as_str()));
    let mut gone = w.clone();
    gone.state = WorkspaceState::Terminated;
    let w = st.update_workspace(&gone).await.unwrap();
    let after = collect_all(|p| st.list_sweep_workspaces(&acme, p))
        .await
        .unwrap();
    assert!(!sweep_ids(after).contains(id.as_str()));
    let mut w2 = w.clone();
    w2.state = WorkspaceState::Starting;
    let w2 = st.update_workspace(&w2).await.unwrap();
    let after = collect_all(|p| st.list_sweep_workspaces(&acme, p))
        .await
        .unwrap();
    assert!(sweep_ids(after).contains(id.as_str()));

    // Stale writes and deletes are refused; a delete at the right version removes it.
    is(st.update_workspace(&w).await, "Steward.Conflict");
    is(st.delete_workspace(&acme, &id, 1).await, "Steward.Conflict");
    st.delete_workspace(&acme, &id, w2.version).await.unwrap();
    assert_eq!(st.get_workspace(&acme, &id).await.unwrap(), None);
    is(
        st.delete_workspace(&acme, &id, w2.version).await,
        "Steward.NotFound",
    );
    is(
        st.list_workspaces(
            &acme,
            PageRequest {
                limit: None,
                after: Some("not-a-workspace".into()),
            },
        )
        .await,
        "Steward.ValidationError",
    );
}

async fn onboarding_steps_in_guide_order(s: TestStore) {
    let st = &s.store;
    let acme = TenantId::parse("acme").unwrap();
    let record = |step| StepRecord {
        tenant_id: acme.clone(),
        step,
        status: StepStatus::InProgress,
        attempts: 1,
        output: None,
        error: None,
        task_token: None,
        updated_at: t0(),
        version: 0,
    };
    for step in [
        OnboardingStep::CreateBundle,
        OnboardingStep::ValidateAccess,
        OnboardingStep::RegisterDirectory,
    ] {
        st.put_step(&record(step)).await.unwrap();
    }
    is(
        st.put_step(&record(OnboardingStep::ValidateAccess)).await,
        "Steward.AlreadyExists",
    );

    let mut done = st
        .get_step(&acme, OnboardingStep::ValidateAccess)
        .await
        .unwrap()
        .unwrap();
    done.status = StepStatus::Completed;
    done.output = Some(serde_json::json!({"account": "123456789012", "regions": ["us-east-1"]}));
    let done = st.put_step(&done).await.unwrap();
    assert_eq!(done.version, 2);
    let stale = StepRecord {
        version: 1,
        ..done.clone()
    };
    is(st.put_step(&stale).await, "Steward.Conflict");

    let steps = st.list_steps(&acme).await.unwrap();
    let order: Vec<_> = steps.iter().map(|s| s.step).collect();
    assert_eq!(
        order,
        [
            OnboardingStep::ValidateAccess,
            OnboardingStep::RegisterDirectory,
            OnboardingStep::CreateBundle
        ]
    );
    assert_eq!(steps[0], done, "output JSON round-trips");
}

async fn audit_by_time_range_in_pages(s: TestStore) {
    let st = &s.store;
    let acme = TenantId::parse("acme").unwrap();
    let record = |minutes: i64| AuditRecord {
        tenant_id: acme.clone(),
        audit_id: uuid::Uuid::new_v4(),
        at: t0() + Duration::minutes(minutes),
        actor: Actor::IdleSweep,
        action: "StopWorkspaces".into(),
        workspace_id: Some(WorkspaceId::parse("ws-00000001").unwrap()),
        reason: format!("idle for {minutes} minutes"),
        outcome: AuditOutcome::Succeeded,
    };
    let mut written = Vec::new();
    for m in 0..12 {
        let r = record(m * 10);
        st.append_audit(&r).await.unwrap();
        written.push(r);
    }
    is(st.append_audit(&written[0]).await, "Steward.AlreadyExists");
    // [t0+20min, t0+60min): 20, 30, 40, 50.
    let from = t0() + Duration::minutes(20);
    let to = t0() + Duration::minutes(60);
    let got = collect_all(|p| {
        st.list_audit(
            &acme,
            from,
            to,
            PageRequest {
                limit: Some(3),
                ..p
            },
        )
    })
    .await
    .unwrap();
    assert_eq!(got, written[2..6].to_vec());
    let mut failed = record(200);
    failed.actor = Actor::PartnerEvent {
        event_id: OpaqueId::parse("evt-1").unwrap(),
    };
    failed.outcome = AuditOutcome::Failed {
        error: steward_shared::model::ErrorRecord {
            name: "Steward.Throttled".into(),
            message: "rate exceeded".into(),
        },
    };
    st.append_audit(&failed).await.unwrap();
    let got = st
        .list_audit(
            &acme,
            t0() + Duration::minutes(200),
            t0() + Duration::minutes(201),
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(got.items, vec![failed]);
    assert_eq!(got.next, None);
}

async fn audit_batches_write_every_record(s: TestStore) {
    let st = &s.store;
    let acme = TenantId::parse("acme-batch").unwrap();
    // 60 records: three BatchWriteItem calls (25, 25, 10).
    let records: Vec<AuditRecord> = (0..60)
        .map(|i| AuditRecord {
            tenant_id: acme.clone(),
            audit_id: uuid::Uuid::new_v4(),
            at: t0() + Duration::seconds(i),
            actor: Actor::GuardSweep,
            action: "stop".into(),
            workspace_id: Some(WorkspaceId::parse(format!("ws-{:08}", i)).unwrap()),
            reason: format!("batch {i}"),
            outcome: AuditOutcome::Succeeded,
        })
        .collect();
    st.append_audits(&records).await.unwrap();
    st.append_audits(&[]).await.unwrap();
    let got = collect_all(|p| {
        st.list_audit(
            &acme,
            t0(),
            t0() + Duration::hours(1),
            PageRequest {
                limit: Some(25),
                ..p
            },
        )
    })
    .await
    .unwrap();
    assert_eq!(got, records, "every record, in time order, as written");
}

async fn usage_adds_up_per_month(s: TestStore) {
    let st = &s.store;
    let acme = TenantId::parse("acme").unwrap();
    let ws1 = WorkspaceId::parse("ws-00000001").unwrap();
    let ws2 = WorkspaceId::parse("ws-00000002").unwrap();
    let nov = Month::parse("2026-11").unwrap();
    let dec = Month::parse("2026-12").unwrap();
    st.add_usage(&acme, &ws1, &nov, 3600, 0).await.unwrap();
    st.add_usage(&acme, &ws1, &nov, 1800, 300).await.unwrap();
    st.add_usage(&acme, &ws2, &nov, 60, 60).await.unwrap();
    st.add_usage(&acme, &ws1, &dec, 7200, 0).await.unwrap();
    // Concurrent additions are atomic: none is lost.
    let adds = (0..10).map(|_| st.add_usage(&acme, &ws2, &dec, 100, 1));
    for r in futures::future::join_all(adds).await {
        r.unwrap();
    }
    let mut nov_usage = st.list_usage(&acme, &nov).await.unwrap();
    nov_usage.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
    assert_eq!(nov_usage.len(), 2);
    assert_eq!(
        (
            nov_usage[0].available_seconds,
            nov_usage[0].uncertainty_seconds
        ),
        (5400, 300)
    );
    assert_eq!(
        (
            nov_usage[1].available_seconds,
            nov_usage[1].uncertainty_seconds
        ),
        (60, 60)
    );
    let dec_usage: HashMap<_, _> = st
        .list_usage(&acme, &dec)
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.workspace_id.to_string(), u.available_seconds))
        .collect();
    assert_eq!(dec_usage["ws-00000001"], 7200);
    assert_eq!(dec_usage["ws-00000002"], 1000);
}

async fn batched_desktop_writes_answer_each_record(s: TestStore) {
    let st = &s.store;
    let acme = TenantId::parse("acme-tx").unwrap();
    // 130 desktops: two transactions (100 + 30).
    let mut read = Vec::new();
    for n in 0..130u32 {
        let w = workspace("acme-tx", n, RunningMode::Manual, WorkspaceState::Available);
        read.push(st.create_workspace(&w).await.unwrap());
    }
    // Three change under the batch (a session started): one in each transaction and the
    // last; one was never stored at all.
    for n in [5usize, 117, 129] {
        let mut w = read[n].clone();
        w.last_activity_at = Some(t0() + Duration::minutes(1));
        st.update_workspace(&w).await.unwrap();
    }
    let ghost = workspace(
        "acme-tx",
        999,
        RunningMode::Manual,
        WorkspaceState::Available,
    );
    let mut batch: Vec<WorkspaceRecord> = read
        .iter()
        .map(|w| {
            let mut w = w.clone();
            w.state = WorkspaceState::Stopping;
            w
        })
        .collect();
    batch.insert(
        60,
        WorkspaceRecord {
            version: 1,
            ..ghost.clone()
        },
    );
    let out = st.update_workspaces(&batch).await.unwrap();
    assert_eq!(out.len(), batch.len());
    for (w, r) in batch.iter().zip(out) {
        let n = u32::from_str_radix(&w.workspace_id.as_str()[3..], 16).unwrap();
        match n {
            5 | 117 | 129 => is(r, "Steward.Conflict"),
            999 => is(r, "Steward.NotFound"),
            _ => {
                let stored = r.unwrap();
                assert_eq!(stored.version, w.version + 1);
                assert_eq!(stored.state, WorkspaceState::Stopping);
            }
        }
    }
    // What the table holds: the written ones at version 2 and STOPPING (out of the sweep
    // index), the changed ones untouched, no ghost.
    let all = collect_all(|p| st.list_workspaces(&acme, p)).await.unwrap();
    assert_eq!(all.len(), 130);
    for w in &all {
        let n = u32::from_str_radix(&w.workspace_id.as_str()[3..], 16).unwrap();
        if [5, 117, 129].contains(&n) {
            assert_eq!((w.version, w.state), (2, WorkspaceState::Available));
        } else {
            assert_eq!((w.version, w.state), (2, WorkspaceState::Stopping));
        }
    }
    let ghost_id = ghost.workspace_id.clone();
    assert_eq!(st.get_workspace(&acme, &ghost_id).await.unwrap(), None);
    assert!(st.update_workspaces(&[]).await.unwrap().is_empty());
}

async fn batched_usage_adds_every_delta(s: TestStore) {
    let st = &s.store;
    let acme = TenantId::parse("acme-usage-tx").unwrap();
    let nov = Month::parse("2026-11").unwrap();
    let dec = Month::parse("2026-12").unwrap();
    // 150 desktops in November, one of them twice (merged into one action), and one in
    // December: two transactions.
    let mut deltas: Vec<UsageDelta> = (0..150u32)
        .map(|n| UsageDelta {
            tenant_id: acme.clone(),
            workspace_id: WorkspaceId::parse(format!("ws-{n:08x}")).unwrap(),
            month: nov.clone(),
            available_seconds: 60 + u64::from(n),
            uncertainty_seconds: u64::from(n % 2) * 300,
        })
        .collect();
    deltas.push(UsageDelta {
        available_seconds: 1000,
        uncertainty_seconds: 7,
        ..deltas[3].clone()
    });
    deltas.push(UsageDelta {
        month: dec.clone(),
        available_seconds: 42,
        uncertainty_seconds: 0,
        ..deltas[3].clone()
    });
    st.add_usages(&deltas).await.unwrap();
    st.add_usages(&[]).await.unwrap();
    // Added to what was there.
    st.add_usages(&deltas[..1]).await.unwrap();
    let got: HashMap<String, (u64, u64)> = st
        .list_usage(&acme, &nov)
        .await
        .unwrap()
        .into_iter()
        .map(|u| {
            (
                u.workspace_id.to_string(),
                (u.available_seconds, u.uncertainty_seconds),
            )
        })
        .collect();
    assert_eq!(got.len(), 150);
    assert_eq!(got["ws-00000000"], (120, 0));
    assert_eq!(got["ws-00000003"], (63 + 1000, 300 + 7));
    assert_eq!(got["ws-00000095"], (60 + 0x95, 300));
    let dec_usage = st.list_usage(&acme, &dec).await.unwrap();
    assert_eq!(dec_usage.len(), 1);
    assert_eq!(dec_usage[0].available_seconds, 42);
}

async fn event_dedupe_with_ttl(s: TestStore) {
    let st = &s.store;
    let acme = TenantId::parse("acme").unwrap();
    let evt = OpaqueId::parse("6a7e8feb-b491-4cf7-a9f1-bf3703467718").unwrap();
    let now = t0();
    let expires = now + Duration::hours(72);
    assert_eq!(
        st.claim_event(&acme, &evt, now, expires).await.unwrap(),
        Claim::Claimed
    );
    for _ in 0..3 {
        assert_eq!(
            st.claim_event(&acme, &evt, now + Duration::minutes(5), expires)
                .await
                .unwrap(),
            Claim::Duplicate
        );
    }
    // Same event id under another tenant is another event.
    let globex = TenantId::parse("globex").unwrap();
    assert_eq!(
        st.claim_event(&globex, &evt, now, expires).await.unwrap(),
        Claim::Claimed
    );
    // A forgotten claim (its handling failed) is claimed again by the redelivery, once.
    st.forget_event(&globex, &evt).await.unwrap();
    assert_eq!(
        st.claim_event(&globex, &evt, now, expires).await.unwrap(),
        Claim::Claimed
    );
    assert_eq!(
        st.claim_event(&globex, &evt, now, expires).await.unwrap(),
        Claim::Duplicate
    );
    // Once expired it counts as absent, even before TTL deletion removes it.
    let later = expires + Duration::seconds(1);
    assert_eq!(
        st.claim_event(&acme, &evt, later, later + Duration::hours(72))
            .await
            .unwrap(),
        Claim::Claimed
    );

    // The record carries the TTL attribute as a number, and the table's TTL is on.
    let item = st
        .client()
        .get_item()
        .table_name(st.table())
        .key("pk", AttributeValue::S("TENANT#acme".into()))
        .key("sk", AttributeValue::S(format!("EVENT#{evt}")))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let ttl = item.get(TTL_ATTRIBUTE).and_then(|v| v.as_n().ok()).unwrap();
    assert_eq!(
        ttl.parse::<i64>().unwrap(),
        (later + Duration::hours(72)).timestamp()
    );
    let desc = st
        .client()
        .describe_time_to_live()
        .table_name(st.table())
        .send()
        .await
        .unwrap();
    let spec = desc.time_to_live_description.unwrap();
    assert_eq!(spec.attribute_name(), Some(TTL_ATTRIBUTE));
    assert_eq!(
        spec.time_to_live_status().map(|s| s.as_str()),
        Some("ENABLED")
    );
}

async fn unreadable_items_are_named(s: TestStore) {
    let st = &s.store;
    st.client()
        .put_item()
        .table_name(st.table())
        .item("pk", AttributeValue::S("TENANT#broken".into()))
        .item("sk", AttributeValue::S("TENANT".into()))
        .item("tenant_id", AttributeValue::S("broken".into()))
        .item("account_id", AttributeValue::S("not-an-account".into()))
        .send()
        .await
        .unwrap();
    let r = st.get_tenant(&TenantId::parse("broken").unwrap()).await;
    assert!(matches!(r, Err(StoreError::Corrupt { .. })), "{r:?}");
    is(r, "Steward.StoreError");
}

async fn pools_their_desktops_and_users(s: TestStore) {
    use steward_shared::ids::{BundleId, PoolId, UserId};
    use steward_shared::model::{PoolRecord, PoolSeat, Presence, UserRecord, stamp_of};
    use steward_shared::pools::protocol::{ProtocolCheck, StreamingProtocol};
    use steward_shared::pools::{AssignmentPolicy, PoolSize, ReleaseAction, ReleasePlan};
    use steward_shared::store::{PoolStore, UserStore, UserWrite};
    let st = &s.store;
    let acme = TenantId::parse("acme").unwrap();
    let (a, b) = (
        PoolId::parse("pool-a").unwrap(),
        PoolId::parse("pool-b").unwrap(),
    );
    let pool = |id: &PoolId| PoolRecord {
        tenant_id: acme.clone(),
        pool_id: id.clone(),
        region: RegionName::parse("us-east-1").unwrap(),
        directory_id: DirectoryId::parse("d-1234567890").unwrap(),
        bundle_id: BundleId::parse("wsb-12345678a").unwrap(),
        protocol: StreamingProtocol::Byop,
        protocol_check: ProtocolCheck::Verified,
        size: PoolSize {
            min_size: 1,
            max_size: 5,
            cooldown_minutes: 30,
        },
        grow_by: 2,
        assignment: AssignmentPolicy::Floating,
        release: ReleasePlan {
            action: ReleaseAction::Rebuild,
            delay_minutes: 15,
        },
        presence: Presence::Active,
        desktops: 0,
        next_name: 1,
        changed_at: t0(),
        created_at: t0(),
        updated_at: t0(),
        version: 0,
    };
    let created = st.create_pool(&pool(&a)).await.unwrap();
    assert_eq!(created.version, 1);
    is(st.create_pool(&pool(&a)).await, "Steward.AlreadyExists");
    st.create_pool(&pool(&b)).await.unwrap();
    let mut grown = created.clone();
    grown.desktops = 2;
    assert_eq!(st.update_pool(&grown).await.unwrap().version, 2);
    is(st.update_pool(&grown).await, "Steward.Conflict");
    let pools: Vec<String> = st
        .list_pools(&acme)
        .await
        .unwrap()
        .iter()
        .map(|p| p.pool_id.to_string())
        .collect();
    assert_eq!(pools, ["pool-a", "pool-b"]);
    // Desktops of pool a, of pool b and of no pool: the table hands back only the pool's.
    for n in 0..7u32 {
        let mut w = workspace("acme", n, RunningMode::Manual, WorkspaceState::Available);
        w.pool = match n % 3 {
            0 => Some(PoolSeat::new(a.clone(), t0())),
            1 => Some(PoolSeat::new(b.clone(), t0())),
            _ => None,
        };
        st.create_workspace(&w).await.unwrap();
    }
    let in_a: Vec<String> = st
        .pool_desktops(&acme, &a)
        .await
        .unwrap()
        .iter()
        .map(|w| w.workspace_id.to_string())
        .collect();
    assert_eq!(in_a, ["ws-00000000", "ws-00000003", "ws-00000006"]);
    assert_eq!(st.pool_desktops(&acme, &b).await.unwrap().len(), 2);
    assert!(
        st.pool_desktops(&TenantId::parse("globex").unwrap(), &a)
            .await
            .unwrap()
            .is_empty()
    );
    // Users: a write by an older event is superseded; a removal wins a tie once.
    let user = |stamp_min: i64, presence| UserRecord {
        tenant_id: acme.clone(),
        user_id: UserId::parse("ana@example").unwrap(),
        display_name: None,
        pools: vec![a.clone()],
        presence,
        changed_at: t0() + Duration::minutes(stamp_min),
        stamp: stamp_of(t0() + Duration::minutes(stamp_min)),
    };
    assert!(
        st.put_user(&user(10, Presence::Active), UserWrite::Newer)
            .await
            .unwrap()
    );
    assert!(
        !st.put_user(&user(5, Presence::Active), UserWrite::Newer)
            .await
            .unwrap()
    );
    assert!(
        !st.put_user(&user(10, Presence::Active), UserWrite::Newer)
            .await
            .unwrap()
    );
    assert!(
        st.put_user(&user(10, Presence::Gone), UserWrite::NewerOrSame)
            .await
            .unwrap()
    );
    assert!(
        !st.put_user(&user(10, Presence::Gone), UserWrite::NewerOrSame)
            .await
            .unwrap()
    );
    let stored = st
        .get_user(&acme, &UserId::parse("ana@example").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.presence, Presence::Gone);
    let page = st.list_users(&acme, PageRequest::default()).await.unwrap();
    assert_eq!((page.items.len(), page.next), (1, None));
}

async fn plans_calendars_start_times_and_plan_usage(s: TestStore) {
    use steward_shared::ids::PoolId;
    use steward_shared::model::{CalendarRecord, PlanRecord, PlanUsageRecord, StartTimes};
    use steward_shared::plans::{CalendarName, DateSpan, PowerPlan};
    use steward_shared::store::PlanStore;
    let st = &s.store;
    let acme = TenantId::parse("acme").unwrap();
    let pool = PoolId::parse("pool-a").unwrap();
    let plan: PowerPlan = serde_json::from_value(serde_json::json!({
        "zone": "Europe/Berlin",
        "windows": [{"days": ["MON", "FRI"], "open": "07:00", "close": "19:00"}],
        "bufferPercent": 25
    }))
    .unwrap();
    let mut record = PlanRecord::new(acme.clone(), Some(pool.clone()), t0());
    record.plan = Some(plan.clone());
    let stored = st.put_plan(&record).await.unwrap();
    assert_eq!(stored.version, 1);
    is(st.put_plan(&record).await, "Steward.AlreadyExists");
    let tenant_group = st
        .put_plan(&PlanRecord::new(acme.clone(), None, t0()))
        .await
        .unwrap();
    let mut read = st.get_plan(&acme, Some(&pool)).await.unwrap().unwrap();
    assert_eq!(read, stored);
    read.plan = None;
    st.put_plan(&read).await.unwrap();
    is(st.put_plan(&read).await, "Steward.Conflict");
    let all = st.list_plans(&acme).await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.contains(&tenant_group));
    assert_eq!(st.get_plan(&acme, None).await.unwrap(), Some(tenant_group));

    let name = CalendarName::parse("de-be").unwrap();
    let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    let cal = CalendarRecord {
        tenant_id: acme.clone(),
        name: name.clone(),
        days: vec![DateSpan {
            from: day("2026-12-24"),
            to: day("2026-12-26"),
            name: Some("Christmas".into()),
        }],
        changed_at: t0(),
        version: 0,
    };
    let c1 = st.put_calendar(&cal).await.unwrap();
    assert_eq!(
        st.get_calendar(&acme, &name).await.unwrap(),
        Some(c1.clone())
    );
    assert_eq!(st.list_calendars(&acme).await.unwrap(), vec![c1]);

    let mut times = StartTimes {
        tenant_id: acme.clone(),
        samples: vec![120, 300],
        updated_at: t0(),
        version: 0,
    };
    let t1 = st.put_start_times(&times).await.unwrap();
    is(st.put_start_times(&times).await, "Steward.AlreadyExists");
    times.version = t1.version;
    times.add([90]);
    let t2 = st.put_start_times(&times).await.unwrap();
    assert_eq!(st.get_start_times(&acme).await.unwrap(), Some(t2));

    let month = Month::parse("2026-11").unwrap();
    let usage = |scope: &str, i: u64, o: u64| PlanUsageRecord {
        tenant_id: acme.clone(),
        scope: scope.into(),
        month: month.clone(),
        inside_seconds: i,
        outside_seconds: o,
    };
    st.add_plan_usages(&[
        usage("pool-a", 100, 10),
        usage("TENANT", 5, 0),
        usage("pool-a", 1, 2),
    ])
    .await
    .unwrap();
    st.add_plan_usages(&[usage("pool-a", 1000, 0)])
        .await
        .unwrap();
    let mut listed = st.list_plan_usage(&acme, &month).await.unwrap();
    listed.sort_by(|a, b| a.scope.cmp(&b.scope));
    assert_eq!(
        listed,
        vec![usage("TENANT", 5, 0), usage("pool-a", 1101, 12)]
    );
    let other = Month::parse("2026-12").unwrap();
    assert!(st.list_plan_usage(&acme, &other).await.unwrap().is_empty());
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod dynoxide_engine {
            $(
                #[tokio::test]
                async fn $case() {
                    let s = steward_tests::dynoxide().await;
                    assert_eq!(s.engine, "dynoxide");
                    super::$case(s).await;
                }
            )*
        }
        mod moto_engine {
            $(
                #[tokio::test]
                async fn $case() {
                    let s = steward_tests::moto().await;
                    assert_eq!(s.engine, "moto");
                    super::$case(s).await;
                }
            )*
        }
    };
}

conformance!(
    tenant_lifecycle_and_versions,
    concurrent_writers_exactly_one_wins,
    tenants_list_in_pages,
    workspaces_and_the_sparse_sweep_index,
    onboarding_steps_in_guide_order,
    audit_by_time_range_in_pages,
    audit_batches_write_every_record,
    usage_adds_up_per_month,
    batched_desktop_writes_answer_each_record,
    batched_usage_adds_every_delta,
    event_dedupe_with_ttl,
    unreadable_items_are_named,
    pools_their_desktops_and_users,
    plans_calendars_start_times_and_plan_usage,
);
