//! `steward-local`: the sandbox's command line.

use clap::{Parser, Subcommand};
use steward_local::demo::{self, DemoOptions};

#[derive(Parser)]
#[command(name = "steward-local", about = "Steward's local sandbox", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the demo on the embedded default (in-process DynamoDB) and print a timeline.
    Demo {
        /// Print one JSON object instead of the timeline.
        #[arg(long)]
        json: bool,
        /// Keep the embedded DynamoDB's tables in this SQLite file (default: memory).
        #[arg(long, value_name = "FILE")]
        state: Option<String>,
        /// The table name.
        #[arg(long, default_value = "steward")]
        table: String,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,dynoxide=error")),
        )
        .init();
    // (dynoxide logs every refused conditional write as a warning: expected here.)
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { json, state, table } => {
            match demo::run(DemoOptions {
                state_file: state,
                table,
            })
            .await
            {
                Ok(report) if json => match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(e) => return fail(&format!("could not render the report: {e}")),
                },
                Ok(report) => print!("{}", demo::render(&report)),
                Err(e) => return fail(&e.to_string()),
            }
        }
    }
    std::process::ExitCode::SUCCESS
}

fn fail(message: &str) -> std::process::ExitCode {
    eprintln!("steward-local: {message}");
    std::process::ExitCode::FAILURE
}
