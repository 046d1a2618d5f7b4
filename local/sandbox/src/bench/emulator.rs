//! `steward-local bench emulator`: DescribeWorkspaces throughput over
//! loopback with a bulk seed. Not a test: it reports figures.

use super::peak_rss_bytes;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use workspaces_core_emulator::seed::BulkSeed;
use workspaces_core_emulator::{
    Emulator, EmulatorConfig, EmulatorError, EmulatorHandle, Options, SeedKind,
};

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
    Emulator(#[from] EmulatorError),
    #[error("http: {0}")]
    Http(String),
    #[error("AssumeRole answered without an AccessKeyId")]
    NoCredentials,
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

/// What one load generator saw.
#[derive(Default)]
struct WorkerTally {
    /// Latency of each request, in microseconds.
    latencies_us: Vec<u32>,
    errors: usize,
    by_ids: usize,
    by_directory: usize,
}

pub async fn run(cfg: BenchConfig) -> Result<BenchReport, BenchError> {
    let emu = start_emulator().await?;
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
    let targets = Arc::new(assume_roles(&emu, &client, &seeded).await?);
    let issued = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..cfg.concurrency.max(1) {
        tasks.push(tokio::spawn(generate_load(
            client.clone(),
            url.clone(),
            targets.clone(),
            issued.clone(),
            Load {
                worker,
                total: cfg.requests,
            },
        )));
    }
    let mut all = WorkerTally {
        latencies_us: Vec::with_capacity(cfg.requests),
        ..WorkerTally::default()
    };
    for t in tasks {
        if let Ok(tally) = t.await {
            all.latencies_us.extend(tally.latencies_us);
            all.errors += tally.errors;
            all.by_ids += tally.by_ids;
            all.by_directory += tally.by_directory;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let mut lat = all.latencies_us;
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
        errors: all.errors,
        by_ids_requests: all.by_ids,
        by_directory_requests: all.by_directory,
        peak_rss_bytes: peak_rss_bytes(),
    };
    emu.shutdown().await;
    Ok(report)
}

/// An empty emulator with rate limits off: the benchmark measures the server, not the
/// token bucket.
async fn start_emulator() -> Result<EmulatorHandle, EmulatorError> {
    let mut options = Options::default();
    options.rate_limit.enabled = false;
    Emulator::start(EmulatorConfig {
        seed: SeedKind::None,
        options,
        ..EmulatorConfig::default()
    })
    .await
}

/// Assumes each seeded account's role over the wire (STS AssumeRole), as the partner would,
/// and keeps the issued key with the account's directory and desktops.
async fn assume_roles(
    emu: &EmulatorHandle,
    client: &HttpClient,
    seeded: &[workspaces_core_emulator::BulkAccount],
) -> Result<Vec<Target>, BenchError> {
    let url = emu.endpoint_url();
    let mut targets = Vec::new();
    for a in seeded {
        let body = format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=bench&ExternalId={}",
            a.role_arn, a.external_id
        );
        let (_, xml) = post(
            client,
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
    Ok(targets)
}

/// Which load generator this is (it seeds its random choices) and how many requests all
/// of them issue together.
struct Load {
    worker: usize,
    total: usize,
}

/// One load generator: takes request numbers from `issued` until `total`, alternating a
/// DescribeWorkspaces by 1–25 random ids with the next page of a directory listing
/// (following NextToken), at a random target each time.
async fn generate_load(
    client: HttpClient,
    url: String,
    targets: Arc<Vec<Target>>,
    issued: Arc<AtomicUsize>,
    load: Load,
) -> WorkerTally {
    let mut tally = WorkerTally::default();
    let mut rng: u64 =
        0x9E37_79B9_7F4A_7C15 ^ (load.worker as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n.max(1) as u64) as usize
    };
    let mut tokens: Vec<Option<String>> = vec![None; targets.len()];
    loop {
        let i = issued.fetch_add(1, Ordering::Relaxed);
        if i >= load.total {
            break;
        }
        let t = next(targets.len());
        let target = &targets[t];
        let body = if i.is_multiple_of(2) {
            tally.by_ids += 1;
            let n = 1 + next(25);
            let ids: Vec<&String> = (0..n)
                .map(|_| &target.ids[next(target.ids.len())])
                .collect();
            serde_json::json!({"WorkspaceIds": ids}).to_string()
        } else {
            tally.by_directory += 1;
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
            _ => tally.errors += 1,
        }
        tally.latencies_us.push(t1.elapsed().as_micros() as u32);
    }
    tally
}
