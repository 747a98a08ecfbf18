//! Process state storage: the [`Store`] trait the engine commits batches to,
//! and the in-memory [`MemoryStore`].
//!
//! The store works on type-erased rows (ids as strings, state and payloads
//! as JSON) so that one backend serves every process.

mod memory;

pub use memory::{MemoryPartition, MemoryStore};

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

use crate::descriptor::Descriptor;
use crate::error::Result;
use crate::event::RecordedEvent;
use crate::log::Position;

/// The life-cycle status of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceStatus {
    /// Receives events and timeouts.
    Active,
    /// Finished: kept as a tombstone so late events cannot restart it.
    Completed,
    /// Stopped by an event that failed; later events are held until an
    /// operator acts.
    Parked,
}

/// The status in lower case, as `pm show` prints it.
impl std::fmt::Display for InstanceStatus {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        out.write_str(match self {
            InstanceStatus::Active => "active",
            InstanceStatus::Completed => "completed",
            InstanceStatus::Parked => "parked",
        })
    }
}

/// A stored instance.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRecord {
    /// The instance id, as printed by the process's id type.
    pub id: String,
    /// The state as JSON; `null` for an instance parked before it started.
    pub state: Value,
    /// Incremented by each commit that changes the instance.
    pub version: i64,
    /// The life-cycle status.
    pub status: InstanceStatus,
    /// The state schema version the state was written with.
    pub schema_version: i32,
    /// The position of the last event applied to the instance
    /// ([`Position::START`] when none was): a replayed event at or before it
    /// is not applied again.
    pub last_position: Position,
}

/// One atomic commit: everything a batch of events and timeouts produced,
/// and how far the process has read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// The process the batch belongs to.
    pub process: String,
    /// The ownership and checkpoints the batch was computed under; checked
    /// first, and the commit is refused unless every one still holds. The
    /// engine always sets it; without one the batch is written unchecked
    /// (the testing kit does that).
    pub fence: Option<Fence>,
    /// Instances created or changed.
    pub instances: Vec<InstanceWrite>,
    /// Commands for the outbox, in the order they were issued.
    pub commands: Vec<NewCommand>,
    /// The final timeout of each (instance, kind) the batch touched.
    pub timeouts: Vec<TimeoutWrite>,
    /// Events that parked an instance or were held behind a parked one.
    pub parked: Vec<ParkedEvent>,
    /// Ids of released parked items this batch applied again (they are
    /// removed; any that failed again are in `parked` anew).
    pub replayed: Vec<i64>,
}

impl Batch {
    /// Whether committing the batch would change nothing.
    pub fn is_empty(&self) -> bool {
        self.fence.is_none()
            && self.instances.is_empty()
            && self.commands.is_empty()
            && self.timeouts.is_empty()
            && self.parked.is_empty()
            && self.replayed.is_empty()
    }
}

/// What a commit must still find in the store to be written: the worker
/// owns each partition at the epoch it claimed, and each partition's
/// checkpoint is where the batch started reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Fence {
    /// The committing worker's id.
    pub worker: String,
    /// Every partition the batch read for.
    pub partitions: Vec<FencedPartition>,
}

/// One partition of a [`Fence`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FencedPartition {
    /// The partition.
    pub partition: u32,
    /// The epoch the worker claimed it at.
    pub epoch: i64,
    /// Its checkpoint when the batch was read (compare-and-set).
    pub from: Position,
    /// Its checkpoint once the batch commits.
    pub to: Position,
}

/// A worker's hold on one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionLease {
    /// The partition.
    pub partition: u32,
    /// The fencing token: +1 each time the partition is claimed.
    pub epoch: i64,
    /// The position up to which the partition has consumed its source.
    pub checkpoint: Position,
}

/// The partitions a worker owns, for the queries that take only their rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedPartitions {
    /// The process's partition count.
    pub count: u32,
    /// The partitions owned, ascending.
    pub owned: Vec<u32>,
}

impl OwnedPartitions {
    /// Every instance: one partition, owned.
    pub fn all() -> Self {
        Self {
            count: 1,
            owned: vec![0],
        }
    }

    /// Whether the instance (or stream) `id` falls in an owned partition.
    pub fn contains(&self, id: &str) -> bool {
        self.owned
            .binary_search(&crate::partition::partition_of(id, self.count))
            .is_ok()
    }
}

/// A worker process taking part in running a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    /// Unique per engine start.
    pub id: String,
    /// For operators: host and process id.
    pub name: String,
}

/// What a heartbeat learns about the workers of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The process's partition count (set when it first ran).
    pub partitions: u32,
    /// The ids of the workers whose heartbeat is within the lease, sorted.
    pub live_workers: Vec<String>,
}

/// A new or changed instance.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceWrite {
    /// The instance id.
    pub id: String,
    /// The new state.
    pub state: Value,
    /// The version the instance had when loaded (0 when new); the commit
    /// fails with [`Error::StaleInstance`](crate::Error::StaleInstance) if
    /// it changed since. The stored version becomes this plus one.
    pub expected_version: i64,
    /// The new status.
    pub status: InstanceStatus,
    /// The state schema version of `state`.
    pub schema_version: i32,
    /// The position of the last event applied to the instance.
    pub last_position: Position,
}

/// A command to record in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCommand {
    /// Deterministic id, also the idempotency key: recording it twice
    /// stores it once.
    pub id: Uuid,
    /// The instance that issued it.
    pub instance: String,
    /// Commands with the same ordering key are delivered in the order they
    /// were issued (see [`DeliveryOrder::key`](crate::DeliveryOrder::key)).
    pub ordering_key: String,
    /// The command's type name.
    pub command_type: String,
    /// The command's payload.
    pub payload: Value,
    /// When it was issued (engine clock).
    pub created_at: DateTime<Utc>,
}

/// The final state of one (instance, kind) timeout after a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeoutWrite {
    /// The instance.
    pub instance: String,
    /// The timeout kind's name.
    pub kind: String,
    /// When it is due, or `None` when it no longer exists.
    pub due_at: Option<DateTime<Utc>>,
}

/// A timeout whose time has come.
#[derive(Debug, Clone, PartialEq)]
pub struct DueTimeout {
    /// The instance.
    pub instance: String,
    /// The kind's name.
    pub kind: String,
    /// When it was due.
    pub due_at: DateTime<Utc>,
}

/// An event or timeout kept aside for a parked instance.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkedEvent {
    /// The instance, when it could be told.
    pub instance: Option<String>,
    /// What was kept aside.
    pub item: ParkedItem,
    /// Why it failed; `None` for items merely held behind a failed one.
    pub error: Option<String>,
}

/// A parked item as stored, for operators.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkedEntry {
    /// The item's id in the store.
    pub id: i64,
    /// Whether an operator released it (the engine applies it soon).
    pub released: bool,
    /// The item.
    pub parked: ParkedEvent,
}

/// How an operator releases parked items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Apply every parked item again, the failed one first.
    Retry,
    /// Drop the items that failed (without applying them) and apply the
    /// ones held behind them.
    SkipFailed,
}

/// A parked item released by an operator, waiting for the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleasedItem {
    /// The item's id in the store.
    pub id: i64,
    /// Dropped by the operator: the engine removes it without applying it
    /// (and lets its instance go on).
    pub skip: bool,
    /// The item.
    pub parked: ParkedEvent,
}

/// What a [`ParkedEvent`] holds.
#[derive(Debug, Clone, PartialEq)]
pub enum ParkedItem {
    /// An event from the log.
    Event(RecordedEvent),
    /// A timeout whose handler failed.
    Timeout {
        /// The kind's name.
        kind: String,
        /// When it was due.
        due_at: DateTime<Utc>,
    },
}

/// Parameters of one outbox claim.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Claim {
    /// Identifies this claim; acknowledgements must quote it.
    pub lease: Uuid,
    /// How long the claimed commands stay reserved.
    pub lease_for: Duration,
    /// Commands available at or before this time can be claimed.
    pub now: DateTime<Utc>,
    /// How many commands to claim at most.
    pub limit: usize,
}

/// A command claimed for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxCommand {
    /// The id, also the idempotency key.
    pub id: Uuid,
    /// The issuing instance.
    pub instance: String,
    /// The ordering key it is delivered in order with.
    pub ordering_key: String,
    /// The command's type name.
    pub command_type: String,
    /// The command's payload.
    pub payload: Value,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
}

/// A delivery attempt that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedDelivery {
    /// The command.
    pub id: Uuid,
    /// Why it failed.
    pub error: String,
    /// When to try again; `None` moves it to the dead letters.
    pub retry_at: Option<DateTime<Utc>>,
}

/// A command that will not be delivered without an operator.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The command.
    pub command: OutboxCommand,
    /// The last error.
    pub error: String,
}

/// What one purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Completed instances (tombstones) removed.
    pub instances: u64,
    /// Rows of the ledger of delivered commands removed.
    pub delivered: u64,
}

/// Counts of one process's rows, for progress reports and operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessStats {
    /// Active instances.
    pub active: u64,
    /// Completed instances (tombstones).
    pub completed: u64,
    /// Parked instances.
    pub parked: u64,
    /// Commands waiting for delivery.
    pub pending_commands: u64,
    /// Dead-lettered commands.
    pub dead_letters: u64,
    /// Pending timeouts.
    pub pending_timeouts: u64,
}

/// Where process state, the outbox, timeouts and checkpoints live: what
/// the engine calls (its process loops and dispatchers). What operators
/// call is [`Operations`].
///
/// Every method is one round trip; `commit` is one transaction.
pub trait Store: Send + Sync + 'static {
    /// Records that `worker` is alive (for `lease_for`) and returns the
    /// process's partition count and live workers. The first call for a
    /// process creates its `partitions` partitions, reading `source`; a
    /// process whose partitions read another source is an error.
    fn heartbeat(
        &self,
        process: &str,
        source: &str,
        worker: &Worker,
        partitions: u32,
        lease_for: Duration,
    ) -> impl Future<Output = Result<Membership>> + Send;

    /// Claims up to `limit` partitions that nobody owns or whose lease ran
    /// out, except those in `avoid`, for `lease_for`; each claim adds one to
    /// the partition's epoch.
    fn claim_partitions(
        &self,
        process: &str,
        worker: &str,
        limit: usize,
        avoid: &[u32],
        lease_for: Duration,
    ) -> impl Future<Output = Result<Vec<PartitionLease>>> + Send;

    /// Extends the leases of `held` (partition, epoch) that `worker` still
    /// owns at those epochs, and returns them with their stored checkpoints;
    /// the ones missing were lost.
    fn renew_partitions(
        &self,
        process: &str,
        worker: &str,
        held: &[(u32, i64)],
        lease_for: Duration,
    ) -> impl Future<Output = Result<Vec<PartitionLease>>> + Send;

    /// Gives up `held` (partition, epoch) partitions, if `worker` still owns
    /// them, so another worker may claim them at once.
    fn release_partitions(
        &self,
        process: &str,
        worker: &str,
        held: &[(u32, i64)],
    ) -> impl Future<Output = Result<()>> + Send;

    /// Removes `worker` from the live workers of `process`.
    fn leave(&self, process: &str, worker: &str) -> impl Future<Output = Result<()>> + Send;

    /// The stored instances among `ids` (missing ones are left out).
    fn load_instances(
        &self,
        process: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<InstanceRecord>>> + Send;

    /// Up to `limit` timeouts due at `now` of active instances in
    /// `partitions`, earliest first.
    fn due_timeouts(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DueTimeout>>> + Send;

    /// When the next timeout of an active instance in `partitions` is due.
    fn next_timeout_at(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>>> + Send;

    /// Commits a batch atomically: all of it or none of it. The batch's
    /// fence is checked first: if the worker lost a partition the commit
    /// fails with [`Error::PartitionLost`](crate::Error::PartitionLost), if
    /// a partition's checkpoint is not where the batch started with
    /// [`Error::CheckpointMoved`](crate::Error::CheckpointMoved).
    fn commit(&self, batch: Batch) -> impl Future<Output = Result<()>> + Send;

    /// Claims commands ready for delivery at `claim.now`, for
    /// `claim.lease_for`. Only the oldest undelivered command of each
    /// ordering key can be claimed, so commands of one key are delivered in
    /// the order they were issued (G3). Availability, retry times and these
    /// leases are all on the engine's clock (the `now` of the claims and
    /// the `retry_at` of failures); partition leases and heartbeats are on
    /// the store's own clock.
    fn claim_commands(
        &self,
        process: &str,
        claim: Claim,
    ) -> impl Future<Output = Result<Vec<OutboxCommand>>> + Send;

    /// Removes delivered commands, if `lease` still holds them.
    fn complete_commands(
        &self,
        lease: Uuid,
        ids: &[Uuid],
    ) -> impl Future<Output = Result<()>> + Send;

    /// Records failed deliveries held by `lease`, all in one call: each
    /// either becomes available again at its `retry_at`, or, without one,
    /// moves to the dead letters.
    fn fail_commands(
        &self,
        lease: Uuid,
        failures: &[FailedDelivery],
    ) -> impl Future<Output = Result<()>> + Send;

    /// When the next claimable command of `process` (the oldest of its
    /// instance) becomes available.
    fn next_command_at(
        &self,
        process: &str,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>>> + Send;

    /// A receiver whose value changes when commands may have been added.
    fn subscribe_outbox(&self) -> watch::Receiver<u64>;

    /// Removes up to `limit` completed instances of `process` in
    /// `partitions`, and up to `limit` rows of its ledger of delivered
    /// commands, that last changed more than `older_than` ago (on the
    /// store's clock). A later event for a removed instance finds no
    /// instance: a `start` event starts a new one, any other is skipped.
    fn purge(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        older_than: Duration,
        limit: usize,
    ) -> impl Future<Output = Result<Purged>> + Send;

    /// Every parked item of up to `instances` released instances in
    /// `partitions` (items held behind them since included), and released
    /// items without an instance whose stream falls in `partitions`, oldest
    /// first.
    fn released_items(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        instances: usize,
    ) -> impl Future<Output = Result<Vec<ReleasedItem>>> + Send;

    /// Records which processes run against this store, with their
    /// descriptors, for operator tooling. Called when a process loop starts.
    fn register_process(&self, descriptor: &Descriptor) -> impl Future<Output = Result<()>> + Send;
}

/// The operator's side of a store: what `pm` and the testing kit use to
/// inspect a process and release what it parked. The engine never calls
/// it.
pub trait Operations: Send + Sync + 'static {
    /// Counts of the rows of `process`.
    fn stats(&self, process: &str) -> impl Future<Output = Result<ProcessStats>> + Send;

    /// The events parked or held for `process`, oldest first.
    fn parked_events(&self, process: &str)
        -> impl Future<Output = Result<Vec<ParkedEntry>>> + Send;

    /// The dead-lettered commands of `process`, oldest first.
    fn dead_letters(&self, process: &str) -> impl Future<Output = Result<Vec<DeadLetter>>> + Send;

    /// Releases parked instance `instance`: the engine applies its parked
    /// items again, in order, before new events (with
    /// [`Release::SkipFailed`], it drops the ones that failed instead), and
    /// the instance goes on. Returns how many items were released.
    fn release_instance(
        &self,
        process: &str,
        instance: &str,
        release: Release,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Releases parked items by id, with or without an instance (an event
    /// whose instance could not be told is routed again, or dropped with
    /// [`Release::SkipFailed`]). Returns how many items were released.
    fn release_parked(
        &self,
        process: &str,
        ids: &[i64],
        release: Release,
    ) -> impl Future<Output = Result<u64>> + Send;
}
