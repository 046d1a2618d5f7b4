//! A loopback stand-in for EventBridge's PutEvents, for Steward's outbound events when the
//! handlers run against local servers (the sweep benchmark, the power tests): it answers as
//! EventBridge does and counts (or keeps) the entries, without leaving the machine. The
//! emulator serves PutEvents too; this sink is apart so that outbound events neither count
//! in the emulator's WorkSpaces figures nor compete with its rate limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use serde_json::Value;

/// A loopback EventBridge stand-in that accepts PutEvents and counts the entries, so that
/// outbound events cost what a real call costs without leaving the machine. Tests can ask
/// it to keep the entries too ([`EventSink::start_capturing`]); the benchmark does not, so
/// its memory figures hold no events.
pub struct EventSink {
    pub url: String,
    pub received: Arc<AtomicUsize>,
    captured: Option<Arc<parking_lot::Mutex<Vec<Value>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl EventSink {
    pub async fn start() -> std::io::Result<Self> {
        Self::serve(None).await
    }

    /// A sink that also keeps every entry (`Source`, `DetailType`, `Detail`, …) it receives.
    pub async fn start_capturing() -> std::io::Result<Self> {
        Self::serve(Some(Arc::default())).await
    }

    /// The entries received so far, with `Detail` parsed, when capturing.
    pub fn captured(&self) -> Vec<Value> {
        self.captured
            .as_ref()
            .map(|c| c.lock().clone())
            .unwrap_or_default()
    }

    async fn serve(captured: Option<Arc<parking_lot::Mutex<Vec<Value>>>>) -> std::io::Result<Self> {
        let received = Arc::new(AtomicUsize::new(0));
        let counter = received.clone();
        let keep = captured.clone();
        let app = Router::new().route(
            "/",
            post(move |body: Bytes| {
                let counter = counter.clone();
                let keep = keep.clone();
                async move {
                    let request = serde_json::from_slice::<serde_json::Value>(&body).ok();
                    let entries = request
                        .as_ref()
                        .and_then(|v| v["Entries"].as_array())
                        .cloned()
                        .unwrap_or_default();
                    let n = entries.len();
                    counter.fetch_add(n, Ordering::Relaxed);
                    if let Some(keep) = keep {
                        let mut kept = keep.lock();
                        for mut e in entries {
                            if let Some(d) = e["Detail"]
                                .as_str()
                                .and_then(|d| serde_json::from_str::<Value>(d).ok())
                            {
                                e["Detail"] = d;
                            }
                            kept.push(e);
                        }
                    }
                    let entries: Vec<_> = (0..n)
                        .map(|_| serde_json::json!({"EventId": uuid::Uuid::new_v4().to_string()}))
                        .collect();
                    (
                        [("content-type", "application/x-amz-json-1.1")],
                        serde_json::json!({"FailedEntryCount": 0, "Entries": entries}).to_string(),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            url,
            received,
            captured,
            task,
        })
    }
}

impl Drop for EventSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}
