// The handler sends `DenyBooking` but declares `sends(ReserveTickets, IssueTickets)`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed(BookingPlaced),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BookingPlaced {
    seats: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReserveTickets {
    seats: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IssueTickets;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DenyBooking {
    reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start, sends(ReserveTickets, IssueTickets))]
    fn placed(&mut self, event: &BookingPlaced, cx: &mut Context<Self>) {
        self.placed = true;
        if event.seats == 0 {
            cx.send(DenyBooking {
                reason: "no seats".to_owned(),
            });
            cx.complete();
        } else {
            cx.send(ReserveTickets { seats: event.seats });
        }
    }
}

fn main() {}
