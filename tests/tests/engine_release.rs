//! Releasing a parked instance (the operator's retry or skip): its parked
//! events are applied again in order; a fixed cause lets them through, a
//! skipped failure lets the events held behind it through.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use pm_core::backend::{Operations, ParkedItem, Release};
use pm_core::prelude::*;
use pm_core::testing::Scenario;
use pm_core::InstanceStatus;
use pm_postgres::{Admin, PgBackend};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

/// Whether the bug behind `Flaky` is fixed (one test flips it).
static FIXED: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum FlakyEvent {
    Started,
    Hit,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Flaky {
    hits: u32,
}

#[process_manager(name = "flaky", id = String, subscribe(FlakyEvent))]
impl Flaky {
    #[on(FlakyEvent::Started, start)]
    fn started(&mut self, _cx: &mut Context<Self>) {}

    #[on(FlakyEvent::Hit)]
    fn hit(&mut self, _cx: &mut Context<Self>) {
        assert!(FIXED.load(Ordering::SeqCst), "not fixed yet");
        self.hits += 1;
    }
}

#[test]
fn a_retry_after_the_fix_applies_the_parked_events_in_order() {
    let scenario = Scenario::<Flaky>::new("f-1".to_owned())
        .given(FlakyEvent::Started)
        .when(FlakyEvent::Hit)
        .when(FlakyEvent::Hit)
        .then_parked();
    assert_eq!(
        scenario.parked().len(),
        2,
        "the failure and the event held behind it"
    );
    FIXED.store(true, Ordering::SeqCst);
    let scenario = scenario
        .release(Release::Retry)
        .then_active()
        .then_state(|flaky| assert_eq!(flaky.hits, 2));
    assert!(scenario.parked().is_empty());
}

#[test]
fn a_retry_that_fails_again_parks_the_same_events_in_the_same_order() {
    let scenario = Scenario::<Task>::new("t-1".to_owned())
        .given(opened("doomed"))
        .when(TaskEvent::Exploded)
        .when(noted("t-1", "held"))
        .then_parked();
    let before: Vec<_> = scenario
        .parked()
        .into_iter()
        .map(|parked| parked.item)
        .collect();
    let scenario = scenario.release(Release::Retry).then_parked();
    let after: Vec<_> = scenario
        .parked()
        .into_iter()
        .map(|parked| parked.item)
        .collect();
    assert_eq!(before, after);
    assert!(matches!(&after[1], ParkedItem::Event(event) if event.event_type == "TaskEvent.Noted"));
}

#[test]
fn skipping_the_failure_applies_the_events_held_behind_it() {
    Scenario::<Task>::new("t-1".to_owned())
        .given(opened("doomed"))
        .when(TaskEvent::Exploded)
        .when(noted("t-1", "held"))
        .then_parked()
        .release(Release::SkipFailed)
        .then_sends([Notify {
            task: "t-1".to_owned(),
            text: "held".to_owned(),
        }
        .into()])
        .then_active()
        .then_state(|task| assert_eq!(task.notes, ["held"]));
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn an_operator_releases_a_parked_instance_on_postgres(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    let (store, log, gateway) = (backend.store(), backend.log(), Recorder::default());
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    append(&log, "t-1", opened("doomed")).await;
    append(&log, "t-1", TaskEvent::Exploded).await;
    append(&log, "n-1", noted("t-1", "first held")).await;
    append(&log, "n-2", noted("t-1", "second held")).await;
    eventually("the instance is parked with two held events", || async {
        store.parked_events("task").await.unwrap().len() == 3
    })
    .await;

    let released = Admin::new(backend.clone())
        .release("task", "t-1", Release::SkipFailed)
        .await
        .unwrap();
    assert_eq!(released, 3, "the failed item is released to be dropped");
    eventually("the held notes are delivered", || async {
        gateway.texts().len() == 3
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(
        gateway.texts(),
        ["opened doomed", "first held", "second held"]
    );
    let (status, state) = task_state(&store, "t-1").await.unwrap();
    assert_eq!(status, InstanceStatus::Active);
    assert_eq!(state.unwrap().notes, ["first held", "second held"]);
    assert!(store.parked_events("task").await.unwrap().is_empty());
}

/// Two instances released together that fail again each park anew with
/// their held events still behind them: the failure of one does not let
/// the other's held event through.
#[tokio::test]
async fn two_released_instances_failing_again_both_hold_their_events() {
    let (store, log, gateway) = (MemoryStore::new(), MemoryLog::new(), Recorder::default());
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    for task in ["t-1", "t-2"] {
        append(&log, task, opened("doomed")).await;
        append(&log, task, TaskEvent::Exploded).await;
    }
    append(&log, "n-1", noted("t-1", "held 1")).await;
    append(&log, "n-2", noted("t-2", "held 2")).await;
    eventually("both are parked with a held event each", || async {
        store.parked_events("task").await.unwrap().len() == 4
    })
    .await;
    engine.shutdown().await.unwrap();
    for task in ["t-1", "t-2"] {
        store
            .release_instance("task", task, Release::Retry)
            .await
            .unwrap();
    }

    // One batch takes both releases; each failure parks its instance again.
    let engine = start_engine(&store, &log, ManualClock::fixed(), &gateway);
    let counts = || engine.metrics("task").unwrap();
    eventually("the four released items are taken", || async {
        counts().parked + counts().events_handled >= 4
    })
    .await;
    let counts = counts();
    engine.shutdown().await.unwrap();
    assert_eq!((counts.parked, counts.events_handled), (4, 0), "{counts:?}");
    for task in ["t-1", "t-2"] {
        assert_eq!(
            task_state(&store, task).await.unwrap().0,
            InstanceStatus::Parked
        );
    }
    assert_eq!(gateway.texts(), ["opened doomed", "opened doomed"]);
}
