//! Test support: the two independent DynamoDB engines the store is proven against.
//!
//! - **dynoxide**, in process (the sandbox's embedded default);
//! - **moto's server**, over HTTP: the one `scripts/test` started (`STEWARD_TEST_MOTO_ENDPOINT`),
//!   or, when that is unset, one started here with `scripts/moto-serial` (moto's application
//!   served one request at a time) on `.venv`'s Python (installed by `scripts/test`) or the
//!   machine's `python3`. A machine with
//!   neither fails the moto tests with a message saying how to install it.

pub mod flows;
pub mod query_schemas;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use steward_local::dynamo::{EmbeddedDynamo, local_client};
use steward_shared::store::DynamoStore;
use steward_shared::store::schema::create_table;

/// A store on a fresh table of one engine. Keeps the engine alive while the test runs.
pub struct TestStore {
    pub store: DynamoStore,
    pub engine: &'static str,
    _embedded: Option<EmbeddedDynamo>,
}

fn table_name() -> String {
    format!("steward-test-{}", uuid::Uuid::new_v4())
}

async fn store_on(endpoint: &str) -> DynamoStore {
    let client = local_client(endpoint).await;
    let table = table_name();
    create_table(&client, &table)
        .await
        .unwrap_or_else(|e| panic!("creating {table} at {endpoint}: {e:?}"));
    DynamoStore::new(client, table)
}

pub async fn dynoxide() -> TestStore {
    let embedded = EmbeddedDynamo::start_in_memory()
        .await
        .expect("embedded dynoxide starts");
    let store = store_on(&embedded.endpoint_url()).await;
    TestStore {
        store,
        engine: "dynoxide",
        _embedded: Some(embedded),
    }
}

pub async fn moto() -> TestStore {
    let endpoint = moto_endpoint();
    TestStore {
        store: store_on(&endpoint).await,
        engine: "moto",
        _embedded: None,
    }
}

struct MotoProcess {
    endpoint: String,
    _child: Child,
}

/// The moto endpoint: from the environment, or a server started once per test binary.
pub fn moto_endpoint() -> String {
    if let Ok(url) = std::env::var("STEWARD_TEST_MOTO_ENDPOINT")
        && !url.trim().is_empty()
    {
        return url;
    }
    // Started once per test binary; a failure is remembered so every test reports it at once.
    static MOTO: OnceLock<Result<MotoProcess, String>> = OnceLock::new();
    match MOTO.get_or_init(start_moto) {
        Ok(m) => m.endpoint.clone(),
        Err(e) => panic!("{e}"),
    }
}

fn start_moto() -> Result<MotoProcess, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let venv_python = format!("{root}/.venv/bin/python");
    let python = if std::path::Path::new(&venv_python).exists() {
        venv_python
    } else {
        "python3".to_owned()
    };
    let importable = Command::new(&python)
        .args(["-c", "import moto.moto_server.werkzeug_app, werkzeug"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !importable {
        return Err(
            "moto's server is not installed. Run the tests through scripts/test, or \
             install it with `pip install 'moto[server]'`, or point STEWARD_TEST_MOTO_ENDPOINT \
             at a running moto server (single-threaded: see scripts/moto-serial)."
                .into(),
        );
    }
    // A small shell watchdog owns the server and stops it once this test process is gone,
    // so no server outlives the test run. scripts/moto-serial serves moto one request at a
    // time (moto does not isolate concurrent writes; DynamoDB does).
    let script = format!(
        "'{python}' '{root}/scripts/moto-serial' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         trap 'kill $m 2>/dev/null' EXIT INT TERM; \
         while kill -0 {parent} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done",
        parent = std::process::id()
    );
    let child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start sh for moto's server: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!(
                "moto's server did not listen on {port} within 30 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(MotoProcess {
        endpoint: format!("http://127.0.0.1:{port}"),
        _child: child,
    })
}

/// A tiny deterministic shuffle (xorshift), so a failure can be replayed.
pub fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}
