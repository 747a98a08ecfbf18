//! Operator actions never leave an instance stuck or revive a completed
//! one (G5), and every parked item can be retried or dropped: each case of
//! issue "the operator's safety net", on memory and on Postgres.

mod common;

use std::time::Duration;

use common::*;
use pm_core::backend::{Operations, Release, Store};
use pm_core::prelude::*;
use pm_core::InstanceStatus;
use pm_postgres::PgBackend;
use serde_json::json;
use sqlx::PgPool;

/// Dropping the only parked item (the failed one) lets the instance go on:
/// it is active again and its timeout fires.
async fn skipping_the_only_failed_item_unparks<S, L>(store: S, log: L)
where
    S: Store + Operations + Clone,
    L: EventLog + Clone,
{
    let (clock, gateway) = (ManualClock::fixed(), Recorder::default());
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    append(&log, "t-1", opened("doomed")).await;
    append(&log, "t-1", TaskEvent::Exploded).await;
    eventually("the instance is parked", || async {
        task_state(&store, "t-1").await.map(|(status, _)| status) == Some(InstanceStatus::Parked)
    })
    .await;
    assert_eq!(store.parked_events("task").await.unwrap().len(), 1);

    let released = store
        .release_instance("task", "t-1", Release::SkipFailed)
        .await
        .unwrap();
    assert_eq!(released, 1);
    eventually("the instance is active again", || async {
        task_state(&store, "t-1").await.map(|(status, _)| status) == Some(InstanceStatus::Active)
    })
    .await;
    assert!(store.parked_events("task").await.unwrap().is_empty());
    clock.advance(REMINDER_AFTER + Duration::from_secs(1));
    eventually("its reminder fires", || async {
        gateway.texts().contains(&"remind:t-1".to_owned())
    })
    .await;
    engine.shutdown().await.unwrap();
}

/// A late event that does not decode, for a completed instance, is skipped:
/// the tombstone is not parked, and nothing an operator does revives it.
async fn a_completed_instance_ignores_late_bad_events<S, L>(store: S, log: L)
where
    S: Store + Operations + Clone,
    L: EventLog + Clone,
{
    let gateway = Recorder::default();
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    append(&log, "t-1", opened("short")).await;
    append(&log, "t-1", TaskEvent::Closed).await;
    append_raw(&log, "t-1", "TaskEvent.Vanished", json!({})).await;
    append(&log, "t-2", opened("marker")).await;
    eventually("the log is consumed", || async {
        gateway.texts() == ["opened short", "opened marker"]
    })
    .await;
    assert!(store.parked_events("task").await.unwrap().is_empty());
    assert_eq!(
        store
            .release_instance("task", "t-1", Release::SkipFailed)
            .await
            .unwrap(),
        0,
        "nothing to release"
    );
    engine.shutdown().await.unwrap();
    let (status, _) = task_state(&store, "t-1").await.unwrap();
    assert_eq!(status, InstanceStatus::Completed);
}

/// Events parked without an instance can be released (routed again) or
/// dropped, by id.
async fn items_without_an_instance_can_be_released_and_dropped<S, L>(store: S, log: L)
where
    S: Store + Operations + Clone,
    L: EventLog + Clone,
{
    let gateway = Recorder::default();
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    // Neither the payload nor anything else names a task.
    append_raw(&log, "n-1", "TaskEvent.Noted", json!("not an object")).await;
    append_raw(
        &log,
        "n-2",
        "TaskEvent.Noted",
        json!(["not", "one", "either"]),
    )
    .await;
    eventually("both are parked", || async {
        store.parked_events("task").await.unwrap().len() == 2
    })
    .await;
    let parked = store.parked_events("task").await.unwrap();
    assert!(parked.iter().all(|entry| entry.parked.instance.is_none()));
    let (first, second) = (parked[0].id, parked[1].id);

    // Released, the first is routed again: it still names no instance, so
    // it is parked again, as a new item.
    assert_eq!(
        store
            .release_parked("task", &[first], Release::Retry)
            .await
            .unwrap(),
        1
    );
    eventually("the first is parked anew", || async {
        let ids: Vec<i64> = store
            .parked_events("task")
            .await
            .unwrap()
            .iter()
            .map(|entry| entry.id)
            .collect();
        ids.len() == 2 && !ids.contains(&first)
    })
    .await;
    // Dropped, the second is gone.
    assert_eq!(
        store
            .release_parked("task", &[second], Release::SkipFailed)
            .await
            .unwrap(),
        1
    );
    eventually("the second is dropped", || async {
        let entries = store.parked_events("task").await.unwrap();
        entries.len() == 1 && entries[0].id != second
    })
    .await;
    engine.shutdown().await.unwrap();
}

/// A payload of megabytes that does not decode parks with an error of a
/// bounded size.
async fn a_huge_undecodable_payload_gets_a_bounded_error<S, L>(store: S, log: L)
where
    S: Store + Operations + Clone,
    L: EventLog + Clone,
{
    let gateway = Recorder::default();
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    append(&log, "t-1", opened("big")).await;
    let huge = "x".repeat(10 * 1024 * 1024);
    // serde quotes a string it did not expect in its error.
    append_raw(&log, "t-1", "TaskEvent.Opened", json!(huge)).await;
    append(&log, "t-1", TaskEvent::Closed).await;
    eventually("the bad events are parked", || async {
        store.parked_events("task").await.unwrap().len() == 2
    })
    .await;
    engine.shutdown().await.unwrap();
    let parked = store.parked_events("task").await.unwrap();
    let error = parked[0].parked.error.as_deref().unwrap();
    assert!(
        error.len() <= 2_100,
        "an error of {} bytes was stored",
        error.len()
    );
}

#[tokio::test]
async fn g5_skipping_the_only_failed_item_unparks_the_instance() {
    skipping_the_only_failed_item_unparks(MemoryStore::new(), MemoryLog::new()).await;
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g5_skipping_the_only_failed_item_unparks_the_instance_on_postgres(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    skipping_the_only_failed_item_unparks(backend.store(), backend.log()).await;
}

#[tokio::test]
async fn g5_a_completed_instance_ignores_late_bad_events() {
    a_completed_instance_ignores_late_bad_events(MemoryStore::new(), MemoryLog::new()).await;
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g5_a_completed_instance_ignores_late_bad_events_on_postgres(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    a_completed_instance_ignores_late_bad_events(backend.store(), backend.log()).await;
}

#[tokio::test]
async fn g5_items_without_an_instance_can_be_released_and_dropped() {
    items_without_an_instance_can_be_released_and_dropped(MemoryStore::new(), MemoryLog::new())
        .await;
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g5_items_without_an_instance_can_be_released_and_dropped_on_postgres(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    items_without_an_instance_can_be_released_and_dropped(backend.store(), backend.log()).await;
}

#[tokio::test]
async fn g5_a_huge_undecodable_payload_gets_a_bounded_error() {
    a_huge_undecodable_payload_gets_a_bounded_error(MemoryStore::new(), MemoryLog::new()).await;
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g5_a_huge_undecodable_payload_gets_a_bounded_error_on_postgres(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    a_huge_undecodable_payload_gets_a_bounded_error(backend.store(), backend.log()).await;
}
