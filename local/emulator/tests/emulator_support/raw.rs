//! AWS calls made by hand, for the services no SDK crate of this workspace covers (Directory
//! Service, IAM, Service Quotas, EC2 DescribeSubnets): the emulator reads only the access key
//! id and the Region of the SigV4 `Authorization` header, so a fixed signature is enough.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// The Authorization header of a key id, Region and service.
fn authorization(key_id: &str, region: &str, service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={key_id}/20261128/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
    )
}

async fn send(req: hyper::Request<Full<Bytes>>) -> (u16, Bytes) {
    let c: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let resp = c.request(req).await.expect("request");
    let status = resp.status().as_u16();
    (
        status,
        resp.into_body().collect().await.expect("body").to_bytes(),
    )
}

/// A control API call (`/_emulator/…`): status and the JSON answer (`null` when there is
/// none).
pub async fn control(url: String, method: &str, body: Option<Value>) -> (u16, Value) {
    let req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .expect("request");
    let (status, bytes) = send(req).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// An awsJson1_1 call: status and the JSON answer.
pub async fn json_call(
    url: &str,
    target: &str,
    key_id: &str,
    region: &str,
    service: &str,
    body: Value,
) -> (u16, Value) {
    let req = hyper::Request::post(url)
        .header("x-amz-target", target)
        .header("content-type", "application/x-amz-json-1.1")
        .header("authorization", authorization(key_id, region, service))
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let (status, bytes) = send(req).await;
    (
        status,
        serde_json::from_slice(&bytes).expect("a JSON answer"),
    )
}

/// A query-protocol call (STS, IAM, EC2): status and the XML answer with its request id
/// blanked, so that whole answers can be compared.
pub async fn query_call(
    url: &str,
    key_id: &str,
    region: &str,
    service: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let req = hyper::Request::post(url)
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header("authorization", authorization(key_id, region, service))
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let (status, bytes) = send(req).await;
    (status, blank_request_id(&String::from_utf8_lossy(&bytes)))
}

/// Replaces the text of `<RequestId>` / `<requestId>` / `<RequestID>` with `-`.
pub fn blank_request_id(xml: &str) -> String {
    let mut out = xml.to_string();
    for tag in ["RequestId", "requestId", "RequestID"] {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        if let (Some(a), Some(b)) = (out.find(&open), out.find(&close))
            && a < b
        {
            out.replace_range(a + open.len()..b, "-");
        }
    }
    out
}
