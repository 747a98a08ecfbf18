// No handler leads to `Stage::Escalated` any more.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum TicketEvent {
    Opened,
    Answered,
    Closed,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
enum Stage {
    #[default]
    New,
    Open,
    Escalated,
    #[state(final)]
    Closed,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Ticket {
    stage: Stage,
    answers: u32,
}

#[process_manager(
    name = "ticket",
    id = String,
    subscribe(TicketEvent),
    state = stage,
    ignore(
        TicketEvent::Opened except(New, Escalated),
        TicketEvent::Answered except(Open),
        TicketEvent::Opened in(Escalated),
        TicketEvent::Closed except(Open, Escalated),
    )
)]
impl Ticket {
    #[on(TicketEvent::Opened, start, in(New), to(Open))]
    fn opened(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Open;
    }

    #[on(TicketEvent::Answered, in(Open))]
    fn answered(&mut self, _cx: &mut Context<Self>) {
        self.answers += 1;
    }

    #[on(TicketEvent::Closed, in(Open), to(Closed))]
    fn closed(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Closed;
    }

    #[on(TicketEvent::Closed, in(Escalated), to(Closed))]
    fn closed_after_escalation(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Closed;
    }
}

fn main() {
    pm_core::testing::Scenario::<Ticket>::new("t-1".to_owned())
        .when(TicketEvent::Opened)
        .when(TicketEvent::Answered)
        .when(TicketEvent::Closed)
        .then_completed();
}
