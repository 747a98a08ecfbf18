//! [`MemoryLog`]: an event log held in memory, for examples and tests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::Utc;
use tokio::sync::watch;

use super::{EventLog, EventSource, ExpectedVersion, Position, ReadBatch};
use crate::error::{Error, Result};
use crate::event::{in_family, NewEvent, RecordedEvent};

/// An in-memory event log. Cloning shares the same log.
#[derive(Debug, Clone)]
pub struct MemoryLog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    entries: Mutex<Entries>,
    appended: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Entries {
    events: Vec<RecordedEvent>,
    /// Indexes into `events` of each stream's events, in order.
    streams: HashMap<String, Vec<usize>>,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        let (appended, _) = watch::channel(0);
        Self {
            inner: Arc::new(Inner {
                entries: Mutex::new(Entries::default()),
                appended,
            }),
        }
    }

    /// The number of events in the log.
    pub fn len(&self) -> usize {
        self.entries().events.len()
    }

    /// Whether the log holds no event.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        // Nothing here panics while holding the lock; should a caller's
        // panic poison it anyway, the entries themselves are still whole.
        self.inner
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemoryLog {
    fn default() -> Self {
        Self::new()
    }
}

impl EventSource for MemoryLog {
    fn source_name(&self) -> &str {
        "memory"
    }

    async fn read(&self, after: Position, families: &[&str], limit: usize) -> Result<ReadBatch> {
        let entries = self.entries();
        let start = usize::try_from(after.sequence).unwrap_or(0);
        let mut batch = ReadBatch {
            events: Vec::new(),
            end: after,
            held_back: false,
        };
        for event in entries.events.iter().skip(start) {
            if batch.events.len() >= limit {
                break;
            }
            batch.end = event.position;
            if families.is_empty()
                || families
                    .iter()
                    .any(|family| in_family(&event.event_type, family))
            {
                batch.events.push(event.clone());
            }
        }
        Ok(batch)
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.appended.subscribe()
    }
}

impl EventLog for MemoryLog {
    async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<i64> {
        let mut entries = self.entries();
        let current = entries.streams.get(stream_id).map_or(0, |indexes| {
            i64::try_from(indexes.len()).unwrap_or(i64::MAX)
        });
        if !expected.allows(current) {
            return Err(Error::Conflict {
                stream_id: stream_id.to_owned(),
                expected: expected.to_string(),
                actual: current,
            });
        }
        let recorded_at = Utc::now();
        let mut version = current;
        for event in events {
            version += 1;
            let index = entries.events.len();
            entries
                .streams
                .entry(stream_id.to_owned())
                .or_default()
                .push(index);
            let sequence = i64::try_from(index).unwrap_or(i64::MAX) + 1;
            entries.events.push(RecordedEvent {
                position: Position {
                    transaction: sequence,
                    sequence,
                },
                stream_id: stream_id.to_owned(),
                stream_version: version,
                event_type: event.event_type,
                payload: event.payload,
                recorded_at,
            });
        }
        drop(entries);
        self.inner.appended.send_modify(|count| *count += 1);
        Ok(version)
    }

    async fn read_stream(&self, stream_id: &str) -> Result<Vec<RecordedEvent>> {
        let entries = self.entries();
        let indexes = entries
            .streams
            .get(stream_id)
            .map_or(&[][..], Vec::as_slice);
        Ok(indexes
            .iter()
            .filter_map(|&index| entries.events.get(index).cloned())
            .collect())
    }
}
