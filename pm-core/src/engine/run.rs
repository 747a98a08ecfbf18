//! The process loop: hold a share of the partitions, read a batch, load its
//! instances, apply, commit under the partitions' fence.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use tracing::Instrument;

use super::batch::{Applied, BatchInput};
use super::ownership::Ownership;
use super::retention::Retention;
use super::sweeps::Sweeps;
use super::{apply_batch, error_backoff, pause_unless_shutdown, ProcessMetrics, Shared};
use crate::error::{Error, ErrorChain, Result};
use crate::event::RecordedEvent;
use crate::log::{EventSource, Position, ReadBatch};
use crate::process::{ProcessManager, Routed};
use crate::store::{Batch, DueTimeout, OwnedPartitions, Store};

/// How many released instances one batch replays at most.
const RELEASED_INSTANCES_PER_BATCH: usize = 100;

/// How soon to read again when events exist that an open transaction still
/// holds back.
const HELD_BACK_RETRY: Duration = Duration::from_millis(20);

/// What one round of the loop found.
enum Round {
    /// A batch was committed.
    Worked,
    /// Nothing to do; `held_back`: newer events are not readable yet.
    Idle { held_back: bool },
}

/// A batch read ahead while the previous one committed, and where it was
/// read from.
struct Prefetched {
    after: Position,
    read: ReadBatch,
}

impl Prefetched {
    /// The batch, if it was read from `after`: where the partitions held
    /// start reading now. Claiming a partition that is further behind moves
    /// that back, and a batch read from further on would skip its events.
    fn if_read_from(self, after: Position) -> Option<ReadBatch> {
        (self.after == after).then_some(self.read)
    }
}

/// Runs process `P` until shutdown. Store and log errors are logged and
/// retried with backoff; they never end the loop.
pub(crate) async fn run_process<P, S, L>(
    shared: Shared<S, L>,
    metrics: Arc<ProcessMetrics>,
) -> Result<()>
where
    P: ProcessManager,
    S: Store,
    L: EventSource,
{
    let mut shutdown = shared.shutdown.clone();
    let families: Vec<&'static str> = P::descriptor()
        .subscriptions
        .iter()
        .map(|subscription| subscription.family)
        .collect();
    let source = shared.log.source_name().to_owned();
    if let Err(error) = shared.store.register_process(P::descriptor()).await {
        tracing::warn!(process = P::NAME, error = %ErrorChain(&error), "registering the process for tooling failed");
    }
    let mut ownership = Ownership::new(P::NAME, source.clone(), &shared.options);
    let mut retention = Retention::new(shared.options.retention);
    let mut sweeps = Sweeps::new(shared.options.poll_interval);
    let mut appended = shared.log.subscribe();
    let mut prefetched = None;
    // After a commit that failed, or whose outcome is unknown, the
    // checkpoints held are reloaded before anything is read again.
    let mut must_reload = false;
    let mut failures = 0u32;
    while !*shutdown.borrow() {
        if ownership.rebalance_due() || must_reload {
            let step = if ownership.rebalance_due() {
                ownership.rebalance(&*shared.store).await
            } else {
                ownership.refresh(&*shared.store).await
            };
            match step {
                Ok(()) => {
                    metrics.record_partitions(ownership.partitions().owned.len());
                    // The partitions held may have changed, and with them
                    // their timeouts and released items. (A batch read
                    // ahead is used only if read from where the partitions
                    // now start.)
                    sweeps.forget();
                    must_reload = false;
                }
                Err(error) => {
                    failures += 1;
                    tracing::error!(process = P::NAME, error = %ErrorChain(&error), "holding partitions failed; retrying");
                    let delay = error_backoff(failures, shared.options.max_error_backoff);
                    if pause_unless_shutdown(&mut shutdown, delay).await {
                        break;
                    }
                    continue;
                }
            }
        }
        // With no partition held there is nothing to read: wait as idle.
        let round = if ownership.holds_any() {
            retention
                .run_if_due(&*shared.store, P::NAME, &ownership.partitions())
                .await;
            appended.borrow_and_update();
            run_round::<P, S, L>(
                &shared,
                &metrics,
                &families,
                &mut ownership,
                &mut sweeps,
                &mut prefetched,
            )
            .await
        } else {
            Ok(Round::Idle { held_back: false })
        };
        match round {
            Ok(Round::Worked) => failures = 0,
            Ok(Round::Idle { held_back }) => {
                failures = 0;
                if held_back {
                    // Their wake-up was sent already; look again shortly.
                    pause_unless_shutdown(&mut shutdown, HELD_BACK_RETRY).await;
                } else {
                    wait_for_work::<P, S, L>(
                        &shared,
                        &ownership,
                        &mut sweeps,
                        &mut shutdown,
                        &mut appended,
                    )
                    .await;
                }
            }
            Err(error) => {
                must_reload = true;
                prefetched = None;
                failures += 1;
                if is_refused(&error) {
                    // Nothing was written; try again at once after reloading,
                    // backing off only if refusals repeat.
                    tracing::warn!(process = P::NAME, error = %ErrorChain(&error), "commit refused; reloading the partitions' checkpoints");
                } else {
                    tracing::error!(process = P::NAME, error = %ErrorChain(&error), "batch failed; reloading the checkpoints and retrying");
                }
                if failures > 1 || !is_refused(&error) {
                    let delay = error_backoff(failures, shared.options.max_error_backoff);
                    if pause_unless_shutdown(&mut shutdown, delay).await {
                        break;
                    }
                }
            }
        }
    }
    if let Err(error) = ownership.leave(&*shared.store).await {
        tracing::warn!(process = P::NAME, error = %ErrorChain(&error), "giving up the partitions on shutdown failed; they are free once their lease runs out");
    }
    Ok(())
}

/// Whether a commit was refused by a check (nothing written, nothing
/// wrong with the store): retried at once, after reloading.
fn is_refused(error: &Error) -> bool {
    matches!(
        error,
        Error::StaleInstance { .. } | Error::CheckpointMoved { .. } | Error::PartitionLost { .. }
    )
}

async fn run_round<P, S, L>(
    shared: &Shared<S, L>,
    metrics: &ProcessMetrics,
    families: &[&'static str],
    ownership: &mut Ownership,
    sweeps: &mut Sweeps,
    prefetched: &mut Option<Prefetched>,
) -> Result<Round>
where
    P: ProcessManager,
    S: Store,
    L: EventSource,
{
    let now = shared.clock.now();
    let started = std::time::Instant::now();
    let limit = shared.options.batch_size;
    let after = ownership.read_from();
    let read = match prefetched
        .take()
        .and_then(|ahead| ahead.if_read_from(after))
    {
        Some(read) => read,
        None => shared.log.read(after, families, limit).await?,
    };
    let partitions = ownership.partitions();
    let due = due_timeouts::<P, S, L>(shared, &partitions, sweeps, now, limit).await?;
    let released = if sweeps.release_check_due() {
        let released = shared
            .store
            .released_items(P::NAME, &partitions, RELEASED_INSTANCES_PER_BATCH)
            .await?;
        sweeps.release_checked(!released.is_empty());
        released
    } else {
        Vec::new()
    };
    let full = read.events.len() >= limit;
    metrics.record_read(read.events.len());
    let routed: Vec<(RecordedEvent, Routed<P>)> = read
        .events
        .into_iter()
        .filter_map(|event| {
            let routed = P::route(&event);
            let taken = ownership.takes(&partition_key_of(&event, &routed), &event);
            taken.then_some((event, routed))
        })
        .collect();
    if routed.is_empty() && due.is_empty() && released.is_empty() {
        if ownership.is_behind(read.end) {
            // Events of other families or partitions were passed over:
            // record that once, when going idle, not once per batch.
            let fence = ownership.fence(read.end);
            let batch = Batch {
                process: P::NAME.to_owned(),
                fence: Some(fence.clone()),
                ..Batch::default()
            };
            shared.store.commit(batch).await?;
            ownership.advance(&fence);
        }
        if full {
            return Ok(Round::Worked);
        }
        return Ok(Round::Idle {
            held_back: read.held_back,
        });
    }
    let input = BatchInput {
        released,
        events: routed,
        due,
    };
    let newest = input.events.last().map(|(event, _)| event.recorded_at);
    let span = tracing::info_span!(
        "pm.batch",
        "messaging.system" = "pm",
        "messaging.operation.type" = "process",
        "messaging.operation.name" = "batch",
        "messaging.batch.message_count" = input.events.len(),
        "pm.process" = P::NAME,
        "pm.partitions" = partitions.owned.len(),
        "pm.instances" = tracing::field::Empty,
        "pm.timeouts" = input.due.len(),
        "pm.commands" = tracing::field::Empty,
    );
    let mut applied = load_and_apply::<P, S>(&*shared.store, shared.log.source_name(), now, input)
        .instrument(span.clone())
        .await?;
    span.record("pm.commands", applied.batch.commands.len());
    let fence = ownership.fence(read.end);
    applied.batch.fence = Some(fence.clone());
    let commands = applied.batch.commands.len();
    let earliest_scheduled = applied
        .batch
        .timeouts
        .iter()
        .filter_map(|timeout| timeout.due_at)
        .min();
    let commit = shared.store.commit(applied.batch).instrument(span);
    if full {
        // More is waiting: read the next batch while this one commits.
        let next = shared.log.read(read.end, families, limit);
        let (committed, next) = tokio::join!(commit, next);
        committed?;
        *prefetched = next.ok().map(|read_ahead| Prefetched {
            after: read.end,
            read: read_ahead,
        });
    } else {
        commit.await?;
    }
    ownership.advance(&fence);
    if let Some(at) = earliest_scheduled {
        sweeps.timeout_scheduled(at);
    }
    metrics.record_batch(applied.counts, commands, started.elapsed());
    if let Some(recorded_at) = newest {
        let lag = chrono::Utc::now() - recorded_at;
        metrics.record_lag(lag.num_milliseconds() as f64 / 1000.0);
    }
    Ok(Round::Worked)
}

/// The timeouts due at `now`, asking the store only when one may be.
async fn due_timeouts<P, S, L>(
    shared: &Shared<S, L>,
    partitions: &OwnedPartitions,
    sweeps: &mut Sweeps,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<DueTimeout>>
where
    P: ProcessManager,
    S: Store,
    L: EventSource,
{
    if sweeps.timeouts_unknown() {
        let earliest = shared.store.next_timeout_at(P::NAME, partitions).await?;
        sweeps.timeouts_found(earliest);
    }
    if !sweeps.timeouts_may_be_due(now) {
        return Ok(Vec::new());
    }
    let due = shared
        .store
        .due_timeouts(P::NAME, partitions, now, limit)
        .await?;
    sweeps.timeouts_taken();
    Ok(due)
}

/// The id that places an event in a partition: its instance's, or its
/// stream's when it has no instance.
fn partition_key_of<P: ProcessManager>(event: &RecordedEvent, routed: &Routed<P>) -> String {
    match routed {
        Routed::Deliver { id, .. } | Routed::Undecodable { id: Some(id), .. } => id.to_string(),
        _ => event.stream_id.clone(),
    }
}

/// The heart of a round, which the testing kit's `Scenario` runs too: loads
/// the instances `input` touches and applies `input` to them. Records how
/// many it loaded on the current span (the engine's `pm.batch`).
pub(crate) async fn load_and_apply<P: ProcessManager, S: Store>(
    store: &S,
    source: &str,
    now: DateTime<Utc>,
    input: BatchInput<P>,
) -> Result<Applied<P>> {
    let ids = instances_to_load(&input);
    tracing::Span::current().record("pm.instances", ids.len());
    let loaded = store.load_instances(P::NAME, &ids).await?;
    Ok(apply_batch::<P>(source, now, input, loaded))
}

/// The distinct instances a batch touches, in first-seen order: those its
/// events name, then those of its due timeouts and released items.
fn instances_to_load<P: ProcessManager>(input: &BatchInput<P>) -> Vec<String> {
    let mut seen = HashSet::new();
    let from_events = input.events.iter().filter_map(|(_, routed)| match routed {
        Routed::Deliver { id, .. } | Routed::Undecodable { id: Some(id), .. } => {
            Some(id.to_string())
        }
        _ => None,
    });
    let from_timeouts = input.due.iter().map(|timeout| timeout.instance.clone());
    let from_released = input
        .released
        .iter()
        .filter_map(|item| item.parked.instance.clone());
    from_events
        .chain(from_timeouts)
        .chain(from_released)
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// Sleeps until the log has news, the next timeout is due, the next
/// rebalance is due, the poll interval passes, or shutdown is requested.
async fn wait_for_work<P, S, L>(
    shared: &Shared<S, L>,
    ownership: &Ownership,
    sweeps: &mut Sweeps,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
    appended: &mut tokio::sync::watch::Receiver<u64>,
) where
    P: ProcessManager,
    S: Store,
    L: EventSource,
{
    let next_due = if ownership.holds_any() {
        let partitions = ownership.partitions();
        match shared.store.next_timeout_at(P::NAME, &partitions).await {
            Ok(next_due) => {
                sweeps.timeouts_found(next_due);
                next_due
            }
            Err(error) => {
                tracing::warn!(process = P::NAME, error = %ErrorChain(&error), "reading the next timeout failed");
                None
            }
        }
    } else {
        None
    };
    super::idle(
        shared,
        shutdown,
        appended,
        next_due,
        Some(ownership.next_rebalance()),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(sequence: i64) -> Position {
        Position {
            transaction: sequence,
            sequence,
        }
    }

    #[test]
    fn a_batch_read_ahead_is_used_only_from_where_it_was_read() {
        let ahead = || Prefetched {
            after: at(10),
            read: ReadBatch {
                events: Vec::new(),
                end: at(20),
                held_back: false,
            },
        };
        assert_eq!(
            ahead().if_read_from(at(10)).map(|read| read.end),
            Some(at(20))
        );
        assert!(
            ahead().if_read_from(at(4)).is_none(),
            "a claim moved the start back"
        );
        assert!(ahead().if_read_from(at(12)).is_none());
    }
}
