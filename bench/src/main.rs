//! `pm-bench`: measures the engine on Postgres and prints the figures next
//! to their targets.
//!
//! ```text
//! cargo run --release -p pm-bench -- [--database-url URL] [--batch-size 500,2000] [--phases a,b] ...
//! ```
//!
//! It creates a fresh database `pm_bench_<pid>` on the server of
//! `--database-url`, runs the phases and drops the database (also after an
//! error or Ctrl-C). The engine runs on `PgBackend::connect`, as users get
//! it; a second `PgBackend::connect` (same pool settings) serves the
//! baseline, the appender of (d) and the benchmark's own queries.
//!
//! Phases: (a) catch-up of a prefilled log, engine against the best
//! hand-written sqlx loop and the plain-INSERT write ceiling (`catchup.rs`,
//! `baseline.rs`, `ceiling.rs`); (b)
//! the same with one event per transaction; (c) dispatcher throughput on a
//! prefilled outbox (`dispatch.rs`); (d) append-to-dispatch latency with
//! NOTIFY (`latency.rs`); (e) peak memory per phase (`resources.rs`); (f)
//! catch-up by 1, 2 and 4 workers of one process (`workers.rs`); (g) a
//! million events from empty tables, first and last 100k (`scale.rs`); (h)
//! fan-out of ten commands per job with a live dispatcher (`fanout.rs`).

mod baseline;
mod catchup;
mod ceiling;
mod db;
mod dispatch;
mod fanout;
mod latency;
mod prefill;
mod process;
mod report;
mod resources;
mod scale;
mod workers;

use anyhow::{ensure, Context as _, Result};
use clap::Parser;
use pm_postgres::PgBackend;

use crate::db::BenchDb;
use crate::resources::{load_average, show_mib, take_phase_peak};

/// Benchmarks of the process-manager engine on Postgres.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
struct Args {
    /// Server to create the benchmark database on (the database named in
    /// the URL is used only to create and drop `pm_bench_<pid>`).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Events prefilled for (a) and (b), 5 per booking.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Batch sizes of (a), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "500,1000,2000,4000")]
    batch_size: Vec<usize>,
    /// Times to run each system per batch size in (a); medians are reported.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Events of (b), one per transaction.
    #[arg(long, default_value_t = 2_000)]
    single_events: u64,
    /// Commands prefilled for (c).
    #[arg(long, default_value_t = 100_000)]
    commands: u64,
    /// Events appended per second in (d).
    #[arg(long, default_value_t = 150)]
    rate: u32,
    /// Seconds of appending in (d).
    #[arg(long, default_value_t = 10)]
    latency_secs: u64,
    /// Runs only the engine in (a) and (b), e.g. to profile it with `perf`.
    #[arg(long)]
    engine_only: bool,
    /// Worker counts of (f), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    workers: Vec<usize>,
    /// Jobs of (h), each sending ten commands.
    #[arg(long, default_value_t = 5_000)]
    fanout_jobs: u64,
    /// Events of (g), 5 per booking.
    #[arg(long, default_value_t = 1_000_000)]
    scale_events: u64,
    /// Phases to run, comma-separated, from `a,b,c,d,f,g,h`.
    #[arg(long, value_delimiter = ',', default_value = "a,b,c,d,f,g,h")]
    phases: Vec<String>,
}

impl Args {
    fn runs(&self, phase: &str) -> bool {
        self.phases.iter().any(|p| p == phase)
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(
        args.events >= 5 && args.events % 5 == 0,
        "--events must be a positive multiple of 5 (5 events per booking)"
    );
    ensure!(
        !args.batch_size.is_empty() && !args.batch_size.contains(&0),
        "--batch-size must be positive"
    );
    ensure!(args.repeat > 0, "--repeat must be positive");
    ensure!(!args.workers.contains(&0), "--workers must be positive");
    let db = BenchDb::create(&args.database_url)
        .await
        .context("creating the benchmark database")?;
    // On a worker thread, as the engine's loops are: a future polled by
    // `main`'s own thread is woken up by the workers, a slower round trip.
    let mut bench = tokio::spawn(run(args, db.name().to_owned(), db.url().to_owned()));
    let outcome = tokio::select! {
        joined = &mut bench => joined.unwrap_or_else(|error| Err(error.into())),
        _ = tokio::signal::ctrl_c() => {
            bench.abort();
            Err(anyhow::anyhow!("interrupted"))
        }
    };
    let name = db.name().to_owned();
    let dropped = db.drop_database().await;
    match &dropped {
        Ok(()) => println!("dropped database {name}"),
        Err(error) => eprintln!("could not drop database {name}: {error:#}"),
    }
    outcome.and(dropped)
}

/// Runs the selected phases on database `name` at `url` and prints their
/// figures and the targets.
async fn run(args: Args, name: String, url: String) -> Result<()> {
    let args = &args;
    let backend = PgBackend::connect(&url)
        .await
        .context("connecting the engine's PgBackend")?;
    let second = PgBackend::connect(&url)
        .await
        .context("connecting the second PgBackend")?;
    let pool = second.pool();
    baseline::create_schema(pool).await?;
    println!(
        "pm-bench: database {name} | {} | {} cores | load average {}",
        db::describe_server(pool).await?,
        std::thread::available_parallelism().map_or(0, usize::from),
        load_average()
    );
    let mut targets = Vec::new();
    let mut peaks = Vec::new();
    take_phase_peak();
    if args.runs("a") || args.runs("b") || args.runs("f") {
        let log = prefill::prefill_events(pool, args.events / 5).await?;
        println!(
            "\nprefill: {} events of {} bookings, {} in flight at a time",
            log.events,
            log.bookings,
            prefill::IN_FLIGHT
        );
        if args.runs("a") {
            targets.extend(catchup::catch_up(args, &backend, pool, &log).await?);
            peaks.push(("(a) catch-up", take_phase_peak()));
        }
        if args.runs("b") {
            targets.extend(catchup::one_per_transaction(args, &backend, pool).await?);
            peaks.push(("(b) one event per transaction", take_phase_peak()));
        }
        if args.runs("f") {
            workers::workers(args, &url, pool, &log).await?;
            peaks.push(("(f) several workers", take_phase_peak()));
        }
    }
    if args.runs("c") {
        targets.push(dispatch::dispatcher(args, &backend, pool).await?);
        peaks.push(("(c) dispatcher", take_phase_peak()));
    }
    if args.runs("d") {
        targets.push(latency::append_latency(args, &backend, &second).await?);
        peaks.push(("(d) latency", take_phase_peak()));
    }
    // Before (h): the recorder (h) installs keeps every sample it is given
    // for the rest of the run, which would count against (g)'s memory.
    if args.runs("g") {
        let (scale_targets, peak) = scale::scale(args, &backend, pool).await?;
        targets.extend(scale_targets);
        peaks.push(("(g) scale, prefill excluded", peak));
    }
    if args.runs("h") {
        let snapshotter = fanout::install_recorder()?;
        targets.push(fanout::fan_out(args, &backend, pool, &snapshotter).await?);
        peaks.push(("(h) fan-out", take_phase_peak()));
    }
    backend.pool().close().await;
    second.pool().close().await;

    println!("\n(e) peak memory of the bench process (VmHWM; a phase shows its largest run, prefill included):");
    for (phase, peak) in &peaks {
        println!("  {phase:<32} {}", show_mib(*peak));
    }
    println!(
        "  {:<32} {} (resident now {})",
        "whole run",
        show_mib(resources::overall_peak_mib()),
        show_mib(resources::resident_mib())
    );

    println!("\ntargets (2 cores, fsync on):");
    for target in &targets {
        println!("{}", target.line());
    }
    Ok(())
}
