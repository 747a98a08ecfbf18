//! The outbox side of the store: claims under a lease with
//! `FOR UPDATE SKIP LOCKED`, fenced acknowledgements, retries and dead
//! letters. Each call is one statement in its own short transaction; none is
//! held open across a gateway call.

use chrono::{DateTime, Utc};
use pm_core::{Claim, DeadLetter, FailedDelivery, OutboxCommand, Result};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::error::database;

const CLAIM: &str = include_str!("../../sql/outbox/claim.sql");
const COMPLETE: &str = include_str!("../../sql/outbox/complete.sql");
const RETRY: &str = include_str!("../../sql/outbox/retry.sql");
const DEAD_LETTER: &str = include_str!("../../sql/outbox/dead_letter.sql");
const NEXT_AVAILABLE: &str = include_str!("../../sql/outbox/next_available.sql");
const DEAD_LETTERS: &str = include_str!("../../sql/outbox/dead_letters.sql");

pub(crate) async fn claim(
    pool: &PgPool,
    process: &str,
    claim: Claim,
) -> Result<Vec<OutboxCommand>> {
    let lease_millis = claim.lease_for.as_secs_f64() * 1000.0;
    let rows = sqlx::query(CLAIM)
        .bind(process)
        .bind(claim.lease)
        .bind(lease_millis)
        .bind(claim.now)
        .bind(i64::try_from(claim.limit).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await
        .map_err(database("claiming commands failed"))?;
    let mut claimed = rows
        .iter()
        .map(|row| {
            let seq: i64 = row.try_get("seq").map_err(decode_error)?;
            Ok((seq, outbox_command(row)?))
        })
        .collect::<Result<Vec<_>>>()?;
    // RETURNING gives no order; deliver oldest first.
    claimed.sort_by_key(|(seq, _)| *seq);
    Ok(claimed.into_iter().map(|(_, command)| command).collect())
}

pub(crate) async fn complete(pool: &PgPool, lease: Uuid, ids: &[Uuid]) -> Result<()> {
    sqlx::query(COMPLETE)
        .bind(lease)
        .bind(ids)
        .execute(pool)
        .await
        .map_err(database("acknowledging delivered commands failed"))?;
    Ok(())
}

/// Records failed deliveries: one statement for the retries, one for the
/// dead letters.
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
        let ids: Vec<Uuid> = dead.iter().map(|failure| failure.id).collect();
        let errors: Vec<&str> = dead.iter().map(|failure| failure.error.as_str()).collect();
        sqlx::query(DEAD_LETTER)
            .bind(lease)
            .bind(&ids)
            .bind(&errors)
            .execute(pool)
            .await
            .map_err(database("moving commands to the dead letters failed"))?;
    }
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
    let rows = sqlx::query(DEAD_LETTERS)
        .bind(process)
        .fetch_all(pool)
        .await
        .map_err(database("reading dead letters failed"))?;
    rows.iter()
        .map(|row| {
            Ok(DeadLetter {
                command: outbox_command(row)?,
                error: row.try_get("error").map_err(decode_error)?,
            })
        })
        .collect()
}

fn outbox_command(row: &sqlx::postgres::PgRow) -> Result<OutboxCommand> {
    let attempts: i32 = row.try_get("attempts").map_err(decode_error)?;
    Ok(OutboxCommand {
        id: row.try_get("id").map_err(decode_error)?,
        instance: row.try_get("instance_id").map_err(decode_error)?,
        command_type: row.try_get("command_type").map_err(decode_error)?,
        payload: row.try_get("payload").map_err(decode_error)?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        created_at: row.try_get("created_at").map_err(decode_error)?,
    })
}

fn decode_error(error: sqlx::Error) -> pm_core::Error {
    pm_core::Error::backend("decoding an outbox row failed", error)
}
