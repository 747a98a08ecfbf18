//! [`PgStore`]: process state, outbox, timeouts and checkpoints in the `pm`
//! schema. Each batch commits in one transaction, with set-based statements
//! only (one per table, never one per row).

mod commit;

use std::sync::Arc;

use std::time::Duration;

use chrono::{DateTime, Utc};
use pm_core::{
    Batch, Claim, DeadLetter, Descriptor, DueTimeout, FailedDelivery, InstanceRecord,
    InstanceStatus, Membership, OutboxCommand, OwnedPartitions, ParkedEntry, ParkedEvent,
    ParkedItem, PartitionLease, Position, ProcessStats, Purged, RecordedEvent, Release,
    ReleasedItem, Result, Store, Worker,
};
use sqlx::{PgPool, Row};
use tokio::sync::watch;
use uuid::Uuid;

use crate::error::database;
use crate::{dispatch, lease, timeout};

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
}

impl PgStore {
    pub(crate) fn new(pool: PgPool, outbox_changed: Arc<watch::Sender<u64>>) -> Self {
        Self {
            pool,
            outbox_changed,
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
        let rows = sqlx::query(LOAD_INSTANCES)
            .bind(process)
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .map_err(database("loading instances failed"))?;
        rows.iter().map(instance_record).collect()
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
        dispatch::claim(&self.pool, process, claim).await
    }

    async fn complete_commands(&self, lease: Uuid, ids: &[Uuid]) -> Result<()> {
        dispatch::complete(&self.pool, lease, ids).await
    }

    async fn fail_commands(&self, lease: Uuid, failures: &[FailedDelivery]) -> Result<()> {
        dispatch::fail(&self.pool, lease, failures).await
    }

    async fn next_command_at(&self, process: &str) -> Result<Option<DateTime<Utc>>> {
        dispatch::next_available(&self.pool, process).await
    }

    fn subscribe_outbox(&self) -> watch::Receiver<u64> {
        self.outbox_changed.subscribe()
    }

    async fn stats(&self, process: &str) -> Result<ProcessStats> {
        let row = sqlx::query(STATS)
            .bind(process)
            .fetch_one(&self.pool)
            .await
            .map_err(database("counting rows failed"))?;
        let count = |column: &str| -> Result<u64> {
            let value: i64 = row
                .try_get(column)
                .map_err(database("decoding counts failed"))?;
            Ok(u64::try_from(value).unwrap_or(0))
        };
        Ok(ProcessStats {
            active: count("active")?,
            completed: count("completed")?,
            parked: count("parked")?,
            pending_commands: count("pending_commands")?,
            dead_letters: count("dead_letters")?,
            pending_timeouts: count("pending_timeouts")?,
        })
    }

    async fn parked_events(&self, process: &str) -> Result<Vec<ParkedEntry>> {
        let rows = sqlx::query(PARKED_EVENTS)
            .bind(process)
            .fetch_all(&self.pool)
            .await
            .map_err(database("reading parked events failed"))?;
        rows.iter()
            .map(|row| {
                let get = database("decoding a parked event failed");
                Ok(ParkedEntry {
                    id: row.try_get("id").map_err(get)?,
                    released: row
                        .try_get("released")
                        .map_err(database("decoding a parked event failed"))?,
                    parked: parked_event(row)?,
                })
            })
            .collect()
    }

    async fn dead_letters(&self, process: &str) -> Result<Vec<DeadLetter>> {
        dispatch::dead_letters(&self.pool, process).await
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

    async fn released_items(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        instances: usize,
    ) -> Result<Vec<ReleasedItem>> {
        let (count, owned) = timeout::partition_columns(partitions);
        let rows = sqlx::query(RELEASED_ITEMS)
            .bind(process)
            .bind(i64::try_from(instances).unwrap_or(i64::MAX))
            .bind(count)
            .bind(&owned)
            .fetch_all(&self.pool)
            .await
            .map_err(database("reading released parked items failed"))?;
        rows.iter()
            .map(|row| {
                Ok(ReleasedItem {
                    id: row
                        .try_get("id")
                        .map_err(database("decoding a parked event failed"))?,
                    skip: row
                        .try_get("skip")
                        .map_err(database("decoding a parked event failed"))?,
                    parked: parked_event(row)?,
                })
            })
            .collect()
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

fn instance_record(row: &sqlx::postgres::PgRow) -> Result<InstanceRecord> {
    let decode = database("decoding an instance failed");
    let status: String = row
        .try_get("status")
        .map_err(database("decoding an instance failed"))?;
    Ok(InstanceRecord {
        id: row
            .try_get("instance_id")
            .map_err(database("decoding an instance failed"))?,
        state: row
            .try_get("state")
            .map_err(database("decoding an instance failed"))?,
        version: row
            .try_get("version")
            .map_err(database("decoding an instance failed"))?,
        status: InstanceStatus::parse(&status).ok_or_else(|| {
            decode(sqlx::Error::Decode(
                format!("unknown instance status `{status}`").into(),
            ))
        })?,
        schema_version: row
            .try_get("schema_version")
            .map_err(database("decoding an instance failed"))?,
        last_position: Position {
            transaction: row
                .try_get("last_tx")
                .map_err(database("decoding an instance failed"))?,
            sequence: row
                .try_get("last_position")
                .map_err(database("decoding an instance failed"))?,
        },
    })
}

fn parked_event(row: &sqlx::postgres::PgRow) -> Result<ParkedEvent> {
    let get = |error| pm_core::Error::backend("decoding a parked event failed", error);
    let timeout_kind: Option<String> = row.try_get("timeout_kind").map_err(get)?;
    let item = match timeout_kind {
        Some(kind) => ParkedItem::Timeout {
            kind,
            due_at: row.try_get("due_at").map_err(get)?,
        },
        None => ParkedItem::Event(RecordedEvent {
            position: Position {
                transaction: row.try_get("event_tx").map_err(get)?,
                sequence: row.try_get("event_position").map_err(get)?,
            },
            stream_id: row.try_get("stream_id").map_err(get)?,
            stream_version: row.try_get("stream_version").map_err(get)?,
            event_type: row.try_get("event_type").map_err(get)?,
            payload: row.try_get("payload").map_err(get)?,
            recorded_at: row.try_get("recorded_at").map_err(get)?,
        }),
    };
    Ok(ParkedEvent {
        instance: row.try_get("instance_id").map_err(get)?,
        item,
        error: row.try_get("error").map_err(get)?,
    })
}
