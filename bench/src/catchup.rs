//! (a) catch-up on the prefilled log and (b) one event per transaction:
//! the engine against the best hand-written loop (`baseline.rs`) and, in
//! (a), the write ceiling (`ceiling.rs`), over the same events.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use pm_core::{Engine, EngineOptions, Position, ProcessManager};
use pm_postgres::PgBackend;
use sqlx::PgPool;

use crate::prefill::{self, Prefilled};
use crate::process::Booking;
use crate::report::{median, show, Run, Target};
use crate::resources::{Meter, Usage};
use crate::{baseline, ceiling, db, Args};

/// The target for engine/baseline in catch-up at the default batch size.
const BASELINE_RATIO_TARGET: f64 = 1.1;
/// The target for engine/ceiling in catch-up at the default batch size.
const CEILING_RATIO_TARGET: f64 = 0.7;
/// The target for one event per transaction, in events/s.
const SINGLE_TARGET: f64 = 2_000.0;
/// The target for engine/baseline at one event per transaction.
const SINGLE_RATIO_TARGET: f64 = 1.0;

/// The systems compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum System {
    /// `register_process::<Booking>()` on the `PgBackend`, no dispatcher.
    Engine,
    /// The best hand-written loop.
    Baseline,
    /// Plain INSERTs of the rows the engine writes.
    Ceiling,
}

impl System {
    fn name(self) -> &'static str {
        match self {
            System::Engine => "engine",
            System::Baseline => "baseline",
            System::Ceiling => "ceiling",
        }
    }

    /// The systems to run in round `round`: the engine, the baseline and,
    /// with `ceiling`, the ceiling, the first going first in even rounds and
    /// last in odd ones so that drift hits each.
    fn in_round(args: &Args, round: u32, ceiling: bool) -> Vec<System> {
        if args.engine_only {
            return vec![System::Engine];
        }
        let mut systems = vec![System::Engine, System::Baseline];
        if ceiling {
            systems.push(System::Ceiling);
        }
        if round % 2 == 1 {
            systems.reverse();
        }
        systems
    }
}

/// (a): every system over the whole prefilled log, per batch size; the
/// targets at the engine's default batch size.
pub async fn catch_up(
    args: &Args,
    backend: &PgBackend,
    pool: &PgPool,
    log: &Prefilled,
) -> Result<Vec<Target>> {
    println!(
        "\n(a) catch-up over {} events, {} repeat(s), the systems' order alternating",
        log.events, args.repeat
    );
    println!(
        "  engine: register_process::<{}>() on PgBackend::connect, no dispatcher",
        Booking::NAME
    );
    println!("  baseline: the best hand-written sqlx loop, its own tables, one statement per batch, next read during the write");
    println!("  ceiling: plain INSERTs of as many instance and outbox rows into the pm tables (statement time only)");
    let mut rates: BTreeMap<usize, BTreeMap<System, Vec<f64>>> = BTreeMap::new();
    for round in 0..args.repeat {
        for &batch_size in &args.batch_size {
            for system in System::in_round(args, round, true) {
                let run = run(system, backend, pool, batch_size, log.end, log.events)
                    .await
                    .with_context(|| format!("{}, batch size {batch_size}", system.name()))?;
                check_outcome(pool, system, log.bookings).await?;
                println!("  {}", run.line());
                let rates = rates.entry(batch_size).or_default();
                rates.entry(system).or_default().push(run.rate());
            }
        }
    }
    println!("  median events/s of {} run(s):", args.repeat);
    let medians: BTreeMap<usize, BTreeMap<System, f64>> = rates
        .into_iter()
        .map(|(batch_size, rates)| {
            let medians = rates
                .into_iter()
                .filter_map(|(system, rates)| Some((system, median(&rates)?)))
                .collect();
            (batch_size, medians)
        })
        .collect();
    for (batch_size, rates) in &medians {
        println!("    batch {batch_size:>4}: {}", summary(rates));
    }
    let default = EngineOptions::default().batch_size;
    let rates = medians.get(&default);
    Ok(vec![
        Target::at_least(
            format!("(a) engine/baseline, batch {default}"),
            BASELINE_RATIO_TARGET,
            rates.and_then(|rates| ratio(rates, System::Baseline)),
            "x",
        ),
        Target::at_least(
            format!("(a) engine/ceiling, batch {default}"),
            CEILING_RATIO_TARGET,
            rates.and_then(|rates| ratio(rates, System::Ceiling)),
            "x",
        ),
    ])
}

/// (b): every system over the first `--single-events` events of the log,
/// one event per transaction.
pub async fn one_per_transaction(
    args: &Args,
    backend: &PgBackend,
    pool: &PgPool,
) -> Result<Vec<Target>> {
    let until = prefill::nth_position(pool, args.single_events)
        .await?
        .context("the log holds fewer events than --single-events")?;
    println!(
        "\n(b) one event per transaction: the first {} events of the log, batch size 1",
        args.single_events
    );
    let mut rates = BTreeMap::new();
    for system in System::in_round(args, 0, false) {
        let run = run(system, backend, pool, 1, until, args.single_events)
            .await
            .with_context(|| format!("{}, batch size 1", system.name()))?;
        println!("  {}", run.line());
        rates.insert(system, run.rate());
    }
    let engine_ms = rates.get(&System::Engine).map(|rate| 1000.0 / rate);
    println!(
        "  events/s: {}; engine {} ms per event",
        summary(&rates),
        show(engine_ms, 2)
    );
    Ok(vec![
        Target::at_least(
            "(b) one event per transaction".to_owned(),
            SINGLE_TARGET,
            rates.get(&System::Engine).copied(),
            "events/s",
        ),
        Target::at_least(
            "(b) engine/baseline, one per transaction".to_owned(),
            SINGLE_RATIO_TARGET,
            ratio(&rates, System::Baseline),
            "x",
        ),
    ])
}

/// `engine N events/s, ...; engine/baseline R, engine/ceiling R`.
fn summary(rates: &BTreeMap<System, f64>) -> String {
    let figures: Vec<String> = rates
        .iter()
        .map(|(system, rate)| format!("{} {rate:.0}", system.name()))
        .collect();
    format!(
        "{}; engine/baseline {}, engine/ceiling {}",
        figures.join(", "),
        show(ratio(rates, System::Baseline), 2),
        show(ratio(rates, System::Ceiling), 2)
    )
}

/// The engine's rate over `other`'s.
fn ratio(rates: &BTreeMap<System, f64>, other: System) -> Option<f64> {
    Some(rates.get(&System::Engine)? / rates.get(&other)?)
}

/// Runs `system` on emptied process tables from the start of the log
/// until it has processed `events` events, up to position `until`.
async fn run(
    system: System,
    backend: &PgBackend,
    pool: &PgPool,
    batch_size: usize,
    until: Position,
    events: u64,
) -> Result<Run> {
    db::reset_state(pool).await?;
    let (usage, batches) = match system {
        System::Engine => run_engine(backend, batch_size, events).await?,
        System::Baseline => {
            let meter = Meter::start();
            let batches = baseline::run(pool, batch_size, until).await?;
            (meter.stop(), batches)
        }
        System::Ceiling => {
            let meter = Meter::start();
            let ceiling = ceiling::run(pool, batch_size, until).await?;
            let usage = Usage {
                elapsed: ceiling.writing,
                ..meter.stop()
            };
            (usage, ceiling.batches)
        }
    };
    Ok(Run {
        system: system.name(),
        batch_size,
        events,
        batches,
        usage,
    })
}

/// Starts the engine as a user would and stops the clock when its metrics
/// show `events` events handled, i.e. committed.
async fn run_engine(backend: &PgBackend, batch_size: usize, events: u64) -> Result<(Usage, u64)> {
    let options = EngineOptions {
        batch_size,
        ..EngineOptions::default()
    };
    let meter = Meter::start();
    let engine = Engine::new(backend.store(), backend.log())
        .with_options(options)
        .register_process::<Booking>()
        .start()
        .context("starting the engine")?;
    let mut batches = 0;
    let caught_up = wait_until("the engine to catch up", || {
        let metrics = engine.metrics(Booking::NAME).unwrap_or_default();
        batches = metrics.batches;
        Ok(metrics.events_handled + metrics.events_skipped + metrics.parked >= events)
    })
    .await;
    let usage = meter.stop();
    engine
        .shutdown()
        .await
        .context("the engine failed while catching up")?;
    caught_up?;
    Ok((usage, batches))
}

/// Polls `done` every millisecond (it reads in-memory metrics, not the
/// database) until it holds; gives up after 30 minutes.
pub async fn wait_until(what: &str, mut done: impl FnMut() -> Result<bool>) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1800);
    while !done()? {
        ensure!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// Checks that a catch-up left every booking completed, three commands
/// per booking and no timeout behind: the same work for every system.
async fn check_outcome(pool: &PgPool, system: System, bookings: u64) -> Result<()> {
    match system {
        System::Engine => check_outcome_of(pool, Booking::NAME, bookings).await,
        System::Baseline => baseline::check_outcome(pool, bookings).await,
        // Rows only: there is no outcome to check.
        System::Ceiling => Ok(()),
    }
}

/// Checks that `process` completed every booking with three commands each
/// and left no timeout behind.
pub async fn check_outcome_of(pool: &PgPool, process: &str, bookings: u64) -> Result<()> {
    let (completed, active, commands, timeouts): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pm.instances WHERE process = $1 AND status = 'completed'),
                (SELECT count(*) FROM pm.instances WHERE process = $1 AND status = 'active'),
                (SELECT count(*) FROM pm.outbox WHERE process = $1),
                (SELECT count(*) FROM pm.timeouts WHERE process = $1)",
    )
    .bind(process)
    .fetch_one(pool)
    .await
    .context("counting what a run wrote")?;
    let bookings = i64::try_from(bookings).unwrap_or(i64::MAX);
    ensure!(
        completed == bookings && active == 0 && commands == 3 * bookings && timeouts == 0,
        "{process} did not do the expected work for {bookings} bookings: {completed} completed, \
         {active} active, {commands} commands, {timeouts} timeouts"
    );
    Ok(())
}
