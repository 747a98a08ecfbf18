//! State-qualified transitions and state versioning: handlers apply only in
//! their `in(..)` states, events elsewhere are ignored as declared, a
//! handler leaving its `to(..)` parks the instance, and stored state of an
//! older schema version is migrated (a newer or unmigratable one parks).

mod common;

use std::time::Duration;

use common::door::*;
use pm_core::backend::ParkedItem;
use pm_core::prelude::*;
use pm_core::testing::{Input, Scenario};
use pm_core::InstanceStatus;
use serde_json::json;

fn door() -> Scenario<Door> {
    Scenario::new("front".to_owned())
}

fn phase(expected: Phase) -> impl FnOnce(&Door) {
    move |door| assert_eq!(door.phase, expected)
}

#[test]
fn handlers_apply_only_in_their_states() {
    door()
        .when(DoorEvent::Opened)
        .then_not_started()
        .when(DoorEvent::Installed)
        .then_state(phase(Phase::Closed))
        .when(DoorEvent::Installed)
        .then_state(phase(Phase::Closed))
        .when(DoorEvent::Opened)
        .then_state(phase(Phase::Open))
        .when(DoorEvent::Opened)
        .then_state(phase(Phase::Open))
        .when(DoorEvent::Closed)
        .then_state(phase(Phase::Closed))
        .then_active();
}

#[test]
fn timeouts_apply_only_in_their_states() {
    door()
        .given(DoorEvent::Installed)
        .given(DoorEvent::Opened)
        .advance(Duration::from_secs(61))
        .then_sends([Alarm {
            door: "front".to_owned(),
        }
        .into()]);
}

#[test]
fn a_handler_leaving_its_declared_states_parks_the_instance() {
    let scenario = door()
        .given(DoorEvent::Installed)
        .when(DoorEvent::Slammed)
        .then_parked();
    let parked = scenario.parked();
    assert_eq!(
        parked[0].error.as_deref(),
        Some("handler `slammed` moved the state from `Closed` to `New` but declares no `to(..)`; add `to(New)` if that move is intended")
    );
    assert!(matches!(parked[0].item, ParkedItem::Event(_)));
    // The change was discarded: the stored state is the one before.
    assert_eq!(scenario.stored_state().unwrap().0["phase"], "Closed");
}

#[test]
fn state_of_an_older_version_is_migrated_when_loaded() {
    let scenario = door()
        .given_stored_state(json!({ "phase": "Closed", "colour": "red" }), 1)
        .when(DoorEvent::Opened)
        .then_state(|door| {
            assert_eq!(door.color, "red");
            assert_eq!(door.phase, Phase::Open);
        });
    assert_eq!(scenario.stored_state().unwrap().1, 2);
}

#[test]
fn state_of_a_newer_version_parks_and_is_never_overwritten() {
    let newer = json!({ "phase": "Closed", "color": "red", "hinges": 3 });
    let scenario = door()
        .given_stored_state(newer.clone(), 3)
        .when(DoorEvent::Opened)
        .then_parked();
    assert_eq!(scenario.stored_state(), Some((newer, 3)));
    assert_eq!(
        scenario.parked()[0].error.as_deref(),
        Some("stored state has schema version 3, newer than this build's 2; run a build that knows version 3")
    );
}

#[test]
fn state_that_fails_to_migrate_parks_and_is_never_overwritten() {
    let broken = json!({ "phase": "Closed" });
    let scenario = door()
        .given_stored_state(broken.clone(), 1)
        .when(Input::from(DoorEvent::Opened))
        .then_parked();
    assert_eq!(scenario.stored_state(), Some((broken, 1)));
    assert_eq!(
        scenario.parked()[0].error.as_deref(),
        Some("state of schema version 1 failed to migrate to 2: version 1 state has no `colour`")
    );
}

#[test]
fn the_descriptor_holds_the_transition_table() {
    let descriptor = Door::descriptor();
    let state = descriptor.state.unwrap();
    assert_eq!(state.field, "phase");
    assert_eq!(state.enum_name, "Phase");
    assert_eq!(state.states, ["New", "Closed", "Open", "Removed"]);
    assert_eq!(state.finals, ["Removed"]);
    assert_eq!(state.initial, Some("New"));
    let opened = descriptor
        .handlers
        .iter()
        .find(|handler| handler.method == "opened")
        .unwrap();
    assert_eq!((opened.from, opened.to), (&["Closed"][..], &["Open"][..]));
    assert_eq!(descriptor.ignored[0].states, ["New"]);
    assert!(descriptor.ignored[0].except);
    assert_eq!(
        pm_core::mermaid(descriptor),
        "stateDiagram-v2
    [*] --> New
    New --> Closed: DoorEvent.Installed
    Closed --> Open: DoorEvent.Opened
    Open --> Closed: DoorEvent.Closed
    New --> New: DoorEvent.Slammed
    Closed --> Closed: DoorEvent.Slammed
    Open --> Open: DoorEvent.Slammed
    New --> New: DoorEvent.Painted
    Closed --> Closed: DoorEvent.Painted
    Open --> Open: DoorEvent.Painted
    Closed --> Removed: DoorEvent.Removed
    Open --> Open: timeout DoorTimeout.Check / Alarm
    Removed --> [*]
"
    );
}

#[test]
fn entering_a_final_state_completes_the_instance() {
    door()
        .when(DoorEvent::Installed)
        .then_active()
        .when(DoorEvent::Removed)
        .then_state(phase(Phase::Removed))
        .then_completed()
        .when(DoorEvent::Painted(Painted {
            color: "red".to_owned(),
        }))
        .then_state(|door| assert_eq!(door.color, ""));
}

#[test]
fn the_descriptor_advises_where_an_instance_may_wait_for_ever() {
    let state = Door::descriptor().state.unwrap();
    assert_eq!(state.finals, ["Removed"]);
    assert!(state.legacy.is_empty());
    // `Check` applies in `Open`; only other parties' events move the rest.
    assert_eq!(state.advisories.waits_on_events, ["New", "Closed"]);
    // `Check` stays in `Open`: no timeout leads anywhere final.
    assert!(!state.advisories.finishes_by_timeouts);
}

#[test]
fn the_state_version_is_declared() {
    assert_eq!(Door::STATE_VERSION, 2);
    let _ = InstanceStatus::Active;
}

/// An engine running only the door process's loop on `store` and `log`.
fn door_engine(store: &MemoryStore, log: &MemoryLog, clock: ManualClock) -> pm_core::RunningEngine {
    Engine::new(store.clone(), log.clone())
        .with_clock(clock)
        .with_options(common::fast_options())
        .register_process::<Door>()
        .start()
        .unwrap()
}

/// In the engine, an event its state ignores is counted as skipped, not as
/// handled, and leaves the instance as it was.
#[tokio::test]
async fn an_event_ignored_in_its_state_is_counted_as_skipped() {
    let (store, log) = (MemoryStore::new(), MemoryLog::new());
    let engine = door_engine(&store, &log, ManualClock::fixed());
    common::append_door(&log, "front", DoorEvent::Installed).await;
    // Closed while closed: ignored in that state.
    common::append_door(&log, "front", DoorEvent::Closed).await;
    common::append_door(&log, "front", DoorEvent::Opened).await;
    let counts = || engine.metrics("door").unwrap();
    common::eventually("all three events are taken", || async {
        counts().events_handled + counts().events_skipped == 3
    })
    .await;
    let counts = counts();
    engine.shutdown().await.unwrap();
    assert_eq!(
        (counts.events_handled, counts.events_skipped),
        (2, 1),
        "{counts:?}"
    );
}

/// The metrics count a timeout whose handler ran as fired, and as skipped
/// one that its instance's state ignores and one of a kind the process no
/// longer has (left by an older version of it).
#[tokio::test]
async fn timeouts_fired_ignored_in_their_state_or_of_a_dropped_kind_are_counted() {
    use pm_core::backend::{Batch, Store, TimeoutWrite};
    use pm_core::Clock;
    let (store, log, clock) = (MemoryStore::new(), MemoryLog::new(), ManualClock::fixed());
    let in_a_minute = clock.now() + chrono::Duration::seconds(60);
    let left = |kind: &str| TimeoutWrite {
        instance: "shut".to_owned(),
        kind: kind.to_owned(),
        due_at: Some(in_a_minute),
    };
    store
        .commit(Batch {
            process: "door".to_owned(),
            timeouts: vec![left("Check"), left("Gone")],
            ..Batch::default()
        })
        .await
        .unwrap();
    common::append_door(&log, "open", DoorEvent::Installed).await;
    common::append_door(&log, "open", DoorEvent::Opened).await;
    common::append_door(&log, "shut", DoorEvent::Installed).await;
    let engine = door_engine(&store, &log, clock.clone());
    let counts = || engine.metrics("door").unwrap();
    common::eventually("the events are handled", || async {
        counts().events_handled == 3
    })
    .await;
    clock.advance(Duration::from_secs(61));
    common::eventually("the three timeouts are taken", || async {
        counts().timeouts_fired + counts().events_skipped == 3
    })
    .await;
    let counts = counts();
    engine.shutdown().await.unwrap();
    assert_eq!(
        (counts.timeouts_fired, counts.events_skipped),
        (1, 2),
        "{counts:?}"
    );
    assert!(store.timeouts("door").is_empty(), "a timeout was kept");
}
