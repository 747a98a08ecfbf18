//! [`EventTable`]: the application's own events table as an event source,
//! for a process manager in a system without an event store. The engine reads
//! it like the built-in log, gap-safe by the same rule (G6).
//!
//! The table keeps its own names and shape; it needs one column the built-in
//! log has too, the appending transaction, and an index to read in order:
//!
//! ```sql
//! ALTER TABLE app.file_events
//!     ADD COLUMN transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id();
//! CREATE INDEX file_events_by_transaction ON app.file_events (transaction_id, id);
//! ```
//!
//! (Adding the column rewrites the table and gives every existing row the
//! migration's transaction id; they are read in `id` order.) Then describe
//! the table:
//!
//! ```no_run
//! # async fn run(pool: sqlx::PgPool) -> Result<(), pm_postgres::Error> {
//! # use pm_core::prelude::*;
//! # #[derive(Debug, Clone, Event)]
//! # enum FileEvent { Processed, Failed }
//! use pm_postgres::EventTable;
//!
//! let source = EventTable::new("file_events")
//!     .schema("app")
//!     .position_column("id")            // a unique, increasing bigint
//!     .stream_column("batch_id")        // the stream: correlates by default
//!     .type_column("kind")
//!     .payload_column("data")           // jsonb (or json, or text holding JSON)
//!     .recorded_at_column("created_at") // or `.without_recorded_at()`
//!     .map_event::<FileEvent>("file_processed", "Processed")
//!     .map_event::<FileEvent>("file_failed", "Failed")
//!     .notify_channel("file_events")    // optional: wake on NOTIFY file_events
//!     .connect(pool)
//!     .await?;
//! # let _ = source; Ok(()) }
//! ```
//!
//! and run the engine on it: `Engine::new(backend.store(), source)`. Stored
//! type names without a mapping are read as they are (a table that already
//! stores `FileEvent.Processed` needs none). Names are quoted as SQL
//! identifiers, so any name the table has works and none can inject SQL.
//!
//! Without `notify_channel` the engine finds new rows by polling
//! (`EngineOptions::poll_interval`). To wake it at once, notify from the
//! table:
//!
//! ```sql
//! CREATE FUNCTION app.notify_file_events() RETURNS trigger LANGUAGE plpgsql AS
//! $$ BEGIN PERFORM pg_notify('file_events', ''); RETURN NULL; END $$;
//! CREATE TRIGGER file_events_notify AFTER INSERT ON app.file_events
//!     FOR EACH STATEMENT EXECUTE FUNCTION app.notify_file_events();
//! ```

mod sql;

use std::collections::HashMap;
use std::sync::Arc;

use pm_core::backend::{EventSource, ReadBatch};
use pm_core::{Event, Position, Result};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::error::{database, Error};
use crate::listen::{self, Listener};
use crate::log::batch_from_rows;
use sql::{fill, quote_identifier};

const READ: &str = include_str!("../../sql/table/read.sql");

/// A description of an application's events table; [`connect`](Self::connect)
/// makes it a [`PgTableSource`]. Column names default to the built-in log's
/// (`position`, `transaction_id`, `stream_id`, `event_type`, `payload`,
/// `recorded_at`).
#[derive(Debug)]
pub struct EventTable {
    schema: Option<String>,
    table: String,
    position: String,
    transaction_id: String,
    stream_id: String,
    event_type: String,
    payload: String,
    recorded_at: Option<String>,
    stream_version: Option<String>,
    mappings: Vec<(String, String)>,
    mapping_errors: Vec<Error>,
    source_name: Option<String>,
    notify_channel: Option<String>,
}

impl EventTable {
    /// The table `table` (in the connection's search path unless
    /// [`schema`](Self::schema) says otherwise).
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            schema: None,
            table: table.into(),
            position: "position".to_owned(),
            transaction_id: "transaction_id".to_owned(),
            stream_id: "stream_id".to_owned(),
            event_type: "event_type".to_owned(),
            payload: "payload".to_owned(),
            recorded_at: Some("recorded_at".to_owned()),
            stream_version: None,
            mappings: Vec::new(),
            mapping_errors: Vec::new(),
            source_name: None,
            notify_channel: None,
        }
    }

    /// The table's schema.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The column that orders rows within a transaction: unique and
    /// increasing, such as a `bigint GENERATED ALWAYS AS IDENTITY` key.
    pub fn position_column(mut self, column: impl Into<String>) -> Self {
        self.position = column.into();
        self
    }

    /// The `xid8` column of the appending transaction, `NOT NULL DEFAULT
    /// pg_current_xact_id()`.
    pub fn transaction_column(mut self, column: impl Into<String>) -> Self {
        self.transaction_id = column.into();
        self
    }

    /// The column of the stream (read as text): the instance id, unless a
    /// handler correlates by a field.
    pub fn stream_column(mut self, column: impl Into<String>) -> Self {
        self.stream_id = column.into();
        self
    }

    /// The column of the stored type name (read as text).
    pub fn type_column(mut self, column: impl Into<String>) -> Self {
        self.event_type = column.into();
        self
    }

    /// The column of the payload (read as `jsonb`).
    pub fn payload_column(mut self, column: impl Into<String>) -> Self {
        self.payload = column.into();
        self
    }

    /// The column of when the row was recorded (read as `timestamptz`).
    pub fn recorded_at_column(mut self, column: impl Into<String>) -> Self {
        self.recorded_at = Some(column.into());
        self
    }

    /// The table has no such column: events read as recorded when they are
    /// read.
    pub fn without_recorded_at(mut self) -> Self {
        self.recorded_at = None;
        self
    }

    /// The column of the row's version in its stream (read as `bigint`);
    /// without one, every event reads as version 0.
    pub fn stream_version_column(mut self, column: impl Into<String>) -> Self {
        self.stream_version = Some(column.into());
        self
    }

    /// Reads rows of stored type `stored` as events of type `event_type`
    /// (`"FileEvent.Processed"`).
    pub fn map_type(mut self, stored: impl Into<String>, event_type: impl Into<String>) -> Self {
        self.mappings.push((stored.into(), event_type.into()));
        self
    }

    /// Reads rows of stored type `stored` as variant `variant` of event enum
    /// `E`; [`connect`](Self::connect) fails if `E` has no such variant.
    pub fn map_event<E: Event>(mut self, stored: impl Into<String>, variant: &str) -> Self {
        let stored = stored.into();
        let event_type = format!("{}.{variant}", E::FAMILY);
        if E::variant_of(&event_type).is_some() {
            self.mappings.push((stored, event_type));
        } else {
            self.mapping_errors.push(Error::UnknownVariant {
                stored,
                family: E::FAMILY,
                variant: variant.to_owned(),
                known: E::variant_names()
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        self
    }

    /// Names the source in checkpoints (default: `schema.table`). Changing
    /// it later makes every process read the table from the start.
    pub fn source_name(mut self, name: impl Into<String>) -> Self {
        self.source_name = Some(name.into());
        self
    }

    /// Wakes readers on `NOTIFY channel` (the engine polls anyway).
    pub fn notify_channel(mut self, channel: impl Into<String>) -> Self {
        self.notify_channel = Some(channel.into());
        self
    }

    /// Checks the description against the database (the table and columns
    /// must exist with usable types) and returns the source. Must be called
    /// on a tokio runtime when a notify channel is set.
    pub async fn connect(self, pool: PgPool) -> std::result::Result<PgTableSource, Error> {
        if let Some(error) = self.mapping_errors.into_iter().next() {
            return Err(error);
        }
        let types = type_map(self.mappings)?;
        let table = match &self.schema {
            Some(schema) => format!(
                "{}.{}",
                quote_identifier("schema", schema)?,
                quote_identifier("table", &self.table)?
            ),
            None => quote_identifier("table", &self.table)?,
        };
        let column =
            |role, name: &str| quote_identifier(role, name).map(|quoted| format!("e.{quoted}"));
        let stream_version = match &self.stream_version {
            Some(name) => column("stream version column", name)?,
            None => "0".to_owned(),
        };
        let recorded_at = match &self.recorded_at {
            Some(name) => column("recorded-at column", name)?,
            None => "now()".to_owned(),
        };
        let read = fill(
            READ,
            &[
                ("table", &table),
                (
                    "position",
                    &quote_identifier("position column", &self.position)?,
                ),
                (
                    "transaction_id",
                    &quote_identifier("transaction column", &self.transaction_id)?,
                ),
                (
                    "stream_id",
                    &quote_identifier("stream column", &self.stream_id)?,
                ),
                (
                    "event_type",
                    &quote_identifier("type column", &self.event_type)?,
                ),
                (
                    "payload",
                    &quote_identifier("payload column", &self.payload)?,
                ),
                ("stream_version", &stream_version),
                ("recorded_at", &recorded_at),
            ],
        );
        let name = self.source_name.unwrap_or_else(|| match &self.schema {
            Some(schema) => format!("{schema}.{}", self.table),
            None => self.table.clone(),
        });
        let (woken, _) = watch::channel(0);
        let woken = Arc::new(woken);
        let listener = self.notify_channel.map(|channel| {
            Arc::new(listen::spawn_channel_listener(
                pool.clone(),
                channel,
                Arc::clone(&woken),
            ))
        });
        let source = PgTableSource {
            pool,
            name,
            table,
            read: Arc::from(read),
            types: Arc::new(types),
            woken,
            _listener: listener,
        };
        source.probe().await?;
        Ok(source)
    }
}

/// Stored type name -> event type, refusing a name mapped twice.
fn type_map(
    mappings: Vec<(String, String)>,
) -> std::result::Result<HashMap<String, String>, Error> {
    let mut types = HashMap::with_capacity(mappings.len());
    for (stored, event_type) in mappings {
        if let Some(first) = types.get(&stored) {
            if *first != event_type {
                return Err(Error::DuplicateTypeMapping {
                    first: String::clone(first),
                    second: event_type,
                    stored,
                });
            }
        }
        types.insert(stored, event_type);
    }
    Ok(types)
}

/// An application's events table read as an [`EventSource`]; made by
/// [`EventTable::connect`]. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct PgTableSource {
    pool: PgPool,
    name: String,
    /// The table as quoted in SQL, for errors.
    table: String,
    read: Arc<str>,
    /// Stored type name -> event type.
    types: Arc<HashMap<String, String>>,
    /// Bumped by NOTIFY, if a channel is set; held so readers' receivers
    /// stay open either way.
    woken: Arc<watch::Sender<u64>>,
    /// The listener of the notify channel, if one is set, held so it runs
    /// while any clone of the source does.
    _listener: Option<Arc<Listener>>,
}

impl PgTableSource {
    /// Runs the read once, reading nothing, so a wrong table or column
    /// fails here rather than in the engine's loop.
    async fn probe(&self) -> std::result::Result<(), Error> {
        sqlx::query(&self.read)
            .bind(0_i64)
            .bind(0_i64)
            .bind(true)
            .bind(Vec::<String>::new())
            .bind(Vec::<String>::new())
            .bind(0_i64)
            .fetch_all(&self.pool)
            .await
            .map(drop)
            .map_err(|source| Error::TableUnusable {
                table: self.table.clone(),
                source,
            })
    }

    /// The stored type names and LIKE patterns to read for `families`: the
    /// names mapped into them, and the families' own names for rows stored
    /// under those.
    fn filters(&self, families: &[&str]) -> (Vec<String>, Vec<String>) {
        let stored = self
            .types
            .iter()
            .filter(|(_, event_type)| {
                families
                    .iter()
                    .any(|family| pm_core::in_family(event_type, family))
            })
            .map(|(stored, _)| stored.clone())
            .collect();
        let patterns = families
            .iter()
            .map(|family| format!("{}.%", crate::log::escape_like(family)))
            .collect();
        (stored, patterns)
    }
}

impl EventSource for PgTableSource {
    fn source_name(&self) -> &str {
        &self.name
    }

    async fn read(&self, after: Position, families: &[&str], limit: usize) -> Result<ReadBatch> {
        let (stored, patterns) = self.filters(families);
        let rows = sqlx::query(&self.read)
            .bind(after.transaction)
            .bind(after.sequence)
            .bind(families.is_empty())
            .bind(&stored)
            .bind(&patterns)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(database("reading the events table failed"))?;
        let mut batch = batch_from_rows(&rows, after, limit)?;
        for event in &mut batch.events {
            if let Some(event_type) = self.types.get(&event.event_type) {
                event.event_type.clone_from(event_type);
            }
        }
        Ok(batch)
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.woken.subscribe()
    }
}
