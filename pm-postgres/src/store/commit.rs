//! One batch, one statement: `pm.commit_batch` (defined in the migrations)
//! writes instances (version-checked), outbox commands, timeouts, parked
//! items and the fenced checkpoints in one round trip and one implicit
//! transaction. A refused fence or a stale instance raises its own SQLSTATE
//! and rolls everything back.

use chrono::{DateTime, Utc};
use pm_core::backend::{Batch, ParkedItem};
use pm_core::{Error, Result};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::lease::{fence_columns, refusal_of};

const COMMIT_BATCH: &str = include_str!("../../sql/store/commit_batch.sql");

/// The SQLSTATE `pm.commit_batch` raises when the fence does not hold.
const FENCE_REFUSED: &str = "PMF01";
/// The SQLSTATE `pm.commit_batch` raises for a stale instance; its detail
/// is the instance id.
const STALE_INSTANCE: &str = "PMS01";

/// Commits `batch` atomically, or not at all.
pub(super) async fn commit(pool: &PgPool, batch: Batch) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let fence = fence_columns(batch.fence.as_ref());
    let instances = InstanceColumns::of(&batch);
    let commands = CommandColumns::of(&batch);
    let timeouts = TimeoutColumns::of(&batch);
    let parked = ParkedColumns::of(&batch);
    let worker = batch
        .fence
        .as_ref()
        .map_or("", |fence| fence.worker.as_str());
    let result = sqlx::query(COMMIT_BATCH)
        .bind(&batch.process)
        .bind(worker)
        .bind(&fence.partitions)
        .bind(&fence.epochs)
        .bind(&fence.from_tx)
        .bind(&fence.from_position)
        .bind(&fence.to_tx)
        .bind(&fence.to_position)
        .bind(&instances.ids)
        .bind(&instances.states)
        .bind(&instances.versions)
        .bind(&instances.statuses)
        .bind(&instances.schema_versions)
        .bind(&instances.last_tx)
        .bind(&instances.last_positions)
        .bind(&commands.ids)
        .bind(&commands.instances)
        .bind(&commands.keys)
        .bind(&commands.types)
        .bind(&commands.payloads)
        .bind(&commands.created)
        .bind(&timeouts.instances)
        .bind(&timeouts.kinds)
        .bind(&timeouts.due)
        .bind(&batch.replayed)
        .bind(&parked.instances)
        .bind(&parked.errors)
        .bind(&parked.transactions)
        .bind(&parked.positions)
        .bind(&parked.streams)
        .bind(&parked.versions)
        .bind(&parked.types)
        .bind(&parked.payloads)
        .bind(&parked.recorded)
        .bind(&parked.kinds)
        .bind(&parked.due)
        .execute(pool)
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(source) => Err(commit_error(pool, &batch, source).await),
    }
}

/// The error for a failed commit: a refusal by one of the checks, or the
/// database's own.
async fn commit_error(pool: &PgPool, batch: &Batch, source: sqlx::Error) -> Error {
    let (code, detail) = match &source {
        sqlx::Error::Database(error) => (
            error.code().map(|code| code.into_owned()),
            error
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|error| error.detail().map(str::to_owned)),
        ),
        _ => (None, None),
    };
    match (code.as_deref(), &batch.fence) {
        (Some(FENCE_REFUSED), Some(fence)) => refusal_of(pool, &batch.process, fence).await,
        (Some(STALE_INSTANCE), _) => {
            let instance = detail.unwrap_or_default();
            let expected = batch
                .instances
                .iter()
                .find(|write| write.id == instance)
                .map_or(0, |write| write.expected_version);
            Error::StaleInstance {
                process: batch.process.clone(),
                instance,
                expected,
            }
        }
        _ => Error::Backend {
            context: format!("commit of a batch of process `{}` failed", batch.process),
            source: Box::new(source),
        },
    }
}

/// One array per instance column.
struct InstanceColumns<'a> {
    ids: Vec<&'a str>,
    states: Vec<&'a Value>,
    versions: Vec<i64>,
    statuses: Vec<&'static str>,
    schema_versions: Vec<i32>,
    last_tx: Vec<i64>,
    last_positions: Vec<i64>,
}

impl<'a> InstanceColumns<'a> {
    fn of(batch: &'a Batch) -> Self {
        let writes = &batch.instances;
        Self {
            ids: writes.iter().map(|write| write.id.as_str()).collect(),
            states: writes.iter().map(|write| &write.state).collect(),
            versions: writes.iter().map(|write| write.expected_version).collect(),
            statuses: writes
                .iter()
                .map(|write| crate::status::stored_name(write.status))
                .collect(),
            schema_versions: writes.iter().map(|write| write.schema_version).collect(),
            last_tx: writes
                .iter()
                .map(|write| write.last_position.transaction)
                .collect(),
            last_positions: writes
                .iter()
                .map(|write| write.last_position.sequence)
                .collect(),
        }
    }
}

/// One array per command column.
struct CommandColumns<'a> {
    ids: Vec<Uuid>,
    instances: Vec<&'a str>,
    keys: Vec<&'a str>,
    types: Vec<&'a str>,
    payloads: Vec<&'a Value>,
    created: Vec<DateTime<Utc>>,
}

impl<'a> CommandColumns<'a> {
    fn of(batch: &'a Batch) -> Self {
        let commands = &batch.commands;
        Self {
            ids: commands.iter().map(|command| command.id).collect(),
            instances: commands
                .iter()
                .map(|command| command.instance.as_str())
                .collect(),
            keys: commands
                .iter()
                .map(|command| command.ordering_key.as_str())
                .collect(),
            types: commands
                .iter()
                .map(|command| command.command_type.as_str())
                .collect(),
            payloads: commands.iter().map(|command| &command.payload).collect(),
            created: commands.iter().map(|command| command.created_at).collect(),
        }
    }
}

/// One array per timeout column; no due time drops the timeout.
struct TimeoutColumns<'a> {
    instances: Vec<&'a str>,
    kinds: Vec<&'a str>,
    due: Vec<Option<DateTime<Utc>>>,
}

impl<'a> TimeoutColumns<'a> {
    fn of(batch: &'a Batch) -> Self {
        let timeouts = &batch.timeouts;
        Self {
            instances: timeouts
                .iter()
                .map(|timeout| timeout.instance.as_str())
                .collect(),
            kinds: timeouts
                .iter()
                .map(|timeout| timeout.kind.as_str())
                .collect(),
            due: timeouts.iter().map(|timeout| timeout.due_at).collect(),
        }
    }
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

impl<'a> ParkedColumns<'a> {
    fn of(batch: &'a Batch) -> Self {
        let mut columns = Self::default();
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
        columns
    }
}
