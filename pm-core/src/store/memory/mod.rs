//! [`MemoryStore`]: the embedded store, held in memory, for examples and tests.

mod outbox;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use super::{
    Batch, Claim, DeadLetter, DueTimeout, FailedDelivery, Fence, InstanceRecord, InstanceStatus,
    Membership, Operations, OutboxCommand, OwnedPartitions, ParkedEntry, ParkedEvent, ParkedItem,
    PartitionLease, ProcessStats, Purged, Release, ReleasedItem, Store, Worker,
};
use crate::clock::{Clock, SystemClock};
use crate::descriptor::Descriptor;
use crate::error::{Error, Result};
use crate::log::Position;

/// An in-memory store. Cloning shares the same data.
///
/// Several engines on one `MemoryStore` are several workers of each
/// process: they share its partitions as workers on one database do. Leases
/// and heartbeats run on the store's own clock (the system clock unless
/// [`with_clock`](Self::with_clock) says otherwise), as the Postgres store's
/// run on the database's.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

struct Inner {
    processes: Mutex<HashMap<String, ProcessData>>,
    outbox_changed: watch::Sender<u64>,
    clock: Arc<dyn Clock>,
}

/// The partitions of a process.
#[derive(Debug)]
struct PartitionSet {
    source: String,
    rows: Vec<PartitionRow>,
}

#[derive(Debug, Clone)]
struct PartitionRow {
    owner: Option<String>,
    epoch: i64,
    lease_until: DateTime<Utc>,
    checkpoint: Position,
}

/// A partition of a process, as operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryPartition {
    /// The partition.
    pub partition: u32,
    /// The worker holding it, if any.
    pub owner: Option<String>,
    /// How many times it has been claimed.
    pub epoch: i64,
    /// Its checkpoint.
    pub checkpoint: Position,
}

#[derive(Debug, Clone)]
struct ParkedRow {
    id: i64,
    released: bool,
    skip: bool,
    parked: ParkedEvent,
}

impl ParkedRow {
    /// The id whose partition the item is in: its instance's, or its
    /// stream's when it has none.
    fn partition_key(&self) -> Option<&str> {
        match (&self.parked.instance, &self.parked.item) {
            (Some(instance), _) => Some(instance),
            (None, ParkedItem::Event(event)) => Some(&event.stream_id),
            (None, ParkedItem::Timeout { .. }) => None,
        }
    }
}

#[derive(Debug)]
struct WorkerRow {
    heartbeat_at: DateTime<Utc>,
    lease_for: Duration,
}

#[derive(Debug, Default)]
struct ProcessData {
    partitions: Option<PartitionSet>,
    workers: BTreeMap<String, WorkerRow>,
    instances: HashMap<String, InstanceRecord>,
    /// When each instance was last written (the store's clock).
    changed_at: HashMap<String, DateTime<Utc>>,
    timeouts: HashMap<(String, String), DateTime<Utc>>,
    timeouts_by_due: BTreeSet<(DateTime<Utc>, String, String)>,
    outbox: outbox::Outbox,
    /// Parked items, oldest first.
    parked: Vec<ParkedRow>,
    next_parked_id: i64,
    dead: Vec<DeadLetter>,
}

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(SystemClock)
    }

    /// An empty store whose leases and heartbeats run on `clock`.
    pub fn with_clock(clock: impl Clock) -> Self {
        let (outbox_changed, _) = watch::channel(0);
        Self {
            inner: Arc::new(Inner {
                processes: Mutex::new(HashMap::new()),
                outbox_changed,
                clock: Arc::new(clock),
            }),
        }
    }

    /// The partitions of `process`, in order (none before it first ran).
    pub fn partitions(&self, process: &str) -> Vec<MemoryPartition> {
        self.processes()
            .get(process)
            .and_then(|data| data.partitions.as_ref())
            .map(|set| {
                set.rows
                    .iter()
                    .zip(0u32..)
                    .map(|(row, partition)| MemoryPartition {
                        partition,
                        owner: row.owner.clone(),
                        epoch: row.epoch,
                        checkpoint: row.checkpoint,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every stored instance of `process`, in no particular order.
    pub fn instances(&self, process: &str) -> Vec<InstanceRecord> {
        self.processes()
            .get(process)
            .map(|data| data.instances.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The pending timeouts of `process` as (instance, kind, due at).
    pub fn timeouts(&self, process: &str) -> Vec<(String, String, DateTime<Utc>)> {
        self.processes()
            .get(process)
            .map(|data| {
                data.timeouts_by_due
                    .iter()
                    .map(|(due, instance, kind)| (instance.clone(), kind.clone(), *due))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn processes(&self) -> MutexGuard<'_, HashMap<String, ProcessData>> {
        // No code panics while holding this lock, and every mutation below
        // validates before it writes, so a poisoned map is still consistent.
        self.inner
            .processes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcessData {
    fn set_timeout(&mut self, instance: &str, kind: &str, due_at: Option<DateTime<Utc>>) {
        let key = (instance.to_owned(), kind.to_owned());
        if let Some(old) = self.timeouts.remove(&key) {
            self.timeouts_by_due
                .remove(&(old, key.0.clone(), key.1.clone()));
        }
        if let Some(due) = due_at {
            self.timeouts_by_due
                .insert((due, key.0.clone(), key.1.clone()));
            self.timeouts.insert(key, due);
        }
    }

    /// Checks every partition of `fence` before anything is written.
    fn check_fence(&self, process: &str, fence: &Fence) -> Result<()> {
        let rows = self.partitions.as_ref().map_or(&[][..], |set| &set.rows);
        for fenced in &fence.partitions {
            let row = usize::try_from(fenced.partition)
                .ok()
                .and_then(|index| rows.get(index));
            let owned = row.is_some_and(|row| {
                row.owner.as_deref() == Some(fence.worker.as_str()) && row.epoch == fenced.epoch
            });
            let Some(row) = row.filter(|_| owned) else {
                return Err(Error::PartitionLost {
                    process: process.to_owned(),
                    partition: fenced.partition,
                    worker: fence.worker.clone(),
                    epoch: fenced.epoch,
                });
            };
            if row.checkpoint != fenced.from {
                return Err(Error::CheckpointMoved {
                    process: process.to_owned(),
                    partition: fenced.partition,
                    expected: fenced.from,
                    stored: row.checkpoint,
                });
            }
        }
        Ok(())
    }

    /// The partition rows `worker` holds among `held` (partition, epoch).
    fn held_rows<'a>(
        &'a mut self,
        worker: &'a str,
        held: &'a [(u32, i64)],
    ) -> impl Iterator<Item = (u32, &'a mut PartitionRow)> + 'a {
        let rows = self
            .partitions
            .as_mut()
            .map_or(&mut [][..], |set| &mut set.rows[..]);
        rows.iter_mut()
            .zip(0u32..)
            .filter_map(move |(row, partition)| {
                let holds =
                    row.owner.as_deref() == Some(worker) && held.contains(&(partition, row.epoch));
                holds.then_some((partition, row))
            })
    }

    fn is_active(&self, instance: &str) -> bool {
        self.instances
            .get(instance)
            .is_some_and(|record| record.status == InstanceStatus::Active)
    }
}

fn lease_end(now: DateTime<Utc>, lease_for: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease_for).unwrap_or(chrono::Duration::MAX)
}

impl Store for MemoryStore {
    async fn heartbeat(
        &self,
        process: &str,
        source: &str,
        worker: &Worker,
        partitions: u32,
        lease_for: Duration,
    ) -> Result<Membership> {
        let now = self.inner.clock.now();
        let mut processes = self.processes();
        let data = processes.entry(process.to_owned()).or_default();
        let set = data.partitions.get_or_insert_with(|| PartitionSet {
            source: source.to_owned(),
            rows: vec![
                PartitionRow {
                    owner: None,
                    epoch: 0,
                    lease_until: now,
                    checkpoint: Position::START,
                };
                usize::try_from(partitions.max(1)).unwrap_or(1)
            ],
        });
        if set.source != source {
            return Err(Error::SourceChanged {
                process: process.to_owned(),
                stored: set.source.clone(),
                requested: source.to_owned(),
            });
        }
        let count = u32::try_from(set.rows.len()).unwrap_or(u32::MAX);
        data.workers.insert(
            worker.id.clone(),
            WorkerRow {
                heartbeat_at: now,
                lease_for,
            },
        );
        let live_workers = data
            .workers
            .iter()
            .filter(|(_, row)| lease_end(row.heartbeat_at, row.lease_for) > now)
            .map(|(id, _)| id.clone())
            .collect();
        Ok(Membership {
            partitions: count,
            live_workers,
        })
    }

    async fn claim_partitions(
        &self,
        process: &str,
        worker: &str,
        limit: usize,
        avoid: &[u32],
        lease_for: Duration,
    ) -> Result<Vec<PartitionLease>> {
        let now = self.inner.clock.now();
        let mut processes = self.processes();
        let Some(set) = processes
            .get_mut(process)
            .and_then(|data| data.partitions.as_mut())
        else {
            return Ok(Vec::new());
        };
        let mut claimed = Vec::new();
        for (row, partition) in set.rows.iter_mut().zip(0u32..) {
            if claimed.len() >= limit {
                break;
            }
            let free = row.owner.is_none() || row.lease_until <= now;
            if free && !avoid.contains(&partition) {
                row.owner = Some(worker.to_owned());
                row.epoch += 1;
                row.lease_until = lease_end(now, lease_for);
                claimed.push(PartitionLease {
                    partition,
                    epoch: row.epoch,
                    checkpoint: row.checkpoint,
                });
            }
        }
        Ok(claimed)
    }

    async fn renew_partitions(
        &self,
        process: &str,
        worker: &str,
        held: &[(u32, i64)],
        lease_for: Duration,
    ) -> Result<Vec<PartitionLease>> {
        let until = lease_end(self.inner.clock.now(), lease_for);
        let mut processes = self.processes();
        let Some(data) = processes.get_mut(process) else {
            return Ok(Vec::new());
        };
        Ok(data
            .held_rows(worker, held)
            .map(|(partition, row)| {
                row.lease_until = until;
                PartitionLease {
                    partition,
                    epoch: row.epoch,
                    checkpoint: row.checkpoint,
                }
            })
            .collect())
    }

    async fn release_partitions(
        &self,
        process: &str,
        worker: &str,
        held: &[(u32, i64)],
    ) -> Result<()> {
        let now = self.inner.clock.now();
        let mut processes = self.processes();
        if let Some(data) = processes.get_mut(process) {
            for (_, row) in data.held_rows(worker, held) {
                row.owner = None;
                row.lease_until = now;
            }
        }
        Ok(())
    }

    async fn leave(&self, process: &str, worker: &str) -> Result<()> {
        if let Some(data) = self.processes().get_mut(process) {
            data.workers.remove(worker);
        }
        Ok(())
    }

    async fn load_instances(&self, process: &str, ids: &[String]) -> Result<Vec<InstanceRecord>> {
        let processes = self.processes();
        let Some(data) = processes.get(process) else {
            return Ok(Vec::new());
        };
        Ok(ids
            .iter()
            .filter_map(|id| data.instances.get(id).cloned())
            .collect())
    }

    async fn due_timeouts(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DueTimeout>> {
        let processes = self.processes();
        let Some(data) = processes.get(process) else {
            return Ok(Vec::new());
        };
        Ok(data
            .timeouts_by_due
            .iter()
            .take_while(|(due, _, _)| *due <= now)
            .filter(|(_, instance, _)| data.is_active(instance) && partitions.contains(instance))
            .take(limit)
            .map(|(due, instance, kind)| DueTimeout {
                instance: instance.clone(),
                kind: kind.clone(),
                due_at: *due,
            })
            .collect())
    }

    async fn next_timeout_at(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
    ) -> Result<Option<DateTime<Utc>>> {
        let processes = self.processes();
        Ok(processes.get(process).and_then(|data| {
            data.timeouts_by_due
                .iter()
                .find(|(_, instance, _)| data.is_active(instance) && partitions.contains(instance))
                .map(|(due, _, _)| *due)
        }))
    }

    async fn commit(&self, batch: Batch) -> Result<()> {
        let has_commands = !batch.commands.is_empty();
        {
            let mut processes = self.processes();
            let data = processes.entry(batch.process.clone()).or_default();
            if let Some(fence) = &batch.fence {
                data.check_fence(&batch.process, fence)?;
            }
            for write in &batch.instances {
                let current = data
                    .instances
                    .get(&write.id)
                    .map_or(0, |record| record.version);
                if current != write.expected_version {
                    return Err(Error::StaleInstance {
                        process: batch.process.clone(),
                        instance: write.id.clone(),
                        expected: write.expected_version,
                    });
                }
            }
            if let (Some(fence), Some(set)) = (&batch.fence, data.partitions.as_mut()) {
                for fenced in &fence.partitions {
                    if let Some(row) = usize::try_from(fenced.partition)
                        .ok()
                        .and_then(|index| set.rows.get_mut(index))
                    {
                        row.checkpoint = fenced.to;
                    }
                }
            }
            let now = self.inner.clock.now();
            for write in batch.instances {
                data.changed_at.insert(write.id.clone(), now);
                data.instances.insert(
                    write.id.clone(),
                    InstanceRecord {
                        id: write.id,
                        state: write.state,
                        version: write.expected_version + 1,
                        status: write.status,
                        schema_version: write.schema_version,
                        last_position: write.last_position,
                    },
                );
            }
            for timeout in batch.timeouts {
                data.set_timeout(&timeout.instance, &timeout.kind, timeout.due_at);
            }
            for command in batch.commands {
                data.outbox.record(command);
            }
            data.parked.retain(|row| !batch.replayed.contains(&row.id));
            for parked in batch.parked {
                data.next_parked_id += 1;
                data.parked.push(ParkedRow {
                    id: data.next_parked_id,
                    released: false,
                    skip: false,
                    parked,
                });
            }
        }
        if has_commands {
            self.inner.outbox_changed.send_modify(|count| *count += 1);
        }
        Ok(())
    }

    async fn claim_commands(&self, process: &str, claim: Claim) -> Result<Vec<OutboxCommand>> {
        let mut processes = self.processes();
        Ok(processes
            .get_mut(process)
            .map(|data| data.outbox.claim(&claim))
            .unwrap_or_default())
    }

    async fn complete_commands(&self, lease: Uuid, ids: &[Uuid]) -> Result<()> {
        for data in self.processes().values_mut() {
            data.outbox.complete(lease, ids);
        }
        Ok(())
    }

    async fn fail_commands(&self, lease: Uuid, failures: &[FailedDelivery]) -> Result<()> {
        for data in self.processes().values_mut() {
            let dead = data.outbox.fail(lease, failures);
            data.dead.extend(dead);
        }
        Ok(())
    }

    async fn next_command_at(&self, process: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .processes()
            .get(process)
            .and_then(|data| data.outbox.next_available()))
    }

    fn subscribe_outbox(&self) -> watch::Receiver<u64> {
        self.inner.outbox_changed.subscribe()
    }

    async fn purge(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        older_than: Duration,
        limit: usize,
    ) -> Result<Purged> {
        let cutoff = self.inner.clock.now()
            - chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::MAX);
        let mut processes = self.processes();
        let Some(data) = processes.get_mut(process) else {
            return Ok(Purged::default());
        };
        let doomed: Vec<String> = data
            .instances
            .values()
            .filter(|record| {
                record.status == InstanceStatus::Completed
                    && data
                        .changed_at
                        .get(&record.id)
                        .is_some_and(|changed| *changed < cutoff)
                    && partitions.contains(&record.id)
            })
            .take(limit)
            .map(|record| record.id.clone())
            .collect();
        for id in &doomed {
            data.instances.remove(id);
            data.changed_at.remove(id);
        }
        // The ledger of delivered commands is kept as ids only, in memory.
        Ok(Purged {
            instances: doomed.len() as u64,
            delivered: 0,
        })
    }

    async fn released_items(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        instances: usize,
    ) -> Result<Vec<ReleasedItem>> {
        let processes = self.processes();
        let Some(data) = processes.get(process) else {
            return Ok(Vec::new());
        };
        let mut chosen: Vec<&str> = Vec::new();
        for row in &data.parked {
            if let (true, Some(instance)) = (row.released, row.parked.instance.as_deref()) {
                if !chosen.contains(&instance)
                    && chosen.len() < instances
                    && partitions.contains(instance)
                {
                    chosen.push(instance);
                }
            }
        }
        Ok(data
            .parked
            .iter()
            .filter(|row| match row.parked.instance.as_deref() {
                Some(instance) => chosen.contains(&instance),
                None => {
                    row.released
                        && row
                            .partition_key()
                            .is_some_and(|key| partitions.contains(key))
                }
            })
            .map(|row| ReleasedItem {
                id: row.id,
                skip: row.skip,
                parked: row.parked.clone(),
            })
            .collect())
    }

    /// The memory store has no operator tooling to tell: nothing to record.
    async fn register_process(&self, _: &Descriptor) -> Result<()> {
        Ok(())
    }
}

impl Operations for MemoryStore {
    async fn stats(&self, process: &str) -> Result<ProcessStats> {
        let processes = self.processes();
        let Some(data) = processes.get(process) else {
            return Ok(ProcessStats::default());
        };
        let count = |status| {
            data.instances
                .values()
                .filter(|record| record.status == status)
                .count() as u64
        };
        Ok(ProcessStats {
            active: count(InstanceStatus::Active),
            completed: count(InstanceStatus::Completed),
            parked: count(InstanceStatus::Parked),
            pending_commands: data.outbox.len() as u64,
            dead_letters: data.dead.len() as u64,
            pending_timeouts: data.timeouts.len() as u64,
        })
    }

    async fn parked_events(&self, process: &str) -> Result<Vec<ParkedEntry>> {
        Ok(self
            .processes()
            .get(process)
            .map(|data| {
                data.parked
                    .iter()
                    .map(|row| ParkedEntry {
                        id: row.id,
                        released: row.released,
                        parked: row.parked.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn release_instance(
        &self,
        process: &str,
        instance: &str,
        release: Release,
    ) -> Result<u64> {
        let mut processes = self.processes();
        let Some(data) = processes.get_mut(process) else {
            return Ok(0);
        };
        let mut count = 0;
        for row in &mut data.parked {
            if row.parked.instance.as_deref() == Some(instance) {
                row.released = true;
                row.skip = release == Release::SkipFailed && row.parked.error.is_some();
                count += 1;
            }
        }
        Ok(count)
    }

    async fn release_parked(&self, process: &str, ids: &[i64], release: Release) -> Result<u64> {
        let mut processes = self.processes();
        let Some(data) = processes.get_mut(process) else {
            return Ok(0);
        };
        let mut count = 0;
        for row in &mut data.parked {
            if ids.contains(&row.id) {
                row.released = true;
                row.skip = release == Release::SkipFailed && row.parked.error.is_some();
                count += 1;
            }
        }
        Ok(count)
    }

    async fn dead_letters(&self, process: &str) -> Result<Vec<DeadLetter>> {
        Ok(self
            .processes()
            .get(process)
            .map(|data| data.dead.clone())
            .unwrap_or_default())
    }
}
