//! [`Journal`]: where the simulated services record what they did, and the
//! checks read it back. In memory it is a [`MemoryLog`]; on Postgres it is
//! the application's own table, `batch_import.events`, with its own type
//! names ([`STORED_KINDS`]). Every stream holds one event, so recording the
//! same event again (a redelivered command) is recognised as such.

use std::future::Future;

use pm_core::backend::EventSource;
use pm_core::{Event, EventLog, ExpectedVersion, MemoryLog, NewEvent, Position, RecordedEvent};
use pm_postgres::{EventTable, PgTableSource};
use serde_json::Value;
use sqlx::{PgPool, Row};

use crate::events::{BatchEvent, FileEvent};

/// The table's own name for each event type (`kind` -> `Family.Variant`).
pub const STORED_KINDS: &[(&str, &str)] = &[
    ("batch_created", "BatchEvent.Created"),
    ("batch_completed", "BatchEvent.Completed"),
    ("file_processed", "FileEvent.Processed"),
    ("file_failed", "FileEvent.Failed"),
];

const SCHEMA: &str = include_str!("../sql/schema.sql");
const INSERT: &str = "INSERT INTO batch_import.events (stream_id, kind, body) VALUES ($1, $2, $3) \
                      ON CONFLICT (stream_id) DO NOTHING RETURNING id";
const SELECT_STREAM: &str = "SELECT kind, body FROM batch_import.events WHERE stream_id = $1";
const SELECT_ALL: &str =
    "SELECT stream_id, kind, body FROM batch_import.events ORDER BY transaction_id, id";

/// What recording an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The event is new.
    New,
    /// The same event was already there: a redelivery.
    Again,
}

/// Why recording failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The stream holds another event.
    #[error("stream `{stream}` already holds another event")]
    Taken {
        /// The stream.
        stream: String,
    },
    /// An event type the table has no name for.
    #[error("event type `{0}` has no stored kind")]
    UnknownType(String),
    /// The event does not encode.
    #[error("the event for `{stream}` does not encode")]
    Encode {
        /// The stream.
        stream: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The log or database failed.
    #[error("the journal could not be read or written")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// One recorded event, as the checks read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its stream.
    pub stream: String,
    /// Its event type (`Family.Variant`).
    pub event_type: String,
    /// Its payload.
    pub payload: Value,
}

/// Where the services record events, one per stream.
pub trait Journal: Clone + Send + Sync + 'static {
    /// Records `event` as the one event of `stream`.
    fn record<E: Event>(
        &self,
        stream: &str,
        event: &E,
    ) -> impl Future<Output = Result<Recorded, JournalError>> + Send;

    /// Every event recorded, in order.
    fn entries(&self) -> impl Future<Output = Result<Vec<Entry>, JournalError>> + Send;
}

fn encode<E: Event>(stream: &str, event: &E) -> Result<NewEvent, JournalError> {
    NewEvent::encode(event).map_err(|source| JournalError::Encode {
        stream: stream.to_owned(),
        source,
    })
}

fn backend(error: impl std::error::Error + Send + Sync + 'static) -> JournalError {
    JournalError::Backend(Box::new(error))
}

/// The journal in memory: the engine reads the same [`MemoryLog`].
#[derive(Debug, Clone, Default)]
pub struct MemoryJournal {
    /// The log the engine reads.
    pub log: MemoryLog,
}

impl Journal for MemoryJournal {
    async fn record<E: Event>(&self, stream: &str, event: &E) -> Result<Recorded, JournalError> {
        let new = encode(stream, event)?;
        match self
            .log
            .append(stream, ExpectedVersion::NoStream, vec![new.clone()])
            .await
        {
            Ok(_) => Ok(Recorded::New),
            Err(pm_core::Error::Conflict { .. }) => {
                let existing = self.log.read_stream(stream).await.map_err(backend)?;
                match existing.as_slice() {
                    [only] if only.event_type == new.event_type && only.payload == new.payload => {
                        Ok(Recorded::Again)
                    }
                    _ => Err(JournalError::Taken {
                        stream: stream.to_owned(),
                    }),
                }
            }
            Err(error) => Err(backend(error)),
        }
    }

    async fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        let mut entries = Vec::new();
        let mut after = Position::START;
        loop {
            let batch = self.log.read(after, &[], 1000).await.map_err(backend)?;
            if batch.events.is_empty() {
                return Ok(entries);
            }
            after = batch.end;
            entries.extend(batch.events.into_iter().map(entry));
        }
    }
}

fn entry(event: RecordedEvent) -> Entry {
    Entry {
        stream: event.stream_id,
        event_type: event.event_type,
        payload: event.payload,
    }
}

/// The journal on Postgres: the application's table `batch_import.events`.
#[derive(Debug, Clone)]
pub struct TableJournal {
    pool: PgPool,
}

impl TableJournal {
    /// Creates the table if needed.
    pub async fn create(pool: PgPool) -> Result<Self, JournalError> {
        sqlx::raw_sql(SCHEMA)
            .execute(&pool)
            .await
            .map_err(backend)?;
        Ok(Self { pool })
    }

    /// The table as the engine's event source, its kinds mapped to events.
    pub async fn source(&self) -> Result<PgTableSource, pm_postgres::Error> {
        let table = EventTable::new("events")
            .schema("batch_import")
            .position_column("id")
            .type_column("kind")
            .payload_column("body")
            .recorded_at_column("created_at")
            .notify_channel("batch_import_events")
            .map_event::<BatchEvent>("batch_created", "Created")
            .map_event::<BatchEvent>("batch_completed", "Completed")
            .map_event::<FileEvent>("file_processed", "Processed")
            .map_event::<FileEvent>("file_failed", "Failed");
        table.connect(self.pool.clone()).await
    }
}

fn stored_kind(event_type: &str) -> Result<&'static str, JournalError> {
    STORED_KINDS
        .iter()
        .find(|(_, mapped)| *mapped == event_type)
        .map(|(kind, _)| *kind)
        .ok_or_else(|| JournalError::UnknownType(event_type.to_owned()))
}

fn event_type_of(kind: &str) -> String {
    STORED_KINDS
        .iter()
        .find(|(stored, _)| *stored == kind)
        .map_or_else(
            || kind.to_owned(),
            |(_, event_type)| (*event_type).to_owned(),
        )
}

impl Journal for TableJournal {
    async fn record<E: Event>(&self, stream: &str, event: &E) -> Result<Recorded, JournalError> {
        let new = encode(stream, event)?;
        let kind = stored_kind(&new.event_type)?;
        let inserted = sqlx::query(INSERT)
            .bind(stream)
            .bind(kind)
            .bind(&new.payload)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        if inserted.is_some() {
            return Ok(Recorded::New);
        }
        let row = sqlx::query(SELECT_STREAM)
            .bind(stream)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        let (stored, body): (String, Value) = (
            row.try_get("kind").map_err(backend)?,
            row.try_get("body").map_err(backend)?,
        );
        if stored == kind && body == new.payload {
            Ok(Recorded::Again)
        } else {
            Err(JournalError::Taken {
                stream: stream.to_owned(),
            })
        }
    }

    async fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        let rows = sqlx::query(SELECT_ALL)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind").map_err(backend)?;
                Ok(Entry {
                    stream: row.try_get("stream_id").map_err(backend)?,
                    event_type: event_type_of(&kind),
                    payload: row.try_get("body").map_err(backend)?,
                })
            })
            .collect()
    }
}
