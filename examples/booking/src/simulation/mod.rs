//! The simulation: place N bookings, let the engine and the simulated
//! services work until every booking has finished, then check the
//! invariants from the log and the store.
//!
//! Plain runs do everything in one process ([`run`], [`run_on_postgres`]).
//! On Postgres the two halves can also run apart: any number of
//! [`run_worker`] processes (each an engine with the simulated services),
//! and one [`drive_on_postgres`] that places the bookings, waits and checks.

mod place;
mod tail;
mod wait;

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use pm_core::backend::{Operations, Store};
use pm_core::{
    Engine, EngineOptions, EventLog, MemoryLog, MemoryStore, ProcessManager, RunningEngine,
};
use pm_postgres::PgBackend;

use crate::events::BookingEvent;
use crate::invariants;
use crate::plan::Plan;
use crate::process::BookingProcess;
use crate::progress::Progress;
use crate::report::{InProcess, Report};
use crate::services::Services;

/// How often the driver looks at the store while waiting.
const POLL: Duration = Duration::from_millis(20);

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// How many bookings to place.
    pub bookings: u64,
    /// The seed every outcome is drawn from.
    pub seed: u64,
    /// How long a customer has to pay once the booking is confirmed.
    pub payment_window: Duration,
    /// Percent of commands whose first reply is lost after they took effect.
    pub lost_reply_percent: u32,
    /// How many unfinished bookings the driver allows before it places
    /// more (so a large run does not queue every booking at once).
    pub max_in_flight: u64,
    /// How long the run may take before it counts as failed.
    pub deadline: Duration,
    /// How long nothing may happen, with nothing left to do, before the
    /// run is reported as stalled.
    pub stall_after: Duration,
    /// Whether to draw a progress bar on stderr.
    pub show_progress: bool,
    /// How long a worker holds its partitions without renewing: a worker
    /// killed part way loses them to the others after this long.
    pub partition_lease: Duration,
    /// How long a claimed command stays reserved for its dispatcher.
    pub command_lease: Duration,
}

impl Config {
    /// A run of `bookings` bookings from `seed`, with the default settings.
    pub fn new(bookings: u64, seed: u64) -> Self {
        Self {
            bookings,
            seed,
            payment_window: Duration::from_millis(300),
            lost_reply_percent: 2,
            max_in_flight: 2_000,
            deadline: Self::default_deadline(bookings),
            stall_after: Duration::from_secs(5),
            show_progress: false,
            partition_lease: Duration::from_secs(2),
            command_lease: Duration::from_secs(5),
        }
    }

    /// A minute, plus 20 ms a booking: generous for a slow debug build.
    pub fn default_deadline(bookings: u64) -> Duration {
        Duration::from_secs(60)
            + Duration::from_millis(20).saturating_mul(u32::try_from(bookings).unwrap_or(u32::MAX))
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new(1000, 42)
    }
}

/// Runs the simulation on the in-memory store and log.
pub async fn run(config: &Config) -> anyhow::Result<Report> {
    run_in_process(MemoryStore::new(), MemoryLog::new(), config).await
}

/// Runs the simulation on Postgres at `url`, engine and driver in this
/// process. A run killed part way can be started again with the same
/// settings: it resumes where it stopped.
pub async fn run_on_postgres(url: &str, config: &Config) -> anyhow::Result<Report> {
    let backend = connect(url).await?;
    run_in_process(backend.store(), backend.log(), config).await
}

/// Runs one worker on Postgres at `url`: the booking process and its
/// simulated services, until `stop` resolves; then it finishes the batch
/// in flight and gives up its partitions.
pub async fn run_worker(
    url: &str,
    config: &Config,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let backend = connect(url).await?;
    let (engine, _services) = start_engine(backend.store(), backend.log(), config)?;
    tracing::info!("worker running; stop it with SIGTERM or SIGINT");
    stop.await;
    tracing::info!("stopping: finishing the batch in flight");
    engine.shutdown().await.context("shutting the engine down")
}

/// Places the bookings on Postgres at `url` for workers elsewhere
/// ([`run_worker`]), waits until every booking has finished and checks the
/// invariants.
pub async fn drive_on_postgres(url: &str, config: &Config) -> anyhow::Result<Report> {
    let backend = connect(url).await?;
    let (store, log) = (backend.store(), backend.log());
    let progress = Progress::new(config.bookings, config.show_progress);
    let started = Instant::now();
    let stalled = place_and_wait(&store, &log, config, &progress, started).await;
    let elapsed = started.elapsed();
    progress.finish();
    report(&store, &log, config, elapsed, stalled?, None).await
}

/// Runs engine and driver in one process on `store` and `log`.
pub async fn run_in_process<S, L>(store: S, log: L, config: &Config) -> anyhow::Result<Report>
where
    S: Store + Operations + Clone,
    L: EventLog + Clone,
{
    let (engine, services) = start_engine(store.clone(), log.clone(), config)?;
    let progress = Progress::new(config.bookings, config.show_progress);
    let started = Instant::now();
    let outcome = place_and_wait(&store, &log, config, &progress, started).await;
    let elapsed = started.elapsed();
    progress.finish();
    let metrics = engine.metrics(BookingProcess::NAME).unwrap_or_default();
    // Shut down even when waiting failed, so no task outlives the run.
    let shutdown = engine.shutdown().await;
    let stalled = outcome?;
    shutdown.context("shutting the engine down")?;
    let in_process = InProcess {
        commands_sent: metrics.commands_recorded,
        timeouts_fired: metrics.timeouts_fired,
        services: services.stats(),
    };
    report(&store, &log, config, elapsed, stalled, Some(in_process)).await
}

async fn connect(url: &str) -> anyhow::Result<PgBackend> {
    PgBackend::connect(url)
        .await
        .context("connecting to Postgres")
}

/// Starts the booking process with the simulated services as its gateway.
fn start_engine<S, L>(
    store: S,
    log: L,
    config: &Config,
) -> anyhow::Result<(RunningEngine, Services<L>)>
where
    S: Store,
    L: EventLog + Clone,
{
    let services = Services::new(
        log.clone(),
        Plan::new(config.seed, config.lost_reply_percent),
    );
    let options = EngineOptions {
        partition_lease: config.partition_lease,
        lease_for: config.command_lease,
        ..EngineOptions::default()
    };
    let engine = Engine::new(store, log)
        .with_options(options)
        .register::<BookingProcess, _>(services.clone())
        .start()
        .context("starting the engine")?;
    Ok((engine, services))
}

/// Places every booking and waits until they have all finished; returns
/// why the run stalled, if it did.
async fn place_and_wait<S: Store + Operations, L: EventLog>(
    store: &S,
    log: &L,
    config: &Config,
    progress: &Progress,
    started: Instant,
) -> anyhow::Result<Option<String>> {
    place::place_bookings(store, log, config, progress, started).await?;
    wait::wait_until_finished(store, log, config, progress, started).await
}

/// Reads the log and the store, checks the invariants and sums up.
async fn report<S: Store + Operations, L: EventLog>(
    store: &S,
    log: &L,
    config: &Config,
    elapsed: Duration,
    stalled: Option<String>,
    in_process: Option<InProcess>,
) -> anyhow::Result<Report> {
    let (histories, checks) = invariants::check_all(store, log)
        .await
        .context("reading the log and store to check the invariants")?;
    let count = |ending: &BookingEvent| {
        histories
            .bookings
            .values()
            .filter(|history| history.ending() == Some(ending))
            .count() as u64
    };
    Ok(Report {
        bookings: config.bookings,
        seed: config.seed,
        payment_window: config.payment_window,
        settled: count(&BookingEvent::Settled),
        denied: count(&BookingEvent::Denied),
        expired: count(&BookingEvent::Expired),
        in_process,
        events: histories.events,
        elapsed,
        stalled,
        checks,
    })
}
