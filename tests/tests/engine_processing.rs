//! The engine's process loop: ordering, batching, start semantics,
//! completion tombstones, the pauses after failed commits and graceful
//! shutdown, on the in-memory store.

mod common;

use common::*;
use pm_core::backend::{Batch, InstanceWrite, Operations, Store};
use pm_core::prelude::*;
use pm_core::testing::FaultyStore;
use pm_core::{EngineOptions, InstanceStatus, RunningEngine};

#[tokio::test]
async fn g1_each_event_changes_state_once_in_source_order() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    append(&log, "t-1", opened("write tests")).await;
    for n in 0..50 {
        append(
            &log,
            &format!("notes-{n}"),
            noted("t-1", &format!("note {n}")),
        )
        .await;
    }
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("all notes are delivered", || async {
        gateway.texts().len() == 51
    })
    .await;
    engine.shutdown().await.unwrap();

    let (status, state) = task_state(&store, "t-1").await.unwrap();
    assert_eq!(status, InstanceStatus::Active);
    let expected: Vec<String> = (0..50).map(|n| format!("note {n}")).collect();
    assert_eq!(state.unwrap().notes, expected);

    // A restart on the same store re-reads nothing: the checkpoint moved
    // with the state.
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    append(&log, "notes-x", noted("t-1", "after restart")).await;
    eventually("the new note is delivered", || async {
        gateway.texts().len() == 52
    })
    .await;
    engine.shutdown().await.unwrap();
    let notes = task_state(&store, "t-1").await.unwrap().1.unwrap().notes;
    assert_eq!(notes.len(), 51, "{notes:?}");
}

#[tokio::test]
async fn a_batch_loads_its_instances_once_and_commits_once() {
    let log = MemoryLog::new();
    // 250 events for 25 instances, before the engine starts: with batches
    // of 100 that is 3 batches, each one load and one commit.
    for task in 0..25 {
        append(&log, &format!("t-{task}"), opened("batch")).await;
    }
    for n in 0..225 {
        let task = format!("t-{}", n % 25);
        append(&log, &format!("n-{n}"), noted(&task, &format!("{n}"))).await;
    }
    let store = FaultyStore::new(MemoryStore::new());
    let gateway = Recorder::default();
    let engine = Engine::new(store.clone(), log.clone())
        .with_clock(ManualClock::fixed())
        .with_options(fast_options())
        .register::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    eventually("every command is delivered", || async {
        gateway.texts().len() == 250
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(store.loads(), 3);
    assert_eq!(store.commits(), 3);
    for task in 0..25 {
        let state = task_state(store.inner(), &format!("t-{task}"))
            .await
            .unwrap()
            .1
            .unwrap();
        assert_eq!(state.notes.len(), 9);
    }
}

#[tokio::test]
async fn only_start_handlers_create_instances() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    append(&log, "n-1", noted("t-unknown", "too early")).await;
    append(&log, "t-unknown", TaskEvent::Closed).await;
    append(&log, "t-2", opened("real")).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("the real task is opened", || async {
        gateway.texts() == ["opened real"]
    })
    .await;
    let metrics = engine.metrics("task").unwrap();
    engine.shutdown().await.unwrap();
    assert!(task_state(&store, "t-unknown").await.is_none());
    assert_eq!(metrics.events_skipped, 2);
    assert_eq!(metrics.events_handled, 1);
}

#[tokio::test]
async fn late_events_do_not_restart_a_completed_instance() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    append(&log, "t-1", opened("short")).await;
    append(&log, "t-1", TaskEvent::Closed).await;
    append(&log, "n-1", noted("t-1", "late")).await;
    append(&log, "t-1", opened("again")).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("the log is consumed", || async {
        engine.metrics("task").unwrap().events_skipped == 2
    })
    .await;
    engine.shutdown().await.unwrap();
    let (status, state) = task_state(&store, "t-1").await.unwrap();
    assert_eq!(status, InstanceStatus::Completed);
    assert_eq!(state.unwrap().title, "short");
    assert_eq!(gateway.texts(), ["opened short"]);
    assert!(
        store.timeouts("task").is_empty(),
        "completion drops pending timeouts"
    );
}

#[tokio::test]
async fn ignored_and_foreign_events_are_skipped_without_instances() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    append(&log, "t-1", TaskEvent::Archived).await;
    append_raw(&log, "other", "InvoiceEvent.Sent", serde_json::json!({})).await;
    append(&log, "t-2", opened("kept")).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("the task is opened", || async {
        gateway.texts().len() == 1
    })
    .await;
    let metrics = engine.metrics("task").unwrap();
    engine.shutdown().await.unwrap();
    assert!(task_state(&store, "t-1").await.is_none());
    // The foreign event is filtered out by the log read; the ignored one is
    // counted as skipped.
    assert_eq!(metrics.events_skipped, 1);
    assert!(store.parked_events("task").await.unwrap().is_empty());
}

#[tokio::test]
async fn checkpoints_move_past_a_log_of_foreign_events_only() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    for n in 0..5 {
        append_raw(
            &log,
            &format!("invoice-{n}"),
            "InvoiceEvent.Sent",
            serde_json::json!({}),
        )
        .await;
    }
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    // No batch of this process has anything to write, yet every partition
    // records that the log was read to its end: a restart, or a worker
    // taking a partition over, does not read the foreign events again.
    eventually(
        "every partition's checkpoint is at the end of the log",
        || async {
            let partitions = store.partitions("task");
            !partitions.is_empty()
                && partitions
                    .iter()
                    .all(|partition| partition.checkpoint.sequence == 5)
        },
    )
    .await;
    engine.shutdown().await.unwrap();
    assert!(gateway.texts().is_empty());
    assert!(store.instances("task").is_empty());
}

/// The task process loop alone on `store`, on a fixed engine clock.
fn process_loop_on(
    store: &FaultyStore<MemoryStore>,
    log: &MemoryLog,
    options: EngineOptions,
) -> RunningEngine {
    Engine::new(store.clone(), log.clone())
        .with_clock(ManualClock::fixed())
        .with_options(options)
        .register_process::<Task>()
        .start()
        .unwrap()
}

/// Tokio's clock is paused: the loop's pauses take no real time, and the
/// virtual time between two commits is exactly the pause between them.
#[tokio::test(start_paused = true)]
async fn failed_commits_in_a_row_back_off_doubling_from_100_ms() {
    let _guard = HangGuard::new(
        "failed_commits_in_a_row_back_off_doubling_from_100_ms",
        std::time::Duration::from_secs(30),
    );
    let (store, log) = (FaultyStore::new(MemoryStore::new()), MemoryLog::new());
    // One event per batch, four batches; the first three commits land but
    // their replies are lost, so the loop sees three failures in a row.
    for task in 0..4 {
        append(&log, &format!("t-{task}"), opened("backoff")).await;
    }
    store.lose_commit_replies(3);
    let started = tokio::time::Instant::now();
    let engine = process_loop_on(
        &store,
        &log,
        EngineOptions {
            batch_size: 1,
            ..fast_options()
        },
    );
    // When each commit reached the store, in milliseconds from the start.
    let mut committed_at = Vec::new();
    while committed_at.len() < 4 {
        let now = started.elapsed().as_millis();
        if store.commits() > committed_at.len() {
            committed_at.push(now);
        }
        assert!(
            now < 20_000,
            "only {} of 4 commits reached the store",
            store.commits()
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    engine.shutdown().await.unwrap();
    assert_pauses("commits", &pauses_between(&committed_at), &[100, 200, 400]);
    assert_eq!(store.replies_lost(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_refused_commit_is_retried_at_once() {
    let _guard = HangGuard::new(
        "a_refused_commit_is_retried_at_once",
        std::time::Duration::from_secs(30),
    );
    let (store, log) = (FaultyStore::new(MemoryStore::new()), MemoryLog::new());
    let engine = process_loop_on(&store, &log, fast_options());
    append(&log, "t-1", opened("refused")).await;
    let version_of_t1 = || {
        store
            .inner()
            .instances("task")
            .first()
            .map_or(0, |instance| instance.version)
    };
    eventually("the task is opened", || async { version_of_t1() == 1 }).await;

    // The next batch is computed from version 1 and held; meanwhile the
    // instance moves to version 2 behind the engine's back.
    store.hold_commits();
    append(&log, "n-1", noted("t-1", "first note")).await;
    eventually("the batch is held", || async { store.commits_held() == 1 }).await;
    let stored = store.inner().instances("task").remove(0);
    let moved = Batch {
        process: "task".to_owned(),
        instances: vec![InstanceWrite {
            id: stored.id,
            state: stored.state,
            expected_version: stored.version,
            status: stored.status,
            schema_version: stored.schema_version,
            last_position: stored.last_position,
        }],
        ..Batch::default()
    };
    store.inner().commit(moved).await.unwrap();

    // The held commit is refused; reloaded and applied again, it lands
    // without the backoff that store errors get.
    let released_at = tokio::time::Instant::now();
    store.release_commits();
    eventually("the note lands at version 3", || async {
        version_of_t1() == 3
    })
    .await;
    let retried_after = released_at.elapsed();
    engine.shutdown().await.unwrap();
    assert_eq!(store.refusals(), 1);
    assert!(
        retried_after < std::time::Duration::from_millis(50),
        "the refused batch was retried after {retried_after:?}"
    );
}

/// A refused commit is retried at once, but refusals in a row back off as
/// failures do: 200 ms after the second, 400 ms after the third.
#[tokio::test(start_paused = true)]
async fn refusals_in_a_row_back_off_from_the_second() {
    let _guard = HangGuard::new(
        "refusals_in_a_row_back_off_from_the_second",
        std::time::Duration::from_secs(30),
    );
    let (store, log) = (FaultyStore::new(MemoryStore::new()), MemoryLog::new());
    append(&log, "t-1", opened("refused")).await;
    store.refuse_commits(3);
    let started = tokio::time::Instant::now();
    let engine = process_loop_on(&store, &log, fast_options());
    // When each commit was tried, in milliseconds from the start.
    let mut tried_at = Vec::new();
    while store.commits() == 0 {
        let now = started.elapsed().as_millis();
        tried_at.resize(store.refusals(), now);
        assert!(
            now < 20_000,
            "the commit never landed, tried at {tried_at:?} ms"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let landed_at = started.elapsed().as_millis();
    tried_at.resize(store.refusals(), landed_at);
    tried_at.push(landed_at);
    engine.shutdown().await.unwrap();
    assert_pauses("tries", &pauses_between(&tried_at), &[0, 200, 400]);
}

/// Once the log is read to its end, the loop only waits: fifty polls of an
/// idle log commit nothing (nor does passing over a foreign event twice).
#[tokio::test(start_paused = true)]
async fn an_idle_process_loop_commits_nothing() {
    let _guard = HangGuard::new(
        "an_idle_process_loop_commits_nothing",
        std::time::Duration::from_secs(30),
    );
    let (store, log) = (FaultyStore::new(MemoryStore::new()), MemoryLog::new());
    append(&log, "t-1", opened("once")).await;
    append_raw(
        &log,
        "invoice-1",
        "InvoiceEvent.Sent",
        serde_json::json!({}),
    )
    .await;
    let engine = process_loop_on(&store, &log, fast_options());
    eventually("the task is opened", || async {
        store.inner().instances("task").len() == 1
    })
    .await;
    let after_work = store.commits();
    let polls = fast_options().poll_interval * 50;
    tokio::time::sleep(polls).await;
    let after_idle = store.commits();
    engine.shutdown().await.unwrap();
    assert!(
        after_work <= 2,
        "{after_work} commits for one event and one foreign event"
    );
    assert_eq!(after_idle, after_work, "idle rounds committed");
}

/// The loop rebalances three times per partition lease, not once per
/// batch: a hundred batches in no time take one heartbeat.
#[tokio::test(start_paused = true)]
async fn a_busy_process_loop_rebalances_on_its_schedule_not_every_batch() {
    let _guard = HangGuard::new(
        "a_busy_process_loop_rebalances_on_its_schedule_not_every_batch",
        std::time::Duration::from_secs(30),
    );
    let (store, log) = (FaultyStore::new(MemoryStore::new()), MemoryLog::new());
    for task in 0..100 {
        append(&log, &format!("t-{task}"), opened("busy")).await;
    }
    let engine = process_loop_on(
        &store,
        &log,
        EngineOptions {
            batch_size: 1,
            ..fast_options()
        },
    );
    eventually("every task is opened", || async {
        store.inner().instances("task").len() == 100
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(store.commits(), 100, "one batch per event");
    assert_eq!(store.heartbeats(), 1);
}

#[tokio::test]
async fn shutdown_stops_processing() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    append(&log, "t-1", opened("before")).await;
    eventually("the first task is opened", || async {
        gateway.texts().len() == 1
    })
    .await;
    engine.shutdown().await.unwrap();
    append(&log, "t-2", opened("after")).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        task_state(&store, "t-2").await.is_none(),
        "a stopped engine processed an event"
    );
    assert_eq!(gateway.texts(), ["opened before"]);
}

/// An engine on fresh memory backends, for registrations that only start.
type TestEngine = Engine<MemoryStore, MemoryLog>;

/// One registration, of the ones below.
type Register = fn(TestEngine) -> TestEngine;

/// Registers the task process whole: its loop and its dispatcher.
fn whole(engine: TestEngine) -> TestEngine {
    engine.register::<Task, _>(Recorder::default())
}

/// Registers only the task process's loop.
fn process(engine: TestEngine) -> TestEngine {
    engine.register_process::<Task>()
}

/// Registers only the task process's dispatcher.
fn dispatcher(engine: TestEngine) -> TestEngine {
    engine.register_dispatcher::<Task, _>(Recorder::default())
}

/// Registers the loop of another process, `beacon`.
fn beacon_process(engine: TestEngine) -> TestEngine {
    engine.register_process::<Beacon>()
}

#[tokio::test]
async fn two_processes_with_one_name_are_refused() {
    let clashes: [(&str, Register, Register); 7] = [
        ("whole, whole", whole, whole),
        ("whole, process", whole, process),
        ("whole, dispatcher", whole, dispatcher),
        ("process, whole", process, whole),
        ("dispatcher, whole", dispatcher, whole),
        ("process, process", process, process),
        ("dispatcher, dispatcher", dispatcher, dispatcher),
    ];
    for (registered, first, second) in clashes {
        let engine = second(first(Engine::new(MemoryStore::new(), MemoryLog::new())));
        let error = engine.start().err();
        assert_eq!(
            error.map(|error| error.to_string()).as_deref(),
            Some("two processes are named `task`; process names must be unique"),
            "{registered}"
        );
    }
}

#[tokio::test]
async fn processes_of_other_names_and_the_two_halves_of_one_start_together() {
    let allowed: [(&str, Register, Register); 4] = [
        ("process, dispatcher", process, dispatcher),
        ("dispatcher, process", dispatcher, process),
        ("task, beacon", whole, beacon_process),
        ("beacon, task", beacon_process, whole),
    ];
    for (registered, first, second) in allowed {
        let engine = second(first(Engine::new(MemoryStore::new(), MemoryLog::new())));
        match engine.start() {
            Ok(running) => running.shutdown().await.unwrap(),
            Err(error) => panic!("{registered}: {error}"),
        }
    }
}

#[tokio::test]
async fn the_process_loop_and_the_dispatcher_registered_apart_share_one_engine_and_its_metrics() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    let engine = Engine::new(store.clone(), log.clone())
        .with_options(fast_options())
        .register_process::<Task>()
        .register_dispatcher::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    append(&log, "t-1", opened("halves")).await;
    let counts = || engine.metrics("task").unwrap();
    eventually("both halves count into one process's metrics", || async {
        (counts().events_handled, counts().commands_delivered) == (1, 1)
    })
    .await;
    assert_eq!(gateway.texts(), ["opened halves"]);
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_process_loop_and_the_dispatcher_can_run_in_separate_workers() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    let processing = Engine::new(store.clone(), log.clone())
        .with_options(fast_options())
        .register_process::<Task>()
        .start()
        .unwrap();
    append(&log, "t-1", opened("split")).await;
    eventually("the command is recorded", || async {
        store.stats("task").await.unwrap().pending_commands == 1
    })
    .await;
    assert!(gateway.texts().is_empty(), "delivered without a dispatcher");

    let delivering = Engine::new(store.clone(), log.clone())
        .with_options(fast_options())
        .register_dispatcher::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    eventually("the command is delivered", || async {
        gateway.texts() == ["opened split"]
    })
    .await;
    processing.shutdown().await.unwrap();
    delivering.shutdown().await.unwrap();
}

/// A process whose whole state is a unit struct (stored as JSON `null`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Beacon;

#[process_manager(name = "beacon", id = String, subscribe(TaskEvent), ignore(TaskEvent::Noted, TaskEvent::Exploded, TaskEvent::Archived))]
impl Beacon {
    #[on(TaskEvent::Opened, start)]
    fn opened(&mut self, _cx: &mut Context<Self>) {}

    #[on(TaskEvent::Closed)]
    fn closed(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }
}

#[test]
fn a_unit_struct_state_is_a_started_instance() {
    pm_core::testing::Scenario::<Beacon>::new("b-1".to_owned())
        .given(opened("lit"))
        .when(TaskEvent::Closed)
        .then_completed();
}

#[tokio::test]
async fn dropping_the_running_engine_stops_its_loops() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    append(&log, "t-1", opened("write tests")).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    eventually("the first command is delivered", || async {
        gateway.texts().len() == 1
    })
    .await;
    drop(engine);
    // The loops end after the round they are in; give them that long.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    append(&log, "notes-1", noted("t-1", "after the drop")).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let notes = task_state(&store, "t-1").await.unwrap().1.unwrap().notes;
    assert!(
        notes.is_empty(),
        "an event appended after the engine was dropped was applied: {notes:?}"
    );
    assert_eq!(gateway.texts().len(), 1);
}

/// An event the instance has applied already, though no checkpoint says so
/// (as after a repartition, whose new partitions start from the oldest
/// checkpoint), is skipped, counted as skipped, and changes nothing.
#[tokio::test]
async fn an_event_the_instance_has_applied_is_skipped_and_counted() {
    use pm_core::backend::{Batch, EventSource, InstanceWrite, Store};
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    append(&log, "t-1", opened("once")).await;
    let seen = log
        .read(pm_core::Position::START, &[], 10)
        .await
        .unwrap()
        .events[0]
        .position;
    let applied = Task {
        title: "once".to_owned(),
        notes: Vec::new(),
    };
    store
        .commit(Batch {
            process: "task".to_owned(),
            instances: vec![InstanceWrite {
                id: "t-1".to_owned(),
                state: serde_json::to_value(&applied).unwrap(),
                expected_version: 0,
                status: InstanceStatus::Active,
                schema_version: 1,
                last_position: seen,
            }],
            ..Batch::default()
        })
        .await
        .unwrap();
    append(&log, "n-1", noted("t-1", "after")).await;
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    let counts = || engine.metrics("task").unwrap();
    eventually("the note is handled", || async {
        counts().events_handled == 1
    })
    .await;
    let counts = counts();
    engine.shutdown().await.unwrap();
    assert_eq!(counts.events_skipped, 1, "{counts:?}");
    let (_, state) = task_state(&store, "t-1").await.unwrap();
    assert_eq!(state.unwrap().notes, ["after"]);
    assert_eq!(gateway.texts(), ["after"], "the start event ran again");
}
