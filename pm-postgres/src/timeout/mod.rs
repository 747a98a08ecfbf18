//! Durable timeouts: rows in `pm.timeouts`, read when due (G4). The engine
//! loop waits until the next due time, so no timer lives in memory only.

use chrono::{DateTime, Utc};
use pm_core::{DueTimeout, OwnedPartitions, Result};
use sqlx::{PgPool, Row};

use crate::error::database;

const DUE: &str = include_str!("../../sql/timeout/due.sql");
const NEXT_DUE: &str = include_str!("../../sql/timeout/next_due.sql");

/// The partition count and the owned partitions, as the statements bind them.
pub(crate) fn partition_columns(partitions: &OwnedPartitions) -> (i32, Vec<i32>) {
    let owned = partitions
        .owned
        .iter()
        .filter_map(|partition| i32::try_from(*partition).ok())
        .collect();
    (i32::try_from(partitions.count).unwrap_or(i32::MAX), owned)
}

pub(crate) async fn due(
    pool: &PgPool,
    process: &str,
    partitions: &OwnedPartitions,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<DueTimeout>> {
    let (count, owned) = partition_columns(partitions);
    let rows = sqlx::query(DUE)
        .bind(process)
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(count)
        .bind(&owned)
        .fetch_all(pool)
        .await
        .map_err(database("reading due timeouts failed"))?;
    rows.iter()
        .map(|row| {
            let decode = |error| pm_core::Error::backend("decoding a timeout failed", error);
            Ok(DueTimeout {
                instance: row.try_get("instance_id").map_err(decode)?,
                kind: row.try_get("kind").map_err(decode)?,
                due_at: row.try_get("due_at").map_err(decode)?,
            })
        })
        .collect()
}

pub(crate) async fn next_due(
    pool: &PgPool,
    process: &str,
    partitions: &OwnedPartitions,
) -> Result<Option<DateTime<Utc>>> {
    let (count, owned) = partition_columns(partitions);
    sqlx::query_scalar(NEXT_DUE)
        .bind(process)
        .bind(count)
        .bind(&owned)
        .fetch_one(pool)
        .await
        .map_err(database("reading the next due timeout failed"))
}
