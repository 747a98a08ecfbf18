//! Partitions, leases and fencing (G7): workers heartbeat in `pm.workers`,
//! claim and renew partitions in `pm.partitions` on the database clock, and
//! every batch commit starts with the fence, which moves the partitions'
//! checkpoints only if the worker still owns them at the epochs it claimed
//! and they are still where the batch read from.

use std::time::Duration;

use pm_core::backend::{Fence, Membership, PartitionLease, Worker};
use pm_core::{Error, Position, Result};
use sqlx::{PgPool, Postgres, Transaction};

use crate::error::database;

const COUNT: &str = include_str!("../sql/partition/count.sql");
const LOCK_CREATION: &str = include_str!("../sql/partition/lock_creation.sql");
const CREATE: &str = include_str!("../sql/partition/create.sql");
const HEARTBEAT: &str = include_str!("../sql/partition/heartbeat.sql");
const LIVE_WORKERS: &str = include_str!("../sql/partition/live_workers.sql");
const CLAIM: &str = include_str!("../sql/partition/claim.sql");
const RENEW: &str = include_str!("../sql/partition/renew.sql");
const RELEASE: &str = include_str!("../sql/partition/release.sql");
const LEAVE: &str = include_str!("../sql/partition/leave.sql");
const FENCE_STATE: &str = include_str!("../sql/partition/fence_state.sql");

/// A partition row as the claim and renew statements return it.
#[derive(sqlx::FromRow)]
struct LeaseRow {
    partition: i32,
    epoch: i64,
    checkpoint_tx: i64,
    checkpoint_position: i64,
}

impl From<LeaseRow> for PartitionLease {
    fn from(row: LeaseRow) -> Self {
        PartitionLease {
            partition: u32::try_from(row.partition).unwrap_or_default(),
            epoch: row.epoch,
            checkpoint: Position {
                transaction: row.checkpoint_tx,
                sequence: row.checkpoint_position,
            },
        }
    }
}

/// What `count.sql` returns.
#[derive(sqlx::FromRow)]
struct PartitionCount {
    partitions: i32,
    source: Option<String>,
}

/// A partition as a refused fence found it.
#[derive(sqlx::FromRow)]
struct FenceState {
    partition: i32,
    owner: Option<String>,
    epoch: i64,
    checkpoint_tx: i64,
    checkpoint_position: i64,
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn partition_ids(held: &[(u32, i64)]) -> (Vec<i32>, Vec<i64>) {
    held.iter()
        .map(|(partition, epoch)| (i32::try_from(*partition).unwrap_or(i32::MAX), *epoch))
        .unzip()
}

pub(crate) async fn heartbeat(
    pool: &PgPool,
    process: &str,
    source: &str,
    worker: &Worker,
    partitions: u32,
    lease_for: Duration,
) -> Result<Membership> {
    let mut tx = pool
        .begin()
        .await
        .map_err(database("starting a heartbeat failed"))?;
    let mut count = partition_count(&mut tx, process).await?;
    if count.partitions == 0 {
        sqlx::query(LOCK_CREATION)
            .bind(process)
            .execute(&mut *tx)
            .await
            .map_err(database("locking the creation of partitions failed"))?;
        sqlx::query(CREATE)
            .bind(process)
            .bind(source)
            .bind(i32::try_from(partitions.max(1)).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await
            .map_err(database("creating partitions failed"))?;
        count = partition_count(&mut tx, process).await?;
    }
    if let Some(stored) = count.source.filter(|stored| stored != source) {
        return Err(Error::SourceChanged {
            process: process.to_owned(),
            stored,
            requested: source.to_owned(),
        });
    }
    sqlx::query(HEARTBEAT)
        .bind(process)
        .bind(&worker.id)
        .bind(&worker.name)
        .bind(millis(lease_for))
        .execute(&mut *tx)
        .await
        .map_err(database("recording a heartbeat failed"))?;
    let live_workers: Vec<String> = sqlx::query_scalar(LIVE_WORKERS)
        .bind(process)
        .fetch_all(&mut *tx)
        .await
        .map_err(database("listing live workers failed"))?;
    tx.commit()
        .await
        .map_err(database("committing a heartbeat failed"))?;
    Ok(Membership {
        partitions: u32::try_from(count.partitions).unwrap_or_default(),
        live_workers,
    })
}

async fn partition_count(
    tx: &mut Transaction<'_, Postgres>,
    process: &str,
) -> Result<PartitionCount> {
    sqlx::query_as(COUNT)
        .bind(process)
        .fetch_one(&mut **tx)
        .await
        .map_err(database("counting partitions failed"))
}

pub(crate) async fn claim(
    pool: &PgPool,
    process: &str,
    worker: &str,
    limit: usize,
    avoid: &[u32],
    lease_for: Duration,
) -> Result<Vec<PartitionLease>> {
    let avoid: Vec<i32> = avoid
        .iter()
        .filter_map(|partition| i32::try_from(*partition).ok())
        .collect();
    let rows: Vec<LeaseRow> = sqlx::query_as(CLAIM)
        .bind(process)
        .bind(worker)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(millis(lease_for))
        .bind(&avoid)
        .fetch_all(pool)
        .await
        .map_err(database("claiming partitions failed"))?;
    Ok(sorted(rows))
}

pub(crate) async fn renew(
    pool: &PgPool,
    process: &str,
    worker: &str,
    held: &[(u32, i64)],
    lease_for: Duration,
) -> Result<Vec<PartitionLease>> {
    let (partitions, epochs) = partition_ids(held);
    let rows: Vec<LeaseRow> = sqlx::query_as(RENEW)
        .bind(process)
        .bind(worker)
        .bind(&partitions)
        .bind(&epochs)
        .bind(millis(lease_for))
        .fetch_all(pool)
        .await
        .map_err(database("renewing partition leases failed"))?;
    Ok(sorted(rows))
}

pub(crate) async fn release(
    pool: &PgPool,
    process: &str,
    worker: &str,
    held: &[(u32, i64)],
) -> Result<()> {
    let (partitions, epochs) = partition_ids(held);
    sqlx::query(RELEASE)
        .bind(process)
        .bind(worker)
        .bind(&partitions)
        .bind(&epochs)
        .execute(pool)
        .await
        .map_err(database("releasing partitions failed"))?;
    Ok(())
}

pub(crate) async fn leave(pool: &PgPool, process: &str, worker: &str) -> Result<()> {
    sqlx::query(LEAVE)
        .bind(process)
        .bind(worker)
        .execute(pool)
        .await
        .map_err(database("removing a worker failed"))?;
    Ok(())
}

/// The fence as the commit statement's columns.
pub(crate) fn fence_columns(fence: Option<&Fence>) -> FenceColumns {
    let partitions = fence.map_or(&[][..], |fence| &fence.partitions[..]);
    let mut columns = FenceColumns::with_capacity(partitions.len());
    for fenced in partitions {
        columns
            .partitions
            .push(i32::try_from(fenced.partition).unwrap_or(i32::MAX));
        columns.epochs.push(fenced.epoch);
        columns.from_tx.push(fenced.from.transaction);
        columns.from_position.push(fenced.from.sequence);
        columns.to_tx.push(fenced.to.transaction);
        columns.to_position.push(fenced.to.sequence);
    }
    columns
}

/// Why a commit's fence was refused: reads the fenced partitions again
/// and says which failed and how.
pub(crate) async fn refusal_of(pool: &PgPool, process: &str, fence: &Fence) -> Error {
    let partitions = fence_columns(Some(fence)).partitions;
    let found: std::result::Result<Vec<FenceState>, _> = sqlx::query_as(FENCE_STATE)
        .bind(process)
        .bind(&partitions)
        .fetch_all(pool)
        .await;
    match found {
        Ok(found) => refusal(process, fence, &found),
        Err(source) => database("reading a refused fence failed")(source),
    }
}

/// The error for the first fenced partition that does not hold.
fn refusal(process: &str, fence: &Fence, found: &[FenceState]) -> Error {
    let lost = |partition: u32, epoch: i64| Error::PartitionLost {
        process: process.to_owned(),
        partition,
        worker: fence.worker.clone(),
        epoch,
    };
    for fenced in &fence.partitions {
        let row = found
            .iter()
            .find(|row| u32::try_from(row.partition).ok() == Some(fenced.partition));
        let Some(row) = row else {
            return lost(fenced.partition, fenced.epoch);
        };
        if row.owner.as_deref() != Some(fence.worker.as_str()) || row.epoch != fenced.epoch {
            return lost(fenced.partition, fenced.epoch);
        }
        let stored = Position {
            transaction: row.checkpoint_tx,
            sequence: row.checkpoint_position,
        };
        if stored != fenced.from {
            return Error::CheckpointMoved {
                process: process.to_owned(),
                partition: fenced.partition,
                expected: fenced.from,
                stored,
            };
        }
    }
    // Every row matched when read again: it changed in between. Refuse all
    // the same; the engine reloads and tries again.
    lost(
        fence
            .partitions
            .first()
            .map_or(0, |fenced| fenced.partition),
        fence.partitions.first().map_or(0, |fenced| fenced.epoch),
    )
}

fn sorted(rows: Vec<LeaseRow>) -> Vec<PartitionLease> {
    let mut leases: Vec<PartitionLease> = rows.into_iter().map(PartitionLease::from).collect();
    leases.sort_by_key(|lease| lease.partition);
    leases
}

/// One array per column of the fence.
pub(crate) struct FenceColumns {
    pub(crate) partitions: Vec<i32>,
    pub(crate) epochs: Vec<i64>,
    pub(crate) from_tx: Vec<i64>,
    pub(crate) from_position: Vec<i64>,
    pub(crate) to_tx: Vec<i64>,
    pub(crate) to_position: Vec<i64>,
}

impl FenceColumns {
    fn with_capacity(count: usize) -> Self {
        Self {
            partitions: Vec::with_capacity(count),
            epochs: Vec::with_capacity(count),
            from_tx: Vec::with_capacity(count),
            from_position: Vec::with_capacity(count),
            to_tx: Vec::with_capacity(count),
            to_position: Vec::with_capacity(count),
        }
    }
}
