//! [`PgStore`]: process state, outbox, timeouts and checkpoints in the `pm`
//! schema. Each batch commits in one transaction, with set-based statements
//! only (one per table, never one per row).

mod commit;

use std::sync::Arc;

use std::time::Duration;

use chrono::{DateTime, Utc};
use pm_core::backend::{
    Batch, Claim, DeadLetter, DueTimeout, FailedDelivery, InstanceRecord, Membership, Operations,
    OutboxCommand, OwnedPartitions, ParkedEntry, ParkedEvent, ParkedItem, PartitionLease,
    ProcessStats, Purged, Release, ReleasedItem, Store, Worker,
};
use pm_core::descriptor::Descriptor;
use pm_core::{Position, RecordedEvent, Result};
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use crate::error::{database, not_null};
use crate::listen::Listener;
use crate::{lease, outbox, timeout};

const LOAD_INSTANCES: &str = include_str!("../../sql/store/load_instances.sql");
const STATS: &str = include_str!("../../sql/store/stats.sql");
const PARKED_EVENTS: &str = include_str!("../../sql/store/parked_events.sql");
const REGISTER_PROCESS: &str = include_str!("../../sql/store/register_process.sql");
const RELEASE_INSTANCE: &str = include_str!("../../sql/store/release_instance.sql");
const PURGE_COMPLETED: &str = include_str!("../../sql/store/purge_completed.sql");
const PURGE_DELIVERED: &str = include_str!("../../sql/store/purge_delivered.sql");
const RELEASE_PARKED: &str = include_str!("../../sql/store/release_parked.sql");
const RELEASED_ITEMS: &str = include_str!("../../sql/store/released_items.sql");

/// The store in the `pm` schema. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    outbox_changed: Arc<watch::Sender<u64>>,
    /// Held so the listener runs while any clone of the log or the store
    /// does.
    _listener: Arc<Listener>,
}

impl PgStore {
    pub(crate) fn new(
        pool: PgPool,
        outbox_changed: Arc<watch::Sender<u64>>,
        listener: Arc<Listener>,
    ) -> Self {
        Self {
            pool,
            outbox_changed,
            _listener: listener,
        }
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Store for PgStore {
    async fn heartbeat(
        &self,
        process: &str,
        source: &str,
        worker: &Worker,
        partitions: u32,
        lease_for: Duration,
    ) -> Result<Membership> {
        lease::heartbeat(&self.pool, process, source, worker, partitions, lease_for).await
    }

    async fn claim_partitions(
        &self,
        process: &str,
        worker: &str,
        limit: usize,
        avoid: &[u32],
        lease_for: Duration,
    ) -> Result<Vec<PartitionLease>> {
        lease::claim(&self.pool, process, worker, limit, avoid, lease_for).await
    }

    async fn renew_partitions(
        &self,
        process: &str,
        worker: &str,
        held: &[(u32, i64)],
        lease_for: Duration,
    ) -> Result<Vec<PartitionLease>> {
        lease::renew(&self.pool, process, worker, held, lease_for).await
    }

    async fn release_partitions(
        &self,
        process: &str,
        worker: &str,
        held: &[(u32, i64)],
    ) -> Result<()> {
        lease::release(&self.pool, process, worker, held).await
    }

    async fn leave(&self, process: &str, worker: &str) -> Result<()> {
        lease::leave(&self.pool, process, worker).await
    }

    async fn load_instances(&self, process: &str, ids: &[String]) -> Result<Vec<InstanceRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<InstanceRow> = sqlx::query_as(LOAD_INSTANCES)
            .bind(process)
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .map_err(database("loading instances failed"))?;
        rows.into_iter().map(InstanceRecord::try_from).collect()
    }

    async fn due_timeouts(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DueTimeout>> {
        timeout::due(&self.pool, process, partitions, now, limit).await
    }

    async fn next_timeout_at(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
    ) -> Result<Option<DateTime<Utc>>> {
        timeout::next_due(&self.pool, process, partitions).await
    }

    async fn commit(&self, batch: Batch) -> Result<()> {
        let has_commands = !batch.commands.is_empty();
        commit::commit(&self.pool, batch).await?;
        if has_commands {
            self.outbox_changed
                .send_modify(|count| *count = count.wrapping_add(1));
        }
        Ok(())
    }

    async fn claim_commands(&self, process: &str, claim: Claim) -> Result<Vec<OutboxCommand>> {
        outbox::claim(&self.pool, process, claim).await
    }

    async fn complete_commands(&self, lease: Uuid, ids: &[Uuid]) -> Result<()> {
        outbox::complete(&self.pool, lease, ids).await
    }

    async fn fail_commands(&self, lease: Uuid, failures: &[FailedDelivery]) -> Result<()> {
        outbox::fail(&self.pool, lease, failures).await
    }

    async fn next_command_at(&self, process: &str) -> Result<Option<DateTime<Utc>>> {
        outbox::next_available(&self.pool, process).await
    }

    fn subscribe_outbox(&self) -> watch::Receiver<u64> {
        self.outbox_changed.subscribe()
    }

    async fn purge(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        older_than: Duration,
        limit: usize,
    ) -> Result<Purged> {
        let (count, owned) = timeout::partition_columns(partitions);
        let millis = older_than.as_secs_f64() * 1000.0;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let instances = sqlx::query(PURGE_COMPLETED)
            .bind(process)
            .bind(count)
            .bind(&owned)
            .bind(limit)
            .bind(millis)
            .execute(&self.pool)
            .await
            .map_err(database("removing old completed instances failed"))?
            .rows_affected();
        let delivered = sqlx::query(PURGE_DELIVERED)
            .bind(process)
            .bind(limit)
            .bind(millis)
            .execute(&self.pool)
            .await
            .map_err(database("removing old delivered commands failed"))?
            .rows_affected();
        Ok(Purged {
            instances,
            delivered,
        })
    }

    async fn released_items(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        instances: usize,
    ) -> Result<Vec<ReleasedItem>> {
        let (count, owned) = timeout::partition_columns(partitions);
        let rows: Vec<ReleasedRow> = sqlx::query_as(RELEASED_ITEMS)
            .bind(process)
            .bind(i64::try_from(instances).unwrap_or(i64::MAX))
            .bind(count)
            .bind(&owned)
            .fetch_all(&self.pool)
            .await
            .map_err(database("reading released parked items failed"))?;
        rows.into_iter().map(ReleasedItem::try_from).collect()
    }

    async fn register_process(&self, descriptor: &Descriptor) -> Result<()> {
        let descriptor_json =
            serde_json::to_value(descriptor).map_err(|source| pm_core::Error::Encode {
                what: format!("the descriptor of process `{}`", descriptor.name),
                source,
            })?;
        sqlx::query(REGISTER_PROCESS)
            .bind(descriptor.name)
            .bind(descriptor_json)
            .execute(&self.pool)
            .await
            .map_err(database("registering the process failed"))?;
        Ok(())
    }
}

impl Operations for PgStore {
    async fn stats(&self, process: &str) -> Result<ProcessStats> {
        let row: StatsRow = sqlx::query_as(STATS)
            .bind(process)
            .fetch_one(&self.pool)
            .await
            .map_err(database("counting rows failed"))?;
        Ok(row.into())
    }

    async fn parked_events(&self, process: &str) -> Result<Vec<ParkedEntry>> {
        let rows: Vec<ParkedEntryRow> = sqlx::query_as(PARKED_EVENTS)
            .bind(process)
            .fetch_all(&self.pool)
            .await
            .map_err(database("reading parked events failed"))?;
        rows.into_iter().map(ParkedEntry::try_from).collect()
    }

    async fn dead_letters(&self, process: &str) -> Result<Vec<DeadLetter>> {
        outbox::dead_letters(&self.pool, process).await
    }

    async fn release_instance(
        &self,
        process: &str,
        instance: &str,
        release: Release,
    ) -> Result<u64> {
        let result = sqlx::query(RELEASE_INSTANCE)
            .bind(process)
            .bind(instance)
            .bind(release == Release::SkipFailed)
            .execute(&self.pool)
            .await
            .map_err(database("releasing a parked instance failed"))?;
        Ok(result.rows_affected())
    }

    async fn release_parked(&self, process: &str, ids: &[i64], release: Release) -> Result<u64> {
        let result = sqlx::query(RELEASE_PARKED)
            .bind(process)
            .bind(ids)
            .bind(release == Release::SkipFailed)
            .execute(&self.pool)
            .await
            .map_err(database("releasing parked items failed"))?;
        Ok(result.rows_affected())
    }
}

/// The columns of `pm.instances` read back (`store/load_instances.sql`, and
/// the start of `admin/instance.sql`).
#[derive(sqlx::FromRow)]
pub(crate) struct InstanceRow {
    pub(crate) instance_id: String,
    pub(crate) state: Value,
    pub(crate) version: i64,
    pub(crate) status: String,
    pub(crate) schema_version: i32,
    pub(crate) last_tx: i64,
    pub(crate) last_position: i64,
}

impl TryFrom<InstanceRow> for InstanceRecord {
    type Error = pm_core::Error;

    fn try_from(row: InstanceRow) -> Result<Self> {
        let status = crate::status::from_stored(&row.status)
            .ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown instance status `{}`", row.status).into())
            })
            .map_err(database("decoding an instance failed"))?;
        Ok(InstanceRecord {
            id: row.instance_id,
            state: row.state,
            version: row.version,
            status,
            schema_version: row.schema_version,
            last_position: Position {
                transaction: row.last_tx,
                sequence: row.last_position,
            },
        })
    }
}

/// The counts of `store/stats.sql`.
#[derive(sqlx::FromRow)]
struct StatsRow {
    active: i64,
    completed: i64,
    parked: i64,
    pending_commands: i64,
    dead_letters: i64,
    pending_timeouts: i64,
}

impl From<StatsRow> for ProcessStats {
    fn from(row: StatsRow) -> Self {
        let count = |value: i64| u64::try_from(value).unwrap_or(0);
        ProcessStats {
            active: count(row.active),
            completed: count(row.completed),
            parked: count(row.parked),
            pending_commands: count(row.pending_commands),
            dead_letters: count(row.dead_letters),
            pending_timeouts: count(row.pending_timeouts),
        }
    }
}

/// A row of `store/parked_events.sql` and `admin/instance_parked.sql`.
#[derive(sqlx::FromRow)]
pub(crate) struct ParkedEntryRow {
    id: i64,
    released: bool,
    #[sqlx(flatten)]
    parked: ParkedRow,
}

impl TryFrom<ParkedEntryRow> for ParkedEntry {
    type Error = pm_core::Error;

    fn try_from(row: ParkedEntryRow) -> Result<Self> {
        Ok(ParkedEntry {
            id: row.id,
            released: row.released,
            parked: row.parked.try_into()?,
        })
    }
}

/// A row of `store/released_items.sql`.
#[derive(sqlx::FromRow)]
struct ReleasedRow {
    id: i64,
    skip: bool,
    #[sqlx(flatten)]
    parked: ParkedRow,
}

impl TryFrom<ReleasedRow> for ReleasedItem {
    type Error = pm_core::Error;

    fn try_from(row: ReleasedRow) -> Result<Self> {
        Ok(ReleasedItem {
            id: row.id,
            skip: row.skip,
            parked: row.parked.try_into()?,
        })
    }
}

/// The parked item of a row of `pm.parked`: an event, or a timeout when
/// `timeout_kind` is set (the columns of the other kind are NULL).
#[derive(sqlx::FromRow)]
struct ParkedRow {
    instance_id: Option<String>,
    error: Option<String>,
    event_tx: Option<i64>,
    event_position: Option<i64>,
    stream_id: Option<String>,
    stream_version: Option<i64>,
    event_type: Option<String>,
    payload: Option<Value>,
    recorded_at: Option<DateTime<Utc>>,
    timeout_kind: Option<String>,
    due_at: Option<DateTime<Utc>>,
}

impl TryFrom<ParkedRow> for ParkedEvent {
    type Error = pm_core::Error;

    fn try_from(row: ParkedRow) -> Result<Self> {
        const DECODING: &str = "decoding a parked event failed";
        let item = match row.timeout_kind {
            Some(kind) => ParkedItem::Timeout {
                kind,
                due_at: not_null(row.due_at, "due_at", DECODING)?,
            },
            None => ParkedItem::Event(RecordedEvent {
                position: Position {
                    transaction: not_null(row.event_tx, "event_tx", DECODING)?,
                    sequence: not_null(row.event_position, "event_position", DECODING)?,
                },
                stream_id: not_null(row.stream_id, "stream_id", DECODING)?,
                stream_version: not_null(row.stream_version, "stream_version", DECODING)?,
                event_type: not_null(row.event_type, "event_type", DECODING)?,
                payload: not_null(row.payload, "payload", DECODING)?,
                recorded_at: not_null(row.recorded_at, "recorded_at", DECODING)?,
            }),
        };
        Ok(ParkedEvent {
            instance: row.instance_id,
            item,
            error: row.error,
        })
    }
}
