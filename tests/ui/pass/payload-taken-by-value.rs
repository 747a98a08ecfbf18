// `confirmed` borrows its payload: `event: &BookingConfirmed`.
use pm_core::prelude::*;
use pm_core::testing::Scenario;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Confirmed(BookingConfirmed),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BookingConfirmed {
    price: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Booking {
    price: Option<u64>,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.price = None;
    }

    #[on(BookingEvent::Confirmed)]
    fn confirmed(&mut self, event: &BookingConfirmed, _cx: &mut Context<Self>) {
        self.price = Some(event.price);
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .when(BookingEvent::Confirmed(BookingConfirmed { price: 4200 }))
        .then_state_is(&Booking { price: Some(4200) });
}
