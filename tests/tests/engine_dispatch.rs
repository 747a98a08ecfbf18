//! Command delivery: retries with backoff, dead letters, stable idempotency
//! keys (G2), per-instance order (G3) and the pauses after failed claims,
//! on the in-memory store.

mod common;

use std::time::Duration;

use common::*;
use pm_core::backend::{Operations, Store};
use pm_core::prelude::*;
use pm_core::{Clock, EngineOptions, RetryPolicy};

/// Moves the manual clock on until `done`, so backoffs elapse.
async fn advance_until<F, Fut>(clock: &ManualClock, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..2000 {
        if done().await {
            return;
        }
        clock.advance(Duration::from_millis(50));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn g2_transient_failures_are_retried_with_the_same_idempotency_key() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
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
    advance_until(&clock, "the command is delivered", || async {
        gateway.texts().len() == 1
    })
    .await;
    let metrics = engine.metrics("task").unwrap();
    engine.shutdown().await.unwrap();
    assert_eq!(metrics.commands_retried, 2);
    let delivery = &gateway.deliveries()[0];
    assert_eq!(delivery.meta.attempt, 3);
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
    assert!(store.dead_letters("task").await.unwrap().is_empty());
}

#[tokio::test]
async fn g2_idempotency_key_is_deterministic() {
    // Two independent runs over the same log, three days apart on the
    // engine clock, issue the same keys: a key depends on what caused the
    // command, never on when it was processed.
    let later = ManualClock::fixed();
    later.advance(Duration::from_secs(3 * 24 * 3600));
    let mut keys = Vec::new();
    for clock in [ManualClock::fixed(), later] {
        let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
        append(&log, "t-1", opened("same")).await;
        append(&log, "n-1", noted("t-1", "same note")).await;
        let engine = start_engine(&store, &log, clock, &gateway);
        eventually("both commands are delivered", || async {
            gateway.texts().len() == 2
        })
        .await;
        engine.shutdown().await.unwrap();
        keys.push(
            gateway
                .deliveries()
                .iter()
                .map(|delivery| delivery.meta.idempotency_key)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(keys[0], keys[1], "the keys depend on the engine clock");
    assert_ne!(keys[0][0], keys[0][1]);
}

#[tokio::test]
async fn permanent_failures_go_to_dead_letters_and_later_commands_go_on() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
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
    assert_eq!(dead[0].command.command_type, "Notify");
}

#[tokio::test]
async fn exhausted_retries_go_to_dead_letters() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    gateway.fail(
        "opened hopeless",
        (0..10).map(|_| DispatchError::Transient("still down".into())),
    );
    let clock = ManualClock::fixed();
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    append(&log, "t-1", opened("hopeless")).await;
    advance_until(&clock, "the command is dead-lettered", || async {
        store.stats("task").await.unwrap().dead_letters == 1
    })
    .await;
    let metrics = engine.metrics("task").unwrap();
    engine.shutdown().await.unwrap();
    let dead = store.dead_letters("task").await.unwrap();
    // fast_options allows 4 attempts: 3 retries, then the dead letter.
    assert_eq!(metrics.commands_retried, 3);
    assert_eq!(dead[0].command.attempts, 4);
    assert!(gateway.texts().is_empty());
}

#[tokio::test]
async fn g3_commands_of_one_instance_are_delivered_in_issue_order() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    // The first command fails twice; the ones behind it must wait for it.
    gateway.fail(
        "opened ordered",
        [
            DispatchError::Transient("busy".into()),
            DispatchError::Transient("busy".into()),
        ],
    );
    let clock = ManualClock::fixed();
    let engine = start_engine(&store, &log, clock.clone(), &gateway);
    append(&log, "t-1", opened("ordered")).await;
    for n in 0..5 {
        append(&log, &format!("n-{n}"), noted("t-1", &format!("note {n}"))).await;
    }
    append(&log, "t-2", opened("other")).await;
    advance_until(&clock, "every command is delivered", || async {
        gateway.texts().len() == 7
    })
    .await;
    engine.shutdown().await.unwrap();
    let for_t1: Vec<String> = gateway
        .texts()
        .into_iter()
        .filter(|text| text != "opened other")
        .collect();
    assert_eq!(
        for_t1,
        [
            "opened ordered",
            "note 0",
            "note 1",
            "note 2",
            "note 3",
            "note 4"
        ]
    );
}

/// Records one pending `Notify` command of task `t-1`, issued at `at`.
async fn record_one_command(store: &MemoryStore, at: chrono::DateTime<chrono::Utc>) {
    record_command(store, at, 1).await;
}

/// Records a `Notify` for task `t-{task}`, with id `task`, issued `at`.
async fn record_command(store: &MemoryStore, at: chrono::DateTime<chrono::Utc>, task: u128) {
    let batch = pm_core::backend::Batch {
        process: "task".to_owned(),
        commands: vec![pm_core::backend::NewCommand {
            id: uuid::Uuid::from_u128(task),
            instance: format!("t-{task}"),
            ordering_key: format!("instance:t-{task}"),
            command_type: "Notify".to_owned(),
            payload: serde_json::json!({ "task": format!("t-{task}"), "text": format!("text {task}") }),
            created_at: at,
        }],
        ..pm_core::backend::Batch::default()
    };
    store.commit(batch).await.unwrap();
}

/// Fails every delivery after it took an hour of the engine's clock.
#[derive(Clone)]
struct SlowFailure {
    clock: ManualClock,
    attempts: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl Dispatch<TaskCommand> for SlowFailure {
    async fn dispatch(&self, _: TaskCommand, _: CommandMeta) -> Result<(), DispatchError> {
        self.attempts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.clock.advance(Duration::from_secs(3600));
        Err(DispatchError::Transient("slow, then refused".to_owned()))
    }
}

#[tokio::test]
async fn a_retry_waits_from_when_the_attempt_failed() {
    let store = MemoryStore::new();
    let clock = ManualClock::fixed();
    let start = clock.now();
    record_one_command(&store, start).await;
    let gateway = SlowFailure {
        clock: clock.clone(),
        attempts: std::sync::Arc::default(),
    };
    let options = EngineOptions {
        retry: RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(60),
        },
        ..fast_options()
    };
    let engine = Engine::new(store.clone(), MemoryLog::new())
        .with_clock(clock.clone())
        .with_options(options)
        .register_dispatcher::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    eventually("the first attempt failed and was rescheduled", || async {
        store
            .next_command_at("task")
            .await
            .unwrap()
            .is_some_and(|at| at > start + chrono::Duration::seconds(60))
    })
    .await;
    engine.shutdown().await.unwrap();
    let retry_at = store.next_command_at("task").await.unwrap().unwrap();
    let failed_at = start + chrono::Duration::seconds(3600);
    assert!(
        retry_at >= failed_at + chrono::Duration::seconds(30),
        "the retry is due {retry_at}, before the attempt failed ({failed_at}) plus half its backoff"
    );
    assert_eq!(
        gateway.attempts.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

/// Delivers every command after it took an hour of the engine's clock,
/// longer than any claim's lease.
#[derive(Clone)]
struct SlowSuccess {
    clock: ManualClock,
    deliveries: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl Dispatch<TaskCommand> for SlowSuccess {
    async fn dispatch(&self, _: TaskCommand, _: CommandMeta) -> Result<(), DispatchError> {
        self.deliveries
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.clock.advance(Duration::from_secs(3600));
        Ok(())
    }
}

/// The dispatcher settles a round while it claims the next, but not once
/// that round's lease has run out: it would claim its own delivered and
/// not yet acknowledged command again. (Several threads: a dispatcher that
/// did claim it again would never go idle, and on one thread this test
/// would never run again to fail.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_whose_lease_ran_out_is_settled_before_the_next_claim() {
    let store = MemoryStore::new();
    let clock = ManualClock::fixed();
    record_one_command(&store, clock.now()).await;
    let gateway = SlowSuccess {
        clock: clock.clone(),
        deliveries: std::sync::Arc::default(),
    };
    let engine = Engine::new(store.clone(), MemoryLog::new())
        .with_clock(clock.clone())
        .with_options(fast_options())
        .register_dispatcher::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    eventually("the command is acknowledged", || async {
        store.next_command_at("task").await.unwrap().is_none()
    })
    .await;
    // A few more rounds, in which a second claim would have found it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    engine.shutdown().await.unwrap();
    assert_eq!(
        gateway.deliveries.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the command was delivered again before its acknowledgement"
    );
}

/// Tokio's clock is paused: the dispatcher's pauses take no real time, and
/// the virtual time until the delivery is exactly the pauses before it.
#[tokio::test(start_paused = true)]
async fn failed_claims_in_a_row_back_off_doubling_from_100_ms() {
    let _guard = HangGuard::new(
        "failed_claims_in_a_row_back_off_doubling_from_100_ms",
        Duration::from_secs(30),
    );
    let store = pm_core::testing::FaultyStore::new(MemoryStore::new());
    let clock = ManualClock::fixed();
    record_one_command(store.inner(), clock.now()).await;
    store.fail_claims(3);
    let gateway = Recorder::default();
    let started = tokio::time::Instant::now();
    let engine = Engine::new(store.clone(), MemoryLog::new())
        .with_clock(clock)
        .with_options(fast_options())
        .register_dispatcher::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    while gateway.texts().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the command was never delivered"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let delivered_after = started.elapsed();
    engine.shutdown().await.unwrap();
    // Three failed claims, then pauses of 100, 200 and 400 ms.
    assert!(
        delivered_after.as_millis().abs_diff(700) <= 5,
        "delivered after {delivered_after:?}, expected 700 ms"
    );
}

/// The acknowledgement of one round runs while the next is claimed and
/// delivered: a slow acknowledgement does not hold back the next commands.
#[tokio::test]
async fn the_next_round_is_delivered_while_the_last_is_acknowledged() {
    let store = pm_core::testing::FaultyStore::new(MemoryStore::new());
    let clock = ManualClock::fixed();
    let gateway = Recorder::default();
    record_command(store.inner(), clock.now(), 1).await;
    record_command(store.inner(), clock.now(), 2).await;
    store.hold_acks();
    // One command per round.
    let engine = Engine::new(store.clone(), MemoryLog::new())
        .with_clock(clock)
        .with_options(EngineOptions {
            claim_limit: 1,
            ..fast_options()
        })
        .register_dispatcher::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    eventually("both are delivered", || async {
        gateway.texts().len() == 2
    })
    .await;
    assert_eq!(
        store.acks_held(),
        1,
        "the first acknowledgement still waits"
    );
    store.release_acks();
    eventually("both are acknowledged", || async {
        store.stats("task").await.unwrap().pending_commands == 0
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(gateway.texts(), ["text 1", "text 2"]);
}

/// Settling a round can make the next command of a key claimable: the
/// dispatcher claims again at once rather than at its next poll.
#[tokio::test(start_paused = true)]
async fn the_next_command_of_a_key_is_claimed_as_soon_as_its_predecessor_is_settled() {
    let _guard = HangGuard::new(
        "the_next_command_of_a_key_is_claimed_as_soon_as_its_predecessor_is_settled",
        Duration::from_secs(30),
    );
    let (store, clock, gateway) = (
        MemoryStore::new(),
        ManualClock::fixed(),
        Recorder::default(),
    );
    let command = |id: u128, text: &str| pm_core::backend::NewCommand {
        id: uuid::Uuid::from_u128(id),
        instance: "t-1".to_owned(),
        ordering_key: "instance:t-1".to_owned(),
        command_type: "Notify".to_owned(),
        payload: serde_json::json!({ "task": "t-1", "text": text }),
        created_at: clock.now(),
    };
    let batch = pm_core::backend::Batch {
        process: "task".to_owned(),
        commands: vec![command(1, "first"), command(2, "second")],
        ..pm_core::backend::Batch::default()
    };
    store.commit(batch).await.unwrap();
    let started = tokio::time::Instant::now();
    let engine = Engine::new(store.clone(), MemoryLog::new())
        .with_clock(clock)
        .with_options(EngineOptions {
            poll_interval: Duration::from_secs(600),
            ..fast_options()
        })
        .register_dispatcher::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    while gateway.texts().len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "delivered {:?} only, by {:?}",
            gateway.texts(),
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    engine.shutdown().await.unwrap();
    assert_eq!(gateway.texts(), ["first", "second"]);
    assert!(
        started.elapsed() < Duration::from_millis(5),
        "the second was delivered after {:?}",
        started.elapsed()
    );
}
