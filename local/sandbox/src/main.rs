//! `steward-local`: the local sandbox's command line.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::process::ExitCode;
use steward_local::bench::emulator::{self as bench_emulator, BenchConfig};
use steward_local::bench::pools::{self as bench_pools, PoolsBenchConfig};
use steward_local::bench::sweep::{self as bench_sweep, SweepBenchConfig};
use steward_local::demo::{self, DemoOptions};
use steward_local::narrator::{Narrator, Style};
use steward_local::serve::{self, ServeOptions};
use workspaces_core_emulator::cli::{self as emulator_cli, ServeArgs};

/// mimalloc, as the Lambda binary uses: glibc's allocator spent a third of a sweep's CPU
/// in malloc/free and page faults (perf, `bench sweep`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "steward-local", about = "Steward's local sandbox")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum DemoScenario {
    Day,
    Lifecycle,
    Pools,
    Schedule,
}

#[derive(Subcommand)]
enum Command {
    /// Onboard the emulator's default customer on the embedded default (emulator, in-process
    /// DynamoDB, the state-machine runner) and print a timeline, each line when it happens,
    /// with what it waits for meanwhile.
    Demo {
        /// Desktops to create for the default customer.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
        desktops: u32,
        /// Print one JSON object instead of the timeline (at the end; meanwhile, what it
        /// does goes to stderr as plain lines if stderr is a terminal).
        #[arg(long)]
        json: bool,
        /// Keep the embedded DynamoDB's tables in this SQLite file (default: memory).
        #[arg(long, value_name = "FILE")]
        state: Option<String>,
        /// The table name.
        #[arg(long, default_value = "steward")]
        table: String,
        /// After onboarding: `day` (power governance), `lifecycle` (every lifecycle
        /// operation of the guide, the golden image workflow and offboarding) or `pools`
        /// (a floating and a dedicated pool, users, assignments and a REBUILD release plan;
        /// `--json` adds `pools` and `assignments`) or `schedule` (a pool's power plan over
        /// two simulated days, one a holiday; `--json` adds `plans` and `opening_minute`).
        #[arg(long, value_enum, default_value = "day")]
        scenario: DemoScenario,
    },
    /// Run the WorkSpaces Core / STS / EC2 emulator on one loopback endpoint (the same
    /// flags as the `workspaces-core-emulator` binary).
    Emulator(ServeArgs),
    /// Run everything template.yaml declares on one loopback endpoint, behind the AWS APIs
    /// (EventBridge, Step Functions, Lambda, SQS; WorkSpaces, STS, EC2 and DynamoDB beside
    /// them): point the AWS CLI or any SDK at it with AWS_ENDPOINT_URL. Prints
    /// `listening on http://ADDR` once ready; Ctrl-C stops it cleanly.
    Serve {
        #[command(flatten)]
        emulator: ServeArgs,
        /// Keep Steward's table in this SQLite file (default: memory). The emulator's
        /// accounts start from their seed on every start.
        #[arg(long, value_name = "FILE")]
        state: Option<String>,
        /// The table name.
        #[arg(long, default_value = "steward")]
        table: String,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand)]
enum BenchWhat {
    /// DescribeWorkspaces throughput against a bulk-seeded emulator.
    Emulator {
        #[arg(long, default_value_t = 100_000)]
        workspaces: usize,
        #[arg(long, default_value_t = 10)]
        accounts: usize,
        #[arg(long, default_value_t = 50_000)]
        requests: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Print one JSON object (the default output is also JSON, pretty-printed).
        #[arg(long)]
        json: bool,
    },
    /// The idle sweep over T tenants × W desktops, rate limits on (power governance).
    Sweep {
        #[command(flatten)]
        scenario: SweepScenario,
        /// Tenants swept at a time in this process. Each one in flight holds about 1 MB
        /// (its records, its clients, its responses); the sweep is CPU-bound here long
        /// before 100. Deployed, each tenant is its own Lambda invocation and the Map's
        /// MaxConcurrency (250) bounds them.
        #[arg(long, default_value_t = 100)]
        concurrency: usize,
        /// Run the emulator and dynoxide in this process (their memory then counts in
        /// peak_rss_bytes) instead of a child process.
        #[arg(long)]
        services_in_process: bool,
        /// Every tenant on a power plan, swept at a pre-warm moment: the pre-warm starts
        /// every STOPPED desktop; prints its StartWorkspaces calls against ceil(n/25) and
        /// the plan evaluation's CPU per desktop.
        #[arg(long)]
        plans: bool,
        #[arg(long)]
        json: bool,
    },
    /// Pools: the handler CPU of assignment requests on a pool of N desktops with M users
    /// (target <= 1 ms, with their conditional writes), and the CreateWorkspaces calls of
    /// pool growths against ceil(n/25). Prints a table.
    Pools {
        /// N: the measured pool's desktops (brought AVAILABLE before the requests).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1000))]
        desktops: u32,
        /// Desktops of the same tenant outside the pool (registered, AVAILABLE).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100_000))]
        other_desktops: u32,
        /// M: users loaded, all entitled to the pool.
        #[arg(long, default_value_t = 1000)]
        users: usize,
        /// K: assignment requests timed; beyond N they are refused POOL_EXHAUSTED.
        #[arg(long, default_value_t = 250)]
        requests: usize,
        /// The growths (desktops) whose CreateWorkspaces calls are counted.
        #[arg(long, value_delimiter = ',', default_value = "1,10,25,26,60,200")]
        growths: Vec<u32>,
        /// Print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// The services side of `bench sweep` (emulator + dynoxide, seeded), run by it in a
    /// child process: prints what it seeded as one JSON line, serves until stdin closes.
    #[command(hide = true)]
    SweepServices {
        #[command(flatten)]
        scenario: SweepScenario,
    },
}

/// The sweep benchmark's scenario (shared by its two sides).
#[derive(clap::Args, Debug, Clone, Copy)]
struct SweepScenario {
    #[arg(long, default_value_t = 1000)]
    tenants: usize,
    #[arg(long, default_value_t = 100)]
    workspaces_per_tenant: usize,
    /// Share of the running desktops idle past their timeout (to be stopped), in percent.
    #[arg(long, default_value_t = 30)]
    idle_percent: u8,
    /// Share of each tenant's desktops STOPPED before the sweep (0 to 1): the sweep
    /// describes them too, so they count in the calls' lower bound.
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    stopped_fraction: f64,
}

/// A share between 0 and 1, named in the error without quoting the input.
fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        Ok(_) => Err("must be between 0 and 1".into()),
        Err(_) => Err("must be a number between 0 and 1".into()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // dynoxide logs every refused conditional write as a warning: expected, so quieted.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,dynoxide=error")),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Who hears the demo as it works: stdout (a live status line on a terminal, plain lines
/// in a pipe); with `--json`, stdout carries the one object alone, so plain lines go to
/// stderr if a person watches it, and nothing otherwise.
fn demo_narrator(json: bool) -> Narrator {
    if !json {
        let style = if std::io::stdout().is_terminal() {
            Style::Live
        } else {
            Style::Lines
        };
        Narrator::new(Box::new(std::io::stdout()), style)
    } else if std::io::stderr().is_terminal() {
        Narrator::new(Box::new(std::io::stderr()), Style::Lines)
    } else {
        Narrator::default()
    }
}

/// `serve`: the ready line on stdout once it answers, then serve until Ctrl-C or SIGTERM.
async fn serve_until_stopped(
    emulator: ServeArgs,
    state: Option<String>,
    table: String,
) -> Result<(), Box<dyn std::error::Error>> {
    let handle = serve::start(ServeOptions {
        listen: emulator.listen,
        state_file: state,
        table,
        seed: emulator.seed.into(),
        emulator: emulator.options()?,
        start_time: emulator.start_time,
        ..ServeOptions::default()
    })
    .await?;
    println!("listening on {}", handle.endpoint_url());
    std::io::Write::flush(&mut std::io::stdout())?;
    eprintln!("{}", handle.summary());
    serve::until_signal().await;
    eprintln!("stopping: finishing running invocations, closing the table");
    handle.shutdown().await;
    eprintln!("stopped");
    Ok(())
}

/// `bench pools`: the table, or one JSON object.
async fn pools_bench(what: BenchWhat) -> Result<(), Box<dyn std::error::Error>> {
    let BenchWhat::Pools {
        desktops,
        other_desktops,
        users,
        requests,
        growths,
        json,
    } = what
    else {
        return Ok(());
    };
    let report = bench_pools::run(PoolsBenchConfig {
        desktops,
        other_desktops,
        users,
        requests,
        growths,
    })
    .await?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", bench_pools::render(&report));
    }
    Ok(())
}

/// `demo`: the chosen scenario on the sandbox, told as it happens or as one JSON report.
async fn demo_command(
    desktops: u32,
    json: bool,
    state: Option<String>,
    table: String,
    scenario: DemoScenario,
) -> Result<(), Box<dyn std::error::Error>> {
    if !json {
        print!("{}", demo::HEADER);
    }
    let report = demo::run(DemoOptions {
        scenario: match scenario {
            DemoScenario::Day => demo::Scenario::Day,
            DemoScenario::Lifecycle => demo::Scenario::Lifecycle,
            DemoScenario::Pools => demo::Scenario::Pools,
            DemoScenario::Schedule => demo::Scenario::Schedule,
        },
        state_file: state,
        table,
        desktops,
        narrator: demo_narrator(json),
    })
    .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        // The timeline was told as it happened.
        print!("\n{}", demo::render_summary(&report));
    }
    Ok(())
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Demo {
            desktops,
            json,
            state,
            table,
            scenario,
        } => demo_command(desktops, json, state, table, scenario).await,
        Command::Emulator(args) => Ok(emulator_cli::serve(args).await?),
        Command::Serve {
            emulator,
            state,
            table,
        } => serve_until_stopped(emulator, state, table).await,
        Command::Bench {
            what:
                BenchWhat::Emulator {
                    workspaces,
                    accounts,
                    requests,
                    concurrency,
                    json,
                },
        } => {
            let report = bench_emulator::run(BenchConfig {
                workspaces,
                accounts,
                requests,
                concurrency,
            })
            .await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(())
        }
        Command::Bench {
            what:
                BenchWhat::Sweep {
                    scenario:
                        SweepScenario {
                            tenants,
                            workspaces_per_tenant,
                            idle_percent,
                            stopped_fraction,
                        },
                    concurrency,
                    services_in_process,
                    plans,
                    json,
                },
        } => {
            let report = bench_sweep::run(SweepBenchConfig {
                tenants,
                workspaces_per_tenant,
                idle_percent,
                stopped_fraction,
                concurrency,
                services_in_process,
                plans,
            })
            .await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(())
        }
        Command::Bench {
            what: what @ BenchWhat::Pools { .. },
        } => pools_bench(what).await,
        Command::Bench {
            what:
                BenchWhat::SweepServices {
                    scenario:
                        SweepScenario {
                            tenants,
                            workspaces_per_tenant,
                            idle_percent,
                            stopped_fraction,
                        },
                },
        } => {
            bench_sweep::serve(SweepBenchConfig {
                tenants,
                workspaces_per_tenant,
                idle_percent,
                stopped_fraction,
                concurrency: 1,
                services_in_process: true,
                plans: false,
            })
            .await?;
            Ok(())
        }
    }
}
