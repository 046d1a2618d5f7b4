//! Reaching the sweep benchmark's services, in this process or in a child process: their
//! counters (the emulator's control API), their CPU time and peak memory, their shutdown.

use axum::body::Bytes;
use serde_json::Value;
use workspaces_core_emulator::EmulatorHandle;

use super::super::{cpu_seconds_of, rss_of};
use super::SweepBenchConfig;
use super::scenario::Seeded;
use crate::dynamo::EmbeddedDynamo;
use crate::wiring::{SetupError, setup};

/// The services, in this process or in a child.
pub(super) enum Services {
    InProcess {
        emu: EmulatorHandle,
        engine: EmbeddedDynamo,
    },
    Child {
        child: std::process::Child,
        emulator_url: String,
    },
}

impl Services {
    pub(super) async fn reset_counters(&self) -> Result<(), SetupError> {
        match self {
            Services::InProcess { emu, .. } => {
                emu.control().reset_counters();
                Ok(())
            }
            Services::Child { emulator_url, .. } => {
                control("DELETE", &format!("{emulator_url}/_emulator/counters"))
                    .await
                    .map(|_| ())
            }
        }
    }

    /// `{account: {"Service.Op": {"calls", "errors", "throttled"}}}`.
    pub(super) async fn counters(&self) -> Result<Value, SetupError> {
        match self {
            Services::InProcess { emu, .. } => {
                serde_json::to_value(emu.control().counters()).map_err(setup("counters"))
            }
            Services::Child { emulator_url, .. } => {
                let v = control("GET", &format!("{emulator_url}/_emulator/counters")).await?;
                Ok(v["accounts"].clone())
            }
        }
    }

    /// CPU seconds of the services process so far (0 when in process).
    pub(super) fn cpu_seconds(&self) -> f64 {
        match self {
            Services::InProcess { .. } => 0.0,
            Services::Child { child, .. } => cpu_seconds_of(&format!("/proc/{}/stat", child.id())),
        }
    }

    pub(super) fn peak_rss_bytes(&self) -> u64 {
        match self {
            Services::InProcess { .. } => 0,
            Services::Child { child, .. } => rss_of(&format!("/proc/{}/status", child.id())),
        }
    }

    pub(super) async fn shutdown(self) {
        match self {
            Services::InProcess { emu, engine } => {
                emu.shutdown().await;
                engine.shutdown().await;
            }
            Services::Child { mut child, .. } => {
                drop(child.stdin.take());
                let _ = tokio::task::spawn_blocking(move || child.wait()).await;
            }
        }
    }
}

/// One JSON call to the emulator's control API.
async fn control(method: &str, url: &str) -> Result<Value, SetupError> {
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(Bytes::new()))
        .map_err(setup("control request"))?;
    let resp = client.request(req).await.map_err(setup("control API"))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(setup("control API body"))?
        .to_bytes();
    if !status.is_success() {
        return Err(SetupError(format!(
            "control API {method} {url}: HTTP {status}"
        )));
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&body).map_err(setup("control API JSON"))
}

/// Starts the services in a child process (this binary, `bench sweep-services`) and reads
/// what it seeded.
pub(super) async fn spawn_services(
    cfg: &SweepBenchConfig,
) -> Result<(Seeded, Services), SetupError> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().map_err(setup("own executable"))?;
    let mut child = Command::new(exe)
        .args([
            "bench",
            "sweep-services",
            "--tenants",
            &cfg.tenants.to_string(),
            "--workspaces-per-tenant",
            &cfg.workspaces_per_tenant.to_string(),
            "--idle-percent",
            &cfg.idle_percent.to_string(),
            "--stopped-fraction",
            &cfg.stopped_fraction.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(setup("services process"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| SetupError("services process has no stdout".into()))?;
    // Log lines may come first; the first JSON object is the answer.
    let seeded = tokio::task::spawn_blocking(move || {
        let mut said = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.map_err(setup("services process output"))?;
            if line.starts_with('{') {
                return serde_json::from_str::<Seeded>(&line)
                    .map_err(|e| SetupError(format!("services process answered {line:?}: {e}")));
            }
            said.push(line);
        }
        Err(SetupError(format!(
            "services process ended without an answer: {}",
            said.join(" | ")
        )))
    })
    .await
    .map_err(setup("services process"))??;
    let emulator_url = seeded.emulator_url.clone();
    Ok((
        seeded,
        Services::Child {
            child,
            emulator_url,
        },
    ))
}
