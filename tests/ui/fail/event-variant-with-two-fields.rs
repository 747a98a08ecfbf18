// `BookingEvent::Placed` holds two fields; an event variant holds one payload type.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(family = "booking")]
enum BookingEvent {
    #[event(name = "placed.v2")]
    Placed(String, u32),
    Cancelled,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Booking {
    seats: u32,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, _cx: &mut Context<Self>) {}

    #[on(BookingEvent::Cancelled)]
    fn cancelled(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }
}

fn main() {}
