//! (d) Append-to-dispatch latency under light load.
//!
//! The engine runs the process loop and the dispatcher with a long poll
//! interval, so only NOTIFY (and the store's in-process outbox wake-up) can
//! explain a short latency. Events are appended through a second
//! `PgBackend` over its own pool, so the engine hears of them only by
//! NOTIFY. Each appended event's handler sends exactly one command; the
//! gateway notes when each arrives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use pm_core::{
    CommandMeta, Dispatch, DispatchError, Engine, EngineOptions, EventLog, ExpectedVersion,
    NewEvent, ProcessManager,
};
use pm_postgres::PgBackend;

use crate::process::{booking_events, Booking, BookingCommand, SeedEvent};
use crate::report::{millis, per_second, Target};
use crate::resources::Meter;
use crate::{db, Args};

/// The p99 latency target, in milliseconds.
const P99_TARGET_MS: f64 = 25.0;

/// The engine's poll interval: long, so that only NOTIFY wakes it in time.
const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Bookings interleaved by the appender.
const WINDOW: u64 = 50;

/// A command's instance, type and arrival time.
type Arrival = (String, &'static str, Instant);

/// Notes the arrival time of each command.
#[derive(Debug, Clone, Default)]
struct Recorder {
    arrivals: Arc<Mutex<Vec<Arrival>>>,
}

impl Dispatch<BookingCommand> for Recorder {
    async fn dispatch(
        &self,
        command: BookingCommand,
        meta: CommandMeta,
    ) -> Result<(), DispatchError> {
        let at = Instant::now();
        let command_type = pm_core::Command::command_type(&command);
        self.arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((meta.instance, command_type, at));
        Ok(())
    }
}

/// The value at quantile `q` of sorted `values` (nearest rank).
fn quantile(values: &[Duration], q: f64) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let last = values.len() - 1;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((q * values.len() as f64).ceil() as usize).saturating_sub(1);
    values.get(index.min(last)).copied()
}

/// The events the appender sends: of each booking, the three whose
/// handler sends one command (placed, confirmed, payment succeeded).
fn one_command_events(bookings: u64) -> Vec<(SeedEvent, &'static str)> {
    let mut events = Vec::new();
    let mut group = 0;
    while group < bookings {
        let end = (group + WINDOW).min(bookings);
        let all: Vec<[SeedEvent; 5]> = (group..end).map(booking_events).collect();
        for (stage, command) in [
            (0, "ReserveTickets"),
            (1, "RequestPayment"),
            (3, "SettleBooking"),
        ] {
            events.extend(all.iter().map(|booking| (booking[stage].clone(), command)));
        }
        group = end;
    }
    events
}

/// (d): runs the engine with a long poll interval and appends `--rate`
/// events per second for `--latency-secs` through `appender`.
pub async fn append_latency(
    args: &Args,
    backend: &PgBackend,
    appender: &PgBackend,
) -> Result<Target> {
    println!(
        "\n(d) append-to-dispatch latency: register::<{}>(recorder), poll_interval {} s; {} events/s for {} s appended through a second PgBackend; latency = command arrival - append commit",
        Booking::NAME,
        POLL_INTERVAL.as_secs(),
        args.rate,
        args.latency_secs
    );
    let pool = appender.pool();
    sqlx::query("TRUNCATE pm.events")
        .execute(pool)
        .await
        .context("emptying the log")?;
    db::reset_state(pool).await?;

    let meter = Meter::start();
    let options = EngineOptions {
        poll_interval: POLL_INTERVAL,
        ..EngineOptions::default()
    };
    let recorder = Recorder::default();
    let engine = Engine::new(backend.store(), backend.log())
        .with_options(options)
        .register::<Booking, _>(recorder.clone())
        .start()
        .context("starting the engine")?;
    // Let the loops reach their idle wait before the first append.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let log = appender.log();
    let total = u64::from(args.rate) * args.latency_secs.max(1);
    let events = one_command_events(total.div_ceil(3));
    let period = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sent: HashMap<(String, &'static str), Instant> = HashMap::new();
    let mut appends = Vec::new();
    let started = Instant::now();
    for (event, command) in events.into_iter().take(usize::try_from(total).unwrap_or(0)) {
        ticker.tick().await;
        let instance = event
            .payload
            .get("booking_id")
            .and_then(|id| id.as_str())
            .map_or_else(|| event.stream_id.clone(), str::to_owned);
        let new_event = NewEvent {
            event_type: event.event_type.to_owned(),
            payload: event.payload,
        };
        let before = Instant::now();
        log.append(&event.stream_id, ExpectedVersion::Any, vec![new_event])
            .await
            .context("appending an event")?;
        let committed = Instant::now();
        appends.push(committed - before);
        sent.insert((instance, command), committed);
    }
    let appended = appends.len();
    let append_rate = per_second(appended as u64, started.elapsed());

    // Wait for the stragglers, at most a few seconds.
    let arrived = || {
        recorder
            .arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    };
    let wait_until = Instant::now() + Duration::from_secs(5);
    while arrived() < appended && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    engine
        .shutdown()
        .await
        .context("the engine failed during the latency run")?;
    let usage = meter.stop();

    let arrivals = std::mem::take(
        &mut *recorder
            .arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    let mut latencies: Vec<Duration> = arrivals
        .iter()
        .filter_map(|(instance, command, at)| {
            let sent = sent.get(&(instance.clone(), *command))?;
            Some(at.saturating_duration_since(*sent))
        })
        .collect();
    latencies.sort();
    appends.sort();
    println!(
        "  appended {appended} events at {append_rate:.0}/s; {} commands arrived",
        arrivals.len()
    );
    println!("  latency: {}", summary(&latencies));
    println!("  append (commit) time: {}", summary(&appends));
    println!("  {}", usage.line());
    let complete = arrivals.len() == appended;
    if !complete {
        println!(
            "  WARNING: {} commands did not arrive",
            appended.saturating_sub(arrivals.len())
        );
    }
    let p99 = quantile(&latencies, 0.99).map(millis);
    Ok(Target::at_most(
        format!("(d) p99 append-to-dispatch at {}/s", args.rate),
        P99_TARGET_MS,
        if complete { p99 } else { None },
        "ms",
    ))
}

/// `p50 / p90 / p99 / max` of sorted durations, in milliseconds.
fn summary(values: &[Duration]) -> String {
    let show = |q: f64| {
        quantile(values, q).map_or_else(|| "-".to_owned(), |d| format!("{:.1}", millis(d)))
    };
    format!(
        "p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
        show(0.50),
        show(0.90),
        show(0.99),
        show(1.0)
    )
}
