//! Directory Service DescribeDirectories: the seeded directories' exact descriptions, paging
//! by Limit and by the default page size, and the model's errors.

mod emulator_support;

use emulator_support::raw::json_call;
use emulator_support::*;
use serde_json::{Value, json};
use workspaces_core_emulator::seed::ids;

const TARGET: &str = "DirectoryService_20150416.DescribeDirectories";

async fn describe(url: &str, key: &str, body: Value) -> (u16, Value) {
    json_call(url, TARGET, key, REGION, "ds", body).await
}

/// The description of a seeded directory, given its launch time.
fn expected(id: &str, launch: &Value) -> Value {
    let corp = id == ids::DIRECTORY_CORP;
    let (name, short, alias) = if corp {
        ("corp.example.com", "CORP", "corp-example")
    } else {
        ("lab.example.com", "LAB", "lab-example")
    };
    let sg = format!("sg-0{}000000", &id[2..]);
    let mut d = json!({
        "DirectoryId": id, "Name": name, "ShortName": short, "Size": "Small", "Alias": alias,
        "AccessUrl": format!("{alias}.awsapps.com"),
        "Description": format!("{} directory of the Steward emulator seed", &name[..name.find('.').unwrap()]),
        "DnsIpAddrs": ["10.0.1.10", "10.0.2.10"], "Stage": "Active",
        "LaunchTime": launch, "StageLastUpdatedDateTime": launch,
        "Type": if corp { "ADConnector" } else { "SimpleAD" }, "SsoEnabled": false,
    });
    let settings = json!({
        "VpcId": ids::VPC, "SubnetIds": [ids::SUBNET_A, ids::SUBNET_B], "SecurityGroupId": sg,
        "AvailabilityZones": ["us-east-1a", "us-east-1b"],
    });
    if corp {
        let mut s = settings;
        s["CustomerUserName"] = json!("Administrator");
        s["ConnectIps"] = json!(["10.0.1.20", "10.0.2.20"]);
        d["ConnectSettings"] = s;
    } else {
        d["VpcSettings"] = settings;
    }
    d
}

#[tokio::test]
async fn the_customer_sees_the_seeded_directories_exactly() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let key = assume(&url).await.access_key_id().to_string();
    let (status, v) = describe(&url, &key, json!({})).await;
    assert_eq!(status, 200, "{v}");
    let list = v["DirectoryDescriptions"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let launch = list[0]["LaunchTime"].clone();
    let month_ago = emu.control().now().timestamp_millis() as f64 / 1000.0 - 30.0 * 86_400.0;
    let t = launch.as_f64().unwrap();
    assert!(
        (month_ago - 60.0..=month_ago).contains(&t),
        "{t} vs {month_ago}"
    );
    assert_eq!(
        v,
        json!({"DirectoryDescriptions": [expected(ids::DIRECTORY_CORP, &launch), expected(ids::DIRECTORY_LAB, &launch)]})
    );
    // One directory by id; an empty body is an empty request.
    let (_, one) = describe(&url, &key, json!({"DirectoryIds": [ids::DIRECTORY_LAB]})).await;
    assert_eq!(
        one,
        json!({"DirectoryDescriptions": [expected(ids::DIRECTORY_LAB, &launch)]})
    );
    assert_eq!(
        emu.control()
            .calls(CUSTOMER, "DirectoryService.DescribeDirectories"),
        2
    );
    // The partner's own account and another Region have none.
    let (_, partner) = describe(&url, "AKIDPARTNEREXAMPLE", json!({})).await;
    assert_eq!(partner, json!({"DirectoryDescriptions": []}));
    let (_, west) = json_call(&url, TARGET, &key, "us-west-2", "ds", json!({})).await;
    assert_eq!(west, json!({"DirectoryDescriptions": []}));
    emu.shutdown().await;
}

#[tokio::test]
async fn pages_follow_limit_then_the_default_page_size() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let key = assume(&url).await.access_key_id().to_string();
    let (_, p1) = describe(&url, &key, json!({"Limit": 1})).await;
    assert_eq!(p1["DirectoryDescriptions"].as_array().unwrap().len(), 1);
    assert_eq!(
        p1["DirectoryDescriptions"][0]["DirectoryId"],
        ids::DIRECTORY_CORP
    );
    let token = p1["NextToken"].as_str().unwrap().to_string();
    let (_, p2) = describe(&url, &key, json!({"Limit": 1, "NextToken": token})).await;
    assert_eq!(p2["DirectoryDescriptions"].as_array().unwrap().len(), 1);
    assert_eq!(
        p2["DirectoryDescriptions"][0]["DirectoryId"],
        ids::DIRECTORY_LAB
    );
    assert_eq!(p2.get("NextToken"), None);
    // Limit 0 is the service's choice: the default page size.
    emu.control().update_options(|o| o.default_page_size = 1);
    let (_, d1) = describe(&url, &key, json!({"Limit": 0})).await;
    assert_eq!(d1["DirectoryDescriptions"].as_array().unwrap().len(), 1);
    let (_, d2) = describe(
        &url,
        &key,
        json!({"Limit": 0, "NextToken": d1["NextToken"]}),
    )
    .await;
    assert_eq!(
        d2["DirectoryDescriptions"][0]["DirectoryId"],
        ids::DIRECTORY_LAB
    );
    assert_eq!(d2.get("NextToken"), None);
    emu.shutdown().await;
}

#[tokio::test]
async fn invalid_requests_answer_the_model_errors() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let key = assume(&url).await.access_key_id().to_string();
    let cases = [
        (
            json!({"DirectoryIds": ["d-0000000000"]}),
            "EntityDoesNotExistException",
        ),
        (
            json!({"DirectoryIds": ["d-1"]}),
            "InvalidParameterException",
        ),
        (json!({"Limit": -1}), "InvalidParameterException"),
        (json!({"Limit": "two"}), "InvalidParameterException"),
        (json!({"NextToken": "forged"}), "InvalidNextTokenException"),
    ];
    for (body, code) in cases {
        let (status, v) = describe(&url, &key, body.clone()).await;
        assert_eq!((status, v["__type"].as_str()), (400, Some(code)), "{body}");
    }
    let (_, v) = describe(&url, &key, json!({"DirectoryIds": ["d-0000000000"]})).await;
    assert_eq!(
        v["message"],
        "A directory named in DirectoryIds does not exist in this account and Region."
    );
    let (status, v) = json_call(
        &url,
        "DirectoryService_20150416.CreateDirectory",
        &key,
        REGION,
        "ds",
        json!({}),
    )
    .await;
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
    emu.shutdown().await;
}
