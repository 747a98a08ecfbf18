//! The baseline: a hand-written sqlx loop doing the engine's SQL work for
//! the same events, without the framework.
//!
//! Each round runs what a round of the engine ran before partitions, with
//! its own copies of the statements (`bench/sql`): the gap-safe read, the due-timeout and released-item queries,
//! the instance load, and one transaction with the instance upsert, the
//! outbox insert and NOTIFY, the timeout upsert and delete, and the
//! checkpoint. In between it decodes payloads into the same structs with
//! serde and applies the booking logic with a hand-written `match`. It runs
//! under its own process name, so it starts from empty instance rows.
//!
//! Pipelined, it reads the next batch while a full one commits, as the
//! engine does.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::{bail, ensure, Context as _, Result};
use chrono::{DateTime, Utc};
use pm_core::{Position, Timeout as _};
use serde::Deserialize;
use serde_json::Value;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::process::{
    Booking, BookingConfirmed, BookingPlaced, BookingSettled, BookingTimeout, ExpireBooking,
    PaymentInitiated, PaymentSucceeded, ReleaseTickets, RequestPayment, ReserveTickets,
    SettleBooking, Stage, PAYMENT_WINDOW,
};

const READ: &str = include_str!("../sql/read.sql");
const DUE: &str = include_str!("../sql/due.sql");
const RELEASED_ITEMS: &str = include_str!("../sql/released_items.sql");
const LOAD_INSTANCES: &str = include_str!("../sql/load_instances.sql");
const UPSERT_INSTANCES: &str = include_str!("../sql/upsert_instances.sql");
const INSERT_OUTBOX: &str = include_str!("../sql/insert_outbox.sql");
const NOTIFY_OUTBOX: &str = include_str!("../sql/notify_outbox.sql");
const UPSERT_TIMEOUTS: &str = include_str!("../sql/upsert_timeouts.sql");
const DELETE_TIMEOUTS: &str = include_str!("../sql/delete_timeouts.sql");
const SAVE_CHECKPOINT: &str = include_str!("../sql/save_checkpoint.sql");

/// The baseline's process name.
pub const PROCESS: &str = "booking-baseline";
/// The source name the engine's log uses in checkpoints.
const SOURCE: &str = "pm.events";
/// The families the booking process reads, as LIKE patterns.
const FAMILIES: [&str; 2] = ["BookingEvent.%", "PaymentEvent.%"];
/// Released instances the engine replays per round at most.
const RELEASED_PER_ROUND: i64 = 100;
/// The namespace the engine derives command ids in.
const COMMAND_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6d1c_53a4_0f7e_4b8e_9a51_2c3d_4e5f_6a7b);

/// Runs the baseline from the start of the log until its checkpoint
/// reaches `until`, `batch_size` events per transaction; returns the
/// number of batches committed.
pub async fn run(
    pool: &PgPool,
    batch_size: usize,
    until: Position,
    pipelined: bool,
) -> Result<u64> {
    let limit = i64::try_from(batch_size).unwrap_or(i64::MAX);
    let mut checkpoint = Position::START;
    let mut prefetched = None;
    let mut batches = 0;
    while checkpoint < until {
        let now = Utc::now();
        let (events, end) = match prefetched.take() {
            Some(read) => read,
            None => read(pool, checkpoint, batch_size).await?,
        };
        let due = due_timeouts(pool, now, limit).await?;
        released_items(pool).await?;
        if events.is_empty() && due.is_empty() {
            if end > checkpoint {
                save_checkpoint(pool, end).await?;
                checkpoint = end;
            } else {
                // Events an open transaction still holds back.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            continue;
        }
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
        for (instance, kind) in due {
            apply_timeout(&mut slots, &mut writes, instance, &kind)?;
        }

        let commit = commit(pool, &slots, &writes, now, end);
        if pipelined && full {
            let (committed, next) = tokio::join!(commit, read(pool, end, batch_size));
            committed?;
            prefetched = Some(next?);
        } else {
            commit.await?;
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

/// The gap-safe read: up to `limit` events after `after`, and the
/// position read up to.
async fn read(pool: &PgPool, after: Position, limit: usize) -> Result<(Vec<Recorded>, Position)> {
    let rows = sqlx::query(READ)
        .bind(after.transaction)
        .bind(after.sequence)
        .bind(FAMILIES)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await
        .context("baseline: reading the log")?;
    let mut end = after;
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        let end_transaction: Option<i64> = row.try_get("end_transaction")?;
        let end_position: Option<i64> = row.try_get("end_position")?;
        if let (Some(transaction), Some(sequence)) = (end_transaction, end_position) {
            end = end.max(Position {
                transaction,
                sequence,
            });
        }
        let Some(sequence) = row.try_get::<Option<i64>, _>("position")? else {
            continue;
        };
        events.push(Recorded {
            position: Position {
                transaction: row.try_get("transaction_id")?,
                sequence,
            },
            stream_id: row.try_get("stream_id")?,
            event_type: row.try_get("event_type")?,
            payload: row.try_get("payload")?,
        });
    }
    if events.len() >= limit {
        // A full batch: more may follow, so stop at its last event.
        if let Some(last) = events.last() {
            end = last.position;
        }
    }
    Ok((events, end))
}

/// The due timeouts (instance, kind).
async fn due_timeouts(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, String)>> {
    sqlx::query(DUE)
        .bind(PROCESS)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("baseline: reading due timeouts")?
        .iter()
        .map(|row| Ok((row.try_get("instance_id")?, row.try_get("kind")?)))
        .collect::<Result<_, sqlx::Error>>()
        .context("baseline: decoding due timeouts")
}

/// The query for released parked items; the benchmark parks nothing.
async fn released_items(pool: &PgPool) -> Result<()> {
    let rows = sqlx::query(RELEASED_ITEMS)
        .bind(PROCESS)
        .bind(RELEASED_PER_ROUND)
        .fetch_all(pool)
        .await
        .context("baseline: reading released parked items")?;
    ensure!(rows.is_empty(), "baseline: found released parked items");
    Ok(())
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

/// Loads the stored instances among `ids`.
async fn load(pool: &PgPool, ids: &[String]) -> Result<HashMap<String, Slot>> {
    let rows = sqlx::query(LOAD_INSTANCES)
        .bind(PROCESS)
        .bind(ids)
        .fetch_all(pool)
        .await
        .context("baseline: loading instances")?;
    let mut slots = HashMap::with_capacity(ids.len());
    for row in rows {
        let id: String = row.try_get("instance_id")?;
        let status: String = row.try_get("status")?;
        let state: Value = row.try_get("state")?;
        let state = serde_json::from_value::<Booking>(state)
            .with_context(|| format!("baseline: decoding the state of `{id}`"))?;
        slots.insert(
            id,
            Slot {
                version: row.try_get("version")?,
                completed: status == "completed",
                state: Some(state),
                changed: false,
            },
        );
    }
    Ok(slots)
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
        cause: &str,
        index: usize,
        command_type: &'static str,
        payload: Result<Value, serde_json::Error>,
    ) -> Result<()> {
        let name = format!("{PROCESS}\n{instance}\n{cause}\n{index}");
        self.commands.push(Command {
            id: Uuid::new_v5(&COMMAND_ID_NAMESPACE, name.as_bytes()),
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
    let cause = format!("{SOURCE}@{}:{}", position.transaction, position.sequence);
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
            writes.send(&id, &cause, 0, "ReserveTickets", payload)?;
        }
        Decoded::Confirmed(event) => {
            state.stage = Stage::AwaitingPayment;
            state.price_cents = event.price_cents;
            let payload = serde_json::to_value(RequestPayment {
                booking_id: id.clone(),
                amount_cents: event.price_cents,
                currency: event.currency,
            });
            writes.send(&id, &cause, 0, "RequestPayment", payload)?;
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
                writes.send(&id, &cause, 0, "SettleBooking", payload)?;
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
/// the payment window is 15 minutes, but its query is part of the work).
fn apply_timeout(
    slots: &mut HashMap<String, Slot>,
    writes: &mut Writes,
    instance: String,
    kind: &str,
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
    let cause = format!("timeout:{kind}");
    state.stage = Stage::Expired;
    let expire = serde_json::to_value(ExpireBooking {
        booking_id: instance.clone(),
    });
    let release = serde_json::to_value(ReleaseTickets {
        booking_id: instance.clone(),
        seats: state.seats,
    });
    writes.send(&instance, &cause, 0, "ExpireBooking", expire)?;
    writes.send(&instance, &cause, 1, "ReleaseTickets", release)?;
    slot.completed = true;
    writes.changed(slot, instance);
    Ok(())
}

/// Writes the batch in one transaction with the engine's statements, its
/// columns encoded before the transaction begins, as the engine does.
async fn commit(
    pool: &PgPool,
    slots: &HashMap<String, Slot>,
    writes: &Writes,
    now: DateTime<Utc>,
    end: Position,
) -> Result<()> {
    let (mut ids, mut states, mut versions, mut statuses) = (vec![], vec![], vec![], vec![]);
    for (id, slot) in writes
        .order
        .iter()
        .filter_map(|id| Some((id, slots.get(id)?)))
    {
        ids.push(id.as_str());
        states.push(serde_json::to_value(&slot.state).context("baseline: encoding a state")?);
        versions.push(slot.version);
        statuses.push(if slot.completed {
            "completed"
        } else {
            "active"
        });
    }
    let commands = &writes.commands;
    let command_ids: Vec<Uuid> = commands.iter().map(|c| c.id).collect();
    let command_instances: Vec<&str> = commands.iter().map(|c| c.instance.as_str()).collect();
    let command_types: Vec<&str> = commands.iter().map(|c| c.command_type).collect();
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
    let kind = BookingTimeout::PaymentDue.name();

    let mut tx = pool.begin().await.context("baseline: BEGIN")?;
    if !ids.is_empty() {
        let written: Vec<String> = sqlx::query_scalar(UPSERT_INSTANCES)
            .bind(PROCESS)
            .bind(&ids)
            .bind(&states)
            .bind(&versions)
            .bind(&statuses)
            .bind(vec![1_i32; ids.len()])
            .fetch_all(&mut *tx)
            .await
            .context("baseline: writing instances")?;
        ensure!(
            written.len() == ids.len(),
            "baseline: an instance changed concurrently"
        );
    }
    if !commands.is_empty() {
        sqlx::query(INSERT_OUTBOX)
            .bind(PROCESS)
            .bind(&command_ids)
            .bind(&command_instances)
            .bind(&command_types)
            .bind(&payloads)
            .bind(vec![now; commands.len()])
            .execute(&mut *tx)
            .await
            .context("baseline: recording commands")?;
        sqlx::query(NOTIFY_OUTBOX)
            .execute(&mut *tx)
            .await
            .context("baseline: NOTIFY")?;
    }
    if !scheduled.is_empty() {
        sqlx::query(UPSERT_TIMEOUTS)
            .bind(PROCESS)
            .bind(&scheduled)
            .bind(vec![kind; scheduled.len()])
            .bind(&due_at)
            .execute(&mut *tx)
            .await
            .context("baseline: scheduling timeouts")?;
    }
    if !dropped.is_empty() {
        sqlx::query(DELETE_TIMEOUTS)
            .bind(PROCESS)
            .bind(&dropped)
            .bind(vec![kind; dropped.len()])
            .execute(&mut *tx)
            .await
            .context("baseline: dropping timeouts")?;
    }
    sqlx::query(SAVE_CHECKPOINT)
        .bind(PROCESS)
        .bind(SOURCE)
        .bind(end.transaction)
        .bind(end.sequence)
        .execute(&mut *tx)
        .await
        .context("baseline: saving the checkpoint")?;
    tx.commit().await.context("baseline: COMMIT")?;
    Ok(())
}

/// Moves the checkpoint past events of other families.
async fn save_checkpoint(pool: &PgPool, end: Position) -> Result<()> {
    sqlx::query(SAVE_CHECKPOINT)
        .bind(PROCESS)
        .bind(SOURCE)
        .bind(end.transaction)
        .bind(end.sequence)
        .execute(pool)
        .await
        .context("baseline: saving the checkpoint")?;
    Ok(())
}
