// `BookingEvent::Paid` is neither handled nor ignored in state `Stage::Paid`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
enum Stage {
    #[default]
    New,
    Placed,
    #[state(final)]
    Paid,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Paid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IssueTickets;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    stage: Stage,
}

#[process_manager(
    name = "booking",
    id = String,
    subscribe(BookingEvent),
    state = stage,
    ignore(
        BookingEvent::Placed except(Stage::New),
        BookingEvent::Paid in(Stage::New),
    )
)]
impl Booking {
    #[on(BookingEvent::Placed, start, in(Stage::New), to(Stage::Placed))]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Placed;
    }

    #[on(
        BookingEvent::Paid,
        in(Stage::Placed),
        to(Stage::Paid),
        sends(IssueTickets)
    )]
    fn paid(&mut self, cx: &mut Context<Self>) {
        self.stage = Stage::Paid;
        cx.send(IssueTickets);
    }
}

fn main() {}
