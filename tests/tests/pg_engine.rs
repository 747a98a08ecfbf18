//! The engine on Postgres: durable processing across restarts (G1),
//! delivery with retries and dead letters (G2, G3), durable timeouts (G4),
//! completion tombstones that survive a restart,
//! and wake-ups by NOTIFY with polling as the fallback.

mod common;

use std::time::Duration;

use common::*;
use pm_core::backend::Operations;
use pm_core::prelude::*;
use pm_core::{EngineOptions, InstanceStatus};
use pm_postgres::PgBackend;
use sqlx::PgPool;

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g1_state_and_checkpoint_survive_a_restart(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    let (store, log, gateway) = (backend.store(), backend.log(), Recorder::default());
    append(&log, "t-1", opened("durable")).await;
    for n in 0..30 {
        append(&log, &format!("n-{n}"), noted("t-1", &format!("note {n}"))).await;
    }
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("every command is delivered", || async {
        gateway.texts().len() == 31
    })
    .await;
    engine.shutdown().await.unwrap();

    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    append(&log, "n-x", noted("t-1", "after restart")).await;
    eventually("the new note is delivered", || async {
        gateway.texts().len() == 32
    })
    .await;
    engine.shutdown().await.unwrap();
    let (status, state) = task_state(&store, "t-1").await.unwrap();
    assert_eq!(status, InstanceStatus::Active);
    assert_eq!(
        state.unwrap().notes.len(),
        31,
        "an event was applied twice or lost"
    );
    assert_eq!(store.stats("task").await.unwrap().pending_commands, 0);
    let registered: serde_json::Value =
        sqlx::query_scalar("SELECT descriptor FROM pm.processes WHERE name = 'task'")
            .fetch_one(backend.pool())
            .await
            .unwrap();
    assert_eq!(
        registered["handlers"][0]["method"], "opened",
        "the descriptor is registered for tooling"
    );
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g2_retries_keep_the_idempotency_key_and_g3_the_order(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    let (store, log, gateway) = (backend.store(), backend.log(), Recorder::default());
    gateway.fail(
        "opened flaky",
        [
            DispatchError::Transient("timeout".into()),
            DispatchError::Transient("timeout".into()),
        ],
    );
    let clock = ManualClock::fixed();
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    append(&log, "t-1", opened("flaky")).await;
    for n in 0..3 {
        append(&log, &format!("n-{n}"), noted("t-1", &format!("note {n}"))).await;
    }
    for _ in 0..2000 {
        if gateway.texts().len() == 4 {
            break;
        }
        clock.advance(Duration::from_millis(50));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine.shutdown().await.unwrap();
    assert_eq!(
        gateway.texts(),
        ["opened flaky", "note 0", "note 1", "note 2"]
    );
    let first = &gateway.deliveries()[0];
    assert_eq!(
        first.meta.attempt, 3,
        "two transient failures, then success"
    );
    let keys: Vec<_> = gateway
        .attempts()
        .iter()
        .filter(|meta| meta.instance == "t-1")
        .take(3)
        .map(|meta| (meta.attempt, meta.idempotency_key))
        .collect();
    let key = keys[0].1;
    assert_eq!(
        keys,
        [(1, key), (2, key), (3, key)],
        "every attempt carries the same idempotency key"
    );
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn permanent_failures_are_dead_lettered(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    let (store, log, gateway) = (backend.store(), backend.log(), Recorder::default());
    gateway.fail(
        "opened refused",
        [DispatchError::Permanent("no such customer".into())],
    );
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    append(&log, "t-1", opened("refused")).await;
    append(&log, "n-1", noted("t-1", "next")).await;
    eventually("the next command is delivered", || async {
        gateway.texts() == ["next"]
    })
    .await;
    engine.shutdown().await.unwrap();
    let dead = store.dead_letters("task").await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].error, "permanent failure: no such customer");
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn exhausted_retries_are_dead_lettered(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    let (store, log, gateway) = (backend.store(), backend.log(), Recorder::default());
    gateway.fail(
        "opened hopeless",
        (0..10).map(|_| DispatchError::Transient("down".into())),
    );
    let clock = ManualClock::fixed();
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    append(&log, "t-1", opened("hopeless")).await;
    for _ in 0..2000 {
        if store.stats("task").await.unwrap().dead_letters == 1 {
            break;
        }
        clock.advance(Duration::from_millis(50));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine.shutdown().await.unwrap();
    let dead = store.dead_letters("task").await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].command.attempts, 4,
        "fast_options allows 4 attempts"
    );
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g4_timeouts_fire_after_a_restart_once_and_never_after_completion(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    let (store, log, gateway) = (backend.store(), backend.log(), Recorder::default());
    let clock = ManualClock::fixed();
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    append(&log, "t-1", opened("remind me")).await;
    append(&log, "t-2", opened("closes first")).await;
    append(&log, "t-2", TaskEvent::Closed).await;
    eventually("both tasks are opened and t-2 completed", || async {
        let completed = task_state(&store, "t-2")
            .await
            .is_some_and(|(status, _)| status == InstanceStatus::Completed);
        gateway.texts().len() == 2 && completed
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(store.stats("task").await.unwrap().pending_timeouts, 1);

    clock.advance(REMINDER_AFTER + Duration::from_secs(1));
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    eventually("the reminder is delivered", || async {
        gateway.texts().len() == 3
    })
    .await;
    engine.shutdown().await.unwrap();

    clock.advance(REMINDER_AFTER * 2);
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    append(&log, "t-3", opened("marker")).await;
    eventually("the marker is delivered", || async {
        gateway.texts().len() == 4
    })
    .await;
    engine.shutdown().await.unwrap();
    // Different instances: their first commands may arrive in either order.
    let mut texts = gateway.texts();
    texts.sort();
    assert_eq!(
        texts,
        [
            "opened closes first",
            "opened marker",
            "opened remind me",
            "remind:t-1"
        ]
    );
}

/// A completed instance is a tombstone in the database: after a restart,
/// late events for it (one that would start it again among them) are
/// skipped, and it keeps its final state.
#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn late_events_do_not_restart_a_completed_instance(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    let (store, log, gateway) = (backend.store(), backend.log(), Recorder::default());
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    append(&log, "t-1", opened("short")).await;
    eventually("the task is opened", || async {
        gateway.texts() == ["opened short"]
    })
    .await;
    append(&log, "t-1", TaskEvent::Closed).await;
    eventually("the task completes", || async {
        task_state(&store, "t-1")
            .await
            .is_some_and(|(status, _)| status == InstanceStatus::Completed)
    })
    .await;
    engine.shutdown().await.unwrap();

    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    append(&log, "n-1", noted("t-1", "late")).await;
    append(&log, "t-1", opened("again")).await;
    append(&log, "t-2", opened("marker")).await;
    eventually("the marker after the late events is delivered", || async {
        gateway.texts().len() == 2
    })
    .await;
    let metrics = engine.metrics("task").unwrap();
    engine.shutdown().await.unwrap();
    assert_eq!(gateway.texts(), ["opened short", "opened marker"]);
    assert_eq!(metrics.events_skipped, 2, "both late events are skipped");
    let (status, state) = task_state(&store, "t-1").await.unwrap();
    assert_eq!(status, InstanceStatus::Completed);
    let state = state.unwrap();
    assert_eq!((state.title.as_str(), state.notes.len()), ("short", 0));
    let stats = store.stats("task").await.unwrap();
    assert_eq!(
        (stats.completed, stats.pending_timeouts),
        (1, 1),
        "only the marker's reminder is pending"
    );
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g5_a_poison_event_parks_only_its_instance(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    let (store, log, gateway) = (backend.store(), backend.log(), Recorder::default());
    append(&log, "t-bad", opened("doomed")).await;
    append(&log, "t-bad", TaskEvent::Exploded).await;
    append(&log, "n-1", noted("t-bad", "held")).await;
    append(&log, "t-good", opened("fine")).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("the good task is opened", || async {
        gateway.texts().len() == 2
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(
        task_state(&store, "t-bad").await.unwrap().0,
        InstanceStatus::Parked
    );
    let parked = store.parked_events("task").await.unwrap();
    assert_eq!(parked.len(), 2);
    assert_eq!(
        parked[0].parked.error.as_deref(),
        Some("handler `exploded` panicked: task exploded on purpose")
    );
}

/// Options under which a loop would look for work only once a minute: it
/// polls once a minute, and renews its partitions (which also wakes it) a
/// few times per ten minutes. Only a wake-up can make it act sooner.
fn waiting_a_minute() -> EngineOptions {
    EngineOptions {
        poll_interval: Duration::from_secs(60),
        partition_lease: Duration::from_secs(600),
        ..fast_options()
    }
}

/// An engine that would look for work only once a minute.
fn engine_waiting_a_minute(backend: &PgBackend, gateway: &Recorder) -> pm_core::RunningEngine {
    Engine::new(backend.store(), backend.log())
        .with_clock(ManualClock::fixed())
        .with_options(waiting_a_minute())
        .register::<Task, _>(gateway.clone())
        .start()
        .unwrap()
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn notify_wakes_the_engine_for_events_appended_elsewhere(pool: PgPool) {
    let engine_side = PgBackend::from_pool(pool.clone());
    let gateway = Recorder::default();
    let engine = engine_waiting_a_minute(&engine_side, &gateway);
    // Let the engine go idle, then append through another backend: its
    // in-process wake-up cannot reach the engine; only NOTIFY can.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let other_side = PgBackend::from_pool(pool);
    append(&other_side.log(), "t-1", opened("from afar")).await;
    // `eventually` gives up long before the minute-long poll would fire.
    eventually("the event is handled", || async {
        gateway.texts().len() == 1
    })
    .await;
    engine.shutdown().await.unwrap();
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn notify_wakes_a_dispatcher_for_commands_recorded_by_another_worker(pool: PgPool) {
    let (processing_side, delivering_side) = (
        PgBackend::from_pool(pool.clone()),
        PgBackend::from_pool(pool),
    );
    let gateway = Recorder::default();
    let processing = Engine::new(processing_side.store(), processing_side.log())
        .with_clock(ManualClock::fixed())
        .with_options(waiting_a_minute())
        .register_process::<Task>()
        .start()
        .unwrap();
    let delivering = Engine::new(delivering_side.store(), delivering_side.log())
        .with_clock(ManualClock::fixed())
        .with_options(waiting_a_minute())
        .register_dispatcher::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The process loop is woken in-process; the dispatcher, in another
    // backend, only by the NOTIFY of the commit that recorded the command.
    append(&processing_side.log(), "t-1", opened("handed over")).await;
    eventually("the command is delivered", || async {
        gateway.texts() == ["opened handed over"]
    })
    .await;
    processing.shutdown().await.unwrap();
    delivering.shutdown().await.unwrap();
}

/// Sessions of this test's database that listen for notifications.
async fn listening_sessions(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn the_listener_runs_while_any_handle_of_its_backend_does(pool: PgPool) {
    let backend = PgBackend::from_pool(pool.clone());
    let (log, store) = (backend.log(), backend.store());
    eventually("the backend listens", || async {
        listening_sessions(&pool).await == 1
    })
    .await;
    drop(backend);
    drop(log);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        listening_sessions(&pool).await,
        1,
        "the store still needs its wake-ups"
    );
    drop(store);
    eventually("the listening session ends", || async {
        listening_sessions(&pool).await == 0
    })
    .await;
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn polling_finds_events_without_any_notify(pool: PgPool) {
    let backend = PgBackend::from_pool(pool.clone());
    let gateway = Recorder::default();
    let engine = start_engine(
        &backend.store(),
        &backend.log(),
        ManualClock::fixed(),
        &gateway,
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A plain INSERT: no NOTIFY is sent.
    sqlx::query(
        "INSERT INTO pm.events (stream_id, stream_version, event_type, payload) \
         VALUES ('t-1', 1, 'TaskEvent.Opened', '{\"title\": \"silent\"}')",
    )
    .execute(&pool)
    .await
    .unwrap();
    eventually("the silent event is handled", || async {
        gateway.texts().len() == 1
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(gateway.texts(), ["opened silent"]);
}
