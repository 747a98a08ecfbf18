//! Waiting for the run to finish: every booking completed and every
//! command delivered, or a standstill, or the deadline.

use std::time::Instant;

use anyhow::{bail, Context as _};
use pm_core::backend::{Operations, OwnedPartitions, Store};
use pm_core::{EventLog, ProcessManager};

use super::tail::LogTail;
use super::{Config, POLL};
use crate::process::BookingProcess;
use crate::progress::Progress;

/// What the driver watches to tell progress from a standstill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Observed {
    active: u64,
    completed: u64,
    parked: u64,
    pending_commands: u64,
    dead_letters: u64,
    pending_timeouts: u64,
    events_appended: u64,
    timeout_ahead: bool,
}

impl Observed {
    /// Every booking completed and every command delivered.
    fn is_finished(&self, bookings: u64) -> bool {
        self.completed >= bookings && self.active == 0 && self.pending_commands == 0
    }

    /// Nothing is waiting to be delivered or to fire.
    fn is_idle(&self) -> bool {
        self.pending_commands == 0 && !self.timeout_ahead
    }
}

async fn observe<S: Store + Operations, L: EventLog>(
    store: &S,
    log: &L,
    tail: &mut LogTail,
) -> anyhow::Result<Observed> {
    let stats = store
        .stats(BookingProcess::NAME)
        .await
        .context("reading the process's counts")?;
    let next_timeout = store
        .next_timeout_at(BookingProcess::NAME, &OwnedPartitions::all())
        .await
        .context("reading the next timeout")?;
    Ok(Observed {
        active: stats.active,
        completed: stats.completed,
        parked: stats.parked,
        pending_commands: stats.pending_commands,
        dead_letters: stats.dead_letters,
        pending_timeouts: stats.pending_timeouts,
        events_appended: tail.follow(log).await.context("following the log")?,
        timeout_ahead: next_timeout.is_some(),
    })
}

/// Waits until every booking has finished. Returns why the run stalled, if
/// it stopped moving with nothing left to do (the invariants then say
/// what is wrong); fails once the deadline passes.
pub(super) async fn wait_until_finished<S: Store + Operations, L: EventLog>(
    store: &S,
    log: &L,
    config: &Config,
    progress: &Progress,
    started: Instant,
) -> anyhow::Result<Option<String>> {
    let mut tail = LogTail::default();
    let mut last = observe(store, log, &mut tail).await?;
    let mut last_change = Instant::now();
    loop {
        let now = observe(store, log, &mut tail).await?;
        progress.update(
            now.completed,
            format!(
                "{} active, {} commands pending",
                now.active, now.pending_commands
            ),
        );
        if now.is_finished(config.bookings) {
            return Ok(None);
        }
        if now != last {
            last = now;
            last_change = Instant::now();
        } else if now.is_idle() && last_change.elapsed() >= config.stall_after {
            return Ok(Some(format!(
                "nothing happened for {:?}: {} of {} bookings completed, {} active, {} parked, {} dead letters",
                config.stall_after,
                now.completed,
                config.bookings,
                now.active,
                now.parked,
                now.dead_letters
            )));
        }
        if started.elapsed() >= config.deadline {
            bail!(
                "the bookings did not finish within {:?}: {} of {} completed, {} active, {} parked, {} commands pending, {} timeouts pending",
                config.deadline,
                now.completed,
                config.bookings,
                now.active,
                now.parked,
                now.pending_commands,
                now.pending_timeouts
            );
        }
        tokio::time::sleep(POLL).await;
    }
}
