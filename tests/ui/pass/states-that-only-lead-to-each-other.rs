// A ticket can close from `Stage::Open` and `Stage::Waiting`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum TicketEvent {
    Opened,
    Asked,
    Answered,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
enum TicketTimeout {
    Reminder,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
enum Stage {
    #[default]
    New,
    Open,
    Waiting,
    #[state(final)]
    Closed,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Ticket {
    stage: Stage,
}

#[process_manager(
    name = "ticket",
    id = String,
    subscribe(TicketEvent),
    timeouts(TicketTimeout),
    state = stage,
    ignore(
        TicketEvent::Opened except(New),
        TicketEvent::Asked except(Open),
        TicketEvent::Answered except(Waiting),
        TicketEvent::Closed except(Open, Waiting),
        TicketTimeout::Reminder except(Waiting),
    )
)]
impl Ticket {
    #[on(TicketEvent::Opened, start, in(New), to(Open))]
    fn opened(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Open;
    }

    #[on(TicketEvent::Asked, in(Open), to(Waiting))]
    fn asked(&mut self, cx: &mut Context<Self>) {
        self.stage = Stage::Waiting;
        cx.schedule(TicketTimeout::Reminder, Duration::from_secs(3600));
    }

    #[on(TicketEvent::Answered, in(Waiting), to(Open))]
    fn answered(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Open;
    }

    #[timeout(TicketTimeout::Reminder, in(Waiting), to(Open))]
    fn reminder(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Open;
    }

    #[on(TicketEvent::Closed, in(Open, Waiting), to(Closed))]
    fn closed(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Closed;
    }
}

fn main() {
    pm_core::testing::Scenario::<Ticket>::new("t-1".to_owned())
        .when(TicketEvent::Opened)
        .when(TicketEvent::Asked)
        .when(TicketEvent::Answered)
        .when(TicketEvent::Closed)
        .then_completed();
}
