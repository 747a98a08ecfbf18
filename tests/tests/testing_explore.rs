//! The explorer of the testing kit finds a planted bug, a handler that
//! moves outside its `to(..)` for one order of events, and a handler that
//! panics when an event is delivered twice, each with the shortest path
//! that leads to it. (The example processes are explored in their own
//! crates' tests: as dependencies here they would show in the ui cases'
//! messages.)

use pm_core::prelude::*;
use pm_core::testing::{Explorer, Input, ProblemKind, Step};
use serde::{Deserialize, Serialize};

/// A parcel is ready once it is packed and labelled, in either order, and
/// then collected. `labelled` has a planted bug: labelled before packing,
/// it moves to `New` instead of `HalfReady`, outside its `to(..)`.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum ParcelEvent {
    Opened,
    Packed,
    Labelled,
    Collected,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
enum Stage {
    #[default]
    New,
    Open,
    HalfReady,
    Ready,
    #[state(final)]
    Collected,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Parcel {
    stage: Stage,
    packed: bool,
    labelled: bool,
}

#[process_manager(
    name = "parcel",
    id = String,
    subscribe(ParcelEvent),
    state = stage,
    ignore(
        ParcelEvent::Opened except(New),
        ParcelEvent::Packed in(New, Ready, Collected),
        ParcelEvent::Labelled in(New, Ready, Collected),
        ParcelEvent::Collected except(Ready),
    )
)]
impl Parcel {
    #[on(ParcelEvent::Opened, start, in(New), to(Open))]
    fn opened(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Open;
    }

    #[on(ParcelEvent::Packed, in(Open, HalfReady), to(HalfReady, Ready))]
    fn packed(&mut self, _cx: &mut Context<Self>) {
        self.packed = true;
        self.stage = if self.labelled {
            Stage::Ready
        } else {
            Stage::HalfReady
        };
    }

    #[on(ParcelEvent::Labelled, in(Open, HalfReady), to(HalfReady, Ready))]
    fn labelled(&mut self, _cx: &mut Context<Self>) {
        self.labelled = true;
        self.stage = if self.packed {
            Stage::Ready
        } else {
            Stage::New
        };
    }

    #[on(ParcelEvent::Collected, in(Ready), to(Collected))]
    fn collected(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Collected;
    }
}

#[test]
fn the_explorer_finds_a_move_outside_to_and_the_events_that_lead_to_it() {
    let explorer = Explorer::<Parcel>::new("p-1".to_owned())
        .events([
            ParcelEvent::Opened,
            ParcelEvent::Packed,
            ParcelEvent::Labelled,
            ParcelEvent::Collected,
        ])
        .depth(4);
    let problems = explorer.run().unwrap_err();
    let outside = &problems.problems[0];
    assert_eq!(
        outside.kind,
        ProblemKind::OutsideTo(
            "handler `labelled` moved the state from `Open` to `New`, outside its `to(HalfReady, Ready)`"
                .to_owned()
        )
    );
    assert_eq!(
        outside.path,
        [
            Step::Event(Input::from(ParcelEvent::Opened)),
            Step::Event(Input::from(ParcelEvent::Labelled)),
        ]
    );
    // Packed first, the same events end well; labelled first never takes
    // its move to `HalfReady`.
    assert!(problems.problems.contains(&pm_core::testing::Problem {
        kind: ProblemKind::NeverTaken(
            "`Open --> HalfReady` by `labelled` (ParcelEvent::Labelled); add a sample event that leads there, or a greater depth"
                .to_owned()
        ),
        path: Vec::new(),
    }));
    let report = problems.to_string();
    assert!(
        report.contains(
            "  handler `labelled` moved the state from `Open` to `New`, outside its `to(HalfReady, Ready)`\n    after:\n      1. ParcelEvent.Opened\n      2. ParcelEvent.Labelled\n"
        ),
        "{report}"
    );
}

/// A lamp without states whose handler assumes it is switched on once.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum LampEvent {
    Switched,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Lamp {
    on: bool,
}

#[process_manager(name = "lamp", id = String, subscribe(LampEvent))]
impl Lamp {
    #[on(LampEvent::Switched, start)]
    fn switched(&mut self, _cx: &mut Context<Self>) {
        assert!(!self.on, "switched on twice");
        self.on = true;
    }
}

#[test]
fn each_event_is_delivered_twice_and_a_panic_is_reported_with_its_path() {
    let problems = Explorer::<Lamp>::new("l-1".to_owned())
        .events([LampEvent::Switched])
        .depth(1)
        .run()
        .unwrap_err();
    assert_eq!(
        problems.problems,
        [pm_core::testing::Problem {
            kind: ProblemKind::Panicked(
                "handler `switched` in state `Active`: switched on twice".to_owned()
            ),
            path: vec![
                Step::Event(Input::from(LampEvent::Switched)),
                Step::Event(Input::from(LampEvent::Switched)),
            ],
        }]
    );
}
