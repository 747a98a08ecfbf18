// The corrected process: `correlate` spelt right and one handler for `BookingEvent::Cancelled`.
use pm_core::prelude::*;
use pm_core::testing::{Input, Scenario};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed(BookingPlaced),
    Cancelled,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BookingPlaced {
    booking_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start, correlate = booking_id)]
    fn placed(&mut self, _event: &BookingPlaced, _cx: &mut Context<Self>) {
        self.placed = true;
    }

    #[on(BookingEvent::Cancelled)]
    fn cancelled(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }
}

fn main() {
    let placed = BookingEvent::Placed(BookingPlaced {
        booking_id: "b-1".to_owned(),
    });
    Scenario::<Booking>::new("b-1".to_owned())
        .when(Input::from(placed).on_stream("cart-8"))
        .then_active()
        .when(BookingEvent::Cancelled)
        .then_completed();
}
