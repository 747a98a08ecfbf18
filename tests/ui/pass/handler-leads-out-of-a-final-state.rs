// `reopened` applies in `Stage::Resolved` only: a closed ticket has completed.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum TicketEvent {
    Opened,
    Resolved,
    Reopened,
    Closed,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
enum Stage {
    #[default]
    New,
    Open,
    Resolved,
    #[state(final)]
    Closed,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Ticket {
    stage: Stage,
    reopened: u32,
}

#[process_manager(
    name = "ticket",
    id = String,
    subscribe(TicketEvent),
    state = stage,
    ignore(
        TicketEvent::Opened except(New),
        TicketEvent::Resolved except(Open),
        TicketEvent::Reopened except(Resolved),
        TicketEvent::Closed except(Resolved),
    )
)]
impl Ticket {
    #[on(TicketEvent::Opened, start, in(New), to(Open))]
    fn opened(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Open;
    }

    #[on(TicketEvent::Resolved, in(Open), to(Resolved))]
    fn resolved(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Resolved;
    }

    #[on(TicketEvent::Reopened, in(Resolved), to(Open))]
    fn reopened(&mut self, _cx: &mut Context<Self>) {
        self.reopened += 1;
        self.stage = Stage::Open;
    }

    #[on(TicketEvent::Closed, in(Resolved), to(Closed))]
    fn closed(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Closed;
    }
}

fn main() {
    pm_core::testing::Scenario::<Ticket>::new("t-1".to_owned())
        .when(TicketEvent::Opened)
        .when(TicketEvent::Resolved)
        .when(TicketEvent::Reopened)
        .when(TicketEvent::Resolved)
        .when(TicketEvent::Closed)
        .then_completed()
        .when(TicketEvent::Reopened)
        .then_completed();
}
