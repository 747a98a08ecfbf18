// `BookingEvent::Cancelled` has a handler and is not also listed in `ignore(..)`.
use pm_core::prelude::*;
use pm_core::testing::Scenario;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Cancelled,
    Viewed,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(
    name = "booking",
    id = String,
    subscribe(BookingEvent),
    ignore(BookingEvent::Viewed)
)]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.placed = true;
    }

    #[on(BookingEvent::Cancelled)]
    fn cancelled(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .when(BookingEvent::Viewed)
        .then_active()
        .when(BookingEvent::Cancelled)
        .then_completed();
}
