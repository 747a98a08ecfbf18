//! `converges` compares the commands sent, not only state and status, and
//! a divergence shows each order's events with their payloads.

use pm_core::prelude::*;
use pm_core::testing::{converges, Input, Scenario};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum DoorEvent {
    Visited(Visit),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Visit {
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Welcome {
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LogVisit {
    name: String,
}

/// Counts visitors (the same in any order) and welcomes only the first
/// (who that is depends on the order), logging everyone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Door {
    visits: u32,
}

#[process_manager(name = "door", id = String, subscribe(DoorEvent))]
impl Door {
    #[on(DoorEvent::Visited, start, sends(Welcome, LogVisit))]
    fn visited(&mut self, visit: &Visit, cx: &mut Context<Self>) {
        if self.visits == 0 {
            cx.send(Welcome {
                name: visit.name.clone(),
            });
        }
        self.visits += 1;
        cx.send(LogVisit {
            name: visit.name.clone(),
        });
    }
}

fn visit(name: &str) -> Input {
    DoorEvent::Visited(Visit {
        name: name.to_owned(),
    })
    .into()
}

fn door() -> Scenario<Door> {
    Scenario::new("front".to_owned())
}

#[test]
fn orders_with_the_same_state_but_other_commands_diverge() {
    let divergence = converges(door, [visit("ada"), visit("bob")]).unwrap_err();
    assert_eq!(divergence.differences, ["commands"]);
    assert_eq!(
        divergence.first.commands,
        [
            Welcome { name: "ada".into() }.into(),
            LogVisit { name: "ada".into() }.into(),
            LogVisit { name: "bob".into() }.into(),
        ]
    );
    let shown = divergence.to_string();
    assert!(
        shown.contains(r#"1. DoorEvent.Visited {"name":"ada"}"#)
            && shown.contains(r#"1. DoorEvent.Visited {"name":"bob"}"#),
        "the payloads tell the orders apart:\n{shown}"
    );
    assert!(
        shown.contains(r#"Welcome(Welcome { name: "bob" })"#),
        "{shown}"
    );
}

#[test]
fn the_same_commands_in_another_order_converge() {
    // Logging alone: every order sends both logs, in its own order.
    let outcome = converges(
        || door().given(visit("host")),
        [visit("ada"), visit("bob"), visit("cy")],
    )
    .unwrap_or_else(|divergence| panic!("{divergence}"));
    assert_eq!(outcome.commands.len(), 3, "{:?}", outcome.commands);
    assert_eq!(outcome.state, Some(Door { visits: 4 }));
}
