//! The contract between the engine and a storage backend, for those who
//! write one (`pm-postgres` is one) or test one: the [`Store`] and
//! [`EventSource`] traits, the rows they exchange with the engine, how
//! instances map to partitions, and the [`conformance`] suite every
//! backend must pass. Process authors and engine users need none of it.
//!
//! # Clocks
//!
//! Every time the engine passes in (`now` of a claim, due times of
//! timeouts, retry times, `created_at` of commands) is read from the
//! engine's [`Clock`](crate::Clock), so a [`ManualClock`](crate::ManualClock)
//! drives them in tests; a store compares stored times with these, never
//! with its own clock. Two things are on the store's own clock (the
//! database clock in Postgres): partition leases and heartbeats, which
//! guard against workers whose clocks disagree, and the age at which
//! retention purges completed instances and delivered commands
//! ([`Store::purge`]), which the store measures against the times it
//! stamped on those rows itself.
//!
//! # Audiences
//!
//! [`Store`] is what the engine calls: its process loops and dispatchers.
//! [`Operations`] is what operators call (`pm`, the testing kit): counts,
//! parked events, dead letters, releasing what was parked. A backend
//! implements both.

pub mod conformance;

pub use crate::log::{EventSource, ReadBatch};
pub use crate::partition::{partition_key, partition_of};
pub use crate::store::{
    Batch, Claim, DeadLetter, DueTimeout, FailedDelivery, Fence, FencedPartition, InstanceRecord,
    InstanceWrite, Membership, MemoryPartition, NewCommand, Operations, OutboxCommand,
    OwnedPartitions, ParkedEntry, ParkedEvent, ParkedItem, PartitionLease, ProcessStats, Purged,
    Release, ReleasedItem, Store, TimeoutWrite, Worker,
};
