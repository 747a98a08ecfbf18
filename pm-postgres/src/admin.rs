//! Operations for operators (what the `pm` binary calls): which processes
//! run, how far behind they are, what is parked and releasing it, and dead
//! letters to retry or purge.

use chrono::{DateTime, Utc};
use pm_core::{DeadLetter, ParkedEvent, ProcessStats, Release, Result, Store};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::error::database;
use crate::{LogHorizon, PgBackend};

const PROCESSES: &str = include_str!("../sql/admin/processes.sql");
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
    /// Its checkpoint in the built-in log, if it has read any of it.
    pub checkpoint: Option<pm_core::Position>,
    /// When the checkpoint last moved.
    pub checkpoint_updated_at: Option<DateTime<Utc>>,
    /// Events of the built-in log beyond the checkpoint (of any family).
    pub events_beyond_checkpoint: i64,
    /// Row counts.
    pub stats: ProcessStats,
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

    /// Every registered process with its checkpoint, lag and counts.
    pub async fn processes(&self) -> Result<Vec<ProcessStatus>> {
        let rows = sqlx::query(PROCESSES)
            .fetch_all(self.pool())
            .await
            .map_err(database("listing processes failed"))?;
        let mut statuses = Vec::with_capacity(rows.len());
        for row in rows {
            let decode = |error| pm_core::Error::backend("decoding a process row failed", error);
            let name: String = row.try_get("name").map_err(decode)?;
            let transaction: Option<i64> = row.try_get("checkpoint_transaction").map_err(decode)?;
            let position: Option<i64> = row.try_get("checkpoint_position").map_err(decode)?;
            let checkpoint =
                transaction
                    .zip(position)
                    .map(|(transaction, sequence)| pm_core::Position {
                        transaction,
                        sequence,
                    });
            let stats = self.backend.store().stats(&name).await?;
            statuses.push(ProcessStatus {
                checkpoint,
                checkpoint_updated_at: row.try_get("checkpoint_updated_at").map_err(decode)?,
                events_beyond_checkpoint: row
                    .try_get("events_beyond_checkpoint")
                    .map_err(decode)?,
                stats,
                name,
            });
        }
        Ok(statuses)
    }

    /// What holds log readers back.
    pub async fn horizon(&self) -> Result<LogHorizon> {
        self.backend.log().horizon().await
    }

    /// The events parked or held for `process`.
    pub async fn parked(&self, process: &str) -> Result<Vec<ParkedEvent>> {
        self.backend.store().parked_events(process).await
    }

    /// The dead letters of `process`.
    pub async fn dead_letters(&self, process: &str) -> Result<Vec<DeadLetter>> {
        self.backend.store().dead_letters(process).await
    }

    /// Releases a parked instance: the engine applies its parked items again,
    /// in order (with [`Release::SkipFailed`], without the ones that
    /// failed); returns how many items will be applied.
    pub async fn release(&self, process: &str, instance: &str, release: Release) -> Result<u64> {
        self.backend
            .store()
            .release_instance(process, instance, release)
            .await
    }

    /// Puts dead letters back in the outbox, due now; returns how many.
    pub async fn retry_dead_letters(&self, process: &str, selection: &Selection) -> Result<u64> {
        let result = sqlx::query(RETRY_DEAD_LETTERS)
            .bind(process)
            .bind(selection.ids())
            .execute(self.pool())
            .await
            .map_err(database("retrying dead letters failed"))?;
        Ok(result.rows_affected())
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
}
