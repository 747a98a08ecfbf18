// `paid` writes its context as `&mut Context<Self, IssueTickets>`; the macro adds the second argument.
use pm_core::prelude::*;
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
    fn paid(&mut self, cx: &mut Context<Self, IssueTickets>) {
        cx.send(IssueTickets);
    }
}

fn main() {}
