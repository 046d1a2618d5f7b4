//! EC2 DescribeSubnets (zone ids, filters, paging) and RegisterWorkspaceDirectory's refusal
//! of subnets in an unsupported zone or in one zone.

mod emulator_support;

use aws_sdk_workspaces::types::Tenancy;
use emulator_support::raw::query_call;
use emulator_support::*;
use workspaces_core_emulator::seed::ids;

const NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

fn item(id: &str, letter: char, zone_id: &str, octet: u8) -> String {
    format!(
        "<item><subnetId>{id}</subnetId><subnetArn>arn:aws:ec2:us-east-1:123456789012:subnet/{id}</subnetArn><state>available</state><ownerId>123456789012</ownerId><vpcId>vpc-0a1b2c3d4e5f60001</vpcId><cidrBlock>10.0.{octet}.0/24</cidrBlock><ipv6CidrBlockAssociationSet/><availableIpAddressCount>251</availableIpAddressCount><availabilityZone>us-east-1{letter}</availabilityZone><availabilityZoneId>{zone_id}</availabilityZoneId><defaultForAz>false</defaultForAz><mapPublicIpOnLaunch>false</mapPublicIpOnLaunch><assignIpv6AddressOnCreation>false</assignIpv6AddressOnCreation></item>"
    )
}

fn answer(items: &[String], next: Option<&str>) -> String {
    format!(
        "<DescribeSubnetsResponse xmlns=\"{NS}\"><requestId>-</requestId><subnetSet>{}</subnetSet>{}</DescribeSubnetsResponse>",
        items.concat(),
        next.map(|t| format!("<nextToken>{t}</nextToken>"))
            .unwrap_or_default()
    )
}

fn next_token(xml: &str) -> Option<String> {
    let a = xml.find("<nextToken>")? + "<nextToken>".len();
    let b = xml.find("</nextToken>")?;
    Some(xml[a..b].to_string())
}

async fn describe(url: &str, key: &str, form: &[(&str, &str)]) -> (u16, String) {
    let mut f = vec![("Action", "DescribeSubnets"), ("Version", "2016-11-15")];
    f.extend_from_slice(form);
    query_call(url, key, REGION, "ec2", &f).await
}

#[tokio::test]
async fn subnets_show_their_zone_ids_and_page() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let key = assume(&url).await.access_key_id().to_string();
    let a = item(ids::SUBNET_A, 'a', "use1-az6", 1);
    let b = item(ids::SUBNET_B, 'b', "use1-az4", 2);
    let c = item(ids::SUBNET_UNSUPPORTED_AZ, 'c', "use1-az3", 3);
    let (status, xml) = describe(&url, &key, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(xml, answer(&[a.clone(), b.clone(), c.clone()], None));
    let (_, xml) = describe(
        &url,
        &key,
        &[
            ("Filter.1.Name", "availability-zone-id"),
            ("Filter.1.Value.1", "use1-az3"),
        ],
    )
    .await;
    assert_eq!(xml, answer(std::slice::from_ref(&c), None));
    let (_, xml) = describe(&url, &key, &[("SubnetId.1", ids::SUBNET_B)]).await;
    assert_eq!(xml, answer(std::slice::from_ref(&b), None));
    // The default page size applies when MaxResults is absent.
    emu.control().update_options(|o| o.default_page_size = 2);
    let (_, p1) = describe(&url, &key, &[]).await;
    let token = next_token(&p1).expect("a second page");
    assert_eq!(p1, answer(&[a.clone(), b.clone()], Some(&token)));
    let (_, p2) = describe(&url, &key, &[("NextToken", &token)]).await;
    assert_eq!(p2, answer(std::slice::from_ref(&c), None));
    // MaxResults wins over the default.
    let (_, all) = describe(&url, &key, &[("MaxResults", "5")]).await;
    assert_eq!(all, answer(&[a, b, c], None));
    assert_eq!(emu.control().calls(CUSTOMER, "EC2.DescribeSubnets"), 6);
    emu.shutdown().await;
}

#[tokio::test]
async fn invalid_subnet_requests() {
    let emu = start().await;
    let url = emu.endpoint_url();
    let key = assume(&url).await.access_key_id().to_string();
    let code = |xml: &str| {
        let a = xml.find("<Code>").map_or(0, |i| i + 6);
        let b = xml.find("</Code>").unwrap_or(a);
        xml[a..b].to_string()
    };
    for (form, expected) in [
        (
            vec![("SubnetId.1", "subnet-0000000000000000f")],
            "InvalidSubnetID.NotFound",
        ),
        (vec![("SubnetId.1", "sn-1")], "InvalidSubnetID.Malformed"),
        (
            vec![("Filter.1.Name", "color"), ("Filter.1.Value.1", "x")],
            "InvalidParameterValue",
        ),
        (vec![("MaxResults", "4")], "InvalidParameterValue"),
        (vec![("NextToken", "forged")], "InvalidParameterValue"),
    ] {
        let (status, xml) = describe(&url, &key, &form).await;
        assert_eq!(
            (status, code(&xml)),
            (400, expected.to_string()),
            "{form:?}"
        );
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn registration_refuses_unsupported_or_shared_zones() {
    let emu = start().await;
    let ws = customer_ws(&emu.endpoint_url()).await;
    let register = |subnets: &[&str]| {
        let mut r = ws
            .register_workspace_directory()
            .directory_id(ids::DIRECTORY_LAB)
            .tenancy(Tenancy::Shared)
            .tags(partner_tag());
        for s in subnets {
            r = r.subnet_ids(*s);
        }
        r.send()
    };
    let e = register(&[ids::SUBNET_A, ids::SUBNET_UNSUPPORTED_AZ])
        .await
        .unwrap_err();
    assert_eq!(code(&e), "OperationNotSupportedException");
    assert_eq!(
        e.as_service_error().and_then(|s| s.meta().message()),
        Some(
            "A subnet is in Availability Zone use1-az3 (us-east-1c), which WorkSpaces does not support."
        )
    );
    let e = register(&[ids::SUBNET_A, ids::SUBNET_A]).await.unwrap_err();
    assert_eq!(code(&e), "OperationNotSupportedException");
    let e = register(&[ids::SUBNET_A, "subnet-0000000000000000f"])
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValuesException");
    assert!(
        ws.describe_workspace_directories()
            .send()
            .await
            .unwrap()
            .directories()
            .is_empty()
    );
    // With the zone no longer listed, the same pair registers.
    emu.control()
        .update_options(|o| o.unsupported_az_ids.clear());
    let out = register(&[ids::SUBNET_A, ids::SUBNET_UNSUPPORTED_AZ])
        .await
        .unwrap();
    assert_eq!(out.state().map(|s| s.as_str()), Some("REGISTERING"));
    emu.shutdown().await;
}
