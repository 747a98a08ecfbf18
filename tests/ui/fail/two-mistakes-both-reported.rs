// Two mistakes in one impl, both reported in one build: `corelate` and a second handler for `Cancelled`.
use pm_core::prelude::*;
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
    #[on(BookingEvent::Placed, start, corelate = booking_id)]
    fn placed(&mut self, _event: &BookingPlaced, _cx: &mut Context<Self>) {
        self.placed = true;
    }

    #[on(BookingEvent::Cancelled)]
    fn cancelled(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[on(BookingEvent::Cancelled)]
    fn withdrawn(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }
}

fn main() {}
