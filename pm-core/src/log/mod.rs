//! Event logs: [`EventSource`] (what the engine reads) and [`EventLog`] (a
//! source that can also be appended to), with the in-memory [`MemoryLog`].

mod memory;

pub use memory::MemoryLog;

use std::future::Future;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::error::Result;
use crate::event::{NewEvent, RecordedEvent};

/// A position in a log. Positions order events; a checkpoint is the position
/// of the last event a process has consumed.
///
/// The Postgres log orders by the appending transaction first, so that an
/// event committed late is never behind a checkpoint (see `pm-postgres`); the
/// in-memory log sets both parts to the event's sequence number.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Position {
    /// The appending transaction (or the sequence number in memory).
    pub transaction: i64,
    /// The event's sequence number.
    pub sequence: i64,
}

impl Position {
    /// The position before every event.
    pub const START: Position = Position {
        transaction: 0,
        sequence: 0,
    };
}

/// Events read after a position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadBatch {
    /// The events, in log order.
    pub events: Vec<RecordedEvent>,
    /// The position up to which the log was read: at least the last event's
    /// position, further when events of other families were passed over.
    pub end: Position,
    /// Whether newer events exist that cannot be read yet (an older
    /// transaction is still open); the reader should look again soon.
    pub held_back: bool,
}

/// Where the engine reads events from.
pub trait EventSource: Send + Sync + 'static {
    /// Names this source in checkpoints.
    fn source_name(&self) -> &str;

    /// Reads up to `limit` events after `after` whose type is in one of
    /// `families` (all events when `families` is empty), in log order.
    fn read(
        &self,
        after: Position,
        families: &[&str],
        limit: usize,
    ) -> impl Future<Output = Result<ReadBatch>> + Send;

    /// A receiver whose value changes when new events may be readable. A
    /// wake-up is only a hint: readers also poll.
    fn subscribe(&self) -> watch::Receiver<u64>;
}

/// The stream version an append expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the stream's version.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be at exactly this version.
    Exact(i64),
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(version) => write!(f, "{version}"),
        }
    }
}

impl ExpectedVersion {
    /// Whether a stream at `current` satisfies this expectation.
    pub fn allows(self, current: i64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(version) => version == current,
        }
    }
}

/// An event source that can be appended to, stream by stream.
pub trait EventLog: EventSource {
    /// Appends `events` to `stream_id` if the stream is at `expected`, and
    /// returns the stream's new version. Fails with
    /// [`Error::Conflict`](crate::Error::Conflict) otherwise.
    fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = Result<i64>> + Send;

    /// Every event of one stream, in order.
    fn read_stream(
        &self,
        stream_id: &str,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>>> + Send;
}
