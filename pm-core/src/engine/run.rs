//! The process loop: read a batch, load its instances, apply, commit.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::batch::BatchInput;
use super::{apply_batch, error_backoff, pause_unless_shutdown, ProcessMetrics, Shared};
use crate::error::{Error, Result};
use crate::event::RecordedEvent;
use crate::log::{EventSource, Position, ReadBatch};
use crate::process::{ProcessManager, Routed};
use crate::store::{Batch, Checkpoint, Store};

/// How many released instances one batch replays at most.
const RELEASED_INSTANCES_PER_BATCH: usize = 100;

/// How soon to read again when events exist that an open transaction still
/// holds back.
const HELD_BACK_RETRY: Duration = Duration::from_millis(20);

/// What one round of the loop found.
enum Round {
    /// A batch was committed; the log was read up to `end`.
    Worked { end: Position },
    /// Nothing to do; the log was read up to `end` (past events of other
    /// families, perhaps). `held_back`: newer events are not readable yet.
    Idle { end: Position, held_back: bool },
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
        tracing::warn!(process = P::NAME, %error, "registering the process for tooling failed");
    }
    let mut failures = 0u32;
    let mut checkpoint = loop {
        match shared.store.load_checkpoint(P::NAME, &source).await {
            Ok(checkpoint) => break checkpoint.unwrap_or_default(),
            Err(error) => {
                failures += 1;
                tracing::error!(process = P::NAME, %error, "loading the checkpoint failed; retrying");
                let delay = error_backoff(failures, shared.options.max_error_backoff);
                if pause_unless_shutdown(&mut shutdown, delay).await {
                    return Ok(());
                }
            }
        }
    };
    let mut persisted = checkpoint;
    let mut appended = shared.log.subscribe();
    let mut prefetched = None;
    while !*shutdown.borrow() {
        appended.borrow_and_update();
        let round = run_round::<P, S, L>(
            &shared,
            &metrics,
            &families,
            &source,
            checkpoint,
            &mut prefetched,
        );
        match round.await {
            Ok(Round::Worked { end }) => {
                failures = 0;
                checkpoint = end;
                persisted = end;
            }
            Ok(Round::Idle { end, held_back }) => {
                failures = 0;
                checkpoint = end;
                if end != persisted {
                    // Events of other families were passed over: record that
                    // once, when going idle, rather than once per batch.
                    let batch = checkpoint_only::<P>(&source, end);
                    match shared.store.commit(batch).await {
                        Ok(()) => persisted = end,
                        Err(error) => {
                            tracing::warn!(process = P::NAME, %error, "saving the checkpoint failed")
                        }
                    }
                }
                if held_back {
                    // Their wake-up was sent already; look again shortly.
                    pause_unless_shutdown(&mut shutdown, HELD_BACK_RETRY).await;
                } else {
                    wait_for_work::<P, S, L>(&shared, &mut shutdown, &mut appended).await;
                }
            }
            Err(Error::StaleInstance { instance, .. }) => {
                tracing::warn!(process = P::NAME, %instance, "instance changed concurrently; reloading the batch");
            }
            Err(error) => {
                failures += 1;
                tracing::error!(process = P::NAME, %error, "batch failed; retrying");
                let delay = error_backoff(failures, shared.options.max_error_backoff);
                if pause_unless_shutdown(&mut shutdown, delay).await {
                    break;
                }
            }
        }
    }
    Ok(())
}

async fn run_round<P, S, L>(
    shared: &Shared<S, L>,
    metrics: &ProcessMetrics,
    families: &[&'static str],
    source: &str,
    checkpoint: Position,
    prefetched: &mut Option<ReadBatch>,
) -> Result<Round>
where
    P: ProcessManager,
    S: Store,
    L: EventSource,
{
    let now = shared.clock.now();
    let limit = shared.options.batch_size;
    let read = match prefetched.take() {
        Some(read) => read,
        None => shared.log.read(checkpoint, families, limit).await?,
    };
    let due = shared.store.due_timeouts(P::NAME, now, limit).await?;
    let released = shared
        .store
        .released_items(P::NAME, RELEASED_INSTANCES_PER_BATCH)
        .await?;
    if read.events.is_empty() && due.is_empty() && released.is_empty() {
        return Ok(Round::Idle {
            end: read.end,
            held_back: read.held_back,
        });
    }
    let full = read.events.len() >= limit;
    let routed: Vec<(RecordedEvent, Routed<P>)> = read
        .events
        .into_iter()
        .map(|event| {
            let routed = P::route(&event);
            (event, routed)
        })
        .collect();
    let others = due.iter().map(|timeout| timeout.instance.as_str()).chain(
        released
            .iter()
            .filter_map(|item| item.parked.instance.as_deref()),
    );
    let ids = instances_to_load(&routed, others);
    let loaded = shared.store.load_instances(P::NAME, &ids).await?;
    let input = BatchInput {
        released,
        events: routed,
        due,
    };
    let mut applied = apply_batch::<P>(source, now, input, loaded);
    if read.end > checkpoint {
        applied.batch.checkpoint = Some(Checkpoint {
            source: source.to_owned(),
            position: read.end,
        });
    }
    let commands = applied.batch.commands.len();
    let commit = shared.store.commit(applied.batch);
    if full {
        // More is waiting: read the next batch while this one commits.
        let next = shared.log.read(read.end, families, limit);
        let (committed, next) = tokio::join!(commit, next);
        committed?;
        *prefetched = next.ok();
    } else {
        commit.await?;
    }
    metrics.record_batch(applied.counts, commands);
    Ok(Round::Worked { end: read.end })
}

/// The distinct instances a batch touches, in first-seen order.
pub(crate) fn instances_to_load<'a, P: ProcessManager>(
    routed: &[(RecordedEvent, Routed<P>)],
    timeouts: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let mut seen = HashSet::new();
    let from_events = routed.iter().filter_map(|(_, routed)| match routed {
        Routed::Deliver { id, .. } | Routed::Undecodable { id: Some(id), .. } => {
            Some(id.to_string())
        }
        _ => None,
    });
    from_events
        .chain(timeouts.map(str::to_owned))
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

fn checkpoint_only<P: ProcessManager>(source: &str, end: Position) -> Batch {
    Batch {
        process: P::NAME.to_owned(),
        checkpoint: Some(Checkpoint {
            source: source.to_owned(),
            position: end,
        }),
        ..Batch::default()
    }
}

/// Sleeps until the log has news, the next timeout is due, the poll
/// interval passes, or shutdown is requested.
async fn wait_for_work<P, S, L>(
    shared: &Shared<S, L>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
    appended: &mut tokio::sync::watch::Receiver<u64>,
) where
    P: ProcessManager,
    S: Store,
    L: EventSource,
{
    let next_due = match shared.store.next_timeout_at(P::NAME).await {
        Ok(next_due) => next_due,
        Err(error) => {
            tracing::warn!(process = P::NAME, %error, "reading the next timeout failed");
            None
        }
    };
    let now = shared.clock.now();
    let timeout_due = async {
        match next_due {
            Some(at) if at > now => shared.clock.sleep_until(at).await,
            _ => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = shutdown.changed() => {}
        _ = appended.changed() => {}
        () = timeout_due => {}
        () = tokio::time::sleep(shared.options.poll_interval) => {}
    }
}
