//! Retention: completed instances and delivered commands older than the
//! retention period are removed by the engine (and by `Admin`), live ones
//! stay, and a late event for a removed instance does not start a new one
//! unless it is a `start` event.

mod common;

use std::time::Duration;

use common::*;
use pm_core::backend::{EventSource, Operations, Store};
use pm_core::prelude::*;
use pm_core::{EngineOptions, InstanceStatus, RunningEngine};
use pm_postgres::{Admin, PgBackend};
use sqlx::PgPool;

fn engine_keeping<S, L>(store: &S, log: &L, gateway: &Recorder, keep: Duration) -> RunningEngine
where
    S: Store + Clone,
    L: EventSource + Clone,
{
    Engine::new(store.clone(), log.clone())
        .with_clock(ManualClock::fixed())
        .with_options(EngineOptions {
            retention: Some(keep),
            ..fast_options()
        })
        .register::<Task, _>(gateway.clone())
        .start()
        .unwrap()
}

/// Runs a task to completion and opens another that stays active.
async fn complete_one_keep_one<S, L>(store: &S, log: &L, gateway: &Recorder, keep: Duration)
where
    S: Store + Clone,
    L: EventLog + Clone,
{
    let engine = engine_keeping(store, log, gateway, keep);
    append(log, "t-done", opened("done")).await;
    append(log, "t-done", TaskEvent::Closed).await;
    append(log, "t-live", opened("live")).await;
    eventually("both tasks are opened", || async {
        gateway.texts().len() == 2
    })
    .await;
    eventually("the first is completed", || async {
        task_state(store, "t-done").await.map(|(status, _)| status)
            == Some(InstanceStatus::Completed)
    })
    .await;
    engine.shutdown().await.unwrap();
}

/// After the retention period, a restarted engine removes the tombstone
/// but not the live instance, and a late note for the removed task is
/// skipped rather than starting it again.
async fn late_events_for_a_removed_instance<S, L>(
    store: S,
    log: L,
    gateway: Recorder,
    keep: Duration,
) where
    S: Store + Operations + Clone,
    L: EventLog + Clone,
{
    let engine = engine_keeping(&store, &log, &gateway, keep);
    eventually("the tombstone is removed", || async {
        task_state(&store, "t-done").await.is_none()
    })
    .await;
    assert!(
        task_state(&store, "t-live").await.is_some(),
        "a live instance stays"
    );
    append(&log, "n-late", noted("t-done", "too late")).await;
    append(&log, "t-marker", opened("marker")).await;
    eventually("the marker is opened", || async {
        gateway.texts().contains(&"opened marker".to_owned())
    })
    .await;
    engine.shutdown().await.unwrap();
    assert!(
        task_state(&store, "t-done").await.is_none(),
        "a late event that does not start the process started it again"
    );
    assert!(!gateway.texts().contains(&"too late".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completed_instances_past_retention_are_removed() {
    let clock = ManualClock::fixed();
    let store = MemoryStore::with_clock(clock.clone());
    let (log, gateway) = (MemoryLog::new(), Recorder::default());
    let keep = Duration::from_secs(3600);
    complete_one_keep_one(&store, &log, &gateway, keep).await;
    // Within the period nothing goes.
    let engine = engine_keeping(&store, &log, &gateway, keep);
    append(&log, "t-marker-0", opened("marker 0")).await;
    eventually("the engine ran", || async { gateway.texts().len() == 3 }).await;
    engine.shutdown().await.unwrap();
    assert!(
        task_state(&store, "t-done").await.is_some(),
        "removed too early"
    );
    clock.advance(keep * 2);
    late_events_for_a_removed_instance(store, log, gateway, keep).await;
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn completed_instances_past_retention_are_removed_on_postgres(pool: PgPool) {
    let backend = PgBackend::from_pool(pool.clone());
    let gateway = Recorder::default();
    let keep = Duration::from_millis(300);
    complete_one_keep_one(&backend.store(), &backend.log(), &gateway, keep).await;
    tokio::time::sleep(keep * 2).await;
    late_events_for_a_removed_instance(backend.store(), backend.log(), gateway, keep).await;
    let delivered: i64 = sqlx::query_scalar("SELECT count(*) FROM pm.delivered")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        delivered <= 2,
        "old delivered commands were kept: {delivered}"
    );
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn an_operator_removes_old_completed_instances(pool: PgPool) {
    let backend = PgBackend::from_pool(pool.clone());
    let gateway = Recorder::default();
    // The engine keeps everything; the operator removes what is old.
    let engine = Engine::new(backend.store(), backend.log())
        .with_clock(ManualClock::fixed())
        .with_options(EngineOptions {
            retention: None,
            ..fast_options()
        })
        .register::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    for n in 0..5 {
        let task = format!("t-{n}");
        append(&backend.log(), &task, opened("short")).await;
        append(&backend.log(), &task, TaskEvent::Closed).await;
    }
    append(&backend.log(), "t-live", opened("live")).await;
    eventually("every task is opened", || async {
        gateway.texts().len() == 6
    })
    .await;
    eventually("five are completed", || async {
        backend.store().stats("task").await.unwrap().completed == 5
    })
    .await;
    engine.shutdown().await.unwrap();
    let admin = Admin::new(backend.clone());
    let kept = admin
        .purge_completed("task", Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(
        (kept.instances, kept.delivered),
        (0, 0),
        "nothing is an hour old"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let purged = admin
        .purge_completed("task", Duration::from_millis(10))
        .await
        .unwrap();
    assert_eq!((purged.instances, purged.delivered), (5, 6));
    let stats = backend.store().stats("task").await.unwrap();
    assert_eq!((stats.completed, stats.active), (0, 1));
}

/// A process loop with retention `keep` (and no dispatcher).
fn process_loop_keeping<S, L>(
    store: &S,
    log: &L,
    clock: &ManualClock,
    keep: Option<Duration>,
) -> RunningEngine
where
    S: Store + Clone,
    L: EventSource + Clone,
{
    Engine::new(store.clone(), log.clone())
        .with_clock(clock.clone())
        .with_options(EngineOptions {
            retention: keep,
            ..fast_options()
        })
        .register_process::<Task>()
        .start()
        .unwrap()
}

/// Appends `count` tasks, from `t-{first}` on, each opened and closed.
async fn open_and_close<L: EventLog>(log: &L, first: usize, count: usize) {
    for n in first..first + count {
        let task = format!("t-{n}");
        append(log, &task, opened("short")).await;
        append(log, &task, TaskEvent::Closed).await;
    }
}

/// Polls the tombstones of `store` every 5 ms until none is left (at most
/// three minutes): (milliseconds since `started`, how many are left) at
/// each change.
async fn removals<S: Store + Operations>(
    store: &S,
    started: tokio::time::Instant,
) -> Vec<(u128, u64)> {
    let mut changes = Vec::new();
    let mut left = store.stats("task").await.unwrap().completed;
    while left > 0 && started.elapsed() < Duration::from_secs(180) {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let now = store.stats("task").await.unwrap().completed;
        if now != left {
            left = now;
            changes.push((started.elapsed().as_millis(), left));
        }
    }
    changes
}

/// A backlog of old tombstones is removed a thousand at a time, the next
/// thousand 100 ms after a full one; once a call removes less, the next
/// look is a minute later.
#[tokio::test(start_paused = true)]
async fn a_backlog_of_old_tombstones_is_removed_a_thousand_every_100_ms() {
    let _guard = HangGuard::new(
        "a_backlog_of_old_tombstones_is_removed_a_thousand_every_100_ms",
        Duration::from_secs(60),
    );
    let clock = ManualClock::fixed();
    let store = MemoryStore::with_clock(clock.clone());
    let log = MemoryLog::new();
    open_and_close(&log, 0, 2_500).await;
    let engine = process_loop_keeping(&store, &log, &clock, None);
    eventually("every task is completed", || async {
        store.stats("task").await.unwrap().completed == 2_500
    })
    .await;
    engine.shutdown().await.unwrap();

    let keep = Duration::from_secs(3600);
    clock.advance(keep * 2);
    let started = tokio::time::Instant::now();
    let engine = process_loop_keeping(&store, &log, &clock, Some(keep));
    let backlog = removals(&store, started).await;
    // Ten more tasks complete, and age past retention at once.
    open_and_close(&log, 2_500, 10).await;
    eventually("the new tasks are completed", || async {
        store.stats("task").await.unwrap().completed == 10
    })
    .await;
    clock.advance(keep * 2);
    let late = removals(&store, started).await;
    engine.shutdown().await.unwrap();

    let at = |changes: &[(u128, u64)]| changes.iter().map(|(at, _)| *at).collect::<Vec<_>>();
    let left = |changes: &[(u128, u64)]| changes.iter().map(|(_, left)| *left).collect::<Vec<_>>();
    assert_eq!(
        left(&backlog),
        [1_500, 500, 0],
        "removed at {:?} ms",
        at(&backlog)
    );
    let (backlog_at, late_at) = (at(&backlog), at(&late));
    let on_time = backlog_at[0] <= 25
        && (100..=130).contains(&backlog_at[1])
        && (200..=260).contains(&backlog_at[2]);
    assert!(
        on_time,
        "removed at {backlog_at:?} ms, expected 0, 100, 200"
    );
    // The call at 200 ms removed 500: the next is a minute after it.
    assert_eq!(left(&late), [0]);
    assert!(
        (60_200..=60_260).contains(&late_at[0]),
        "the late tombstones were removed at {late_at:?} ms, expected 60,200"
    );
}
