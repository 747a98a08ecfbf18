//! Counters of what each process has done, readable while the engine runs
//! ([`RunningEngine::metrics`](super::RunningEngine::metrics)) and emitted
//! through the [`metrics`] facade, labelled by process (never by id), for
//! whatever recorder the application installs:
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `pm_batches_total` | counter | `process` |
//! | `pm_events_read_total`, `pm_events_handled_total`, `pm_events_skipped_total` | counter | `process` |
//! | `pm_parked_total`, `pm_timeouts_fired_total` | counter | `process` |
//! | `pm_commands_recorded_total`, `pm_commands_retried_total`, `pm_commands_dead_lettered_total` | counter | `process` |
//! | `pm_commands_delivered_total` | counter | `process`, `command_type` |
//! | `pm_delivery_latency_seconds` (issued to delivered, engine clock) | histogram | `process`, `command_type` |
//! | `pm_batch_duration_seconds`, `pm_claim_duration_seconds` | histogram | `process` |
//! | `pm_lag_seconds` (now minus the recording time of the last event handled) | gauge | `process` |
//! | `pm_partitions_owned` | gauge | `process` |

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::batch::BatchCounts;

/// Live counters of one process.
#[derive(Debug)]
pub(crate) struct ProcessMetrics {
    process: &'static str,
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

fn count(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

impl ProcessMetrics {
    pub(crate) fn new(process: &'static str) -> Self {
        Self {
            process,
            batches: AtomicU64::new(0),
            events_read: AtomicU64::new(0),
            events_handled: AtomicU64::new(0),
            events_skipped: AtomicU64::new(0),
            parked: AtomicU64::new(0),
            timeouts_fired: AtomicU64::new(0),
            commands_recorded: AtomicU64::new(0),
            commands_delivered: AtomicU64::new(0),
            commands_retried: AtomicU64::new(0),
            commands_dead_lettered: AtomicU64::new(0),
        }
    }

    pub(crate) fn record_batch(&self, counts: BatchCounts, commands: usize, took: Duration) {
        let process = self.process;
        metrics::counter!("pm_batches_total", "process" => process).increment(1);
        metrics::counter!("pm_events_handled_total", "process" => process)
            .increment(counts.handled);
        metrics::counter!("pm_events_skipped_total", "process" => process)
            .increment(counts.skipped);
        metrics::counter!("pm_parked_total", "process" => process).increment(counts.parked);
        metrics::counter!("pm_timeouts_fired_total", "process" => process)
            .increment(counts.timeouts_fired);
        metrics::counter!("pm_commands_recorded_total", "process" => process)
            .increment(count(commands));
        metrics::histogram!("pm_batch_duration_seconds", "process" => process)
            .record(took.as_secs_f64());
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.events_handled
            .fetch_add(counts.handled, Ordering::Relaxed);
        self.events_skipped
            .fetch_add(counts.skipped, Ordering::Relaxed);
        self.parked.fetch_add(counts.parked, Ordering::Relaxed);
        self.timeouts_fired
            .fetch_add(counts.timeouts_fired, Ordering::Relaxed);
        self.commands_recorded
            .fetch_add(count(commands), Ordering::Relaxed);
    }

    pub(crate) fn record_read(&self, events: usize) {
        metrics::counter!("pm_events_read_total", "process" => self.process)
            .increment(count(events));
        self.events_read.fetch_add(count(events), Ordering::Relaxed);
    }

    /// How far behind the newest event handled was, in real time.
    pub(crate) fn record_lag(&self, seconds: f64) {
        metrics::gauge!("pm_lag_seconds", "process" => self.process).set(seconds.max(0.0));
    }

    pub(crate) fn record_partitions(&self, owned: usize) {
        metrics::gauge!("pm_partitions_owned", "process" => self.process).set(owned as f64);
    }

    pub(crate) fn record_claim(&self, took: Duration) {
        metrics::histogram!("pm_claim_duration_seconds", "process" => self.process)
            .record(took.as_secs_f64());
    }

    /// One command delivered, `latency` after it was issued.
    pub(crate) fn record_delivered(&self, command_type: &str, latency: Duration) {
        let labels = [
            ("process", self.process.to_owned()),
            ("command_type", command_type.to_owned()),
        ];
        metrics::counter!("pm_commands_delivered_total", &labels).increment(1);
        metrics::histogram!("pm_delivery_latency_seconds", &labels).record(latency.as_secs_f64());
        self.commands_delivered.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_retried(&self) {
        metrics::counter!("pm_commands_retried_total", "process" => self.process).increment(1);
        self.commands_retried.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_dead_lettered(&self) {
        metrics::counter!("pm_commands_dead_lettered_total", "process" => self.process)
            .increment(1);
        self.commands_dead_lettered.fetch_add(1, Ordering::Relaxed);
    }

    /// The current counts.
    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
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
