//! Bad input never stops the engine and loses nothing (G5): an event that
//! does not decode, or whose handler panics, parks only its own instance
//! with the error recorded; later events of that instance are held; other
//! instances go on.

mod common;

use common::*;
use pm_core::backend::{Operations, ParkedItem};
use pm_core::prelude::*;
use pm_core::InstanceStatus;
use serde_json::json;

#[tokio::test]
async fn g5_poison_event_parks_only_its_instance() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    append(&log, "t-bad", opened("doomed")).await;
    append(&log, "t-good", opened("fine")).await;
    append(&log, "t-bad", TaskEvent::Exploded).await;
    append(&log, "n-1", noted("t-bad", "held behind the failure")).await;
    append(&log, "n-2", noted("t-good", "still flowing")).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("the good task gets its note", || async {
        gateway.texts().len() == 3
    })
    .await;
    engine.shutdown().await.unwrap();

    let (status, state) = task_state(&store, "t-bad").await.unwrap();
    assert_eq!(status, InstanceStatus::Parked);
    assert_eq!(
        state.unwrap().title,
        "doomed",
        "the state before the failure is kept"
    );
    assert_eq!(
        task_state(&store, "t-good").await.unwrap().1.unwrap().notes,
        ["still flowing"]
    );

    let parked = store.parked_events("task").await.unwrap();
    assert_eq!(parked.len(), 2, "{parked:#?}");
    assert_eq!(parked[0].parked.instance.as_deref(), Some("t-bad"));
    assert_eq!(
        parked[0].parked.error.as_deref(),
        Some("handler `exploded` panicked: task exploded on purpose")
    );
    let ParkedItem::Event(held) = &parked[1].parked.item else {
        panic!("expected a held event, got {:?}", parked[1].parked.item);
    };
    assert_eq!(held.event_type, "TaskEvent.Noted");
    assert_eq!(
        parked[1].parked.error, None,
        "a held event carries no error of its own"
    );
}

#[tokio::test]
async fn g5_malformed_payload_parks_the_instance_it_names() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    append(&log, "t-1", opened("first")).await;
    append(&log, "t-2", opened("second")).await;
    // `text` is missing; the id still comes from the raw `task` field.
    append_raw(&log, "n-1", "TaskEvent.Noted", json!({ "task": "t-1" })).await;
    append(&log, "n-2", noted("t-2", "fine")).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("the second task gets its note", || async {
        gateway.texts().len() == 3
    })
    .await;
    engine.shutdown().await.unwrap();

    assert_eq!(
        task_state(&store, "t-1").await.unwrap().0,
        InstanceStatus::Parked
    );
    assert_eq!(
        task_state(&store, "t-2").await.unwrap().0,
        InstanceStatus::Active
    );
    let parked = store.parked_events("task").await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].parked.instance.as_deref(), Some("t-1"));
    assert_eq!(
        parked[0].parked.error.as_deref(),
        Some("payload of `TaskEvent.Noted` does not decode: missing field `text`")
    );
}

#[tokio::test]
async fn g5_unknown_type_in_a_subscribed_family_parks_its_stream_instance() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    append(&log, "t-1", opened("first")).await;
    append_raw(&log, "t-1", "TaskEvent.Renamed", json!({ "title": "new" })).await;
    append(&log, "t-2", opened("second")).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("both tasks are opened", || async {
        gateway.texts().len() == 2
    })
    .await;
    engine.shutdown().await.unwrap();

    assert_eq!(
        task_state(&store, "t-1").await.unwrap().0,
        InstanceStatus::Parked
    );
    let parked = store.parked_events("task").await.unwrap();
    assert_eq!(
        parked[0].parked.error.as_deref(),
        Some("unknown type `TaskEvent.Renamed`; `TaskEvent` has no such variant")
    );
}

#[tokio::test]
async fn g5_an_event_for_no_known_instance_is_kept_aside() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    // Neither the payload nor anything else names a task.
    append_raw(&log, "n-1", "TaskEvent.Noted", json!("not an object")).await;
    append(&log, "t-1", opened("after")).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("the later task is opened", || async {
        gateway.texts().len() == 1
    })
    .await;
    engine.shutdown().await.unwrap();

    let parked = store.parked_events("task").await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].parked.instance, None);
    assert!(task_state(&store, "n-1").await.is_none());
}

#[tokio::test]
async fn g5_a_failed_start_event_parks_an_instance_without_state() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    append_raw(
        &log,
        "t-1",
        "TaskEvent.Opened",
        json!({ "name": "wrong field" }),
    )
    .await;
    append(&log, "t-1", TaskEvent::Closed).await;
    append(&log, "t-2", opened("after")).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("the later task is opened", || async {
        gateway.texts().len() == 1
    })
    .await;
    engine.shutdown().await.unwrap();

    let record = store
        .instances("task")
        .into_iter()
        .find(|record| record.id == "t-1")
        .unwrap();
    assert_eq!(record.status, InstanceStatus::Parked);
    assert!(record.state.is_null());
    let parked = store.parked_events("task").await.unwrap();
    assert_eq!(parked.len(), 2, "the failure and the event held behind it");
}

/// The metrics count bad input where it went: parked (an event no instance
/// can be told, a handler that panicked) or skipped (an unreadable event for
/// a completed instance, a failure the operator chose to skip).
#[tokio::test]
async fn metrics_count_what_bad_input_parked_and_what_it_skipped() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    append_raw(&log, "n-1", "TaskEvent.Noted", json!("names no task")).await;
    append(&log, "t-1", opened("done")).await;
    append(&log, "t-1", TaskEvent::Closed).await;
    append_raw(&log, "n-2", "TaskEvent.Noted", json!({ "task": "t-1" })).await;
    append(&log, "t-2", opened("doomed")).await;
    append(&log, "t-2", TaskEvent::Exploded).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    let counts = || engine.metrics("task").unwrap();
    eventually("both bad events are parked", || async {
        counts().parked == 2
    })
    .await;
    assert_eq!(counts().events_skipped, 1, "the note for a completed task");

    store
        .release_instance("task", "t-2", pm_core::backend::Release::SkipFailed)
        .await
        .unwrap();
    eventually("the skipped failure is counted", || async {
        counts().events_skipped == 2
    })
    .await;
    let counts = counts();
    engine.shutdown().await.unwrap();
    assert_eq!(
        (counts.events_handled, counts.parked, counts.events_skipped),
        (3, 2, 2),
        "{counts:?}"
    );
    assert_eq!(
        task_state(&store, "t-2").await.unwrap().0,
        InstanceStatus::Active
    );
}
