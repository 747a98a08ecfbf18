//! [`FaultyStore`]: any store, with the faults of a bad day on cue: commits
//! whose reply is lost after they landed, commits held back before they
//! reach the store (a worker paused mid-batch), commits refused as if
//! another writer had moved an instance, acknowledgements of delivered
//! commands held back (a slow database), and claims of commands that fail
//! (the database unreachable).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use crate::descriptor::Descriptor;
use crate::error::{Error, Result};
use crate::store::{
    Batch, Claim, DeadLetter, DueTimeout, FailedDelivery, InstanceRecord, Membership, Operations,
    OutboxCommand, OwnedPartitions, ParkedEntry, PartitionLease, ProcessStats, Purged, Release,
    ReleasedItem, Store, Worker,
};

/// Wraps a store and injects faults into its commits, acknowledgements and
/// claims; every other call passes through. Cloning shares the store and the faults.
///
/// ```
/// # use pm_core::testing::FaultyStore;
/// # use pm_core::MemoryStore;
/// let store = FaultyStore::new(MemoryStore::new());
/// // The next commit lands, but the engine hears it failed.
/// store.lose_commit_replies(1);
/// ```
#[derive(Debug, Clone)]
pub struct FaultyStore<S> {
    inner: S,
    faults: Arc<Faults>,
}

#[derive(Debug, Default)]
struct Faults {
    replies_to_lose: AtomicU32,
    replies_lost: AtomicU32,
    claims_to_fail: AtomicU32,
    commits_to_refuse: AtomicU32,
    commit_gate: Gate,
    ack_gate: Gate,
    commits: AtomicUsize,
    refusals: AtomicUsize,
    loads: AtomicUsize,
    heartbeats: AtomicUsize,
}

impl<S: Store> FaultyStore<S> {
    /// `inner`, without faults until asked.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            faults: Arc::default(),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The next `count` commits land in the store, then fail as if the
    /// connection broke before the reply arrived.
    pub fn lose_commit_replies(&self, count: u32) {
        self.faults
            .replies_to_lose
            .fetch_add(count, Ordering::SeqCst);
    }

    /// The next `count` claims of commands fail without reaching the
    /// store, as if the database were unreachable.
    pub fn fail_claims(&self, count: u32) {
        self.faults
            .claims_to_fail
            .fetch_add(count, Ordering::SeqCst);
    }

    /// The next `count` commits are refused without reaching the store, as
    /// if another writer had moved the batch's first instance since it was
    /// loaded ([`Error::StaleInstance`]).
    pub fn refuse_commits(&self, count: u32) {
        self.faults
            .commits_to_refuse
            .fetch_add(count, Ordering::SeqCst);
    }

    /// How many commit replies were lost so far.
    pub fn replies_lost(&self) -> u32 {
        self.faults.replies_lost.load(Ordering::SeqCst)
    }

    /// From now on, commits wait before they reach the store until
    /// [`release_commits`](Self::release_commits).
    pub fn hold_commits(&self) {
        self.faults.commit_gate.close();
    }

    /// How many commits wait now.
    pub fn commits_held(&self) -> usize {
        self.faults.commit_gate.waiting()
    }

    /// Lets held commits (and later ones) through.
    pub fn release_commits(&self) {
        self.faults.commit_gate.open();
    }

    /// From now on, acknowledgements of delivered commands wait before they
    /// reach the store until [`release_acks`](Self::release_acks).
    pub fn hold_acks(&self) {
        self.faults.ack_gate.close();
    }

    /// How many acknowledgements wait now.
    pub fn acks_held(&self) -> usize {
        self.faults.ack_gate.waiting()
    }

    /// Lets held acknowledgements (and later ones) through.
    pub fn release_acks(&self) {
        self.faults.ack_gate.open();
    }

    /// How many commits reached the store.
    pub fn commits(&self) -> usize {
        self.faults.commits.load(Ordering::SeqCst)
    }

    /// How many commits were refused (by the store: a lost partition, a
    /// moved checkpoint or a stale instance; or on cue): nothing of them
    /// landed.
    pub fn refusals(&self) -> usize {
        self.faults.refusals.load(Ordering::SeqCst)
    }

    /// How many times instances were loaded.
    pub fn loads(&self) -> usize {
        self.faults.loads.load(Ordering::SeqCst)
    }

    /// How many times workers heartbeated (once per rebalance).
    pub fn heartbeats(&self) -> usize {
        self.faults.heartbeats.load(Ordering::SeqCst)
    }
}

/// Where calls wait while it is closed.
#[derive(Debug, Default)]
struct Gate {
    closed: AtomicBool,
    waiting: AtomicUsize,
    opened: Notify,
}

impl Gate {
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    fn open(&self) {
        self.closed.store(false, Ordering::SeqCst);
        self.opened.notify_waiters();
    }

    fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    async fn pass(&self) {
        if !self.closed.load(Ordering::SeqCst) {
            return;
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        while self.closed.load(Ordering::SeqCst) {
            let opened = self.opened.notified();
            if !self.closed.load(Ordering::SeqCst) {
                break;
            }
            opened.await;
        }
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Takes one fault of those still to inject, if any is left.
fn take_one(left: &AtomicU32) -> bool {
    left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
        left.checked_sub(1)
    })
    .is_ok()
}

impl<S: Store> Store for FaultyStore<S> {
    async fn heartbeat(
        &self,
        process: &str,
        source: &str,
        worker: &Worker,
        partitions: u32,
        lease_for: Duration,
    ) -> Result<Membership> {
        self.faults.heartbeats.fetch_add(1, Ordering::SeqCst);
        self.inner
            .heartbeat(process, source, worker, partitions, lease_for)
            .await
    }

    async fn claim_partitions(
        &self,
        process: &str,
        worker: &str,
        limit: usize,
        avoid: &[u32],
        lease_for: Duration,
    ) -> Result<Vec<PartitionLease>> {
        self.inner
            .claim_partitions(process, worker, limit, avoid, lease_for)
            .await
    }

    async fn renew_partitions(
        &self,
        process: &str,
        worker: &str,
        held: &[(u32, i64)],
        lease_for: Duration,
    ) -> Result<Vec<PartitionLease>> {
        self.inner
            .renew_partitions(process, worker, held, lease_for)
            .await
    }

    async fn release_partitions(
        &self,
        process: &str,
        worker: &str,
        held: &[(u32, i64)],
    ) -> Result<()> {
        self.inner.release_partitions(process, worker, held).await
    }

    async fn leave(&self, process: &str, worker: &str) -> Result<()> {
        self.inner.leave(process, worker).await
    }

    async fn load_instances(&self, process: &str, ids: &[String]) -> Result<Vec<InstanceRecord>> {
        self.faults.loads.fetch_add(1, Ordering::SeqCst);
        self.inner.load_instances(process, ids).await
    }

    async fn due_timeouts(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DueTimeout>> {
        self.inner
            .due_timeouts(process, partitions, now, limit)
            .await
    }

    async fn next_timeout_at(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
    ) -> Result<Option<DateTime<Utc>>> {
        self.inner.next_timeout_at(process, partitions).await
    }

    async fn commit(&self, batch: Batch) -> Result<()> {
        self.faults.commit_gate.pass().await;
        if take_one(&self.faults.commits_to_refuse) {
            self.faults.refusals.fetch_add(1, Ordering::SeqCst);
            let first = batch.instances.first();
            return Err(Error::StaleInstance {
                process: batch.process,
                instance: first.map(|write| write.id.clone()).unwrap_or_default(),
                expected: first.map_or(0, |write| write.expected_version),
            });
        }
        self.faults.commits.fetch_add(1, Ordering::SeqCst);
        if let Err(error) = self.inner.commit(batch).await {
            if matches!(
                error,
                Error::PartitionLost { .. }
                    | Error::CheckpointMoved { .. }
                    | Error::StaleInstance { .. }
            ) {
                self.faults.refusals.fetch_add(1, Ordering::SeqCst);
            }
            return Err(error);
        }
        if take_one(&self.faults.replies_to_lose) {
            self.faults.replies_lost.fetch_add(1, Ordering::SeqCst);
            return Err(Error::backend(
                "commit of a batch failed",
                "the connection broke before the reply arrived (injected)",
            ));
        }
        Ok(())
    }

    async fn claim_commands(&self, process: &str, claim: Claim) -> Result<Vec<OutboxCommand>> {
        if take_one(&self.faults.claims_to_fail) {
            return Err(Error::backend(
                "claiming commands failed",
                "the database is unreachable (injected)",
            ));
        }
        self.inner.claim_commands(process, claim).await
    }

    async fn complete_commands(&self, lease: Uuid, ids: &[Uuid]) -> Result<()> {
        self.faults.ack_gate.pass().await;
        self.inner.complete_commands(lease, ids).await
    }

    async fn fail_commands(&self, lease: Uuid, failures: &[FailedDelivery]) -> Result<()> {
        self.inner.fail_commands(lease, failures).await
    }

    async fn next_command_at(&self, process: &str) -> Result<Option<DateTime<Utc>>> {
        self.inner.next_command_at(process).await
    }

    fn subscribe_outbox(&self) -> watch::Receiver<u64> {
        self.inner.subscribe_outbox()
    }

    async fn purge(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        older_than: Duration,
        limit: usize,
    ) -> Result<Purged> {
        self.inner
            .purge(process, partitions, older_than, limit)
            .await
    }

    async fn released_items(
        &self,
        process: &str,
        partitions: &OwnedPartitions,
        instances: usize,
    ) -> Result<Vec<ReleasedItem>> {
        self.inner
            .released_items(process, partitions, instances)
            .await
    }

    async fn register_process(&self, descriptor: &Descriptor) -> Result<()> {
        self.inner.register_process(descriptor).await
    }
}

impl<S: Store + Operations> Operations for FaultyStore<S> {
    async fn stats(&self, process: &str) -> Result<ProcessStats> {
        self.inner.stats(process).await
    }

    async fn parked_events(&self, process: &str) -> Result<Vec<ParkedEntry>> {
        self.inner.parked_events(process).await
    }

    async fn dead_letters(&self, process: &str) -> Result<Vec<DeadLetter>> {
        self.inner.dead_letters(process).await
    }

    async fn release_instance(
        &self,
        process: &str,
        instance: &str,
        release: Release,
    ) -> Result<u64> {
        self.inner
            .release_instance(process, instance, release)
            .await
    }

    async fn release_parked(&self, process: &str, ids: &[i64], release: Release) -> Result<u64> {
        self.inner.release_parked(process, ids, release).await
    }
}
