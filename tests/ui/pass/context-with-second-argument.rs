// The context is written `&mut Context<Self>`; the macro fills in what `sends(..)` allows.
use pm_core::prelude::*;
use pm_core::testing::Scenario;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Paid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IssueTickets;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.placed = true;
    }

    #[on(BookingEvent::Paid, sends(IssueTickets))]
    fn paid(&mut self, cx: &mut Context<Self>) {
        cx.send(IssueTickets);
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .when(BookingEvent::Paid)
        .then_sends([IssueTickets.into()]);
}
