// A handler that declares both commands it sends, `sends(ReserveTickets, DenyBooking)`.
use pm_core::prelude::*;
use pm_core::testing::Scenario;
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
struct DenyBooking {
    reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start, sends(ReserveTickets, DenyBooking))]
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

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed(BookingPlaced { seats: 0 }))
        .then_sends([DenyBooking {
            reason: "no seats".to_owned(),
        }
        .into()])
        .then_completed();

    Scenario::<Booking>::new("b-2".to_owned())
        .when(BookingEvent::Placed(BookingPlaced { seats: 3 }))
        .then_sends([ReserveTickets { seats: 3 }.into()])
        .then_active();
}
