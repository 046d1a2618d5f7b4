//! The sandbox's embedded DynamoDB: dynoxide, a conformance-tested engine, served in
//! process on a loopback port and reached through the real aws-sdk-dynamodb client.

use std::net::SocketAddr;

use aws_config::Region;
use aws_sdk_dynamodb::config::Credentials;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedDynamoError {
    #[error("could not open the embedded DynamoDB database: {0}")]
    Open(String),
    #[error("could not listen on loopback: {0}")]
    Listen(#[source] std::io::Error),
}

/// A running embedded engine. Dropping it stops the server.
pub struct EmbeddedDynamo {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
}

impl EmbeddedDynamo {
    /// Starts an in-memory engine on `127.0.0.1:<free port>`.
    pub async fn start_in_memory() -> Result<Self, EmbeddedDynamoError> {
        let db =
            dynoxide::Database::memory().map_err(|e| EmbeddedDynamoError::Open(e.to_string()))?;
        Self::serve(db).await
    }

    /// Starts an engine that keeps its tables in the SQLite file at `path`.
    pub async fn start_with_file(path: &str) -> Result<Self, EmbeddedDynamoError> {
        let db =
            dynoxide::Database::new(path).map_err(|e| EmbeddedDynamoError::Open(e.to_string()))?;
        Self::serve(db).await
    }

    async fn serve(db: dynoxide::Database) -> Result<Self, EmbeddedDynamoError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(EmbeddedDynamoError::Listen)?;
        let addr = listener.local_addr().map_err(EmbeddedDynamoError::Listen)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(dynoxide::server::serve_with_shutdown(listener, db, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmbeddedDynamo {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A DynamoDB client for a local engine: fixed test credentials, `us-east-1`.
pub async fn local_client(endpoint_url: &str) -> aws_sdk_dynamodb::Client {
    let config = steward_shared::aws::sdk_defaults()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "steward-local",
        ))
        .endpoint_url(endpoint_url)
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}
