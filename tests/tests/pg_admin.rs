//! Operator operations on Postgres: status with lag, dead letters retried
//! and purged, what holds the log back.

mod common;

use common::*;
use pm_core::backend::Operations;
use pm_core::prelude::*;
use pm_postgres::{Admin, PgBackend, Selection};
use sqlx::PgPool;

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn status_dead_letters_retry_and_purge(pool: PgPool) {
    let backend = PgBackend::from_pool(pool.clone());
    let (store, log, gateway) = (backend.store(), backend.log(), Recorder::default());
    gateway.fail(
        "opened refused",
        [DispatchError::Permanent("no such customer".into())],
    );
    gateway.fail("opened dropped", [DispatchError::Permanent("gone".into())]);
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    append(&log, "t-1", opened("refused")).await;
    append(&log, "t-2", opened("dropped")).await;
    eventually("both commands are dead-lettered", || async {
        store.stats("task").await.unwrap().dead_letters == 2
    })
    .await;

    let admin = Admin::new(backend.clone());
    let processes = admin.processes().await.unwrap();
    assert_eq!(processes.len(), 1);
    assert_eq!(processes[0].name, "task");
    assert_eq!(processes[0].stats.dead_letters, 2);
    assert_eq!(processes[0].stats.active, 2);
    assert!(processes[0].checkpoint().is_some());
    assert_eq!(processes[0].source.as_deref(), Some("pm.events"));
    assert_eq!(processes[0].partitions.len(), 16);
    assert_eq!(
        processes[0].unowned().count(),
        0,
        "one live worker owns every partition"
    );
    assert_eq!(processes[0].workers.len(), 1);
    assert!(processes[0].workers[0].alive);

    let dead = admin.dead_letters("task").await.unwrap();
    let refused = dead
        .iter()
        .find(|dead| dead.command.instance == "t-1")
        .unwrap()
        .command
        .id;
    let retried = admin
        .retry_dead_letters("task", &Selection::Ids(vec![refused]))
        .await
        .unwrap();
    assert_eq!(retried, 1);
    eventually("the retried command is delivered", || async {
        gateway.texts() == ["opened refused"]
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(
        admin
            .purge_dead_letters("task", &Selection::All)
            .await
            .unwrap(),
        1
    );
    assert!(admin.dead_letters("task").await.unwrap().is_empty());
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn the_horizon_names_the_transaction_holding_readers_back(pool: PgPool) {
    let backend = PgBackend::from_pool(pool.clone());
    let mut open = pool.begin().await.unwrap();
    // Taking a transaction id makes this a writing transaction.
    let _: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
        .fetch_one(&mut *open)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let horizon = Admin::new(backend).horizon().await.unwrap();
    open.rollback().await.unwrap();
    // Other tests may hold older transactions open on the same server, so
    // the oldest is at least as old as ours, perhaps someone else's.
    assert!(horizon.oldest_pid.is_some(), "{horizon:?}");
    assert!(
        horizon.oldest_transaction_seconds.unwrap() >= 1.0,
        "{horizon:?}"
    );
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn status_says_when_the_dispatcher_makes_no_progress(pool: PgPool) {
    let backend = PgBackend::from_pool(pool.clone());
    let (store, log, gateway) = (backend.store(), backend.log(), Recorder::default());
    gateway.fail(
        "opened stuck",
        [DispatchError::Transient("gateway down\n(503)".into())],
    );
    // The engine's clock, which times commands and their retries, stands ten
    // minutes back and still: the retry after the failure never comes due
    // until the clock moves.
    let clock = ManualClock::new(chrono::Utc::now() - chrono::Duration::minutes(10));
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    append(&log, "t-1", opened("stuck")).await;
    let admin = Admin::new(backend.clone());
    eventually("the command's first attempt failed", || async {
        // Empty until the engine has registered the process.
        let processes = admin.processes().await.unwrap();
        processes.first().is_some_and(|process| {
            process
                .delivery
                .longest_waiting
                .as_ref()
                .is_some_and(|head| head.attempts == 1)
        })
    })
    .await;
    let delivery = admin.processes().await.unwrap()[0].delivery.clone();
    assert!(delivery.stalled(), "{delivery:?}");
    assert_eq!(delivery.delivered_last_minute, 0);
    assert!(
        delivery.oldest_pending_seconds.unwrap() > 500.0,
        "{delivery:?}"
    );
    let head = delivery.longest_waiting.unwrap();
    assert_eq!(head.instance, "t-1");
    assert_eq!(head.ordering_key, "instance:t-1");
    assert_eq!(head.command_type, "Notify");
    assert!(!head.leased, "{head:?}");
    assert_eq!(head.last_error.as_deref(), Some("gateway down\n(503)"));

    // Once the retry comes due it goes out: progress again.
    clock.advance(std::time::Duration::from_secs(1));
    eventually("the retry is delivered", || async {
        gateway.texts() == ["opened stuck"]
    })
    .await;
    // The gateway sees the command before its acknowledgement commits.
    eventually("the delivery is acknowledged", || async {
        let processes = admin.processes().await.unwrap();
        processes
            .first()
            .is_some_and(|process| process.delivery.delivered_last_minute == 1)
    })
    .await;
    let delivery = admin.processes().await.unwrap()[0].delivery.clone();
    assert!(!delivery.stalled(), "{delivery:?}");
    assert_eq!(delivery.delivered_last_minute, 1);
    assert!(delivery.rate_per_second() > 0.0);
    assert_eq!(delivery.oldest_pending_seconds, None);
    assert_eq!(delivery.longest_waiting, None);
    engine.shutdown().await.unwrap();
}
