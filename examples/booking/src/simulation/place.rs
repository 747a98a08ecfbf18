//! Placing the bookings: one `Placed` event each, in chunks, with
//! back-pressure from the outbox.

use std::time::Instant;

use anyhow::{bail, Context as _};
use pm_core::backend::{Operations, Store};
use pm_core::{Event, EventLog, ExpectedVersion, NewEvent, ProcessManager};

use super::{Config, POLL};
use crate::events::{BookingEvent, BookingPlaced};
use crate::id::BookingId;
use crate::plan::Plan;
use crate::process::BookingProcess;
use crate::progress::Progress;

/// Bookings placed before the driver looks at how many are in flight.
const PLACE_CHUNK: u64 = 250;

/// Appends a `Placed` event for each booking, a chunk at a time, waiting
/// between chunks while many bookings are unfinished: customers arrive about
/// as fast as the services keep up, instead of all at once.
pub(super) async fn place_bookings<S: Store + Operations, L: EventLog>(
    store: &S,
    log: &L,
    config: &Config,
    progress: &Progress,
    started: Instant,
) -> anyhow::Result<()> {
    let plan = Plan::new(config.seed, config.lost_reply_percent);
    let payment_window_ms = u64::try_from(config.payment_window.as_millis()).unwrap_or(u64::MAX);
    let mut number = 0;
    while number < config.bookings {
        let chunk_end = (number + PLACE_CHUNK).min(config.bookings);
        for placing in number..chunk_end {
            let id = BookingId(placing);
            let placed = BookingEvent::Placed(BookingPlaced {
                seats: plan.booking(id).seats,
                payment_window_ms,
            });
            place_one(log, id, &placed).await?;
        }
        number = chunk_end;
        wait_for_room(store, config, progress, started, number).await?;
    }
    tracing::info!(bookings = config.bookings, "every booking placed");
    Ok(())
}

/// Appends one `Placed` event. A booking already placed (a resumed run) is
/// left as it is.
async fn place_one<L: EventLog>(
    log: &L,
    id: BookingId,
    placed: &BookingEvent,
) -> anyhow::Result<()> {
    let event = NewEvent::encode(placed).context("encoding a placed booking")?;
    let stream = id.to_string();
    match log
        .append(&stream, ExpectedVersion::NoStream, vec![event])
        .await
    {
        Ok(_) => Ok(()),
        Err(pm_core::Error::Conflict { .. }) => {
            let existing = log
                .read_stream(&stream)
                .await
                .with_context(|| format!("reading booking `{stream}`"))?;
            if existing.first().map(|e| e.event_type.as_str()) != Some(placed.type_name()) {
                bail!("stream `{stream}` exists but does not start with a placed booking");
            }
            Ok(())
        }
        Err(error) => Err(error).with_context(|| format!("placing booking `{stream}`")),
    }
}

/// Waits until at most `max_in_flight` of the bookings placed so far are
/// unfinished (parked ones count as finished: they wait for an operator).
async fn wait_for_room<S: Store + Operations>(
    store: &S,
    config: &Config,
    progress: &Progress,
    started: Instant,
    placed: u64,
) -> anyhow::Result<()> {
    loop {
        let stats = store
            .stats(BookingProcess::NAME)
            .await
            .context("reading the process's counts")?;
        let in_flight = placed.saturating_sub(stats.completed + stats.parked);
        progress.update(
            stats.completed,
            format!("{placed} placed, {in_flight} in flight"),
        );
        if in_flight <= config.max_in_flight {
            return Ok(());
        }
        if started.elapsed() >= config.deadline {
            bail!(
                "placing bookings took longer than {:?}: {placed} placed, {} completed, {in_flight} in flight",
                config.deadline,
                stats.completed,
            );
        }
        tokio::time::sleep(POLL).await;
    }
}
