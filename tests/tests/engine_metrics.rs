//! The engine's metrics through the `metrics` facade: what it counts, and
//! that no label carries an id (one test: it installs the process-wide
//! recorder).

mod common;

use std::collections::BTreeSet;

use common::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::MetricKind;
use pm_core::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_reports_its_work_through_the_metrics_facade() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    gateway.fail("opened retried", [DispatchError::Transient("busy".into())]);
    gateway.fail("opened refused", [DispatchError::Permanent("no".into())]);
    let appended = std::time::Instant::now();
    append(&log, "t-1", opened("retried")).await;
    append(&log, "t-2", opened("plain")).await;
    append(&log, "n-1", noted("t-2", "a note")).await;
    append(&log, "t-2", TaskEvent::Archived).await;
    append(&log, "t-3", opened("refused")).await;
    // The engine starts later, so that its lag is at least this.
    let waited = std::time::Duration::from_millis(1100);
    tokio::time::sleep(waited).await;
    // On the system clock, so that the retry comes due.
    let engine = Engine::new(store.clone(), log.clone())
        .with_options(fast_options())
        .register::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    eventually("every command is delivered or dead-lettered", || async {
        gateway.texts().len() == 3 && engine.metrics("task").unwrap().commands_dead_lettered == 1
    })
    .await;
    let counts = engine.metrics("task").unwrap();
    engine.shutdown().await.unwrap();
    assert_eq!(
        (
            counts.events_read,
            counts.events_handled,
            counts.events_skipped
        ),
        (5, 4, 1)
    );
    assert_eq!(
        (
            counts.commands_recorded,
            counts.commands_delivered,
            counts.commands_retried
        ),
        (4, 3, 1)
    );

    let snapshot = snapshotter.snapshot().into_vec();
    /// A metric's value, simplified: counter, gauge or number of samples.
    #[derive(Debug, Clone, PartialEq)]
    enum Seen {
        Counter(u64),
        Gauge(f64),
        Samples(usize),
    }
    let value = |name: &str| -> Vec<(Vec<(String, String)>, Seen)> {
        snapshot
            .iter()
            .filter(|(key, _, _, _)| key.key().name() == name)
            .map(|(key, _, _, value)| {
                let labels = key
                    .key()
                    .labels()
                    .map(|label| (label.key().to_owned(), label.value().to_owned()))
                    .collect();
                let seen = match value {
                    DebugValue::Counter(count) => Seen::Counter(*count),
                    DebugValue::Gauge(gauge) => Seen::Gauge(gauge.into_inner()),
                    DebugValue::Histogram(samples) => Seen::Samples(samples.len()),
                };
                (labels, seen)
            })
            .collect()
    };
    let counter = |name: &str| -> u64 {
        value(name)
            .iter()
            .map(|(_, value)| match value {
                Seen::Counter(count) => *count,
                other => panic!("{name} is not a counter: {other:?}"),
            })
            .sum()
    };
    assert_eq!(counter("pm_events_read_total"), 5);
    assert_eq!(counter("pm_events_handled_total"), 4);
    assert_eq!(counter("pm_events_skipped_total"), 1, "the archived event");
    assert_eq!(counter("pm_commands_recorded_total"), 4);
    assert_eq!(counter("pm_commands_retried_total"), 1);
    assert_eq!(counter("pm_commands_delivered_total"), 3);
    assert_eq!(counter("pm_commands_dead_lettered_total"), 1);
    let delivered = value("pm_commands_delivered_total");
    assert!(delivered.iter().all(|(labels, _)| labels
        == &[
            ("process".to_owned(), "task".to_owned()),
            ("command_type".to_owned(), "Notify".to_owned())
        ]));
    let latencies = value("pm_delivery_latency_seconds");
    let samples: usize = latencies
        .iter()
        .map(|(_, value)| match value {
            Seen::Samples(samples) => *samples,
            other => panic!("not a histogram: {other:?}"),
        })
        .sum();
    assert_eq!(samples, 3);
    assert!(!value("pm_claim_duration_seconds").is_empty());
    assert!(!value("pm_batch_duration_seconds").is_empty());
    assert_eq!(value("pm_partitions_owned")[0].1, Seen::Gauge(16.0));
    // The one batch handled every event: its lag is the time since the
    // last was recorded, in seconds.
    let Seen::Gauge(lag) = value("pm_lag_seconds")[0].1 else {
        panic!("pm_lag_seconds is not a gauge");
    };
    let bound = appended.elapsed().as_secs_f64();
    assert!(
        lag >= waited.as_secs_f64() && lag <= bound,
        "lag {lag} s, expected between {waited:?} and {bound} s"
    );

    // Labels name processes and command types, never instances or ids.
    let label_keys: BTreeSet<String> = snapshot
        .iter()
        .flat_map(|(key, _, _, _)| {
            key.key()
                .labels()
                .map(|label| label.key().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        label_keys,
        BTreeSet::from(["command_type".to_owned(), "process".to_owned()])
    );
    assert!(snapshot.iter().all(
        |(key, _, _, _)| key.kind() == MetricKind::Gauge || key.key().name().starts_with("pm_")
    ));
}
