//! Counters of what each process has done, readable while the engine runs.

use std::sync::atomic::{AtomicU64, Ordering};

use super::batch::BatchCounts;

/// Live counters of one process.
#[derive(Debug, Default)]
pub struct ProcessMetrics {
    batches: AtomicU64,
    events_read: AtomicU64,
    events_handled: AtomicU64,
    events_skipped: AtomicU64,
    parked: AtomicU64,
    timeouts_fired: AtomicU64,
    commands_recorded: AtomicU64,
    commands_delivered: AtomicU64,
    commands_retried: AtomicU64,
    commands_dead_lettered: AtomicU64,
}

/// A copy of a process's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Batches committed.
    pub batches: u64,
    /// Events read from the source, those of other workers' partitions
    /// included (every worker reads the whole log).
    pub events_read: u64,
    /// Events whose handler ran.
    pub events_handled: u64,
    /// Events skipped (ignored, uncorrelated, completed or not started).
    pub events_skipped: u64,
    /// Events and timeouts that parked an instance or were held behind one.
    pub parked: u64,
    /// Timeouts whose handler ran.
    pub timeouts_fired: u64,
    /// Commands recorded in the outbox.
    pub commands_recorded: u64,
    /// Commands delivered.
    pub commands_delivered: u64,
    /// Delivery attempts that failed transiently and were rescheduled.
    pub commands_retried: u64,
    /// Commands moved to the dead letters.
    pub commands_dead_lettered: u64,
}

impl ProcessMetrics {
    pub(crate) fn record_batch(&self, counts: BatchCounts, commands: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.events_handled
            .fetch_add(counts.handled, Ordering::Relaxed);
        self.events_skipped
            .fetch_add(counts.skipped, Ordering::Relaxed);
        self.parked.fetch_add(counts.parked, Ordering::Relaxed);
        self.timeouts_fired
            .fetch_add(counts.timeouts_fired, Ordering::Relaxed);
        self.commands_recorded.fetch_add(
            u64::try_from(commands).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn record_read(&self, count: usize) {
        self.events_read
            .fetch_add(u64::try_from(count).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub(crate) fn record_delivered(&self, count: usize) {
        self.commands_delivered
            .fetch_add(u64::try_from(count).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub(crate) fn record_retried(&self) {
        self.commands_retried.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_dead_lettered(&self) {
        self.commands_dead_lettered.fetch_add(1, Ordering::Relaxed);
    }

    /// The current counts.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            batches: self.batches.load(Ordering::Relaxed),
            events_read: self.events_read.load(Ordering::Relaxed),
            events_handled: self.events_handled.load(Ordering::Relaxed),
            events_skipped: self.events_skipped.load(Ordering::Relaxed),
            parked: self.parked.load(Ordering::Relaxed),
            timeouts_fired: self.timeouts_fired.load(Ordering::Relaxed),
            commands_recorded: self.commands_recorded.load(Ordering::Relaxed),
            commands_delivered: self.commands_delivered.load(Ordering::Relaxed),
            commands_retried: self.commands_retried.load(Ordering::Relaxed),
            commands_dead_lettered: self.commands_dead_lettered.load(Ordering::Relaxed),
        }
    }
}
