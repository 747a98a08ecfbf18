//! The write ceiling: for each batch of the log, as many instance and
//! outbox rows as the engine writes for it (one per booking the batch
//! touches, one per command it sends), inserted as new rows into the
//! engine's own tables in one statement per batch. Only the statements
//! are timed: the rows are built between them. No system that writes
//! these rows can be faster; the engine's rate over this one says how
//! much its reads, checks and bookkeeping cost.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use pm_core::Position;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::process::{Booking, Stage};

const BATCH_ROWS: &str = include_str!("../sql/ceiling/batch_rows.sql");
const BATCH: &str = include_str!("../sql/ceiling/batch.sql");

/// The time the statements took and how many batches ran.
pub struct Ceiling {
    /// Time spent in the insert statements.
    pub writing: Duration,
    /// Batches written.
    pub batches: u64,
}

/// Writes the rows of every batch of `batch_size` events up to `until`.
pub async fn run(pool: &PgPool, batch_size: usize, until: Position) -> Result<Ceiling> {
    let limit = i64::try_from(batch_size).unwrap_or(i64::MAX);
    let state = serde_json::to_value(Booking {
        stage: Stage::AwaitingPayment,
        show: "show-17".to_owned(),
        seats: 2,
        price_cents: 12_000,
        payment_id: Some("pay-000017".to_owned()),
    })
    .context("ceiling: encoding a state")?;
    let mut after = Position::START;
    let mut ceiling = Ceiling {
        writing: Duration::ZERO,
        batches: 0,
    };
    while after < until {
        let events: Vec<(i64, i64, String, Option<String>)> = sqlx::query_as(BATCH_ROWS)
            .bind(after.transaction.to_string())
            .bind(after.sequence)
            .bind(limit)
            .fetch_all(pool)
            .await
            .context("ceiling: reading a batch of the log")?;
        let Some(&(transaction, sequence, _, _)) = events.last() else {
            break;
        };
        after = Position {
            transaction,
            sequence,
        };
        let rows = Rows::of(ceiling.batches, &events, &state);
        let started = Instant::now();
        sqlx::query(BATCH)
            .bind(&rows.instances)
            .bind(&rows.states)
            .bind(&rows.command_ids)
            .bind(&rows.command_instances)
            .bind(&rows.command_types)
            .bind(&rows.payloads)
            .execute(pool)
            .await
            .context("ceiling: inserting a batch")?;
        ceiling.writing += started.elapsed();
        ceiling.batches += 1;
    }
    Ok(ceiling)
}

/// The columns of one batch.
struct Rows {
    instances: Vec<String>,
    states: Vec<Value>,
    command_ids: Vec<Uuid>,
    command_instances: Vec<String>,
    command_types: Vec<&'static str>,
    payloads: Vec<Value>,
}

impl Rows {
    /// One instance row per booking of the batch (named after the batch, so
    /// each is new) and one command row per event that sends one.
    fn of(batch: u64, events: &[(i64, i64, String, Option<String>)], state: &Value) -> Self {
        let mut rows = Rows {
            instances: Vec::new(),
            states: Vec::new(),
            command_ids: Vec::new(),
            command_instances: Vec::new(),
            command_types: Vec::new(),
            payloads: Vec::new(),
        };
        let mut seen = HashSet::new();
        for (_, _, event_type, booking) in events {
            let Some(booking) = booking else { continue };
            let instance = format!("{booking}#{batch}");
            if seen.insert(instance.clone()) {
                rows.instances.push(instance.clone());
                rows.states.push(state.clone());
            }
            let command = match event_type.as_str() {
                "BookingEvent.Placed" => "ReserveTickets",
                "BookingEvent.Confirmed" => "RequestPayment",
                "PaymentEvent.Succeeded" => "SettleBooking",
                _ => continue,
            };
            rows.command_ids.push(Uuid::new_v4());
            rows.payloads
                .push(json!({ "booking_id": booking, "show": "show-17", "seats": 2 }));
            rows.command_instances.push(instance);
            rows.command_types.push(command);
        }
        rows
    }
}
