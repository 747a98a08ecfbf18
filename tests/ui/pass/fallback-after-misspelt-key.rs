// The fallback case's twin: the same process and user code, with `sends` spelt right.
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Booking {
    seats: u32,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start, sends(ReserveTickets))]
    fn placed(&mut self, event: &BookingPlaced, cx: &mut Context<Self>) {
        self.seats = event.seats;
        cx.send(ReserveTickets { seats: event.seats });
    }

    fn is_large(&self) -> bool {
        self.seats > 10
    }
}

fn process_name<P: ProcessManager>() -> &'static str {
    P::NAME
}

fn main() {
    assert!(!Booking::default().is_large());
    assert_eq!(process_name::<Booking>(), "booking");
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed(BookingPlaced { seats: 12 }))
        .then_sends([ReserveTickets { seats: 12 }.into()])
        .then_state(|booking| assert!(booking.is_large()));
}
