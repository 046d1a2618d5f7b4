//! Service Quotas GetServiceQuota: the WorkSpaces quota's exact shape, the seed switches
//! (value, read denied), the quota code option, and the model's errors.

mod emulator_support;

use emulator_support::raw::json_call;
use emulator_support::*;
use serde_json::{Value, json};
use workspaces_core_emulator::AccountSeed;

const TARGET: &str = "ServiceQuotasV20190624.GetServiceQuota";

async fn get(url: &str, key: &str, body: Value) -> (u16, Value) {
    json_call(url, TARGET, key, REGION, "servicequotas", body).await
}

fn quota(account: &str, code: &str, value: f64) -> Value {
    json!({"Quota": {
        "ServiceCode": "workspaces", "ServiceName": "Amazon WorkSpaces",
        "QuotaArn": format!("arn:aws:servicequotas:us-east-1:{account}:workspaces/{code}"),
        "QuotaCode": code, "QuotaName": "WorkSpaces", "Value": value, "Unit": "None",
        "Adjustable": true, "GlobalQuota": false,
    }})
}

#[tokio::test]
async fn the_workspaces_quota_and_its_switches() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let key = assume(&url).await.access_key_id().to_string();
    let ask = json!({"ServiceCode": "workspaces", "QuotaCode": "L-34278094"});
    let (status, v) = get(&url, &key, ask.clone()).await;
    assert_eq!((status, v), (200, quota(CUSTOMER, "L-34278094", 10_000.0)));
    assert_eq!(
        emu.control()
            .calls(CUSTOMER, "ServiceQuotas.GetServiceQuota"),
        1
    );

    emu.control().seed_account(&AccountSeed {
        account_id: "210000000002".into(),
        service_quota_value: 5.0,
        ..AccountSeed::default()
    });
    emu.control().seed_account(&AccountSeed {
        account_id: "210000000003".into(),
        quota_read_denied: true,
        ..AccountSeed::default()
    });
    let low = assume_in(&url, "210000000002").await;
    let (_, v) = get(&url, low.access_key_id(), ask.clone()).await;
    assert_eq!(v, quota("210000000002", "L-34278094", 5.0));
    let denied = assume_in(&url, "210000000003").await;
    let (status, v) = get(&url, denied.access_key_id(), ask.clone()).await;
    assert_eq!(
        (status, v),
        (
            400,
            json!({"__type": "AccessDeniedException",
                "message": "User: arn:aws:sts::210000000003:assumed-role/StewardPartnerAccess/steward-test is not authorized to perform: servicequotas:GetServiceQuota"})
        )
    );

    // The quota code is an option.
    emu.control()
        .update_options(|o| o.workspaces_quota_code = "L-ABCDEF01".into());
    let (_, v) = get(&url, &key, ask.clone()).await;
    assert_eq!(v["__type"], "NoSuchResourceException");
    let (_, v) = get(
        &url,
        &key,
        json!({"ServiceCode": "workspaces", "QuotaCode": "L-ABCDEF01"}),
    )
    .await;
    assert_eq!(v, quota(CUSTOMER, "L-ABCDEF01", 10_000.0));
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_quotas_and_invalid_codes() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let key = assume(&url).await.access_key_id().to_string();
    let cases = [
        (
            json!({"ServiceCode": "ec2", "QuotaCode": "L-34278094"}),
            "NoSuchResourceException",
        ),
        (
            json!({"ServiceCode": "workspaces", "QuotaCode": "L-00000000"}),
            "NoSuchResourceException",
        ),
        (
            json!({"ServiceCode": "1workspaces", "QuotaCode": "L-34278094"}),
            "IllegalArgumentException",
        ),
        (
            json!({"ServiceCode": "workspaces"}),
            "IllegalArgumentException",
        ),
        (
            json!({"ServiceCode": "workspaces", "QuotaCode": 7}),
            "IllegalArgumentException",
        ),
    ];
    for (body, code) in cases {
        let (status, v) = get(&url, &key, body.clone()).await;
        assert_eq!((status, v["__type"].as_str()), (400, Some(code)), "{body}");
    }
    emu.shutdown().await;
}
