//! LISTEN/NOTIFY wake-ups: a task turns any notification on a channel into
//! a bump of that channel's watch sender. NOTIFY only wakes; the loops poll
//! anyway, so a lost listener costs latency, never correctness.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// Channel for appended events.
pub(crate) const EVENTS_CHANNEL: &str = "pm_events";
/// Channel for new outbox commands.
pub(crate) const OUTBOX_CHANNEL: &str = "pm_outbox";

/// The longest wait before reconnecting.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A channel and the sender its notifications bump.
type Wake = (String, Arc<watch::Sender<u64>>);

/// The listening task, owned by whoever holds this: it stops (and closes
/// its connection) when this is dropped. The log, the store and a table
/// source share theirs through an `Arc`, so it runs while any clone does.
#[derive(Debug)]
pub(crate) struct Listener {
    task: AbortHandle,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts listening for the built-in log's and outbox's notifications.
pub(crate) fn spawn_listener(
    pool: PgPool,
    appended: Arc<watch::Sender<u64>>,
    outbox: Arc<watch::Sender<u64>>,
) -> Listener {
    spawn(
        pool,
        vec![
            (EVENTS_CHANNEL.to_owned(), appended),
            (OUTBOX_CHANNEL.to_owned(), outbox),
        ],
    )
}

/// Starts listening on one channel (a table source's).
pub(crate) fn spawn_channel_listener(
    pool: PgPool,
    channel: String,
    woken: Arc<watch::Sender<u64>>,
) -> Listener {
    spawn(pool, vec![(channel, woken)])
}

fn spawn(pool: PgPool, wakes: Vec<Wake>) -> Listener {
    let task = tokio::spawn(async move {
        let mut backoff = Backoff::default();
        loop {
            let lost = listen(&pool, &wakes).await;
            let wait = backoff.after_failure(lost.had_connected);
            tracing::warn!(error = %pm_core::ErrorChain(&lost.error), ?wait, "LISTEN connection failed; reconnecting");
            tokio::time::sleep(wait).await;
        }
    });
    Listener {
        task: task.abort_handle(),
    }
}

/// Waits between reconnections: doubling from 200 ms up to
/// [`MAX_BACKOFF`], and back to the shortest once a connection worked.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The wait after a failure; `had_connected`: the connection that
    /// failed had been listening.
    fn after_failure(&mut self, had_connected: bool) -> Duration {
        if had_connected {
            self.failures = 0;
        }
        self.failures += 1;
        Duration::from_millis(100)
            .saturating_mul(2u32.saturating_pow(self.failures.min(10)))
            .min(MAX_BACKOFF)
    }
}

/// Why listening stopped.
struct Lost {
    error: sqlx::Error,
    /// Whether it had connected and subscribed before it failed.
    had_connected: bool,
}

/// Listens until the connection fails.
async fn listen(pool: &PgPool, wakes: &[Wake]) -> Lost {
    let lost_early = |error| Lost {
        error,
        had_connected: false,
    };
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => return lost_early(error),
    };
    if let Err(error) = listener
        .listen_all(wakes.iter().map(|(channel, _)| channel.as_str()))
        .await
    {
        return lost_early(error);
    }
    // Anything that happened while we were not listening: wake everyone once.
    bump_all(wakes);
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                let woken = wakes
                    .iter()
                    .filter(|(channel, _)| channel == notification.channel());
                for (_, sender) in woken {
                    bump(sender);
                }
            }
            // The connection dropped; `try_recv` reconnects on the next
            // call. Wake everyone, since notifications may have been lost.
            Ok(None) => bump_all(wakes),
            Err(error) => {
                return Lost {
                    error,
                    had_connected: true,
                }
            }
        }
    }
}

fn bump_all(wakes: &[Wake]) {
    for (_, sender) in wakes {
        bump(sender);
    }
}

fn bump(sender: &watch::Sender<u64>) {
    sender.send_modify(|count| *count = count.wrapping_add(1));
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Backoff, MAX_BACKOFF};

    #[test]
    fn reconnect_waits_double_and_start_over_after_a_working_connection() {
        let mut backoff = Backoff::default();
        let waits: Vec<Duration> = (0..3).map(|_| backoff.after_failure(false)).collect();
        assert_eq!(waits, [200, 400, 800].map(Duration::from_millis));
        for _ in 0..20 {
            backoff.after_failure(false);
        }
        assert_eq!(backoff.after_failure(false), MAX_BACKOFF);
        assert_eq!(
            backoff.after_failure(true),
            Duration::from_millis(200),
            "a connection that worked resets the backoff"
        );
    }
}
