//! (g) scale: the engine catches up on a log of `--scale-events` events
//! (a million by default) from empty process tables; the rate of its first
//! and last 100,000 events shows whether its cost grows with the tables,
//! and the phase's peak memory whether it holds more than a batch.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use pm_core::{Engine, EngineOptions, ProcessManager};
use pm_postgres::PgBackend;
use sqlx::PgPool;

use crate::catchup::check_outcome_of;
use crate::process::Booking;
use crate::report::{per_second, Target};
use crate::resources::{take_phase_peak, Meter};
use crate::{db, prefill, Args};

/// Events at each end of the run that are compared.
const WINDOW: u64 = 100_000;
/// The last window's rate over the first's, at least.
const DRIFT_TARGET: f64 = 0.9;
/// Peak memory of the phase, at most.
const MEMORY_TARGET_MIB: f64 = 32.0;

/// Prefills a fresh log (the earlier phases' log is dropped), runs the
/// engine over it; returns the drift and memory targets and the phase's
/// peak memory (the prefill excluded).
pub async fn scale(
    args: &Args,
    backend: &PgBackend,
    pool: &PgPool,
) -> Result<(Vec<Target>, Option<f64>)> {
    let events = args.scale_events.max(2 * WINDOW);
    sqlx::query("TRUNCATE pm.events")
        .execute(pool)
        .await
        .context("emptying the log for (g)")?;
    let log = prefill::prefill_events(pool, events / 5).await?;
    db::reset_state(pool).await?;
    take_phase_peak();
    println!(
        "\n(g) scale: the engine over {} events from empty tables, batch {}, default options",
        log.events,
        EngineOptions::default().batch_size
    );
    let meter = Meter::start();
    let engine = Engine::new(backend.store(), backend.log())
        .register_process::<Booking>()
        .start()
        .context("starting the engine")?;
    let started = Instant::now();
    let mut first_window = None;
    let mut last_window_start = None;
    let deadline = started + Duration::from_secs(3600);
    loop {
        let metrics = engine.metrics(Booking::NAME).unwrap_or_default();
        let done = metrics.events_handled + metrics.events_skipped + metrics.parked;
        if first_window.is_none() && done >= WINDOW {
            first_window = Some(started.elapsed());
        }
        if last_window_start.is_none() && done >= log.events - WINDOW {
            last_window_start = Some(started.elapsed());
        }
        if done >= log.events || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let total = started.elapsed();
    let usage = meter.stop();
    engine
        .shutdown()
        .await
        .context("the engine failed in (g)")?;
    check_outcome_of(pool, Booking::NAME, log.bookings).await?;
    let peak = take_phase_peak();
    let first = first_window.map(|elapsed| per_second(WINDOW, elapsed));
    let last = last_window_start.map(|start| per_second(WINDOW, total.saturating_sub(start)));
    println!(
        "  engine: {} events in {:.1} s = {:.0} events/s | first {WINDOW}: {:.0} events/s, last {WINDOW}: {:.0} events/s | {}",
        log.events,
        total.as_secs_f64(),
        per_second(log.events, total),
        first.unwrap_or_default(),
        last.unwrap_or_default(),
        usage.line()
    );
    let drift = first.zip(last).map(|(first, last)| last / first);
    let targets = vec![
        Target::at_least(
            format!("(g) last/first {WINDOW} events"),
            DRIFT_TARGET,
            drift,
            "x",
        ),
        Target::at_most("(g) peak memory".to_owned(), MEMORY_TARGET_MIB, peak, "MiB"),
    ];
    Ok((targets, peak))
}
