//! Runs the booking simulation: `cargo run -p booking -- --bookings 5000`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use booking::simulation::{self, Config};

/// Simulate bookings through the booking process and check its invariants.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// How many bookings to place.
    #[arg(long, default_value_t = 1000)]
    bookings: u64,
    /// The seed every outcome is drawn from.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// How long a customer has to pay once the booking is confirmed.
    #[arg(long, default_value_t = 300)]
    payment_window_ms: u64,
    /// Percent of commands whose first reply is lost after taking effect
    /// (they are delivered again and must be absorbed).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=100))]
    lost_reply_percent: u32,
    /// Give up after this many seconds (default: 60 + 0.02 per booking).
    #[arg(long)]
    deadline_secs: Option<u64>,
    /// Never draw the progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Run on Postgres instead of in memory: at this URL, or at
    /// DATABASE_URL when the flag is given without one. A run killed part
    /// way resumes when started again with the same settings.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    database_url: Option<String>,
}

impl Args {
    fn config(&self) -> Config {
        let mut config = Config::new(self.bookings, self.seed);
        config.payment_window = Duration::from_millis(self.payment_window_ms);
        config.lost_reply_percent = self.lost_reply_percent;
        if let Some(secs) = self.deadline_secs {
            config.deadline = Duration::from_secs(secs);
        }
        config.show_progress = !self.no_progress && std::io::stderr().is_terminal();
        config
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

    let args = Args::parse();
    let config = args.config();
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
    .with_context(|| format!("simulating {} bookings", args.bookings))?;
    print!("{report}");
    Ok(if report.holds() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
