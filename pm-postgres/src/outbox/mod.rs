//! The outbox side of the store: claims of ordering-group heads under a
//! lease with `FOR UPDATE SKIP LOCKED`, fenced acknowledgements that move
//! each head to the next command of its key, retries and dead letters. Each
//! call is one short transaction; none is held open across a gateway call.

use chrono::{DateTime, Utc};
use pm_core::backend::{Claim, DeadLetter, FailedDelivery, OutboxCommand};
use pm_core::Result;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::error::database;

const CLAIM: &str = include_str!("../../sql/outbox/claim.sql");
const LOCK_HEADS: &str = include_str!("../../sql/outbox/lock_heads.sql");
const COMPLETE: &str = include_str!("../../sql/outbox/complete.sql");
const DEAD_LETTER: &str = include_str!("../../sql/outbox/dead_letter.sql");
const PROMOTE_HEADS: &str = include_str!("../../sql/outbox/promote_heads.sql");
const RETRY: &str = include_str!("../../sql/outbox/retry.sql");
const NEXT_AVAILABLE: &str = include_str!("../../sql/outbox/next_available.sql");
const DEAD_LETTERS: &str = include_str!("../../sql/outbox/dead_letters.sql");

/// A pending command as the claim returns it.
#[derive(sqlx::FromRow)]
struct CommandRow {
    id: Uuid,
    instance_id: String,
    ordering_key: String,
    command_type: String,
    payload: serde_json::Value,
    attempts: i32,
    created_at: DateTime<Utc>,
}

impl From<CommandRow> for OutboxCommand {
    fn from(row: CommandRow) -> Self {
        OutboxCommand {
            id: row.id,
            instance: row.instance_id,
            ordering_key: row.ordering_key,
            command_type: row.command_type,
            payload: row.payload,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            created_at: row.created_at,
        }
    }
}

/// A claimed command with its place in the outbox.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(flatten)]
    command: CommandRow,
    seq: i64,
}

/// A dead letter as stored (`outbox/dead_letters.sql`,
/// `admin/instance_dead_letters.sql`).
#[derive(sqlx::FromRow)]
pub(crate) struct DeadLetterRow {
    #[sqlx(flatten)]
    command: CommandRow,
    error: String,
}

impl From<DeadLetterRow> for DeadLetter {
    fn from(row: DeadLetterRow) -> Self {
        DeadLetter {
            command: row.command.into(),
            error: row.error,
        }
    }
}

/// A head locked for settling.
#[derive(sqlx::FromRow)]
struct LockedHead {
    process: String,
    ordering_key: String,
    command_id: Uuid,
}

pub(crate) async fn claim(
    pool: &PgPool,
    process: &str,
    claim: Claim,
) -> Result<Vec<OutboxCommand>> {
    let lease_millis = claim.lease_for.as_secs_f64() * 1000.0;
    let mut rows: Vec<ClaimedRow> = sqlx::query_as(CLAIM)
        .bind(process)
        .bind(claim.lease)
        .bind(lease_millis)
        .bind(claim.now)
        .bind(i64::try_from(claim.limit).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await
        .map_err(database("claiming commands failed"))?;
    // RETURNING gives no order; deliver oldest first.
    rows.sort_by_key(|row| row.seq);
    Ok(rows.into_iter().map(|row| row.command.into()).collect())
}

pub(crate) async fn complete(pool: &PgPool, lease: Uuid, ids: &[Uuid]) -> Result<()> {
    let mut tx = pool
        .begin()
        .await
        .map_err(database("starting an acknowledgement failed"))?;
    let heads = lock_heads(&mut tx, lease, ids).await?;
    if heads.is_empty() {
        return Ok(());
    }
    let held: Vec<Uuid> = heads.iter().map(|head| head.command_id).collect();
    sqlx::query(COMPLETE)
        .bind(&held)
        .execute(&mut *tx)
        .await
        .map_err(database("acknowledging delivered commands failed"))?;
    promote_heads(&mut tx, &heads).await?;
    tx.commit()
        .await
        .map_err(database("committing an acknowledgement failed"))
}

/// Records failed deliveries: one statement for the retries, one
/// transaction for the dead letters.
pub(crate) async fn fail(pool: &PgPool, lease: Uuid, failures: &[FailedDelivery]) -> Result<()> {
    let (retries, dead): (Vec<&FailedDelivery>, Vec<&FailedDelivery>) = failures
        .iter()
        .partition(|failure| failure.retry_at.is_some());
    if !retries.is_empty() {
        let ids: Vec<Uuid> = retries.iter().map(|failure| failure.id).collect();
        let retry_at: Vec<DateTime<Utc>> = retries
            .iter()
            .filter_map(|failure| failure.retry_at)
            .collect();
        let errors: Vec<&str> = retries
            .iter()
            .map(|failure| failure.error.as_str())
            .collect();
        sqlx::query(RETRY)
            .bind(lease)
            .bind(&ids)
            .bind(&retry_at)
            .bind(&errors)
            .execute(pool)
            .await
            .map_err(database("rescheduling failed commands failed"))?;
    }
    if !dead.is_empty() {
        dead_letter(pool, lease, &dead).await?;
    }
    Ok(())
}

async fn dead_letter(pool: &PgPool, lease: Uuid, dead: &[&FailedDelivery]) -> Result<()> {
    let ids: Vec<Uuid> = dead.iter().map(|failure| failure.id).collect();
    let mut tx = pool
        .begin()
        .await
        .map_err(database("starting to dead-letter commands failed"))?;
    let heads = lock_heads(&mut tx, lease, &ids).await?;
    if heads.is_empty() {
        return Ok(());
    }
    let (held, errors): (Vec<Uuid>, Vec<&str>) = dead
        .iter()
        .filter(|failure| heads.iter().any(|head| head.command_id == failure.id))
        .map(|failure| (failure.id, failure.error.as_str()))
        .unzip();
    sqlx::query(DEAD_LETTER)
        .bind(&held)
        .bind(&errors)
        .execute(&mut *tx)
        .await
        .map_err(database("moving commands to the dead letters failed"))?;
    promote_heads(&mut tx, &heads).await?;
    tx.commit()
        .await
        .map_err(database("committing dead letters failed"))
}

/// Locks the heads `lease` still holds among `ids`: the fence of every
/// settlement.
async fn lock_heads(
    tx: &mut Transaction<'_, Postgres>,
    lease: Uuid,
    ids: &[Uuid],
) -> Result<Vec<LockedHead>> {
    sqlx::query_as(LOCK_HEADS)
        .bind(lease)
        .bind(ids)
        .fetch_all(&mut **tx)
        .await
        .map_err(database("locking delivered commands failed"))
}

/// Moves each settled head to the next command of its key.
async fn promote_heads(tx: &mut Transaction<'_, Postgres>, heads: &[LockedHead]) -> Result<()> {
    let (processes, keys): (Vec<&str>, Vec<&str>) = heads
        .iter()
        .map(|head| (head.process.as_str(), head.ordering_key.as_str()))
        .unzip();
    sqlx::query(PROMOTE_HEADS)
        .bind(&processes)
        .bind(&keys)
        .execute(&mut **tx)
        .await
        .map_err(database("moving on to the next commands failed"))?;
    Ok(())
}

pub(crate) async fn next_available(pool: &PgPool, process: &str) -> Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(NEXT_AVAILABLE)
        .bind(process)
        .fetch_one(pool)
        .await
        .map_err(database("reading when the next command is due failed"))
}

pub(crate) async fn dead_letters(pool: &PgPool, process: &str) -> Result<Vec<DeadLetter>> {
    let rows: Vec<DeadLetterRow> = sqlx::query_as(DEAD_LETTERS)
        .bind(process)
        .fetch_all(pool)
        .await
        .map_err(database("reading dead letters failed"))?;
    Ok(rows.into_iter().map(DeadLetter::from).collect())
}
