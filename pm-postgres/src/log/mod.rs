//! [`PgEventLog`]: the built-in event log in `pm.events`, appended with an
//! expected stream version and read without ever skipping an event (G6).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pm_core::backend::{EventSource, ReadBatch};
use pm_core::{EventLog, ExpectedVersion, NewEvent, Position, RecordedEvent, Result};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgPool};
use tokio::sync::watch;

use crate::error::{database, not_null};
use crate::listen::Listener;

const APPEND: &str = include_str!("../../sql/log/append.sql");
const READ: &str = include_str!("../../sql/log/read.sql");
const READ_STREAM: &str = include_str!("../../sql/log/read_stream.sql");
const HORIZON: &str = include_str!("../../sql/log/horizon.sql");

/// The event log in `pm.events`. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct PgEventLog {
    pool: PgPool,
    appended: Arc<watch::Sender<u64>>,
    /// Held so the listener runs while any clone of the log or the store
    /// does.
    _listener: Arc<Listener>,
}

/// What holds readers back, for operators: readers see only transactions
/// below `xmin`, which any open or prepared transaction on the server holds
/// back.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LogHorizon {
    /// The snapshot xmin: transactions below it are visible to readers.
    pub xmin: i64,
    /// The newest transaction that appended an event.
    pub newest_transaction: Option<i64>,
    /// The server process of the oldest open transaction, if any.
    pub oldest_pid: Option<i32>,
    /// How long the oldest open writing transaction has been open.
    pub oldest_transaction_seconds: Option<f64>,
    /// The global id of the oldest prepared transaction (`PREPARE
    /// TRANSACTION`), if any: it holds readers back until someone runs
    /// `COMMIT PREPARED` or `ROLLBACK PREPARED` on it.
    pub prepared_gid: Option<String>,
    /// The database of that prepared transaction.
    pub prepared_database: Option<String>,
    /// How long ago it was prepared.
    pub prepared_seconds: Option<f64>,
}

impl PgEventLog {
    pub(crate) fn new(
        pool: PgPool,
        appended: Arc<watch::Sender<u64>>,
        listener: Arc<Listener>,
    ) -> Self {
        Self {
            pool,
            appended,
            _listener: listener,
        }
    }

    /// What holds readers back right now.
    pub async fn horizon(&self) -> Result<LogHorizon> {
        sqlx::query_as(HORIZON)
            .fetch_one(&self.pool)
            .await
            .map_err(database("reading the log horizon failed"))
    }
}

impl EventSource for PgEventLog {
    fn source_name(&self) -> &str {
        "pm.events"
    }

    async fn read(&self, after: Position, families: &[&str], limit: usize) -> Result<ReadBatch> {
        let patterns: Vec<String> = families
            .iter()
            .map(|family| format!("{}.%", escape_like(family)))
            .collect();
        let rows = sqlx::query(READ)
            .bind(after.transaction)
            .bind(after.sequence)
            .bind(&patterns)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(database("reading the event log failed"))?;
        batch_from_rows(&rows, after, limit)
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }
}

impl EventLog for PgEventLog {
    async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<i64> {
        let columns = EventColumns::from(events);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut connection = self
                .pool
                .acquire()
                .await
                .map_err(database("connecting to append failed"))?;
            match self
                .append_columns(&mut connection, stream_id, expected, &columns)
                .await
            {
                // Another append took the next version first: with no
                // expectation, try again on top of it.
                Err(pm_core::Error::Conflict { .. })
                    if expected == ExpectedVersion::Any && attempts < 5 => {}
                Ok(version) => {
                    self.appended
                        .send_modify(|count| *count = count.wrapping_add(1));
                    return Ok(version);
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn read_stream(&self, stream_id: &str) -> Result<Vec<RecordedEvent>> {
        let rows: Vec<EventRow> = sqlx::query_as(READ_STREAM)
            .bind(stream_id)
            .fetch_all(&self.pool)
            .await
            .map_err(database("reading a stream failed"))?;
        Ok(rows.into_iter().map(RecordedEvent::from).collect())
    }
}

impl PgEventLog {
    /// Appends inside the caller's transaction, so the events commit or roll
    /// back with the caller's own writes (a transactional outbox for the
    /// aggregate side). Readers see them once the transaction commits, and
    /// never skip them however long it stays open (G6).
    ///
    /// On a [`Conflict`](pm_core::Error::Conflict) Postgres has aborted the
    /// transaction; roll it back.
    pub async fn append_in(
        &self,
        connection: &mut PgConnection,
        stream_id: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<i64> {
        self.append_columns(connection, stream_id, expected, &EventColumns::from(events))
            .await
    }

    async fn append_columns(
        &self,
        connection: &mut PgConnection,
        stream_id: &str,
        expected: ExpectedVersion,
        columns: &EventColumns,
    ) -> Result<i64> {
        let expected_version = match expected {
            ExpectedVersion::Any => None,
            ExpectedVersion::NoStream => Some(0),
            ExpectedVersion::Exact(version) => Some(version),
        };
        let result = sqlx::query_as::<_, AppendRow>(APPEND)
            .bind(stream_id)
            .bind(expected_version)
            .bind(&columns.types)
            .bind(&columns.payloads)
            .fetch_one(&mut *connection)
            .await;
        let row = match result {
            Ok(row) => row,
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                // A concurrent append took the version; report what it is now.
                let actual = self.current_version(stream_id).await?;
                return Err(conflict(stream_id, expected, actual));
            }
            Err(error) => {
                return Err(pm_core::Error::backend(
                    "appending to the event log failed",
                    error,
                ))
            }
        };
        let current = row.current_version;
        match row.new_version {
            Some(version) => Ok(version),
            None if columns.types.is_empty() && expected.allows(current) => Ok(current),
            None => Err(conflict(stream_id, expected, current)),
        }
    }

    async fn current_version(&self, stream_id: &str) -> Result<i64> {
        Ok(self
            .read_stream(stream_id)
            .await?
            .last()
            .map_or(0, |event| event.stream_version))
    }
}

/// The versions `log/append.sql` returns.
#[derive(sqlx::FromRow)]
struct AppendRow {
    current_version: i64,
    new_version: Option<i64>,
}

/// Events as one array per column, ready to bind.
struct EventColumns {
    types: Vec<String>,
    payloads: Vec<Value>,
}

impl From<Vec<NewEvent>> for EventColumns {
    fn from(events: Vec<NewEvent>) -> Self {
        let (types, payloads) = events
            .into_iter()
            .map(|event| (event.event_type, event.payload))
            .unzip();
        Self { types, payloads }
    }
}

fn conflict(stream_id: &str, expected: ExpectedVersion, actual: i64) -> pm_core::Error {
    pm_core::Error::Conflict {
        stream_id: stream_id.to_owned(),
        expected: expected.to_string(),
        actual,
    }
}

/// What a row of a gap-safe read that cannot be decoded reports.
const DECODING: &str = "decoding an event row failed";

/// A row of a gap-safe read (`log/read.sql`, `table/read.sql`): the visible
/// end, whether newer events are held back, and an event unless the batch
/// is empty (then every event column is NULL).
#[derive(sqlx::FromRow)]
struct ReadRow {
    end_transaction: Option<i64>,
    end_position: Option<i64>,
    held_back: bool,
    transaction_id: Option<i64>,
    position: Option<i64>,
    stream_id: Option<String>,
    stream_version: Option<i64>,
    event_type: Option<String>,
    payload: Option<Value>,
    recorded_at: Option<DateTime<Utc>>,
}

impl ReadRow {
    /// The row's event, if it has one (`position` is set).
    fn into_event(self) -> Result<Option<RecordedEvent>> {
        let Some(sequence) = self.position else {
            return Ok(None);
        };
        Ok(Some(RecordedEvent {
            position: Position {
                transaction: not_null(self.transaction_id, "transaction_id", DECODING)?,
                sequence,
            },
            stream_id: not_null(self.stream_id, "stream_id", DECODING)?,
            stream_version: not_null(self.stream_version, "stream_version", DECODING)?,
            event_type: not_null(self.event_type, "event_type", DECODING)?,
            payload: not_null(self.payload, "payload", DECODING)?,
            recorded_at: not_null(self.recorded_at, "recorded_at", DECODING)?,
        }))
    }
}

/// The batch that the rows of a gap-safe read make (`log/read.sql`, and
/// `table/read.sql` of table sources, which return the same columns): the
/// events, the visible end, and whether newer events are held back.
pub(crate) fn batch_from_rows(rows: &[PgRow], after: Position, limit: usize) -> Result<ReadBatch> {
    let mut batch = ReadBatch {
        events: Vec::with_capacity(rows.len()),
        end: after,
        held_back: false,
    };
    for row in rows {
        let row = ReadRow::from_row(row).map_err(database(DECODING))?;
        if let (Some(transaction), Some(sequence)) = (row.end_transaction, row.end_position) {
            batch.end = batch.end.max(Position {
                transaction,
                sequence,
            });
        }
        batch.held_back |= row.held_back;
        if let Some(event) = row.into_event()? {
            batch.events.push(event);
        }
    }
    if batch.events.len() >= limit {
        // A full batch: more may follow, so stop at its last event.
        if let Some(last) = batch.events.last() {
            batch.end = last.position;
        }
    }
    Ok(batch)
}

/// A row of `log/read_stream.sql`.
#[derive(sqlx::FromRow)]
struct EventRow {
    transaction_id: i64,
    position: i64,
    stream_id: String,
    stream_version: i64,
    event_type: String,
    payload: Value,
    recorded_at: DateTime<Utc>,
}

impl From<EventRow> for RecordedEvent {
    fn from(row: EventRow) -> Self {
        RecordedEvent {
            position: Position {
                transaction: row.transaction_id,
                sequence: row.position,
            },
            stream_id: row.stream_id,
            stream_version: row.stream_version,
            event_type: row.event_type,
            payload: row.payload,
            recorded_at: row.recorded_at,
        }
    }
}

/// Escapes `%`, `_` and `\` so a family name matches literally in LIKE.
pub(crate) fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_patterns_match_family_names_literally() {
        assert_eq!(escape_like("Booking_Event"), "Booking\\_Event");
        assert_eq!(escape_like("100%"), "100\\%");
        assert_eq!(escape_like("plain"), "plain");
    }
}
