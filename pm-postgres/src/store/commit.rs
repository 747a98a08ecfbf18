//! One batch, one transaction: instances (version-checked), outbox
//! commands, timeouts, parked events and the checkpoint, each written with
//! one set-based statement.

use chrono::{DateTime, Utc};
use pm_core::{Batch, Error, ParkedItem, Result, TimeoutWrite};
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::error::database;

const UPSERT_INSTANCES: &str = include_str!("../../sql/store/upsert_instances.sql");
const INSERT_OUTBOX: &str = include_str!("../../sql/store/insert_outbox.sql");
const INSERT_HEADS: &str = include_str!("../../sql/store/insert_heads.sql");
const UPSERT_TIMEOUTS: &str = include_str!("../../sql/store/upsert_timeouts.sql");
const DELETE_TIMEOUTS: &str = include_str!("../../sql/store/delete_timeouts.sql");
const INSERT_PARKED: &str = include_str!("../../sql/store/insert_parked.sql");
const NOTIFY_OUTBOX: &str = include_str!("../../sql/store/notify_outbox.sql");
const DELETE_REPLAYED: &str = include_str!("../../sql/store/delete_replayed.sql");

/// Commits `batch` atomically: the fence first, then the writes; a refused
/// fence or a stale instance rolls everything back.
pub(super) async fn commit(pool: &PgPool, batch: Batch) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let process = batch.process.as_str();
    let mut tx = pool
        .begin()
        .await
        .map_err(database("starting a batch transaction failed"))?;
    if let Some(fence) = &batch.fence {
        crate::lease::fence(&mut tx, process, fence).await?;
    }
    write_instances(&mut tx, &batch).await?;
    write_commands(&mut tx, &batch).await?;
    write_timeouts(&mut tx, process, &batch.timeouts).await?;
    if !batch.replayed.is_empty() {
        sqlx::query(DELETE_REPLAYED)
            .bind(process)
            .bind(&batch.replayed)
            .execute(&mut *tx)
            .await
            .map_err(database("removing replayed parked items failed"))?;
    }
    write_parked(&mut tx, &batch).await?;
    tx.commit().await.map_err(|source| Error::Backend {
        context: format!("commit of a batch of process `{process}` failed"),
        source: Box::new(source),
    })
}

async fn write_instances(tx: &mut Transaction<'_, Postgres>, batch: &Batch) -> Result<()> {
    if batch.instances.is_empty() {
        return Ok(());
    }
    let count = batch.instances.len();
    let mut ids = Vec::with_capacity(count);
    let mut states = Vec::with_capacity(count);
    let mut versions = Vec::with_capacity(count);
    let mut statuses = Vec::with_capacity(count);
    let mut schema_versions = Vec::with_capacity(count);
    let mut last_tx = Vec::with_capacity(count);
    let mut last_positions = Vec::with_capacity(count);
    for write in &batch.instances {
        ids.push(write.id.as_str());
        states.push(&write.state);
        versions.push(write.expected_version);
        statuses.push(write.status.as_str());
        schema_versions.push(write.schema_version);
        last_tx.push(write.last_position.transaction);
        last_positions.push(write.last_position.sequence);
    }
    let written: Vec<String> = sqlx::query_scalar(UPSERT_INSTANCES)
        .bind(&batch.process)
        .bind(&ids)
        .bind(&states)
        .bind(&versions)
        .bind(&statuses)
        .bind(&schema_versions)
        .bind(&last_tx)
        .bind(&last_positions)
        .fetch_all(&mut **tx)
        .await
        .map_err(database("writing instances failed"))?;
    if written.len() == count {
        return Ok(());
    }
    let stale = batch
        .instances
        .iter()
        .find(|write| !written.contains(&write.id))
        .map_or((String::new(), 0), |write| {
            (write.id.clone(), write.expected_version)
        });
    Err(Error::StaleInstance {
        process: batch.process.clone(),
        instance: stale.0,
        expected: stale.1,
    })
}

async fn write_commands(tx: &mut Transaction<'_, Postgres>, batch: &Batch) -> Result<()> {
    if batch.commands.is_empty() {
        return Ok(());
    }
    let count = batch.commands.len();
    let mut ids: Vec<Uuid> = Vec::with_capacity(count);
    let mut instances = Vec::with_capacity(count);
    let mut keys = Vec::with_capacity(count);
    let mut types = Vec::with_capacity(count);
    let mut payloads: Vec<&Value> = Vec::with_capacity(count);
    let mut created: Vec<DateTime<Utc>> = Vec::with_capacity(count);
    for command in &batch.commands {
        ids.push(command.id);
        instances.push(command.instance.as_str());
        keys.push(command.ordering_key.as_str());
        types.push(command.command_type.as_str());
        payloads.push(&command.payload);
        created.push(command.created_at);
    }
    sqlx::query(INSERT_OUTBOX)
        .bind(&batch.process)
        .bind(&ids)
        .bind(&instances)
        .bind(&keys)
        .bind(&types)
        .bind(&payloads)
        .bind(&created)
        .execute(&mut **tx)
        .await
        .map_err(database("recording commands in the outbox failed"))?;
    sqlx::query(INSERT_HEADS)
        .bind(&batch.process)
        .bind(&ids)
        .bind(&keys)
        .bind(&created)
        .execute(&mut **tx)
        .await
        .map_err(database("queueing commands for delivery failed"))?;
    sqlx::query(NOTIFY_OUTBOX)
        .execute(&mut **tx)
        .await
        .map_err(database("notifying dispatchers failed"))?;
    Ok(())
}

async fn write_timeouts(
    tx: &mut Transaction<'_, Postgres>,
    process: &str,
    timeouts: &[TimeoutWrite],
) -> Result<()> {
    let (scheduled, dropped): (Vec<&TimeoutWrite>, Vec<&TimeoutWrite>) = timeouts
        .iter()
        .partition(|timeout| timeout.due_at.is_some());
    if !scheduled.is_empty() {
        let instances: Vec<&str> = scheduled
            .iter()
            .map(|timeout| timeout.instance.as_str())
            .collect();
        let kinds: Vec<&str> = scheduled
            .iter()
            .map(|timeout| timeout.kind.as_str())
            .collect();
        let due: Vec<DateTime<Utc>> = scheduled
            .iter()
            .filter_map(|timeout| timeout.due_at)
            .collect();
        sqlx::query(UPSERT_TIMEOUTS)
            .bind(process)
            .bind(&instances)
            .bind(&kinds)
            .bind(&due)
            .execute(&mut **tx)
            .await
            .map_err(database("scheduling timeouts failed"))?;
    }
    if !dropped.is_empty() {
        let instances: Vec<&str> = dropped
            .iter()
            .map(|timeout| timeout.instance.as_str())
            .collect();
        let kinds: Vec<&str> = dropped
            .iter()
            .map(|timeout| timeout.kind.as_str())
            .collect();
        sqlx::query(DELETE_TIMEOUTS)
            .bind(process)
            .bind(&instances)
            .bind(&kinds)
            .execute(&mut **tx)
            .await
            .map_err(database("dropping timeouts failed"))?;
    }
    Ok(())
}

async fn write_parked(tx: &mut Transaction<'_, Postgres>, batch: &Batch) -> Result<()> {
    if batch.parked.is_empty() {
        return Ok(());
    }
    let mut columns = ParkedColumns::default();
    for parked in &batch.parked {
        columns.instances.push(parked.instance.as_deref());
        columns.errors.push(parked.error.as_deref());
        match &parked.item {
            ParkedItem::Event(event) => {
                columns.transactions.push(Some(event.position.transaction));
                columns.positions.push(Some(event.position.sequence));
                columns.streams.push(Some(event.stream_id.as_str()));
                columns.versions.push(Some(event.stream_version));
                columns.types.push(Some(event.event_type.as_str()));
                columns.payloads.push(Some(&event.payload));
                columns.recorded.push(Some(event.recorded_at));
                columns.kinds.push(None);
                columns.due.push(None);
            }
            ParkedItem::Timeout { kind, due_at } => {
                columns.transactions.push(None);
                columns.positions.push(None);
                columns.streams.push(None);
                columns.versions.push(None);
                columns.types.push(None);
                columns.payloads.push(None);
                columns.recorded.push(None);
                columns.kinds.push(Some(kind.as_str()));
                columns.due.push(Some(*due_at));
            }
        }
    }
    sqlx::query(INSERT_PARKED)
        .bind(&batch.process)
        .bind(&columns.instances)
        .bind(&columns.errors)
        .bind(&columns.transactions)
        .bind(&columns.positions)
        .bind(&columns.streams)
        .bind(&columns.versions)
        .bind(&columns.types)
        .bind(&columns.payloads)
        .bind(&columns.recorded)
        .bind(&columns.kinds)
        .bind(&columns.due)
        .execute(&mut **tx)
        .await
        .map_err(database("parking events failed"))?;
    Ok(())
}

/// One array per column of `pm.parked`.
#[derive(Default)]
struct ParkedColumns<'a> {
    instances: Vec<Option<&'a str>>,
    errors: Vec<Option<&'a str>>,
    transactions: Vec<Option<i64>>,
    positions: Vec<Option<i64>>,
    streams: Vec<Option<&'a str>>,
    versions: Vec<Option<i64>>,
    types: Vec<Option<&'a str>>,
    payloads: Vec<Option<&'a Value>>,
    recorded: Vec<Option<DateTime<Utc>>>,
    kinds: Vec<Option<&'a str>>,
    due: Vec<Option<DateTime<Utc>>>,
}
