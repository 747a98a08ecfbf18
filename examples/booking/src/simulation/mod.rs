//! The simulation driver: place N bookings, let the engine and the simulated
//! services work until every booking has finished, then check the
//! invariants from the log.

mod place;
mod wait;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use pm_core::{Engine, EventLog, MemoryLog, MemoryStore, ProcessManager, Store};
use pm_postgres::PgBackend;

use crate::events::BookingEvent;
use crate::invariants;
use crate::plan::Plan;
use crate::process::BookingProcess;
use crate::progress::Progress;
use crate::report::Report;
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
    drive(MemoryStore::new(), MemoryLog::new(), config).await
}

/// Runs the simulation on Postgres at `url`. A run killed part way can be
/// started again with the same settings: it resumes where it stopped.
pub async fn run_on_postgres(url: &str, config: &Config) -> anyhow::Result<Report> {
    let backend = PgBackend::connect(url)
        .await
        .context("connecting to Postgres")?;
    drive(backend.store(), backend.log(), config).await
}

/// Runs the simulation on `store` and `log`.
pub async fn drive<S, L>(store: S, log: L, config: &Config) -> anyhow::Result<Report>
where
    S: Store + Clone,
    L: EventLog + Clone,
{
    let services = Services::new(
        log.clone(),
        Plan::new(config.seed, config.lost_reply_percent),
    );
    let engine = Engine::new(store.clone(), log.clone())
        .register::<BookingProcess, _>(services.clone())
        .start()
        .context("starting the engine")?;
    let progress = Progress::new(config.bookings, config.show_progress);
    let started = Instant::now();
    let outcome = async {
        place::place_bookings(&store, &log, config, &progress, started).await?;
        wait::wait_until_finished(&store, &services, config, &progress, started).await
    }
    .await;
    let elapsed = started.elapsed();
    progress.finish();
    let metrics = engine.metrics(BookingProcess::NAME).unwrap_or_default();
    // Shut down even when waiting failed, so no task outlives the run.
    let shutdown = engine.shutdown().await;
    let stalled = outcome?;
    shutdown.context("shutting the engine down")?;

    let (histories, checks) = invariants::check_all(&store, &log)
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
        commands_sent: metrics.commands_recorded,
        timeouts_fired: metrics.timeouts_fired,
        services: services.stats(),
        events: histories.events,
        elapsed,
        stalled,
        checks,
    })
}
