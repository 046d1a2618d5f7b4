//! `steward-local bench emulator`: DescribeWorkspaces throughput over
//! loopback with a bulk seed. Not a test: it reports figures.

use super::seed::BulkSeed;
use super::{Emulator, EmulatorConfig, SeedKind};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub workspaces: usize,
    pub accounts: usize,
    pub requests: usize,
    pub concurrency: usize,
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub workspaces: usize,
    pub accounts: usize,
    pub requests: usize,
    pub concurrency: usize,
    pub seed_seconds: f64,
    pub seconds: f64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: usize,
    pub by_ids_requests: usize,
    pub by_directory_requests: usize,
    pub peak_rss_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("emulator: {0}")]
    Emulator(#[from] super::EmulatorError),
    #[error("http: {0}")]
    Http(String),
    #[error("AssumeRole answered without an AccessKeyId")]
    NoCredentials,
}

/// Peak resident set size of this process (VmHWM), in bytes.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

fn auth(access_key: &str, service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
    )
}

async fn post(
    client: &HttpClient,
    url: &str,
    headers: &[(&str, &str)],
    body: String,
) -> Result<(u16, Bytes), BenchError> {
    let mut req = hyper::Request::post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| BenchError::Http(e.to_string()))?;
    let resp = client
        .request(req)
        .await
        .map_err(|e| BenchError::Http(e.to_string()))?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| BenchError::Http(e.to_string()))?
        .to_bytes();
    Ok((status, body))
}

/// NextToken of a DescribeWorkspaces page, without parsing the page
/// (tokens are hex and a dot: never escaped).
fn next_token(body: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(body).ok()?;
    let rest = &s[s.rfind("\"NextToken\":\"")? + 13..];
    Some(rest[..rest.find('"')?].to_string())
}

struct Target {
    access_key: String,
    directory_id: String,
    ids: Vec<String>,
}

pub async fn run(cfg: BenchConfig) -> Result<BenchReport, BenchError> {
    let mut options = super::Options::default();
    options.rate_limit.enabled = false;
    let emu = Emulator::start(EmulatorConfig {
        seed: SeedKind::None,
        options,
        ..EmulatorConfig::default()
    })
    .await?;
    let url = emu.endpoint_url();
    let accounts = cfg.accounts.max(1);
    let per = cfg.workspaces.div_ceil(accounts).max(1);
    let t0 = Instant::now();
    let seeded = emu.control().bulk_seed(&BulkSeed {
        accounts,
        workspaces_per_account: per,
        ..BulkSeed::default()
    });
    let seed_seconds = t0.elapsed().as_secs_f64();
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut targets = Vec::new();
    for a in &seeded {
        let body = format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=bench&ExternalId={}",
            a.role_arn, a.external_id
        );
        let (_, xml) = post(
            &client,
            &url,
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", &auth("AKIDBENCHPARTNER", "sts")),
            ],
            body,
        )
        .await?;
        let xml = String::from_utf8_lossy(&xml);
        let key = xml
            .split("<AccessKeyId>")
            .nth(1)
            .and_then(|r| r.split("</AccessKeyId>").next())
            .ok_or(BenchError::NoCredentials)?
            .to_string();
        let ids = emu.control().workspace_ids(&a.account_id, &a.region);
        targets.push(Target {
            access_key: key,
            directory_id: a.directory_id.clone(),
            ids,
        });
    }
    let targets = Arc::new(targets);
    let issued = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..cfg.concurrency.max(1) {
        let (client, url, targets, issued) =
            (client.clone(), url.clone(), targets.clone(), issued.clone());
        let total = cfg.requests;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let (mut errors, mut by_ids, mut by_dir) = (0usize, 0usize, 0usize);
            let mut rng: u64 = 0x9E37_79B9_7F4A_7C15 ^ (worker as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            let mut next = |n: usize| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                (rng % n.max(1) as u64) as usize
            };
            let mut tokens: Vec<Option<String>> = vec![None; targets.len()];
            loop {
                let i = issued.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = next(targets.len());
                let target = &targets[t];
                let body = if i % 2 == 0 {
                    by_ids += 1;
                    let n = 1 + next(25);
                    let ids: Vec<&String> = (0..n).map(|_| &target.ids[next(target.ids.len())]).collect();
                    serde_json::json!({"WorkspaceIds": ids}).to_string()
                } else {
                    by_dir += 1;
                    match &tokens[t] {
                        Some(tok) => serde_json::json!({"DirectoryId": target.directory_id, "Limit": 25, "NextToken": tok}).to_string(),
                        None => serde_json::json!({"DirectoryId": target.directory_id, "Limit": 25}).to_string(),
                    }
                };
                let authz = auth(&target.access_key, "workspaces");
                let headers = [
                    ("content-type", "application/x-amz-json-1.1"),
                    ("x-amz-target", "WorkspacesService.DescribeWorkspaces"),
                    ("authorization", authz.as_str()),
                ];
                let t1 = Instant::now();
                match post(&client, &url, &headers, body).await {
                    Ok((200, body)) => {
                        if i % 2 == 1 {
                            tokens[t] = next_token(&body);
                        }
                    }
                    _ => errors += 1,
                }
                lat.push(t1.elapsed().as_micros() as u32);
            }
            (lat, errors, by_ids, by_dir)
        }));
    }
    let mut lat = Vec::with_capacity(cfg.requests);
    let (mut errors, mut by_ids, mut by_dir) = (0, 0, 0);
    for t in tasks {
        if let Ok((l, e, a, b)) = t.await {
            lat.extend(l);
            errors += e;
            by_ids += a;
            by_dir += b;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    let report = BenchReport {
        workspaces: accounts * per,
        accounts,
        requests: lat.len(),
        concurrency: cfg.concurrency,
        seed_seconds,
        seconds,
        requests_per_second: lat.len() as f64 / seconds.max(1e-9),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: lat.last().map_or(0.0, |us| *us as f64 / 1000.0),
        errors,
        by_ids_requests: by_ids,
        by_directory_requests: by_dir,
        peak_rss_bytes: peak_rss_bytes(),
    };
    emu.shutdown().await;
    Ok(report)
}
