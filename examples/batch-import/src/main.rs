//! Runs the batch simulation: `cargo run -p batch-import -- --batches 50`,
//! or on Postgres with `--database-url URL`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use batch_import::simulation::{self, Config};

/// Simulate batches of files through the batch process and check each ends
/// as its files say.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// How many batches to create.
    #[arg(long, default_value_t = 20)]
    batches: u32,
    /// The most files a batch holds.
    #[arg(long, default_value_t = 5)]
    max_files: u32,
    /// The seed every answer is drawn from.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// How long a batch's files may take before it times out.
    #[arg(long, default_value_t = 1500)]
    deadline_ms: u64,
    /// Run on Postgres (reading the application's own table
    /// `batch_import.events`) at this URL, or at DATABASE_URL when the flag
    /// is given without one.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    database_url: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,pm_core=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = Config {
        batches: args.batches,
        max_files: args.max_files,
        seed: args.seed,
        deadline: Duration::from_millis(args.deadline_ms),
        ..Config::default()
    };
    let report = match args.database_url.as_deref() {
        None => simulation::run(&config).await,
        Some(url) => {
            let url = match url {
                "" => std::env::var("DATABASE_URL")
                    .context("--database-url without a URL reads DATABASE_URL, which is not set")?,
                url => url.to_owned(),
            };
            simulation::run_on_postgres(&url, &config).await
        }
    }
    .with_context(|| format!("simulating {} batches", args.batches))?;
    print!("{report}");
    Ok(if report.holds() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
