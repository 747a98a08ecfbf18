//! [`InstanceView`]: everything stored about one instance, read in one
//! snapshot (what `pm show` prints).

use chrono::{DateTime, SecondsFormat, Utc};
use pm_core::backend::{DeadLetter, OutboxCommand, ParkedEntry, ParkedItem};
use pm_core::{BoxError, InstanceStatus, Position, ProcessManager, Result};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::OneLine;
use crate::outbox::DeadLetterRow;
use crate::store::{InstanceRow, ParkedEntryRow};

const SNAPSHOT: &str = include_str!("../../sql/admin/snapshot.sql");
const INSTANCE: &str = include_str!("../../sql/admin/instance.sql");
const TIMEOUTS: &str = include_str!("../../sql/admin/instance_timeouts.sql");
const PENDING: &str = include_str!("../../sql/admin/instance_pending.sql");
const DELIVERED: &str = include_str!("../../sql/admin/instance_delivered.sql");
const DEAD_LETTERS: &str = include_str!("../../sql/admin/instance_dead_letters.sql");
const PARKED: &str = include_str!("../../sql/admin/instance_parked.sql");

/// How many of an instance's delivered commands a view holds (the latest).
pub const DELIVERED_SHOWN: i64 = 20;

/// One instance as stored: its state (`S`: the process type, or JSON), where
/// it stands, and its timeouts, commands and parked items. The `Display`
/// of the JSON view is what `pm show` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceView<S = Value> {
    /// The process.
    pub process: String,
    /// The instance id.
    pub id: String,
    /// The state; `None` for an instance parked before it started.
    pub state: Option<S>,
    /// The life-cycle status.
    pub status: InstanceStatus,
    /// Incremented by each commit that changed the instance.
    pub version: i64,
    /// The state schema version the stored state was written with.
    pub schema_version: i32,
    /// The last event applied to the instance (or parked for it): a
    /// replayed event at or before it is skipped.
    pub last_position: Position,
    /// When a commit last changed it (database clock).
    pub updated_at: DateTime<Utc>,
    /// The partition its id falls in, once the process has partitions.
    pub partition: Option<InstancePartition>,
    /// Its pending timeouts, soonest first.
    pub timeouts: Vec<PendingTimeout>,
    /// Its commands waiting for delivery, in the order issued.
    pub pending: Vec<PendingCommand>,
    /// Its latest delivered commands (at most [`DELIVERED_SHOWN`]), oldest
    /// first.
    pub delivered: Vec<DeliveredCommand>,
    /// How many of its commands were delivered in all.
    pub delivered_total: u64,
    /// Its commands that gave up, oldest first.
    pub dead_letters: Vec<DeadLetter>,
    /// Its parked items, in order.
    pub parked: Vec<ParkedEntry>,
}

/// The partition an instance falls in and who owns it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstancePartition {
    /// The partition number (`pm.partition_of(id, partitions)`).
    pub partition: u32,
    /// How many partitions the process has.
    pub partitions: u32,
    /// The worker that claimed it last, if it is not released.
    pub owner: Option<String>,
    /// That worker's name (host and process id), while it is registered.
    pub owner_name: Option<String>,
    /// Whether an owner holds a lease that has not run out.
    pub leased: bool,
}

/// A pending timeout of an instance.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PendingTimeout {
    /// The kind's name.
    pub kind: String,
    /// When it is due (engine clock).
    pub due_at: DateTime<Utc>,
}

/// A command of an instance waiting for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCommand {
    /// The command: id, ordering key, type, payload, failed attempts.
    pub command: OutboxCommand,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    /// Whether it is first in line for its ordering key (the others wait
    /// for the commands before them).
    pub head: bool,
    /// Whether a dispatcher holds it right now (a delivery in flight).
    pub leased: bool,
    /// For a head: when it can next be claimed (engine clock).
    pub available_at: Option<DateTime<Utc>>,
}

/// A delivered command of an instance.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveredCommand {
    /// The command's id (its idempotency key).
    pub id: Uuid,
    /// Its type name.
    pub command_type: String,
    /// When it was issued (engine clock).
    pub created_at: DateTime<Utc>,
    /// Delivery attempts, the successful one included.
    pub attempts: u32,
    /// When it was delivered (database clock).
    pub delivered_at: DateTime<Utc>,
}

/// A row of `instance.sql`.
#[derive(sqlx::FromRow)]
struct InstanceViewRow {
    #[sqlx(flatten)]
    stored: InstanceRow,
    updated_at: DateTime<Utc>,
    partition: Option<i32>,
    partitions: Option<i32>,
    owner: Option<String>,
    owner_name: Option<String>,
    leased: bool,
}

impl InstanceViewRow {
    fn partition(&self) -> Option<InstancePartition> {
        Some(InstancePartition {
            partition: u32::try_from(self.partition?).ok()?,
            partitions: u32::try_from(self.partitions?).ok()?,
            owner: self.owner.clone(),
            owner_name: self.owner_name.clone(),
            leased: self.leased,
        })
    }
}

/// A row of `instance_pending.sql`.
#[derive(sqlx::FromRow)]
struct PendingRow {
    id: Uuid,
    ordering_key: String,
    command_type: String,
    payload: Value,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    head: bool,
    leased: bool,
    available_at: Option<DateTime<Utc>>,
}

impl PendingRow {
    fn into_command(self, instance: &str) -> PendingCommand {
        PendingCommand {
            command: OutboxCommand {
                id: self.id,
                instance: instance.to_owned(),
                ordering_key: self.ordering_key,
                command_type: self.command_type,
                payload: self.payload,
                attempts: u32::try_from(self.attempts).unwrap_or(0),
                created_at: self.created_at,
            },
            last_error: self.last_error,
            head: self.head,
            leased: self.leased,
            available_at: self.available_at,
        }
    }
}

/// A row of `instance_delivered.sql`.
#[derive(sqlx::FromRow)]
struct DeliveredRow {
    id: Uuid,
    command_type: String,
    created_at: DateTime<Utc>,
    attempts: i32,
    delivered_at: DateTime<Utc>,
    total: i64,
}

impl From<DeliveredRow> for DeliveredCommand {
    fn from(row: DeliveredRow) -> Self {
        DeliveredCommand {
            id: row.id,
            command_type: row.command_type,
            created_at: row.created_at,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            delivered_at: row.delivered_at,
        }
    }
}

/// Instance `id` of `process` with its state as JSON, read in one snapshot;
/// `None` if it does not exist.
pub(super) async fn instance_json(
    pool: &PgPool,
    process: &str,
    id: &str,
) -> Result<Option<InstanceView>> {
    let failed = |source: sqlx::Error| {
        pm_core::Error::backend(
            format!(
                "reading instance `{}` of process `{process}` failed",
                OneLine(id)
            ),
            source,
        )
    };
    let mut transaction = pool.begin().await.map_err(failed)?;
    sqlx::query(SNAPSHOT)
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
    let view = read(&mut transaction, process, id).await.map_err(failed)?;
    transaction.rollback().await.map_err(failed)?;
    view.map(|(row, parts)| assemble(process, row, parts))
        .transpose()
}

/// What `instance_json` reads besides the instance row.
struct Parts {
    timeouts: Vec<PendingTimeout>,
    pending: Vec<PendingRow>,
    delivered: Vec<DeliveredRow>,
    dead_letters: Vec<DeadLetterRow>,
    parked: Vec<ParkedEntryRow>,
}

async fn read(
    connection: &mut PgConnection,
    process: &str,
    id: &str,
) -> Result<Option<(InstanceViewRow, Parts)>, sqlx::Error> {
    let Some(row) = sqlx::query_as::<_, InstanceViewRow>(INSTANCE)
        .bind(process)
        .bind(id)
        .fetch_optional(&mut *connection)
        .await?
    else {
        return Ok(None);
    };
    let parts = Parts {
        timeouts: sqlx::query_as(TIMEOUTS)
            .bind(process)
            .bind(id)
            .fetch_all(&mut *connection)
            .await?,
        pending: sqlx::query_as(PENDING)
            .bind(process)
            .bind(id)
            .fetch_all(&mut *connection)
            .await?,
        delivered: sqlx::query_as(DELIVERED)
            .bind(process)
            .bind(id)
            .bind(DELIVERED_SHOWN)
            .fetch_all(&mut *connection)
            .await?,
        dead_letters: sqlx::query_as(DEAD_LETTERS)
            .bind(process)
            .bind(id)
            .fetch_all(&mut *connection)
            .await?,
        parked: sqlx::query_as(PARKED)
            .bind(process)
            .bind(id)
            .fetch_all(&mut *connection)
            .await?,
    };
    Ok(Some((row, parts)))
}

fn assemble(process: &str, row: InstanceViewRow, parts: Parts) -> Result<InstanceView> {
    let partition = row.partition();
    let stored = row.stored;
    let status = crate::status::from_stored(&stored.status).ok_or_else(|| {
        pm_core::Error::backend(
            format!(
                "instance `{}` of process `{process}` cannot be read",
                OneLine(&stored.instance_id)
            ),
            format!(
                "its status `{}` is none of active, completed, parked",
                OneLine(&stored.status)
            ),
        )
    })?;
    let delivered_total = parts
        .delivered
        .first()
        .map_or(0, |delivered| u64::try_from(delivered.total).unwrap_or(0));
    Ok(InstanceView {
        process: process.to_owned(),
        pending: parts
            .pending
            .into_iter()
            .map(|pending| pending.into_command(&stored.instance_id))
            .collect(),
        id: stored.instance_id,
        state: Some(stored.state).filter(|state| !state.is_null()),
        status,
        version: stored.version,
        schema_version: stored.schema_version,
        last_position: Position {
            transaction: stored.last_tx,
            sequence: stored.last_position,
        },
        updated_at: row.updated_at,
        partition,
        timeouts: parts.timeouts,
        delivered: parts.delivered.into_iter().map(Into::into).collect(),
        delivered_total,
        dead_letters: parts.dead_letters.into_iter().map(Into::into).collect(),
        parked: parts
            .parked
            .into_iter()
            .map(ParkedEntry::try_from)
            .collect::<Result<_>>()?,
    })
}

impl InstanceView {
    /// The view with its state decoded as `P` (state of an older schema
    /// version migrated first); a state that does not decode is an error
    /// naming the instance.
    pub fn decode<P: ProcessManager>(self) -> Result<InstanceView<P>> {
        let state = match self.state {
            None => None,
            Some(state) => Some(decode_state::<P>(&self.id, self.schema_version, state)?),
        };
        Ok(InstanceView {
            state,
            process: self.process,
            id: self.id,
            status: self.status,
            version: self.version,
            schema_version: self.schema_version,
            last_position: self.last_position,
            updated_at: self.updated_at,
            partition: self.partition,
            timeouts: self.timeouts,
            pending: self.pending,
            delivered: self.delivered,
            delivered_total: self.delivered_total,
            dead_letters: self.dead_letters,
            parked: self.parked,
        })
    }
}

/// Decodes stored state as the engine does: older schema versions are
/// migrated with the process's `migrate` function, newer ones refused.
fn decode_state<P: ProcessManager>(id: &str, schema_version: i32, state: Value) -> Result<P> {
    let failed = |source: BoxError| {
        pm_core::Error::backend(
            format!(
                "the state of instance `{}` of process `{}` does not decode",
                OneLine(id),
                P::NAME
            ),
            source,
        )
    };
    let current = P::STATE_VERSION;
    if schema_version > current {
        return Err(failed(
            format!("it has schema version {schema_version}, newer than this build's {current}")
                .into(),
        ));
    }
    let state = if schema_version < current {
        P::migrate_state(schema_version, state).map_err(|error| {
            failed(
                format!(
                    "it has schema version {schema_version} and failed to migrate to {current}: {error}"
                )
                .into(),
            )
        })?
    } else {
        state
    };
    serde_json::from_value(state).map_err(|error| failed(error.into()))
}

/// A time as `2030-01-01T00:00:00.000Z`.
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl std::fmt::Display for InstanceView {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            out,
            "instance `{}` of process `{}`: {}, version {}, state schema version {}, \
             last applied position {}:{}, updated {}",
            OneLine(&self.id),
            self.process,
            self.status,
            self.version,
            self.schema_version,
            self.last_position.transaction,
            self.last_position.sequence,
            time(self.updated_at)
        )?;
        match &self.partition {
            None => writeln!(out, "partition: none yet (the process has no partitions)")?,
            Some(partition) => {
                let owner = match (&partition.owner_name, &partition.owner, partition.leased) {
                    (_, _, false) => "no live owner".to_owned(),
                    (Some(name), _, true) | (None, Some(name), true) => format!("owned by {name}"),
                    (None, None, true) => "owned".to_owned(),
                };
                writeln!(
                    out,
                    "partition {} of {}, {owner}",
                    partition.partition, partition.partitions
                )?;
            }
        }
        match &self.state {
            None => writeln!(out, "state: none (parked before it started)")?,
            Some(state) => writeln!(out, "state:\n{state:#}")?,
        }
        self.fmt_timeouts(out)?;
        self.fmt_pending(out)?;
        self.fmt_delivered(out)?;
        self.fmt_dead_letters(out)?;
        self.fmt_parked(out)
    }
}

/// "none" for an empty list.
fn none_if(empty: bool) -> &'static str {
    if empty {
        " none"
    } else {
        ""
    }
}

impl InstanceView {
    fn fmt_timeouts(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(out, "timeouts:{}", none_if(self.timeouts.is_empty()))?;
        for timeout in &self.timeouts {
            writeln!(
                out,
                "  {} due {}",
                OneLine(&timeout.kind),
                time(timeout.due_at)
            )?;
        }
        Ok(())
    }

    fn fmt_pending(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            out,
            "pending commands, in the order issued:{}",
            none_if(self.pending.is_empty())
        )?;
        for pending in &self.pending {
            let command = &pending.command;
            let when = match (pending.head, pending.leased, pending.available_at) {
                (true, true, _) => "leased (a delivery is in flight)".to_owned(),
                (true, false, Some(at)) => format!("available {}", time(at)),
                _ => "waits for the commands before it of its ordering key".to_owned(),
            };
            write!(
                out,
                "  {} {}, ordering key `{}`, failed attempts: {}, {when}",
                OneLine(&command.command_type),
                command.id,
                OneLine(&command.ordering_key),
                command.attempts
            )?;
            match &pending.last_error {
                Some(error) => writeln!(out, "; last error: {}", OneLine(error))?,
                None => writeln!(out)?,
            }
        }
        Ok(())
    }

    fn fmt_delivered(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.delivered.is_empty() {
            return writeln!(out, "delivered commands: none");
        }
        writeln!(
            out,
            "delivered commands (the last {} of {}):",
            self.delivered.len(),
            self.delivered_total
        )?;
        for delivered in &self.delivered {
            writeln!(
                out,
                "  {} {}, issued {}, delivered {}, attempts: {}",
                OneLine(&delivered.command_type),
                delivered.id,
                time(delivered.created_at),
                time(delivered.delivered_at),
                delivered.attempts
            )?;
        }
        Ok(())
    }

    fn fmt_dead_letters(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            out,
            "dead letters:{}",
            none_if(self.dead_letters.is_empty())
        )?;
        for dead in &self.dead_letters {
            let command = &dead.command;
            writeln!(
                out,
                "  {} {}, ordering key `{}`, attempts: {}, gave up: {}",
                OneLine(&command.command_type),
                command.id,
                OneLine(&command.ordering_key),
                command.attempts,
                OneLine(&dead.error)
            )?;
        }
        Ok(())
    }

    fn fmt_parked(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(out, "parked items:{}", none_if(self.parked.is_empty()))?;
        for entry in &self.parked {
            let parked = &entry.parked;
            match &parked.item {
                ParkedItem::Event(event) => write!(
                    out,
                    "  id {}: event {} at {}:{} (stream `{}` v{})",
                    entry.id,
                    OneLine(&event.event_type),
                    event.position.transaction,
                    event.position.sequence,
                    OneLine(&event.stream_id),
                    event.stream_version
                )?,
                ParkedItem::Timeout { kind, due_at } => write!(
                    out,
                    "  id {}: timeout {} due {}",
                    entry.id,
                    OneLine(kind),
                    time(*due_at)
                )?,
            }
            match &parked.error {
                Some(error) => write!(out, ", failed: {}", OneLine(error))?,
                None => write!(out, ", held behind an earlier failure")?,
            }
            let released = if entry.released {
                " (released: the engine applies it soon)"
            } else {
                ""
            };
            writeln!(out, "{released}")?;
        }
        Ok(())
    }
}
