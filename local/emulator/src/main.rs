//! `workspaces-core-emulator`: serves the emulator on one endpoint until killed (flags:
//! [`workspaces_core_emulator::cli::ServeArgs`]; the README lists them).

use std::process::ExitCode;

use clap::Parser;
use workspaces_core_emulator::cli::{self, ServeArgs};

#[derive(Parser)]
#[command(
    name = "workspaces-core-emulator",
    about = "A local WorkSpaces Core / STS / EC2 / Directory Service / IAM / Service Quotas / EventBridge emulator for tests"
)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    match cli::serve(Cli::parse().serve).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
