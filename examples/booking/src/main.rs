//! Runs the booking simulation: `cargo run -p booking -- --bookings 5000`.
//!
//! On Postgres, its halves can run as separate processes:
//!
//! ```text
//! booking worker --database-url URL            # any number of these
//! booking drive --database-url URL --bookings N --seed S
//! ```

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use booking::simulation::{self, Config};

/// Simulate bookings through the booking process and check its invariants.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
    #[command(flatten)]
    run: RunArgs,
    /// Record the engine's metrics and print them at the end.
    #[arg(long, global = true)]
    print_metrics: bool,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Run one worker on Postgres (the booking process, its dispatcher and
    /// the simulated services) until SIGTERM or SIGINT, then finish the
    /// batch in flight and give up its partitions.
    Worker(WorkerArgs),
    /// Place the bookings on Postgres for workers to process, wait until
    /// every booking has ended and check the invariants; exits 1 when one
    /// fails.
    Drive(DriveArgs),
}

/// A plain run: engine and driver in this process.
#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    bookings: BookingArgs,
    #[command(flatten)]
    services: ServiceArgs,
    #[command(flatten)]
    lease: LeaseArgs,
    /// Run on Postgres instead of in memory: at this URL, or at
    /// DATABASE_URL when the flag is given without one. A run killed part
    /// way resumes when started again with the same settings.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    database_url: Option<String>,
}

#[derive(Debug, Args)]
struct WorkerArgs {
    #[command(flatten)]
    services: ServiceArgs,
    #[command(flatten)]
    lease: LeaseArgs,
    /// The database (defaults to DATABASE_URL).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
}

#[derive(Debug, Args)]
struct DriveArgs {
    #[command(flatten)]
    bookings: BookingArgs,
    /// The seed the workers use (each booking's seats are drawn from it).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The database (defaults to DATABASE_URL).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
}

/// What to place and how long to wait.
#[derive(Debug, Args)]
struct BookingArgs {
    /// How many bookings to place.
    #[arg(long, default_value_t = 1000)]
    bookings: u64,
    /// How long a customer has to pay once the booking is confirmed.
    #[arg(long, default_value_t = 300)]
    payment_window_ms: u64,
    /// Give up after this many seconds (default: 60 + 0.02 per booking).
    #[arg(long)]
    deadline_secs: Option<u64>,
    /// Never draw the progress bar.
    #[arg(long)]
    no_progress: bool,
}

/// How the simulated services behave.
#[derive(Debug, Args)]
struct ServiceArgs {
    /// The seed every outcome is drawn from.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Percent of commands whose first reply is lost after taking effect
    /// (they are delivered again and must be absorbed).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=100))]
    lost_reply_percent: u32,
}

#[derive(Debug, Args)]
struct LeaseArgs {
    /// How long a worker holds its partitions without renewing them; a
    /// worker that dies loses them to the others after this long.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(100..))]
    partition_lease_ms: u64,
    /// How long a claimed command stays reserved for the worker delivering
    /// it; a worker that dies mid-delivery has them delivered again by
    /// another after this long.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..))]
    command_lease_ms: u64,
}

impl BookingArgs {
    fn apply(&self, config: &mut Config) {
        config.bookings = self.bookings;
        config.payment_window = Duration::from_millis(self.payment_window_ms);
        config.deadline = match self.deadline_secs {
            Some(secs) => Duration::from_secs(secs),
            None => Config::default_deadline(self.bookings),
        };
        config.show_progress = !self.no_progress && std::io::stderr().is_terminal();
    }
}

impl ServiceArgs {
    fn apply(&self, config: &mut Config) {
        config.seed = self.seed;
        config.lost_reply_percent = self.lost_reply_percent;
    }
}

impl LeaseArgs {
    fn apply(&self, config: &mut Config) {
        config.partition_lease = Duration::from_millis(self.partition_lease_ms);
        config.command_lease = Duration::from_millis(self.command_lease_ms);
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    // Retried deliveries are routine here (replies are lost on purpose), so
    // the engine's warnings stay quiet unless RUST_LOG asks for them.
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,pm_core=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let cli = Cli::parse();
    let metrics = cli
        .print_metrics
        .then(booking::telemetry::record_metrics)
        .flatten();
    let mut config = Config::default();
    let report = match cli.mode {
        None => {
            let args = cli.run;
            args.bookings.apply(&mut config);
            args.services.apply(&mut config);
            args.lease.apply(&mut config);
            match args.database_url.as_deref() {
                None => simulation::run(&config).await,
                Some(url) => {
                    let url = match url {
                        "" => std::env::var("DATABASE_URL").context(
                            "--database-url without a URL reads DATABASE_URL, which is not set",
                        )?,
                        url => url.to_owned(),
                    };
                    simulation::run_on_postgres(&url, &config).await
                }
            }
            .with_context(|| format!("simulating {} bookings", config.bookings))?
        }
        Some(Mode::Worker(args)) => {
            args.services.apply(&mut config);
            args.lease.apply(&mut config);
            simulation::run_worker(&args.database_url, &config, stop_signal()?)
                .await
                .context("running a booking worker")?;
            if let Some(metrics) = &metrics {
                eprint!("{}", booking::telemetry::metrics_report(metrics));
            }
            return Ok(ExitCode::SUCCESS);
        }
        Some(Mode::Drive(args)) => {
            args.bookings.apply(&mut config);
            config.seed = args.seed;
            simulation::drive_on_postgres(&args.database_url, &config)
                .await
                .with_context(|| format!("driving {} bookings", config.bookings))?
        }
    };
    print!("{report}");
    if let Some(metrics) = &metrics {
        print!("{}", booking::telemetry::metrics_report(metrics));
    }
    Ok(if report.holds() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Resolves on the first SIGTERM or SIGINT.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}
