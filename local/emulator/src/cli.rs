//! The command line that serves the emulator: the `workspaces-core-emulator` binary, and
//! Steward's `steward-local emulator`, which flattens the same [`ServeArgs`] so both take
//! the same flags and print the same ready line.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};

use crate::{Emulator, EmulatorConfig, EmulatorError, Options, SeedKind};

/// Which data to start with, as the command line names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SeedArg {
    Default,
    None,
}

impl From<SeedArg> for SeedKind {
    fn from(s: SeedArg) -> Self {
        match s {
            SeedArg::Default => SeedKind::Default,
            SeedArg::None => SeedKind::None,
        }
    }
}

/// Serve the WorkSpaces Core / STS / EC2 emulator on one loopback endpoint.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,
    #[arg(long, value_enum, default_value = "default")]
    pub seed: SeedArg,
    /// Turn the per-account token bucket off.
    #[arg(long)]
    pub no_rate_limit: bool,
    /// Do not enforce the customer roles' tag-based policy.
    #[arg(long)]
    pub no_tag_policy: bool,
    /// Hours a MANUAL workspace may stay AVAILABLE before the emulator stops it
    /// (0 = never; default 48, or the value in --options-json).
    #[arg(long)]
    pub manual_autostop_hours: Option<f64>,
    /// Turn the monthly maintenance window off.
    #[arg(long)]
    pub no_maintenance: bool,
    /// Extra latency per request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Start the virtual clock at this RFC 3339 time instead of now.
    #[arg(long)]
    pub start_time: Option<chrono::DateTime<chrono::Utc>>,
    /// Page size of every paged Describe/List call that names no limit (default 25, or the
    /// value in --options-json).
    #[arg(long)]
    pub default_page_size: Option<usize>,
    /// Full options as JSON (see the README, "Options"); flags above override it.
    #[arg(long)]
    pub options_json: Option<String>,
    /// Customer accounts to seed after --seed, as `POST /_emulator/seed` takes them:
    /// `{"accounts": [AccountSeed, …]}` (see the README, "AccountSeed").
    #[arg(long)]
    pub seed_json: Option<String>,
}

/// The `--seed-json` document.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedDocument {
    accounts: Vec<crate::AccountSeed>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("--options-json: {0}")]
    Options(#[from] serde_json::Error),
    #[error("--seed-json: {0}")]
    Seed(String),
    #[error(transparent)]
    Emulator(#[from] EmulatorError),
}

impl ServeArgs {
    /// The options document: `--options-json` (or the defaults), then the flags over it.
    pub fn options(&self) -> Result<Options, serde_json::Error> {
        let mut options: Options = match &self.options_json {
            Some(j) => serde_json::from_str(j)?,
            None => Options::default(),
        };
        if self.no_rate_limit {
            options.rate_limit.enabled = false;
        }
        if self.no_tag_policy {
            options.tag_policy = false;
        }
        if self.no_maintenance {
            options.maintenance.enabled = false;
        }
        if let Some(h) = self.manual_autostop_hours {
            options.manual_autostop_hours = (h > 0.0).then_some(h);
        }
        if self.latency_ms > 0 {
            options.latency_ms = self.latency_ms;
        }
        if let Some(n) = self.default_page_size {
            options.default_page_size = n;
        }
        Ok(options)
    }

    /// The accounts `--seed-json` names, each checked as the control API checks them.
    pub fn seeds(&self) -> Result<Vec<crate::AccountSeed>, ServeError> {
        let Some(j) = &self.seed_json else {
            return Ok(Vec::new());
        };
        let doc: SeedDocument =
            serde_json::from_str(j).map_err(|e| ServeError::Seed(e.to_string()))?;
        if let Some(p) = doc.accounts.iter().find_map(crate::AccountSeed::problem) {
            return Err(ServeError::Seed(p));
        }
        Ok(doc.accounts)
    }
}

/// Starts the emulator, prints `listening on http://ADDR` once it accepts connections (the
/// one line a script waits for), and serves until the process ends.
pub async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let seeds = args.seeds()?;
    let handle = Emulator::start(EmulatorConfig {
        listen: args.listen,
        seed: args.seed.into(),
        start_time: args.start_time,
        options: args.options()?,
    })
    .await?;
    for s in &seeds {
        handle.control().seed_account(s);
    }
    println!("listening on {}", handle.endpoint_url());
    handle.wait().await?;
    Ok(())
}
