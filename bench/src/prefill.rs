//! Bulk loading of the event log and the outbox: one `INSERT ... SELECT
//! FROM unnest(..)` per chunk, not the engine.
//!
//! Bookings are interleaved the way a live system interleaves them: groups
//! of [`IN_FLIGHT`] bookings advance stage by stage, so a batch of 2,000
//! events touches about 1,000 instances with two events each.

use anyhow::{Context as _, Result};
use chrono::Utc;
use pm_core::Position;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::process::{booking_events, booking_id, SeedEvent};

/// Rows per INSERT statement (and per transaction).
const CHUNK: usize = 5_000;

/// Bookings (or outbox instances) in flight at once.
pub const IN_FLIGHT: u64 = 1_000;

/// Instances the prefilled outbox commands belong to.
pub const OUTBOX_INSTANCES: u64 = 20_000;

/// What a prefilled log holds.
#[derive(Debug, Clone, Copy)]
pub struct Prefilled {
    /// Events inserted.
    pub events: u64,
    /// Bookings they describe.
    pub bookings: u64,
    /// The position of the last event, in read order.
    pub end: Position,
}

/// The events of `bookings` bookings, [`IN_FLIGHT`] at a time, in log
/// order, generated one group at a time so the prefill stays small in
/// memory.
fn seed_events(bookings: u64) -> impl Iterator<Item = SeedEvent> {
    (0..bookings)
        .step_by(usize::try_from(IN_FLIGHT).unwrap_or(usize::MAX))
        .flat_map(move |group_start| {
            let group: Vec<[SeedEvent; 5]> = (group_start..(group_start + IN_FLIGHT).min(bookings))
                .map(booking_events)
                .collect();
            (0..5).flat_map(move |stage| {
                group
                    .iter()
                    .map(|booking| booking[stage].clone())
                    .collect::<Vec<_>>()
            })
        })
}

/// Appends the events of `bookings` bookings to the empty log in chunks,
/// then analyzes the table (a log that grew in production would have
/// statistics).
pub async fn prefill_events(pool: &PgPool, bookings: u64) -> Result<Prefilled> {
    let mut events = seed_events(bookings).peekable();
    while events.peek().is_some() {
        let chunk: Vec<SeedEvent> = events.by_ref().take(CHUNK).collect();
        insert_events(pool, &chunk).await?;
    }
    sqlx::query("ANALYZE pm.events")
        .execute(pool)
        .await
        .context("analyzing pm.events")?;
    let last: Option<(i64, i64)> = sqlx::query_as(
        "SELECT transaction_id::text::bigint, position FROM pm.events \
         ORDER BY transaction_id DESC, position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .context("finding the end of the log")?;
    let (transaction, sequence) = last.context("the log is empty after the prefill")?;
    Ok(Prefilled {
        events: bookings * 5,
        bookings,
        end: Position {
            transaction,
            sequence,
        },
    })
}

/// Appends `events` with one statement (one transaction).
async fn insert_events(pool: &PgPool, events: &[SeedEvent]) -> Result<()> {
    let streams: Vec<&str> = events.iter().map(|e| e.stream_id.as_str()).collect();
    let versions: Vec<i64> = events.iter().map(|e| e.stream_version).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type).collect();
    let payloads: Vec<&Value> = events.iter().map(|e| &e.payload).collect();
    sqlx::query(
        "INSERT INTO pm.events (stream_id, stream_version, event_type, payload) \
         SELECT e.stream_id, e.stream_version, e.event_type, e.payload \
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::jsonb[]) \
              WITH ORDINALITY AS e (stream_id, stream_version, event_type, payload, n) \
         ORDER BY e.n",
    )
    .bind(&streams)
    .bind(&versions)
    .bind(&types)
    .bind(&payloads)
    .execute(pool)
    .await
    .context("bulk-inserting events")?;
    Ok(())
}

/// The position of the `n`-th event (1-based) in read order.
pub async fn nth_position(pool: &PgPool, n: u64) -> Result<Option<Position>> {
    let offset = i64::try_from(n.saturating_sub(1)).unwrap_or(i64::MAX);
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT transaction_id::text::bigint, position FROM pm.events \
         ORDER BY transaction_id, position OFFSET $1 LIMIT 1",
    )
    .bind(offset)
    .fetch_optional(pool)
    .await
    .context("finding an event's position")?;
    Ok(row.map(|(transaction, sequence)| Position {
        transaction,
        sequence,
    }))
}

/// Fills `pm.outbox` with `commands` commands of `process` (see
/// [`outbox_rows`]) in chunks.
pub async fn prefill_outbox(pool: &PgPool, process: &str, commands: u64) -> Result<()> {
    let rows = outbox_rows(commands);
    let mut rows = rows.peekable();
    let now = Utc::now();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
        let ids: Vec<Uuid> = chunk.iter().map(|_| Uuid::new_v4()).collect();
        let instances: Vec<&str> = chunk.iter().map(|row| row.0.as_str()).collect();
        let types: Vec<&str> = chunk.iter().map(|row| row.1).collect();
        let payloads: Vec<&Value> = chunk.iter().map(|row| &row.2).collect();
        sqlx::query(
            "INSERT INTO pm.outbox (id, process, instance_id, ordering_key, command_type, payload, created_at) \
             SELECT c.id, $1, c.instance_id, 'instance:' || c.instance_id, c.command_type, c.payload, $5 \
             FROM unnest($2::uuid[], $3::text[], $4::text[], $6::jsonb[]) \
                  WITH ORDINALITY AS c (id, instance_id, command_type, payload, n) \
             ORDER BY c.n",
        )
        .bind(process)
        .bind(&ids)
        .bind(&instances)
        .bind(&types)
        .bind(now)
        .bind(&payloads)
        .execute(pool)
        .await
        .context("bulk-inserting outbox commands")?;
    }
    // Each instance's oldest command is the head of its ordering key, as
    // the engine's commits make it.
    sqlx::query(
        "INSERT INTO pm.outbox_heads (process, ordering_key, command_id, available_at) \
         SELECT DISTINCT ON (ordering_key) process, ordering_key, id, created_at \
         FROM pm.outbox WHERE process = $1 ORDER BY ordering_key, seq \
         ON CONFLICT (process, ordering_key) DO NOTHING",
    )
    .bind(process)
    .execute(pool)
    .await
    .context("making each instance's first command its head")?;
    Ok(())
}

/// `commands` commands spread evenly over [`OUTBOX_INSTANCES`] instances,
/// issued stage by stage per group of [`IN_FLIGHT`] instances as a process
/// loop would record them.
fn outbox_rows(commands: u64) -> impl Iterator<Item = (String, &'static str, Value)> + Send {
    let per_instance = commands.div_ceil(OUTBOX_INSTANCES);
    (0..OUTBOX_INSTANCES)
        .step_by(usize::try_from(IN_FLIGHT).unwrap_or(usize::MAX))
        .flat_map(move |group_start| {
            let group_end = (group_start + IN_FLIGHT).min(OUTBOX_INSTANCES);
            (0..per_instance).flat_map(move |stage| {
                (group_start..group_end).map(move |instance| outbox_row(instance, stage))
            })
        })
        .take(usize::try_from(commands).unwrap_or(usize::MAX))
}

/// The `stage`-th command of instance `index`: the booking's commands in turn.
fn outbox_row(index: u64, stage: u64) -> (String, &'static str, Value) {
    let id = booking_id(index);
    match stage % 5 {
        0 => (
            id.clone(),
            "ReserveTickets",
            serde_json::json!({ "booking_id": id, "show": format!("show-{}", index % 40), "seats": 2 }),
        ),
        1 => (
            id.clone(),
            "RequestPayment",
            serde_json::json!({ "booking_id": id, "amount_cents": 4_500, "currency": "EUR" }),
        ),
        2 => (
            id.clone(),
            "SettleBooking",
            serde_json::json!({ "booking_id": id }),
        ),
        3 => (
            id.clone(),
            "ExpireBooking",
            serde_json::json!({ "booking_id": id }),
        ),
        _ => (
            id.clone(),
            "ReleaseTickets",
            serde_json::json!({ "booking_id": id, "seats": 2 }),
        ),
    }
}
