//! One worker's share of a process's partitions: it heartbeats, claims its
//! fair share of the partitions nobody holds, renews its leases, releases
//! what it holds beyond its share, and fences every commit with the epochs
//! and checkpoints it holds.
//!
//! Fair shares are computed the same way by every worker from the sorted
//! list of live workers (the first `count % live` get one more), so they add
//! up to the partition count and no worker keeps everything (the first
//! worker takes all partitions only until others join). A worker claims only
//! unowned or expired partitions and gives up surplus between batches, after
//! the batch in flight committed; a partition it gave up is not claimed back
//! for a few rounds.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use super::EngineOptions;
use crate::error::Result;
use crate::event::RecordedEvent;
use crate::log::Position;
use crate::partition::partition_of;
use crate::store::{Fence, FencedPartition, OwnedPartitions, PartitionLease, Store, Worker};

/// How many rebalance rounds a released partition is not claimed back.
const COOLDOWN_ROUNDS: u32 = 3;

/// A partition this worker holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    epoch: i64,
    checkpoint: Position,
}

/// The partitions one worker holds for one process.
#[derive(Debug)]
pub(crate) struct Ownership {
    process: &'static str,
    source: String,
    worker: Worker,
    /// The partition count to create if the process has none yet.
    wanted: u32,
    lease_for: Duration,
    /// The process's partition count, once known.
    count: u32,
    held: BTreeMap<u32, Held>,
    released_at: HashMap<u32, Instant>,
    next_rebalance: Instant,
}

impl Ownership {
    pub(crate) fn new(process: &'static str, source: String, options: &EngineOptions) -> Self {
        Self {
            process,
            source,
            worker: new_worker(),
            wanted: options.partitions.max(1),
            lease_for: options.partition_lease,
            count: 0,
            held: BTreeMap::new(),
            released_at: HashMap::new(),
            next_rebalance: Instant::now(),
        }
    }

    /// How often to heartbeat and rebalance: three times per lease.
    fn interval(&self) -> Duration {
        (self.lease_for / 3).max(Duration::from_millis(10))
    }

    /// When the next rebalance is due.
    pub(crate) fn next_rebalance(&self) -> Instant {
        self.next_rebalance
    }

    /// Whether a rebalance is due.
    pub(crate) fn rebalance_due(&self) -> bool {
        Instant::now() >= self.next_rebalance
    }

    /// Whether this worker holds any partition.
    pub(crate) fn holds_any(&self) -> bool {
        !self.held.is_empty()
    }

    /// Heartbeats, renews, and moves towards this worker's fair share.
    pub(crate) async fn rebalance<S: Store>(&mut self, store: &S) -> Result<()> {
        self.next_rebalance = Instant::now() + self.interval();
        let membership = store
            .heartbeat(
                self.process,
                &self.source,
                &self.worker,
                self.wanted,
                self.lease_for,
            )
            .await?;
        if membership.partitions != self.count {
            if self.count != 0 {
                tracing::warn!(
                    process = self.process,
                    from = self.count,
                    to = membership.partitions,
                    "the partition count changed; giving up every partition held"
                );
                self.release(store, self.held.keys().copied().collect())
                    .await?;
            }
            self.count = membership.partitions;
        }
        self.refresh(store).await?;
        let target = fair_share(self.count, &membership.live_workers, &self.worker.id);
        let now = Instant::now();
        let cooldown = self.interval() * COOLDOWN_ROUNDS;
        self.released_at.retain(|_, at| now < *at + cooldown);
        if self.held.len() > target {
            let surplus: Vec<u32> = self
                .held
                .keys()
                .rev()
                .take(self.held.len() - target)
                .copied()
                .collect();
            tracing::info!(process = self.process, worker = %self.worker.name, partitions = ?surplus, share = target, "releasing partitions beyond this worker's share");
            self.release(store, surplus).await?;
        } else if self.held.len() < target {
            let avoid: Vec<u32> = self.released_at.keys().copied().collect();
            let claimed = store
                .claim_partitions(
                    self.process,
                    &self.worker.id,
                    target - self.held.len(),
                    &avoid,
                    self.lease_for,
                )
                .await?;
            if !claimed.is_empty() {
                let partitions: Vec<u32> = claimed.iter().map(|lease| lease.partition).collect();
                tracing::info!(process = self.process, worker = %self.worker.name, ?partitions, share = target, "claimed partitions");
            }
            self.hold(claimed);
        }
        Ok(())
    }

    /// Renews the leases held and reloads their checkpoints from the store
    /// (after a commit that failed or whose outcome is unknown); drops the
    /// partitions lost.
    pub(crate) async fn refresh<S: Store>(&mut self, store: &S) -> Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = self.epochs();
        let renewed = store
            .renew_partitions(self.process, &self.worker.id, &held, self.lease_for)
            .await?;
        let before = self.held.len();
        self.held.clear();
        self.hold(renewed);
        let lost = before - self.held.len();
        if lost > 0 {
            let kept: Vec<u32> = self.held.keys().copied().collect();
            tracing::warn!(process = self.process, worker = %self.worker.name, lost, ?kept, "partitions lost to another worker; their work is dropped");
        }
        Ok(())
    }

    /// Gives up every partition and leaves (on shutdown).
    pub(crate) async fn leave<S: Store>(&mut self, store: &S) -> Result<()> {
        let all = self.held.keys().copied().collect();
        self.release(store, all).await?;
        store.leave(self.process, &self.worker.id).await
    }

    /// The partitions held, for queries of timeouts and released items.
    pub(crate) fn partitions(&self) -> OwnedPartitions {
        OwnedPartitions {
            count: self.count,
            owned: self.held.keys().copied().collect(),
        }
    }

    /// Where to read from: the lowest checkpoint held.
    pub(crate) fn read_from(&self) -> Position {
        self.held
            .values()
            .map(|held| held.checkpoint)
            .min()
            .unwrap_or_default()
    }

    /// Whether any partition held has not read up to `end`.
    pub(crate) fn is_behind(&self, end: Position) -> bool {
        self.held.values().any(|held| held.checkpoint < end)
    }

    /// Whether the event belongs to a partition held that has not consumed
    /// it yet. `key` is the event's instance id (its stream id when it has
    /// no instance).
    pub(crate) fn takes(&self, key: &str, event: &RecordedEvent) -> bool {
        self.held
            .get(&partition_of(key, self.count))
            .is_some_and(|held| event.position > held.checkpoint)
    }

    /// The fence of a batch read up to `end`: every partition held, from
    /// its checkpoint to `end` (or where it already is, if further).
    pub(crate) fn fence(&self, end: Position) -> Fence {
        Fence {
            worker: self.worker.id.clone(),
            partitions: self
                .held
                .iter()
                .map(|(&partition, held)| FencedPartition {
                    partition,
                    epoch: held.epoch,
                    from: held.checkpoint,
                    to: held.checkpoint.max(end),
                })
                .collect(),
        }
    }

    /// Records a committed fence.
    pub(crate) fn advance(&mut self, fence: &Fence) {
        for fenced in &fence.partitions {
            if let Some(held) = self.held.get_mut(&fenced.partition) {
                held.checkpoint = fenced.to;
            }
        }
    }

    fn epochs(&self) -> Vec<(u32, i64)> {
        self.held
            .iter()
            .map(|(&partition, held)| (partition, held.epoch))
            .collect()
    }

    fn hold(&mut self, leases: Vec<PartitionLease>) {
        for lease in leases {
            self.held.insert(
                lease.partition,
                Held {
                    epoch: lease.epoch,
                    checkpoint: lease.checkpoint,
                },
            );
        }
    }

    async fn release<S: Store>(&mut self, store: &S, partitions: Vec<u32>) -> Result<()> {
        let held: Vec<(u32, i64)> = partitions
            .iter()
            .filter_map(|partition| Some((*partition, self.held.get(partition)?.epoch)))
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        // Forget them first: whatever the store answers, this worker no
        // longer writes them (its fence would be refused anyway).
        let now = Instant::now();
        for partition in &partitions {
            self.held.remove(partition);
            self.released_at.insert(*partition, now);
        }
        store
            .release_partitions(self.process, &self.worker.id, &held)
            .await
    }
}

/// This worker's fair share of `count` partitions among the `live` workers
/// (sorted ids): `count / live`, plus one for the first `count % live`.
fn fair_share(count: u32, live: &[String], me: &str) -> usize {
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let rank = live.iter().position(|id| id == me);
    let workers = live.len() + usize::from(rank.is_none());
    let rank = rank.unwrap_or(live.len());
    count / workers + usize::from(rank < count % workers)
}

/// A worker id, unique per engine start, and a name for operators.
fn new_worker() -> Worker {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    Worker {
        id: uuid::Uuid::new_v4().to_string(),
        name: format!("{host}:{}", std::process::id()),
    }
}

#[cfg(test)]
mod tests {
    use super::fair_share;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn fair_shares_add_up_to_the_partition_count() {
        let live = ids(&["a", "b", "c"]);
        let shares: Vec<usize> = live.iter().map(|id| fair_share(16, &live, id)).collect();
        assert_eq!(shares, [6, 5, 5]);
        assert_eq!(fair_share(16, &ids(&["a"]), "a"), 16);
        assert_eq!(fair_share(2, &live, "c"), 0);
    }

    #[test]
    fn a_worker_missing_from_the_list_counts_itself_last() {
        assert_eq!(fair_share(16, &ids(&["a"]), "z"), 8);
    }
}
