//! LISTEN/NOTIFY wake-ups: one task turns any notification into a bump of
//! the log's or the outbox's watch channel. NOTIFY only wakes; the loops
//! poll anyway, so a lost listener costs latency, never correctness.

use std::sync::Weak;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;

/// Channel for appended events.
pub(crate) const EVENTS_CHANNEL: &str = "pm_events";
/// Channel for new outbox commands.
pub(crate) const OUTBOX_CHANNEL: &str = "pm_outbox";

/// How often the listener checks whether anyone still needs it.
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// The longest wait before reconnecting.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Spawns the listener; it stops once both channels have no sender left.
pub(crate) fn spawn_listener(
    pool: PgPool,
    appended: Weak<watch::Sender<u64>>,
    outbox: Weak<watch::Sender<u64>>,
) {
    tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            match listen(&pool, &appended, &outbox).await {
                Ok(()) => return,
                Err(error) => {
                    failures += 1;
                    let wait = Duration::from_millis(100)
                        .saturating_mul(2u32.saturating_pow(failures.min(10)))
                        .min(MAX_BACKOFF);
                    tracing::warn!(%error, ?wait, "LISTEN connection failed; reconnecting");
                    tokio::time::sleep(wait).await;
                    if appended.strong_count() == 0 && outbox.strong_count() == 0 {
                        return;
                    }
                }
            }
        }
    });
}

/// Listens until nobody holds the channels any more (`Ok`) or the
/// connection fails (`Err`).
async fn listen(
    pool: &PgPool,
    appended: &Weak<watch::Sender<u64>>,
    outbox: &Weak<watch::Sender<u64>>,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener
        .listen_all([EVENTS_CHANNEL, OUTBOX_CHANNEL])
        .await?;
    // Anything appended while we were not listening: wake everyone once.
    bump(appended);
    bump(outbox);
    loop {
        match tokio::time::timeout(IDLE_CHECK, listener.try_recv()).await {
            Ok(Ok(Some(notification))) => match notification.channel() {
                EVENTS_CHANNEL => bump(appended),
                _ => bump(outbox),
            },
            Ok(Ok(None)) => {
                // The connection dropped; `try_recv` reconnects on the next
                // call. Wake everyone, since notifications may have been lost.
                bump(appended);
                bump(outbox);
            }
            Ok(Err(error)) => return Err(error),
            Err(_idle) => {}
        }
        if appended.strong_count() == 0 && outbox.strong_count() == 0 {
            return Ok(());
        }
    }
}

fn bump(channel: &Weak<watch::Sender<u64>>) {
    if let Some(sender) = channel.upgrade() {
        sender.send_modify(|count| *count = count.wrapping_add(1));
    }
}
