//! `query` on the emulator and dynoxide: each query answers from the service and the table
//! in the documented shape (`events/schemas/query/`), and refuses what is not the tenant's.

mod power_common;

use power_common::{World, registered_ids, world};
use serde_json::{Value, json};
use steward_functions::dispatch;
use steward_shared::lifecycle::detail_types;
use steward_tests::query_schemas::{branch, read_json, root};

async fn query(w: &World, mut req: Value) -> Result<Value, String> {
    if req.get("tenantId").is_none() {
        req["tenantId"] = json!(w.tenants[0].tenant_id);
    }
    let q = req["query"].as_str().unwrap_or_default().to_owned();
    if !q.is_empty() && q != "nope" {
        assert!(
            branch("request.json", &q).is_valid(&req),
            "{q}: the request fits its schema: {req}"
        );
    }
    let out = dispatch("query", req, &w.deps)
        .await
        .map_err(|e| e.name().to_owned())?;
    assert!(
        branch("response.json", &q).is_valid(&out),
        "{q}: the answer fits its schema: {out}"
    );
    Ok(out)
}

#[test]
fn every_sample_request_fits_the_schema() {
    let s = read_json(root().join("events/schemas/query/request.json"));
    let v = jsonschema::options()
        .should_validate_formats(true)
        .build(&s)
        .unwrap();
    for q in steward_functions::query::QUERIES {
        let sample = read_json(root().join(format!("events/query/{q}.json")));
        assert!(v.is_valid(&sample), "{q}");
        assert_eq!(sample["query"], q);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_answers_from_the_service_and_the_table() {
    let w = world(1, 3, 2).await;
    w.emu.control().set_rate_limit(false);
    let ids = registered_ids(&w.emu, &w.accounts[0]);
    let a = &w.accounts[0];
    let calls = |op: &str| w.calls(0, &format!("WorkSpaces.{op}"));

    // A reboot so the audit trail has something, and a shared image.
    let e = w.event(
        "q-reboot",
        detail_types::REBOOT,
        0,
        json!({"workspaceIds": [ids[0]], "occurredAt": w.now()}),
    );
    dispatch("lifecycle.commands", e, &w.deps).await.unwrap();
    let e = w.event(
        "q-share",
        detail_types::IMAGE_PERMISSION,
        0,
        json!({"imageId": a.image_id, "sharedAccountId": "123456789012",
               "allowCopyImage": true, "occurredAt": w.now()}),
    );
    dispatch("lifecycle.commands", e, &w.deps).await.unwrap();

    let d = query(&w, json!({"query": "desktops"})).await.unwrap();
    let desks = d["desktops"].as_array().unwrap();
    assert_eq!(desks.len(), 2, "registered desktops only");
    let first = desks.iter().find(|x| x["workspaceId"] == ids[0]).unwrap();
    assert_eq!(first["steward"]["state"], "REBOOTING");
    assert_eq!(first["service"]["state"], "REBOOTING");
    assert!(
        first["connection"]["connectionState"].is_string(),
        "{first}"
    );
    assert_eq!(calls("DescribeWorkspacesConnectionStatus"), 1);

    let b = query(&w, json!({"query": "bundles"})).await.unwrap();
    let ours = b["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["bundleId"] == a.bundle_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(ours["partnerTagged"], true);

    let i = query(&w, json!({"query": "images"})).await.unwrap();
    let img = i["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["imageId"] == a.image_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(img["state"], "AVAILABLE");
    assert_eq!(img["partnerTagged"], true);

    let p = query(
        &w,
        json!({"query": "imagePermissions", "imageId": a.image_id}),
    )
    .await
    .unwrap();
    assert_eq!(p["sharedAccountIds"], json!(["123456789012"]));

    let s = query(&w, json!({"query": "snapshots", "workspaceId": ids[1]}))
        .await
        .unwrap();
    assert_eq!(s["snapshots"]["workspaceId"], ids[1]);
    assert_eq!(calls("DescribeWorkspaceSnapshots"), 1);

    let dirs = query(&w, json!({"query": "directories"})).await.unwrap();
    let dir = dirs["directories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["directoryId"] == a.directory_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(dir["state"], "REGISTERED");
    assert_eq!(dir["partnerTagged"], true);

    let t = query(&w, json!({"query": "tags", "resourceId": ids[0]}))
        .await
        .unwrap();
    let tenant = w.tenant(0).await;
    assert_eq!(
        t["tags"][tenant.partner_tag.key.as_str()],
        json!(tenant.partner_tag.value)
    );

    let ac = query(&w, json!({"query": "account"})).await.unwrap();
    assert_eq!(ac["account"]["dedicatedTenancySupport"], "ENABLED");
    assert_eq!(calls("DescribeAccountModifications"), 1);

    let month = steward_shared::model::Month::of(w.now());
    let u = query(&w, json!({"query": "usage", "month": month.as_str()}))
        .await
        .unwrap();
    assert_eq!(u["month"], month.as_str());
    // camelCase, like every other answer.
    assert_eq!(u["tenantId"], json!(w.tenants[0].tenant_id));
    assert!(u["totalAvailableHours"].is_number(), "{u}");
    assert!(u.get("tenant_id").is_none(), "{u}");

    let from = w.now() - chrono::Duration::days(1);
    let to = w.now() + chrono::Duration::days(1);
    let au = query(&w, json!({"query": "audit", "from": from, "to": to}))
        .await
        .unwrap();
    let actions: Vec<&str> = au["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert!(actions.contains(&"reboot"), "{actions:?}");
    assert!(actions.contains(&"update_image_permission"), "{actions:?}");
    let one = query(
        &w,
        json!({"query": "audit", "from": from, "to": to, "limit": 1}),
    )
    .await
    .unwrap();
    assert_eq!(one["audit"].as_array().unwrap().len(), 1);

    // Refusals: none of them calls the service.
    let before = calls("DescribeWorkspaceSnapshots") + calls("DescribeWorkspaceImagePermissions");
    let err = |r: Result<Value, String>| r.unwrap_err();
    assert_eq!(
        err(dispatch(
            "query",
            json!({"query": "nope", "tenantId": tenant.tenant_id}),
            &w.deps
        )
        .await
        .map_err(|e| e.name().to_owned())),
        "Steward.ValidationError"
    );
    assert_eq!(
        err(dispatch(
            "query",
            json!({"query": "desktops", "tenantId": "no-such-tenant"}),
            &w.deps
        )
        .await
        .map_err(|e| e.name().to_owned())),
        "Steward.NotFound"
    );
    assert_eq!(
        err(dispatch(
            "query",
            json!({"query": "snapshots", "tenantId": tenant.tenant_id, "workspaceId": ids[2]}),
            &w.deps
        )
        .await
        .map_err(|e| e.name().to_owned())),
        "Steward.NotOwned"
    );
    assert_eq!(
        err(dispatch(
            "query",
            json!({"query": "usage", "tenantId": tenant.tenant_id, "month": "2026-13"}),
            &w.deps
        )
        .await
        .map_err(|e| e.name().to_owned())),
        "Steward.ValidationError"
    );
    assert_eq!(
        err(dispatch(
            "query",
            json!({"query": "bundles", "tenantId": tenant.tenant_id, "region": "eu-west-1"}),
            &w.deps
        )
        .await
        .map_err(|e| e.name().to_owned())),
        "Steward.NotOwned"
    );
    assert_eq!(
        err(dispatch(
            "query",
            json!({"query": "tags", "tenantId": tenant.tenant_id, "resourceId": ids[2]}),
            &w.deps
        )
        .await
        .map_err(|e| e.name().to_owned())),
        "Steward.NotOwned"
    );
    assert_eq!(
        calls("DescribeWorkspaceSnapshots") + calls("DescribeWorkspaceImagePermissions"),
        before
    );
}
