//! The baseline: the best hand-written sqlx loop we could write for the same
//! saga with the same guarantees, on its own tables (`bench/sql/baseline`),
//! sharing no SQL with the engine and only one rule of its public API:
//! `pm_core::command_id`, the deterministic command id.
//!
//! Each round reads the next events after its checkpoint, gap-safe (only
//! transactions below the snapshot's xmin, in (transaction, position)
//! order); loads the bookings they concern, each by its key; applies the
//! booking logic with a hand-written `match` on serde-decoded payloads; and
//! writes the batch in one statement (one round trip, one implicit
//! transaction): the checkpoint compare-and-set, the version-checked
//! booking upserts, the commands (ids from `pm_core::command_id`, ordered per
//! booking by an index), the timeouts, a NOTIFY. It looks for due timeouts
//! once a second, and reads the next batch while a full one commits.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};
use pm_core::{command_id, CommandCause, Position, ProcessManager};
use serde::Deserialize;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::process::{
    Booking, BookingConfirmed, BookingPlaced, BookingSettled, ExpireBooking, PaymentInitiated,
    PaymentSucceeded, ReleaseTickets, RequestPayment, ReserveTickets, SettleBooking, Stage,
    PAYMENT_WINDOW,
};

const SCHEMA: &str = include_str!("../sql/baseline/schema.sql");
const READ: &str = include_str!("../sql/baseline/read.sql");
const LOAD: &str = include_str!("../sql/baseline/load.sql");
const WRITE: &str = include_str!("../sql/baseline/write.sql");
const DUE: &str = include_str!("../sql/baseline/due.sql");

/// The baseline's checkpoint name.
const CHECKPOINT: &str = "booking";
/// The process the baseline's command ids name (the same as the engine's,
/// though its rows live in its own tables).
const PROCESS: &str = <crate::process::Booking as ProcessManager>::NAME;
/// The event source the baseline's command ids name.
const SOURCE: &str = "hw.events";
/// How often the baseline looks for due timeouts.
const TIMEOUT_CHECK: Duration = Duration::from_secs(1);

/// Creates the baseline's tables (once per benchmark database).
pub async fn create_schema(pool: &PgPool) -> Result<()> {
    sqlx::raw_sql(SCHEMA)
        .execute(pool)
        .await
        .context("baseline: creating its tables")?;
    Ok(())
}

/// Empties the baseline's tables and sets its checkpoint to the start.
pub async fn reset(pool: &PgPool) -> Result<()> {
    sqlx::raw_sql(
        "TRUNCATE hw.bookings, hw.outbox, hw.timeouts, hw.checkpoint;
         INSERT INTO hw.checkpoint (name, tx, position) VALUES ('booking', 0, 0);",
    )
    .execute(pool)
    .await
    .context("baseline: emptying its tables")?;
    Ok(())
}

/// Runs the baseline from the start of the log until its checkpoint
/// reaches `until`, `batch_size` events per transaction; returns the
/// number of batches committed.
pub async fn run(pool: &PgPool, batch_size: usize, until: Position) -> Result<u64> {
    let limit = i64::try_from(batch_size).unwrap_or(i64::MAX);
    let mut checkpoint = Position::START;
    let mut prefetched: Option<Vec<Recorded>> = None;
    let mut next_timeout_check = Instant::now();
    let mut batches = 0;
    while checkpoint < until {
        let now = Utc::now();
        let events = match prefetched.take() {
            Some(events) => events,
            None => read(pool, checkpoint, limit).await?,
        };
        let due = if Instant::now() >= next_timeout_check {
            next_timeout_check = Instant::now() + TIMEOUT_CHECK;
            due_timeouts(pool, now, limit).await?
        } else {
            Vec::new()
        };
        let Some(end) = events.last().map(|event| event.position) else {
            // Nothing readable yet: an open transaction holds it back.
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        let full = events.len() >= batch_size;

        let mut ids = Vec::new();
        let mut seen = HashSet::new();
        let mut routed = Vec::with_capacity(events.len());
        for event in events {
            let (id, decoded) = route(&event)?;
            if seen.insert(id.clone()) {
                ids.push(id.clone());
            }
            routed.push((event.position, id, decoded));
        }
        for (instance, _) in &due {
            if seen.insert(instance.clone()) {
                ids.push(instance.clone());
            }
        }
        let mut slots = load(pool, &ids).await?;
        let mut writes = Writes::default();
        for (position, id, decoded) in routed {
            apply_event(&mut slots, &mut writes, now, position, id, decoded)?;
        }
        for (instance, due_at) in due {
            apply_timeout(&mut slots, &mut writes, instance, due_at)?;
        }

        let write = write(pool, &slots, &writes, now, checkpoint, end);
        if full {
            let (written, next) = tokio::join!(write, read(pool, end, limit));
            written?;
            prefetched = Some(next?);
        } else {
            write.await?;
        }
        batches += 1;
        checkpoint = end;
    }
    Ok(batches)
}

/// One event as read.
struct Recorded {
    position: Position,
    stream_id: String,
    event_type: String,
    payload: Value,
}

/// The gap-safe read: up to `limit` events after `after`.
async fn read(pool: &PgPool, after: Position, limit: i64) -> Result<Vec<Recorded>> {
    let rows: Vec<(i64, i64, String, String, Value)> = sqlx::query_as(READ)
        .bind(after.transaction.to_string())
        .bind(after.sequence)
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("baseline: reading the log")?;
    Ok(rows
        .into_iter()
        .map(
            |(transaction, sequence, stream_id, event_type, payload)| Recorded {
                position: Position {
                    transaction,
                    sequence,
                },
                stream_id,
                event_type,
                payload,
            },
        )
        .collect())
}

/// The bookings whose payment window has passed.
async fn due_timeouts(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, DateTime<Utc>)>> {
    sqlx::query_as(DUE)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("baseline: reading due timeouts")
}

/// A decoded event. Every payload is decoded, as the engine does, even
/// where the logic then ignores it.
enum Decoded {
    Placed(BookingPlaced),
    Confirmed(BookingConfirmed),
    Initiated(PaymentInitiated),
    Succeeded(#[allow(dead_code)] PaymentSucceeded),
    Settled(#[allow(dead_code)] BookingSettled),
}

/// Decodes an event and finds its instance.
fn route(event: &Recorded) -> Result<(String, Decoded)> {
    fn decode<'a, T: Deserialize<'a>>(event: &'a Recorded) -> Result<T> {
        T::deserialize(&event.payload)
            .with_context(|| format!("baseline: decoding a `{}` payload", event.event_type))
    }
    Ok(match event.event_type.as_str() {
        "BookingEvent.Placed" => (event.stream_id.clone(), Decoded::Placed(decode(event)?)),
        "BookingEvent.Confirmed" => (event.stream_id.clone(), Decoded::Confirmed(decode(event)?)),
        "BookingEvent.Settled" => (event.stream_id.clone(), Decoded::Settled(decode(event)?)),
        "PaymentEvent.Initiated" => {
            let payload: PaymentInitiated = decode(event)?;
            (payload.booking_id.clone(), Decoded::Initiated(payload))
        }
        "PaymentEvent.Succeeded" => {
            let payload: PaymentSucceeded = decode(event)?;
            (payload.booking_id.clone(), Decoded::Succeeded(payload))
        }
        other => bail!("baseline: unexpected event type `{other}`"),
    })
}

/// An instance as the batch sees it.
struct Slot {
    version: i64,
    completed: bool,
    state: Option<Booking>,
    changed: bool,
}

/// Loads the stored bookings among `ids`.
async fn load(pool: &PgPool, ids: &[String]) -> Result<HashMap<String, Slot>> {
    let rows: Vec<(String, sqlx::types::Json<Booking>, i64, bool)> = sqlx::query_as(LOAD)
        .bind(ids)
        .fetch_all(pool)
        .await
        .context("baseline: loading bookings")?;
    Ok(rows
        .into_iter()
        .map(|(id, state, version, done)| {
            let slot = Slot {
                version,
                completed: done,
                state: Some(state.0),
                changed: false,
            };
            (id, slot)
        })
        .collect())
}

/// A command to record.
struct Command {
    id: Uuid,
    instance: String,
    command_type: &'static str,
    payload: Value,
}

/// What one batch writes.
#[derive(Default)]
struct Writes {
    /// Changed instances, in first-changed order.
    order: Vec<String>,
    commands: Vec<Command>,
    /// Timeouts to schedule (`Some(due)`) or drop (`None`), one per instance.
    timeouts: Vec<(String, Option<DateTime<Utc>>)>,
    timeout_index: HashMap<String, usize>,
}

impl Writes {
    fn send(
        &mut self,
        instance: &str,
        cause: CommandCause<'_>,
        index: usize,
        command_type: &'static str,
        payload: Result<Value, serde_json::Error>,
    ) -> Result<()> {
        self.commands.push(Command {
            id: command_id(PROCESS, instance, cause, index),
            instance: instance.to_owned(),
            command_type,
            payload: payload.context("baseline: encoding a command")?,
        });
        Ok(())
    }

    fn set_timeout(&mut self, instance: &str, due: Option<DateTime<Utc>>) {
        match self.timeout_index.get(instance) {
            Some(&index) => self.timeouts[index].1 = due,
            None => {
                self.timeout_index
                    .insert(instance.to_owned(), self.timeouts.len());
                self.timeouts.push((instance.to_owned(), due));
            }
        }
    }

    fn changed(&mut self, slot: &mut Slot, instance: String) {
        if !slot.changed {
            slot.changed = true;
            self.order.push(instance);
        }
    }
}

/// The hand-written booking logic for one event.
fn apply_event(
    slots: &mut HashMap<String, Slot>,
    writes: &mut Writes,
    now: DateTime<Utc>,
    position: Position,
    id: String,
    decoded: Decoded,
) -> Result<()> {
    let slot = slots.entry(id.clone()).or_insert_with(|| Slot {
        version: 0,
        completed: false,
        state: None,
        changed: false,
    });
    if slot.completed {
        return Ok(());
    }
    let starts = matches!(decoded, Decoded::Placed(_));
    let Some(mut state) = slot.state.take().or_else(|| starts.then(Booking::default)) else {
        return Ok(());
    };
    let cause = CommandCause::Event {
        source: SOURCE,
        position,
    };
    match decoded {
        Decoded::Placed(event) => {
            state.stage = Stage::Reserving;
            state.show.clone_from(&event.show);
            state.seats = event.seats;
            let payload = serde_json::to_value(ReserveTickets {
                booking_id: id.clone(),
                show: event.show,
                seats: event.seats,
            });
            writes.send(&id, cause, 0, "ReserveTickets", payload)?;
        }
        Decoded::Confirmed(event) => {
            state.stage = Stage::AwaitingPayment;
            state.price_cents = event.price_cents;
            let payload = serde_json::to_value(RequestPayment {
                booking_id: id.clone(),
                amount_cents: event.price_cents,
                currency: event.currency,
            });
            writes.send(&id, cause, 0, "RequestPayment", payload)?;
            let due = now + chrono::Duration::from_std(PAYMENT_WINDOW)?;
            writes.set_timeout(&id, Some(due));
        }
        Decoded::Initiated(event) => state.payment_id = Some(event.payment_id),
        Decoded::Succeeded(_) => {
            if state.stage == Stage::AwaitingPayment {
                state.stage = Stage::Settling;
                writes.set_timeout(&id, None);
                let payload = serde_json::to_value(SettleBooking {
                    booking_id: id.clone(),
                });
                writes.send(&id, cause, 0, "SettleBooking", payload)?;
            }
        }
        Decoded::Settled(_) => {
            state.stage = Stage::Settled;
            slot.completed = true;
            writes.set_timeout(&id, None);
        }
    }
    slot.state = Some(state);
    writes.changed(slot, id);
    Ok(())
}

/// The hand-written timeout handler (never due within a benchmark run, as
/// the payment window is 15 minutes, but looking for it is part of the work).
fn apply_timeout(
    slots: &mut HashMap<String, Slot>,
    writes: &mut Writes,
    instance: String,
    due_at: DateTime<Utc>,
) -> Result<()> {
    if writes.timeout_index.contains_key(&instance) {
        return Ok(());
    }
    writes.set_timeout(&instance, None);
    let Some(slot) = slots.get_mut(&instance) else {
        return Ok(());
    };
    let (false, Some(state)) = (slot.completed, slot.state.as_mut()) else {
        return Ok(());
    };
    let cause = CommandCause::Timeout {
        kind: "PaymentDue",
        due_at,
    };
    state.stage = Stage::Expired;
    let expire = serde_json::to_value(ExpireBooking {
        booking_id: instance.clone(),
    });
    let release = serde_json::to_value(ReleaseTickets {
        booking_id: instance.clone(),
        seats: state.seats,
    });
    writes.send(&instance, cause, 0, "ExpireBooking", expire)?;
    writes.send(&instance, cause, 1, "ReleaseTickets", release)?;
    slot.completed = true;
    writes.changed(slot, instance);
    Ok(())
}

/// Writes the batch in one statement.
async fn write(
    pool: &PgPool,
    slots: &HashMap<String, Slot>,
    writes: &Writes,
    now: DateTime<Utc>,
    from: Position,
    to: Position,
) -> Result<()> {
    let (mut ids, mut states, mut versions, mut done) = (vec![], vec![], vec![], vec![]);
    for (id, slot) in writes
        .order
        .iter()
        .filter_map(|id| Some((id, slots.get(id)?)))
    {
        ids.push(id.as_str());
        states.push(serde_json::to_value(&slot.state).context("baseline: encoding a state")?);
        versions.push(slot.version + 1);
        done.push(slot.completed);
    }
    let commands = &writes.commands;
    let command_ids: Vec<Uuid> = commands.iter().map(|c| c.id).collect();
    let bookings: Vec<&str> = commands.iter().map(|c| c.instance.as_str()).collect();
    let types: Vec<&str> = commands.iter().map(|c| c.command_type).collect();
    let payloads: Vec<&Value> = commands.iter().map(|c| &c.payload).collect();
    let (mut scheduled, mut due_at, mut dropped) = (vec![], vec![], vec![]);
    for (instance, due) in &writes.timeouts {
        match due {
            Some(due) => {
                scheduled.push(instance.as_str());
                due_at.push(*due);
            }
            None => dropped.push(instance.as_str()),
        }
    }
    sqlx::query(WRITE)
        .bind(CHECKPOINT)
        .bind(to.transaction)
        .bind(to.sequence)
        .bind(from.transaction)
        .bind(from.sequence)
        .bind(&ids)
        .bind(&states)
        .bind(&versions)
        .bind(&done)
        .bind(&command_ids)
        .bind(&bookings)
        .bind(&types)
        .bind(&payloads)
        .bind(vec![now; commands.len()])
        .bind(&scheduled)
        .bind(&due_at)
        .bind(&dropped)
        .execute(pool)
        .await
        .context("baseline: writing a batch")?;
    Ok(())
}

/// Checks that a catch-up left every booking done, three commands per
/// booking and no timeout behind.
pub async fn check_outcome(pool: &PgPool, bookings: u64) -> Result<()> {
    let (done, open, commands, timeouts): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM hw.bookings WHERE done),
                (SELECT count(*) FROM hw.bookings WHERE NOT done),
                (SELECT count(*) FROM hw.outbox),
                (SELECT count(*) FROM hw.timeouts)",
    )
    .fetch_one(pool)
    .await
    .context("baseline: counting what a run wrote")?;
    let bookings = i64::try_from(bookings).unwrap_or(i64::MAX);
    anyhow::ensure!(
        done == bookings && open == 0 && commands == 3 * bookings && timeouts == 0,
        "the baseline did not do the expected work for {bookings} bookings: {done} done, \
         {open} open, {commands} commands, {timeouts} timeouts"
    );
    Ok(())
}
