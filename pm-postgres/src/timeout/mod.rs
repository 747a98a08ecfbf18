//! Durable timeouts: rows in `pm.timeouts`, read when due (G4). The engine
//! loop waits until the next due time, so no timer lives in memory only.

use chrono::{DateTime, Utc};
use pm_core::backend::{DueTimeout, OwnedPartitions};
use pm_core::Result;
use sqlx::PgPool;

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

/// A row of `timeout/due.sql`.
#[derive(sqlx::FromRow)]
struct DueRow {
    instance_id: String,
    kind: String,
    due_at: DateTime<Utc>,
}

impl From<DueRow> for DueTimeout {
    fn from(row: DueRow) -> Self {
        DueTimeout {
            instance: row.instance_id,
            kind: row.kind,
            due_at: row.due_at,
        }
    }
}

pub(crate) async fn due(
    pool: &PgPool,
    process: &str,
    partitions: &OwnedPartitions,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<DueTimeout>> {
    let (count, owned) = partition_columns(partitions);
    let rows: Vec<DueRow> = sqlx::query_as(DUE)
        .bind(process)
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(count)
        .bind(&owned)
        .fetch_all(pool)
        .await
        .map_err(database("reading due timeouts failed"))?;
    Ok(rows.into_iter().map(DueTimeout::from).collect())
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
