//! The dispatcher loop: claim ready commands, deliver them through the
//! user's gateway, then acknowledge, retry or dead-letter each.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use tracing::Instrument;
use uuid::Uuid;

use super::{error_backoff, pause_unless_shutdown, ProcessMetrics, Shared};
use crate::clock::Clock;
use crate::command::Command;
use crate::dispatch::{CommandMeta, Dispatch, DispatchError};
use crate::error::{ErrorChain, Result};
use crate::process::ProcessManager;
use crate::store::{Claim, FailedDelivery, OutboxCommand, Store};

/// Delivers the commands of process `P` until shutdown.
pub(crate) async fn run_dispatcher<P, S, L, D>(
    shared: Shared<S, L>,
    dispatcher: Arc<D>,
    metrics: Arc<ProcessMetrics>,
) -> Result<()>
where
    P: ProcessManager,
    S: Store,
    D: Dispatch<P::Command>,
{
    let mut shutdown = shared.shutdown.clone();
    let mut outbox = shared.store.subscribe_outbox();
    let mut failures = 0u32;
    // The acknowledgement of one round runs while the next round is claimed
    // and delivered. The two touch different heads as long as the first
    // round's lease holds when the next claim is made (a leased head is not
    // claimable, and a key's next command is only claimable once its
    // predecessor is settled: G3); once that lease has run out, the round
    // is settled first, so the dispatcher never claims its own commands
    // again before acknowledging them.
    let mut settling = None;
    while !*shutdown.borrow() {
        outbox.borrow_and_update();
        let now = shared.clock.now();
        let (settled, claimed) = match settling.take() {
            Some((lease_end, previous)) if lease_end > now => {
                let round = claim_and_deliver::<P, S, L, D>(&shared, &dispatcher, &metrics, now);
                // The claim is polled first: on a store that answers at once
                // (the memory store) it then runs before the settlement, as
                // it may on any store.
                let (claimed, ()) = tokio::join!(round, previous);
                (true, claimed)
            }
            Some((_, previous)) => {
                previous.await;
                let now = shared.clock.now();
                let claimed =
                    claim_and_deliver::<P, S, L, D>(&shared, &dispatcher, &metrics, now).await;
                (true, claimed)
            }
            None => {
                let claimed =
                    claim_and_deliver::<P, S, L, D>(&shared, &dispatcher, &metrics, now).await;
                (false, claimed)
            }
        };
        match claimed {
            Err(error) => {
                failures += 1;
                tracing::error!(process = P::NAME, error = %ErrorChain(&error), "claiming commands failed; retrying");
                let delay = error_backoff(failures, shared.options.max_error_backoff);
                if pause_unless_shutdown(&mut shutdown, delay).await {
                    break;
                }
            }
            // Settling may have made the next commands of its keys claimable.
            Ok(round) if round.deliveries.is_empty() && settled => {}
            Ok(round) if round.deliveries.is_empty() => {
                failures = 0;
                wait_for_commands::<P, S, L>(&shared, &mut shutdown, &mut outbox).await;
            }
            Ok(round) => {
                failures = 0;
                let settle =
                    settle_outcomes::<P, S, L>(&shared, &metrics, round.lease, round.deliveries);
                settling = Some((round.lease_end, Box::pin(settle)));
            }
        }
    }
    if let Some((_, last)) = settling {
        last.await;
    }
    Ok(())
}

/// The deliveries of one claim, made under `lease` until `lease_end`
/// (engine clock).
struct Round {
    lease: Uuid,
    lease_end: DateTime<Utc>,
    deliveries: Vec<Delivery>,
}

/// Claims the commands of `P` ready at `now` under a new lease and
/// delivers each through the gateway; what each delivery ended with is
/// settled later.
async fn claim_and_deliver<P, S, L, D>(
    shared: &Shared<S, L>,
    dispatcher: &D,
    metrics: &ProcessMetrics,
    now: DateTime<Utc>,
) -> Result<Round>
where
    P: ProcessManager,
    S: Store,
    D: Dispatch<P::Command>,
{
    let claim = Claim {
        lease: Uuid::new_v4(),
        lease_for: shared.options.lease_for,
        now,
        limit: shared.options.claim_limit,
    };
    let lease = claim.lease;
    let lease_end = later_by(now, claim.lease_for);
    let claiming = std::time::Instant::now();
    let claimed = shared.store.claim_commands(P::NAME, claim).await?;
    metrics.record_claim(claiming.elapsed());
    let deliveries = stream::iter(claimed)
        .map(|command| deliver_one::<P, D>(dispatcher, &*shared.clock, command))
        .buffer_unordered(shared.options.dispatch_concurrency.max(1))
        .collect()
        .await;
    Ok(Round {
        lease,
        lease_end,
        deliveries,
    })
}

/// One delivery attempt and when it ended (engine clock): a retry waits
/// from then, not from the start of the round.
struct Delivery {
    command: OutboxCommand,
    outcome: Result<(), DispatchError>,
    ended_at: DateTime<Utc>,
}

async fn deliver_one<P, D>(dispatcher: &D, clock: &dyn Clock, command: OutboxCommand) -> Delivery
where
    P: ProcessManager,
    D: Dispatch<P::Command>,
{
    let typed = match P::Command::decode(&command.command_type, &command.payload) {
        Ok(typed) => typed,
        Err(error) => {
            let outcome = Err(DispatchError::Permanent(format!(
                "stored command does not decode: {error}"
            )));
            return Delivery {
                command,
                outcome,
                ended_at: clock.now(),
            };
        }
    };
    let meta = CommandMeta {
        idempotency_key: command.id,
        process: P::NAME,
        instance: command.instance.clone(),
        attempt: command.attempts + 1,
        issued_at: command.created_at,
    };
    let span = tracing::info_span!(
        "pm.deliver",
        "messaging.system" = "pm",
        "messaging.operation.type" = "send",
        "messaging.operation.name" = "deliver",
        "messaging.destination.name" = %command.command_type,
        "messaging.message.id" = %command.id,
        "pm.process" = P::NAME,
        "pm.attempt" = command.attempts + 1,
    );
    let outcome = dispatcher.dispatch(typed, meta).instrument(span).await;
    Delivery {
        command,
        outcome,
        ended_at: clock.now(),
    }
}

/// Acknowledges delivered commands in one call, and reschedules or
/// dead-letters the failed ones.
async fn settle_outcomes<P, S, L>(
    shared: &Shared<S, L>,
    metrics: &ProcessMetrics,
    lease: Uuid,
    outcomes: Vec<Delivery>,
) where
    P: ProcessManager,
    S: Store,
{
    let mut delivered = Vec::with_capacity(outcomes.len());
    let mut failures = Vec::new();
    for Delivery {
        command,
        outcome,
        ended_at,
    } in outcomes
    {
        let failed_attempts = command.attempts + 1;
        match outcome {
            Ok(()) => delivered.push((
                command.id,
                command.command_type,
                command.created_at,
                ended_at,
            )),
            Err(DispatchError::Transient(reason))
                if shared.options.retry.may_retry(failed_attempts) =>
            {
                let wait = shared.options.retry.backoff(failed_attempts);
                let retry_at = later_by(ended_at, wait);
                tracing::debug!(process = P::NAME, command = %command.id, attempt = failed_attempts, %reason, "delivery failed; will retry");
                metrics.record_retried();
                failures.push(FailedDelivery {
                    id: command.id,
                    error: reason,
                    retry_at: Some(retry_at),
                });
            }
            Err(error) => {
                tracing::error!(process = P::NAME, command = %command.id, attempt = failed_attempts, %error, "command moved to dead letters");
                metrics.record_dead_lettered();
                failures.push(FailedDelivery {
                    id: command.id,
                    error: error.to_string(),
                    retry_at: None,
                });
            }
        }
    }
    if !failures.is_empty() {
        if let Err(error) = shared.store.fail_commands(lease, &failures).await {
            // The lease runs out and the commands are claimed again:
            // delivery stays at least once.
            tracing::error!(process = P::NAME, error = %ErrorChain(&error), "recording failed deliveries failed");
        }
    }
    if delivered.is_empty() {
        return;
    }
    let ids: Vec<Uuid> = delivered.iter().map(|(id, ..)| *id).collect();
    match shared.store.complete_commands(lease, &ids).await {
        Ok(()) => {
            for (_, command_type, issued, ended) in &delivered {
                let latency = (*ended - *issued).to_std().unwrap_or_default();
                metrics.record_delivered(command_type, latency);
            }
        }
        Err(error) => {
            tracing::error!(process = P::NAME, error = %ErrorChain(&error), "acknowledging delivered commands failed; they will be delivered again");
        }
    }
}

async fn wait_for_commands<P, S, L>(
    shared: &Shared<S, L>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
    outbox: &mut tokio::sync::watch::Receiver<u64>,
) where
    P: ProcessManager,
    S: Store,
{
    let next = match shared.store.next_command_at(P::NAME).await {
        Ok(next) => next,
        Err(error) => {
            tracing::warn!(process = P::NAME, error = %ErrorChain(&error), "reading the next command time failed");
            None
        }
    };
    super::idle(shared, shutdown, outbox, next, None).await;
}

/// `at` plus `wait`, or the latest time there is.
fn later_by(at: DateTime<Utc>, wait: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(wait)
        .ok()
        .and_then(|wait| at.checked_add_signed(wait))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
