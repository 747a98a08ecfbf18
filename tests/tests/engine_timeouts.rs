//! Durable timeouts on the in-memory store (G4): they fire no earlier than
//! due, once, never after completion, and survive an engine restart.

mod common;

use std::time::Duration;

use common::*;
use pm_core::prelude::*;
use pm_core::{Clock, InstanceStatus};

#[tokio::test]
async fn g4_timeout_fires_no_earlier_than_due_and_once() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    let clock = ManualClock::fixed();
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    append(&log, "t-1", opened("remind me")).await;
    eventually("the task is opened", || async {
        gateway.texts().len() == 1
    })
    .await;
    let due = clock.now() + chrono::Duration::from_std(REMINDER_AFTER).unwrap();
    assert_eq!(
        store.timeouts("task"),
        [("t-1".to_owned(), "Reminder".to_owned(), due)]
    );

    clock.advance(REMINDER_AFTER - Duration::from_secs(1));
    // Give the engine every chance to fire early: a whole round of the log.
    append(&log, "n-1", noted("t-1", "still early")).await;
    eventually("the note is delivered", || async {
        gateway.texts().len() == 2
    })
    .await;
    assert_eq!(store.timeouts("task").len(), 1, "the timeout fired early");

    clock.advance(Duration::from_secs(1));
    eventually("the reminder is delivered", || async {
        gateway.texts().len() == 3
    })
    .await;
    clock.advance(REMINDER_AFTER * 3);
    append(&log, "n-2", noted("t-1", "after")).await;
    eventually("the last note is delivered", || async {
        gateway.texts().len() == 4
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(
        gateway.texts(),
        ["opened remind me", "still early", "remind:t-1", "after"]
    );
    assert!(store.timeouts("task").is_empty());
}

#[tokio::test]
async fn g4_timeout_never_fires_after_completion() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    let clock = ManualClock::fixed();
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    append(&log, "t-1", opened("finish early")).await;
    append(&log, "t-1", TaskEvent::Closed).await;
    eventually("the task completes", || async {
        task_state(&store, "t-1")
            .await
            .is_some_and(|(status, _)| status == InstanceStatus::Completed)
    })
    .await;
    clock.advance(REMINDER_AFTER * 2);
    append(&log, "t-2", opened("marker")).await;
    eventually("the marker task is opened", || async {
        gateway.texts().len() == 2
    })
    .await;
    engine.shutdown().await.unwrap();
    // No reminder; the two opening commands may arrive in either order.
    let mut texts = gateway.texts();
    texts.sort();
    assert_eq!(texts, ["opened finish early", "opened marker"]);
}

#[tokio::test]
async fn g4_timeouts_survive_an_engine_restart() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    let clock = ManualClock::fixed();
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    append(&log, "t-1", opened("durable")).await;
    eventually("the task is opened", || async {
        gateway.texts().len() == 1
    })
    .await;
    engine.shutdown().await.unwrap();

    // Time passes while no engine runs; the next one fires the timeout.
    clock.advance(REMINDER_AFTER + Duration::from_secs(5));
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    eventually("the reminder is delivered", || async {
        gateway.texts().len() == 2
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(gateway.texts(), ["opened durable", "remind:t-1"]);
    let reminder = &gateway.deliveries()[1];
    assert_eq!(
        reminder.meta.issued_at,
        clock.now(),
        "handled at the engine clock's time"
    );
}
