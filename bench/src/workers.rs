//! (f) catch-up of the prefilled log by 1, 2 and 4 workers of one process:
//! each worker an engine on its own `PgBackend::connect` pool, as separate
//! processes would be, owning its share of the partitions. Every worker
//! reads the whole log and takes the events of its partitions; the read
//! overhead is printed with the rate.

use std::time::Duration;

use anyhow::{Context as _, Result};
use pm_core::{Engine, EngineOptions, ProcessManager, RunningEngine};
use pm_postgres::PgBackend;
use sqlx::PgPool;

use crate::catchup::{check_outcome_of, wait_until};
use crate::prefill::Prefilled;
use crate::process::Booking;
use crate::resources::Meter;
use crate::{db, Args};

/// The lease of this phase: short, so that workers starting together
/// settle their shares within a fraction of a run.
const LEASE: Duration = Duration::from_millis(600);

/// Runs the phase and prints each worker count's rate.
pub async fn workers(args: &Args, url: &str, pool: &PgPool, log: &Prefilled) -> Result<()> {
    println!(
        "\n(f) catch-up over {} events by several workers of one process (each its own pool, {} partitions, lease {} ms)",
        log.events,
        EngineOptions::default().partitions,
        LEASE.as_millis()
    );
    let mut rates = Vec::new();
    for &count in &args.workers {
        db::reset_state(pool).await?;
        let mut backends = Vec::with_capacity(count);
        for _ in 0..count {
            backends.push(
                PgBackend::connect(url)
                    .await
                    .context("connecting a worker's PgBackend")?,
            );
        }
        let meter = Meter::start();
        let engines: Vec<RunningEngine> =
            backends.iter().map(start_worker).collect::<Result<_>>()?;
        let caught_up = wait_until("the workers to catch up", || {
            Ok(taken(&engines) >= log.events)
        })
        .await;
        let usage = meter.stop();
        let read: Vec<u64> = engines
            .iter()
            .map(|engine| {
                engine
                    .metrics(Booking::NAME)
                    .unwrap_or_default()
                    .events_read
            })
            .collect();
        let taken_each: Vec<u64> = engines.iter().map(taken_by).collect();
        for engine in engines {
            engine.shutdown().await.context("a worker failed")?;
        }
        for backend in backends {
            backend.pool().close().await;
        }
        caught_up?;
        check_outcome_of(pool, Booking::NAME, log.bookings).await?;
        let rate = log.events as f64 / usage.elapsed.as_secs_f64().max(f64::EPSILON);
        let overhead = read.iter().sum::<u64>() as f64 / log.events.max(1) as f64;
        println!(
            "  {count} worker(s): {} events in {:.2} s = {rate:.0} events/s | events taken per worker {taken_each:?} | read {overhead:.2}× the log in all | {}",
            log.events,
            usage.elapsed.as_secs_f64(),
            usage.line()
        );
        rates.push((count, rate));
    }
    if let Some(&(_, single)) = rates.iter().find(|(count, _)| *count == 1) {
        let scaling: Vec<String> = rates
            .iter()
            .map(|(count, rate)| format!("{count}: {:.2}×", rate / single))
            .collect();
        println!("  rate against one worker: {}", scaling.join(", "));
    }
    Ok(())
}

fn start_worker(backend: &PgBackend) -> Result<RunningEngine> {
    let options = EngineOptions {
        partition_lease: LEASE,
        ..EngineOptions::default()
    };
    Engine::new(backend.store(), backend.log())
        .with_options(options)
        .register_process::<Booking>()
        .start()
        .context("starting a worker")
}

/// The events a worker has handled, skipped or parked.
fn taken_by(engine: &RunningEngine) -> u64 {
    let metrics = engine.metrics(Booking::NAME).unwrap_or_default();
    metrics.events_handled + metrics.events_skipped + metrics.parked
}

fn taken(engines: &[RunningEngine]) -> u64 {
    engines.iter().map(taken_by).sum()
}
