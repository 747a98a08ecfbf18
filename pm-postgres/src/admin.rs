//! Operations for operators (what the `pm` binary calls): which processes
//! run, on which workers and partitions, how far behind they are and how
//! their commands go out, one instance in full, what is parked and releasing
//! it, and dead letters to retry or purge.

mod delivery;
mod instance;
mod one_line;

use chrono::{DateTime, Utc};
use std::time::Duration;

use pm_core::backend::{
    DeadLetter, Operations, OwnedPartitions, ParkedEntry, ProcessStats, Purged, Release, Store,
};
use pm_core::{Position, ProcessManager, Result};
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::database;
use crate::{LogHorizon, PgBackend};

pub use delivery::{DeliveryStatus, WaitingHead};
pub use instance::{
    DeliveredCommand, InstancePartition, InstanceView, PendingCommand, PendingTimeout,
    DELIVERED_SHOWN,
};
pub use one_line::OneLine;

const PROCESSES: &str = include_str!("../sql/admin/processes.sql");
const PROCESS_NAMES: &str = include_str!("../sql/admin/process_names.sql");
const PARTITIONS: &str = include_str!("../sql/admin/partitions.sql");
const WORKERS: &str = include_str!("../sql/admin/workers.sql");
const REPARTITION: &str = include_str!("../sql/admin/repartition.sql");
const RETRY_DEAD_LETTERS: &str = include_str!("../sql/admin/retry_dead_letters.sql");
const PURGE_DEAD_LETTERS: &str = include_str!("../sql/admin/purge_dead_letters.sql");

/// Operator operations on one database.
#[derive(Debug, Clone)]
pub struct Admin {
    backend: PgBackend,
}

/// One registered process and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessStatus {
    /// The process name.
    pub name: String,
    /// The source its partitions read, once it has run.
    pub source: Option<String>,
    /// Its partitions, in order.
    pub partitions: Vec<PartitionStatus>,
    /// Its workers, live or recently gone.
    pub workers: Vec<WorkerStatus>,
    /// Row counts.
    pub stats: ProcessStats,
    /// How its commands go out.
    pub delivery: DeliveryStatus,
}

impl ProcessStatus {
    /// The lowest checkpoint of its partitions: every event before it has
    /// been consumed by every partition.
    pub fn checkpoint(&self) -> Option<Position> {
        self.partitions
            .iter()
            .map(|partition| partition.checkpoint)
            .min()
    }

    /// The partitions no live lease holds: nobody processes their
    /// instances until a worker claims them.
    pub fn unowned(&self) -> impl Iterator<Item = &PartitionStatus> {
        self.partitions.iter().filter(|partition| !partition.leased)
    }
}

/// One partition of a process.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionStatus {
    /// The partition number.
    pub partition: u32,
    /// The id of the worker that claimed it last, if it is not released.
    pub owner: Option<String>,
    /// That worker's name (host and process id), while it is registered.
    pub owner_name: Option<String>,
    /// The fencing token: how many times the partition was claimed.
    pub epoch: i64,
    /// When the owner's lease runs out (database clock).
    pub lease_until: DateTime<Utc>,
    /// Whether an owner holds a lease that has not run out.
    pub leased: bool,
    /// Seconds until the lease runs out (negative: ran out that long ago).
    pub lease_seconds_left: f64,
    /// Where the partition has read its source up to.
    pub checkpoint: Position,
    /// When its checkpoint or owner last changed.
    pub updated_at: DateTime<Utc>,
    /// Events of the built-in log beyond its checkpoint (of any family);
    /// `None` for other sources.
    pub events_beyond: Option<i64>,
}

/// A row of `partitions.sql`.
#[derive(sqlx::FromRow)]
struct PartitionRow {
    #[sqlx(try_from = "i32")]
    partition: u32,
    owner: Option<String>,
    owner_name: Option<String>,
    epoch: i64,
    lease_until: DateTime<Utc>,
    leased: bool,
    lease_seconds_left: f64,
    checkpoint_tx: i64,
    checkpoint_position: i64,
    updated_at: DateTime<Utc>,
    events_beyond: Option<i64>,
}

impl From<PartitionRow> for PartitionStatus {
    fn from(row: PartitionRow) -> Self {
        PartitionStatus {
            partition: row.partition,
            owner: row.owner,
            owner_name: row.owner_name,
            epoch: row.epoch,
            lease_until: row.lease_until,
            leased: row.leased,
            lease_seconds_left: row.lease_seconds_left,
            checkpoint: Position {
                transaction: row.checkpoint_tx,
                sequence: row.checkpoint_position,
            },
            updated_at: row.updated_at,
            events_beyond: row.events_beyond,
        }
    }
}

/// A worker of a process.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WorkerStatus {
    /// Its id (unique per start).
    #[sqlx(rename = "worker_id")]
    pub id: String,
    /// Host and process id.
    pub name: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    pub heartbeat_at: DateTime<Utc>,
    /// Whether its heartbeat is within its lease.
    pub alive: bool,
    /// How long ago its last heartbeat was.
    pub seconds_since_heartbeat: f64,
}

/// Which dead letters an operation applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// Every dead letter of the process.
    All,
    /// These ids.
    Ids(Vec<Uuid>),
}

impl Selection {
    fn ids(&self) -> Option<&[Uuid]> {
        match self {
            Selection::All => None,
            Selection::Ids(ids) => Some(ids),
        }
    }
}

impl Admin {
    /// Operations over `backend`'s database.
    pub fn new(backend: PgBackend) -> Self {
        Self { backend }
    }

    fn pool(&self) -> &PgPool {
        self.backend.pool()
    }

    /// Every registered process with its partitions, workers and counts.
    pub async fn processes(&self) -> Result<Vec<ProcessStatus>> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(PROCESSES)
            .fetch_all(self.pool())
            .await
            .map_err(database("listing processes failed"))?;
        let mut statuses = Vec::with_capacity(rows.len());
        for (name, source) in rows {
            statuses.push(ProcessStatus {
                partitions: self.partitions(&name).await?,
                workers: self.workers(&name).await?,
                stats: self.backend.store().stats(&name).await?,
                delivery: delivery::delivery(self.pool(), &name).await?,
                source,
                name,
            });
        }
        Ok(statuses)
    }

    /// The names of the processes that have run against this database.
    pub async fn process_names(&self) -> Result<Vec<String>> {
        sqlx::query_scalar(PROCESS_NAMES)
            .fetch_all(self.pool())
            .await
            .map_err(database("listing processes failed"))
    }

    /// Instance `id` of process `P` with its state decoded as `P`, read in
    /// one snapshot; `None` if it does not exist. A stored state that does
    /// not decode (or migrate) is an error naming the instance.
    pub async fn instance<P: ProcessManager>(&self, id: &P::Id) -> Result<Option<InstanceView<P>>> {
        self.instance_json(P::NAME, &id.to_string())
            .await?
            .map(InstanceView::decode)
            .transpose()
    }

    /// Instance `id` of `process` with its state as JSON (what `pm show`
    /// prints), read in one snapshot; `None` if it does not exist.
    pub async fn instance_json(&self, process: &str, id: &str) -> Result<Option<InstanceView>> {
        instance::instance_json(self.pool(), process, id).await
    }

    /// The partitions of `process`, in order.
    pub async fn partitions(&self, process: &str) -> Result<Vec<PartitionStatus>> {
        let rows: Vec<PartitionRow> = sqlx::query_as(PARTITIONS)
            .bind(process)
            .fetch_all(self.pool())
            .await
            .map_err(database("listing partitions failed"))?;
        Ok(rows.into_iter().map(PartitionStatus::from).collect())
    }

    /// The workers of `process`.
    pub async fn workers(&self, process: &str) -> Result<Vec<WorkerStatus>> {
        sqlx::query_as(WORKERS)
            .bind(process)
            .fetch_all(self.pool())
            .await
            .map_err(database("listing workers failed"))
    }

    /// Spreads `process` over `count` partitions instead, while it runs or
    /// not: every new partition starts at the lowest old checkpoint (each
    /// instance skips the events it has already applied) and at a higher
    /// epoch (batches computed under the old partitions are refused);
    /// workers take up the new count at their next heartbeat. Fails if the
    /// process has no partitions yet (it never ran: set
    /// `EngineOptions::partitions` instead) or `count` is 0.
    pub async fn repartition(&self, process: &str, count: u32) -> Result<u32> {
        let wanted = i32::try_from(count)
            .ok()
            .filter(|count| *count > 0)
            .ok_or_else(|| {
                pm_core::Error::backend(
                    format!("cannot spread process `{process}` over {count} partitions"),
                    "the count must be between 1 and 2147483647",
                )
            })?;
        let created: Vec<i32> = sqlx::query_scalar(REPARTITION)
            .bind(process)
            .bind(wanted)
            .fetch_all(self.pool())
            .await
            .map_err(database("repartitioning failed"))?;
        if created.is_empty() {
            return Err(pm_core::Error::backend(
                format!("cannot repartition process `{process}`"),
                "it has no partitions: it has not run against this database yet",
            ));
        }
        Ok(count)
    }

    /// What holds log readers back.
    pub async fn horizon(&self) -> Result<LogHorizon> {
        self.backend.log().horizon().await
    }

    /// The events parked or held for `process`.
    pub async fn parked(&self, process: &str) -> Result<Vec<ParkedEntry>> {
        self.backend.store().parked_events(process).await
    }

    /// The dead letters of `process`.
    pub async fn dead_letters(&self, process: &str) -> Result<Vec<DeadLetter>> {
        self.backend.store().dead_letters(process).await
    }

    /// Releases a parked instance: the engine applies its parked items again,
    /// in order (with [`Release::SkipFailed`], it drops the ones that
    /// failed), and the instance goes on; returns how many items were
    /// released.
    pub async fn release(&self, process: &str, instance: &str, release: Release) -> Result<u64> {
        self.backend
            .store()
            .release_instance(process, instance, release)
            .await
    }

    /// Releases parked items by id (those without an instance too): the
    /// engine routes them again (with [`Release::SkipFailed`], drops the
    /// failed ones); returns how many items were released.
    pub async fn release_parked(
        &self,
        process: &str,
        ids: &[i64],
        release: Release,
    ) -> Result<u64> {
        self.backend
            .store()
            .release_parked(process, ids, release)
            .await
    }

    /// Puts dead letters back in the outbox, due now; returns how many.
    pub async fn retry_dead_letters(&self, process: &str, selection: &Selection) -> Result<u64> {
        let retried: i64 = sqlx::query_scalar(RETRY_DEAD_LETTERS)
            .bind(process)
            .bind(selection.ids())
            .fetch_one(self.pool())
            .await
            .map_err(database("retrying dead letters failed"))?;
        Ok(u64::try_from(retried).unwrap_or(0))
    }

    /// Deletes dead letters; returns how many.
    pub async fn purge_dead_letters(&self, process: &str, selection: &Selection) -> Result<u64> {
        let result = sqlx::query(PURGE_DEAD_LETTERS)
            .bind(process)
            .bind(selection.ids())
            .execute(self.pool())
            .await
            .map_err(database("purging dead letters failed"))?;
        Ok(result.rows_affected())
    }

    /// Removes the completed instances of `process` and its delivered
    /// commands that last changed more than `older_than` ago, in bounded
    /// batches until none is left; returns how many of each.
    pub async fn purge_completed(&self, process: &str, older_than: Duration) -> Result<Purged> {
        const BATCH: usize = 5_000;
        let store = self.backend.store();
        let mut total = Purged::default();
        loop {
            let purged = store
                .purge(process, &OwnedPartitions::all(), older_than, BATCH)
                .await?;
            total.instances += purged.instances;
            total.delivered += purged.delivered;
            let limit = BATCH as u64;
            if purged.instances < limit && purged.delivered < limit {
                return Ok(total);
            }
        }
    }
}
